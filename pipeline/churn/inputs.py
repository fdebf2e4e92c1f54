"""Per-customer inputs of the churn and lifetime-value models, from each kind of input.

The BG/NBD and Gamma-Gamma models (:mod:`pipeline.churn.bgnbd`,
:mod:`pipeline.churn.gamma_gamma`) summarise a customer by four numbers, all
in days:

``x``
    Repeat purchases: distinct purchase days after the first one.
``t_x``
    Days from the first to the last purchase day (0 when ``x = 0``).
``T``
    Days from the first purchase day to the as-of date (the customer's age).
``monetary``
    Mean net spend per purchase day (spend / ``(x + 1)``).

Transaction logs
    :func:`pipeline.data.purchase_days.purchase_day_columns` computes them from
    the purchase lines when the log is aggregated (returns and cancellations are
    not purchases; their amounts are subtracted from the spend), with a holdout
    period to check the predictions; :func:`transaction_inputs` reads them.
Summary tables (the reference marketing table, or a mapped customer table with
purchase counts, days since the last purchase and an enrolment date)
    No purchase dates: :func:`summary_from_counts` derives ``x``, ``t_x`` and
    ``T`` under the assumptions listed in :func:`summary_assumptions` (carried
    in the manifest and shown with the figures).
Tables without days since the last purchase
    Not measured: :class:`NotMeasured` says why; nothing is guessed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from pipeline.data.purchase_days import (
    BTYD_COLUMNS,
    FIRST_TO_LAST,
    HOLDOUT_ACTUAL,
    HOLDOUT_AFTER_AS_OF,
    HOLDOUT_COLUMNS,
    HOLDOUT_END,
    HOLDOUT_FIRST_TO_LAST,
    HOLDOUT_PERIOD,
    HOLDOUT_REPEAT_DAYS,
    HOLDOUT_SINCE_FIRST,
    REPEAT_DAYS,
    SINCE_FIRST,
    SPEND_PER_DAY,
)
from pipeline.features.definitions import ID_COLUMN

#: Days in a year, as in the tenure feature (``Customer_For_Years`` = days / 365.25).
DAYS_PER_YEAR = 365.25

NO_RECENCY = "not measured: the data has no days since last purchase"
NO_COUNTS = "not measured: the data has no purchase counts"
NO_TENURE = "not measured: the data has no enrolment date"


@dataclasses.dataclass(frozen=True)
class NotMeasured:
    """Why the churn model cannot be measured on a data set (one sentence)."""

    reason: str


@dataclasses.dataclass(frozen=True, eq=False)
class HoldoutInputs:
    """Calibration summaries and actual purchase days in the period after a cut-off.

    Attributes
    ----------
    after_as_of : bool
        True: the period is the log's lines after the as-of date; False: an
        internal holdout inside the fitted period (the model is refitted on
        the calibration part).
    calibration_end, end : date
        The period is ``(calibration_end, end]``.
    x, t_x, T : ndarray
        Calibration summaries (days) of the customers who had bought by the cut-off.
    actual : ndarray
        Their purchase days in the period.
    """

    after_as_of: bool
    calibration_end: dt.date
    end: dt.date
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    actual: np.ndarray

    @property
    def days(self) -> int:
        """Length of the holdout period in days."""
        return (self.end - self.calibration_end).days


@dataclasses.dataclass(frozen=True, eq=False)
class ChurnInputs:
    """The per-customer model inputs of a data set (NaN where a customer cannot be measured).

    Attributes
    ----------
    x, t_x, T, monetary : ndarray
        One value per row of the customer table, in days (see the module docstring).
    source : str
        ``"transactions"`` or ``"marketing"`` (any summary table derived from counts).
    as_of : date
        The date ``T`` is counted to.
    tenure_offset_days : int
        Days from the tenure as-of date to ``as_of`` (0 for logs; see :func:`summary_from_counts`).
    assumptions : tuple of str
        How the inputs were derived, one sentence each.
    holdout : HoldoutInputs or None
        Transaction logs only.
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    source: str
    as_of: dt.date
    tenure_offset_days: int = 0
    assumptions: tuple[str, ...] = ()
    holdout: HoldoutInputs | None = None

    @property
    def measured(self) -> np.ndarray:
        """Rows with a usable ``(x, t_x, T)``."""
        return np.isfinite(self.x) & np.isfinite(self.t_x) & np.isfinite(self.T)


