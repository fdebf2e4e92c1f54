"""The executive report's numbers, computed once from a model version.

:func:`build_story` turns a :class:`~pipeline.store.artifacts.LoadedArtifact`
(its signed manifest and scored customer table) into one frozen
:class:`ReportStory`.  The HTML, PDF and PowerPoint renderers only format
what is in it, so the three outputs cannot disagree.  Every figure comes
from the manifest (measured at training time) or from the scored table; a
figure that was not measured is ``None`` and the story says why, never an
assumed value.

Formats: percentages are whole percents (:func:`pct`, the same rounding as
``python -m pipeline train``), counts have thousands separators.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipeline.churn.result import PopulationChurn, population_churn

#: Profile attributes shown against the average, in this order, when the data has them.
PROFILE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Age", "Age", "years"),
    ("Income", "Income", "$"),
    ("Children", "Children at home", ""),
    ("Recency", "Days since last purchase", "days"),
    ("Web_Visits", "Web visits a month", ""),
    ("Complain", "Complained (share)", ""),
)
NOT_MEASURED = "not measured"


def pct(value: float | None) -> str:
    """A share as a whole percent (``0.177 -> "18%"``); ``"n/a"`` for None."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.0%}"


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{int(value):,}"


def amount(value: float | None, unit: str = "") -> str:
    """A measured quantity with its unit (``$1,702``, ``37.5 purchases``); ``"n/a"`` for None."""
    if value is None or not math.isfinite(value):
        return "n/a"
    digits = 0 if abs(value) >= 100 or unit == "$" else (2 if abs(value) < 10 else 1)
    text = f"{value:,.{digits}f}"
    if unit == "$":
        return f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return f"{text} {unit}".strip()


@dataclasses.dataclass(frozen=True)
class SegmentRisk:
    """A segment's measured churn figures (BG/NBD and Gamma-Gamma, at training time).

    Attributes
    ----------
    share_likely_inactive : float
        Share of members whose probability of still being active is below the threshold.
    mean_p_alive : float
        Mean probability of still being active.
    mean_clv, value_at_risk : float or None
        Mean expected lifetime value, and the expected value of the likely
        inactive members (None without a spend model).
    """

    share_likely_inactive: float
    mean_p_alive: float
    mean_clv: float | None
    value_at_risk: float | None


@dataclasses.dataclass(frozen=True)
class ProfileRow:
    """One attribute of a segment against the average customer."""

    name: str
    label: str
    unit: str
    segment: float
    average: float
    clustered: bool

    @property
    def ratio(self) -> float | None:
        """Segment value over the average (None when the average is 0)."""
        return self.segment / self.average if self.average else None


@dataclasses.dataclass(frozen=True)
class SegmentStory:
    """One segment's page.

    ``risk`` is None when churn was not measured; ``risk_note`` then says why.
    """

    key: str
    name: str
    colour: str
    size: int
    share: float
    value_share: float | None
    risk: SegmentRisk | None
    risk_note: str
    objective: str
    actions: tuple[str, ...]
    evidence: str
    profile: tuple[ProfileRow, ...]
    note: str = ""

    @property
    def title(self) -> str:
        """The page title as a sentence: ``"New / Occasional: 29% of customers, 5% of spend"``."""
        spend = f", {pct(self.value_share)} of spend" if self.value_share is not None else ""
        return f"{self.name}: {pct(self.share)} of customers{spend}"

    @property
    def size_text(self) -> str:
        """``"654 customers (29%)"``."""
        return f"{count(self.size)} customers ({pct(self.share)})"

    @property
    def risk_text(self) -> str:
        """The measured risk in one sentence, or why it was not measured."""
        if self.risk is None:
            return f"Churn risk {NOT_MEASURED}: {self.risk_note}"
        r = self.risk
        text = f"{pct(r.share_likely_inactive)} likely inactive (mean probability of being active {r.mean_p_alive:.2f})"
        if r.value_at_risk is not None:
            text += f"; value at risk {amount(r.value_at_risk, '$')} of expected lifetime value"
        return text + "."


@dataclasses.dataclass(frozen=True)
class PriorityPoint:
    """A segment in the priority matrix: ``x`` churn risk (or share of customers), ``y`` share of spend."""

    name: str
    colour: str
    x: float
    y: float
    size: int


