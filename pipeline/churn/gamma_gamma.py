"""Gamma-Gamma model of spend per purchase (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

Each transaction value of a customer is ``Gamma(p, nu)`` (shape ``p``, rate ``nu``),
and ``nu ~ Gamma(q, gamma)`` across customers, so a customer's mean order value is
``p / nu`` and the population mean is ``p * gamma / (q - 1)`` (finite when ``q > 1``).
A customer with ``x`` repeat purchases averaging ``zbar`` has expected order value

    E[M | x, zbar] = p (gamma + x zbar) / (p x + q - 1)
                   = (q-1)/(p x + q - 1) * p gamma/(q-1) + p x/(p x + q - 1) * zbar,

a weighted mean of the population mean and the customer's own average.  The model
assumes spend per order is independent of purchase frequency; ``frequency_monetary_corr_``
reports the correlation on the fitted customers so that can be checked.

Fitted by maximum likelihood over the logarithms of ``(p, q, gamma)`` with L-BFGS-B and
the analytic gradient, on customers with at least one repeat purchase (``zbar`` is the
mean value of the repeat purchases, the convention of the published CDNOW fit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from pipeline.churn._validation import MIN_CUSTOMERS, as_float_array, broadcast_flat, check_weights
from pipeline.churn.bgnbd import _check_params, _wsum, minimise, standard_errors
from pipeline.errors import DataError

PARAM_NAMES = ("p", "q", "gamma")


def _check_spend(frequency: object, monetary_value: object) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """Check ``(x, zbar)``: whole non-negative ``x``, positive finite ``zbar`` where ``x > 0`` (ignored where 0)."""
    shape, (fx, fm) = broadcast_flat(frequency, monetary_value)
    x = as_float_array(fx, "frequency")
    try:
        m = np.asarray(fm, dtype="float64")
    except (TypeError, ValueError):
        raise DataError("monetary_value must be numbers") from None
    if x.size == 0:
        raise DataError("no customers were given")
    if (x < 0).any() or (x != np.floor(x)).any():
        raise DataError("frequency must count whole repeat purchases (non-negative whole numbers)")
    rep = x > 0
    bad = rep & ~(np.isfinite(m) & (m > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"monetary_value must be a positive amount for customers with repeat purchases "
            f"({int(bad.sum()):,} are not, first at position {first})"
        )
    return shape, x, np.where(rep, m, np.nan)


@dataclass(frozen=True)
class _Spend:
    """Repeat customers' ``x``, ``zbar`` and weights, with the logs and distinct ``x`` values the likelihood reuses."""

    x: np.ndarray
    m: np.ndarray
    w: np.ndarray
    log_m: np.ndarray
    log_x: np.ndarray
    ux: np.ndarray
    ix: np.ndarray
    xm: np.ndarray
    unit: bool

    @classmethod
    def build(cls, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> _Spend:
        ux, ix = np.unique(x, return_inverse=True)
        return cls(x, m, w, np.log(m), np.log(x), ux, ix, x * m, bool((w == 1.0).all()))

    def wsum(self, v: np.ndarray) -> float:
        """``_wsum(w, v)``; with every weight 1 the product is ``v`` itself, so it is skipped (same sum to the bit)."""
        return float(np.add.reduce(v)) if self.unit else _wsum(self.w, v)


def _neg_log_likelihood_value(log_params: np.ndarray, s: _Spend, penalizer: float) -> float:
    """:func:`_neg_log_likelihood` without the gradient (the same operations, so the same value to the bit).

    What Nelder-Mead asks for, thousands of times when the likelihood has no finite maximum.
    """
    return _neg_log_likelihood(log_params, s, penalizer, gradient=False)[0]


def _neg_log_likelihood(
    log_params: np.ndarray, s: _Spend, penalizer: float, gradient: bool = True
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood (+ penalty) and its gradient in log-parameter space (empty when not asked)."""
    theta = np.exp(log_params)
    p, q, g = (float(v) for v in theta)
    pux = p * s.ux  # terms in x only, once per distinct x
    u_gl = special.gammaln(pux + q) - special.gammaln(pux)
    x, w = s.x, s.w
    px = p * x
    lg = np.log(g + s.xm)  # g + x * m, the product kept from the start
    sw = w.sum()
    # u_gl[ix] + (px - 1) log m + px log x - (px + q) lg, in that order, in place (the same numbers, fewer copies)
    terms = u_gl[s.ix]
    work = np.subtract(px, 1.0)
    terms += np.multiply(work, s.log_m, out=work)
    terms += np.multiply(px, s.log_x, out=work)
    terms -= np.multiply(np.add(px, q, out=work), lg, out=work)
    ll = s.wsum(terms)
    ll += (q * np.log(g) - special.gammaln(q)) * sw
    if not gradient:
        return float(-ll / sw + penalizer * float(theta @ theta)), np.empty(0)
    gxm = g + s.xm
    u_dpq = special.digamma(pux + q)
    u_dp = u_dpq - special.digamma(pux)
    d_p = _wsum(w, x * (u_dp[s.ix] + s.log_m + s.log_x - lg))
    d_q = _wsum(w, u_dpq[s.ix] - lg) + (np.log(g) - special.digamma(q)) * sw
    d_g = q / g * sw - _wsum(w, (px + q) / gxm)
    grad = np.array([d_p, d_q, d_g])
    value = -ll / sw + penalizer * float(theta @ theta)
    return float(value), -grad * theta / sw + 2.0 * penalizer * theta * theta


class GammaGammaModel(BaseEstimator):
    """Gamma-Gamma model of average order value, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer : float, default 0.0
        Adds ``penalizer * (p² + q² + gamma²)`` to the mean negative log-likelihood.
    max_iter : int, default 2000
        Most L-BFGS-B iterations.
    tol : float, default 1e-9
        Gradient tolerance on the mean log-likelihood per customer.
    polish : bool, default True
        When L-BFGS-B does not converge, continue with Nelder-Mead and L-BFGS-B again
        (:func:`~pipeline.churn.bgnbd.minimise`).  False: stop there (a cheap first look;
        where the likelihood has no finite maximum, ``q`` already shows it).

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "gamma"}`` (``gamma`` in money units).
    params_se_ : dict
        Asymptotic standard errors of ``params_`` (NaN when not estimable or from :meth:`from_params`).
    log_likelihood_ : float
        Total log-likelihood of the fitted customers' average values (NaN from :meth:`from_params`).
    n_customers_ : int
        Customers with repeat purchases fitted on (0 from :meth:`from_params`).
    frequency_monetary_corr_ : float
        Pearson correlation of frequency and average value on those customers (the model
        assumes none; NaN from :meth:`from_params`).
    converged_ : bool
        Whether the optimiser reported convergence.
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 2000, tol: float = 1e-9, polish: bool = True):
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol
        self.polish = polish

    def fit(self, frequency: object, monetary_value: object, sample_weight: object = None) -> GammaGammaModel:
        """Fit on the customers with ``frequency > 0`` (others are ignored, whatever their value).

        Parameters
        ----------
        frequency : array-like
            Repeat purchases ``x`` per customer.
        monetary_value : array-like
            Mean value of those repeat purchases ``zbar`` (ignored, may be NaN, where ``x = 0``).
        sample_weight : array-like, optional
            Number of customers each row stands for.

        Raises
        ------
        DataError
            Bad values, or fewer than 10 customers with repeat purchases.
        """
        _, x, m = _check_spend(frequency, monetary_value)
        w = check_weights(sample_weight, x.size)
        keep = (x > 0) & (w > 0)
        n = float(w[keep].sum())
        if n < MIN_CUSTOMERS:
            raise DataError(
                f"the Gamma-Gamma model needs at least {MIN_CUSTOMERS} customers with repeat purchases, got {n:g}"
            )
        if self.penalizer < 0:
            raise DataError(f"penalizer must not be negative, got {self.penalizer}")
        x, m, w = x[keep], m[keep], w[keep]
        order = np.lexsort((m, x))  # a fixed order: the fit does not depend on the customers' order
        x, m, w = x[order], m[order], w[order]
        mean_m = _wsum(w, m) / n
        var_m = max(_wsum(w, (m - mean_m) ** 2) / n, 1e-12 * mean_m**2)
        # moments of zbar for x = 1: mean p*gamma/(q-1); a rough start is enough
        x0 = np.log([max(mean_m**2 / var_m, 0.1), 2.0, max(mean_m / max(mean_m**2 / var_m, 0.1), 1e-6)])
        data = _Spend.build(x, m, w)
        res = minimise(
            lambda z: _neg_log_likelihood(z, data, self.penalizer),
            x0,
            self.max_iter,
            self.tol,
            value=lambda z: _neg_log_likelihood_value(z, data, self.penalizer),
            polish=self.polish,
        )
        theta = np.exp(res.x)
        self.params_ = dict(zip(PARAM_NAMES, (float(v) for v in theta), strict=True))
        sw = float(w.sum())
        self.log_likelihood_ = -_neg_log_likelihood(res.x, data, 0.0)[0] * sw
        se = standard_errors(lambda th: -_neg_log_likelihood(np.log(th), data, 0.0)[1] * sw / th, theta)
        self.params_se_ = dict(zip(PARAM_NAMES, (float(v) for v in se), strict=True))
        self.n_customers_ = round(n)
        self.frequency_monetary_corr_ = _weighted_corr(x, m, w)
        self.converged_ = bool(res.success)
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> GammaGammaModel:
        """A fitted model from stored parameters ``{"p", "q", "gamma"}``."""
        model = cls()
        model.params_ = _check_params(params, PARAM_NAMES, "Gamma-Gamma")
        model.params_se_ = dict.fromkeys(PARAM_NAMES, float("nan"))
        model.log_likelihood_ = float("nan")
        model.n_customers_ = 0
        model.frequency_monetary_corr_ = float("nan")
        model.converged_ = True
        return model

    @property
    def population_mean_(self) -> float:
        """Mean order value in the population, ``p gamma / (q - 1)``; infinite (undefined) when ``q <= 1``."""
        check_is_fitted(self, "params_")
        p, q, g = (self.params_[n] for n in PARAM_NAMES)
        return p * g / (q - 1.0) if q > 1.0 else float("inf")

    def expected_average_value(self, frequency: object, monetary_value: object) -> np.ndarray:
        """Expected value of a customer's future orders given ``x`` and ``zbar``.

        ``p (gamma + x zbar) / (p x + q - 1)``; the population mean ``p gamma / (q-1)``
        for ``x = 0`` (``monetary_value`` ignored there).  NaN where the expectation
        does not exist (``p x + q <= 1``, only possible when ``q <= 1``).
        """
        check_is_fitted(self, "params_")
        shape, x, m = _check_spend(frequency, monetary_value)
        p, q, g = (self.params_[n] for n in PARAM_NAMES)
        denom = p * x + q - 1.0
        num = p * (g + np.where(x > 0, x * m, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(denom > 0, num / denom, np.nan)
        return out.reshape(shape)


def in_larger_units(model: GammaGammaModel, scale: float) -> GammaGammaModel:
    """A model fitted on spend divided by ``scale``, restated in the original money units.

    ``gamma`` (and its standard error) is in money units, so it is multiplied by ``scale``;
    ``p`` and ``q`` have no unit.  Each customer's density of ``zbar`` is ``1 / scale`` as
    large in the original units, so the log-likelihood drops by ``n log(scale)`` (``n`` =
    ``n_customers_``: exact for unit weights).
    """
    check_is_fitted(model, "params_")
    out = GammaGammaModel(model.penalizer, model.max_iter, model.tol, model.polish)
    out.params_ = {**model.params_, "gamma": model.params_["gamma"] * scale}
    out.params_se_ = {**model.params_se_, "gamma": model.params_se_["gamma"] * scale}
    out.log_likelihood_ = model.log_likelihood_ - model.n_customers_ * float(np.log(scale))
    out.n_customers_ = model.n_customers_
    out.frequency_monetary_corr_ = model.frequency_monetary_corr_
    out.converged_ = model.converged_
    return out


def _weighted_corr(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> float:
    if np.ptp(x) == 0 or np.ptp(m) == 0:
        return float("nan")
    sw = w.sum()
    mx, mm = _wsum(w, x) / sw, _wsum(w, m) / sw
    cov = _wsum(w, (x - mx) * (m - mm))
    return float(cov / np.sqrt(_wsum(w, (x - mx) ** 2) * _wsum(w, (m - mm) ** 2)))
