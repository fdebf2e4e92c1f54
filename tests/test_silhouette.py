"""The one exact silhouette (:func:`pipeline.segmentation.metrics.silhouette_matrix`) against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import silhouette_samples, silhouette_score

from pipeline.segmentation import metrics
from pipeline.segmentation.comparison import metrics as comparison_metrics
from pipeline.segmentation.metrics import cluster_metrics, silhouette_matrix


def _data(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    X = rng.normal(size=(n, 3)) + labels[:, None] * 1.5
    return X, labels


def test_the_comparison_uses_the_same_function() -> None:
    assert comparison_metrics.silhouette_matrix is silhouette_matrix


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_sklearn_with_noise_and_a_singleton_in_the_first_labelling(seed: int) -> None:
    X, labels = _data(seed)
    rng = np.random.default_rng(seed + 10)
    noisy = np.where(rng.random(len(labels)) < 0.2, -1, labels)
    noisy[5] = 7  # a segment of one customer: silhouette 0 by definition
    values = silhouette_matrix(X, [noisy, labels])
    for j, lab in enumerate([noisy, labels]):
        keep = lab >= 0
        np.testing.assert_allclose(values[keep, j], silhouette_samples(X[keep], lab[keep]), rtol=0, atol=1e-12)
        assert np.isnan(values[~keep, j]).all()
    assert values[5, 0] == 0.0


def test_blocks_do_not_change_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    X, labels = _data(4, 50)
    whole = silhouette_matrix(X, [labels, labels[::-1].copy()])
    monkeypatch.setattr(metrics, "SILHOUETTE_BLOCK_BYTES", 8 * 50 * 7)  # 7 rows per block, the last one short
    np.testing.assert_allclose(silhouette_matrix(X, [labels, labels[::-1].copy()]), whole, rtol=0, atol=1e-15)


def test_one_segment_or_no_rows_give_nan() -> None:
    X, _ = _data(5, 10)
    assert np.isnan(silhouette_matrix(X, [np.zeros(10, dtype=int)])).all()
    assert silhouette_matrix(np.empty((0, 3)), [np.empty(0, dtype=int)]).shape == (0, 1)
    assert silhouette_matrix(X, []).shape == (10, 0)


@pytest.mark.parametrize("seed", [0, 3])
def test_cluster_metrics_silhouette_equals_silhouette_score(seed: int) -> None:
    X, labels = _data(seed, 400)
    out = cluster_metrics(X, labels, max_rows=1000, random_state=0)
    assert out["silhouette_rows"] == 400
    assert out["silhouette"] == pytest.approx(silhouette_score(X, labels), rel=0, abs=1e-12)
