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
import dataclasses
import logging
import math
import time
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import churn, ids, jobs, tasks
from dashboard.components import (
    GRID_THEME,
    card,
    error_alert,
    graph,
    how_measured,
    not_measured,
    page_header,
    trained_alert,
)
from dashboard.figures.common import empty_figure
from dashboard.figures.models import (
    METRICS,
    SCALING_SHORT,
    choice_label,
    holdout_figure,
    kdistance_figure,
    knife_figure,
    knife_segments,
    metric_figure,
    model_label,
    not_native_labels,
    plain_recommendation,
    recommended_entry,
    scaling_figure,
    scaling_rows,
    scaling_sentence,
    sweep_figure,
    table_column_defs,
    table_rows,
    why_not_others,
)
from dashboard.services import ArtifactView, service
from pipeline.config import MODEL_NAMES, SCALINGS, Settings
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation.compare import (
    MODEL_LABELS,
    SCALING_LABELS,
    SWEEP_MODELS,
    comparison_path,
    read_cached,
)
from pipeline.segmentation.model import make_clusterer, predicts_natively
from pipeline.segmentation.training import Dataset, settings_for_dataset

dash.register_page(__name__, path="/models", name="Models", title="Model comparison · Customer Segments", order=2)

log = logging.getLogger(__name__)

#: Smallest and largest k the training form accepts (as :class:`pipeline.config.Settings`).
K_MIN, K_MAX = 2, 12
#: The training form's note before a model is chosen.
NO_CHOICE = "Filled in with the recommendation when the comparison is ready, or choose now."


# --- data access (server side) ---------------------------------------------------------------------------
def comparison_inputs(artifact_id: str, settings: Settings) -> tuple[Dataset, Settings]:
    """The data of an artifact and the settings its comparison is computed with.

    Raises
    ------
    SegmentationError
        The artifact cannot be read, or its data cannot be segmented.
    """
    dataset, trained_with = jobs.dataset_from_artifact(artifact_id, settings)
    return dataset, settings_for_dataset(dataset, trained_with)


def cached_comparison(artifact_id: str, settings: Settings) -> dict[str, Any] | None:
    """The cached comparison of an artifact, or None when it has not been computed.

    Parsed files are kept per process (the service's ``memo``, keyed by the
    file's modification time and size), so the page's callbacks share one
    read.  Treat the result as read-only.
    """
    dataset, compare_settings = _comparison_key(artifact_id, settings)
    try:
        stat = comparison_path(dataset, compare_settings).stat()
    except OSError:
        return None
    return jobs.current_service().memo(
        "comparisons",
        (artifact_id, settings, stat.st_mtime_ns, stat.st_size),
        lambda: read_cached(comparison_path(dataset, compare_settings), dataset, compare_settings),
        max_items=8,
    )


def _comparison_key(artifact_id: str, settings: Settings) -> tuple[Dataset, Settings]:
    """:func:`comparison_inputs` without the customers (an artifact never changes: cached per process)."""

    def inputs() -> tuple[Dataset, Settings]:
        dataset, compare_settings = comparison_inputs(artifact_id, settings)
        return dataclasses.replace(dataset, customers=dataset.customers.iloc[:0]), compare_settings

    return jobs.current_service().memo("comparison-inputs", (artifact_id, settings), inputs, max_items=64)


def native_models() -> dict[str, bool]:
    """Model name → whether it scores new customers itself (no fitting: unfitted estimators)."""
    return {name: predicts_natively(make_clusterer(Settings(model=name))) for name in MODEL_NAMES}


def training_overrides(model: str | None, k: Any, scaling: str | None) -> dict[str, Any]:
    """The settings to train, checked; density models take no k.

    Raises
    ------
    DataError
        Unknown model or scaling, or k not a whole number from 2 to 12.
    """
    if model not in MODEL_NAMES:
        raise DataError("Choose a model to train.")
    if scaling not in SCALINGS:
        raise DataError("Choose a scaling.")
    overrides: dict[str, Any] = {"model": model, "scaling": scaling}
    if model in SWEEP_MODELS:
        overrides["k"] = parse_k(k)
    return overrides


