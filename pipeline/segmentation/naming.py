"""Segment names, colours and strategies inferred from centroids.

Rule (documented in the README, "How segments are named"):

1. Each segment's centroid is expressed in standardised units of the
   *population* (z-score of the segment mean of each feature: how many
   standard deviations above or below the average customer).  Where the
   customers' ``Recency`` (days since the last purchase) is known, each
   segment also gets its *lapsed share*: the share of its customers who
   bought nothing in the later half of the period the data covers
   (recency above half the longest tenure, :func:`segment_facts`).  A
   segment is *mostly lapsed* when that share is above one half (without
   these facts: when its ``Recency`` centroid is above +0.5σ).
2. Each archetype has a prototype profile over the clustered features
   (``Recency`` included: lapsed segments have a high recency).  Only the
   features actually clustered are compared.  An archetype whose
   ``requires`` are not all clustered is not a candidate.
3. **Plausibility rules** (:data:`NAME_RULES`, :mod:`pipeline.segmentation.name_rules`): every word of a name that
   claims something must agree with the segment's evidence.  A rule that
   needs a feature which is not clustered fails (a name never claims what
   the data does not show):

   * "high value", "high spend": spend above average (z > 0);
   * "top": spend above average *and* the highest-spending segment;
   * "low value", "low spend": spend below average, and never the
     highest-spending segment;
   * "loyal", "steady", "regular": purchase frequency not below average
     (z ≥ 0) and not mostly lapsed;
   * "new", "recent joiners": tenure below average;
   * "occasional", "infrequent": frequency below average;
     "frequent": frequency above average;
   * "campaign responsive", "campaign responders": campaign response above
     average; "low campaign", "campaign non-responders": below average;
   * "lapsed": mostly lapsed; "recently active": recency below average and
     not mostly lapsed;
   * "long-standing": tenure above average;
   * "rising" (Rising Stars, told to *nurture into high value*): tenure
     below average, spend above average, and not the highest-spending
     segment (it already is the top).

4. The cost of naming segment *i* after archetype *j* is the Euclidean
   distance between the centroid and the prototype; a pair that breaks a
   rule is not allowed.  Segments are matched one-to-one to archetypes by
   minimising the total cost (Hungarian algorithm).  For k ≤ 4 only the core
   archetypes are candidates (while at least k of them are) unless the
   extended set lets more segments keep a plausible archetype.  A "high
   value" archetype is then handed on to a higher-spending segment that
   was left without an archetype and whose evidence allows it, so such a
   name never sits below an unnamed, richer segment.
5. A segment left without an archetype (none passes the rules, or there
   are more segments than archetypes) gets a plain descriptive name from
   its two largest deviations ("Top spenders, lapsed", "Frequent buyers,
   low spend"), built so that it passes the same rules; a further deviation
   is added while two such names coincide, then a number.  Its objective
   and actions follow its largest deviation; its key is the name's slug
   (:mod:`pipeline.segmentation.descriptive`).
6. Segments are processed in a canonical order (sorted by centroid), so the
   result never depends on how the clustering algorithm numbered them.

No churn risk is attached to a name or an archetype: churn is measured,
not assumed from a label.  Colours are fixed per archetype (Okabe–Ito,
colour-blind safe), so a segment keeps its colour when the model is refit.
"""

from __future__ import annotations

import colorsys
import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.segmentation.archetypes import (  # noqa: F401  (re-exported: callers import them from here)
    ARCHETYPE_BY_KEY,
    ARCHETYPES,
    DESCRIPTIVE,
    EXTRA_COLOURS,
    FREQUENCY,
    LAPSED_Z,
    MOSTLY,
    RECENCY,
    RESPONSE,
    TENURE,
    VALUE,
    Archetype,
)
from pipeline.segmentation.descriptive import (  # noqa: F401  (re-exported)
    CUSTOM_OBJECTIVE,
    custom_phrase,
    descriptive_names,
    feature_short,
)
from pipeline.segmentation.name_rules import (
    NAME_RULES,
    SegmentEvidence,
    SegmentName,
    contradictions,
)

_BLOCKED = 1e6
_HIGH_VALUE = next(r for r in NAME_RULES if r.claim == "spend above average")


