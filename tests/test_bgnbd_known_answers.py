"""Known answers for the numerics of the BG/NBD model (issue #15: mutation score of ``pipeline.churn.bgnbd``).

What is checked, each against an independent computation:

* the optimiser (:func:`~pipeline.churn.bgnbd.minimise`): when L-BFGS-B counts as converged,
  that Nelder-Mead then polishes to its tolerances within a budget of ``4 * max_iter`` iterations,
  and the convergence flag of the polished result;
* standard errors of parameters far from 1 (the difference step is relative to each parameter);
* expected purchases near ``a = 1`` (the documented cubic interpolation), at the switch to the
  quadrature (``a = 100``), and the quadrature itself: its ``mean ± 12 sd`` Beta integral, large
  ``a``, and dropout certain after the next purchase (``a/(a+b) = 1`` in floating point).

mpmath (40 digits) gives the reference values; each case is chosen so that a cruder rule or a
different constant would miss it.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import optimize
from sklearn.exceptions import NotFittedError

from pipeline.churn import bgnbd
from pipeline.churn.bgnbd import BetaGeoModel
from tests.test_churn_models_known_answers import mp_conditional_purchases

# --- minimise ---------------------------------------------------------------------------------------------------------
#
# The objective below has a true minimum at (3, 3) but reports a made-up constant gradient (in its first
# coordinate), as rounding noise does near an optimum. L-BFGS-B cannot use it (its line search stops where it
# started, "abnormal termination"), so what `minimise` does next is in plain view: whether it counts the run as
# converged (largest gradient component at most max(tol, 1e-6)), and what Nelder-Mead, which uses values only, finds.

CENTRE = 3.0


def objective(gradient_far: float, gradient_near: float | None = None, curvature: float = 1.0):
    """``curvature * |z - 3|²`` with a constant reported gradient (``gradient_near`` where the value is below 1)."""
    near = gradient_far if gradient_near is None else gradient_near

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        value = float(curvature * np.sum((z - CENTRE) ** 2))
        grad = np.zeros(z.size)
        grad[0] = near if value < 1.0 else gradient_far
        return value, grad

    return fun


START = np.zeros(2)


@pytest.mark.parametrize(("gradient", "tol"), [(1e-6, 1e-9), (5e-7, 1e-9), (1e-3, 1e-3)])
def test_a_gradient_at_most_the_threshold_counts_as_converged_and_is_not_polished(gradient: float, tol: float) -> None:
    """At and below ``max(tol, 1e-6)`` the stopped L-BFGS-B run is the answer: no Nelder-Mead, flagged converged."""
    res = bgnbd.minimise(objective(gradient), START, max_iter=200, tol=tol)
    assert res.success
    np.testing.assert_array_equal(res.x, START)


@pytest.mark.parametrize("gradient", [2e-6, 0.5])
def test_an_unconverged_run_is_polished_by_nelder_mead_and_flagged_by_its_final_gradient(gradient: float) -> None:
    """Above the threshold Nelder-Mead finds the minimum; the gradient there is still above it: not converged."""
    res = bgnbd.minimise(objective(gradient), START, max_iter=200, tol=1e-9)
    np.testing.assert_allclose(res.x, [CENTRE, CENTRE], rtol=0, atol=1e-9)  # Nelder-Mead's xatol is 1e-10
    assert not res.success
    # polish=False: L-BFGS-B's result as it is, where it stopped
    plain = bgnbd.minimise(objective(gradient), START, max_iter=200, tol=1e-9, polish=False)
    np.testing.assert_array_equal(plain.x, START)
    assert not plain.success


def test_the_polished_result_is_converged_when_its_gradient_is_at_the_threshold() -> None:
    """A large gradient at the start (polish), exactly 1e-6 near the minimum: the final run counts as converged."""
    res = bgnbd.minimise(objective(1.0, gradient_near=1e-6), START, max_iter=200, tol=1e-9)
    np.testing.assert_allclose(res.x, [CENTRE, CENTRE], rtol=0, atol=1e-9)
    assert res.success


def test_nelder_mead_stops_only_when_its_values_agree_to_1e_14() -> None:
    """Curvature 1e8: a simplex 1e-10 wide (xatol) still spans values ~1e-12 apart; fatol = 1e-14 goes on."""
    res = bgnbd.minimise(objective(1.0, curvature=1e8), START, max_iter=2000, tol=1e-9)
    assert res.fun <= 1e-14
    np.testing.assert_allclose(res.x, [CENTRE, CENTRE], rtol=0, atol=1e-10)


def test_nelder_mead_has_a_budget_of_four_times_max_iter() -> None:
    """With max_iter = 10, Nelder-Mead stops after 40 iterations, short of the minimum: its point, not converged."""
    fun = objective(1.0)
    res = bgnbd.minimise(fun, START, max_iter=10, tol=1e-9)
    bounds = [(-bgnbd._LOG_BOUND, bgnbd._LOG_BOUND)] * 2
    opts = {"maxiter": 40, "xatol": 1e-10, "fatol": 1e-14}
    forty = optimize.minimize(lambda z: fun(z)[0], START, method="Nelder-Mead", bounds=bounds, options=opts)
    assert forty.nit == 40 and not forty.success  # the budget, not the tolerances, stopped it
    np.testing.assert_array_equal(res.x, forty.x)
    assert not res.success


# --- standard errors --------------------------------------------------------------------------------------------------


def test_standard_errors_of_parameters_far_from_one() -> None:
    """Poisson rates: ll = Σ k log λ − n λ, information k/λ², SE = λ/√k at λ = k/n.

    At λ = 0.01 the difference step must be relative to λ (1e-5 λ): a step of 1e-3 would be a tenth of λ.
    """
    k = np.array([100.0, 400.0])
    lam = np.array([0.01, 100.0])
    n = k / lam
    se = bgnbd.standard_errors(lambda th: k / th - n, lam)
    np.testing.assert_allclose(se, lam / np.sqrt(k), rtol=1e-8)  # [0.001, 5]


# --- expected purchases: near a = 1, at the switch to the quadrature ---------------------------------------------------

T_H = np.array([7.0, 7.0, 40.0, 200.0])  # horizons
T_X = np.array([0.0, 3.0, 5.0, 1.0])  # repeat purchases
T_AGE = np.array([10.0, 20.0, 30.0, 5.0])  # ages


def conditional(params: dict[str, float], t=T_H, x=T_X, big_t=T_AGE, **override) -> np.ndarray:
    """mpmath's FHL eq. 10 without P(alive), 40 digits."""
    with mpmath.workdps(40):
        return np.array(
            [float(mp_conditional_purchases(*row, **{**params, **override})) for row in zip(t, x, big_t, strict=True)]
        )