def parse_k(k: Any) -> int:
    """``k`` as a whole number from :data:`K_MIN` to :data:`K_MAX`.

    Raises
    ------
    DataError
        Missing, not a whole number, or out of range.
    """
    try:
        value = float(k)
    except (TypeError, ValueError):
        raise DataError(f"Number of segments: enter a whole number from {K_MIN} to {K_MAX}.") from None
    if not math.isfinite(value) or value != int(value) or not K_MIN <= value <= K_MAX:
        raise DataError(f"Number of segments: enter a whole number from {K_MIN} to {K_MAX} (got {k}).")
    return int(value)


# --- layout ---------------------------------------------------------------------------------------------
def compute_panel() -> dbc.Card:
    """Shown while the comparison is loading, computing, cancelled or failed."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [dbc.Spinner(size="sm", spinner_class_name="me-2"), "Loading the comparison…"],
                    id=ids.MODELS_COMPUTE_STATUS,
                    role="status",
                ),
                html.Div(
                    [
                        html.Div(
                            dbc.Progress(id=ids.MODELS_COMPUTE_PROGRESS, value=0, striped=True, animated=True),
                            **{"data-a11y-label": "Comparison progress"},
                        ),
                        html.Div(
                            [
                                html.Div(id=ids.MODELS_COMPUTE_TEXT, className="small text-body-secondary"),
                                dbc.Button(
                                    [html.I(className="bi bi-x-circle me-1"), "Cancel"],
                                    id=ids.MODELS_COMPUTE_CANCEL,
                                    size="sm",
                                    color="secondary",
                                    outline=True,
                                    disabled=True,
                                ),
                            ],
                            className="d-flex justify-content-between align-items-center mt-2 gap-2",
                        ),
                    ],
                    id=ids.MODELS_COMPUTE_BOX,
                    className="d-none",
                ),
                dbc.Button(
                    [html.I(className="bi bi-arrow-clockwise me-1"), "Compare now"],
                    id=ids.MODELS_COMPUTE_RETRY,
                    color="primary",
                    size="sm",
                    className="d-none",
                ),
            ]
        ),
        id=ids.MODELS_COMPUTE_PANEL,
        className="shadow-sm models-compute",
    )


def train_card() -> dbc.Card:
    """The training form: model, k and scaling (pre-filled with the recommendation)."""
    native = native_models()
    # Empty until the comparison fills in its recommendation (see ``prefill``).
    model_options = [
        {"label": MODEL_LABELS[m] + ("" if native[m] else " (nearest-centroid prediction)"), "value": m}
        for m in MODEL_NAMES
    ]
    scaling_options = [{"label": SCALING_SHORT[s], "value": s} for s in SCALINGS]
    form = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Model", html_for=ids.MODELS_CHOICE_MODEL, className="seg-label"),
                    dbc.Select(id=ids.MODELS_CHOICE_MODEL, options=model_options, placeholder="Choose a model…"),
                ],
                md=5,
            ),
            dbc.Col(
                [
                    dbc.Label("Segments (k)", html_for=ids.MODELS_CHOICE_K, className="seg-label"),
                    dbc.Input(id=ids.MODELS_CHOICE_K, type="number", min=K_MIN, max=K_MAX, step=1),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Scaling", html_for=ids.MODELS_CHOICE_SCALING, className="seg-label"),
                    dbc.Select(id=ids.MODELS_CHOICE_SCALING, options=scaling_options, placeholder="Choose…"),
                ],
                md=4,
            ),
        ],
        className="g-2",
    )
    return card(
        "Train a model",
        html.Div(
            [
                html.Div(id=ids.MODELS_IN_USE, className="small mb-2"),
                form,
                html.Div(
                    NO_CHOICE,  # shown until the form is filled in (``choice_note`` takes over from there)
                    id=ids.MODELS_CHOICE_NOTE,
                    className="small text-body-secondary mt-2 models-choice-note",
                ),
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-play-fill me-1"), "Train and use"],
                            id=ids.MODELS_TRAIN,
                            color="primary",
                        ),
                        dbc.Button(
                            [html.I(className="bi bi-x-circle me-1"), "Cancel"],
                            id=ids.MODELS_CANCEL,
                            color="secondary",
                            outline=True,
                            disabled=True,
                        ),
                    ],
                    className="d-flex gap-2 mt-3",
                ),
                html.Div(
                    [
                        html.Div(
                            dbc.Progress(
                                id=ids.MODELS_PROGRESS, value=0, striped=True, animated=True, className="mt-3"
                            ),
                            **{"data-a11y-label": "Training progress"},
                        ),
                        html.Div(id=ids.MODELS_PROGRESS_TEXT, className="small text-body-secondary mt-1"),
                    ],
                    id=ids.MODELS_PROGRESS_BOX,
                    className="d-none",
                ),
                html.Div(id=ids.MODELS_TRAIN_STATUS, className="mt-3", role="status"),
                html.Div(
                    [
                        html.Div("What happens when you train", className="seg-label"),
                        html.Ul(
                            [
                                html.Li("The model is fitted on the same customers and features, usually in seconds."),
                                html.Li("Its segments are named and coloured from their profiles, as before."),
                                html.Li(
                                    [
                                        "Every page switches to the new version in this browser tab; other users are "
                                        "not affected. Switch back any time on ",
                                        dcc.Link("Your data", href="/data"),
                                        ".",
                                    ]
                                ),
                            ],
                            className="small text-body-secondary ps-3 mb-0",
                        ),
                    ],
                    className="models-train-help mt-3 pt-3 border-top",
                ),
            ]
        ),
        help_text="Pre-filled with the recommendation. Training saves a new model version on the same customers; "
        "the whole app then uses it.",
    )


def metric_help() -> html.Details:
    """Every metric in one sentence (the statistics, one click deeper)."""
    items = [html.Li([html.Strong(m.label), f" ({m.direction}): {m.explanation}"]) for m in METRICS.values()]
    return html.Details(
        [
            html.Summary("What do these numbers mean?", className="small"),
            html.Ul(items, className="small ps-3 mt-2 mb-0"),
        ],
        className="models-details mt-2",
    )


def content() -> html.Div:
    """Everything drawn from the comparison (hidden until it is available)."""
    grid = dag.AgGrid(
        id=ids.MODELS_TABLE,
        rowData=[],
        columnDefs=table_column_defs(),
        defaultColDef={"sortable": True, "resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
        dashGridOptions={
            "theme": GRID_THEME,
            "domLayout": "autoHeight",
            "animateRows": False,
            "tooltipShowDelay": 300,
            "suppressCellFocus": True,
        },
        style={"width": "100%"},
        className="app-grid",
    )
    metric_select = dbc.Select(
        id=ids.MODELS_METRIC,
        options=[{"label": m.label, "value": key} for key, m in METRICS.items()],
        value="stability_mean",
        size="sm",
        className="models-metric-select",
    )
    return html.Div(
        [
            html.Div(id=ids.MODELS_SAMPLED, className="mb-3"),
            html.Div(
                card(
                    "All models side by side",
                    html.Div(
                        [
                            html.Div(id=ids.MODELS_NATIVE_NOTE, className="small mb-2"),
                            grid,
                            metric_help(),
                        ]
                    ),
                    help_text="Same customers, same features, same scaling. Click a column to sort; "
                    "hover a header for what it measures. ↑ higher is better, ↓ lower is better.",
                ),
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            None,
                            html.Div(
                                [
                                    html.Div(
                                        [
                                            html.H2(
                                                "One metric across models", className="h6 card-title fw-semibold mb-0"
                                            ),
                                            dbc.Label(
                                                "Metric", html_for=ids.MODELS_METRIC, className="visually-hidden"
                                            ),
                                            metric_select,
                                        ],
                                        className="d-flex justify-content-between align-items-center gap-2 mb-1",
                                    ),
                                    html.P(id=ids.MODELS_METRIC_HELP, className="small text-body-secondary mb-1"),
                                    graph(ids.MODELS_METRIC_GRAPH, "model-comparison-metric", height=300),
                                ]
                            ),
                        ),
                        lg=5,
                    ),
                    dbc.Col(
                        chart_card(
                            "How many segments? The k sweep",
                            ids.MODELS_SWEEP_GRAPH,
                            "k-sweep-elbow-silhouette",
                            350,
                            ids.MODELS_SWEEP_NOTE,
                            "Left: how tight the segments are; the bend (elbow) is where more segments stop "
                            "paying off. Right: how clearly customers belong to their segment, for each model.",
                        ),
                        lg=7,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        chart_card(
                            "How well does each customer fit? Silhouette per customer",
                            ids.MODELS_KNIFE_GRAPH,
                            "silhouette-knife-plot",
                            360,
                            ids.MODELS_KNIFE_NOTE,
                            "One thin bar per customer, sorted within each segment. Long bars: clearly in "
                            "their segment; bars left of zero: closer to another segment.",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        chart_card(
                            "How DBSCAN sets its density threshold",
                            ids.MODELS_KDIST_GRAPH,
                            "dbscan-k-distance",
                            360,
                            ids.MODELS_KDIST_NOTE,
                            "Each customer's distance to its nearest neighbours, sorted. Where the curve "
                            "turns up (the knee), customers stop being in dense groups; DBSCAN's eps is set there.",
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mb-3",
            ),
            card(
                "Does the preprocessing matter? Scaling variants (KMeans at the k in use)",
                dbc.Row(
                    [
                        dbc.Col(graph(ids.MODELS_SCALING_GRAPH, "scaling-variants", height=300), lg=6),
                        dbc.Col(html.Div(id=ids.MODELS_SCALING_TABLE), lg=6),
                    ],
                    className="g-3",
                ),
                help_text="Spend is heavy-tailed: a few customers spend many times the typical amount. With standard "
                "scaling they dominate the distances. log1p (the log of 1 + value) compresses large values, so $2,000 "
                "is about 1.6× $100 instead of 20×; Yeo–Johnson picks the power transform that makes each feature "
                "closest to a bell curve.",
            ),
        ],
        id=ids.MODELS_CONTENT,
        hidden=True,
    )


def chart_card(title: str, graph_id: str, filename: str, height: int, note_id: str, help_text: str) -> dbc.Card:
    """A card with one chart and a generated note under it."""
    return card(
        title,
        html.Div(
            [graph(graph_id, filename, height=height), html.Div(id=note_id, className="small text-body-secondary")]
        ),
        help_text=help_text,
    )


def layout(**_query: str) -> html.Div:
    """Page frame; the comparison is filled in for the session's artifact."""
    return html.Div(
        [
            page_header(
                "Model comparison",
                "Which way of segmenting should we trust? Six methods compared on the same customers, "
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
        ],
        className="models-page",
    )


# --- building blocks ------------------------------------------------------------------------------------
def computing_message() -> html.Div:
    """What the user sees while the comparison is computed for the first time."""
    return html.Div(
        [
            html.Div(
                [html.I(className="bi bi-hourglass-split me-2"), html.Strong("Comparing models on this data…")],
                className="mb-1",
            ),
            html.Div(
                "This data and settings have not been compared yet: six models, k from 2 to 10 and three scalings "
                "are fitted now (about 5–15 seconds on the sample). You can keep using the app meanwhile.",
                className="small text-body-secondary mb-2",
            ),
        ]
    )


def recommendation_card(result: dict[str, Any]) -> dbc.Card:
    """The recommendation in words, why not the others, and the rule (one click deeper)."""
    rec = result.get("recommendation") or {}
    row = recommended_entry(result)
    if rec.get("model") is None or row is None:
        body: list[Any] = [
            html.H2("No recommendation", className="h5"),
            html.P(plain_recommendation(result), className="mb-0"),
        ]
        return dbc.Card(dbc.CardBody(body), className="shadow-sm h-100 models-recommendation")
    title = f"{model_label(rec['model'])} with {rec['k']} segments"
    scaling = SCALING_LABELS.get(rec.get("scaling") or "", rec.get("scaling") or "")
    facts = [
        (
            "Stability",
            f"{row['stability_mean']:.2f} ± {row['stability_std'] or 0:.2f}"
            if row.get("stability_mean") is not None
            else "n/a",
        ),
        ("Silhouette", f"{row['silhouette']:.3f}" if row.get("silhouette") is not None else "n/a"),
        ("No segment", f"{row.get('noise_share') or 0:.0%}"),
        ("Smallest segment", f"{row['min_segment_share']:.0%}" if row.get("min_segment_share") is not None else "n/a"),
    ]
    others = why_not_others(result)
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [html.I(className="bi bi-stars me-2"), "Our recommendation"],
                    className="seg-label text-primary",
                ),
                html.H2(title, className="h4 mb-1 models-rec-title"),
                html.Div(
                    [
                        scaling,
                        " · ",
                        "scores new customers itself"
                        if row.get("predicts_natively")
                        else "scores new customers by nearest segment centre",
                    ],
                    className="small text-body-secondary mb-2",
                ),
                html.P(plain_recommendation(result), className="mb-2 models-rec-text"),
                html.Div(
                    [
                        html.Div(
                            [html.Div(v, className="models-fact-value"), html.Div(k, className="models-fact-label")],
                            className="models-fact",
                        )
                        for k, v in facts
                    ],
                    className="models-facts mb-2",
                ),
                html.Details(
                    [
                        html.Summary("Why not the others?"),
                        html.Ul(
                            [html.Li([html.Strong(who + ": "), why]) for who, why in others],
                            className="small ps-3 mt-1 mb-0 models-why-not",
                        ),
                    ],
                    open=True,
                    className="models-details mb-1",
                ),
                html.Details(
                    [
                        html.Summary("The rule and the statistics"),
                        html.Div(
                            [
                                html.P(rec.get("reason") or "", className="mb-1"),
                                html.P(
                                    "Rule: keep models with as many segments as asked for, at most "
                                    f"{(rec.get('rule') or {}).get('max_noise_share', 0):.0%} of customers without a segment and every "
                                    f"segment at least {(rec.get('rule') or {}).get('min_segment_share', 0):.0%} of customers; among "
                                    "those within 0.02 of the best silhouette, take the most stable (ties: native prediction, "
                                    "then k nearest the elbow).",
                                    className="mb-1",
                                ),
                                html.Div(["Command line: ", html.Code(rec.get("command") or "")]),
                            ],
                            className="small text-body-secondary mt-1",
                        ),
                    ],
                    className="models-details",
                ),
            ]
        ),
        className="shadow-sm h-100 models-recommendation",
    )


