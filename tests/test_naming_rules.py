"""Issue 9, names and features that match the data: no fixed risk label, plausibility rules for names,
no clustered feature without real spread, recency for logs, identical log lines, the measured period."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import DEFAULT_FEATURES, Settings
from pipeline.data.ingest import validate_table
from pipeline.data.mapping import Mapping
from pipeline.data.reading import read_table
from pipeline.data.transactions import prepare_transactions
from pipeline.errors import DataError
from pipeline.features.definitions import (
    FEATURE_DEFINITIONS,
    DataPeriod,
    data_period,
    describe_features,
    feature_definitions,
    negligible_spread,
)
from pipeline.segmentation.naming import (
    ARCHETYPES,
    DESCRIPTIVE,
    NAME_RULES,
    Archetype,
    SegmentEvidence,
    SegmentName,
    contradictions,
    name_segments,
    segment_facts,
)
from pipeline.segmentation.training import (
    Dataset,
    dataset_from_bytes,
    fit_segmentation,
    load_dataset,
    settings_for_dataset,
    validate_for_training,
)
from pipeline.synthetic.inputs import customer_table_bytes, transactions_bytes

ROOT = Path(__file__).resolve().parents[1]
V, F, R, T, REC = "Customer_Value", "Purchase_Frequency", "Campaign_Response", "Customer_For_Years", "Recency"
CRM = Mapping(
    "customer_table",
    id_column="Client Ref",
    feature_columns={
        V: ("Total Spend",),
        F: ("Online orders", "Store orders"),
        R: ("Promo responses",),
    },
    tenure_date_column="Member since",
    recency_column="Days since last order",
)


def cdnow_like_log(n_customers: int = 2_000, seed: int = 1, dup_share: float = 0.01) -> pd.DataFrame:
    """A log shaped like CDNOW: every first purchase 1997-01-01..03-25, data to 1998-06-30, no order id.

    Purchases follow the BG/NBD story with CDNOW-like parameters (most customers buy once and lapse);
    about ``dup_share`` of the lines are bought twice on the same day at the same amount (identical lines).
    """
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 84, n_customers)
    rate = rng.gamma(0.24, 1 / 4.4, n_customers) / 7.0
    p = rng.beta(0.79, 2.43, n_customers)
    mean_spend = rng.gamma(3.0, 12.0, n_customers)
    cust, day = [np.arange(n_customers)], [first]
    t = first.astype(float)
    alive = np.ones(n_customers, bool)
    for _ in range(80):
        t = t + rng.exponential(1.0, n_customers) / np.maximum(rate, 1e-9)
        alive &= t <= 545
        if not alive.any():
            break
        cust.append(np.flatnonzero(alive))
        day.append(np.floor(t[alive]).astype(int))
        alive &= rng.random(n_customers) >= p
    c, d = np.concatenate(cust), np.concatenate(day)
    log = pd.DataFrame(
        {
            "customer_id": (c + 1).astype(str),
            "date": (pd.Timestamp("1997-01-01") + pd.to_timedelta(d, unit="D")).strftime("%Y-%m-%d"),
            "amount": np.round(rng.gamma(6.0, mean_spend[c] / 6.0), 2),
        }
    )
    again = log.iloc[np.flatnonzero(rng.random(len(log)) < dup_share)]
    return pd.concat([log, again]).sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def evidence_of(centroids: pd.DataFrame, facts: pd.DataFrame | None = None) -> dict[int, SegmentEvidence]:
    """What the rules see, computed here independently of the naming code."""
    top = centroids[V].max() if V in centroids else None
    return {
        int(label): SegmentEvidence(
            z=row.to_dict(),
            top_value=None if top is None else bool(row[V] >= top),
            lapsed_share=float(facts.loc[label, "lapsed_share"]) if facts is not None else None,
        )
        for label, row in centroids.iterrows()
    }


def assert_plausible(names: list[SegmentName], evidence: dict[int, SegmentEvidence]) -> None:
    for seg in names:
        assert contradictions(seg.name, evidence[seg.label]) == [], (seg.name, evidence[seg.label])
    assert len({s.name for s in names}) == len(names)
    assert len({s.key for s in names}) == len(names)
    assert all(s.objective and s.actions and s.evidence for s in names)


def by_label(names: list[SegmentName]) -> dict[int, SegmentName]:
    return {s.label: s for s in names}


# --- 1. no fixed risk label --------------------------------------------------------------------------------------------


def test_archetypes_and_segment_names_carry_no_risk() -> None:
    assert "risk" not in {f.name for f in dataclasses.fields(Archetype)}
    assert "risk" not in {f.name for f in dataclasses.fields(SegmentName)}
    seg = name_segments(pd.DataFrame([[1.0, 1.0], [-1.0, -1.0]], columns=[V, F]))[0]
    assert "risk" not in seg.to_dict()


FIXED_RISK = (
    re.compile(r"""["']risk["']\s*:"""),  # a "risk" key in a dict literal
    re.compile(r"""\brisk\s*=\s*["'](?:low|medium|high)["']"""),  # risk="high"
    re.compile(r"""\bRISK_ORDER\b"""),  # a ranking of fixed levels
)


