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
3. **Plausibility rules** (:data:`NAME_RULES`): every word of a name that
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
   and actions follow its largest deviation; its key is the name's slug.
6. Segments are processed in a canonical order (sorted by centroid), so the
   result never depends on how the clustering algorithm numbered them.

No churn risk is attached to a name or an archetype: churn is measured,
not assumed from a label.  Colours are fixed per archetype (Okabe–Ito,
colour-blind safe), so a segment keeps its colour when the model is refit.
"""

from __future__ import annotations

import colorsys
import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.features.definitions import FEATURE_DEFINITIONS
from pipeline.segmentation.archetypes import (  # noqa: F401  (re-exported: callers import them from here)
    ARCHETYPE_BY_KEY,
    ARCHETYPES,
    DESCRIPTIVE,
    FREQUENCY,
    LAPSED_Z,
    MOSTLY,
    RECENCY,
    RESPONSE,
    TENURE,
    VALUE,
    Archetype,
)

_EXTRA_COLOURS = ("#999999", "#8C564B", "#17BECF", "#7F7F7F", "#BCBD22")
_BLOCKED = 1e6


@dataclasses.dataclass(frozen=True)
class SegmentName:
    """The name given to one cluster, with everything the app shows about it."""

    label: int
    key: str
    archetype: str
    name: str
    objective: str
    actions: tuple[str, ...]
    colour: str
    evidence: str
    match_distance: float

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        d = dataclasses.asdict(self)
        d["actions"] = list(self.actions)
        return d


@dataclasses.dataclass(frozen=True)
class SegmentEvidence:
    """What the plausibility rules see of one segment.

    Attributes
    ----------
    z : mapping of str to float
        Centroid in population standard deviations, per clustered feature.
    top_value : bool or None
        Whether it is the highest-spending segment (``None``: spend not clustered).
    lapsed_share : float or None
        Share of its customers with no purchase in the later half of the
        data's period (``None``: not measurable).
    """

    z: Mapping[str, float]
    top_value: bool | None = None
    lapsed_share: float | None = None

    def above(self, feature: str) -> bool:
        """Clustered and above average."""
        return feature in self.z and self.z[feature] > 0

    def below(self, feature: str) -> bool:
        """Clustered and below average."""
        return feature in self.z and self.z[feature] < 0

    def mostly_lapsed(self) -> bool | None:
        """More than half lapsed; ``None`` when recency is unknown."""
        if self.lapsed_share is not None:
            return self.lapsed_share > MOSTLY
        if RECENCY in self.z:
            return self.z[RECENCY] > LAPSED_Z
        return None


@dataclasses.dataclass(frozen=True)
class NameRule:
    """A word in a name and what it claims about the segment."""

    pattern: str
    claim: str
    check: Callable[[SegmentEvidence], bool]

    def applies(self, name: str) -> bool:
        """True when ``name`` uses the rule's words."""
        return re.search(self.pattern, name, flags=re.IGNORECASE) is not None


