"""Model comparison page: "All models side by side" as a plain, sortable HTML table (pure builders, no callbacks).

About six rows: a ``<table>`` the browser draws at once, instead of a data
grid whose 1.3 MB library the page had to load first.  The header is built
once with the page; a click on a column's button re-renders the body only
(:func:`table_body`) and sets ``aria-sort`` on the headers
(:func:`header_sort`), so the buttons keep their focus.  The sort state is a
small dict in a ``dcc.Store`` (``{"column": key, "descending": bool}``; None:
the comparison's order), read back when the page is redrawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import html

from dashboard import ids
from dashboard.figures.models import TABLE_COLUMNS, Column, sorted_rows, table_cell, table_sort

#: What a screen reader announces for the table (the card's title says it visually).
CAPTION = "All models side by side: the same customers, features and scaling for every model. "
CAPTION_SORT = "Column headers are buttons that sort the table."


def header_sort(sort: Any) -> list[str | None]:
    """``aria-sort`` of each sortable column's header, in column order: ``"ascending"``/``"descending"`` or None."""
    key, descending = table_sort(sort) or (None, False)
    direction = "descending" if descending else "ascending"
    return [direction if column.key == key else None for column in TABLE_COLUMNS if column.sortable]


def _header_cell(column: Column, aria_sort: str | None) -> html.Th:
    numeric = " text-end" if column.fmt else ""
    if not column.sortable:
        return html.Th(column.header, scope="col", className="models-table-notes" + numeric)
    button = html.Button(
        [column.header, html.Span(className="models-sort-icon", **{"aria-hidden": "true"})],
        id=ids.models_sort(column.key),
        type="button",
        title=column.tooltip,
        className="models-sort-button",
    )
    return html.Th(
        button,
        id=ids.models_sort_header(column.key),
        scope="col",
        className="models-sort" + numeric,
        **({"aria-sort": aria_sort} if aria_sort else {}),
    )


def table_head(sort: Any = None) -> html.Thead:
    """The header row: a sort button per sortable column (its ``title`` says what the column measures)."""
    states = iter(header_sort(sort))
    return html.Thead(html.Tr([_header_cell(c, next(states) if c.sortable else None) for c in TABLE_COLUMNS]))


def _cell(row: Mapping[str, Any], column: Column) -> html.Th | html.Td:
    text = table_cell(row, column)
    if column.key == "model":
        return html.Th(text, scope="row", className="models-recommended-cell" if row.get("recommended") else "")
    if column.fmt:
        return html.Td(text, className="text-end text-nowrap")
    if column.key == "live_prediction":
        return html.Td(text, className="text-nowrap" + ("" if text == "Native" else " models-not-native"))
    return html.Td(text, className="models-table-notes")


def _row(row: Mapping[str, Any]) -> html.Tr:
    return html.Tr(
        [_cell(row, column) for column in TABLE_COLUMNS],
        className="models-recommended-row" if row.get("recommended") else "",
    )


def table_body(rows: Sequence[Mapping[str, Any]], sort: Any = None) -> list[html.Tr]:
    """The table's rows (:func:`dashboard.figures.models.table_rows`) in the order of ``sort``."""
    return [_row(r) for r in sorted_rows(rows, sort)]


def models_table(rows: Sequence[Mapping[str, Any]], sort: Any = None) -> html.Div:
    """The whole table (header, ``rows`` sorted by ``sort``), in a box that scrolls sideways on narrow screens."""
    return html.Div(
        html.Table(
            [
                html.Caption(CAPTION + CAPTION_SORT, className="visually-hidden"),
                table_head(sort),
                html.Tbody(table_body(rows, sort), id=ids.MODELS_TABLE_BODY),
            ],
            id=ids.MODELS_TABLE,
            className="table table-sm table-hover small mb-0 models-table",
        ),
        className="table-responsive models-table-box",
    )
