"""Customer simulator figures: P(alive) gauge, distance to each segment, the customer map (PC1 × PC2).

Each figure has a full builder (first render, theme or model change) and an
``*_update`` twin: what a slider change moves, as the arguments of
``Plotly.update`` (attribute strings such as ``"marker.opacity"`` or
``"annotations[0].text"``), applied in the browser to the drawn chart.  The
update functions must mirror the full builders (trace order, annotation
order); tests apply an update to the figure of one customer and compare it
with the figure of the other.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..theme import NEUTRAL
from .common import label_margin, themed

#: Gauge colours below (likely inactive) and above (likely active) the P(alive) threshold (Okabe-Ito).
INACTIVE_COLOUR = "#D55E00"
ACTIVE_COLOUR = "#009E73"
#: Most customers drawn on the customer map (a per-segment stratified sample above this, said on the map).
MAX_PCA_POINTS = 1200


def _fade(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def gauge_state(p_alive: float | None, threshold: float) -> dict[str, Any]:
    """What the P(alive) gauge shows for one customer.

    Parameters
    ----------
    p_alive : float or None
        Probability (0-1) that the customer is still active; None when not measured.
    threshold : float
        P(alive) below which a customer counts as likely inactive.

    Returns
    -------
    dict
        ``value`` (0-100, the dial), ``colour`` (bar), ``label`` (the words under the dial),
        ``mode`` (the indicator's mode: no number when not measured).
    """
    if p_alive is None:
        return {"value": 0.0, "colour": "rgba(0,0,0,0)", "label": "Activity not measured", "mode": "gauge"}
    inactive = p_alive < threshold
    return {
        "value": round(100.0 * p_alive, 1),
        "colour": INACTIVE_COLOUR if inactive else ACTIVE_COLOUR,
        "label": "Likely inactive" if inactive else "Likely still active",
        "mode": "gauge+number",
    }


def gauge_caption(label: str, measured: bool) -> str:
    """The words under the dial: ``"<b>Likely inactive</b> · P(alive)"``, or just the not-measured label."""
    return f"<b>{label}</b> · P(alive)" if measured else f"<b>{label}</b>"


def _gauge_parts(p_alive: float | None, threshold: float, theme: str) -> dict[str, Any]:
    """What :func:`activity_gauge_figure` draws that depends on the customer (the rest depends on the model and theme)."""
    fg = "#DEE2E6" if theme == "dark" else "#212529"
    g = gauge_state(p_alive, threshold)
    cut = 100.0 * threshold
    measured = p_alive is not None
    return {
        "value": g["value"],
        "mode": g["mode"],
        "bar": g["colour"],
        "steps": [
            {"range": [0, cut], "color": _fade(INACTIVE_COLOUR, 0.16) if measured else _fade(NEUTRAL, 0.15)},
            {"range": [cut, 100], "color": _fade(ACTIVE_COLOUR, 0.16) if measured else _fade(NEUTRAL, 0.15)},
        ],
        "threshold_width": 3 if measured else 0,
        "caption": gauge_caption(g["label"], measured),
        "caption_colour": fg if measured else NEUTRAL,
    }


def activity_gauge_figure(p_alive: float | None, threshold: float, theme: str) -> go.Figure:
    """A half dial of this customer's P(alive), 0-100 %, with the likely-inactive threshold marked.

    Parameters
    ----------
    p_alive : float or None
        The simulated customer's probability of still being active (None: not measured).
    threshold : float
        P(alive) below which a customer counts as likely inactive (0-1).
    theme : str
        ``"light"`` or ``"dark"``.
    """
    fg = "#DEE2E6" if theme == "dark" else "#212529"
    g = _gauge_parts(p_alive, threshold, theme)
    cut = 100.0 * threshold
    fig = go.Figure(
        go.Indicator(
            mode=g["mode"],
            value=g["value"],
            number={"suffix": "%", "valueformat": ".0f", "font": {"size": 26}},
            domain={"x": [0, 1], "y": [0.2, 1]},
            gauge={
                "shape": "angular",
                "axis": {
                    "range": [0, 100],
                    "tickvals": [0, cut, 100],
                    "ticktext": ["0%", f"{cut:g}%", "100%"],
                    "ticks": "",
                    "tickfont": {"size": 11},
                },
                "bar": {"color": g["bar"], "thickness": 0.45},
                "bgcolor": "rgba(0,0,0,0)",
                "borderwidth": 0,
                "steps": g["steps"],
                "threshold": {"line": {"color": fg, "width": g["threshold_width"]}, "thickness": 0.9, "value": cut},
            },
        )
    )
    fig.add_annotation(
        text=g["caption"],
        x=0.5,
        y=0.02,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": g["caption_colour"]},
    )
    return themed(fig, theme, margin={"l": 28, "r": 28, "t": 18, "b": 6})


def activity_gauge_update(p_alive: float | None, threshold: float, theme: str) -> dict[str, dict[str, Any]]:
    """What :func:`activity_gauge_figure` changes when only the customer changes, as ``Plotly.update`` arguments.

    ``{"data": {attribute: [value of trace 0]}, "layout": {attribute: value}}``
    (attribute strings as ``Plotly.update`` takes them), applied in the browser
    by :data:`UPDATE_CHARTS_JS`.
    """
    g = _gauge_parts(p_alive, threshold, theme)
    return {
        "data": {
            "value": [g["value"]],
            "mode": [g["mode"]],
            "gauge.bar.color": [g["bar"]],
            "gauge.steps": [g["steps"]],
            "gauge.threshold.line.width": [g["threshold_width"]],
        },
        "layout": {"annotations[0].text": g["caption"], "annotations[0].font.color": g["caption_colour"]},
    }


def _distance_arrays(
    segments: Sequence[Mapping[str, Any]], distances: Mapping[str, float], predicted: str, theme: str
) -> dict[str, list[Any]]:
    keys = [s["key"] for s in segments]
    faded = 0.6 if theme == "dark" else 0.45
    return {
        "x": [round(float(distances[k]), 4) for k in keys],
        "text": [f"{distances[k]:.2f}" for k in keys],
        "opacity": [1.0 if k == predicted else faded for k in keys],
        "width": [2.5 if k == predicted else 0.0 for k in keys],
        "names": [f"<b>{s['name']}</b>" if s["key"] == predicted else s["name"] for s in segments],
        "range": [0, distance_axis_top(max(float(distances[k]) for k in keys))],
    }


def distance_axis_top(longest: float) -> float:
    """Right end of the distances chart's axis: room for the longest bar's value label beside it.

    At least 1.4 × the longest bar (0.5 at least), rounded up to half a power of
    ten, so that most slider steps keep the axis (its ticks are then not redrawn):
    ``distance_axis_top(2.3)`` → ``3.5`` (2.3 × 1.4 = 3.22), ``distance_axis_top(0.1)`` → ``0.7``.
    """
    top = max(float(longest), 0.5) * 1.4
    step = 10.0 ** math.floor(math.log10(top)) / 2
    return round(math.ceil(round(top / step, 9)) * step, 9)


def distances_figure(
    segments: Sequence[Mapping[str, Any]], distances: Mapping[str, float], predicted: str, theme: str
) -> go.Figure:
    """Distance from the simulated customer to every segment centre, one bar per segment.

    Parameters
    ----------
    segments : sequence of dict
        Segment map in display order (``key``, ``name``, ``colour``).
    distances : mapping
        Segment key → distance in the model's standardised space.
    predicted : str
        Key of the predicted segment (highlighted).
    theme : str
        ``"light"`` or ``"dark"``.
    """
    a = _distance_arrays(segments, distances, predicted, theme)
    fg = "#DEE2E6" if theme == "dark" else "#212529"
    fig = go.Figure(
        go.Bar(
            y=list(range(len(segments))),
            x=a["x"],
            orientation="h",
            text=a["text"],
            textposition="outside",
            cliponaxis=False,
            marker={
                "color": [s["colour"] for s in segments],
                "opacity": a["opacity"],
                "line": {"color": fg, "width": a["width"]},
            },
            customdata=[s["name"] for s in segments],
            hovertemplate="%{customdata}<br>distance %{x:.2f}<extra></extra>",
        )
    )
    return themed(
        fig,
        theme,
        xaxis={
            # Short: the plot is narrow beside the names, and the card says it is the distance to each centre.
            "title": {"text": "distance", "font": {"size": 12}},
            "range": a["range"],
            "zeroline": False,
        },
        yaxis={
            "tickvals": list(range(len(segments))),
            "ticktext": a["names"],
            "autorange": "reversed",
            "automargin": True,
            "title": None,
        },
        bargap=0.35,
        showlegend=False,
        # Room for the names (the predicted one in bold, hence a wider pad than label_margin's) and the axis
        # title: plotly.js draws the chart once, and a step that makes the longest name bold does not widen it.
        margin={"l": label_margin([seg["name"] for seg in segments], pad=18), "r": 16, "t": 6, "b": 48},
    )


def distances_update(
    segments: Sequence[Mapping[str, Any]], distances: Mapping[str, float], predicted: str, theme: str
) -> dict[str, dict[str, Any]]:
    """What :func:`distances_figure` changes when the customer moves, as ``Plotly.update`` arguments."""
    a = _distance_arrays(segments, distances, predicted, theme)
    return {
        "data": {
            "x": [a["x"]],
            "text": [a["text"]],
            "marker.opacity": [a["opacity"]],
            "marker.line.width": [a["width"]],
        },
        "layout": {"xaxis.range": a["range"], "yaxis.ticktext": a["names"]},
    }


def _sample(customers: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most ``max_points`` rows, the same share from every segment (deterministic)."""
    if len(customers) <= max_points:
        return customers
    frac = max_points / len(customers)
    return customers.groupby("Segment", group_keys=False).sample(frac=frac, random_state=0)


#: Share of the data's extent left around it on the customer map (and around the simulated customer).
MAP_PAD = 0.05
#: The simulated customer's diamond, in pixels around its place (``xsizemode``/``ysizemode`` "pixel").
DIAMOND = "M0,-10 L10,0 L0,10 L-10,0 Z"


def pca_extent(customers: pd.DataFrame) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((min PC1, max PC1), (min PC2, max PC2))`` of every customer (not only those drawn)."""
    return tuple((float(customers[c].min()), float(customers[c].max())) for c in ("PC1", "PC2"))  # type: ignore[return-value]


def map_ranges(
    extent: Sequence[Sequence[float]], point: Sequence[float], pad: float = MAP_PAD
) -> tuple[list[float], list[float]]:
    """Axis ranges of the map: the customers' extent and the simulated customer, ``pad`` of the span around.

    ``map_ranges(((0, 10), (-1, 1)), (12, 0))`` → ``([-0.6, 12.6], [-1.1, 1.1])``.  The
    range changes only when the customer leaves the customers' extent, so a
    slider step usually moves the marker alone (no re-plot of the customers).
    """
    out = []
    for (lo, hi), x in zip(extent, point[:2], strict=True):
        lo, hi = min(lo, float(x)), max(hi, float(x))
        margin = pad * ((hi - lo) or 1.0)
        out.append([round(lo - margin, 4), round(hi + margin, 4)])
    return out[0], out[1]


def _marker(point: Sequence[float], segment: Mapping[str, Any], theme: str) -> dict[str, Any]:
    """The simulated customer as layout items: a diamond (shape) and a labelled arrow (annotation)."""
    x, y = round(float(point[0]), 4), round(float(point[1]), 4)
    fg = "#FFFFFF" if theme == "dark" else "#111111"
    shape = {
        "type": "path",
        "path": DIAMOND,
        "xsizemode": "pixel",
        "ysizemode": "pixel",
        "xanchor": x,
        "yanchor": y,
        "xref": "x",
        "yref": "y",
        "fillcolor": segment["colour"],
        "line": {"color": fg, "width": 2.5},
        "layer": "above",
    }
    label = {
        "x": x,
        "y": y,
        "xref": "x",
        "yref": "y",
        "text": f"<b>This customer</b> · {segment['name']}",
        "showarrow": True,
        "arrowhead": 0,
        "arrowwidth": 1.5,
        "arrowcolor": fg,
        "standoff": 11,
        "ax": 36,
        "ay": -34,
        "font": {"size": 13, "color": fg},
        "bgcolor": "rgba(33,37,41,0.85)" if theme == "dark" else "rgba(255,255,255,0.85)",
        "borderpad": 3,
    }
    return {"shape": shape, "label": label}


def pca_figure(
    customers: pd.DataFrame,
    segments: Sequence[Mapping[str, Any]],
    point: Sequence[float],
    predicted: Mapping[str, Any],
    theme: str,
    axis_titles: Sequence[str] | None = None,
    revision: str | None = None,
    max_points: int = MAX_PCA_POINTS,
) -> go.Figure:
    """The customer map: every customer on the first two principal components by segment, the simulated one marked.

    A 2-D map (SVG): plotly.js draws it without the 3-D WebGL stack, and the
    simulated customer is a layout shape and annotation, so a slider step
    moves them without re-plotting the customers (:func:`pca_marker_update`).

    Parameters
    ----------
    customers : DataFrame
        ``ID``, ``Segment`` (key) and ``PC1``, ``PC2``.
    segments : sequence of dict
        Segment map in display order (``key``, ``name``, ``colour``).
    point : sequence of floats
        The simulated customer's PC1, PC2 (further components are ignored).
    predicted : dict
        Its segment (``name``, ``colour``).
    theme : str
        ``"light"`` or ``"dark"``.
    axis_titles : sequence of 2 str, optional
        Titles of the PC1 and PC2 axes (what drives each, its share of the variation).
    revision : str, optional
        ``uirevision`` (zoom and legend choices survive redraws with the same value) and
        ``datarevision`` (the customers' arrays are unchanged while it is the same).
    max_points : int
        Customers drawn at most (stratified sample above, said on the chart).
    """
    dark = theme == "dark"
    shown = _sample(customers, max_points)
    fig = go.Figure()
    for s in segments:
        part = shown[shown["Segment"] == s["key"]]
        # Plain lists, not numpy arrays (which plotly.py sends base64-encoded): plotly.js decodes those into new
        # typed arrays on every update and takes them for new data, re-plotting every customer.  A fixed uid:
        # Dash hands plotly.js a fresh copy of the traces after each patch, and plotly.js would give a trace
        # without one a new uid, which also re-plots it.
        fig.add_scatter(
            uid=f"map-{s['key']}",
            x=part["PC1"].round(3).tolist(),
            y=part["PC2"].round(3).tolist(),
            mode="markers",
            name=s["name"],
            marker={"size": 5, "color": s["colour"], "opacity": 0.5 if dark else 0.45, "line": {"width": 0}},
            customdata=part["ID"].astype(str).tolist(),
            hovertemplate=f"Customer %{{customdata}}<br>{s['name']}<extra></extra>",
        )
    m = _marker(point, predicted, theme)
    xr, yr = map_ranges(pca_extent(customers), point)
    titles = list(axis_titles or ("PC1", "PC2"))
    # The components' numbers mean nothing to a reader: no tick labels, the grid only.
    axis = {
        "showticklabels": False,
        "ticks": "",
        "zeroline": False,
        "fixedrange": False,
        "title": {"font": {"size": 12}},
    }
    notes = [m["label"]]
    if len(shown) < len(customers):
        notes.append(
            {
                "text": f"A sample of {len(shown):,} of {len(customers):,} customers",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "xanchor": "right",
                "y": 0,
                "yanchor": "bottom",
                "font": {"size": 11},
            }
        )
    return themed(
        fig,
        theme,
        xaxis={**axis, "range": xr, "title": {**axis["title"], "text": titles[0]}},
        yaxis={**axis, "range": yr, "title": {**axis["title"], "text": titles[1]}},
        shapes=[m["shape"]],
        annotations=notes,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "x": 0.0,
            "itemsizing": "constant",
            "font": {"size": 12},
        },
        hovermode="closest",
        # t: the legend above the plot on up to two rows (one row is 37 px; the built-in sample's four names
        # fill 695 of the plot's 754 px at 1280 px, and a window under about 1,200 px wraps them).  A margin
        # too small for the legend makes plotly.js widen it by drawing the map a second time.
        margin={"l": 36, "r": 8, "t": 56, "b": 36},
        uirevision=revision or "sim-pca",
        # The customers' arrays are the same for a revision.  Dash hands plotly.js a copy of the figure after
        # each patch, and without a data revision plotly.js takes new array copies for new data and re-plots
        # every customer (about 60 ms for 2,240 SVG points); with it, moving the marker costs a few ms.
        datarevision=revision or "sim-pca",
    )


def pca_marker_update(
    point: Sequence[float], predicted: Mapping[str, Any], theme: str, extent: Sequence[Sequence[float]]
) -> dict[str, dict[str, Any]]:
    """Where the simulated customer of :func:`pca_figure` goes, as ``Plotly.update`` arguments.

    Only the shape and the label (and the axis ranges when the customer
    leaves the customers' extent, :func:`map_ranges`) change: plotly.js
    redraws those two items, not the customers.  ``extent`` is
    :func:`pca_extent` of the customers the figure was drawn from.
    """
    m = _marker(point, predicted, theme)
    xr, yr = map_ranges(extent, point)
    layout: dict[str, Any] = {f"shapes[0].{k}": m["shape"][k] for k in ("xanchor", "yanchor", "fillcolor")}
    layout |= {f"annotations[0].{k}": m["label"][k] for k in ("x", "y", "text")}
    return {"data": {}, "layout": {**layout, "xaxis.range": xr, "yaxis.range": yr}}


@functools.lru_cache(maxsize=256)  # a handful of segment colours × 2 themes, asked on every simulator update
def readable_colour(hex_colour: str, theme: str, min_contrast: float = 3.0) -> str:
    """The segment colour, darkened (light theme) or lightened (dark theme) until it reads as text.

    Large bold text needs a contrast of 3:1 (WCAG AA); the Okabe–Ito yellow
    and sky blue fall short on white, plain blue on the dark background.
    """
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        return hex_colour
    rgb = np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)
    bg = np.array([0x21, 0x25, 0x29], float) if theme == "dark" else np.array([255.0, 255.0, 255.0])
    target = np.array([255.0, 255.0, 255.0]) if theme == "dark" else np.zeros(3)
    for t in np.linspace(0.0, 0.9, 19):
        mixed = rgb + (target - rgb) * t
        if _contrast(mixed, bg) >= min_contrast:
            return "#" + "".join(f"{round(float(c)):02X}" for c in mixed)
    return "#FFFFFF" if theme == "dark" else "#000000"


def _luminance(rgb: np.ndarray) -> float:
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2])


def _contrast(a: np.ndarray, b: np.ndarray) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
