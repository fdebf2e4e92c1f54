"""Simulator inputs: one slider per feature set up from the data, typical customers, the activity estimate.

Pure helpers of :mod:`dashboard.pages.simulator` (no callbacks): each
feature's slider range, step and percentile marks (:class:`ControlSpec`), the
median and "typical customer of a segment" values, checking a typed value,
and, where the artifact has a fitted churn model, the "days since last
purchase" input and this customer's P(alive), expected purchases and value
(closed form under the stored model: nothing is refitted while sliders move).
Per-artifact data (medians, recency percentiles) is computed once per process
through ``service().memo``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
import numpy as np
from dash import dcc, html

from dashboard import churn, ids
from dashboard.ids import dom_id
from dashboard.services import ArtifactView, service
from pipeline.features.definitions import FEATURE_DEFINITIONS
from pipeline.segmentation.simulate import feature_step, round_to_step

#: Percentiles marked under each slider, most important first (kept when marks would collide).
MARK_PERCENTILES: tuple[str, ...] = ("p50", "p5", "p95", "p25", "p75")
#: Marks closer than this share of the slider's width are dropped.
MIN_MARK_GAP = 0.14


# --- feature controls ---------------------------------------------------------
class ControlSpec(NamedTuple):
    """How one feature's slider and box are set up (range, step, percentile marks)."""

    feature: str
    label: str
    unit: str
    description: str
    lo: float
    hi: float
    step: float
    marks: dict[float, str]


def short_value(value: float, unit: str) -> str:
    """Compact value for slider marks: ``$1.2k``, ``$98``, ``1.5 y``, ``12``."""
    if unit == "$":
        if abs(value) >= 1e6:
            return f"${value / 1e6:.1f}M"
        if abs(value) >= 1000:
            return f"${value / 1000:.1f}k"
        return f"${value:,.0f}"
    if unit == "years":
        return f"{value:.1f} y"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:g}" if value == round(value) else f"{value:.1f}"


def full_value(value: float, unit: str, step: float = 1.0) -> str:
    """Value with its unit for sentences: ``$1,230``, ``1.5 years``, ``12 purchases``."""
    decimals = max(0, -math.floor(math.log10(step))) if 0 < step < 1 else 0
    number = f"{value:,.{decimals}f}"
    if unit == "$":
        return f"${number}"
    return f"{number} {unit}".strip()


def slider_marks(ranges: Mapping[str, float], lo: float, hi: float, unit: str) -> dict[float, str]:
    """Marks at the 5th/25th/50th/75th/95th percentiles, dropping ones that would overlap.

    The median is always kept; others are added in :data:`MARK_PERCENTILES`
    order when at least :data:`MIN_MARK_GAP` of the width from every kept mark.
    """
    span = hi - lo
    kept: dict[float, str] = {}
    for p in MARK_PERCENTILES:
        if p not in ranges:
            continue
        x = float(ranges[p])
        if not lo <= x <= hi or (span > 0 and any(abs(x - k) / span < MIN_MARK_GAP for k in kept)):
            continue
        kept[x] = short_value(x, unit)
    return dict(sorted(kept.items()))


def control_spec(feature: str, definition: Mapping[str, str], ranges: Mapping[str, float]) -> ControlSpec:
    """Slider range (data min..max, widened to whole steps), step and marks of one feature."""
    lo_data, hi_data = float(ranges["min"]), float(ranges["max"])
    step = feature_step(feature, lo_data, hi_data)
    lo = round_to_step(math.floor(lo_data / step + 1e-9) * step, step)
    hi = round_to_step(math.ceil(hi_data / step - 1e-9) * step, step)
    if hi <= lo:
        hi = round_to_step(lo + step, step)
    unit = definition.get("unit", "") or ""
    return ControlSpec(
        feature=feature,
        label=definition.get("label") or feature.replace("_", " "),
        unit=unit,
        description=definition.get("description", ""),
        lo=lo,
        hi=hi,
        step=step,
        marks=slider_marks(ranges, lo, hi, unit),
    )


def control_specs(v: ArtifactView) -> list[ControlSpec]:
    """One :class:`ControlSpec` per clustered feature, in model order."""
    ranges = v.manifest["feature_ranges"]
    return [control_spec(f, v.feature_defs.get(f, {}), ranges[f]) for f in v.features]


