"""Customer simulator figures: P(alive) gauge, distance to each segment, 3D PCA position.

Each figure has a full builder (first render, theme or model change) and a
``*_patch`` twin that updates only what a slider change moves, so a
``dash.Patch`` resends a few numbers instead of the whole figure.  The patch
functions must mirror the structure of the full builders (trace order,
annotation order); tests check that they do.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch

from ..theme import NEUTRAL
from .common import themed

#: Gauge colours below (likely inactive) and above (likely active) the P(alive) threshold (Okabe-Ito).
INACTIVE_COLOUR = "#D55E00"
ACTIVE_COLOUR = "#009E73"
#: Most customers drawn in the 3D plot (a per-segment stratified sample above this).
MAX_PCA_POINTS = 4000


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
    g = gauge_state(p_alive, threshold)
    cut = 100.0 * threshold
    measured = p_alive is not None
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
                "bar": {"color": g["colour"], "thickness": 0.45},
                "bgcolor": "rgba(0,0,0,0)",
                "borderwidth": 0,
                "steps": [
                    {"range": [0, cut], "color": _fade(INACTIVE_COLOUR, 0.16) if measured else _fade(NEUTRAL, 0.15)},
                    {"range": [cut, 100], "color": _fade(ACTIVE_COLOUR, 0.16) if measured else _fade(NEUTRAL, 0.15)},
                ],
                "threshold": {"line": {"color": fg, "width": 3 if measured else 0}, "thickness": 0.9, "value": cut},
            },
        )
    )
    fig.add_annotation(
        text=gauge_caption(g["label"], measured),
        x=0.5,
        y=0.02,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 14, "color": fg if p_alive is not None else NEUTRAL},
    )
    return themed(fig, theme, margin={"l": 28, "r": 28, "t": 18, "b": 6})


def activity_gauge_patch(p_alive: float | None, threshold: float, theme: str) -> Patch:
    """What :func:`activity_gauge_figure` changes when only the customer changes."""
    fg = "#DEE2E6" if theme == "dark" else "#212529"
    g = gauge_state(p_alive, threshold)
    p = Patch()
    p["data"][0]["value"] = g["value"]
    p["data"][0]["gauge"]["bar"]["color"] = g["colour"]
    p["data"][0]["mode"] = g["mode"]
    p["layout"]["annotations"][0]["text"] = gauge_caption(g["label"], p_alive is not None)
    p["layout"]["annotations"][0]["font"]["color"] = fg if p_alive is not None else NEUTRAL
    return p


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
    }


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
    top = max([*a["x"], 0.5])
    return themed(
        fig,
        theme,
        xaxis={
            "title": {"text": "distance to centre", "font": {"size": 12}},
            "range": [0, top * 1.4],  # room for the longest bar's value label beside it
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
        margin={"l": 8, "r": 16, "t": 6, "b": 44},
    )


def distances_patch(
    segments: Sequence[Mapping[str, Any]], distances: Mapping[str, float], predicted: str, theme: str
) -> Patch:
    """What :func:`distances_figure` changes when the customer moves."""
    a = _distance_arrays(segments, distances, predicted, theme)
    p = Patch()
    p["data"][0]["x"] = a["x"]
    p["data"][0]["text"] = a["text"]
    p["data"][0]["marker"]["opacity"] = a["opacity"]
    p["data"][0]["marker"]["line"]["width"] = a["width"]
    p["layout"]["xaxis"]["range"] = [0, max([*a["x"], 0.5]) * 1.22]
    p["layout"]["yaxis"]["ticktext"] = a["names"]
    return p


def _sample(customers: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most ``max_points`` rows, the same share from every segment (deterministic)."""
    if len(customers) <= max_points:
        return customers
    frac = max_points / len(customers)
    return customers.groupby("Segment", group_keys=False).sample(frac=frac, random_state=0)


def _marker(point: Sequence[float], segment: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "x": [round(float(point[0]), 4)],
        "y": [round(float(point[1]), 4)],
        "z": [round(float(point[2]), 4)],
        "color": segment["colour"],
        "hover": f"Simulated customer<br>{segment['name']}<extra></extra>",
    }


