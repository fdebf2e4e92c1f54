"""BG/NBD model of repeat purchasing and dropout (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

Each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` while active and,
after every repeat purchase, becomes inactive for good with probability
``p ~ Beta(a, b)``.  A customer is summarised by

* ``frequency`` ``x``: the number of repeat purchases (purchase days after the first),
* ``recency`` ``t_x``: the time of the last purchase, measured from the first,
* ``T``: the time from the first purchase to the as-of date,

all in one time unit (days or weeks; ``alpha`` is in that unit).

Numerics
--------
* The log-likelihood is FHL (2005) eq. (6), written with :func:`scipy.special.gammaln`
  and :func:`~scipy.special.betaln` and its two terms joined in log-sum-exp form, so
  large ``x`` or ``T`` do not overflow.  Its analytic gradient is used.
* It is maximised over the logarithms of the parameters (so they stay positive) with
  L-BFGS-B, then, if that did not converge, Nelder-Mead followed by L-BFGS-B again.
* Identical ``(x, t_x, T)`` rows are fitted once with a weight (real logs in whole days
  have few distinct rows), and terms that depend on ``x`` only are computed once per
  distinct ``x``.  The fit is therefore independent of the order of customers.
  Predictions compute the hypergeometric part once per distinct ``(x, T)``
  (:meth:`BetaGeoModel.expected_purchases_curve`, :func:`pipeline.churn.clv.expected_clv`).
* Weighted sums avoid BLAS and the optimiser runs with one BLAS thread: a threaded dot
  product on these vectors was hundreds of times slower on a busy 2-core machine.
* Expected purchases need the Gaussian hypergeometric function.  FHL's eq. (10) has
  ``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` with ``z = t/(alpha+T+t)``, which is
  unstable as ``z -> 1`` (long horizons, young customers, large ``x``: a huge 2F1 times a
  tiny power; :func:`scipy.special.hyp2f1` returns inf or wrong values there).  Euler's
  transformation turns that product into ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``,
  whose first two parameters do not grow with ``x`` and whose ``c-a-b = x+r-a+1`` keeps
  the series finite at ``z = 1``.  Checked against mpmath (40 digits) on 3,000 random
  parameter sets (``x`` up to 300, ``t/(alpha+T)`` up to 30,000): relative error below
  1e-8 everywhere, while the original form and Pfaff's form fail on about 4 % and 11 %
  of them.  The tests repeat a smaller version of that check.
  At ``a = 1`` the formula is 0/0; within ``0.01`` of it the value is interpolated
  (cubic, through ``a = 1 -/+ 0.01, 1 -/+ 0.02``; relative error below 1e-6 in the same check).
* When ``a`` and ``b`` grow without bound (data with no sign that the dropout probability
  differs between customers) the likelihood has no maximum at finite values; the
  logarithms of the parameters are bounded by +/-25, so ``a`` and ``b`` end near ``e^25``;
  ``penalizer > 0`` picks finite values.  For ``a > 100`` the 2F1 overflows, and expected
  purchases are computed as an integral over the dropout probability instead
  (:func:`_expected_purchases_quadrature`, checked against the 2F1 form where both work).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from pipeline.churn._validation import MIN_CUSTOMERS, as_float_array, broadcast_flat, check_summary, check_weights
from pipeline.errors import DataError

PARAM_NAMES = ("r", "alpha", "a", "b")
_LOG_BOUND = 25.0
_A_NEAR_ONE = 1e-2
_A_QUADRATURE = 100.0


@dataclass(frozen=True)
class _Grouped:
    """Distinct ``(x, t_x, T)`` rows with their weights, and the distinct ``x`` values."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    ux: np.ndarray  # distinct x
    ix: np.ndarray  # row -> position in ux

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray) -> _Grouped:
        keep = w > 0
        x, tx, T, w = x[keep], tx[keep], T[keep], w[keep]
        order = np.lexsort((T, tx, x))  # numeric sorts: much faster than np.unique(axis=0)
        x, tx, T, w = x[order], tx[order], T[order], w[order]
        new = np.ones(x.size, dtype=bool)
        new[1:] = (x[1:] != x[:-1]) | (tx[1:] != tx[:-1]) | (T[1:] != T[:-1])
        starts = np.flatnonzero(new)
        weights = np.add.reduceat(w, starts) if starts.size else w
        ux, ix = np.unique(x[starts], return_inverse=True)
        return cls(x[starts], tx[starts], T[starts], weights, ux, ix)


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    """``sum(w * v)`` without BLAS: a threaded ``w @ v`` is hundreds of times slower on a busy machine."""
    return float(np.add.reduce(w * v))


