"""Helpers shared by the figure builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from ..theme import template


def themed(fig: go.Figure, theme: str, **layout: Any) -> go.Figure:
    """Apply the theme's template and layout options; returns ``fig``.

    The template is set the way Plotly sets its own default template: without
    validating it again (it is a validated, cached :class:`go.layout.Template`;
    the figure gets its own copy), after the layout options.  Validating it on
    every figure, and updating a layout that already holds it, cost about 50 ms
    per chart, most of a callback's time; the figure's JSON is identical
    (``tests/test_theme_speed.py``).
    """
    if layout:
        # Before the template: with one in place, every layout update copies it.
        fig.update_layout(**layout)
    obj = fig.layout
    obj._validate = False
    try:
        obj.template = template(theme)
    finally:
        obj._validate = fig._validate
    return fig


def empty_figure(message: str, theme: str = "light") -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14}, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return themed(fig, theme)


def colour_map(segments: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Segment key → colour, from the artifact's segment map."""
    return {s["key"]: s["colour"] for s in segments}


def name_map(segments: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Segment key → display name."""
    return {s["key"]: s["name"] for s in segments}
