"""Customer simulator (/simulator): what segment would this customer be in, and what would change it?

One slider and one numeric box per clustered feature (ranges and marks from
the data's percentiles), presets "typical customer of segment X", and on
every change: the predicted segment with its objective and actions, the
customer's measured chance of still being active (P(alive), from the
artifact's fitted BG/NBD model, with a "days since last purchase" input
where the data has recency) and expected value, how clear-cut the assignment is, the distance to every segment centre,
the customer's place on a map of all customers (the first two principal
components), and the smallest
single-feature change that reaches each other segment.

The page arrives with its first customer scored and drawn (:func:`layout`,
:func:`first_state`: the same functions as the callbacks), so it makes no
round trip when it appears; the callbacks run on later changes.

Callbacks
---------
``build_controls``
    Session's artifact changed → sliders, boxes and preset buttons (and the
    id they were built for, in ``SIM_BUILT``).
``sync_feature``
    Numeric box → its slider (``MATCH``, on Enter or leaving the box); clamps
    and explains bad input.  Slider → box is a clientside callback.
``apply_preset_or_move``
    Preset or "apply" button → all slider values.
``update_prediction``
    Slider values → segment, confidence, the text of the suggested moves, the
    expected value and what the three charts change (one round trip per
    slider step); the charts' changes are applied in the browser
    (``UPDATE_CHARTS_JS``: ``Plotly.react`` on the drawn figures' own
    objects, so the map's customers are neither resent nor re-plotted).
    When the charts are not drawn yet for the model and theme, it asks for
    a full drawing instead (``SIM_DRAW``).
``redraw_figures``
    ``SIM_DRAW`` → P(alive) gauge, distances, customer map in full (the
    first drawing for another model or theme, after the prediction's text is
    painted).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import dash
import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import churn, ids
from dashboard.components import (
    card,
    error_alert,
    graph,
    page_header,
)
from dashboard.first_render import fill_in, session_choice
from dashboard.services import ArtifactView, view
from dashboard.simulator_charts import UPDATE_CHARTS_JS, chart_revision, chart_updates, full_figures
from dashboard.simulator_inputs import (
    ControlSpec,
    churn_defaults,
    churn_estimate,
    clamp,
    control_specs,
    feature_control,
    median_values,
    number_on_step,
    parse_box,
    preset_values,
    recency_spec,
    segment_recency,
)
from dashboard.simulator_results import churn_block, confidence_block, move_outputs, moves_frame, result_block
from pipeline.features.definitions import FEATURE_DEFINITIONS
from pipeline.segmentation.simulate import Simulation

dash.register_page(
    __name__,
    path="/simulator",
    name="Simulator",
    title="Simulator · Customer Segments",
    order=4,
    description="Describe a customer and see which segment they fall into, how sure the model is, and what would move them.",
)

DISTANCES_HEIGHT = 215


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


# --- layout -----------------------------------------------------------------------
def layout(segment: str | None = None, **kwargs: Any) -> html.Div:
    """The page for the session's model and theme, with its first customer scored and drawn.

    ``segment`` (from ``?segment=<key>``) starts from that segment's typical
    customer.  The values are those :func:`build_controls`,
    :func:`update_prediction` and :func:`redraw_figures` would send (the same
    functions build them), so the page needs no round trip after it arrives
    (:mod:`dashboard.first_render`); the callbacks run on later changes.
    """
    artifact_id, theme = session_choice(kwargs)
    return fill_in(page_frame(), first_state(view(artifact_id), segment, theme))


def first_state(v: ArtifactView, segment: str | None, theme: str) -> dict[tuple[str, str], Any]:
    """``(component id, property) → value`` of the page for ``v``: controls, the scored customer, the three figures."""
    controls, given = controls_for(v, segment)
    values: dict[tuple[str, str], Any] = {
        (ids.SIM_CONTROLS, "children"): controls,
        (ids.SIM_PRESET, "children"): preset_buttons(v),
        (ids.SIM_DISTANCES_GRAPH, "style"): distances_style(len(v.segments)),
        (ids.SIM_BUILT, "data"): v.id,
    }
    scored = scored_customer(v, given, theme)
    try:
        sim = v.simulate(scored["values"])
    except (KeyError, ValueError) as err:
        return {**values, (ids.SIM_MOVES, "children"): moves_frame(v), (ids.SIM_RESULT, "children"): cannot_score(err)}
    result, confidence, activity = text_outputs(v, sim, scored, given, theme)
    gauge, distances, customer_map, revision = full_figures(v, sim, scored)
    return {
        **values,
        (ids.SIM_MOVES, "children"): moves_frame(v, sim),
        (ids.SIM_RESULT, "children"): result,
        (ids.SIM_CONFIDENCE, "children"): confidence,
        (ids.SIM_CHURN, "children"): activity,
        (ids.SIM_GAUGE, "figure"): gauge,
        (ids.SIM_DISTANCES_GRAPH, "figure"): distances,
        (ids.SIM_PCA_GRAPH, "figure"): customer_map,
        (ids.SIM_DRAWN, "data"): revision,
    }


def page_frame() -> html.Div:
    """The page's components, before their values are filled in."""
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
                # A fill gate (assets/app.css): the sliders and the note below appear with the presets, in place.
                html.Div(id=ids.SIM_PRESET, className="mb-3 sim-presets fill-gate"),
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
            dcc.Store(id=ids.SIM_DRAWN),
            dcc.Store(id=ids.SIM_CHART_UPDATE),
            dcc.Store(id=ids.SIM_DRAW),
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
                                className="g-3 mt-0 sim-after-prediction",
                            ),
                            html.Div(
                                card(
                                    "Where this customer sits among all customers",
                                    graph(ids.SIM_PCA_GRAPH, "simulator-pca-position", height=440),
                                    help_text="Every customer placed by the two combinations of the measures that "
                                    "separate customers most (the first two principal components: what drives each is "
                                    "in the axis titles), coloured by segment; the diamond is the simulated customer. "
                                    "The 3D explorer shows a third component.",
                                ),
                                className="mt-3 sim-after-prediction",
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
    prevent_initial_call=True,  # the layout builds them first
)
def build_controls(
    artifact_id: str | None, search: str | None, built: str | None
) -> tuple[Any, Any, Any, dict[str, str], str]:
    """Sliders, presets and move rows for the session's model, when it changes on the page (starting at
    ``?segment=<key>`` or the median customer); the new controls' values then score the customer again."""
    v = view(artifact_id)
    if built == v.id:
        raise PreventUpdate
    controls, _values = controls_for(v, _query_segment(search))
    return controls, preset_buttons(v), moves_frame(v), distances_style(len(v.segments)), v.id