def standardised_centroids(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Segment means in population standard deviations (z-scores).

    Parameters
    ----------
    features : DataFrame
        One column per clustered feature (imputed, original units).
    labels : array of int
        Cluster label per row; negative labels (noise) are ignored.

    Returns
    -------
    DataFrame
        Indexed by label (ascending), one column per feature.
    """
    mu = features.mean()
    sd = features.std(ddof=0).replace(0.0, 1.0)
    z = (features - mu) / sd
    z = z.assign(_label=np.asarray(labels))
    z = z[z["_label"] >= 0]
    return z.groupby("_label").mean().sort_index()


def segment_facts(profile: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame | None:
    """Per segment, the share of lapsed customers (``None`` when it cannot be measured).

    A customer is *lapsed* when they bought nothing in the later half of
    the period the data covers: their ``Recency`` (days since the last
    purchase) is above half the longest tenure (``Customer_For_Years``,
    counted to the same as-of date).  On the reference marketing table
    (recency under 100 days, enrolments over two years) nobody is lapsed; on
    an 18-month log, a customer with no purchase in the last 9 months is.

    Parameters
    ----------
    profile : DataFrame
        The customers, with ``Recency`` and ``Customer_For_Years`` columns if
        known (row order of ``labels``).
    labels : array of int
        Cluster label per row; negative labels (noise) are ignored.

    Returns
    -------
    DataFrame or None
        Indexed by label: ``lapsed_share`` and ``lapsed_after_days`` (half
        the period, the same on every row); ``None`` without recency or tenure.
    """
    if RECENCY not in profile.columns or TENURE not in profile.columns:
        return None
    recency = pd.to_numeric(profile[RECENCY], errors="coerce").to_numpy(dtype=float)
    tenure = pd.to_numeric(profile[TENURE], errors="coerce").to_numpy(dtype=float)
    labels = np.asarray(labels)
    known = ~np.isnan(recency)
    if not known.any() or np.isnan(tenure).all():
        return None
    half = float(np.nanmax(tenure)) * 365.25 / 2
    if half <= 0:
        return None
    frame = pd.DataFrame({"_label": labels[known], "lapsed": recency[known] > half})
    frame = frame[frame["_label"] >= 0]
    share = frame.groupby("_label")["lapsed"].mean().sort_index()
    return pd.DataFrame({"lapsed_share": share.astype(float), "lapsed_after_days": half})


def evidence_text(
    centroid_z: Mapping[str, float], lapsed_share: float | None = None, after_days: float | None = None
) -> str:
    """``"spend +1.6σ, frequency +1.1σ, response −0.4σ"``, strongest first (then the lapsed share)."""
    items = sorted(centroid_z.items(), key=lambda kv: -abs(kv[1]))
    parts = []
    for name, z in items:
        short = feature_short(name)
        sign = "+" if z >= 0 else "−"
        parts.append(f"{short} {sign}{abs(z):.1f}σ")
    if lapsed_share is not None and after_days is not None and lapsed_share > 0:
        parts.append(f"{lapsed_share:.0%} last bought over {after_days:,.0f} days ago")
    return ", ".join(parts)


def _cost(centroids: pd.DataFrame, archetypes: Sequence[Archetype]) -> np.ndarray:
    feats = [f for f in centroids.columns if all(f in a.prototype for a in archetypes)]
    if not feats:
        raise ValueError("no clustered feature is known to the archetypes")
    c = centroids[feats].to_numpy(dtype=float)
    p = np.array([[a.prototype[f] for f in feats] for a in archetypes])
    return np.sqrt(((c[:, None, :] - p[None, :, :]) ** 2).sum(axis=2))


def eligible_archetypes(features: Sequence[str]) -> list[Archetype]:
    """Archetypes whose ``requires`` are all clustered.

    With only custom features (:mod:`pipeline.features.custom`) none is:
    every segment is then named from its evidence.  With behavioural
    features and none of the archetypes' requirements met, all are kept
    (they are compared on the behavioural features only).
    """
    known = set(features)
    eligible = [a for a in ARCHETYPES if set(a.requires) <= known]
    if eligible or not known & set(ARCHETYPES[0].prototype):
        return eligible
    return list(ARCHETYPES)


def candidate_archetypes(features: Sequence[str], k: int) -> list[Archetype]:
    """The archetypes segments are first matched against, given the clustered features and k.

    Archetypes whose ``requires`` are not all clustered are left out (all
    are kept if that leaves none).  For k ≤ 4 the core archetypes alone are
    used when there are at least k of them.
    """
    eligible = eligible_archetypes(features)
    core = [a for a in eligible if a.core]
    return core if k <= 4 and len(core) >= k else eligible


def _evidence(canon: pd.DataFrame, facts: pd.DataFrame | None) -> list[SegmentEvidence]:
    top = canon[VALUE].max() if VALUE in canon.columns else None
    out = []
    for label, row in canon.iterrows():
        lapsed = None
        if facts is not None and label in facts.index:
            lapsed = float(facts.loc[label, "lapsed_share"])
        out.append(
            SegmentEvidence(
                z={str(f): float(v) for f, v in row.items()},
                top_value=None if top is None else bool(row[VALUE] >= top),
                lapsed_share=lapsed,
            )
        )
    return out


def _assign(
    canon: pd.DataFrame, evidence: list[SegmentEvidence], pool: list[Archetype]
) -> tuple[list[int], np.ndarray]:
    """Archetype index per segment (-1: none plausible, or more segments than archetypes) and the cost matrix."""
    from scipy.optimize import linear_sum_assignment  # scipy when naming, not when the module is imported

    cost = _cost(canon, pool)
    allowed = np.array([[not contradictions(a.name, ev) for a in pool] for ev in evidence])
    blocked = np.where(allowed, cost, _BLOCKED)  # disallowed pairs all cost the same: allowed distances decide
    k = len(canon)
    chosen = [-1] * k
    rows, cols = linear_sum_assignment(blocked)
    for r, c in zip(rows, cols, strict=True):
        chosen[r] = int(c) if allowed[r, c] else -1
    return chosen, cost


def _prefer_higher_value(
    canon: pd.DataFrame, evidence: list[SegmentEvidence], pool: list[Archetype], chosen: list[int]
) -> list[int]:
    """Hand a "high value" archetype to a higher-spending segment left without one, when its evidence allows."""
    if VALUE not in canon.columns:
        return chosen
    value = canon[VALUE].to_numpy(dtype=float)
    chosen = list(chosen)
    changed = True
    while changed:  # each swap raises the holder's spend, so this ends
        changed = False
        for r, a in enumerate(chosen):
            if a < 0 or not _HIGH_VALUE.applies(pool[a].name):
                continue
            better = [
                d
                for d, c in enumerate(chosen)
                if c < 0 and value[d] > value[r] and not contradictions(pool[a].name, evidence[d])
            ]
            if better:
                d = max(better, key=lambda i: (value[i], -i))
                chosen[d], chosen[r] = a, -1
                changed = True
    return chosen


def name_segments(centroids: pd.DataFrame, facts: pd.DataFrame | None = None) -> list[SegmentName]:
    """Name every segment from its standardised centroid (see the module docstring).

    Parameters
    ----------
    centroids : DataFrame
        Output of :func:`standardised_centroids` (index = cluster labels).
    facts : DataFrame or None
        Output of :func:`segment_facts` (``lapsed_share`` per label), if known.

    Returns
    -------
    list of SegmentName
        One per row of ``centroids``, in the order of ``centroids.index``.
        Keys and names are unique; no name breaks :data:`NAME_RULES`.
    """
    if centroids.empty:
        return []
    # Canonical order: independent of how the algorithm numbered clusters.
    order = np.lexsort(centroids.to_numpy(dtype=float).T[::-1])
    canon = centroids.iloc[order]
    k = len(canon)
    evidence = _evidence(canon, facts)
    eligible = eligible_archetypes(tuple(canon.columns))
    first = candidate_archetypes(tuple(canon.columns), k)
    pool = first
    if not first:  # only custom features: every segment is named from its evidence
        chosen, cost = [-1] * k, np.zeros((k, 1))
    else:
        chosen, cost = _assign(canon, evidence, first)
    if first != eligible and -1 in chosen:
        wider, wider_cost = _assign(canon, evidence, eligible)
        if wider.count(-1) < chosen.count(-1):
            pool, chosen, cost = eligible, wider, wider_cost

    chosen = _prefer_higher_value(canon, evidence, pool, chosen)
    after_days = float(facts["lapsed_after_days"].iloc[0]) if facts is not None and len(facts) else None

    def evidence_of(r: int) -> str:
        return evidence_text(canon.iloc[r].to_dict(), evidence[r].lapsed_share, after_days)

    named: dict[int, SegmentName] = {}
    for r, a_idx in enumerate(chosen):
        if a_idx < 0:
            continue
        arch = pool[a_idx]
        label = int(canon.index[r])
        named[label] = SegmentName(
            label=label,
            key=arch.key,
            archetype=arch.key,
            name=arch.name,
            objective=arch.objective,
            actions=arch.actions,
            colour=arch.colour,
            evidence=evidence_of(r),
            match_distance=float(cost[r, a_idx]),
        )
    leftovers = [r for r in range(k) if chosen[r] == -1]
    for r, seg in zip(leftovers, descriptive_names(canon, evidence, leftovers), strict=True):
        label = int(canon.index[r])
        named[label] = dataclasses.replace(
            seg, label=label, evidence=evidence_of(r), match_distance=float(cost[r].min())
        )
    names = [named[int(lbl)] for lbl in centroids.index]
    _dedupe_colours(names)
    _dedupe_names(names)
    return names


def _dedupe_names(names: list[SegmentName]) -> None:
    """Number any names (and keys) still shared after qualification ("… (2)"); local list only."""
    seen: dict[str, int] = {}
    keys: dict[str, int] = {}
    for i, seg in enumerate(names):
        seen[seg.name] = seen.get(seg.name, 0) + 1
        keys[seg.key] = keys.get(seg.key, 0) + 1
        if seen[seg.name] > 1:
            names[i] = dataclasses.replace(names[i], name=f"{seg.name} ({seen[seg.name]})")
        if keys[seg.key] > 1:
            names[i] = dataclasses.replace(names[i], key=f"{seg.key}_{keys[seg.key]}")


def _generated_colour(n: int) -> str:
    """A further distinct colour once the palette is used up (golden-angle hues)."""
    r, g, b = colorsys.hls_to_rgb(((n * 0.618034) % 1.0), 0.5, 0.55)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def _dedupe_colours(names: list[SegmentName]) -> None:
    """Give every segment a distinct colour (mutates the local list only)."""
    seen: set[str] = set()
    spare = [*[a.colour for a in ARCHETYPES], *EXTRA_COLOURS]
    for i, seg in enumerate(names):
        if seg.colour in seen:
            colour = next((c for c in spare if c not in seen), None) or _generated_colour(len(seen))
            names[i] = dataclasses.replace(seg, colour=colour)
        seen.add(names[i].colour)