def pca_figure(
    customers: pd.DataFrame,
    segments: Sequence[Mapping[str, Any]],
    point: Sequence[float],
    predicted: Mapping[str, Any],
    theme: str,
    explained: Sequence[float] | None = None,
    revision: str | None = None,
    max_points: int = MAX_PCA_POINTS,
) -> go.Figure:
    """All customers in 3D PCA space by segment, with the simulated customer highlighted.

    Parameters
    ----------
    customers : DataFrame
        ``ID``, ``Segment`` (key) and ``PC1``..``PC3``.
    segments : sequence of dict
        Segment map in display order (``key``, ``name``, ``colour``).
    point : sequence of 3 floats
        The simulated customer's PC1..PC3.
    predicted : dict
        Its segment (``name``, ``colour``).
    theme : str
        ``"light"`` or ``"dark"``.
    explained : sequence of float, optional
        Explained variance ratio per component, for the axis titles.
    revision : str, optional
        ``uirevision``: the camera survives redraws with the same value.
    max_points : int
        Customers drawn at most (stratified sample above).

    Notes
    -----
    The simulated customer is the LAST trace; :func:`pca_marker_patch` relies on it.
    """
    dark = theme == "dark"
    shown = _sample(customers, max_points)
    fig = go.Figure()
    for s in segments:
        part = shown[shown["Segment"] == s["key"]]
        fig.add_scatter3d(
            x=part["PC1"].round(3).to_numpy(),
            y=part["PC2"].round(3).to_numpy(),
            z=part["PC3"].round(3).to_numpy(),
            mode="markers",
            name=s["name"],
            marker={"size": 2.6, "color": s["colour"], "opacity": 0.55 if dark else 0.4, "line": {"width": 0}},
            customdata=part["ID"].astype(str).to_numpy(),
            hovertemplate=f"Customer %{{customdata}}<br>{s['name']}<extra></extra>",
        )
    m = _marker(point, predicted)
    fig.add_scatter3d(
        x=m["x"],
        y=m["y"],
        z=m["z"],
        mode="markers",
        name="Simulated customer",
        marker={
            "size": 11,
            "symbol": "diamond",
            "color": m["color"],
            "opacity": 1.0,
            "line": {"color": "#FFFFFF" if dark else "#111111", "width": 3},
        },
        hovertemplate=m["hover"],
    )
    ev = list(explained or [])
    titles = [f"PC{j + 1}" + (f" ({ev[j]:.0%})" if j < len(ev) else "") for j in range(3)]
    # WebGL draws 3D grid lines without alpha, so the colours are opaque blends of the background.
    grid = "#3B4148" if dark else "#DDE1E6"
    axis = {
        "showspikes": False,
        "tickfont": {"size": 10},
        "gridcolor": grid,
        "zerolinecolor": "#5C636A" if dark else "#ADB5BD",
        "linecolor": grid,
        "showbackground": False,
    }
    return themed(
        fig,
        theme,
        scene={
            "xaxis": {**axis, "title": {"text": titles[0], "font": {"size": 12}}},
            "yaxis": {**axis, "title": {"text": titles[1], "font": {"size": 12}}},
            "zaxis": {**axis, "title": {"text": titles[2], "font": {"size": 12}}},
            "camera": {"eye": {"x": 1.45, "y": 1.45, "z": 0.85}},
            "aspectmode": "cube",
        },
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": 1.0,
            "x": 0.0,
            "itemsizing": "constant",
            "font": {"size": 12},
        },
        margin={"l": 0, "r": 0, "t": 8, "b": 0},
        uirevision=revision or "sim-pca",
    )


def pca_marker_patch(n_segments: int, point: Sequence[float], predicted: Mapping[str, Any]) -> Patch:
    """Move only the simulated-customer trace (index ``n_segments``) of :func:`pca_figure`."""
    m = _marker(point, predicted)
    p = Patch()
    trace = p["data"][n_segments]
    trace["x"] = m["x"]
    trace["y"] = m["y"]
    trace["z"] = m["z"]
    trace["marker"]["color"] = m["color"]
    trace["hovertemplate"] = m["hover"]
    return p


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
