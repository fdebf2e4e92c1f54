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


# --- issue #15: the survivors of the full run of 2026-11-30 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "step"),
    [(0.0, 0.5, 0.001), (2.0, 3.0, 0.01), (0.0, 1.0001, 0.01), (0.0, 0.99, 0.001), (3.0, 3.0, 1.0), (3.0, 2.0, 1.0)],
)
def test_undeclared_features_below_a_span_of_one_get_fine_steps(lo: float, hi: float, step: float) -> None:
    """10^floor(log10(span / 100)) for any positive span, also below 1 (0.5 → 0.001); no span at all → 1."""
    assert sim.feature_step("x", lo, hi) == step


@pytest.mark.parametrize(
    ("value", "step", "rounded"),
    [
        (1.24, 2.5, 0.0),  # just below half a step
        (1.25, 2.5, 0.0),  # at half a step: to the even multiple (Python's round)
        (1.26, 2.5, 2.5),  # just above
        (3.75, 2.5, 5.0),  # at half a step, the even multiple above
        (7.4, 2.5, 7.5),  # a multiple with a decimal although the step is above 1
        (-1.26, 2.5, -2.5),  # negative values round the same way
        (-3.74, 2.5, -2.5),
        (0.7, 0.25, 0.75),  # two decimals, as many as the step has
        (0.62, 0.25, 0.5),
        (-0.38, 0.25, -0.5),
        (1234.0, 10.0, 1230.0),
        (1.15, 1.0, 1.0),
        (0.0, 0.1, 0.0),
    ],
)
def test_round_to_step_gives_multiples_of_the_step(value: float, step: float, rounded: float) -> None:
    assert repr(sim.round_to_step(value, step)) == repr(rounded)


@pytest.mark.parametrize("step", [0.0, -0.1, -2.0, float("nan"), float("inf")])
def test_round_to_step_refuses_a_step_that_is_not_a_positive_number(step: float) -> None:
    with pytest.raises(ValueError, match=r"^step must be a positive number, not "):
        sim.round_to_step(1.0, step)


def test_feature_grid_rounds_only_count_features() -> None:
    """Three points over 0..5: money, years and undeclared features keep 2.5; days (a count) round it to 2."""
    names = ["Customer_Value", "Customer_For_Years", "Recency", "x"]
    grid = sim.feature_grid({f: {"min": 0.0, "max": 5.0} for f in names}, names, points=3)
    assert {f: g.tolist() for f, g in grid.items()} == {
        "Customer_Value": [0.0, 2.5, 5.0],
        "Customer_For_Years": [0.0, 2.5, 5.0],
        "Recency": [0.0, 2.0, 5.0],
        "x": [0.0, 2.5, 5.0],
    }


class _Doubling(_Columns):
    def transform(self, X):
        return 2.0 * np.asarray(X, dtype=float)


def test_a_first_step_that_is_not_the_feature_builder_is_run() -> None:
    """Only the FeatureBuilder (which selects columns) may be skipped; another first step with features is run."""
    pipe = Pipeline([("features", _Doubling()), ("cluster", _kmeans(np.array([[0.0, 0.0], [10.0, 0.0]])))])
    pipe.fit(np.array([[0.0, 0.0], [5.0, 0.0]]))
    scorer = sim.FastScorer(pipe)
    np.testing.assert_array_equal(scorer.scaled(FULL), 2.0 * FULL)
    assert scorer.predict(np.array([[2.4, 0.0], [2.6, 0.0]])).tolist() == [0, 1]  # 4.8 → 0, 5.2 → 1


def test_every_step_but_the_clusterer_is_run_through_scikit_learn() -> None:
    """Three steps without named features: the scaler and the doubling before the clusterer both run."""
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("double", FunctionTransformer(_times, kw_args={"factor": 2.0})),
            ("cluster", KMeans(2, n_init=1, random_state=0)),
        ]
    ).fit(FULL)
    scaled = sim.FastScorer(pipe).scaled(FULL)
    np.testing.assert_allclose(scaled, 2.0 * (FULL - FULL.mean(axis=0)) / FULL.std(axis=0), rtol=1e-14)


def test_confidence_with_distances_below_one() -> None:
    """1 − 0.2 / 0.8 = 0.75 and 1 − 0.5 / 0.5 = 0: the ratio applies at any scale, not only beyond distance 1."""
    d = np.array([[0.2, 0.8], [0.5, 0.5], [0.3, 0.0]])
    np.testing.assert_allclose(sim.assignment_confidence(d, [0, 1, 1]), [0.75, 0.0, 1.0])


def test_the_first_step_may_have_another_name() -> None:
    """The features are read from the first step whatever its name (not looked up as "features")."""
    named = Pipeline([("columns", _Columns()), ("cluster", _kmeans(LINE))]).fit(LINE)
    grid = {"a": np.linspace(0.0, 20.0, 21), "b": np.array([0.0])}
    out = sim.simulate(named, PCA(n_components=2).fit(LINE), LINE, LINE_SEGMENTS, {"a": 2.0, "b": 0.0}, grid)
    assert out.label == 0 and [(m.target, m.delta) for m in out.moves] == [("mid", 3.1), ("high", 13.1)]


def test_a_segment_map_shorter_than_the_centres_is_refused() -> None:
    """Three centres, two segments: the distances cannot be named, so nothing is returned."""
    grid = {"a": np.linspace(0.0, 20.0, 21), "b": np.array([0.0])}
    with pytest.raises(ValueError, match=r"zip\(\) argument 2 is longer than argument 1"):
        _moves({"a": 2.0, "b": 0.0}, grid, segments=LINE_SEGMENTS[:2])