def test_no_fixed_risk_label_in_the_sources() -> None:
    offenders = []
    for path in sorted([*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "dashboard").rglob("*.py")]):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in FIXED_RISK):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
    # an archetype definition with a bare level among its fields (the archetypes live in archetypes.py)
    for module in ("archetypes.py", "naming.py"):
        source = (ROOT / "pipeline/segmentation" / module).read_text(encoding="utf-8")
        assert not re.search(r"""^\s*["'](?:low|medium|high)["'],\s*$""", source, flags=re.MULTILINE), module


def test_the_source_scan_would_catch_a_risk_label() -> None:
    for line in ('    "risk": "high",', 'Archetype("x", risk="low")', "from x import RISK_ORDER"):
        assert any(p.search(line) for p in FIXED_RISK), line


# --- 2. names must match their evidence: hand-made traps, one per rule -------------------------------------------------

CORE4 = [V, F, R, T]


def frame(rows: list[list[float]], columns: list[str] = CORE4, index: list[int] | None = None) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns, index=index or list(range(len(rows))))


def test_every_rule_has_a_word_and_a_claim() -> None:
    assert len(NAME_RULES) >= 12
    assert all(r.pattern and r.claim for r in NAME_RULES)
    # every archetype's name says something a rule checks
    assert all(any(r.applies(a.name) for r in NAME_RULES) for a in ARCHETYPES)


def test_high_spend_low_campaign_engagement_names_the_dimension() -> None:
    # the public file: buys more often than average (+0.96σ), only campaign response is lower
    c = frame([[1.3, 0.96, -0.3, 0.2], [1.3, 1.3, 2.2, 0.6], [-0.6, -0.6, -0.3, -1.3], [-0.6, -0.6, -0.4, 0.6]])
    names = name_segments(c)
    assert names[0].name == "High Spend – Low Campaign Engagement"
    assert "Low Engagement" not in names[0].name.replace("Low Campaign Engagement", "")
    assert_plausible(names, evidence_of(c))


def test_high_spend_with_above_average_response_is_not_low_engagement() -> None:
    c = frame([[1.0, 1.0, 0.2, 0.0], [-0.8, -0.8, -0.3, 0.9], [-0.8, -0.8, -0.2, -1.1], [0.2, 0.2, -0.1, 0.1]])
    names = name_segments(c)
    assert names[0].archetype != "high_spend_low_engagement"
    assert_plausible(names, evidence_of(c))


def test_high_value_name_needs_above_average_spend() -> None:
    # nearest prototype is High-Value Loyal, but spend is below average
    c = frame([[-0.1, 1.2, 2.5, 0.5], [1.0, 1.0, -0.5, 0.0], [-0.8, -0.8, -0.2, -1.1], [-0.8, -0.8, -0.3, 0.9]])
    names = name_segments(c)
    assert names[0].archetype != "high_value_loyal" and "high" not in names[0].name.lower()
    assert_plausible(names, evidence_of(c))


