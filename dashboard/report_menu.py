"""The "Download report" menu: the executive report (HTML, PDF, PowerPoint) of the session's version.

Choosing a format submits a ``report`` job to the one job runner
(:func:`dashboard.tasks.run_report`); the menu's progress bar follows it with
the shared :class:`~dashboard.tasks.JobWidgets`.  When the job is done its
file (``<data_dir>/reports/<job id>.<suffix>``, a name made by the server)
is downloaded from ``/download/<job id>`` (:mod:`dashboard.file_downloads`):
only by the job's owner (the runner refuses anyone else's job id) and only
while the owner may still read the version.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, tasks
from dashboard.components import error_alert, menu_button, menu_item
from dashboard.file_downloads import file_link, finished, link_outputs
from dashboard.services import service
from pipeline.errors import SegmentationError

#: Menu item id -> (file suffix, label).
FORMATS: dict[str, tuple[str, str]] = {
    ids.REPORT_HTML: (".html", "HTML (opens offline in any browser)"),
    ids.REPORT_PDF: (".pdf", "PDF (landscape, print-ready)"),
    ids.REPORT_PPTX: (".pptx", "PowerPoint (editable charts, speaker notes)"),
}

#: The menu's :func:`~dashboard.file_downloads.file_link` (page, menu).
LINK = ("report", "report")
WIDGETS = tasks.JobWidgets(
    store=ids.REPORT_JOB,
    poll=ids.REPORT_POLL,
    button=ids.REPORT_MENU,
    cancel=ids.REPORT_CANCEL,
    box=ids.REPORT_BOX,
    box_class="report-progress mt-2",
    bar=ids.REPORT_PROGRESS,
    caption=ids.REPORT_CAPTION,
)


def report_menu() -> html.Div:
    """The menu, its progress bar, status line and download target."""
    items = [menu_item(label, item_id) for item_id, (_suffix, label) in FORMATS.items()]
    return html.Div(
        [
            menu_button(
                [html.I(className="bi bi-file-earmark-arrow-down me-1", **{"aria-hidden": "true"}), "Download report"],
                items,
                menu_id=ids.REPORT_MENU,
            ),
            WIDGETS.block(),
            html.Div(id=ids.REPORT_STATUS, className="mt-2 small", role="status"),
            file_link(*LINK),
        ],
        className="report-menu mb-3 text-end",
    )


@callback(
    output={**WIDGETS.outputs(duplicate=True), "status": Output(ids.REPORT_STATUS, "children", allow_duplicate=True)},
    inputs={
        "clicks": [Input(item_id, "n_clicks") for item_id in FORMATS],
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
    },
    prevent_initial_call=True,
)
def start_report(clicks: list[int | None], artifact_id: str | None) -> dict[str, Any]:
    """Submit the report of the session's version in the chosen format."""
    if not any(clicks) or ctx.triggered_id not in FORMATS:
        raise PreventUpdate
    suffix = FORMATS[ctx.triggered_id][0]
    try:
        version = service().checked_view(artifact_id).id
        job_id = tasks.submit("report", {"artifact": version, "format": suffix})
    except SegmentationError as err:
        return {**WIDGETS.idle(), "status": error_alert(str(err))}
    return {**WIDGETS.started(job_id, format=suffix), "status": None}


WIDGETS.register_poll_switch()


@callback(
    output={
        **WIDGETS.outputs(duplicate=True),
        "status": Output(ids.REPORT_STATUS, "children", allow_duplicate=True),
        **link_outputs(*LINK),
    },
    inputs={"_tick": Input(ids.REPORT_POLL, "n_intervals"), "job": State(ids.REPORT_JOB, "data")},
    prevent_initial_call=True,
)
def follow_report(_tick: int | None, job: dict[str, Any] | None) -> dict[str, Any]:
    """One poll: progress, or the finished file's link (its download starts), or why not."""
    widgets, status, line = WIDGETS.follow(job)  # the runner refuses another owner's job
    if status is None:
        return {**widgets, "status": line, **{name: no_update for name in link_outputs(*LINK)}}
    return {**widgets, **finished(status, "Report")}


@callback(
    Output(ids.REPORT_STATUS, "children", allow_duplicate=True),
    Output(ids.REPORT_CANCEL, "disabled", allow_duplicate=True),
    Input(ids.REPORT_CANCEL, "n_clicks"),
    State(ids.REPORT_JOB, "data"),
    prevent_initial_call=True,
)
def cancel_report(n_clicks: int | None, job: dict[str, Any] | None) -> tuple[Any, bool]:
    """Cancel the report job."""
    return tasks.cancel_clicked(n_clicks, job, "Cancelling the report…")
