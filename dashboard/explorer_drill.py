"""The 3D explorer's drill-down of one segment: header, profile against the average, evidence, members grid.

Built by ``dashboard/pages/explorer.py`` for its first render (a deep link)
and its callbacks (a segment chosen on the page).
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import html

from dashboard import ids
from dashboard.components import GRID_THEME, actions_list, churn_badge, fmt_pct, segment_chip
from dashboard.figures.explorer import member_column_defs, member_columns, member_rows, profile_figure
from dashboard.figures.segments import evidence_phrases
from dashboard.figures.variables import numeric_variables, population_means
from dashboard.services import ArtifactView


def members_grid(rows: list[dict[str, Any]], cols: list[dict[str, Any]]) -> dag.AgGrid:
    """The drilled segment's customers (mounted with the drill-down, so the grid library loads only then)."""
    return dag.AgGrid(
        id=ids.EXPLORER_GRID,
        rowData=rows,
        columnDefs=cols,
        defaultColDef={
            "sortable": True,
            "filter": True,
            "floatingFilter": True,
            "resizable": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 10,
            "paginationPageSizeSelector": [10, 25, 50, 100],
            "theme": GRID_THEME,
            "domLayout": "autoHeight",
            "animateRows": False,
            # One Tab stop: Tab leaves the grid instead of walking every cell (arrow keys move inside).
            "tabToNextCell": {"function": "false"},
            "tabToNextHeader": {"function": "false"},
        },
        style={"width": "100%"},
        className="app-grid",
    )


def averages(v: ArtifactView) -> dict[str, float]:
    """The average customer: features from the manifest, profile attributes from the customers."""
    means = population_means(v.customers, numeric_variables(v.customers, v.features))
    means.update({k: float(x) for k, x in (v.manifest.get("population") or {}).items()})
    return means


def drill_header(segment: dict[str, Any]) -> html.Div:
    """Name, measured share likely inactive, size and value share of the drilled segment."""
    return html.Div(
        [
            html.H2(segment_chip(segment), className="h5 mb-0 me-3"),
            churn_badge(segment),
            html.Span(
                f"{segment['size']:,} customers · {fmt_pct(segment.get('share'))} of customers · "
                f"{fmt_pct(segment.get('value_share'))} of total spend",
                className="text-body-secondary ms-3",
            ),
        ],
        className="d-flex flex-wrap align-items-center drill-title",
        style={"borderLeftColor": segment["colour"]},
    )


def evidence_panel(segment: dict[str, Any], v: ArtifactView) -> html.Div:
    """Why the segment has its name (plain words, then σ), objective and actions."""
    phrases = evidence_phrases(segment.get("centroid_z") or {}, v.feature_defs)
    return html.Div(
        [
            html.Div("Why this name", className="seg-label"),
            html.Ul(
                [html.Li([p["text"], html.Span(f" ({p['sigma']})", className="text-body-secondary")]) for p in phrases],
                className="small ps-3 mb-1",
            ),
            html.Details(
                [
                    html.Summary("The statistics", className="small"),
                    html.Div(
                        [
                            "Segment averages in standard deviations (σ) from the average customer: ",
                            html.Code(segment.get("evidence", ""), className="evidence-code"),
                        ],
                        className="small text-body-secondary mt-1",
                    ),
                ],
                className="mb-3",
            ),
            html.Div("Objective", className="seg-label"),
            html.Div(segment["objective"], className="fw-semibold mb-2"),
            html.Div("Recommended actions", className="seg-label"),
            actions_list(segment.get("actions") or []),
        ]
    )


def members_for(v: ArtifactView, seg: dict[str, Any]) -> dag.AgGrid:
    """The members grid of one segment."""
    cols = member_columns(v.customers, v.features)
    return members_grid(
        member_rows(v.customers, seg["key"], cols), member_column_defs(cols, v.feature_defs, v.customers)
    )


def drill_outputs(v: ArtifactView, seg: dict[str, Any], theme: str) -> tuple[Any, ...]:
    """The drill-down of one segment: shown, no hint, header, profile, evidence, members grid."""
    return (
        False,
        None,
        drill_header(seg),
        profile_figure(seg, averages(v), v.features, v.feature_defs, theme),
        evidence_panel(seg, v),
        members_for(v, seg),
    )
