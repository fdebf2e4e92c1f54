"""3D cluster explorer (/explorer): customers in 3D, a segment filter and a segment drill-down.

Deep link: ``/explorer?segment=<segment key>`` opens that segment's drill-down.

The page comes with its first state (:mod:`dashboard.first_render`): the
controls, the 3D scatter, the axes note and a deep link's drill-down are
built with the layout, so opening the page costs no callback round trip
before the scatter is drawn; the callbacks run only on later changes.  A
deep link's members grid (the grid library is 1.3 MB of script) is mounted
by a callback after the first render, so the scatter never waits for it.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, clientside_callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.components import (
    card,
    error_alert,
    graph,
    page_header,
)
from dashboard.explorer_drill import drill_outputs, members_for
from dashboard.exports import download_menu
from dashboard.figures.common import empty_figure
from dashboard.figures.explorer import (
    axis_choices,
    default_axes,
    default_axis_choices,
    scatter_figure,
)
from dashboard.figures.pca_words import pca_axis_titles
from dashboard.figures.variables import variable_label, variable_unit
from dashboard.first_render import fill_in, quiet_store, session_choice
from dashboard.services import per_version, view
from pipeline.features.definitions import FEATURE_DEFINITIONS

dash.register_page(
    __name__,
    path="/explorer",
    name="3D Explorer",
    title="3D Explorer · Customer Segments",
    order=3,
    description="Every customer in 3D principal-component space, coloured by segment, with each segment's profile.",
)

#: AG Grid theme following Bootstrap's light/dark colours (CSS variables).
#: Feature labels before the session's artifact is known (the same declared definitions).
STATIC_DEFS = {name: d.to_dict() for name, d in FEATURE_DEFINITIONS.items()}
AXIS_SELECTS = (ids.EXPLORER_X, ids.EXPLORER_Y, ids.EXPLORER_Z)
AXES_OPTIONS = [
    {"label": "Principal components", "value": "pca"},
    {"label": "Choose features", "value": "features"},
]


def axis_title(column: str, feature_defs: dict) -> str:
    """Short 3D axis title: the short label, with the unit only when it is money (long units overlap)."""
    money = variable_unit(column, feature_defs).startswith("$")
    return variable_label(column, feature_defs, short=not money)


def controls() -> dbc.Card:
    """Axes, segment filter and the drill-down picker."""
    options = [{"label": variable_label(c, STATIC_DEFS, short=True), "value": c} for c in default_axis_choices()]
    axis_select = [
        html.Div(
            [
                html.Label(
                    [axis, html.Span(" axis", className="visually-hidden")], htmlFor=select_id, className="axis-letter"
                ),
                dbc.Select(id=select_id, options=options, value=value, size="sm", disabled=True),
            ],
            className="d-flex align-items-center gap-2 mb-1",
        )
        for axis, select_id, value in zip("XYZ", AXIS_SELECTS, default_axes(), strict=True)
    ]
    return card(
        None,
        html.Div(
            [
                html.Div("Axes", className="seg-label"),
                dbc.RadioItems(id=ids.EXPLORER_AXES, options=AXES_OPTIONS, value="pca", className="mb-1"),
                html.Div(axis_select, className="mb-3"),
                html.Div("Segments shown", className="seg-label"),
                dbc.Checklist(id=ids.EXPLORER_SEGMENTS, options=[], value=None, className="segment-checklist mb-3"),
                html.Label("Drill into a segment", htmlFor=ids.EXPLORER_DRILL_SEGMENT, className="seg-label d-block"),
                dbc.Select(id=ids.EXPLORER_DRILL_SEGMENT, options=[], size="sm", placeholder="Choose a segment…"),
                html.Div(
                    "Tip: click any point to open its segment.",
                    className="small text-body-secondary mt-1",
                ),
                html.Div(
                    download_menu(
                        "explorer", "customers", ("all", "shown"), label="Download customers", what="all or those shown"
                    ),
                    className="mt-3",
                ),
            ]
        ),
    )


def drill_down() -> html.Div:
    """The selected segment: profile vs average, evidence and strategy, members with CSV download.

    The members grid is not in the page until a segment is drilled
    (:func:`render_drill` mounts it): the grid library (2 MB of script) is
    not fetched for the scatter.
    """
    grid = html.Div(id=ids.EXPLORER_GRID_HOLDER)
    members = card(
        None,
        html.Div(
            [
                html.Div(
                    [
                        html.H2("Customers in this segment", className="h6 card-title mb-0 fw-semibold"),
                        download_menu(
                            "explorer", "members", ("segment",), label="Download", what="this segment's customers"
                        ),
                    ],
                    className="d-flex justify-content-between align-items-center mb-2",
                ),
                grid,
            ]
        ),
    )
    return html.Div(
        [
            html.Div(id=ids.EXPLORER_DRILL_HEADER, className="drill-header mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            "Profile against the average customer",
                            graph(ids.EXPLORER_PROFILE_GRAPH, "segment-profile", height=330),
                            help_text="Bold: the measures the segments were built on. Hover for values in original units.",
                        ),
                        lg=7,
                    ),
                    dbc.Col(card("Why this segment, and what to do", html.Div(id=ids.EXPLORER_EVIDENCE)), lg=5),
                ],
                className="g-3 mb-3",
            ),
            members,
        ],
        id=ids.EXPLORER_DRILL,
        hidden=True,
        className="mt-3",
    )


def layout(segment: str | None = None, **kwargs: Any) -> html.Div:
    """The page for the session's data set and theme, with its first state filled in.

    ``segment`` (from ``?segment=<key>``) opens that segment's drill-down.
    The values are those the callbacks would send (the same functions build
    them), so nothing is fetched again when the page appears.
    """
    artifact_id, theme = session_choice(kwargs)
    seg_options, seg_value, drill_options, drill, *axis_options = fill_controls(artifact_id, segment)
    values: dict[tuple[str, str], Any] = {
        (ids.EXPLORER_SEGMENTS, "options"): seg_options,
        (ids.EXPLORER_SEGMENTS, "value"): seg_value,
        (ids.EXPLORER_DRILL_SEGMENT, "options"): drill_options,
        (ids.EXPLORER_DRILL_SEGMENT, "value"): drill,
        **{(select, "options"): opts for select, opts in zip(AXIS_SELECTS, axis_options, strict=True)},
        (ids.EXPLORER_GRAPH, "figure"): render_scatter("pca", *default_axes(), artifact_id, theme)["figure"],
        (ids.EXPLORER_AXES_NOTE, "children"): render_axes_note("pca", artifact_id),
    }
    drill_state = render_drill(drill, artifact_id, theme, segment)
    # the members grid is left out: mount_deep_link_grid brings it after the first render
    for target, value in zip(DRILL_OUTPUTS[:-1], drill_state[:-1], strict=True):
        if value is not no_update:
            values[target] = value
    return fill_in(page_frame(segment), values)


def page_frame(segment: str | None = None) -> html.Div:
    """The page's components, before their values are filled in."""
    return html.Div(
        [
            page_header(
                "3D cluster explorer",
                "Every customer as a point, coloured by segment. Rotate, zoom, hide segments, click to drill down.",
                "badge-3d",
            ),
            dcc.Store(id=ids.EXPLORER_DEEP_LINK, data=segment),
            quiet_store(ids.EXPLORER_GRID_WANTED),
            html.Div(id=ids.EXPLORER_URL_SYNC, hidden=True),
            dbc.Row(
                [
                    dbc.Col(controls(), lg=3),
                    dbc.Col(
                        card(
                            None,
                            html.Div(
                                [
                                    graph(ids.EXPLORER_GRAPH, "customer-segments-3d", height=540),
                                    html.Div(id=ids.EXPLORER_AXES_NOTE, className="small text-body-secondary mt-1"),
                                ]
                            ),
                        ),
                        lg=9,
                    ),
                ],
                className="g-3",
            ),
            html.Div(id=ids.EXPLORER_DRILL_HINT, className="mt-3"),
            drill_down(),
        ]
    )


