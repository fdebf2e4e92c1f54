"""Overview (/): KPIs, segment sizes and value, one card per segment, data quality."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from dashboard import churn, ids
from dashboard.components import card, churn_badge, fmt_money, fmt_pct, graph, kpi_card, page_header, segment_chip
from dashboard.exports import download_menu
from dashboard.figures.overview import segment_share_figure
from dashboard.first_render import session_choice
from dashboard.report_menu import report_menu
from dashboard.services import ArtifactView, view
from pipeline.features.definitions import spend_period

dash.register_page(
    __name__,
    path="/",
    name="Overview",
    title="Overview · Customer Segments",
    order=0,
    description="Customer segments at a glance: who your customers are, what each segment is worth and what to do about it.",
)


def layout(**kwargs: Any) -> html.Div:
    """The page for the session's data set and theme (:mod:`dashboard.first_render`); :func:`render` redraws it."""
    artifact_id, theme = session_choice(kwargs)
    kpi_cols, figure, cards, quality, model = contents(view(artifact_id), theme)
    return html.Div(
        [
            html.Div(
                [
                    page_header(
                        "Overview",
                        "Who your customers are, what each segment is worth and what to do about it.",
                        "speedometer2",
                    ),
                    html.Div(
                        [
                            download_menu("overview", "all", label="Download assignments", what="of all customers"),
                            report_menu(),
                        ],
                        className="d-flex align-items-start flex-wrap gap-2",
                    ),
                ],
                className="d-flex justify-content-between align-items-start flex-wrap gap-2",
            ),
            # A fill gate (assets/app.css): the rows below appear with the KPIs, in place, not pushed down by them.
            dbc.Row(kpi_cols, id=ids.OVERVIEW_KPIS, className="g-3 mb-3 fill-gate"),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Segment size vs value",
                            graph(ids.OVERVIEW_SIZE_GRAPH, "segment-size-vs-value", height=340, figure=figure),
                            help_text="Pale bars: share of customers. Solid bars: share of total spend.",
                        ),
                        lg=7,
                    ),
                    dbc.Col(card("Segments", html.Div(cards, id=ids.OVERVIEW_CARDS)), lg=5),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(card("Data quality", html.Div(quality, id=ids.OVERVIEW_QUALITY)), lg=7),
                    dbc.Col(card("Model", html.Div(model, id=ids.OVERVIEW_MODEL)), lg=5),
                ],
                className="g-3",
            ),
        ]
    )


def kpis(v: ArtifactView) -> list[dbc.Col]:
    """The headline numbers of an artifact."""
    segs = v.segments
    n = v.manifest["data"]["n_customers"]
    value = v.customers["Customer_Value"] if "Customer_Value" in v.customers else None
    top = max(segs, key=lambda s: s.get("value_share") or 0.0)
    items = [
        kpi_card("Customers", f"{n:,}", f"{v.manifest['data']['rows_read']:,} rows read", "people"),
        kpi_card(
            "Segments", str(len(segs)), f"{v.manifest['model']['name']} on {len(v.features)} features", "diagram-3"
        ),
    ]
    if value is not None:
        spent = spend_period(v.manifest["data"].get("kind", ""), period_text(v.manifest))
        known = int(value.notna().sum())
        who = "all customers" if known == n else f"the {known:,} customers with a known spend"
        items += [
            kpi_card(
                "Avg customer value", fmt_money(float(value.mean())), f"spend per customer, {spent}", "currency-dollar"
            ),
            kpi_card("Total customer value", fmt_money(float(value.sum())), f"{who}, {spent}", "cash-stack"),
        ]
    items.extend(churn_kpis(v))
    if top.get("value_share") is None:
        items.append(
            kpi_card("Value concentration", "not measured", None, "pie-chart", note="The data has no customer spend.")
        )
    else:
        items.append(
            kpi_card(
                "Value concentration",
                f"{fmt_pct(top.get('value_share'))} of spend",
                f"{top['name']}: {fmt_pct(top['share'])} of customers",
                "pie-chart",
            )
        )
    return [dbc.Col(i, xs=6, md=4, xl=True) for i in items]


