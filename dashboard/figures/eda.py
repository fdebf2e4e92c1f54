"""EDA page figures and the small tables they need (the outlier rules and tables: :mod:`.outliers`; the
variables' labels, units and formatting: :mod:`.variables`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..theme import NEUTRAL
from .common import empty_figure, label_margin, themed
from .variables import fmt_value, numeric_values

#: Diverging scale ends (Okabe–Ito vermillion / blue: colour-blind safe); the middle follows the theme.
NEGATIVE, POSITIVE = "#D55E00", "#0072B2"


# --- distributions --------------------------------------------------------------
def distribution_stats(values: pd.Series) -> dict[str, float]:
    """Count, missing, mean, median and quartiles of a numeric column."""
    raw = pd.to_numeric(values, errors="coerce")
    v = numeric_values(values)
    if v.empty:
        return {"n": 0, "missing": int(raw.isna().sum())}
    return {
        "n": len(v),
        "missing": int(len(raw) - len(v)),
        "mean": float(v.mean()),
        "median": float(v.median()),
        "q1": float(v.quantile(0.25)),
        "q3": float(v.quantile(0.75)),
        "min": float(v.min()),
        "max": float(v.max()),
    }


def distribution_caption(values: pd.Series, unit: str) -> str:
    """``"2,240 customers · median $98 · middle half $43–$1,141 · average $660"``."""
    s = distribution_stats(values)
    if not s["n"]:
        return "No values."
    parts = [
        f"{s['n']:,} customers",
        f"median {fmt_value(s['median'], unit)}",
        f"middle half {fmt_value(s['q1'], unit)} – {fmt_value(s['q3'], unit)}",
        f"average {fmt_value(s['mean'], unit)}",
        f"range {fmt_value(s['min'], unit)} – {fmt_value(s['max'], unit)}",
    ]
    if s["missing"]:
        parts.append(f"{s['missing']:,} missing")
    return " · ".join(parts)


def _is_discrete(v: np.ndarray, max_levels: int = 30) -> bool:
    return bool(np.all(np.equal(np.mod(v, 1), 0))) and len(np.unique(v)) <= max_levels


def _bin_edges(v: np.ndarray, log: bool, max_bins: int = 45) -> tuple[np.ndarray, bool]:
    """Bin edges in original units (integer-centred for small counts); ``discrete`` flag."""
    lo, hi = float(v.min()), float(v.max())
    if _is_discrete(v):
        return np.arange(lo - 0.5, hi + 1.5, 1.0), True
    if hi <= lo:
        return np.array([lo - 0.5, hi + 0.5]), False
    if log:
        return np.expm1(np.linspace(np.log1p(lo), np.log1p(hi), max_bins + 1)), False
    edges = np.histogram_bin_edges(v, bins="auto")
    if len(edges) - 1 > max_bins or len(edges) - 1 < 10:
        edges = np.linspace(lo, hi, min(max_bins, max(10, len(edges) - 1)) + 1)
    return edges, False


def _log_ticks(lo: float, hi: float, unit: str) -> tuple[list[float], list[str]]:
    """Tick positions (log(1 + x)) and labels (original units) for a log axis."""
    nice = [0.0] + [m * 10.0**e for e in range(0, 9) for m in (1, 2, 5)]
    vals = [n for n in nice if lo - 1e-9 <= n <= hi * 1.0001]
    if len(vals) > 9:
        vals = [n for n in vals if n == 0 or str(n).lstrip("0.")[0] in "15"]
    return [float(np.log1p(n)) for n in vals], [fmt_value(n, unit if unit in ("$",) else "") for n in vals]


def distribution_figure(
    values: pd.Series,
    label: str,
    theme: str,
    *,
    unit: str = "",
    log: bool = False,
    groups: pd.Series | None = None,
    segments: Sequence[Mapping[str, Any]] = (),
) -> go.Figure:
    """Histogram with a box-plot marginal, optionally one colour per segment.

    Parameters
    ----------
    values : Series
        The variable, one value per customer (non-numeric and missing values ignored).
    label : str
        Axis title (variable name with unit).
    theme : str
        ``"light"`` or ``"dark"``.
    unit : str
        Unit for hover text and log-axis ticks.
    log : bool
        Logarithmic value axis (``log(1 + x)``, so zeros stay visible); ignored
        for variables with negative values.
    groups : Series, optional
        Segment key per customer (aligned with ``values``); splits the
        histogram and the box plot by segment.
    segments : sequence of dict
        The segment map (``key``, ``name``, ``colour``), in display order.

    Returns
    -------
    go.Figure
        Two rows: box plot(s) on top, stacked histogram below.
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    keep = np.isfinite(v.to_numpy())
    if not keep.any():
        return empty_figure(f"No values to show for {label}.", theme)
    arr = v.to_numpy()[keep]
    log = bool(log) and float(arr.min()) >= 0
    edges, discrete = _bin_edges(arr, log)

    def tf(x: np.ndarray) -> np.ndarray:
        return np.log1p(x) if log else x

    t_edges = np.log1p(np.clip(edges, 0, None)) if log else edges  # a bin may start at −0.5
    centres = (t_edges[:-1] + t_edges[1:]) / 2
    widths = np.diff(t_edges)
    lo_hi = np.column_stack([np.maximum(edges[:-1], arr.min()), np.minimum(edges[1:], arr.max())])
    if discrete:
        lo_hi = np.column_stack([edges[:-1] + 0.5, edges[:-1] + 0.5])

    if groups is not None and len(segments):
        g = pd.Series(groups).to_numpy()[keep]
        parts = [(s["name"], s["colour"], arr[g == s["key"]]) for s in segments]
        parts = [p for p in parts if len(p[2])]
    else:
        parts = [("All customers", NEUTRAL, arr)]
    split = len(parts) > 1 or groups is not None

    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.3, 0.7] if split else [0.16, 0.84],
        vertical_spacing=0.03,
    )
    unit_word = "" if unit in ("$", "share") else f" {unit}"
    value_fmt = "$%{customdata[0]:,.0f}" if unit == "$" else "%{customdata[0]:,.4~g}"
    range_fmt = value_fmt + ("–$%{customdata[1]:,.0f}" if unit == "$" else "–%{customdata[1]:,.4~g}")
    hover_x = (value_fmt if discrete else range_fmt) + unit_word
    for name, colour, data in parts:
        counts, _ = np.histogram(data, bins=edges)
        fig.add_trace(
            go.Bar(
                x=centres,
                y=counts,
                width=widths,
                customdata=lo_hi,
                name=name,
                legendgroup=name,
                marker={"color": colour, "line": {"width": 0.5, "color": "rgba(255,255,255,0.35)"}},
                hovertemplate=f"{hover_x}<br>%{{y:,}} customers<extra>{escape_hover(name)}</extra>",
            ),
            row=2,
            col=1,
        )
        fig.add_trace(
            go.Box(
                **box_stats(tf(data)),
                y=[name],
                name=name,
                legendgroup=name,
                showlegend=False,
                orientation="h",
                marker={"color": colour},
                line={"width": 1.5},
                fillcolor=_alpha(colour, 0.35),
                boxpoints=False,
                hoverinfo="skip" if log else None,
            ),
            row=1,
            col=1,
        )
    title = f"{label} · log scale" if log else label
    fig.update_xaxes(title=title, row=2, col=1)
    if log:
        tv, tt = _log_ticks(float(arr.min()), float(arr.max()), unit)
        fig.update_xaxes(tickvals=tv, ticktext=tt, row=2, col=1)
        fig.update_xaxes(tickvals=tv, ticktext=tt, row=1, col=1)
    elif unit == "$":
        fig.update_xaxes(tickprefix="$", tickformat=",.0f", row=2, col=1)
    elif unit == "share":
        fig.update_xaxes(tickformat=".0%", row=2, col=1)
    fig.update_yaxes(title="Customers", row=2, col=1, rangemode="tozero")
    fig.update_yaxes(showticklabels=False, row=1, col=1, autorange="reversed", showgrid=False)
    return themed(
        fig,
        theme,
        barmode="stack",
        bargap=0.0,
        showlegend=split,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "title": None},
        # The counts' ticks and titles fit (70 and 53 px for the sample's spend), so plotly.js draws the chart once.
        margin={"l": 74, "r": 20, "t": 40 if split else 10, "b": 56},
        hovermode="closest",
    )


