"""Feature formulas, as-of handling, and centroid-based segment naming."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from pipeline.data.loading import clean_marketing
from pipeline.data.reading import read_table
from pipeline.features.definitions import BEHAVIOURAL_FEATURES, engineer_features
from pipeline.segmentation.naming import ARCHETYPES, DESCRIPTIVE, evidence_text, name_segments, standardised_centroids
from pipeline.synthetic.customers import generate_sample, to_text_bytes

FEATURES = list(BEHAVIOURAL_FEATURES)


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    frame, _ = generate_sample(50, seed=11)
    out, _ = clean_marketing(read_table(to_text_bytes(frame), "f.csv"), "f.csv")
    return out


def test_feature_formulas(clean: pd.DataFrame) -> None:
    feats = engineer_features(clean, dt.date(2014, 6, 29))
    row, f = clean.iloc[7], feats.iloc[7]
    spend = sum(
        row[c]
        for c in ("MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts", "MntSweetProducts", "MntGoldProds")
    )
    assert f["Customer_Value"] == spend
    assert (
        f["Purchase_Frequency"]
        == row["NumWebPurchases"] + row["NumCatalogPurchases"] + row["NumStorePurchases"] + row["NumDealsPurchases"]
    )
    assert f["Campaign_Response"] == sum(row[f"AcceptedCmp{i}"] for i in range(1, 6)) + row["Response"]
    days = (pd.Timestamp("2014-06-29") - row["Dt_Customer"]).days
    assert f["Customer_For_Years"] == pytest.approx(days / 365.25)
    assert f["Children"] == row["Kidhome"] + row["Teenhome"]
    assert f["Age"] == 2014 - row["Year_Birth"]
    assert feats["Campaign_Response"].min() >= 0 and feats["Campaign_Response"].max() <= 6


def test_income_is_not_part_of_customer_value(clean: pd.DataFrame) -> None:
    richer = clean.assign(Income=clean["Income"] * 10)
    a = engineer_features(clean, dt.date(2014, 6, 29))["Customer_Value"]
    b = engineer_features(richer, dt.date(2014, 6, 29))["Customer_Value"]
    pd.testing.assert_series_equal(a, b)


def test_as_of_shifts_tenure_and_clips_future_enrolments(clean: pd.DataFrame) -> None:
    base = engineer_features(clean, dt.date(2014, 6, 29))["Customer_For_Years"]
    later = engineer_features(clean, dt.date(2015, 6, 29))["Customer_For_Years"]
    np.testing.assert_allclose(later - base, 365 / 365.25)
    early = engineer_features(clean, dt.date(2012, 1, 1))["Customer_For_Years"]
    assert (early == 0).all()


def test_missing_part_makes_feature_missing(clean: pd.DataFrame) -> None:
    holed = clean.copy()
    holed.loc[0, "MntGoldProds"] = np.nan
    feats = engineer_features(holed, dt.date(2014, 6, 29))
    assert np.isnan(feats.loc[0, "Customer_Value"])
    assert not np.isnan(feats.loc[1, "Customer_Value"])


def test_engineering_does_not_mutate_input(clean: pd.DataFrame) -> None:
    before = clean.copy()
    engineer_features(clean, dt.date(2014, 6, 29))
    pd.testing.assert_frame_equal(clean, before)


# --- naming ---------------------------------------------------------------------

CORE = pd.DataFrame(
    [
        [1.3, 1.3, 2.3, 0.7],  # high value loyal
        [1.3, 1.3, -0.2, 0.1],  # high spend low engagement
        [-0.6, -0.5, -0.3, -1.2],  # new / occasional
        [-0.6, -0.6, -0.4, 0.8],  # low value
    ],
    columns=FEATURES,
)
EXPECTED = ["high_value_loyal", "high_spend_low_engagement", "new_occasional", "low_value"]


def test_core_centroids_get_their_archetype() -> None:
    names = name_segments(CORE)
    assert [n.key for n in names] == EXPECTED
    assert names[0].name == "High-Value Loyal"
    assert names[1].name == "High Spend – Low Campaign Engagement"
    assert names[1].objective == "Engage beyond campaigns"


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))))
def test_names_are_invariant_to_cluster_numbering(perm: tuple[int, ...]) -> None:
    shuffled = CORE.iloc[list(perm)].copy()
    shuffled.index = [7, 3, 9, 1]  # arbitrary labels, as KMeans would give
    names = {n.label: n.key for n in name_segments(shuffled)}
    for label, original in zip(shuffled.index, perm, strict=True):
        assert names[label] == EXPECTED[original]


def test_evidence_names_strongest_features_first() -> None:
    text = evidence_text(
        {"Customer_Value": 1.6, "Purchase_Frequency": 1.1, "Campaign_Response": -0.4, "Customer_For_Years": 0.05}
    )
    assert text == "spend +1.6σ, frequency +1.1σ, response −0.4σ, tenure +0.1σ"


@pytest.mark.parametrize("k", [2, 3, 5, 6, 7, 8, 10, 12, 20, 30])
def test_names_are_unique_for_any_k(k: int) -> None:
    rng = np.random.default_rng(k)
    centroids = pd.DataFrame(rng.normal(0, 1, size=(k, 4)), columns=FEATURES)
    names = name_segments(centroids)
    assert len({n.key for n in names}) == k
    assert len({n.name for n in names}) == k
    assert len({n.colour for n in names}) == k
    assert all(n.evidence and n.objective and n.actions for n in names)


def test_k_below_four_uses_core_archetypes_only() -> None:
    names = name_segments(CORE.iloc[[0, 2]])
    assert {n.key for n in names} == {"high_value_loyal", "new_occasional"}


def test_more_segments_than_archetypes_get_descriptive_names() -> None:
    rng = np.random.default_rng(0)
    centroids = pd.DataFrame(rng.normal(0, 1, size=(len(ARCHETYPES) + 3, 4)), columns=FEATURES)
    names = name_segments(centroids)
    archetypes = [n.archetype for n in names if n.archetype != DESCRIPTIVE]
    assert len(archetypes) == len(set(archetypes)), "an archetype names one segment at most"
    described = [n for n in names if n.archetype == DESCRIPTIVE]
    assert len(described) >= 3
    assert all(n.key and n.objective and n.actions for n in described)


def test_naming_works_on_three_features() -> None:
    names = name_segments(CORE.drop(columns=["Campaign_Response"]))
    assert len({n.key for n in names}) == 4
    assert "response" not in names[0].evidence


def test_standardised_centroids_ignore_noise() -> None:
    feats = pd.DataFrame(
        {"Customer_Value": [0.0, 10.0, 0.0, 10.0, 99.0], "Purchase_Frequency": [1.0, 2.0, 1.0, 2.0, 50.0]}
    )
    z = standardised_centroids(feats, np.array([0, 1, 0, 1, -1]))
    assert list(z.index) == [0, 1]
    assert z.loc[0, "Customer_Value"] < 0 < z.loc[1, "Customer_Value"] + 1
