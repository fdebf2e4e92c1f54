"""Customer simulator (/simulator): what segment would this customer be in, and what would change it?

One slider and one numeric box per clustered feature (ranges and marks from
the data's percentiles), presets "typical customer of segment X", and on
every change: the predicted segment with its objective and actions, the
customer's measured chance of still being active (P(alive), from the
artifact's fitted BG/NBD model, with a "days since last purchase" input
where the data has recency) and expected value, how clear-cut the assignment is, the distance to every segment centre,
the customer's place among all customers in 3D PCA space, and the smallest
single-feature change that reaches each other segment.

Callbacks
---------
``build_controls``
    Session's artifact → sliders, boxes and preset buttons (and the id they
    were built for, in ``SIM_BUILT``).
``sync_feature``
    Slider ↔ numeric box of one feature (``MATCH``); clamps and explains bad input.
``apply_preset_or_move``
    Preset or "apply" button → all slider values.
``update_prediction``
    Slider values → segment, confidence, the text of the suggested moves and
    the expected value (no figures, so it paints at once), and the scored
    values and P(alive) in ``SIM_SCORED``.
``preset_recency``
    Preset button → "days since last purchase" at that segment's median.
``update_figures``
    ``SIM_SCORED`` → P(alive) gauge, distances, 3D position.  After the first full
    drawing for a model and theme, only ``dash.Patch`` updates are sent (the
    3D scatter's customers are not resent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qs

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import churn, ids
from dashboard.components import (
    actions_list,
    card,
    error_alert,
    fmt_money,
    graph,
    how_measured,
    not_measured,
    page_header,
)
from dashboard.figures.simulator import (
    activity_gauge_figure,
    activity_gauge_patch,
    distances_figure,
    distances_patch,
    pca_figure,
    pca_marker_patch,
    readable_colour,
)
from dashboard.services import ArtifactView, service, view
from pipeline.features.definitions import FEATURE_DEFINITIONS
from pipeline.segmentation.simulate import Simulation, feature_step, round_to_step

dash.register_page(__name__, path="/simulator", name="Simulator", title="Simulator · Customer Segments", order=4)

#: Percentiles marked under each slider, most important first (kept when marks would collide).
MARK_PERCENTILES: tuple[str, ...] = ("p50", "p5", "p95", "p25", "p75")
#: Marks closer than this share of the slider's width are dropped.
MIN_MARK_GAP = 0.14
#: Confidence (1 − nearest / runner-up distance) above which an assignment is "clear", and below which "borderline".
CLEAR_CONFIDENCE = 0.35
BORDERLINE_CONFIDENCE = 0.15
#: Height (px) of the distances chart for up to 5 segments.
DISTANCES_HEIGHT = 215


# --- feature controls ---------------------------------------------------------
class ControlSpec(NamedTuple):
    """How one feature's slider and box are set up.

    (A NamedTuple, not a dataclass: Dash executes page modules before they are
    in ``sys.modules``, which dataclasses need.)
    """

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


def _number(value: float, step: float) -> float | int:
    """A JSON number without float noise (whole steps as ints)."""
    r = round_to_step(value, step)
    return int(r) if step >= 1 and r == int(r) else r


def feature_control(spec: ControlSpec, value: float) -> html.Div:
    """Label, numeric box and slider of one feature."""
    unit_hint = {"": "", "$": "dollars"}.get(spec.unit, spec.unit)
    box = dbc.Input(
        id=ids.sim_input(spec.feature),
        type="number",
        value=_number(value, spec.step),
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
                        [
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
            dcc.Slider(
                id=ids.sim_slider(spec.feature),
                min=spec.lo,
                max=spec.hi,
                step=spec.step,
                value=_number(value, spec.step),
                marks={k: {"label": lab} for k, lab in spec.marks.items()},
                updatemode="drag",
                allow_direct_input=False,
                included=True,
                className="sim-slider",
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


def preset_buttons(v: ArtifactView) -> list[Any]:
    """Buttons to start from a typical customer of each segment, with the segment's colour dot."""
    buttons = [
        dbc.Button(
            [html.Span(className="segment-dot", style={"backgroundColor": s["colour"]}), s["name"]],
            id=ids.sim_preset(s["key"]),
            color="light",
            size="sm",
            className="sim-preset-btn",
            title=f"Set every slider to a typical {s['name']} customer",
            n_clicks=0,
        )
        for s in v.segments
    ]
    return [
        html.Div("Start from a typical customer of", className="small text-body-secondary mb-1"),
        html.Div(buttons, className="d-flex flex-wrap gap-1"),
    ]


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


