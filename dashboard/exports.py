"""Download menus for segment assignments (Overview, Segments, Explorer): one component, one callback.

:func:`download_menu` builds a small dropdown offering every format of
:data:`pipeline.data.export.EXPORT_FORMATS` for one or more groups of
customers ("rows"): ``"all"`` (every customer), ``"segment"`` (one segment)
or ``"shown"`` (the segments the explorer's filter shows).  Which segments a
group holds lives in the menu's ``dcc.Store`` (:func:`dashboard.ids.export_selection`),
filled by the page.  One pattern-matching callback (:func:`download`) serves
every menu: it asks :meth:`dashboard.services.SegmentationService.checked_view`
for the session's version (the request's owner must be allowed to read it; an
id from the browser is never a key by itself, and the default is never sent
in its place), checks the segment keys against that version and returns the
bytes of the one safe writer (:func:`pipeline.data.export.export_bytes`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import ids
from dashboard.services import ArtifactView, service
from pipeline.data.export import EXPORT_FORMATS, export_bytes, export_format
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation.assignments import AssignmentScope, assignment_export

log = logging.getLogger(__name__)

#: Customers an Excel download from the app may hold: openpyxl writes about 1,000 rows a second per
#: sheet on a busy 2-core machine (50,000 customers took 87 s), and the request waits for it.
APP_XLSX_MAX_ROWS = 100_000
#: Group of customers → menu heading.
ROW_HEADINGS: Mapping[str, str] = {"all": "All customers", "segment": "This segment", "shown": "Segments shown"}


def download_menu(
    page: str,
    menu: str,
    rows: Sequence[str] = ("all",),
    selection: Mapping[str, Sequence[str]] | None = None,
    label: str = "Download",
    what: str = "segment assignments",
) -> html.Div:
    """A "Download" dropdown: for each group of customers in ``rows``, one item per export format.

    Parameters
    ----------
    page, menu : str
        Name this menu (its dict ids); unique together on a page.
    rows : sequence of str
        Groups offered: keys of :data:`ROW_HEADINGS`.
    selection : mapping, optional
        Group → segment keys it holds, for groups known when the page is
        built (``{"segment": [key]}``); pages may update the store later.
    label : str
        The button's text.
    what : str
        Completes the button's accessible name (visually hidden): "Download segment assignments (CSV, ...)".
    """
    items: list[Any] = []
    for group in rows:
        if len(rows) > 1:
            items.append(dbc.DropdownMenuItem(ROW_HEADINGS[group], header=True))
        for fmt in EXPORT_FORMATS.values():
            items.append(
                dbc.DropdownMenuItem(fmt.label, id=ids.export_item(page, menu, group, fmt.key), className="small")
            )
    return html.Div(
        [
            dbc.DropdownMenu(
                items,
                label=[
                    html.I(className="bi bi-download me-1", **{"aria-hidden": "true"}),
                    label,
                    html.Span(f" {what} (CSV, Excel or Parquet)", className="visually-hidden"),
                ],
                size="sm",
                color="outline-primary",
                align_end=True,
                className="export-menu",
            ),
            dcc.Store(id=ids.export_selection(page, menu), data=dict(selection or {})),
            dcc.Download(id=ids.export_download(page, menu)),
            html.Div(id=ids.export_status(page, menu), className="small text-danger", role="status"),
        ],
        className="d-inline-block",
    )


def scope_of(v: ArtifactView, rows: str, selection: Mapping[str, Any] | None) -> AssignmentScope:
    """The customers a menu entry asks for, checked against the version's segments.

    Raises
    ------
    DataError
        An unknown group, no segment chosen, or a segment this version does not have.
    """
    if rows == "all":
        return AssignmentScope()
    if rows not in ROW_HEADINGS:
        raise DataError(f"Unknown group of customers {rows!r}.")
    keys = (selection or {}).get(rows) or []
    if not isinstance(keys, list) or not keys:
        raise DataError("Choose a segment first." if rows == "segment" else "Select at least one segment to show.")
    unknown = [str(k) for k in keys if str(k) not in v.segment_by_key]
    if unknown:
        raise DataError("This model has no segment " + ", ".join(f"“{k}”" for k in unknown[:3]) + ".")
    ordered = tuple(s["key"] for s in v.segments if s["key"] in set(map(str, keys)))
    label = v.names[ordered[0]] if len(ordered) == 1 else f"{len(ordered)} segments"
    return AssignmentScope(ordered, label)


def filename(scope: AssignmentScope, suffix: str) -> str:
    """``segment-assignments-all-customers.xlsx``, ``segment-assignments-high_value_loyal.csv``..."""
    what = scope.segments[0] if scope.segments is not None and len(scope.segments) == 1 else scope.label
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", what.lower()).strip("-") or "segments"
    return f"segment-assignments-{safe}{suffix}"


def download_data(
    artifact_id: str | None, rows: str, fmt: str, selection: Mapping[str, Any] | None, owner: str | None = None
) -> dict[str, Any]:
    """The ``dcc.Download`` data of one menu entry.

    Raises
    ------
    SegmentationError
        The version is not the owner's to read (:class:`~pipeline.errors.AccessDenied`)
        or is damaged, an unknown format, or a refused group of customers.
    """
    v = service().checked_view(artifact_id, owner)
    export = export_format(fmt)
    scope = scope_of(v, rows, selection)
    n = len(scope.rows(v.assignments))
    if export.key == "xlsx" and n > APP_XLSX_MAX_ROWS:
        raise DataError(
            f"{n:,} customers are too many for an Excel download here (at most {APP_XLSX_MAX_ROWS:,}): "
            "download CSV or Parquet, or write Excel with python -m pipeline score --out FILE.xlsx."
        )
    content = export_bytes(assignment_export(v.manifest, v.assignments, scope), export.key)
    return dcc.send_bytes(content, filename(scope, export.suffix), type=export.media_type)


@callback(
    Output(ids.export_download(MATCH, MATCH), "data"),
    Output(ids.export_status(MATCH, MATCH), "children"),
    Input(ids.export_item(MATCH, MATCH, ALL, ALL), "n_clicks"),
    State(ids.export_selection(MATCH, MATCH), "data"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def download(clicks: list[int | None], selection: dict[str, Any] | None, artifact_id: str | None) -> tuple[Any, Any]:
    """Send the chosen customers in the chosen format, or say why not (nothing is sent)."""
    trigger = ctx.triggered_id
    if not trigger or not any(clicks or []):
        return no_update, no_update
    try:
        return download_data(artifact_id, str(trigger["rows"]), str(trigger["format"]), selection), ""
    except SegmentationError as err:
        log.warning("download refused: %s", err)
        return no_update, str(err)