def test_the_top_segment_is_never_told_to_grow_into_high_value() -> None:
    # A is the top spender and closest to Rising Stars; B is a real rising star
    c = frame(
        [
            [2.5, 2.0, 0.0, -1.0],  # A
            [0.8, 0.8, 0.0, -1.0],  # B
            [-0.8, -0.8, -0.3, 0.9],
            [-0.8, -0.8, -0.2, -1.1],
            [-0.3, -0.3, 2.0, 0.0],
        ]
    )
    names = name_segments(c)
    assert names[0].archetype != "rising_star" and "rising" not in names[0].name.lower()
    assert names[0].objective != "Nurture into high value"
    assert names[1].name == "Rising Stars"
    assert_plausible(names, evidence_of(c))


def test_steady_regulars_never_buy_less_often_than_average() -> None:
    c = frame(
        [
            [0.2, -0.2, -0.3, 0.8],  # nearest Steady Regulars, but below-average frequency
            [1.2, 1.0, 1.5, 0.4],
            [1.0, 1.0, -0.5, 0.0],
            [-0.8, -0.8, -0.2, -1.1],
            [-0.8, -0.8, -0.3, 0.9],
        ]
    )
    names = name_segments(c)
    assert names[0].archetype != "steady_regular" and not re.search("steady|regular|loyal", names[0].name, re.I)
    assert_plausible(names, evidence_of(c))


def test_loyal_is_never_mostly_lapsed() -> None:
    cols = [V, F, REC]
    c = frame([[1.2, 1.0, -0.5], [-0.8, -0.8, 0.3], [-0.4, -0.6, 1.3]], cols)
    facts = pd.DataFrame({"lapsed_share": [0.7, 0.1, 0.9], "lapsed_after_days": 272.0})
    names = name_segments(c, facts)
    assert names[0].archetype != "high_value_loyal"
    assert_plausible(names, evidence_of(c, facts))
    # the same centroids, not lapsed: the prototype wins
    fresh = facts.assign(lapsed_share=[0.1, 0.1, 0.9])
    assert name_segments(c, fresh)[0].name == "High-Value Loyal"


def test_new_needs_below_average_tenure() -> None:
    c = frame([[-0.8, -0.8, -0.2, 0.05], [-0.8, -0.8, -0.3, 0.9], [1.2, 1.0, 1.5, 0.4], [1.0, 1.0, -0.5, 0.0]])
    names = name_segments(c)
    assert names[0].archetype != "new_occasional" and "new" not in names[0].name.lower().split()
    assert_plausible(names, evidence_of(c))


def test_low_value_is_never_the_top_segment() -> None:
    # every centroid below average (noise elsewhere): the top one must not be called low-value
    c = frame([[-0.2, -0.5, -0.3, 0.9], [-0.8, -0.8, -0.3, 0.9]], [V, F, R, T])
    names = name_segments(c)
    assert names[0].archetype != "low_value" and "low spend" not in names[0].name.lower()
    assert names[1].name == "Low-Value"
    assert_plausible(names, evidence_of(c))


def test_lapsed_needs_mostly_lapsed_customers() -> None:
    c = frame([[-0.4, -0.6, 1.3], [1.2, 1.0, -0.5], [-0.8, -0.8, 0.3]], [V, F, REC])
    facts = pd.DataFrame({"lapsed_share": [0.3, 0.0, 0.2], "lapsed_after_days": 272.0})
    names = name_segments(c, facts)
    assert names[0].archetype != "lapsed" and "lapsed" not in names[0].name.lower()
    assert names[0].name == "Less recent buyers, infrequent"
    assert_plausible(names, evidence_of(c, facts))