# --- prediction text ------------------------------------------------------------
def confidence_level(confidence: float) -> str:
    """``"clear"``, ``"probable"`` or ``"borderline"`` (see :data:`CLEAR_CONFIDENCE`)."""
    if confidence >= CLEAR_CONFIDENCE:
        return "clear"
    return "probable" if confidence >= BORDERLINE_CONFIDENCE else "borderline"


def confidence_words(sim: Simulation, names: Mapping[str, str]) -> tuple[str, str]:
    """How clear-cut the assignment is, in words.

    Returns
    -------
    (headline, detail)
        ``("Clearly High-Value Loyal", "2.4× closer to its centre than to Low-Value's …")``
        or ``("Borderline between X and Y", …)``.
    """
    own_key = str(sim.segment["key"])
    own = names.get(own_key, own_key)
    if sim.runner_up is None:
        return f"Clearly {own}", "It is the only segment."
    runner = names.get(sim.runner_up, sim.runner_up)
    d_own, d_run = sim.distances[own_key], sim.distances[sim.runner_up]
    ratio = d_run / d_own if d_own > 0 else math.inf
    closer = "at its centre" if math.isinf(ratio) else f"{ratio:.1f}× closer to its centre than to {runner}'s"
    detail = f"{closer} (distance {d_own:.2f} vs {d_run:.2f})."
    level = confidence_level(sim.confidence)
    if level == "clear":
        return f"Clearly {own}", detail[0].upper() + detail[1:]
    if level == "probable":
        return f"Probably {own}, leaning towards {runner}", detail[0].upper() + detail[1:]
    return f"Borderline between {own} and {runner}", "Almost as close to both centres: " + detail


def values_signature(values: Mapping[str, float]) -> str:
    """``"Customer_Value=1230|…"``: which inputs the shown prediction is for (read by tests and the benchmark)."""
    return "|".join(f"{k}={float(v):g}" for k, v in values.items())


def result_block(sim: Simulation, values: Mapping[str, float], theme: str) -> html.Div:
    """Predicted segment in its colour, objective and recommended actions."""
    seg = sim.segment
    return html.Div(
        [
            html.Div("This customer belongs to", className="sim-eyebrow"),
            html.Div(
                [
                    html.Span(className="sim-dot", style={"backgroundColor": seg["colour"]}),
                    html.Span(
                        seg["name"],
                        id=ids.SIM_SEGMENT_NAME,
                        style={"color": readable_colour(seg["colour"], theme)},
                    ),
                ],
                className="sim-segment-name",
            ),
            html.Div(
                [html.Span("Objective ", className="text-body-secondary"), html.Strong(seg.get("objective", ""))],
                className="mb-2",
            ),
            html.Div("Recommended actions", className="sim-eyebrow mb-1"),
            actions_list(seg.get("actions", [])),
        ],
        className="sim-result-inner",
        style={"borderLeftColor": seg["colour"]},
        **{"data-values": values_signature(values), "data-segment": str(seg["key"])},
    )


def confidence_block(sim: Simulation, names: Mapping[str, str]) -> html.Div:
    """Confidence headline, bar and the distances behind it."""
    headline, detail = confidence_words(sim, names)
    level = confidence_level(sim.confidence)
    return html.Div(
        [
            html.Div(
                [
                    html.I(
                        className={
                            "clear": "bi bi-check-circle-fill text-success",
                            "probable": "bi bi-info-circle-fill text-primary",
                            "borderline": "bi bi-exclamation-circle-fill text-warning",
                        }[level]
                        + " me-2"
                    ),
                    html.Span(headline, className="fw-semibold"),
                ],
                className="d-flex align-items-center",
            ),
            dbc.Progress(
                value=round(sim.confidence * 100),
                className="sim-confidence-bar my-1",
                color={"clear": "success", "probable": "primary", "borderline": "warning"}[level],
                style={"height": "6px"},
            ),
            html.Div(detail, className="small text-body-secondary"),
        ],
        className=f"sim-confidence sim-confidence-{level}",
    )


MOVE_ROW = "sim-move d-flex align-items-center gap-2"


