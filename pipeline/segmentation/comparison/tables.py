"""The rows of a comparison result: models table, k sweep, candidates, scaling variants, k-distance curve, silhouette knife, sampling note."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from pipeline.config import SCALINGS, Settings
from pipeline.segmentation import registry
from pipeline.segmentation.comparison.fitting import Fit, Plan, fit_model, scaled_matrix
from pipeline.segmentation.comparison.metrics import (
    labelling_metrics,
    mean_silhouette,
    silhouette_matrix,
    stability_fields,
)
from pipeline.segmentation.comparison.rule import MAX_NOISE_SHARE, MIN_SEGMENT_SHARE
from pipeline.segmentation.metrics import stratified_indices
from pipeline.segmentation.model import (
    eps_at_knee,
    kdistance_curve,
    knee_index,
    make_clusterer,
    predicts_natively,
)
from pipeline.segmentation.training import Dataset

SCALING_LABELS: Mapping[str, str] = MappingProxyType(
    {"standard": "Standard scaling", "log1p": "log1p + standard scaling", "yeo-johnson": "Yeo–Johnson power transform"}
)
#: Most points returned for plots.
KDISTANCE_MAX_POINTS = 500
KNIFE_MAX_POINTS = 2000


def sweep_rows(
    X: np.ndarray,
    plan: Plan,
    kmeans: Mapping[int, Fit],
    others: Mapping[tuple[str, int], np.ndarray],
    sil: Mapping[Any, np.ndarray],
    others_sil: Mapping[Any, np.ndarray],
) -> list[dict[str, Any]]:
    """KMeans rows (every used row), then the other models' rows (the base rows)."""
    rows = []
    for k, fit in kmeans.items():
        rows.append(_sweep_row("kmeans", k, X, fit.labels, sil[("kmeans", k)], fit.inertia, fit.stability))
    Xb = X[plan.base]
    for (name, k), labels in sorted(
        others.items(), key=lambda item: (registry.sweep_models().index(item[0][0]), item[0][1])
    ):
        rows.append(_sweep_row(name, k, Xb, labels, others_sil[(name, k)], None, ()))
    return rows


def _sweep_row(
    name: str,
    k: int,
    X: np.ndarray,
    labels: np.ndarray,
    sil: np.ndarray,
    inertia: float | None,
    stability: Sequence[float],
) -> dict[str, Any]:
    metrics = labelling_metrics(X, labels)
    silhouette, sil_rows = mean_silhouette(sil)
    stab = stability_fields(stability)
    return {
        "model": name,
        "label": registry.label(name),
        "k": k,
        "inertia": inertia,
        "silhouette": silhouette,
        "davies_bouldin": metrics["davies_bouldin"],
        "calinski_harabasz": metrics["calinski_harabasz"],
        "n_segments": metrics["n_segments"],
        "noise_share": metrics["noise_share"],
        "min_segment_share": metrics["min_segment_share"],
        "stability_mean": stab["stability_mean"],
        "stability_std": stab["stability_std"],
        "fit_rows": metrics["fit_rows"],
        "silhouette_rows": sil_rows,
        "predicts_natively": registry.spec(name).predicts_natively,
    }


def model_entry(fit: Fit, X: np.ndarray, sil: np.ndarray, plan: Plan, settings: Settings) -> dict[str, Any]:
    metrics = labelling_metrics(X, fit.labels)
    silhouette, sil_rows = mean_silhouette(sil)
    native = predicts_natively(make_clusterer(settings.replace(model=fit.model)))
    entry = {
        "name": fit.model,
        "label": registry.label(fit.model),
        "k": fit.k,
        "params": fit.params,
        "silhouette": silhouette,
        "silhouette_rows": sil_rows,
        **{key: metrics[key] for key in ("n_segments", "davies_bouldin", "calinski_harabasz")},
        **{key: metrics[key] for key in ("noise_share", "min_segment_share", "segment_shares")},
        "fit_seconds": fit.seconds,
        **stability_fields(fit.stability),
        "predicts_natively": native,
        "live_prediction": "native" if native else "nearest-centroid",
        "sampled_rows": metrics["fit_rows"],
    }
    entry["flags"], entry["notes"] = _flags(entry, plan)
    return entry


