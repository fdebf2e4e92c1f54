"""The versions list of /data (the data sets and model versions this owner may use), and switching to one.

One row per version the request's owner may read (their own, shared ones, the
server's), with Switch, Share/Unshare and Delete; every action is checked on
the server by :class:`dashboard.services.SegmentationService` (the owner
registry), never trusted from the browser.  A version that fails its checks is
listed as "damaged, not loaded: <reason>".  Imported by the /data page
(:mod:`dashboard.pages.data`), which places the list.
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, jobs
from dashboard.components import error_alert
from dashboard.identity import display_owner
from dashboard.services import VersionEntry, service
from pipeline.errors import SegmentationError


def _placeholder(text: str) -> html.Div:
    return html.Div(text, className="text-body-secondary small data-placeholder")


@callback(
    Output(ids.DATA_VERSIONS, "children"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.DATA_VERSIONS_TICK, "data"),
    prevent_initial_call=True,  # the page's layout lists them first
)
def show_versions(active_id: str | None, _tick: int | None) -> Any:
    """The list again after the session's version changed or a version was switched, shared or deleted."""
    return versions_list(active_id)


def versions_list(active_id: str | None) -> Any:
    """The versions this owner may use (own, shared, the server's), the session's one marked.

    When the session's version cannot be shown (damaged, or no longer
    available to this owner) a warning says so above the list.
    """
    svc = service()
    active = svc.view(active_id)
    table = versions_table(svc.versions(), active.id, svc.default_id)
    if active.notice:
        return html.Div([html.Div(error_alert(active.notice), className="data-active-notice"), table])
    return table


def versions_table(entries: list[VersionEntry], active: str, default_id: str) -> Any:
    """One row per version: name, owner, rows, customers, date, model, k, silhouette, switch/share/delete.

    A version that fails its checks is listed as "damaged, not loaded: <reason>" with no Switch.
    """
    if not entries:
        return _placeholder("No data sets yet.")
    rows = [_version_row(e, active, default_id) for e in entries]
    head = html.Thead(
        html.Tr(
            [
                html.Th("Data set"),
                html.Th("Rows", className="text-end"),
                html.Th("Customers", className="text-end"),
                html.Th("Trained (UTC)"),
                html.Th("Model"),
                html.Th("k", className="text-end"),
                html.Th("Silhouette", className="text-end"),
                html.Th(html.Span("Actions", className="visually-hidden")),
            ]
        )
    )
    return html.Div(
        html.Table(
            [head, html.Tbody(rows)], className="table table-sm table-hover align-middle small mb-0 data-versions-table"
        ),
        className="table-responsive",
    )


def _ownership_badges(entry: VersionEntry, default_id: str) -> list[Any]:
    record = entry.record
    if entry.artifact_id == default_id:
        return [dbc.Badge("default", color="secondary", className="ms-1")]
    if record.system:
        return [dbc.Badge("server", color="secondary", className="ms-1", title="Shared read-only by the server")]
    if not record.mine:
        who = display_owner(record.owner)
        return [dbc.Badge(f"shared by {who}", color="info", className="ms-1 data-shared-by")]
    if record.shared:
        return [
            dbc.Badge("shared", color="info", className="ms-1 data-shared", title="Everyone on this server can read it")
        ]
    return []


def _version_row(entry: VersionEntry, active: str, default_id: str) -> html.Tr:
    aid = entry.artifact_id
    record = entry.record
    m = entry.manifest or {}
    data = m.get("data") or {}
    model = m.get("model") or {}
    in_use = aid == active and entry.problem is None
    name_cell: list[Any] = [html.Span(data.get("name") or record.dataset_name, className="fw-semibold")]
    if in_use:
        name_cell.append(dbc.Badge("in use", color="primary", className="ms-2 data-in-use"))
    name_cell += _ownership_badges(entry, default_id)
    if entry.problem:
        name_cell.append(
            html.Div(f"damaged, not loaded: {entry.problem}", className="text-danger small data-version-damaged")
        )
    actions: list[Any] = [
        dbc.Button(
            "Switch",
            id=ids.data_version_action("switch", aid),
            size="sm",
            color="primary",
            outline=True,
            disabled=in_use or entry.problem is not None,
            title="Use this data set on every page (this browser tab)",
        )
    ]
    if record.mine:
        actions.append(
            dbc.Button(
                "Unshare" if record.shared else "Share",
                id=ids.data_version_action("unshare" if record.shared else "share", aid),
                size="sm",
                color="secondary",
                outline=True,
                title="Stop showing it to others"
                if record.shared
                else "Let everyone on this server see and switch to it (read-only)",
            )
        )
        actions.append(
            dcc.ConfirmDialogProvider(
                dbc.Button(html.I(className="bi bi-trash"), size="sm", color="danger", outline=True, title="Delete"),
                id=ids.data_version_action("delete", aid),
                message=f"Delete {data.get('name') or record.dataset_name} "
                f"({model.get('name', '?')}, k = {model.get('k', '?')})? This cannot be undone.",
            )
        )
    else:
        actions.append(
            html.Span(
                html.I(className="bi bi-lock"),
                className="text-body-secondary px-2",
                title="Read-only: shared by its owner or the server.",
            )
        )
    sil = (m.get("metrics") or {}).get("silhouette")
    return html.Tr(
        [
            html.Td(name_cell),
            html.Td(f"{data.get('rows_read', 0):,}", className="text-end"),
            html.Td(f"{data.get('n_customers', 0):,}", className="text-end"),
            html.Td(str(m.get("created_at") or record.added_at)[:16].replace("T", " ")),
            html.Td(f"{model.get('name', '?')} · {model.get('scaling', '')}" if model else "n/a"),
            html.Td(str(model.get("k", "")), className="text-end"),
            html.Td(f"{sil:.2f}" if sil is not None else "n/a", className="text-end"),
            html.Td(html.Div(actions, className="d-flex gap-1 justify-content-end")),
        ],
        className="data-version-active"
        if in_use
        else ("data-version-damaged-row" if entry.problem else "data-version"),
        **{"data-artifact": aid},
    )


