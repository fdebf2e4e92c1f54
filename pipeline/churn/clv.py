"""Expected customer lifetime value from a fitted BG/NBD and Gamma-Gamma pair.

The horizon is cut into ``steps`` equal periods.  Expected purchases in period ``k``
are the difference of the conditional expectations at its two ends,
``E[Y(t_k)] - E[Y(t_{k-1})]``; each period's value is those purchases times the
expected order value times ``margin``, discounted to the as-of date at the end of
the period with ``(1 + annual_discount_rate) ** (-t_k / periods_per_year)``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from pipeline.churn._validation import broadcast_flat, check_summary
from pipeline.churn.bgnbd import BetaGeoModel, _distinct_rows, _expected_purchases
from pipeline.churn.gamma_gamma import GammaGammaModel
from pipeline.errors import DataError


def expected_clv(
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    frequency: object,
    recency: object,
    T: object,
    monetary_value: object,
    *,
    horizon: float,
    periods_per_year: float,
    margin: float = 1.0,
    annual_discount_rate: float = 0.0,
    steps: int = 12,
) -> np.ndarray:
    """Expected value of each customer's purchases over the next ``horizon``.

    Parameters
    ----------
    bgnbd, gamma_gamma : fitted models
        Purchases and spend per purchase.
    frequency, recency, T : array-like
        Repeat purchases ``x``, ``t_x`` and age ``T`` at the as-of date, in the BG/NBD time unit.
    monetary_value : array-like
        Mean value of the repeat purchases (ignored where ``x = 0``: the population mean is used).
    horizon : float
        Length of the future period, in the BG/NBD time unit (12 months = ``periods_per_year``).
    periods_per_year : float
        Time units per year (365.25 for days, 52.1786 for weeks), to discount.
    margin : float, default 1.0
        Share of revenue kept as profit.
    annual_discount_rate : float, default 0.0
        Yearly discount rate (0.1 = 10 %).
    steps : int, default 12
        Periods the horizon is cut into for discounting (the undiscounted value does not depend on it).

    Returns
    -------
    numpy.ndarray
        Expected (discounted) value per customer, in money units.

    Raises
    ------
    DataError
        Bad settings or customer values.
    """
    for name, value in (("horizon", horizon), ("periods_per_year", periods_per_year)):
        if not np.isfinite(value) or value <= 0:
            raise DataError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(margin) or margin < 0:
        raise DataError(f"margin must be a non-negative number, got {margin!r}")
    if not np.isfinite(annual_discount_rate) or annual_discount_rate <= -1:
        raise DataError(f"annual_discount_rate must be a number above -1, got {annual_discount_rate!r}")
    if int(steps) != steps or steps < 1:
        raise DataError(f"steps must be a whole number of at least 1, got {steps!r}")
    check_is_fitted(bgnbd, "params_")
    value = gamma_gamma.expected_average_value(frequency, monetary_value)
    shape, flat = broadcast_flat(frequency, recency, T)
    x, tx, big_t = check_summary(*flat)
    ends = horizon * np.arange(1, int(steps) + 1) / int(steps)
    discount = (1.0 + annual_discount_rate) ** (-ends / periods_per_year)
    # The purchases curve of a customer still active depends on (x, T) only: once per distinct pair.
    first, inverse = _distinct_rows(x, big_t)
    curve = _expected_purchases(ends[:, None], x[first][None, :], big_t[first][None, :], bgnbd.params_)
    per_step = np.diff(curve, axis=0, prepend=0.0)
    discounted = (discount[:, None] * per_step).sum(axis=0)
    purchases = bgnbd._p_alive(x, tx, big_t) * discounted[inverse]
    return margin * value * purchases.reshape(shape)
