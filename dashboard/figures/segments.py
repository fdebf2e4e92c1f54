"""Segments & strategy figures, and the segment facts shown next to them.

The profile rows and the evidence phrases are also used by the explorer's
drill-down, so both pages describe a segment with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from .. import churn
from .common import empty_figure, themed
from .variables import NUMERIC_PROFILE, fmt_value, unit_note, variable_label, variable_unit


def profile_variables(segment: Mapping[str, Any], features: Sequence[str]) -> list[str]:
    """Variables with a segment average: clustered features, then profile attributes (each once)."""
    centroid = segment.get("centroid") or {}
    profile = segment.get("profile") or {}
    return [f for f in features if f in centroid] + [p for p in NUMERIC_PROFILE if p in profile and p not in features]


def segment_mean(segment: Mapping[str, Any], variable: str) -> float | None:
    """The segment's average of a feature (``centroid``) or profile attribute (``profile``)."""
    for part in ("centroid", "profile"):
        value = (segment.get(part) or {}).get(variable)
        if value is not None:
            return float(value)
    return None


def relative_delta(value: float | None, average: float | None) -> float | None:
    """``value / average − 1``; None when the average is (close to) zero or missing."""
    if value is None or average is None or not math.isfinite(value) or not math.isfinite(average):
        return None
    if abs(average) < 1e-9:
        return None
    return value / average - 1.0


def delta_text(delta: float | None) -> str:
    """``"▲ +158%"`` / ``"▼ −85%"`` / ``"≈ average"``."""
    if delta is None:
        return "–"
    if abs(delta) < 0.05:
        return "≈ average"
    arrow = "▲" if delta > 0 else "▼"
    sign = "+" if delta > 0 else "−"
    pct = abs(delta) * 100
    return f"{arrow} {sign}{pct:,.0f}%"


def profile_rows(
    segment: Mapping[str, Any],
    averages: Mapping[str, float],
    features: Sequence[str],
    feature_defs: Mapping[str, Mapping[str, str]],
) -> list[dict[str, Any]]:
    """The segment's profile against the average customer, in original units.

    Parameters
    ----------
    segment : dict
        One entry of the segment map (``centroid``, ``profile``).
    averages : mapping
        Population average per variable (features from the manifest's
        ``population``, profile attributes from the customers).
    features : sequence of str
        Clustered features, in model order.
    feature_defs : mapping
        Feature definitions (labels and units).

    Returns
    -------
    list of dict
        Per variable: ``variable``, ``label``, ``unit``, ``value``, ``average``,
        ``delta`` (relative, or None), ``value_text``, ``average_text`` (with unit),
        ``value_short``, ``average_short`` (without unit words), ``unit_note``,
        ``delta_text``, ``feature`` (True for clustered features).
    """
    rows = []
    for var in profile_variables(segment, features):
        unit = variable_unit(var, feature_defs)
        value = segment_mean(segment, var)
        avg = averages.get(var)
        delta = relative_delta(value, avg)
        label = variable_label(var, feature_defs, short=True)
        rows.append(
            {
                "variable": var,
                "label": label,
                "unit": unit,
                "value": value,
                "average": avg,
                "delta": delta,
                "value_text": fmt_value(value, unit),
                "average_text": fmt_value(avg, unit),
                "value_short": fmt_value(value, unit, compact=True),
                "average_short": fmt_value(avg, unit, compact=True),
                "unit_note": unit_note(unit, label),
                "delta_text": delta_text(delta),
                "feature": var in features,
            }
        )
    return rows


