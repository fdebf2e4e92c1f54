"""The segment-assignments table: who is in which segment, how clearly, and what to do about them.

One row per customer: ``ID``, ``Segment_Key``, ``Segment_Name``,
``Assignment_Confidence`` (:func:`pipeline.segmentation.simulate.assignment_confidence`,
the simulator's definition), ``p_alive`` and ``expected_clv`` where the churn
model measured them (NaN otherwise, with ``Not_Measured_Reason`` saying why),
``Recommended_Action`` (the segment's objective and actions from the
manifest), ``Model_Version`` (artifact id), ``As_Of`` (the data's as-of date),
then the clustered feature values the model saw (before imputation) and
``Customer_Value`` (spend in the data's period) when the data has it.

:func:`artifact_assignments` builds it for the customers an artifact was
trained on (the app's downloads); :func:`score_assignments` for a new data
set scored with a saved model (``python -m pipeline score``).
:func:`segment_summary` aggregates any such table per segment (size, shares,
measured churn), and :func:`assignment_export` packs table, summary and
per-segment sheets for :mod:`pipeline.data.export`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.data.export import Sheet, TableExport
from pipeline.features.definitions import ID_COLUMN
from pipeline.segmentation.simulate import assignment_confidence, centre_distances

if TYPE_CHECKING:
    from pipeline.segmentation.training import Dataset
    from pipeline.store.artifacts import LoadedArtifact

#: The assignment columns, in order (the clustered features follow).
COLUMNS: tuple[str, ...] = (
    ID_COLUMN,
    "Segment_Key",
    "Segment_Name",
    "Assignment_Confidence",
    "p_alive",
    "expected_clv",
    "Not_Measured_Reason",
    "Recommended_Action",
    "Model_Version",
    "As_Of",
)
#: Rows per block when computing distances to the segment centres.
CHUNK_ROWS = 50_000
#: P(alive) below this counts as likely inactive when the manifest does not say.
DEFAULT_THRESHOLD = 0.5
NO_CHURN_MODEL = "not measured: this model has no churn model"
NOT_MEASURED_CUSTOMER = "not measured for this customer: a purchase count, date or days since last purchase is missing"
NO_SPEND_MODEL = "expected_clv not measured: the model has no usable spend model for this data"
SPEND_COLUMN = "Customer_Value"
HOW_CONFIDENCE = (
    "Assignment confidence = 1 − (distance to the customer's segment centre ÷ distance to the nearest other "
    "segment centre), in the scaled feature space the model clusters in; 1 = at the centre, 0 = on the boundary."
)


def recommended_action(segment: Mapping[str, Any]) -> str:
    """``"Maximise lifetime value: VIP rewards programme; Personal account contact"`` from a manifest segment."""
    objective = str(segment.get("objective") or "").strip()
    actions = "; ".join(str(a) for a in segment.get("actions") or [])
    return f"{objective}: {actions}" if objective and actions else objective or actions


def churn_threshold(manifest: Mapping[str, Any]) -> float:
    """The manifest's P(alive) threshold for "likely inactive" (0.5 when not stated)."""
    value = (manifest.get("churn_model") or {}).get("inactive_threshold")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else DEFAULT_THRESHOLD


def not_measured_reasons(p_alive: np.ndarray, expected_clv: np.ndarray, table_reason: str | None) -> list[str | None]:
    """Per row: why ``p_alive`` / ``expected_clv`` is blank (None where both are measured).

    Parameters
    ----------
    p_alive, expected_clv : ndarray
        The measured values (NaN = not measured).
    table_reason : str or None
        Why nothing could be measured on the whole table (no churn model, or
        the data lacks what it needs); None when the table could be measured.
    """
    out: list[str | None] = []
    for p, c in zip(np.asarray(p_alive, float), np.asarray(expected_clv, float), strict=True):
        if np.isnan(p):
            out.append(table_reason or NOT_MEASURED_CUSTOMER)
        elif np.isnan(c):
            out.append(NO_SPEND_MODEL)
        else:
            out.append(None)
    return out


