"""EDA (/eda): distributions, categories, outliers, correlations, data quality and PCA."""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.components import GRID_THEME, card, graph, page_header
from dashboard.figures.common import empty_figure
from dashboard.figures.eda import (
    category_figure,
    correlation_figure,
    distribution_caption,
    distribution_figure,
    loadings_figure,
    pca_variance_figure,
)
from dashboard.figures.outliers import (
    OUTLIER_METHODS,
    SMALL_COUNT_RULE,
    flagged_customers,
    is_small_count,
    outlier_summary,
    outlier_variables,
)
from dashboard.figures.variables import (
    categorical_variables,
    fmt_value,
    numeric_variables,
    variable_label,
    variable_unit,
)
from dashboard.first_render import session_choice, when_in_view
from dashboard.services import ArtifactView, per_version, view

dash.register_page(
    __name__,
    path="/eda",
    name="EDA",
    title="EDA · Customer Segments",
    order=1,
    description="Exploratory analysis of the customer data: distributions, categories, outliers, correlations, data quality and PCA.",
)

#: AG Grid theme following Bootstrap's light/dark colours (CSS variables).
QUALITY_ACTIONS = {
    "imputed": ("Imputed", "warning"),
    "dropped": ("Dropped", "danger"),
    "fixed": ("Fixed", "info"),
    "flagged": ("Flagged", "secondary"),
    "info": ("Note", "light"),
}
#: Dark text on Bootstrap's light badge fills (white text on them is below 2:1 contrast).
BADGE_TEXT = {"warning": "dark", "info": "dark", "light": "dark"}


def _switch(switch_id: str, label: str, value: bool = False) -> dbc.Switch:
    return dbc.Switch(id=switch_id, label=label, value=value, className="mb-0")


def distribution_card(options: list[dict[str, str]], value: str | None, figure: go.Figure, caption: str) -> dbc.Card:
    """Variable picker, log and split toggles, histogram + box plot, summary line."""
    controls = html.Div(
        [
            html.Label("Measure", htmlFor=ids.EDA_VARIABLE, className="visually-hidden"),
            dbc.Select(id=ids.EDA_VARIABLE, options=options, value=value, size="sm", className="eda-select"),
            _switch(ids.EDA_LOG, "Log scale"),
            _switch(ids.EDA_SPLIT, "Split by segment"),
        ],
        className="d-flex flex-wrap align-items-center gap-3 mb-2",
    )
    return card(
        "Distributions",
        html.Div(
            [
                controls,
                graph(ids.EDA_DIST_GRAPH, "eda-distribution", height=360, figure=figure),
                html.Div(caption, id=ids.EDA_DIST_STATS, className="small text-body-secondary mt-1"),
            ]
        ),
        help_text="How customers spread over one measure. The box above shows the middle half and the median.",
    )


def category_card(options: list[dict[str, str]], value: str | None, figure: go.Figure) -> dbc.Card:
    """Categorical breakdown (education, marital status), optionally by segment."""
    controls = html.Div(
        [
            html.Label("Category", htmlFor=ids.EDA_CATEGORY, className="visually-hidden"),
            dbc.Select(id=ids.EDA_CATEGORY, options=options, value=value, size="sm", className="eda-select"),
            _switch(ids.EDA_CATEGORY_SPLIT, "By segment"),
        ],
        className="d-flex flex-wrap align-items-center gap-3 mb-2",
    )
    return card(
        "Who they are",
        html.Div([controls, graph(ids.EDA_CATEGORY_GRAPH, "eda-categories", height=380, figure=figure)]),
        help_text="Customers per category; by segment, the share of each segment in each category.",
    )


def outlier_grid(rows: list[dict[str, Any]], cols: list[dict[str, Any]]) -> dag.AgGrid:
    """The flagged-customers grid (mounted by :func:`mount_outlier_grid` once its place is in view)."""
    return dag.AgGrid(
        id=ids.EDA_OUTLIER_TABLE,
        rowData=rows,
        columnDefs=cols,
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "minWidth": 90,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": 8,
            "paginationPageSizeSelector": False,
            "theme": GRID_THEME,
            "domLayout": "autoHeight",
        },
        style={"width": "100%"},
        className="app-grid",
    )


#: Height kept for the flagged-customers grid before it is mounted (8 wrapped rows, header, pager).
GRID_HOLDER_HEIGHT = "506px"


