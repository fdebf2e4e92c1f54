"""Presentation mode (/present): the segmentation story one screen at a time, for a room.

Overview → segment size vs value → one screen per segment → priority matrix →
where to act first.  Controls and the navbar are hidden and type is larger;
``assets/present.js`` walks the screens with the arrow keys (Page Up/Down,
Home/End; Escape leaves).  ``?present=1`` on any page opens it.

``/present?version=<id>`` is a read-only link to one data set and model version:
it opens only for whoever may read that version under the registry's rules
(their own, a shared one, the server's); for anyone else it says it is not
available and shows nothing of it.  The owner is offered the link once the version
is shared (Share on /data).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
import flask
from dash import Input, Output, State, callback, dcc, html

from dashboard import churn, ids
from dashboard.components import actions_list, fmt_money, fmt_pct, graph, segment_chip
from dashboard.figures.overview import segment_share_figure
from dashboard.figures.segments import priority_figure
from dashboard.services import ArtifactView, service
from pipeline.errors import SegmentationError

dash.register_page(
    __name__,
    path="/present",
    name="Present",
    title="Presentation · Customer Segments",
    order=98,
    description="The customer segmentation story one screen at a time, for presenting.",
)


def layout(version: str | None = None, **_query: str) -> html.Div:
    """The deck frame; the screens are filled by :func:`render` for the version shown."""
    return html.Div(
        [
            dcc.Store(id=ids.PRESENT_VERSION, data=version),
            html.Div(
                [
                    html.Span(className="present-counter", **{"aria-live": "polite"}),
                    html.Span("← → to move · Esc to leave", className="present-keys"),
                    dcc.Link(
                        [html.I(className="bi bi-x-lg me-1", **{"aria-hidden": "true"}), "Leave presentation"],
                        href="/",
                        className="present-exit btn btn-sm btn-outline-secondary",
                    ),
                ],
                className="present-bar d-flex align-items-center gap-3",
            ),
            html.Div(id=ids.PRESENT_DECK, className="present-deck"),
            html.Div(id=ids.PRESENT_SHARE, className="present-share small"),
        ],
        className="present-page",
    )


def screen(title: str, *body: Any, subtitle: str | None = None) -> html.Section:
    """One screen: a sentence as title, then its content (hidden until the walk reaches it)."""
    head = [html.H1(title, className="present-title")] if title else []
    if subtitle:
        head.append(html.P(subtitle, className="present-subtitle"))
    return html.Section([*head, *body], className="present-screen", hidden=True)


def big_number(value: str, label: str) -> html.Div:
    return html.Div([html.Div(value, className="present-number"), html.Div(label, className="present-label")])


def overview_screen(v: ArtifactView) -> html.Section:
    """Title and the story at a glance: customers, segments, value concentration, measured risk."""
    segs = v.segments
    top = max(segs, key=lambda s: s.get("value_share") or 0.0)
    numbers = [
        big_number(f"{v.manifest['data']['n_customers']:,}", "customers"),
        big_number(str(len(segs)), "segments"),
        big_number(fmt_pct(top.get("value_share")), f"of spend from {top['name']}")
        if top.get("value_share") is not None
        else big_number("not measured", "share of spend (the data has no customer spend)"),
    ]
    pop = churn.measured_population(v.manifest, v.customers, segs)
    if pop is not None and pop["share_likely_inactive"] is not None:
        measured, n = pop.get("n_measured"), pop.get("n_customers")
        of = (
            f"of the {measured:,} customers measured" if measured is not None and n is not None and measured < n else ""
        )
        numbers.append(big_number(fmt_pct(pop["share_likely_inactive"]), f"likely inactive {of or '(measured)'}"))
    else:
        numbers.append(big_number("not measured", "customer activity"))
    return screen(
        f"{v.manifest['data']['name']}: {len(segs)} customer segments",
        html.Div(numbers, className="present-numbers"),
        html.P(f"Model version {v.label}.", className="present-note"),
        subtitle="Who the customers are, what each segment is worth, and where to act first.",
    )


def segment_screen(segment: Mapping[str, Any], horizon: int) -> html.Section:
    """One segment: size, shares, measured risk, objective and actions."""
    numbers = [
        big_number(f"{segment['size']:,}", "customers"),
        big_number(fmt_pct(segment.get("share")), "of customers"),
        big_number(fmt_pct(segment.get("value_share")), "of spend"),
    ]
    share = churn.share_inactive(segment)
    if share is not None:
        numbers.append(big_number(fmt_pct(share), f"likely inactive (next {horizon} months)"))
    var = churn.value_at_risk(segment)
    if var is not None:
        numbers.append(big_number(fmt_money(var), "value at risk"))
    return screen(
        f"{segment['name']}: {fmt_pct(segment.get('share'))} of customers, {fmt_pct(segment.get('value_share'))} of spend",
        html.Div(segment_chip(segment), className="present-chip"),
        html.Div(numbers, className="present-numbers"),
        html.Div(
            [
                html.Div([html.H2("Objective", className="present-label"), html.P(segment["objective"])]),
                html.Div([html.H2("Recommended actions", className="present-label"), actions_list(segment["actions"])]),
            ],
            className="present-strategy",
        ),
    )


def act_first_screen(v: ArtifactView) -> html.Section:
    """Segments in the order to act on them (value at risk when measured, otherwise share of spend)."""
    order = churn.act_first_order(v.segments)
    items = []
    for s in order:
        var = churn.value_at_risk(s)
        detail = f"{fmt_money(var)} at risk · " if var is not None else ""
        items.append(html.Li([segment_chip(s), html.Div(f"{detail}{s['objective']}", className="present-note")]))
    how = (
        "Ordered by value at risk: the expected value of customers likely inactive."
        if churn.churn_model(v.manifest) is not None
        else "Ordered by share of total spend (customer activity is not measured for this data)."
    )
    return screen(
        f"Act first on {order[0]['name']}" if order else "Where to act first",
        html.Ol(items, className="present-list"),
        html.P(how, className="present-note"),
    )


def screens(v: ArtifactView, theme: str) -> list[html.Section]:
    """The whole story, in order."""
    cm = churn.churn_model(v.manifest)
    reason = None if cm is not None else churn.not_measured_reason(v.manifest)
    horizon = churn.horizon_months(cm)
    return [
        overview_screen(v),
        screen(
            "Segment size vs value",
            graph(
                {"type": "present-graph", "index": "size"},
                "segment-size-vs-value",
                height=460,
                figure=segment_share_figure(v.segments, theme),
            ),
            subtitle="Pale bars: share of customers. Solid bars: share of total spend.",
        ),
        *[segment_screen(s, horizon) for s in v.segments],
        screen(
            "Priority: value against measured risk",
            graph(
                {"type": "present-graph", "index": "priority"},
                "priority-matrix",
                height=460,
                figure=priority_figure(
                    v.segments, theme, reason, churn.measured_population(v.manifest, v.customers, v.segments)
                ),
            ),
        ),
        act_first_screen(v),
    ]


def share_note(v: ArtifactView) -> list[Any]:
    """The read-only link to this version, offered when everyone on the server may open it."""
    try:
        record = service().readable(v.id)
    except SegmentationError:
        return []
    link = f"{flask.request.host_url.rstrip('/')}/present?version={v.id}" if flask.has_request_context() else ""
    if not record.shared:
        return [
            html.I(className="bi bi-lock me-1", **{"aria-hidden": "true"}),
            "Only you can open this presentation. To give people on this server a read-only link, ",
            dcc.Link("Share this version on Your data", href="/data"),
            ".",
        ]
    return [
        html.I(className="bi bi-link-45deg", **{"aria-hidden": "true"}),
        "Read-only link for people on this server: ",
        html.A(link, href=link, className="present-share-link text-break"),
    ]


@callback(
    Output(ids.PRESENT_DECK, "children"),
    Output(ids.PRESENT_SHARE, "children"),
    Input(ids.PRESENT_VERSION, "data"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    State(ids.THEME, "data"),
)
def render(version: str | None, artifact_id: str | None, theme: str | None) -> tuple[Any, Any]:
    """The screens for the shared ``version`` (checked against the registry) or the session's version."""
    svc = service()
    if version:
        try:
            v = svc.checked_view(version)
        except SegmentationError as err:
            return [screen("This presentation is not available", html.P(str(err), className="present-note"))], []
    else:
        v = svc.view(artifact_id)
    deck = screens(v, theme or "light")
    if v.notice:
        deck[0].children.append(html.P(f"⚠ {v.notice}", className="present-note"))
    return deck, share_note(v)