def assignment_table(
    artifact: LoadedArtifact,
    customers: pd.DataFrame,
    segment_keys: Sequence[str],
    p_alive: np.ndarray,
    expected_clv: np.ndarray,
    as_of: dt.date,
    table_reason: str | None = None,
) -> pd.DataFrame:
    """The assignments table of ``customers`` (see the module docstring).

    Parameters
    ----------
    artifact : LoadedArtifact
        The model (its pipeline, scaled segment centres and segment map).
    customers : DataFrame
        One row per customer with ``ID`` and the model's features (or the raw
        columns they are computed from).
    segment_keys : sequence of str
        The segment key each row is assigned to, in row order.
    p_alive, expected_clv : ndarray
        The churn model's figures per row (NaN where not measured).
    as_of : date
        The as-of date of ``customers``.
    table_reason : str, optional
        Why ``p_alive`` could not be measured on the whole table.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, then the clustered features in model order and
        ``Customer_Value`` if not among them.

    Raises
    ------
    KeyError
        A segment key the model does not have.
    """
    from pipeline.segmentation.model import scaled  # scikit-learn: when a model is applied, not at import

    manifest = artifact.manifest
    ordered = sorted(manifest["segments"], key=lambda s: int(s["label"]))
    position = {str(s["key"]): i for i, s in enumerate(ordered)}
    by_key = {str(s["key"]): s for s in ordered}
    keys = [str(k) for k in segment_keys]
    own = np.array([position[k] for k in keys], dtype=int)
    pipe = artifact.bundle["pipeline"]
    features = [str(f["name"]) for f in manifest["features"]]
    Z = scaled(pipe, customers) if len(customers) else np.zeros((0, len(features)))
    centres = artifact.bundle["centroids_scaled"]
    # In chunks: the rows × segments × features differences of a million customers would not fit in memory.
    confidence = np.concatenate(
        [np.zeros(0)]
        + [
            assignment_confidence(centre_distances(Z[i : i + CHUNK_ROWS], centres), own[i : i + CHUNK_ROWS])
            for i in range(0, len(Z), CHUNK_ROWS)
        ]
    )
    p = np.asarray(p_alive, dtype=float)
    clv = np.asarray(expected_clv, dtype=float)
    actions = {k: recommended_action(s) for k, s in by_key.items()}
    table = pd.DataFrame(
        {
            ID_COLUMN: customers[ID_COLUMN].to_numpy(),
            "Segment_Key": keys,
            "Segment_Name": [str(by_key[k]["name"]) for k in keys],
            "Assignment_Confidence": confidence,
            "p_alive": p,
            "expected_clv": clv,
            "Not_Measured_Reason": not_measured_reasons(p, clv, table_reason),
            "Recommended_Action": [actions[k] for k in keys],
            "Model_Version": str(manifest["artifact_id"]),
            "As_Of": pd.Series([as_of] * len(keys), dtype=object),
        }
    )
    extra = [SPEND_COLUMN] if SPEND_COLUMN not in features else []
    for f in [*features, *extra]:
        if f in customers.columns:
            table[f] = pd.to_numeric(customers[f], errors="coerce").to_numpy(dtype=float)
    return table


def _table_reason(manifest: Mapping[str, Any]) -> str | None:
    churn = manifest.get("churn_model")
    if isinstance(churn, Mapping) and churn.get("model"):
        return None
    reason = str((churn or {}).get("reason") or "").strip() if isinstance(churn, Mapping) else ""
    return reason or NO_CHURN_MODEL


