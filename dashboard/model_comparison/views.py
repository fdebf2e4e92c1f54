"""Model comparison page: what its callbacks and its layout show, as plain values (no callbacks here).

Each ``*_OUTPUTS`` dict names a group of outputs (name → component id and
property); the ``*_view`` functions return the values of a group, shared by
the page's layout (first render) and its callbacks.
"""

from __future__ import annotations

import time
from typing import Any

import plotly.graph_objects as go
from dash import Output, html

from dashboard import churn, ids
from dashboard.components import error_alert
from dashboard.figures.common import empty_figure
from dashboard.figures.models import (
    METRICS,
    holdout_figure,
    kdistance_figure,
    knife_figure,
    knife_segments,
    metric_figure,
    next_sort,
    scaling_figure,
    sweep_figure,
    table_rows,
)
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
)
from dashboard.model_comparison.data import cached_comparison, native_models, parse_k
from dashboard.model_comparison.layout import NO_CHOICE
from dashboard.model_comparison.table import header_sort, table_body
from dashboard.services import ArtifactView, service
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation import registry


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
    "table": (ids.MODELS_TABLE_BODY, "children"),
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


def placeholder_figure() -> dict[str, Any]:
    """A chart's figure until it is drawn (below the fold, or no comparison yet).

    No data, no axes, transparent in both themes and no template: a themed
    blank figure is 7 KB of JSON for the browser to parse and plot.
    """
    return {
        "data": [],
        "layout": {
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


#: What :func:`load_view` sets: the comparison to compute (None: nothing to compute) and the compute panel's status.
LOAD_OUTPUTS: dict[str, tuple[str, str]] = {
    "pending": (ids.MODELS_PENDING, "data"),
    "status": (ids.MODELS_COMPUTE_STATUS, "children"),
    "retry": (ids.MODELS_COMPUTE_RETRY, "className"),
}
#: What :func:`choice_view` sets under the training form.
CHOICE_OUTPUTS: dict[str, tuple[str, str]] = {
    "note": (ids.MODELS_CHOICE_NOTE, "children"),
    "k_disabled": (ids.MODELS_CHOICE_K, "disabled"),
    "k_invalid": (ids.MODELS_CHOICE_K, "invalid"),
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


def load_view(artifact_id: str | None) -> dict[str, Any]:
    """Values of :data:`LOAD_OUTPUTS` for the session's artifact.

    When its comparison is not cached, ``pending`` is ``{"artifact": id,
    "at": time}`` (the page then starts the comparison job) and the status
    says it is being computed; when it cannot be compared, the status says why.
    """
    svc = service()
    try:
        active = svc.view(artifact_id).id
        result = cached_comparison(active, svc.settings)
    except SegmentationError as err:
        return {"pending": None, "status": error_alert(f"The models cannot be compared: {err}"), "retry": "d-none"}
    if result is not None:
        return {"pending": None, "status": None, "retry": "d-none"}
    return {"pending": {"artifact": active, "at": time.time()}, "status": computing_message(), "retry": "d-none"}


def choice_view(model: str | None, k: Any) -> dict[str, Any]:
    """Values of :data:`CHOICE_OUTPUTS`: what the chosen model means for the app, and a check of k."""
    if model not in registry.MODELS:
        return {"note": NO_CHOICE, "k_disabled": False, "k_invalid": False}
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
    return {"note": notes, "k_disabled": density, "k_invalid": invalid}


def page_view(
    active: ArtifactView, result: dict[str, Any] | None, theme: str, charts: bool = True, sort: Any = None
) -> dict[str, Any]:
    """Values of :data:`PAGE_OUTPUTS`: the comparison drawn, or the compute panel when there is none.

    With ``charts=False`` the figures of :data:`CHARTS` are empty (drawn later by :func:`draw_charts`).
    The table's rows are in the order of ``sort`` (the table's sort state, see :func:`table_view`).
    """
    if result is None or not charts:
        figures = {name: placeholder_figure() for name in CHARTS}
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
        "table": table_body(table_rows(result), sort),
        **figures,
        "sweep_note": sweep_note(result, chosen_k),
        "knife_note": knife_note(result, active, segments is not None),
        "kdist_note": kdist_note(result),
        "scaling_table": scaling_table(result),
    }


#: What :func:`table_view` sets when a column header is clicked.
TABLE_OUTPUTS: dict[str, tuple[str, str]] = {
    "table": PAGE_OUTPUTS["table"],
    "sort": (ids.MODELS_TABLE_SORT, "data"),
}


def table_view(result: dict[str, Any] | None, sort: Any, column: str) -> dict[str, Any]:
    """Values of :data:`TABLE_OUTPUTS` and the headers' ``aria-sort`` after a click on ``column``'s header.

    The same column again reverses the order; another one sorts best first
    (:func:`dashboard.figures.models.next_sort`).  Without a comparison the
    body stays empty.
    """
    new = next_sort(sort, column)
    rows = table_rows(result) if result is not None else []
    return {"table": table_body(rows, new), "sort": new, "headers": header_sort(new)}


def metric_view(result: dict[str, Any] | None, metric: str | None, theme: str) -> dict[str, Any]:
    """Values of :data:`METRIC_OUTPUTS`: one metric across models, what it means and which way is better."""
    info = METRICS.get(metric or "")
    if info is None:
        return {"metric_figure": empty_figure("Choose a metric.", theme), "metric_help": ""}
    if result is None:
        return {"metric_figure": placeholder_figure(), "metric_help": ""}
    return {"metric_figure": metric_figure(result, info.key, theme), "metric_help": metric_help(info.key)}


def metric_help(metric: str) -> str:
    """What a metric of :data:`METRICS` means and which way is better, in one line."""
    info = METRICS[metric]
    return f"{info.explanation} {info.direction.capitalize()}."


def form_values(active: ArtifactView, result: dict[str, Any] | None) -> dict[str, Any]:
    """Values of :data:`FORM_OUTPUTS`: the recommendation (the model in use when there is none)."""
    model = active.manifest["model"]
    rec = (result or {}).get("recommendation") or {}
    if rec.get("model") is None:
        return {"model": model["name"], "k": model["k"], "scaling_choice": model["scaling"]}
    k = rec["k"] if registry.takes_k(rec["model"]) else model["k"]
    return {"model": rec["model"], "k": k, "scaling_choice": rec.get("scaling") or model["scaling"]}


def outputs(*groups: dict[str, tuple[str, str]], duplicate: bool = False) -> dict[str, Output]:
    """Named callback outputs of one or more output groups."""
    return {
        name: Output(cid, prop, allow_duplicate=duplicate) for group in groups for name, (cid, prop) in group.items()
    }


#: The comparison charts of :data:`PAGE_OUTPUTS` (drawn by :func:`draw_charts` once they are in view).
CHARTS = ("sweep", "knife", "kdist", "scaling")

#: What :func:`churn_check` draws.
CHURN_OUTPUTS: dict[str, tuple[str, str]] = {
    "churn_summary": (ids.MODELS_CHURN_SUMMARY, "children"),
    "churn_figure": (ids.MODELS_CHURN_GRAPH, "figure"),
    "churn_style": (ids.MODELS_CHURN_CHART, "style"),
}


def churn_view(v: ArtifactView, theme: str, chart: bool = True) -> tuple[Any, go.Figure | dict, dict[str, str]]:
    """Summary, holdout chart and chart style of ``v``; the chart is hidden when there is no holdout (the summary says why).

    With ``chart=False`` the chart is :func:`placeholder_figure` (drawn later by ``draw_charts``).
    """
    cm = churn.churn_model(v.manifest)
    rows = churn.holdout_rows(cm.get("holdout")) if cm else []
    if not chart:
        figure: go.Figure | dict = placeholder_figure()
    else:
        figure = holdout_figure(rows, theme) if rows else empty_figure("Not checked on later purchases.", theme)
    return churn_check_summary(v), figure, {} if rows else {"display": "none"}