def test_at_a_equal_one_the_value_is_the_documented_cubic_interpolation() -> None:
    """Lagrange weights at a = 1 through a = 0.98, 0.99, 1.01, 1.02 are −1/6, 2/3, 2/3, −1/6 (by hand)."""
    params = {"r": 1.2, "alpha": 4.0, "a": 1.0, "b": 2.5}
    got = bgnbd._expected_purchases(T_H, T_X, T_AGE, params)
    with mpmath.workdps(40):
        at = {s: conditional(params, a=mpmath.mpf(s)) for s in ("0.98", "0.99", "1.01", "1.02")}
        limit = conditional(params, a=1 + mpmath.mpf(10) ** -25)
    rule = (-at["0.98"] + 4 * at["0.99"] + 4 * at["1.01"] - at["1.02"]) / 6
    np.testing.assert_allclose(got, rule, rtol=1e-11)
    np.testing.assert_allclose(got, limit, rtol=1e-7)  # the interpolation's own error: 2e-8 here


def test_at_a_equal_one_with_b_below_one_the_interpolation_holds() -> None:
    """b + x < 1: the Beta density is infinite at p = 1, where a quadrature over p is poor (1e-3); the cubic is 1e-7."""
    params = {"r": 1.2, "alpha": 4.0, "a": 1.0, "b": 0.5}
    got = bgnbd._expected_purchases(T_H, T_X, T_AGE, params)
    with mpmath.workdps(40):
        limit = conditional(params, a=1 + mpmath.mpf(10) ** -25)
    np.testing.assert_allclose(got, limit, rtol=1e-6)


def test_at_a_equal_100_the_closed_form_is_used() -> None:
    """The quadrature takes over only above a = 100. With b + x < 1 (x = 0, b = 0.5) they differ (7e-5)."""
    params = {"r": 0.9, "alpha": 5.0, "a": 100.0, "b": 0.5}
    t, x, big_t = np.full(4, 30.0), np.array([0.0, 1.0, 3.0, 10.0]), np.array([10.0, 20.0, 30.0, 30.0])
    got = bgnbd._expected_purchases(t, x, big_t, params)
    np.testing.assert_allclose(got, conditional(params, t, x, big_t), rtol=1e-12)


