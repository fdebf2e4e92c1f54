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

A download of more than :data:`IN_REQUEST_MAX_ROWS` customers is not made
inside the request: it becomes an ``export`` job of the one job runner
(:func:`dashboard.tasks.run_export`, the same safe writer, to a file), the
menu shows its progress with a Cancel button, and the finished file is
fetched from ``/download/<job id>`` (:mod:`dashboard.file_downloads`) instead
of travelling base64-encoded inside a callback response (the CSV of a
million customers is 292 MB).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import ids, tasks
from dashboard.components import menu_button, menu_item
from dashboard.file_downloads import NO_LINK, file_link, finished, link_outputs
from dashboard.services import ArtifactView, service
from pipeline.data.export import EXPORT_FORMATS, ExportFormat, export_bytes, export_format
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation.assignments import AssignmentScope, assignment_export

log = logging.getLogger(__name__)

#: Customers an Excel download from the app may hold: openpyxl writes about 1,000 rows a second per
#: sheet on a busy 2-core machine (50,000 customers took 87 s), and the request waits for it.
APP_XLSX_MAX_ROWS = 100_000
#: Downloads of more customers than this are made by a background job and fetched as a file; smaller ones
#: come with the callback's response (50,000 customers: about 15 MB of CSV, under a second to write).
IN_REQUEST_MAX_ROWS = 50_000
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
            items.append(html.Div(ROW_HEADINGS[group], className="dropdown-header"))
        for fmt in EXPORT_FORMATS.values():
            items.append(menu_item(fmt.label, ids.export_item(page, menu, group, fmt.key), "small"))
    return html.Div(
        [
            menu_button(
                [
                    html.I(className="bi bi-download me-1", **{"aria-hidden": "true"}),
                    label,
                    html.Span(f" {what} (CSV, Excel or Parquet)", className="visually-hidden"),
                ],
                items,
                class_name="export-menu",
            ),
            dcc.Store(id=ids.export_selection(page, menu), data=dict(selection or {})),
            dcc.Download(id=ids.export_download(page, menu)),
            job_widgets(page, menu).block(interval_ms=700),
            html.Div(
                [html.Span(id=ids.export_status(page, menu), className="text-danger me-2"), file_link(page, menu)],
                className="small export-status",
                role="status",
            ),
        ],
        className="d-inline-block",
    )


