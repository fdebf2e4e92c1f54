"""The page for unknown addresses: says so and links to every page (Dash pages' ``not_found_404`` convention)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components import card, nav_pages, page_header

dash.register_page(
    __name__,
    path="/404",
    name="Page not found",
    title="Page not found · Customer Segments",
    order=99,
    description="This address is not a page of the customer segmentation dashboard.",
)


def layout(**_query: str) -> html.Div:
    """ "This page does not exist" and a link to every page of the app."""
    pages = nav_pages()
    links = dbc.ListGroup(
        [dbc.ListGroupItem(dcc.Link(p["name"], href=p["relative_path"]), className="py-2") for p in pages],
        flush=True,
    )
    return html.Div(
        [
            page_header(
                "Page not found",
                "There is no page at this address. It may have been mistyped, or the link may be out of date.",
                "signpost-split",
            ),
            dbc.Row(
                dbc.Col(card("Go to one of these pages", links, className="not-found-card"), lg=5, md=8),
                className="g-3",
            ),
        ],
        className="not-found-page",
    )
