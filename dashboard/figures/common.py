"""Helpers shared by the figure builders."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
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


#: A generous average width of one character of the charts' font, in em (DejaVu Sans, the widest font of the
#: stack, averages 0.58 em over mixed-case text; the fonts of macOS and Windows are narrower).
CHAR_EM = 0.62


def label_margin(labels: Iterable[object], font_size: int = 13, pad: int = 14) -> int:
    """A margin, in pixels, wide enough for horizontal tick labels ``labels`` beside an axis.

    plotly.js's ``automargin`` widens a margin too narrow for an axis's labels
    by drawing the whole chart a second time (about 20 ms of main thread per
    chart on a page's first render); a margin that already fits is left as it
    is.  The estimate errs on the wide side; a label wider still (capitals, a
    wide font) is still made room for, by that second draw.
    """
    longest = max((len(str(label)) for label in labels), default=0)
    return math.ceil(longest * font_size * CHAR_EM) + pad


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
