"""Aggregating a transaction log (one row per order line) into one row per customer.

Features (names from :data:`pipeline.features.definitions.FEATURE_DEFINITIONS`):

``Customer_Value``
    Net spend: the sum of line amounts (amount column, or quantity × unit
    price), purchases minus returns and cancellations.  Clipped at 0.
``Purchase_Frequency``
    Distinct orders: distinct order (invoice) ids, or distinct timestamps of
    the customer when no order id is mapped.  Only orders with at least one
    purchase line count; returns and cancellations are not orders.
``Customer_For_Years``
    Years from the day of the first purchase to the as-of date.
``Campaign_Response``
    Only if a campaign flag column is mapped: distinct orders with at least
    one flagged purchase line (flag values: see :mod:`pipeline.data.coerce`).

Profile attributes: ``Recency`` (whole days from the day of the last purchase
to the as-of date) and ``Enrolled`` (the first purchase).  The as-of date is the one given
(settings, then mapping) or else the latest timestamp in the log.

How real exports are handled (each counted in the data-quality report)
------------------------------------------------------------------------
Blank lines
    Dropped (``blank_rows``).
Identical lines
    When an order (invoice) or line id is mapped, a line identical to an
    earlier one in *every* column, id included, is a copy (an export glitch)
    and is dropped (``duplicate_lines``); the first copy is kept.  Without
    an order id, identical lines are most likely real repeat purchases on
    the same day (two of the same item at the same price): they are kept and
    counted (``identical_lines_kept``, info).
Lines with no customer id
    Cannot be attributed to anybody: dropped (``missing_customer_id``).
Missing or unreadable timestamps
    Dropped, with examples (``date_unparsed``).  If most timestamps cannot
    be read, the log is refused with examples instead.
Mixed date formats
    Each distinct timestamp is read by the format that reads most of the
    remaining ones (US, ISO, day-first, dotted...), see
    :func:`pipeline.data.coerce.parse_timestamps`; lines read with a format other
    than the main one are counted (``date_formats_mixed``, nothing dropped).
Unreadable amounts
    Lines whose amount (or quantity or unit price) is missing or not a number
    are dropped, with examples (``amount_unreadable``); if most are, the log
    is refused.
Cancelled orders
    Lines whose order id is ``C`` followed by digits, in a log whose order
    ids are mostly plain digits (the Online Retail convention), are
    cancellations: their amount counts as negative (subtracted from the
    customer's spend, whatever the sign of the quantity) and they are not
    orders (``cancelled_lines``).
Returns
    Other lines with a negative amount (negative quantity or price) are
    returns: subtracted from spend, not orders (``return_lines``).
Lines after the as-of date
    Dropped when an earlier as-of date is given (``after_as_of``).
Customers with no purchase
    Customers whose kept lines are all returns or cancellations have no
    first purchase and no order: dropped (``customers_without_purchase``,
    counted in lines).
Negative net spend
    A customer who returned more than they bought in the log (the purchase
    predates the export) gets a value of 0 (``value_clipped``, flagged).

``report.rows_read`` counts lines and ``report.rows_kept`` the lines that
went into the customers' figures, so the ``dropped`` items add up to
``rows_dropped``; an ``aggregated`` info item gives the number of customers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from pipeline.data.coded import Coded
from pipeline.data.coerce import as_text, parse_timestamps, read_numbers, to_flag, to_ids
from pipeline.data.mapping import Mapping
from pipeline.data.purchase_days import NS_PER_DAY, day_number, purchase_day_columns
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.data.reading import closest_columns
from pipeline.errors import DataError
from pipeline.features.definitions import ID_COLUMN, tenure_years

_CANCEL = r"^[Cc][-_ ]?\d+$"
_DIGITS = r"^\d+$"
#: Above this share of unreadable values a column is a type problem, not dirt.
MAX_BAD_SHARE = 0.5


@dataclasses.dataclass(frozen=True, eq=False)
class Prepared:
    """One row per customer built from a mapped table, or the reasons it could not be.

    Attributes
    ----------
    customers : DataFrame or None
        ``ID``, the mapped features, then profile attributes; ``None`` when
        a blocking problem prevented building it.
    report : DataQualityReport
        What was dropped, fixed, imputed and flagged on the way.
    problems : tuple of str
        Blocking problems, one plain sentence each (empty when usable).
    as_of : date or None
        The reference date used for tenure and recency.
    """

    customers: pd.DataFrame | None
    report: DataQualityReport
    problems: tuple[str, ...] = ()
    as_of: dt.date | None = None


def aggregate_transactions(
    table: pd.DataFrame, mapping: Mapping, as_of: dt.date | None = None, name: str = "data"
) -> tuple[pd.DataFrame, DataQualityReport]:
    """One row per customer from a transaction log (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`pipeline.data.reading.read_table`.
    mapping : Mapping
        A ``"transactions"`` mapping naming the columns.
    as_of : date or None
        Reference date; ``None``: ``mapping.as_of``, else the latest timestamp.
    name : str
        The data set's name, used in messages.

    Returns
    -------
    (DataFrame, DataQualityReport)

    Raises
    ------
    DataError
        Every blocking problem (missing columns, unreadable dates or amounts,
        no customer left), in one message.
    """
    prepared = prepare_transactions(table, mapping, as_of, name)
    if prepared.problems or prepared.customers is None:
        raise DataError(" ".join(prepared.problems))
    return prepared.customers, prepared.report


def prepare_transactions(
    table: pd.DataFrame, mapping: Mapping, as_of: dt.date | None = None, name: str = "data"
) -> Prepared:
    """Like :func:`aggregate_transactions`, but returns problems instead of raising.

    Columns may be text, numbers, datetimes or categoricals (a log scanned by
    :func:`pipeline.data.log_scan.scan_log` arrives dictionary-encoded); every
    rule is applied to each distinct value once and carried to the lines by
    their codes (:class:`pipeline.data.coded.Coded`), so the result does not depend on how the
    table was read.
    """
    rows_read = len(table)
    empty = DataQualityReport(rows_read=rows_read, rows_kept=0)
    problems = transaction_mapping_problems(table, mapping, name)
    if problems:
        return Prepared(None, empty, tuple(problems))
    items: list[QualityItem] = []

    blank = table.isna().all(axis=1).to_numpy()
    identical = _identical_lines(table) & ~blank
    items.append(_dropped("blank_rows", blank, f"{int(blank.sum()):,} blank lines dropped."))
    if mapping.order_column:  # the order id says they are copies of one line
        dup = identical
        items.append(
            _dropped(
                "duplicate_lines",
                dup,
                f"{int(dup.sum()):,} lines identical to an earlier line in every column, order id "
                f"{mapping.order_column} included, dropped (export duplicates).",
                examples=_row_numbers(dup),
            )
        )
    else:  # nothing says they are copies: most likely repeat purchases on one day
        dup = np.zeros(len(table), dtype=bool)
        items.append(
            QualityItem(
                "identical_lines_kept",
                "info",
                int(identical.sum()),
                f"{int(identical.sum()):,} lines identical to an earlier line in every column were kept as repeat "
                "purchases: without an order or line id nothing shows they are copies (map one to drop copies).",
                examples=_row_numbers(identical),
            )
        )
    keep = ~(blank | dup)

    id_col = Coded.of(table[mapping.id_column])
    clean_ids = to_ids(id_col.uniques)
    id_code_u, id_names = pd.factorize(clean_ids)  # equal ids once cleaned share a code
    ids = id_col.take(id_code_u, -1)
    no_id = keep & (ids < 0)
    items.append(
        _dropped(
            "missing_customer_id",
            no_id,
            f"{int(no_id.sum()):,} lines with no customer id ({mapping.id_column}) dropped: they cannot be attributed to a customer.",
            mapping.id_column,
            _row_numbers(no_id),
        )
    )
    keep &= ~no_id

    ts_col = Coded.of(table[mapping.timestamp_column])
    stamps = parse_timestamps(ts_col.uniques)
    ts = ts_col.take(stamps.values.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    ts_text = as_text(ts_col.uniques)
    present_ts = ts_col.take(ts_text.notna().to_numpy(dtype=bool), False)
    bad_ts = ts_col.take(stamps.unreadable.to_numpy(dtype=bool), False)
    if present_ts[keep].sum() and bad_ts[keep].sum() > MAX_BAD_SHARE * present_ts[keep].sum():
        problems.append(
            f"{name}: the timestamp column {mapping.timestamp_column} cannot be read as dates "
            f"({ts_col.example_rows(ts_text, bad_ts & keep, table.index)}). "
            "Use a format such as yyyy-mm-dd hh:mm or dd/mm/yyyy."
        )
    no_ts = keep & np.isnat(ts)
    items.append(
        _dropped(
            "date_unparsed",
            no_ts,
            f"{mapping.timestamp_column}: {int(no_ts.sum()):,} lines with a missing or unreadable timestamp dropped"
            f" (e.g. {ts_col.example_rows(ts_text, no_ts, table.index)}).",
            mapping.timestamp_column,
            ts_col.example_values(ts_text, no_ts),
        )
    )
    keep &= ~no_ts
    mixed = keep & ts_col.take(stamps.secondary.to_numpy(dtype=bool), False)
    if mixed.any():
        main = stamps.formats[0] if stamps.formats else "?"
        others = ", ".join(f for f in stamps.formats[1:])
        items.append(
            QualityItem(
                "date_formats_mixed",
                "fixed",
                int(mixed.sum()),
                f"{mapping.timestamp_column}: {int(mixed.sum()):,} timestamps written in another format ({others}) "
                f"than the main one ({main}) were read in their own format "
                f"(e.g. {ts_col.example_rows(ts_text, mixed, table.index)}).",
                column=mapping.timestamp_column,
                examples=ts_col.example_values(ts_text, mixed),
            )
        )

    amount, amount_cols, bad_by_col, amount_text = _amounts(table, mapping)
    bad_by_col = {c: bad & keep for c, bad in bad_by_col.items()}
    for col, bad in bad_by_col.items():
        if keep.sum() and bad.sum() > MAX_BAD_SHARE * keep.sum():
            coded, text = amount_text[col]
            problems.append(
                f"{name}: the column {col} holds text where numbers are expected "
                f"({coded.example_rows(text, bad, table.index)})."
            )
    bad_amount = keep & np.isnan(amount)
    shown = ", ".join(
        f"{c} {amount_text[c][0].example_rows(amount_text[c][1], bad, table.index)}"
        for c, bad in bad_by_col.items()
        if bad.any()
    )
    items.append(
        _dropped(
            "amount_unreadable",
            bad_amount,
            f"{' × '.join(amount_cols)}: {int(bad_amount.sum()):,} lines with a missing or non-numeric amount dropped"
            + (f" (e.g. {shown})." if shown else "."),
            amount_cols[0],
            tuple(v for c, bad in bad_by_col.items() for v in amount_text[c][0].example_values(amount_text[c][1], bad))[
                :3
            ]
            or _row_numbers(bad_amount),
        )
    )
    keep &= ~bad_amount
    if problems:
        return Prepared(None, empty.with_items(*items), tuple(problems))

    as_of = as_of or mapping.as_of
    late = np.zeros(len(table), dtype=bool)
    if as_of is not None:
        late = keep & (ts >= np.datetime64(pd.Timestamp(as_of) + pd.Timedelta(days=1), "ns"))
        items.append(
            _dropped(
                "after_as_of",
                late,
                f"{int(late.sum()):,} lines dated after the as-of date {as_of.isoformat()} dropped.",
                mapping.timestamp_column,
            )
        )
        keep &= ~late
    if not keep.any():
        problems.append(f"{name}: no usable lines are left (every line lacks a customer id, a date or an amount).")
        return Prepared(None, empty.with_items(*items), tuple(problems))
    if as_of is None:
        as_of = pd.Timestamp(ts[keep].max()).date()

    orders = _order_codes(table, mapping)
    cancel_any = _cancellations(orders, len(table))
    cancelled = keep & cancel_any
    amount = np.where(cancelled, -np.abs(amount), amount)
    returns = keep & ~cancelled & (amount < 0)
    if cancelled.any():
        assert orders is not None
        n_orders = len(np.unique(orders.lines[cancelled]))
        items.append(
            QualityItem(
                "cancelled_lines",
                "info",
                int(cancelled.sum()),
                f"{int(cancelled.sum()):,} lines of {n_orders:,} cancelled orders ({mapping.order_column} starting with C) "
                "subtracted from their customers' spend; cancellations are not counted as orders.",
                column=mapping.order_column,
                examples=orders.coded.example_values(orders.text, cancelled),
            )
        )
    items.append(
        QualityItem(
            "return_lines",
            "info",
            int(returns.sum()),
            f"{int(returns.sum()):,} return lines (negative quantity or amount) subtracted from their customers' spend; "
            "returns are not counted as orders.",
            column=amount_cols[0],
        )
    )

    lines = _Lines(ids, np.asarray(id_names, dtype=object), ts, amount, cancel_any, orders)
    customers, extra_items, kept_lines = _per_customer(table, mapping, keep, lines, cancelled | returns, as_of, late)
    items.extend(extra_items)
    report = DataQualityReport(rows_read=rows_read, rows_kept=kept_lines).with_items(*items)
    if customers.empty:
        problems.append(f"{name}: no customer has a purchase (every kept line is a return or a cancellation).")
        return Prepared(None, report, tuple(problems), as_of)
    report = report.with_items(
        QualityItem(
            "aggregated",
            "info",
            len(customers),
            f"{kept_lines:,} order lines aggregated into {len(customers):,} customers (as of {as_of.isoformat()}).",
        )
    )
    return Prepared(customers, report, (), as_of)


@dataclasses.dataclass(frozen=True, eq=False)
class _Orders:
    """The order (invoice) id of each line as a code of its stripped text (-1: none)."""

    coded: Coded
    text: pd.Series
    lines: np.ndarray
    distinct: pd.Series


@dataclasses.dataclass(frozen=True, eq=False)
class _Lines:
    """Per-line arrays the group-by needs."""

    ids: np.ndarray  # customer code per line (-1: none), into names
    names: np.ndarray  # cleaned customer ids
    ts: np.ndarray
    amount: np.ndarray
    cancel: np.ndarray  # lines of cancelled orders (whether kept or not)
    orders: _Orders | None


def transaction_mapping_problems(table: pd.DataFrame, mapping: Mapping, name: str = "data") -> list[str]:
    """Blocking problems of a transaction mapping against a table's columns."""
    if mapping.kind != "transactions":
        return [f"The mapping is for a {mapping.kind} table, not a transaction log."]
    problems = []
    needed = {"a customer id column": mapping.id_column, "a timestamp column": mapping.timestamp_column}
    for what, col in needed.items():
        if not col:
            problems.append(f"{name}: map {what} to aggregate a transaction log.")
    has_amount = bool(mapping.amount_column)
    has_qp = bool(mapping.quantity_column and mapping.unit_price_column)
    if has_amount and (mapping.quantity_column or mapping.unit_price_column):
        problems.append(f"{name}: map either an amount column or quantity and unit price, not both.")
    elif not has_amount and not has_qp:
        problems.append(f"{name}: map an amount column, or both a quantity and a unit price column.")
    missing = [c for c in mapping.columns_used() if c not in table.columns]
    if missing:
        near = closest_columns(missing, table.columns)
        parts = [f"{c}" + (f" (closest: {', '.join(near[c])})" if near[c] else "") for c in missing]
        problems.append(f"{name} has no column(s) named {'; '.join(parts)}.")
    return problems


def _amounts(
    table: pd.DataFrame, mapping: Mapping
) -> tuple[np.ndarray, list[str], dict[str, np.ndarray], dict[str, tuple[Coded, pd.Series]]]:
    """Line amounts, the columns they come from, where each column is not a number, and each column's text."""
    cols = [mapping.amount_column] if mapping.amount_column else [mapping.quantity_column, mapping.unit_price_column]
    numbers, bad, text = [], {}, {}
    for c in map(str, cols):
        coded = Coded.of(table[c])
        num, unreadable = read_numbers(coded.uniques)
        numbers.append(coded.take(num.to_numpy(dtype=float), np.nan))
        bad[c] = coded.take(unreadable.to_numpy(dtype=bool), False)
        text[c] = (coded, as_text(coded.uniques))
    return np.prod(numbers, axis=0), list(bad), bad, text


def _order_codes(table: pd.DataFrame, mapping: Mapping) -> _Orders | None:
    """The order ids of the lines, or None when no order column is mapped."""
    if not mapping.order_column:
        return None
    coded = Coded.of(table[mapping.order_column])
    text = as_text(coded.uniques)
    code_u, distinct = pd.factorize(text)  # " 536365" and "536365" are one order
    return _Orders(coded, text, coded.take(code_u, -1), pd.Series(distinct, dtype="string"))


def _cancellations(orders: _Orders | None, n: int) -> np.ndarray:
    """Lines of cancelled orders (Online Retail convention), of ``n`` lines."""
    if orders is None:
        return np.zeros(n, dtype=bool)
    codes = orders.lines
    digits = orders.distinct.str.match(_DIGITS).fillna(False).to_numpy(dtype=bool)
    counts = np.bincount(codes[codes >= 0], minlength=len(orders.distinct))
    if counts[digits].sum() <= 0.5 * counts.sum():
        return np.zeros(n, dtype=bool)
    cancel_u = np.append(orders.distinct.str.match(_CANCEL).fillna(False).to_numpy(dtype=bool), False)
    return cancel_u[codes]


def _per_customer(
    table: pd.DataFrame,
    mapping: Mapping,
    keep: np.ndarray,
    lines: _Lines,
    not_purchase: np.ndarray,
    as_of: dt.date,
    late: np.ndarray,
) -> tuple[pd.DataFrame, list[QualityItem], int]:
    """The vectorised group-by: returns (customers, items, lines used).

    ``late`` marks the usable lines after the as-of date: not aggregated, but
    their purchase days are the churn model's holdout (:mod:`pipeline.churn.inputs`).
    """
    rows = np.flatnonzero(keep)
    cust, first_seen = pd.factorize(lines.ids[rows])  # customers in order of their first kept line
    cust_ids = lines.names[first_seen]
    n = len(cust_ids)
    purchase = ~not_purchase[rows]
    ts_kept = lines.ts[rows].astype("int64")

    has_purchase = np.bincount(cust[purchase], minlength=n) > 0
    items: list[QualityItem] = []
    lonely_lines = ~has_purchase[cust]
    items.append(
        _dropped(
            "customers_without_purchase",
            lonely_lines,
            f"{int((~has_purchase).sum()):,} customers with only returns or cancellations "
            f"({int(lonely_lines.sum()):,} lines) dropped: no purchase to measure.",
            mapping.id_column,
            tuple(str(v) for v in cust_ids[~has_purchase][:3]),
        )
    )

    value = np.bincount(cust, weights=lines.amount[rows], minlength=n)
    # Orders: order id if mapped and present, else the line's timestamp.
    ts_codes = pd.factorize(ts_kept)[0]
    if lines.orders is not None:
        order_codes = lines.orders.lines[rows]
        order_key = np.where(order_codes >= 0, order_codes, len(lines.orders.distinct) + ts_codes)
    else:
        order_key = ts_codes
    span = int(order_key.max()) + 1
    pair = cust.astype(np.int64) * span + order_key
    frequency = _distinct_per_customer(pair[purchase], span, n)

    first = pd.Series(ts_kept[purchase]).groupby(cust[purchase]).min().reindex(range(n))
    last = pd.Series(ts_kept[purchase]).groupby(cust[purchase]).max().reindex(range(n))
    first_ts = pd.to_datetime(first.to_numpy(dtype="float64"), unit="ns")
    last_ts = pd.to_datetime(last.to_numpy(dtype="float64"), unit="ns")

    out = pd.DataFrame({ID_COLUMN: pd.array(cust_ids, dtype="str")})
    out["Customer_Value"] = value
    out["Purchase_Frequency"] = frequency.astype("float64")
    if mapping.campaign_column:
        flags = Coded.of(table[mapping.campaign_column])
        flag = flags.take(to_flag(flags.uniques).to_numpy(dtype=bool), False)[rows]
        out["Campaign_Response"] = _distinct_per_customer(pair[purchase & flag], span, n).astype("float64")
    out["Customer_For_Years"] = tenure_years(pd.Series(first_ts).dt.normalize(), as_of).to_numpy()
    out["Recency"] = (pd.Timestamp(as_of) - pd.Series(last_ts).dt.normalize()).dt.days.clip(lower=0).astype("float64")
    out["Enrolled"] = pd.Series(first_ts).dt.normalize().to_numpy()
    churn = _churn_columns(lines, cust, first_seen, ts_kept, purchase, value, as_of, late)
    for col, values in churn.items():
        out[col] = values
    out = out.loc[has_purchase].reset_index(drop=True)

    negative = out["Customer_Value"] < 0
    items.append(
        QualityItem(
            "value_clipped",
            "flagged",
            int(negative.sum()),
            f"Customer_Value: {int(negative.sum()):,} customers returned more than they bought in the log "
            "(the purchase predates it); their value is set to 0.",
            column="Customer_Value",
            examples=tuple(out.loc[negative, ID_COLUMN].head(3).astype(str)),
        )
    )
    out["Customer_Value"] = out["Customer_Value"].clip(lower=0.0).round(2)
    return out, items, int(len(rows) - lonely_lines.sum())


def _churn_columns(
    lines: _Lines,
    cust: np.ndarray,
    first_seen: np.ndarray,
    ts_kept: np.ndarray,
    purchase: np.ndarray,
    value: np.ndarray,
    as_of: dt.date,
    late: np.ndarray,
) -> dict[str, np.ndarray]:
    """Distinct purchase days per customer (x, t_x, T, spend per day) and the holdout after the as-of date."""
    late_cust = late_day = None
    end_day = None
    if late.any():
        late_rows = np.flatnonzero(late)
        buy = (lines.amount[late_rows] >= 0) & ~lines.cancel[late_rows]
        late_rows_buy = late_rows[buy]
        position = np.full(len(lines.names), -1, dtype=np.int64)  # customer code → row of the table (-1: none)
        position[first_seen] = np.arange(len(first_seen))
        late_cust = position[lines.ids[late_rows_buy]]
        late_day = lines.ts[late_rows_buy].astype("int64") // NS_PER_DAY
        end_day = int(lines.ts[late_rows].astype("int64").max() // NS_PER_DAY)
    return purchase_day_columns(
        cust[purchase],
        ts_kept[purchase] // NS_PER_DAY,
        len(first_seen),
        day_number(as_of),
        np.round(np.clip(value, 0.0, None), 2),
        late_cust,
        late_day,
        end_day,
    )


def _identical_lines(table: pd.DataFrame) -> np.ndarray:
    """``table.duplicated(keep="first")`` from the columns' codes (missing equals missing).

    The codes of the columns are combined into one integer key per line,
    renumbered whenever the next column would overflow 64 bits, so ten
    million lines cost a few hash passes instead of pandas' group-index
    compression.
    """
    if table.shape[1] == 0:
        return np.zeros(len(table), dtype=bool)
    key = np.zeros(len(table), dtype=np.int64)
    size = 1  # key values are in [0, size)
    for col in table.columns:
        coded = Coded.of(table[col])
        width = len(coded.uniques) + 1  # code -1 (missing) becomes 0
        if size * width >= 2**62:
            key, distinct = pd.factorize(key)
            size = max(len(distinct), 1)
        key = key * width + (coded.codes + 1)
        size *= width
    return pd.Series(key).duplicated(keep="first").to_numpy()


def _distinct_per_customer(pairs: np.ndarray, span: int, n: int) -> np.ndarray:
    """Number of distinct ``customer * span + key`` pairs per customer."""
    unique = np.unique(pairs)
    return np.bincount(unique // span, minlength=n)


def _dropped(
    kind: str, mask: np.ndarray, message: str, column: str | None = None, examples: tuple[str, ...] = ()
) -> QualityItem:
    return QualityItem(kind, "dropped", int(np.sum(mask)), message, column=column, examples=examples)


def _row_numbers(mask: np.ndarray, n: int = 3) -> tuple[str, ...]:
    """File row numbers (header = row 1) of the first ``n`` flagged lines."""
    return tuple(f"row {i + 2}" for i in np.flatnonzero(mask)[:n])
