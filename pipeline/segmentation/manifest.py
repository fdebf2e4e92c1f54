"""The manifest entries that describe a trained segmentation, written the same way by every engine.

:func:`common_manifest` (creation time, versions, settings, model, features,
PCA, data quality), :func:`describe_segments` (the segment map: name, strategy,
size, value share, centroid, profile and measured churn of each segment) and
:func:`feature_ranges` (percentiles per feature, for the simulator's sliders).
:mod:`pipeline.segmentation.training` and :mod:`pipeline.engines.spark` both
build their manifests from them.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.config import Settings
from pipeline.data.quality import DataQualityReport
from pipeline.features.definitions import feature_definitions
from pipeline.segmentation.descriptive import CUSTOM_OBJECTIVE
from pipeline.segmentation.naming import SegmentName, standardised_centroids
from pipeline.store.artifacts import library_versions

if TYPE_CHECKING:
    from sklearn.decomposition import PCA

    from pipeline.churn.result import ChurnMeasurement

PC_COLUMNS = ("PC1", "PC2", "PC3")


def common_manifest(
    settings: Settings,
    *,
    n_segments: int,
    predicts: bool,
    kind: str,
    period: Any,
    pca: PCA,
    features: list[str],
    report: DataQualityReport,
) -> dict[str, Any]:
    """The manifest entries every engine writes the same way (creation time, versions, settings, model, features, PCA, data quality).

    Each engine adds what it measures itself: ``data``, ``metrics``, ``segments``,
    ``churn_model``, ``population`` and ``feature_ranges``.
    """
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "library_versions": library_versions(),
        "settings": settings.model_fields(),
        "settings_hash": settings.model_hash(),
        "model": {
            "name": settings.model,
            "scaling": settings.scaling,
            "k": settings.k,
            "n_segments": n_segments,
            "predicts_natively": predicts,
        },
        "features": [d.to_dict() for d in feature_definitions(settings.features, kind, period)],
        "pca": pca_manifest(pca, features),
        "data_quality": report.to_dict(),
    }


def pca_manifest(pca: PCA, features: list[str]) -> dict[str, Any]:
    """The manifest's ``pca`` entry: explained variance ratios and each component's loadings by feature.

    One writer for both engines (:mod:`pipeline.engines.spark` fills a scikit-learn ``PCA`` too).
    """
    return {
        "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "loadings": {
            PC_COLUMNS[j]: {f: float(pca.components_[j, i]) for i, f in enumerate(features)}
            for j in range(pca.n_components_)
        },
    }


def describe_segments(
    imputed: pd.DataFrame,
    customers: pd.DataFrame,
    names: list[SegmentName],
    churn: ChurnMeasurement | None = None,
) -> list[dict[str, Any]]:
    """The segment map: name, strategy, size, value share, profile and measured churn of each segment.

    ``churn`` gives each segment its ``churn`` figures
    (:class:`pipeline.churn.result.SegmentChurn`), or None when not measured.
    A segment's ``value_share`` is its part of the spend the data gives: a
    customer whose spend is missing adds nothing to it (the model places
    them with the median spend, but that spend was never measured), as in
    the Spark engine and the overview's total.
    """
    n = len(customers)
    value = measured_value(imputed, customers)
    total_value = float(value.sum()) if value is not None else 0.0
    profile_cols = [c for c in ("Age", "Income", "Children", "Recency", "Web_Visits", "Complain") if c in customers]
    z = standardised_centroids(imputed, customers["Cluster"].to_numpy())
    out = []
    for seg in sorted(names, key=lambda s: s.label):
        members = customers["Cluster"].to_numpy() == seg.label
        size = int(members.sum())
        entry = seg.to_dict()
        entry.update(
            {
                "size": size,
                "share": size / n if n else 0.0,
                "value_share": float(value[members].sum()) / total_value if total_value else None,
                "centroid": {f: float(imputed.loc[members, f].mean()) for f in imputed.columns},
                "centroid_z": {f: float(z.loc[seg.label, f]) for f in imputed.columns},
                "profile": {c: float(customers.loc[members, c].mean()) for c in profile_cols},
                "churn": segment_churn_entry(churn, members),
            }
        )
        if seg.objective == CUSTOM_OBJECTIVE:
            entry["actions"] = known_facts(imputed, members, entry)
        out.append(entry)
    return out


def measured_value(imputed: pd.DataFrame, customers: pd.DataFrame) -> pd.Series | None:
    """Each customer's spend as the data gives it (NaN where missing), or None when spend is not a feature."""
    if "Customer_Value" not in imputed:
        return None
    if "Customer_Value" in customers:
        return pd.to_numeric(customers["Customer_Value"], errors="coerce")
    return imputed["Customer_Value"]


def known_facts(imputed: pd.DataFrame, members: np.ndarray, entry: dict[str, Any]) -> list[str]:
    """What is known of a segment named from custom features: who, how many, what they are worth.

    The action is left to the user (the segment's note); worth is given only
    when a spend column is among the clustered features.
    """
    defs = {d.name: d for d in feature_definitions(tuple(imputed.columns))}
    z = entry["centroid_z"]
    who = []
    for f in sorted(imputed.columns, key=lambda c: -abs(z[c]))[:3]:
        d = defs[f]
        if d.unit == "share":
            who.append(f"{d.label} {imputed.loc[members, f].mean():.0%} (all customers: {imputed[f].mean():.0%})")
        else:
            unit = f" {d.unit}" if d.unit else ""
            seg_mean, all_mean = imputed.loc[members, f].mean(), imputed[f].mean()
            who.append(f"{d.label} {seg_mean:,.3g}{unit} on average (all customers: {all_mean:,.3g}{unit})")
    worth = (
        f"Worth: {entry['value_share']:.0%} of total spend."
        if entry.get("value_share") is not None
        else "Worth: not measured (no spend column is among the clustered features)."
    )
    return [
        "Who: " + "; ".join(who) + ".",
        f"How many: {entry['size']:,} customers, {entry['share']:.0%} of all.",
        worth,
    ]


def segment_churn_entry(churn: ChurnMeasurement | None, members: np.ndarray) -> dict[str, float | None] | None:
    """The ``churn`` entry of a segment: its members' figures (:meth:`ChurnMeasurement.segment`), or None."""
    figures = churn.segment(members) if churn is not None else None
    return figures.to_dict() if figures is not None else None


def feature_ranges(imputed: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Percentiles per feature, for slider ranges and ticks."""
    qs = {
        "min": 0.0,
        "p1": 0.01,
        "p5": 0.05,
        "p25": 0.25,
        "p50": 0.5,
        "p75": 0.75,
        "p95": 0.95,
        "p99": 0.99,
        "max": 1.0,
    }
    out = {}
    for f in imputed.columns:
        col = imputed[f]
        values = col.quantile(list(qs.values())).to_numpy()  # one sort per feature, not one per percentile
        out[f] = {k: float(v) for k, v in zip(qs, values, strict=True)}
        out[f].update({"mean": float(col.mean()), "std": float(col.std(ddof=0))})
    return out
