"""The scanned (dictionary-encoded) transaction log aggregates exactly like the pandas-read one (issue #12).

:func:`pipeline.data.log_scan.scan_log` reads a large log with pyarrow into
categorical columns; :func:`pipeline.data.transactions.prepare_transactions`
then works on distinct values and codes.  Every test reads the same bytes
both ways and asserts the same customers, report and problems (messages
included), on small logs with every quirk: returns, cancellations,
unreadable amounts, quantity × unit price, several date formats, blank and
duplicated lines, ids written as floats or with spaces.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.data.log_scan import scan_log
from pipeline.data.mapping import Mapping
from pipeline.data.reading import read_table
from pipeline.data.transactions import Prepared, prepare_transactions
from tests.ingest_cases import ONLINE_RETAIL

AMOUNT = Mapping("transactions", id_column="Customer", timestamp_column="When", amount_column="Amount")
RETAIL = ONLINE_RETAIL.replace(campaign_column="Promo")
RETAIL_HEADER = "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID,Promo,Country"
TRICKY_RETAIL = [
    "536365,6,12/1/2010 8:26,2.55,17850.0,,United Kingdom",
    "536365,6,12/1/2010 8:26,3.39,17850.0,SPRING,United Kingdom",
    "536365,6,12/1/2010 8:26,3.39,17850.0,SPRING,United Kingdom",  # export duplicate: dropped
    "536366,2,2010-12-01 08:28:00,1.85, 17850 ,,United Kingdom",  # ISO date, id with spaces: same customer
    "C536379,-1,12/1/2010 9:41,27.50,14527.0,,United Kingdom",  # cancellation
    "536380,-3,01.12.2010 09:45,2.10,14527.0,,Germany",  # return, dotted date
    "536381,4,12/2/2010 10:03,£1.250,14527.0,XMAS,Germany",  # currency sign, thousands comma
    '536382,2,12/2/2010 10:05,"4,50",13047.0,,France',  # decimal comma
    "536383,abc,12/3/2010 11:00,2.00,13047.0,,France",  # unreadable quantity
    "536384,1,not recorded,2.00,13047.0,,France",  # unreadable timestamp
    "536385,1,12/3/2010 12:00,2.00,,,France",  # no customer
    ",,,,,,",  # blank line of separators
    "536386,5,12/9/2010 15:30,0.85,12346.0,,EIRE",
    "536387,1,12/9/2010 25:30,1.00,12346.0,,EIRE",  # unreadable time → unreadable timestamp
    "C536388,-2,12/9/2010 16:00,0.85,99999.0,,EIRE",  # a customer with only a cancellation
]


def _csv(header: str, lines: list[str]) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def _both(raw: bytes, mapping: Mapping | None, as_of: dt.date | None = None) -> tuple[Prepared, Prepared]:
    """The log read by pandas (read_table) and by the scan, each aggregated."""
    plain = read_table(raw, "log.csv")
    scanned = scan_log(raw, "log.csv", mapping, min_bytes=0)
    assert scanned is not None
    assert all(isinstance(t, pd.CategoricalDtype) for t in scanned.dtypes)
    assert list(scanned.columns) == list(plain.columns)
    assert mapping is not None
    return prepare_transactions(plain, mapping, as_of, "log.csv"), prepare_transactions(
        scanned, mapping, as_of, "log.csv"
    )


def _assert_same(a: Prepared, b: Prepared) -> None:
    assert a.problems == b.problems
    assert a.as_of == b.as_of
    assert a.report == b.report
    if a.customers is None:
        assert b.customers is None
    else:
        assert b.customers is not None
        pd.testing.assert_frame_equal(a.customers, b.customers)


def test_the_tricky_retail_log_aggregates_the_same_both_ways() -> None:
    plain, scanned = _both(_csv(RETAIL_HEADER, TRICKY_RETAIL), RETAIL)
    _assert_same(plain, scanned)
    got = scanned.customers.set_index("ID")
    # 17850: 6 × 2.55 + 6 × 3.39 + 2 × 1.85 = 39.34 over 2 orders, one with a promotion.
    assert got.loc["17850", "Customer_Value"] == pytest.approx(39.34)
    assert got.loc["17850", "Purchase_Frequency"] == 2.0
    assert got.loc["17850", "Campaign_Response"] == 1.0
    # 14527: 4 × 1.25 − 27.50 (cancelled) − 3 × 2.10 (return) < 0 → clipped to 0; one order.
    assert got.loc["14527", "Customer_Value"] == 0.0
    assert got.loc["14527", "Purchase_Frequency"] == 1.0
    # 13047: 2 × 4.50 (the quantity "abc" line is dropped).
    assert got.loc["13047", "Customer_Value"] == 9.0
    assert "99999" not in got.index
    counts = {i.kind: i.count for i in scanned.report.items}
    assert counts["duplicate_lines"] == 1
    assert counts["blank_rows"] == 1
    assert counts["missing_customer_id"] == 1
    assert counts["date_unparsed"] == 2
    assert counts["amount_unreadable"] == 1
    assert counts["cancelled_lines"] == 2
    assert counts["return_lines"] == 1
    assert counts["date_formats_mixed"] == 2
    assert counts["customers_without_purchase"] == 1
    messages = {i.kind: i.message for i in scanned.report.items}
    assert messages["date_unparsed"] == (
        "InvoiceDate: 2 lines with a missing or unreadable timestamp dropped"
        " (e.g. row 11: 'not recorded', row 15: '12/9/2010 25:30')."
    )
    assert messages["amount_unreadable"] == (
        "Quantity × UnitPrice: 1 lines with a missing or non-numeric amount dropped (e.g. Quantity row 10: 'abc')."
    )


def test_an_as_of_date_inside_the_log_cuts_it_the_same_both_ways() -> None:
    plain, scanned = _both(
        _csv(RETAIL_HEADER, TRICKY_RETAIL), RETAIL, dt.date(2010, 2, 12)
    )  # day-first wins: 12/2/2010 is 12 February
    _assert_same(plain, scanned)
    assert {i.kind: i.count for i in scanned.report.items}["after_as_of"] == 4


def test_mostly_unreadable_timestamps_are_refused_with_the_same_message() -> None:
    lines = ["A,someday,5", "B,later,3", "C,2024-01-02,4"]
    plain, scanned = _both(_csv("Customer,When,Amount", lines), AMOUNT)
    _assert_same(plain, scanned)
    assert scanned.problems == (
        "log.csv: the timestamp column When cannot be read as dates (row 2: 'someday', row 3: 'later'). "
        "Use a format such as yyyy-mm-dd hh:mm or dd/mm/yyyy.",
    )


def test_mostly_text_amounts_are_refused_with_the_same_message() -> None:
    lines = ["A,2024-01-01,five", "B,2024-01-02,n/a?", "C,2024-01-02,4"]
    plain, scanned = _both(_csv("Customer,When,Amount", lines), AMOUNT)
    _assert_same(plain, scanned)
    assert scanned.problems == (
        "log.csv: the column Amount holds text where numbers are expected (row 2: 'five', row 3: 'n/a?').",
    )


def test_only_returns_is_refused_the_same_both_ways() -> None:
    plain, scanned = _both(_csv("Customer,When,Amount", ["A,2024-01-01,-5", "B,2024-01-02,-3"]), AMOUNT)
    _assert_same(plain, scanned)
    assert scanned.problems == ("log.csv: no customer has a purchase (every kept line is a return or a cancellation).",)


def test_other_tables_and_small_files_are_left_to_the_usual_reader() -> None:
    raw = _csv(RETAIL_HEADER, TRICKY_RETAIL)
    assert scan_log(raw, "log.csv", RETAIL) is None  # under 8 MB: the C parser reads it as fast
    assert scan_log(raw, "log.csv", Mapping("customer_table", id_column="CustomerID"), min_bytes=0) is None
    customers = _csv("ID,Spend,Orders", [f"{i},{i * 3},{i % 5}" for i in range(300)])
    assert scan_log(customers, "customers.csv", None, min_bytes=0) is None  # not detected as a log
    assert scan_log(b"PK\x03\x04" + raw, "log.xlsx", RETAIL, min_bytes=0) is None
    duplicate_names = _csv("Customer,When,Amount,Amount", ["A,2024-01-01,5,6"])
    assert scan_log(duplicate_names, "log.csv", AMOUNT, min_bytes=0) is None  # read_table refuses it, with names
    ragged = _csv("Customer,When,Amount", ["A,2024-01-01,5", "B,2024-01-02,3,extra"])
    assert scan_log(ragged, "log.csv", AMOUNT, min_bytes=0) is None


def test_a_log_is_recognised_without_a_mapping() -> None:
    lines = [f"{i % 40 + 1000},2024-01-{i % 28 + 1:02d},{(i * 7) % 50 + 1}.5" for i in range(400)]
    scanned = scan_log(_csv("CustomerID,OrderDate,Amount", lines), "log.csv", None, min_bytes=0)
    assert scanned is not None and len(scanned) == 400


_IDS = st.sampled_from(["A", "B", " A", "B ", "17850.0", "17850", "", "C"])
_WHEN = st.sampled_from(
    [
        "2024-01-01",
        "2024-01-02 10:00",
        "1/3/2024 8:26",
        "03.01.2024 09:15",
        "2024-01-05T07:00:00",
        "",
        "junk",
        "13/13/2024",
    ]
)
_AMOUNT = st.sampled_from(["5", "-3", "12,50", "$4", "1,234", "x", "", "0", " 7 "])
_ORDER = st.sampled_from(["1001", "1002", "C1003", "1004", "", "X9", " 1001"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_ORDER, _IDS, _WHEN, _AMOUNT, _AMOUNT), min_size=2, max_size=30), st.booleans())
def test_any_small_log_aggregates_the_same_both_ways(rows: list[tuple[str, ...]], by_quantity: bool) -> None:
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=["Order", "Customer", "When", "Qty", "Price"]).to_csv(buffer, index=False)
    mapping = (
        Mapping(
            "transactions",
            id_column="Customer",
            timestamp_column="When",
            quantity_column="Qty",
            unit_price_column="Price",
            order_column="Order",
        )
        if by_quantity
        else Mapping("transactions", id_column="Customer", timestamp_column="When", amount_column="Qty")
    )
    plain, scanned = _both(buffer.getvalue().encode(), mapping)
    _assert_same(plain, scanned)
