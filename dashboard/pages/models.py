"""Model comparison (/models): which way of segmenting should we trust, and train it.

The comparison (:mod:`pipeline.segmentation.compare`) is computed for the session's
artifact: its data and the settings it was trained with.  It is cached as
JSON beside the artifacts; that file is the only shared state, so any worker
process can draw the page from it.  Browser stores hold small keys only.

Callbacks
---------
``load``
    Session's artifact changed → when its comparison is not cached: ``MODELS_PENDING``
    (starts the comparison job) and the status text (the layout sets them first).
``compute`` → ``follow_compute`` (job runner: progress, place in line, cancel)
    ``MODELS_PENDING`` (passed on in the browser as ``MODELS_COMPUTE_REQUEST``)
    → submits the ``compare`` job of :mod:`dashboard.tasks` (computes and
    caches the comparison in a child process); its poll writes
    ``MODELS_COMPUTED`` when the job ends.
``computed``
    ``MODELS_COMPUTED`` → the page, metric chart and form drawn from the new
    cache entry, or the error.
``layout``
    The page for the session's artifact and theme, filled in from the cached
    comparison (recommendation, table, notes, training form; the compute
    panel while there is none) with the same view functions as the callbacks
    (:mod:`dashboard.model_comparison.views`).
``draw_charts``
    The charts (below the fold) once their first row scrolls into view.
``fill``, ``metric_chart``, ``prefill``, ``churn_check``
    Session's artifact and theme changed → recommendation, table, charts and
    the training form redrawn.
``sort_table``
    A header of the models table clicked → its rows re-ordered, ``aria-sort``
    moved, the sort kept in ``MODELS_TABLE_SORT`` for later redraws.
``choice_note``
    Training form changed → what the chosen model means (native or
    nearest-centroid prediction, k not used by density models) and input
    checks (the layout sets them for the form's first values).
``train_choice`` → ``follow_train`` (job runner) → ``activate`` (in the browser)
    Submits the ``train`` job for the chosen model/k/scaling on the same data;
    when it is done the new version becomes the session's artifact (navbar
    and every page follow).

A switch to this page is one round trip: nothing the layout brings fires a
server callback (see :func:`layout`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, tasks
from dashboard.components import (
    error_alert,
    page_header,
)
from dashboard.first_render import fill_in, session_choice, when_in_view
from dashboard.model_comparison.blocks import (
    computing_message,
    train_cancelled_alert,
    trained_message,
)
from dashboard.model_comparison.data import (
    model_count,
    training_overrides,
)
from dashboard.model_comparison.layout import DEFAULT_METRIC, churn_check_card, compute_panel, content, train_card
from dashboard.model_comparison.views import (
    CHARTS,
    CHOICE_OUTPUTS,
    CHURN_OUTPUTS,
    FORM_OUTPUTS,
    LOAD_OUTPUTS,
    METRIC_OUTPUTS,
    PAGE_OUTPUTS,
    STATUS_OUTPUTS,
    TABLE_OUTPUTS,
    choice_view,
    churn_view,
    form_values,
    load_view,
    metric_help,
    metric_view,
    outputs,
    page_view,
    shown_comparison,
    table_view,
)
from dashboard.services import service
from dashboard.versions import activate_from
from pipeline.errors import SegmentationError

dash.register_page(
    __name__,
    path="/models",
    name="Models",
    title="Model comparison · Customer Segments",
    order=2,
    description=lambda: (
        f"{model_count().capitalize()} segmentation methods compared on the same customers, "
        "with a recommendation you can train in one click."
    ),
)

log = logging.getLogger(__name__)


def layout(**kwargs: Any) -> html.Div:
    """The page for the session's artifact and theme (:mod:`dashboard.first_render`).

    Everything but the charts is filled in here from the cached comparison
    (the compute panel, and the request to compute it, when there is none),
    with what the callbacks would otherwise answer right after it arrives
    (the note under the training form); the charts, below the fold, are
    placeholders drawn when their first row scrolls into view (:func:`draw_charts`).
    """
    artifact_id, theme = session_choice(kwargs)
    active, result = shown_comparison(artifact_id)
    form = form_values(active, result) if result is not None else {}
    churn_values = dict(zip(CHURN_OUTPUTS, churn_view(active, theme, chart=False), strict=True))
    groups: list[tuple[dict[str, tuple[str, str]], dict[str, Any]]] = [
        (PAGE_OUTPUTS, page_view(active, result, theme, charts=False)),
        (METRIC_OUTPUTS, {**metric_view(None, DEFAULT_METRIC, theme), "metric_help": metric_help(DEFAULT_METRIC)}),
        (FORM_OUTPUTS, form),
        (CHOICE_OUTPUTS, choice_view(form.get("model"), form.get("k"))),
        (LOAD_OUTPUTS, load_view(artifact_id)),
        (CHURN_OUTPUTS, churn_values),
    ]
    return fill_in(page_frame(), {group[name]: value for group, values in groups for name, value in values.items()})


def page_frame() -> html.Div:
    """The page's components, empty."""
    return html.Div(
        [
            page_header(
                "Model comparison",
                f"Which way of segmenting should we trust? {model_count().capitalize()} methods compared on the same customers, "
                "with a recommendation you can train in one click.",
                "bar-chart-steps",
            ),
            dcc.Store(id=ids.MODELS_PENDING),
            dcc.Store(id=ids.MODELS_COMPUTE_REQUEST),
            dcc.Store(id=ids.MODELS_COMPUTED),
            dcc.Store(id=ids.MODELS_TRAINED),
            dcc.Store(id=ids.MODELS_COMPUTE_JOB),
            dcc.Interval(id=ids.MODELS_COMPUTE_POLL, interval=500, disabled=True),
            dcc.Store(id=ids.MODELS_TRAIN_JOB, storage_type="session"),  # followed again after a page change
            dcc.Interval(id=ids.MODELS_TRAIN_POLL, interval=500, disabled=True),
            dbc.Row(
                [
                    dbc.Col([compute_panel(), html.Div(id=ids.MODELS_RECOMMENDATION, className="h-100")], lg=7),
                    dbc.Col(train_card(), lg=5),
                ],
                className="g-3 mb-3",
            ),
            content(),
            churn_check_card(),
            dcc.Store(id=ids.MODELS_CHARTS_WANTED, data=False),
        ],
        className="models-page",
    )


