"""Reusable layout blocks (no callbacks, no data access)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from . import churn
from .theme import graph_config

#: AG Grid theme that follows Bootstrap's light/dark colour variables.
GRID_THEME = {
    "function": (
        "themeQuartz.withParams({backgroundColor: 'var(--bs-body-bg)', foregroundColor: 'var(--bs-body-color)',"
        " headerBackgroundColor: 'var(--bs-tertiary-bg)', borderColor: 'var(--bs-border-color)',"
        " accentColor: '#0d6efd', fontFamily: 'inherit', fontSize: 13, spacing: 5})"
    )
}


#: Pages reached from elsewhere, not from the navbar: the 404 page and presentation mode.
OFF_NAVBAR = ("not_found_404", "present")


def nav_pages() -> list[dict[str, Any]]:
    """The registered pages shown in the navbar, in their order."""
    pages = [p for p in dash.page_registry.values() if p["module"].split(".")[-1] not in OFF_NAVBAR]
    return sorted(pages, key=lambda p: p.get("order", 99))


def page_header(title: str, subtitle: str, icon: str) -> html.Div:
    """Page title with a one-line plain-language explanation."""
    return html.Div(
        [
            html.H1(
                [html.I(className=f"bi bi-{icon} me-2 text-primary", **{"aria-hidden": "true"}), title],
                className="h3 mb-1",
            ),
            html.P(subtitle, className="text-body-secondary mb-3"),
        ],
        className="page-header",
    )


def graph(graph_id: str | dict[str, str], filename: str, height: int = 380, **kwargs: Any) -> dcc.Loading:
    """A ``dcc.Graph`` with a loading indicator and a named 2× PNG download.

    The wrapper keeps the graph's height from the first paint: ``dcc.Graph``
    renders an empty, zero-height box until plotly.js has loaded, and the
    content below would otherwise jump down when the chart appears (layout shift).
    """
    return dcc.Loading(
        dcc.Graph(id=graph_id, config=graph_config(filename), style={"height": f"{height}px"}, **kwargs),
        type="circle",
        delay_show=250,
        parent_style={"minHeight": f"{height}px"},
    )


def menu_button(label: Any, items: Sequence[Any], *, menu_id: str | None = None, class_name: str = "") -> html.Fieldset:
    """A small button that opens ``items`` below it, right-aligned (``assets/menus.js`` opens and closes it).

    Bootstrap's look (``dropdown-toggle``, ``dropdown-menu``, ``dropdown-item``),
    without dash-bootstrap-components' ``DropdownMenu``: that one renders its
    closed menu when the page is drawn and positions it with Popper, which reads
    the page's layout for every menu during the page's first render and again on
    every scroll (about 20 ms of main thread per page with two menus). Here the
    menu is placed by CSS under its button. The button says whether the menu is
    open (``aria-expanded``); a choice, a click elsewhere or Escape closes it.

    Parameters
    ----------
    label
        The button's content.
    items
        The menu's entries: ``html.Button(..., className="dropdown-item")``
        (their ``n_clicks`` are the callbacks' inputs) and
        ``html.Div(..., className="dropdown-header")`` headings.
    menu_id
        Id of the wrapping ``<fieldset>``: its ``disabled`` disables the button
        and every entry (while a job runs).
    class_name
        Extra classes of the wrapper.
    """
    return html.Fieldset(
        html.Div(
            [
                html.Button(
                    label,
                    type="button",
                    className="btn btn-sm btn-primary dropdown-toggle",
                    **{"aria-expanded": "false", "data-menu-toggle": "true"},
                ),
                html.Div(items, className="dropdown-menu dropdown-menu-end", **{"data-bs-popper": "static"}),
            ],
            className="dropdown",
        ),
        className=f"app-menu d-inline-block {class_name}".strip(),
        **({"id": menu_id} if menu_id is not None else {}),
    )


def menu_item(label: Any, item_id: Any, class_name: str = "") -> html.Button:
    """An entry of :func:`menu_button` (its ``n_clicks`` is the choice)."""
    return html.Button(label, id=item_id, type="button", className=f"dropdown-item {class_name}".strip())


def card(title: str | None, body: Any, className: str = "", help_text: str | None = None) -> dbc.Card:
    """A titled card; ``help_text`` adds a muted explanation under the title."""
    header = []
    if title:
        header.append(html.H2(title, className="h6 card-title mb-1 fw-semibold"))
    if help_text:
        header.append(html.P(help_text, className="small text-body-secondary mb-2"))
    return dbc.Card(dbc.CardBody([*header, body]), className=f"shadow-sm h-100 {className}")


def kpi_card(
    label: str,
    value: str,
    detail: str | None = None,
    icon: str = "graph-up",
    note: str | None = None,
    tooltip: str | None = None,
) -> dbc.Card:
    """One headline number; ``note`` says how it is measured (small text), ``tooltip`` the number's
    hover text (defaults to ``note``).  A value of ``"not measured"`` is shown smaller and muted."""
    tooltip = tooltip or note
    value_class = "kpi-value kpi-value-none" if value == "not measured" else "kpi-value"
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [html.I(className=f"bi bi-{icon} me-2"), label],
                    className="kpi-label small text-body-secondary text-uppercase",
                ),
                html.Div(value, className=value_class, **({"title": tooltip} if tooltip else {})),
                html.Div(detail or "", className="small text-body-secondary"),
                *([html.Div(note, className="kpi-note text-body-secondary")] if note else []),
            ]
        ),
        className="shadow-sm h-100 kpi-card",
    )


def churn_badge(segment: Mapping[str, Any]) -> html.Span:
    """The segment's measured share of likely inactive customers, as a badge filled to that share.

    Dark text on a light fill in the light theme, light text on a dark fill in
    the dark one (Bootstrap's subtle colours), so it reads in both.
    """
    share = churn.share_inactive(segment)
    if share is None:
        return html.Span(churn.badge_text(segment), className="churn-badge churn-badge-none")
    return html.Span(
        churn.badge_text(segment),
        className="churn-badge",
        style={"--churn-share": f"{share:.0%}"},
        title=f"{share:.1%} of this segment's customers have P(alive) below the threshold",
    )


def how_measured(text: str) -> html.Div:
    """A short "how this is measured" note."""
    return html.Div([html.I(className="bi bi-info-circle me-1"), text], className="how-measured small")


def not_measured(reason: str, what: str = "Customer activity is not measured") -> html.Div:
    """The not-measured state: what is missing and why (never a guessed number)."""
    return html.Div(
        [html.I(className="bi bi-slash-circle me-2"), html.Strong(f"{what}. "), reason],
        className="not-measured small text-body-secondary",
    )


def segment_chip(segment: Mapping[str, Any]) -> html.Span:
    """Coloured dot + segment name."""
    return html.Span(
        [html.Span(className="segment-dot", style={"backgroundColor": segment["colour"]}), segment["name"]],
        className="segment-chip",
    )


def actions_list(actions: Sequence[str]) -> html.Ul:
    """Recommended actions as a compact list."""
    return html.Ul([html.Li(a) for a in actions], className="mb-0 small ps-3")


def trained_alert(headline: Any, detail: str, note: str | None, class_name: str) -> dbc.Alert:
    """Success after a background training: what is now in use, and a link to the overview."""
    return dbc.Alert(
        [
            html.Div([html.I(className="bi bi-check-circle-fill me-2"), *headline]),
            html.Div(
                [
                    detail,
                    dcc.Link(
                        ["Open the overview ", html.I(className="bi bi-arrow-right")], href="/", className="alert-link"
                    ),
                ],
                className="small mt-1",
            ),
            *([html.Div(note, className="small mt-1")] if note else []),
        ],
        color="success",
        className=f"mb-0 {class_name}",
    )


def error_alert(message: str) -> dbc.Alert:
    """A user-facing error (never a traceback)."""
    return dbc.Alert(
        [html.I(className="bi bi-exclamation-triangle-fill me-2"), message], color="danger", className="mb-2"
    )


def fmt_money(value: float | None) -> str:
    """``$1,234`` / ``$1.2M``."""
    if value is None:
        return "n/a"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f}M"
    return f"${value:,.0f}"


def fmt_pct(value: float | None, digits: int = 0) -> str:
    """``24%``."""
    return "n/a" if value is None else f"{value:.{digits}%}"
