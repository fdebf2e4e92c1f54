"""More known answers of the simulator's engine (issue #15: mutation score of pipeline.segmentation.simulate).

Hand-placed segment centres (a KMeans started at them and fitted on them, so they stay exact),
every NumPy fast path compared with the scikit-learn step it replaces, and the search for the
smallest change taken in both directions, with a rounding that overshoots and with features of
different spread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from pipeline.segmentation import simulate as sim

X = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0], [7.0, 2.0], [9.0, 6.0]])
FULL = np.array([[1.0, 5.0], [3.0, 4.0], [5.0, 8.0], [7.0, 2.0], [9.0, 6.0]])


class _Columns(BaseEstimator, TransformerMixin):
    def __init__(self, features: tuple[str, ...] = ("a", "b")) -> None:
        self.features = features

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)


def _times(X: np.ndarray, factor: float) -> np.ndarray:
    return X * factor


def _kmeans(centres: np.ndarray) -> KMeans:
    return KMeans(n_clusters=len(centres), init=centres, n_init=1).fit(centres)


def _pipe(centres: np.ndarray, features: tuple[str, ...] = ("a", "b")) -> Pipeline:
    return Pipeline([("features", _Columns(features)), ("cluster", _kmeans(centres))]).fit(centres)


@pytest.mark.parametrize(
    "step",
    [
        SimpleImputer(strategy="median"),
        StandardScaler(),
        StandardScaler(with_mean=False),
        StandardScaler(with_std=False),
        FunctionTransformer(np.log1p),
        FunctionTransformer(_times, kw_args={"factor": 2.5}),
    ],
)
def test_fast_steps_equal_scikit_learn(step) -> None:
    data = X if isinstance(step, SimpleImputer) else FULL
    fitted = step.fit(data)
    np.testing.assert_allclose(sim._fast_transform(fitted)(data), fitted.transform(data), rtol=1e-15)


def test_other_steps_are_delegated_to_scikit_learn() -> None:
    indicator = SimpleImputer(add_indicator=True).fit(X)
    np.testing.assert_array_equal(sim._fast_transform(indicator)(X), indicator.transform(X))
    zero_fill = SimpleImputer(missing_values=0.0, strategy="mean").fit(FULL)  # not the NaN fill the fast path knows
    np.testing.assert_array_equal(sim._fast_transform(zero_fill)(FULL), zero_fill.transform(FULL))
    named = StandardScaler().fit(pd.DataFrame(FULL, columns=["a", "b"]))
    np.testing.assert_allclose(
        sim._fast_transform(named)(FULL), named.transform(pd.DataFrame(FULL, columns=["a", "b"]))
    )
    empty_column = SimpleImputer(strategy="median", keep_empty_features=True).fit(
        np.array([[1.0, np.nan], [2.0, np.nan]])
    )
    # A column with no value at all has a NaN statistic: the fast path would leave NaN; scikit-learn fills 0.
    np.testing.assert_array_equal(sim._fast_transform(empty_column)(np.array([[np.nan, np.nan]])), [[1.5, 0.0]])
    assert sim._fast_transform(None)(FULL) is FULL and sim._fast_transform("passthrough")(FULL) is FULL
    nested = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]).fit(X)
    np.testing.assert_allclose(sim._fast_transform(nested)(X), nested.transform(X), rtol=1e-15)


def test_delegated_steps_get_the_input_they_were_fitted_on_without_warnings() -> None:
    """A step fitted on a frame gets a frame with its column names, one fitted on an array gets an array.

    scikit-learn warns when either is given the other; the fast path must not (warnings are errors here).
    """
    import warnings

    frame = pd.DataFrame(FULL, columns=["a", "b"])
    named = MinMaxScaler().fit(frame)  # no fast path: delegated
    plain = SimpleImputer(add_indicator=True).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(sim._fast_transform(named)(FULL), named.transform(frame))
        np.testing.assert_array_equal(sim._fast_transform(plain)(X), plain.transform(X))


def test_an_identity_function_transformer_is_delegated() -> None:
    identity = FunctionTransformer().fit(FULL)  # func=None: scikit-learn passes the values through
    np.testing.assert_array_equal(sim._fast_transform(identity)(FULL), FULL)


def test_nearest_centre_and_other_clusterers() -> None:
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 20.0]])
    z = np.array([[4.9, 0.0], [5.1, 0.0], [0.0, 10.1], [9.0, 30.0]])
    assert sim._fast_predict(_kmeans(centres))(z).tolist() == [0, 1, 2, 2]
    gmm = GaussianMixture(2, random_state=0).fit(FULL)
    np.testing.assert_array_equal(sim._fast_predict(gmm)(FULL), gmm.predict(FULL))


def test_pcs_with_and_without_whitening_equal_the_pca() -> None:
    for whiten in (False, True):
        pca = PCA(n_components=2, whiten=whiten).fit(FULL)
        np.testing.assert_allclose(sim._pcs(pca, FULL[:2]), pca.transform(FULL[:2]), rtol=1e-12, atol=1e-12)


def test_a_pipeline_without_named_features_is_scored_through_scikit_learn() -> None:
    pipe = Pipeline([("scale", StandardScaler()), ("cluster", KMeans(2, n_init=1, random_state=0))]).fit(FULL)
    scorer = sim.FastScorer(pipe)
    assert scorer.features == []
    np.testing.assert_allclose(scorer.scaled(FULL), pipe[0].transform(FULL))
    assert scorer.predict(FULL).tolist() == pipe.predict(FULL).tolist()


def test_centre_distances_and_confidence_of_several_rows() -> None:
    centres = np.array([[0.0, 0.0], [6.0, 8.0]])
    d = sim.centre_distances([[0.0, 0.0], [3.0, 4.0], [6.0, 0.0]], centres)
    np.testing.assert_allclose(d, [[0.0, 10.0], [5.0, 5.0], [6.0, 8.0]])
    np.testing.assert_allclose(sim.assignment_confidence(d, [0, 0, 0]), [1.0, 0.0, 0.25])
    # Own segment 1: row 0 sits on the other centre (no ratio: 1), rows 1 and 2 are not closer to their own (0).
    np.testing.assert_allclose(sim.assignment_confidence(d, [1, 1, 1]), [1.0, 0.0, 0.0])
    assert sim.assignment_confidence(np.array([[3.0], [0.0]]), [0, 0]).tolist() == [1.0, 1.0]  # one segment


# --- moves ------------------------------------------------------------------------------------------------------------

LINE = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
LINE_SEGMENTS = [
    {"label": 0, "key": "low", "name": "Low"},
    {"label": 1, "key": "mid", "name": "Mid"},
    {"label": 2, "key": "high", "name": "High"},
]


def _moves(values, grid, steps=None, centres=LINE, segments=LINE_SEGMENTS):
    pipe = _pipe(centres)
    return sim.simulate(pipe, PCA(n_components=2).fit(centres), centres, segments, values, grid, steps)


def test_moves_downwards_reach_the_boundary_from_above() -> None:
    """From a = 18 (High): Mid from a ≤ 15 (a tie goes to the lower label), Low from a ≤ 5."""
    out = _moves({"a": 18.0, "b": 0.0}, {"a": np.linspace(0.0, 20.0, 21), "b": np.array([0.0, 1.0])})
    assert out.label == 2 and out.runner_up == "mid"
    assert [(m.target, m.feature, m.delta) for m in out.moves] == [("low", "a", -13.0), ("mid", "a", -3.0)]
    assert out.moves[0].text == "−13 a → Low"
    up = _moves({"a": 2.0, "b": 0.0}, {"a": np.linspace(0.0, 20.0, 21), "b": np.array([0.0, 1.0])})
    # Upwards a tie stays below: Mid from a > 5 (5.1 with steps of 0.1), High from a > 15.
    assert [(m.target, m.delta) for m in up.moves] == [("mid", pytest.approx(3.1)), ("high", pytest.approx(13.1))]


def test_a_rounding_that_overshoots_falls_back_to_the_grid_change() -> None:
    """Steps of 100 jump past Mid (5 < a ≤ 15) into High every time: the exact grid change (+8) is given."""
    out = _moves({"a": 2.0, "b": 0.0}, {"a": np.array([0.0, 10.0, 20.0]), "b": np.array([0.0])}, {"a": 100.0, "b": 1.0})
    mid = next(m for m in out.moves if m.target == "mid")
    assert (mid.feature, mid.delta) == ("a", 8.0)
    high = next(m for m in out.moves if m.target == "high")
    assert high.delta == 100.0  # lands in High: the rounded change is kept


def test_a_rounding_one_step_short_takes_the_next_step() -> None:
    """Steps of 3 from a = 2: 1 step (a = 5) is the tie that stays Low, 2 steps (a = 8) reach Mid."""
    out = _moves({"a": 2.0, "b": 0.0}, {"a": np.linspace(0.0, 20.0, 21), "b": np.array([0.0])}, {"a": 3.0, "b": 1.0})
    assert next(m for m in out.moves if m.target == "mid").delta == 6.0


def test_the_cheapest_feature_is_measured_in_its_own_spread() -> None:
    """(2, 2) → Far (10, 10) needs a > 8 or b > 8; a's grid spreads 4× wider, so a is the cheaper change."""
    centres = np.array([[0.0, 0.0], [10.0, 10.0]])
    segments = [{"label": 0, "key": "near", "name": "Near"}, {"label": 1, "key": "far", "name": "Far"}]
    grid = {"a": np.linspace(0.0, 40.0, 41), "b": np.linspace(0.0, 10.0, 41)}
    out = _moves({"a": 2.0, "b": 2.0}, grid, {"a": 0.5, "b": 0.5}, centres, segments)
    assert [(m.feature, m.delta) for m in out.moves] == [("a", 6.5)]
    narrow = {"a": np.linspace(0.0, 10.0, 41), "b": np.linspace(0.0, 40.0, 41)}
    out = _moves({"a": 2.0, "b": 2.0}, narrow, {"a": 0.5, "b": 0.5}, centres, segments)
    assert [(m.feature, m.delta) for m in out.moves] == [("b", 6.5)]
    single = {"a": np.array([9.0]), "b": np.array([2.0])}  # one grid value: spread 0 counts as 1
    out = _moves({"a": 2.0, "b": 2.0}, single, {"a": 0.5, "b": 0.5}, centres, segments)
    assert [(m.feature, m.delta) for m in out.moves] == [("a", 6.5)]


