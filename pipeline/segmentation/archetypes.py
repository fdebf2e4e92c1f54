"""The segment archetypes: named prototypes in standardised feature space, with their strategy.

Each :class:`Archetype` says where its segment sits (z-scores of the
behavioural features), its name, colour, objective and actions.
:mod:`pipeline.segmentation.naming` matches fitted centroids to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

VALUE = "Customer_Value"
FREQUENCY = "Purchase_Frequency"
RESPONSE = "Campaign_Response"
TENURE = "Customer_For_Years"
RECENCY = "Recency"
#: A segment is mostly lapsed above this share of lapsed customers.
MOSTLY = 0.5
#: Without recency facts, a Recency centroid above this many σ counts as mostly lapsed.
LAPSED_Z = 0.5
#: Key (and ``archetype``) of segments named by the descriptive fallback.
DESCRIPTIVE = "descriptive"
#: Colours after the archetypes' own: descriptive names, and segments that would share a colour.
EXTRA_COLOURS = ("#999999", "#8C564B", "#17BECF", "#7F7F7F", "#BCBD22")


@dataclasses.dataclass(frozen=True)
class Archetype:
    """A kind of customer a segment can be named after."""

    key: str
    name: str
    objective: str
    actions: tuple[str, ...]
    colour: str
    prototype: Mapping[str, float]
    core: bool = True
    requires: tuple[str, ...] = ()


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "high_value_loyal",
        "High-Value Loyal",
        "Maximise lifetime value",
        ("VIP rewards programme", "Premium and early-access offers", "Personal account contact"),
        "#0072B2",
        {VALUE: 1.2, FREQUENCY: 1.0, RESPONSE: 1.5, TENURE: 0.4, RECENCY: -0.5},
        requires=(VALUE,),
    ),
    Archetype(
        "high_spend_low_engagement",
        "High Spend – Low Campaign Engagement",
        "Engage beyond campaigns",
        (
            "Personalised offers outside mass campaigns",
            "Ask for feedback on recent purchases",
            "Tailored product recommendations",
        ),
        "#D55E00",
        {VALUE: 1.0, FREQUENCY: 1.0, RESPONSE: -0.5, TENURE: 0.0, RECENCY: 0.0},
        requires=(VALUE, RESPONSE),
    ),
    Archetype(
        "new_occasional",
        "New / Occasional",
        "Convert to loyal",
        ("Onboarding journey", "Second-purchase incentive", "Welcome discount on a new product family"),
        "#009E73",
        {VALUE: -0.8, FREQUENCY: -0.8, RESPONSE: -0.2, TENURE: -1.1, RECENCY: -0.3},
        requires=(TENURE,),
    ),
    Archetype(
        "low_value",
        "Low-Value",
        "Cost optimisation",
        ("Generic low-cost offers", "Automated e-mail only", "Bundle deals to lift basket size"),
        "#E69F00",
        {VALUE: -0.8, FREQUENCY: -0.8, RESPONSE: -0.3, TENURE: 0.9, RECENCY: 0.3},
        requires=(VALUE,),
    ),
    Archetype(
        "lapsed",
        "Lapsed",
        "Win back",
        (
            "Win-back offer on past favourites",
            "Ask why they stopped buying",
            "Stop costly contact if they do not respond",
        ),
        "#882255",
        {VALUE: -0.4, FREQUENCY: -0.6, RESPONSE: -0.3, TENURE: 0.3, RECENCY: 1.3},
        requires=(RECENCY,),
    ),
    Archetype(
        "campaign_responsive",
        "Campaign Responsive",
        "Grow spend through campaigns",
        ("Targeted campaigns with upsell", "Loyalty points for campaign purchases"),
        "#56B4E9",
        {VALUE: -0.3, FREQUENCY: -0.3, RESPONSE: 2.0, TENURE: 0.0, RECENCY: 0.0},
        core=False,
        requires=(RESPONSE,),
    ),
    Archetype(
        "rising_star",
        "Rising Stars",
        "Nurture into high value",
        ("Early loyalty-tier upgrade", "Cross-sell to new product families"),
        "#CC79A7",
        {VALUE: 0.8, FREQUENCY: 0.8, RESPONSE: 0.0, TENURE: -1.0, RECENCY: -0.5},
        core=False,
        requires=(VALUE, TENURE),
    ),
    Archetype(
        "steady_regular",
        "Steady Regulars",
        "Keep them engaged",
        ("Regular-customer perks", "Subscription or replenishment offers"),
        "#F0E442",
        {VALUE: 0.2, FREQUENCY: 0.5, RESPONSE: -0.3, TENURE: 0.8, RECENCY: -0.3},
        core=False,
        requires=(FREQUENCY, TENURE),
    ),
)
ARCHETYPE_BY_KEY: dict[str, Archetype] = {a.key: a for a in ARCHETYPES}
