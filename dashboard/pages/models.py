"""Model comparison (/models): which way of segmenting should we trust, and train it.

The comparison (:mod:`pipeline.segmentation.compare`) is computed for the session's
artifact: its data and the settings it was trained with.  It is cached as
JSON beside the artifacts; that file is the only shared state, so any worker
process can draw the page from it.  Browser stores hold small keys only.

Callbacks
---------
``load``
    Session's artifact → when its comparison is not cached: ``MODELS_PENDING``
    (starts the comparison job) and the status text.
``compute`` → ``follow_compute`` (job runner: progress, place in line, cancel)
    ``MODELS_PENDING`` → submits the ``compare`` job of :mod:`dashboard.tasks`
    (computes and caches the comparison in a child process); its poll
    writes ``MODELS_COMPUTED`` when the job ends.
``computed``
    ``MODELS_COMPUTED`` → the page, metric chart and form drawn from the new
    cache entry, or the error.
``fill``, ``metric_chart``, ``prefill``
    Session's artifact and theme → recommendation, table, charts and the
    training form, drawn from the cached comparison (the compute panel while
    there is none).  They do not depend on ``load``, so on a visit they all
    run at once.
``choice_note``
    Training form → what the chosen model means (native or nearest-centroid
    prediction, k not used by density models) and input checks.
``train_choice`` → ``follow_train`` (job runner) → ``activate``
    Submits the ``train`` job for the chosen model/k/scaling on the same data;
    when it is done the new version becomes the session's artifact (navbar
    and every page follow).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import churn, ids, tasks
from dashboard.components import (
    error_alert,
    page_header,
)
from dashboard.figures.common import empty_figure
from dashboard.figures.models import (
    METRICS,
    holdout_figure,
    kdistance_figure,
    knife_figure,
    knife_segments,
    metric_figure,
    scaling_figure,
    sweep_figure,
    table_rows,
)
from dashboard.first_render import fill_in, session_choice, when_in_view
from dashboard.model_comparison.blocks import (
    churn_check_summary,
    computing_message,
    in_use_text,
    kdist_note,
    knife_note,
    native_note,
    recommendation_card,
    sampled_note,
    scaling_table,
    sweep_note,
    train_cancelled_alert,
    trained_message,
)
from dashboard.model_comparison.data import (
    cached_comparison,
    model_count,
    native_models,
    parse_k,
    training_overrides,
)
from dashboard.model_comparison.layout import NO_CHOICE, churn_check_card, compute_panel, content, train_card
from dashboard.services import ArtifactView, service
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation import registry

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
    (the compute panel when there is none); the charts, below the fold, are
    drawn when their first row scrolls into view (:func:`draw_charts`).
    """
    artifact_id, theme = session_choice(kwargs)
    active, result = shown_comparison(artifact_id)
    blank = empty_figure("", theme)
    values = {
        **page_view(active, result, theme, charts=False),
        **metric_view(None, "stability_mean", theme),
        "metric_help": metric_view(result, "stability_mean", theme)["metric_help"],
        **(form_values(active, result) if result is not None else {}),
    }
    outputs = {**PAGE_OUTPUTS, **METRIC_OUTPUTS, **FORM_OUTPUTS}
    churn_values = dict(zip(CHURN_OUTPUTS, churn_view(active, theme), strict=True))
    churn_values["churn_figure"] = blank
    return fill_in(
        page_frame(),
        {
            **{outputs[name]: value for name, value in values.items()},
            **{CHURN_OUTPUTS[name]: value for name, value in churn_values.items()},
        },
    )


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
    Output(ids.MODELS_PENDING, "data"),
    Output(ids.MODELS_COMPUTE_STATUS, "children"),
    Output(ids.MODELS_COMPUTE_RETRY, "className"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
)
def load(artifact_id: str | None) -> tuple[Any, ...]:
    """Start computing the comparison of the session's artifact when it is not cached yet.

    When it is cached there is nothing to do here: :func:`fill` draws it.
    """
    svc = service()
    try:
        active = svc.view(artifact_id).id
        result = cached_comparison(active, svc.settings)
    except SegmentationError as err:
        return no_update, error_alert(f"The models cannot be compared: {err}"), "d-none"
    if result is not None:
        return no_update, None, "d-none"
    return {"artifact": active, "at": time.time()}, computing_message(), "d-none"


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
    inputs={"pending": Input(ids.MODELS_PENDING, "data")},
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


def shown_comparison(artifact_id: str | None) -> tuple[ArtifactView, dict[str, Any] | None]:
    """The session's artifact view and its cached comparison (None: not computed, or unreadable)."""
    svc = service()
    active = svc.view(artifact_id)
    try:
        return active, cached_comparison(active.id, svc.settings)
    except SegmentationError:
        return active, None