def controls_for(v: ArtifactView, segment: str | None) -> tuple[list[Any], dict[str, float]]:
    """The sliders and boxes for ``v``'s features and their values (as the sliders hold them: on their step).

    They start at segment ``segment``'s typical customer when ``v`` has it,
    else at the median customer; "days since last purchase" follows when the
    activity model is fitted.
    """
    specs = control_specs(v)
    start = preset_values(v, segment, specs) if segment in v.segment_by_key else median_values(v, specs)
    controls: list[Any] = [feature_control(s, start[s.feature]) for s in specs]
    values = {s.feature: number_on_step(start[s.feature], s.step) for s in specs}
    recency = recency_spec(v)
    if recency is not None:
        days = segment_recency(v, segment) if segment in v.segment_by_key else churn_defaults(v)[churn.RECENCY]
        controls += [
            html.Div("For the activity estimate only", className="sim-extra-label small text-body-secondary"),
            feature_control(recency, clamp(days, recency)),
        ]
        values[recency.feature] = number_on_step(clamp(days, recency), recency.step)
    return controls, values


def distances_style(n_segments: int) -> dict[str, str]:
    """Height of the distances chart: room for every bar (up to 12 segments)."""
    return {"height": f"{max(DISTANCES_HEIGHT, 60 + 30 * n_segments)}px"}


def _spec_for(feature: str, lo: float, hi: float, step: float) -> ControlSpec:
    d = FEATURE_DEFINITIONS.get(feature)
    unit = d.unit if d else ("days" if feature == churn.RECENCY else "")
    return ControlSpec(feature, d.label if d else feature, unit, "", float(lo), float(hi), float(step), {})


