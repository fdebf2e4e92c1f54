"""Known answers of segment naming: thresholds at, below and above each boundary; refusals (issue #15).

Each case is small enough to work by hand; the arithmetic is in the docstring or the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.segmentation import descriptive, naming
from pipeline.segmentation.archetypes import EXTRA_COLOURS
from pipeline.segmentation.naming import (
    FREQUENCY,
    RECENCY,
    RESPONSE,
    TENURE,
    VALUE,
    SegmentEvidence,
    custom_phrase,
)

# --- custom features: size words at 0.25σ, 0.5σ and 1.5σ ------------------------------------------------------------


@pytest.mark.parametrize(
    ("z", "income", "age", "indicator"),
    [
        (0.2499, None, None, None),
        (0.25, "slightly higher annual income", "slightly older", "more female"),
        (0.4999, "slightly higher annual income", "slightly older", "more female"),
        (0.5, "high annual income", "older", "mostly female"),
        (1.4999, "high annual income", "older", "mostly female"),
        (1.5, "very high annual income", "much older", "mostly female"),
        (-0.2499, None, None, None),
        (-0.25, "slightly lower annual income", "slightly younger", None),
        (-0.5, "low annual income", "young", None),
        (-1.5, "very low annual income", "very young", None),
    ],
)
def test_custom_phrases_change_words_exactly_at_their_thresholds(
    z: float, income: str | None, age: str | None, indicator: str | None
) -> None:
    assert custom_phrase("Annual_Income", z) == income
    assert custom_phrase("Age", z) == age
    assert custom_phrase("Gender = Female", z) == indicator


# --- descriptive phrases: a deviation is named from 0.15σ; spend and recency words follow the evidence --------------


def _phrases(z: dict[str, float], **facts: object) -> list[tuple[str, int, str, str]]:
    return descriptive._phrases(pd.Series(z), SegmentEvidence(z=z, **facts))


def test_a_deviation_is_named_from_0_15_sigma_largest_first() -> None:
    assert _phrases({VALUE: 0.15, FREQUENCY: -0.1499}, top_value=False) == [(VALUE, 1, "High spenders", "high spend")]
    assert _phrases({VALUE: 0.1499, FREQUENCY: -0.15}, top_value=False) == [
        (FREQUENCY, -1, "Infrequent buyers", "infrequent")
    ]
    # Largest first; equal sizes in name order (Customer_Value before Purchase_Frequency).
    assert [p[0] for p in _phrases({FREQUENCY: 0.5, VALUE: -0.5, TENURE: 0.9}, top_value=False)] == [
        TENURE,
        VALUE,
        FREQUENCY,
    ]


def test_the_richest_segment_is_top_spenders_and_high_recency_is_lapsed_only_when_mostly_lapsed() -> None:
    assert _phrases({VALUE: 0.4, RECENCY: 0.5}, top_value=True) == [
        (RECENCY, 1, "Less recent buyers", "less recent"),  # +0.5σ is not above the lapsed line (+0.5σ)
        (VALUE, 1, "Top spenders", "top spend"),
    ]
    assert _phrases({VALUE: 0.4, RECENCY: 0.5001}, top_value=False) == [
        (RECENCY, 1, "Lapsed customers", "lapsed"),
        (VALUE, 1, "High spenders", "high spend"),
    ]
    # With measured facts the share decides: exactly half is not mostly lapsed.
    assert _phrases({RECENCY: 2.0}, lapsed_share=0.5)[0][2] == "Less recent buyers"
    assert _phrases({RECENCY: 0.2}, lapsed_share=0.51)[0][2] == "Lapsed customers"


# --- centroids, lapsed shares and the archetype pool ----------------------------------------------------------------


def test_standardised_centroids_are_label_means_of_population_z_scores() -> None:
    """x = 1, 2, 3, 4: mean 2.5, population sd √1.25; z = ∓1.342, ∓0.447. Label 1 (rows 0, 1): −0.894;
    label 0 (row 2): +0.447; row 3 is noise. A constant column has no spread: z 0, not NaN."""
    features = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": [5.0, 5.0, 5.0, 5.0]})
    z = naming.standardised_centroids(features, np.array([1, 1, 0, -1]))
    assert z.index.tolist() == [0, 1]
    assert z["x"].tolist() == pytest.approx([0.5 / np.sqrt(1.25), -1.0 / np.sqrt(1.25)], abs=1e-12)
    assert z["c"].tolist() == [0.0, 0.0]


def test_a_customer_is_lapsed_only_above_half_the_longest_tenure() -> None:
    """Longest tenure 2 years → the line is 365.25 days: 365.25 itself is not lapsed, 365.26 is. NaN recency is not
    counted (label 0: 1 of 2 known), noise (-1) is left out."""
    recency = [365.25, 365.26, np.nan, 400.0, 1.0]
    profile = pd.DataFrame({RECENCY: recency, TENURE: [2.0, 1.0, 1.0, 0.5, 1.0]})
    facts = naming.segment_facts(profile, np.array([0, 0, 0, -1, 1]))
    assert facts.index.tolist() == [0, 1]
    assert facts["lapsed_share"].tolist() == [0.5, 0.0]
    assert facts["lapsed_after_days"].tolist() == [365.25, 365.25]


def test_lapsed_shares_need_some_known_recency_and_tenure() -> None:
    labels = np.array([0, 1])
    no_recency = pd.DataFrame({RECENCY: [np.nan, np.nan], TENURE: [1.0, 2.0]})
    no_tenure = pd.DataFrame({RECENCY: [10.0, 500.0], TENURE: [np.nan, np.nan]})
    assert naming.segment_facts(no_recency, labels) is None
    with np.errstate(all="ignore"):
        assert naming.segment_facts(no_tenure, labels) is None


def test_matching_needs_a_feature_the_archetypes_know() -> None:
    with pytest.raises(ValueError, match=r"^no clustered feature is known to the archetypes$"):
        naming._cost(pd.DataFrame({"Annual_Income": [1.0]}), list(naming.ARCHETYPES))


def test_archetypes_are_eligible_when_every_required_feature_is_clustered() -> None:
    keys = [a.key for a in naming.eligible_archetypes([VALUE])]
    assert keys == ["high_value_loyal", "low_value"]
    assert [a.key for a in naming.eligible_archetypes([RECENCY])] == ["lapsed"]
    assert naming.eligible_archetypes(["Annual_Income"]) == []  # custom features only: named from evidence
    # Behavioural features, but no archetype's requirements met: all are compared on what there is.
    assert naming.eligible_archetypes([FREQUENCY]) == list(naming.ARCHETYPES)


def test_core_archetypes_alone_while_k_is_at_most_4_and_there_are_enough_of_them() -> None:
    every = [VALUE, FREQUENCY, RESPONSE, TENURE, RECENCY]
    core = ["high_value_loyal", "high_spend_low_engagement", "new_occasional", "low_value", "lapsed"]
    assert [a.key for a in naming.candidate_archetypes(every, 4)] == core
    assert [a.key for a in naming.candidate_archetypes(every, 5)] == [a.key for a in naming.ARCHETYPES]
    # Spend and response: 3 core archetypes. k = 3 uses them; k = 4 needs the extended set.
    two = [VALUE, RESPONSE]
    assert [a.key for a in naming.candidate_archetypes(two, 3)] == [
        "high_value_loyal",
        "high_spend_low_engagement",
        "low_value",
    ]
    assert [a.key for a in naming.candidate_archetypes(two, 4)] == [
        "high_value_loyal",
        "high_spend_low_engagement",
        "low_value",
        "campaign_responsive",
    ]


def test_every_segment_at_the_highest_spend_is_top_and_facts_go_to_their_label() -> None:
    canon = pd.DataFrame({VALUE: [1.0, 1.0, 0.5], FREQUENCY: [0.0, 0.1, 0.2]}, index=[4, 7, 9])
    facts = pd.DataFrame({"lapsed_share": [0.25, 0.75], "lapsed_after_days": [100.0, 100.0]}, index=[7, 9])
    evidence = naming._evidence(canon, facts)
    assert [e.top_value for e in evidence] == [True, True, False]
    assert [e.lapsed_share for e in evidence] == [None, 0.25, 0.75]
    assert evidence[2].z == {VALUE: 0.5, FREQUENCY: 0.2}
    assert [e.top_value for e in naming._evidence(canon[[FREQUENCY]], None)] == [None, None, None]


# --- whole naming runs on hand-made centroids -----------------------------------------------------------------------


def _distance(centroid: dict[str, float], key: str) -> float:
    prototype = naming.ARCHETYPE_BY_KEY[key].prototype
    return float(np.sqrt(sum((v - prototype[f]) ** 2 for f, v in centroid.items())))


def test_four_segments_get_the_four_nearest_plausible_core_archetypes_whatever_their_labels() -> None:
    rows = {
        3: {VALUE: 1.2, FREQUENCY: 1.0, RESPONSE: 1.5, TENURE: 0.4},  # the High-Value Loyal prototype itself
        0: {VALUE: -0.8, FREQUENCY: -0.7, RESPONSE: -0.3, TENURE: -0.1},
        2: {VALUE: 1.0, FREQUENCY: 1.0, RESPONSE: -0.5, TENURE: 0.0},  # the High Spend – Low Engagement prototype
        1: {VALUE: -0.2, FREQUENCY: -0.5, RESPONSE: 0.1, TENURE: -1.0},
    }
    centroids = pd.DataFrame.from_dict(rows, orient="index")
    names = naming.name_segments(centroids)
    assert [n.label for n in names] == [3, 0, 2, 1]  # the order of centroids.index
    assert [n.key for n in names] == ["high_value_loyal", "low_value", "high_spend_low_engagement", "new_occasional"]
    assert [n.colour for n in names] == [naming.ARCHETYPE_BY_KEY[n.key].colour for n in names]
    assert [n.match_distance for n in names] == pytest.approx(
        [_distance(rows[n.label], n.key) for n in names], abs=1e-12
    )
    assert names[0].match_distance == 0.0 and names[2].match_distance == 0.0
    assert names[1].evidence == "spend −0.8σ, frequency −0.7σ, response −0.3σ, tenure −0.1σ"
    # Relabelled (the algorithm numbered the clusters differently): the same name for the same centroid.
    relabelled = naming.name_segments(centroids.set_axis([10, 11, 12, 13]).iloc[::-1])
    assert [n.key for n in relabelled] == [
        "new_occasional",
        "high_spend_low_engagement",
        "low_value",
        "high_value_loyal",
    ]


def test_a_segment_left_without_an_archetype_gets_a_descriptive_name_and_the_first_spare_colour() -> None:
    """Segments 0 and 1 are both near High-Value Loyal on spend and frequency; 0 is nearer (0.2) and takes it.
    1 is described by its two largest deviations: frequency +0.95σ, then spend +0.9σ (not the top spender)."""
    centroids = pd.DataFrame({VALUE: [1.0, 0.9, -1.0], FREQUENCY: [1.0, 0.95, -1.0]})
    names = naming.name_segments(centroids)
    assert [n.name for n in names] == ["High-Value Loyal", "Frequent buyers, high spend", "Low-Value"]
    assert [n.key for n in names] == ["high_value_loyal", "frequent_buyers_high_spend", "low_value"]
    assert [n.archetype for n in names] == ["high_value_loyal", naming.DESCRIPTIVE, "low_value"]
    assert names[1].colour == EXTRA_COLOURS[0]
    assert (names[1].objective, names[1].actions) == (
        "Keep them engaged",
        ("Regular-customer perks", "Replenishment reminders"),
    )
    spend_frequency = {VALUE: 0.9, FREQUENCY: 0.95}
    nearest = min(_distance(spend_frequency, a.key) for a in naming.candidate_archetypes([VALUE, FREQUENCY], 3))
    assert names[1].match_distance == pytest.approx(nearest, abs=1e-12)
    assert names[0].match_distance == pytest.approx(0.2, abs=1e-12)


def test_segments_of_custom_features_only_are_described_in_feature_order_with_the_archetype_palette() -> None:
    """No archetype knows these features: every segment is described. Canonical order is by the first column
    (income −0.6, +0.1, +1.0), and the colour-blind-safe archetype colours are handed out in that order."""
    centroids = pd.DataFrame({"Annual_Income": [1.0, -0.6, 0.1], "Age": [0.3, 0.1, -1.6]})
    names = naming.name_segments(centroids)
    assert [n.name for n in names] == ["High annual income, slightly older", "Low annual income", "Very young"]
    assert [n.key for n in names] == ["high_annual_income_slightly_older", "low_annual_income", "very_young"]
    palette = [a.colour for a in naming.ARCHETYPES]
    assert [n.colour for n in names] == [palette[2], palette[0], palette[1]]
    assert {(n.objective, n.actions, n.match_distance) for n in names} == {(naming.CUSTOM_OBJECTIVE, (), 0.0)}
    # Nothing notable (|z| < 0.25σ): "Average <first two features>", told apart by their largest difference.
    flat = naming.name_segments(pd.DataFrame({"Annual_Income": [0.1, -0.1], "Age": [0.1, -0.1]}))
    assert [n.name for n in flat] == [
        "Average annual income and age · higher annual income",
        "Average annual income and age · lower annual income",
    ]
    assert [n.colour for n in flat] == [palette[1], palette[0]]


def test_a_custom_deviation_leads_a_mixed_segment_and_leaves_the_action_to_the_user() -> None:
    centroids = pd.DataFrame({"Annual_Income": [1.0, 0.6], VALUE: [0.05, -0.05]})
    names = naming.name_segments(centroids)
    assert [n.name for n in names] == ["High annual income", "Low-Value"]
    assert (names[0].objective, names[0].actions, names[0].colour) == (
        naming.CUSTOM_OBJECTIVE,
        (),
        EXTRA_COLOURS[0],
    )
    assert names[1].objective == naming.ARCHETYPE_BY_KEY["low_value"].objective


def test_a_segment_that_fits_no_archetype_does_not_push_another_off_its_nearest_one() -> None:
    """Segment 0 (spend +0.4σ, mostly lapsed) may take either archetype: Alpha at 0.4 or Beta at 0.6. Segment 1 is not
    lapsed, so both names are disallowed for it (5.0 and 6.0 away). Segment 0 gets its nearest, Alpha; segment 1 none.
    (Counting the disallowed pair's distance, 0.6 + 5.0 < 0.4 + 6.0, used to hand segment 0 the farther Beta.)"""
    alpha = naming.Archetype("alpha", "Alpha lapsed", "", (), "#000001", {VALUE: 0.0})
    beta = naming.Archetype("beta", "Beta lapsed", "", (), "#000002", {VALUE: 1.0})
    canon = pd.DataFrame({VALUE: [0.4, -5.0]})
    evidence = [SegmentEvidence(z={VALUE: 0.4}, lapsed_share=0.9), SegmentEvidence(z={VALUE: -5.0}, lapsed_share=0.1)]
    chosen, cost = naming._assign(canon, evidence, [alpha, beta])
    assert chosen == [0, -1]
    assert cost.ravel().tolist() == pytest.approx([0.4, 0.6, 5.0, 6.0], abs=1e-12)


def test_a_high_value_archetype_moves_only_to_an_unnamed_segment_and_to_the_first_of_equally_rich_ones() -> None:
    hv = naming.ARCHETYPE_BY_KEY["high_value_loyal"]
    steady = naming.ARCHETYPE_BY_KEY["steady_regular"]
    canon = pd.DataFrame({VALUE: [0.5, 2.0, 2.0]})
    evidence = [SegmentEvidence(z={VALUE: v, FREQUENCY: 1.0, RESPONSE: 1.0, TENURE: 1.0}) for v in canon[VALUE]]
    # Segment 1 is richer but already named (Steady Regulars, index 0 of the pool): segment 0 keeps High-Value Loyal.
    assert naming._prefer_higher_value(canon.iloc[:2], evidence[:2], [steady, hv], [1, 0]) == [1, 0]
    # Segments 1 and 2 are equally rich and unnamed: the first of them gets it.
    assert naming._prefer_higher_value(canon, evidence, [hv], [0, -1, -1]) == [-1, 0, -1]


def test_a_descriptive_name_uses_the_two_largest_deviations_and_average_names_the_first_two_features() -> None:
    canon = pd.DataFrame({VALUE: [0.9, -1.0], FREQUENCY: [0.95, 0.0], TENURE: [0.5, 0.0]})
    out = descriptive.descriptive_names(canon, [SegmentEvidence(z=dict(canon.iloc[0]), top_value=False)] * 2, [0])
    assert [n.name for n in out] == ["Frequent buyers, high spend"]  # long-standing (+0.5σ) is the third
    flat = pd.DataFrame({"Annual_Income": [0.1], "Age": [0.1], "Visits": [0.0]})
    assert [n.name for n in descriptive.descriptive_names(flat, naming._evidence(flat, None), [0])] == [
        "Average annual income and age"
    ]


def test_nothing_to_name_and_facts_that_cannot_be_measured() -> None:
    assert naming.name_segments(pd.DataFrame(columns=[VALUE, FREQUENCY])) == []
    profile = pd.DataFrame({RECENCY: [10.0, 500.0], TENURE: [1.0, 2.0]})
    assert naming.segment_facts(profile.drop(columns=[RECENCY]), np.array([0, 1])) is None
    assert naming.segment_facts(profile.drop(columns=[TENURE]), np.array([0, 1])) is None


def test_lapsed_shares_need_a_period_longer_than_nothing() -> None:
    """Longest tenure one day: the line is half a day, measurable; no tenure at all: not measurable."""
    profile = pd.DataFrame({RECENCY: [0.0, 1.0], TENURE: [1 / 365.25, 0.5 / 365.25]})
    facts = naming.segment_facts(profile, np.array([0, 1]))
    assert facts["lapsed_share"].tolist() == [0.0, 1.0]
    assert facts["lapsed_after_days"].tolist() == pytest.approx([0.5, 0.5], abs=1e-12)
    assert naming.segment_facts(profile.assign(**{TENURE: 0.0}), np.array([0, 1])) is None


def test_handing_on_a_high_value_archetype_repeats_until_nothing_moves() -> None:
    """Segment 2 (richest) cannot be 'Loyal' (frequency below average) but can take High Spend – Low Engagement from
    segment 1; only then is segment 1 free and richer than segment 0, so High-Value Loyal moves to it (a second pass)."""
    loyal, low_engagement = (
        naming.ARCHETYPE_BY_KEY["high_value_loyal"],
        naming.ARCHETYPE_BY_KEY["high_spend_low_engagement"],
    )
    canon = pd.DataFrame({VALUE: [1.0, 2.0, 3.0]})
    evidence = [
        SegmentEvidence(z={VALUE: 1.0, FREQUENCY: 1.0, RESPONSE: 1.0}),
        SegmentEvidence(z={VALUE: 2.0, FREQUENCY: 1.0, RESPONSE: -1.0}),
        SegmentEvidence(z={VALUE: 3.0, FREQUENCY: -1.0, RESPONSE: -1.0}),
    ]
    assert naming._prefer_higher_value(canon, evidence, [loyal, low_engagement], [0, 1, -1]) == [-1, 0, 1]


def test_custom_deviations_are_named_in_the_models_feature_order_not_by_size() -> None:
    canon = pd.DataFrame({"Annual_Income": [0.3], "Age": [1.0]})
    out = descriptive.descriptive_names(canon, naming._evidence(canon, None), [0])
    assert [n.name for n in out] == ["Slightly higher annual income, older"]
