"""Over time (/changes): migration between segments and drift between two snapshots."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import ids, timeline
from dashboard.components import card, error_alert, graph, how_measured, page_header
from dashboard.figures.changes import (
    clicked_flow,
    drift_table,
    flow_keys,
    inflow_table,
    labels,
    matches_table,
    matrix_table,
    movers_csv,
    movers_table,
    sankey_figure,
    shares_figure,
)
from dashboard.figures.common import empty_figure
from dashboard.first_render import fill_in, session_choice
from dashboard.services import view
from pipeline.errors import SegmentationError
from pipeline.timeline.drift import RETRAIN_PSI, RETRAIN_SHIFT_SD, SHARE_ALERT_POINTS

dash.register_page(
    __name__,
    path="/changes",
    name="Over time",
    title="Over time · Customer Segments",
    order=7,
    description="Customers who moved between segments from one snapshot to the next, the value that moved with them, and whether the model still fits.",
)
log = logging.getLogger(__name__)

HOW_MEASURED = (
    "Customers are matched by id. New: only in the later snapshot; gone: only in the earlier one. "
    "Value: the customers' spend up to the earlier date (for new customers, up to the later date). "
    "PSI per feature on 10 quantile bins of the earlier snapshot (empty bins count as 0.0001): "
    "below 0.1 stable, 0.1 to 0.25 moderate, 0.25 or more major. Centre moved: distance between the segment's "
    "mean features at the two dates, in standard deviations of the earlier snapshot. "
    f"Retraining is recommended from PSI {RETRAIN_PSI} or a centre moved {RETRAIN_SHIFT_SD} SD; "
    f"share changes of {SHARE_ALERT_POINTS:g} points or more are reported."
)


def controls() -> dbc.Card:
    """The two snapshot pickers and the save button."""
    return card(
        None,
        dbc.Row(
            [
                dbc.Col(
                    [
                        dbc.Label("From (earlier snapshot)", html_for=ids.CHANGES_FROM, className="small mb-1"),
                        dbc.Select(id=ids.CHANGES_FROM, options=[], size="sm"),
                    ],
                    md=5,
                ),
                dbc.Col(
                    [
                        dbc.Label("To (later snapshot)", html_for=ids.CHANGES_TO, className="small mb-1"),
                        dbc.Select(id=ids.CHANGES_TO, options=[], size="sm"),
                    ],
                    md=5,
                ),
                dbc.Col(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-camera me-1"), "Save snapshot of current data"],
                            id=ids.CHANGES_SAVE,
                            color="primary",
                            outline=True,
                            size="sm",
                            className="mt-md-4",
                            title="Store the data set you are viewing, as its model scores it, at its as-of date",
                        ),
                        html.Div(id=ids.CHANGES_SAVE_STATUS, className="small mt-1", role="status"),
                        dbc.Button(
                            [html.I(className="bi bi-calendar3 me-1"), "Quarterly snapshots of this log"],
                            id=ids.CHANGES_LOG_BUTTON,
                            color="primary",
                            outline=True,
                            size="sm",
                            className="mt-2",
                            title="For a transaction log you uploaded: one snapshot at every quarter end, "
                            "each from the lines up to that date, scored by the current model (runs in the background)",
                        ),
                        html.Div(id=ids.CHANGES_LOG_STATUS, className="small mt-1", role="status"),
                        dcc.Store(id=ids.CHANGES_LOG_JOB),
                        dcc.Interval(id=ids.CHANGES_LOG_POLL, interval=1000, disabled=True),
                    ],
                    md=2,
                ),
            ],
            className="g-2",
        ),
    )


def layout(**kwargs: Any) -> html.Div:
    """The page with its first pair of snapshots drawn (:mod:`dashboard.first_render`).

    The pickers' choices and everything about the pair come from the same
    functions as the callbacks' answers, so the page needs no callback before
    it is drawn; the callbacks run on later changes.
    """
    _artifact_id, theme = session_choice(kwargs)
    choices, _same, start, end = fill_pickers(None, None, None)
    values: dict[tuple[str, str], Any] = {
        (ids.CHANGES_FROM, "options"): choices,
        (ids.CHANGES_TO, "options"): choices,
        (ids.CHANGES_FROM, "value"): start,
        (ids.CHANGES_TO, "value"): end,
    }
    for key, value in render(start, end, theme).items():
        target = RENDER_OUTPUTS[key]
        values[(target.component_id, target.component_property)] = value
    return fill_in(page_frame(), values)


def page_frame() -> html.Div:
    """The page's components, without their values."""
    return html.Div(
        [
            page_header(
                "Over time",
                "Who moved between segments, how much value moved with them, and whether the segments still fit.",
                "arrow-left-right",
            ),
            dcc.Store(id=ids.CHANGES_SAVED),
            dcc.Store(id=ids.CHANGES_FLOW),
            dcc.Download(id=ids.CHANGES_DOWNLOAD),
            controls(),
            # A fill gate (assets/app.css): the cards below appear with the summary, in place, not pushed down by it.
            html.Div(id=ids.CHANGES_SUMMARY, className="my-3 fill-gate"),
            html.Div(id=ids.CHANGES_ALERTS, className="mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Flows between segments",
                            graph(ids.CHANGES_SANKEY, "segment-flows", height=440),
                            help_text="Left: segments at the earlier date; right: at the later date. "
                            "Click a flow to list its customers.",
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        card(
                            "Customers of the chosen flow",
                            html.Div(
                                [
                                    html.Div("Click a flow in the diagram.", id=ids.CHANGES_MOVERS, className="small"),
                                    dbc.Button(
                                        [html.I(className="bi bi-download me-1"), "Download CSV"],
                                        id=ids.CHANGES_DOWNLOAD_BUTTON,
                                        size="sm",
                                        color="primary",
                                        outline=True,
                                        className="mt-2",
                                        disabled=True,
                                    ),
                                ]
                            ),
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(card("Migration matrix (customers)", html.Div(id=ids.CHANGES_MATRIX)), lg=7),
                    dbc.Col(
                        card(
                            "Segment shares over time",
                            graph(ids.CHANGES_SHARES, "segment-shares-over-time", height=300),
                            help_text="Every snapshot of the same series scored with the same segments.",
                        ),
                        lg=5,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(card("Drift", html.Div(id=ids.CHANGES_DRIFT)), lg=7),
                    dbc.Col(card("Segment matching", html.Div(id=ids.CHANGES_MATCHES)), lg=5),
                ],
                className="g-3 mb-3",
            ),
            how_measured(HOW_MEASURED),
        ]
    )


@callback(
    Output(ids.CHANGES_FROM, "options"),
    Output(ids.CHANGES_TO, "options"),
    Output(ids.CHANGES_FROM, "value"),
    Output(ids.CHANGES_TO, "value"),
    Input(ids.CHANGES_SAVED, "data"),
    State(ids.CHANGES_FROM, "value"),
    State(ids.CHANGES_TO, "value"),
    prevent_initial_call=True,
)
def fill_pickers(saved: dict[str, Any] | None, current_from: str | None, current_to: str | None) -> tuple[Any, ...]:
    """The snapshots this owner may read; the first two of the built-in series are chosen at first."""
    opts = timeline.options()
    items = [{"label": o.label, "value": o.id} for o in opts]
    known = {o.id for o in opts}
    start = current_from if current_from in known else opts[0].id
    end = current_to if current_to in known else opts[1].id
    if saved and saved.get("id") in known:
        end = saved["id"]
        if saved.get("from") in known:
            start = saved["from"]
    return items, items, start, end


@callback(
    Output(ids.CHANGES_SAVED, "data"),
    Output(ids.CHANGES_SAVE_STATUS, "children"),
    Input(ids.CHANGES_SAVE, "n_clicks"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def save_snapshot(n_clicks: int | None, artifact_id: str | None) -> tuple[Any, Any]:
    """Store the session's data set as a snapshot of the request's owner."""
    if not n_clicks:
        return no_update, no_update
    try:
        record = timeline.save_current(view(artifact_id))
    except SegmentationError as err:
        return no_update, html.Span(str(err), className="text-danger")
    return {"id": record.id, "at": dt.datetime.now(dt.UTC).isoformat()}, html.Span(
        f"Saved: {record.label}", className="text-success"
    )


#: What :func:`render` sets, by name (the layout sets the same values on the first render).
RENDER_OUTPUTS = {
    "summary": Output(ids.CHANGES_SUMMARY, "children"),
    "alerts": Output(ids.CHANGES_ALERTS, "children"),
    "sankey": Output(ids.CHANGES_SANKEY, "figure"),
    "matrix": Output(ids.CHANGES_MATRIX, "children"),
    "drift": Output(ids.CHANGES_DRIFT, "children"),
    "matches": Output(ids.CHANGES_MATCHES, "children"),
    "shares": Output(ids.CHANGES_SHARES, "figure"),
    "flow": Output(ids.CHANGES_FLOW, "data"),
}


@callback(
    output=RENDER_OUTPUTS,
    inputs={
        "from_id": Input(ids.CHANGES_FROM, "value"),
        "to_id": Input(ids.CHANGES_TO, "value"),
        "theme": Input(ids.THEME, "data"),
    },
    prevent_initial_call=True,
)
def render(from_id: str | None, to_id: str | None, theme: str | None) -> dict[str, Any]:
    """Everything about the chosen pair (computed once per pair by :func:`dashboard.timeline.pair`)."""
    theme = theme or "light"
    try:
        result = timeline.pair(from_id, to_id)
    except SegmentationError as err:
        blank = empty_figure("Choose two snapshots, the second later than the first.", theme)
        return {
            "summary": error_alert(str(err)),
            "alerts": None,
            "sankey": blank,
            "matrix": None,
            "drift": None,
            "matches": None,
            "shares": blank,
            "flow": None,
        }
    m, d = result.report.migration, result.report.drift
    a, b = m.before, m.after
    summary = html.P(
        [
            html.Strong(f"{a.as_of.isoformat()} → {b.as_of.isoformat()}: "),
            f"{a.n_customers:,} customers then, {b.n_customers:,} now; "
            f"{int(m.flows.loc[m.flows['from'] == 'new', 'customers'].sum()):,} new, "
            f"{int(m.flows.loc[m.flows['to'] == 'gone', 'customers'].sum()):,} gone.",
        ],
        className="mb-0",
    )
    items = [html.Li(t) for t in d.alerts] or [
        html.Li("No segment share moved 2 points or more and no feature drifted.")
    ]
    alerts = dbc.Alert(
        [
            html.Div(
                "Retraining is recommended."
                if d.retrain_recommended
                else "The model still fits: no retraining needed.",
                className="fw-semibold mb-1",
            ),
            html.Ul(items, className="mb-0 ps-3 small"),
        ],
        color="warning" if d.retrain_recommended else "info",
        className="mb-0",
    )
    try:
        points = timeline.series_shares(from_id)
    except SegmentationError:
        points = []
    names = labels(m)
    colours = {**b.colours(), **a.colours()}
    matches = (
        matches_table(result.matches, a.names())
        if result.matches
        else html.P(
            "Both snapshots were scored by the same model: segments keep their identities.", className="small mb-0"
        )
    )
    return {
        "summary": summary,
        "alerts": alerts,
        "sankey": sankey_figure(m, theme),
        "matrix": html.Div(
            [
                matrix_table(m),
                html.H4(
                    "Value moved (spend up to the earlier date; new customers: up to the later date)",
                    className="h6 mt-3",
                ),
                matrix_table(m, "value"),
                html.H4("Inflow and outflow", className="h6 mt-3"),
                inflow_table(m),
            ]
        ),
        "drift": drift_table(d),
        "matches": matches,
        "shares": shares_figure(points, names, colours, theme)
        if len(points) > 1
        else empty_figure("Only one snapshot in this series.", theme),
        "flow": None,
    }


@callback(
    Output(ids.CHANGES_FLOW, "data", allow_duplicate=True),
    Output(ids.CHANGES_MOVERS, "children"),
    Output(ids.CHANGES_DOWNLOAD_BUTTON, "disabled"),
    Input(ids.CHANGES_SANKEY, "clickData"),
    State(ids.CHANGES_FROM, "value"),
    State(ids.CHANGES_TO, "value"),
    prevent_initial_call=True,
)
def show_flow(click: dict[str, Any] | None, from_id: str | None, to_id: str | None) -> tuple[Any, Any, bool]:
    """The customers of the clicked flow (first 20) and the download button."""
    try:
        m = timeline.pair(from_id, to_id).report.migration
    except SegmentationError as err:
        return None, error_alert(str(err)), True
    keys = flow_keys(m)
    index = clicked_flow(click)
    if index is None or index >= len(keys):
        return no_update, "Click a flow (a band), not a segment box.", True
    start, end = keys[index]
    movers = m.movers(start, end)
    names = labels(m)
    head = html.P([html.Strong(f"{names[start]} → {names[end]}"), f": {len(movers):,} customers"], className="mb-2")
    return {"from": start, "to": end}, html.Div([head, movers_table(movers)]), False


@callback(
    Output(ids.CHANGES_DOWNLOAD, "data"),
    Input(ids.CHANGES_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.CHANGES_FLOW, "data"),
    State(ids.CHANGES_FROM, "value"),
    State(ids.CHANGES_TO, "value"),
    prevent_initial_call=True,
)
def download_flow(n_clicks: int | None, flow: dict[str, Any] | None, from_id: str | None, to_id: str | None) -> Any:
    """CSV of the chosen flow's customers through the one safe writer (only snapshots the owner may read)."""
    if not n_clicks or not flow:
        return no_update
    try:
        m = timeline.pair(from_id, to_id).report.migration
        movers = m.movers(str(flow.get("from")), str(flow.get("to")))
    except SegmentationError as err:
        log.warning("flow download refused: %s", err)
        return no_update
    return {
        "content": movers_csv(movers, labels(m)),
        "filename": "movers.csv",
        "type": "text/csv",
        "base64": False,
    }


@callback(
    Output(ids.CHANGES_LOG_JOB, "data"),
    Output(ids.CHANGES_LOG_POLL, "disabled", allow_duplicate=True),
    Output(ids.CHANGES_LOG_STATUS, "children", allow_duplicate=True),
    Input(ids.CHANGES_LOG_BUTTON, "n_clicks"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def start_log_snapshots(n_clicks: int | None, artifact_id: str | None) -> tuple[Any, Any, Any]:
    """Submit the background job that stores the session's log at every quarter end (the one job runner)."""
    from dashboard import tasks

    if not n_clicks:
        return no_update, no_update, no_update
    try:
        job_id = tasks.submit("snapshots", {"artifact": view(artifact_id).id, "every": "quarterly"})
    except SegmentationError as err:
        return None, True, html.Span(str(err), className="text-danger")
    return {"id": job_id}, False, "Queued…"


@callback(
    Output(ids.CHANGES_SAVED, "data", allow_duplicate=True),
    Output(ids.CHANGES_LOG_POLL, "disabled"),
    Output(ids.CHANGES_LOG_STATUS, "children"),
    Input(ids.CHANGES_LOG_POLL, "n_intervals"),
    State(ids.CHANGES_LOG_JOB, "data"),
    prevent_initial_call=True,
)
def follow_log_snapshots(_n: int | None, job: dict[str, Any] | None) -> tuple[Any, bool, Any]:
    """Progress of the log job; when done, the pickers offer its first and last snapshot."""
    from dashboard import tasks

    try:
        status = tasks.job_status((job or {}).get("id"))
    except SegmentationError as err:
        return no_update, True, html.Span(str(err), className="text-danger")
    if not status.finished:
        return no_update, False, f"{status.percent}% · {status.text()}"
    if status.state != "done" or not status.result:
        return no_update, True, html.Span(status.text(), className="text-danger")
    made = status.result.get("ids") or []
    saved = {"id": made[-1], "from": made[0], "at": dt.datetime.now(dt.UTC).isoformat()} if made else no_update
    return (
        saved,
        True,
        html.Span(f"Stored {len(made)} snapshots: {status.result.get('series')}", className="text-success"),
    )
