"""Known answers for the segmentation core: simulator confidence, quality metrics, naming details.

Each test works a small case by hand (the arithmetic is in the docstring or comments) and asserts
the exact answer, so a flipped comparison or a swapped operator in the code fails it (issue #15).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from pipeline.segmentation import descriptive, naming
from pipeline.segmentation.archetypes import EXTRA_COLOURS
from pipeline.segmentation.metrics import cluster_metrics, stratified_indices
from pipeline.segmentation.naming import (
    ARCHETYPE_BY_KEY,
    FREQUENCY,
    RESPONSE,
    TENURE,
    VALUE,
    SegmentName,
    name_segments,
)
from pipeline.segmentation.simulate import Move, feature_grid, feature_step, format_change, round_to_step, simulate

HEX = re.compile(r"^#[0-9A-F]{6}$", re.IGNORECASE)


# --- simulate: confidence ------------------------------------------------------------------------------------------


class _Columns(BaseEstimator, TransformerMixin):
    """Identity transformer that names the model's features (like the app's FeatureBuilder)."""

    def __init__(self, features: tuple[str, ...] = ("a", "b")) -> None:
        self.features = features

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)


CENTRES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 20.0]])
SEGMENTS = [
    {"label": 0, "key": "near", "name": "Near"},
    {"label": 1, "key": "east", "name": "East"},
    {"label": 2, "key": "north", "name": "North"},
]


def _toy_model() -> tuple[Pipeline, PCA]:
    """Three segments whose centres are exactly (0, 0), (10, 0) and (0, 20)."""
    kmeans = KMeans(n_clusters=3, init=CENTRES, n_init=1).fit(CENTRES)
    pipe = Pipeline([("features", _Columns()), ("cluster", kmeans)]).fit(CENTRES)
    return pipe, PCA(n_components=2).fit(CENTRES)


def _simulate(values: dict[str, float], centres: np.ndarray = CENTRES):
    pipe, pca = _toy_model()
    grid = {"a": np.array([0.0, 10.0]), "b": np.array([0.0, 20.0])}
    return simulate(pipe, pca, centres, SEGMENTS, values, grid)


def test_confidence_is_one_minus_own_over_runner_up_distance() -> None:
    """(2, 0): 2 from its own centre, 8 from the runner-up (10, 0): confidence 1 - 2/8 = 0.75."""
    sim = _simulate({"a": 2.0, "b": 0.0})
    assert sim.label == 0
    assert sim.runner_up == "east"
    assert sim.distances == pytest.approx({"near": 2.0, "east": 8.0, "north": np.hypot(2.0, 20.0)})
    assert sim.confidence == pytest.approx(0.75)


def test_confidence_at_a_centre_is_one_and_halfway_is_zero() -> None:
    assert _simulate({"a": 0.0, "b": 0.0}).confidence == pytest.approx(1.0)
    # (4, 0): 4 from its centre, 6 from the runner-up: 1 - 4/6 = 1/3.
    assert _simulate({"a": 4.0, "b": 0.0}).confidence == pytest.approx(1 / 3)
    # (5, 0) is as far from both: the boundary itself, confidence 0.
    assert _simulate({"a": 5.0, "b": 0.0}).confidence == pytest.approx(0.0)


def test_confidence_is_clamped_to_zero_and_one() -> None:
    """Centres handed in that disagree with the model (own centre farther than another) clamp at 0.

    A centre with no coordinates (NaN) gives no confidence (NaN), not a made-up certainty.
    """
    shifted = CENTRES.copy()
    shifted[0] = [12.0, 0.0]  # the model still says segment 0; its stated centre is 10 away
    shifted[1] = [-6.0, 0.0]  # the runner-up's is 8 away: 1 - 10/8 = -0.25, clamped to 0
    sim = _simulate({"a": 2.0, "b": 0.0}, shifted)
    assert sim.distances["near"] == pytest.approx(10.0)
    assert sim.runner_up == "east"
    assert sim.confidence == 0.0
    on_runner = CENTRES.copy()
    on_runner[1] = [2.0, 0.0]  # the runner-up's stated centre is the customer itself: no ratio, confidence 1
    assert _simulate({"a": 2.0, "b": 0.0}, on_runner).confidence == 1.0
    broken = CENTRES.copy()
    broken[0] = [np.nan, np.nan]
    assert np.isnan(_simulate({"a": 2.0, "b": 0.0}, broken).confidence)  # not measurable: never claimed as 1


def test_moves_to_each_other_segment_on_the_toy_model() -> None:
    """From (2, 0): East needs a > 5 (equidistant at 5 stays Near), North needs b > 10.

    Steps: a's range 0..10 and b's 0..20 give 10^floor(log10(range/100)) = 0.1, so the smallest shown
    changes that really arrive are +3.1 on a and +10.1 on b.
    """
    pipe, pca = _toy_model()
    grid = {"a": np.linspace(0.0, 10.0, 11), "b": np.linspace(0.0, 20.0, 11)}
    sim = simulate(pipe, pca, CENTRES, SEGMENTS, {"a": 2.0, "b": 0.0}, grid)
    assert sim.segment == SEGMENTS[0]
    assert [(m.target, m.feature) for m in sim.moves] == [("east", "a"), ("north", "b")]
    assert [m.delta for m in sim.moves] == [pytest.approx(3.1), pytest.approx(10.1)]
    assert sim.moves[0].text == "+3.1 a → East"
    assert sim.pcs[2] == 0.0  # two features: the third PC is 0
    assert np.hypot(sim.pcs[0], sim.pcs[1]) == pytest.approx(np.linalg.norm([2.0, 0.0] - CENTRES.mean(axis=0)))
    # Explicit steps of 1: whole changes, +4 (a = 6) and +11 (b = 11).
    whole = simulate(pipe, pca, CENTRES, SEGMENTS, {"a": 2.0, "b": 0.0}, grid, steps={"a": 1.0, "b": 1.0})
    assert [m.delta for m in whole.moves] == [pytest.approx(4.0), pytest.approx(11.0)]


def test_no_single_feature_change_is_said_plainly() -> None:
    pipe, pca = _toy_model()
    grid = {"a": np.array([0.0, 1.0, 2.0]), "b": np.array([0.0, 1.0])}  # nowhere near another segment
    sim = simulate(pipe, pca, CENTRES, SEGMENTS, {"a": 2.0, "b": 0.0}, grid)
    assert sim.moves == (
        Move("east", None, None, "No single-feature change reaches East."),
        Move("north", None, None, "No single-feature change reaches North."),
    )
    with pytest.raises(ValueError, match=r"^not a finite number: b$"):
        simulate(pipe, pca, CENTRES, SEGMENTS, {"a": 2.0, "b": float("nan")}, grid)


@pytest.mark.parametrize(
    ("feature", "lo", "hi", "step"),
    [
        ("Customer_Value", 0, 999, 1.0),
        ("Customer_Value", 0, 1000, 10.0),
        ("Customer_Value", 500, 1400, 1.0),  # the range (900), not the sum of its ends
        ("Customer_For_Years", 0, 50, 0.1),
        ("Purchase_Frequency", 0, 5000, 1.0),
        ("other", 0, 10, 0.1),
        ("other", 0, 250, 1.0),
        ("other", 0, 1000, 10.0),
        ("other", 5, 5, 1.0),
        ("other", 0, float("nan"), 1.0),
    ],
)
def test_feature_steps(feature: str, lo: float, hi: float, step: float) -> None:
    assert feature_step(feature, lo, hi) == step


def test_round_to_step_without_float_noise() -> None:
    assert round_to_step(0.1 + 0.2, 0.1) == 0.3
    assert round_to_step(1234.0, 10.0) == 1230.0
    assert round_to_step(0.126, 0.01) == 0.13
    assert round_to_step(7.4, 1.0) == 7.0
    assert repr(round_to_step(0.7, 0.1)) == "0.7"


def test_format_change() -> None:
    assert format_change("Customer_Value", 420.0) == "+$420 spend"
    assert format_change("Customer_Value", -1234.4) == "−$1,234 spend"
    assert format_change("Purchase_Frequency", -3.0) == "−3 purchases"
    assert format_change("Purchase_Frequency", 1.0) == "+1 purchase"
    assert format_change("Campaign_Response", 1.0) == "+1 campaign accepted"
    assert format_change("Campaign_Response", 2.0) == "+2 campaigns accepted"
    assert format_change("Customer_For_Years", 0.8) == "+0.8 years tenure"
    assert format_change("Recency", 5.0) == "+5 days"
    assert format_change("my_feature", 12.3) == "+12 my feature"
    assert format_change("my_feature", 2.5) == "+2.5 my feature"
    assert format_change("my_feature", 1.5) == "+1.5 my feature"
    assert format_change("my_feature", 9.96) == "+10.0 my feature"
    assert format_change("my_feature", -0.123) == "−0.12 my feature"
    assert format_change("my_feature", 0.0) == "+0.00 my feature"


def test_feature_grid_uses_whole_numbers_for_counts() -> None:
    ranges = {"Customer_Value": {"min": 0.0, "max": 100.0}, "Purchase_Frequency": {"min": 0.0, "max": 3.0}}
    grid = feature_grid(ranges, ["Customer_Value", "Purchase_Frequency"], points=5)
    assert grid["Customer_Value"].tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert grid["Purchase_Frequency"].tolist() == [0.0, 1.0, 2.0, 3.0]  # 0, .75, 1.5, 2.25, 3 rounded


# --- metrics -------------------------------------------------------------------------------------------------------

# Segment 0 at 0 and 2, segment 1 at 10 and 12, one noise point (-1) far away.
TOY_X = np.array([[0.0], [2.0], [10.0], [12.0], [100.0]])
TOY_LABELS = np.array([0, 0, 1, 1, -1])


def test_metrics_of_a_labelled_toy_set() -> None:
    """Hand-computed on the four labelled points (noise left out).

    Davies–Bouldin: spreads 1 and 1, centres 1 and 11 → (1 + 1) / 10 = 0.2.
    Calinski–Harabasz: between 2·5² + 2·5² = 100 over k-1 = 1; within 4·1² = 4 over n-k = 2 → 50.
    Silhouette: 0 → 1 - 2/11, 2 → 1 - 2/9, 10 → 1 - 2/9, 12 → 1 - 2/11; mean (9/11 + 7/9) / 2.
    """
    out = cluster_metrics(TOY_X, TOY_LABELS, max_rows=1000, random_state=0)
    assert out["n_segments"] == 2  # segment 0 counts: only -1 is noise
    assert out["davies_bouldin"] == pytest.approx(0.2)
    assert out["calinski_harabasz"] == pytest.approx(50.0)
    assert out["silhouette"] == pytest.approx((9 / 11 + 7 / 9) / 2)
    assert out["silhouette_rows"] == 4


def test_metrics_need_two_segments_and_fewer_segments_than_rows() -> None:
    none = {"silhouette": None, "davies_bouldin": None, "calinski_harabasz": None, "silhouette_rows": 0}
    one = cluster_metrics(TOY_X[:2], np.array([0, 0]), 1000, 0)
    assert one == {**none, "n_segments": 1}
    # Three rows in three segments: as many segments as rows, nothing to measure.
    each = cluster_metrics(TOY_X[:3], np.array([0, 1, 2]), 1000, 0)
    assert each == {**none, "n_segments": 3}
    # Three rows in two segments: measurable (silhouette: 0 → 1 - 2/10 = 0.8, 2 → 1 - 2/8, 10 → 0 alone).
    two = cluster_metrics(TOY_X[:3], np.array([0, 0, 1]), 1000, 0)
    assert two["silhouette"] == pytest.approx((0.8 + 0.75 + 0.0) / 3)


def test_silhouette_on_a_sample_reports_its_rows() -> None:
    out = cluster_metrics(TOY_X, TOY_LABELS, max_rows=3, random_state=0)
    # A "sample" of 3 from 2 + 2 rows keeps at least 2 per segment: all 4 rows.
    assert out["silhouette_rows"] == 4
    assert out["silhouette"] == pytest.approx((9 / 11 + 7 / 9) / 2)


LABELS_6_4 = np.array([0] * 6 + [1] * 4)


def test_stratified_sample_has_the_proportional_share_of_each_label() -> None:
    """10 rows, 6 of label 0 and 4 of label 1, sample of 5: round(5·6/10) = 3 and round(5·4/10) = 2 rows."""
    for seed in range(10):
        idx = stratified_indices(LABELS_6_4, 5, seed)
        assert len(idx) == 5
        assert list(idx) == sorted(set(idx.tolist()))  # sorted, no duplicates
        assert (LABELS_6_4[idx] == 0).sum() == 3
        assert (LABELS_6_4[idx] == 1).sum() == 2


def test_stratified_sample_never_repeats_a_row() -> None:
    """Label 0 has two rows and gets its minimum of two: both, each once, whatever the seed."""
    labels = np.array([0, 0] + [1] * 8)
    for seed in range(20):
        idx = stratified_indices(labels, 5, seed)
        assert list(idx[:2]) == [0, 1]
        assert len(set(idx.tolist())) == len(idx) == 2 + 4  # round(5·8/10) = 4 rows of label 1


def test_stratified_sample_is_reproducible_and_depends_on_the_seed() -> None:
    labels = np.repeat([0, 1, 2], 50)
    first = stratified_indices(labels, 30, 7)
    assert np.array_equal(first, stratified_indices(labels, 30, 7))
    assert not all(np.array_equal(first, stratified_indices(labels, 30, s)) for s in range(8, 12))


def test_stratified_sample_returns_every_row_when_the_size_covers_them() -> None:
    assert list(stratified_indices(np.array([1, 0, 1]), 3, 0)) == [0, 1, 2]
    assert list(stratified_indices(np.array([1, 0, 1]), 4, 0)) == [0, 1, 2]
    assert len(stratified_indices(LABELS_6_4, 9, 0)) == 9  # round(5.4) = 5 and round(3.6) = 4


# --- naming ----------------------------------------------------------------------------------------------------------


def test_qualifier_says_how_a_segment_differs_from_its_namesakes() -> None:
    canon = pd.DataFrame({VALUE: [0.2, 1.0, 0.0], FREQUENCY: [0.0, 0.5, 1.0]})
    # Row 0 against row 1: spend 0.2 - 1.0 = -0.8, frequency 0 - 0.5 = -0.5 → the larger is a lower spend.
    assert descriptive._qualifier(canon, 0, [0, 1]) == "lower spend"
    # Row 2 against row 0: spend -0.2, frequency +1.0 → higher frequency.
    assert descriptive._qualifier(canon, 2, [0, 2]) == "higher frequency"
    # Row 1 against the mean of rows 0 and 2 (spend 0.1, frequency 0.5): +0.9 and 0 → higher spend.
    assert descriptive._qualifier(canon, 1, [0, 1, 2]) == "higher spend"


def _seg(key: str, name: str, colour: str) -> SegmentName:
    return SegmentName(-1, key, key, name, "", (), colour, "", 0.0)


def test_shared_colours_move_to_the_first_free_spare_colour() -> None:
    palette = [a.colour for a in naming.ARCHETYPES]
    names = [_seg("a", "A", palette[0]), _seg("b", "B", palette[0]), _seg("c", "C", palette[1])]
    naming._dedupe_colours(names)
    # b takes the first palette colour nobody has yet: palette[1] is free when b is handled.
    assert [n.colour for n in names] == [palette[0], palette[1], palette[2]]


def test_colours_beyond_the_palette_are_generated_and_valid() -> None:
    spare = [*[a.colour for a in naming.ARCHETYPES], *EXTRA_COLOURS]
    names = [_seg(f"s{i}", f"S{i}", "#000000") for i in range(len(spare) + 3)]
    naming._dedupe_colours(names)
    colours = [n.colour for n in names]
    assert colours[: len(spare) + 1] == ["#000000", *spare]
    assert len(set(colours)) == len(colours)
    assert all(HEX.match(c) for c in colours)
    # hue 0, lightness 0.5, saturation 0.55 → (0.775, 0.225, 0.225) → #C63939
    assert naming._generated_colour(0) == "#C63939"
    # Golden-angle hues: 0.618034 (blue), 0.236068 (yellow-green), 0.854102 (magenta).
    assert [naming._generated_colour(n) for n in (1, 2, 3)] == ["#3962C6", "#8BC639", "#C639B4"]
    assert colours[len(spare) + 1] == naming._generated_colour(len(spare) + 1)


def test_repeated_names_and_keys_are_numbered_in_order() -> None:
    names = [_seg("a", "A", "#1"), _seg("a", "A", "#2"), _seg("b", "B", "#3"), _seg("a", "A", "#4")]
    naming._dedupe_names(names)
    assert [n.name for n in names] == ["A", "A (2)", "B", "A (3)"]
    assert [n.key for n in names] == ["a", "a_2", "b", "a_3"]


def test_archetype_segments_keep_their_fixed_colour_and_descriptive_ones_get_valid_distinct_colours() -> None:
    """Six segments on four features: four core archetypes plus descriptive siblings."""
    rng = np.random.default_rng(3)
    centroids = pd.DataFrame(rng.normal(0, 1, (9, 4)), columns=[VALUE, FREQUENCY, RESPONSE, TENURE])
    names = name_segments(centroids)
    colours = [n.colour for n in names]
    assert len(set(colours)) == len(colours)
    assert all(HEX.match(c) for c in colours)
    for n in names:
        if n.archetype != naming.DESCRIPTIVE:
            assert n.colour == ARCHETYPE_BY_KEY[n.archetype].colour
    assert any(n.archetype == naming.DESCRIPTIVE for n in names)


def test_descriptive_siblings_are_told_apart_by_their_largest_difference() -> None:
    """Rows 0 and 1 share every deviation ("High spenders, frequent"); they differ most in spend (2 vs 1)."""
    canon = pd.DataFrame({VALUE: [2.0, 1.0, 3.0], FREQUENCY: [1.0, 0.5, -1.0]}, index=[0, 1, 2])
    out = descriptive.descriptive_names(canon, naming._evidence(canon, None), [0, 1, 2])
    assert [n.name for n in out] == [
        "High spenders, frequent · higher spend",
        "High spenders, frequent · lower spend",
        "Top spenders, infrequent",
    ]
    assert [n.key for n in out] == [
        "high_spenders_frequent_higher_spend",
        "high_spenders_frequent_lower_spend",
        "top_spenders_infrequent",
    ]
    assert [n.colour for n in out] == list(EXTRA_COLOURS[:3])


def test_a_high_value_archetype_moves_to_the_richest_unnamed_segment() -> None:
    canon = pd.DataFrame({VALUE: [0.5, 2.0, 1.5, 0.5]})
    evidence = [naming.SegmentEvidence(z={VALUE: v, FREQUENCY: 1.0, RESPONSE: 1.0, TENURE: 1.0}) for v in canon[VALUE]]
    pool = [ARCHETYPE_BY_KEY["high_value_loyal"]]
    # Segment 0 holds it; 1 (spend 2.0) and 2 (1.5) are richer and unnamed: it goes to 1.
    assert naming._prefer_higher_value(canon, evidence, pool, [0, -1, -1, -1]) == [-1, 0, -1, -1]
    # Held by the richest already, or only an equally rich segment is unnamed: unchanged.
    assert naming._prefer_higher_value(canon, evidence, pool, [-1, 0, -1, -1]) == [-1, 0, -1, -1]
    assert naming._prefer_higher_value(canon.iloc[[0, 3]], evidence[:1] * 2, pool, [0, -1]) == [0, -1]
    # Spend not clustered: nothing to prefer.
    assert naming._prefer_higher_value(pd.DataFrame({FREQUENCY: [1.0, 2.0]}), evidence[:2], pool, [0, -1]) == [0, -1]


def test_name_dataclass_round_trips_to_dict() -> None:
    seg = _seg("a", "A", "#123456")
    assert seg.to_dict()["actions"] == []
    assert dataclasses.replace(seg, actions=("x",)).to_dict()["actions"] == ["x"]


def test_evidence_above_below_and_lapsed_boundaries() -> None:
    ev = naming.SegmentEvidence(z={VALUE: 0.0, FREQUENCY: 0.1, TENURE: -0.1})
    assert not ev.above(VALUE) and not ev.below(VALUE)  # exactly average is neither
    assert ev.above(FREQUENCY) and not ev.below(FREQUENCY)
    assert ev.below(TENURE) and not ev.above(TENURE)
    assert not ev.above(RESPONSE) and not ev.below(RESPONSE)  # not clustered
    # More than half lapsed: 0.5 is not, 0.51 is; without facts, a Recency z above 0.5.
    assert naming.SegmentEvidence(z={}, lapsed_share=0.5).mostly_lapsed() is False
    assert naming.SegmentEvidence(z={}, lapsed_share=0.51).mostly_lapsed() is True
    assert naming.SegmentEvidence(z={naming.RECENCY: 0.5}).mostly_lapsed() is False
    assert naming.SegmentEvidence(z={naming.RECENCY: 0.6}).mostly_lapsed() is True
    assert naming.SegmentEvidence(z={naming.RECENCY: 2.0}, lapsed_share=0.1).mostly_lapsed() is False
    assert naming.SegmentEvidence(z={}).mostly_lapsed() is None


def test_contradictions_name_each_broken_claim() -> None:
    average = naming.SegmentEvidence(z={VALUE: 0.0, FREQUENCY: 0.0}, top_value=False, lapsed_share=0.6)
    assert naming.contradictions("High-Value Loyal", average) == [
        "'High-Value' claims spend above average",
        "'Loyal' claims purchase frequency not below average and not mostly lapsed",
    ]
    assert naming.contradictions("Top spenders, lapsed", average) == [
        "'Top' claims spend above average and the highest-spending segment"
    ]
    rich = naming.SegmentEvidence(z={VALUE: 1.0, FREQUENCY: 0.0}, top_value=True, lapsed_share=0.2)
    assert naming.contradictions("Top spenders, loyal", rich) == []
    assert naming.contradictions("Low spenders", rich) == [
        "'Low spend' claims spend below average and not the highest-spending segment"
    ]


def test_evidence_text_strongest_first_with_the_lapsed_share() -> None:
    z = {VALUE: 1.64, FREQUENCY: -0.4, "Custom": 0.0}
    # A column outside the built-in features is named by its short words (pipeline.features.custom).
    assert naming.evidence_text(z) == "spend +1.6σ, frequency −0.4σ, custom +0.0σ"
    assert (
        naming.evidence_text(z, 0.25, 180.0)
        == "spend +1.6σ, frequency −0.4σ, custom +0.0σ, 25% last bought over 180 days ago"
    )
    assert naming.evidence_text(z, 0.0, 180.0) == naming.evidence_text(z)  # nobody lapsed: not mentioned
    assert naming.evidence_text(z, 0.25, None) == naming.evidence_text(z)  # no period known


def test_names_that_still_coincide_are_numbered() -> None:
    """Three average segments: one "Steady Regulars", two "Typical customers" that no deviation tells apart."""
    centroids = pd.DataFrame([[0.0, 0.0, 0.0, 0.0]] * 3, columns=[VALUE, FREQUENCY, RESPONSE, TENURE])
    names = name_segments(centroids)
    assert names[0].name == "Steady Regulars"
    # (The qualifier of two identical segments is arbitrary; only the numbering is asserted.)
    assert names[1].name.startswith("Typical customers")
    assert names[2].name == f"{names[1].name} (2)"
    assert names[2].key == f"{names[1].key}_2"
    assert [n.colour for n in names] == [ARCHETYPE_BY_KEY["steady_regular"].colour, *EXTRA_COLOURS[:2]]


@pytest.mark.parametrize("scaling", ["standard", "log1p"])
def test_fast_scorer_reproduces_a_real_pipeline(scaling: str) -> None:
    """The NumPy path (imputer, scaler, nearest centre) gives scikit-learn's matrix and labels exactly."""
    from pipeline.config import Settings
    from pipeline.segmentation.model import build_pipeline
    from pipeline.segmentation.simulate import FastScorer
    from pipeline.synthetic.customers import generate_sample

    raw, _ = generate_sample(rows=300, seed=3)
    settings = Settings(model="kmeans", scaling=scaling, n_init=1)
    pipe = build_pipeline(settings, dt.date(2015, 1, 1), n_rows=len(raw)).fit(raw)
    feats = list(settings.features)
    X = pipe.named_steps["features"].transform(raw).to_numpy(dtype=float)
    X[::7, 0] = np.nan  # the imputer's path too
    scorer = FastScorer(pipe)
    assert scorer.features == feats
    frame = pd.DataFrame(X, columns=feats)
    np.testing.assert_allclose(scorer.scaled(X), pipe[1:-1].transform(frame), rtol=1e-12)
    np.testing.assert_array_equal(scorer.predict(X), pipe[1:].predict(frame))


def test_spend_rules_catch_spenders_but_not_a_spending_score_column() -> None:
    poor = naming.SegmentEvidence(z={VALUE: -1.0, FREQUENCY: 0.0}, top_value=False, lapsed_share=0.2)
    assert naming.contradictions("High spenders", poor) == ["'High spend' claims spend above average"]
    assert naming.contradictions("High spender, loyal", poor)[0] == "'High spend' claims spend above average"
    # a custom column named "Spending Score" is not a claim about spend
    assert naming.contradictions("High spending score", poor) == []
    assert naming.contradictions("Low spending score", poor) == []
