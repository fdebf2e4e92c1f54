"""The data page's feature picker: cluster on your own columns (issue #14).

For a customer table, the mapping form gets three more fields (ids
``ids.data_map_field("custom_features" | "categorical_features" |
"categorical_weight")``, so the page's ``check_mapping`` collects them with
the others and the data check follows every change):

* **Your own features**: numeric columns clustered as given;
* **Categories**: text columns profiled per segment and, with a weight above
  0, one-hot encoded into the clustering;
* the weight of each category indicator in the scaled space.

Below them, :func:`show_feature_view` draws the chosen columns'
distributions and their correlations and lists what the check found per
feature (missing values, constant or near-constant, heavy tails:
:func:`pipeline.features.custom.feature_checks`).
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from plotly.subplots import make_subplots

from dashboard import ids, uploads
from dashboard.figures.common import empty_figure, themed
from dashboard.services import service
from pipeline.data.coerce import read_numbers
from pipeline.data.mapping import Mapping
from pipeline.errors import SegmentationError
from pipeline.features.custom import DEFAULT_CATEGORICAL_WEIGHT, feature_checks, label_and_unit

CUSTOM = "custom_features"
CATEGORICAL = "categorical_features"
WEIGHT = "categorical_weight"
VERDICT_COLOURS = {"ok": "success", "heavy_tail": "warning", "near_constant": "secondary", "constant": "danger"}


def picker_fields(mapping: Mapping, columns: list[str]) -> html.Div:
    """The three feature-picker fields and the view of the chosen columns (customer tables)."""

    def dropdown(field: str, value: tuple[str, ...], placeholder: str) -> dcc.Dropdown:
        options = [{"label": c, "value": c} for c in columns]
        options += [{"label": f"{c} (not in this file)", "value": c} for c in value if c not in columns]
        return dcc.Dropdown(
            id=ids.data_map_field(field),
            options=options,
            value=list(value),
            multi=True,
            placeholder=placeholder,
            className="data-map-dropdown",
        )

    return html.Div(
        [
            html.Div("Your own features", className="small fw-semibold mt-2"),
            dropdown(CUSTOM, mapping.custom_features, "Numeric columns to cluster on…"),
            html.Div(
                "Any numeric columns (scores, points, income, visits…), clustered as given; the unit is read from the "
                "name, e.g. 'Income (k$)'.",
                className="form-text mt-1",
            ),
            html.Div("Categories", className="small fw-semibold mt-2"),
            dropdown(CATEGORICAL, mapping.categorical_features, "Text columns to profile…"),
            html.Div(
                [
                    dbc.Label("Weight of each category in the clustering", className="small mb-0 me-2"),
                    dcc.Slider(
                        id=ids.data_map_field(WEIGHT),
                        min=0,
                        max=1,
                        step=0.1,
                        value=mapping.categorical_weight,
                        marks={0: "0", DEFAULT_CATEGORICAL_WEIGHT: "0.5", 1: "1"},
                        className="feature-weight",
                    ),
                ],
                className="mt-1",
            ),
            html.Div(
                "0: profiled only. Above 0, each category becomes a 0/1 feature whose scaled value counts this much "
                "(1: as much as a numeric feature).",
                className="form-text mt-1",
            ),
            dcc.Loading(html.Div(id=ids.FEATURE_PICKER_VIEW, className="mt-2"), type="dot", delay_show=300),
        ],
        className="data-map-field feature-picker",
    )


def mapping_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The :class:`Mapping` fields the picker holds, from the form's values."""
    out: dict[str, Any] = {}
    for field in (CUSTOM, CATEGORICAL):
        chosen = values.get(field)
        if isinstance(chosen, list):
            out[field] = tuple(str(c) for c in chosen if c)
    weight = values.get(WEIGHT)
    if weight is not None:
        out[WEIGHT] = float(weight)
    return out


def numeric_frame(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The chosen columns of a raw table as numbers (what is not a number is missing)."""
    return pd.DataFrame({c: read_numbers(table[c])[0] for c in columns if c in table.columns})


def distributions_figure(frame: pd.DataFrame, theme: str = "light") -> go.Figure:
    """One histogram per chosen column, in its own unit."""
    cols = list(frame.columns)
    if not cols:
        return empty_figure("Choose numeric columns to see their distributions.", theme)
    n = len(cols)
    per_row = min(3, n)
    rows = -(-n // per_row)
    titles = [f"{label} ({unit})" if unit else label for label, unit in map(label_and_unit, cols)]
    fig = make_subplots(rows=rows, cols=per_row, subplot_titles=titles)
    for i, c in enumerate(cols):
        fig.add_trace(
            go.Histogram(x=frame[c].dropna(), nbinsx=30, name=titles[i], showlegend=False, marker_color="#0072B2"),
            row=i // per_row + 1,
            col=i % per_row + 1,
        )
    return themed(fig, theme, height=220 * rows, margin={"l": 30, "r": 10, "t": 40, "b": 30}, bargap=0.05)


def correlation_figure(frame: pd.DataFrame, theme: str = "light") -> go.Figure:
    """Pearson correlations between the chosen columns (pairs of customers with both values)."""
    if frame.shape[1] < 2:
        return empty_figure("Choose two or more numeric columns to see their correlations.", theme)
    corr = frame.corr()
    labels = [label_and_unit(c)[0] for c in corr.columns]
    text = np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.2f}")(corr.to_numpy())
    fig = go.Figure(
        go.Heatmap(
            z=corr.to_numpy(),
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            text=text,
            texttemplate="%{text}",
            hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>",
        )
    )
    return themed(fig, theme, height=120 + 40 * len(labels), margin={"l": 10, "r": 10, "t": 30, "b": 10})


def checks_list(frame: pd.DataFrame) -> html.Ul:
    """What the data check found for each chosen column."""
    items = [
        html.Li(
            [
                dbc.Badge(
                    c.verdict.replace("_", " "), color=VERDICT_COLOURS.get(c.verdict, "danger"), className="me-2"
                ),
                c.message,
            ]
        )
        for c in feature_checks(frame, tuple(frame.columns))
    ]
    return html.Ul(items, className="list-unstyled small mb-0 feature-checks")


@callback(
    Output(ids.FEATURE_PICKER_VIEW, "children"),
    Input(ids.data_map_field(CUSTOM), "value"),
    State(ids.DATA_UPLOAD_KEY, "data"),
    State(ids.THEME, "data"),
)
def show_feature_view(chosen: list[str] | None, key: str | None, theme: str | None) -> Any:
    """Distributions, correlations and the per-feature check of the chosen columns."""
    if not key or not chosen:
        return html.Div(
            "Choose columns to see their distributions and correlations.", className="small text-body-secondary"
        )
    try:
        table = uploads.upload_table(key, service().settings)
    except SegmentationError as err:
        return dbc.Alert(str(err), color="danger", className="small py-2")
    frame = numeric_frame(table, [c for c in chosen if isinstance(c, str)])
    theme = theme or "light"
    return html.Div(
        [
            checks_list(frame),
            dbc.Tabs(
                [
                    dbc.Tab(dcc.Graph(figure=distributions_figure(frame, theme)), label="Distributions", tab_id="dist"),
                    dbc.Tab(dcc.Graph(figure=correlation_figure(frame, theme)), label="Correlations", tab_id="corr"),
                ],
                active_tab="dist",
                className="mt-2",
            ),
        ],
        id=ids.FEATURE_PICKER_DETAILS,
    )