def activate_from(store: str) -> None:
    """Make the version a page's ``store`` names (``{"id": artifact id or None, "at": time}``) the session's.

    A clientside callback copies the id to the session's
    :data:`~dashboard.ids.ACTIVE_ARTIFACT` (None: back to the default data
    set).  The page's server callbacks write the page's own store, not the
    app shell's: Dash runs a callback with an output outside a new page on
    every insertion of that page, whatever ``prevent_initial_call`` says, so a
    server callback writing the session's version directly cost a round trip
    on each visit.  The id is no key by itself: every read checks its owner.
    """
    clientside_callback(
        f"function (chosen) {{  // {store}: the session's version\n"
        "    if (!chosen || typeof chosen !== 'object' || !('id' in chosen)) {\n"
        "        return window.dash_clientside.no_update;\n"
        "    }\n"
        "    return chosen.id === null ? null : String(chosen.id);\n"
        "}",
        Output(ids.ACTIVE_ARTIFACT, "data", allow_duplicate=True),
        Input(store, "data"),
        prevent_initial_call=True,
    )


def chosen(artifact_id: str | None) -> dict[str, Any]:
    """The value of a page's version store that makes ``artifact_id`` (None: the default) the session's version."""
    return {"id": artifact_id, "at": time.time()}


activate_from(ids.DATA_VERSION_CHOSEN)


@callback(
    output=[
        Output(ids.DATA_VERSION_CHOSEN, "data"),
        Output(ids.DATA_VERSIONS_TICK, "data"),
        Output(ids.DATA_VERSIONS_STATUS, "children"),
    ],
    inputs={
        "_switch": Input(ids.data_version_action("switch", ALL), "n_clicks"),
        "_delete": Input(ids.data_version_action("delete", ALL), "submit_n_clicks"),
        "_share": Input(ids.data_version_action("share", ALL), "n_clicks"),
        "_unshare": Input(ids.data_version_action("unshare", ALL), "n_clicks"),
        "active_id": State(ids.ACTIVE_ARTIFACT, "data"),
        "tick": State(ids.DATA_VERSIONS_TICK, "data"),
    },
    prevent_initial_call=True,
)
def version_action(
    _switch: list[Any],
    _delete: list[Any],
    active_id: str | None,
    tick: int | None,
    _share: list[Any] | None = None,
    _unshare: list[Any] | None = None,
) -> tuple[Any, ...]:
    """Switch this session to a version, share/unshare one, or delete one (each checked against the owner).

    The session's new version goes to the page's store (:func:`activate_from`).
    """
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(t.get("value") for t in ctx.triggered):
        raise PreventUpdate
    action = str(trigger["type"]).removeprefix("data-version-")
    active, new_tick, message = apply_version_action(action, str(trigger["index"]), active_id, tick or 0)
    return (no_update if active is no_update else chosen(active)), new_tick, message


def apply_version_action(action: str, artifact_id: str, active_id: str | None, tick: int) -> tuple[Any, ...]:
    """``(active artifact, tick, message)`` after switching to, sharing, unsharing or deleting ``artifact_id``.

    Every action is checked on the server against the request's owner
    (:class:`~pipeline.errors.AccessDenied` is shown as a message; nothing changes).
    """
    svc = service()
    if action not in ("switch", "delete", "share", "unshare"):
        raise PreventUpdate
    try:
        if action == "switch":
            svc.readable(artifact_id)
            _manifest, problem = svc.check(artifact_id)
            if problem:
                return no_update, no_update, error_alert(f"This version is damaged, not loaded: {problem}")
            return artifact_id, no_update, None
        if action in ("share", "unshare"):
            record = svc.store.share(svc.owner(), artifact_id, shared=action == "share")
            text = (
                f"{record.dataset_name} is now shared read-only with everyone on this server."
                if record.shared
                else f"{record.dataset_name} is no longer shared; only you see it."
            )
            return no_update, tick + 1, dbc.Alert(text, color="secondary", className="py-2 small", dismissable=True)
        name = jobs.delete_artifact(svc, artifact_id)
    except SegmentationError as err:
        return no_update, tick + 1, error_alert(str(err))
    was_active = active_id == artifact_id
    message = dbc.Alert(
        f"Deleted {name} ({artifact_id})." + (" This tab is back on the default data set." if was_active else ""),
        color="secondary",
        className="py-2 small",
        dismissable=True,
    )
    return (None if was_active else no_update), tick + 1, message