clientside_callback(
    """function (value, step, box) {
        // Slider moved: the box shows its value on the slider's step (as number_on_step does), in the
        // browser: the prediction does not wait for a server round trip that only mirrors the slider.
        if (value === null || value === undefined || !Number.isFinite(Number(value))) {
            throw window.dash_clientside.PreventUpdate;
        }
        const decimals = step < 1 ? Math.max(0, -Math.floor(Math.log10(step))) : 0;
        const shown = Number((Math.round(value / step) * step).toFixed(decimals));
        // The box already says so (it moved the slider): keep its note ("Set to $2,600, the top ...").
        if (box !== null && box !== '' && Number(box) === shown) { throw window.dash_clientside.PreventUpdate; }
        return [shown, false, ''];
    }""",
    Output(ids.sim_input(MATCH), "value"),
    Output(ids.sim_input(MATCH), "invalid"),
    Output(ids.sim_feedback(MATCH), "children"),
    Input(ids.sim_slider(MATCH), "value"),
    State(ids.sim_slider(MATCH), "step"),
    State(ids.sim_input(MATCH), "value"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.sim_slider(MATCH), "value"),
    Output(ids.sim_input(MATCH), "value", allow_duplicate=True),
    Output(ids.sim_input(MATCH), "invalid", allow_duplicate=True),
    Output(ids.sim_feedback(MATCH), "children", allow_duplicate=True),
    Input(ids.sim_input(MATCH), "n_submit"),
    Input(ids.sim_input(MATCH), "n_blur"),
    State(ids.sim_input(MATCH), "value"),
    State(ids.sim_slider(MATCH), "value"),
    State(ids.sim_slider(MATCH), "min"),
    State(ids.sim_slider(MATCH), "max"),
    State(ids.sim_slider(MATCH), "step"),
    prevent_initial_call=True,
)
def sync_feature(
    _submits: int | None,
    _blurs: int | None,
    box_value: Any,
    slider_value: float | None,
    lo: float,
    hi: float,
    step: float,
) -> tuple[Any, Any, bool, str]:
    """A number typed in a feature's box (Enter or leaving the box) moves its slider.

    The number is clamped to the slider's range and rounded to its step (with
    a note when it had to change); anything else marks the box invalid and
    leaves the slider where it was.  The other direction (slider moved → box)
    is a clientside callback, so a slider change runs no server callback
    before the prediction's.
    """
    trigger = ctx.triggered_id
    if not isinstance(trigger, Mapping):
        raise PreventUpdate
    spec = _spec_for(str(trigger["index"]), lo, hi, step)
    value, message = parse_box(box_value, spec)
    if value is None:
        return no_update, no_update, True, message
    shown = number_on_step(value, spec.step)
    same = isinstance(box_value, int | float) and float(box_value) == float(shown)
    unmoved = slider_value is not None and float(slider_value) == float(shown)
    # Leaving a box without changing it does not re-score the same customer.
    return no_update if unmoved else shown, no_update if same else shown, False, message


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
        return [number_on_step(target[f], specs[f].step) if f in target else no_update for f in features]
    current = complete_values(v, slider_values(values, slider_ids))
    move = next((m for m in v.simulate(current).moves if m.target == trigger["index"]), None)
    if move is None or move.feature is None or move.delta is None:
        raise PreventUpdate
    new = current[move.feature] + move.delta
    return [number_on_step(new, specs[f].step) if f == move.feature else no_update for f in features]


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
    Output(ids.SIM_CHART_UPDATE, "data"),
    Output(ids.SIM_DRAW, "data"),
    Input(ids.sim_slider(ALL), "value"),
    Input(ids.SIM_BUILT, "data"),
    Input(ids.THEME, "data"),
    State(ids.sim_slider(ALL), "id"),
    State(ids.SIM_DRAWN, "data"),
    prevent_initial_call=True,  # the layout scores the first customer
)
def update_prediction(
    values: list[float | None],
    built: str | None,
    theme: str | None,
    slider_ids: list[dict[str, str]],
    drawn: str | None = None,
) -> tuple[Any, ...]:
    """Score the simulated customer: segment, confidence, suggested moves, expected value, and the charts' updates.

    One round trip per slider step: the text, and what the three charts change
    (:func:`chart_updates`, applied in the browser by :data:`UPDATE_CHARTS_JS`
    once the text is painted).  When the charts are not drawn yet for this
    model and theme (``drawn``), a drawing is asked for instead (``SIM_DRAW``:
    :func:`redraw_figures` sends the full figures after the text is on the page).
    """
    if not built:
        raise PreventUpdate
    theme = theme or "light"
    v = view(built)
    given = slider_values(values, slider_ids)
    scored = scored_customer(v, given, theme)
    current = scored["values"]
    try:
        sim = v.simulate(current)
    except (KeyError, ValueError) as err:
        return cannot_score(err), "", no_update, no_update, no_update, no_update, no_update, no_update
    texts, classes, disabled = move_outputs(sim, _move_keys(v))
    result, confidence, activity = text_outputs(v, sim, scored, given, theme)
    revision = chart_revision(v, theme)
    return (
        result,
        confidence,
        texts,
        classes,
        disabled,
        activity,
        chart_updates(v, sim, scored) if drawn == revision else no_update,
        no_update if drawn == revision else {"revision": revision, "values": current},
    )