def in_use_text(result: dict[str, Any], active: ArtifactView) -> html.Div:
    """The model the session uses, and whether it is the recommendation."""
    model = active.manifest["model"]
    rec = result.get("recommendation") or {}
    same = (
        rec.get("model") == model["name"]
        and rec.get("scaling") == model["scaling"]
        and (rec.get("model") not in SWEEP_MODELS or rec.get("k") == model["k"])
    )
    badge = (
        dbc.Badge("recommended", color="success", className="ms-2")
        if same
        else dbc.Badge("not the recommendation", color="warning", text_color="dark", className="ms-2")
    )
    return html.Div(
        [
            html.Span("In use now: ", className="text-body-secondary"),
            html.Strong(choice_label(model["name"], model["k"], model["scaling"])),
            badge,
        ]
    )


def sampled_note(result: dict[str, Any]) -> Any:
    """The sampling message: an info alert when sampling was applied, a muted line otherwise."""
    sampled = result.get("sampled") or {}
    message = sampled.get("message") or ""
    if sampled.get("applied"):
        return dbc.Alert(
            [html.I(className="bi bi-info-circle me-2"), message], color="info", className="small mb-0 py-2"
        )
    return html.Div(
        [html.I(className="bi bi-check2-circle me-1"), message, f" Computed {(result.get('created_at') or '')[:10]}."],
        className="small text-body-secondary",
    )