def test_a_feature_with_one_grid_value_costs_its_change_in_units() -> None:
    """a's grid is the single value 9 (no spread: a change costs |Δa| / 1 = 7); b's grid 6..10 spreads √2.

    (2, 2) → Far (10, 10) needs a > 8 or b > 8: b = 9 costs 7 / √2 ≈ 4.95 < 7, so b is the change (+6.5 with
    steps of 0.5). Counting a's missing spread as 2 would make a cost 3.5 and win.
    """
    centres = np.array([[0.0, 0.0], [10.0, 10.0]])
    segments = [{"label": 0, "key": "near", "name": "Near"}, {"label": 1, "key": "far", "name": "Far"}]
    grid = {"a": np.array([9.0]), "b": np.linspace(6.0, 10.0, 5)}
    out = _moves({"a": 2.0, "b": 2.0}, grid, {"a": 0.5, "b": 0.5}, centres, segments)
    assert [(m.feature, m.delta) for m in out.moves] == [("b", 6.5)]


def test_values_outside_the_grid() -> None:
    """The grid is a = 0 and 10; Low is a ≤ 5, Mid 5 < a ≤ 15, High above. Steps of 0.0001.

    From a = −30 (below the grid) up to Mid (hit a = 10): the bisection starts at the grid neighbour 0, not at
    the base, and ends 10/2^14 above the boundary, at 5.00061035: rounded outward +35.0007. High is not on the
    grid. From a = 47 (above it) down to Low (hit 0): it starts at the neighbour 10 and meets the boundary 5
    exactly (the midpoint of 0..10): −42 (the 1e-9 keeps float noise in 42 / 0.0001 from adding a step). Down to
    Mid (hit 10, the grid's last value): no neighbour beyond it, so it starts at the base; 10..47 ends at
    14.99988: −32.0002.
    """
    grid = {"a": np.array([0.0, 10.0]), "b": np.array([0.0])}
    steps = {"a": 0.0001, "b": 1.0}
    up = _moves({"a": -30.0, "b": 0.0}, grid, steps)
    assert [(m.target, m.delta) for m in up.moves] == [("mid", 35.0007), ("high", None)]
    assert up.moves[1].text == "No single-feature change reaches High."
    down = _moves({"a": 47.0, "b": 0.0}, grid, steps)
    assert [(m.target, m.delta) for m in down.moves] == [("low", -42.0), ("mid", -32.0002)]


def test_a_coarse_grid_bisects_between_the_hit_and_its_neighbour_towards_the_base() -> None:
    """Grid 0, 10, 20 (steps of 0.1): from a = 2 Mid is hit at 10 and its boundary 5 lies between 2 and 10
    (+3.1); from a = 18 it is hit at 10 again and the boundary 15 lies between 10 and 18 (−3)."""
    grid = {"a": np.array([0.0, 10.0, 20.0]), "b": np.array([0.0])}
    steps = {"a": 0.1, "b": 1.0}
    assert [(m.target, m.delta) for m in _moves({"a": 2.0, "b": 0.0}, grid, steps).moves] == [
        ("mid", 3.1),
        ("high", 13.1),
    ]
    assert [(m.target, m.delta) for m in _moves({"a": 18.0, "b": 0.0}, grid, steps).moves] == [
        ("low", -13.0),
        ("mid", -3.0),
    ]


class _Striped(BaseEstimator):
    """A clusterer that does not assign by distance (like a Gaussian mixture): label 1 where
    5 < a ≤ 5.05 or a ≥ ``from_a``, else 0, so segment 1 is two separate stripes along a."""

    def __init__(self, from_a: float = 5.35) -> None:
        self.from_a = from_a

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        a = np.asarray(X, dtype=float)[:, 0]
        return (((a > 5.0) & (a <= 5.05)) | (a >= self.from_a)).astype(int)


def _striped(values: dict[str, float], from_a: float) -> sim.Move:
    pipe = Pipeline([("features", _Columns()), ("cluster", _Striped(from_a))]).fit(LINE)
    centres = np.array([[0.0, 0.0], [5.4, 0.0]])
    segments = [{"label": 0, "key": "plain", "name": "Plain"}, {"label": 1, "key": "striped", "name": "Striped"}]
    grid = {"a": np.array([0.0, 5.03, 10.0]), "b": np.array([0.0])}
    pca = PCA(n_components=2).fit(LINE)
    out = sim.simulate(pipe, pca, centres, segments, values, grid, {"a": 0.1, "b": 1.0})
    (move,) = out.moves
    return move


def test_a_rounding_that_misses_a_narrow_stripe_steps_further() -> None:
    """From a = 2 the grid hits the narrow stripe at 5.03 and the boundary is 5: +3.1 (5.1), +3.2 and +3.3 miss it,
    +3.4 (5.4) reaches the wide stripe from 5.35: that is the change. From 5.45 on, four rounded tries (up to 5.4)
    all miss and the exact grid change (+3.03, to 5.03) is given instead."""
    move = _striped({"a": 2.0, "b": 0.0}, from_a=5.35)
    assert (move.feature, move.delta) == ("a", 3.4)
    move = _striped({"a": 2.0, "b": 0.0}, from_a=5.45)
    assert (move.feature, move.delta) == ("a", 5.03 - 2.0)
