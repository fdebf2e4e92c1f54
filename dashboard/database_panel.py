"""/data: "Connect to a database" — read a table or query of a named connection, and write assignments back.

Only *named connections* are offered (``SEGMENTS_DB_<NAME>`` variables or
``connections.json`` in the server's configuration folder, see
:mod:`pipeline.data.sql`): a URL typed into a shared server would let any
visitor make the server connect anywhere it can reach (server-side request
forgery) and would put credentials into browser requests and server memory.
The browser sees connection names only, never a URL or a password.

Reading: *Test connection* and *Preview* (the first rows) answer in the
request; *Use for check and train* is a ``db_read`` job of the one job runner
(:mod:`dashboard.database_jobs`, with a progress bar and Cancel): it reads the
whole result, stores it for this owner as an upload (Parquet bytes, same size
limit as a file) and the page's usual preview, check and train follow.
Writing: a ``db_write`` job writes the assignments of the model shown in this
tab, the owner's own versions only (one row per customer,
:mod:`pipeline.data.sql_sink`), in one transaction.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, tasks
from dashboard.components import GRID_THEME, card, error_alert
from dashboard.database_jobs import described, source_of
from dashboard.figures.data import preview_grid
from dashboard.services import service
from pipeline.data.sql import named_connections, read_source, test_connection
from pipeline.errors import AccessDenied, DataError, SegmentationError

PREVIEW_ROWS = 20
WRITE_OWN_ONLY = (
    "Only your own model versions can be written to a database: the one shown is the server's or shared "
    "with you. Train one on your data first."
)


READ = tasks.JobWidgets(
    store=ids.DB_READ_JOB,
    poll=ids.DB_READ_POLL,
    button=ids.DB_LOAD,
    cancel=ids.DB_READ_CANCEL,
    box=ids.DB_READ_BOX,
    box_class="mt-2",
    bar=ids.DB_READ_PROGRESS,
    caption=ids.DB_READ_CAPTION,
)
WRITE = tasks.JobWidgets(
    store=ids.DB_WRITE_JOB,
    poll=ids.DB_WRITE_POLL,
    button=ids.DB_EXPORT,
    cancel=ids.DB_WRITE_CANCEL,
    box=ids.DB_WRITE_BOX,
    box_class="mt-2",
    bar=ids.DB_WRITE_PROGRESS,
    caption=ids.DB_WRITE_CAPTION,
)


def database_card() -> dbc.Card:
    """The "Connect to a database" card (connection names read when the page is built)."""
    try:
        names = sorted(named_connections())
        problem = None
    except DataError as err:
        names, problem = [], str(err)
    options = [{"label": n, "value": n} for n in names]
    hint = (
        "No database connection is configured on this server. Whoever runs it can add one as an environment "
        "variable SEGMENTS_DB_NAME=URL or in connections.json in the app's configuration folder."
    )
    body = html.Div(
        [
            error_alert(problem) if problem else None,
            dbc.Label("Connection", html_for=ids.DB_CONNECTION, className="small mb-1"),
            dbc.Select(id=ids.DB_CONNECTION, options=options, value=names[0] if names else None, disabled=not names),
            dbc.Label("Table", html_for=ids.DB_TABLE, className="small mb-1 mt-2"),
            dbc.Input(id=ids.DB_TABLE, placeholder="customers or schema.customers", type="text", debounce=True),
            dbc.Label("or a query", html_for=ids.DB_QUERY, className="small mb-1 mt-2"),
            dbc.Textarea(id=ids.DB_QUERY, placeholder="SELECT * FROM orders WHERE ...", rows=2),
            html.Div(
                [
                    dbc.Button("Test connection", id=ids.DB_TEST, color="secondary", outline=True, size="sm"),
                    dbc.Button("Preview", id=ids.DB_PREVIEW_BUTTON, color="secondary", outline=True, size="sm"),
                    dbc.Button("Use for check and train", id=ids.DB_LOAD, color="primary", size="sm"),
                ],
                className="d-flex flex-wrap gap-2 mt-2",
            ),
            READ.block(),
            html.Div(id=ids.DB_STATUS, className="mt-2 small", role="status"),
            html.Div(id=ids.DB_PREVIEW, className="mt-2"),
            html.Hr(),
            dbc.Label(
                "Write the assignments of the model shown to table", html_for=ids.DB_OUT_TABLE, className="small"
            ),
            html.Div(
                [
                    dbc.Input(id=ids.DB_OUT_TABLE, value="segment_assignments", type="text", size="sm"),
                    dbc.Button("Write", id=ids.DB_EXPORT, color="secondary", size="sm"),
                ],
                className="d-flex gap-2",
            ),
            WRITE.block(),
            html.Div(id=ids.DB_EXPORT_STATUS, className="mt-2 small", role="status"),
        ]
    )
    if not names:
        # Nothing to connect to yet: say how to add a connection and fold the form away.
        body = html.Div(
            [
                html.P(hint, className="small text-body-secondary mb-1"),
                html.Details([html.Summary("Show the form", className="small"), body], className="mt-1"),
            ]
        )
    return card(
        "Connect to a database",
        body,
        help_text="Read a table or query from a connection set up on this server (SQLite, DuckDB, PostgreSQL); "
        "only connection names are shown here, never addresses or passwords.",
    )


def _ok(text: str) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-check-circle-fill me-2"), text], color="success", className="mb-0 py-2")


def _grid(frame: pd.DataFrame) -> dag.AgGrid:
    rows, defs = preview_grid(frame)
    return dag.AgGrid(
        rowData=rows,
        columnDefs=defs,
        defaultColDef={"resizable": True, "sortable": False, "filter": False},
        columnSize="autoSize",
        dashGridOptions={"theme": GRID_THEME, "animateRows": False},
        style={"height": "240px", "width": "100%"},
        className="app-grid",
    )


@callback(
    Output(ids.DB_STATUS, "children"),
    Output(ids.DB_PREVIEW, "children"),
    Input(ids.DB_TEST, "n_clicks"),
    Input(ids.DB_PREVIEW_BUTTON, "n_clicks"),
    State(ids.DB_CONNECTION, "value"),
    State(ids.DB_TABLE, "value"),
    State(ids.DB_QUERY, "value"),
    prevent_initial_call=True,
)
def read_database(_test: Any, _preview: Any, connection: str | None, table: str | None, query: str | None):
    """Test the connection or preview the first rows (both bounded, in the request); errors are one line."""
    action = ctx.triggered_id
    if action not in (ids.DB_TEST, ids.DB_PREVIEW_BUTTON):
        raise PreventUpdate
    try:
        source = source_of(connection, table, query)
        if action == ids.DB_TEST:
            return _ok(f"{test_connection(source).capitalize()} ({connection})."), no_update
        frame = read_source(source, limit=PREVIEW_ROWS).frame
    except SegmentationError as err:
        return error_alert(str(err)), no_update
    text = f"First {len(frame):,} rows of {described(table)} ({frame.shape[1]} columns)."
    return _ok(text), _grid(frame)


@callback(
    output={
        **READ.outputs(duplicate=True),
        "status": Output(ids.DB_STATUS, "children", allow_duplicate=True),
        "preview": Output(ids.DB_PREVIEW, "children", allow_duplicate=True),
    },
    inputs={
        "_load": Input(ids.DB_LOAD, "n_clicks"),
        "connection": State(ids.DB_CONNECTION, "value"),
        "table": State(ids.DB_TABLE, "value"),
        "query": State(ids.DB_QUERY, "value"),
    },
    prevent_initial_call=True,
)
def start_read(_load: Any, connection: str | None, table: str | None, query: str | None) -> dict[str, Any]:
    """Submit the read of the whole table or query (a job); a bad form is refused here, nothing stored."""
    if not _load:
        raise PreventUpdate
    try:
        source_of(connection, table, query)  # the form's mistakes at once, before queueing
        job_id = tasks.submit("db_read", {"connection": connection, "table": table, "query": query})
    except SegmentationError as err:
        return {**READ.idle(), "status": error_alert(str(err)), "preview": no_update}
    return {**READ.started(job_id), "status": None, "preview": None}


@callback(
    output={
        **READ.outputs(duplicate=True),
        "status": Output(ids.DB_STATUS, "children", allow_duplicate=True),
        "key": Output(ids.DATA_UPLOAD_KEY, "data", allow_duplicate=True),
    },
    inputs={"_tick": Input(ids.DB_READ_POLL, "n_intervals"), "job": State(ids.DB_READ_JOB, "data")},
    prevent_initial_call=True,
)
def follow_read(_tick: Any, job: dict[str, Any] | None) -> dict[str, Any]:
    """One poll of the read: progress; when done, the stored rows become the page's upload."""
    widgets, status, line = READ.follow(job)
    if status is None:
        return {**widgets, "status": line, "key": no_update}
    if status.state == "cancelled":
        return {**widgets, "status": "Reading cancelled; nothing was stored.", "key": no_update}
    if status.state == "failed" or not status.result:
        return {**widgets, "status": error_alert(status.error or "The rows could not be read."), "key": no_update}
    r = status.result
    text = f"{r['rows']:,} rows × {r['columns']} columns of {r['what']} loaded; check them below, then train."
    return {**widgets, "status": _ok(text), "key": r["key"]}