# ------------------------------------------------------------------ transaction logs


def transaction_inputs(customers: pd.DataFrame, as_of: dt.date) -> ChurnInputs:
    """:class:`ChurnInputs` of a customer table aggregated from a transaction log."""
    col = {c: customers[c].to_numpy(dtype="float64") for c in BTYD_COLUMNS}
    assumptions = [
        "x = distinct purchase days after the first (several orders on one day count once); t_x and T are "
        "days from the first purchase day to the last purchase day and to the as-of date.",
        "Returns and cancellations are not purchases; their amounts are subtracted from the spend.",
        "Spend per purchase day = net spend / purchase days (customers with a net spend of 0 are left out "
        "of the spend model).",
    ]
    return ChurnInputs(
        x=col[REPEAT_DAYS],
        t_x=col[FIRST_TO_LAST],
        T=col[SINCE_FIRST],
        monetary=col[SPEND_PER_DAY],
        source="transactions",
        as_of=as_of,
        assumptions=tuple(assumptions),
        holdout=holdout_inputs(customers, as_of),
    )


def holdout_inputs(customers: pd.DataFrame, as_of: dt.date) -> HoldoutInputs | None:
    """The holdout stored in :data:`HOLDOUT_COLUMNS`, or None when the table has none."""
    if any(c not in customers for c in HOLDOUT_COLUMNS):
        return None
    period = customers[HOLDOUT_PERIOD].to_numpy(dtype="float64")
    if not len(period) or not np.isfinite(period[0]) or period[0] <= 0:
        return None
    after = bool(customers[HOLDOUT_AFTER_AS_OF].iloc[0] == 1)
    days = int(period[0])
    end = dt.date(1970, 1, 1) + dt.timedelta(days=int(customers[HOLDOUT_END].iloc[0]))
    cal_end = end - dt.timedelta(days=days)
    x = customers[HOLDOUT_REPEAT_DAYS].to_numpy(dtype="float64")
    ok = np.isfinite(x)
    if not ok.any():
        return None
    return HoldoutInputs(
        after_as_of=after,
        calibration_end=cal_end,
        end=end,
        x=x[ok],
        t_x=customers[HOLDOUT_FIRST_TO_LAST].to_numpy(dtype="float64")[ok],
        T=customers[HOLDOUT_SINCE_FIRST].to_numpy(dtype="float64")[ok],
        actual=customers[HOLDOUT_ACTUAL].to_numpy(dtype="float64")[ok],
    )


# ------------------------------------------------------------------ summary tables


