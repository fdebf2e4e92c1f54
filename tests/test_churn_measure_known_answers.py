"""Known answers of the churn measurement on tiny tables (issue #15: mutation score of pipeline.churn.measure).

Every figure is checked against an independent computation with the models themselves
(BetaGeoModel / GammaGammaModel fitted or built from parameters here), every refusal is given
its bad input, and the sampling caps and the ridge rule are tested at, below and above their
thresholds (the caps are lowered with ``monkeypatch`` so a 40-customer table reaches them).
The tables are small (30-40 customers): each fit takes a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pipeline.churn import measure, result
from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.gamma_gamma import GammaGammaModel, in_larger_units
from pipeline.churn.inputs import DAYS_PER_YEAR, NO_RECENCY, ChurnInputs, HoldoutInputs, churn_inputs
from pipeline.churn.simulate import simulate_bgnbd
from pipeline.config import Settings

AS_OF = dt.date(2024, 1, 1)
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def model_table(n: int = 40, seed: int = 1) -> pd.DataFrame:
    """A customer table drawn from a BG/NBD model (whole days; spend per purchase ~ Gamma)."""
    s = simulate_bgnbd(n, {"r": 0.8, "alpha": 20.0, "a": 0.6, "b": 2.0}, T=200.0, random_state=seed)
    x = s["frequency"].to_numpy().astype(float)
    tx = np.where(x > 0, np.ceil(s["recency"].to_numpy()), 0.0)
    big_t = s["T"].to_numpy()
    value = (x + 1) * np.random.default_rng(seed).gamma(4.0, 5.0, n).round(2)
    return pd.DataFrame(
        {
            "ID": [f"c{i}" for i in range(n)],
            "Purchase_Frequency": x + 1,
            "Customer_For_Years": big_t / DAYS_PER_YEAR,
            "Recency": big_t - tx,
            "Customer_Value": value,
        }
    )


def ridge_table(n: int = 30, seed: int = 1) -> pd.DataFrame:
    """Purchases spread uniformly: no sign that dropout differs between customers (the BG/NBD ridge)."""
    rng = np.random.default_rng(seed)
    years = rng.integers(100, 900, n) / DAYS_PER_YEAR
    big_t = np.round(years * DAYS_PER_YEAR)
    purchases = rng.integers(1, 7, n).astype(float)
    recency = np.floor(rng.uniform(0, 1, n) * big_t * 0.9) + 1
    recency = np.where(purchases == 1, big_t, recency)
    value = purchases * rng.uniform(5, 50, n).round(2)
    return pd.DataFrame(
        {
            "ID": [f"c{i}" for i in range(n)],
            "Purchase_Frequency": purchases,
            "Customer_For_Years": years,
            "Recency": recency,
            "Customer_Value": value,
        }
    )


def grouped_fit(
    x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, penalizer: float = 0.0, polish: bool = True
) -> BetaGeoModel:
    ux, utx, ut, _, counts = measure.group_rows(x, tx, big_t)
    return BetaGeoModel(penalizer=penalizer, polish=polish).fit(ux, utx, ut, sample_weight=counts)


def spend_inputs(x: list[float], m: list[float], ok: list[bool] | None = None) -> tuple[ChurnInputs, np.ndarray]:
    xs = np.asarray(x, dtype=float)
    inputs = ChurnInputs(
        x=xs, t_x=np.where(xs > 0, 1.0, 0.0), T=np.full(xs.size, 10.0), monetary=np.asarray(m, dtype=float),
        source="marketing", as_of=AS_OF,
    )  # fmt: skip
    return inputs, np.ones(xs.size, bool) if ok is None else np.asarray(ok)


# --- the measurement object ------------------------------------------------------------------------------------------


def _measurement(**kw) -> result.ChurnMeasurement:
    base = {
        "reason": None,
        "p_alive": np.array([0.2, 0.7, 0.9]),
        "expected_purchases": np.array([1.0, 2.0, 3.0]),
        "expected_clv": np.array([10.0, 20.0, 40.0]),
        "bg_params": {"r": 1.0, "alpha": 2.0, "a": 3.0, "b": 4.0},
        "n_customers_fitted": 1234,
        "as_of": dt.date(2024, 5, 6),
        "horizon_months": 6,
        "margin": 0.25,
        "annual_discount_rate": 0.1,
        "inactive_threshold": 0.5,
        "source": "marketing",
        "assumptions": ("one", "two"),
        "tenure_offset_days": 3,
    }
    return result.ChurnMeasurement(**{**base, **kw})


def test_how_measured_without_a_spend_model_says_why_there_is_no_value() -> None:
    m = _measurement(spend_note="the data has no spend.")
    assert m.measured
    assert m.how_measured() == (
        "BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood on 1,234 customers' repeat purchase "
        "days, days from first to last purchase and age in days at 2024-05-06. p_alive is the probability that a "
        "customer is still active; likely inactive means p_alive below 0.5. No expected lifetime value: the data "
        "has no spend."
    )
    out = m.to_dict()
    assert out["spend_model"] is None and out["holdout"] is None
    assert (out["model"], out["params"], out["as_of"], out["tenure_offset_days"]) == (
        "bg/nbd",
        {"r": 1.0, "alpha": 2.0, "a": 3.0, "b": 4.0},
        "2024-05-06",
        3,
    )
    assert out["assumptions"] == ["one", "two"] and out["how_measured"] == m.how_measured()


def test_how_measured_with_a_spend_model_names_horizon_margin_and_discount() -> None:
    spend = {"p": 1.0, "q": 3.0, "gamma": 2.0}
    plain = _measurement(gg_params=spend)
    assert plain.how_measured().endswith(
        "Expected CLV = expected purchases over the next 6 months × expected spend per purchase (Gamma-Gamma model, "
        "Fader & Hardie 2013) × margin 0.25, discounted at 10% a year. Value at risk = expected CLV of the likely "
        "inactive customers."
    )
    noted = _measurement(gg_params=spend, spend_note="Spend model fitted on 9 customers.")
    assert noted.how_measured() == plain.how_measured() + " Spend model fitted on 9 customers."
    assert noted.to_dict()["spend_model"] == {"model": "gamma-gamma", "params": spend}


def test_an_unmeasured_measurement_reports_only_its_reason() -> None:
    m = _measurement(reason="not measured: no spend", bg_params={})
    assert not m.measured
    assert m.how_measured() == "not measured: no spend"
    assert m.to_dict() == {"model": None, "reason": "not measured: no spend"}
    assert m.segment(np.ones(3, bool)) is None


def test_segment_figures_come_from_the_members_only() -> None:
    members = np.array([True, True, False])
    seg = _measurement(gg_params={"p": 1.0, "q": 3.0, "gamma": 2.0}).segment(members)
    assert seg.share_likely_inactive == pytest.approx(0.5) and seg.mean_p_alive == pytest.approx(0.45)
    assert (seg.total_clv, seg.value_at_risk) == (pytest.approx(30.0), pytest.approx(10.0))
    no_spend = _measurement().segment(members)
    assert (no_spend.mean_clv, no_spend.total_clv, no_spend.value_at_risk) == (None, None, None)


def test_holdout_to_dict_of_an_internal_holdout() -> None:
    check = result.HoldoutCheck(
        kind="internal",
        calibration_end=dt.date(2024, 1, 17),
        end=dt.date(2024, 1, 25),
        n_customers=3,
        predicted_total=1.5,
        actual_total=2.0,
        groups=(result.HoldoutGroup("0", 1, 0.25, 0.0),),
        params={"r": 1.0},
    )
    out = check.to_dict()
    assert out["period"] == {"start": "2024-01-17", "end": "2024-01-25", "days": 8}
    assert out["how_measured"] == (
        "The log has no lines after the as-of date, so the model was refitted on purchases up to 2024-01-17 (two "
        "thirds of the period) and its prediction compared with the purchase days from then to 2024-01-25."
    )
    assert out["by_repeat_purchases"] == [
        {"repeat_purchases": "0", "n_customers": 1, "predicted_mean": 0.25, "actual_mean": 0.0}
    ]


def test_not_measured_keeps_the_settings_and_gives_nan_figures() -> None:
    s = Settings(horizon_months=6, margin=0.5, annual_discount_rate=0.1, inactive_threshold=0.3)
    m = result.not_measured(3, "why", s)
    assert m.reason == "why" and not m.measured
    for arr in (m.p_alive, m.expected_purchases, m.expected_clv):
        assert arr.shape == (3,) and np.isnan(arr).all()
    assert (m.horizon_months, m.margin, m.annual_discount_rate, m.inactive_threshold) == (6, 0.5, 0.1, 0.3)


def test_lines_after_the_as_of_date_sum_every_matching_item() -> None:
    items = [SimpleNamespace(kind="after_as_of", count=3), SimpleNamespace(kind="after_as_of", count="4")]
    assert measure.transactions_after_as_of([*items, SimpleNamespace(kind="other", count=9)]) == 7


# --- measure_churn on a tiny table -----------------------------------------------------------------------------------


def test_measure_churn_gives_the_models_figures_for_every_customer() -> None:
    table = model_table()
    s = Settings(horizon_months=6, margin=0.5, annual_discount_rate=0.1, inactive_threshold=0.4)
    m = measure.measure_churn(table, "customer_table", AS_OF, s, n_after_as_of=7)
    inputs = churn_inputs(table, "customer_table", AS_OF)
    x, tx, big_t, money = inputs.x, inputs.t_x, inputs.T, inputs.monetary
    bg = grouped_fit(x, tx, big_t)
    assert m.bg_params == bg.params_ and m.n_customers_fitted == 40 and m.transactions_after_as_of == 7
    gg = GammaGammaModel().fit(x[x > 0] + 1.0, money[x > 0])
    assert m.gg_params == gg.params_
    np.testing.assert_allclose(m.p_alive, bg.p_alive(x, tx, big_t), rtol=1e-12)
    horizon = 6 * DAYS_PER_MONTH
    np.testing.assert_allclose(m.expected_purchases, bg.expected_purchases(horizon, x, tx, big_t), rtol=1e-12)
    # CLV = margin × E[spend | x + 1 purchase days, mean spend] × purchases of each month, discounted at its end.
    ends = horizon * np.arange(1, 13) / 12
    curve = bg.expected_purchases_curve(ends, x, tx, big_t)
    per_month = np.diff(curve, axis=0, prepend=0.0)
    discounted = ((1.1 ** (-ends / DAYS_PER_YEAR))[:, None] * per_month).sum(axis=0)
    spend = gg.expected_average_value(x + 1.0, money)
    np.testing.assert_allclose(m.expected_clv, 0.5 * spend * discounted, rtol=1e-9)
    assert m.assumptions == inputs.assumptions  # no sample, no ridge: nothing added
    assert (m.horizon_months, m.margin, m.annual_discount_rate, m.inactive_threshold) == (6, 0.5, 0.1, 0.4)
    assert m.holdout is None and m.as_of == inputs.as_of and m.source == "marketing"


@pytest.mark.parametrize(("cap", "sampled"), [(40, False), (39, True)])
def test_the_purchase_model_is_fitted_on_a_sample_only_above_its_cap(monkeypatch, cap: int, sampled: bool) -> None:
    monkeypatch.setattr(measure, "MAX_BGNBD_FIT", cap)
    table = model_table()
    m = measure.measure_churn(table, "customer_table", AS_OF, Settings(random_state=5))
    inputs = churn_inputs(table, "customer_table", AS_OF)
    rows = np.arange(40)
    if sampled:
        rows = np.sort(np.random.default_rng(5).choice(rows, cap, replace=False))
        assert m.assumptions[-1] == (
            "The purchase model is fitted on a random sample of 39 of 40 customers (the estimate is already "
            "precise); every customer is then measured with it."
        )
    else:
        assert m.assumptions == inputs.assumptions
    assert m.n_customers_fitted == cap
    assert m.bg_params == grouped_fit(inputs.x[rows], inputs.t_x[rows], inputs.T[rows]).params_
    assert np.isfinite(m.p_alive).all()  # every customer is measured with the sampled fit


def test_measure_churn_refusals_become_a_reason() -> None:
    s = Settings()
    m = measure.measure_churn(model_table().drop(columns="Recency"), "customer_table", AS_OF, s)
    assert m.reason == NO_RECENCY and np.isnan(m.p_alive).all()
    few = measure.measure_churn(model_table().head(9), "customer_table", AS_OF, s)
    assert few.reason == "not measured: the BG/NBD model needs at least 10 customers to fit, got 9"
    assert few.p_alive.shape == (9,) and np.isnan(few.expected_clv).all()


# --- the ridge rule ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ridge_inputs() -> ChurnInputs:
    return churn_inputs(ridge_table(), "customer_table", AS_OF)


def test_a_fit_on_the_ridge_takes_the_smallest_penalty_with_finite_values(ridge_inputs: ChurnInputs) -> None:
    x, tx, big_t = ridge_inputs.x, ridge_inputs.t_x, ridge_inputs.T
    # the ridge is detected by L-BFGS-B alone: Nelder-Mead would only walk further along it
    plain = grouped_fit(x, tx, big_t, polish=False)
    assert max(plain.params_["a"], plain.params_["b"]) >= measure.RIDGE and not plain.converged_
    penalised = grouped_fit(x, tx, big_t, 1e-10)
    model, note = measure._fit_bgnbd(x, tx, big_t)
    assert model.params_ == penalised.params_ and model.penalizer == 1e-10
    drop = plain.log_likelihood_ - penalised.log_likelihood_
    assert note == (
        "The purchase model's likelihood has no maximum at finite a and b (no sign that the chance of dropping out "
        f"differs between customers: the plain fit runs to a = {plain.params_['a']:.3g}, b = {plain.params_['b']:.3g}); "
        f"a penalty of 1e-10 × (r² + alpha² + a² + b²) picks finite values, at a log-likelihood {drop:.1f} lower "
        f"({drop / 30:.4f} per customer)."
    )
    assert 0 < drop < 1  # a penalty costs likelihood; here little


def test_the_ridge_threshold_is_strict(monkeypatch, ridge_inputs: ChurnInputs) -> None:
    x, tx, big_t = ridge_inputs.x, ridge_inputs.t_x, ridge_inputs.T
    plain = grouped_fit(x, tx, big_t)
    at_plain = max(plain.params_["a"], plain.params_["b"])
    monkeypatch.setattr(measure, "RIDGE", at_plain)  # exactly at the threshold: the ridge rule applies
    model, note = measure._fit_bgnbd(x, tx, big_t)
    assert model.penalizer == 1e-10 and note
    first = grouped_fit(x, tx, big_t, 1e-10)
    monkeypatch.setattr(measure, "RIDGE", max(first.params_["a"], first.params_["b"]))  # the first penalty: at it
    model, note = measure._fit_bgnbd(x, tx, big_t)
    assert model.penalizer == 1e-9 and "a penalty of 1e-09 ×" in note
    monkeypatch.setattr(measure, "RIDGE", at_plain * (1 + 1e-9))  # just above the plain fit: no penalty
    model, note = measure._fit_bgnbd(x, tx, big_t)
    assert (model.penalizer, note) == (0.0, "")


def test_no_penalty_reaching_finite_values_keeps_the_plain_fit(monkeypatch, ridge_inputs: ChurnInputs) -> None:
    monkeypatch.setattr(measure, "RIDGE", 10.0)  # below every penalised a, b (the largest penalty gives a ≈ 15)
    x, tx, big_t = ridge_inputs.x, ridge_inputs.t_x, ridge_inputs.T
    model, note = measure._fit_bgnbd(x, tx, big_t)
    assert model.params_ == grouped_fit(x, tx, big_t).params_ and note == ""


# --- the spend model ---------------------------------------------------------------------------------------------------

SPEND_X = [1, 2, 3, 1, 2, 4, 1, 2, 5, 3, 1, 2]
SPEND_M = [0.5, 12.0, 8.0, 20.0, 15.0, 9.0, 30.0, 11.0, 14.0, 7.0, 25.0, 0.8]


def test_spend_model_is_fitted_on_repeat_customers_with_a_positive_spend() -> None:
    # Left out: x = 0 (row 12), spend 0 (13), NaN spend (14), a customer not measured (15).
    inputs, ok = spend_inputs([*SPEND_X, 0, 2, 3, 2], [*SPEND_M, 5.0, 0.0, np.nan, 6.0], [True] * 15 + [False])
    gg, note = measure._fit_spend(inputs, ok)
    # 12 customers: no sign that their average spend differs beyond the noise (the spend ridge, q -> infinity),
    # so the fit is the penalised one of the ridge rule (issue #12), on spend in units of its mean.
    unit = float(np.mean(SPEND_M))
    expected = in_larger_units(
        GammaGammaModel(penalizer=1e-10).fit(np.array(SPEND_X) + 1.0, np.array(SPEND_M) / unit), unit
    )
    assert gg.params_ == expected.params_ and gg.n_customers_ == 12
    corr = expected.frequency_monetary_corr_
    assert note.startswith(
        "Spend model fitted on 12 customers with repeat purchases and a positive spend; correlation of repeat "
        f"purchases and spend per purchase {corr:+.2f} (the model assumes 0). Its likelihood has no maximum at "
        "finite q"
    )


@pytest.mark.parametrize(("cap", "sampled"), [(12, False), (11, True)])
def test_spend_model_samples_only_above_its_cap(monkeypatch, cap: int, sampled: bool) -> None:
    monkeypatch.setattr(measure, "MAX_SPEND_FIT", cap)
    inputs, ok = spend_inputs(SPEND_X, SPEND_M)
    gg, note = measure._fit_spend(inputs, ok, random_state=3)
    rows = np.arange(12)
    if sampled:
        rows = np.sort(np.random.default_rng(3).choice(rows, cap, replace=False))
        assert note.startswith("Spend model fitted on a random sample of 11 of the 12 customers with repeat purchases")
    else:
        assert note.startswith("Spend model fitted on 12 customers with repeat purchases")
    x, m = np.array(SPEND_X)[rows] + 1.0, np.array(SPEND_M)[rows]
    expected = in_larger_units(GammaGammaModel(penalizer=1e-10).fit(x, m / m.mean()), float(m.mean()))  # the ridge
    assert gg.params_ == expected.params_


def test_spend_model_refusals_become_notes(monkeypatch) -> None:
    inputs, ok = spend_inputs(SPEND_X, [np.nan] * 12)
    assert measure._fit_spend(inputs, ok) == (None, "the data has no spend.")
    inputs, ok = spend_inputs(SPEND_X[:9], SPEND_M[:9])
    assert measure._fit_spend(inputs, ok) == (
        None,
        "the spend model could not be fitted (the Gamma-Gamma model needs at least 10 customers with repeat "
        "purchases, got 9).",
    )


@pytest.mark.parametrize(("q", "kept"), [(0.999, False), (1.0, False), (1.001, True), (1.5, True)])
def test_a_spend_model_without_a_finite_mean_is_not_used(monkeypatch, q: float, kept: bool) -> None:
    class Fixed(GammaGammaModel):
        def fit(self, frequency, monetary_value, sample_weight=None):
            super().fit(frequency, monetary_value, sample_weight)
            self.params_ = {**self.params_, "q": q}
            return self

    monkeypatch.setattr(measure, "GammaGammaModel", Fixed)
    inputs, ok = spend_inputs(SPEND_X, SPEND_M)
    gg, note = measure._fit_spend(inputs, ok)
    if kept:
        assert gg.params_["q"] == q
    else:
        assert (gg, note) == (None, "the fitted spend model has no finite mean spend (q ≤ 1).")


def test_spend_note_without_a_measurable_correlation() -> None:
    inputs, ok = spend_inputs([2] * 10, [3.0, 4.0, 5.0, 6.0, 7.0, 3.5, 4.5, 5.5, 6.5, 8.0])
    _, note = measure._fit_spend(inputs, ok)
    assert note.startswith("Spend model fitted on 10 customers with repeat purchases and a positive spend. Its")


# --- predictions -------------------------------------------------------------------------------------------------------

BG = {"r": 1.0, "alpha": 2.0, "a": 2.0, "b": 3.0}
GG = {"p": 2.0, "q": 3.0, "gamma": 4.0}


def test_predict_leaves_unmeasured_rows_nan_and_needs_a_spend_model_for_value() -> None:
    bg = BetaGeoModel.from_params(BG)
    inputs = ChurnInputs(
        x=np.array([2.0, np.nan, 0.0]), t_x=np.array([6.0, 1.0, 0.0]), T=np.array([10.0, 5.0, 4.0]),
        monetary=np.array([9.0, 1.0, np.nan]), source="marketing", as_of=AS_OF,
    )  # fmt: skip
    s = Settings(horizon_months=2)
    p, e, v = measure._predict(bg, None, inputs, inputs.measured, s)
    assert p[0] == pytest.approx(16 / 43) and p[2] == 1.0 and np.isnan(p[1])
    assert e[0] == pytest.approx(float(bg.expected_purchases(2 * DAYS_PER_MONTH, 2, 6, 10)))
    assert np.isnan(v).all()
    p, e, v = measure._predict(bg, None, inputs, np.zeros(3, bool), s)
    assert np.isnan(p).all() and np.isnan(e).all() and np.isnan(v).all()


def test_clv_of_a_customer_who_returned_everything_is_the_limit_at_zero_spend() -> None:
    bg, gg = BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG)
    x, tx, big_t = np.array([2.0, 2.0, 0.0]), np.array([6.0, 6.0, 0.0]), np.array([10.0, 10.0, 4.0])
    money = np.array([0.0, 9.0, np.nan])
    s = Settings(margin=0.5)
    out = measure._clv(bg, gg, x, tx, big_t, money, s)
    purchases = bg.expected_purchases(12 * DAYS_PER_MONTH, x, tx, big_t)
    # Spend 0 is taken as 1e-9: p (γ + 3e-9) / (p (x + 1) + q − 1) = 2 (4 + 3e-9) / 8; spend 9 → 2 (4 + 27) / 8 = 7.75.
    spend = np.array([2 * (4 + 3e-9) / 8, 7.75])
    np.testing.assert_allclose(out[:2], 0.5 * spend * purchases[:2], rtol=1e-13)
    assert np.isnan(out[2])  # unknown spend
    grouped = measure.group_rows(x, tx, big_t)
    np.testing.assert_allclose(measure._clv(bg, gg, x, tx, big_t, money, s, grouped[:4]), out, rtol=1e-12)
    assert np.isnan(measure._clv(bg, gg, x, tx, big_t, np.full(3, np.nan), s)).all()


def test_discounted_clv_uses_twelve_steps() -> None:
    bg, gg = BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG)
    x, tx, big_t, money = np.array([2.0]), np.array([6.0]), np.array([10.0]), np.array([9.0])
    out = measure._clv(bg, gg, x, tx, big_t, money, Settings(annual_discount_rate=0.5))
    unit = GammaGammaModel.from_params({"p": 1.0, "q": 2.0, "gamma": 1.0})
    from pipeline.churn.clv import expected_clv

    per_purchase = expected_clv(
        bg, unit, x, tx, big_t, np.ones(1), horizon=365.25, periods_per_year=365.25, annual_discount_rate=0.5, steps=12
    )
    assert out[0] == pytest.approx(7.75 * per_purchase[0], rel=1e-12)


# --- holdout ----------------------------------------------------------------------------------------------------------


def test_internal_holdout_refits_on_the_calibration_period() -> None:
    table = model_table()
    inputs = churn_inputs(table, "customer_table", AS_OF)
    actual = np.arange(40.0) % 3
    h = HoldoutInputs(False, dt.date(2024, 1, 1), dt.date(2024, 2, 1), inputs.x, inputs.t_x, inputs.T, actual)
    bg = BetaGeoModel.from_params(BG)
    check = measure._holdout(bg, h)
    refit = grouped_fit(inputs.x, inputs.t_x, inputs.T)
    assert check.kind == "internal" and check.params == refit.params_
    predicted = refit.expected_purchases(31.0, inputs.x, inputs.t_x, inputs.T)
    assert check.predicted_total == pytest.approx(predicted.sum(), rel=1e-12)
    assert check.actual_total == actual.sum() and check.n_customers == 40
    groups = np.minimum(inputs.x, 7)
    expected = [(f"{g}+" if g == 7 else str(g), int((groups == g).sum())) for g in range(8) if (groups == g).any()]
    assert [(g.repeat_purchases, g.n_customers) for g in check.groups] == expected
    few = HoldoutInputs(False, dt.date(2024, 1, 1), dt.date(2024, 2, 1), *(v[:9] for v in (h.x, h.t_x, h.T, actual)))
    assert measure._holdout(bg, few) is None  # the refit is refused: no holdout check


# --- a stored model: one customer, a table ------------------------------------------------------------------------------


def test_stored_model_settings_default_to_the_settings_defaults() -> None:
    s = measure._settings_of({})
    assert (s.horizon_months, s.margin, s.annual_discount_rate, s.inactive_threshold) == (12, 1.0, 0.0, 0.5)
    s = measure._settings_of(
        {"horizon_months": 3, "margin": 0.5, "annual_discount_rate": 0.2, "inactive_threshold": 0.3}
    )
    assert (s.horizon_months, s.margin, s.annual_discount_rate, s.inactive_threshold) == (3, 0.5, 0.2, 0.3)


def test_one_customer_tenure_offset_and_missing_value() -> None:
    """T = 10 days + the model's offset; recency 4 → t_x = T − 4; frequency 3 → x = 2."""
    years = 10 / 365.25
    model = {"model": "bg/nbd", "params": BG, "spend_model": {"params": GG}, "tenure_offset_days": 5}
    bg = BetaGeoModel.from_params(BG)
    one = measure.customer_churn(model, frequency=3, tenure_years=years, recency_days=4, value=None)
    assert one.p_alive == pytest.approx(float(bg.p_alive(2, 11, 15)), rel=1e-12)
    assert one.expected_purchases == pytest.approx(float(bg.expected_purchases(365.25, 2, 11, 15)), rel=1e-12)
    assert one.expected_clv is None  # a spend model but no value
    none_offset = measure.customer_churn(
        {**model, "tenure_offset_days": None}, frequency=3, tenure_years=years, recency_days=4, value=None
    )
    assert none_offset.p_alive == pytest.approx(16 / 43)  # T = 10, t_x = 6
    no_key = {k: v for k, v in model.items() if k != "tenure_offset_days"}
    assert measure.customer_churn(no_key, frequency=3, tenure_years=years, recency_days=4, value=None).p_alive == (
        pytest.approx(16 / 43)
    )
    valued = measure.customer_churn(no_key, frequency=3, tenure_years=years, recency_days=4, value=27.0)
    assert valued.expected_clv == pytest.approx(7.75 * float(bg.expected_purchases(365.25, 2, 6, 10)), rel=1e-12)
    # A single purchase: x = 0, P(alive) = 1 (index 0 of the one-row arrays).
    single = measure.customer_churn(no_key, frequency=1, tenure_years=years, recency_days=10, value=5.0)
    assert single.p_alive == 1.0
    assert single.expected_purchases == pytest.approx(float(bg.expected_purchases(365.25, 0, 0, 10)), rel=1e-12)


