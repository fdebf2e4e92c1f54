"""/data: "Connect to a database" — read a table or query of a named connection, and write assignments back.

Only *named connections* are offered (``SEGMENTS_DB_<NAME>`` variables or
``connections.json`` in the server's configuration folder, see
:mod:`pipeline.data.sql`): a URL typed into a shared server would let any
visitor make the server connect anywhere it can reach (server-side request
forgery) and would put credentials into browser requests and server memory.
The browser sees connection names only, never a URL or a password.

Reading: *Preview* reads the first rows; *Use for check and train* reads the
whole result, stores it for this owner as an upload (Parquet bytes, same size
limit as a file) and the page's usual preview, check and train follow.
Writing: the owner of the model shown in this tab writes its assignments
(one row per customer, :mod:`pipeline.data.sql_sink`) in one transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, jobs
from dashboard.components import GRID_THEME, card, error_alert
from dashboard.figures.data import preview_grid
from dashboard.services import service
from pipeline.data.sql import DatabaseSource, database_source, named_connections, read_source, test_connection
from pipeline.data.sql_sink import assignment_rows, write_assignments
from pipeline.errors import DataError, SegmentationError

PREVIEW_ROWS = 20


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


def source_of(connection: str | None, table: str | None, query: str | None) -> DatabaseSource:
    """The source the form describes (a named connection only).

    Raises
    ------
    DataError
        No connection chosen, or not exactly one of table and query.
    """
    if not connection:
        raise DataError("Choose a connection first.")
    return database_source(f"db:{connection}", (table or "").strip() or None, (query or "").strip() or None)


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


def as_upload(frame: pd.DataFrame, name: str) -> str:
    """A frame as the ``contents`` string an upload sends (Parquet bytes, base64)."""
    buf = io.BytesIO()
    try:
        frame.to_parquet(buf, index=False)
    except Exception as err:  # pyarrow refuses columns of mixed or exotic types
        raise DataError(f"{name} has columns that cannot be stored: {str(err).splitlines()[0]}") from None
    return "data:application/octet-stream;base64," + base64.b64encode(buf.getvalue()).decode()


@callback(
    Output(ids.DB_STATUS, "children"),
    Output(ids.DB_PREVIEW, "children"),
    Output(ids.DATA_UPLOAD_KEY, "data", allow_duplicate=True),
    Input(ids.DB_TEST, "n_clicks"),
    Input(ids.DB_PREVIEW_BUTTON, "n_clicks"),
    Input(ids.DB_LOAD, "n_clicks"),
    State(ids.DB_CONNECTION, "value"),
    State(ids.DB_TABLE, "value"),
    State(ids.DB_QUERY, "value"),
    prevent_initial_call=True,
)
def read_database(_test: Any, _preview: Any, _load: Any, connection: str | None, table: str | None, query: str | None):
    """Test, preview or load the form's source; errors are one line and nothing is stored."""
    action = ctx.triggered_id
    if action is None:
        raise PreventUpdate
    settings = service().settings
    try:
        source = source_of(connection, table, query)
        what = table.strip() if table and table.strip() else "the query"
        if action == ids.DB_TEST:
            return _ok(f"{test_connection(source).capitalize()} ({connection})."), no_update, no_update
        if action == ids.DB_PREVIEW_BUTTON:
            frame = read_source(source, limit=PREVIEW_ROWS).frame
            text = f"First {len(frame):,} rows of {what} ({frame.shape[1]} columns)."
            return _ok(text), _grid(frame), no_update
        frame = read_source(source).frame
        name = f"{what} from {connection}"
        info = jobs.store_upload(as_upload(frame, name), name, settings)
    except SegmentationError as err:
        return error_alert(str(err)), no_update, no_update
    text = f"{len(frame):,} rows × {frame.shape[1]} columns of {what} loaded; check them below, then train."
    return _ok(text), None, info.key


@callback(
    Output(ids.DB_EXPORT_STATUS, "children"),
    Input(ids.DB_EXPORT, "n_clicks"),
    State(ids.DB_CONNECTION, "value"),
    State(ids.DB_OUT_TABLE, "value"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def export_assignments(_clicks: Any, connection: str | None, out_table: str | None, artifact_id: str | None):
    """Write the assignments of the tab's model to ``out_table`` (owner only, one transaction)."""
    svc = service()
    try:
        if not connection:
            raise DataError("Choose a connection first.")
        svc.store.owned(svc.owner(), artifact_id)  # only the owner's own model versions
        view = svc.checked_view(artifact_id)
        url = database_source(f"db:{connection}", table="x").url
        rows = assignment_rows(view.assignments, view.id, dt.date.fromisoformat(str(view.manifest["data"]["as_of"])))
        result = write_assignments(url, (out_table or "").strip(), rows)
    except SegmentationError as err:
        return error_alert(str(err))
    replaced = f", replacing {result.rows_replaced:,}" if result.rows_replaced else ""
    return _ok(f"Wrote {result.rows_written:,} assignments to {result.table} ({connection}){replaced}.")