# --- callbacks ----------------------------------------------------------------------------------------------
@callback(
    output=outputs(LOAD_OUTPUTS),
    inputs={"artifact_id": Input(ids.ACTIVE_ARTIFACT, "data")},
    prevent_initial_call=True,  # the layout sets them first
)
def load(artifact_id: str | None) -> dict[str, Any]:
    """The session's artifact changed: start computing its comparison when it is not cached yet.

    When it is cached there is nothing to do here: :func:`fill` draws it.
    """
    return load_view(artifact_id)


# A comparison to compute (set by the layout, :func:`load` or :func:`compute_again`) goes to :func:`compute`.
# The layout's value would not fire a server callback declared with prevent_initial_call, and one without it
# would cost every visit a round trip: this copy runs in the browser and only passes on a real request.
clientside_callback(
    """function (pending) {  // models: start the comparison job
    return pending && pending.artifact ? pending : window.dash_clientside.no_update;
}""",
    Output(ids.MODELS_COMPUTE_REQUEST, "data"),
    Input(ids.MODELS_PENDING, "data"),
)


#: The comparison job's widgets (:class:`dashboard.tasks.JobWidgets`).
COMPUTE_WIDGETS = tasks.JobWidgets(
    store=ids.MODELS_COMPUTE_JOB,
    poll=ids.MODELS_COMPUTE_POLL,
    button=None,
    cancel=ids.MODELS_COMPUTE_CANCEL,
    box=ids.MODELS_COMPUTE_BOX,
    box_class="models-progress-box",
    bar=ids.MODELS_COMPUTE_PROGRESS,
    caption=ids.MODELS_COMPUTE_TEXT,
)
#: The training job's widgets.
TRAIN_WIDGETS = tasks.JobWidgets(
    store=ids.MODELS_TRAIN_JOB,
    poll=ids.MODELS_TRAIN_POLL,
    button=ids.MODELS_TRAIN,
    cancel=ids.MODELS_CANCEL,
    box=ids.MODELS_PROGRESS_BOX,
    box_class="models-progress-box",
    bar=ids.MODELS_PROGRESS,
    caption=ids.MODELS_PROGRESS_TEXT,
)