def test_segment_facts_known_answers() -> None:
    # period: longest tenure 2 years -> lapsed after 365.25 days without a purchase
    profile = pd.DataFrame({REC: [10.0, 400.0, 500.0, 20.0, 366.0, 5.0], T: [2.0, 1.0, 1.5, 0.5, 1.2, 0.1]})
    facts = segment_facts(profile, np.array([0, 0, 0, 1, 1, -1]))
    assert list(facts.index) == [0, 1]
    assert facts["lapsed_share"].tolist() == pytest.approx([2 / 3, 1 / 2])
    assert facts["lapsed_after_days"].tolist() == [365.25, 365.25]
    # not measurable: no recency, no tenure, or no period at all
    assert segment_facts(profile.drop(columns=REC), np.zeros(6)) is None
    assert segment_facts(profile.drop(columns=T), np.zeros(6)) is None
    assert segment_facts(profile.assign(**{T: 0.0}), np.zeros(6)) is None


# --- descriptive fallback: known answers ---------------------------------------------------------------------------


def test_fallback_top_spenders_infrequent() -> None:
    c = frame([[1.5, -0.5], [-1.5, 0.5]], [V, F])
    names = name_segments(c)
    assert [n.name for n in names] == ["Top spenders, infrequent", "Low-Value"]
    assert names[0].archetype == DESCRIPTIVE and names[0].key == "top_spenders_infrequent"
    assert names[0].objective == "Protect and grow their value"
    assert names[0].evidence == "spend +1.5σ, frequency −0.5σ"
    assert_plausible(names, evidence_of(c))


def test_fallback_top_spenders_lapsed() -> None:
    c = frame([[2.0, 0.3, 1.2], [-0.5, -0.8, 1.5], [-0.6, -0.2, -0.8]], [V, F, REC])
    facts = pd.DataFrame({"lapsed_share": [0.7, 0.9, 0.0], "lapsed_after_days": 272.0})
    names = name_segments(c, facts)
    assert [n.name for n in names] == ["Top spenders, lapsed", "Lapsed", "Low-Value"]
    assert names[0].objective == "Protect and grow their value"
    assert names[0].evidence == "spend +2.0σ, recency +1.2σ, frequency +0.3σ, 70% last bought over 272 days ago"
    assert_plausible(names, evidence_of(c, facts))


def test_fallback_frequent_buyers_low_spend() -> None:
    c = frame([[-1.0, 1.5], [-0.8, -0.8], [1.8, 0.5]], [V, F])
    names = name_segments(c)
    assert [n.name for n in names] == ["Frequent buyers, low spend", "Low-Value", "High-Value Loyal"]
    assert names[0].objective == "Keep them engaged"
    assert_plausible(names, evidence_of(c))


def test_high_value_archetype_goes_to_the_richer_segment() -> None:
    # b is exactly the prototype, a spends far more: the high-value name goes to a
    c = frame([[8.0, 8.0, -2.0], [1.2, 1.0, -0.5], [-0.4, -0.6, 1.3], [-0.8, -0.8, 0.3]], [V, F, REC])
    names = name_segments(c)
    assert names[0].name == "High-Value Loyal"
    assert names[1].name == "High spenders, frequent"
    assert_plausible(names, evidence_of(c))


