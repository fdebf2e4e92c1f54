"""What a segment's name may claim: the name and evidence types, and the plausibility rules.

Every word of a name that claims something (``"high value"``, ``"loyal"``,
``"lapsed"``…) must agree with the segment's evidence (:class:`SegmentEvidence`):
:data:`NAME_RULES` lists each word with its claim, and :func:`contradictions`
gives the claims a name breaks.  :mod:`pipeline.segmentation.naming` matches
archetypes under these rules; :mod:`pipeline.segmentation.descriptive` builds
the names of segments no archetype fits so that they pass the same rules.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping

from pipeline.segmentation.archetypes import FREQUENCY, LAPSED_Z, MOSTLY, RECENCY, RESPONSE, TENURE, VALUE


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