def cannot_score(err: Exception) -> Any:
    """What the prediction box says when the customer cannot be scored."""
    return error_alert(f"Cannot score this customer: {err}")


def text_outputs(
    v: ArtifactView, sim: Simulation, scored: Mapping[str, Any], given: Mapping[str, Any], theme: str
) -> tuple[Any, Any, Any]:
    """The prediction, how clear-cut it is, and the activity estimate (with the inputs taken at the median)."""
    current = scored["values"]
    fixed = [col for col in churn.CHURN_INPUTS.values() if col not in current and col not in given]
    return (
        result_block(sim, shown_values(current, given), theme),
        confidence_block(sim, v.names),
        churn_block(v, scored["churn"], fixed),
    )


def scored_customer(v: ArtifactView, given: Mapping[str, Any], theme: str) -> dict[str, Any]:
    """What both the prediction and the figures need: the features (completed) and the activity estimate."""
    current = complete_values(v, given)
    return {"artifact": v.id, "theme": theme, "values": current, "churn": churn_estimate(v, {**given, **current})}


def shown_values(current: Mapping[str, float], given: Mapping[str, Any]) -> dict[str, float]:
    """The features, plus days since last purchase when it has its own input: what the result is for.

    Its ``data-values`` signature then changes with every input on the page
    (read by the browser tests and the app benchmark).
    """
    extra = given.get(churn.RECENCY)
    if churn.RECENCY in current or not isinstance(extra, int | float) or not math.isfinite(extra):
        return dict(current)
    return {**current, churn.RECENCY: float(extra)}


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
    Input(ids.SIM_DRAW, "data"),
    State(ids.sim_slider(ALL), "value"),
    State(ids.SIM_BUILT, "data"),
    State(ids.THEME, "data"),
    State(ids.sim_slider(ALL), "id"),
    prevent_initial_call=True,  # the layout draws them first
)
def redraw_figures(
    _draw: Any,
    values: list[float | None],
    built: str | None,
    theme: str | None,
    slider_ids: list[dict[str, str]],
) -> tuple[Any, ...]:
    """The three figures in full, for the first drawing for a model and theme (``SIM_DRAW``, written by
    :func:`update_prediction` after the text, which is painted first); slider steps after that
    only send :func:`chart_updates`."""
    if not built:
        raise PreventUpdate
    v = view(built)
    scored = scored_customer(v, slider_values(values, slider_ids), theme or "light")
    try:
        sim = v.simulate(scored["values"])
    except (KeyError, ValueError):
        raise PreventUpdate from None
    return full_figures(v, sim, scored)


clientside_callback(
    UPDATE_CHARTS_JS,
    Output(ids.SIM_CHART_UPDATE, "clear_data"),  # nothing is written: the callback acts on the graphs
    Input(ids.SIM_CHART_UPDATE, "data"),
    prevent_initial_call=True,
)