def native_note(result: dict[str, Any]) -> Any:
    """Which models cannot score new customers themselves."""
    names = not_native_labels(result)
    if not names:
        return "Every model here can score new customers itself."
    return [
        html.I(className="bi bi-info-circle me-1 text-primary"),
        html.Strong(", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]),
        " cannot place new customers into segments themselves. If you train one, the simulator assigns new customers "
        "to the nearest segment centre (nearest-centroid prediction).",
    ]


def scaling_table(result: dict[str, Any]) -> html.Div:
    """Scaling variants as a compact table plus the sentence on what they do here."""
    variants = result.get("scaling_variants") or []
    rows = scaling_rows(variants)
    head = html.Thead(
        html.Tr(
            [
                html.Th("Scaling"),
                html.Th("Stability ↑"),
                html.Th(
                    "Agreement ↑", title="Adjusted Rand index with the segments of the scaling in use (1 = identical)."
                ),
                html.Th("Davies–Bouldin ↓"),
                html.Th("Segment sizes"),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(r["scaling"]),
                    html.Td(r["stability"], className="text-nowrap"),
                    html.Td(r["agreement"]),
                    html.Td(r["davies_bouldin"]),
                    html.Td(r["sizes"], className="text-nowrap"),
                ]
            )
            for r in rows
        ]
    )
    return html.Div(
        [
            html.Table([head, body], className="table table-sm small mb-2 models-scaling-table"),
            html.P(scaling_sentence(variants), className="small mb-1"),
            html.P(
                "Silhouettes of different scalings are measured in different spaces, so compare stability and "
                "agreement across scalings, not silhouette.",
                className="small text-body-secondary mb-0",
            ),
        ]
    )


