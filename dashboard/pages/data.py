"""Your data (/data): upload a table, check how it is read, train it, switch between data sets.

Flow: the browser checks the file's size (clientside), :func:`receive_upload`
stores it under a generated key (:mod:`dashboard.jobs`), :func:`build_form`
shows the detected kind and a mapping form pre-filled by
:func:`pipeline.data.ingest.suggest_mapping`, :func:`check_mapping` validates the
mapping on every change, :func:`dashboard.data_training.train_upload` submits the training to the one
job runner, :func:`~dashboard.data_training.follow_training` polls it (progress,
place in line, cancel) and the session's ``ids.ACTIVE_ARTIFACT`` follows.
The browser only holds small keys: the upload key and the mapping; every
callback reads the upload through the owner registry.  The versions list
(switch, share, delete) is :mod:`dashboard.versions`.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import data_training as data_training  # the training job's callbacks (registered on import)
from dashboard import ids, uploads
from dashboard.components import GRID_THEME, card, error_alert, fmt_pct, page_header
from dashboard.data_components import detection_panel, mapping_form, mapping_from_fields, validation_report
from dashboard.database_panel import database_card
from dashboard.figures.data import column_types, preview_grid
from dashboard.first_render import quiet_store, session_choice
from dashboard.services import service
from dashboard.versions import apply_version_action as apply_version_action  # the list on this page
from dashboard.versions import show_versions as show_versions
from dashboard.versions import version_action as version_action
from dashboard.versions import versions_list
from dashboard.versions import versions_table as versions_table
from pipeline.config import Settings
from pipeline.data.detect import suggest_mapping
from pipeline.data.mapping import INPUT_KINDS, Mapping
from pipeline.errors import DataError, SegmentationError

dash.register_page(
    __name__,
    path="/data",
    name="Your data",
    title="Your data · Customer Segments",
    order=6,
    description="Upload a customer table or transaction log, map its columns, check its quality and train segments on it.",
)

log = logging.getLogger(__name__)

KIND_OPTIONS = {
    "marketing": "Marketing-campaign table (the reference format)",
    "customer_table": "Customer table: one row per customer",
    "transactions": "Transaction log: one row per order line",
}


def _limit_bytes() -> int:
    """The browser upload limit of the app handling this request (defaults outside a request)."""
    if flask.has_app_context():
        return service().settings.max_upload_mb * 1024 * 1024
    return 50 * 1024 * 1024


# ---------------------------------------------------------------- layout


#: What each step shows before a file is uploaded (the layout's first state and the callbacks' answer without one).
PREVIEW_HINT = "The first rows and the type of each column appear here."
DETECTION_HINT = "The kind of data is detected when you upload a file."
MAPPING_HINT = "Upload a file to map its columns."
VALIDATION_HINT = "The validation report appears here."
TRAIN_HINT = "Upload a file first."


def layout(**kwargs: Any) -> html.Div:
    """The page for this session, as it is before a file is uploaded, with the session's versions listed.

    Nothing is fetched after it arrives (:mod:`dashboard.first_render`): an
    upload this tab made before is restored by the callbacks (its key comes
    back from the tab's session storage when the page mounts).
    """
    artifact_id, _theme = session_choice(kwargs)
    limit = _limit_bytes()
    drop_zone = html.Div(
        dcc.Upload(
            id=ids.DATA_UPLOAD,
            multiple=False,
            className="data-drop",
            className_active="data-drop is-active",
            children=html.Div(
                [
                    html.I(className="bi bi-cloud-arrow-up data-drop-icon"),
                    html.Div(
                        [html.Strong("Drop a file here"), " or ", html.Span("choose one", className="link-primary")]
                    ),
                    html.Div(
                        f"CSV, TSV, TXT, XLSX or Parquet · up to {limit // (1024 * 1024)} MB",
                        className="small text-body-secondary",
                    ),
                ]
            ),
        ),
        className="data-drop-box",  # the drop zone's height while dcc.Upload's script loads (assets/data.css)
        **{"data-a11y-label": "Upload a data file"},
    )
    upload = card(
        "1 · Upload your data",
        html.Div(
            [
                drop_zone,
                html.Div(id=ids.DATA_UPLOAD_STATUS, className="mt-2", role="status"),
                html.P(
                    [
                        "A customer table (one row per customer) or a transaction log (one row per order line). "
                        "Files are stored on this server under a generated name; only you see the result. "
                        "Larger files: ",
                        html.Code("python -m pipeline train --data FILE"),
                        ".",
                    ],
                    className="small text-body-secondary mb-0 mt-2",
                ),
            ]
        ),
    )
    preview = card(
        "Preview",
        html.Div(id=ids.DATA_PREVIEW, children=_placeholder(PREVIEW_HINT)),
    )
    kind = card(
        "2 · What kind of data is it?",
        html.Div(
            [
                dbc.RadioItems(
                    id=ids.DATA_KIND,
                    options=_kind_options(disabled=True),
                    value=None,
                    className="data-kind mb-2",
                ),
                html.Div(id=ids.DATA_DETECTION, children=_placeholder(DETECTION_HINT)),
            ]
        ),
    )
    mapping = card(
        "3 · Map the columns",
        html.Div(
            [
                html.Div(id=ids.DATA_MAPPING, children=_placeholder(MAPPING_HINT)),
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-download me-1"), "Save mapping"],
                            id=ids.DATA_MAPPING_SAVE,
                            color="secondary",
                            outline=True,
                            size="sm",
                            disabled=True,
                        ),
                        html.Div(
                            dcc.Upload(
                                id=ids.DATA_MAPPING_UPLOAD,
                                multiple=False,
                                className="d-inline-block",
                                children=dbc.Button(
                                    [html.I(className="bi bi-upload me-1"), "Load mapping…"],
                                    color="secondary",
                                    outline=True,
                                    size="sm",
                                ),
                            ),
                            className="d-inline-block",
                            **{"data-a11y-label": "Load a saved column mapping"},
                        ),
                        dcc.Download(id=ids.DATA_MAPPING_DOWNLOAD),
                    ],
                    className="d-flex gap-2 mt-3 flex-wrap",
                ),
                html.Div(id=ids.DATA_MAPPING_STATUS, className="mt-2"),
            ]
        ),
        help_text="Each feature is one column, several columns added up, or left out.",
    )
    train_block = html.Div(
        [
            html.Div(
                [
                    dbc.Button(
                        [html.I(className="bi bi-play-fill me-1"), "Train segments"],
                        id=ids.DATA_TRAIN,
                        color="primary",
                        disabled=True,
                    ),
                    dbc.Button(
                        [html.I(className="bi bi-x-circle me-1"), "Cancel"],
                        id=ids.DATA_CANCEL,
                        color="secondary",
                        outline=True,
                        disabled=True,
                    ),
                    html.Div(TRAIN_HINT, id=ids.DATA_TRAIN_HINT, className="small text-body-secondary"),
                ],
                className="d-flex align-items-center gap-2 flex-wrap",
            ),
            html.Div(
                [
                    html.Div(
                        dbc.Progress(id=ids.DATA_PROGRESS, value=0, striped=True, animated=True, className="mt-3"),
                        **{"data-a11y-label": "Training progress"},
                    ),
                    html.Div(id=ids.DATA_PROGRESS_TEXT, className="small text-body-secondary mt-1"),
                ],
                id=ids.DATA_PROGRESS_BOX,
                className="d-none",
            ),
            html.Div(id=ids.DATA_TRAIN_STATUS, className="mt-3", role="status"),
        ],
        className="data-train-block",
    )
    check = card(
        "4 · Check and train",
        html.Div(
            [
                dcc.Loading(
                    html.Div(id=ids.DATA_VALIDATION, children=_placeholder(VALIDATION_HINT)),
                    type="dot",
                    delay_show=300,
                ),
                train_block,
            ]
        ),
    )
    versions = card(
        "Data sets and model versions on this server",
        html.Div([html.Div(id=ids.DATA_VERSIONS_STATUS), html.Div(versions_list(artifact_id), id=ids.DATA_VERSIONS)]),
        help_text="Switch changes the data set every page shows in this browser tab; other people are not affected. "
        "Only you see your uploads and versions unless you Share one (read-only, with everyone on this server).",
    )
    return html.Div(
        [
            dcc.Store(id=ids.DATA_UPLOAD_LIMIT, data=limit),
            dcc.Store(id=ids.DATA_UPLOAD_CHECK),
            quiet_store(ids.DATA_UPLOAD_KEY, storage_type="session"),  # a key this tab kept: preview restored
            dcc.Store(id=ids.DATA_MAPPING_STORE, storage_type="session"),
            dcc.Store(id=ids.DATA_VERSIONS_TICK, data=0),
            quiet_store(ids.DATA_TRAINED),
            quiet_store(ids.DATA_VERSION_CHOSEN),
            dcc.Store(id=ids.DATA_JOB, storage_type="session"),  # followed again after a page change
            dcc.Interval(id=ids.DATA_JOB_POLL, interval=500, disabled=True),
            page_header(
                "Your data",
                "Upload your own customer table or transaction log, check how it is read, and segment it.",
                "database-up",
            ),
            dbc.Row([dbc.Col(upload, lg=4), dbc.Col(preview, lg=8)], className="g-3 mb-3"),
            dbc.Row(dbc.Col(database_card(), lg=6), className="g-3 mb-3"),
            # The numbered steps read 1, 2, 3, 4 at every width (left to right, then down).
            dbc.Row([dbc.Col(kind, lg=4), dbc.Col(mapping, lg=8)], className="g-3 mb-3"),
            dbc.Row(dbc.Col(check), className="g-3 mb-3"),
            versions,
        ],
        className="data-page",
    )


def _placeholder(text: str) -> html.Div:
    return html.Div(text, className="text-body-secondary small data-placeholder")


def _kind_options(disabled: bool) -> list[dict[str, Any]]:
    return [{"label": label, "value": kind, "disabled": disabled} for kind, label in KIND_OPTIONS.items()]


# ---------------------------------------------------------------- upload


clientside_callback(
    """function (contents, filename, limit) {
        const nu = window.dash_clientside.no_update;
        if (!contents) { return [nu, nu]; }
        const comma = contents.indexOf(',');
        const b64 = comma >= 0 ? contents.length - comma - 1 : 0;
        const pad = contents.endsWith('==') ? 2 : (contents.endsWith('=') ? 1 : 0);
        const size = Math.max(0, Math.floor(b64 * 3 / 4) - pad);
        const ok = !limit || size <= limit;
        return [{name: filename || 'upload', size: size, ok: ok, at: Date.now()}, ok ? nu : null];
    }""",
    Output(ids.DATA_UPLOAD_CHECK, "data"),
    Output(ids.DATA_UPLOAD, "contents"),
    Input(ids.DATA_UPLOAD, "contents"),
    State(ids.DATA_UPLOAD, "filename"),
    State(ids.DATA_UPLOAD_LIMIT, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.DATA_UPLOAD_KEY, "data"),
    Output(ids.DATA_UPLOAD_STATUS, "children"),
    Output(ids.DATA_UPLOAD, "contents", allow_duplicate=True),
    Output(ids.DATA_VALIDATION, "children", allow_duplicate=True),
    Output(ids.DATA_TRAIN, "disabled", allow_duplicate=True),
    Output(ids.DATA_TRAIN_STATUS, "children", allow_duplicate=True),
    Input(ids.DATA_UPLOAD_CHECK, "data"),
    State(ids.DATA_UPLOAD, "contents"),
    State(ids.DATA_UPLOAD_KEY, "data"),
    prevent_initial_call=True,
)
def receive_upload(check: dict[str, Any] | None, contents: str | None, current_key: str | None) -> tuple[Any, ...]:
    """Store an accepted file under a new key, or say why it is refused (the previous file stays).

    Returns ``(upload key, upload status, upload contents, validation, train disabled, train status)``:
    an accepted file clears the previous report and disables Train until its own check is done.
    """
    if not check:
        raise PreventUpdate
    settings = service().settings
    name = uploads.display_name(check.get("name"))
    try:
        if not check.get("ok", True):
            raise DataError(uploads.too_big_message(name, int(check.get("size") or 0), settings))
        if not contents:
            raise PreventUpdate
        info = uploads.store_upload(contents, name, settings)
    except SegmentationError as err:
        return no_update, _refused(name, str(err), current_key, settings), None, no_update, no_update, no_update
    table = uploads.upload_table(info.key, settings)
    message = dbc.Alert(
        [
            html.I(className="bi bi-check-circle-fill me-2"),
            html.Strong(info.name),
            f" accepted: {len(table):,} rows × {table.shape[1]} columns ({info.size_text}).",
        ],
        color="success",
        className="mb-0 py-2 small data-upload-ok",
    )
    checking = _placeholder(f"Checking {info.name}…")
    return info.key, message, None, checking, True, None


def _refused(name: str, reason: str, current_key: str | None, settings: Settings) -> dbc.Alert:
    """A refusal that says why and what is still loaded."""
    kept = None
    if current_key:
        try:
            kept = uploads.upload_info(current_key, settings).name
        except SegmentationError:
            kept = None
    tail = f" {kept} is still loaded." if kept else ""
    return dbc.Alert(
        [
            html.I(className="bi bi-exclamation-triangle-fill me-2"),
            html.Strong(f"{name} was not accepted. "),
            reason,
            tail,
        ],
        color="danger",
        className="mb-0 py-2 small data-upload-refused",
    )


@callback(Output(ids.DATA_PREVIEW, "children"), Input(ids.DATA_UPLOAD_KEY, "data"), prevent_initial_call=True)
def show_preview(key: str | None) -> Any:
    """First rows and detected column types of the session's upload."""
    if not key:
        return _placeholder(PREVIEW_HINT)
    settings = service().settings
    try:
        info = uploads.upload_info(key, settings)
        table = uploads.upload_table(key, settings)
    except SegmentationError as err:
        return error_alert(str(err))
    rows, defs = preview_grid(table)
    grid = dag.AgGrid(
        id=ids.DATA_PREVIEW_GRID,
        rowData=rows,
        columnDefs=defs,
        defaultColDef={"resizable": True, "sortable": False, "filter": False},
        columnSize="autoSize",
        dashGridOptions={"theme": GRID_THEME, "animateRows": False, "suppressMovableColumns": True},
        style={"height": "300px", "width": "100%"},
        className="app-grid",
    )
    types = column_types(table)
    badge = {"number": "primary", "date": "info", "text": "secondary", "empty": "light"}
    type_table = html.Table(
        [
            html.Thead(
                html.Tr(
                    [html.Th("Column"), html.Th("Type"), html.Th("Filled"), html.Th("Distinct"), html.Th("Examples")]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(t["column"], className="fw-semibold"),
                            html.Td(dbc.Badge(t["type_label"], color=badge[t["type"]], className="data-type-badge")),
                            html.Td(fmt_pct(t["filled"])),
                            html.Td(f"{t['distinct']:,}"),
                            html.Td(
                                ", ".join(t["examples"]), className="text-body-secondary text-truncate data-examples"
                            ),
                        ]
                    )
                    for t in types
                ]
            ),
        ],
        id=ids.DATA_COLUMN_TYPES,
        className="table table-sm small mb-0 data-types-table",
    )
    head = html.Div(
        [
            html.I(className="bi bi-file-earmark-spreadsheet me-2"),
            html.Strong(info.name),
            html.Span(
                f" · {len(table):,} rows × {table.shape[1]} columns · {info.size_text}",
                className="text-body-secondary",
            ),
        ],
        className="small mb-2",
    )
    tabs = dbc.Tabs(
        [
            dbc.Tab(grid, label=f"First {min(len(table), len(rows))} rows", tab_id="rows", className="pt-2"),
            dbc.Tab(
                html.Div(type_table, className="data-types-wrap"),
                label="Column types",
                tab_id="types",
                className="pt-2",
            ),
        ],
        active_tab="rows",
        className="data-tabs",
    )
    return html.Div([head, tabs])


