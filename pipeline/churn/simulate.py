"""Customers drawn from the BG/NBD and Gamma-Gamma models themselves (for tests and benchmarks).

Randomness only through ``random_state``.  The draws follow the models' stories:
``lambda ~ Gamma(r, rate alpha)``, ``p ~ Beta(a, b)``; the customer is active at the
first purchase (time 0), buys at the Poisson rate ``lambda`` and drops out right after
each repeat purchase with probability ``p``.  So the repeat purchase after which the
customer leaves is ``J ~ Geometric(p)`` and, with ``N ~ Poisson(lambda T)`` Poisson events
in ``(0, T]``, ``x = min(N, J)`` and the customer is alive at ``T`` iff ``N < J``.  Given
``N = n`` the event times are uniform order statistics, so the time of the ``x``-th is
``T * Beta(x, n - x + 1)``.  A holdout window continues the same process (memoryless).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from pipeline.churn.bgnbd import PARAM_NAMES as BG_NAMES
from pipeline.churn.bgnbd import _check_params
from pipeline.churn.gamma_gamma import PARAM_NAMES as GG_NAMES
from pipeline.errors import DataError


def simulate_bgnbd(
    n_customers: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    random_state: int | np.random.RandomState | None = None,
    *,
    holdout: float | None = None,
) -> pd.DataFrame:
    """Draw customer summaries from a BG/NBD model.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    params : mapping
        ``{"r", "alpha", "a", "b"}``.
    T : float or array of length ``n_customers``
        Each customer's age at the as-of date.
    random_state : int, RandomState or None
        Seed.
    holdout : float, optional
        Length of a window after ``T``; adds the column ``holdout_purchases``.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T``, ``alive`` (at ``T``), ``lambda``, ``p``
        and, with ``holdout``, ``holdout_purchases`` in ``(T, T + holdout]``.
    """
    prm = _check_params(params, BG_NAMES, "BG/NBD")
    n = int(n_customers)
    if n < 0:
        raise DataError("n_customers must not be negative")
    ages = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    if (ages < 0).any() or not np.isfinite(ages).all():
        raise DataError("T must be non-negative finite numbers")
    rng = check_random_state(random_state)
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], size=n)
    p = rng.beta(prm["a"], prm["b"], size=n)
    drop_after = _geometric(rng, p)
    events = rng.poisson(lam * ages)
    alive = events < drop_after
    x = np.minimum(events, drop_after).astype("int64")
    recency = np.zeros(n)
    rep = x > 0
    recency[rep] = ages[rep] * rng.beta(x[rep], events[rep] - x[rep] + 1)
    out = pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": recency, "T": ages, "alive": alive, "lambda": lam, "p": p}
    )
    if holdout is not None:
        if not np.isfinite(holdout) or holdout < 0:
            raise DataError("holdout must be a non-negative number")
        later = rng.poisson(lam * holdout)
        more = _geometric(rng, p)
        out["holdout_purchases"] = np.where(alive, np.minimum(later, more), 0.0).astype("int64")
    return out


def _geometric(rng: np.random.RandomState, p: np.ndarray) -> np.ndarray:
    """Geometric draws on 1, 2, ... by inversion, in floats (no integer overflow for tiny ``p``)."""
    u = 1.0 - rng.random_sample(p.shape)  # in (0, 1]
    with np.errstate(divide="ignore"):
        k = np.ceil(np.log(u) / np.log1p(-np.clip(p, 0.0, 1.0)))
    return np.clip(np.nan_to_num(k, nan=1.0, posinf=np.inf, neginf=np.inf), 1.0, np.inf)


def simulate_gamma_gamma(
    frequency: object, params: Mapping[str, float], random_state: int | np.random.RandomState | None = None
) -> np.ndarray:
    """Draw each customer's mean repeat-purchase value from a Gamma-Gamma model.

    ``nu ~ Gamma(q, rate gamma)`` per customer; the mean of ``x`` values ``Gamma(p, rate nu)``
    is ``Gamma(p x, rate x nu)``.  NaN where ``frequency`` is 0 (no repeat purchase).
    """
    prm = _check_params(params, GG_NAMES, "Gamma-Gamma")
    x = np.asarray(frequency, dtype="float64").ravel()
    if (x < 0).any() or not np.isfinite(x).all():
        raise DataError("frequency must be non-negative whole numbers")
    rng = check_random_state(random_state)
    nu = rng.gamma(prm["q"], 1.0 / prm["gamma"], size=x.size)
    rep = x > 0
    out = np.full(x.size, np.nan)
    out[rep] = rng.gamma(prm["p"] * x[rep], 1.0 / (x[rep] * nu[rep]))
    return out