def test_same_shaped_leftovers_are_told_apart() -> None:
    c = frame([[3.0, 3.0], [6.0, 6.0], [1.2, 1.0], [-0.8, -0.8]], [V, F])
    names = [n.name for n in name_segments(c)]
    assert names == [
        "High spenders, frequent · higher frequency",
        "High-Value Loyal",
        "High spenders, frequent · lower frequency",
        "Low-Value",
    ]


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))))
def test_descriptive_names_do_not_depend_on_cluster_numbering(perm: tuple[int, ...]) -> None:
    c = frame([[2.0, 0.3, 1.2], [-0.5, -0.8, 1.5], [-0.6, -0.2, -0.8], [0.1, 1.5, -0.5]], [V, F, REC])
    facts = pd.DataFrame({"lapsed_share": [0.7, 0.9, 0.0, 0.1], "lapsed_after_days": 272.0})
    base = [n.name for n in name_segments(c, facts)]
    labels = [11, 3, 7, 0]
    shuffled = c.iloc[list(perm)].set_axis([labels[i] for i in range(4)])
    shuffled_facts = facts.iloc[list(perm)].set_axis(shuffled.index)
    got = by_label(name_segments(shuffled, shuffled_facts))
    for pos, original in enumerate(perm):
        assert got[labels[pos]].name == base[original]


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(2, 12),
    features=st.lists(st.sampled_from([V, F, R, T, REC]), min_size=2, max_size=5, unique=True),
    seed=st.integers(0, 10_000),
    with_facts=st.booleans(),
)
def test_no_name_contradicts_its_centroid(k: int, features: list[str], seed: int, with_facts: bool) -> None:
    rng = np.random.default_rng(seed)
    c = pd.DataFrame(rng.normal(0, 1.2, size=(k, len(features))), columns=features)
    facts = None
    if with_facts:
        facts = pd.DataFrame({"lapsed_share": rng.random(k), "lapsed_after_days": 200.0})
    names = name_segments(c, facts)
    assert_plausible(names, evidence_of(c, facts))


# --- names on generated data of every input kind -------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(models_dir=tmp_path_factory.mktemp("models"))


def fitted(dataset: Dataset, s: Settings) -> tuple[dict, pd.DataFrame]:
    run = settings_for_dataset(dataset, s)
    validate_for_training(dataset, run)
    _, customers, manifest = fit_segmentation(dataset, run)
    return manifest, customers


def check_manifest(manifest: dict, customers: pd.DataFrame) -> None:
    segs = manifest["segments"]
    centroids = pd.DataFrame({s["label"]: s["centroid_z"] for s in segs}).T
    facts = segment_facts(customers, customers["Cluster"].to_numpy())
    ev = evidence_of(centroids, facts)
    for s in segs:
        assert contradictions(s["name"], ev[s["label"]]) == [], (s["name"], s["evidence"])
        assert "risk" not in s
    assert len({s["name"] for s in segs}) == len({s["key"] for s in segs}) == len(segs)


def dataset(kind: str, s: Settings) -> Dataset:
    if kind == "sample":
        return load_dataset(None, s)
    if kind == "log":
        return dataset_from_bytes(transactions_bytes(6_000, 3), "log.csv", s)
    if kind == "log_campaign":
        return dataset_from_bytes(transactions_bytes(6_000, 4, campaign=True), "promo.csv", s)
    if kind == "customer_table":
        return dataset_from_bytes(customer_table_bytes(600, 5), "crm.csv", s, CRM)
    return dataset_from_bytes(csv(cdnow_like_log(2_000, 2)), "cdnow.csv", s)


@pytest.mark.parametrize("kind", ["sample", "log", "log_campaign", "customer_table", "cdnow_like"])
@pytest.mark.parametrize("k", [4, 7])
def test_no_generated_segment_gets_a_name_its_evidence_contradicts(base: Settings, kind: str, k: int) -> None:
    s = base.replace(k=k)
    manifest, customers = fitted(dataset(kind, s), s)
    assert len(manifest["segments"]) == k
    check_manifest(manifest, customers)


def test_sample_names_known_answer(base: Settings) -> None:
    manifest, _ = fitted(load_dataset(None, base), base)
    assert sorted(s["name"] for s in manifest["segments"]) == [
        "High Spend – Low Campaign Engagement",
        "High-Value Loyal",
        "Low-Value",
        "New / Occasional",
    ]
    hsle = next(s for s in manifest["segments"] if s["archetype"] == "high_spend_low_engagement")
    assert hsle["centroid_z"]["Campaign_Response"] < 0 < hsle["centroid_z"]["Purchase_Frequency"]