def artifact_assignments(artifact: LoadedArtifact) -> pd.DataFrame:
    """The assignments table of the customers ``artifact`` was trained on (the app's downloads)."""
    customers = artifact.customers
    manifest = artifact.manifest
    n = len(customers)
    nan = np.full(n, np.nan)
    return assignment_table(
        artifact,
        customers,
        customers["Segment"].astype(str).tolist(),
        customers["p_alive"].to_numpy(dtype=float) if "p_alive" in customers else nan,
        customers["expected_clv"].to_numpy(dtype=float) if "expected_clv" in customers else nan,
        dt.date.fromisoformat(str(manifest["data"]["as_of"])),
        _table_reason(manifest),
    )


def score_assignments(
    artifact: LoadedArtifact, dataset: Dataset, value_settings: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The assignments table of a new data set scored with ``artifact`` (``python -m pipeline score``).

    Segments, ``p_alive`` and ``expected_clv`` come from
    :func:`pipeline.segmentation.training.score`; when the churn model cannot
    be applied to this data, ``Not_Measured_Reason`` says why.
    """
    from pipeline.churn.inputs import NotMeasured, churn_inputs
    from pipeline.segmentation.training import score

    scored = score(artifact, dataset, dict(value_settings or {}))
    reason = _table_reason(artifact.manifest)
    if reason is None:
        inputs = churn_inputs(dataset.customers, dataset.kind, dataset.as_of)
        if isinstance(inputs, NotMeasured):
            reason = inputs.reason
    return assignment_table(
        artifact,
        dataset.customers,
        scored["Segment_Key"].tolist(),
        scored["p_alive"].to_numpy(dtype=float),
        scored["expected_clv"].to_numpy(dtype=float),
        dataset.as_of,
        reason,
    )


def segment_summary(table: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Per segment of an assignments table: size, shares and measured churn, largest first.

    Columns: ``Segment_Key``, ``Segment_Name``, ``Customers``,
    ``Share_of_Customers``, ``Share_of_Spend`` (NaN without a
    ``Customer_Value`` column), ``Mean_Confidence``, ``Measured_Customers``
    (with a ``p_alive``), ``Share_Likely_Inactive`` (``p_alive`` below
    ``threshold`` among them), ``Mean_p_alive``, ``Expected_CLV``,
    ``Value_at_Risk`` (expected CLV of the likely inactive) and
    ``Recommended_Action``; churn figures are NaN where nothing was measured.
    """
    n = len(table)
    spend = table[SPEND_COLUMN] if SPEND_COLUMN in table else None
    total_spend = float(spend.sum()) if spend is not None else 0.0
    rows = []
    for key, members in table.groupby("Segment_Key", sort=False):
        p = members["p_alive"].to_numpy(dtype=float)
        clv = members["expected_clv"].to_numpy(dtype=float)
        measured = ~np.isnan(p)
        inactive = measured & (p < threshold)
        valued = ~np.isnan(clv)
        rows.append(
            {
                "Segment_Key": key,
                "Segment_Name": members["Segment_Name"].iloc[0],
                "Customers": len(members),
                "Share_of_Customers": len(members) / n,
                "Share_of_Spend": float(spend[members.index].sum()) / total_spend if total_spend else np.nan,
                "Mean_Confidence": float(members["Assignment_Confidence"].mean()),
                "Measured_Customers": int(measured.sum()),
                "Share_Likely_Inactive": float(inactive.sum() / measured.sum()) if measured.any() else np.nan,
                "Mean_p_alive": float(p[measured].mean()) if measured.any() else np.nan,
                "Expected_CLV": float(clv[valued].sum()) if valued.any() else np.nan,
                "Value_at_Risk": float(clv[inactive & valued].sum()) if valued.any() else np.nan,
                "Recommended_Action": members["Recommended_Action"].iloc[0],
            }
        )
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return out.sort_values(["Customers", "Segment_Key"], ascending=[False, True], ignore_index=True)


SUMMARY_COLUMNS: tuple[str, ...] = (
    "Segment_Key",
    "Segment_Name",
    "Customers",
    "Share_of_Customers",
    "Share_of_Spend",
    "Mean_Confidence",
    "Measured_Customers",
    "Share_Likely_Inactive",
    "Mean_p_alive",
    "Expected_CLV",
    "Value_at_Risk",
    "Recommended_Action",
)

#: How each column is shown in a spreadsheet (see :data:`pipeline.data.export.NUMBER_FORMATS`).
COLUMN_KINDS: dict[str, str] = {
    "Assignment_Confidence": "probability",
    "p_alive": "probability",
    "expected_clv": "money",
    "As_Of": "date",
    "Customer_Value": "money",
    "Customers": "integer",
    "Measured_Customers": "integer",
    "Share_of_Customers": "probability",
    "Share_of_Spend": "probability",
    "Mean_Confidence": "probability",
    "Share_Likely_Inactive": "probability",
    "Mean_p_alive": "probability",
    "Expected_CLV": "money",
    "Value_at_Risk": "money",
}


@dataclasses.dataclass(frozen=True)
class AssignmentScope:
    """Which customers an export holds: all, or the members of some segments.

    Attributes
    ----------
    segments : tuple of str or None
        Segment keys (None: every customer).
    label : str
        Words for titles and file names ("All customers", "High-Value Loyal", "3 segments").
    """

    segments: tuple[str, ...] | None = None
    label: str = "All customers"

    def rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``table`` in this scope (a new frame, index reset)."""
        if self.segments is None:
            return table.reset_index(drop=True)
        return table.loc[table["Segment_Key"].isin(self.segments)].reset_index(drop=True)


def summary_notes(manifest: Mapping[str, Any], table: pd.DataFrame, scope: AssignmentScope) -> tuple[str, ...]:
    """The lines under the summary sheet: what the file holds and how each figure is measured."""
    data = manifest.get("data") or {}
    churn = manifest.get("churn_model") or {}
    notes = [
        f"{scope.label}: {len(table):,} customers of {data.get('name', 'the data')}, as of {data.get('as_of', '?')}; "
        f"model version {manifest.get('artifact_id', '?')}.",
        "Shares are of the customers in this file. Share of spend = the segment's Customer_Value "
        "(spend in the data's period) ÷ the file's total."
        if SPEND_COLUMN in table
        else "Share of spend is not measured: the data has no customer value.",
        HOW_CONFIDENCE,
    ]
    if churn.get("model"):
        notes.append(str(churn.get("how_measured") or "p_alive and expected_clv from the model's churn model."))
    else:
        notes.append(f"p_alive and expected_clv: {_table_reason(manifest)}.")
    return tuple(notes)


def assignment_export(
    manifest: Mapping[str, Any], table: pd.DataFrame, scope: AssignmentScope | None = None
) -> TableExport:
    """Table, summary sheet, all customers and one sheet per segment, for :func:`pipeline.data.export.export_bytes`.

    With a single segment the "All customers" sheet is left out (the
    segment's sheet holds them all).

    Parameters
    ----------
    manifest : mapping
        The model's manifest (threshold, names, how churn is measured).
    table : DataFrame
        An assignments table (:func:`assignment_table`).
    scope : AssignmentScope, optional
        Which rows to keep (default: all).
    """
    scope = scope or AssignmentScope()
    rows = scope.rows(table)
    summary = segment_summary(rows, churn_threshold(manifest))
    sheets = [Sheet("Summary", summary, notes=summary_notes(manifest, rows, scope))]
    if len(summary) != 1:  # one segment: its sheet is every customer already
        sheets.append(Sheet("All customers", rows))
    for key, name in zip(summary["Segment_Key"], summary["Segment_Name"], strict=True):
        sheets.append(Sheet(str(name), rows.loc[rows["Segment_Key"] == key].reset_index(drop=True)))
    return TableExport(table=rows, sheets=tuple(sheets), column_kinds=COLUMN_KINDS)


__all__ = [
    "COLUMNS",
    "SUMMARY_COLUMNS",
    "AssignmentScope",
    "artifact_assignments",
    "assignment_export",
    "assignment_table",
    "recommended_action",
    "score_assignments",
    "segment_summary",
]