NAME_RULES: tuple[NameRule, ...] = (
    NameRule(r"high[- ]value|high spend(?=\b|ers?\b)", "spend above average", lambda s: s.above(VALUE)),
    NameRule(
        r"\btop\b",
        "spend above average and the highest-spending segment",
        lambda s: s.above(VALUE) and bool(s.top_value),
    ),
    NameRule(
        r"low[- ]value|low spend(?=\b|ers?\b)",
        "spend below average and not the highest-spending segment",
        lambda s: s.below(VALUE) and not s.top_value,
    ),
    NameRule(
        r"loyal|steady|regular",
        "purchase frequency not below average and not mostly lapsed",
        lambda s: FREQUENCY in s.z and s.z[FREQUENCY] >= 0 and not s.mostly_lapsed(),
    ),
    NameRule(r"\bnew\b|recent joiners", "tenure below average", lambda s: s.below(TENURE)),
    NameRule(r"occasional|infrequent", "purchase frequency below average", lambda s: s.below(FREQUENCY)),
    NameRule(r"(?<!in)frequent", "purchase frequency above average", lambda s: s.above(FREQUENCY)),
    NameRule(
        r"campaign responsive|campaign responders", "campaign response above average", lambda s: s.above(RESPONSE)
    ),
    NameRule(r"low campaign|campaign non-responders", "campaign response below average", lambda s: s.below(RESPONSE)),
    NameRule(r"\blapsed\b", "mostly lapsed", lambda s: s.mostly_lapsed() is True),
    NameRule(
        r"recently active",
        "recency below average and not mostly lapsed",
        lambda s: s.below(RECENCY) and not s.mostly_lapsed(),
    ),
    NameRule(r"long-standing", "tenure above average", lambda s: s.above(TENURE)),
    NameRule(
        r"rising",
        "tenure below average, spend above average, not already the highest-spending segment",
        lambda s: s.below(TENURE) and s.above(VALUE) and not s.top_value,
    ),
)


_HIGH_VALUE = next(r for r in NAME_RULES if r.claim == "spend above average")


def contradictions(name: str, evidence: SegmentEvidence) -> list[str]:
    """The claims of ``name`` that ``evidence`` does not support (empty: plausible).

    Parameters
    ----------
    name : str
        A segment name (an archetype's or a descriptive one).
    evidence : SegmentEvidence
        The segment's centroid and facts.

    Returns
    -------
    list of str
        One ``"'word' claims ..."`` sentence per broken rule.
    """
    out = []
    for rule in NAME_RULES:
        match = re.search(rule.pattern, name, flags=re.IGNORECASE)
        if match and not rule.check(evidence):
            out.append(f"'{match.group(0)}' claims {rule.claim}")
    return out


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
        short = _short(name)
        sign = "+" if z >= 0 else "−"
        parts.append(f"{short} {sign}{abs(z):.1f}σ")
    if lapsed_share is not None and after_days is not None and lapsed_share > 0:
        parts.append(f"{lapsed_share:.0%} last bought over {after_days:,.0f} days ago")
    return ", ".join(parts)


def _short(feature: str) -> str:
    """The feature's short word(s): ``spend``, ``annual income``."""
    if feature in FEATURE_DEFINITIONS:
        return FEATURE_DEFINITIONS[feature].short
    from pipeline.features.custom import custom_definition

    return custom_definition(feature).short


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
    for r, seg in zip(leftovers, _descriptive(canon, evidence, leftovers), strict=True):
        label = int(canon.index[r])
        named[label] = dataclasses.replace(
            seg, label=label, evidence=evidence_of(r), match_distance=float(cost[r].min())
        )
    names = [named[int(lbl)] for lbl in centroids.index]
    _dedupe_colours(names)
    _dedupe_names(names)
    return names


# --- descriptive fallback --------------------------------------------------------------------------------------------

