"""Model comparison page: the static layout pieces (compute panel, training form, chart cards, churn check card)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import ids
from dashboard.components import (
    card,
    graph,
)
from dashboard.figures.models import (
    METRICS,
    SCALING_SHORT,
)
from dashboard.model_comparison.data import K_MAX, K_MIN, native_models
from dashboard.model_comparison.table import models_table
from pipeline.config import SCALINGS
from pipeline.segmentation import registry

#: The metric the "one metric across models" chart shows first.
DEFAULT_METRIC = "stability_mean"
#: The training form's note before a model is chosen.
NO_CHOICE = "Filled in with the recommendation when the comparison is ready, or choose now."


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
        {"label": registry.label(m) + ("" if native[m] else " (nearest-centroid prediction)"), "value": m}
        for m in registry.model_names()
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
                html.Div(id=ids.MODELS_IN_USE, className="small mb-2 models-in-use"),
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
    metric_select = dbc.Select(
        id=ids.MODELS_METRIC,
        options=[{"label": m.label, "value": key} for key, m in METRICS.items()],
        value=DEFAULT_METRIC,
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
                            models_table([]),  # rows: ``page_view``; sorted by ``sort_table``
                            dcc.Store(id=ids.MODELS_TABLE_SORT, data=None),
                            metric_help(),
                        ]
                    ),
                    help_text="Same customers, same features, same scaling. Click a column to sort (best first; "
                    "click again to reverse); hover a header for what it measures. ↑ higher is better, "
                    "↓ lower is better.",
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
                id=ids.MODELS_CHARTS,
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
