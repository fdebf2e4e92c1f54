"""Training an upload on /data: submit it to the one job runner, follow it, make the result the session's data set.

:func:`train_upload` submits the training of the checked upload
(:mod:`dashboard.tasks`), :func:`follow_training` polls it (progress, place
in line, cancel) and :func:`activate_trained` makes the trained artifact the
session's ``ids.ACTIVE_ARTIFACT``.  The upload is read through the owner
registry (:func:`dashboard.uploads.upload_info`); the browser holds only its key.
The page's layout and upload steps are :mod:`dashboard.pages.data`.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html
from dash.exceptions import PreventUpdate

from dashboard import ids, jobs, tasks, uploads
from dashboard.components import error_alert, trained_alert
from dashboard.services import service
from dashboard.versions import activate_from
from pipeline.errors import SegmentationError

#: The training job's widgets on this page (:class:`dashboard.tasks.JobWidgets`).
TRAIN_WIDGETS = tasks.JobWidgets(
    store=ids.DATA_JOB,
    poll=ids.DATA_JOB_POLL,
    button=ids.DATA_TRAIN,
    cancel=ids.DATA_CANCEL,
    box=ids.DATA_PROGRESS_BOX,
    box_class="data-progress-box",
    bar=ids.DATA_PROGRESS,
    caption=ids.DATA_PROGRESS_TEXT,
)


@callback(
    output={
        **TRAIN_WIDGETS.outputs(duplicate=True),
        "status": Output(ids.DATA_TRAIN_STATUS, "children", allow_duplicate=True),
    },
    inputs={
        "n_clicks": Input(ids.DATA_TRAIN, "n_clicks"),
        "key": State(ids.DATA_UPLOAD_KEY, "data"),
        "stored": State(ids.DATA_MAPPING_STORE, "data"),
    },
    prevent_initial_call=True,
)
def train_upload(n_clicks: int | None, key: str | None, stored: dict[str, Any] | None) -> dict[str, Any]:
    """Submit the training of the upload with the checked mapping to the job runner.

    The job id goes to ``ids.DATA_JOB``; :func:`follow_training` polls it and
    :func:`activate_trained` then sets the session's active artifact.  A
    refusal (no upload, someone else's key, not enough memory) is shown at once.
    """
    if not n_clicks:
        raise PreventUpdate
    if not key or not stored or stored.get("key") != key:
        return {**TRAIN_WIDGETS.idle(), "status": error_alert("Upload a file and check its mapping first.")}
    try:
        uploads.upload_info(key, service().settings)  # the owner's upload, or the one refusal
        job_id = tasks.submit("train", {"source": {"upload": key, "mapping": stored.get("mapping")}})
    except SegmentationError as err:
        return {**TRAIN_WIDGETS.idle(), "status": error_alert(str(err))}
    return {**TRAIN_WIDGETS.started(job_id), "status": None}


TRAIN_WIDGETS.register_poll_switch()


@callback(
    output={
        **TRAIN_WIDGETS.outputs(duplicate=True),
        "status": Output(ids.DATA_TRAIN_STATUS, "children", allow_duplicate=True),
        "trained": Output(ids.DATA_TRAINED, "data"),
    },
    inputs={"_tick": Input(ids.DATA_JOB_POLL, "n_intervals"), "job": State(ids.DATA_JOB, "data")},
    prevent_initial_call=True,
)
def follow_training(_tick: int | None, job: dict[str, Any] | None) -> dict[str, Any]:
    """Poll the training job: progress or place in line; when it ends, the result, the error or the cancel."""
    return TRAIN_WIDGETS.follow_training(job, cancelled_alert, trained_message)


# The artifact just trained becomes this session's data set (navbar and every page follow).
activate_from(ids.DATA_TRAINED)


def trained_message(result: jobs.JobResult) -> dbc.Alert:
    """Success: what was trained, and where to look next."""
    return trained_alert(
        [html.Strong("Trained. "), result.summary()],
        "Every page now shows this data set in this browser tab. ",
        result.note,
        "data-trained",
    )


@callback(
    Output(ids.DATA_TRAIN_STATUS, "children", allow_duplicate=True),
    Output(ids.DATA_CANCEL, "disabled", allow_duplicate=True),
    Input(ids.DATA_CANCEL, "n_clicks"),
    State(ids.DATA_JOB, "data"),
    prevent_initial_call=True,
)
def cancelled(n_clicks: int | None, job: dict[str, Any] | None) -> tuple[Any, bool]:
    """Cancel the training job (any worker process can) and say that nothing changed."""
    return tasks.cancel_clicked(n_clicks, job, cancelled_alert())


def cancelled_alert() -> dbc.Alert:
    """Training was cancelled: the session keeps its data set."""
    return dbc.Alert(
        [
            html.I(className="bi bi-slash-circle me-2"),
            "Training cancelled. The data set you were using is unchanged.",
        ],
        color="secondary",
        className="small mb-0 data-cancelled",
    )