#: (feature, direction) -> (leading phrase, trailing phrase, objective, actions)
_PHRASES: dict[tuple[str, int], tuple[str, str, str, tuple[str, ...]]] = {
    (VALUE, 1): (
        "High spenders",
        "high spend",
        "Protect and grow their value",
        ("Personal account contact", "Premium offers matched to past purchases"),
    ),
    (VALUE, -1): (
        "Low spenders",
        "low spend",
        "Cost optimisation",
        ("Automated e-mail only", "Bundle deals to lift basket size"),
    ),
    (FREQUENCY, 1): (
        "Frequent buyers",
        "frequent",
        "Keep them engaged",
        ("Regular-customer perks", "Replenishment reminders"),
    ),
    (FREQUENCY, -1): (
        "Infrequent buyers",
        "infrequent",
        "Encourage repeat purchases",
        ("Second-purchase incentive", "Reminders timed to their buying cycle"),
    ),
    (RESPONSE, 1): (
        "Campaign responders",
        "campaign responders",
        "Grow spend through campaigns",
        ("Targeted campaigns with upsell", "Loyalty points for campaign purchases"),
    ),
    (RESPONSE, -1): (
        "Campaign non-responders",
        "campaign non-responders",
        "Reach them outside campaigns",
        ("Personalised recommendations instead of mass campaigns", "Ask what they would like to hear about"),
    ),
    (TENURE, 1): (
        "Long-standing customers",
        "long-standing",
        "Keep long-standing customers engaged",
        ("Anniversary thank-you offer", "Invite feedback on the range"),
    ),
    (TENURE, -1): (
        "Recent joiners",
        "recent joiners",
        "Convert to loyal",
        ("Onboarding journey", "Second-purchase incentive"),
    ),
    (RECENCY, 1): (
        "Lapsed customers",
        "lapsed",
        "Win back",
        ("Win-back offer on past favourites", "Ask why they stopped buying"),
    ),
    (RECENCY, -1): (
        "Recently active customers",
        "recently active",
        "Keep the momentum",
        ("Timely follow-up on the last purchase", "Cross-sell to a related product family"),
    ),
}
#: Below this many σ a deviation is not worth naming.
_NOTABLE = 0.15


#: A custom feature's deviation is named from this many σ ("slightly higher"), "high" from
#: :data:`_HIGH`, "very high" from :data:`_VERY`.
_CUSTOM_NOTABLE = 0.25
_HIGH = 0.5
_VERY = 1.5
#: Custom segments leave the action to the user.
CUSTOM_OBJECTIVE = "Yours to decide: write the plan in this segment's note"


def custom_phrase(feature: str, z: float) -> str | None:
    """A custom feature's deviation in plain words with direction and size (``None``: about average).

    ``"high annual income"`` (0.5σ to 1.5σ above), ``"very low spending
    score"`` (1.5σ or more below), ``"slightly higher visits"`` (0.25σ to
    0.5σ); an age column reads ``"young"``, ``"older"``; a one-hot indicator
    (``"Gender = Female"``) is named only where it is over-represented:
    ``"mostly female"`` (0.5σ or more), ``"more female"``.
    """
    from pipeline.features.custom import custom_definition, split_indicator

    size = abs(z)
    if size < _CUSTOM_NOTABLE:
        return None
    level = 2 if size >= _VERY else (1 if size >= _HIGH else 0)
    parts = split_indicator(feature)
    if parts is not None:
        if z < 0:
            return None
        return f"{'mostly' if level else 'more'} {parts[1].lower()}"
    short = custom_definition(feature).short
    if re.fullmatch(r"(customer )?age( years)?|age in years", short):
        return (("slightly older", "older", "much older"), ("slightly younger", "young", "very young"))[z < 0][level]
    words = (("slightly higher", "high", "very high"), ("slightly lower", "low", "very low"))[z < 0][level]
    return f"{words} {short}"


def _phrases(row: pd.Series, ev: SegmentEvidence) -> list[tuple[str, int, str, str]]:
    """(feature, direction, leading, trailing) for the segment's deviations, largest first, each true."""
    out = []
    for feat in sorted(row.index, key=lambda f: (-abs(float(row[f])), str(f))):
        z = float(row[feat])
        direction = 1 if z > 0 else -1
        if feat not in FEATURE_DEFINITIONS:
            phrase = custom_phrase(str(feat), z)
            if phrase is not None:
                out.append((str(feat), direction, phrase[0].upper() + phrase[1:], phrase))
            continue
        if abs(z) < _NOTABLE or (feat, direction) not in _PHRASES:
            continue
        lead, trail = _PHRASES[(feat, direction)][:2]
        if feat == VALUE and direction == 1 and ev.top_value:
            lead, trail = "Top spenders", "top spend"
        if feat == RECENCY and direction == 1 and ev.mostly_lapsed() is not True:
            lead, trail = "Less recent buyers", "less recent"
        if contradictions(f"{lead} {trail}", ev):
            continue
        out.append((str(feat), direction, lead, trail))
    return out