@dataclasses.dataclass(frozen=True)
class PriorityMatrix:
    """Segments by risk and value; ``x_label``/``y_label`` say what the axes measure."""

    points: tuple[PriorityPoint, ...]
    x_label: str
    y_label: str
    note: str


@dataclasses.dataclass(frozen=True)
class ActFirst:
    """One entry of "where to act first", ranked by ``basis``."""

    rank: int
    name: str
    reason: str
    first_action: str


@dataclasses.dataclass(frozen=True)
class Kpi:
    """A headline number of the title page: ``value`` with its ``label`` and a short ``note``."""

    label: str
    value: str
    note: str


@dataclasses.dataclass(frozen=True)
class FeatureNote:
    """A clustered feature: label, formula and meaning."""

    label: str
    formula: str
    description: str


@dataclasses.dataclass(frozen=True)
class Method:
    """How the numbers were made, and what the loader fixed."""

    features: tuple[FeatureNote, ...]
    model: str
    scaling: str
    k: int
    silhouette: float | None
    silhouette_rows: int | None
    stability: str
    churn: str
    churn_assumptions: tuple[str, ...]
    rows_read: int
    rows_kept: int
    rows_dropped: int
    values_fixed: int
    values_imputed: int
    rows_flagged: int
    quality_items: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ReportStory:
    """Everything the executive report shows, computed once.

    Attributes
    ----------
    brand : str
        Brand name shown on the title page and in footers ("Customer segments" by default).
    dataset, as_of, model_version, model_made, made_on : str
        Data set name, its as-of date, the model version id, when the model
        was trained, and when this report was made (ISO dates).
    n_customers, n_segments : int
    period : str
        The period the data covers.
    glance : tuple of str
        The at-a-glance sentences (customers, segments, value concentration, measured risk).
    kpis : tuple of Kpi
        The same facts as headline numbers.
    churn_measured : bool
    segments : tuple of SegmentStory
        Largest share of spend first.
    priority : PriorityMatrix
    act_first : tuple of ActFirst
    act_first_basis : str
    method : Method
    """

    brand: str
    dataset: str
    as_of: str
    model_version: str
    model_made: str
    made_on: str
    n_customers: int
    n_segments: int
    period: str
    glance: tuple[str, ...]
    kpis: tuple[Kpi, ...]
    churn_measured: bool
    segments: tuple[SegmentStory, ...]
    priority: PriorityMatrix
    act_first: tuple[ActFirst, ...]
    act_first_basis: str
    method: Method

    @property
    def footer(self) -> str:
        """The text every page's footer carries: data set and model version."""
        return f"Data: {self.dataset} (as of {self.as_of}) · Model version: {self.model_version}"

    @property
    def title(self) -> str:
        """The report's title."""
        return f"{self.brand}: {self.n_segments} segments of {count(self.n_customers)} customers"

    @property
    def overview_title(self) -> str:
        """The sentence over the size-versus-value chart."""
        top = self.segments[0]
        if top.value_share is None:
            return f"{self.n_segments} segments of {count(self.n_customers)} customers"
        return f"{top.name} holds {pct(top.value_share)} of spend with {pct(top.share)} of customers"


