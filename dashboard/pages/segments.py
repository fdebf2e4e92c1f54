"""Segments & strategy (/segments): what each segment is worth, how it behaves, what to do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard import ids
from dashboard.components import actions_list, card, fmt_pct, graph, page_header, risk_badge, segment_chip
from dashboard.figures.eda import numeric_variables, population_means
from dashboard.figures.segments import evidence_phrases, priority_figure, priority_order, profile_rows
from dashboard.services import ArtifactView, view

dash.register_page(__name__, path="/segments", name="Segments", title="Segments · Customer Segments", order=5)


def layout(**_query: str) -> html.Div:
    """Page frame; content is filled by :func:`render` for the session's data set."""
    return html.Div(
        [
            page_header(
                "Segments & strategy",
                "What each segment is worth, how it behaves against the average customer and what to do next.",
                "bullseye",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Priority matrix",
                            graph(ids.SEGMENTS_MATRIX_GRAPH, "segment-priority-matrix", height=400),
                            help_text="Right = more of total spend, up = higher churn risk, bubble = number of "
                            "customers. Top right needs attention first.",
                        ),
                        lg=8,
                    ),
                    dbc.Col(card("Where to act first", html.Div(id=ids.SEGMENTS_PRIORITY)), lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(id=ids.SEGMENTS_CARDS, className="g-3"),
        ]
    )


def averages(v: ArtifactView) -> dict[str, float]:
    """The average customer: features from the manifest, profile attributes from the customers."""
    means = population_means(v.customers, numeric_variables(v.customers, v.features))
    means.update({k: float(x) for k, x in (v.manifest.get("population") or {}).items()})
    return means


def profile_table(rows: list[dict[str, Any]]) -> html.Table:
    """Segment vs average customer, one row per measure, with ▲▼ deltas."""
    body = []
    for r in rows:
        d = r["delta"]
        tone = "delta-flat" if d is None or abs(d) < 0.05 else ("delta-up" if d > 0 else "delta-down")
        strong = d is not None and abs(d) >= 0.25
        body.append(
            html.Tr(
                [
                    html.Td(
                        [
                            r["label"],
                            html.Span(f" {r['unit_note']}", className="unit-note") if r["unit_note"] else None,
                        ],
                        className="fw-semibold" if r["feature"] else "",
                    ),
                    html.Td(r["value_short"], className="text-end text-nowrap"),
                    html.Td(r["average_short"], className="text-end text-nowrap text-body-secondary"),
                    html.Td(
                        r["delta_text"], className=f"text-end text-nowrap {tone}{' fw-semibold' if strong else ''}"
                    ),
                ],
                className="profile-feature" if r["feature"] else "",
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th("Measure"),
                html.Th("This segment", className="text-end"),
                html.Th("Average", className="text-end"),
                html.Th("vs avg", className="text-end"),
            ]
        )
    )
    return html.Table([head, html.Tbody(body)], className="table table-sm small mb-0 profile-table")


def evidence_block(segment: Mapping[str, Any], v: ArtifactView) -> html.Details:
    """'Why this name?': plain sentences, the σ numbers one click deeper."""
    phrases = evidence_phrases(segment.get("centroid_z") or {}, v.feature_defs)
    return html.Details(
        [
            html.Summary("Why this name?", className="small fw-semibold"),
            html.Ul(
                [html.Li([p["text"], html.Span(f" ({p['sigma']})", className="text-body-secondary")]) for p in phrases],
                className="small mb-1 ps-3 mt-1",
            ),
            html.Div(
                [
                    "Named from the segment's averages in standard deviations (σ) from the average customer: ",
                    html.Code(segment.get("evidence", "")),
                ],
                className="small text-body-secondary",
            ),
        ],
        className="evidence-details",
    )


def segment_card(segment: Mapping[str, Any], v: ArtifactView, avg: Mapping[str, float]) -> dbc.Card:
    """One segment: size and value, objective and actions, profile vs average, evidence."""
    stats = html.Div(
        [
            html.Div([html.Div(f"{segment['size']:,}", className="seg-stat"), html.Small("customers")]),
            html.Div([html.Div(fmt_pct(segment.get("share")), className="seg-stat"), html.Small("of customers")]),
            html.Div(
                [html.Div(fmt_pct(segment.get("value_share")), className="seg-stat"), html.Small("of total spend")]
            ),
        ],
        className="seg-stats d-flex gap-4 mb-2",
    )
    strategy = dbc.Row(
        [
            dbc.Col(
                [
                    html.Div("Objective", className="seg-label"),
                    html.Div(segment["objective"], className="fw-semibold"),
                ],
                md=5,
            ),
            dbc.Col(
                [html.Div("Recommended actions", className="seg-label"), actions_list(segment.get("actions") or [])],
                md=7,
            ),
        ],
        className="g-2 mb-3",
    )
    rows = profile_rows(segment, avg, v.features, v.feature_defs)
    body = [
        html.Div(
            [html.H3(segment_chip(segment), className="h6 mb-0"), risk_badge(segment["risk"])],
            className="d-flex justify-content-between align-items-center mb-2 gap-2",
        ),
        stats,
        strategy,
        html.Div("Profile against the average customer", className="seg-label"),
        html.Div(profile_table(rows), className="table-responsive"),
        html.Div(
            [
                evidence_block(segment, v),
                dcc.Link(
                    [html.I(className="bi bi-box-arrow-up-right me-1"), "Explore these customers"],
                    href=f"/explorer?segment={segment['key']}",
                    className="small text-nowrap ms-3",
                ),
            ],
            className="d-flex justify-content-between align-items-start mt-2",
        ),
    ]
    return dbc.Card(
        dbc.CardBody(body),
        className="shadow-sm h-100 segment-card",
        style={"borderTopColor": segment["colour"]},
    )


def priority_list(v: ArtifactView) -> html.Ol:
    """Segments ranked by value at stake and churn risk, one line of advice each."""
    items = []
    for s in priority_order(v.segments):
        items.append(
            html.Li(
                [
                    html.Div([segment_chip(s)], className="mb-1"),
                    html.Div(
                        [
                            html.Strong(s["objective"]),
                            f": {fmt_pct(s.get('value_share'))} of spend, {fmt_pct(s.get('share'))} of customers, ",
                            html.Span(f"{s['risk']} churn risk", className=f"risk-text risk-{s['risk']}"),
                            ".",
                        ],
                        className="small",
                    ),
                ],
                className="mb-2",
            )
        )
    return html.Ol(items, className="priority-list ps-3 mb-0")


@callback(
    Output(ids.SEGMENTS_CARDS, "children"),
    Output(ids.SEGMENTS_MATRIX_GRAPH, "figure"),
    Output(ids.SEGMENTS_PRIORITY, "children"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
)
def render(artifact_id: str | None, theme: str | None) -> tuple[Any, ...]:
    """Segment cards, priority matrix and ranking for the session's artifact."""
    v = view(artifact_id)
    avg = averages(v)
    cards = [dbc.Col(segment_card(s, v, avg), lg=6) for s in v.segments]
    return cards, priority_figure(v.segments, theme or "light"), priority_list(v)