# --- the quadrature ---------------------------------------------------------------------------------------------------


def test_quadrature_for_a_large_a_matches_mpmath_to_1e_12() -> None:
    """a = 1000, b = 30: a narrow Beta near p = 0.97, where 64 nodes on mean ± 12 sd are exact to rounding."""
    params = {"r": 0.9, "alpha": 5.0, "a": 1000.0, "b": 30.0}
    t, x, big_t = (
        np.array([1.0, 30.0, 400.0, 400.0]),
        np.array([0.0, 0.0, 3.0, 25.0]),
        np.array([5.0, 10.0, 30.0, 40.0]),
    )
    got = bgnbd._expected_purchases(t, x, big_t, params)  # a > 100: the quadrature
    np.testing.assert_allclose(got, conditional(params, t, x, big_t), rtol=1e-12)


def mp_truncated_beta_mean(t: float, x: float, big_t: float, r, alpha, a, b, sds: float) -> float:
    """``E[(1 − (1 + p t/(alpha+T))^−(r+x)) / p]`` for ``p ~ Beta(a, b+x)`` cut to its mean ± ``sds`` sd, in mpmath."""
    with mpmath.workdps(40):
        a, b2, rate = mpmath.mpf(a), mpmath.mpf(b) + x, mpmath.mpf(t) / (alpha + big_t)
        mean = a / (a + b2)
        sd = mpmath.sqrt(mean * (1 - mean) / (a + b2 + 1))
        lo, hi = max(mean - sds * sd, 0), min(mean + sds * sd, 1)

        def density(p):
            return mpmath.power(p, a - 1) * mpmath.power(1 - p, b2 - 1)

        def purchases(p):
            return density(p) * (1 - mpmath.power(1 + p * rate, -(r + x))) / p

        cuts = [lo, mean, hi]
        return float(mpmath.quad(purchases, cuts) / mpmath.quad(density, cuts))


@pytest.mark.parametrize(("a", "b"), [(1.0, 19.0), (19.0, 1.0)])
def test_quadrature_integrates_the_beta_over_its_mean_plus_minus_12_sd(a: float, b: float) -> None:
    """Beta(1, 19) and Beta(19, 1): mean ± 12 sd leaves out 1e-8 of the mass on one side (upper, then lower).

    The rule's value is the integral over exactly that interval (to 1e-12), within 1e-7 of the whole one.
    """
    params = {"r": 2.0, "alpha": 4.0, "a": a, "b": b}
    got = bgnbd._expected_purchases_quadrature(np.array([16.0]), np.array([0.0]), np.array([12.0]), params)[0]
    assert got == pytest.approx(mp_truncated_beta_mean(16.0, 0.0, 12.0, **params, sds=12), rel=1e-12)
    assert got == pytest.approx(mp_truncated_beta_mean(16.0, 0.0, 12.0, **params, sds=math.inf), rel=1e-7)


def test_dropout_certain_after_the_next_purchase() -> None:
    """a and b at the bounds e^25 and e^-25: a/(a+b) = 1 in floating point, every customer leaves at the next
    purchase, so the expectation is P(a purchase in t) = 1 − ((alpha+T)/(alpha+T+t))^(r+x) (by hand)."""
    params = {"r": 0.8, "alpha": 3.0, "a": math.exp(25.0), "b": math.exp(-25.0)}
    t, x, big_t = np.array([1.0, 10.0, 100.0]), np.zeros(3), np.array([2.0, 5.0, 20.0])
    got = bgnbd._expected_purchases(t, x, big_t, params)
    expected = 1.0 - ((3.0 + big_t) / (3.0 + big_t + t)) ** 0.8
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# --- refusals ---------------------------------------------------------------------------------------------------------


def test_an_unfitted_model_refuses_one_horizon_per_customer() -> None:
    """The array-of-horizons path checks fitting itself (the scalar path goes through the curve)."""
    with pytest.raises(NotFittedError, match=r"^This BetaGeoModel instance is not fitted yet"):
        BetaGeoModel().expected_purchases(np.array([1.0, 2.0]), [1, 1], [1, 1], [2, 2])
