"""Helpers shared by the figure builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from ..theme import template


def themed(fig: go.Figure, theme: str, **layout: Any) -> go.Figure:
    """Apply the theme's template and layout options; returns ``fig``."""
    fig.update_layout(template=template(theme), **layout)
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