def knife_note(result: dict[str, Any], active: ArtifactView, coloured: bool) -> str:
    """Which model the knife plot shows, and how to read the colours."""
    knife = result.get("silhouette_samples") or {}
    if not knife.get("values"):
        return ""
    what = choice_label(knife.get("model") or "", knife.get("k"))
    shown = (
        f"{len(knife['values']):,} of {knife.get('rows', 0):,} customers"
        if knife.get("rows", 0) > len(knife["values"])
        else "all customers"
    )
    if coloured:
        return f"The recommended model, {what}, is the model in use: colours are your segments. Showing {shown}."
    return f"The recommended model, {what}, is not the model in use, so its groups are numbered, not named. Showing {shown}."


def kdist_note(result: dict[str, Any]) -> str:
    """DBSCAN's outcome in one sentence."""
    kd = result.get("kdistance") or {}
    db = next((m for m in result.get("models") or [] if m["name"] == "dbscan"), None)
    if not kd or db is None:
        return ""
    return (
        f"With eps = {kd.get('eps', 0):.2f} and at least {kd.get('min_samples')} neighbours, DBSCAN found "
        f"{db['n_segments']} segments and left {db.get('noise_share') or 0:.0%} of customers as noise."
    )


def sweep_note(result: dict[str, Any], chosen_k: int | None) -> str:
    """Where the sweep's numbers come from, and the elbow in words."""
    elbow = result.get("elbow_k")
    parts = []
    if elbow is not None:
        parts.append(f"The inertia curve bends at k = {elbow}.")
    if chosen_k is not None:
        parts.append(f"Dashed line: the k of the model in use ({chosen_k}).")
    rows_used = (result.get("sampled") or {}).get("rows_used")
    other = {r["fit_rows"] for r in result.get("k_sweep") or [] if r["model"] != "kmeans"}
    if other and rows_used and max(other) < rows_used:
        parts.append(f"Agglomerative, Gaussian mixture and Birch lines use a {max(other):,}-customer sample.")
    return " ".join(parts)


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