def test_score_churn_under_a_stored_model() -> None:
    table = model_table()
    inputs = churn_inputs(table, "customer_table", AS_OF)
    model = {"model": "bg/nbd", "params": BG, "spend_model": {"params": GG}, "margin": 0.5}
    p, clv = measure.score_churn(model, table, "customer_table", AS_OF)
    bg, gg = BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG)
    x, tx, big_t, money = inputs.x, inputs.t_x, inputs.T, inputs.monetary
    np.testing.assert_allclose(p, bg.p_alive(x, tx, big_t), rtol=1e-12)
    expected = 0.5 * gg.expected_average_value(x + 1.0, money) * bg.expected_purchases(365.25, x, tx, big_t)
    np.testing.assert_allclose(clv, expected, rtol=1e-9)
    _, doubled = measure.score_churn(model, table, "customer_table", AS_OF, {"margin": 1.0})
    np.testing.assert_allclose(doubled, 2 * expected, rtol=1e-9)
    for unscored in (
        measure.score_churn(None, table, "customer_table", AS_OF),
        measure.score_churn({"model": None}, table, "customer_table", AS_OF),
        measure.score_churn(model, table.drop(columns="Recency"), "customer_table", AS_OF),
    ):
        assert all(v.shape == (40,) and np.isnan(v).all() for v in unscored)


def test_off_the_ridge_the_fit_is_the_full_fit_with_nelder_mead_when_lbfgsb_stops_short(monkeypatch) -> None:
    """Off the ridge, the quick L-BFGS-B pass never replaces the full fit: a pass that did not converge is redone."""
    inputs = churn_inputs(model_table(), "customer_table", AS_OF)
    x, tx, big_t = inputs.x, inputs.t_x, inputs.T
    full = grouped_fit(x, tx, big_t)
    assert max(full.params_["a"], full.params_["b"]) < measure.RIDGE
    fits: list[bool] = []
    real_fit = BetaGeoModel.fit

    def short_pass(self: BetaGeoModel, *args: object, **kwargs: object) -> BetaGeoModel:
        fits.append(self.polish)
        model = real_fit(self, *args, **kwargs)
        if not self.polish:
            model.converged_ = False  # as if L-BFGS-B had stopped short of the maximum
        return model

    monkeypatch.setattr(BetaGeoModel, "fit", short_pass)
    model, note = measure._fit_bgnbd(x, tx, big_t)
    assert fits == [False, True] and note == ""
    assert model.params_ == full.params_ and model.polish