#: What :func:`fill` draws (also redrawn by :func:`computed` when a background comparison finishes): name → (id, property).
PAGE_OUTPUTS: dict[str, tuple[str, str]] = {
    "content_hidden": (ids.MODELS_CONTENT, "hidden"),
    "compute_panel": (ids.MODELS_COMPUTE_PANEL, "className"),
    "recommendation": (ids.MODELS_RECOMMENDATION, "children"),
    "in_use": (ids.MODELS_IN_USE, "children"),
    "sampled": (ids.MODELS_SAMPLED, "children"),
    "native": (ids.MODELS_NATIVE_NOTE, "children"),
    "table": (ids.MODELS_TABLE, "rowData"),
    "sweep": (ids.MODELS_SWEEP_GRAPH, "figure"),
    "sweep_note": (ids.MODELS_SWEEP_NOTE, "children"),
    "knife": (ids.MODELS_KNIFE_GRAPH, "figure"),
    "knife_note": (ids.MODELS_KNIFE_NOTE, "children"),
    "kdist": (ids.MODELS_KDIST_GRAPH, "figure"),
    "kdist_note": (ids.MODELS_KDIST_NOTE, "children"),
    "scaling": (ids.MODELS_SCALING_GRAPH, "figure"),
    "scaling_table": (ids.MODELS_SCALING_TABLE, "children"),
}
#: What :func:`metric_chart` draws.
METRIC_OUTPUTS: dict[str, tuple[str, str]] = {
    "metric_figure": (ids.MODELS_METRIC_GRAPH, "figure"),
    "metric_help": (ids.MODELS_METRIC_HELP, "children"),
}
#: What :func:`prefill` sets.
FORM_OUTPUTS: dict[str, tuple[str, str]] = {
    "model": (ids.MODELS_CHOICE_MODEL, "value"),
    "k": (ids.MODELS_CHOICE_K, "value"),
    "scaling_choice": (ids.MODELS_CHOICE_SCALING, "value"),
}
#: The status line under the compute panel (set by :func:`computed`).
STATUS_OUTPUTS: dict[str, tuple[str, str]] = {
    "status": (ids.MODELS_COMPUTE_STATUS, "children"),
    "retry": (ids.MODELS_COMPUTE_RETRY, "className"),
}


def page_view(active: ArtifactView, result: dict[str, Any] | None, theme: str, charts: bool = True) -> dict[str, Any]:
    """Values of :data:`PAGE_OUTPUTS`: the comparison drawn, or the compute panel when there is none.

    With ``charts=False`` the figures of :data:`CHARTS` are empty (drawn later by :func:`draw_charts`).
    """
    if result is None or not charts:
        blank = empty_figure("", theme)
        figures = {name: blank for name in CHARTS}
    if result is None:
        empty = {name: None for name in PAGE_OUTPUTS}
        return {**empty, **figures, "content_hidden": True, "compute_panel": "shadow-sm models-compute", "table": []}
    chosen_k = int(active.manifest["model"]["k"]) if registry.takes_k(active.manifest["model"]["name"]) else None
    knife = result.get("silhouette_samples") or {}
    segments = knife_segments(knife, active.manifest)
    if charts:
        figures = {
            "sweep": sweep_figure(result, chosen_k, theme),
            "knife": knife_figure(knife, segments, theme),
            "kdist": kdistance_figure(result.get("kdistance") or {}, theme),
            "scaling": scaling_figure(result.get("scaling_variants") or [], theme),
        }
    return {
        "content_hidden": False,
        "compute_panel": "d-none",
        "recommendation": recommendation_card(result),
        "in_use": in_use_text(result, active),
        "sampled": sampled_note(result),
        "native": native_note(result),
        "table": table_rows(result),
        **figures,
        "sweep_note": sweep_note(result, chosen_k),
        "knife_note": knife_note(result, active, segments is not None),
        "kdist_note": kdist_note(result),
        "scaling_table": scaling_table(result),
    }


def metric_view(result: dict[str, Any] | None, metric: str | None, theme: str) -> dict[str, Any]:
    """Values of :data:`METRIC_OUTPUTS`: one metric across models, what it means and which way is better."""
    info = METRICS.get(metric or "")
    if info is None:
        return {"metric_figure": empty_figure("Choose a metric.", theme), "metric_help": ""}
    if result is None:
        return {"metric_figure": empty_figure("", theme), "metric_help": ""}
    return {
        "metric_figure": metric_figure(result, info.key, theme),
        "metric_help": f"{info.explanation} {info.direction.capitalize()}.",
    }


def form_values(active: ArtifactView, result: dict[str, Any] | None) -> dict[str, Any]:
    """Values of :data:`FORM_OUTPUTS`: the recommendation (the model in use when there is none)."""
    model = active.manifest["model"]
    rec = (result or {}).get("recommendation") or {}
    if rec.get("model") is None:
        return {"model": model["name"], "k": model["k"], "scaling_choice": model["scaling"]}
    k = rec["k"] if registry.takes_k(rec["model"]) else model["k"]
    return {"model": rec["model"], "k": k, "scaling_choice": rec.get("scaling") or model["scaling"]}


