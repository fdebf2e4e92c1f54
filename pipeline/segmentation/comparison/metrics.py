"""Metrics of one labelling: exact silhouettes (many labellings at once), Davies–Bouldin,
Calinski–Harabasz, segment shares, stability summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from pipeline.segmentation.metrics import silhouette_matrix

__all__ = ["UNFITTED", "labelling_metrics", "mean_silhouette", "silhouette_matrix", "silhouettes", "stability_fields"]

#: Label of rows a model was not fitted on (noise is -1).
UNFITTED = -2


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