# --- building blocks ------------------------------------------------------------------------------
def segment_option_label(segment: dict[str, Any]) -> html.Span:
    """Checklist label: colour dot, name and size."""
    return html.Span(
        [
            html.Span(className="segment-dot", style={"backgroundColor": segment["colour"]}),
            segment["name"],
            html.Span(f" {segment['size']:,}", className="text-body-secondary small ms-1"),
        ]
    )


# --- callbacks ----------------------------------------------------------------------------------------
@callback(
    Output(ids.EXPLORER_SEGMENTS, "options"),
    Output(ids.EXPLORER_SEGMENTS, "value"),
    Output(ids.EXPLORER_DRILL_SEGMENT, "options"),
    Output(ids.EXPLORER_DRILL_SEGMENT, "value"),
    Output(ids.EXPLORER_X, "options"),
    Output(ids.EXPLORER_Y, "options"),
    Output(ids.EXPLORER_Z, "options"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    State(ids.EXPLORER_DEEP_LINK, "data"),
    prevent_initial_call=True,  # the layout has them
)
def fill_controls(artifact_id: str | None, deep_link: str | None) -> tuple[Any, ...]:
    """Segment filter (all shown), drill-down choice (the deep link's segment if valid), feature axes.

    The axis values are not set here: the scatter must not wait for this callback.
    """
    v = view(artifact_id)
    seg_options = [{"label": segment_option_label(s), "value": s["key"]} for s in v.segments]
    drill_options = [{"label": s["name"], "value": s["key"]} for s in v.segments]
    drill = deep_link if deep_link in v.segment_by_key else ""
    choices = axis_choices(v.customers, v.features)
    axis_options = [{"label": variable_label(c, v.feature_defs, short=True), "value": c} for c in choices]
    return seg_options, [s["key"] for s in v.segments], drill_options, drill, axis_options, axis_options, axis_options


@callback(
    output={"figure": Output(ids.EXPLORER_GRAPH, "figure")},
    inputs={
        "axes": Input(ids.EXPLORER_AXES, "value"),
        "x": Input(ids.EXPLORER_X, "value"),
        "y": Input(ids.EXPLORER_Y, "value"),
        "z": Input(ids.EXPLORER_Z, "value"),
        "artifact_id": Input(ids.ACTIVE_ARTIFACT, "data"),
        "theme": Input(ids.THEME, "data"),
        "selected": State(ids.EXPLORER_SEGMENTS, "value"),
    },
    prevent_initial_call=True,  # the layout has the first scatter
)
def render_scatter(
    axes: str | None,
    x: str | None,
    y: str | None,
    z: str | None,
    artifact_id: str | None,
    theme: str | None,
    selected: list[str] | None = None,
) -> dict[str, Any]:
    """The 3D scatter for the chosen axes (segments not in ``selected`` hidden; None = all).

    Filter changes are applied in the browser (trace visibility), so only axis,
    data-set and theme changes come back here.  In PCA mode the scene's axis
    titles are the components' names (``PC1``) and the axes have no numbers
    (grid lines only): every character of 3D text is turned into triangles on
    the first draw, and the components' values mean nothing to a reader, so
    what drives each component and its share are said in the note under the
    chart instead (:func:`render_axes_note`).
    """
    theme = theme or "light"
    v = view(artifact_id)
    if axes == "features":
        cols = [x, y, z]
        allowed = set(axis_choices(v.customers, v.features))
        if not all(c in allowed for c in cols):
            return {"figure": empty_figure("Choose a feature for each axis.", theme)}
        titles = [axis_title(c, v.feature_defs) for c in cols]
    else:
        cols = ["PC1", "PC2", "PC3"]
        pca = v.manifest.get("pca") or {}
        # with loadings, the shares and drivers are in the note: the shortest 3D text
        titles = list(cols) if pca.get("loadings") else pca_axis_titles(pca.get("explained_variance_ratio") or [])
    shown = None if selected is None else tuple(selected)
    figure = per_version(
        v,
        "explorer-scatter",
        (tuple(cols), theme, shown),
        lambda: scatter_figure(
            v.customers,
            v.segments,
            cols,
            titles,
            v.features,
            v.feature_defs,
            theme,
            selected=selected,
            tick_labels=axes == "features",
        ),
    )
    return {"figure": figure}


@callback(
    Output(ids.EXPLORER_AXES_NOTE, "children"),
    Input(ids.EXPLORER_AXES, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,  # the layout has the first note
)
def render_axes_note(axes: str | None, artifact_id: str | None) -> list[Any] | None:
    """What the principal-component axes mean (None in feature mode or without loadings).

    A callback of its own, so the words are painted while the 3D scatter is
    still being drawn instead of after it.
    """
    if axes == "features":
        return None
    v = view(artifact_id)
    pca = v.manifest.get("pca") or {}
    if not pca.get("loadings"):
        return None
    labels = {f: variable_label(f, v.feature_defs, short=True) for f in v.features}
    return pca_axes_note(pca_axis_titles(pca.get("explained_variance_ratio") or [], pca["loadings"], labels))


def pca_axes_note(titles: list[str]) -> list[Any]:
    """``Axes: PC1: customer value & purchase frequency (62%) · PC2: ...``: what the principal components mean."""
    return [
        "Axes: ",
        " · ".join(titles),
        ". Each component mixes the features; the share is the variation it keeps. Only where customers sit "
        "relative to each other matters, so the axes carry no numbers.",
    ]


@callback(
    Output(ids.EXPLORER_DRILL_SEGMENT, "value", allow_duplicate=True),
    Input(ids.EXPLORER_GRAPH, "clickData"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def segment_from_click(click: dict[str, Any] | None, artifact_id: str | None) -> str:
    """Clicking a customer opens its segment (looked up by customer id in the cache)."""
    points = (click or {}).get("points") or []
    if not points or "text" not in points[0]:
        return no_update
    v = view(artifact_id)
    match = v.customers.loc[v.customers["ID"].astype(str) == str(points[0]["text"]), "Segment"]
    return str(match.iloc[0]) if len(match) else no_update


clientside_callback(
    """function (selected) {
        // Filtering down to a single segment opens it (no server round trip).
        return Array.isArray(selected) && selected.length === 1 ? selected[0] : window.dash_clientside.no_update;
    }""",
    Output(ids.EXPLORER_DRILL_SEGMENT, "value", allow_duplicate=True),
    Input(ids.EXPLORER_SEGMENTS, "value"),
    prevent_initial_call=True,
)


#: What :func:`render_drill` fills, in the order of its outputs (the members grid last).
DRILL_OUTPUTS: tuple[tuple[str, str], ...] = (
    (ids.EXPLORER_DRILL, "hidden"),
    (ids.EXPLORER_DRILL_HINT, "children"),
    (ids.EXPLORER_DRILL_HEADER, "children"),
    (ids.EXPLORER_PROFILE_GRAPH, "figure"),
    (ids.EXPLORER_EVIDENCE, "children"),
    (ids.EXPLORER_GRID_HOLDER, "children"),
)


@callback(
    *[Output(cid, prop) for cid, prop in DRILL_OUTPUTS],
    Input(ids.EXPLORER_DRILL_SEGMENT, "value"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
    Input(ids.THEME, "data"),
    State(ids.EXPLORER_DEEP_LINK, "data"),
    prevent_initial_call=True,  # the layout has a deep link's drill-down
)
def render_drill(
    segment: str | None, artifact_id: str | None, theme: str | None, deep_link: str | None = None
) -> tuple[Any, ...]:
    """The drill-down of the chosen segment, or a hint when none is chosen."""
    theme = theme or "light"
    v = view(artifact_id)
    seg = v.segment_by_key.get(segment or "")
    if seg is None:
        hint: Any = None
        if deep_link and deep_link not in v.segment_by_key:
            hint = error_alert(
                f"This link asks for the segment “{deep_link}”, which this model does not have. "
                "Pick one of its segments instead."
            )
        # Hidden: the profile chart keeps what it had (no figure built, nothing drawn in a hidden box).
        return True, hint, None, no_update, None, None
    return per_version(v, "explorer-drill", (seg["key"], theme), lambda: drill_outputs(v, seg, theme))


# The store is set with set_props, not returned: a server callback whose input is another callback's output
# is sent on the first render even when nothing changed; this way nothing is sent without a deep link.
# (The declared output, the store's timestamp, is never changed here.)
clientside_callback(
    """function (deepLink, storeId) {
        // After the first render: a deep link's members grid is wanted.
        if (deepLink) { window.dash_clientside.set_props(storeId, {data: deepLink}); }
        return window.dash_clientside.no_update;
    }""",
    Output(ids.EXPLORER_GRID_WANTED, "modified_timestamp"),
    Input(ids.EXPLORER_DEEP_LINK, "data"),
    State(ids.EXPLORER_GRID_WANTED, "id"),
)


@callback(
    Output(ids.EXPLORER_GRID_HOLDER, "children", allow_duplicate=True),
    Input(ids.EXPLORER_GRID_WANTED, "data"),
    State(ids.EXPLORER_DRILL_SEGMENT, "value"),
    State(ids.ACTIVE_ARTIFACT, "data"),
    prevent_initial_call=True,
)
def mount_deep_link_grid(wanted: str | None, segment: str | None, artifact_id: str | None) -> dag.AgGrid:
    """The members grid of a deep link's segment, fetched after the page's first render.

    Only while that segment is still the drilled one (a choice made since
    then has brought its own grid with :func:`render_drill`).
    """
    if not wanted or wanted != segment:
        raise PreventUpdate
    v = view(artifact_id)
    seg = v.segment_by_key.get(segment)
    if seg is None:
        raise PreventUpdate
    return per_version(v, "explorer-members", seg["key"], lambda: members_for(v, seg))


clientside_callback(
    """function (segment, shown) {
        // What the download menus export: the drilled segment, and the segments the filter shows.
        return [{segment: segment ? [segment] : []}, {shown: Array.isArray(shown) ? shown : []}];
    }""",
    Output(ids.export_selection("explorer", "members"), "data"),
    Output(ids.export_selection("explorer", "customers"), "data"),
    Input(ids.EXPLORER_DRILL_SEGMENT, "value"),
    Input(ids.EXPLORER_SEGMENTS, "value"),
)

clientside_callback(
    """function (axes) {
        // Feature pickers are active only in feature mode (pure UI state: no round trip).
        const off = axes !== 'features';
        return [off, off, off];
    }""",
    Output(ids.EXPLORER_X, "disabled"),
    Output(ids.EXPLORER_Y, "disabled"),
    Output(ids.EXPLORER_Z, "disabled"),
    Input(ids.EXPLORER_AXES, "value"),
)

clientside_callback(
    """function (selected, figure) {
        // Segment filter: show/hide the segment traces without a server round trip.
        if (!figure || !figure.data || !Array.isArray(selected)) { return window.dash_clientside.no_update; }
        const unchanged = figure.data.every(t => t.legendgroup === undefined
            || (t.visible !== false) === selected.includes(t.legendgroup));
        const noted = ((figure.layout || {}).annotations || []).some(a => a.name === 'no-segment');
        // Nothing to change (e.g. the filter filled in after the scatter arrived): no second 3D draw.
        if (unchanged && noted === !selected.length) { return window.dash_clientside.no_update; }
        const data = figure.data.map(t => (t.legendgroup === undefined ? t
            : Object.assign({}, t, {visible: selected.includes(t.legendgroup)})));
        const layout = Object.assign({}, figure.layout);
        const notes = (layout.annotations || []).filter(a => a.name !== 'no-segment');
        if (!selected.length) {
            notes.push({name: 'no-segment', text: 'Select at least one segment to show customers.',
                        showarrow: false, xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: {size: 14}});
        }
        layout.annotations = notes;
        return Object.assign({}, figure, {data: data, layout: layout});
    }""",
    Output(ids.EXPLORER_GRAPH, "figure", allow_duplicate=True),
    Input(ids.EXPLORER_SEGMENTS, "value"),
    State(ids.EXPLORER_GRAPH, "figure"),
    prevent_initial_call=True,
)

clientside_callback(
    """function (segment) {
        // Keep the address shareable: /explorer?segment=<key> (no navigation, no re-render).
        const url = new URL(window.location.href);
        if (!url.pathname.endsWith('/explorer')) { return window.dash_clientside.no_update; }
        if (segment) { url.searchParams.set('segment', segment); } else { url.searchParams.delete('segment'); }
        window.history.replaceState(window.history.state, '', url.toString());
        return '';
    }""",
    Output(ids.EXPLORER_URL_SYNC, "children"),
    Input(ids.EXPLORER_DRILL_SEGMENT, "value"),
    prevent_initial_call=True,
)