def churn_kpis(v: ArtifactView) -> list[dbc.Card]:
    """KPIs "Likely inactive" and "Value at risk", measured by the churn model, each with how it is measured.

    Without a churn model both say "not measured" and why (never a guess).
    """
    cm = churn.churn_model(v.manifest)
    if cm is None:
        reason = churn.not_measured_reason(v.manifest)
        return [
            kpi_card("Likely inactive", "not measured", None, "hourglass-bottom", note=reason),
            kpi_card("Value at risk", "not measured", None, "exclamation-triangle", note=reason),
        ]
    measured_by = "BG/NBD model of each customer's purchases"
    thr = churn.threshold(cm)
    pop = churn.measured_population(v.manifest, v.customers, v.segments)
    note = churn.how_measured(cm)
    inactive = kpi_card(
        "Likely inactive",
        fmt_pct(pop["share_likely_inactive"]),
        churn.inactive_caption(pop, thr),
        "hourglass-bottom",
        note=measured_by,
        tooltip=churn.how_measured(cm, value=False),
    )
    months = churn.horizon_months(cm)
    if pop["value_at_risk"] is None:
        at_risk = kpi_card(
            "Value at risk",
            "not measured",
            None,
            "exclamation-triangle",
            note="Expected value is not measured for this data (no usable spend model).",
        )
    else:
        at_risk = kpi_card(
            "Value at risk",
            fmt_money(pop["value_at_risk"]),
            f"expected {months}-month value of likely inactive customers"
            + (f" ({pop['value_at_risk'] / pop['total_clv']:.0%} of all)" if pop["total_clv"] else ""),
            "exclamation-triangle",
            note=measured_by + " × expected order value",
            tooltip=note,
        )
    return [inactive, at_risk]


def segment_cards(v: ArtifactView) -> html.Div:
    """One compact row per segment, linking to its drill-down."""
    rows = []
    for s in v.segments:
        rows.append(
            html.A(
                html.Div(
                    [
                        html.Div(
                            [segment_chip(s), churn_badge(s)],
                            className="d-flex justify-content-between align-items-center flex-wrap gap-1",
                        ),
                        html.Div(
                            f"{s['size']:,} customers · {fmt_pct(s['share'])} · {fmt_pct(s.get('value_share'))} of spend",
                            className="small text-body-secondary",
                        ),
                        html.Div(["Objective: ", html.Strong(s["objective"])], className="small"),
                    ],
                    className="segment-row",
                ),
                href=f"/explorer?segment={s['key']}",
                className="text-reset text-decoration-none",
                title=f"Open {s['name']} in the explorer",
            )
        )
    return html.Div(rows, className="d-grid gap-2")


def period_text(manifest: dict[str, Any]) -> str:
    """The measured period of the data (``data.period``), or "period not recorded" for older models."""
    period = manifest["data"].get("period") or {}
    return str(period.get("text") or "period not recorded")


def quality_summary(dq: dict[str, Any], n_customers: int | None = None) -> html.Div:
    """Rows read/kept/dropped, customers kept (rows kept when unknown) and every fix the loader made."""
    dq = {**dq, "n_customers": dq["rows_kept"] if n_customers is None else n_customers}
    counts = [
        ("rows_read", "rows read"),
        ("n_customers", "customers kept"),
        ("rows_dropped", "rows dropped"),
        ("values_imputed", "values imputed"),
        ("rows_flagged", "outliers flagged"),
    ]
    head = dbc.Row(
        [
            dbc.Col([html.Div(f"{dq[key]:,}", className="h5 mb-0"), html.Small(label, className="text-body-secondary")])
            for key, label in counts
        ],
        className="mb-2 text-center",
    )
    items = [html.Li(i["message"]) for i in dq["items"]] or [html.Li("No problems found.")]
    return html.Div([head, html.Ul(items, className="small mb-0 ps-3")])


def model_summary(v: ArtifactView) -> html.Div:
    """Model version, date, settings and fit quality."""
    m = v.manifest
    sil = m["metrics"].get("silhouette")
    rows = [
        ("Version", m["artifact_id"]),
        ("Trained", m["created_at"].replace("T", " ")),
        ("Model", f"{m['model']['name']}, k = {m['model']['k']}, {m['model']['scaling']} scaling"),
        ("Features", ", ".join(d["label"] for d in m["features"])),
        ("As-of date", m["data"]["as_of"]),
        ("Silhouette", f"{sil:.3f}" if sil is not None else "n/a"),
        ("Data hash", m["data"]["hash"][:16] + "…"),
    ]
    return html.Table(
        html.Tbody(
            [html.Tr([html.Th(k, className="pe-3 text-body-secondary fw-normal"), html.Td(val)]) for k, val in rows]
        ),
        className="table table-sm mb-0 small",
    )


@callback(
    Output(ids.OVERVIEW_KPIS, "children"),
    Output(ids.OVERVIEW_SIZE_GRAPH, "figure"),
    Output(ids.OVERVIEW_CARDS, "children"),
    Output(ids.OVERVIEW_QUALITY, "children"),
    Output(ids.OVERVIEW_MODEL, "children"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    prevent_initial_call=True,  # the layout draws the page first
)
def render(artifact_id: str | None, theme: str | None) -> tuple[Any, ...]:
    """Redraw the page when the session's artifact or the theme changes."""
    return contents(view(artifact_id), theme or "light")


def contents(v: ArtifactView, theme: str) -> tuple[Any, ...]:
    """KPIs, segment size/value figure, segment cards, data quality and model summary of ``v``."""
    return (
        kpis(v),
        segment_share_figure(v.segments, theme),
        segment_cards(v),
        quality_summary(v.manifest["data_quality"], v.manifest["data"]["n_customers"]),
        model_summary(v),
    )
