"""Metrics of one labelling: exact silhouettes (many labellings at once), Davies–Bouldin,
Calinski–Harabasz, segment shares, stability summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.metrics.pairwise import euclidean_distances

#: Memory of one block of the silhouette distance computation.
_BLOCK_BYTES = 64 << 20
#: Label of rows a model was not fitted on (noise is -1).
UNFITTED = -2


def silhouette_matrix(X: np.ndarray, labelings: Sequence[np.ndarray]) -> np.ndarray:
    """Exact silhouette coefficient of every row under several labelings at once.

    Equals ``sklearn.metrics.silhouette_samples(X[keep], labels[keep])`` for
    each labeling, where ``keep`` are its rows with a label >= 0 (negative
    labels: noise or rows the model did not see, left out).  Distances are
    computed once, in blocks of bounded memory, and the per-segment distance
    sums of all labelings come from one matrix product per block.

    Parameters
    ----------
    X : ndarray of shape (m, d)
        The points.
    labelings : sequence of int arrays of shape (m,)
        One labelling per column of the result.

    Returns
    -------
    ndarray of shape (m, len(labelings))
        Silhouette values; NaN where a row was left out.
    """
    X = np.asarray(X, dtype=float)
    m = len(X)
    parts = [_one_hot(np.asarray(lab)) for lab in labelings]
    if not parts:
        return np.empty((m, 0))
    weights = np.hstack([w for w, _ in parts])
    sums = np.empty((m, weights.shape[1]))
    block = max(1, _BLOCK_BYTES // (8 * max(m, 1)))
    for start in range(0, m, block):
        dist = euclidean_distances(X[start : start + block], X)
        rows = np.arange(len(dist))
        dist[rows, start + rows] = 0.0  # a point's distance to itself, exactly
        sums[start : start + block] = dist @ weights
    out = np.full((m, len(parts)), np.nan)
    offset = 0
    for j, (w, own) in enumerate(parts):
        width = w.shape[1]
        out[:, j] = _silhouette_from_sums(sums[:, offset : offset + width], own, w.sum(axis=0))
        offset += width
    return out


def _one_hot(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrix of the labels >= 0, and each row's column (-1: left out)."""
    values, inverse = np.unique(labels, return_inverse=True)
    column = np.full(len(values), -1)
    kept = values >= 0
    column[kept] = np.arange(int(kept.sum()))
    own = column[inverse.ravel()]
    w = np.zeros((len(labels), int(kept.sum())))
    rows = np.flatnonzero(own >= 0)
    w[rows, own[rows]] = 1.0
    return w, own


def _silhouette_from_sums(sums: np.ndarray, own: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Silhouette values from per-segment distance sums (scikit-learn's edge cases)."""
    out = np.full(len(own), np.nan)
    rows = np.flatnonzero(own >= 0)
    if len(rows) == 0 or len(counts) < 2:
        return out
    s, o = sums[rows], own[rows]
    size = counts[o]
    pick = np.arange(len(rows))
    with np.errstate(divide="ignore", invalid="ignore"):
        intra = s[pick, o] / (size - 1)
        mean_other = s / counts
        mean_other[pick, o] = np.inf
        inter = mean_other.min(axis=1)
        value = (inter - intra) / np.maximum(intra, inter)
    out[rows] = np.nan_to_num(np.where(size > 1, value, 0.0))
    return out


def silhouettes(X: np.ndarray, labelings: Mapping[Any, np.ndarray]) -> dict[Any, np.ndarray]:
    """Per-row silhouettes of every labelling, each distinct array computed once."""
    column: dict[int, int] = {}
    arrays: list[np.ndarray] = []
    for labels in labelings.values():
        if id(labels) not in column:
            column[id(labels)] = len(arrays)
            arrays.append(labels)
    values = silhouette_matrix(X, arrays)
    return {key: values[:, column[id(labels)]] for key, labels in labelings.items()}


def labelling_metrics(X: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Davies–Bouldin, Calinski–Harabasz, segments, noise and segment shares of one labelling."""
    fitted = labels != UNFITTED
    keep = labels >= 0
    _, counts = np.unique(labels[keep], return_counts=True)
    n_fit = int(fitted.sum())
    out: dict[str, Any] = {
        "n_segments": len(counts),
        "noise_share": float(np.sum(labels == -1) / n_fit) if n_fit else None,
        "min_segment_share": float(counts.min() / n_fit) if len(counts) else 0.0,
        "segment_shares": sorted((float(c / n_fit) for c in counts), reverse=True),
        "davies_bouldin": None,
        "calinski_harabasz": None,
        "fit_rows": n_fit,
    }
    if 2 <= len(counts) < int(keep.sum()):
        out["davies_bouldin"] = float(davies_bouldin_score(X[keep], labels[keep]))
        out["calinski_harabasz"] = float(calinski_harabasz_score(X[keep], labels[keep]))
    return out


def stability_fields(scores: Sequence[float]) -> dict[str, Any]:
    if not scores:
        return {"stability_mean": None, "stability_std": None, "stability_scores": []}
    return {
        "stability_mean": float(np.mean(scores)),
        "stability_std": float(np.std(scores)),
        "stability_scores": [float(s) for s in scores],
    }


def mean_silhouette(values: np.ndarray) -> tuple[float | None, int]:
    kept = values[~np.isnan(values)]
    return (float(kept.mean()) if len(kept) else None), len(kept)
