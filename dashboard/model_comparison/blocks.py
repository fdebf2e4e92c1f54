"""Model comparison page: components drawn from a comparison result (recommendation, notes, tables, alerts)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from dashboard import churn, jobs
from dashboard.components import (
    how_measured,
    not_measured,
    trained_alert,
)
from dashboard.figures.models import (
    choice_label,
    model_label,
    not_native_labels,
    plain_recommendation,
    recommended_entry,
    scaling_rows,
    scaling_sentence,
    why_not_others,
)
from dashboard.model_comparison.data import model_count
from dashboard.services import ArtifactView
from pipeline.segmentation import registry


def computing_message() -> html.Div:
    """What the user sees while the comparison is computed for the first time."""
    return html.Div(
        [
            html.Div(
                [html.I(className="bi bi-hourglass-split me-2"), html.Strong("Comparing models on this data…")],
                className="mb-1",
            ),
            html.Div(
                f"This data and settings have not been compared yet: {model_count()} models, k from 2 to 10 and three scalings "
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
    from pipeline.segmentation.compare import SCALING_LABELS  # with the comparison's fitting code: not at start

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
        and (not registry.takes_k(rec.get("model")) or rec.get("k") == model["k"])
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
    """The sampling message and the "how measured" note: an info alert when sampling was applied, a muted line otherwise."""
    sampled = result.get("sampled") or {}
    message = sampled.get("message") or ""
    how = sampled.get("how_measured") or ""
    if sampled.get("applied"):
        return dbc.Alert(
            [html.I(className="bi bi-info-circle me-2"), message, html.Div(how, className="mt-1")],
            color="info",
            className="small mb-0 py-2",
        )
    return html.Div(
        [
            html.I(className="bi bi-check2-circle me-1"),
            message,
            f" Computed {(result.get('created_at') or '')[:10]}.",
            " ",
            how,
        ],
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


def trained_message(result: jobs.JobResult) -> dbc.Alert:
    """Success: what was trained, and that the whole app now uses it."""
    return trained_alert(
        [html.Strong("Now using "), choice_label(result.model, result.k, result.scaling), "."],
        f"{result.summary()} Every page uses this version in this browser tab (see the model version in the top bar). ",
        result.note,
        "models-trained",
    )


def train_cancelled_alert() -> dbc.Alert:
    """Training was cancelled: the session keeps its model."""
    return dbc.Alert(
        [html.I(className="bi bi-slash-circle me-2"), "Training cancelled. The model you were using is unchanged."],
        color="secondary",
        className="small mb-0 models-cancelled",
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
