"""Purchase days per customer from a transaction log: the inputs of the churn models.

:func:`purchase_day_columns` turns the purchase lines of a log into one row
per customer, in whole days (used by :mod:`pipeline.data.transactions`; read by
:mod:`pipeline.churn.inputs`):

``Repeat_Purchase_Days`` (``x``)
    Distinct purchase days after the first (several orders on one day count once).
``Days_First_To_Last_Purchase`` (``t_x``)
    Days from the first to the last purchase day.
``Days_Since_First_Purchase`` (``T``)
    Days from the first purchase day to the as-of date.
``Spend_Per_Purchase_Day`` (``monetary``)
    Net spend (returns subtracted, at least 0) / purchase days.

and the holdout that checks the churn model's predictions
(:data:`HOLDOUT_COLUMNS`): when the log has purchase lines after the as-of
date, each customer's purchase days after it (the period ends at the log's
last line); otherwise an internal one, the same summary at a cut-off two
thirds of the way from the log's first purchase day to the as-of date and
the purchase days after the cut-off.  A holdout shorter than
:data:`MIN_HOLDOUT_DAYS` is left out (NaN columns).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

#: Days in a year, as in the tenure feature (``Customer_For_Years`` = days / 365.25).
DAYS_PER_YEAR = 365.25
NS_PER_DAY = 86_400 * 10**9
#: The internal holdout refits on this share of the period from the log's first day to the as-of date.
INTERNAL_CALIBRATION_SHARE = 2 / 3
#: Shortest holdout period worth comparing (days).
MIN_HOLDOUT_DAYS = 7

#: Per-customer BTYD summary of a transaction log (``x``, ``t_x``, ``T``, ``monetary``).
REPEAT_DAYS = "Repeat_Purchase_Days"
FIRST_TO_LAST = "Days_First_To_Last_Purchase"
SINCE_FIRST = "Days_Since_First_Purchase"
SPEND_PER_DAY = "Spend_Per_Purchase_Day"
BTYD_COLUMNS: tuple[str, ...] = (REPEAT_DAYS, FIRST_TO_LAST, SINCE_FIRST, SPEND_PER_DAY)
#: Holdout of a transaction log: calibration summary at the cut-off, actual purchase days after it,
#: the period's length (days, same on every row), whether the period is after the as-of date (1) or internal (0),
#: and the day number of its end (the log's last line, or for an internal holdout the as-of date or the last purchase).
HOLDOUT_REPEAT_DAYS = "Holdout_Repeat_Days"
HOLDOUT_FIRST_TO_LAST = "Holdout_First_To_Last_Days"
HOLDOUT_SINCE_FIRST = "Holdout_Since_First_Days"
HOLDOUT_ACTUAL = "Holdout_Actual_Days"
HOLDOUT_PERIOD = "Holdout_Period_Days"
HOLDOUT_AFTER_AS_OF = "Holdout_After_As_Of"
HOLDOUT_END = "Holdout_End_Day"
HOLDOUT_COLUMNS: tuple[str, ...] = (
    HOLDOUT_REPEAT_DAYS,
    HOLDOUT_FIRST_TO_LAST,
    HOLDOUT_SINCE_FIRST,
    HOLDOUT_ACTUAL,
    HOLDOUT_PERIOD,
    HOLDOUT_AFTER_AS_OF,
    HOLDOUT_END,
)


def purchase_day_columns(
    cust: np.ndarray,
    day: np.ndarray,
    n: int,
    as_of_day: int,
    spend: np.ndarray,
    late_cust: np.ndarray | None = None,
    late_day: np.ndarray | None = None,
    log_end_day: int | None = None,
) -> dict[str, np.ndarray]:
    """The BTYD and holdout columns of a transaction log, one value per customer.

    Parameters
    ----------
    cust : ndarray of int
        Customer code (0..n-1) of each purchase line up to the as-of date.
    day : ndarray of int
        Its day number (days since 1970-01-01).
    n : int
        Number of customers.
    as_of_day : int
        Day number of the as-of date.
    spend : ndarray of float
        Net spend of each customer (returns subtracted), ``n`` values; negative counts as 0.
    late_cust, late_day : ndarray of int or None
        Customer code (-1: not a calibration customer) and day of purchase lines after the as-of date.
    log_end_day : int or None
        Day of the log's last line after the as-of date (default: the last late purchase).

    Returns
    -------
    dict
        Arrays for :data:`BTYD_COLUMNS` and :data:`HOLDOUT_COLUMNS` (NaN for
        customers without a purchase, and for the holdout when there is none).
    """
    cust, day = _distinct_days(cust, day)  # one line per customer and day: the summaries below count days
    first, last, count = _day_summary(cust, day, n)
    x = count - 1.0
    out = {
        REPEAT_DAYS: x,
        FIRST_TO_LAST: last - first,
        SINCE_FIRST: as_of_day - first,
        SPEND_PER_DAY: np.clip(np.asarray(spend, dtype="float64"), 0.0, None) / np.maximum(count, 1.0),
    }
    nan = np.full(n, np.nan)
    hold = {c: nan.copy() for c in HOLDOUT_COLUMNS}
    late_ok = late_cust is not None and late_day is not None and (np.asarray(late_cust) >= 0).any()
    if late_ok:
        assert late_cust is not None and late_day is not None
        sel = np.asarray(late_cust) >= 0
        _, _, after = _day_summary(np.asarray(late_cust)[sel], np.asarray(late_day)[sel], n)
        end = int(log_end_day if log_end_day is not None else np.max(late_day))
        period = end - as_of_day
        has = count > 0
        hold.update(
            {
                HOLDOUT_REPEAT_DAYS: np.where(has, x, np.nan),
                HOLDOUT_FIRST_TO_LAST: np.where(has, last - first, np.nan),
                HOLDOUT_SINCE_FIRST: np.where(has, as_of_day - first, np.nan),
                HOLDOUT_ACTUAL: np.where(has, after, np.nan),
                HOLDOUT_PERIOD: np.full(n, float(period)),
                HOLDOUT_AFTER_AS_OF: np.ones(n),
                HOLDOUT_END: np.full(n, float(end)),
            }
        )
    elif len(day):
        start = int(np.min(day))
        end = min(as_of_day, int(np.max(day)))  # an as-of date after the log's end has no purchases to compare
        cutoff = start + int(np.floor(INTERNAL_CALIBRATION_SHARE * (end - start)))
        if end - cutoff >= MIN_HOLDOUT_DAYS:
            before = day <= cutoff
            c_first, c_last, c_count = _day_summary(cust[before], day[before], n)
            _, _, after = _day_summary(cust[~before], day[~before], n)
            has = c_count > 0
            hold.update(
                {
                    HOLDOUT_REPEAT_DAYS: np.where(has, c_count - 1.0, np.nan),
                    HOLDOUT_FIRST_TO_LAST: np.where(has, c_last - c_first, np.nan),
                    HOLDOUT_SINCE_FIRST: np.where(has, cutoff - c_first, np.nan),
                    HOLDOUT_ACTUAL: np.where(has, after, np.nan),
                    HOLDOUT_PERIOD: np.full(n, float(end - cutoff)),
                    HOLDOUT_AFTER_AS_OF: np.zeros(n),
                    HOLDOUT_END: np.full(n, float(end)),
                }
            )
    out.update(hold)
    return out


def _distinct_days(cust: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (customer, day) pairs of purchase lines, sorted by customer then day."""
    cust = np.asarray(cust, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    if not len(day):
        return cust, day
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    pairs = np.unique(cust * span + (day - d0))
    return pairs // span, pairs % span + d0


def _day_summary(cust: np.ndarray, day: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First day, last day and number of distinct days per customer (NaN/0 for none)."""
    cust = np.asarray(cust, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    if not len(day):
        return first, last, np.zeros(n)
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    pairs = np.unique(cust * span + (day - d0))
    c = pairs // span
    d = (pairs % span + d0).astype("float64")
    count = np.bincount(c, minlength=n).astype("float64")
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:] - 1, len(c) - 1]
    first[c[starts]] = d[starts]
    last[c[ends]] = d[ends]
    return first, last, count


def day_number(date: dt.date) -> int:
    """Days from 1970-01-01 to ``date``."""
    return (date - dt.date(1970, 1, 1)).days