@callback(
    output={**COMPUTE_WIDGETS.outputs(duplicate=True), "computed": Output(ids.MODELS_COMPUTED, "data")},
    inputs={"pending": Input(ids.MODELS_COMPUTE_REQUEST, "data")},
    prevent_initial_call=True,
)
def compute(pending: dict[str, Any] | None) -> dict[str, Any]:
    """Submit the comparison of ``pending["artifact"]`` to the job runner (:func:`follow_compute` polls it)."""
    if not pending or not pending.get("artifact"):
        raise PreventUpdate
    artifact_id = str(pending["artifact"])
    try:
        job_id = tasks.submit("compare", {"artifact": artifact_id})
    except SegmentationError as err:
        error = {"artifact": artifact_id, "ready": False, "error": f"The models cannot be compared: {err}"}
        return {**COMPUTE_WIDGETS.idle(), "computed": error}
    return {**COMPUTE_WIDGETS.started(job_id, artifact=artifact_id), "computed": no_update}


@callback(
    output={
        **COMPUTE_WIDGETS.outputs(duplicate=True),
        "computed": Output(ids.MODELS_COMPUTED, "data", allow_duplicate=True),
    },
    inputs={"_tick": Input(ids.MODELS_COMPUTE_POLL, "n_intervals"), "job": State(ids.MODELS_COMPUTE_JOB, "data")},
    prevent_initial_call=True,
)
def follow_compute(_tick: int | None, job: dict[str, Any] | None) -> dict[str, Any]:
    """Poll the comparison job; when it ends, ``MODELS_COMPUTED`` says ready or why not (:func:`computed` draws it)."""
    idle = {**COMPUTE_WIDGETS.idle(), "computed": no_update}
    if not job or not job.get("id"):
        return idle
    try:
        status = tasks.job_status(job["id"])
    except SegmentationError:
        return idle
    if not status.finished:
        return {**COMPUTE_WIDGETS.progress(status), "computed": no_update}
    if status.state == "cancelled":
        return idle  # :func:`compute_cancelled` said so
    if status.state == "done" and status.result:
        return {**idle, "computed": {**status.result, "at": time.time()}}
    error = f"The models cannot be compared: {status.error}" if status.error else "The comparison failed."
    return {**idle, "computed": {"artifact": job.get("artifact"), "ready": False, "error": error}}