def recency_spec(v: ArtifactView) -> ControlSpec | None:
    """The "days since last purchase" control, when the churn model is fitted and recency is not a clustered feature.

    Its range and marks come from the customers' own recency (0 to the
    largest value, marks at the percentiles).  None when the data has no
    recency, no churn model, or recency already has a feature slider.
    """
    if churn.churn_model(v.manifest) is None or churn.RECENCY in v.features:
        return None
    stats = churn_defaults(v)
    if "recency_max" not in stats:
        return None
    hi = max(1.0, float(math.ceil(stats["recency_max"])))
    ranges = {p: stats[f"recency_{p}"] for p in MARK_PERCENTILES if f"recency_{p}" in stats}
    return ControlSpec(
        feature=churn.RECENCY,
        label="Days since last purchase",
        unit="days",
        description="Not used to place the customer in a segment: only for whether they are still active.",
        lo=0.0,
        hi=hi,
        step=1.0,
        marks=slider_marks(ranges, 0.0, hi, "days"),
    )


def churn_defaults(v: ArtifactView) -> dict[str, float]:
    """Medians of the churn inputs over the customers (for inputs without a slider), and recency's percentiles.

    Computed once per artifact and process (``service().memo``), never in a slider update.
    """

    def compute() -> dict[str, float]:
        out: dict[str, float] = {}
        for col in churn.CHURN_INPUTS.values():
            if col in v.customers:
                values = v.customers[col].astype("float64").dropna()
                if len(values):
                    out[col] = float(values.median())
        if churn.RECENCY in v.customers:
            rec = v.customers[churn.RECENCY].astype("float64").dropna()
            if len(rec):
                out["recency_max"] = float(rec.max())
                for p in MARK_PERCENTILES:
                    out[f"recency_{p}"] = float(rec.quantile(int(p[1:]) / 100))
        return out

    return service().memo("sim-churn-defaults", v.id, compute)


def churn_estimate(v: ArtifactView, values: Mapping[str, Any]) -> dict[str, float | None] | None:
    """This customer's P(alive), expected purchases and value, from the slider values (medians for the rest).

    Closed-form under the artifact's fitted model: nothing is refitted.  None
    when the artifact has no churn model (or the inputs cannot be scored).
    """
    cm = churn.churn_model(v.manifest)
    if cm is None:
        return None
    defaults = churn_defaults(v)
    inputs: dict[str, float] = {}
    for key, col in churn.CHURN_INPUTS.items():
        try:
            number = float(values[col])
        except (KeyError, TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            number = defaults.get(col, math.nan)
        if not math.isfinite(number):
            return None
        inputs[key] = number
    return churn.customer_estimate(cm, inputs)


def clamp(value: float, spec: ControlSpec) -> float:
    """``value`` rounded to the slider step and kept inside its range."""
    return min(spec.hi, max(spec.lo, round_to_step(value, spec.step)))


def number_on_step(value: float, step: float) -> float | int:
    """A JSON number without float noise (whole steps as ints)."""
    r = round_to_step(value, step)
    return int(r) if step >= 1 and r == int(r) else r


def feature_control(spec: ControlSpec, value: float) -> html.Div:
    """Label, numeric box and slider of one feature."""
    unit_hint = {"": "", "$": "dollars"}.get(spec.unit, spec.unit)
    box = dbc.Input(
        id=ids.sim_input(spec.feature),
        type="number",
        value=number_on_step(value, spec.step),
        step="any",
        debounce=True,
        size="sm",
        className="sim-box text-end",
        name=spec.feature,
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Label(
                        htmlFor=dom_id(ids.sim_input(spec.feature)),
                        children=[
                            html.Span(spec.label, className="fw-semibold"),
                            html.Span(unit_hint, className="text-body-secondary small"),
                        ],
                        title=spec.description,
                        className="sim-label mb-0",
                    ),
                    dbc.InputGroup(
                        [dbc.InputGroupText("$"), box] if spec.unit == "$" else [box],
                        size="sm",
                        className="sim-box-group",
                    ),
                ],
                className="d-flex justify-content-between align-items-center gap-2",
            ),
            html.Div(
                dcc.Slider(
                    id=ids.sim_slider(spec.feature),
                    min=spec.lo,
                    max=spec.hi,
                    step=spec.step,
                    value=number_on_step(value, spec.step),
                    marks={k: {"label": lab} for k, lab in spec.marks.items()},
                    updatemode="drag",
                    allow_direct_input=False,
                    included=True,
                    className="sim-slider",
                ),
                className="sim-slider-box",  # keeps the slider's height while its script loads (assets/simulator.css)
                **{"data-a11y-label": f"{spec.label} slider"},
            ),
            html.Div(id=ids.sim_feedback(spec.feature), className="sim-feedback small"),
        ],
        className="sim-control",
    )