def summary_from_counts(
    purchases: np.ndarray | float,
    tenure_years: np.ndarray | float,
    recency_days: np.ndarray | float,
    value: np.ndarray | float | None,
    tenure_offset_days: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, t_x, T, monetary)`` from purchase counts, tenure and days since the last purchase.

    The derivation used for summary tables and by the simulator (see
    :func:`summary_assumptions` for the wording):

    * ``T = round(tenure_years × 365.25) + tenure_offset_days`` (days from enrolment, the first purchase);
    * ``x = round(purchases) − 1`` (each purchase on its own day), at least 0;
    * ``t_x = T − recency_days``, clipped to ``[0, T]``; a customer whose last
      purchase is on the enrolment day bought on one day only: ``x = 0``;
    * ``monetary = value / max(purchases, 1)``.

    Missing inputs give NaN.
    """
    purchases = np.asarray(purchases, dtype="float64")
    T = np.round(np.asarray(tenure_years, dtype="float64") * DAYS_PER_YEAR) + float(tenure_offset_days)
    T = np.clip(T, 0.0, None)
    recency = np.asarray(recency_days, dtype="float64")
    x = np.clip(np.round(purchases) - 1.0, 0.0, None)
    t_x = np.clip(T - recency, 0.0, T)
    x = np.where(np.isfinite(t_x) & (t_x <= 0), np.where(np.isfinite(x), 0.0, np.nan), x)
    t_x = np.where(x > 0, t_x, np.where(np.isfinite(x), 0.0, np.nan))
    if value is None:
        monetary = np.full(np.shape(x), np.nan)
    else:
        monetary = np.asarray(value, dtype="float64") / np.maximum(np.round(purchases), 1.0)
    bad = ~(np.isfinite(x) & np.isfinite(t_x) & np.isfinite(T))
    x, t_x, T = (np.where(bad, np.nan, v) for v in (x, t_x, T))
    return x, t_x, T, monetary


def tenure_offset(tenure_years: np.ndarray, recency_days: np.ndarray) -> int:
    """Days to add to every tenure so that no last purchase precedes its customer's enrolment.

    ``max(0, max_i(recency_i − tenure_days_i))`` over customers with both values.
    """
    days = np.round(np.asarray(tenure_years, dtype="float64") * DAYS_PER_YEAR)
    gap = np.asarray(recency_days, dtype="float64") - days
    gap = gap[np.isfinite(gap)]
    return int(max(0.0, float(gap.max()))) if len(gap) else 0


def summary_assumptions(as_of: dt.date, offset: int, n_one_day: int, n_missing: int, table: str) -> tuple[str, ...]:
    """The assumptions behind :func:`summary_from_counts`, one sentence each, with this data's figures."""
    recency_to = as_of + dt.timedelta(days=offset)
    out = [
        f"The {table} has no purchase dates: the first purchase is taken to be on the enrolment date "
        "and every counted purchase on a different day, so repeat purchases x = purchases − 1.",
        "The purchase counts and spend are taken to cover the whole time since enrolment.",
        f"Days since last purchase are counted to {recency_to.isoformat()}"
        + (
            f", {offset} days after the as-of date {as_of.isoformat()}: the earliest date at which no customer's "
            "last purchase precedes their enrolment (the file does not say when it was extracted)."
            if offset
            else " (the as-of date)."
        )
        + " T = days from enrolment to that date; t_x = T − days since last purchase.",
        f"Customers whose last purchase is on their enrolment day are counted as buying on one day only "
        f"(x = 0): {n_one_day:,}.",
        "Spend per purchase = customer value / purchases.",
    ]
    if n_missing:
        out.append(f"{n_missing:,} customers with a missing count, date or days since last purchase are not measured.")
    return tuple(out)


def summary_inputs(
    customers: pd.DataFrame, as_of: dt.date, table: str = "marketing table"
) -> ChurnInputs | NotMeasured:
    """:class:`ChurnInputs` of a one-row-per-customer table, or why it cannot be measured."""
    if "Recency" not in customers:
        return NotMeasured(NO_RECENCY)
    if "Purchase_Frequency" not in customers:
        return NotMeasured(NO_COUNTS)
    if "Customer_For_Years" not in customers:
        return NotMeasured(NO_TENURE)
    purchases = customers["Purchase_Frequency"].to_numpy(dtype="float64")
    tenure = customers["Customer_For_Years"].to_numpy(dtype="float64")
    recency = customers["Recency"].to_numpy(dtype="float64")
    if not np.isfinite(recency).any():
        return NotMeasured(NO_RECENCY)
    value = customers["Customer_Value"].to_numpy(dtype="float64") if "Customer_Value" in customers else None
    offset = tenure_offset(tenure, recency)
    x, t_x, T, monetary = summary_from_counts(purchases, tenure, recency, value, offset)
    measured = np.isfinite(x)
    one_day = measured & (np.round(purchases) > 1) & (x == 0)
    return ChurnInputs(
        x=x,
        t_x=t_x,
        T=T,
        monetary=monetary,
        source="marketing",
        as_of=as_of + dt.timedelta(days=offset),
        tenure_offset_days=offset,
        assumptions=summary_assumptions(as_of, offset, int(one_day.sum()), int((~measured).sum()), table),
    )


def churn_inputs(customers: pd.DataFrame, kind: str, as_of: dt.date) -> ChurnInputs | NotMeasured:
    """The model inputs of a customer table of any input kind.

    Parameters
    ----------
    customers : DataFrame
        :attr:`pipeline.segmentation.training.Dataset.customers`.
    kind : str
        ``"transactions"``, ``"marketing"`` or ``"customer_table"``.
    as_of : date
        The data set's as-of date.
    """
    if ID_COLUMN in customers and len(customers) == 0:
        return NotMeasured("not measured: the data has no customers")
    if kind == "transactions" and all(c in customers for c in BTYD_COLUMNS):
        return transaction_inputs(customers, as_of)
    table = "marketing table" if kind == "marketing" else "customer table"
    return summary_inputs(customers, as_of, table)