def moves_frame(v: ArtifactView) -> html.Ul:
    """One row per segment for "what would move this customer", built once per model.

    The rows and their "apply" buttons stay in place while the sliders move
    (only their text and visibility change, see :func:`move_outputs`), so the
    buttons are never re-created and never fire by themselves.
    """
    rows = [
        html.Li(
            [
                html.Span(className="segment-dot flex-shrink-0", style={"backgroundColor": s["colour"]}),
                html.Div(
                    [
                        html.Div(s["name"], className="fw-semibold sim-move-target"),
                        html.Div(id=ids.sim_move_text(s["key"]), className="sim-move-change small"),
                    ],
                    className="flex-grow-1 min-w-0",
                ),
                dbc.Button(
                    "Apply",
                    id=ids.sim_move(s["key"]),
                    size="sm",
                    color="secondary",
                    outline=True,
                    className="sim-move-apply",
                    title=f"Make this change and move the customer to {s['name']}",
                    n_clicks=0,
                ),
            ],
            id=ids.sim_move_row(s["key"]),
            className=MOVE_ROW,
        )
        for s in v.segments
    ]
    return html.Ul(rows, className="list-unstyled mb-0 d-grid gap-2")


def move_outputs(sim: Simulation, keys: Sequence[str]) -> tuple[list[str], list[str], list[bool]]:
    """Text, row class and "apply" disabled state for the move rows of ``keys``.

    The predicted segment's row is hidden; a segment no single change reaches
    says so and its button is disabled.
    """
    by_target = {m.target: m for m in sim.moves}
    texts, classes, disabled = [], [], []
    for key in keys:
        move = by_target.get(key)
        if key == sim.segment["key"] or move is None:
            texts.append("")
            classes.append("sim-move d-none")
            disabled.append(True)
            continue
        if move.feature is None:
            texts.append("No change to a single feature gets there.")
            disabled.append(True)
        else:
            texts.append(move.text.rsplit(" → ", 1)[0])
            disabled.append(False)
        classes.append(MOVE_ROW)
    return texts, classes, disabled


# --- layout -----------------------------------------------------------------------
def layout(**_query: str) -> html.Div:
    """Page frame; the controls are built for the session's model by :func:`build_controls`."""
    prediction = dbc.Card(
        dbc.CardBody(
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(id=ids.SIM_RESULT, className="sim-result"),
                            html.Div(id=ids.SIM_CONFIDENCE, className="mt-2"),
                        ],
                        md=7,
                    ),
                    dbc.Col(
                        [
                            graph(ids.SIM_GAUGE, "simulator-p-alive", height=175),
                            html.Div(id=ids.SIM_CHURN, className="sim-churn"),
                        ],
                        md=5,
                        className="sim-gauge",
                    ),
                ],
                className="g-2 align-items-start",
            )
        ),
        className="shadow-sm sim-prediction-card",
    )
    controls = card(
        "Customer profile",
        html.Div(
            [
                html.Div(id=ids.SIM_PRESET, className="mb-3 sim-presets"),
                html.Div(id=ids.SIM_CONTROLS, className="sim-controls"),
                html.P(
                    "Marks show the 5th, 25th, 50th, 75th and 95th percentiles of your customers "
                    "(close ones are merged). Type a value and press Enter to set it exactly.",
                    className="small text-body-secondary mb-0 mt-1",
                ),
            ]
        ),
        className="sim-controls-card",
        help_text="Drag a slider or type a value; the prediction updates as you go.",
    )
    return html.Div(
        [
            dcc.Store(id=ids.SIM_BUILT),
            dcc.Store(id=ids.SIM_SCORED),
            dcc.Store(id=ids.SIM_DRAWN),
            page_header(
                "Customer simulator",
                "Describe a customer and see which segment they fall into, how sure the model is, "
                "and the smallest change that would move them to another segment.",
                "sliders",
            ),
            dbc.Row(
                [
                    dbc.Col(controls, lg=4, className="sim-left"),
                    dbc.Col(
                        [
                            prediction,
                            dbc.Row(
                                [
                                    dbc.Col(
                                        card(
                                            "What would move this customer",
                                            html.Div(id=ids.SIM_MOVES),
                                            help_text="Smallest change to a single feature that reaches each other segment.",
                                        ),
                                        xl=6,
                                    ),
                                    dbc.Col(
                                        card(
                                            "Distance to each segment",
                                            graph(
                                                ids.SIM_DISTANCES_GRAPH,
                                                "simulator-segment-distances",
                                                height=DISTANCES_HEIGHT,
                                            ),
                                            help_text="The customer is assigned to the nearest centre.",
                                        ),
                                        xl=6,
                                    ),
                                ],
                                className="g-3 mt-0",
                            ),
                            html.Div(
                                card(
                                    "Where this customer sits among all customers",
                                    graph(ids.SIM_PCA_GRAPH, "simulator-pca-position", height=440),
                                    help_text="Every customer in the first three principal components, coloured by "
                                    "segment; the diamond is the simulated customer. Drag to rotate.",
                                ),
                                className="mt-3",
                            ),
                        ],
                        lg=8,
                    ),
                ],
                className="g-3",
            ),
        ],
        className="sim-page",
    )


