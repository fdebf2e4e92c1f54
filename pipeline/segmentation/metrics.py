"""Cluster-quality metrics that stay affordable on large data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Most rows the silhouette of a trained model is computed on (a stratified sample above it):
#: exact silhouettes cost the square of the rows (10,000 rows: under a second; 20,000: about 4 s).
SILHOUETTE_MAX_ROWS = 10_000
#: Memory of one block of the silhouette's distances (rows × all rows): the values do not depend on it
#: (each row's distances are summed whole).
SILHOUETTE_BLOCK_BYTES = 64 << 20


def stratified_indices(labels: np.ndarray, size: int, random_state: int) -> np.ndarray:
    """Row indices of a sample of ``size`` rows keeping every label represented.

    Each label gets a share proportional to its size and at least
    ``min(count, 2)`` rows.  Returns all rows (sorted) when ``size`` is at
    least the number of rows.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    picked = []
    values, counts = np.unique(labels, return_counts=True)
    for value, count in zip(values, counts, strict=True):
        take = min(count, max(2, round(size * count / n)))
        members = np.flatnonzero(labels == value)
        picked.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(picked))


def silhouette_matrix(X: np.ndarray, labelings: Sequence[np.ndarray]) -> np.ndarray:
    """Exact silhouette coefficient of every row under one or several labelings at once.

    Equals ``sklearn.metrics.silhouette_samples(X[keep], labels[keep])`` for
    each labelling (to rounding: the distances are computed directly,
    ``sqrt(sum((a - b)²))``, not through scikit-learn's dot-product
    expansion), where ``keep`` are its rows with a label >= 0 (negative
    labels: noise or rows the model did not see, left out).  Distances are
    computed once, in blocks of bounded memory
    (:data:`SILHOUETTE_BLOCK_BYTES`).  The rows are put in the order of the
    first labelling, so its per-segment distance sums are sums of contiguous
    runs of each block; the other labelings' sums come from one matrix
    product per block.  The one silhouette of the app: the trained model's
    (:func:`cluster_metrics`) and the comparison's.

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
    from scipy.spatial.distance import cdist

    X = np.asarray(X, dtype=float)
    m = len(X)
    labelings = [np.asarray(lab).ravel() for lab in labelings]
    out = np.full((m, len(labelings)), np.nan)
    if not labelings or m == 0:
        return out
    order = np.argsort(labelings[0], kind="stable")
    Xs = X[order]
    values, starts, counts = np.unique(labelings[0][order], return_index=True, return_counts=True)
    column = np.full(len(values), -1)
    kept = values >= 0
    column[kept] = np.arange(int(kept.sum()))
    own_first = np.repeat(column, counts)  # the rows are sorted by the first labelling
    parts = [_one_hot(lab[order]) for lab in labelings[1:]]
    weights = np.hstack([w for w, _ in parts]) if parts else np.empty((m, 0))
    first = np.empty((m, len(values)))
    sums = np.empty((m, weights.shape[1]))
    block = max(1, SILHOUETTE_BLOCK_BYTES // (8 * m))
    for start in range(0, m, block):
        dist = cdist(Xs[start : start + block], Xs)  # a point's distance to itself is exactly 0
        first[start : start + block] = np.add.reduceat(dist, starts, axis=1)
        if parts:
            sums[start : start + block] = dist @ weights
    in_order = np.empty_like(out)
    in_order[:, 0] = _silhouette_from_sums(first[:, kept], own_first, counts[kept])
    offset = 0
    for j, (w, own) in enumerate(parts, start=1):
        width = w.shape[1]
        in_order[:, j] = _silhouette_from_sums(sums[:, offset : offset + width], own, w.sum(axis=0))
        offset += width
    out[order] = in_order
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


def cluster_metrics(
    X: np.ndarray, labels: np.ndarray, max_rows: int, random_state: int
) -> dict[str, float | int | None]:
    """Silhouette, Davies–Bouldin and Calinski–Harabasz of a labelling.

    Noise (label -1) is excluded.  Silhouette is O(n²): above ``max_rows``
    rows it is computed on a stratified sample of ``max_rows`` rows and
    ``silhouette_rows`` says how many.  Metrics are ``None`` when fewer than
    two segments remain.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score  # when measuring, not at import

    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    keep = labels >= 0
    Xk, lk = X[keep], labels[keep]
    n_segments = len(np.unique(lk))
    out: dict[str, float | int | None] = {
        "silhouette": None,
        "davies_bouldin": None,
        "calinski_harabasz": None,
        "silhouette_rows": 0,
        "n_segments": n_segments,
    }
    if n_segments < 2 or n_segments >= len(lk):
        return out
    idx = stratified_indices(lk, max_rows, random_state)
    out["silhouette"] = float(np.mean(silhouette_matrix(Xk[idx], [lk[idx]])[:, 0]))
    out["silhouette_rows"] = len(idx)
    out["davies_bouldin"] = float(davies_bouldin_score(Xk, lk))
    out["calinski_harabasz"] = float(calinski_harabasz_score(Xk, lk))
    return out