# ---------------------------------------------------------------- kind and mapping form


@callback(
    Output(ids.DATA_KIND, "value"),
    Output(ids.DATA_KIND, "options"),
    Output(ids.DATA_DETECTION, "children"),
    Output(ids.DATA_MAPPING, "children"),
    Output(ids.DATA_MAPPING_STATUS, "children"),
    Output(ids.DATA_MAPPING_UPLOAD, "contents"),
    Input(ids.DATA_UPLOAD_KEY, "data"),
    Input(ids.DATA_KIND, "value"),
    Input(ids.DATA_MAPPING_UPLOAD, "contents"),
    State(ids.DATA_MAPPING_UPLOAD, "filename"),
    State(ids.DATA_MAPPING_STORE, "data"),
    prevent_initial_call=True,  # the layout is the form without an upload
)
def build_form(
    key: str | None,
    kind: str | None,
    mapping_contents: str | None,
    mapping_filename: str | None,
    stored: dict[str, Any] | None,
) -> tuple[Any, ...]:
    """Detected kind, its evidence and the mapping form (suggested, loaded from a file, or restored)."""
    trigger = ctx.triggered_id if ctx.triggered else ids.DATA_UPLOAD_KEY
    settings = service().settings
    if not key:
        status = no_update
        if trigger == ids.DATA_MAPPING_UPLOAD and mapping_contents:
            status = error_alert("Upload the data file first, then load its mapping.")
        return (
            None,
            _kind_options(disabled=True),
            _placeholder(DETECTION_HINT),
            _placeholder(MAPPING_HINT),
            status,
            None,
        )
    try:
        table = uploads.upload_table(key, settings)
        detection = uploads.upload_detection(key, settings)
    except SegmentationError as err:
        return None, _kind_options(disabled=True), error_alert(str(err)), _placeholder(""), no_update, None
    status: Any = no_update
    mapping: Mapping | None = None
    if trigger == ids.DATA_MAPPING_UPLOAD:
        if not mapping_contents:
            raise PreventUpdate
        try:
            mapping = uploads.parse_mapping_upload(mapping_contents, mapping_filename)
        except SegmentationError as err:
            return no_update, no_update, no_update, no_update, error_alert(str(err)), None
        status = dbc.Alert(
            f"Loaded the mapping {uploads.display_name(mapping_filename)}.",
            color="success",
            className="py-2 small mb-0",
        )
    elif trigger == ids.DATA_KIND and kind in INPUT_KINDS:
        mapping = suggest_mapping(table, kind)
        status = None
    else:  # a new upload, or the page opened again: restore this upload's mapping if there is one
        if stored and stored.get("key") == key and stored.get("mapping"):
            try:
                mapping = Mapping.from_dict(stored["mapping"])
            except SegmentationError:
                mapping = None
        if mapping is None:
            mapping = suggest_mapping(table, detection.kind)
        status = None
    columns = [str(c) for c in table.columns]
    return (
        mapping.kind,
        _kind_options(disabled=False),
        detection_panel(detection, mapping.kind),
        mapping_form(mapping, columns),
        status,
        None,
    )