@callback(
    output=outputs(PAGE_OUTPUTS, METRIC_OUTPUTS, FORM_OUTPUTS, STATUS_OUTPUTS, duplicate=True),
    inputs={
        "data": Input(ids.MODELS_COMPUTED, "data"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
        "theme": State(ids.THEME, "data"),
        "metric": State(ids.MODELS_METRIC, "value"),
        "sort": State(ids.MODELS_TABLE_SORT, "data"),
    },
    prevent_initial_call=True,
)
def computed(
    data: dict[str, Any] | None,
    artifact_id: str | None,
    theme: str | None,
    metric: str | None,
    sort: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The background job finished: draw its comparison (page, metric chart, form), or say why there is none.

    A job for a version the session no longer uses changes nothing.
    """
    if not data:
        raise PreventUpdate
    active, result = shown_comparison(artifact_id)
    if data.get("artifact") != active.id:
        raise PreventUpdate
    if data.get("error") or result is None:
        message = data.get("error") or "The comparison finished but could not be read back; try again."
        unchanged = {name: no_update for name in (*PAGE_OUTPUTS, *METRIC_OUTPUTS, *FORM_OUTPUTS)}
        return {**unchanged, "status": error_alert(str(message)), "retry": "mt-1"}
    theme = theme or "light"
    return {
        **page_view(active, result, theme, sort=sort),
        **metric_view(result, metric, theme),
        **form_values(active, result),
        "status": None,
        "retry": "d-none",
    }


@callback(
    Output(ids.MODELS_COMPUTE_STATUS, "children", allow_duplicate=True),
    Output(ids.MODELS_COMPUTE_RETRY, "className", allow_duplicate=True),
    Input(ids.MODELS_COMPUTE_CANCEL, "n_clicks"),
    State(ids.MODELS_COMPUTE_JOB, "data"),
    prevent_initial_call=True,
)
def compute_cancelled(n_clicks: int | None, job: dict[str, Any] | None = None) -> tuple[Any, str]:
    """Cancel the comparison job, say so, and offer to start it again."""
    if not n_clicks:
        raise PreventUpdate
    with contextlib.suppress(SegmentationError):  # already gone: nothing to cancel
        tasks.cancel_job((job or {}).get("id"))
    return (
        html.Div(
            [html.I(className="bi bi-slash-circle me-2"), "Comparison cancelled: nothing was computed."],
            className="mb-2",
        ),
        "mt-1",
    )


@callback(
    Output(ids.MODELS_PENDING, "data", allow_duplicate=True),
    Output(ids.MODELS_COMPUTE_STATUS, "children", allow_duplicate=True),
    Output(ids.MODELS_COMPUTE_RETRY, "className", allow_duplicate=True),
    Input(ids.MODELS_COMPUTE_RETRY, "n_clicks"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def compute_again(n_clicks: int | None, artifact_id: str | None) -> tuple[Any, ...]:
    """Start the comparison again after a cancel or a failure."""
    if not n_clicks:
        raise PreventUpdate
    active = service().view(artifact_id).id
    return {"artifact": active, "at": time.time()}, computing_message(), "d-none"


@callback(
    output=outputs(PAGE_OUTPUTS),
    inputs={
        "artifact_id": Input(ids.ACTIVE_ARTIFACT, "data"),
        "theme": Input(ids.THEME, "data"),
        "sort": State(ids.MODELS_TABLE_SORT, "data"),
    },
    prevent_initial_call=True,  # the layout fills the page first
)
def fill(artifact_id: str | None, theme: str | None, sort: dict[str, Any] | None = None) -> dict[str, Any]:
    """Draw the page from the cached comparison of the session's artifact, or show the compute panel.

    The models table keeps the order the user sorted it in.
    """
    active, result = shown_comparison(artifact_id)
    return page_view(active, result, theme or "light", sort=sort)


@callback(
    output={
        **outputs(TABLE_OUTPUTS, duplicate=True),
        "headers": Output(ids.models_sort_header(ALL), "aria-sort"),
    },
    inputs={
        "_clicks": Input(ids.models_sort(ALL), "n_clicks"),
        "sort": State(ids.MODELS_TABLE_SORT, "data"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
    },
    prevent_initial_call=True,
)
def sort_table(_clicks: list[int | None], sort: dict[str, Any] | None, artifact_id: str | None) -> dict[str, Any]:
    """A column header was clicked: the table's rows re-ordered by it (again: reversed), ``aria-sort`` moved."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(t.get("value") for t in ctx.triggered):
        raise PreventUpdate
    return table_view(shown_comparison(artifact_id)[1], sort, trigger.get("index"))


@callback(
    output=outputs(METRIC_OUTPUTS),
    inputs={
        "metric": Input(ids.MODELS_METRIC, "value"),
        "artifact_id": Input(ids.ACTIVE_ARTIFACT, "data"),
        "theme": Input(ids.THEME, "data"),
    },
    prevent_initial_call=True,  # drawn first by draw_charts
)
def metric_chart(metric: str | None, artifact_id: str | None, theme: str | None) -> dict[str, Any]:
    """One metric across models, with what it means and which direction is better."""
    return metric_view(shown_comparison(artifact_id)[1], metric, theme or "light")


@callback(
    output=outputs(FORM_OUTPUTS),
    inputs={"artifact_id": Input(ids.ACTIVE_ARTIFACT, "data")},
    prevent_initial_call=True,  # the layout fills the form first
)
def prefill(artifact_id: str | None) -> dict[str, Any]:
    """Set the training form to the recommendation of the comparison shown (unchanged until there is one)."""
    active, result = shown_comparison(artifact_id)
    if result is None:
        raise PreventUpdate
    return form_values(active, result)


@callback(
    output=outputs(CHOICE_OUTPUTS),
    inputs={"model": Input(ids.MODELS_CHOICE_MODEL, "value"), "k": Input(ids.MODELS_CHOICE_K, "value")},
    prevent_initial_call=True,  # the layout sets them for the form's first values
)
def choice_note(model: str | None, k: Any) -> dict[str, Any]:
    """What the chosen model means for the app, and a check of k."""
    return choice_view(model, k)


@callback(
    output={
        **TRAIN_WIDGETS.outputs(duplicate=True),
        "status": Output(ids.MODELS_TRAIN_STATUS, "children", allow_duplicate=True),
    },
    inputs={
        "n_clicks": Input(ids.MODELS_TRAIN, "n_clicks"),
        "model": State(ids.MODELS_CHOICE_MODEL, "value"),
        "k": State(ids.MODELS_CHOICE_K, "value"),
        "scaling": State(ids.MODELS_CHOICE_SCALING, "value"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
    },
    prevent_initial_call=True,
)
def train_choice(
    n_clicks: int | None, model: str | None, k: Any, scaling: str | None, artifact_id: str | None
) -> dict[str, Any]:
    """Submit the training of the chosen model/k/scaling on the session's data (:func:`follow_train` polls it)."""
    if not n_clicks:
        raise PreventUpdate
    try:
        overrides = training_overrides(model, k, scaling)
        active = service().view(artifact_id).id
        job_id = tasks.submit("train", {"source": {"artifact": active}, "overrides": overrides})
    except SegmentationError as err:
        return {**TRAIN_WIDGETS.idle(), "status": error_alert(str(err))}
    return {**TRAIN_WIDGETS.started(job_id), "status": None}


TRAIN_WIDGETS.register_poll_switch()


@callback(
    output={
        **TRAIN_WIDGETS.outputs(duplicate=True),
        "status": Output(ids.MODELS_TRAIN_STATUS, "children", allow_duplicate=True),
        "trained": Output(ids.MODELS_TRAINED, "data"),
    },
    inputs={"_tick": Input(ids.MODELS_TRAIN_POLL, "n_intervals"), "job": State(ids.MODELS_TRAIN_JOB, "data")},
    prevent_initial_call=True,
)
def follow_train(_tick: int | None, job: dict[str, Any] | None) -> dict[str, Any]:
    """Poll the training job: progress or place in line; when it ends, the new version, the error or the cancel."""
    return TRAIN_WIDGETS.follow_training(job, train_cancelled_alert, trained_message)


# The version just trained becomes the session's (navbar and every page follow), in the browser.
activate_from(ids.MODELS_TRAINED)


@callback(
    Output(ids.MODELS_TRAIN_STATUS, "children", allow_duplicate=True),
    Output(ids.MODELS_CANCEL, "disabled", allow_duplicate=True),
    Input(ids.MODELS_CANCEL, "n_clicks"),
    State(ids.MODELS_TRAIN_JOB, "data"),
    prevent_initial_call=True,
)
def train_cancelled(n_clicks: int | None, job: dict[str, Any] | None = None) -> tuple[Any, bool]:
    """Cancel the training job and say that nothing changed."""
    if not n_clicks:
        raise PreventUpdate
    with contextlib.suppress(SegmentationError):  # already gone: nothing to cancel
        tasks.cancel_job((job or {}).get("id"))
    return train_cancelled_alert(), True


# --- how well churn is predicted (its own block and callback, independent of the comparison) ----------------
@callback(
    Output(ids.MODELS_CHURN_SUMMARY, "children"),
    Output(ids.MODELS_CHURN_GRAPH, "figure"),
    Output(ids.MODELS_CHURN_CHART, "style"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    prevent_initial_call=True,  # the layout and draw_charts draw it first
)
def churn_check(artifact_id: str | None, theme: str | None) -> tuple[Any, go.Figure, dict[str, str]]:
    """The session's artifact → how well its churn model predicted purchases after the cut-off."""
    return churn_view(service().view(artifact_id), theme or "light")


# Below the fold: the charts are drawn once their first row is on screen.
when_in_view(ids.MODELS_CHARTS, ids.MODELS_CHARTS_WANTED)


@callback(
    output=outputs(
        {name: PAGE_OUTPUTS[name] for name in CHARTS},
        {"metric_figure": METRIC_OUTPUTS["metric_figure"], "churn_figure": CHURN_OUTPUTS["churn_figure"]},
        duplicate=True,
    ),
    inputs={
        "wanted": Input(ids.MODELS_CHARTS_WANTED, "data"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
        "theme": State(ids.THEME, "data"),
        "metric": State(ids.MODELS_METRIC, "value"),
    },
    prevent_initial_call=True,
)
def draw_charts(wanted: bool | None, artifact_id: str | None, theme: str | None, metric: str | None) -> dict[str, Any]:
    """The comparison charts and the churn check's chart, once the charts' place has been on screen."""
    if not wanted:
        raise PreventUpdate
    theme = theme or "light"
    active, result = shown_comparison(artifact_id)
    charts: dict[str, Any] = {name: no_update for name in CHARTS} | {"metric_figure": no_update}
    if result is not None:
        page = page_view(active, result, theme)
        charts = {name: page[name] for name in CHARTS} | {
            "metric_figure": metric_view(result, metric, theme)["metric_figure"]
        }
    return {**charts, "churn_figure": churn_view(active, theme)[1]}
