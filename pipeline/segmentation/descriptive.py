"""Plain names for segments no archetype fits, built from their largest deviations.

``"Top spenders, lapsed"``, ``"Frequent buyers, low spend"``: the two largest
deviations of the segment's centroid (in population standard deviations),
each phrase passing the same plausibility rules as an archetype's name
(:func:`pipeline.segmentation.name_rules.contradictions`).  A further deviation
is added while two such names coincide, then where they still differ is
said (``"… · higher tenure"``).  A custom feature's deviation is named with
its size (:func:`custom_phrase`); a segment named from custom features only
leaves its objective to the user.  Rule 5 of :mod:`pipeline.segmentation.naming`.
"""

from __future__ import annotations

import re

import pandas as pd

from pipeline.features.definitions import FEATURE_DEFINITIONS
from pipeline.segmentation.archetypes import (
    ARCHETYPES,
    DESCRIPTIVE,
    EXTRA_COLOURS,
    FREQUENCY,
    RECENCY,
    RESPONSE,
    TENURE,
    VALUE,
)
from pipeline.segmentation.name_rules import SegmentEvidence, SegmentName, contradictions


def feature_short(feature: str) -> str:
    """The feature's short word(s): ``spend``, ``annual income``."""
    if feature in FEATURE_DEFINITIONS:
        return FEATURE_DEFINITIONS[feature].short
    from pipeline.features.custom import custom_definition

    return custom_definition(feature).short


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


def descriptive_names(canon: pd.DataFrame, evidence: list[SegmentEvidence], rows: list[int]) -> list[SegmentName]:
    """Plain names from the largest deviations, unique among ``rows``.

    Parameters
    ----------
    canon : DataFrame
        Every segment's centroid in population standard deviations, in canonical order.
    evidence : list of SegmentEvidence
        What the plausibility rules see of each row of ``canon``.
    rows : list of int
        Positions in ``canon`` of the segments to name (those no archetype fits).

    Returns
    -------
    list of SegmentName
        One per row, in the order of ``rows``; ``label`` is -1 and ``evidence`` empty
        (the caller fills both in).
    """
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
    palette = [a.colour for a in ARCHETYPES] if custom and len(custom) == len(canon.columns) else EXTRA_COLOURS
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


def _qualifier(canon: pd.DataFrame, r: int, members: list[int]) -> str:
    """'higher tenure' / 'lower spend': where this segment differs most from its namesakes."""
    others = canon.iloc[[m for m in members if m != r]].mean()
    diff = canon.iloc[r] - others
    feat = str(diff.abs().idxmax())
    short = feature_short(feat)
    return f"{'higher' if diff[feat] > 0 else 'lower'} {short}"
