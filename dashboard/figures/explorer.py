"""3D explorer figures and the drill-down's member table.

The scatter is the page's heaviest payload, so it is kept lean: one
``scatter3d`` trace per segment (WebGL), coordinates rounded to three
decimals and sent as float32, customer ids as hover text and only the
clustered features as ``customdata``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pipeline.config import DEFAULT_FEATURES
from pipeline.features.definitions import FEATURE_DEFINITIONS

from .common import empty_figure, themed
from .eda import escape_hover
from .segments import profile_rows
from .variables import CATEGORICAL_PROFILE, NUMERIC_PROFILE, variable_label, variable_unit

#: Most points drawn in the 3D scatter; above this a fixed, stratified sample is shown.
MAX_POINTS = 20_000
MARKER_SIZE = 3
#: Columns of the members table, after ID and the clustered features.
MEMBER_PROFILE: tuple[str, ...] = ("Age", "Income", "Children", "Recency", "Web_Visits", *CATEGORICAL_PROFILE)


def default_axis_choices() -> list[str]:
    """Axis columns every data set has (the declared features and numeric profile
    attributes), for the layout before the session's data set is known."""
    return [*FEATURE_DEFINITIONS, *[c for c in NUMERIC_PROFILE if c != "Complain" and c not in FEATURE_DEFINITIONS]]


def default_axes() -> list[str]:
    """The three default feature axes."""
    return list((DEFAULT_FEATURES * 3)[:3])


