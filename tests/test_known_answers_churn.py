"""Known answers of the churn and lifetime-value model on hand-computable cases (issue #15).

BG/NBD (Fader, Hardie & Lee 2005, eq. 6) with r = 1, alpha = 1, a = 1, b = 2 and a customer with
x = 1 repeat purchase at t_x = 1, age T = 2:

    L = B(a, b+x)/B(a, b) · Γ(r+x)/Γ(r) · α^r/(α+T)^(r+x) + B(a+1, b+x-1)/B(a, b) · Γ(r+x)/Γ(r) · α^r/(α+t_x)^(r+x)
      = (1/3)/(1/2) · 1 · 1/9 + (1/6)/(1/2) · 1 · 1/4 = 2/27 + 1/12 = 17/108,

and P(alive) is the first term's share: (2/27)/(17/108) = 8/17 (eq. 11: 1/(1 + a/(b+x-1) · (3/2)^2) = 8/17).
A customer with no repeat purchase has only the first term, α^r/(α+T)^r = 1/3, and P(alive) = 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.churn import bgnbd, gamma_gamma
from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.clv import expected_clv
from pipeline.churn.gamma_gamma import GammaGammaModel
from pipeline.errors import DataError

BASE = {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 2.0}


def _bg(**params: float) -> BetaGeoModel:
    return BetaGeoModel.from_params({**BASE, **params})


def test_bgnbd_log_likelihood_of_hand_computed_customers() -> None:
    ll = _bg().log_likelihood([1, 0], [1, 0], [2, 2])
    np.testing.assert_allclose(ll, [math.log(17 / 108), math.log(1 / 3)], rtol=1e-12)
    # r = 2: Γ(3)/Γ(2) = 2 → 2/3 · 2/27 + 1/3 · 2/8 = 4/81 + 1/12 = 43/324.
    assert _bg(r=2.0).log_likelihood(1, 1, 2) == pytest.approx(math.log(43 / 324), rel=1e-12)
    # alpha = 2: α^r = 2 → 2/3 · 2/16 + 1/3 · 2/9 = 1/12 + 2/27 = 17/108.
    assert _bg(alpha=2.0).log_likelihood(1, 1, 2) == pytest.approx(math.log(17 / 108), rel=1e-12)
    # a = 2, b = 3: B(2,4)/B(2,3) = 3/5 → 3/5 · 1/9; B(3,3)/B(2,3) = 2/5 → 2/5 · 1/4; sum 1/15 + 1/10 = 1/6.
    assert _bg(a=2.0, b=3.0).log_likelihood(1, 1, 2) == pytest.approx(math.log(1 / 6), rel=1e-12)


def test_the_fitting_likelihood_and_its_gradient_match_the_per_customer_one() -> None:
    x = np.array([1.0, 0.0, 1.0, 3.0])
    tx = np.array([1.0, 0.0, 1.0, 5.0])
    big_t = np.array([2.0, 2.0, 2.0, 8.0])
    w = np.array([1.0, 2.0, 1.0, 0.5])
    g = bgnbd._Grouped.build(x, tx, big_t, w)
    assert g.w.tolist() == [2.0, 2.0, 0.5]  # the two identical rows are one row of weight 2
    theta = np.array([1.3, 2.1, 0.7, 2.4])

    def total(th: np.ndarray) -> float:
        model = BetaGeoModel.from_params(dict(zip(bgnbd.PARAM_NAMES, th, strict=True)))
        return float(np.sum(w * model.log_likelihood(x, tx, big_t)))

    ll, grad = bgnbd._log_likelihood_and_grad(theta, g)
    assert ll == pytest.approx(total(theta), rel=1e-12)
    h = 1e-6
    numeric = [(total(theta + h * e) - total(theta - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)
    # The optimiser's objective: minus the mean, plus the penalty; gradient in log-parameters.
    value, log_grad = bgnbd._neg_log_likelihood(np.log(theta), g, 0.1)
    assert value == pytest.approx(-ll / 4.5 + 0.1 * float(theta @ theta))
    np.testing.assert_allclose(log_grad, -grad * theta / 4.5 + 0.2 * theta * theta)


def test_p_alive_of_hand_computed_customers() -> None:
    np.testing.assert_allclose(_bg().p_alive([1, 0], [1, 0], [2, 2]), [8 / 17, 1.0], rtol=1e-12)
    # r = 2: 1/(1 + 1/2 · (3/2)^3) = 16/43; alpha = 2: 1/(1 + 1/2 · (4/3)^2) = 9/17.
    assert _bg(r=2.0).p_alive(1, 1, 2) == pytest.approx(16 / 43, rel=1e-12)
    assert _bg(alpha=2.0).p_alive(1, 1, 2) == pytest.approx(9 / 17, rel=1e-12)
    # a = 2, b = 3, x = 2: 1/(1 + 2/4 · (3/2)^3) = 16/43.
    assert _bg(a=2.0, b=3.0).p_alive(2, 1, 2) == pytest.approx(16 / 43, rel=1e-12)
    # Bought at the as-of date: (α+T)/(α+t_x) = 1 → 1/(1 + a/(b+x-1)) = 2/3.
    assert _bg().p_alive(1, 2, 2) == pytest.approx(2 / 3, rel=1e-12)


def test_expected_purchases_of_a_new_customer() -> None:
    """a = 2, b = 1, r = 1, alpha = 1, t = 1: (a+b-1)/(a-1) (1 - 1/2 · 2F1(1, 1; 2; 1/2)) = 2 (1 - ln 2)."""
    model = _bg(a=2.0, b=1.0)
    assert model.expected_purchases_new(1.0) == pytest.approx(2 * (1 - math.log(2)), rel=1e-10)
    assert model.expected_purchases_new(0.0) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(model.expected_purchases_new([1.0, 0.0]), [2 * (1 - math.log(2)), 0.0], atol=1e-12)
    with pytest.raises(DataError, match=r"^the horizon t must not be negative$"):
        model.expected_purchases_new(-1.0)


def test_stored_parameters_are_checked() -> None:
    with pytest.raises(DataError, match=r"^BG/NBD parameters are missing a, b$"):
        BetaGeoModel.from_params({"r": 1, "alpha": 1})
    with pytest.raises(DataError, match=r"^BG/NBD parameter a must be a positive number, got 0$"):
        BetaGeoModel.from_params({**BASE, "a": 0})
    with pytest.raises(DataError, match=r"^BG/NBD parameter b must be a number$"):
        BetaGeoModel.from_params({**BASE, "b": "x"})
    with pytest.raises(DataError, match=r"must be a positive number, got inf"):
        BetaGeoModel.from_params({**BASE, "r": float("inf")})


def test_fit_refusals() -> None:
    with pytest.raises(DataError, match=r"^the BG/NBD model needs at least 10 customers to fit, got 9$"):
        BetaGeoModel().fit([1] * 9, [1] * 9, [2] * 9)
    with pytest.raises(DataError, match=r"^no customer made a repeat purchase"):
        BetaGeoModel().fit([0] * 10, [0] * 10, [2] * 10)
    with pytest.raises(DataError, match=r"^penalizer must not be negative, got -1"):
        BetaGeoModel(penalizer=-1).fit([1] * 10, [1] * 10, [2] * 10)


# --- Gamma-Gamma ---------------------------------------------------------------------------------------------------
# Density of a customer's mean spend m over x purchases (Fader & Hardie 2013):
#   Γ(px+q)/(Γ(px) Γ(q)) · γ^q · m^(px-1) · x^(px) / (γ + m x)^(px+q)
# p = 1, q = 2, γ = 1, x = 1, m = 1: 2 · 1 · 1 · 1 / 2^3 = 1/4.
# p = 2, q = 3, γ = 4, x = 2, m = 3: Γ(7)/(Γ(4)Γ(3)) = 60; 4^3 = 64; 3^3 = 27; 2^4 = 16; (4+6)^7 = 1e7
#   → 60 · 64 · 27 · 16 / 1e7 = 0.165888.


def test_gamma_gamma_likelihood_of_hand_computed_customers() -> None:
    x = np.array([1.0, 2.0])
    m = np.array([1.0, 3.0])
    w = np.array([1.0, 1.0])
    spend = gamma_gamma._Spend.build(x, m, w)
    # Both customers under (1, 2, 1): first 1/4; second Γ(4)/(Γ(2)Γ(2)) = 6, 3^1, 2^2, (1+6)^4 → 6·3·4/2401.
    value, _ = gamma_gamma._neg_log_likelihood(np.log([1.0, 2.0, 1.0]), spend, 0.0)
    assert -2 * value == pytest.approx(math.log(1 / 4) + math.log(72 / 2401), rel=1e-12)
    one = gamma_gamma._Spend.build(x[1:], m[1:], w[1:])
    value, _ = gamma_gamma._neg_log_likelihood(np.log([2.0, 3.0, 4.0]), one, 0.0)
    assert -value == pytest.approx(math.log(0.165888), rel=1e-12)


def test_gamma_gamma_gradient_matches_its_likelihood() -> None:
    spend = gamma_gamma._Spend.build(np.array([1.0, 2.0, 5.0]), np.array([1.0, 3.0, 2.5]), np.array([1.0, 2.0, 1.0]))
    z = np.log([1.5, 2.5, 3.0])
    _, grad = gamma_gamma._neg_log_likelihood(z, spend, 0.05)
    h = 1e-6
    numeric = [
        (
            gamma_gamma._neg_log_likelihood(z + h * e, spend, 0.05)[0]
            - gamma_gamma._neg_log_likelihood(z - h * e, spend, 0.05)[0]
        )
        / (2 * h)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_expected_average_value_and_population_mean() -> None:
    model = GammaGammaModel.from_params({"p": 2.0, "q": 3.0, "gamma": 4.0})
    # p (γ + x m) / (p x + q - 1): 2 (4 + 6)/(4 + 2) = 10/3; x = 0: the population mean p γ/(q-1) = 4.
    np.testing.assert_allclose(model.expected_average_value([2, 0], [3.0, np.nan]), [10 / 3, 4.0])
    assert model.population_mean_ == 4.0
    heavy_tail = GammaGammaModel.from_params({"p": 1.0, "q": 0.5, "gamma": 1.0})
    assert heavy_tail.population_mean_ == float("inf")
    # p x + q - 1 = 1 + 0.5 - 1 > 0 at x = 1; undefined (NaN) at x = 0.
    out = heavy_tail.expected_average_value([1, 0], [2.0, 1.0])
    assert out[0] == pytest.approx((1 + 2) / 0.5) and np.isnan(out[1])
    at_one = GammaGammaModel.from_params({"p": 1.0, "q": 1.0, "gamma": 1.0})
    assert np.isnan(at_one.expected_average_value(0, 1.0))  # p·0 + q - 1 = 0: no expectation


def test_spend_inputs_are_checked() -> None:
    model = GammaGammaModel.from_params({"p": 2.0, "q": 3.0, "gamma": 4.0})
    with pytest.raises(
        DataError,
        match=r"^monetary_value must be a positive amount for customers with repeat purchases \(2 are not, first at position 1\)$",
    ):
        model.expected_average_value([0, 1, 2], [np.nan, 0.0, -1.0])
    with pytest.raises(DataError, match=r"^frequency must count whole repeat purchases"):
        model.expected_average_value([1.5], [1.0])
    with pytest.raises(DataError, match=r"^no customers were given$"):
        model.expected_average_value([], [])
    with pytest.raises(DataError, match=r"^monetary_value must be numbers$"):
        model.expected_average_value([1], [object()])


def test_weighted_correlation() -> None:
    x = np.array([1.0, 2.0, 3.0])
    assert gamma_gamma._weighted_corr(x, 2 * x + 1, np.ones(3)) == pytest.approx(1.0)
    assert gamma_gamma._weighted_corr(x, -x, np.array([1.0, 5.0, 1.0])) == pytest.approx(-1.0)
    # Weights 2, 1, 1 on (1, 1), (2, 3), (3, 2): means 1.75, 1.75; cov 2.75, var_x 2.75, var_m 2.75 → 1.0? no:
    # deviations x: -0.75, 0.25, 1.25; m: -0.75, 1.25, 0.25 → cov = 2·0.5625 + 0.3125 + 0.3125 = 1.75,
    # var_x = var_m = 2·0.5625 + 0.0625 + 1.5625 = 2.75 → 1.75/2.75 = 7/11.
    assert gamma_gamma._weighted_corr(x, np.array([1.0, 3.0, 2.0]), np.array([2.0, 1.0, 1.0])) == pytest.approx(7 / 11)
    # Spend range exactly 1: deviations -1, 0, 1 and -0.5, 0.5, 0 → cov 0.5, variances 2 and 0.5 → 0.5.
    assert gamma_gamma._weighted_corr(x, np.array([1.0, 2.0, 1.5]), np.ones(3)) == pytest.approx(0.5)
    assert np.isnan(gamma_gamma._weighted_corr(np.ones(3), x, np.ones(3)))
    assert np.isnan(gamma_gamma._weighted_corr(x, np.ones(3), np.ones(3)))


# --- CLV -----------------------------------------------------------------------------------------------------------


def test_clv_discounts_each_period_at_its_end() -> None:
    """Two periods of one year at 100 %: the first year's purchases count 1/2, the second's 1/4."""
    bg = _bg(a=2.0, b=3.0, r=2.0, alpha=3.0)
    gg = GammaGammaModel.from_params({"p": 2.0, "q": 3.0, "gamma": 4.0})
    x, tx, big_t, m = np.array([2.0, 0.0]), np.array([1.0, 0.0]), np.array([2.0, 2.0]), np.array([3.0, np.nan])
    e1, e2 = bg.expected_purchases_curve([1.0, 2.0], x, tx, big_t)  # already multiplied by P(alive)
    value = np.array([10 / 3, 4.0])  # see test_expected_average_value_and_population_mean
    got = expected_clv(
        bg, gg, x, tx, big_t, m, horizon=2.0, periods_per_year=1.0, margin=0.25, annual_discount_rate=1.0, steps=2
    )
    np.testing.assert_allclose(got, 0.25 * value * (e1 / 2 + (e2 - e1) / 4), rtol=1e-12)
    undiscounted = expected_clv(bg, gg, x, tx, big_t, m, horizon=2.0, periods_per_year=1.0, steps=5)
    np.testing.assert_allclose(undiscounted, value * e2, rtol=1e-12)
    # The x = 1 customer of the module docstring under BASE: P(alive) = 8/17 scales its purchases.
    base = _bg(a=2.0)
    alive = base.p_alive(1, 1, 2)
    curve = base.expected_purchases(3.0, 1, 1, 2)
    assert curve == pytest.approx(
        alive * bgnbd._expected_purchases(np.array(3.0), np.array(1.0), np.array(2.0), base.params_)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0.0}, r"^horizon must be a positive number, got 0\.0$"),
        ({"horizon": float("nan")}, r"^horizon must be a positive number"),
        ({"periods_per_year": -1.0}, r"^periods_per_year must be a positive number, got -1\.0$"),
        ({"margin": -0.1}, r"^margin must be a non-negative number, got -0\.1$"),
        ({"annual_discount_rate": -1.0}, r"^annual_discount_rate must be a number above -1, got -1\.0$"),
        ({"steps": 0}, r"^steps must be a whole number of at least 1, got 0$"),
        ({"steps": 1.5}, r"^steps must be a whole number of at least 1, got 1\.5$"),
    ],
)
def test_clv_settings_are_checked(kwargs: dict, message: str) -> None:
    gg = GammaGammaModel.from_params({"p": 2.0, "q": 3.0, "gamma": 4.0})
    args = {"horizon": 1.0, "periods_per_year": 1.0, **kwargs}
    with pytest.raises(DataError, match=message):
        expected_clv(_bg(), gg, [1], [1], [2], [3.0], **args)


def test_clv_boundaries_are_allowed() -> None:
    gg = GammaGammaModel.from_params({"p": 2.0, "q": 3.0, "gamma": 4.0})
    bg = _bg(a=2.0)
    zero = expected_clv(bg, gg, [1], [1], [2], [3.0], horizon=1.0, periods_per_year=1.0, margin=0.0, steps=1)
    assert zero.tolist() == [0.0]
    near = expected_clv(bg, gg, [1], [1], [2], [3.0], horizon=1.0, periods_per_year=1.0, annual_discount_rate=-0.5)
    plain = expected_clv(bg, gg, [1], [1], [2], [3.0], horizon=1.0, periods_per_year=1.0)
    assert near[0] > plain[0]  # a negative rate (deflation) raises later purchases: defined above -1


# --- measure: aggregation, grouping, holdout, one customer -----------------------------------------------------------


def test_segment_churn_of_a_hand_counted_segment() -> None:
    """p_alive 0.2, 0.6, 0.4, NaN; CLV 10, 20, NaN, 5; threshold 0.5 → inactive: 0.2 and 0.4 (2 of 3 measured)."""
    from pipeline.churn.result import segment_churn

    p = np.array([0.2, 0.6, 0.4, np.nan])
    v = np.array([10.0, 20.0, np.nan, 5.0])
    seg = segment_churn(p, v, 0.5)
    assert seg.share_likely_inactive == pytest.approx(2 / 3)
    assert seg.mean_p_alive == pytest.approx(0.4)
    assert seg.mean_clv == pytest.approx(15.0)  # valued and measured: 10 and 20
    assert seg.total_clv == pytest.approx(30.0)
    assert seg.value_at_risk == pytest.approx(10.0)  # only the inactive valued member
    assert segment_churn(p, v, 0.4).share_likely_inactive == pytest.approx(1 / 3)  # 0.4 is not below 0.4
    assert segment_churn(p, v, 0.5, has_spend_model=False).to_dict() == {
        "share_likely_inactive": pytest.approx(2 / 3),
        "mean_p_alive": pytest.approx(0.4),
        "mean_clv": None,
        "total_clv": None,
        "value_at_risk": None,
    }
    assert segment_churn(np.array([np.nan]), np.array([1.0]), 0.5).to_dict() == dict.fromkeys(
        ["share_likely_inactive", "mean_p_alive", "mean_clv", "total_clv", "value_at_risk"]
    )


def test_lines_after_the_as_of_date_are_counted_from_the_report() -> None:
    from types import SimpleNamespace

    from pipeline.churn.measure import transactions_after_as_of

    items = [SimpleNamespace(kind="after_as_of", count=3), SimpleNamespace(kind="blank_rows", count=5), object()]
    assert transactions_after_as_of(items) == 3
    assert transactions_after_as_of([]) == 0


def test_group_rows_in_both_paths() -> None:
    from pipeline.churn.measure import group_rows

    x = np.array([1.0, 0.0, 1.0, 2.0])
    tx = np.array([5.0, 0.0, 5.0, 9.0])
    big_t = np.array([10.0, 10.0, 10.0, 10.0])
    ux, utx, uT, inv, counts = group_rows(x, tx, big_t)
    assert (ux.tolist(), utx.tolist(), uT.tolist()) == ([0.0, 1.0, 2.0], [0.0, 5.0, 9.0], [10.0, 10.0, 10.0])
    assert inv.tolist() == [1, 0, 1, 2] and counts.tolist() == [1, 2, 1]
    # Fractional days (and values beyond 2**21 days) take the row-wise path: same answer.
    frac = group_rows(x, tx + 0.5, big_t + 2.0**21)
    assert frac[0].tolist() == [0.0, 1.0, 2.0] and frac[1].tolist() == [0.5, 5.5, 9.5]
    assert frac[3].tolist() == [1, 0, 1, 2] and frac[4].tolist() == [1, 2, 1]
    # The largest whole day the packed key holds.
    big = group_rows(np.array([2.0**21 - 1]), np.array([2.0**21 - 1]), np.array([2.0**21 - 1]))
    assert [v.tolist() for v in big[:3]] == [[2.0**21 - 1]] * 3


def test_holdout_groups_by_repeat_purchases() -> None:
    import datetime as dt

    from pipeline.churn.inputs import HoldoutInputs
    from pipeline.churn.measure import _holdout

    bg = _bg(a=2.0)
    x = np.array([0.0, 1.0, 1.0, 7.0, 9.0])
    tx = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    big_t = np.full(5, 5.0)
    actual = np.array([0.0, 1.0, 3.0, 2.0, 4.0])
    h = HoldoutInputs(True, dt.date(2024, 1, 1), dt.date(2024, 1, 11), x, tx, big_t, actual)
    check = _holdout(bg, h)
    predicted = bg.expected_purchases(10.0, x, tx, big_t)
    assert check.kind == "after_as_of" and check.n_customers == 5
    assert check.predicted_total == pytest.approx(predicted.sum())
    assert check.actual_total == 10.0
    assert [(g.repeat_purchases, g.n_customers) for g in check.groups] == [("0", 1), ("1", 2), ("7+", 2)]
    assert check.groups[1].actual_mean == 2.0
    assert check.groups[2].predicted_mean == pytest.approx(predicted[3:].mean())
    out = check.to_dict()
    assert out["period"] == {"start": "2024-01-01", "end": "2024-01-11", "days": 10}
    assert out["params"] == bg.params_
    assert out["how_measured"].startswith("Model fitted on purchases up to 2024-01-01 (the as-of date)")


def test_one_customer_under_a_stored_model() -> None:
    """frequency 3 → x = 2; tenure 10/365.25 years → T = 10 days; recency 4 → t_x = 6."""
    from pipeline.churn.measure import customer_churn

    params = {"r": 1.0, "alpha": 2.0, "a": 2.0, "b": 3.0}
    model = {"model": "bg/nbd", "params": params, "horizon_months": 12}
    years = 10 / 365.25
    one = customer_churn(model, frequency=3, tenure_years=years, recency_days=4, value=None)
    bg = BetaGeoModel.from_params(params)
    assert one.p_alive == pytest.approx(float(bg.p_alive(2, 6, 10)))
    # 1/(1 + 2/4 · (12/8)^3) = 16/43
    assert one.p_alive == pytest.approx(16 / 43)
    assert one.expected_purchases == pytest.approx(float(bg.expected_purchases(365.25, 2, 6, 10)))
    assert one.expected_clv is None
    same = customer_churn(model, frequency=99, repeat_purchases=2, tenure_years=years, recency_days=4, value=None)
    assert same.p_alive == pytest.approx(16 / 43)
    unmeasured = customer_churn({"model": None}, frequency=3, tenure_years=years, recency_days=4, value=10.0)
    assert np.isnan(unmeasured.p_alive) and unmeasured.expected_clv is None


def test_clv_of_one_customer_is_margin_times_spend_times_purchases() -> None:
    """No discount, margin 0.5: CLV = 0.5 × E[spend] × E[purchases over 365.25 days]."""
    from pipeline.churn.measure import customer_churn

    params = {"r": 1.0, "alpha": 2.0, "a": 2.0, "b": 3.0}
    spend = {"p": 2.0, "q": 3.0, "gamma": 4.0}
    model = {"model": "bg/nbd", "params": params, "spend_model": {"params": spend}, "margin": 0.5}
    one = customer_churn(model, frequency=3, tenure_years=10 / 365.25, recency_days=4, value=27.0)
    bg = BetaGeoModel.from_params(params)
    # value 27 over 3 purchases: mean 9 over x + 1 = 3 purchase days → 2 (4 + 27)/(6 + 2) = 7.75
    assert float(GammaGammaModel.from_params(spend).expected_average_value(3, 9.0)) == pytest.approx(7.75)
    assert one.expected_clv == pytest.approx(0.5 * 7.75 * float(bg.expected_purchases(365.25, 2, 6, 10)))
