"""Known answers for :class:`pipeline.segmentation.kmeans.SampledRestartKMeans` (restarts on a sample, refined on all rows)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.utils._param_validation import InvalidParameterError

from pipeline.cli.train import restart_line
from pipeline.config import Settings
from pipeline.segmentation import registry
from pipeline.segmentation.kmeans import RESTART_ROWS, SampledRestartKMeans
from pipeline.segmentation.simulate import _fast_predict
from pipeline.segmentation.training import TrainResult, summary

CENTRES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def planted(n_per: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four tight groups of ``n_per`` points around :data:`CENTRES` (spread 0.5), and each point's group."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(4), n_per)
    return CENTRES[truth] + rng.normal(scale=0.5, size=(len(truth), 2)), truth


def test_up_to_restart_rows_it_is_scikit_learns_kmeans() -> None:
    X, _ = planted(100)
    ours = SampledRestartKMeans(4, n_init=10, random_state=3, restart_rows=400).fit(X)
    theirs = KMeans(4, n_init=10, random_state=3).fit(X)
    assert ours.restart_rows_ == 400
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-12)
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-12)


def test_above_restart_rows_the_restarts_run_on_a_sample_and_all_rows_refine_them() -> None:
    X, truth = planted(1000)  # 4,000 rows; restarts on 500
    ours = SampledRestartKMeans(4, n_init=10, random_state=42, restart_rows=500).fit(X)
    full = KMeans(4, n_init=10, random_state=42).fit(X)
    assert ours.restart_rows_ == 500
    # The planted groups, as the full fit finds them; the same inertia.
    assert adjusted_rand_score(truth, ours.labels_) == 1.0
    assert adjusted_rand_score(full.labels_, ours.labels_) == 1.0
    assert ours.inertia_ == pytest.approx(full.inertia_, rel=1e-9)
    # The centres are the means of their members (a Lloyd fixed point on all rows), near the planted ones.
    means = np.vstack([X[ours.labels_ == j].mean(axis=0) for j in range(4)])
    np.testing.assert_allclose(ours.cluster_centers_, means, atol=1e-9)
    order = np.lexsort(np.round(ours.cluster_centers_).T)  # by y, then x: the order of CENTRES
    np.testing.assert_allclose(ours.cluster_centers_[order], CENTRES, atol=0.1)
    assert ours.inertia_ == pytest.approx(((X - ours.cluster_centers_[ours.labels_]) ** 2).sum(), rel=1e-9)
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)


def test_the_same_random_state_gives_the_same_model() -> None:
    X, _ = planted(500, seed=5)
    a = SampledRestartKMeans(4, n_init=4, random_state=7, restart_rows=300).fit(X)
    b = SampledRestartKMeans(4, n_init=4, random_state=7, restart_rows=300).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_


def test_weighted_rows_or_given_centres_are_fitted_on_every_row() -> None:
    X, _ = planted(200)
    weighted = SampledRestartKMeans(4, n_init=2, random_state=0, restart_rows=100).fit(X, sample_weight=np.ones(len(X)))
    assert weighted.restart_rows_ == len(X)
    given_init = SampledRestartKMeans(4, init=CENTRES, n_init=1, restart_rows=100).fit(X)
    assert given_init.restart_rows_ == len(X)


def test_restart_rows_must_be_a_positive_whole_number() -> None:
    X, _ = planted(10)
    with pytest.raises(InvalidParameterError, match=r"The 'restart_rows' parameter of SampledRestartKMeans must be"):
        SampledRestartKMeans(4, restart_rows=0).fit(X)


def test_the_default_kmeans_restarts_on_100000_rows_and_clones_with_it() -> None:
    km = registry.spec("kmeans").build(Settings(k=5, n_init=10, random_state=1))
    assert isinstance(km, SampledRestartKMeans) and isinstance(km, KMeans)
    assert (km.restart_rows, RESTART_ROWS) == (100_000, 100_000)
    assert clone(km).get_params() == km.get_params()


def test_the_simulator_predicts_by_nearest_centre_for_it() -> None:
    X, _ = planted(300)
    km = SampledRestartKMeans(4, n_init=2, random_state=0, restart_rows=200).fit(X)
    fast = _fast_predict(km)
    assert fast.__name__ == "nearest"  # not the estimator's own predict
    np.testing.assert_array_equal(fast(X), km.labels_)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_per=st.integers(30, 120),
    k=st.integers(2, 5),
    restart_rows=st.integers(20, 200),
)
def test_every_row_ends_in_its_nearest_centre(seed: int, n_per: int, k: int, restart_rows: int) -> None:
    X, _ = planted(n_per, seed=seed)
    km = SampledRestartKMeans(k, n_init=3, random_state=seed, restart_rows=restart_rows).fit(X)
    assert km.restart_rows_ == min(restart_rows, len(X))
    distances = ((X[:, None, :] - km.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(km.labels_, distances.argmin(axis=1))
    assert km.inertia_ == pytest.approx(distances.min(axis=1).sum(), rel=1e-9)


def test_the_manifest_says_how_many_rows_the_restarts_ran_on(trained: TrainResult) -> None:
    m = trained.artifact.manifest
    assert m["metrics"]["restart_rows"] == m["data"]["n_customers"] == 2240  # the sample: every restart on every row
    assert restart_line(summary(trained)) == []


def test_train_text_names_the_restart_sample_when_there_is_one() -> None:
    s = {"n_customers": 1_000_000, "metrics": {"restart_rows": 100_000}}
    assert restart_line(s) == [
        "KMeans restarts on a random sample of 100,000 of 1,000,000 customers; the best one refined on all of them "
        "(labels, centres and inertia are of all customers)"
    ]
    assert restart_line({"n_customers": 500, "metrics": {"silhouette": 0.4}}) == []  # other models: no line
