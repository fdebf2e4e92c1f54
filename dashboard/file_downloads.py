"""Files made by background jobs (reports, large exports), sent to their owner as a plain HTTP download.

``dcc.Download`` sends a file inside a callback response, base64-encoded in
JSON: the server holds the file, its base64 text and the JSON at once, and the
browser decodes all of it before it can save anything.  That was fine for a
few-hundred-kilobyte table and a report, but the CSV of a million customers
is 292 MB (390 MB of JSON).  A job's file is therefore served by
``GET /download/<job id>`` (:func:`install`), streamed from disk by Flask with
``Content-Disposition: attachment``, and only:

- to the job's owner: the runner refuses anyone else's job id, and the
  answer to a refused, unknown, unfinished or failed job is the same 404, so
  an id copied from another session tells nothing;
- for a job kind of :data:`FILE_JOBS`, whose file name is made on the server
  from the job id (never from the browser);
- while the owner may still read the version the file was made from
  (:meth:`~dashboard.services.SegmentationService.readable`, the registry's
  check: the version's tables are not loaded to send a file);
- with ``Cache-Control: private, no-store``.

The page side: a finished job's callback sets the ``href`` of the menu's
:func:`file_link` (a visible "download again" link), and one clientside
callback clicks a link once when its ``href`` changes, so the browser's own
download starts at once.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
import flask
from dash import MATCH, Input, Output, clientside_callback, html, no_update

from dashboard import ids, tasks
from dashboard.components import error_alert
from dashboard.identity import current_owner
from dashboard.runner import JobStatus
from dashboard.services import service
from pipeline.config import Settings
from pipeline.errors import SegmentationError

#: Job kinds that leave a file for their owner → where that job wrote it.
FILE_JOBS: dict[str, Callable[[Settings, str, str], Path]] = {
    "report": tasks.report_file,
    "export": tasks.export_file,
}
#: Where a job's file is downloaded from (relative to the app's path prefix), followed by the job id.
PREFIX = "/download/"
NOT_FOUND = "No such file: it is not yours, not finished, or no longer kept. Make it again.\n"

#: Start a download once: click the link whose href was just set (it carries ``download``).
clientside_callback(
    """function (href) {
        if (!href) { return window.dash_clientside.no_update; }
        const id = window.dash_clientside.callback_context.triggered_id;
        const link = document.getElementById(JSON.stringify(id, Object.keys(id).sort()));
        if (link) { link.click(); }
        return 'Download the file again';
    }""",
    Output(ids.file_link(MATCH, MATCH), "title"),
    Input(ids.file_link(MATCH, MATCH), "href"),
    prevent_initial_call=True,
)


#: The properties of a :func:`file_link` a finished job sets, and their values while there is no file.
LINK_PROPS = ("href", "children", "className")
NO_LINK: dict[str, Any] = {"link_href": None, "link_children": "", "link_className": "d-none"}


def file_link(page: str, menu: str) -> html.A:
    """The hidden-until-ready link to the file of a menu's finished job."""
    return html.A(id=ids.file_link(page, menu), download="", className="d-none", children="")


def link_outputs(page: Any, menu: Any, duplicate: bool = False) -> dict[str, Output]:
    """Named outputs ``link_href``, ``link_children``, ``link_className`` of a menu's :func:`file_link`."""
    return {f"link_{prop}": Output(ids.file_link(page, menu), prop, allow_duplicate=duplicate) for prop in LINK_PROPS}


def finished(status: JobStatus, what: str) -> dict[str, Any]:
    """A finished file job's ``status`` line and link values (for :func:`link_outputs`), or why there is no file.

    ``what`` names the file for the messages ("Report", "Download").
    """
    unchanged: dict[str, Any] = {f"link_{prop}": no_update for prop in LINK_PROPS}
    if status.state == "cancelled":
        return {**unchanged, "status": f"{what} cancelled."}
    if status.state == "failed" or not status.result:
        return {**unchanged, "status": error_alert(status.error or f"{what} failed.")}
    try:
        job_file(status.id, current_owner(), service().settings)  # the owner's, still readable, still there
    except SegmentationError as err:
        return {**unchanged, "status": error_alert(f"{err} Ask for it again.")}
    filename = str(status.result.get("filename"))
    link = link_values(status.id, filename)
    return {"status": f"{what} ready: {filename}", **{f"link_{prop}": value for prop, value in link.items()}}


def link_values(job_id: str, filename: str) -> dict[str, Any]:
    """``href``, ``children`` and ``className`` of a :func:`file_link` for a finished job's file."""
    return {
        "href": dash.get_relative_path(f"{PREFIX}{job_id}"),
        "children": f"Download {filename} again",
        "className": "small",
    }


def job_file(job_id: str, owner: str, settings: Settings) -> tuple[Path, str]:
    """The file and download name of ``owner``'s finished job ``job_id``.

    Raises
    ------
    SegmentationError
        Not the owner's job (or no such job), not a file job, not finished,
        the version is no longer theirs to read, or the file is gone.
    """
    status = tasks.runner().status(job_id, owner)
    if status.kind not in FILE_JOBS or status.state != "done" or not status.result:
        raise SegmentationError("That job has no file to send.")
    service().readable(status.result.get("artifact"), owner)  # the registry's check; the version is not loaded
    path = FILE_JOBS[status.kind](settings, job_id, str(status.result.get("format") or ""))
    if not path.is_file():
        raise SegmentationError("The file is no longer on the server.")
    return path, str(status.result.get("filename") or path.name)


def install(app: dash.Dash) -> None:
    """Add ``GET /download/<job id>`` to the app's server (call from the app factory)."""

    def download(job_id: str) -> flask.Response:
        try:
            path, filename = job_file(job_id, current_owner(), service().settings)
        except SegmentationError:
            return flask.Response(NOT_FOUND, 404, mimetype="text/plain")
        response = flask.send_file(
            path,
            as_attachment=True,
            download_name=filename,
            mimetype=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            max_age=0,
            conditional=True,
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response

    rule = app.config.routes_pathname_prefix.rstrip("/") + PREFIX + "<job_id>"
    app.server.add_url_rule(rule, "job_file_download", download)