def box_stats(values: np.ndarray) -> dict[str, list[float]]:
    """A box plot's five numbers, computed here so the browser gets 5 numbers instead of every value.

    Quartiles by linear interpolation (numpy's and pandas' default, the same as
    the "middle half" of :func:`distribution_caption`); the whiskers span the
    minimum and maximum, as Plotly draws them for a box without points.

    Parameters
    ----------
    values : ndarray
        Finite numbers (at least one).

    Returns
    -------
    dict
        ``q1``, ``median``, ``q3``, ``lowerfence``, ``upperfence``: one-element lists, as ``go.Box`` takes them.
    """
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {
        "q1": [float(q1)],
        "median": [float(median)],
        "q3": [float(q3)],
        "lowerfence": [float(np.min(values))],
        "upperfence": [float(np.max(values))],
    }


def _alpha(colour: str, alpha: float) -> str:
    """``#RRGGBB`` → ``rgba(r,g,b,alpha)`` (other colour strings are returned unchanged)."""
    c = colour.lstrip("#")
    if len(c) != 6:
        return colour
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def escape_hover(text: str) -> str:
    """Make text safe inside a Plotly hovertemplate."""
    return text.replace("%", "%%").replace("{", "(").replace("}", ")")


# --- categories ---------------------------------------------------------------------
def category_figure(
    values: pd.Series,
    label: str,
    theme: str,
    *,
    groups: pd.Series | None = None,
    segments: Sequence[Mapping[str, Any]] = (),
) -> go.Figure:
    """Customers per category; by segment, the share of each segment in each category.

    Parameters
    ----------
    values : Series
        Category per customer.
    label : str
        The attribute's display name.
    theme : str
        ``"light"`` or ``"dark"``.
    groups : Series, optional
        Segment key per customer: one bar per segment (share of that segment's
        customers), next to a grey bar for all customers.
    segments : sequence of dict
        The segment map, in display order.
    """
    cats = pd.Series(values).astype("string").fillna("Unknown")
    if cats.empty:
        return empty_figure(f"No values to show for {label}.", theme)
    order = cats.value_counts().index.tolist()
    fig = go.Figure()
    if groups is None or not len(segments):
        counts = cats.value_counts().reindex(order)
        share = counts / counts.sum()
        fig.add_bar(
            y=order,
            x=counts.to_numpy(),
            orientation="h",
            marker={"color": NEUTRAL},
            text=[f"{c:,} ({s:.0%})" for c, s in zip(counts, share, strict=True)],
            textposition="outside",
            cliponaxis=False,
            name="Customers",
            hovertemplate="%{y}: %{x:,} customers<extra></extra>",
        )
        return themed(
            fig,
            theme,
            xaxis={"title": "Customers", "range": [0, float(counts.max()) * 1.3]},
            yaxis={"autorange": "reversed", "title": None},
            showlegend=False,
            # Room for the category names and the x-axis title: plotly.js draws the chart once (label_margin).
            margin={"l": label_margin(order), "r": 20, "t": 10, "b": 56},
        )
    g = pd.Series(groups).to_numpy()
    overall = cats.value_counts(normalize=True).reindex(order, fill_value=0.0)
    fig.add_bar(
        y=order,
        x=overall.to_numpy(),
        orientation="h",
        name="All customers",
        marker={"color": NEUTRAL},
        hovertemplate="All customers<br>%{y}: %{x:.0%}<extra></extra>",
    )
    for s in segments:
        sub = cats[g == s["key"]]
        if sub.empty:
            continue
        share = sub.value_counts(normalize=True).reindex(order, fill_value=0.0)
        fig.add_bar(
            y=order,
            x=share.to_numpy(),
            orientation="h",
            name=s["name"],
            marker={"color": s["colour"]},
            hovertemplate=f"{escape_hover(s['name'])}<br>%{{y}}: %{{x:.0%}} of the segment<extra></extra>",
        )
    return themed(
        fig,
        theme,
        barmode="group",
        bargap=0.2,
        bargroupgap=0.05,
        xaxis={"title": "Share of the segment's customers", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "title": None},
        legend={
            "orientation": "h",
            "x": 0.01,
            "xref": "container",
            "yref": "container",
            "y": 0.99,
            "yanchor": "top",
            "title": None,
            "font": {"size": 11},
        },
        margin={"l": label_margin(order), "r": 20, "t": 105, "b": 56},
    )


