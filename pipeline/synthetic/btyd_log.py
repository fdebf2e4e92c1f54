"""A transaction log drawn from the BG/NBD and Gamma-Gamma models (CDNOW-like), for tests and benchmarks.

Customers make their first purchase in the first ``cohort_days`` days of the
log, then buy at a Poisson rate ``lambda ~ Gamma(r, rate alpha)`` (per day) and
drop out for good after each repeat purchase with probability
``p ~ Beta(a, b)``.  Each purchase is one order line (two for one in ten) whose amounts
add up to a draw from the Gamma-Gamma spend model
(``nu ~ Gamma(q, rate gamma)``, spend ``~ Gamma(p_spend, rate nu)``).  Purchase
times are drawn on a continuous clock; two purchases of a customer on one
day are two orders of that day.

The default parameters are the published CDNOW fits (Fader, Hardie & Lee 2005:
``r = 0.243, alpha = 4.414`` weeks, ``a = 0.793, b = 2.426``; Fader & Hardie
2013: ``p = 6.25, q = 3.74, gamma = 15.44``), with ``alpha`` converted to days.
Randomness only through ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: CDNOW's BG/NBD fit, alpha in days (4.414 weeks × 7).
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}
#: CDNOW's Gamma-Gamma fit (spend per purchase in dollars).
CDNOW_SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
FIRST_DAY = pd.Timestamp("1997-01-01")


def generate_btyd_log(
    n_customers: int = 2_000,
    seed: int = 0,
    *,
    days: int = 546,
    cohort_days: int = 84,
    params: dict[str, float] | None = None,
    spend: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Order lines ``CustomerID, OrderDate (yyyy-mm-dd), Amount``, sorted by date.

    Parameters
    ----------
    n_customers : int
        Customers (each has at least one purchase).
    seed : int
        Seed of the random generator.
    days : int
        Length of the log in days (78 weeks, as CDNOW).
    cohort_days : int
        First purchases fall in the first ``cohort_days`` days (12 weeks, as CDNOW).
    params, spend : dict or None
        BG/NBD (alpha in days) and Gamma-Gamma parameters; default: CDNOW's.
    """
    bg = {**CDNOW_BGNBD, **(params or {})}
    gg = {**CDNOW_SPEND, **(spend or {})}
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    first = rng.integers(0, cohort_days, n).astype(float) + rng.random(n)
    horizon = days - first
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
    drop = rng.beta(bg["a"], bg["b"], n)
    last_repeat = rng.geometric(np.clip(drop, 1e-12, 1.0))  # the customer leaves after this repeat purchase
    events = rng.poisson(lam * horizon)
    repeats = np.minimum(events, last_repeat)
    # Event times: uniform order statistics of the Poisson events; keep the first `repeats` of each customer.
    owner = np.repeat(np.arange(n), events)
    times = rng.random(len(owner)) * horizon[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(events) - events, events)
    keep = rank < repeats[owner]
    cust = np.concatenate([np.arange(n), owner[keep]])
    when = np.concatenate([first, first[owner[keep]] + times[keep]])
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], n)
    value = rng.gamma(gg["p"], 1.0 / nu[cust])
    # One order line per purchase, two for one purchase in ten (splitting its value).
    lines = 1 + (rng.random(len(cust)) < 0.1).astype(int)
    line_purchase = np.repeat(np.arange(len(cust)), lines)
    share = rng.random(len(line_purchase)) + 0.2
    share /= np.bincount(line_purchase, weights=share)[line_purchase]
    amount = np.round(value[line_purchase] * share, 2)
    day = np.floor(when[line_purchase]).astype(int)
    ids = np.char.add("C", (100_000 + cust[line_purchase]).astype(str))
    dates = (FIRST_DAY + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d")
    out = pd.DataFrame({"CustomerID": ids, "OrderDate": np.asarray(dates), "Amount": amount})
    return out.iloc[np.argsort(day, kind="stable")].reset_index(drop=True)


def btyd_log_bytes(n_customers: int = 2_000, seed: int = 0, **kwargs: object) -> bytes:
    """:func:`generate_btyd_log` as comma-separated text."""
    table = generate_btyd_log(n_customers, seed, **kwargs)  # type: ignore[arg-type]
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8")
