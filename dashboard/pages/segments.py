"""Segments & strategy (/segments): what each segment is worth, how it behaves, what to do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import churn, ids, segment_notes
from dashboard.components import (
    actions_list,
    card,
    churn_badge,
    fmt_money,
    fmt_pct,
    graph,
    how_measured,
    not_measured,
    page_header,
    segment_chip,
)
from dashboard.exports import download_menu
from dashboard.figures.segments import evidence_phrases, priority_figure, profile_rows
from dashboard.figures.variables import numeric_variables, population_means
from dashboard.first_render import session_choice, when_in_view
from dashboard.services import ArtifactView, view

dash.register_page(
    __name__,
    path="/segments",
    name="Segments",
    title="Segments · Customer Segments",
    order=5,
    description="Each customer segment's profile, value, churn risk and recommended actions, in order of priority.",
)


def layout(**kwargs: Any) -> html.Div:
    """The page for the session's data set and theme (:mod:`dashboard.first_render`); :func:`render` redraws it."""
    artifact_id, theme = session_choice(kwargs)
    v = view(artifact_id)
    figure, priority, how = contents(v, theme)
    return html.Div(
        [
            html.Div(
                [
                    page_header(
                        "Segments & strategy",
                        "What each segment is worth, how it behaves against the average customer and what to do next.",
                        "bullseye",
                    ),
                    download_menu("segments", "all", label="Download all customers", what="with their segments"),
                ],
                className="d-flex justify-content-between align-items-start flex-wrap gap-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Priority matrix",
                            html.Div(
                                [
                                    graph(
                                        ids.SEGMENTS_MATRIX_GRAPH, "segment-priority-matrix", height=400, figure=figure
                                    ),
                                    html.Div(how, id=ids.SEGMENTS_HOW_MEASURED),
                                ]
                            ),
                            help_text="Right = more of total spend, up = more customers likely inactive, bubble = "
                            "number of customers. Top right needs attention first.",
                        ),
                        lg=8,
                    ),
                    dbc.Col(card("Where to act first", html.Div(priority, id=ids.SEGMENTS_PRIORITY)), lg=4),
                ],
                className="g-3 mb-3",
            ),
            # Below the fold: the cards (about 560 components for four segments) are built when their row
            # scrolls into view (dashboard.first_render.when_in_view); the row keeps roughly their height.
            dcc.Store(id=ids.SEGMENTS_CARDS_WANTED, data=False),
            dbc.Row(
                html.P("The segments' profiles appear as you scroll to them.", className="small text-body-secondary"),
                id=ids.SEGMENTS_CARDS,
                className="g-3",
                style=cards_placeholder_style(len(v.segments)),
            ),
        ]
    )


#: Height kept for one row of two segment cards until they are built.
CARD_ROW_PX = 620


def cards_placeholder_style(n_segments: int) -> dict[str, str]:
    """The cards' row before they are built: about their height, so the page's length does not jump."""
    return {"minHeight": f"{-(-n_segments // 2) * CARD_ROW_PX}px"}


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


def activity_stats(segment: Mapping[str, Any], months: int) -> list[html.Div]:
    """The segment's measured activity and value: mean P(alive), expected value per customer, value at risk.

    Empty when not measured (the badge says so); value figures only with a spend model.
    """
    c = churn.segment_churn(segment)
    if c is None:
        return []
    out = [html.Div([html.Div(fmt_pct(c.get("mean_p_alive")), className="seg-stat"), html.Small("mean P(alive)")])]
    if c.get("mean_clv") is not None:
        out.append(
            html.Div(
                [
                    html.Div(fmt_money(c["mean_clv"]), className="seg-stat"),
                    html.Small(f"expected per customer, {months} months"),
                ],
                title=f"{fmt_money(c.get('total_clv'))} for the whole segment",
            )
        )
    var = churn.value_at_risk(segment)
    if var is not None:
        out.append(html.Div([html.Div(fmt_money(var), className="seg-stat"), html.Small("value at risk")]))
    return out


