"""A series of customer tables over several periods with planted migrations (and their truth).

Four latent customer types, each at least two standard deviations from the
others in spend, orders or promotion responses.  Between two periods each customer changes type with the
probabilities of :data:`TRANSITIONS` (the planted migration), some customers
leave (:data:`GONE_SHARE`) and new ones join (:data:`NEW_SHARE`, drawn from
:data:`NEW_MIX`).  Each period is written as a CRM export (``Client Ref``,
``Total Spend``, ``Orders``, ``Promo responses``, ``Member since``) dated at a
quarter end; the truth lists every customer's type in every period.

Randomness only through ``seed``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: Latent types: key -> (mean spend, spend sd, mean orders, orders sd, mean promo responses).
TYPES: dict[str, tuple[float, float, float, float, float]] = {
    "loyal": (2500.0, 220.0, 25.0, 2.5, 1.0),
    "big_spender": (2500.0, 220.0, 5.0, 1.2, 0.0),
    "deal_seeker": (400.0, 60.0, 20.0, 2.0, 5.0),
    "occasional": (100.0, 25.0, 2.0, 0.8, 0.0),
}
#: Spread of promotion responses around each type's mean (rounded, at least 0).
PROMO_SD = 0.6
#: Planted transition probabilities between consecutive periods (rows: from, columns: to; rows sum to 1).
TRANSITIONS: dict[str, dict[str, float]] = {
    "loyal": {"loyal": 0.75, "big_spender": 0.15, "deal_seeker": 0.0, "occasional": 0.10},
    "big_spender": {"loyal": 0.10, "big_spender": 0.80, "deal_seeker": 0.0, "occasional": 0.10},
    "deal_seeker": {"loyal": 0.05, "big_spender": 0.0, "deal_seeker": 0.80, "occasional": 0.15},
    "occasional": {"loyal": 0.0, "big_spender": 0.05, "deal_seeker": 0.15, "occasional": 0.80},
}
#: Type mix of the first period and of new customers.
START_MIX = {"loyal": 0.25, "big_spender": 0.20, "deal_seeker": 0.25, "occasional": 0.30}
NEW_MIX = {"loyal": 0.05, "big_spender": 0.10, "deal_seeker": 0.35, "occasional": 0.50}
#: Share of customers leaving, and share (of the period's customers) joining, per period.
GONE_SHARE = 0.08
NEW_SHARE = 0.10
#: The first period's as-of date (a quarter end).
FIRST_AS_OF = dt.date(2014, 3, 31)


def period_dates(periods: int, first: dt.date = FIRST_AS_OF) -> list[dt.date]:
    """``periods`` consecutive quarter ends starting at ``first``."""
    return [d.date() for d in pd.date_range(first, periods=periods, freq="QE")]


def generate_series(
    customers: int = 3_000, periods: int = 3, seed: int = 11
) -> tuple[list[tuple[dt.date, pd.DataFrame]], pd.DataFrame]:
    """Customer tables per period and the truth.

    Parameters
    ----------
    customers : int
        Customers in the first period (at least 20).
    periods : int
        Number of periods (at least 2).
    seed : int
        Seed of the random generator.

    Returns
    -------
    (list of (date, DataFrame), DataFrame)
        Each period's as-of date and table, and the truth: ``ID``,
        ``period`` (0-based), ``as_of``, ``type``.
    """
    if periods < 2:
        raise ValueError("a series needs at least two periods")
    rng = np.random.default_rng(seed)
    keys = list(TYPES)
    trans = np.array([[TRANSITIONS[a][b] for b in keys] for a in keys])
    dates = period_dates(periods)
    n = int(customers)
    ids = np.arange(n)
    types = rng.choice(len(keys), size=n, p=[START_MIX[k] for k in keys])
    first = pd.Timestamp(dates[0]) - pd.Timedelta(days=5 * 365)
    member = first + pd.to_timedelta(rng.integers(0, 5 * 365 - 1, n), unit="D")
    next_id = n
    tables, truth = [], []
    for p, as_of in enumerate(dates):
        if p > 0:
            stay = rng.random(len(ids)) >= GONE_SHARE
            ids, types, member = ids[stay], types[stay], member[stay]
            u = rng.random(len(ids))[:, None]
            types = np.minimum((u > np.cumsum(trans[types], axis=1)).sum(axis=1), len(keys) - 1)
            n_new = round(NEW_SHARE * len(ids))
            new_ids = np.arange(next_id, next_id + n_new)
            next_id += n_new
            start = pd.Timestamp(dates[p - 1]) + pd.Timedelta(days=1)
            days = max(1, (pd.Timestamp(as_of) - start).days)
            new_member = start + pd.to_timedelta(rng.integers(0, days, n_new), unit="D")
            ids = np.concatenate([ids, new_ids])
            types = np.concatenate([types, rng.choice(len(keys), size=n_new, p=[NEW_MIX[k] for k in keys])])
            member = member.append(new_member)
        params = np.array([TYPES[keys[t]] for t in types])
        spend = np.clip(rng.normal(params[:, 0], params[:, 1]), 1, None).round(2)
        orders = np.clip(rng.normal(params[:, 2], params[:, 3]), 1, None).round()
        promo = np.clip(rng.normal(params[:, 4], PROMO_SD), 0, None).round()
        ref = np.char.add("K", (100_000 + ids).astype(str))
        member_text = np.asarray(member.strftime("%Y-%m-%d"))
        member_text[-1] = pd.Timestamp(as_of).strftime("%Y-%m-%d")  # someone joins on the as-of date: it is the latest
        table = pd.DataFrame(
            {
                "Client Ref": ref,
                "Total Spend": spend,
                "Orders": orders.astype(int),
                "Promo responses": promo.astype(int),
                "Member since": member_text,
            }
        )
        tables.append((as_of, table))
        truth.append(pd.DataFrame({"ID": ref, "period": p, "as_of": as_of.isoformat(), "type": np.array(keys)[types]}))
    return tables, pd.concat(truth, ignore_index=True)


def planted_matrix(truth: pd.DataFrame, period_from: int, period_to: int) -> pd.DataFrame:
    """Customers per (type before or ``"new"``, type after or ``"gone"``) between two periods of the truth."""
    a = truth.loc[truth["period"] == period_from, ["ID", "type"]]
    b = truth.loc[truth["period"] == period_to, ["ID", "type"]]
    m = a.merge(b, on="ID", how="outer", suffixes=("_from", "_to"))
    m["type_from"] = m["type_from"].fillna("new")
    m["type_to"] = m["type_to"].fillna("gone")
    return pd.crosstab(m["type_from"], m["type_to"])