def test_cdnow_like_log_names_tenure_and_duplicates(base: Settings) -> None:
    log = cdnow_like_log(2_000, 2)
    ds = dataset_from_bytes(csv(log), "cdnow.csv", base)
    manifest, customers = fitted(ds, base)
    # tenure varies by under 90 days: left out, with the reason; recency is clustered instead
    assert [f["name"] for f in manifest["features"]] == [V, F, REC]
    notes = {i["kind"]: i for i in manifest["data_quality"]["items"]}
    assert "Customer_For_Years is left out of the clustering" in notes["feature_left_out"]["message"]
    assert notes["identical_lines_kept"]["count"] == int(log.duplicated().sum()) > 0
    assert "duplicate_lines" not in notes
    # customers, not rows; the measured period
    assert manifest["data"]["n_customers"] == log["customer_id"].nunique() < manifest["data_quality"]["rows_kept"]
    assert manifest["data"]["period"] == {
        "start": log["date"].min(),
        "end": log["date"].max(),
        "text": f"{log['date'].min()} to {log['date'].max()} (18 months)",
    }
    value = {s["name"]: s["centroid"][V] for s in manifest["segments"]}
    top = max(value, key=value.get)
    assert not re.search("rising|low", top, re.I)
    check_manifest(manifest, customers)


# --- 3. a feature with no real spread ------------------------------------------------------------------------------


def spread_frame(days: float, n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            V: rng.gamma(2.0, 50.0, n),
            F: rng.integers(1, 20, n).astype(float),
            T: 1.0 + np.linspace(0, days, n) / 365.25,
            REC: np.linspace(0, 400, n),
        }
    )


def test_negligible_spread_known_answers() -> None:
    flat = negligible_spread(spread_frame(84), (V, F, T, REC))
    assert list(flat) == [T]
    assert "Tenure: 98% of customers lie within 82 days of each other" in flat[T]
    assert "less than the 90 days" in flat[T]
    assert negligible_spread(spread_frame(120), (V, F, T, REC)) == {}
    few_days = pd.DataFrame({REC: np.linspace(0, 20, 300)})
    assert "less than the 30 days" in negligible_spread(few_days, (REC,))[REC]
    money = pd.DataFrame({V: np.linspace(99.0, 101.0, 300)})
    assert "5% of its median" in negligible_spread(money, (V,))[V]
    assert negligible_spread(pd.DataFrame({V: np.linspace(50.0, 150.0, 300)}), (V,)) == {}
    counts = pd.DataFrame({F: [3.0] * 297 + [4.0] * 3})
    assert "1 purchases" in negligible_spread(counts, (F,))[F]
    # constant and missing features are left to the refusals, not left out
    assert negligible_spread(pd.DataFrame({T: [1.0] * 50, V: [np.nan] * 50}), (T, V, F)) == {}


def dataset_of(customers: pd.DataFrame, kind: str = "transactions") -> Dataset:
    from pipeline.data.quality import DataQualityReport

    customers = customers.assign(ID=[str(i) for i in range(len(customers))])
    return Dataset(
        "flat.csv", "h", customers, DataQualityReport(len(customers), len(customers)), dt.date(1998, 6, 30), kind
    )


def test_settings_leave_a_flat_feature_out_and_training_refuses_it() -> None:
    ds = dataset_of(spread_frame(23))
    s = Settings()
    run = settings_for_dataset(ds, s)
    assert run.features == (V, F, REC)
    validate_for_training(ds, run)
    with pytest.raises(DataError, match=r"the feature Customer_For_Years barely varies \(Tenure: 98% of customers"):
        validate_for_training(ds, s)
    asked = s.replace(features=(V, T))
    with pytest.raises(DataError, match=r"provides 1 usable feature.*at least two are needed.*Tenure: 98%"):
        settings_for_dataset(ds, asked)


def test_validation_reports_the_flat_feature_and_clusters_the_rest() -> None:
    table = read_table(csv(cdnow_like_log(600, 4)), "cdnow.csv")
    v = validate_table(table, None, Settings(), "cdnow.csv")
    assert v.ok
    assert v.features == (V, F, REC)
    left = [i for i in v.report.items if i.kind == "feature_left_out"]
    assert [i.column for i in left] == [T] and left[0].action == "info" and left[0].count == v.n_customers