def outlier_card(summary: Any, note: Any) -> dbc.Card:
    """Outlier method, counts per variable and the flagged customers.

    The grid of flagged customers is below the fold: it is mounted when its
    place scrolls into view, so the grid library (2 MB of script) is not
    downloaded and compiled before the page's charts are drawn.
    """
    method = dbc.RadioItems(
        id=ids.EDA_OUTLIER_METHOD,
        options=[{"label": "IQR rule", "value": "iqr"}, {"label": "z-score (|z| > 3)", "value": "zscore"}],
        value="iqr",
        inline=True,
        className="mb-1",
    )
    holder = html.Div(
        html.Div("Loading the flagged customers…", className="small text-body-secondary"),
        id=ids.EDA_OUTLIER_GRID_HOLDER,
        style={"minHeight": GRID_HOLDER_HEIGHT},
    )
    return card(
        "Outliers",
        html.Div(
            [
                html.Div([method, html.Div(note, id=ids.EDA_OUTLIER_NOTE, className="small text-body-secondary")]),
                dcc.Store(id=ids.EDA_OUTLIER_GRID_WANTED, data=False),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                html.Div("Customers outside the normal range", className="seg-label mb-1"),
                                html.Div(summary, id=ids.EDA_OUTLIER_SUMMARY, className="table-responsive"),
                            ],
                            xl=5,
                            className="mb-2",
                        ),
                        dbc.Col([html.Div("Flagged customers", className="seg-label mb-1"), holder], xl=7),
                    ],
                    className="g-3 mt-1",
                ),
            ]
        ),
        help_text="Unusually low or high values. They are kept in the model; check them before acting on them.",
    )


