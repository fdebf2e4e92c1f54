"""Model comparison figures and facts: pure functions of a comparison result.

Every function here takes the JSON-safe dict of
:func:`pipeline.segmentation.compare.run_comparison` (or a part of it) and returns a
Plotly figure, table rows or plain-language text; none reads files, the
request or the session.  The page (:mod:`dashboard.pages.models`) composes them.

Model labels and colours (one per clustering model, colour-blind safe) come
from :mod:`pipeline.segmentation.registry`;
segment colours are never: the silhouette "knife" takes them from the
artifact when it shows the model in use (:func:`knife_segments`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipeline.segmentation import registry
from pipeline.segmentation.compare import SILHOUETTE_TOLERANCE, STABILITY_TOLERANCE

from ..theme import NEUTRAL
from .common import empty_figure, themed

#: Colours of the groups of a model that is not the one in use (no segment names exist for it).
GROUP_COLOURS: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#999999",
    "#004D80",
    "#8C5A00",
    "#00664A",
    "#7A3F66",
)
#: Short scaling names for axes.
SCALING_SHORT: dict[str, str] = {"standard": "Standard", "log1p": "log1p", "yeo-johnson": "Yeo–Johnson"}
#: Largest share difference (per segment) for the knife's groups to count as the artifact's segments.
KNIFE_SHARE_TOLERANCE = 0.02


class Metric(NamedTuple):
    """How one comparison metric is shown.

    Attributes
    ----------
    key : str
        Field of a ``models`` entry.
    label : str
        Display name.
    better : str
        ``"higher"`` or ``"lower"``.
    explanation : str
        One plain sentence.
    fmt : str
        d3/Python format of a value (``".3f"``, ``".1%"``...).
    """

    key: str
    label: str
    better: str
    explanation: str
    fmt: str

    @property
    def direction(self) -> str:
        """``"higher is better"`` / ``"lower is better"``."""
        return f"{self.better} is better"


#: The metrics of the comparison, in the order the selector offers them.
METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "stability_mean",
            "Stability (ARI)",
            "higher",
            "How often customers land in the same segments when the model is refitted on resampled customers "
            "(adjusted Rand index, 1 = always the same).",
            ".2f",
        ),
        Metric(
            "silhouette",
            "Silhouette",
            "higher",
            "How much closer each customer is to its own segment than to the next one (−1 to 1).",
            ".3f",
        ),
        Metric(
            "davies_bouldin",
            "Davies–Bouldin",
            "lower",
            "How much segments overlap relative to how far apart they are (0 = no overlap).",
            ".2f",
        ),
        Metric(
            "calinski_harabasz",
            "Calinski–Harabasz",
            "higher",
            "Spread between segment centres relative to the spread inside segments.",
            ",.0f",
        ),
        Metric(
            "noise_share",
            "Noise share",
            "lower",
            "Share of customers a density model leaves without any segment.",
            ".1%",
        ),
        Metric(
            "min_segment_share",
            "Smallest segment",
            "higher",
            "Share of customers in the smallest segment: tiny segments are hard to act on.",
            ".1%",
        ),
        Metric(
            "fit_seconds",
            "Fit time (s)",
            "lower",
            "Seconds to fit the model once on these customers.",
            ".2f",
        ),
    )
}


# --------------------------------------------------------------------------- formatting
def fmt(value: float | None, spec: str) -> str:
    """Python-format ``value``; ``"n/a"`` for None or non-finite values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, spec)


def model_label(name: str) -> str:
    """Display name of a model (``"gmm"`` → ``"Gaussian mixture"``)."""
    return registry.label(name)


def model_colour(name: str) -> str:
    """Chart colour of a model, from its registry entry (neutral grey when unknown)."""
    return registry.colours().get(name, NEUTRAL)


def choice_label(model: str, k: int | None, scaling: str | None = None) -> str:
    """``"KMeans, k = 4 (standard scaling)"``; density models have no k."""
    text = model_label(model)
    if k is not None and registry.takes_k(model):
        text += f", k = {k}"
    if scaling:
        text += f" ({SCALING_SHORT.get(scaling, scaling)} scaling)"
    return text


def _wrap(text: str, width: int = 16) -> str:
    """Break a label into lines of about ``width`` characters with ``<br>``."""
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)