def test_a_table_left_with_one_usable_feature_is_refused_with_the_reason() -> None:
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        {
            "client": [f"c{i}" for i in range(200)],
            "spend": rng.gamma(2.0, 50.0, 200).round(2),
            "joined": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 20, 200), unit="D")).strftime(
                "%Y-%m-%d"
            ),
        }
    )
    mapping = Mapping(
        "customer_table", id_column="client", feature_columns={V: ("spend",)}, tenure_date_column="joined"
    )
    v = validate_table(read_table(csv(table), "t.csv"), mapping, Settings(k=2), "t.csv")
    assert not v.ok
    text = " ".join(v.problems)
    assert "at least two features are needed to segment; the mapping provides 1 (Customer_Value)" in text
    assert "t.csv: Customer_For_Years cannot be used: Tenure: 98% of customers lie within" in text


def test_the_sample_keeps_all_four_features(base: Settings) -> None:
    ds = load_dataset(None, base)
    assert settings_for_dataset(ds, base).features == DEFAULT_FEATURES
    assert not [i for i in ds.report.items if i.kind == "feature_left_out"]


# --- 4. recency is clustered for logs --------------------------------------------------------------------------------


def test_a_log_clusters_recency_by_default(base: Settings) -> None:
    ds = dataset_from_bytes(transactions_bytes(3_000, 9), "log.csv", base)
    assert ds.features == (V, F, T, REC)
    assert settings_for_dataset(ds, base).features == (V, F, T, REC)
    # a set asked for explicitly is kept as asked
    assert settings_for_dataset(ds, base.replace(features=(V, F))).features == (V, F)
    d = FEATURE_DEFINITIONS[REC]
    assert (d.unit, d.short, d.min_spread) == ("days", "recency", 30.0)


def test_tables_do_not_cluster_recency_unless_asked(base: Settings) -> None:
    crm = dataset_from_bytes(customer_table_bytes(300, 2), "crm.csv", base, CRM)
    assert REC in crm.customers.columns and REC not in crm.features
    assert settings_for_dataset(crm, base).features == (V, F, R, T)
    assert settings_for_dataset(crm, base.replace(features=(V, REC))).features == (V, REC)


# --- 5. identical log lines ------------------------------------------------------------------------------------------

LOG = pd.DataFrame(
    {
        "order": ["1", "1", "2", "3"],
        "customer": ["a", "a", "a", "b"],
        "when": ["2020-01-01", "2020-01-01", "2020-02-01", "2020-01-15"],
        "amount": ["10.00", "10.00", "5.00", "7.00"],
    }
)


def test_identical_lines_without_an_order_id_are_kept_as_repeat_purchases() -> None:
    m = Mapping("transactions", id_column="customer", timestamp_column="when", amount_column="amount")
    p = prepare_transactions(LOG.drop(columns="order"), m)
    a = p.customers.set_index("ID").loc["a"]
    assert a[V] == 25.0  # both 10.00 lines count
    assert p.report.rows_kept == 4
    kept = [i for i in p.report.items if i.kind == "identical_lines_kept"]
    assert len(kept) == 1 and kept[0].count == 1 and kept[0].action == "info"
    assert "kept as repeat purchases" in kept[0].message
    assert not [i for i in p.report.items if i.kind == "duplicate_lines"]


def test_identical_lines_with_an_order_id_are_copies() -> None:
    m = Mapping(
        "transactions", id_column="customer", timestamp_column="when", amount_column="amount", order_column="order"
    )
    p = prepare_transactions(LOG, m)
    assert p.customers.set_index("ID").loc["a", V] == 15.0
    assert p.report.rows_kept == 3
    dropped = [i for i in p.report.items if i.kind == "duplicate_lines"]
    assert len(dropped) == 1 and dropped[0].count == 1 and "order id order included" in dropped[0].message
    assert not [i for i in p.report.items if i.kind == "identical_lines_kept"]