def axis_choices(frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """Columns that can be an axis in feature mode: features, then numeric profile attributes."""
    extra = [c for c in NUMERIC_PROFILE if c in frame.columns and c != "Complain" and c not in features]
    return [f for f in features if f in frame.columns] + extra


def _hover_template(features: Sequence[str], feature_defs: Mapping[str, Mapping[str, str]]) -> str:
    lines = ["<b>Customer %{text}</b>", "%{fullData.name}"]
    for i, f in enumerate(features):
        unit = variable_unit(f, feature_defs)
        label = escape_hover(variable_label(f, feature_defs, short=True))
        if unit == "$":
            lines.append(f"{label}: $%{{customdata[{i}]:,.0f}}")
        else:
            suffix = f" {escape_hover(unit)}" if unit and unit != "share" else ""
            lines.append(f"{label}: %{{customdata[{i}]:,.4~g}}{suffix}")
    return "<br>".join(lines) + "<extra></extra>"


#: Grid lines per 3D axis drawn without tick labels.
GRID_LINES = 5


def blank_ticks(values: pd.Series, lines: int = GRID_LINES) -> dict[str, Any]:
    """Scene-axis settings for grid lines at ``lines`` even steps over ``values`` with no tick text.

    ``blank_ticks(pd.Series([0.0, 4.0]), 5)`` → ticks at 0, 1, 2, 3, 4, each labelled ``""``.
    """
    span = finite_range(values)
    if span is None:
        return {"showticklabels": False}
    ticks = np.round(np.linspace(span[0], span[1], lines), 3)
    return {"tickmode": "array", "tickvals": ticks.tolist(), "ticktext": [""] * lines}


def axis_name_notes(titles: Sequence[str], ranges: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """Scene annotations naming the three axes along the cube's front edges (plain SVG text).

    For the explorer's camera (looking from +x, +y, above): x's name under the
    front-right bottom edge, y's under the front-left one, z's beside the left
    vertical edge.  plotly.js draws SVG annotations as they are; an axis
    *title* would be turned into triangles first (tens of milliseconds per
    title on the first draw without a GPU).

    ``axis_name_notes(["PC1", "PC2", "PC3"], [(0, 2), (0, 4), (-1, 1)])[0]``
    is ``PC1`` at ``(1, 4, -1)``.
    """
    (x0, x1), (y0, y1), (z0, z1) = ranges
    common = {"showarrow": False, "font": {"size": 11}}
    return [
        {**common, "x": (x0 + x1) / 2, "y": y1, "z": z0, "text": titles[0], "yanchor": "top", "yshift": -8},
        {**common, "x": x1, "y": (y0 + y1) / 2, "z": z0, "text": titles[1], "yanchor": "top", "yshift": -8},
        {**common, "x": x1, "y": y0, "z": (z0 + z1) / 2, "text": titles[2], "xanchor": "right", "xshift": -8},
    ]


def finite_range(values: pd.Series) -> tuple[float, float] | None:
    """``(min, max)`` of the finite values, or None when there are none."""
    finite = values[np.isfinite(values)]
    return None if finite.empty else (float(finite.min()), float(finite.max()))


def _sample(frame: pd.DataFrame, max_points: int, random_state: int) -> pd.DataFrame:
    if len(frame) <= max_points:
        return frame
    frac = max_points / len(frame)
    return frame.groupby("Segment", group_keys=False, sort=False).sample(frac=frac, random_state=random_state)


def scatter_figure(
    frame: pd.DataFrame,
    segments: Sequence[Mapping[str, Any]],
    axes: Sequence[str],
    axis_titles: Sequence[str],
    hover_features: Sequence[str],
    feature_defs: Mapping[str, Mapping[str, str]],
    theme: str,
    *,
    selected: Sequence[str] | None = None,
    max_points: int = MAX_POINTS,
    random_state: int = 0,
    tick_labels: bool = True,
) -> go.Figure:
    """3D scatter of customers, one WebGL trace per segment (the legend toggles segments).

    Parameters
    ----------
    frame : DataFrame
        Scored customers: ``ID``, ``Segment`` and the axis and hover columns.
    segments : sequence of dict
        The segment map (``key``, ``name``, ``colour``), in display order.
    axes : sequence of 3 str
        Columns on x, y and z.
    axis_titles : sequence of 3 str
        Axis titles (``"PC1 (62% var)"``, ``"Customer value ($)"``).
    hover_features : sequence of str
        Columns shown on hover (the clustered features), sent as ``customdata``.
    feature_defs : mapping
        Feature definitions (labels and units for the hover).
    theme : str
        ``"light"`` or ``"dark"``.
    selected : sequence of str, optional
        Segment keys to show; all when None.  Every segment still gets its
        trace (the others are hidden), so trace *i* is segment *i* of
        ``segments`` and its ``legendgroup`` is the segment key.
    max_points : int
        Above this many customers, a stratified sample of this size is drawn.
    random_state : int
        Seed of that sample.
    tick_labels : bool
        Numbers along the axes.  Without them (principal components, whose
        numbers mean nothing to a reader) the grid lines stay at
        :data:`GRID_LINES` even steps and no tick text is drawn: plotly.js turns
        every 3D label into triangles on the first draw, and hidden labels
        (``showticklabels=False``) would still be turned.  For the same reason
        the axes' names are then SVG annotations along the cube's edges
        (:func:`axis_name_notes`), not 3D axis titles.
    """
    keys = {s["key"] for s in segments} if selected is None else set(selected)
    if not segments:
        return empty_figure("This model has no segments.", theme)
    missing = [c for c in (*axes, *hover_features) if c not in frame.columns]
    if missing:
        return empty_figure(f"Not in this data set: {', '.join(missing)}.", theme)
    data = frame[frame["Segment"].isin(keys)]
    shown = _sample(data, max_points, random_state)
    template = _hover_template(hover_features, feature_defs)
    fig = go.Figure()
    # One trace per segment of the map, in its order (hidden when filtered out), so a
    # trace is found by its position or its legendgroup (= segment key).
    for s in segments:
        part = shown[shown["Segment"] == s["key"]]
        coords = [np.round(pd.to_numeric(part[a], errors="coerce").to_numpy(dtype="float64"), 3) for a in axes]
        custom = np.round(part[list(hover_features)].apply(pd.to_numeric, errors="coerce").to_numpy(), 2)
        fig.add_trace(
            go.Scatter3d(
                x=coords[0].astype("float32"),
                y=coords[1].astype("float32"),
                z=coords[2].astype("float32"),
                mode="markers",
                name=s["name"],
                legendgroup=s["key"],
                # opaque: a translucent trace makes every draw of the scene a second, blended pass
                marker={"size": MARKER_SIZE, "color": s["colour"], "line": {"width": 0}},
                text=part["ID"].astype(str).to_numpy(),
                customdata=custom.astype("float32"),
                hovertemplate=template,
                visible=s["key"] in keys,
            )
        )
    notes = []
    if len(shown) < len(data):
        notes.append(
            {
                "text": f"Showing a sample of {len(shown):,} of {len(data):,} customers",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "font": {"size": 11},
            }
        )
    if not keys & {s["key"] for s in segments}:
        # Same note as the browser-side filter adds (and removes) by name.
        notes.append(
            {
                "name": "no-segment",
                "text": "Select at least one segment to show customers.",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 14},
            }
        )
    # WebGL scenes ignore alpha in grid colours: use opaque tones of the theme.
    dark = theme == "dark"
    scene_axis = {
        "showspikes": False,
        "tickfont": {"size": 10},
        "gridcolor": "#3D444B" if dark else "#E3E6EA",
        "zerolinecolor": "#6C757D" if dark else "#ADB5BD",
        "linecolor": "#6C757D" if dark else "#ADB5BD",
        "gridwidth": 1,
    }
    axes_layout = []
    for a, title in zip(axes, axis_titles, strict=True):
        one = {**scene_axis, "title": {"text": title, "font": {"size": 11}}}
        if not tick_labels:
            one.update(blank_ticks(pd.to_numeric(data[a], errors="coerce")))
        axes_layout.append(one)
    names: list[dict[str, Any]] = []
    spans = [finite_range(pd.to_numeric(data[a], errors="coerce")) for a in axes]
    ranges = [r for r in spans if r is not None]
    if not tick_labels and len(ranges) == 3:
        # the axes' names as SVG annotations, not 3D titles (no text is triangulated on the first draw)
        names = axis_name_notes(axis_titles, ranges)
        for one in axes_layout:
            one["title"] = {"text": ""}
    return themed(
        fig,
        theme,
        showlegend=True,
        legend={
            "orientation": "h",
            "y": 1.0,
            "yanchor": "bottom",
            "x": 0,
            "itemsizing": "constant",
            "title": None,
            "font": {"size": 12},
        },
        scene={
            "xaxis": axes_layout[0],
            "yaxis": axes_layout[1],
            "zaxis": axes_layout[2],
            "aspectmode": "cube",
            "annotations": names,
            # far enough out that the axis titles fit inside the scene
            "camera": {"eye": {"x": 1.85, "y": 1.85, "z": 1.1}, "center": {"x": 0, "y": 0, "z": -0.1}},
        },
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        uirevision="|".join(axes),
        annotations=notes,
    )


def profile_figure(
    segment: Mapping[str, Any],
    averages: Mapping[str, float],
    features: Sequence[str],
    feature_defs: Mapping[str, Mapping[str, str]],
    theme: str,
) -> go.Figure:
    """A segment against the average customer: % above or below average per variable.

    Bars in the segment's colour, clustered features first; the hover gives
    both values in original units.

    Parameters
    ----------
    segment : dict
        One entry of the segment map.
    averages : mapping
        Population average per variable.
    features : sequence of str
        Clustered features.
    feature_defs : mapping
        Feature definitions.
    theme : str
        ``"light"`` or ``"dark"``.
    """
    rows = [r for r in profile_rows(segment, averages, features, feature_defs) if r["delta"] is not None]
    if not rows:
        return empty_figure("No profile to compare for this segment.", theme)
    labels = [("<b>" + r["label"] + "</b>") if r["feature"] else r["label"] for r in rows]
    deltas = np.array([r["delta"] for r in rows])
    # Room for the "▲ +158%" labels outside the bars on both sides.
    low, high = min(0.0, float(deltas.min())), max(0.0, float(deltas.max()))
    pad = max(0.35, 0.22 * (high - low))
    lo, hi = min(-0.5, low - pad), max(0.5, high + pad)
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=deltas,
            orientation="h",
            marker={
                "color": segment["colour"],
                "opacity": [1.0 if r["feature"] else 0.55 for r in rows],
            },
            text=[r["delta_text"] for r in rows],
            textposition="outside",
            cliponaxis=False,
            customdata=[[r["value_text"], r["average_text"]] for r in rows],
            hovertemplate="%{y}<br>This segment: %{customdata[0]}<br>Average customer: %{customdata[1]}<extra></extra>",
            name=segment["name"],
        )
    )
    fig.add_vline(x=0, line={"width": 1.5, "color": "rgba(128,128,128,0.8)"})
    return themed(
        fig,
        theme,
        xaxis={
            "title": "vs the average customer",
            "tickformat": "+.0%",
            "range": [lo, hi],
            "zeroline": False,
        },
        yaxis={"autorange": "reversed", "title": None, "automargin": True},
        showlegend=False,
        margin={"l": 10, "r": 30, "t": 10, "b": 45},
        bargap=0.3,
    )


