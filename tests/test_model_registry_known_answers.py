"""Known answers of the model registry's entries (issue #15: mutation score of pipeline.segmentation.registry).

What each factory builds, with its parameters, for settings chosen so that each rule (the DBSCAN
neighbourhood, the HDBSCAN cluster size, the row caps) is on a known side of its bound.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from pipeline.config import Settings
from pipeline.segmentation import registry

FOUR = ("Customer_Value", "Purchase_Frequency", "Recency", "Customer_For_Years")


def test_short_names_fall_back_to_the_label() -> None:
    assert registry.spec("agglomerative").short == "Ward"
    assert registry.spec("kmeans").short == "KMeans"


def test_readers_of_known_and_unknown_names() -> None:
    assert registry.spec("gmm") is registry.MODELS["gmm"]
    assert registry.takes_k("kmeans") is True
    assert registry.takes_k("dbscan") is False
    assert registry.takes_k("nope") is False
    assert registry.label("birch") == "Birch" and registry.label("nope") == "nope"
    assert registry.labels() == {
        "kmeans": "KMeans",
        "agglomerative": "Agglomerative (Ward)",
        "gmm": "Gaussian mixture",
        "birch": "Birch",
        "dbscan": "DBSCAN",
        "hdbscan": "HDBSCAN",
    }
    assert registry.colours() == {
        "kmeans": "#0072B2",
        "agglomerative": "#E69F00",
        "gmm": "#009E73",
        "birch": "#CC79A7",
        "dbscan": "#D55E00",
        "hdbscan": "#56B4E9",
    }


def test_row_caps_take_the_smaller_of_the_settings_and_the_fixed_limit() -> None:
    ward = registry.spec("agglomerative")
    assert ward.max_fit_rows(Settings(max_exact_rows=5000)) == 5000
    assert ward.max_fit_rows(Settings(max_exact_rows=20_000)) == 10_000
    assert registry.spec("kmeans").max_fit_rows(Settings(max_exact_rows=5000)) is None
    limited = registry.ModelSpec("x", "X", "#000000", MappingProxyType({}), True, row_limit=7)
    assert limited.max_fit_rows(Settings(max_exact_rows=5000)) == 7  # not quadratic: only its own limit


def test_factories_build_their_estimators_with_the_settings() -> None:
    s = Settings(k=4, n_init=3, random_state=9, max_exact_rows=5000)
    km = registry.spec("kmeans").build(s)
    assert (type(km).__name__, km.n_clusters, km.n_init, km.random_state, km.restart_rows) == (
        "SampledRestartKMeans",
        4,
        3,
        9,
        100_000,
    )
    gmm = registry.spec("gmm").build(s)
    assert (gmm.n_components, gmm.covariance_type, gmm.n_init, gmm.random_state) == (4, "full", 2, 9)
    assert registry.spec("birch").build(s).n_clusters == 4
    ward = registry.spec("agglomerative").build(s)
    assert (ward.estimator.n_clusters, ward.estimator.linkage, ward.max_fit_rows, ward.random_state) == (
        4,
        "ward",
        5000,
        9,
    )
    with pytest.raises(ValueError, match=r"^Birch has no spark engine \(it has: sklearn\)$"):
        registry.spec("birch").build(s, engine="spark")


@pytest.mark.parametrize(("features", "min_samples"), [(("Customer_Value", "Recency"), 5), (FOUR, 8)])
def test_dbscan_needs_twice_the_features_and_at_least_five_neighbours(features: tuple, min_samples: int) -> None:
    est = registry.spec("dbscan").build(Settings(features=features, max_exact_rows=3000, random_state=2))
    assert est.estimator.min_samples == min_samples
    assert (est.auto_eps, est.max_fit_rows, est.random_state) == (True, 3000, 2)


@pytest.mark.parametrize(
    ("n_rows", "cap", "size"),
    [
        (None, 3000, 20),  # rows unknown: 2% of 1,000
        (100, 3000, 10),  # 2% of 100 is 2: at least 10
        (620, 3000, 12),  # 2% of 620, rounded down
        (50_000, 3000, 60),  # fitted on the 3,000-row sample: 2% of it
    ],
)
def test_hdbscan_cluster_size_is_two_percent_of_the_rows_it_is_fitted_on(n_rows, cap: int, size: int) -> None:
    est = registry.spec("hdbscan").build(Settings(max_exact_rows=cap), n_rows=n_rows)
    assert est.estimator.min_cluster_size == size and isinstance(est.estimator.min_cluster_size, int)
    assert est.estimator.copy is True and est.max_fit_rows == cap


def test_hdbscan_without_a_cap_uses_all_rows() -> None:
    spec = registry.ModelSpec("h", "H", "#000000", registry.spec("hdbscan").factories, False, quadratic=False)
    assert spec.build(Settings(), n_rows=2600).estimator.min_cluster_size == 52