# ---------------------------------------------------------------- validation


@callback(
    Output(ids.DATA_VALIDATION, "children"),
    Output(ids.DATA_TRAIN, "disabled"),
    Output(ids.DATA_TRAIN_HINT, "children"),
    Output(ids.DATA_MAPPING_STORE, "data"),
    Output(ids.DATA_MAPPING_SAVE, "disabled"),
    Input(ids.data_map_field(ALL), "value"),
    State(ids.data_map_field(ALL), "id"),
    State(ids.DATA_UPLOAD_KEY, "data"),
    prevent_initial_call=True,  # no fields before an upload: the layout shows the placeholders
)
def check_mapping(values: list[Any], field_ids: list[dict[str, str]], key: str | None) -> tuple[Any, ...]:
    """Validate the upload under the form's mapping: the report, and Train enabled or not (with why)."""
    if not key or not field_ids:
        return (
            _placeholder(VALIDATION_HINT),
            True,
            TRAIN_HINT,
            no_update,
            True,
        )
    settings = service().settings
    fields = {fid["index"]: v for fid, v in zip(field_ids, values, strict=True)}
    try:
        mapping = mapping_from_fields(fields)
    except SegmentationError as err:
        return error_alert(str(err)), True, "Fix the mapping to train.", no_update, True
    try:
        validation = uploads.validate_upload_key(key, mapping, settings)
    except SegmentationError as err:
        return error_alert(str(err)), True, "Upload the file again.", no_update, True
    stored = {"key": key, "mapping": mapping.to_dict()}
    hint = (
        f"{settings.model}, k = {settings.k}, on {len(validation.features)} features."
        if validation.ok
        else "Training is disabled until the problems above are fixed."
    )
    return validation_report(validation), not validation.ok, hint, stored, False


@callback(
    Output(ids.DATA_MAPPING_DOWNLOAD, "data"),
    Input(ids.DATA_MAPPING_SAVE, "n_clicks"),
    State(ids.DATA_MAPPING_STORE, "data"),
    State(ids.DATA_UPLOAD_KEY, "data"),
    prevent_initial_call=True,
)
def save_mapping(n_clicks: int | None, stored: dict[str, Any] | None, key: str | None) -> dict[str, Any]:
    """Download the current mapping as a small JSON file."""
    if not n_clicks or not stored or not stored.get("mapping"):
        raise PreventUpdate
    mapping = Mapping.from_dict(stored["mapping"])
    stem = "data"
    if key:
        with contextlib.suppress(SegmentationError):
            stem = Path(uploads.upload_info(key, service().settings).name).stem or "data"
    return {"content": mapping.to_json(), "filename": f"{stem}-mapping.json", "type": "application/json"}