def member_columns(frame: pd.DataFrame, features: Sequence[str]) -> list[str]:
    """Columns of the members table: ID, clustered features, a few profile attributes."""
    return ["ID", *[f for f in features if f in frame.columns], *[c for c in MEMBER_PROFILE if c in frame.columns]]


def member_rows(frame: pd.DataFrame, key: str, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of one segment for the AG Grid (numbers rounded; numeric ids as numbers for sorting)."""
    sub = frame.loc[frame["Segment"] == key, list(columns)].copy()
    for c in sub.columns:
        if c == "ID":
            as_num = pd.to_numeric(sub[c], errors="coerce")
            sub[c] = as_num.astype("int64") if as_num.notna().all() and (as_num % 1 == 0).all() else sub[c].astype(str)
        elif pd.api.types.is_numeric_dtype(sub[c]):
            sub[c] = sub[c].round(2).astype(object).where(sub[c].notna(), None)
        else:
            sub[c] = sub[c].astype(object).where(sub[c].notna(), None).map(lambda x: x if x is None else str(x))
    return sub.to_dict("records")


def member_column_defs(
    columns: Sequence[str], feature_defs: Mapping[str, Mapping[str, str]], frame: pd.DataFrame
) -> list[dict[str, Any]]:
    """AG Grid column definitions: display names, number filters and formats by unit."""
    defs = []
    for c in columns:
        if c == "ID":
            defs.append({"field": "ID", "headerName": "Customer ID", "pinned": "left", "minWidth": 110})
            continue
        d: dict[str, Any] = {"field": c, "headerName": variable_label(c, feature_defs, short=True), "minWidth": 90}
        if c in frame and pd.api.types.is_numeric_dtype(frame[c]):
            unit = variable_unit(c, feature_defs)
            fmt = "$,.0f" if unit == "$" else ",.4~g"
            d.update(
                {
                    "filter": "agNumberColumnFilter",
                    "type": "numericColumn",
                    "valueFormatter": {"function": f"params.value == null ? '' : d3.format('{fmt}')(params.value)"},
                }
            )
        defs.append(d)
    return defs


def fmt_members(n: int) -> str:
    """``"397 customers"``."""
    return f"{n:,} customer" + ("" if n == 1 else "s")