# --- correlation and PCA --------------------------------------------------------------
def diverging_scale(theme: str) -> list[list[Any]]:
    """Vermillion (−1) → neutral (0) → blue (+1); the neutral is the page background's tone."""
    mid = "#343A40" if theme == "dark" else "#F5F6F7"
    return [[0.0, NEGATIVE], [0.5, mid], [1.0, POSITIVE]]


def correlation_figure(
    frame: pd.DataFrame, variables: Sequence[str], labels: Mapping[str, str], theme: str
) -> go.Figure:
    """Rank (Spearman) correlation between the numeric variables, lower triangle.

    Parameters
    ----------
    frame : DataFrame
        Customers.
    variables : sequence of str
        Numeric columns (constant columns are left out).
    labels : mapping
        Column → display name.
    theme : str
        ``"light"`` or ``"dark"``.
    """
    cols = [v for v in variables if v in frame and pd.to_numeric(frame[v], errors="coerce").nunique() > 1]
    if len(cols) < 2:
        return empty_figure("At least two varying numeric columns are needed for correlations.", theme)
    corr = frame[cols].apply(pd.to_numeric, errors="coerce").corr(method="spearman").to_numpy()
    n = len(cols)
    mask = np.triu(np.ones((n, n), dtype=bool), k=1)
    z = np.where(mask, np.nan, np.round(corr, 2))
    names = [labels.get(c, c) for c in cols]
    text = np.where(mask, "", np.vectorize(lambda x: f"{x:.2f}")(np.nan_to_num(z)))
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            colorscale=diverging_scale(theme),
            zmin=-1,
            zmax=1,
            xgap=2,
            ygap=2,
            hoverongaps=False,
            colorbar={"title": {"text": "ρ", "side": "top"}, "thickness": 12, "len": 0.8, "tickvals": [-1, 0, 1]},
            hovertemplate="%{y} × %{x}<br>correlation %{z:.2f}<extra></extra>",
        )
    )
    return themed(
        fig,
        theme,
        xaxis={"tickangle": -35, "showgrid": False, "automargin": True},
        yaxis={"autorange": "reversed", "showgrid": False, "automargin": True},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )


def pca_variance_figure(ratios: Sequence[float], theme: str) -> go.Figure:
    """Explained variance per principal component (bars) and cumulative (line).

    Parameters
    ----------
    ratios : sequence of float
        The manifest's ``pca.explained_variance_ratio``.
    theme : str
        ``"light"`` or ``"dark"``.
    """
    if not ratios:
        return empty_figure("This model has no PCA projection.", theme)
    names = [f"PC{i + 1}" for i in range(len(ratios))]
    cum = np.cumsum(ratios)
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=list(ratios),
        name="Explained by this component",
        marker={"color": NEUTRAL},
        text=[f"{r:.0%}" for r in ratios],
        textposition="inside",
        insidetextanchor="middle",
        hovertemplate="%{x}: %{y:.1%} of the variation<extra></extra>",
    )
    fig.add_scatter(
        x=names,
        y=cum,
        name="Cumulative",
        mode="lines+markers+text",
        line={"color": "#0072B2", "width": 2.5},
        marker={"size": 8},
        text=[f"{c:.0%}" for c in cum],
        textposition="top center",
        cliponaxis=False,
        hovertemplate="Up to %{x}: %{y:.1%}<extra></extra>",
    )
    return themed(
        fig,
        theme,
        yaxis={"tickformat": ".0%", "range": [0, 1.12], "title": "Share of variation"},
        xaxis={"title": None},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
    )


def loadings_figure(
    loadings: Mapping[str, Mapping[str, float]],
    ratios: Sequence[float],
    labels: Mapping[str, str],
    theme: str,
) -> go.Figure:
    """How much each feature drives each principal component (heatmap).

    Parameters
    ----------
    loadings : mapping
        The manifest's ``pca.loadings`` (component → feature → weight).
    ratios : sequence of float
        Explained variance ratio per component (for the row labels).
    labels : mapping
        Feature → display name.
    theme : str
        ``"light"`` or ``"dark"``.
    """
    comps = list(loadings)
    if not comps:
        return empty_figure("This model has no PCA projection.", theme)
    feats = list(loadings[comps[0]])
    z = np.array([[loadings[c][f] for f in feats] for c in comps])
    rows = [f"{c} ({ratios[i]:.0%})" if i < len(ratios) else c for i, c in enumerate(comps)]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 2),
            x=[labels.get(f, f) for f in feats],
            y=rows,
            texttemplate="%{z:+.2f}",
            textfont={"size": 13},
            colorscale=diverging_scale(theme),
            zmin=-1,
            zmax=1,
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": "weight", "side": "top"}, "thickness": 12, "len": 0.9, "tickvals": [-1, 0, 1]},
            hovertemplate="%{y}<br>%{x}: weight %{z:+.2f}<extra></extra>",
        )
    )
    return themed(
        fig,
        theme,
        yaxis={"autorange": "reversed", "showgrid": False},
        xaxis={"showgrid": False, "side": "bottom"},
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