def layout(**kwargs: Any) -> html.Div:
    """The page for the session's data set and theme (:mod:`dashboard.first_render`).

    The charts in the first screen are built here; the correlations, data
    fixes and PCA (below the fold) when their part scrolls into view
    (:func:`render_overview`); the callbacks redraw on later changes.
    """
    artifact_id, theme = session_choice(kwargs)
    v = view(artifact_id)
    var_options, variable, cat_options, category = control_choices(v, None, None)
    figure, caption = distribution_view(v, variable, False, False, theme)
    return html.Div(
        [
            page_header(
                "Exploratory analysis",
                "What the data looks like before segmentation: spread, categories, outliers, relationships and quality.",
                "bar-chart-line",
            ),
            dbc.Row(
                [
                    dbc.Col(distribution_card(var_options, variable, figure, caption), lg=7),
                    dbc.Col(category_card(cat_options, category, category_view(v, category, False, theme)), lg=5),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(dbc.Col(outlier_card(*outlier_view(v, "iqr"))), className="g-3 mb-3"),
            dcc.Store(id=ids.EDA_BELOW_FOLD_WANTED, data=False),
            html.Div(below_fold(theme), id=ids.EDA_BELOW_FOLD),
        ]
    )


def below_fold(theme: str) -> list[dbc.Row]:
    """Correlations, data fixes and PCA: blank charts of their final height until :func:`render_overview` fills them."""
    blank = empty_figure("", theme)
    return [
        dbc.Row(
            [
                dbc.Col(
                    card(
                        "How measures move together",
                        graph(ids.EDA_CORR_GRAPH, "eda-correlation", height=420, figure=blank),
                        help_text="Rank correlation: +1 = rise together, −1 = one rises as the other falls, 0 = unrelated.",
                    ),
                    lg=7,
                ),
                dbc.Col(
                    card(
                        "Missing values & data fixes",
                        html.Div(id=ids.EDA_MISSING),
                        help_text="What loading the data changed before segmentation.",
                    ),
                    lg=5,
                ),
            ],
            className="g-3 mb-3",
        ),
        dbc.Row(
            [
                dbc.Col(
                    card(
                        "PCA: variation captured",
                        graph(ids.EDA_PCA_GRAPH, "eda-pca-explained-variance", height=320, figure=blank),
                        help_text="The 3D explorer shows the first three components; this is how much of the "
                        "differences between customers they keep.",
                    ),
                    lg=5,
                ),
                dbc.Col(
                    card(
                        "PCA: what each component means",
                        graph(ids.EDA_LOADINGS_GRAPH, "eda-pca-loadings", height=320, figure=blank),
                        help_text="Weight of each feature in each component; the sign gives the direction.",
                    ),
                    lg=7,
                ),
            ],
            className="g-3",
        ),
    ]


# --- building blocks filled by the callbacks ------------------------------------------------
def outlier_summary_table(v: ArtifactView, method: str) -> html.Table | html.P:
    """Counts per variable under ``method`` as a compact table."""
    variables = numeric_variables(v.customers, v.features)
    summary = outlier_summary(v.customers, variables, method)
    if summary.empty:
        return html.P("No numeric measure to check.", className="small text-body-secondary")
    head = html.Thead(
        html.Tr(
            [
                html.Th("Measure"),
                html.Th("Normal range"),
                html.Th("Low", className="text-end"),
                html.Th("High", className="text-end"),
                html.Th("Share", className="text-end"),
            ]
        )
    )
    body = []
    for r in summary.itertuples(index=False):
        unit = variable_unit(r.variable, v.feature_defs)
        col = v.customers[r.variable]
        low, high = max(r.low, float(col.min())), min(r.high, float(col.max()))
        rng = f"{fmt_value(low, '$' if unit == '$' else '')} – {fmt_value(high, unit)}"
        body.append(
            html.Tr(
                [
                    html.Td(variable_label(r.variable, v.feature_defs, short=True)),
                    html.Td(rng, className="text-nowrap text-body-secondary"),
                    html.Td(f"{r.below:,}", className="text-end" + (" fw-semibold" if r.below else "")),
                    html.Td(f"{r.above:,}", className="text-end" + (" fw-semibold" if r.above else "")),
                    html.Td(f"{r.share:.1%}", className="text-end"),
                ],
            )
        )
    return html.Table([head, html.Tbody(body)], className="table table-sm small mb-0 outlier-table")


def outlier_note(v: ArtifactView, method: str) -> list[Any]:
    """What the method means, and what the loader already flagged."""
    c = v.customers
    parts: list[Any] = [OUTLIER_METHODS[method] + " "]
    if any(is_small_count(c[var]) for var in outlier_variables(c, numeric_variables(c, v.features))):
        parts.append(SMALL_COUNT_RULE + " ")
    if "Is_Outlier" in c:
        flagged = c.loc[c["Is_Outlier"].fillna(False).astype(bool)]
        if len(flagged):
            reasons = flagged["Outlier_Reason"].fillna("").astype(str).value_counts()
            text = ", ".join(f"{reason or 'unspecified'} ({n})" for reason, n in reasons.items())
            parts.append(
                html.Span(
                    [html.I(className="bi bi-flag-fill me-1 text-warning"), f"Flagged while loading: {text}."],
                    className="text-nowrap-md",
                )
            )
        else:
            parts.append("Nothing was flagged while loading.")
    return parts


def outlier_grid_data(v: ArtifactView, method: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Row data and column definitions of the flagged-customers grid."""
    variables = numeric_variables(v.customers, v.features)
    labels = {var: variable_label(var, v.feature_defs, short=True) for var in variables}
    units = {var: variable_unit(var, v.feature_defs) for var in variables}
    table = flagged_customers(v.customers, variables, method, v.names, labels, units=units)
    wrapped = {
        "wrapText": True,
        "autoHeight": True,
        "cellStyle": {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"},
    }
    cols: list[dict[str, Any]] = [
        {"field": "ID", "headerName": "Customer", "width": 105, "suppressSizeToFit": True},
        {"field": "Segment", "headerName": "Segment", "minWidth": 130, "flex": 1, **wrapped},
        {"field": "Flagged on", "headerName": "Unusual values", "minWidth": 220, "flex": 2, **wrapped},
        {"field": "Loader note", "headerName": "Flagged while loading", "minWidth": 130, "flex": 1, **wrapped},
    ]
    rows = table[["ID", "Segment", "Flagged on", "Loader note"]].to_dict("records")
    return rows, cols


def quality_table(dq: dict[str, Any]) -> html.Div:
    """Every fix the loader made, with what kind of fix it was."""
    head = html.Div(
        [
            html.Span([html.Strong(f"{dq['rows_kept']:,}"), " rows kept"]),
            html.Span([html.Strong(f"{dq['rows_dropped']:,}"), " rows dropped"]),
            html.Span([html.Strong(f"{dq['values_imputed']:,}"), " values imputed"]),
            html.Span([html.Strong(f"{dq['values_fixed']:,}"), " values fixed"]),
        ],
        className="small mb-2 d-flex flex-wrap column-gap-3",
    )
    order = list(QUALITY_ACTIONS)
    items = sorted(dq.get("items", []), key=lambda i: order.index(i["action"]) if i["action"] in order else len(order))
    if not items:
        return html.Div([head, html.P("No missing values and nothing to fix.", className="small mb-0")])
    rows = []
    for item in items:
        word, colour = QUALITY_ACTIONS.get(item["action"], (item["action"].title(), "light"))
        rows.append(
            html.Tr(
                [
                    html.Td(
                        dbc.Badge(word, color=colour, text_color=BADGE_TEXT.get(colour), className="quality-badge")
                    ),
                    html.Td(f"{item['count']:,}", className="text-end fw-semibold"),
                    html.Td(item["message"]),
                ]
            )
        )
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th("Action"), html.Th("Count", className="text-end"), html.Th("What happened")])),
            html.Tbody(rows),
        ],
        className="table table-sm small mb-0 align-middle quality-table",
    )
    return html.Div([head, table])


# --- callbacks ------------------------------------------------------------------------------------
@callback(
    Output(ids.EDA_VARIABLE, "options"),
    Output(ids.EDA_VARIABLE, "value"),
    Output(ids.EDA_CATEGORY, "options"),
    Output(ids.EDA_CATEGORY, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    State(ids.EDA_VARIABLE, "value"),
    State(ids.EDA_CATEGORY, "value"),
    prevent_initial_call=True,  # the layout sets them first
)
def fill_controls(
    artifact_id: str | None, variable: str | None, category: str | None
) -> tuple[list[dict[str, str]], str | None, list[dict[str, str]], str | None]:
    """Variable and category choices of the session's data set (keeps a valid current choice)."""
    return control_choices(view(artifact_id), variable, category)


def control_choices(
    v: ArtifactView, variable: str | None, category: str | None
) -> tuple[list[dict[str, str]], str | None, list[dict[str, str]], str | None]:
    """Variable options, chosen variable, category options, chosen category (a valid current choice is kept)."""
    numeric = numeric_variables(v.customers, v.features)
    cats = categorical_variables(v.customers)
    var_options = [{"label": variable_label(n, v.feature_defs), "value": n} for n in numeric]
    cat_options = [{"label": variable_label(c, v.feature_defs), "value": c} for c in cats]
    var_value = variable if variable in numeric else (numeric[0] if numeric else None)
    cat_value = category if category in cats else (cats[0] if cats else None)
    return var_options, var_value, cat_options, cat_value


@callback(
    Output(ids.EDA_DIST_GRAPH, "figure"),
    Output(ids.EDA_DIST_STATS, "children"),
    Input(ids.EDA_VARIABLE, "value"),
    Input(ids.EDA_LOG, "value"),
    Input(ids.EDA_SPLIT, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    prevent_initial_call=True,  # the layout draws it first
)
def render_distribution(
    variable: str | None, log: bool | None, split: bool | None, artifact_id: str | None, theme: str | None
) -> tuple[go.Figure, str]:
    """Histogram + box plot of one variable, optionally by segment (built once per data version and choice)."""
    return distribution_view(view(artifact_id), variable, bool(log), bool(split), theme or "light")


def distribution_view(
    v: ArtifactView, variable: str | None, log: bool, split: bool, theme: str
) -> tuple[go.Figure, str]:
    """The distribution figure and summary of ``variable`` (cached per data version and choice)."""
    if not variable or variable not in v.customers:
        return empty_figure("Pick a measure to see its distribution.", theme), ""
    key = (variable, bool(log), bool(split), theme)
    return per_version(
        v, "eda-distribution", key, lambda: distribution_outputs(v, variable, bool(log), bool(split), theme)
    )


def distribution_outputs(v: ArtifactView, variable: str, log: bool, split: bool, theme: str) -> tuple[go.Figure, str]:
    """The distribution figure and its one-line summary."""
    unit = variable_unit(variable, v.feature_defs)
    fig = distribution_figure(
        v.customers[variable],
        variable_label(variable, v.feature_defs),
        theme,
        unit=unit,
        log=log,
        groups=v.customers["Segment"] if split else None,
        segments=v.segments if split else (),
    )
    return fig, distribution_caption(v.customers[variable], unit)


@callback(
    Output(ids.EDA_CATEGORY_GRAPH, "figure"),
    Input(ids.EDA_CATEGORY, "value"),
    Input(ids.EDA_CATEGORY_SPLIT, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    prevent_initial_call=True,  # the layout draws it first
)
def render_categories(
    category: str | None, split: bool | None, artifact_id: str | None, theme: str | None
) -> go.Figure:
    """Customers per category of one attribute, optionally by segment."""
    return category_view(view(artifact_id), category, bool(split), theme or "light")


def category_view(v: ArtifactView, category: str | None, split: bool, theme: str) -> go.Figure:
    """The category figure of ``category`` (cached per data version and choice)."""
    if not category or category not in v.customers:
        return empty_figure("This data set has no categorical attributes.", theme)
    return per_version(
        v,
        "eda-categories",
        (category, bool(split), theme),
        lambda: category_figure(
            v.customers[category],
            variable_label(category, v.feature_defs),
            theme,
            groups=v.customers["Segment"] if split else None,
            segments=v.segments if split else (),
        ),
    )


@callback(
    Output(ids.EDA_OUTLIER_SUMMARY, "children"),
    Output(ids.EDA_OUTLIER_NOTE, "children"),
    Input(ids.EDA_OUTLIER_METHOD, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,  # the layout fills them first
)
def render_outliers(method: str | None, artifact_id: str | None) -> tuple[Any, ...]:
    """Outlier counts per variable under the chosen method, and what the method means."""
    return outlier_view(view(artifact_id), method)


def outlier_view(v: ArtifactView, method: str | None) -> tuple[Any, ...]:
    """Outlier summary table and note of ``method`` (cached per data version)."""
    method = method if method in OUTLIER_METHODS else "iqr"
    return per_version(v, "eda-outliers", method, lambda: (outlier_summary_table(v, method), outlier_note(v, method)))


# Below the fold: the flagged-customers grid and the correlation/PCA part are built once their place is on screen.
when_in_view(ids.EDA_OUTLIER_GRID_HOLDER, ids.EDA_OUTLIER_GRID_WANTED)
when_in_view(ids.EDA_BELOW_FOLD, ids.EDA_BELOW_FOLD_WANTED)


@callback(
    Output(ids.EDA_OUTLIER_GRID_HOLDER, "children"),
    Input(ids.EDA_OUTLIER_GRID_WANTED, "data"),
    Input(ids.EDA_OUTLIER_METHOD, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def mount_outlier_grid(wanted: bool | None, method: str | None, artifact_id: str | None) -> dag.AgGrid:
    """The flagged customers under the chosen method, once the grid's place has been on screen."""
    if not wanted:
        raise PreventUpdate
    method = method if method in OUTLIER_METHODS else "iqr"
    v = view(artifact_id)
    rows, cols = per_version(v, "eda-outlier-rows", method, lambda: outlier_grid_data(v, method))
    return outlier_grid(rows, cols)


@callback(
    Output(ids.EDA_CORR_GRAPH, "figure"),
    Output(ids.EDA_MISSING, "children"),
    Output(ids.EDA_PCA_GRAPH, "figure"),
    Output(ids.EDA_LOADINGS_GRAPH, "figure"),
    Input(ids.EDA_BELOW_FOLD_WANTED, "data"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    prevent_initial_call=True,
)
def render_overview(wanted: bool | None, artifact_id: str | None, theme: str | None) -> tuple[Any, ...]:
    """Correlation heatmap, data-quality table and the PCA charts, once their part of the page has been on screen."""
    if not wanted:
        raise PreventUpdate
    theme = theme or "light"
    v = view(artifact_id)
    return per_version(v, "eda-overview", theme, lambda: overview_outputs(v, theme))


def overview_outputs(v: ArtifactView, theme: str) -> tuple[Any, ...]:
    """Correlation heatmap, data-quality table, explained variance and loadings."""
    numeric = numeric_variables(v.customers, v.features)
    labels = {n: variable_label(n, v.feature_defs, short=True) for n in numeric}
    pca = v.manifest.get("pca") or {}
    ratios = pca.get("explained_variance_ratio") or []
    return (
        correlation_figure(v.customers, numeric, labels, theme),
        quality_table(v.manifest["data_quality"]),
        pca_variance_figure(ratios, theme),
        loadings_figure(pca.get("loadings") or {}, ratios, labels, theme),
    )
