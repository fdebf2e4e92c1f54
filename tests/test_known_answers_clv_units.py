"""Known answer of the lifetime value's discounting in a time unit shorter than a year (issue #15).

With ``periods_per_year = 1`` dividing or multiplying the period ends by it is the same, so the
discount's conversion to years is checked in half-year units: two periods end after 1/2 and 1
year, discounted at 100 % a year by 2**-0.5 and 2**-1.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.churn.bgnbd import BetaGeoModel
from pipeline.churn.clv import expected_clv
from pipeline.churn.gamma_gamma import GammaGammaModel


def test_clv_discounts_period_ends_converted_to_years() -> None:
    bg = BetaGeoModel.from_params({"r": 2.0, "alpha": 3.0, "a": 2.0, "b": 3.0})
    gg = GammaGammaModel.from_params({"p": 2.0, "q": 3.0, "gamma": 4.0})
    x, tx, big_t, m = np.array([2.0]), np.array([1.0]), np.array([2.0]), np.array([3.0])
    e1, e2 = bg.expected_purchases_curve([1.0, 2.0], x, tx, big_t)  # purchases by the end of each half-year
    value = 10 / 3  # Gamma-Gamma mean spend of x = 2, m = 3: (gamma + m x) p / (p x + q - 1) = 20 / 6
    got = expected_clv(bg, gg, x, tx, big_t, m, horizon=2.0, periods_per_year=2.0, annual_discount_rate=1.0, steps=2)
    np.testing.assert_allclose(got, value * (e1 / math.sqrt(2.0) + (e2 - e1) / 2.0), rtol=1e-12)
