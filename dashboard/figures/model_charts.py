"""Model comparison charts: pure functions of a comparison result returning Plotly figures.

Model colours come from :mod:`pipeline.segmentation.registry`; segment
colours never do: the silhouette "knife" takes them from the artifact when it
shows the model in use (:func:`knife_segments`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipeline.segmentation import registry

from ..theme import NEUTRAL
from .common import empty_figure, label_margin, themed
from .model_text import (
    GROUP_COLOURS,
    KNIFE_SHARE_TOLERANCE,
    METRICS,
    SCALING_SHORT,
    fmt,
    model_colour,
    model_label,
    wrap_label,
)


# --------------------------------------------------------------------------- metric chart
def _is_recommended(m: Mapping[str, Any], rec: Mapping[str, Any]) -> bool:
    k = m["k"] if m.get("k") is not None else m.get("n_segments")
    return m.get("name") == rec.get("model") and k == rec.get("k")


def metric_figure(result: Mapping[str, Any], metric: str, theme: str = "light") -> go.Figure:
    """Horizontal bars of one metric across models, best at the top; the recommended model starred.

    Stability bars carry ± one standard deviation of the bootstrap ARIs.
    """
    info = METRICS.get(metric)
    models = list(result.get("models") or [])
    if info is None or not models:
        return empty_figure("Choose a metric.", theme)
    rec = result.get("recommendation") or {}
    scored = [m for m in models if m.get(metric) is not None]
    missing = [m for m in models if m.get(metric) is None]
    scored.sort(key=lambda m: m[metric], reverse=info.better == "lower")  # best ends up at the top
    ordered = missing + scored
    labels = [(m["label"] + " ★") if _is_recommended(m, rec) else m["label"] for m in ordered]
    values = [m.get(metric) for m in ordered]
    text = [fmt(v, info.fmt) for v in values]
    fig = go.Figure(
        go.Bar(
            x=[v if v is not None else 0 for v in values],
            y=labels,
            orientation="h",
            marker={"color": [model_colour(m["name"]) for m in ordered]},
            text=text,
            textposition="inside" if metric == "stability_mean" else "outside",
            insidetextanchor="start",
            insidetextfont={"color": "#FFFFFF"},
            cliponaxis=False,
            error_x=(
                {
                    "type": "data",
                    "array": [m.get("stability_std") or 0 for m in ordered],
                    "color": NEUTRAL,
                    "thickness": 1.2,
                    "width": 4,
                }
                if metric == "stability_mean"
                else None
            ),
            customdata=[[m["n_segments"], m["live_prediction"]] for m in ordered],
            hovertemplate=f"<b>%{{y}}</b><br>{info.label}: %{{text}}<br>segments: %{{customdata[0]}}"
            "<br>scores new customers: %{customdata[1]}<extra></extra>",
        )
    )
    finite = [v for v in values if v is not None]
    lo = min([0.0, *finite])
    hi = max([0.0, *finite]) or 1.0
    pad = (hi - lo) * 0.2
    arrow = "→" if info.better == "higher" else "←"
    fig.update_xaxes(
        title_text=f"{info.label}: {info.direction} {arrow}",
        range=[lo - (pad if lo < 0 else 0), hi + pad],
        tickformat=".0%" if info.fmt.endswith("%") else None,
        zeroline=True,
    )
    fig.update_yaxes(automargin=True)
    # Room for the models' names and the axis title, so plotly.js draws the chart once (label_margin).
    return themed(
        fig, theme, margin={"l": label_margin(labels), "r": 30, "t": 10, "b": 56}, showlegend=False, bargap=0.3
    )


# --------------------------------------------------------------------------- k sweep
def sweep_figure(result: Mapping[str, Any], chosen_k: int | None, theme: str = "light") -> go.Figure:
    """Inertia against k (KMeans, elbow marked) and silhouette against k per model (chosen k marked).

    Marks are named for tests and readers: shapes ``chosen-k``, annotations
    ``elbow`` and ``chosen-k``, traces ``elbow`` and (when it is a swept
    model) ``recommended``.
    """
    rows = list(result.get("k_sweep") or [])
    if not rows:
        return empty_figure("No k sweep in this comparison.", theme)
    dark = theme == "dark"
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=("Inertia (KMeans): look for the bend", "Silhouette by k: higher is better"),
    )
    km = sorted((r for r in rows if r["model"] == "kmeans" and r["inertia"] is not None), key=lambda r: r["k"])
    fig.add_trace(
        go.Scatter(
            x=[r["k"] for r in km],
            y=[r["inertia"] for r in km],
            mode="lines+markers",
            name="KMeans inertia",
            line={"color": model_colour("kmeans"), "width": 2.5},
            marker={"size": 7},
            showlegend=False,
            hovertemplate="k = %{x}<br>inertia %{y:,.0f}<extra>KMeans</extra>",
        ),
        row=1,
        col=1,
    )
    elbow = result.get("elbow_k")
    elbow_row = next((r for r in km if r["k"] == elbow), None)
    if elbow_row is not None:
        fig.add_trace(
            go.Scatter(
                x=[elbow],
                y=[elbow_row["inertia"]],
                mode="markers",
                name="elbow",
                marker={"size": 16, "symbol": "circle-open", "color": "#D55E00", "line": {"width": 3}},
                showlegend=False,
                hovertemplate="elbow: k = %{x}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_annotation(
            name="elbow",
            x=elbow,
            y=elbow_row["inertia"],
            xref="x",
            yref="y",
            text=f"elbow: k = {elbow}",
            showarrow=True,
            arrowhead=0,
            ax=45,
            ay=-35,
            font={"color": "#F0A35E" if dark else "#B34700"},
        )
    for name in registry.sweep_models():
        pts = sorted((r for r in rows if r["model"] == name and r["silhouette"] is not None), key=lambda r: r["k"])
        if not pts:
            continue
        fig.add_trace(
            go.Scatter(
                x=[r["k"] for r in pts],
                y=[r["silhouette"] for r in pts],
                mode="lines+markers",
                name=model_label(name),
                line={"color": model_colour(name), "width": 3 if name == "kmeans" else 1.8},
                marker={"size": 6},
                hovertemplate="k = %{x}<br>silhouette %{y:.3f}<extra>" + model_label(name) + "</extra>",
            ),
            row=1,
            col=2,
        )
    rec = result.get("recommendation") or {}
    rec_row = next((r for r in rows if r["model"] == rec.get("model") and r["k"] == rec.get("k")), None)
    if rec_row is not None and rec_row["silhouette"] is not None:
        fig.add_trace(
            go.Scatter(
                x=[rec_row["k"]],
                y=[rec_row["silhouette"]],
                mode="markers",
                name="recommended",
                marker={"size": 17, "symbol": "star", "color": "#E69F00", "line": {"width": 1, "color": "#5A3E00"}},
                hovertemplate="recommended: k = %{x}<extra>" + model_label(rec["model"]) + "</extra>",
            ),
            row=1,
            col=2,
        )
    if chosen_k is not None:
        line = {"color": "#ADB5BD" if dark else "#6C757D", "dash": "dash", "width": 1.5}
        for axis, yaxis in (("x", "y"), ("x2", "y2")):
            fig.add_shape(
                name="chosen-k",
                type="line",
                xref=axis,
                yref=f"{yaxis} domain",
                x0=chosen_k,
                x1=chosen_k,
                y0=0,
                y1=1,
                line=line,
            )
        fig.add_annotation(
            name="chosen-k",
            x=chosen_k,
            y=1,
            xref="x",
            yref="y domain",
            text=f"k in use = {chosen_k}",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            xshift=4,
            font={"size": 12},
        )
    fig.update_xaxes(title_text="k (number of segments)", dtick=1)
    fig.update_yaxes(title_text="inertia", row=1, col=1, tickformat="~s")
    fig.update_yaxes(title_text="silhouette", row=1, col=2)
    return themed(
        fig,
        theme,
        margin={"l": 55, "r": 15, "t": 35, "b": 95},
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0.0,
            "yanchor": "bottom",
            "x": 0.5,
            "xanchor": "center",
            "font": {"size": 12},
        },
        hovermode="closest",
    )


# --------------------------------------------------------------------------- silhouette knife
def knife_segments(knife: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[int, tuple[str, str]] | None:
    """Label → (segment name, colour) when the knife shows the artifact's own segments, else None.

    That is the case when the knife's model, k and scaling are the artifact's,
    the comparison ran on all of its customers, and the share of every label
    in the knife matches the artifact's segment share (within
    :data:`KNIFE_SHARE_TOLERANCE`): the same fit, so the same labels.
    """
    model = manifest.get("model") or {}
    labels = list(knife.get("labels") or [])
    if not labels or knife.get("model") != model.get("name") or knife.get("k") != model.get("k"):
        return None
    if knife.get("scaling") != model.get("scaling"):
        return None
    if knife.get("rows") != (manifest.get("data") or {}).get("n_customers"):
        return None
    by_label = {int(s["label"]): s for s in manifest.get("segments") or []}
    present = sorted(set(labels))
    if set(present) != set(by_label):
        return None
    n = len(labels)
    for lab in present:
        if abs(labels.count(lab) / n - float(by_label[lab].get("share") or 0.0)) > KNIFE_SHARE_TOLERANCE:
            return None
    display = sorted(present, key=lambda lab: -float(by_label[lab].get("value_share") or 0.0))
    return {lab: (str(by_label[lab]["name"]), str(by_label[lab]["colour"])) for lab in display}


def knife_figure(
    knife: Mapping[str, Any], segments: Mapping[int, tuple[str, str]] | None = None, theme: str = "light"
) -> go.Figure:
    """Per-customer silhouettes, sorted within each segment, with the average as a dashed line.

    Parameters
    ----------
    knife : mapping
        ``result["silhouette_samples"]``: ``values`` and ``labels`` sorted by
        label then value, ``mean``, ``segment_means``.
    segments : mapping, optional
        Label → (name, colour) from :func:`knife_segments`; otherwise groups
        are numbered "Group 1..k" (largest first) in neutral colours.
    theme : str
        ``"light"`` or ``"dark"``.
    """
    values = list(knife.get("values") or [])
    labels = list(knife.get("labels") or [])
    if not values:
        return empty_figure("No silhouette values: the recommended model found fewer than two segments.", theme)
    order: list[int] = []
    for lab in labels:
        if lab not in order:
            order.append(lab)
    if segments is not None:  # the artifact's display order
        order = [lab for lab in segments if lab in order] + [lab for lab in order if lab not in segments]
    if segments is None:  # numbered by size, largest first, and drawn in that order
        order = sorted(order, key=lambda lab: -labels.count(lab))
        names = {lab: (f"Group {i + 1}", GROUP_COLOURS[i % len(GROUP_COLOURS)]) for i, lab in enumerate(order)}
    else:
        names = dict(segments)
    gap = max(8, len(values) // 40)
    fig = go.Figure()
    y0 = 0
    ticks, tick_text = [], []
    means = knife.get("segment_means") or {}
    for lab in order:
        vals = [v for v, lb in zip(values, labels, strict=True) if lb == lab]
        name, colour = names.get(lab, (f"Group {lab}", NEUTRAL))
        seg_mean = means.get(str(lab))
        fig.add_trace(
            go.Scatter(
                x=vals,
                y=list(range(y0, y0 + len(vals))),
                mode="lines",
                fill="tozerox",
                line={"color": colour, "width": 0.8},
                fillcolor=colour,
                name=name,
                hovertemplate=f"<b>{name}</b><br>silhouette %{{x:.2f}}"
                + (f"<br>segment average {seg_mean:.2f}" if seg_mean is not None else "")
                + "<extra></extra>",
            )
        )
        ticks.append(y0 + len(vals) / 2)
        tick_text.append(wrap_label(name))
        y0 += len(vals) + gap
    mean = knife.get("mean")
    if mean is not None:
        fig.add_vline(x=mean, line={"color": "#DEE2E6" if theme == "dark" else "#212529", "dash": "dash", "width": 1.5})
        fig.add_annotation(
            name="average",
            x=mean,
            y=1,
            xref="x",
            yref="paper",
            text=f"average {mean:.2f}",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            xshift=4,
        )
    lo = min(-0.1, min(values) - 0.05)
    fig.update_xaxes(title_text="silhouette (higher = clearly in its segment)", range=[lo, 1.0])
    fig.update_yaxes(
        tickvals=ticks, ticktext=tick_text, autorange="reversed", showgrid=False, zeroline=False, automargin=True
    )
    return themed(fig, theme, showlegend=False, margin={"l": 10, "r": 15, "t": 25, "b": 50}, hovermode="closest")


# --------------------------------------------------------------------------- DBSCAN k-distance
def kdistance_figure(kdistance: Mapping[str, Any], theme: str = "light") -> go.Figure:
    """Sorted distance to the ``min_samples``-th neighbour; the knee and DBSCAN's ``eps`` marked."""
    distances = list(kdistance.get("distances") or [])
    ranks = list(kdistance.get("ranks") or [])
    if not distances:
        return empty_figure("No k-distance curve in this comparison.", theme)
    n = int(kdistance.get("min_samples") or 0)
    eps = kdistance.get("eps")
    knee = kdistance.get("knee_index")
    fig = go.Figure(
        go.Scatter(
            x=ranks,
            y=distances,
            mode="lines",
            line={"color": model_colour("dbscan"), "width": 2.5},
            name="k-distance",
            hovertemplate="customer %{x:,}<br>distance %{y:.2f}<extra></extra>",
        )
    )
    if eps is not None:
        fig.add_hline(y=eps, line={"color": "#ADB5BD" if theme == "dark" else "#6C757D", "dash": "dash", "width": 1.5})
    if knee is not None and 0 <= knee < len(distances):
        fig.add_trace(
            go.Scatter(
                x=[ranks[knee]],
                y=[distances[knee]],
                mode="markers",
                name="knee",
                marker={"size": 15, "symbol": "circle-open", "color": "#0072B2", "line": {"width": 3}},
                hovertemplate="knee: customer %{x:,}<br>eps %{y:.2f}<extra></extra>",
            )
        )
        fig.add_annotation(
            name="knee",
            x=ranks[knee],
            y=distances[knee],
            text=f"knee → eps = {fmt(eps, '.2f')}",
            showarrow=True,
            arrowhead=0,
            ax=-80,
            ay=-40,
            font={"color": "#56B4E9" if theme == "dark" else "#005A8C"},
        )
    fig.update_xaxes(title_text="customers, sorted by that distance", tickformat=",")
    fig.update_yaxes(title_text=f"distance to {_ordinal(n)} nearest neighbour" if n else "distance", rangemode="tozero")
    return themed(fig, theme, showlegend=False, margin={"l": 60, "r": 15, "t": 15, "b": 50})


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``8th``, ``11th``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --------------------------------------------------------------------------- scaling variants
#: Bars of the scaling chart: field, label, colour.
SCALING_BARS: tuple[tuple[str, str, str], ...] = (
    ("stability_mean", "Stability", "#0072B2"),
    ("agreement_with_compared", "Agreement with the scaling in use", "#E69F00"),
    ("silhouette", "Silhouette (own space)", "#009E73"),
)


