"""Measured churn risk and lifetime value wired into the pipeline (issue 9).

Known answers: the BTYD summary of a hand-made log, the marketing derivation of
hand rows, per-segment figures of a tiny frame, value at risk, the holdout
counts; the not-measured path; the ``train --json`` / ``score`` contract; determinism.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.inputs import (
    NO_RECENCY,
    ChurnInputs,
    HoldoutInputs,
    churn_inputs,
    summary_from_counts,
    summary_inputs,
)
from pipeline.churn.measure import (
    _holdout,
    customer_churn,
    measure_churn,
    transactions_after_as_of,
)
from pipeline.churn.result import ChurnMeasurement, segment_churn
from pipeline.config import Settings
from pipeline.data.purchase_days import HOLDOUT_COLUMNS
from pipeline.errors import SegmentationError
from pipeline.segmentation.training import (
    dataset_from_bytes,
    fit_segmentation,
    load_dataset,
    score,
    settings_for_dataset,
    train,
)
from pipeline.synthetic.btyd_log import CDNOW_BGNBD, CDNOW_SPEND, btyd_log_bytes
from pipeline.synthetic.inputs import customer_table_bytes, transactions_bytes

ROOT = Path(__file__).resolve().parents[1]
CHURN_KEYS = {
    "model",
    "time_unit",
    "params",
    "spend_model",
    "n_customers_fitted",
    "transactions_after_as_of",
    "holdout",
    "as_of",
    "horizon_months",
    "margin",
    "annual_discount_rate",
    "inactive_threshold",
    "source",
    "assumptions",
    "how_measured",
}
SEGMENT_CHURN_KEYS = {"share_likely_inactive", "mean_p_alive", "mean_clv", "total_clv", "value_at_risk"}

# Three customers: A buys twice on 1 Jan (one purchase day), on 5 Jan, returns on 10 Jan, buys again after
# the as-of date (two lines on 20 Jan); B buys once; C buys on 2 Jan and twice on 8 Jan, returns on 22 Jan
# and buys on 25 Jan; D only buys after the as-of date.
HAND_LOG = """Customer,Date,Amount
A,2024-01-01 10:00,10
A,2024-01-01 15:00,5
A,2024-01-05 09:00,20
A,2024-01-10 12:00,-4
B,2024-01-03 11:00,7
C,2024-01-02 08:00,3
C,2024-01-08 10:00,6
C,2024-01-08 16:00,1
A,2024-01-20 10:00,9
A,2024-01-20 10:30,2
D,2024-01-21 10:00,50
C,2024-01-22 10:00,-1
C,2024-01-25 10:00,2
"""


@pytest.fixture
def fresh(tmp_path: Path) -> Settings:
    return Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data")


def hand(settings: Settings, as_of: dt.date | None):
    return dataset_from_bytes(HAND_LOG.encode(), "hand.csv", settings.replace(as_of=as_of, k=2))


# --- inputs: transaction logs ---------------------------------------------------------


def test_hand_log_repeat_days_same_day_purchases_and_returns(fresh: Settings) -> None:
    ds = hand(fresh, dt.date(2024, 1, 12))
    assert ds.kind == "transactions"
    inputs = churn_inputs(ds.customers, ds.kind, ds.as_of)
    got = pd.DataFrame(
        {"x": inputs.x, "t_x": inputs.t_x, "T": inputs.T, "m": inputs.monetary}, index=ds.customers["ID"]
    ).sort_index()
    expected = pd.DataFrame(
        {
            # A: purchase days 1 and 5 Jan (two orders on 1 Jan count once; the return is not a purchase).
            # Spend (10 + 5 + 20 − 4) / 2 days.  B: one day.  C: 2 and 8 Jan, (3 + 6 + 1) / 2.
            "x": [1.0, 0.0, 1.0],
            "t_x": [4.0, 0.0, 6.0],
            "T": [11.0, 9.0, 10.0],
            "m": [15.5, 7.0, 5.0],
        },
        index=pd.Index(["A", "B", "C"], name="ID"),
    )
    pd.testing.assert_frame_equal(got, expected)
    assert inputs.source == "transactions" and inputs.as_of == dt.date(2024, 1, 12)
    # t_x = T − days since the last purchase: the same customers the Recency column describes.
    np.testing.assert_array_equal(inputs.T - inputs.t_x, ds.customers["Recency"].to_numpy())


def test_hand_log_holdout_after_as_of(fresh: Settings) -> None:
    ds = hand(fresh, dt.date(2024, 1, 12))
    assert transactions_after_as_of(ds.report.items) == 5
    h = churn_inputs(ds.customers, ds.kind, ds.as_of).holdout
    assert h is not None and h.after_as_of
    assert (h.calibration_end, h.end, h.days) == (dt.date(2024, 1, 12), dt.date(2024, 1, 25), 13)
    by_id = dict(zip(ds.customers["ID"], h.actual, strict=True))
    # A: two lines on 20 Jan = one purchase day; C: the 22 Jan return is not a purchase; D is not a calibration customer.
    assert by_id == {"A": 1.0, "B": 0.0, "C": 1.0}


def test_hand_log_internal_holdout_when_nothing_after_as_of(fresh: Settings) -> None:
    ds = hand(fresh, None)  # as-of = the last line, 25 Jan
    assert ds.as_of == dt.date(2024, 1, 25)
    h = churn_inputs(ds.customers, ds.kind, ds.as_of).holdout
    assert h is not None and not h.after_as_of
    # Log from 1 Jan to 25 Jan (24 days): cut-off after 16 days, 17 Jan; period (17 Jan, 25 Jan].
    assert (h.calibration_end, h.end) == (dt.date(2024, 1, 17), dt.date(2024, 1, 25))
    ids = ds.customers["ID"].tolist()
    assert ids == ["A", "B", "C", "D"][: len(ids)] and len(h.x) == 3  # D first bought after the cut-off
    np.testing.assert_array_equal(h.x, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(h.t_x, [4.0, 0.0, 6.0])
    np.testing.assert_array_equal(h.T, [16.0, 14.0, 15.0])
    np.testing.assert_array_equal(h.actual, [1.0, 0.0, 1.0])


def test_internal_holdout_ends_at_the_last_purchase_when_the_as_of_date_is_later(fresh: Settings) -> None:
    ds = hand(fresh, dt.date(2024, 3, 1))
    h = churn_inputs(ds.customers, ds.kind, ds.as_of).holdout
    assert h is not None and not h.after_as_of
    # Nothing happens after 25 Jan: the period ends there, not on 1 Mar (cut-off as when the as-of date is 25 Jan).
    assert (h.calibration_end, h.end) == (dt.date(2024, 1, 17), dt.date(2024, 1, 25))
    np.testing.assert_array_equal(h.T, [16.0, 14.0, 15.0])


def test_holdout_check_groups_by_calibration_repeat_purchases() -> None:
    model = BetaGeoModel.from_params(CDNOW_BGNBD)
    x = np.array([0.0, 0.0, 1.0, 7.0, 9.0])
    t_x = np.array([0.0, 0.0, 30.0, 200.0, 250.0])
    T = np.array([100.0, 200.0, 250.0, 260.0, 270.0])
    actual = np.array([1.0, 0.0, 2.0, 3.0, 5.0])
    h = HoldoutInputs(True, dt.date(2024, 1, 1), dt.date(2024, 3, 1), x, t_x, T, actual)
    check = _holdout(model, h)
    assert check is not None
    predicted = model.expected_purchases(60.0, x, t_x, T)
    d = check.to_dict()
    assert d["kind"] == "after_as_of" and d["period"] == {"start": "2024-01-01", "end": "2024-03-01", "days": 60}
    assert d["actual_total"] == 11.0 and d["predicted_total"] == pytest.approx(predicted.sum())
    groups = {g["repeat_purchases"]: g for g in d["by_repeat_purchases"]}
    assert set(groups) == {"0", "1", "7+"}
    assert (groups["0"]["n_customers"], groups["0"]["actual_mean"]) == (2, 0.5)
    assert groups["0"]["predicted_mean"] == pytest.approx(predicted[:2].mean())
    assert (groups["7+"]["n_customers"], groups["7+"]["actual_mean"]) == (2, 4.0)


# --- inputs: summary tables -----------------------------------------------------------


def test_marketing_derivation_of_two_hand_rows() -> None:
    # Row 1: 5 purchases, enrolled 1 year ago (365 days), last purchase 30 days ago, $200.
    # Row 2: 1 purchase, enrolled 0.5 years ago (183 days), last purchase 10 days ago, $40.
    x, t_x, T, m = summary_from_counts(
        np.array([5.0, 1.0]), np.array([1.0, 0.5]), np.array([30.0, 10.0]), np.array([200.0, 40.0])
    )
    np.testing.assert_array_equal(x, [4.0, 0.0])
    np.testing.assert_array_equal(T, [365.0, 183.0])
    np.testing.assert_array_equal(t_x, [335.0, 0.0])
    np.testing.assert_array_equal(m, [40.0, 40.0])


def test_marketing_recency_date_moves_so_no_last_purchase_precedes_enrolment() -> None:
    frame = pd.DataFrame(
        {
            "ID": ["a", "b", "c"],
            "Purchase_Frequency": [5.0, 3.0, np.nan],
            "Customer_For_Years": [1.0, 4 / 365.25, 0.5],
            "Recency": [30.0, 20.0, 5.0],
            "Customer_Value": [200.0, 30.0, 10.0],
        }
    )
    inputs = summary_inputs(frame, dt.date(2014, 6, 29))
    assert isinstance(inputs, ChurnInputs) and inputs.source == "marketing"
    # b enrolled 4 days before the as-of date but last bought 20 days before "now": now = as-of + 16 days.
    assert inputs.tenure_offset_days == 16 and inputs.as_of == dt.date(2014, 7, 15)
    np.testing.assert_array_equal(inputs.T[:2], [381.0, 20.0])
    # b's last purchase is then on its enrolment day: one purchase day only.
    np.testing.assert_array_equal(inputs.x[:2], [4.0, 0.0])
    np.testing.assert_array_equal(inputs.t_x[:2], [351.0, 0.0])
    assert np.isnan(inputs.x[2])  # c has no purchase count: not measured
    text = " ".join(inputs.assumptions)
    assert "2014-07-15" in text and "16 days after" in text
    assert "(x = 0): 1." in text and "1 customers with a missing count" in text


def test_not_measured_without_recency(fresh: Settings) -> None:
    raw = customer_table_bytes(300, 5)
    table = pd.read_csv(pd.io.common.BytesIO(raw)).drop(columns=["Days since last order"])
    ds = dataset_from_bytes(table.to_csv(index=False).encode(), "crm.csv", fresh)
    assert "Recency" not in ds.customers
    m = measure_churn(ds.customers, ds.kind, ds.as_of, fresh)
    assert not m.measured and m.reason == NO_RECENCY
    assert m.to_dict() == {"model": None, "reason": "not measured: the data has no days since last purchase"}
    assert m.segment(np.ones(len(ds.customers), bool)) is None
    result = train(ds, fresh)
    manifest = result.artifact.manifest
    assert manifest["churn_model"] == {"model": None, "reason": NO_RECENCY}
    assert all(s["churn"] is None for s in manifest["segments"])
    assert result.artifact.customers[["p_alive", "expected_clv"]].isna().all().all()
    scored = score(result.artifact, ds)
    assert scored[["p_alive", "expected_clv"]].isna().all().all()


def test_customer_table_with_recency_is_measured_like_the_marketing_table(fresh: Settings) -> None:
    ds = dataset_from_bytes(customer_table_bytes(400, 5), "crm.csv", fresh)
    m = measure_churn(ds.customers, ds.kind, ds.as_of, fresh)
    assert m.measured and m.source == "marketing" and "customer table" in m.assumptions[0]


# --- per-segment figures ------------------------------------------------------------------


def test_segment_figures_by_hand() -> None:
    p = np.array([0.2, 0.6, 0.9, np.nan])
    clv = np.array([100.0, 50.0, 10.0, 999.0])
    seg = segment_churn(p, clv, 0.5)
    assert seg.share_likely_inactive == pytest.approx(1 / 3)
    assert seg.mean_p_alive == pytest.approx((0.2 + 0.6 + 0.9) / 3)
    assert seg.mean_clv == pytest.approx(160 / 3)
    assert seg.total_clv == pytest.approx(160.0)
    assert seg.value_at_risk == pytest.approx(100.0)
    assert set(seg.to_dict()) == SEGMENT_CHURN_KEYS
    no_spend = segment_churn(p, clv, 0.5, has_spend_model=False)
    assert (no_spend.mean_clv, no_spend.total_clv, no_spend.value_at_risk) == (None, None, None)
    assert no_spend.share_likely_inactive == pytest.approx(1 / 3)
    assert segment_churn(np.array([np.nan]), np.array([1.0]), 0.5).mean_p_alive is None


def test_value_at_risk_is_the_clv_of_customers_strictly_below_the_threshold() -> None:
    p = np.array([0.49, 0.5, 0.51, 0.1])
    clv = np.array([7.0, 11.0, 13.0, 17.0])
    assert segment_churn(p, clv, 0.5).value_at_risk == pytest.approx(24.0)
    assert segment_churn(p, clv, 0.6).value_at_risk == pytest.approx(48.0)
    assert segment_churn(p, clv, 0.05).value_at_risk == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.floats(0, 1e6)),
        min_size=1,
        max_size=40,
    ),
    st.floats(0.01, 0.99),
)
def test_segment_figures_are_bounded(rows: list[tuple[float, float]], threshold: float) -> None:
    p = np.array([r[0] for r in rows])
    clv = np.array([r[1] for r in rows])
    seg = segment_churn(p, clv, threshold)
    assert 0.0 <= seg.share_likely_inactive <= 1.0
    assert 0.0 <= seg.mean_p_alive <= 1.0
    assert 0.0 <= seg.value_at_risk <= seg.total_clv * (1 + 1e-12)


def test_manifest_segments_add_up_to_the_measurement(fresh: Settings) -> None:
    ds = load_dataset(None, fresh)
    _, customers, manifest = fit_segmentation(ds, fresh)
    segments = manifest["segments"]
    for s in segments:
        members = customers["Cluster"].to_numpy() == s["label"]
        expected = segment_churn(
            customers["p_alive"].to_numpy()[members], customers["expected_clv"].to_numpy()[members], 0.5
        )
        assert s["churn"]["share_likely_inactive"] == pytest.approx(expected.share_likely_inactive)
        assert s["churn"]["mean_p_alive"] == pytest.approx(expected.mean_p_alive)
    shares = sum(s["churn"]["share_likely_inactive"] * s["size"] for s in segments) / len(customers)
    assert shares == pytest.approx(float((customers["p_alive"] < 0.5).mean()))


# --- the log, end to end ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_like() -> tuple[bytes, Settings]:
    return btyd_log_bytes(6_000, 3), Settings(as_of=dt.date(1997, 9, 30))


def test_log_drawn_from_the_models_recovers_them_and_predicts_its_holdout(cdnow_like, tmp_path: Path) -> None:
    raw, base = cdnow_like
    s = base.replace(models_dir=tmp_path)
    ds = dataset_from_bytes(raw, "cdnow-like.csv", s)
    m = measure_churn(ds.customers, ds.kind, ds.as_of, s, transactions_after_as_of(ds.report.items))
    d = m.to_dict()
    assert set(d) >= CHURN_KEYS and d["source"] == "transactions" and d["n_customers_fitted"] == 6_000
    assert d["transactions_after_as_of"] > 0
    for k, v in CDNOW_BGNBD.items():
        assert d["params"][k] == pytest.approx(v, rel=0.25), k
    mean_spend = CDNOW_SPEND["p"] * CDNOW_SPEND["gamma"] / (CDNOW_SPEND["q"] - 1)
    gg = d["spend_model"]["params"]
    assert gg["p"] * gg["gamma"] / (gg["q"] - 1) == pytest.approx(mean_spend, rel=0.1)
    h = d["holdout"]
    assert h["kind"] == "after_as_of" and h["period"]["start"] == "1997-09-30"
    assert h["predicted_total"] == pytest.approx(h["actual_total"], rel=0.1)
    assert [g["repeat_purchases"] for g in h["by_repeat_purchases"]] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(g["n_customers"] for g in h["by_repeat_purchases"]) == h["n_customers"]
    assert np.all((m.p_alive >= 0) & (m.p_alive <= 1)) and np.isfinite(m.expected_clv).all()


def test_measurement_is_deterministic_and_independent_of_row_order(cdnow_like) -> None:
    raw, s = cdnow_like
    ds = dataset_from_bytes(raw, "cdnow-like.csv", s)
    a = measure_churn(ds.customers, ds.kind, ds.as_of, s)
    b = measure_churn(ds.customers, ds.kind, ds.as_of, s)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    np.testing.assert_array_equal(a.p_alive, b.p_alive)
    order = np.random.default_rng(0).permutation(len(ds.customers))
    c = measure_churn(ds.customers.iloc[order].reset_index(drop=True), ds.kind, ds.as_of, s)
    for k, v in a.bg_params.items():
        assert c.bg_params[k] == pytest.approx(v, rel=1e-6)
    np.testing.assert_allclose(c.p_alive, a.p_alive[order], rtol=1e-6)


def test_clv_settings_scale_and_discount(cdnow_like) -> None:
    raw, s = cdnow_like
    ds = dataset_from_bytes(raw, "cdnow-like.csv", s)
    base = measure_churn(ds.customers, ds.kind, ds.as_of, s)
    half = measure_churn(ds.customers, ds.kind, ds.as_of, s.replace(margin=0.5))
    np.testing.assert_allclose(half.expected_clv, 0.5 * base.expected_clv)
    disc = measure_churn(ds.customers, ds.kind, ds.as_of, s.replace(annual_discount_rate=0.2))
    assert np.all(disc.expected_clv <= base.expected_clv + 1e-9) and disc.expected_clv.sum() < base.expected_clv.sum()
    longer = measure_churn(ds.customers, ds.kind, ds.as_of, s.replace(horizon_months=24))
    assert longer.expected_clv.sum() > base.expected_clv.sum()
    np.testing.assert_array_equal(longer.p_alive, base.p_alive)


def test_simulator_function_gives_the_numbers_of_the_data_row(trained) -> None:
    customers = trained.artifact.customers
    model = trained.artifact.manifest["churn_model"]
    for i in (0, 5, 17, 300, 1111):
        row = customers.iloc[i]
        one = customer_churn(
            model,
            frequency=row["Purchase_Frequency"],
            tenure_years=row["Customer_For_Years"],
            recency_days=row["Recency"],
            value=row["Customer_Value"],
        )
        assert one.p_alive == pytest.approx(row["p_alive"], rel=1e-9)
        if np.isfinite(row["expected_clv"]):
            assert one.expected_clv == pytest.approx(row["expected_clv"], rel=1e-9)


def test_simulator_function_on_a_log_row(cdnow_like, tmp_path: Path) -> None:
    raw, base = cdnow_like
    s = base.replace(models_dir=tmp_path)
    ds = dataset_from_bytes(raw, "cdnow-like.csv", s)
    _, customers, manifest = fit_segmentation(ds, settings_for_dataset(ds, s))
    for i in (0, 10, 200):
        row = customers.iloc[i]
        one = customer_churn(
            manifest["churn_model"],
            frequency=row["Purchase_Frequency"],
            tenure_years=row["Customer_For_Years"],
            recency_days=row["Recency"],
            value=row["Customer_Value"],
            repeat_purchases=row["Repeat_Purchase_Days"],
        )
        assert one.p_alive == pytest.approx(row["p_alive"], rel=1e-9)
        assert one.expected_clv == pytest.approx(row["expected_clv"], rel=1e-9)
    none = customer_churn({"model": None, "reason": NO_RECENCY}, frequency=3, tenure_years=1, recency_days=5, value=9)
    assert np.isnan(none.p_alive) and none.expected_clv is None


def test_score_reproduces_the_training_figures(trained) -> None:
    ds = load_dataset(None, Settings(models_dir=trained.artifact.directory.parent))
    scored = score(trained.artifact, ds)
    np.testing.assert_allclose(scored["p_alive"], trained.artifact.customers["p_alive"], rtol=1e-12)
    doubled = score(trained.artifact, ds, {"horizon_months": 24})
    ok = scored["expected_clv"].notna()
    assert (doubled.loc[ok, "expected_clv"] >= scored.loc[ok, "expected_clv"]).all()


def test_artifact_holdout_columns_survive_a_round_trip(cdnow_like, tmp_path: Path) -> None:
    raw, base = cdnow_like
    s = base.replace(models_dir=tmp_path)
    ds = dataset_from_bytes(raw, "cdnow-like.csv", s)
    result = train(ds, settings_for_dataset(ds, s))
    cols = result.artifact.customers.columns
    assert {"p_alive", "expected_clv", *HOLDOUT_COLUMNS} <= set(cols)


# --- settings and the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("horizon_months", 0, "1 to 120 months"),
        ("horizon_months", 1.5, "whole number of months"),
        ("margin", 0.0, "margin must be above 0"),
        ("margin", 1.5, "margin must be above 0"),
        ("annual_discount_rate", -0.1, "discount rate"),
        ("annual_discount_rate", 1.0, "discount rate"),
        ("inactive_threshold", 1.0, "inactive threshold"),
    ],
)
def test_bad_value_settings_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(SegmentationError, match=message):
        Settings(**{field: value})


def test_value_settings_change_the_artifact_hash() -> None:
    base = Settings()
    assert base.replace(margin=0.3).model_hash() != base.model_hash()
    assert base.replace(horizon_months=24).model_hash() != base.model_hash()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


def check_contract(out: dict) -> None:
    churn = out["churn_model"]
    assert set(churn) >= CHURN_KEYS
    assert churn["model"] == "bg/nbd" and churn["time_unit"] in {"day", "week"}
    assert set(churn["params"]) == {"r", "alpha", "a", "b"}
    assert churn["spend_model"] is None or (
        churn["spend_model"]["model"] == "gamma-gamma" and set(churn["spend_model"]["params"]) == {"p", "q", "gamma"}
    )
    dt.date.fromisoformat(churn["as_of"])
    assert isinstance(churn["assumptions"], list) and churn["how_measured"]
    for seg in out["segments"]:
        assert "risk" not in seg
        assert set(seg["churn"]) == SEGMENT_CHURN_KEYS


def test_cli_train_json_contract_on_the_sample(tmp_path: Path) -> None:
    proc = run_cli("train", "--json", "--models-dir", str(tmp_path / "m"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    check_contract(out)
    churn = out["churn_model"]
    assert churn["source"] == "marketing" and churn["holdout"] is None and churn["transactions_after_as_of"] == 0
    assert (churn["horizon_months"], churn["margin"], churn["annual_discount_rate"]) == (12, 1.0, 0.0)
    assert churn["n_customers_fitted"] == 2240
    # The sample shows no sign that dropout varies between customers: the plain fit runs along the ridge
    # (a, b -> infinity); the smallest penalty that gives finite values is used and said.
    assert any("no maximum at finite a and b" in a for a in churn["assumptions"])
    assert max(churn["params"]["a"], churn["params"]["b"]) < 1e4
    assert all(s["churn"]["mean_clv"] is not None and s["churn"]["mean_clv"] > 0 for s in out["segments"])


def test_cli_train_json_contract_on_a_generated_log(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_bytes(transactions_bytes(6_000, 3))
    proc = run_cli(
        "train", "--json", "--data", "log.csv", "--models-dir", "m", "--horizon-months", "6", "--margin", "0.4",
        "--discount-rate", "0.1", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    check_contract(out)
    churn = out["churn_model"]
    assert churn["source"] == "transactions" and churn["holdout"]["kind"] == "internal"
    assert (churn["horizon_months"], churn["margin"], churn["annual_discount_rate"]) == (6, 0.4, 0.1)
    proc = run_cli("score", "--data", "log.csv", "--model", out["artifact"]["path"], "--out", "s.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    scored = pd.read_csv(tmp_path / "s.csv")
    assert {"p_alive", "expected_clv"} <= set(scored.columns) and scored["p_alive"].between(0, 1).all()


def test_cli_refuses_a_bad_margin_in_one_line(tmp_path: Path) -> None:
    proc = run_cli("train", "--margin", "2", "--models-dir", "m", cwd=tmp_path)
    assert proc.returncode == 2 and "margin must be above 0" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "m").exists()


def test_measurement_type_crosses_as_a_frozen_dataclass(fresh: Settings) -> None:
    ds = load_dataset(None, fresh)
    m = measure_churn(ds.customers, ds.kind, ds.as_of, fresh)
    assert isinstance(m, ChurnMeasurement)
    with pytest.raises(AttributeError):
        m.reason = "x"  # type: ignore[misc]
