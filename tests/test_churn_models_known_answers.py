"""More known answers of the BG/NBD, Gamma-Gamma, CLV and simulation code (issue #15: mutation score).

Small hand-made inputs only (no CDNOW fit: its fixture is too slow for the mutation runner). The
closed forms are checked against mpmath (an independent implementation of the Beta, Gamma and
hypergeometric functions), standard errors against a second-difference Hessian of the
log-likelihood itself, and the simulators against the models' own story drawn again by hand.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from pipeline.churn import bgnbd, gamma_gamma
from pipeline.churn import simulate as sim
from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.clv import expected_clv
from pipeline.churn.gamma_gamma import GammaGammaModel
from pipeline.errors import DataError

BG = {"r": 1.0, "alpha": 2.0, "a": 2.0, "b": 3.0}
GG = {"p": 2.0, "q": 3.0, "gamma": 4.0}

# Twelve customers (x, t_x, T), a spread of histories; fitted in a few milliseconds.
X = np.array([0, 1, 2, 0, 3, 1, 5, 0, 2, 4, 1, 0], dtype=float)
TX = np.array([0, 3, 8, 0, 9, 1, 19, 0, 4, 15, 7, 0], dtype=float)
TT = np.array([10, 12, 14, 9, 20, 16, 20, 6, 18, 20, 9, 15], dtype=float)


def mp_log_likelihood(x: float, tx: float, big_t: float, r: float, alpha: float, a: float, b: float) -> float:
    """FHL (2005) eq. 6 in mpmath."""
    beta = mpmath.beta
    common = mpmath.gamma(r + x) / mpmath.gamma(r) * mpmath.power(alpha, r)
    first = beta(a, b + x) / beta(a, b) * common / mpmath.power(alpha + big_t, r + x)
    second = 0
    if x > 0:
        second = beta(a + 1, b + x - 1) / beta(a, b) * common / mpmath.power(alpha + tx, r + x)
    return float(mpmath.log(first + second))


def mp_conditional_purchases(t: float, x: float, big_t: float, r, alpha, a, b) -> mpmath.mpf:
    """FHL (2005) eq. 10 without its P(alive) factor, in mpmath, in its original (untransformed) form."""
    t, x, big_t, r, alpha, a, b = (mpmath.mpf(v) for v in (t, x, big_t, r, alpha, a, b))
    z = t / (alpha + big_t + t)
    hyp = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * (1 - mpmath.power((alpha + big_t) / (alpha + big_t + t), r + x) * hyp)


def mp_expected_purchases(t: float, x: float, tx: float, big_t: float, r, alpha, a, b) -> float:
    """FHL (2005) eq. 10 in mpmath, in its original (untransformed) form."""
    body = mp_conditional_purchases(t, x, big_t, r, alpha, a, b)
    x, tx, big_t, r, alpha, a, b = (mpmath.mpf(v) for v in (x, tx, big_t, r, alpha, a, b))
    odds = a / (b + x - 1) * mpmath.power((alpha + big_t) / (alpha + tx), r + x) if x > 0 else 0
    return float(body / (1 + odds))


# --- BG/NBD ----------------------------------------------------------------------------------------------------------


def test_log_likelihood_with_b_below_one_matches_mpmath() -> None:
    """b + x − 1 < 1 for x = 1 and b = 0.5: the second term's Beta function at 0.5 (not clipped to 1)."""
    params = {"r": 0.7, "alpha": 3.0, "a": 1.5, "b": 0.5}
    model = BetaGeoModel.from_params(params)
    got = model.log_likelihood(X, TX, TT)
    expected = [mp_log_likelihood(*row, **params) for row in zip(X, TX, TT, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_expected_purchases_with_one_horizon_per_customer_match_mpmath() -> None:
    params = {"r": 0.7, "alpha": 3.0, "a": 1.5, "b": 0.5}
    model = BetaGeoModel.from_params(params)
    horizons = np.linspace(1.0, 34.0, X.size)
    got = model.expected_purchases(horizons, X, TX, TT)  # an array of horizons: one per customer
    expected = [mp_expected_purchases(*row, **params) for row in zip(horizons, X, TX, TT, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    one = model.expected_purchases(5.0, X, TX, TT)
    np.testing.assert_allclose(
        one, [mp_expected_purchases(5.0, *row, **params) for row in zip(X, TX, TT, strict=True)], rtol=1e-9
    )


@pytest.mark.parametrize("a", [0.985, 0.995, 1.0, 1.005, 1.015])
def test_expected_purchases_near_a_equal_one_match_mpmath(a: float) -> None:
    """Within 0.01 of a = 1 the value is interpolated; at 1.015 and 0.985 it is the closed form."""
    params = {"r": 1.2, "alpha": 4.0, "a": a, "b": 2.5}
    model = BetaGeoModel.from_params(params)
    got = model.expected_purchases(7.0, X, TX, TT)
    with mpmath.workdps(50):
        # the closed form is 0/0 exactly at 1: its limit, from 1 + 1e-20
        mp_a = mpmath.mpf(a) if a != 1.0 else 1 + mpmath.mpf(10) ** -20
        expected = [mp_expected_purchases(7.0, *row, **{**params, "a": mp_a}) for row in zip(X, TX, TT, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("a", [99.0, 100.0, 101.0, 150.0])
def test_expected_purchases_around_the_quadrature_switch_match_mpmath(a: float) -> None:
    params = {"r": 0.9, "alpha": 5.0, "a": a, "b": 3.0 * a}
    model = BetaGeoModel.from_params(params)
    got = model.expected_purchases(30.0, X, TX, TT)
    with mpmath.workdps(30):
        expected = [mp_expected_purchases(30.0, *row, **params) for row in zip(X, TX, TT, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_quadrature_matches_mpmath_at_long_horizons_and_high_frequency() -> None:
    params = {"r": 2.0, "alpha": 1.5, "a": 30.0, "b": 8.0}
    t = np.array([0.0, 1.0, 50.0, 400.0])
    x = np.array([0.0, 3.0, 9.0, 25.0])
    big_t = np.array([5.0, 10.0, 30.0, 40.0])
    last = np.where(x > 0, big_t, 0.0)
    got = bgnbd._expected_purchases_quadrature(t, x, big_t, params)
    direct = bgnbd._expected_purchases(t, x, big_t, params)
    np.testing.assert_allclose(got, direct, rtol=1e-10)
    with mpmath.workdps(30):
        # without P(alive): pass t_x = T so that the odds term is a/(b+x-1), then divide it out
        alive = BetaGeoModel.from_params(params).p_alive(x, last, big_t)
        expected = [mp_expected_purchases(*row, **params) for row in zip(t, x, last, big_t, strict=True)]
    np.testing.assert_allclose(got * alive, expected, rtol=1e-9)


def test_distinct_rows_of_two_columns() -> None:
    x = np.array([2.0, 1.0, 2.0, 1.0, 3.0, 1.0])
    big_t = np.array([5.0, 4.0, 5.0, 6.0, 5.0, 4.0])
    first, inverse = bgnbd._distinct_rows(x, big_t)
    # Sorted by (x, T): (1, 4) rows 1 and 5, (1, 6) row 3, (2, 5) rows 0 and 2, (3, 5) row 4.
    assert [(x[i], big_t[i]) for i in first] == [(1.0, 4.0), (1.0, 6.0), (2.0, 5.0), (3.0, 5.0)]
    assert inverse.tolist() == [2, 0, 2, 1, 3, 0]


def test_grouped_rows_merge_only_identical_histories_and_drop_zero_weights() -> None:
    x = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 1.0])
    tx = np.array([2.0, 2.0, 3.0, 2.0, 0.0, 4.0, 2.0])
    big_t = np.array([5.0, 5.0, 5.0, 6.0, 5.0, 6.0, 5.0])
    w = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 0.0, 0.5])
    g = bgnbd._Grouped.build(x, tx, big_t, w)
    # (0,0,5) w1; (1,2,5) rows 0, 1, 6 → w 3.5; (1,2,6) w1 (differs in T); (1,3,5) w1 (differs in t_x); x = 2 dropped.
    assert list(zip(g.x, g.tx, g.T, g.w, strict=True)) == [
        (0.0, 0.0, 5.0, 1.0),
        (1.0, 2.0, 5.0, 3.5),
        (1.0, 2.0, 6.0, 1.0),
        (1.0, 3.0, 5.0, 1.0),
    ]
    assert g.ux.tolist() == [0.0, 1.0] and g.ix.tolist() == [0, 1, 1, 1]


def test_fit_reports_its_likelihood_counts_and_standard_errors() -> None:
    drawn = sim.simulate_bgnbd(40, {"r": 0.8, "alpha": 20.0, "a": 0.6, "b": 2.0}, 200.0, random_state=1)
    x = drawn["frequency"].to_numpy().astype(float)
    tx = np.where(x > 0, np.ceil(drawn["recency"].to_numpy()), 0.0)
    big_t = drawn["T"].to_numpy()
    w = 1.0 + np.arange(40) % 3
    model = BetaGeoModel().fit(x, tx, big_t, sample_weight=w)
    assert model.n_customers_ == 79 and model.n_distinct_ == len(set(zip(x, tx, strict=True))) and model.converged_
    assert model.log_likelihood_ == pytest.approx(float(np.sum(w * model.log_likelihood(x, tx, big_t))), rel=1e-10)
    theta = np.array([model.params_[n] for n in bgnbd.PARAM_NAMES])

    def total(th: np.ndarray) -> float:
        m = BetaGeoModel.from_params(dict(zip(bgnbd.PARAM_NAMES, th, strict=True)))
        return float(np.sum(w * m.log_likelihood(x, tx, big_t)))

    # Observed information by second differences of the log-likelihood (not of its gradient).
    h = 1e-4 * theta
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            hess[i, j] = (
                total(theta + ei + ej) - total(theta + ei - ej) - total(theta - ei + ej) + total(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    expected = np.sqrt(np.diag(np.linalg.inv(-hess)))
    got = np.array([model.params_se_[n] for n in bgnbd.PARAM_NAMES])
    np.testing.assert_allclose(got, expected, rtol=1e-3)
    # The fit is the maximum: the gradient of the likelihood vanishes there.
    _, grad = bgnbd._log_likelihood_and_grad(theta, bgnbd._Grouped.build(x, tx, big_t, w))
    assert np.abs(grad * theta).max() < 1e-5


def test_standard_errors_of_a_quadratic_likelihood_and_of_a_saddle() -> None:
    """ll = −½ (θ−μ)ᵀ A (θ−μ): the information is A exactly, so SE = sqrt(diag(A⁻¹))."""
    a = np.array([[4.0, 1.0], [1.0, 2.0]])
    mu = np.array([1.0, 2.0])
    se = bgnbd.standard_errors(lambda th: -a @ (th - mu), np.array([1.5, 2.5]))
    np.testing.assert_allclose(se, np.sqrt(np.diag(np.linalg.inv(a))), rtol=1e-8)
    # A cubic term: central differences with h = 1e-5 θ are still exact to ~1e-9.
    cubic = bgnbd.standard_errors(lambda th: -a @ (th - mu) - np.array([th[0] ** 3, 0.0]), np.array([1.5, 2.5]))
    info = a + np.array([[3 * 1.5**2, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(cubic, np.sqrt(np.diag(np.linalg.inv(info))), rtol=1e-7)
    # A saddle (information diag(1, −1)) has no standard errors at all, not just for the bad direction.
    saddle = bgnbd.standard_errors(lambda th: -np.array([1.0, -1.0]) * th, np.array([1.0, 1.0]))
    assert np.isnan(saddle).all()


def test_minimise_recovers_from_an_unconverged_first_run() -> None:
    """The minimum of a scaled quadratic, and the bounds of ±25 on the log-parameters."""

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        return float(np.sum((z - 3.0) ** 2 * np.array([1.0, 100.0]))), 2.0 * (z - 3.0) * np.array([1.0, 100.0])

    bounded = bgnbd.minimise(fun, np.array([0.0, 0.0]), max_iter=50, tol=1e-12)
    np.testing.assert_allclose(bounded.x, [3.0, 3.0], atol=1e-8)
    assert bounded.success
    far = bgnbd.minimise(lambda z: (float(np.sum((z - 40.0) ** 2)), 2.0 * (z - 40.0)), np.zeros(2), 200, 1e-9)
    np.testing.assert_allclose(far.x, [25.0, 25.0])  # the log-parameters are bounded by ±25


def test_fit_at_the_minimum_number_of_customers_and_with_only_single_repeats() -> None:
    ten = BetaGeoModel().fit([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], [2, 0, 3, 0, 4, 0, 5, 0, 6, 0], [8] * 10)
    assert ten.n_customers_ == 10 and ten.n_distinct_ == 6
    weighted = BetaGeoModel().fit([1, 0], [2, 0], [8, 8], sample_weight=[4.0, 6.0])
    assert weighted.n_customers_ == 10
    with pytest.raises(DataError, match=r"^no customer made a repeat purchase"):
        BetaGeoModel().fit([1] + [0] * 10, [2] + [0] * 10, [8] * 11, sample_weight=[0.0] + [1.0] * 10)
    with pytest.raises(DataError, match=r"^the BG/NBD model needs at least 10 customers to fit, got 9\.5$"):
        BetaGeoModel().fit([1, 0], [2, 0], [8, 8], sample_weight=[4.0, 5.5])


def test_models_from_parameters_and_unfitted_models() -> None:
    bg = BetaGeoModel.from_params({"r": 0.5, "alpha": 0.25, "a": 0.5, "b": 0.75})  # values below 1 are fine
    assert (bg.n_customers_, bg.n_distinct_, bg.converged_) == (0, 0, True)
    assert math.isnan(bg.log_likelihood_) and all(math.isnan(v) for v in bg.params_se_.values())
    gg = GammaGammaModel.from_params({"p": 0.5, "q": 0.5, "gamma": 0.5})
    assert (gg.n_customers_, gg.converged_) == (0, True)
    assert math.isnan(gg.log_likelihood_) and math.isnan(gg.frequency_monetary_corr_)
    for call in (
        lambda m: m.log_likelihood(1, 1, 2),
        lambda m: m.p_alive(1, 1, 2),
        lambda m: m.expected_purchases(1.0, 1, 1, 2),
        lambda m: m.expected_purchases_curve([1.0], 1, 1, 2),
        lambda m: m.expected_purchases_new(1.0),
    ):
        with pytest.raises(NotFittedError):
            call(BetaGeoModel())
    with pytest.raises(NotFittedError):
        GammaGammaModel().expected_average_value(1, 2.0)
    with pytest.raises(NotFittedError):
        GammaGammaModel().population_mean_  # noqa: B018
    with pytest.raises(NotFittedError):
        expected_clv(
            BetaGeoModel(), GammaGammaModel.from_params(GG), [1], [1], [2], [3.0], horizon=1, periods_per_year=1
        )


def test_horizons_from_zero_up_are_allowed() -> None:
    model = BetaGeoModel.from_params(BG)
    assert model.expected_purchases_new([0.0, 0.5]).tolist()[0] == 0.0
    assert model.expected_purchases(0.5, 1, 1, 2) > 0
    with pytest.raises(DataError, match=r"^the horizon t must not be negative$"):
        model.expected_purchases(np.array([1.0, -0.5]), 1, 1, 2)


# --- Gamma-Gamma -----------------------------------------------------------------------------------------------------

# Drawn from the model (p = 6, q = 4, gamma = 15; seed 1), rounded to cents: a well-behaved fit in milliseconds.
SX = np.array([2, 3, 4, 4, 1, 1, 4, 4, 1, 2, 4, 2, 2, 4], dtype=float)
SM = np.array([14.56, 28.57, 30.58, 50.09, 7.72, 24.34, 9.65, 96.23, 12.44, 34.4, 26.8, 32.37, 46.78, 15.89])


def mp_spend_log_density(x: float, m: float, p: float, q: float, g: float) -> float:
    """Fader & Hardie (2013): density of a customer's mean spend m over x purchases, in mpmath."""
    px = mpmath.mpf(p) * x
    return float(
        mpmath.loggamma(px + q)
        - mpmath.loggamma(px)
        - mpmath.loggamma(q)
        + q * mpmath.log(g)
        + (px - 1) * mpmath.log(m)
        + px * mpmath.log(x)
        - (px + q) * mpmath.log(g + m * x)
    )


def test_gamma_gamma_fit_reports_likelihood_count_and_standard_errors() -> None:
    w = np.array([1, 1, 2, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1], dtype=float)
    gg = GammaGammaModel().fit(SX, SM, sample_weight=w)
    p, q, g = (gg.params_[n] for n in gamma_gamma.PARAM_NAMES)
    assert gg.n_customers_ == 17 and gg.converged_
    expected_ll = sum(wi * mp_spend_log_density(xi, mi, p, q, g) for xi, mi, wi in zip(SX, SM, w, strict=True))
    assert gg.log_likelihood_ == pytest.approx(expected_ll, rel=1e-10)
    theta = np.array([p, q, g])

    def total(th: np.ndarray) -> float:
        return sum(wi * mp_spend_log_density(xi, mi, *th) for xi, mi, wi in zip(SX, SM, w, strict=True))

    h = 1e-4 * theta
    hess = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            ei, ej = np.eye(3)[i] * h[i], np.eye(3)[j] * h[j]
            hess[i, j] = (
                total(theta + ei + ej) - total(theta + ei - ej) - total(theta - ei + ej) + total(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    expected = np.sqrt(np.diag(np.linalg.inv(-hess)))
    got = np.array([gg.params_se_[n] for n in gamma_gamma.PARAM_NAMES])
    np.testing.assert_allclose(got, expected, rtol=1e-3)
    assert gg.frequency_monetary_corr_ == pytest.approx(gamma_gamma._weighted_corr(SX, SM, w), rel=1e-12)


def test_gamma_gamma_ignores_zero_weights_and_non_repeat_customers() -> None:
    base = GammaGammaModel().fit(SX, SM)
    more = GammaGammaModel().fit(
        np.append(SX, [0.0, 7.0]), np.append(SM, [np.nan, 99.0]), sample_weight=np.append(np.ones(14), [1.0, 0.0])
    )
    assert more.params_ == pytest.approx(base.params_, rel=1e-6) and more.n_customers_ == 14
    # All weighted customers buy twice: no correlation can be measured, even if a zero-weight row differs.
    flat = GammaGammaModel().fit(
        np.append(np.full(10, 2.0), 5.0), np.append(SM[:10], 3.0), sample_weight=np.append(np.ones(10), 0.0)
    )
    assert math.isnan(flat.frequency_monetary_corr_)


def test_gamma_gamma_fit_at_the_minimum_number_of_customers_and_refusals() -> None:
    assert GammaGammaModel().fit(SX[:10], SM[:10]).n_customers_ == 10
    with pytest.raises(DataError, match=r"^penalizer must not be negative, got -0\.5$"):
        GammaGammaModel(penalizer=-0.5).fit(SX, SM)
    assert GammaGammaModel(penalizer=0.0).fit(SX, SM).params_ == GammaGammaModel().fit(SX, SM).params_


def test_spend_below_one_is_a_valid_amount() -> None:
    model = GammaGammaModel.from_params(GG)
    # p (γ + x m) / (p x + q − 1) = 2 (4 + 0.5) / (2 + 2) = 2.25
    assert float(model.expected_average_value(1, 0.5)) == pytest.approx(2.25)


@pytest.mark.parametrize(("q", "mean"), [(0.5, math.inf), (1.0, math.inf), (1.5, 2 * 4 / 0.5), (3.0, 4.0)])
def test_population_mean_is_infinite_up_to_q_equal_one(q: float, mean: float) -> None:
    assert GammaGammaModel.from_params({"p": 2.0, "q": q, "gamma": 4.0}).population_mean_ == mean


# --- CLV --------------------------------------------------------------------------------------------------------------


def test_clv_equals_mpmath_spend_times_discounted_purchases() -> None:
    bg, gg = BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG)
    got = expected_clv(
        bg, gg, [2], [6], [10], [9.0], horizon=2.0, periods_per_year=1.0, annual_discount_rate=0.25, steps=2
    )
    e1 = mp_expected_purchases(1.0, 2, 6, 10, **BG)
    e2 = mp_expected_purchases(2.0, 2, 6, 10, **BG)
    # E[spend | x = 2, mean 9] = 2 (4 + 18) / (4 + 2) = 22/3
    assert got[0] == pytest.approx(22 / 3 * (e1 / 1.25 + (e2 - e1) / 1.25**2), rel=1e-9)


# --- simulation ------------------------------------------------------------------------------------------------------

SIM_BG = {"r": 0.8, "alpha": 5.0, "a": 0.6, "b": 2.5}


def test_simulated_customers_follow_the_models_story_draw_by_draw() -> None:
    ages = np.array([10.0, 20.0, 30.0, 40.0, 0.0, 25.0])
    out = sim.simulate_bgnbd(6, SIM_BG, ages, random_state=3, holdout=15.0)
    rng = np.random.RandomState(3)
    lam = rng.gamma(0.8, 1 / 5.0, 6)
    p = rng.beta(0.6, 2.5, 6)
    drop = np.maximum(np.ceil(np.log(1.0 - rng.random_sample(6)) / np.log1p(-p)), 1.0)
    events = rng.poisson(lam * ages)
    x = np.minimum(events, drop)
    rep = x > 0
    recency = np.zeros(6)
    recency[rep] = ages[rep] * rng.beta(x[rep], events[rep] - x[rep] + 1)
    later = rng.poisson(lam * 15.0)
    more = np.maximum(np.ceil(np.log(1.0 - rng.random_sample(6)) / np.log1p(-p)), 1.0)
    np.testing.assert_array_equal(out["frequency"], x)
    np.testing.assert_allclose(out["recency"], recency, rtol=1e-12)
    np.testing.assert_array_equal(out["alive"], events < drop)
    np.testing.assert_array_equal(out["holdout_purchases"], np.where(events < drop, np.minimum(later, more), 0))
    np.testing.assert_allclose(out["lambda"], lam) and np.testing.assert_allclose(out["p"], p)
    assert out["T"].tolist() == ages.tolist() and out["frequency"].dtype == np.int64
    assert "holdout_purchases" not in sim.simulate_bgnbd(2, SIM_BG, 5.0, random_state=3)


def test_geometric_draws_by_inversion() -> None:
    rng = np.random.RandomState(0)
    u = 1.0 - np.random.RandomState(0).random_sample(4)
    p = np.array([0.5, 1.0, 0.0, 0.2])
    got = sim._geometric(rng, p)
    # p = 1: leaves after the first repeat purchase; p = 0: never leaves.
    assert got[1] == 1.0 and got[2] == np.inf
    assert got[0] == max(1.0, math.ceil(math.log(u[0]) / math.log(0.5)))
    assert got[3] == max(1.0, math.ceil(math.log(u[3]) / math.log(0.8)))


def test_simulated_spend_draw_by_draw() -> None:
    x = np.array([0.0, 1.0, 3.0, 2.0])
    got = sim.simulate_gamma_gamma(x, GG, random_state=4)
    rng = np.random.RandomState(4)
    nu = rng.gamma(3.0, 1 / 4.0, 4)
    rep = x > 0
    expected = np.full(4, np.nan)
    expected[rep] = rng.gamma(2.0 * x[rep], 1 / (x[rep] * nu[rep]))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.isnan(got[0])


def test_simulation_refusals() -> None:
    with pytest.raises(DataError, match=r"^n_customers must not be negative$"):
        sim.simulate_bgnbd(-1, SIM_BG, 5.0)
    assert len(sim.simulate_bgnbd(0, SIM_BG, 5.0)) == 0
    for ages in (-1.0, np.inf, [1.0, np.nan]):
        with pytest.raises(DataError, match=r"^T must be non-negative finite numbers$"):
            sim.simulate_bgnbd(2, SIM_BG, ages)
    for holdout in (-0.5, np.inf):
        with pytest.raises(DataError, match=r"^holdout must be a non-negative number$"):
            sim.simulate_bgnbd(2, SIM_BG, 5.0, random_state=0, holdout=holdout)
    assert sim.simulate_bgnbd(2, SIM_BG, 5.0, random_state=0, holdout=0.0)["holdout_purchases"].tolist() == [0, 0]
    for x in ([-1.0, 2.0], [np.nan], [np.inf]):
        with pytest.raises(DataError, match=r"^frequency must be non-negative whole numbers$"):
            sim.simulate_gamma_gamma(x, GG)
    with pytest.raises(DataError, match=r"^BG/NBD parameters are missing b$"):
        sim.simulate_bgnbd(2, {"r": 1, "alpha": 1, "a": 1}, 5.0)
    with pytest.raises(DataError, match=r"^Gamma-Gamma parameter q must be a positive number, got 0$"):
        sim.simulate_gamma_gamma([1.0], {"p": 1, "q": 0, "gamma": 1})


def _gg_log_likelihood(theta: np.ndarray, x: np.ndarray, m: np.ndarray) -> float:
    """The Gamma-Gamma log-likelihood written out again with scipy (independent of the module's code)."""
    from scipy.special import gammaln

    p, q, g = theta
    px = p * x
    return float(
        np.sum(
            gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x)
        )
    )  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_gamma_gamma_fit_reaches_the_maximum_of_the_likelihood(seed: int) -> None:
    """On 300 customers drawn from the model, no other (p, q, gamma) found by Nelder-Mead does better."""
    from scipy import optimize

    drawn = sim.simulate_bgnbd(300, {"r": 0.8, "alpha": 20.0, "a": 0.6, "b": 2.0}, 200.0, random_state=seed)
    x = drawn["frequency"].to_numpy().astype(float)
    m = sim.simulate_gamma_gamma(x, {"p": 6.0, "q": 4.0, "gamma": 15.0}, random_state=seed)
    x, m = x[x > 0], m[x > 0]
    gg = GammaGammaModel().fit(x, m)
    fitted = np.array([gg.params_[n] for n in gamma_gamma.PARAM_NAMES])
    best = optimize.minimize(
        lambda z: -_gg_log_likelihood(np.exp(z), x, m),
        np.log([6.0, 4.0, 15.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000},
    )
    assert _gg_log_likelihood(fitted, x, m) >= -best.fun - 1e-6
    assert gg.log_likelihood_ == pytest.approx(_gg_log_likelihood(fitted, x, m), rel=1e-12)
    np.testing.assert_allclose(fitted, np.exp(best.x), rtol=1e-3)