def segment_card(
    segment: Mapping[str, Any], v: ArtifactView, avg: Mapping[str, float], notes: Mapping[str, str] | None = None
) -> dbc.Card:
    """One segment: size and value, objective and actions, profile vs average, evidence."""
    stats = html.Div(
        [
            html.Div([html.Div(f"{segment['size']:,}", className="seg-stat"), html.Small("customers")]),
            html.Div([html.Div(fmt_pct(segment.get("share")), className="seg-stat"), html.Small("of customers")]),
            html.Div(
                [html.Div(fmt_pct(segment.get("value_share")), className="seg-stat"), html.Small("of total spend")]
            ),
            *activity_stats(segment, churn.horizon_months(churn.churn_model(v.manifest))),
        ],
        className="seg-stats d-flex flex-wrap column-gap-4 row-gap-1 mb-2",
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
    notes = notes or {}
    body = [
        html.Div(
            [
                html.H2(segment_chip(segment), className="h6 mb-0"),
                html.Div(
                    [
                        churn_badge(segment),
                        download_menu(
                            "segment-card",
                            segment["key"],
                            ("segment",),
                            {"segment": [segment["key"]]},
                            label="Download",
                            what=f"the customers of {segment['name']}",
                        ),
                    ],
                    className="d-flex align-items-center gap-2 ms-auto",
                ),
            ],
            className="d-flex flex-wrap justify-content-between align-items-center mb-2 gap-2",
        ),
        stats,
        strategy,
        segment_notes.note_box(segment, notes.get(segment["key"], "")),
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


def act_figures(segment: Mapping[str, Any]) -> list[Any]:
    """The measured figures behind a segment's place in "where to act first"."""
    c = churn.segment_churn(segment)
    spend = f"{fmt_pct(segment.get('value_share'))} of spend, {fmt_pct(segment.get('share'))} of customers"
    if c is None:
        return [f": {spend}."]
    var = churn.value_at_risk(segment)
    parts: list[Any] = [f": {spend}, {fmt_pct(c['share_likely_inactive'])} likely inactive"]
    if var is not None:
        parts += [", ", html.Strong(f"{fmt_money(var)} at risk", className="act-figures")]
    return [*parts, "."]


def priority_list(v: ArtifactView) -> html.Div:
    """Segments ranked by measured value at risk, with the figures and one line of advice each."""
    cm = churn.churn_model(v.manifest)
    items = []
    for s in churn.act_first_order(v.segments):
        items.append(
            html.Li(
                [
                    html.Div([segment_chip(s)], className="mb-1"),
                    html.Div([html.Strong(s["objective"]), *act_figures(s)], className="small"),
                ],
                className="mb-2",
            )
        )
    if cm is None:
        note = not_measured(churn.not_measured_reason(v.manifest))
        intro = "Ordered by share of total spend."
    else:
        valued = all(churn.value_at_risk(s) is not None for s in v.segments)
        order = (
            "Ordered by value at risk: the expected value of customers likely inactive. "
            if valued
            else "Ordered by the number of customers likely inactive (value at risk is not measured for this data). "
        )
        note = how_measured(order + churn.how_measured(cm, value=valued))
        intro = None
    return html.Div(
        [
            *([html.P(intro, className="small text-body-secondary mb-2")] if intro else []),
            html.Ol(items, className="priority-list ps-3 mb-2"),
            note,
        ]
    )


def matrix_note(v: ArtifactView) -> html.Div:
    """How the matrix's vertical axis is measured, or why it is not."""
    cm = churn.churn_model(v.manifest)
    if cm is None:
        return not_measured(churn.not_measured_reason(v.manifest))
    return how_measured(
        churn.how_measured(cm, value=False) + " Dotted lines: a fair share of spend (1 / number of segments) "
        "and the share likely inactive among all customers."
    )


@callback(
    Output(ids.SEGMENTS_MATRIX_GRAPH, "figure"),
    Output(ids.SEGMENTS_PRIORITY, "children"),
    Output(ids.SEGMENTS_HOW_MEASURED, "children"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    prevent_initial_call=True,  # the layout draws the page first
)
def render(artifact_id: str | None, theme: str | None) -> tuple[Any, ...]:
    """Redraw the matrix and the ranking when the session's artifact or the theme changes."""
    return contents(view(artifact_id), theme or "light")


def contents(v: ArtifactView, theme: str) -> tuple[Any, ...]:
    """Priority matrix, ranking and how the matrix is measured, for ``v``."""
    cm = churn.churn_model(v.manifest)
    reason = None if cm is not None else churn.not_measured_reason(v.manifest)
    pop = churn.measured_population(v.manifest, v.customers, v.segments)
    return priority_figure(v.segments, theme, reason, pop), priority_list(v), matrix_note(v)


when_in_view(ids.SEGMENTS_CARDS, ids.SEGMENTS_CARDS_WANTED)


@callback(
    Output(ids.SEGMENTS_CARDS, "children"),
    Output(ids.SEGMENTS_CARDS, "style"),
    Input(ids.SEGMENTS_CARDS_WANTED, "data"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def render_cards(wanted: bool | None, artifact_id: str | None) -> tuple[list[dbc.Col], dict[str, str]]:
    """The segment cards, once their row has been on screen (and again when the session's artifact changes)."""
    if not wanted:
        raise PreventUpdate
    return segment_cards(view(artifact_id)), {}


def segment_cards(v: ArtifactView) -> list[dbc.Col]:
    """One card per segment of ``v``, with its notes."""
    avg = averages(v)
    notes = segment_notes.notes_of(v)
    return [dbc.Col(segment_card(s, v, avg, notes), lg=6) for s in v.segments]
