"""BG/NBD, Gamma-Gamma and CLV (pipeline.churn): published fits, hand-computed cases, recovery, refusals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from pipeline.churn import BetaGeoModel, GammaGammaModel, expected_clv, simulate_bgnbd, simulate_gamma_gamma
from pipeline.churn.bgnbd import _expected_purchases, _expected_purchases_quadrature
from pipeline.errors import DataError

CDNOW = Path(__file__).parent / "data" / "cdnow_summary.csv"
# r = a + b - 1 makes the 2F1 elementary: E[X(t)] = 2 t / (alpha + t) and
# E[Y(t) | x, t_x, T] = P(alive) (b + x + 1) t / (alpha + T + t) for these values (a = 2).
ELEMENTARY = {"r": 2.0, "alpha": 3.0, "a": 2.0, "b": 1.0}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(CDNOW)


@pytest.fixture(scope="module")
def cdnow_bg(cdnow: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits - 1}e}")


# --------------------------------------------------------------------------- published fits (CDNOW, weeks)
def test_cdnow_bgnbd_matches_fader_hardie_lee_2005(cdnow: pd.DataFrame, cdnow_bg: BetaGeoModel) -> None:
    assert len(cdnow) == 2357 and cdnow_bg.n_customers_ == 2357
    p = cdnow_bg.params_
    assert [_sig(p[k]) for k in ("r", "alpha", "a", "b")] == [0.243, 4.41, 0.793, 2.43]
    assert cdnow_bg.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert cdnow_bg.converged_
    assert cdnow_bg.log_likelihood(cdnow["x"], cdnow["t_x"], cdnow["T"]).sum() == pytest.approx(
        cdnow_bg.log_likelihood_, rel=1e-12
    )


def test_cdnow_expectations_match_hardie_spreadsheet(cdnow_bg: BetaGeoModel) -> None:
    # Values from Hardie's BG/NBD spreadsheet, as checked in lifetimes' test suite.
    assert cdnow_bg.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=0.001)
    times = np.array([0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00])
    expected = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(cdnow_bg.expected_purchases_new(times), expected, atol=0.001)


def test_cdnow_gamma_gamma_matches_fader_hardie(cdnow: pd.DataFrame) -> None:
    gg = GammaGammaModel().fit(cdnow["x"], cdnow["zbar"])
    assert gg.n_customers_ == 946  # customers with a repeat purchase
    assert [_sig(gg.params_[k]) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.4]
    assert gg.params_["gamma"] == pytest.approx(15.44, abs=0.01)


def test_rescaling_time_rescales_alpha_only(cdnow: pd.DataFrame, cdnow_bg: BetaGeoModel) -> None:
    days = BetaGeoModel().fit(cdnow["x"], 7 * cdnow["t_x"], 7 * cdnow["T"])
    for k in ("r", "a", "b"):
        assert days.params_[k] == pytest.approx(cdnow_bg.params_[k], rel=1e-5)
    assert days.params_["alpha"] == pytest.approx(7 * cdnow_bg.params_["alpha"], rel=1e-5)
    # the likelihood is a density in the x purchase times: each one contributes -log 7
    assert days.log_likelihood_ == pytest.approx(cdnow_bg.log_likelihood_ - cdnow["x"].sum() * math.log(7), abs=1e-4)
    assert days.p_alive(2, 7 * 30.43, 7 * 38.86) == pytest.approx(cdnow_bg.p_alive(2, 30.43, 38.86), rel=1e-5)


# --------------------------------------------------------------------------- hand-computed cases
def test_p_alive_by_hand() -> None:
    m = BetaGeoModel.from_params({"r": 1.0, "alpha": 2.0, "a": 1.5, "b": 2.0})
    # 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) with x=2, t_x=3, T=5
    assert float(m.p_alive(2, 3, 5)) == pytest.approx(1 / (1 + 1.5 / 3 * (7 / 5) ** 3), rel=1e-12)
    np.testing.assert_array_equal(m.p_alive([0, 0, 0], [0, 0, 0], [0.0, 5.0, 1e6]), [1.0, 1.0, 1.0])


def test_log_likelihood_by_hand() -> None:
    m = BetaGeoModel.from_params(ELEMENTARY)
    assert float(m.log_likelihood(0, 0, 5)) == pytest.approx(2 * math.log(3 / 8), rel=1e-12)
    # x=1, t_x=2, T=5: B(2,2)/B(2,1) * 2! 3^2 / 8^3 + B(3,1)/B(2,1) * 2! 3^2 / 5^3
    assert float(m.log_likelihood(1, 2, 5)) == pytest.approx(math.log(1 / 3 * 18 / 512 + 2 / 3 * 18 / 125), rel=1e-12)


def test_expected_purchases_elementary_case() -> None:
    m = BetaGeoModel.from_params(ELEMENTARY)
    t = np.array([0.0, 1.0, 6.0, 1e4])
    np.testing.assert_allclose(m.expected_purchases_new(t), 2 * t / (3 + t), rtol=1e-12, atol=1e-15)
    assert m.expected_purchases_new(6.0) == pytest.approx(12 / 9, rel=1e-12)
    # x=2, t_x=3, T=5: P(alive) = 1 / (1 + 2/2 (8/6)^4) = 81/337; E = 81/337 * 4 * t/(8+t)
    assert float(m.p_alive(2, 3, 5)) == pytest.approx(81 / 337, rel=1e-12)
    assert float(m.expected_purchases(4, 2, 3, 5)) == pytest.approx(108 / 337, rel=1e-12)


def test_expected_purchases_new_matches_fhl_closed_form(cdnow_bg: BetaGeoModel) -> None:
    r, alpha, a, b = (cdnow_bg.params_[k] for k in ("r", "alpha", "a", "b"))
    t = np.array([0.5, 5.0, 39.0, 78.0])
    closed = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    np.testing.assert_allclose(cdnow_bg.expected_purchases_new(t), closed, rtol=1e-10)
    # conditional with x = 0 and T = 0 is the unconditional expectation
    np.testing.assert_allclose(cdnow_bg.expected_purchases(t, 0, 0, 0), closed, rtol=1e-10)


def test_expected_purchases_against_mpmath_where_the_plain_formula_fails() -> None:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    cases = [  # (r, alpha, a, b, x, T, t): long horizons, young customers, many purchases
        (3.04, 0.1, 0.333, 1.41, 300, 0.03, 245.9),
        (0.044, 0.2, 1.254, 8.23, 300, 0.2, 14.8),
        (0.343, 1.0, 7.52, 0.0856, 100, 0.77, 8.03),
        (18.6, 0.36, 0.9999995, 4.6, 2000, 31.4, 4599.6),  # a within 1e-6 of 1 (0/0 in the formula)
        (0.243, 4.414, 0.793, 2.426, 2, 38.86, 39.0),
    ]
    plain = []
    for r, alpha, a, b, x, T, t in cases:
        got = _expected_purchases(np.array([t]), np.array([float(x)]), np.array([T]), dict(r=r, alpha=alpha, a=a, b=b))
        r_, a_, b_, al, T_, t_ = (mp.mpf(v) for v in (r, a, b, alpha, T, t))
        big_c = a_ + b_ + x - 1
        ref = big_c / (a_ - 1) * (1 - mp.hyp2f1(r_ + x, a_ - 1, big_c, -t_ / (al + T_)))  # Pfaff form, exact in mpmath
        assert got[0] == pytest.approx(float(ref), rel=1e-6)
        with np.errstate(all="ignore"):
            z = t / (alpha + T + t)
            hyp = ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
            plain.append((a + b + x - 1) / (a - 1) * (1 - hyp) / float(ref))
    # FHL's eq. (10) as written, with scipy's 2F1, is inf or wrong in the first case (the reason for Euler's form)
    assert not abs(plain[0] - 1) < 1e-3


def test_large_a_uses_an_integral_that_agrees_with_the_formula() -> None:
    t, x, T = np.array([365.0, 365.0, 3000.0, 10.0]), np.array([0.0, 3.0, 50.0, 1.0]), np.array([30.0, 30.0, 300, 5])
    for a in (5.0, 50.0):
        params = {"r": 0.5, "alpha": 10.0, "a": a, "b": 3 * a}
        np.testing.assert_allclose(
            _expected_purchases_quadrature(t, x, T, params), _expected_purchases(t, x, T, params), rtol=1e-10
        )
    # a, b on the ridge (e^25): the limit of a constant dropout probability p0 = a / (a + b)
    ridge = BetaGeoModel.from_params({"r": 0.5, "alpha": 10.0, "a": 7.2e10, "b": 2.16e11})
    got = ridge.expected_purchases(t, x, x * 0.5 * T / np.maximum(x, 1), T)
    p_alive = ridge.p_alive(x, x * 0.5 * T / np.maximum(x, 1), T)
    limit = p_alive / 0.25 * (1 - ((10 + T) / (10 + T + 0.25 * t)) ** (0.5 + x))
    np.testing.assert_allclose(got, limit, rtol=1e-8)
    assert ridge.expected_purchases_new(365.0) == pytest.approx(4 * (1 - (10 / (10 + 0.25 * 365)) ** 0.5), rel=1e-8)


def test_a_equal_one_is_continuous() -> None:
    base = {"r": 0.5, "alpha": 3.0, "b": 2.0}
    vals = [BetaGeoModel.from_params({**base, "a": a}).expected_purchases_new(20.0) for a in (0.995, 1.0, 1.005)]
    assert np.isfinite(vals).all()
    assert vals[1] == pytest.approx((vals[0] + vals[2]) / 2, rel=1e-4)


def test_gamma_gamma_expected_value_by_hand() -> None:
    gg = GammaGammaModel.from_params({"p": 6.0, "q": 4.0, "gamma": 15.0})
    # p (gamma + x zbar) / (p x + q - 1) = 6 (15 + 40) / (12 + 3) = 22; x = 0: p gamma / (q - 1) = 30
    np.testing.assert_allclose(gg.expected_average_value([2, 0, 0], [20.0, np.nan, 99.0]), [22.0, 30.0, 30.0])
    assert gg.population_mean_ == 30.0
    assert float(gg.expected_average_value(2, 20.0)) == 22.0


def test_expected_clv_by_hand() -> None:
    bg = BetaGeoModel.from_params(ELEMENTARY)
    gg = GammaGammaModel.from_params({"p": 6.0, "q": 4.0, "gamma": 15.0})
    # E[Y(4)] = 108/337, E[Y(8)] = 81/337 * 4 * 8/16 = 162/337; value 22; t=4 is half a year
    clv = expected_clv(
        bg, gg, [2], [3], [5], [20.0], horizon=8, periods_per_year=8, margin=0.5, annual_discount_rate=0.21, steps=2
    )
    assert clv[0] == pytest.approx(0.5 * 22 * (108 / 337 / 1.1 + 54 / 337 / 1.21), rel=1e-12)
    undiscounted = expected_clv(bg, gg, [2], [3], [5], [20.0], horizon=8, periods_per_year=8, steps=5)
    assert undiscounted[0] == pytest.approx(22 * 162 / 337, rel=1e-12)


# --------------------------------------------------------------------------- theorems and invariants
@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 50),
    tx_share=st.floats(0.01, 1.0),
    T=st.floats(0.5, 200.0),
    dT=st.floats(0.1, 100.0),
    t=st.floats(0.1, 500.0),
    dt=st.floats(0.1, 500.0),
)
def test_monotone_where_it_is_a_theorem(x: int, tx_share: float, T: float, dT: float, t: float, dt: float) -> None:
    m = BetaGeoModel.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    tx = tx_share * T if x > 0 else 0.0
    p = float(m.p_alive(x, tx, T))
    assert 0.0 < p <= 1.0
    assert float(m.p_alive(x, tx, T + dT)) <= p  # no purchase for longer: less likely alive
    if x > 0:
        assert float(m.p_alive(x, min(tx + dT, T), T)) >= p  # a later last purchase: more likely alive
    e1, e2 = float(m.expected_purchases(t, x, tx, T)), float(m.expected_purchases(t + dt, x, tx, T))
    assert 0.0 <= e1 <= e2
    assert e1 <= p * (0.243 + x) / (4.414 + T) * t * (1 + 1e-9)  # never more than a customer who never leaves


def test_fit_is_deterministic_and_order_free(cdnow: pd.DataFrame, cdnow_bg: BetaGeoModel) -> None:
    order = np.random.default_rng(3).permutation(len(cdnow))
    shuffled = cdnow.iloc[order]
    again = BetaGeoModel().fit(shuffled["x"], shuffled["t_x"], shuffled["T"])
    assert again.params_ == cdnow_bg.params_
    assert again.log_likelihood_ == cdnow_bg.log_likelihood_
    gg1 = GammaGammaModel().fit(cdnow["x"], cdnow["zbar"])
    gg2 = GammaGammaModel().fit(shuffled["x"], shuffled["zbar"])
    assert gg1.params_ == gg2.params_


def test_weights_equal_repeated_rows(cdnow: pd.DataFrame, cdnow_bg: BetaGeoModel) -> None:
    counts = cdnow.groupby(["x", "t_x", "T"]).size().reset_index(name="n")
    weighted = BetaGeoModel().fit(counts["x"], counts["t_x"], counts["T"], sample_weight=counts["n"])
    assert weighted.params_ == cdnow_bg.params_
    assert weighted.n_customers_ == 2357 and cdnow_bg.n_distinct_ == len(counts)


def test_penalizer_shrinks_and_estimator_contract(cdnow: pd.DataFrame, cdnow_bg: BetaGeoModel) -> None:
    pen = BetaGeoModel(penalizer=0.1).fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert sum(pen.params_.values()) < sum(cdnow_bg.params_.values())
    fresh = clone(BetaGeoModel(penalizer=0.1, max_iter=50))
    assert fresh.get_params() == {"penalizer": 0.1, "max_iter": 50, "tol": 1e-9, "polish": True}
    assert not hasattr(fresh, "params_")
    with pytest.raises(NotFittedError):
        fresh.p_alive(1, 1, 2)
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_average_value(1, 2.0)


def test_from_params_round_trip(cdnow_bg: BetaGeoModel) -> None:
    import json

    stored = json.loads(json.dumps(cdnow_bg.params_))
    m = BetaGeoModel.from_params(stored)
    assert m.params_ == cdnow_bg.params_ and m.n_customers_ == 0 and math.isnan(m.log_likelihood_)
    np.testing.assert_array_equal(m.p_alive([1, 2], [3, 4], [5, 6]), cdnow_bg.p_alive([1, 2], [3, 4], [5, 6]))


def test_prediction_shapes() -> None:
    m = BetaGeoModel.from_params(ELEMENTARY)
    assert m.p_alive(1, 1, 2).shape == ()
    assert m.p_alive([1, 2], [1, 1], 2).shape == (2,)
    assert m.expected_purchases(np.array([[1.0], [2.0]]), [1, 2, 3], [1, 1, 1], 5).shape == (2, 3)
    assert isinstance(m.expected_purchases_new(3.0), float)
    assert m.expected_purchases_new([1.0, 2.0]).shape == (2,)


def test_distinct_row_shortcuts_match_row_by_row(cdnow: pd.DataFrame, cdnow_bg: BetaGeoModel) -> None:
    x, tx, T = cdnow["x"].to_numpy(), cdnow["t_x"].to_numpy(), cdnow["T"].to_numpy()
    times = np.array([1.0, 13.0, 52.0])
    curve = cdnow_bg.expected_purchases_curve(times, x, tx, T)
    assert curve.shape == (3, len(cdnow))
    for i, t in enumerate(times):
        row_by_row = cdnow_bg.expected_purchases(np.full(len(cdnow), t), x, tx, T)  # array t: no grouping
        np.testing.assert_allclose(curve[i], row_by_row, rtol=1e-12)
        np.testing.assert_allclose(cdnow_bg.expected_purchases(t, x, tx, T), row_by_row, rtol=1e-12)
    gg = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    clv = expected_clv(cdnow_bg, gg, x, tx, T, cdnow["zbar"], horizon=52.0, periods_per_year=52.0, steps=4)
    steps = np.diff(cdnow_bg.expected_purchases_curve([13.0, 26.0, 39.0, 52.0], x, tx, T), axis=0, prepend=0.0)
    np.testing.assert_allclose(clv, gg.expected_average_value(x, cdnow["zbar"]) * steps.sum(axis=0), rtol=1e-12)


# --------------------------------------------------------------------------- simulation against the formulas
def test_simulation_agrees_with_the_model_formulas() -> None:
    params = {"r": 0.8, "alpha": 5.0, "a": 0.6, "b": 2.5}
    m = BetaGeoModel.from_params(params)
    sim = simulate_bgnbd(40_000, params, 30.0, random_state=11, holdout=20.0)
    # mean repeat purchases at age 30 vs E[X(30)], within 4 standard errors of the sample mean
    se = sim["frequency"].std() / math.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - m.expected_purchases_new(30.0)) < 4 * se
    # share alive vs mean P(alive); holdout purchases vs conditional expectation
    p = m.p_alive(sim["frequency"], sim["recency"], sim["T"])
    assert abs(sim["alive"].mean() - p.mean()) < 4 * math.sqrt((p * (1 - p)).sum()) / len(sim)
    pred = m.expected_purchases(20.0, sim["frequency"], sim["recency"], sim["T"])
    assert abs(sim["holdout_purchases"].sum() - pred.sum()) < 4 * sim["holdout_purchases"].std() * math.sqrt(len(sim))
    assert (sim["recency"] <= sim["T"]).all() and ((sim["frequency"] > 0) == (sim["recency"] > 0)).all()
    again = simulate_bgnbd(40_000, params, 30.0, random_state=11, holdout=20.0)
    pd.testing.assert_frame_equal(sim, again)


def test_simulated_spend_mean_matches_model() -> None:
    gg = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
    x = np.full(50_000, 3)
    z = simulate_gamma_gamma(x, gg.params_, random_state=5)
    # E[zbar] = p gamma / (q - 1) for any x
    assert abs(z.mean() - gg.population_mean_) < 4 * z.std() / math.sqrt(z.size)
    assert np.isnan(simulate_gamma_gamma([0, 1], gg.params_, random_state=5)[0])


# --------------------------------------------------------------------------- parameter recovery
# How fair is "within 5 % on 20,000 customers"?  Measured over 30-40 seeds (see the
# commit message): the sampling spread of the estimates at 20,000 customers is 1.3-3 % for the two BG/NBD sets below
# (5 % held in 87-90 % of seeds), but 5-9 % for a and b with CDNOW's own parameters (5 % held in half of the
# seeds), and 6-9 % for p and gamma of the Gamma-Gamma model.  So: the 5 % bar on 20,000 customers for the
# well-identified sets with seed 0 (the first seed, not a chosen one), a 3-standard-error bar everywhere, and
# the Gamma-Gamma 5 % bar on 300,000 repeat customers, where 5 % is about 3 standard errors.
RECOVERY = [
    # (BG/NBD params, largest T in weeks)
    ({"r": 1.0, "alpha": 2.0, "a": 0.4, "b": 1.2}, 156.0),
    ({"r": 3.0, "alpha": 6.0, "a": 0.8, "b": 3.0}, 156.0),
]


@pytest.mark.parametrize(("params", "t_max"), RECOVERY)
def test_bgnbd_parameter_recovery_within_5_percent(params: dict, t_max: float) -> None:
    T = np.random.default_rng(0).uniform(0.0, t_max, 20_000)
    sim = simulate_bgnbd(20_000, params, T, random_state=0)
    m = BetaGeoModel().fit(sim["frequency"], sim["recency"], sim["T"])
    assert m.converged_
    for k, v in params.items():
        assert m.params_[k] == pytest.approx(v, rel=0.05), k
        assert abs(m.params_[k] - v) < 3 * m.params_se_[k], k


def test_recovery_of_cdnow_like_params_within_standard_errors() -> None:
    params = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
    T = np.random.default_rng(0).uniform(0.0, 78.0, 20_000)
    sim = simulate_bgnbd(20_000, params, T, random_state=0)
    m = BetaGeoModel().fit(sim["frequency"], sim["recency"], sim["T"])
    for k, v in params.items():
        assert abs(m.params_[k] - v) < 3 * m.params_se_[k], k
    assert m.params_["r"] == pytest.approx(0.24, rel=0.05)
    z = simulate_gamma_gamma(sim["frequency"], {"p": 6.25, "q": 3.74, "gamma": 15.44}, random_state=0)
    gg = GammaGammaModel().fit(sim["frequency"], z)
    for k, v in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert abs(gg.params_[k] - v) < 3 * gg.params_se_[k], k


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"p": 6.25, "q": 3.74, "gamma": 15.44}, {"p": 2.5, "q": 6.0, "gamma": 30.0}])
def test_gamma_gamma_parameter_recovery_within_5_percent(params: dict) -> None:
    x = np.random.default_rng(0).integers(1, 4, 300_000)
    gg = GammaGammaModel().fit(x, simulate_gamma_gamma(x, params, random_state=0))
    assert gg.converged_
    for k, v in params.items():
        assert gg.params_[k] == pytest.approx(v, rel=0.05), k
        assert abs(gg.params_[k] - v) < 3 * gg.params_se_[k], k


# --------------------------------------------------------------------------- refusals
GOOD = {"frequency": [1, 0, 2] * 5, "recency": [2.0, 0.0, 4.0] * 5, "T": [5.0, 5.0, 6.0] * 5}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"frequency": [-1, 0, 2] * 5}, "frequency must not be negative"),
        ({"recency": [2.0, 0.0, -4.0] * 5}, "recency must not be negative"),
        ({"T": [5.0, -5.0, 6.0] * 5}, "T must not be negative"),
        ({"recency": [2.0, 0.0, 7.0] * 5}, "recency is greater than T for 5 customers"),
        ({"recency": [0.0, 0.0, 4.0] * 5}, "have repeat purchases but recency 0"),
        ({"recency": [2.0, 1.0, 4.0] * 5}, "no repeat purchase but recency above 0"),
        ({"frequency": [1.5, 0, 2] * 5}, "frequency must count whole repeat purchases"),
        ({"T": [5.0, np.nan, 6.0] * 5}, "T has 5 missing or infinite values"),
        ({"recency": [2.0, 0.0, np.inf] * 5}, "recency has 5 missing or infinite values"),
        ({"frequency": ["a", "b", "c"] * 5}, "frequency must be numbers"),
        ({"T": [5.0, 6.0]}, "must have the same length"),
        ({"frequency": [1, 0, 2], "recency": [2.0, 0.0, 4.0], "T": [5.0, 5.0, 6.0]}, "at least 10 customers"),
        ({"frequency": [0] * 15, "recency": [0.0] * 15}, "no customer made a repeat purchase"),
        ({"frequency": [], "recency": [], "T": []}, "no customers were given"),
    ],
)
def test_bgnbd_refusals(change: dict, message: str) -> None:
    data = {**GOOD, **change}
    with pytest.raises(DataError, match=message) as err:
        BetaGeoModel().fit(data["frequency"], data["recency"], data["T"])
    assert "\n" not in str(err.value)


def test_other_refusals() -> None:
    with pytest.raises(DataError, match="penalizer must not be negative"):
        BetaGeoModel(penalizer=-1).fit(GOOD["frequency"], GOOD["recency"], GOOD["T"])
    with pytest.raises(DataError, match="sample_weight must not be negative"):
        BetaGeoModel().fit(GOOD["frequency"], GOOD["recency"], GOOD["T"], sample_weight=[-1.0] * 15)
    with pytest.raises(DataError, match="sample_weight has 2 values for 15 customers"):
        BetaGeoModel().fit(GOOD["frequency"], GOOD["recency"], GOOD["T"], sample_weight=[1.0, 2.0])
    with pytest.raises(DataError, match="BG/NBD parameters are missing b"):
        BetaGeoModel.from_params({"r": 1, "alpha": 1, "a": 1})
    with pytest.raises(DataError, match="BG/NBD parameter alpha must be a positive number"):
        BetaGeoModel.from_params({"r": 1, "alpha": 0, "a": 1, "b": 1})
    with pytest.raises(DataError, match="BG/NBD parameter r must be a number"):
        BetaGeoModel.from_params({"r": "x", "alpha": 1, "a": 1, "b": 1})
    with pytest.raises(DataError, match="Gamma-Gamma parameter q must be a positive number"):
        GammaGammaModel.from_params({"p": 1, "q": float("nan"), "gamma": 1})
    m = BetaGeoModel.from_params(ELEMENTARY)
    with pytest.raises(DataError, match="the horizon t must not be negative"):
        m.expected_purchases(-1, 1, 1, 2)
    with pytest.raises(DataError, match="recency is greater than T"):
        m.p_alive(1, 3, 2)
    with pytest.raises(
        DataError, match=r"monetary_value must be a positive amount .*\(1 are not, first at position 1\)"
    ):
        GammaGammaModel().fit([1, 2, 0] * 5, [10.0, 0.0, np.nan] + [10.0, 5.0, 1.0] * 4)
    with pytest.raises(DataError, match="at least 10 customers with repeat purchases, got 2"):
        GammaGammaModel().fit([1, 2, 0] * 5, [10.0, 12.0, 1.0] * 5, sample_weight=[0.2, 0.2, 1.0] * 5)
    with pytest.raises(DataError, match="frequency must count whole repeat purchases"):
        GammaGammaModel().fit([1.5] * 12, [10.0] * 12)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"horizon": 0}, "horizon must be a positive number"),
        ({"periods_per_year": -1}, "periods_per_year must be a positive number"),
        ({"margin": -0.1}, "margin must be a non-negative number"),
        ({"annual_discount_rate": -1.0}, "annual_discount_rate must be a number above -1"),
        ({"steps": 0}, "steps must be a whole number of at least 1"),
        ({"steps": 2.5}, "steps must be a whole number of at least 1"),
    ],
)
def test_clv_refusals(setting: dict, message: str) -> None:
    bg = BetaGeoModel.from_params(ELEMENTARY)
    gg = GammaGammaModel.from_params({"p": 6.0, "q": 4.0, "gamma": 15.0})
    kwargs = {"horizon": 8.0, "periods_per_year": 8.0, **setting}
    with pytest.raises(DataError, match=message):
        expected_clv(bg, gg, [2], [3], [5], [20.0], **kwargs)