def _finite(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def segment_risk(churn: Mapping[str, Any] | None) -> SegmentRisk | None:
    """A segment's measured churn figures from its manifest entry (None when not measured)."""
    if not churn:
        return None
    share, p_alive = _finite(churn.get("share_likely_inactive")), _finite(churn.get("mean_p_alive"))
    if share is None or p_alive is None:
        return None
    return SegmentRisk(share, p_alive, _finite(churn.get("mean_clv")), _finite(churn.get("value_at_risk")))


def profile_rows(
    segment: Mapping[str, Any],
    population: Mapping[str, float],
    features: Sequence[Mapping[str, Any]],
    customers: pd.DataFrame,
) -> tuple[ProfileRow, ...]:
    """A segment against the average customer: clustered features first, then profile attributes.

    Clustered features compare the segment's centroid with the population
    mean (both after median imputation, from the manifest); profile
    attributes compare the segment's mean with the mean over all customers
    of the scored table (missing values left out of both).
    """
    rows = []
    centroid = segment.get("centroid") or {}
    for f in features:
        name = f["name"]
        if name in centroid and name in population:
            rows.append(
                ProfileRow(name, f.get("label", name), f.get("unit", ""), centroid[name], population[name], True)
            )
    for name, label, unit in PROFILE_COLUMNS:
        value = _finite((segment.get("profile") or {}).get(name))
        if value is None or name in centroid or name not in customers:
            continue
        average = _finite(pd.to_numeric(customers[name], errors="coerce").mean())
        if average is not None:
            rows.append(ProfileRow(name, label, unit, value, average, False))
    return tuple(rows)


def _segments(
    manifest: Mapping[str, Any], customers: pd.DataFrame, reason: str, notes: Mapping[str, str]
) -> tuple[SegmentStory, ...]:
    out = []
    for s in manifest["segments"]:
        risk = segment_risk(s.get("churn"))
        out.append(
            SegmentStory(
                key=str(s["key"]),
                name=str(s["name"]),
                colour=str(s.get("colour") or "#555555"),
                size=int(s["size"]),
                share=float(s["share"]),
                value_share=_finite(s.get("value_share")),
                risk=risk,
                risk_note="measured" if risk else reason,
                objective=str(s.get("objective") or ""),
                actions=tuple(str(a) for a in s.get("actions") or ()),
                evidence=str(s.get("evidence") or ""),
                profile=profile_rows(s, manifest.get("population") or {}, manifest.get("features") or [], customers),
                note=str(notes.get(str(s["key"])) or "").strip(),
            )
        )
    return tuple(sorted(out, key=lambda g: (-(g.value_share or 0.0), -g.size, g.name)))


def population(segments: Sequence[SegmentStory], customers: pd.DataFrame, threshold: float) -> PopulationChurn | None:
    """All customers' churn figures: from each customer's ``p_alive`` (:func:`pipeline.churn.result.population_churn`).

    A table without ``p_alive`` (a model saved before it was kept per
    customer) falls back to the segments' shares weighted by their sizes,
    which counts every member as measured.
    """
    if "p_alive" in customers.columns:
        clv = customers["expected_clv"].to_numpy() if "expected_clv" in customers.columns else None
        return population_churn(customers["p_alive"].to_numpy(), clv, threshold)
    risky = [s for s in segments if s.risk]
    n = sum(s.size for s in risky)
    if not risky or n == 0:
        return None
    n_inactive = sum(s.risk.share_likely_inactive * s.size for s in risky)
    at_risk = [s.risk.value_at_risk for s in risky]
    return PopulationChurn(
        n_customers=n,
        n_measured=n,
        n_likely_inactive=round(n_inactive),
        share_likely_inactive=n_inactive / n,
        value_at_risk=None if any(v is None for v in at_risk) else float(np.sum(at_risk)),
        total_clv=None,
    )


def _glance(
    segments: Sequence[SegmentStory], n: int, churn: Mapping[str, Any], pop: PopulationChurn | None
) -> tuple[str, ...]:
    lines = [f"{count(n)} customers in {len(segments)} segments."]
    valued = [s for s in segments if s.value_share is not None]
    if valued:
        top = valued[0]
        lines.append(f"{top.name} holds {pct(top.value_share)} of spend with {pct(top.share)} of customers.")
    else:
        lines.append(f"Value concentration {NOT_MEASURED}: the data has no customer spend.")
    if pop is not None:
        below = f"probability of being active below {churn.get('inactive_threshold', 0.5):g}"
        if pop.n_not_measured:
            text = (
                f"{pct(pop.share_likely_inactive)} of the {count(pop.n_measured)} customers whose activity could be "
                f"measured are likely inactive ({below}); {count(pop.n_not_measured)} could not be measured"
            )
        else:
            text = f"{pct(pop.share_likely_inactive)} of customers are likely inactive ({below})"
        if pop.value_at_risk is not None:
            text += (
                f"; {amount(pop.value_at_risk, '$')} of expected lifetime value over "
                f"{churn.get('horizon_months')} months is at risk"
            )
        lines.append(text + ".")
    else:
        lines.append(f"Churn risk {NOT_MEASURED}: {churn.get('reason') or 'no churn model in this version'}.")
    return tuple(lines)


def _kpis(
    segments: Sequence[SegmentStory], n: int, churn: Mapping[str, Any], pop: PopulationChurn | None
) -> tuple[Kpi, ...]:
    out = [Kpi("Customers", count(n), "in the data set"), Kpi("Segments", str(len(segments)), "found by the model")]
    valued = [s for s in segments if s.value_share is not None]
    if valued:
        out.append(Kpi("Value concentration", pct(valued[0].value_share), f"of spend in {valued[0].name}"))
    if pop is not None:
        of = f"of the {count(pop.n_measured)} customers measured" if pop.n_not_measured else "of customers (measured)"
        out.append(Kpi("Likely inactive", pct(pop.share_likely_inactive), of))
        if pop.value_at_risk is not None:
            out.append(
                Kpi(
                    "Value at risk",
                    amount(pop.value_at_risk, "$"),
                    f"expected over {churn.get('horizon_months')} months",
                )
            )
    else:
        out.append(Kpi("Churn risk", NOT_MEASURED, str(churn.get("reason") or "no churn model")))
    return tuple(out)


def _priority(segments: Sequence[SegmentStory], measured: bool) -> PriorityMatrix:
    spend = any(s.value_share is not None for s in segments)

    def y(s: SegmentStory) -> float:  # share of spend; share of customers when spend is not measured
        return (s.value_share or 0.0) if spend else s.share

    y_label = "Share of spend" if spend else "Share of customers (spend not measured)"
    if measured:
        points = tuple(
            PriorityPoint(s.name, s.colour, s.risk.share_likely_inactive, y(s), s.size) for s in segments if s.risk
        )
        note = (
            "Top right: much of the spend and a high measured risk of losing it. Bubble area: customers."
            if spend
            else "The data has no customer spend, so the matrix shows measured risk against size. Bubble area: customers."
        )
        return PriorityMatrix(points, "Share of customers likely inactive (measured)", y_label, note)
    if not spend:
        return PriorityMatrix(
            (),
            "Share of customers",
            y_label,
            "Neither churn risk nor spend is measured for this data: no matrix to draw.",
        )
    points = tuple(PriorityPoint(s.name, s.colour, s.share, y(s), s.size) for s in segments)
    return PriorityMatrix(
        points,
        "Share of customers",
        "Share of spend",
        "Churn risk was not measured, so the matrix shows size against value only. Bubble area: customers.",
    )


def _act_first(segments: Sequence[SegmentStory], measured: bool) -> tuple[tuple[ActFirst, ...], str]:
    def first(s: SegmentStory) -> str:
        return s.actions[0] if s.actions else s.objective

    with_var = [s for s in segments if s.risk and s.risk.value_at_risk is not None]
    if measured and with_var:
        ranked = sorted(with_var, key=lambda s: -s.risk.value_at_risk)
        basis = "Ranked by measured value at risk: expected lifetime value of the customers likely to be inactive."
        return tuple(
            ActFirst(
                i + 1,
                s.name,
                f"{amount(s.risk.value_at_risk, '$')} at risk; {pct(s.risk.share_likely_inactive)} likely inactive",
                first(s),
            )
            for i, s in enumerate(ranked)
        ), basis
    if any(s.value_share is not None for s in segments):
        basis = (
            "Ranked by share of spend, because churn risk was not measured for this data (no value at risk to rank by)."
            if not measured
            else "Ranked by share of spend (no spend model, so no value at risk)."
        )
        ranked = sorted(segments, key=lambda s: -(s.value_share or 0.0))
        return tuple(
            ActFirst(i + 1, s.name, f"{pct(s.value_share)} of spend, {pct(s.share)} of customers", first(s))
            for i, s in enumerate(ranked)
        ), basis
    if measured:
        basis = "Ranked by measured likely inactive customers: the data has no customer spend (no value at risk)."
        ranked = sorted(segments, key=lambda s: -((s.risk.share_likely_inactive if s.risk else 0.0) * s.size))
        return tuple(
            ActFirst(
                i + 1,
                s.name,
                f"{pct(s.risk.share_likely_inactive)} likely inactive, {pct(s.share)} of customers"
                if s.risk
                else f"{pct(s.share)} of customers; churn risk {NOT_MEASURED}",
                first(s),
            )
            for i, s in enumerate(ranked)
        ), basis
    basis = "Ranked by size: neither churn risk nor spend is measured for this data."
    ranked = sorted(segments, key=lambda s: -s.size)
    return tuple(ActFirst(i + 1, s.name, f"{pct(s.share)} of customers", first(s)) for i, s in enumerate(ranked)), basis


def _method(manifest: Mapping[str, Any], churn: Mapping[str, Any], measured: bool) -> Method:
    metrics = manifest.get("metrics") or {}
    model = manifest.get("model") or {}
    dq = manifest.get("data_quality") or {}
    stability = manifest.get("stability")
    if isinstance(stability, Mapping) and _finite(stability.get("mean_ari")) is not None:
        stability_text = f"mean adjusted Rand index {float(stability['mean_ari']):.2f} across refits"
    else:
        stability_text = f"{NOT_MEASURED} in this model version (the model comparison page measures it across refits)"
    rows = _finite(metrics.get("silhouette_rows"))
    return Method(
        features=tuple(
            FeatureNote(str(f.get("label", f["name"])), str(f.get("formula", "")), str(f.get("description", "")))
            for f in manifest.get("features") or []
        ),
        model=str(model.get("name", "")),
        scaling=str(model.get("scaling", "")),
        k=int(model.get("k", 0)),
        silhouette=_finite(metrics.get("silhouette")),
        silhouette_rows=int(rows) if rows is not None else None,
        stability=stability_text,
        churn=str(
            churn.get("how_measured") if measured else f"{NOT_MEASURED}: {churn.get('reason') or 'no churn model'}"
        ),
        churn_assumptions=tuple(str(a) for a in churn.get("assumptions") or ()) if measured else (),
        rows_read=int(dq.get("rows_read", 0)),
        rows_kept=int(dq.get("rows_kept", 0)),
        rows_dropped=int(dq.get("rows_dropped", 0)),
        values_fixed=int(dq.get("values_fixed", 0)),
        values_imputed=int(dq.get("values_imputed", 0)),
        rows_flagged=int(dq.get("rows_flagged", 0)),
        quality_items=tuple(str(i.get("message", "")) for i in dq.get("items") or ()),
    )


def build_story(
    manifest: Mapping[str, Any],
    customers: pd.DataFrame,
    brand: str | None = None,
    made_on: dt.date | None = None,
    notes: Mapping[str, str] | None = None,
) -> ReportStory:
    """The report's numbers from a model version's manifest and scored customer table.

    Parameters
    ----------
    manifest : mapping
        An authenticated artifact manifest (:func:`pipeline.store.artifacts.load_artifact`).
    customers : DataFrame
        The artifact's scored customer table (profile averages come from it).
    brand : str, optional
        Brand name for the title and footers.
    made_on : date, optional
        The report's date (default: today).
    notes : mapping of str to str, optional
        The owner's note per segment key (:func:`pipeline.store.notes.segment_notes`), shown
        on the segment's page as written by the team.

    Returns
    -------
    ReportStory
    """
    data = manifest.get("data") or {}
    churn = manifest.get("churn_model") or {}
    measured = churn.get("model") is not None
    reason = str(churn.get("reason") or "no churn model in this version")
    segments = _segments(manifest, customers, reason, notes or {})
    measured = measured and any(s.risk for s in segments)
    n = int(data.get("n_customers", sum(s.size for s in segments)))
    act_first, basis = _act_first(segments, measured)
    pop = population(segments, customers, float(churn.get("inactive_threshold", 0.5))) if measured else None
    return ReportStory(
        brand=(brand or "").strip() or "Customer segments",
        dataset=str(data.get("name", "")),
        as_of=str(data.get("as_of", "")),
        model_version=str(manifest.get("artifact_id", "")),
        model_made=str(manifest.get("created_at", ""))[:10],
        made_on=(made_on or dt.date.today()).isoformat(),
        n_customers=n,
        n_segments=len(segments),
        period=str((data.get("period") or {}).get("text", "")),
        glance=_glance(segments, n, churn, pop),
        kpis=_kpis(segments, n, churn, pop),
        churn_measured=measured,
        segments=segments,
        priority=_priority(segments, measured),
        act_first=act_first,
        act_first_basis=basis,
        method=_method(manifest, churn, measured),
    )
