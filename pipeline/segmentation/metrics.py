"""Cluster-quality metrics that stay affordable on large data."""

from __future__ import annotations

import numpy as np

#: Most rows the silhouette of a trained model is computed on (a stratified sample above it):
#: exact silhouettes cost the square of the rows (10,000 rows: under a second; 20,000: about 4 s).
SILHOUETTE_MAX_ROWS = 10_000
#: Scratch memory (MB) for the silhouette's distance blocks: scikit-learn's default (1,024 MB) would hold
#: 10,000 × 10,000 distances at once; smaller blocks give the same values (each row is summed whole).
SILHOUETTE_WORKING_MB = 64


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


def cluster_metrics(
    X: np.ndarray, labels: np.ndarray, max_rows: int, random_state: int
) -> dict[str, float | int | None]:
    """Silhouette, Davies–Bouldin and Calinski–Harabasz of a labelling.

    Noise (label -1) is excluded.  Silhouette is O(n²): above ``max_rows``
    rows it is computed on a stratified sample of ``max_rows`` rows and
    ``silhouette_rows`` says how many.  Metrics are ``None`` when fewer than
    two segments remain.
    """
    from sklearn import config_context  # scikit-learn when measuring, not when the module is imported
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

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
    with config_context(working_memory=SILHOUETTE_WORKING_MB):
        out["silhouette"] = float(silhouette_score(Xk[idx], lk[idx]))
    out["silhouette_rows"] = len(idx)
    out["davies_bouldin"] = float(davies_bouldin_score(Xk, lk))
    out["calinski_harabasz"] = float(calinski_harabasz_score(Xk, lk))
    return out