def job_widgets(page: Any, menu: Any) -> tasks.JobWidgets:
    """The progress widgets of one menu's export job (``MATCH`` for the callbacks)."""
    part = functools.partial(ids.export_job_part, page=page, menu=menu)
    return tasks.JobWidgets(
        store=part("job"),
        poll=part("poll"),
        button=None,
        cancel=part("cancel"),
        box=part("box"),
        box_class="export-progress mt-1",
        bar=part("bar"),
        caption=part("caption"),
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


def customers_in(v: ArtifactView, scope: AssignmentScope) -> int:
    """How many customers a download of ``scope`` holds (without building the table)."""
    if scope.segments is None:
        return len(v.customers)
    return int(v.customers["Segment"].astype(str).isin(scope.segments).sum())


@dataclasses.dataclass(frozen=True)
class CheckedDownload:
    """A download the session may have: its version, format, customers and file name."""

    view: ArtifactView
    export: ExportFormat
    scope: AssignmentScope
    customers: int
    filename: str

    @property
    def in_request(self) -> bool:
        """Small enough to send with the callback's response (else: an ``export`` job)."""
        return self.customers <= IN_REQUEST_MAX_ROWS

    def job_parameters(self) -> dict[str, Any]:
        """The ``export`` job's parameters (:func:`dashboard.tasks.run_export`)."""
        segments = list(self.scope.segments) if self.scope.segments is not None else None
        return {
            "artifact": self.view.id,
            "segments": segments,
            "label": self.scope.label,
            "format": self.export.key,
            "filename": self.filename,
        }


def check_download(
    artifact_id: str | None, rows: str, fmt: str, selection: Mapping[str, Any] | None, owner: str | None = None
) -> CheckedDownload:
    """Check one menu entry's request: the version readable by the owner, the format, the customers.

    Raises
    ------
    SegmentationError
        The version is not the owner's to read (:class:`~pipeline.errors.AccessDenied`)
        or is damaged, an unknown format, a refused group of customers, or too many for Excel.
    """
    v = service().checked_view(artifact_id, owner)
    export = export_format(fmt)
    scope = scope_of(v, rows, selection)
    n = customers_in(v, scope)
    if export.key == "xlsx" and n > APP_XLSX_MAX_ROWS:
        raise DataError(
            f"{n:,} customers are too many for an Excel download here (at most {APP_XLSX_MAX_ROWS:,}): "
            "download CSV or Parquet, or write Excel with python -m pipeline score --out FILE.xlsx."
        )
    return CheckedDownload(v, export, scope, n, filename(scope, export.suffix))


def send(checked: CheckedDownload) -> dict[str, Any]:
    """The ``dcc.Download`` data of a checked download, made now by the one safe writer."""
    v = checked.view
    content = export_bytes(assignment_export(v.manifest, v.assignments, checked.scope), checked.export.key)
    return dcc.send_bytes(content, checked.filename, type=checked.export.media_type)


def download_data(
    artifact_id: str | None, rows: str, fmt: str, selection: Mapping[str, Any] | None, owner: str | None = None
) -> dict[str, Any]:
    """The ``dcc.Download`` data of one menu entry, made in this request whatever its size.

    Raises
    ------
    SegmentationError
        As :func:`check_download`.
    """
    return send(check_download(artifact_id, rows, fmt, selection, owner))


WIDGETS = job_widgets(MATCH, MATCH)
#: Everything :func:`download` and :func:`follow_export` may set.
OUTPUTS = {
    "data": Output(ids.export_download(MATCH, MATCH), "data", allow_duplicate=True),
    "status": Output(ids.export_status(MATCH, MATCH), "children", allow_duplicate=True),
    **WIDGETS.outputs(duplicate=True),
    **link_outputs(MATCH, MATCH, duplicate=True),
}


def _unchanged(*names: str) -> dict[str, Any]:
    return {name: no_update for name in OUTPUTS if name not in names}


@callback(
    output=OUTPUTS,
    inputs={
        "clicks": Input(ids.export_item(MATCH, MATCH, ALL, ALL), "n_clicks"),
        "selection": State(ids.export_selection(MATCH, MATCH), "data"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
    },
    prevent_initial_call=True,
)
def download(clicks: list[int | None], selection: dict[str, Any] | None, artifact_id: str | None) -> dict[str, Any]:
    """Send the chosen customers in the chosen format, start a job for a large download, or say why not."""
    trigger = ctx.triggered_id
    if not trigger or not any(clicks or []):
        return _unchanged()
    try:
        checked = check_download(artifact_id, str(trigger["rows"]), str(trigger["format"]), selection)
        if checked.in_request:
            return {**_unchanged("data", "status"), "data": send(checked), "status": ""}
        job_id = tasks.submit("export", checked.job_parameters())
    except SegmentationError as err:
        log.warning("download refused: %s", err)
        return {**_unchanged("status"), "status": str(err)}
    return {**_unchanged(), **WIDGETS.started(job_id), **NO_LINK, "status": ""}


@callback(
    output=OUTPUTS,
    inputs={"_tick": Input(WIDGETS.poll, "n_intervals"), "job": State(WIDGETS.store, "data")},
    prevent_initial_call=True,
)
def follow_export(_tick: int | None, job: dict[str, Any] | None) -> dict[str, Any]:
    """One poll of a large download: progress, or the finished file (its download starts), or why not."""
    widgets, status, line = WIDGETS.follow(job)  # the runner refuses another owner's job
    if status is None:
        return {**_unchanged(*widgets, "status"), **widgets, "status": line}
    done = finished(status, "Download")
    if isinstance(done["status"], str):  # the status line is red for refusals; this one is news, not an error
        done["status"] = html.Span(done["status"], className="text-body-secondary")
    return {**_unchanged(*widgets, *done), **widgets, **done}


@callback(
    Output(ids.export_status(MATCH, MATCH), "children", allow_duplicate=True),
    Output(WIDGETS.cancel, "disabled", allow_duplicate=True),
    Input(WIDGETS.cancel, "n_clicks"),
    State(WIDGETS.store, "data"),
    prevent_initial_call=True,
)
def cancel_export(n_clicks: int | None, job: dict[str, Any] | None) -> tuple[Any, bool]:
    """Cancel the large download being made."""
    return tasks.cancel_clicked(n_clicks, job, "Cancelling the download…")