def _outputs(*groups: dict[str, tuple[str, str]], duplicate: bool = False) -> dict[str, Output]:
    """Named callback outputs of one or more output groups."""
    return {
        name: Output(cid, prop, allow_duplicate=duplicate) for group in groups for name, (cid, prop) in group.items()
    }


@callback(
    output=_outputs(PAGE_OUTPUTS, METRIC_OUTPUTS, FORM_OUTPUTS, STATUS_OUTPUTS, duplicate=True),
    inputs={
        "data": Input(ids.MODELS_COMPUTED, "data"),
        "artifact_id": State(ids.ACTIVE_ARTIFACT, "data"),
        "theme": State(ids.THEME, "data"),
        "metric": State(ids.MODELS_METRIC, "value"),
    },
    prevent_initial_call=True,
)
def computed(
    data: dict[str, Any] | None, artifact_id: str | None, theme: str | None, metric: str | None
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
        **page_view(active, result, theme),
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
    output=_outputs(PAGE_OUTPUTS),
    inputs={"artifact_id": Input(ids.ACTIVE_ARTIFACT, "data"), "theme": Input(ids.THEME, "data")},
    prevent_initial_call=True,  # the layout fills the page first
)
def fill(artifact_id: str | None, theme: str | None) -> dict[str, Any]:
    """Draw the page from the cached comparison of the session's artifact, or show the compute panel."""
    active, result = shown_comparison(artifact_id)
    return page_view(active, result, theme or "light")


@callback(
    output=_outputs(METRIC_OUTPUTS),
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
    output=_outputs(FORM_OUTPUTS),
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
    Output(ids.MODELS_CHOICE_NOTE, "children"),
    Output(ids.MODELS_CHOICE_K, "disabled"),
    Output(ids.MODELS_CHOICE_K, "invalid"),
    Input(ids.MODELS_CHOICE_MODEL, "value"),
    Input(ids.MODELS_CHOICE_K, "value"),
)
def choice_note(model: str | None, k: Any) -> tuple[Any, bool, bool]:
    """What the chosen model means for the app, and a check of k."""
    if model not in registry.MODELS:
        return NO_CHOICE, False, False
    density = not registry.takes_k(model)
    notes: list[Any] = []
    invalid = False
    if density:
        notes.append(f"{registry.label(model)} finds its own number of segments; k is not used. ")
    else:
        try:
            parse_k(k)
        except DataError as err:
            invalid = True
            notes.append(html.Span(str(err) + " ", className="text-danger"))
    if not native_models()[model]:
        notes.append(
            html.Span(
                [
                    html.I(className="bi bi-exclamation-circle me-1"),
                    f"{registry.label(model)} cannot score new customers itself: the simulator will use "
                    "nearest-centroid prediction (the closest segment centre).",
                ],
                className="text-warning-emphasis",
            )
        )
    elif not notes:
        notes.append("Scores new customers itself (used by the simulator).")
    return notes, density, invalid


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


@callback(Output(ids.MODELS_TRAIN_POLL, "disabled"), Input(ids.MODELS_TRAIN_JOB, "data"))
def poll_when_training_is_followed(job: dict[str, Any] | None) -> bool:
    """Poll while the session follows a training job: also when the page is opened again while it runs."""
    return tasks.poll_disabled(job)


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


@callback(
    Output(ids.ACTIVE_ARTIFACT, "data", allow_duplicate=True),
    Input(ids.MODELS_TRAINED, "data"),
    prevent_initial_call=True,
)
def activate(trained: dict[str, Any] | None) -> str:
    """Make the version just trained the session's artifact (navbar and every page follow)."""
    if not trained or not trained.get("id"):
        raise PreventUpdate
    return str(trained["id"])


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
#: What :func:`churn_check` draws.
CHURN_OUTPUTS: dict[str, tuple[str, str]] = {
    "churn_summary": (ids.MODELS_CHURN_SUMMARY, "children"),
    "churn_figure": (ids.MODELS_CHURN_GRAPH, "figure"),
    "churn_style": (ids.MODELS_CHURN_CHART, "style"),
}


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


def churn_view(v: ArtifactView, theme: str) -> tuple[Any, go.Figure, dict[str, str]]:
    """Summary, holdout chart and chart style of ``v``; the chart is hidden when there is no holdout (the summary says why)."""
    cm = churn.churn_model(v.manifest)
    rows = churn.holdout_rows(cm.get("holdout")) if cm else []
    figure = holdout_figure(rows, theme) if rows else empty_figure("Not checked on later purchases.", theme)
    return churn_check_summary(v), figure, {} if rows else {"display": "none"}


#: The comparison charts of :data:`PAGE_OUTPUTS` (drawn by :func:`draw_charts` once they are in view).
CHARTS = ("sweep", "knife", "kdist", "scaling")

# Below the fold: the charts are drawn once their first row is on screen.
when_in_view(ids.MODELS_CHARTS, ids.MODELS_CHARTS_WANTED)


@callback(
    output=_outputs(
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