def _flags(entry: Mapping[str, Any], plan: Plan) -> tuple[list[str], list[str]]:
    flags, notes = [], []
    if entry["n_segments"] < 2:
        flags.append("one_segment")
        notes.append(f"Found {entry['n_segments']} segment(s); nothing to compare.")
    if entry["k"] is not None and 1 <= entry["n_segments"] < entry["k"]:
        flags.append("fewer_segments")
        notes.append(f"Found only {entry['n_segments']} segments for k = {entry['k']}.")
    if entry["noise_share"] and entry["noise_share"] > MAX_NOISE_SHARE:
        flags.append("noise")
        notes.append(f"{entry['noise_share']:.1%} of customers are left as noise (no segment).")
    if entry["n_segments"] >= 1 and entry["min_segment_share"] < MIN_SEGMENT_SHARE:
        flags.append("small_segment")
        notes.append(f"The smallest segment holds {entry['min_segment_share']:.1%} of customers.")
    if not entry["predicts_natively"]:
        flags.append("not_native")
        notes.append(
            "Cannot score new customers itself; offered for live prediction only through the nearest-centroid wrapper."
        )
    if entry["sampled_rows"] < plan.n_total:
        flags.append("sampled")
        notes.append(f"Fitted on {entry['sampled_rows']:,} of {plan.n_total:,} customers.")
    return flags, notes


