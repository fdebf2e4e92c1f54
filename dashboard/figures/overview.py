"""Overview page figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from .common import label_margin, themed


def segment_share_figure(segments: Sequence[Mapping[str, Any]], theme: str) -> go.Figure:
    """Share of customers vs share of value, one pair of bars per segment.

    Parameters
    ----------
    segments : sequence of dict
        The manifest's segment map (``name``, ``colour``, ``share``, ``value_share``, ``size``).
    theme : str
        ``"light"`` or ``"dark"``.
    """
    names = [s["name"] for s in segments]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=[s["share"] for s in segments],
        name="Share of customers",
        orientation="h",
        marker={"color": [s["colour"] for s in segments], "opacity": 0.45},
        text=[f"{s['share']:.0%} of customers ({s['size']:,})" for s in segments],
        textposition="outside",
        hovertemplate="%{y}<br>%{x:.1%} of customers<extra></extra>",
    )
    fig.add_bar(
        y=names,
        x=[s.get("value_share") or 0.0 for s in segments],
        name="Share of total spend",
        orientation="h",
        marker={"color": [s["colour"] for s in segments]},
        text=[
            "spend not measured" if s.get("value_share") is None else f"{s['value_share']:.0%} of spend"
            for s in segments
        ],
        textposition="outside",
        hovertemplate="%{y}<br>%{x:.1%} of total spend<extra></extra>",
    )
    top = max([s["share"] for s in segments] + [s.get("value_share") or 0 for s in segments] + [0.1])
    return themed(
        fig,
        theme,
        barmode="group",
        bargap=0.25,
        # Room for the longest outside label ("38% of customers (850)") beside the longest bar.
        xaxis={
            "tickformat": ".0%",
            "range": [0, top * 1.6],
            "tickvals": [v / 10 for v in range(0, 11, 2) if v / 10 <= top * 1.6],
            "title": None,
        },
        yaxis={"autorange": "reversed", "title": None},
        showlegend=False,
        # Room for the segment names and for the x-axis ticks, so plotly.js draws the chart once (label_margin).
        margin={"l": label_margin(names), "r": 20, "t": 10, "b": 40},
    )