def test_default_steps_come_from_the_grid_range() -> None:
    """No steps given: a's grid spans 0..20, so changes are in tenths (10^floor(log10(20/100)))."""
    out = _moves({"a": 2.0, "b": 0.0}, {"a": np.linspace(0.0, 20.0, 21), "b": np.array([0.0])}, {"b": 1.0})
    assert next(m for m in out.moves if m.target == "mid").delta == pytest.approx(3.1)


def test_simulation_pcs_of_three_features() -> None:
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 1.0], [0.0, 20.0, 2.0], [5.0, 5.0, 9.0]])
    segments = [{"label": i, "key": f"s{i}", "name": f"S{i}"} for i in range(4)]
    pipe = _pipe(centres, ("a", "b", "c"))
    pca = PCA(n_components=3).fit(centres)
    grid = {f: np.array([0.0, 1.0]) for f in "abc"}
    out = sim.simulate(pipe, pca, centres, segments, {"a": 1.0, "b": 2.0, "c": 3.0}, grid)
    np.testing.assert_allclose(out.pcs, pca.transform([[1.0, 2.0, 3.0]])[0], atol=1e-12)
    assert out.segment == segments[0] and set(out.distances) == {"s0", "s1", "s2", "s3"}


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (10.4, "+10 x y"),
        (10.0, "+10 x y"),
        (9.96, "+10.0 x y"),
        (9.94, "+9.9 x y"),
        (1.0, "+1.0 x y"),
        (0.994, "+0.99 x y"),
    ],
)
def test_changes_of_undeclared_features_show_digits_by_size(delta: float, text: str) -> None:
    """No decimals from 10 up, one from 1 up, two below 1 (just below, at and just above each bound)."""
    assert sim.format_change("x_y", delta) == text