def candidates(models: Sequence[Mapping[str, Any]], k_sweep: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rule step 1: every model at the chosen k, then KMeans at each other k of the sweep."""
    rows = [_candidate(m) for m in models]
    seen = {(r["model"], r["k"]) for r in rows}
    rows += [_candidate(r) for r in k_sweep if r["model"] == "kmeans" and ("kmeans", r["k"]) not in seen]
    return rows


def _candidate(row: Mapping[str, Any]) -> dict[str, Any]:
    """A models-table or k-sweep row in the form :func:`recommend` reads."""
    return {
        "model": row.get("name", row.get("model")),
        "label": row["label"],
        "k": row["k"] if row["k"] is not None else row["n_segments"],
        **{
            key: row[key]
            for key in (
                "silhouette",
                "stability_mean",
                "stability_std",
                "noise_share",
                "min_segment_share",
                "n_segments",
                "predicts_natively",
            )
        },
    }


def chosen_key(rec: Mapping[str, Any], fits: Mapping[str, Fit]) -> tuple[str, Any] | None:
    if rec["model"] is None:
        return None
    fit = fits[rec["model"]]
    if fit.k is None or fit.k == rec["k"]:
        return ("model", rec["model"])
    return (rec["model"], rec["k"])


def scaling_variants(
    dataset: Dataset, settings: Settings, X: np.ndarray, plan: Plan, compared: Fit, compared_sil: np.ndarray
) -> list[dict[str, Any]]:
    """KMeans at the chosen k under every scaling (the compared one reuses its fit)."""
    rows = []
    for scaling in SCALINGS:
        if scaling == settings.scaling:
            Xs, fit, sil = X, compared, compared_sil
        else:
            variant = settings.replace(scaling=scaling)
            Xs = scaled_matrix(dataset, variant)[plan.rows]
            fit = fit_model("kmeans", variant, Xs, plan)
            sil = silhouette_matrix(Xs, [fit.labels])[:, 0]
        metrics = labelling_metrics(Xs, fit.labels)
        silhouette, sil_rows = mean_silhouette(sil)
        rows.append(
            {
                "scaling": scaling,
                "label": SCALING_LABELS[scaling],
                "is_compared": scaling == settings.scaling,
                "model": "kmeans",
                "k": fit.k,
                "silhouette": silhouette,
                "silhouette_rows": sil_rows,
                **{key: metrics[key] for key in ("davies_bouldin", "calinski_harabasz", "n_segments")},
                **{key: metrics[key] for key in ("min_segment_share", "segment_shares")},
                "inertia": fit.inertia,
                **stability_fields(fit.stability),
                "agreement_with_compared": float(adjusted_rand_score(compared.labels, fit.labels)),
            }
        )
    return rows


def kdistance_plot(X: np.ndarray, dbscan: Fit) -> dict[str, Any]:
    """The k-distance curve DBSCAN's ``eps`` was read from, downsampled for plotting."""
    min_samples = int(dbscan.params["min_samples"])
    curve = kdistance_curve(X, min_samples)
    knee = knee_index(curve)
    idx = np.unique(
        np.concatenate([np.linspace(0, len(curve) - 1, KDISTANCE_MAX_POINTS - 1).round().astype(int), [knee]])
    )
    return {
        "min_samples": min_samples,
        "eps": eps_at_knee(curve),
        "knee_index": int(np.searchsorted(idx, knee)),
        "knee_rank": int(knee),
        "distances": [float(v) for v in curve[idx]],
        "ranks": [int(i) for i in idx],
        "rows": len(curve),
    }


def knife(
    rec: Mapping[str, Any], values: np.ndarray | None, labels: np.ndarray | None, settings: Settings
) -> dict[str, Any]:
    """Per-customer silhouettes of the recommended model, for a knife plot."""
    empty = {"model": rec.get("model"), "k": rec.get("k"), "values": [], "labels": [], "rows": 0, "mean": None}
    if values is None or labels is None:
        return empty
    keep = ~np.isnan(values)
    vals, labs = values[keep], labels[keep]
    if len(vals) == 0:
        return empty
    idx = stratified_indices(labs, KNIFE_MAX_POINTS, settings.random_state)
    order = np.lexsort((-vals[idx], labs[idx]))
    pick = idx[order]
    return {
        "model": rec["model"],
        "k": rec["k"],
        "scaling": rec["scaling"],
        "values": [float(v) for v in vals[pick]],
        "labels": [int(v) for v in labs[pick]],
        "rows": len(vals),
        "mean": float(vals.mean()),
        "segment_means": {str(int(s)): float(vals[labs == s].mean()) for s in np.unique(labs)},
    }


def sampling(plan: Plan, settings: Settings) -> dict[str, Any]:
    n, m = plan.n_total, len(plan.rows)
    b = len(plan.base)
    resamples = settings.bootstrap_resamples
    if m < n:
        message = (
            f"Computed on {m:,} of {n:,} customers (a sample stratified by KMeans segment; "
            f"every model and metric uses the same customers)."
        )
    else:
        message = f"Computed on all {n:,} customers."
    if len(plan.ward) < m:
        message += f" Agglomerative (Ward) fitted on {len(plan.ward):,} of them (its memory grows with the square)."
    message += f" Stability from {resamples} bootstrap resamples of {b:,} customers."
    return {
        "applied": bool(m < n or len(plan.ward) < m or b < m),
        "rows_used": m,
        "rows_total": n,
        "ward_rows": len(plan.ward),
        "stability_rows": b,
        "resamples": resamples,
        "message": message,
    }


def how_measured(models: Sequence[Mapping[str, Any]], plan: Plan, settings: Settings) -> str:
    """The "how measured" note: customers each model was fitted and scored on, and how the rest get labels.

    Parameters
    ----------
    models : sequence of dict
        The model entries (:func:`model_entry`: ``label``, ``sampled_rows``).
    plan : Plan
        The comparison's plan (``n_total`` customers, ``rows`` used).
    settings : Settings
        ``max_exact_rows``: the most rows the quadratic models are trained on.
    """
    n = plan.n_total
    by_rows: dict[int, list[str]] = {}
    for entry in models:
        by_rows.setdefault(int(entry["sampled_rows"]), []).append(str(entry["label"]))
    if set(by_rows) == {n}:
        return f"How measured: every model was fitted and scored on all {n:,} customers."
    groups = "; ".join(f"{_names(labels)} on {rows:,}" for rows, labels in sorted(by_rows.items(), reverse=True))
    note = (
        f"How measured: each model was fitted and scored on a sample of the {n:,} customers ({groups}); "
        "the scores and segment shares here are of those customers, the others are not scored."
    )
    caps: dict[int, list[str]] = {}  # training on all n: the most rows each model fits, when fewer than n
    whole = []
    for name in registry.model_names():
        cap = registry.spec(name).max_fit_rows(settings)
        if cap is not None and cap < n:
            caps.setdefault(cap, []).append(registry.label(name))
        else:
            whole.append(registry.label(name))
    parts = [f"{_names(whole)} {'is' if len(whole) == 1 else 'are'} fitted on all {n:,}"] if whole else []
    parts += [f"{_names(labels)} on {cap:,}" for cap, labels in caps.items()]
    note += f" Trained on this data, {_names(parts)}"
    if caps:
        note += ", and the labels of the rest are predicted (nearest segment centre)"
    return note + "."


def _names(labels: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def json_safe(value: Any) -> Any:
    """Plain JSON types only: numpy scalars converted, NaN and infinities → None."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value