def _neg_log_likelihood(log_params: np.ndarray, g: _Grouped, penalizer: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood (+ penalty) and its gradient in log-parameter space."""
    theta = np.exp(log_params)
    ll, grad = _log_likelihood_and_grad(theta, g)
    total_w = g.w.sum()
    value = -ll / total_w + penalizer * float(theta @ theta)
    gradient = -grad * theta / total_w + 2.0 * penalizer * theta * theta
    return float(value), gradient


def _log_likelihood_and_grad(theta: np.ndarray, g: _Grouped) -> tuple[float, np.ndarray]:
    """Weighted total log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = (float(v) for v in theta)
    ux, ix = g.ux, g.ix
    rep = ux > 0
    bx1 = np.where(rep, b + ux - 1.0, 1.0)  # b + x - 1, only used where x > 0
    # terms that depend on x only, once per distinct x
    u_gl = special.gammaln(r + ux)
    u_b1 = special.betaln(a, b + ux)
    u_b2 = np.where(rep, special.betaln(a + 1.0, bx1), -np.inf)
    u_dr = special.digamma(r + ux)
    u_dabx = special.digamma(a + b + ux)
    u_dbx = special.digamma(b + ux)
    u_dbx1 = np.where(rep, special.digamma(bx1), 0.0)

    x, w = g.x, g.w
    lat = np.log(alpha + g.T)
    latx = np.log(alpha + g.tx)
    rx = r + x
    l1 = u_b1[ix] - rx * lat
    l2 = u_b2[ix] - rx * latx
    lse = np.logaddexp(l1, l2)
    p1 = np.exp(l1 - lse)
    p2 = np.exp(l2 - lse)
    const = -special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    ll = _wsum(w, (u_gl[ix] + lse)) + const * w.sum()

    dga, dgb, dgab = special.digamma([a, b, a + b])
    sw = w.sum()
    d_r = _wsum(w, (u_dr[ix] - p1 * lat - p2 * latx)) + (np.log(alpha) - special.digamma(r)) * sw
    d_alpha = r / alpha * sw - _wsum(w, (rx * (p1 / (alpha + g.T) + p2 / (alpha + g.tx))))
    d_a = (dgab - dga) * sw + _wsum(w, (p1 * dga + p2 * special.digamma(a + 1.0) - u_dabx[ix]))
    d_b = (dgab - dgb) * sw + _wsum(w, (p1 * (u_dbx[ix] - u_dabx[ix]) + p2 * (u_dbx1[ix] - u_dabx[ix])))
    return ll, np.array([d_r, d_alpha, d_a, d_b])


def minimise(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    max_iter: int,
    tol: float,
    value: Callable[[np.ndarray], float] | None = None,
    polish: bool = True,
) -> optimize.OptimizeResult:
    """Minimise ``fun`` (value and gradient) over bounded log-parameters.

    L-BFGS-B first.  Its line search may stop ("abnormal termination") once the gradient
    is at rounding noise; a result whose largest gradient component is at most
    ``max(tol, 1e-6)`` counts as converged.  Otherwise Nelder-Mead from where it stopped,
    then L-BFGS-B again, and the better of the two is kept.  BLAS runs on one thread
    here: threaded BLAS on these small vectors only waits on a busy machine.  ``value``, if
    given, is ``fun``'s value without the gradient (the same number, computed for less),
    for Nelder-Mead, which uses no gradient.  ``polish=False`` skips the Nelder-Mead stage and
    returns L-BFGS-B's result as it is (a cheap first look: where the likelihood has no finite
    maximum, Nelder-Mead would spend its whole budget walking along the ridge).
    """
    value_only = value if value is not None else (lambda z: fun(z)[0])
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    opts = {"maxiter": max_iter, "gtol": tol, "ftol": 1e-15}
    with threadpool_limits(limits=1, user_api="blas"):
        res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        res.success = bool(res.success or np.abs(res.jac).max() <= max(tol, 1e-6))
        if polish and not res.success:
            nm = optimize.minimize(
                value_only,
                res.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": max_iter * 4, "xatol": 1e-10, "fatol": 1e-14},
            )
            res2 = optimize.minimize(fun, nm.x, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
            res2.success = bool(res2.success or np.abs(res2.jac).max() <= max(tol, 1e-6))
            if res2.fun <= res.fun:
                res = res2
    return res


def standard_errors(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Asymptotic standard errors from the observed information (central differences of the gradient).

    Parameters
    ----------
    grad : callable
        Gradient of the total log-likelihood in the natural parameters.
    theta : numpy.ndarray
        The maximum-likelihood estimate.

    Returns
    -------
    numpy.ndarray
        One standard error per parameter; NaN when the information matrix is not
        positive definite (an estimate on a bound or a flat likelihood).
    """
    k = theta.size
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = (grad(up) - grad(down)) / (2.0 * h)
    info = -(hess + hess.T) / 2.0
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.sqrt(np.diag(np.linalg.inv(info)))


def _check_params(params: Mapping[str, float], names: tuple[str, ...], model: str) -> dict[str, float]:
    missing = [n for n in names if n not in params]
    if missing:
        raise DataError(f"{model} parameters are missing {', '.join(missing)}")
    out = {}
    for n in names:
        try:
            v = float(params[n])
        except (TypeError, ValueError):
            raise DataError(f"{model} parameter {n} must be a number") from None
        if not np.isfinite(v) or v <= 0:
            raise DataError(f"{model} parameter {n} must be a positive number, got {params[n]!r}")
        out[n] = v
    return out


def _expected_purchases(t: np.ndarray, x: np.ndarray, T: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Expected purchases in ``(T, T+t]`` for a customer still active at ``T``.

    ``(a+b+x-1)/(a-1) * (1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z))`` with
    ``z = t/(alpha+T+t)``: FHL's eq. (10) without its ``P(alive)`` factor, after
    Euler's transformation (see the module notes).
    """
    r, alpha, a, b = (params[n] for n in PARAM_NAMES)
    log_1mz = np.log(alpha + T) - np.log(alpha + T + t)
    z = -np.expm1(log_1mz)

    def at(a_: float) -> np.ndarray:
        c = a_ + b + x - 1.0
        hyp = np.exp((a_ - 1.0) * log_1mz) * special.hyp2f1(a_ + b - 1.0 - r, a_ - 1.0, c, z)
        return c / (a_ - 1.0) * (1.0 - hyp)

    if a > _A_QUADRATURE:
        return _expected_purchases_quadrature(t, x, T, params)
    if abs(a - 1.0) >= _A_NEAR_ONE:
        with np.errstate(invalid="ignore", over="ignore"):
            out = at(a)
        bad = ~np.isfinite(out)
        if bad.any():
            shape = out.shape
            t_, x_, T_ = (np.broadcast_to(v, shape)[bad] for v in (t, x, T))
            out[bad] = _expected_purchases_quadrature(t_, x_, T_, params)
        return out
    # 0/0 at a = 1: cubic Lagrange interpolation through a = 1 -/+ h, 1 -/+ 2h (error O(h^4))
    nodes = 1.0 + _A_NEAR_ONE * np.array([-2.0, -1.0, 1.0, 2.0])
    out = np.zeros(np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(T)))
    for i, node in enumerate(nodes):
        others = np.delete(nodes, i)
        out = out + at(node) * float(np.prod((a - others) / (node - others)))
    return out


def _expected_purchases_quadrature(
    t: np.ndarray, x: np.ndarray, T: np.ndarray, params: Mapping[str, float], nodes: int = 64
) -> np.ndarray:
    """The same expectation as an integral over the dropout probability (for large ``a``).

    Given activity at ``T``, ``lambda ~ Gamma(r+x, alpha+T)`` and ``p ~ Beta(a, b+x)``
    independently, and ``E[purchases in t | lambda, p] = (1 - exp(-lambda p t)) / p``, so the
    expectation is ``E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p]``.  The Beta integral is taken
    by ``nodes``-point Gauss-Legendre on its mean +/- 12 standard deviations.  Used when
    ``a > 100`` (the 2F1 overflows from about ``a = 400``; ``a`` and ``b`` run to very large
    values when the data shows no spread in the dropout probability), and tends to the
    constant-dropout limit.  Its relative error against the 2F1 form (mpmath, ``a`` = 100
    and 101) grows as ``b + x`` gets small, where the Beta density is infinite at p = 1:
    2e-15 at ``b + x`` = 10.5, 6e-12 at 5, 4e-9 at 2, 1e-7 at 1, 7e-5 at 0.5
    (``tests/test_bgnbd_known_answers.py``, README "BG/NBD numerics").
    """
    r, alpha, a, b = (params[n] for n in PARAM_NAMES)
    shape = np.broadcast_shapes(np.shape(t), np.shape(x), np.shape(T))
    t_, x_, T_ = (np.broadcast_to(np.asarray(v, dtype="float64"), shape).ravel() for v in (t, x, T))
    u, wts = np.polynomial.legendre.leggauss(nodes)
    out = np.empty(t_.size)
    step = max(1, 2**20 // nodes)  # bounded memory: rows per block
    for start in range(0, t_.size, step):
        sl = slice(start, start + step)
        b2 = b + x_[sl]
        mean = a / (a + b2)
        sd = np.sqrt(mean * (1.0 - mean) / (a + b2 + 1.0))
        lo = np.maximum(mean - 12.0 * sd, 0.0)
        hi = np.minimum(mean + 12.0 * sd, 1.0)
        p = lo[:, None] + (hi - lo)[:, None] * (u + 1.0) / 2.0
        p = np.clip(p, 1e-300, 1.0 - 1e-16)
        log_pdf = (a - 1.0) * np.log(p) + (b2[:, None] - 1.0) * np.log1p(-p)
        dens = np.exp(log_pdf - log_pdf.max(axis=1, keepdims=True)) * wts
        rate = (t_[sl] / (alpha + T_[sl]))[:, None]
        g = -np.expm1(-(r + x_[sl])[:, None] * np.log1p(p * rate)) / p
        out[sl] = (dens * g).sum(axis=1) / dens.sum(axis=1)
    return out.reshape(shape)


class BetaGeoModel(BaseEstimator):
    """BG/NBD model: probability that a customer is still active, and expected purchases.

    Parameters
    ----------
    penalizer : float, default 0.0
        Adds ``penalizer * (r² + alpha² + a² + b²)`` to the mean negative log-likelihood
        (as lifetimes does); 0 gives the maximum-likelihood estimate.
    max_iter : int, default 2000
        Most iterations of each optimiser run.
    tol : float, default 1e-9
        Gradient tolerance (L-BFGS-B ``gtol``) on the mean log-likelihood per customer.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}`` (``alpha`` in the time unit of the data).
    params_se_ : dict
        Asymptotic standard errors of ``params_`` (observed information; assume the
        customers are independent draws, NaN when not estimable or from :meth:`from_params`).
    log_likelihood_ : float
        Total log-likelihood at ``params_`` (NaN for a model made by :meth:`from_params`).
    n_customers_ : int
        Customers fitted on (0 for a model made by :meth:`from_params`).
    n_distinct_ : int
        Distinct ``(x, t_x, T)`` rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reported convergence.
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 2000, tol: float = 1e-9, polish: bool = True):
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol
        self.polish = polish

    # ------------------------------------------------------------------ fitting
    def fit(self, frequency: object, recency: object, T: object, sample_weight: object = None) -> BetaGeoModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array-like
            Repeat purchases ``x``, time of the last purchase ``t_x`` and age ``T``
            (both from the first purchase, in one time unit), one value per customer.
        sample_weight : array-like, optional
            Number of customers each row stands for (e.g. counts of identical rows).

        Returns
        -------
        BetaGeoModel
            ``self``, with ``params_``, ``log_likelihood_``, ``n_customers_``.

        Raises
        ------
        DataError
            Bad values (see :func:`pipeline.churn._validation.check_summary`), fewer than
            10 customers, or nobody with a repeat purchase.
        """
        x, tx, t = check_summary(frequency, recency, T)
        w = check_weights(sample_weight, x.size)
        n = float(w.sum())
        if n < MIN_CUSTOMERS:
            raise DataError(f"the BG/NBD model needs at least {MIN_CUSTOMERS} customers to fit, got {n:g}")
        if not (w[x > 0] > 0).any():
            raise DataError("no customer made a repeat purchase, so purchase and dropout rates cannot be estimated")
        if self.penalizer < 0:
            raise DataError(f"penalizer must not be negative, got {self.penalizer}")
        g = _Grouped.build(x, tx, t, w)
        scale = _wsum(g.w, g.T) / max(_wsum(g.w, g.x), 1.0)  # time per purchase, sets alpha's order
        x0 = np.log([1.0, max(scale, 1e-6), 1.0, 1.0])
        res = minimise(
            lambda z: _neg_log_likelihood(z, g, self.penalizer), x0, self.max_iter, self.tol, polish=self.polish
        )
        theta = np.exp(res.x)
        self.params_ = dict(zip(PARAM_NAMES, (float(v) for v in theta), strict=True))
        self.log_likelihood_ = _log_likelihood_and_grad(theta, g)[0]
        se = standard_errors(lambda th: _log_likelihood_and_grad(th, g)[1], theta)
        self.params_se_ = dict(zip(PARAM_NAMES, (float(v) for v in se), strict=True))
        self.n_customers_ = round(n)
        self.n_distinct_ = int(g.x.size)
        self.converged_ = bool(res.success)
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> BetaGeoModel:
        """A fitted model from stored parameters ``{"r", "alpha", "a", "b"}`` (e.g. read from JSON)."""
        model = cls()
        model.params_ = _check_params(params, PARAM_NAMES, "BG/NBD")
        model.params_se_ = dict.fromkeys(PARAM_NAMES, float("nan"))
        model.log_likelihood_ = float("nan")
        model.n_customers_ = 0
        model.n_distinct_ = 0
        model.converged_ = True
        return model

    # -------------------------------------------------------------- predictions
    def log_likelihood(self, frequency: object, recency: object, T: object) -> np.ndarray:
        """Log-likelihood of each customer's ``(x, t_x, T)`` under ``params_``."""
        check_is_fitted(self, "params_")
        shape, flat = broadcast_flat(frequency, recency, T)
        x, tx, t = check_summary(*flat)
        r, alpha, a, b = (self.params_[n] for n in PARAM_NAMES)
        l1 = special.betaln(a, b + x) - (r + x) * np.log(alpha + t)
        with np.errstate(divide="ignore"):
            l2 = np.where(
                x > 0, special.betaln(a + 1.0, np.maximum(b + x - 1.0, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf
            )
        const = -special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
        return (special.gammaln(r + x) + const + np.logaddexp(l1, l2)).reshape(shape)

    def p_alive(self, frequency: object, recency: object, T: object) -> np.ndarray:
        """Probability that each customer is still active at age ``T`` (FHL 2005, eq. 11).

        ``1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``; 1 for ``x = 0``.

        Returns
        -------
        numpy.ndarray
            One probability per customer (inputs broadcast; scalars give a 0-d array).
        """
        check_is_fitted(self, "params_")
        shape, flat = broadcast_flat(frequency, recency, T)
        x, tx, t = check_summary(*flat)
        return self._p_alive(x, tx, t).reshape(shape)

    def _p_alive(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[n] for n in PARAM_NAMES)
        rep = x > 0
        log_odds = np.full(x.shape, -np.inf)  # log of P(dead)/P(alive)
        xr = x[rep]
        log_odds[rep] = np.log(a) - np.log(b + xr - 1.0) + (r + xr) * (np.log(alpha + t[rep]) - np.log(alpha + tx[rep]))
        return special.expit(-log_odds)

    def expected_purchases(self, t: object, frequency: object, recency: object, T: object) -> np.ndarray:
        """Expected purchases in ``(T, T+t]`` given each customer's history (FHL 2005, eq. 10).

        Parameters
        ----------
        t : float or array-like
            Horizon(s), in the data's time unit; broadcast against the customers.
        frequency, recency, T : array-like
            The customers' ``(x, t_x, T)``.

        Returns
        -------
        numpy.ndarray
            ``P(alive) * (a+b+x-1)/(a-1) * (1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z))``, ``z = t/(alpha+T+t)``.
        """
        check_is_fitted(self, "params_")
        if np.ndim(t) == 0:  # one horizon for everyone: the fast path
            shape = np.broadcast_shapes(np.shape(frequency), np.shape(recency), np.shape(T))
            return self.expected_purchases_curve([t], frequency, recency, T)[0].reshape(shape)
        shape, (h, x, tx, big_t) = broadcast_flat(t, frequency, recency, T)
        x, tx, big_t = check_summary(x, tx, big_t)
        h = _check_horizon(h)
        out = self._p_alive(x, tx, big_t) * _expected_purchases(h, x, big_t, self.params_)
        return out.reshape(shape)

    def expected_purchases_curve(self, times: object, frequency: object, recency: object, T: object) -> np.ndarray:
        """Expected purchases in ``(T, T+t]`` for several horizons ``t``: one row per horizon.

        The Gaussian hypergeometric part depends on ``(x, T)`` only, so it is computed
        once per distinct ``(x, T)`` pair (few in a log measured in whole days).

        Parameters
        ----------
        times : array-like
            Horizons, in the data's time unit.
        frequency, recency, T : array-like
            The customers' ``(x, t_x, T)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(times), n_customers)``.
        """
        check_is_fitted(self, "params_")
        _, flat = broadcast_flat(frequency, recency, T)
        x, tx, big_t = check_summary(*flat)
        h = _check_horizon(times)
        first, inverse = _distinct_rows(x, big_t)
        ux, ut = x[first], big_t[first]
        curve = _expected_purchases(h[:, None], ux[None, :], ut[None, :], self.params_)
        return self._p_alive(x, tx, big_t)[None, :] * curve[:, inverse]

    def expected_purchases_new(self, t: object) -> np.ndarray | float:
        """Expected purchases ``E[X(t)]`` in ``(0, t]`` by a customer of age ``t`` (FHL 2005, eq. 9).

        ``(a+b-1)/(a-1) * (1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t)))``;
        a float for a scalar ``t``.
        """
        check_is_fitted(self, "params_")
        h = _check_horizon(t)
        out = _expected_purchases(h, np.zeros_like(h), np.zeros_like(h), self.params_)
        return float(out[0]) if np.ndim(t) == 0 else out.reshape(np.shape(t))


def _distinct_rows(*cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of one row per distinct combination of ``cols``, and each row's position among them."""
    order = np.lexsort(cols[::-1])
    new = np.zeros(order.size, dtype=bool)
    new[:1] = True
    for c in cols:
        sc = c[order]
        new[1:] |= sc[1:] != sc[:-1]
    group = np.cumsum(new) - 1
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = group
    return order[new], inverse


def _check_horizon(t: object) -> np.ndarray:
    h = as_float_array(t, "t")
    if (h < 0).any():
        raise DataError("the horizon t must not be negative")
    return h