# --- 6. the measured period instead of fixed words -------------------------------------------------------------------


def test_data_period_known_answers() -> None:
    customers = pd.DataFrame({"Enrolled": pd.to_datetime(["1997-03-25", "1997-01-01"])})
    p = data_period(customers, dt.date(1998, 6, 30))
    assert p == DataPeriod(dt.date(1997, 1, 1), dt.date(1998, 6, 30), "1997-01-01 to 1998-06-30 (18 months)")
    assert p.to_dict() == {"start": "1997-01-01", "end": "1998-06-30", "text": "1997-01-01 to 1998-06-30 (18 months)"}
    two = data_period(pd.DataFrame({"Enrolled": pd.to_datetime(["2012-06-30"])}), dt.date(2014, 6, 30))
    assert two.text == "2012-06-30 to 2014-06-30 (2 years)"
    short = data_period(pd.DataFrame({"Enrolled": pd.to_datetime(["2014-06-01"])}), dt.date(2014, 6, 30))
    assert short.text == "2014-06-01 to 2014-06-30 (29 days)"
    assert data_period(pd.DataFrame({"x": [1]}), dt.date(2014, 6, 30)).to_dict() == {
        "start": None,
        "end": "2014-06-30",
        "text": "to 2014-06-30",
    }


def test_descriptions_say_only_what_the_data_shows() -> None:
    assert not [d.name for d in FEATURE_DEFINITIONS.values() if "two years" in d.description]
    period = DataPeriod(dt.date(1997, 1, 1), dt.date(1998, 6, 30), "")
    log = {d.name: d for d in feature_definitions((V, F, T, REC), "transactions", period)}
    assert log[V].description.startswith("Net spend from 1997-01-01 to 1998-06-30")
    assert "two years" not in " ".join(d.description for d in log.values())
    marketing = {d.name: d for d in feature_definitions((V, F), "marketing", period)}
    assert "last two years (as the source table documents)" in marketing[V].description
    table = describe_features("customer_table")
    assert "does not say which period" in table[V]["description"]
    assert feature_definitions((V,))[0] == FEATURE_DEFINITIONS[V]


def test_manifest_records_the_period_and_describes_the_features(base: Settings) -> None:
    ds = dataset_from_bytes(transactions_bytes(3_000, 9), "log.csv", base)
    manifest, _ = fitted(ds, base)
    period = manifest["data"]["period"]
    assert (
        period["end"] == ds.as_of.isoformat() and period["start"] == ds.customers["Enrolled"].min().date().isoformat()
    )
    spend = next(f for f in manifest["features"] if f["name"] == V)
    assert (
        spend["description"]
        == f"Net spend from {period['start']} to {period['end']}: purchases minus returns and cancellations."
    )


def test_overview_captions_use_the_period_and_count_customers(dash_app) -> None:
    import sys

    import dash

    overview = next(sys.modules[p["module"]] for p in dash.page_registry.values() if p["path"] == "/")
    assert overview.period_text({"data": {"period": {"text": "1997-01-01 to 1998-06-30 (18 months)"}}}) == (
        "1997-01-01 to 1998-06-30 (18 months)"
    )
    assert overview.period_text({"data": {}}) == "period not recorded"
    dq = {
        "rows_read": 69_659,
        "rows_kept": 69_404,
        "rows_dropped": 255,
        "values_imputed": 0,
        "rows_flagged": 0,
        "items": [],
    }
    text = str(overview.quality_summary(dq, 23_570))
    assert "23,570" in text and "customers kept" in text and "69,404" not in text


def test_the_spend_period_is_the_one_the_data_gives() -> None:
    from pipeline.features.definitions import spend_period

    period = "1997-01-01 to 1998-06-30 (18 months)"
    assert spend_period("transactions", period) == period  # a log's spend is summed over its measured period
    assert spend_period("marketing", period) == "the last two years, per the source table"
    # a mapped table's enrolment dates are not the period its spend covers
    assert spend_period("customer_table", period) == "period not stated in the data"