#: What :func:`fill` draws (also redrawn by :func:`computed` when a background comparison finishes).
PAGE_OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.MODELS_CONTENT, "hidden"),
    (ids.MODELS_COMPUTE_PANEL, "className"),
    (ids.MODELS_RECOMMENDATION, "children"),
    (ids.MODELS_IN_USE, "children"),
    (ids.MODELS_SAMPLED, "children"),
    (ids.MODELS_NATIVE_NOTE, "children"),
    (ids.MODELS_TABLE, "rowData"),
    (ids.MODELS_SWEEP_GRAPH, "figure"),
    (ids.MODELS_SWEEP_NOTE, "children"),
    (ids.MODELS_KNIFE_GRAPH, "figure"),
    (ids.MODELS_KNIFE_NOTE, "children"),
    (ids.MODELS_KDIST_GRAPH, "figure"),
    (ids.MODELS_KDIST_NOTE, "children"),
    (ids.MODELS_SCALING_GRAPH, "figure"),
    (ids.MODELS_SCALING_TABLE, "children"),
)
#: What :func:`metric_chart` draws.
METRIC_OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.MODELS_METRIC_GRAPH, "figure"),
    (ids.MODELS_METRIC_HELP, "children"),
)
#: What :func:`prefill` sets.
FORM_OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.MODELS_CHOICE_MODEL, "value"),
    (ids.MODELS_CHOICE_K, "value"),
    (ids.MODELS_CHOICE_SCALING, "value"),
)


