"""Deterministic generators of "bring your own data" inputs, for tests and benchmarks.

* :func:`generate_transactions`: a dirty order-line export shaped like the
  public "Online Retail" data set (``InvoiceNo, StockCode, Description,
  Quantity, InvoiceDate, UnitPrice, CustomerID, Country``) with every quirk
  real exports have: cancelled orders (invoice numbers starting with ``C``,
  negative quantities), returns (negative quantities on ordinary invoices),
  lines with no customer id, exactly duplicated lines, mixed date formats
  (US ``12/1/2010 8:26``, ISO ``2011-03-04 10:15:00``, German
  ``04.03.2011 10:15``), a few unreadable timestamps, and customer ids written
  as floats (``17850.0``).
* :func:`generate_customer_table`: the built-in sample's customers with
  differently named, differently grouped columns (``Client Ref``,
  ``Total Spend``, ``Online orders``, ...), as an analyst's CRM export.

Everything is driven by one :class:`numpy.random.Generator` seeded from the
``seed`` argument: the same arguments always give the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.features.definitions import CAMPAIGN_COLUMNS, SPEND_COLUMNS
from pipeline.synthetic.customers import generate_sample, to_text_bytes

TRANSACTION_COLUMNS: tuple[str, ...] = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
FIRST_DAY = pd.Timestamp("2010-12-01")
N_DAYS = 374  # to 2011-12-09, like the public file
_COUNTRIES = np.array(["United Kingdom"] * 9 + ["Germany", "France", "EIRE", "Spain", "Netherlands"], dtype=object)
# Latent customer types: share, order-rate weight, first-purchase day range, quantity scale, campaign propensity.
_TYPES = (
    (0.20, 8.0, (0, 60), 3.0, 0.45),  # high-value loyal
    (0.25, 4.0, (0, 200), 2.5, 0.03),  # high spend, low engagement
    (0.25, 1.2, (250, 360), 1.0, 0.10),  # new / occasional
    (0.30, 1.0, (0, 120), 0.8, 0.02),  # low value
)


def generate_transactions(n_lines: int = 10_000, seed: int = 7, campaign: bool = False) -> pd.DataFrame:
    """Generate a dirty transaction log of exactly ``n_lines`` lines.

    Parameters
    ----------
    n_lines : int
        Number of lines (at least 200).
    seed : int
        Seed of the random generator.
    campaign : bool
        Add a ``Promo`` column: a promotion code (``SPRING``, ``XMAS``) on
        the lines of orders placed through a campaign, empty otherwise.

    Returns
    -------
    DataFrame
        All columns as text, in :data:`TRANSACTION_COLUMNS` order (then
        ``Promo``), chronological like the public export.
    """
    if n_lines < 200:
        raise ValueError("n_lines must be at least 200")
    rng = np.random.default_rng(seed)
    n_customers = max(20, n_lines // 110)
    shares = np.array([t[0] for t in _TYPES])
    kind = rng.choice(len(_TYPES), size=n_customers, p=shares / shares.sum())
    rate = np.array([t[1] for t in _TYPES])[kind] * np.exp(rng.normal(0, 0.5, n_customers))
    lo = np.array([_TYPES[k][2][0] for k in kind])
    hi = np.array([_TYPES[k][2][1] for k in kind])
    first_day = lo + rng.random(n_customers) * (hi - lo)
    qty_scale = np.array([t[3] for t in _TYPES])[kind]
    promo_p = np.array([t[4] for t in _TYPES])[kind]
    ids = rng.choice(np.arange(12_346, 12_346 + 10 * n_customers), size=n_customers, replace=False)
    country = _COUNTRIES[rng.integers(0, len(_COUNTRIES), n_customers)]

    # Orders: one per customer (the first purchase), the rest drawn by order rate.
    mean_lines = 9.0
    n_orders = max(n_customers + 1, int(n_lines / (mean_lines + 1) * 0.96))
    extra = rng.choice(n_customers, size=n_orders - n_customers, p=rate / rate.sum())
    cust = np.concatenate([np.arange(n_customers), extra])
    is_first = np.arange(n_orders) < n_customers
    span = N_DAYS - first_day[cust]
    day = np.where(is_first, first_day[cust], first_day[cust] + rng.random(n_orders) * span)
    minutes = np.floor(day) * 1440 + rng.integers(8 * 60, 19 * 60, n_orders)
    order_time = FIRST_DAY + pd.to_timedelta(minutes, unit="min")
    no_customer = rng.random(n_orders) < 0.05
    promo = rng.random(n_orders) < promo_p[cust]
    cancel_of = rng.choice(np.flatnonzero(~no_customer), size=max(2, n_orders // 50), replace=False)

    catalogue_price = np.round(np.exp(rng.normal(1.0, 0.9, 3_000)), 2)
    lines_per_order = 1 + rng.poisson(mean_lines, n_orders)
    # Cancellations copy the lines of an earlier order, a few hours later.
    order_src = np.concatenate([np.arange(n_orders), cancel_of])
    cancelled = np.concatenate([np.zeros(n_orders, bool), np.ones(len(cancel_of), bool)])
    delay = np.concatenate([np.zeros(n_orders), rng.integers(60, 3 * 1440, len(cancel_of))])
    all_time = order_time[order_src] + pd.to_timedelta(delay, unit="min")
    all_time = all_time.where(all_time < FIRST_DAY + pd.Timedelta(days=N_DAYS), order_time[order_src])
    chrono = np.argsort(all_time.to_numpy(), kind="stable")
    order_src, cancelled, all_time = order_src[chrono], cancelled[chrono], all_time[chrono]
    invoice = np.char.add(np.where(cancelled, "C", ""), (536_365 + np.arange(len(order_src))).astype(str))

    per_order = lines_per_order[order_src]
    line_order = np.repeat(np.arange(len(order_src)), per_order)
    src = order_src[line_order]
    n_all = len(line_order)
    # Stock codes are drawn per (source order, line) so a cancellation repeats its order's items.
    offset = np.arange(n_all) - np.repeat(np.cumsum(per_order) - per_order, per_order)
    item = (src * 7_919 + offset * 104_729 + seed) % len(catalogue_price)
    qty = np.maximum(1, np.round(rng.geometric(0.35, n_all) * qty_scale[cust[src]])).astype(int)
    qty = np.where(cancelled[line_order], -qty, qty)
    returns = ~cancelled[line_order] & (rng.random(n_all) < 0.004)
    qty = np.where(returns, -qty, qty)

    when = _mixed_format_dates(all_time, rng)
    customer_text = np.where(no_customer[src], "", np.char.add(ids[cust[src]].astype(str), ".0"))
    table = pd.DataFrame(
        {
            "InvoiceNo": invoice[line_order],
            "StockCode": (84_000 + item).astype(str),
            "Description": np.char.add("ITEM ", item.astype(str)),
            "Quantity": qty.astype(str),
            "InvoiceDate": when[line_order],
            "UnitPrice": np.char.mod("%.2f", catalogue_price[item]),
            "CustomerID": customer_text,
            "Country": country[cust[src]],
        }
    )
    if campaign:
        code = np.where(rng.random(len(order_src)) < 0.5, "SPRING", "XMAS")
        table["Promo"] = np.where(promo[order_src], code, "")[line_order]
    # Exact duplicate lines right after their original (an export glitch).
    dup = np.flatnonzero(rng.random(n_all) < 0.01)
    order = np.sort(np.concatenate([np.arange(n_all), dup]), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    if len(table) >= n_lines:
        keep = np.sort(rng.choice(len(table), size=n_lines, replace=False))
        table = table.iloc[keep]
    else:
        fill = rng.choice(len(table), size=n_lines - len(table), replace=True)
        table = table.iloc[np.sort(np.concatenate([np.arange(len(table)), fill]))]
    return table.reset_index(drop=True).replace({"": None})


def _mixed_format_dates(times: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """85% US ``m/d/yyyy h:mm``, 12% ISO, 3% ``dd.mm.yyyy hh:mm``, a few unreadable."""
    us = (
        times.month.astype(str)
        + "/"
        + times.day.astype(str)
        + "/"
        + times.year.astype(str)
        + " "
        + times.hour.astype(str)
        + ":"
        + times.strftime("%M")
    )
    iso = times.strftime("%Y-%m-%d %H:%M:%S")
    dotted = times.strftime("%d.%m.%Y %H:%M")
    pick = rng.random(len(times))
    out = np.where(pick < 0.85, np.asarray(us), np.where(pick < 0.97, np.asarray(iso), np.asarray(dotted)))
    junk = rng.choice(len(times), size=max(1, len(times) // 2_000), replace=False)
    out = out.astype(object)
    out[junk] = "not recorded"
    return out


def transactions_bytes(n_lines: int = 10_000, seed: int = 7, campaign: bool = False) -> bytes:
    """:func:`generate_transactions` as comma-separated text."""
    return generate_transactions(n_lines, seed, campaign).to_csv(index=False, lineterminator="\n").encode("utf-8")


def generate_customer_table(rows: int = 500, seed: int = 11) -> pd.DataFrame:
    """The sample's customers under other column names, as a CRM export.

    Columns: ``Client Ref``, ``Region``, ``Total Spend``, ``Online orders``
    (web + catalogue), ``Store orders`` (store + deals), ``Promo responses``
    (campaigns accepted), ``Member since`` (ISO date), ``Days since last
    order``.  The sample's dirt (blank rows at the end) is kept.
    """
    table, _ = generate_sample(rows, seed)
    rng = np.random.default_rng(seed)
    member = pd.to_datetime(table["Dt_Customer"], format="%d-%m-%Y", errors="coerce")
    region = np.array(["North", "South", "East", "West"], dtype=object)[rng.integers(0, 4, len(table))]
    out = pd.DataFrame(
        {
            "Client Ref": table["ID"],
            "Region": np.where(table["ID"].isna(), None, region),
            "Total Spend": table[list(SPEND_COLUMNS)].sum(axis=1, min_count=1),
            "Online orders": table["NumWebPurchases"] + table["NumCatalogPurchases"],
            "Store orders": table["NumStorePurchases"] + table["NumDealsPurchases"],
            "Promo responses": table[list(CAMPAIGN_COLUMNS)].sum(axis=1, min_count=1),
            "Member since": member.dt.strftime("%Y-%m-%d"),
            "Days since last order": table["Recency"],
        }
    )
    return out


def customer_table_bytes(rows: int = 500, seed: int = 11) -> bytes:
    """:func:`generate_customer_table` as comma-separated text."""
    return to_text_bytes(generate_customer_table(rows, seed), ",")
