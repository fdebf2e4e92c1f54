"""Visual theme: Plotly templates matching the Bootstrap light/dark modes.

Segment colours are not defined here: they come from the fitted artifact
(see :mod:`pipeline.segmentation.naming`).
"""

from __future__ import annotations

import functools
import re

import plotly.graph_objects as go
import plotly.io as pio

THEMES = ("light", "dark")
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
NEUTRAL = "#6C757D"


@functools.cache
def template(theme: str) -> go.layout.Template:
    """The Plotly template for ``theme`` (cached; templates are immutable in use)."""
    dark = theme == "dark"
    base = pio.templates["plotly_dark" if dark else "plotly_white"]
    fg = "#DEE2E6" if dark else "#212529"
    grid = "rgba(255,255,255,0.10)" if dark else "rgba(0,0,0,0.08)"
    tpl = go.layout.Template(base)
    tpl.layout.update(
        font={"family": FONT, "size": 13, "color": fg},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 50, "r": 20, "t": 40, "b": 45},
        hoverlabel={"font": {"family": FONT}},
        legend={"bgcolor": "rgba(0,0,0,0)"},
        title={"font": {"size": 15}, "x": 0.0, "xanchor": "left"},
        colorway=["#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#999999"],
    )
    # Tick labels are never measured one by one to hide those past the chart's edge (plotly.js's default,
    # "hide past div", measures every label of every axis on each draw, a forced layout each time: half the
    # layout time of a page switch); the margins already make room for them (automargin).
    axis = {"gridcolor": grid, "zerolinecolor": grid, "linecolor": grid, "ticklabeloverflow": "allow"}
    tpl.layout.xaxis.update(axis)
    tpl.layout.yaxis.update(axis)
    # WebGL (3D) ignores alpha in grid colours: use solid equivalents there.
    solid = "#3A3F44" if dark else "#E3E5E8"
    scene_axis = {
        "gridcolor": solid,
        "zerolinecolor": solid,
        "backgroundcolor": "rgba(0,0,0,0)",
        "showbackground": False,
    }
    tpl.layout.scene.update(xaxis=scene_axis, yaxis=scene_axis, zaxis=scene_axis)
    return tpl


def graph_config(filename: str) -> dict[str, object]:
    """``dcc.Graph`` config: PNG download named ``filename`` at 2× scale, no logo."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", filename).strip("-").lower() or "chart"
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": safe, "scale": 2},
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    }