def median_values(v: ArtifactView, specs: Sequence[ControlSpec] | None = None) -> dict[str, float]:
    """The median customer (each feature at its median), on the slider steps."""
    ranges = v.manifest["feature_ranges"]
    return {s.feature: clamp(float(ranges[s.feature]["p50"]), s) for s in specs or control_specs(v)}


def preset_values(v: ArtifactView, key: str, specs: Sequence[ControlSpec] | None = None) -> dict[str, float]:
    """A typical customer of segment ``key``: its centroid in original units, rounded to the slider steps.

    If rounding (or a non-linear scaling) moves the centroid out of its own
    segment, the member nearest to the centroid is used instead, so the preset
    always predicts ``key``.

    Raises
    ------
    KeyError
        Unknown segment key.
    """
    specs = list(specs or control_specs(v))
    seg = v.segment_by_key[key]
    centroid = {s.feature: clamp(float(seg["centroid"][s.feature]), s) for s in specs}
    if v.simulate(centroid).segment["key"] == key:
        return centroid
    members = v.customers.loc[v.customers["Segment"] == key, [s.feature for s in specs]]
    members = members.dropna()
    if members.empty:
        return centroid
    X = members.to_numpy(dtype=float)
    std = np.array([v.manifest["feature_ranges"][s.feature].get("std") or 1.0 for s in specs])
    c = np.array([float(seg["centroid"][s.feature]) for s in specs])
    order = np.argsort((((X - c) / std) ** 2).sum(axis=1))
    for i in order[:10]:
        candidate = {s.feature: clamp(float(X[i, j]), s) for j, s in enumerate(specs)}
        if v.simulate(candidate).segment["key"] == key:
            return candidate
    nearest = X[order[0]]
    return {s.feature: float(nearest[j]) for j, s in enumerate(specs)}


def parse_box(value: Any, spec: ControlSpec) -> tuple[float | None, str]:
    """Validate a numeric-box entry.

    Returns
    -------
    (value, message)
        ``value`` is None when the entry is not a number (the slider keeps
        its value); otherwise the entry clamped to the range and rounded to
        the step, with a message when it had to be changed.
    """
    lo, hi = full_value(spec.lo, spec.unit, spec.step), full_value(spec.hi, spec.unit, spec.step)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"Enter a number from {lo} to {hi}."
    if not math.isfinite(number):
        return None, f"Enter a number from {lo} to {hi}."
    if number < spec.lo:
        return spec.lo, f"Set to {lo}, the bottom of your customers' range."
    if number > spec.hi:
        return spec.hi, f"Set to {hi}, the top of your customers' range."
    return clamp(number, spec), ""


def median_note(v: ArtifactView, fixed: Sequence[str]) -> str:
    """`` Tenure: the customers' median, 0.6 years.``: inputs of the estimate that have no slider."""
    defaults = churn_defaults(v)
    parts = []
    for col in fixed:
        if col in defaults:
            d = FEATURE_DEFINITIONS.get(col)
            label = d.label if d else ("Days since last purchase" if col == churn.RECENCY else col)
            unit = d.unit if d else ("days" if col == churn.RECENCY else "")
            parts.append(f"{label} {full_value(defaults[col], unit, 0.1 if unit == 'years' else 1.0)}")
    return f" Taken at the customers' median: {', '.join(parts)}." if parts else ""


def segment_recency(v: ArtifactView, key: str) -> float:
    """Median days since last purchase of the segment's customers (all customers' median when it has none)."""

    def compute() -> dict[str, float]:
        rec = v.customers[[churn.RECENCY, "Segment"]].dropna()
        return {str(k): float(x) for k, x in rec.groupby("Segment")[churn.RECENCY].median().items()}

    by_segment = service().memo("sim-segment-recency", v.id, compute)
    return by_segment.get(key, churn_defaults(v)[churn.RECENCY])
