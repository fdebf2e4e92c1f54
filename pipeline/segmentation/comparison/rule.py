"""The recommendation rule (pure): eligibility, shortlist, stability, tie-breaks, and the reason sentence.

See :mod:`pipeline.segmentation.comparison` for the rule in words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.segmentation import registry

#: Recommendation thresholds (see the package docstring).
MAX_NOISE_SHARE = 0.01
MIN_SEGMENT_SHARE = 0.05
SILHOUETTE_TOLERANCE = 0.02
STABILITY_TOLERANCE = 0.01


def elbow_k(ks: Sequence[int], inertia: Sequence[float]) -> int | None:
    """The k at the elbow of a decreasing inertia curve (see the module docstring)."""
    from pipeline.segmentation.model import knee_index  # scikit-learn's estimators: not needed for the constants

    if len(ks) == 0:
        return None
    y = np.asarray(inertia, dtype=float)[::-1]
    return int(ks[len(ks) - 1 - knee_index(y)])


def recommend(
    candidates: Sequence[Mapping[str, Any]],
    scaling: str,
    *,
    elbow: int | None = None,
    max_noise_share: float = MAX_NOISE_SHARE,
    min_segment_share: float = MIN_SEGMENT_SHARE,
    silhouette_tolerance: float = SILHOUETTE_TOLERANCE,
    stability_tolerance: float = STABILITY_TOLERANCE,
) -> dict[str, Any]:
    """Apply the recommendation rule of the module docstring to a metrics table.

    Parameters
    ----------
    candidates : sequence of mappings
        Rows with ``model``, ``k`` (segments), ``silhouette``,
        ``stability_mean``, ``stability_std``, ``noise_share``,
        ``min_segment_share``, ``n_segments`` and ``predicts_natively``;
        ``label`` (display name) is optional.  Rows with a missing silhouette
        or stability are not candidates.
    scaling : str
        The scaling the table was computed with (returned as is).
    elbow : int, optional
        The elbow k of the inertia curve, used to break ties.

    Returns
    -------
    dict
        ``model``, ``label``, ``k`` (segments), ``scaling``, ``command`` (the
        ``train`` command line for it; density models take no ``--k``),
        ``reason`` (one sentence),
        ``eligible`` (whether the choice met every condition), ``rule`` (the
        thresholds used) and ``considered`` (each candidate with
        ``eligible`` and ``why_not``).  ``model`` is None when no candidate
        has two segments.
    """
    rows = [{**c, "why_not": _why_not(c, max_noise_share, min_segment_share)} for c in candidates if _scored(c)]
    considered = [
        {"model": r["model"], "k": r["k"], "eligible": not r["why_not"], "why_not": r["why_not"]} for r in rows
    ]
    rule = {
        "max_noise_share": max_noise_share,
        "min_segment_share": min_segment_share,
        "silhouette_tolerance": silhouette_tolerance,
        "stability_tolerance": stability_tolerance,
        "elbow_k": elbow,
    }
    pool = [r for r in rows if not r["why_not"]]
    relaxed = not pool
    if relaxed:
        pool = [r for r in rows if r["n_segments"] >= 2]
    if not pool:
        return {
            "model": None,
            "label": None,
            "k": None,
            "scaling": scaling,
            "command": None,
            "eligible": False,
            "reason": "No model found at least two segments; nothing to recommend.",
            "rule": rule,
            "considered": considered,
        }
    best_sil = max(r["silhouette"] for r in pool)
    shortlist = [r for r in pool if r["silhouette"] >= best_sil - silhouette_tolerance]
    best_stab = max(r["stability_mean"] for r in shortlist)
    tied = [r for r in shortlist if r["stability_mean"] >= best_stab - stability_tolerance]

    def tie_break(r: Mapping[str, Any]) -> tuple[bool, int, float, int]:
        distance = abs(int(r["k"]) - elbow) if elbow is not None else 0
        return (bool(r["predicts_natively"]), -distance, r["silhouette"], -int(r["n_segments"]))

    pick = max(tied, key=tie_break)
    facts = _Facts(best_sil, best_stab, tied, relaxed, elbow, min_segment_share)
    k_option = f" --k {int(pick['k'])}" if registry.takes_k(pick["model"]) else ""
    return {
        "model": pick["model"],
        "label": _label(pick),
        "k": int(pick["k"]),
        "scaling": scaling,
        "command": f"python -m pipeline train --model {pick['model']}{k_option} --scaling {scaling}",
        "eligible": not relaxed,
        "reason": _reason(pick, facts, rows),
        "rule": rule,
        "considered": considered,
    }


@dataclasses.dataclass(frozen=True)
class _Facts:
    """What the rule saw, for the reason sentence."""

    best_silhouette: float
    best_stability: float
    tied: Sequence[Mapping[str, Any]]
    relaxed: bool
    elbow: int | None
    min_share: float


def _label(row: Mapping[str, Any]) -> str:
    return str(row.get("label") or registry.label(row["model"]))


def _scored(row: Mapping[str, Any]) -> bool:
    return row.get("silhouette") is not None and row.get("stability_mean") is not None


def _why_not(row: Mapping[str, Any], max_noise: float, min_share: float) -> list[str]:
    why = []
    if row["n_segments"] < 2:
        why.append("fewer than two segments")
    elif row["n_segments"] != row["k"]:
        why.append(f"found {row['n_segments']} segments for k = {row['k']}")
    if row["noise_share"] > max_noise:
        why.append(f"{row['noise_share']:.0%} of customers are noise (limit {max_noise:.0%})")
    if row["min_segment_share"] < min_share:
        why.append(f"smallest segment holds {row['min_segment_share']:.1%} of customers (limit {min_share:.0%})")
    return why


def _reason(pick: Mapping[str, Any], facts: _Facts, rows: Sequence[Mapping[str, Any]]) -> str:
    """One sentence saying why ``pick`` won, naming the models that were never eligible."""
    stab = f"ARI {pick['stability_mean']:.2f} ± {pick['stability_std']:.2f}"
    if pick["stability_mean"] >= facts.best_stability:
        parts = [f"highest stability ({stab})"]
    else:
        parts = [f"stability {stab}, tied with the highest ({facts.best_stability:.2f}) within {STABILITY_TOLERANCE}"]
    if pick["silhouette"] >= facts.best_silhouette:
        parts.append(f"best silhouette ({pick['silhouette']:.3f})")
    else:
        parts.append(
            f"silhouette {pick['silhouette']:.3f}, within {SILHOUETTE_TOLERANCE} of the best ({facts.best_silhouette:.3f})"
        )
    parts.append("no noise points" if pick["noise_share"] == 0 else f"{pick['noise_share']:.1%} noise")
    if facts.relaxed:
        parts.append(f"smallest segment {pick['min_segment_share']:.1%} of customers")
    else:
        parts.append(f"every segment ≥ {facts.min_share:.0%} of customers (smallest {pick['min_segment_share']:.0%})")
    others = [r for r in facts.tied if r is not pick]
    if others and pick["predicts_natively"] and any(not r["predicts_natively"] for r in others):
        parts.append("predicts new customers natively")
    if others and facts.elbow == int(pick["k"]) and any(int(r["k"]) != facts.elbow for r in others):
        parts.append("k at the inertia elbow")
    text = f"{_label(pick)}, k = {int(pick['k'])}: " + ", ".join(parts) + "."
    if facts.relaxed:
        return "No candidate met every condition; closest: " + text
    never: dict[str, str] = {}
    for r in rows:
        if _label(r) != _label(pick) and all(o["why_not"] for o in rows if o["model"] == r["model"]):
            never.setdefault(_label(r), r["why_not"][0])
    if never:
        text += " Not eligible: " + "; ".join(f"{name}: {why}" for name, why in never.items()) + "."
    return text