def _descriptive(canon: pd.DataFrame, evidence: list[SegmentEvidence], rows: list[int]) -> list[SegmentName]:
    """Plain names from the largest deviations, unique among ``rows``."""
    phrases = {r: _phrases(canon.iloc[r], evidence[r]) for r in rows}
    depth = {r: 2 for r in rows}

    custom = [str(f) for f in canon.columns if f not in FEATURE_DEFINITIONS]

    def text(r: int) -> str:
        ps = phrases[r][: depth[r]]
        if not ps:
            if custom:
                from pipeline.features.custom import custom_definition

                shorts = [custom_definition(f).short for f in custom[:2]]
                return "Average " + " and ".join(shorts)
            return "Typical customers"
        if all(p[0] in custom for p in ps):  # the named deviations, in the model's feature order
            ps = sorted(ps, key=lambda p: custom.index(p[0]))
        return ", ".join([ps[0][2], *(p[3] for p in ps[1:])])

    for _ in range(len(canon.columns)):
        names = {r: text(r) for r in rows}
        clash = [r for r in rows if list(names.values()).count(names[r]) > 1 and depth[r] < len(phrases[r])]
        if not clash:
            break
        for r in clash:
            depth[r] += 1
    names = {r: text(r) for r in rows}
    for r in rows:  # still shared when every deviation is used: say how they differ from each other
        siblings = [m for m in rows if text(m) == text(r)]
        if len(siblings) > 1:
            names[r] = f"{text(r)} · {_qualifier(canon, r, siblings)}"
    # Named from custom features only: no archetype holds a colour, so the colour-blind-safe palette is free.
    palette = [a.colour for a in ARCHETYPES] if custom and len(custom) == len(canon.columns) else _EXTRA_COLOURS
    out = []
    for i, r in enumerate(rows):
        name = names[r]
        first = phrases[r][0] if phrases[r] else None
        if (first and first[0] not in FEATURE_DEFINITIONS) or (not first and custom):
            # Named from custom features: what is known goes with the segment, the action is the user's.
            objective, actions = CUSTOM_OBJECTIVE, ()
        else:
            objective, actions = (
                _PHRASES[(first[0], first[1])][2:]
                if first
                else ("Understand them better", ("Survey a sample of them",))
            )
        out.append(
            SegmentName(
                label=-1,
                key=_slug(name),
                archetype=DESCRIPTIVE,
                name=name,
                objective=objective,
                actions=tuple(actions),
                colour=palette[i % len(palette)],
                evidence="",
                match_distance=0.0,
            )
        )
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


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


def _qualifier(canon: pd.DataFrame, r: int, members: list[int]) -> str:
    """'higher tenure' / 'lower spend': where this segment differs most from its namesakes."""
    others = canon.iloc[[m for m in members if m != r]].mean()
    diff = canon.iloc[r] - others
    feat = str(diff.abs().idxmax())
    short = _short(feat)
    return f"{'higher' if diff[feat] > 0 else 'lower'} {short}"


def _generated_colour(n: int) -> str:
    """A further distinct colour once the palette is used up (golden-angle hues)."""
    r, g, b = colorsys.hls_to_rgb(((n * 0.618034) % 1.0), 0.5, 0.55)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def _dedupe_colours(names: list[SegmentName]) -> None:
    """Give every segment a distinct colour (mutates the local list only)."""
    seen: set[str] = set()
    spare = [*[a.colour for a in ARCHETYPES], *_EXTRA_COLOURS]
    for i, seg in enumerate(names):
        if seg.colour in seen:
            colour = next((c for c in spare if c not in seen), None) or _generated_colour(len(seen))
            names[i] = dataclasses.replace(seg, colour=colour)
        seen.add(names[i].colour)