def evidence_phrases(
    centroid_z: Mapping[str, float], feature_defs: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """Why a segment got its name, in words, strongest signal first.

    Parameters
    ----------
    centroid_z : mapping
        Segment mean of each clustered feature in population standard deviations.
    feature_defs : mapping
        Feature definitions (labels).

    Returns
    -------
    list of dict
        ``feature``, ``z``, ``text`` (``"Customer value much higher than average"``),
        ``sigma`` (``"+1.2σ"``).
    """
    out = []
    for feat, z in sorted(centroid_z.items(), key=lambda kv: -abs(kv[1])):
        a = abs(z)
        if a < 0.2:
            words = "about average"
        else:
            degree = "much " if a >= 1.0 else "" if a >= 0.5 else "slightly "
            words = f"{degree}{'higher' if z > 0 else 'lower'} than average"
        sign = "+" if z >= 0 else "−"
        out.append(
            {
                "feature": feat,
                "z": float(z),
                "text": f"{variable_label(feat, feature_defs, short=True)} {words}",
                "sigma": f"{sign}{a:.1f}σ",
            }
        )
    return out


def priority_order(segments: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Segments in the order to act on: most measured value at risk first (see :func:`dashboard.churn.act_first_order`)."""
    return churn.act_first_order(segments)


def priority_figure(
    segments: Sequence[Mapping[str, Any]],
    theme: str,
    not_measured: str | None = None,
    population: Mapping[str, Any] | None = None,
) -> go.Figure:
    """Priority matrix: share of total spend (x) against the measured share likely inactive (y), bubble = customers.

    Parameters
    ----------
    segments : sequence of dict
        The segment map (``name``, ``colour``, ``size``, ``share``, ``value_share``,
        ``churn.share_likely_inactive``, ``churn.value_at_risk``).
    theme : str
        ``"light"`` or ``"dark"``.
    not_measured : str, optional
        Why inactivity is not measured (then the figure says so instead of
        placing segments on an axis nobody measured).  Without customer spend
        the figure says that too.
    population : mapping, optional
        All customers' figures (:func:`dashboard.churn.population_from_customers`):
        the dotted line is its share likely inactive, over the customers
        measured.  Without it, :func:`dashboard.churn.population_churn` of the segments.

    Returns
    -------
    go.Figure
        One bubble trace per segment (segment colours), labelled, with the
        four action quadrants annotated.  The dotted lines are the fair share
        of spend (1 / number of segments) and the share likely inactive among
        all customers.
    """
    if not segments:
        return empty_figure("No segments in this model.", theme)
    ys_or_none = [churn.share_inactive(s) for s in segments]
    if not_measured is not None or any(y is None for y in ys_or_none):
        return empty_figure(
            "Customer activity is not measured for this data,<br>so segments cannot be placed by it.", theme
        )
    if all(s.get("value_share") is None for s in segments):
        return empty_figure("The data has no customer spend,<br>so segments cannot be placed by value.", theme)
    dark = theme == "dark"
    xs = [float(s.get("value_share") or 0.0) for s in segments]
    ys = [float(y) for y in ys_or_none]  # type: ignore[arg-type]
    sizes = [int(s.get("size") or 0) for s in segments]
    biggest = max([*sizes, 1])
    x_max = max([*xs, 0.1]) * 1.3
    x_mid = 1.0 / len(segments)
    pop = population or churn.population_churn(segments)  # the segments' figures: every member counted measured
    y_mid = float(pop["share_likely_inactive"] or 0.0)
    partial = (pop.get("n_measured") or 0) < (pop.get("n_customers") or 0)
    line_label = f"customers measured: {y_mid:.0%}" if partial else f"all customers: {y_mid:.0%}"
    y_top = min(1.0, max([*ys, 0.1]) * 1.15 + 0.05)
    # room below 0 and above the top for the bubbles and the quadrant labels
    y_range = [-0.2 * y_top, y_top * 1.12]
    fig = go.Figure()
    band = "rgba(213,94,0,0.08)" if not dark else "rgba(213,94,0,0.14)"
    fig.add_shape(
        type="rect", x0=0, x1=x_max, y0=y_mid, y1=y_range[1], fillcolor=band, line={"width": 0}, layer="below"
    )
    guide = {"dash": "dot", "width": 1, "color": "rgba(128,128,128,0.6)"}
    fig.add_shape(type="line", x0=x_mid, x1=x_mid, y0=y_range[0], y1=y_range[1], line=guide, layer="below")
    fig.add_shape(type="line", x0=0, x1=x_max, y0=y_mid, y1=y_mid, line=guide, layer="below")
    muted = "rgba(222,226,230,0.55)" if dark else "rgba(33,37,41,0.45)"
    top, bottom = y_range[1] - 0.01 * y_top, y_range[0] + 0.01 * y_top
    corners = [
        (0.005, top, "left", "top", "Win back at low cost"),
        (x_max * 0.995, top, "right", "top", "Protect now"),
        (0.005, bottom, "left", "bottom", "Automate & serve efficiently"),
        (x_max * 0.995, bottom, "right", "bottom", "Reward & grow"),
    ]
    for x, y, anchor, vanchor, text in corners:
        fig.add_annotation(
            x=x,
            y=y,
            text=text.upper(),
            showarrow=False,
            xanchor=anchor,
            yanchor=vanchor,
            font={"size": 11, "color": muted},
        )
    fig.add_annotation(
        x=x_mid,
        y=bottom,
        text="fair share",
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        xshift=4,
        yshift=16,
        font={"size": 10, "color": muted},
    )
    fig.add_annotation(
        x=x_max * 0.995,
        y=y_mid,
        text=line_label,
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": 10, "color": muted},
    )
    diameters = [22 + 48 * math.sqrt(n / biggest) for n in sizes]
    shifted = [y - y_range[0] for y in ys]
    positions = label_positions(xs, shifted, x_max, y_range[1] - y_range[0], [s["name"] for s in segments], diameters)
    for s, x, y, n, position in zip(segments, xs, ys, sizes, positions, strict=True):
        diameter = 22 + 48 * math.sqrt(n / biggest)
        var = churn.value_at_risk(s)
        fig.add_scatter(
            x=[x],
            y=[y],
            mode="markers+text",
            name=s["name"],
            marker={
                "size": diameter,
                "color": s["colour"],
                "opacity": 0.85,
                "line": {"width": 1.5, "color": "rgba(255,255,255,0.9)" if not dark else "rgba(0,0,0,0.6)"},
            },
            text=[f"<b>{s['name']}</b><br>{n:,} customers"],
            textposition=position,
            textfont={"size": 12},
            cliponaxis=False,
            customdata=[[s.get("share") or 0.0, n, _money(var)]],
            hovertemplate=(
                "<b>%{fullData.name}</b><br>%{x:.0%} of total spend<br>%{customdata[0]:.0%} of customers "
                "(%{customdata[1]:,})<br>%{y:.0%} likely inactive<br>value at risk %{customdata[2]}<extra></extra>"
            ),
        )
    return themed(
        fig,
        theme,
        showlegend=False,
        xaxis={"title": "Share of total spend", "tickformat": ".0%", "range": [0, x_max], "zeroline": False},
        yaxis={
            "title": "Likely inactive (share of customers)",
            "tickformat": ".0%",
            "tickvals": share_ticks(y_top),
            "range": y_range,
            "zeroline": False,
        },
        # b: the axis's ticks and title fit (53 px), so plotly.js does not draw the chart twice to make room.
        margin={"l": 70, "r": 20, "t": 10, "b": 56},
    )


def share_ticks(top: float) -> list[float]:
    """Tick values from 0 % to ``top`` at a round step (no negative shares on the axis)."""
    step = 0.05 if top <= 0.4 else 0.1 if top <= 0.8 else 0.2
    return [round(i * step, 2) for i in range(int(top / step + 1e-9) + 1)]


#: Plot area of the priority matrix in pixels (graph height 400 minus margins), for label placement.
PLOT_PX = (560.0, 320.0)


def label_positions(
    xs: Sequence[float],
    ys: Sequence[float],
    x_span: float,
    y_span: float,
    names: Sequence[str] | None = None,
    diameters: Sequence[float] | None = None,
) -> list[str]:
    """Where each bubble's two-line label goes, so that labels do not cover each other or other bubbles.

    Greedy, biggest bubble first: the first of beside (right in the left 62 %
    of the plot, else left), above, below, the other side whose box (text
    width estimated from the name's length) overlaps no label placed so far
    and no other bubble; the preferred side when none fits.
    """
    n = len(xs)
    names = list(names) if names is not None else ["x" * 12] * n
    diameters = list(diameters) if diameters is not None else [40.0] * n
    w_px, h_px = PLOT_PX
    centres = [(x / x_span * w_px, y / y_span * h_px) for x, y in zip(xs, ys, strict=True)]
    bubbles = [(cx - d / 2, cy - d / 2, cx + d / 2, cy + d / 2) for (cx, cy), d in zip(centres, diameters, strict=True)]

    def box(i: int, position: str) -> tuple[float, float, float, float]:
        (cx, cy), r = centres[i], diameters[i] / 2
        w, h = 7.2 * max(len(names[i]), 13) + 6, 34.0
        if position == "middle right":
            return (cx + r, cy - h / 2, cx + r + w, cy + h / 2)
        if position == "middle left":
            return (cx - r - w, cy - h / 2, cx - r, cy + h / 2)
        if position == "top center":
            return (cx - w / 2, cy + r, cx + w / 2, cy + r + h)
        return (cx - w / 2, cy - r - h, cx + w / 2, cy - r)

    def hits(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    out = [""] * n
    placed: list[tuple[float, float, float, float]] = []
    for i in sorted(range(n), key=lambda k: -diameters[k]):
        beside = "middle right" if xs[i] < x_span * 0.62 else "middle left"
        other = "middle left" if beside == "middle right" else "middle right"
        for position in (beside, "top center", "bottom center", other):
            b = box(i, position)
            if not any(hits(b, p) for p in placed) and not any(hits(b, bubbles[j]) for j in range(n) if j != i):
                break
        else:
            position = beside
        out[i] = position
        placed.append(box(i, position))
    return out


def _money(value: float | None) -> str:
    if value is None:
        return "not measured"
    return f"${value / 1e6:,.1f}M" if abs(value) >= 1e6 else f"${value:,.0f}"
