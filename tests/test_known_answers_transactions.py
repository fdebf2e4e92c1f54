"""Known answers of the transaction log reader, through its public functions only (issue #15).

Every case is a log of a few lines worked by hand: what each kind of dirt costs (count, examples,
message), where the Online Retail cancellation convention starts, how orders are counted when
order ids are missing, and the churn holdout built from lines after the as-of date. The tests use
``prepare_transactions`` / ``aggregate_transactions`` (inputs -> customers, report, messages), so
they hold for any implementation of the aggregation.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline.data.mapping import Mapping
from pipeline.data.transactions import aggregate_transactions, prepare_transactions, transaction_mapping_problems
from pipeline.errors import DataError

LOG = Mapping("transactions", id_column="Customer", timestamp_column="When", amount_column="Amount")
ORDERS = Mapping(
    "transactions", id_column="Customer", timestamp_column="When", amount_column="Amount", order_column="Order"
)
COLUMNS = ["Order", "Customer", "When", "Amount"]


def _orders(rows: list[tuple[str | None, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object)


def _items(prepared) -> dict[str, tuple[str, int, str, tuple[str, ...]]]:
    return {i.kind: (i.action, i.count, i.message, i.examples) for i in prepared.report.items}


def test_a_missing_column_is_named_with_the_closest_one() -> None:
    table = pd.DataFrame({"Customer": ["a"], "When": ["2024-01-01"], "Amt": ["1"]})
    assert transaction_mapping_problems(table, LOG, "shop") == ["shop has no column(s) named Amount (closest: Amt)."]


def test_a_refused_log_reports_its_lines_read_and_none_kept() -> None:
    table = pd.DataFrame([(None, "2024-01-01", "5")] * 3, columns=["Customer", "When", "Amount"], dtype=object)
    prepared = prepare_transactions(table, LOG)
    assert prepared.customers is None and prepared.problems
    assert (prepared.report.rows_read, prepared.report.rows_kept) == (3, 0)
    refused = prepare_transactions(table, Mapping("customer_table"))
    assert (refused.report.rows_read, refused.report.rows_kept, refused.customers) == (3, 0, None)
    with pytest.raises(DataError, match=r"^The mapping is for a customer_table table, not a transaction log\.$"):
        aggregate_transactions(table, Mapping("customer_table"))


# A log with one line of each kind of dirt, as of 2024-01-10 (lines up to the end of that day count):
#   row 2, 3: order 1 of a, 5 each, the second an exact copy (dropped: an order id is mapped)
#   row 4: blank                               row 5: no customer id
#   row 6: unreadable date                     row 7: unreadable amount
#   row 8: C5, a cancellation of a (-2)        row 9: order 6 of b, 1.234 (value rounded to cents)
#   row 10: order 7 of b on 01-20 (after the as-of date: holdout purchase)
#   row 11: order 8 of a on 01-15, amount 0 (after: a zero line is a purchase, not a return)
#   row 12: C9 of b on 01-25 (after: a cancellation is no purchase, but it ends the log)
DIRTY = [
    ("1", "a", "2024-01-01", "5"),
    ("1", "a", "2024-01-01", "5"),
    (None, None, None, None),
    ("2", None, "2024-01-02", "3"),
    ("3", "b", "2024/13/45", "4"),
    ("4", "b", "2024-01-03", "x"),
    ("C5", "a", "2024-01-04", "2"),
    ("6", "b", "2024-01-05", "1.234"),
    ("7", "b", "2024-01-20", "9"),
    ("8", "a", "2024-01-15", "0"),
    ("C9", "b", "2024-01-25", "3"),
]


def test_each_kind_of_dirt_is_counted_with_its_examples() -> None:
    prepared = prepare_transactions(_orders(DIRTY), ORDERS, dt.date(2024, 1, 10))
    assert prepared.problems == ()
    items = _items(prepared)
    assert items["blank_rows"] == ("dropped", 1, "1 blank lines dropped.", ())
    assert items["duplicate_lines"][:2] == ("dropped", 1)
    assert items["duplicate_lines"][3] == ("row 3",)
    assert items["missing_customer_id"] == (
        "dropped",
        1,
        "1 lines with no customer id (Customer) dropped: they cannot be attributed to a customer.",
        ("row 5",),
    )
    assert items["date_unparsed"] == (
        "dropped",
        1,
        "When: 1 lines with a missing or unreadable timestamp dropped (e.g. row 6: '2024/13/45').",
        ("2024/13/45",),
    )
    assert items["amount_unreadable"] == (
        "dropped",
        1,
        "Amount: 1 lines with a missing or non-numeric amount dropped (e.g. Amount row 7: 'x').",
        ("x",),
    )
    assert items["after_as_of"] == ("dropped", 3, "3 lines dated after the as-of date 2024-01-10 dropped.", ())
    assert items["cancelled_lines"][:2] == ("info", 1)
    assert items["cancelled_lines"][3] == ("C5",)
    assert items["aggregated"][1:3] == (2, "3 order lines aggregated into 2 customers (as of 2024-01-10).")
    # 11 lines read; kept: row 2, row 8 (a) and row 9 (b).
    assert (prepared.report.rows_read, prepared.report.rows_kept) == (11, 3)


def test_the_dirty_log_aggregates_to_known_customers_and_holdout() -> None:
    """a: 5 - 2 = 3 on 01-01, b: 1.234 → 1.23 on 01-05; as of 01-10 (day 19732), the log ends 01-25 (day 19747).

    Holdout after the as-of date: a bought on 01-15 (a zero line), b on 01-20 (C9 is no purchase): one day each.
    """
    prepared = prepare_transactions(_orders(DIRTY), ORDERS, dt.date(2024, 1, 10))
    got = prepared.customers.set_index("ID")
    assert got.index.tolist() == ["a", "b"]
    assert got["Customer_Value"].tolist() == [3.0, 1.23]
    assert got["Purchase_Frequency"].tolist() == [1.0, 1.0]
    assert got["Recency"].tolist() == [9.0, 5.0]
    assert got["Customer_For_Years"].tolist() == pytest.approx([9 / 365.25, 5 / 365.25], abs=1e-12)
    assert got["Days_Since_First_Purchase"].tolist() == [9.0, 5.0]
    assert got["Spend_Per_Purchase_Day"].tolist() == [3.0, 1.23]
    assert got["Holdout_Actual_Days"].tolist() == [1.0, 1.0]
    assert got["Holdout_Period_Days"].tolist() == [15.0, 15.0]
    assert got["Holdout_End_Day"].tolist() == [19747.0, 19747.0]
    assert got["Holdout_After_As_Of"].tolist() == [1.0, 1.0]


def test_the_as_of_date_of_the_mapping_is_used_when_none_is_given() -> None:
    rows = [("1", "a", "2024-01-01", "5"), ("2", "a", "2024-01-08", "5")]
    mapping = Mapping(
        "transactions",
        id_column="Customer",
        timestamp_column="When",
        amount_column="Amount",
        order_column="Order",
        as_of=dt.date(2024, 1, 4),
    )
    prepared = prepare_transactions(_orders(rows), mapping)
    assert prepared.as_of == dt.date(2024, 1, 4)
    assert prepared.customers["Customer_Value"].tolist() == [5.0]
    assert _items(prepared)["after_as_of"][1] == 1
    # Given explicitly, the argument wins over the mapping.
    assert prepare_transactions(_orders(rows), mapping, dt.date(2024, 1, 9)).customers["Customer_Value"].tolist() == [
        10.0
    ]


def test_timestamps_in_a_second_format_are_read_and_counted() -> None:
    rows = [("a", "2024-01-05", "1"), ("a", "2024-01-06", "1"), ("b", "2024-01-07", "1"), ("b", "13/01/2024", "1")]
    rows.append((None, "14/01/2024", "1"))  # dropped for its missing id: not counted as a second-format date
    prepared = prepare_transactions(pd.DataFrame(rows, columns=["Customer", "When", "Amount"], dtype=object), LOG)
    assert _items(prepared)["date_formats_mixed"] == (
        "fixed",
        1,
        "When: 1 timestamps written in another format (%d/%m/%Y) than the main one (%Y-%m-%d) were read in their "
        "own format (e.g. row 5: '13/01/2024').",
        ("13/01/2024",),
    )
    assert prepared.as_of == dt.date(2024, 1, 13)
    assert prepared.customers.set_index("ID")["Recency"].to_dict() == {"a": 7.0, "b": 0.0}


# --- the Online Retail cancellation convention: C + digits, in a log of mostly plain-digit orders ----------------------


@pytest.mark.parametrize(
    ("plain_orders", "cancelled"),
    [(2, False), (3, True)],
    ids=["exactly half plain digits: no convention", "more than half: C-orders are cancellations"],
)
def test_c_orders_are_cancellations_only_when_most_orders_are_plain_digits(plain_orders: int, cancelled: bool) -> None:
    """Plain orders of 10 each, plus C4 and C5 of 1 each (positive amounts): spend 2·10+2 or 2·10-2 (3 plain: 30±2)."""
    rows = [(str(i + 1), "a", f"2024-01-0{i + 1}", "10") for i in range(plain_orders)]
    rows += [("C4", "a", "2024-01-06", "1"), ("C5", "a", "2024-01-07", "1")]
    customers, report = aggregate_transactions(_orders(rows), ORDERS)
    spend = 10.0 * plain_orders + (-2.0 if cancelled else 2.0)
    assert customers["Customer_Value"].tolist() == [spend]
    assert customers["Purchase_Frequency"].tolist() == [float(plain_orders + (0 if cancelled else 2))]
    assert {i.kind: i.count for i in report.items}.get("cancelled_lines", 0) == (2 if cancelled else 0)


def test_lines_without_an_order_id_are_orders_by_their_timestamp_and_never_cancellations() -> None:
    """a: order 1 (two lines stamped 10:00 and 10:05: one order), then three lines without an order id at
    11:00, 12:00 and again 12:00: two more orders (one per timestamp). 3 orders, spend 1+1+2+3+4 = 11."""
    rows = [
        ("1", "a", "2024-01-01 10:00", "1"),
        ("1", "a", "2024-01-01 10:05", "1"),
        (None, "a", "2024-01-01 11:00", "2"),
        (None, "a", "2024-01-01 12:00", "3"),
        (None, "a", "2024-01-01 12:00", "4"),
        ("2", "b", "2024-01-01 12:00", "5"),
    ]
    customers, report = aggregate_transactions(_orders(rows), ORDERS)
    got = customers.set_index("ID")
    assert got["Purchase_Frequency"].to_dict() == {"a": 3.0, "b": 1.0}
    assert got["Customer_Value"].to_dict() == {"a": 11.0, "b": 5.0}
    assert "cancelled_lines" not in {i.kind for i in report.items}


# --- purchases, returns and clipping at their boundaries -------------------------------------------------------------

BOUNDARIES = [
    # a: a zero line (a purchase, not a return) on 01-01 and 0.50 on 01-03: 2 orders, value 0.50.
    ("a", "2024-01-01 10:00", "0"),
    ("a", "2024-01-03 10:00", "0.5"),
    # b: bought 5 and returned 5: net exactly 0, which is not "returned more than bought".
    ("b", "2024-01-02 09:00", "5"),
    ("b", "2024-01-02 18:00", "-5"),
    # r1-r4: only returns (dropped); n1-n4: bought 2, returned 3 (clipped to 0).
    *[(f"r{i}", "2024-01-02", "-1") for i in range(1, 5)],
    *[line for i in range(1, 5) for line in ((f"n{i}", "2024-01-02", "2"), (f"n{i}", "2024-01-03", "-3"))],
    # c: two orders on 01-05 (one purchase day), one at 23:59 on the as-of date (kept); after it, one at
    # midnight on 01-11 and two on 01-12 (two holdout purchase days).
    ("c", "2024-01-05 08:00", "1"),
    ("c", "2024-01-05 20:00", "1"),
    ("c", "2024-01-10 23:59", "1"),
    ("c", "2024-01-11 00:00", "1"),
    ("c", "2024-01-12 07:00", "1"),
    ("c", "2024-01-12 19:00", "1"),
]


def test_purchases_returns_and_clipping_at_their_boundaries() -> None:
    table = pd.DataFrame(BOUNDARIES, columns=["Customer", "When", "Amount"], dtype=object)
    prepared = prepare_transactions(table, LOG, dt.date(2024, 1, 10))
    items = _items(prepared)
    assert items["after_as_of"][1] == 3  # from midnight after the as-of date
    assert items["return_lines"][1] == 9  # b's, r1-r4's and n1-n4's
    assert items["customers_without_purchase"][2:] == (
        "4 customers with only returns or cancellations (4 lines) dropped: no purchase to measure.",
        ("r1", "r2", "r3"),
    )
    assert items["value_clipped"][:2] == ("flagged", 4)
    assert items["value_clipped"][3] == ("n1", "n2", "n3")
    assert (prepared.report.rows_read, prepared.report.rows_kept) == (
        22,
        15,
    )  # 22 lines; the 3 after the as-of date and r1-r4's 4 not used
    got = prepared.customers
    assert got.index.tolist() == list(range(7))
    first = ["ID", "Customer_Value", "Purchase_Frequency", "Customer_For_Years", "Recency", "Enrolled"]
    assert got.columns.tolist()[:6] == first
    by_id = got.set_index("ID")
    assert by_id.index.tolist() == ["a", "b", "n1", "n2", "n3", "n4", "c"]
    assert by_id["Customer_Value"].to_dict() == {
        "a": 0.5,
        "b": 0.0,
        "n1": 0.0,
        "n2": 0.0,
        "n3": 0.0,
        "n4": 0.0,
        "c": 3.0,
    }
    assert by_id.loc[["a", "b", "c"], "Purchase_Frequency"].tolist() == [2.0, 1.0, 3.0]
    assert str(by_id.loc["a", "Enrolled"].date()) == "2024-01-01"
    # Purchase days: a 01-01 and 01-03 (x = 1), c 01-05 and 01-10 (x = 1); spend per purchase day 0.50 / 2, 3 / 2.
    assert by_id.loc[["a", "b", "c"], "Repeat_Purchase_Days"].tolist() == [1.0, 0.0, 1.0]
    assert by_id.loc[["a", "b", "c"], "Spend_Per_Purchase_Day"].tolist() == [0.25, 0.0, 1.5]
    assert by_id.loc[["a", "c"], "Holdout_Actual_Days"].tolist() == [0.0, 2.0]
    assert by_id["Holdout_Period_Days"].iloc[0] == 2.0
    assert by_id["Holdout_End_Day"].iloc[0] == 19734.0  # 2024-01-12


def test_unreadable_amount_examples_are_the_first_three_values_or_else_row_numbers() -> None:
    qp = Mapping(
        "transactions", id_column="Customer", timestamp_column="When", quantity_column="Qty", unit_price_column="Price"
    )
    pairs = [("x1", "1"), ("x2", "1"), ("1", "p1"), ("1", "p2")] + [("1", "1")] * 4
    rows = [("a", f"2024-01-0{i + 1}", q, p) for i, (q, p) in enumerate(pairs)]
    prepared = prepare_transactions(pd.DataFrame(rows, columns=["Customer", "When", "Qty", "Price"], dtype=object), qp)
    assert _items(prepared)["amount_unreadable"] == (
        "dropped",
        4,
        "Qty × Price: 4 lines with a missing or non-numeric amount dropped (e.g. Qty row 2: 'x1', row 3: 'x2', "
        "Price row 4: 'p1', row 5: 'p2').",
        ("x1", "x2", "p1"),
    )
    missing = pd.DataFrame(
        [("a", "2024-01-01", None), ("a", "2024-01-02", "1"), ("a", "2024-01-03", "2")],
        columns=["Customer", "When", "Amount"],
        dtype=object,
    )
    assert _items(prepare_transactions(missing, LOG))["amount_unreadable"] == (
        "dropped",
        1,
        "Amount: 1 lines with a missing or non-numeric amount dropped.",
        ("row 2",),
    )