# --------------------------------------------------------------------------- recommendation
def recommended_entry(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """The metrics row of the recommended model and k (a ``models`` entry or a k-sweep row)."""
    rec = result.get("recommendation") or {}
    if rec.get("model") is None:
        return None
    for row in candidate_rows(result):
        if row["model"] == rec["model"] and row["k"] == rec["k"]:
            return row
    return None


def candidate_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows the recommendation rule considered, with their metrics and eligibility.

    Every model at the compared k (density models at the number of segments
    they found), then KMeans at each other k of the sweep; ``why_not`` is the
    rule's list of failed conditions (empty: eligible).
    """
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for m in result.get("models") or []:
        k = m["k"] if m["k"] is not None else m["n_segments"]
        rows.append({**m, "model": m["name"], "k": k, "from_table": True})
        seen.add((m["name"], k))
    for r in result.get("k_sweep") or []:
        if r["model"] == "kmeans" and ("kmeans", r["k"]) not in seen:
            rows.append({**r, "from_table": False})
    considered = {(c["model"], c["k"]): c for c in (result.get("recommendation") or {}).get("considered") or []}
    for row in rows:
        c = considered.get((row["model"], row["k"]))
        row["considered"] = c is not None
        row["why_not"] = list(c["why_not"]) if c else ["not scored"]
    return rows


def stability_words(ari: float | None) -> str:
    """What a stability (ARI) value means for a business reader."""
    if ari is None:
        return "its stability could not be measured"
    if ari >= 0.9:
        return "refitting it on resampled customers gives almost exactly the same segments"
    if ari >= 0.75:
        return "refitting it on resampled customers gives largely the same segments"
    return "refitting it on resampled customers moves many customers to other segments, so treat it with care"


def plain_recommendation(result: Mapping[str, Any]) -> str:
    """The recommendation in business language (the statistics are in ``recommendation["reason"]``)."""
    rec = result.get("recommendation") or {}
    row = recommended_entry(result)
    if rec.get("model") is None or row is None:
        return "None of the models found at least two segments in this data, so there is nothing to recommend."
    n_models = len(result.get("models") or [])
    best_sil = max(
        (r["silhouette"] for r in candidate_rows(result) if r["silhouette"] is not None and not r["why_not"]),
        default=row["silhouette"],
    )
    parts = [stability_words(row.get("stability_mean"))]
    if row.get("silhouette") is not None and best_sil is not None:
        if row["silhouette"] >= best_sil:
            parts.append("its segments are the most clearly separated")
        elif row["silhouette"] >= best_sil - SILHOUETTE_TOLERANCE:
            parts.append("its segments are about as clearly separated as the best alternative")
        else:
            parts.append("its segments are less clearly separated than some alternatives")
    noise = row.get("noise_share") or 0.0
    parts.append("every customer gets a segment" if noise == 0 else f"{noise:.0%} of customers get no segment")
    smallest = row.get("min_segment_share")
    if smallest is not None:
        parts.append(f"even the smallest segment holds {smallest:.0%} of customers")
    lead = (
        f"Of the {n_models} ways of segmenting we tried, this is the most dependable: "
        if rec.get("eligible")
        else "No way of segmenting met every condition; this one comes closest: "
    )
    return lead + _join(parts) + "."


def _join(parts: Sequence[str]) -> str:
    """``"a, b and c"``."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def why_not_others(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(who, why)`` for every candidate that was not recommended, most relevant first.

    Models of the comparison table get one line each with their numbers;
    KMeans at the other k of the sweep are grouped by reason.
    """
    rec = result.get("recommendation") or {}
    rows = candidate_rows(result)
    pick = recommended_entry(result)
    if pick is None:
        return [(model_label(r["model"]), "; ".join(r["why_not"]) or "fewer than two segments") for r in rows[:6]]
    eligible = [r for r in rows if not r["why_not"] and r["silhouette"] is not None]
    best_sil = max((r["silhouette"] for r in eligible), default=pick["silhouette"])
    elbow = (rec.get("rule") or {}).get("elbow_k")
    out: list[tuple[str, str]] = []
    grouped: dict[str, list[int]] = {}
    for r in rows:
        if r["model"] == pick["model"] and r["k"] == pick["k"]:
            continue
        long, short = _why_not_one(r, pick, best_sil, elbow)
        if r["from_table"]:
            out.append(
                (choice_label(r["model"], r["k"]) if registry.takes_k(r["model"]) else model_label(r["model"]), long)
            )
        else:
            grouped.setdefault(short, []).append(int(r["k"]))
    for short, ks in grouped.items():
        out.append((f"KMeans, k = {', '.join(str(k) for k in sorted(ks))}", short))
    return out


def _why_not_one(
    r: Mapping[str, Any], pick: Mapping[str, Any], best_sil: float | None, elbow: int | None
) -> tuple[str, str]:
    """(sentence with numbers, short reason for grouping) why ``r`` lost to ``pick``."""
    if r["why_not"]:
        text = "; ".join(r["why_not"])
        short = "; ".join(_strip_numbers(w) for w in r["why_not"])
        return "not eligible: " + text, "not eligible: " + short
    sil, stab = r.get("silhouette"), r.get("stability_mean")
    if sil is not None and best_sil is not None and sil < best_sil - SILHOUETTE_TOLERANCE:
        return (
            f"segments less clearly separated (silhouette {sil:.3f}; best {best_sil:.3f})",
            "segments less clearly separated",
        )
    pick_stab = pick.get("stability_mean")
    if stab is not None and pick_stab is not None and stab < pick_stab - STABILITY_TOLERANCE:
        return (
            f"less stable (ARI {stab:.2f} ± {r.get('stability_std') or 0:.2f} vs {pick_stab:.2f})",
            "less stable",
        )
    if pick.get("predicts_natively") and not r.get("predicts_natively"):
        return "as good, but cannot score new customers itself", "as good, but cannot score new customers itself"
    if elbow is not None and abs(int(r["k"]) - elbow) > abs(int(pick["k"]) - elbow):
        return "as good, but further from the inertia elbow", "as good, but further from the inertia elbow"
    return "as good; the recommended one is slightly better separated", "as good, slightly less separated"


def _strip_numbers(reason: str) -> str:
    """The rule's reason without the measured value, for grouping (keeps the limit)."""
    limit = reason[reason.find("(limit ") + 7 : reason.rfind(")")] if "(limit " in reason else ""
    if reason.startswith("smallest segment holds") and limit:
        return f"smallest segment under {limit} of customers"
    if "are noise" in reason and limit:
        return f"more than {limit} of customers left as noise"
    if reason.startswith("found "):
        return "fewer segments than asked for"
    return reason


# --------------------------------------------------------------------------- table
def table_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One AG Grid row per compared model (numbers exactly as in ``result["models"]``)."""
    rec = result.get("recommendation") or {}
    rows = []
    for m in result.get("models") or []:
        k = m["k"] if m["k"] is not None else m["n_segments"]
        recommended = m["name"] == rec.get("model") and k == rec.get("k")
        notes = [n for n, f in zip(m.get("notes") or [], m.get("flags") or [], strict=False) if f != "not_native"]
        rows.append(
            {
                "name": m["name"],
                "model": m["label"] + (" ★" if recommended else ""),
                "recommended": recommended,
                "k": m["k"],
                "n_segments": m["n_segments"],
                "silhouette": m["silhouette"],
                "davies_bouldin": m["davies_bouldin"],
                "calinski_harabasz": m["calinski_harabasz"],
                "noise_share": m["noise_share"],
                "min_segment_share": m["min_segment_share"],
                "stability_mean": m["stability_mean"],
                "stability_std": m["stability_std"],
                "fit_seconds": m["fit_seconds"],
                "live_prediction": "Native" if m["live_prediction"] == "native" else "Nearest-centroid",
                "notes": " ".join(notes) or "–",
            }
        )
    return rows


def _number_col(field: str, header: str, d3fmt: str, tooltip: str, width: int = 85) -> dict[str, Any]:
    return {
        "field": field,
        "headerName": header,
        "headerTooltip": tooltip,
        "type": "numericColumn",
        "minWidth": width,
        "flex": 1,
        "valueFormatter": {"function": f"params.value == null ? 'n/a' : d3.format('{d3fmt}')(params.value)"},
    }


def table_column_defs() -> list[dict[str, Any]]:
    """Column definitions of the comparison table (header tooltips explain each metric)."""
    tip = {key: f"{m.explanation} {m.direction.capitalize()}." for key, m in METRICS.items()}
    return [
        {
            "field": "model",
            "headerName": "Model",
            "pinned": "left",
            "minWidth": 150,
            "flex": 2,
            "cellClassRules": {"models-recommended-cell": "params.data.recommended"},
            "headerTooltip": "★ = recommended.",
        },
        {
            "field": "n_segments",
            "headerName": "Segments",
            "type": "numericColumn",
            "minWidth": 90,
            "flex": 1,
            "headerTooltip": "Segments found (density models choose their own number).",
        },
        _number_col("silhouette", "Silhouette ↑", ".3f", tip["silhouette"], 100),
        _number_col("davies_bouldin", "Davies–Bouldin ↓", ".2f", tip["davies_bouldin"], 85),
        _number_col("calinski_harabasz", "Calinski–Harabasz ↑", ",.0f", tip["calinski_harabasz"], 95),
        _number_col("noise_share", "Noise ↓", ".1%", tip["noise_share"], 70),
        _number_col("min_segment_share", "Smallest segment ↑", ".1%", tip["min_segment_share"], 90),
        {
            **_number_col("stability_mean", "Stability ↑", ".2f", tip["stability_mean"], 115),
            "valueFormatter": {
                "function": "params.value == null ? 'n/a' : d3.format('.2f')(params.value) + ' ± ' + "
                "d3.format('.2f')(params.data.stability_std || 0)"
            },
        },
        _number_col("fit_seconds", "Fit (s) ↓", ".2f", tip["fit_seconds"], 65),
        {
            "field": "live_prediction",
            "headerName": "Scores new customers",
            "minWidth": 130,
            "flex": 1,
            "headerTooltip": "Native: the model assigns new customers itself. Nearest-centroid: the app assigns "
            "them to the nearest segment centre, because the model cannot.",
            "cellClassRules": {"models-not-native": "params.value !== 'Native'"},
        },
        {
            "field": "notes",
            "headerName": "Notes",
            "minWidth": 185,
            "flex": 3,
            "wrapText": True,
            "autoHeight": True,
            "sortable": False,
            "cellStyle": {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"},
        },
    ]


def not_native_labels(result: Mapping[str, Any]) -> list[str]:
    """Display names of the models that cannot score new customers themselves."""
    return [m["label"] for m in result.get("models") or [] if m.get("live_prediction") != "native"]


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
    return themed(fig, theme, margin={"l": 10, "r": 30, "t": 10, "b": 50}, showlegend=False, bargap=0.3)


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
        tick_text.append(_wrap(name))
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


def scaling_rows(variants: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Text cells of the scaling table: one row per scaling."""
    rows = []
    for v in variants:
        shares = v.get("segment_shares") or []
        rows.append(
            {
                "scaling": SCALING_SHORT.get(v["scaling"], v["scaling"])
                + (" (in use)" if v.get("is_compared") else ""),
                "stability": fmt(v.get("stability_mean"), ".2f") + " ± " + fmt(v.get("stability_std"), ".2f"),
                "agreement": fmt(v.get("agreement_with_compared"), ".2f"),
                "davies_bouldin": fmt(v.get("davies_bouldin"), ".2f"),
                "sizes": " / ".join(f"{s:.0%}" for s in shares) or "n/a",
            }
        )
    return rows


def scaling_sentence(variants: Sequence[Mapping[str, Any]]) -> str:
    """What the scaling choice does here, in words, from the measured agreement and segment sizes."""
    compared = next((v for v in variants if v.get("is_compared")), None)
    others = [v for v in variants if not v.get("is_compared")]
    if compared is None or not others:
        return ""
    parts = []
    for v in others:
        agree = v.get("agreement_with_compared")
        if agree is None:
            continue
        how = (
            "nearly the same segments"
            if agree >= 0.9
            else ("similar segments" if agree >= 0.6 else "different segments")
        )
        smallest = v.get("min_segment_share")
        parts.append(
            f"{SCALING_SHORT.get(v['scaling'], v['scaling'])} gives {how} (agreement {agree:.2f})"
            + (f", smallest segment {smallest:.0%}" if smallest is not None else "")
        )
    if not parts:
        return ""
    base = compared.get("min_segment_share")
    head = f"Compared with {SCALING_SHORT.get(compared['scaling'], compared['scaling']).lower()} scaling"
    head += f" (smallest segment {base:.0%})" if base is not None else ""
    return f"{head}: " + "; ".join(parts) + "."


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