def page_view(active: ArtifactView, result: dict[str, Any] | None, theme: str) -> tuple[Any, ...]:
    """Values of :data:`PAGE_OUTPUTS`: the comparison drawn, or the compute panel when there is none."""
    if result is None:
        blank = empty_figure("", theme)
        hidden = (None, None, None, None, [], blank, None, blank, None, blank, None, blank, None)
        return (True, "shadow-sm models-compute", *hidden)
    chosen_k = int(active.manifest["model"]["k"]) if active.manifest["model"]["name"] in SWEEP_MODELS else None
    knife = result.get("silhouette_samples") or {}
    segments = knife_segments(knife, active.manifest)
    return (
        False,
        "d-none",
        recommendation_card(result),
        in_use_text(result, active),
        sampled_note(result),
        native_note(result),
        table_rows(result),
        sweep_figure(result, chosen_k, theme),
        sweep_note(result, chosen_k),
        knife_figure(knife, segments, theme),
        knife_note(result, active, segments is not None),
        kdistance_figure(result.get("kdistance") or {}, theme),
        kdist_note(result),
        scaling_figure(result.get("scaling_variants") or [], theme),
        scaling_table(result),
    )


def metric_view(result: dict[str, Any] | None, metric: str | None, theme: str) -> tuple[go.Figure, str]:
    """Values of :data:`METRIC_OUTPUTS`: one metric across models, what it means and which way is better."""
    info = METRICS.get(metric or "")
    if info is None:
        return empty_figure("Choose a metric.", theme), ""
    if result is None:
        return empty_figure("", theme), ""
    return metric_figure(result, info.key, theme), f"{info.explanation} {info.direction.capitalize()}."


