"""Model comparison facts in words and tables: pure functions of a comparison result.

Metric definitions, labels, the recommendation in plain language, the
models table and the scaling table.  Charts are in
:mod:`dashboard.figures.model_charts`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from pipeline.segmentation import registry
from pipeline.segmentation.compare import SILHOUETTE_TOLERANCE, STABILITY_TOLERANCE

from ..theme import NEUTRAL

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


def wrap_label(text: str, width: int = 16) -> str:
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
    """One table row per compared model (numbers exactly as in ``result["models"]``)."""
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


class Column(NamedTuple):
    """One column of the models table.

    Attributes
    ----------
    key : str
        Field of a :func:`table_rows` row (the value sorted on).
    header : str
        Header text (``↑``/``↓``: which way is better).
    tooltip : str
        What the column measures (the header's ``title``).
    fmt : str or None
        Python format of a number (``".3f"``...); None: shown as text.
    better : str or None
        ``"higher"`` or ``"lower"``: the first click sorts the best first.  None: smallest / A first.
    sortable : bool
        Whether its header sorts the table.
    """

    key: str
    header: str
    tooltip: str
    fmt: str | None = None
    better: str | None = None
    sortable: bool = True


def _metric_column(key: str, header: str) -> Column:
    m = METRICS[key]
    return Column(key, header, f"{m.explanation} {m.direction.capitalize()}.", m.fmt, m.better)


#: The columns of the models table, in order.
TABLE_COLUMNS: tuple[Column, ...] = (
    Column("model", "Model", "★ = recommended."),
    Column("n_segments", "Segments", "Segments found (density models choose their own number).", "d"),
    _metric_column("silhouette", "Silhouette ↑"),
    _metric_column("davies_bouldin", "Davies–Bouldin ↓"),
    _metric_column("calinski_harabasz", "Calinski–Harabasz ↑"),
    _metric_column("noise_share", "Noise ↓"),
    _metric_column("min_segment_share", "Smallest segment ↑"),
    _metric_column("stability_mean", "Stability ↑"),
    _metric_column("fit_seconds", "Fit (s) ↓"),
    Column(
        "live_prediction",
        "Scores new customers",
        "Native: the model assigns new customers itself. Nearest-centroid: the app assigns them to the nearest "
        "segment centre, because the model cannot.",
    ),
    Column("notes", "Notes", "", sortable=False),
)
#: Column key → column.
TABLE_COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in TABLE_COLUMNS}


def table_cell(row: Mapping[str, Any], column: Column) -> str:
    """The text of one cell: numbers formatted as the column says (``"n/a"`` when missing), minus signs typeset.

    Stability shows its spread: ``"0.99 ± 0.01"``.
    """
    value = row.get(column.key)
    if column.fmt is None:
        return str(value) if value is not None else "–"
    text = fmt(value, column.fmt)
    if column.key == "stability_mean" and text != "n/a":
        text += " ± " + fmt(row.get("stability_std") or 0.0, column.fmt)
    return text.replace("-", "−")


def next_sort(current: Any, column: Any) -> dict[str, Any] | None:
    """The sort after a click on ``column``'s header: the same column reversed, another one best (or A) first.

    ``current`` and ``column`` come from the browser: an unknown or unsortable
    column leaves the (checked) current sort as it was.
    """
    now = table_sort(current)
    target = TABLE_COLUMN_BY_KEY.get(column) if isinstance(column, str) else None
    if target is None or not target.sortable:
        return None if now is None else {"column": now[0], "descending": now[1]}
    if now is not None and now[0] == target.key:
        return {"column": target.key, "descending": not now[1]}
    return {"column": target.key, "descending": target.better == "higher"}


def table_sort(sort: Any) -> tuple[str, bool] | None:
    """``(column key, descending)`` of a sort state from the browser; None for no sort or anything unknown."""
    if not isinstance(sort, Mapping):
        return None
    key = sort.get("column")
    column = TABLE_COLUMN_BY_KEY.get(key) if isinstance(key, str) else None
    if column is None or not column.sortable:
        return None
    return column.key, bool(sort.get("descending"))


def sorted_rows(rows: Sequence[Mapping[str, Any]], sort: Any) -> list[Mapping[str, Any]]:
    """``rows`` in the order of ``sort`` (see :func:`table_sort`); missing values last either way, ties as given."""
    key_desc = table_sort(sort)
    if key_desc is None:
        return list(rows)
    key, descending = key_desc
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    return sorted(present, key=lambda r: r[key], reverse=descending) + missing


def not_native_labels(result: Mapping[str, Any]) -> list[str]:
    """Display names of the models that cannot score new customers themselves."""
    return [m["label"] for m in result.get("models") or [] if m.get("live_prediction") != "native"]


# --------------------------------------------------------------------------- scaling variants
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