@callback(
    output={
        **WRITE.outputs(duplicate=True),
        "status": Output(ids.DB_EXPORT_STATUS, "children", allow_duplicate=True),
    },
    inputs={
        "_clicks": Input(ids.DB_EXPORT, "n_clicks"),
        "connection": State(ids.DB_CONNECTION, "value"),
        "out_table": State(ids.DB_OUT_TABLE, "value"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
    },
    prevent_initial_call=True,
)
def start_write(_clicks: Any, connection: str | None, out_table: str | None, artifact_id: str | None) -> dict[str, Any]:
    """Submit the write of the tab's model's assignments (the owner's own versions only; checked again in the job)."""
    if not _clicks:
        raise PreventUpdate
    svc = service()
    try:
        if not connection:
            raise DataError("Choose a connection first.")
        record = svc.store.version(svc.owner(), artifact_id or svc.default_id)  # AccessDenied: not readable
        if not record.mine:
            raise AccessDenied(WRITE_OWN_ONLY)
        params = {"connection": connection, "table": (out_table or "").strip(), "artifact": record.artifact_id}
        job_id = tasks.submit("db_write", params)
    except SegmentationError as err:
        return {**WRITE.idle(), "status": error_alert(str(err))}
    return {**WRITE.started(job_id), "status": None}


@callback(
    output={**WRITE.outputs(duplicate=True), "status": Output(ids.DB_EXPORT_STATUS, "children", allow_duplicate=True)},
    inputs={"_tick": Input(ids.DB_WRITE_POLL, "n_intervals"), "job": State(ids.DB_WRITE_JOB, "data")},
    prevent_initial_call=True,
)
def follow_write(_tick: Any, job: dict[str, Any] | None) -> dict[str, Any]:
    """One poll of the write: progress, or how many assignments were written (and replaced)."""
    widgets, status, line = WRITE.follow(job)
    if status is None:
        return {**widgets, "status": line}
    if status.state == "cancelled":
        return {
            **widgets,
            "status": "Writing cancelled; a write that had not finished was rolled back (it is one transaction).",
        }
    if status.state == "failed" or not status.result:
        return {**widgets, "status": error_alert(status.error or "The assignments could not be written.")}
    r = status.result
    replaced = f", replacing {r['rows_replaced']:,}" if r["rows_replaced"] else ""
    return {
        **widgets,
        "status": _ok(f"Wrote {r['rows_written']:,} assignments to {r['table']} ({r['connection']}){replaced}."),
    }


@callback(
    Output(ids.DB_STATUS, "children", allow_duplicate=True),
    Output(ids.DB_READ_CANCEL, "disabled", allow_duplicate=True),
    Input(ids.DB_READ_CANCEL, "n_clicks"),
    State(ids.DB_READ_JOB, "data"),
    prevent_initial_call=True,
)
def cancel_read(n_clicks: int | None, job: dict[str, Any] | None) -> tuple[Any, bool]:
    """Cancel the read."""
    return tasks.cancel_clicked(n_clicks, job, "Cancelling…")


@callback(
    Output(ids.DB_EXPORT_STATUS, "children", allow_duplicate=True),
    Output(ids.DB_WRITE_CANCEL, "disabled", allow_duplicate=True),
    Input(ids.DB_WRITE_CANCEL, "n_clicks"),
    State(ids.DB_WRITE_JOB, "data"),
    prevent_initial_call=True,
)
def cancel_write(n_clicks: int | None, job: dict[str, Any] | None) -> tuple[Any, bool]:
    """Cancel the write."""
    return tasks.cancel_clicked(n_clicks, job, "Cancelling…")


READ.register_poll_switch()
WRITE.register_poll_switch()