def form_values(active: ArtifactView, result: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    """Values of :data:`FORM_OUTPUTS`: the recommendation (the model in use when there is none)."""
    model = active.manifest["model"]
    rec = (result or {}).get("recommendation") or {}
    if rec.get("model") is None:
        return model["name"], model["k"], model["scaling"]
    k = rec["k"] if rec["model"] in SWEEP_MODELS else model["k"]
    return rec["model"], k, rec.get("scaling") or model["scaling"]


def _outputs(pairs: tuple[tuple[str, str], ...], duplicate: bool = False) -> list[Output]:
    return [Output(cid, prop, allow_duplicate=duplicate) for cid, prop in pairs]


@callback(
    *_outputs(PAGE_OUTPUTS, duplicate=True),
    *_outputs(METRIC_OUTPUTS, duplicate=True),
    *_outputs(FORM_OUTPUTS, duplicate=True),
    Output(ids.MODELS_COMPUTE_STATUS, "children", allow_duplicate=True),
    Output(ids.MODELS_COMPUTE_RETRY, "className", allow_duplicate=True),
    Input(ids.MODELS_COMPUTED, "data"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    State(ids.THEME, "data"),
    State(ids.MODELS_METRIC, "value"),
    prevent_initial_call=True,
)
def computed(
    data: dict[str, Any] | None, artifact_id: str | None, theme: str | None, metric: str | None
) -> tuple[Any, ...]:
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
        n = len(PAGE_OUTPUTS) + len(METRIC_OUTPUTS) + len(FORM_OUTPUTS)
        return (*([no_update] * n), error_alert(str(message)), "mt-1")
    theme = theme or "light"
    return (
        *page_view(active, result, theme),
        *metric_view(result, metric, theme),
        *form_values(active, result),
        None,
        "d-none",
    )


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


@callback(*_outputs(PAGE_OUTPUTS), Input(ids.ACTIVE_ARTIFACT, "data"), Input(ids.THEME, "data"))
def fill(artifact_id: str | None, theme: str | None) -> tuple[Any, ...]:
    """Draw the page from the cached comparison of the session's artifact, or show the compute panel."""
    active, result = shown_comparison(artifact_id)
    return page_view(active, result, theme or "light")


@callback(
    *_outputs(METRIC_OUTPUTS),
    Input(ids.MODELS_METRIC, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
)
def metric_chart(metric: str | None, artifact_id: str | None, theme: str | None) -> tuple[go.Figure, str]:
    """One metric across models, with what it means and which direction is better."""
    return metric_view(shown_comparison(artifact_id)[1], metric, theme or "light")


@callback(*_outputs(FORM_OUTPUTS), Input(ids.ACTIVE_ARTIFACT, "data"))
def prefill(artifact_id: str | None) -> tuple[Any, Any, Any]:
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
    if model not in MODEL_NAMES:
        return NO_CHOICE, False, False
    density = model not in SWEEP_MODELS
    notes: list[Any] = []
    invalid = False
    if density:
        notes.append(f"{MODEL_LABELS[model]} finds its own number of segments; k is not used. ")
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
                    f"{MODEL_LABELS[model]} cannot score new customers itself: the simulator will use "
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
    return not (job and job.get("id"))


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


def trained_message(result: jobs.JobResult) -> dbc.Alert:
    """Success: what was trained, and that the whole app now uses it."""
    return trained_alert(
        [html.Strong("Now using "), choice_label(result.model, result.k, result.scaling), "."],
        f"{result.summary()} Every page uses this version in this browser tab (see the model version in the top bar). ",
        result.note,
        "models-trained",
    )


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


def train_cancelled_alert() -> dbc.Alert:
    """Training was cancelled: the session keeps its model."""
    return dbc.Alert(
        [html.I(className="bi bi-slash-circle me-2"), "Training cancelled. The model you were using is unchanged."],
        color="secondary",
        className="small mb-0 models-cancelled",
    )


# --- how well churn is predicted (its own block and callback, independent of the comparison) ----------------
def churn_check_card() -> html.Div:
    """Card "How well churn is predicted": the holdout chart and its totals, filled by :func:`churn_check`."""
    return html.Div(
        card(
            "How well churn is predicted",
            html.Div(
                [
                    html.Div(id=ids.MODELS_CHURN_SUMMARY, className="mb-2"),
                    html.Div(
                        graph(ids.MODELS_CHURN_GRAPH, "churn-holdout-check", height=320), id=ids.MODELS_CHURN_CHART
                    ),
                ]
            ),
            help_text="The activity model is fitted on purchases up to a cut-off date and asked how many purchases "
            "each group of customers makes after it; bars are what they actually bought.",
        ),
        className="mt-3 models-churn-check",
    )


def churn_check_summary(v: ArtifactView) -> html.Div:
    """Totals predicted against actual after the cut-off, with how it is measured; or why it is not checked."""
    cm = churn.churn_model(v.manifest)
    if cm is None:
        return not_measured(churn.not_measured_reason(v.manifest))
    totals = churn.holdout_totals(cm.get("holdout"))
    if totals is None:
        why = (
            "This data has no purchase dates (only counts and the days since the last purchase), so there is no "
            "later period to compare predictions with. A transaction log can be checked this way."
            if cm.get("source") == "marketing"
            else "No purchases after the cut-off to compare predictions with."
        )
        return html.Div([not_measured(why, "Not checked on later purchases"), how_measured(churn.how_measured(cm))])
    err = totals["error"]
    period = f" ({totals['start']} to {totals['end']})" if totals.get("start") and totals.get("end") else ""
    return html.Div(
        [
            html.Div(
                [
                    html.Span("Purchase days after the cut-off" + period + ": ", className="text-body-secondary"),
                    html.Strong(f"predicted {totals['predicted']:,.0f}"),
                    f", actual {totals['actual']:,.0f}",
                    f" (prediction {abs(err):.1%} {'above' if err > 0 else 'below'} actual)" if err else "",
                ],
                className="small",
            ),
            how_measured(totals["how_measured"] or churn.how_measured(cm, value=False)),
        ]
    )


@callback(
    Output(ids.MODELS_CHURN_SUMMARY, "children"),
    Output(ids.MODELS_CHURN_GRAPH, "figure"),
    Output(ids.MODELS_CHURN_CHART, "style"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
)
def churn_check(artifact_id: str | None, theme: str | None) -> tuple[Any, go.Figure, dict[str, str]]:
    """The session's artifact → how well its churn model predicted purchases after the cut-off.

    The chart is hidden when there is no holdout (the summary says why).
    """
    v = service().view(artifact_id)
    cm = churn.churn_model(v.manifest)
    rows = churn.holdout_rows(cm.get("holdout")) if cm else []
    figure = (
        holdout_figure(rows, theme or "light")
        if rows
        else empty_figure("Not checked on later purchases.", theme or "light")
    )
    return churn_check_summary(v), figure, {} if rows else {"display": "none"}