def scaling_figure(variants: Sequence[Mapping[str, Any]], theme: str = "light") -> go.Figure:
    """KMeans under each scaling: stability, agreement with the compared scaling and silhouette."""
    if not variants:
        return empty_figure("No scaling variants in this comparison.", theme)
    x = [
        SCALING_SHORT.get(v["scaling"], v["scaling"]) + (" (in use)" if v.get("is_compared") else "") for v in variants
    ]
    fig = go.Figure()
    for field, label, colour in SCALING_BARS:
        vals = [v.get(field) for v in variants]
        fig.add_trace(
            go.Bar(
                x=x,
                y=[val if val is not None else 0 for val in vals],
                name=label,
                marker={"color": colour},
                text=[fmt(val, ".2f") for val in vals],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{x}}<br>{label}: %{{text}}<extra></extra>",
            )
        )
    fig.update_yaxes(range=[0, 1.15], title_text="higher is better", dtick=0.25)
    return themed(
        fig,
        theme,
        barmode="group",
        bargap=0.25,
        margin={"l": 55, "r": 10, "t": 10, "b": 40},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 12}},
    )


def holdout_figure(rows: Sequence[Mapping[str, Any]], theme: str = "light") -> go.Figure:
    """How well churn is predicted: actual (bars) against predicted (line) purchases after the cut-off.

    Parameters
    ----------
    rows : sequence of dict
        From :func:`dashboard.churn.holdout_rows`: per number of repeat
        purchases before the cut-off, ``label``, ``n_customers``,
        ``predicted`` and ``actual`` (mean purchase days per customer after it).
    theme : str
        ``"light"`` or ``"dark"``.
    """
    if not rows:
        return empty_figure("No holdout period to compare with.", theme)
    labels = [str(r["label"]) for r in rows]
    counts = [int(r.get("n_customers") or 0) for r in rows]
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=[float(r["actual"]) for r in rows],
        name="Actual",
        marker={"color": "#56B4E9"},
        customdata=counts,
        hovertemplate="%{x} repeat purchases before (%{customdata:,} customers)<br>actual %{y:.2f} per customer"
        "<extra></extra>",
    )
    fig.add_scatter(
        x=labels,
        y=[float(r["predicted"]) for r in rows],
        name="Predicted (BG/NBD)",
        mode="lines+markers",
        line={"color": "#D55E00", "width": 2.5},
        marker={"size": 8},
        customdata=counts,
        hovertemplate="%{x} repeat purchases before (%{customdata:,} customers)<br>predicted %{y:.2f} per customer"
        "<extra></extra>",
    )
    return themed(
        fig,
        theme,
        xaxis={"title": "Repeat purchases before the cut-off", "type": "category"},
        yaxis={"title": "Purchase days after, per customer", "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
        bargap=0.3,
        margin={"l": 60, "r": 10, "t": 30, "b": 50},
    )