# --- callbacks --------------------------------------------------------------------
def _query_segment(search: str | None) -> str | None:
    if not search:
        return None
    found = parse_qs(search.lstrip("?")).get("segment")
    return found[0] if found else None


@callback(
    Output(ids.SIM_CONTROLS, "children"),
    Output(ids.SIM_PRESET, "children"),
    Output(ids.SIM_MOVES, "children"),
    Output(ids.SIM_DISTANCES_GRAPH, "style"),
    Output(ids.SIM_BUILT, "data"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    State(ids.URL, "search"),
    State(ids.SIM_BUILT, "data"),
)
def build_controls(
    artifact_id: str | None, search: str | None, built: str | None
) -> tuple[Any, Any, Any, dict[str, str], str]:
    """Sliders, presets and move rows for the session's model (starting at ``?segment=<key>`` or the median customer)."""
    v = view(artifact_id)
    if built == v.id:
        raise PreventUpdate
    specs = control_specs(v)
    wanted = _query_segment(search)
    start = preset_values(v, wanted, specs) if wanted in v.segment_by_key else median_values(v, specs)
    controls = [feature_control(s, start[s.feature]) for s in specs]
    recency = recency_spec(v)
    if recency is not None:
        days = segment_recency(v, wanted) if wanted in v.segment_by_key else churn_defaults(v)[churn.RECENCY]
        controls += [
            html.Div("For the activity estimate only", className="sim-extra-label small text-body-secondary"),
            feature_control(recency, clamp(days, recency)),
        ]
    return controls, preset_buttons(v), moves_frame(v), distances_style(len(v.segments)), v.id


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


def distances_style(n_segments: int) -> dict[str, str]:
    """Height of the distances chart: room for every bar (up to 12 segments)."""
    return {"height": f"{max(DISTANCES_HEIGHT, 60 + 30 * n_segments)}px"}


def _spec_for(feature: str, lo: float, hi: float, step: float) -> ControlSpec:
    d = FEATURE_DEFINITIONS.get(feature)
    unit = d.unit if d else ("days" if feature == churn.RECENCY else "")
    return ControlSpec(feature, d.label if d else feature, unit, "", float(lo), float(hi), float(step), {})


@callback(
    Output(ids.sim_slider(MATCH), "value"),
    Output(ids.sim_input(MATCH), "value"),
    Output(ids.sim_input(MATCH), "invalid"),
    Output(ids.sim_feedback(MATCH), "children"),
    Input(ids.sim_slider(MATCH), "value"),
    Input(ids.sim_input(MATCH), "value"),
    State(ids.sim_slider(MATCH), "min"),
    State(ids.sim_slider(MATCH), "max"),
    State(ids.sim_slider(MATCH), "step"),
    prevent_initial_call=True,
)
def sync_feature(
    slider_value: float | None, box_value: Any, lo: float, hi: float, step: float
) -> tuple[Any, Any, bool, str]:
    """Keep one feature's slider and numeric box in step.

    Slider moved: the box shows its value.  Box edited: a number is clamped to
    the slider's range, rounded to its step and sent to the slider (with a
    note when it had to change); anything else marks the box invalid and
    leaves the slider where it was.
    """
    trigger = ctx.triggered_id
    if not isinstance(trigger, Mapping):
        raise PreventUpdate
    spec = _spec_for(str(trigger["index"]), lo, hi, step)
    if trigger["type"] == "sim-slider":
        if slider_value is None:
            raise PreventUpdate
        return no_update, _number(float(slider_value), spec.step), False, ""
    value, message = parse_box(box_value, spec)
    if value is None:
        return no_update, no_update, True, message
    shown = _number(value, spec.step)
    same = isinstance(box_value, int | float) and float(box_value) == float(shown)
    return shown, no_update if same else shown, False, message


@callback(
    Output(ids.sim_slider(ALL), "value", allow_duplicate=True),
    Input(ids.sim_preset(ALL), "n_clicks"),
    Input(ids.sim_move(ALL), "n_clicks"),
    State(ids.sim_slider(ALL), "value"),
    State(ids.sim_slider(ALL), "id"),
    State(ids.SIM_BUILT, "data"),
    prevent_initial_call=True,
)
def apply_preset_or_move(
    _presets: list[int | None],
    _moves: list[int | None],
    values: list[float | None],
    slider_ids: list[dict[str, str]],
    built: str | None,
) -> list[Any]:
    """A preset button sets every slider to that segment's typical customer; an
    "apply" button makes the suggested change to one feature."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, Mapping) or not any(t.get("value") for t in ctx.triggered):
        raise PreventUpdate
    v = view(built)
    specs = {s.feature: s for s in control_specs(v)}
    features = [i["index"] for i in slider_ids]
    if trigger["type"] == "sim-preset-button":
        if trigger["index"] not in v.segment_by_key:
            raise PreventUpdate
        target = preset_values(v, trigger["index"], [specs[f] for f in features if f in specs])
        recency = recency_spec(v)
        if recency is not None and recency.feature in features:
            specs[recency.feature] = recency
            target[recency.feature] = clamp(segment_recency(v, trigger["index"]), recency)
        return [_number(target[f], specs[f].step) if f in target else no_update for f in features]
    current = complete_values(v, slider_values(values, slider_ids))
    move = next((m for m in v.simulate(current).moves if m.target == trigger["index"]), None)
    if move is None or move.feature is None or move.delta is None:
        raise PreventUpdate
    new = current[move.feature] + move.delta
    return [_number(new, specs[f].step) if f == move.feature else no_update for f in features]


def slider_values(values: Sequence[Any], slider_ids: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Slider values keyed by feature (from an ``ALL`` input and its ids)."""
    return {str(i["index"]): value for i, value in zip(slider_ids, values, strict=False)}


def complete_values(v: ArtifactView, given: Mapping[str, Any]) -> dict[str, float]:
    """A value for every model feature: the given number, or the median when missing or not a number."""
    ranges = v.manifest["feature_ranges"]
    out = {}
    for f in v.features:
        try:
            number = float(given[f])
        except (KeyError, TypeError, ValueError):
            number = math.nan
        out[f] = number if math.isfinite(number) else float(ranges[f]["p50"])
    return out


@callback(
    Output(ids.SIM_RESULT, "children"),
    Output(ids.SIM_CONFIDENCE, "children"),
    Output(ids.sim_move_text(ALL), "children"),
    Output(ids.sim_move_row(ALL), "className"),
    Output(ids.sim_move(ALL), "disabled"),
    Output(ids.SIM_CHURN, "children"),
    Output(ids.SIM_SCORED, "data"),
    Input(ids.sim_slider(ALL), "value"),
    Input(ids.SIM_BUILT, "data"),
    Input(ids.THEME, "data"),
    State(ids.sim_slider(ALL), "id"),
)
def update_prediction(
    values: list[float | None], built: str | None, theme: str | None, slider_ids: list[dict[str, str]]
) -> tuple[Any, ...]:
    """Score the simulated customer: segment, confidence, suggested moves and expected value.

    Only text is sent here, so the prediction is painted without waiting for
    the charts; :func:`update_figures` follows from ``SIM_SCORED`` (which
    carries the P(alive) computed here, so it is computed once per change).
    """
    if not built:
        raise PreventUpdate
    theme = theme or "light"
    v = view(built)
    given = slider_values(values, slider_ids)
    current = complete_values(v, given)
    try:
        sim = v.simulate(current)
    except (KeyError, ValueError) as err:
        failed = error_alert(f"Cannot score this customer: {err}")
        return failed, "", no_update, no_update, no_update, no_update, no_update
    texts, classes, disabled = move_outputs(sim, _move_keys(v))
    estimate = churn_estimate(v, {**given, **current})
    scored = {"artifact": v.id, "theme": theme, "values": current, "churn": estimate}
    fixed = [col for col in churn.CHURN_INPUTS.values() if col not in current and col not in given]
    return (
        result_block(sim, current, theme),
        confidence_block(sim, v.names),
        texts,
        classes,
        disabled,
        churn_block(v, estimate, fixed),
        scored,
    )


def churn_block(v: ArtifactView, estimate: Mapping[str, float | None] | None, fixed: Sequence[str] = ()) -> html.Div:
    """Expected purchases and value over the horizon for this customer, and how they are measured.

    ``fixed``: inputs of the estimate without a slider, taken at the customers'
    median (said under the figures).  Without a churn model: "not measured" and why.
    """
    cm = churn.churn_model(v.manifest)
    if cm is None:
        return not_measured(churn.not_measured_reason(v.manifest))
    if estimate is None:
        return not_measured("These values cannot be scored by the activity model.", "Not estimated")
    months = churn.horizon_months(cm)
    clv, purchases = estimate.get("expected_clv"), estimate.get("expected_purchases")
    p_alive = float(estimate["p_alive"] or 0.0)
    if clv is not None:
        headline = [
            html.Div(f"Expected value, next {months} months", className="sim-eyebrow"),
            html.Div(fmt_money(clv), className="sim-clv"),
        ]
        detail = f"{purchases or 0:.1f} expected purchases"
    elif purchases is not None:
        headline = [
            html.Div(f"Expected purchases, next {months} months", className="sim-eyebrow"),
            html.Div(f"{purchases:.1f}", className="sim-clv"),
        ]
        detail = "expected value not measured (no spend model)"
    else:
        headline = [html.Div(f"Next {months} months", className="sim-eyebrow")]
        detail = "expected purchases and value: not measured for these values"
    return html.Div(
        [
            *headline,
            html.Div(detail, className="small", id=ids.SIM_CHURN_DETAIL),
            how_measured(churn.how_measured(cm, value=clv is not None) + median_note(v, fixed)),
        ],
        className="sim-churn-inner",
        **{"data-p-alive": f"{p_alive:.4f}"},
    )


def _move_keys(v: ArtifactView) -> list[str]:
    """Segment keys of the move rows on the page, in page order (display order outside a callback)."""
    try:
        rows = ctx.outputs_list[2]
    except Exception:  # called as a plain function (tests): rows are built in display order
        return [s["key"] for s in v.segments]
    return [str(r["id"]["index"]) for r in rows]


@callback(
    Output(ids.SIM_GAUGE, "figure"),
    Output(ids.SIM_DISTANCES_GRAPH, "figure"),
    Output(ids.SIM_PCA_GRAPH, "figure"),
    Output(ids.SIM_DRAWN, "data"),
    Input(ids.SIM_SCORED, "data"),
    State(ids.SIM_DRAWN, "data"),
)
def update_figures(scored: Mapping[str, Any] | None, drawn: str | None) -> tuple[Any, ...]:
    """P(alive) gauge, distances and the 3D position of the scored customer.

    The first time for a model and theme the figures are drawn in full; after
    that a slider change only sends ``dash.Patch`` updates (the gauge's value,
    the bars, and the one marker trace of the 3D scatter: the customers are
    not resent).
    """
    if not scored:
        raise PreventUpdate
    theme = str(scored.get("theme") or "light")
    v = view(scored.get("artifact"))
    try:
        sim = v.simulate(complete_values(v, scored.get("values") or {}))
    except (KeyError, ValueError, AttributeError):
        raise PreventUpdate from None
    seg = sim.segment
    revision = f"{v.id}|{theme}"
    estimate = scored.get("churn") or {}
    p_alive = estimate.get("p_alive") if isinstance(estimate, Mapping) else None
    threshold = churn.threshold(churn.churn_model(v.manifest))
    if drawn == revision:
        return (
            activity_gauge_patch(p_alive, threshold, theme),
            distances_patch(v.segments, sim.distances, str(seg["key"]), theme),
            pca_marker_patch(len(v.segments), sim.pcs, seg),
            no_update,
        )
    return (
        activity_gauge_figure(p_alive, threshold, theme),
        distances_figure(v.segments, sim.distances, str(seg["key"]), theme),
        pca_figure(
            v.customers,
            v.segments,
            sim.pcs,
            seg,
            theme,
            explained=v.manifest.get("pca", {}).get("explained_variance_ratio"),
            revision=v.id,
        ),
        revision,
    )
