"""Refusals, thresholds and known answers of the transaction log reader and the safe writer (issue #15)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from pipeline.data.export import (
    FORMULA_TRIGGERS,
    check_output_path,
    csv_bytes,
    is_dangerous,
    neutralise,
    neutralise_text,
    write_table,
)
from pipeline.data.mapping import Mapping
from pipeline.data.transactions import aggregate_transactions, prepare_transactions, transaction_mapping_problems
from pipeline.errors import DataError

LOG = Mapping("transactions", id_column="Customer", timestamp_column="When", amount_column="Amount")
QP = Mapping(
    "transactions", id_column="Customer", timestamp_column="When", quantity_column="Qty", unit_price_column="Price"
)


def _log(rows: list[tuple[str | None, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["Customer", "When", "Amount"], dtype=object)


def _problems(table: pd.DataFrame, mapping: Mapping = LOG, as_of: dt.date | None = None) -> tuple[str, ...]:
    return prepare_transactions(table, mapping, as_of).problems


# --- transactions: the mapping ------------------------------------------------------------------------------------


def test_a_quantity_without_a_unit_price_is_refused() -> None:
    table = pd.DataFrame({"Customer": ["a"], "When": ["2024-01-01"], "Qty": ["1"], "Price": ["2"]})
    only_qty = Mapping("transactions", id_column="Customer", timestamp_column="When", quantity_column="Qty")
    only_price = Mapping("transactions", id_column="Customer", timestamp_column="When", unit_price_column="Price")
    need = "data: map an amount column, or both a quantity and a unit price column."
    assert transaction_mapping_problems(table, only_qty) == [need]
    assert transaction_mapping_problems(table, only_price) == [need]
    assert transaction_mapping_problems(table, QP) == []


def test_an_amount_and_a_quantity_together_are_refused() -> None:
    both = Mapping(
        "transactions", id_column="Customer", timestamp_column="When", amount_column="Amount", quantity_column="Qty"
    )
    table = pd.DataFrame({"Customer": ["a"], "When": ["2024-01-01"], "Amount": ["1"], "Qty": ["1"]})
    assert transaction_mapping_problems(table, both, "shop") == [
        "shop: map either an amount column or quantity and unit price, not both."
    ]


def test_missing_id_and_timestamp_mappings_and_columns_are_named() -> None:
    table = pd.DataFrame({"Customer": ["a"], "Amount": ["1"]})
    bare = Mapping("transactions", amount_column="Amount")
    assert transaction_mapping_problems(table, bare) == [
        "data: map a customer id column to aggregate a transaction log.",
        "data: map a timestamp column to aggregate a transaction log.",
    ]
    assert transaction_mapping_problems(table, LOG) == ["data has no column(s) named When."]
    assert transaction_mapping_problems(table, Mapping("customer_table")) == [
        "The mapping is for a customer_table table, not a transaction log."
    ]


# --- transactions: refusals after reading ---------------------------------------------------------------------------


def test_no_usable_lines_left_is_refused_with_its_reason() -> None:
    table = _log([(None, "2024-01-01", "5"), (None, "2024-01-02", "7")])
    assert _problems(table) == (
        "data: no usable lines are left (every line lacks a customer id, a date or an amount).",
    )
    with pytest.raises(DataError, match=r"^data: no usable lines are left \(every line lacks"):
        aggregate_transactions(table, LOG)


def test_every_line_after_the_as_of_date_leaves_no_usable_line() -> None:
    table = _log([("a", "2024-01-02", "5"), ("b", "2024-01-03", "7")])
    assert _problems(table, as_of=dt.date(2024, 1, 1)) == (
        "data: no usable lines are left (every line lacks a customer id, a date or an amount).",
    )
    # The as-of day itself is kept (lines up to its end).
    kept = prepare_transactions(table, LOG, dt.date(2024, 1, 2))
    assert kept.problems == ()
    assert kept.customers["ID"].tolist() == ["a"]


def test_only_returns_and_cancellations_is_refused_with_its_reason() -> None:
    table = _log([("a", "2024-01-01", "-5"), ("b", "2024-01-02", "-7")])
    assert _problems(table) == ("data: no customer has a purchase (every kept line is a return or a cancellation).",)
    with pytest.raises(DataError, match=r"every kept line is a return or a cancellation"):
        aggregate_transactions(table, LOG)


@pytest.mark.parametrize(("bad", "refused"), [(1, False), (2, False), (3, True)])
def test_unreadable_amounts_are_refused_only_above_half_of_the_lines(bad: int, refused: bool) -> None:
    """4 lines: 1 or 2 unreadable (25 %, exactly 50 %) are dropped as dirt; 3 (75 %) refuse the column."""
    amounts = ["x"] * bad + ["5"] * (4 - bad)
    table = _log([(f"c{i}", f"2024-01-0{i + 1}", a) for i, a in enumerate(amounts)])
    problems = _problems(table)
    if refused:
        assert len(problems) == 1
        assert problems[0].startswith("data: the column Amount holds text where numbers are expected (")
    else:
        assert problems == ()
        prepared = prepare_transactions(table, LOG)
        dropped = {i.kind: i.count for i in prepared.report.items}
        assert dropped["amount_unreadable"] == bad
        assert len(prepared.customers) == 4 - bad


@pytest.mark.parametrize(("bad", "refused"), [(1, False), (2, False), (3, True)])
def test_unreadable_dates_are_refused_only_above_half_of_the_lines(bad: int, refused: bool) -> None:
    dates = ["soon"] * bad + ["2024-01-05"] * (4 - bad)
    table = _log([(f"c{i}", d, "5") for i, d in enumerate(dates)])
    problems = _problems(table)
    if refused:
        assert len(problems) == 1
        assert problems[0].startswith("data: the timestamp column When cannot be read as dates (")
        assert problems[0].endswith("Use a format such as yyyy-mm-dd hh:mm or dd/mm/yyyy.")
    else:
        assert problems == ()
        assert len(prepare_transactions(table, LOG).customers) == 4 - bad


def test_quantity_times_unit_price_is_the_spend() -> None:
    table = pd.DataFrame(
        {"Customer": ["a", "a", "b"], "When": ["2024-01-01", "2024-01-02", "2024-01-02"], "Qty": ["2", "3", "1"]}
        | {"Price": ["2.5", "1", "4"]}
    )
    customers, _ = aggregate_transactions(table, QP)
    assert customers.set_index("ID")["Customer_Value"].to_dict() == {"a": 8.0, "b": 4.0}
    assert customers.set_index("ID")["Purchase_Frequency"].to_dict() == {"a": 2, "b": 1}


# --- export: the safe writer ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", sorted(FORMULA_TRIGGERS))
def test_every_formula_trigger_is_neutralised(trigger: str) -> None:
    text = f"{trigger}cmd|' /C calc'!A0"
    assert is_dangerous(text)
    assert neutralise_text(text) == "'" + text
    if not trigger.isspace():  # after leading white space too (white-space triggers only count first)
        assert neutralise_text("  " + text) == "'  " + text
    assert neutralise_text("a" + text) == "a" + text  # in the middle: harmless


def test_harmless_and_non_text_cells_are_left_alone() -> None:
    assert is_dangerous("") is False
    assert not is_dangerous("   ")
    assert not is_dangerous("Alice")
    assert neutralise_text("") == ""
    assert neutralise_text(-5) == -5
    assert neutralise_text(None) is None


def test_neutralise_prefixes_text_cells_and_names_but_not_numbers() -> None:
    frame = pd.DataFrame({"=total": [-5.0, 3.0], "name": ["-5", "Bob"], "mixed": [-1, "=1+1"]})
    frame["cat"] = pd.Categorical(["@a", "b"])
    frame["str"] = pd.Series(["+x", None], dtype="string")
    out = neutralise(frame)
    assert list(out.columns) == ["'=total", "name", "mixed", "cat", "str"]
    assert out["'=total"].tolist() == [-5.0, 3.0]
    assert out["name"].tolist() == ["'-5", "Bob"]
    assert out["mixed"].tolist() == [-1, "'=1+1"]
    assert out["cat"].tolist() == ["'@a", "b"]
    assert out["str"].tolist()[0] == "'+x" and pd.isna(out["str"].tolist()[1])
    assert str(out["str"].dtype) == "string"
    assert frame["name"].tolist() == ["-5", "Bob"]  # the input is not modified


def test_categories_that_would_collide_are_written_as_plain_text() -> None:
    frame = pd.DataFrame({"c": pd.Categorical(["=a", "'=a"])})
    assert neutralise(frame)["c"].tolist() == ["'=a", "'=a"]


def test_csv_bytes_are_neutralised_quoted_crlf_text() -> None:
    frame = pd.DataFrame({"name": ["=1+1", "a,b", "x\ry"], "n": [-1, 2, 3]})
    assert csv_bytes(frame) == b'name,n\r\n\'=1+1,-1\r\n"a,b",2\r\n"x\ry",3\r\n'


def test_output_suffixes_are_checked_before_writing(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "a.CSV") == ".csv"
    with pytest.raises(
        DataError, match=r"^Cannot write 'a\.txt': the output must end in \.csv, \.xlsx, \.parquet \(got \.txt\)\.$"
    ):
        check_output_path(tmp_path / "a.txt")
    with pytest.raises(DataError, match=r"\(got no suffix\)\.$"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "a")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_every_format_round_trips_neutralised(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"name": ["=cmd", "Bob"], "mixed": ["-x", 3], "n": [-1.5, 2.0]})
    path = write_table(frame, tmp_path / "deep" / f"out{suffix}")
    read = {".csv": pd.read_csv, ".xlsx": pd.read_excel, ".parquet": pd.read_parquet}[suffix](path)
    assert read["name"].tolist() == ["'=cmd", "Bob"]
    assert read["n"].tolist() == [-1.5, 2.0]
    assert [str(v) for v in read["mixed"]] == ["'-x", "3"]


FULL = Mapping(
    "transactions",
    id_column="Customer",
    timestamp_column="When",
    quantity_column="Qty",
    unit_price_column="Price",
    order_column="Order",
    campaign_column="Campaign",
)


def test_a_hand_counted_log_aggregates_to_known_customers() -> None:
    """A: orders 1001 (10 + 3, campaign) and 1002 (4), cancelled C1003 (-3) → 14, 2 orders, 1 campaign order.

    B: two orders on one day (6 campaign, 1) → 7, 2 orders. C: only a return → dropped. D: one order of 2.
    As of the latest line, 2024-01-10: recency A 5 days (the cancellation is no purchase), B 7, D 0.
    """
    rows = [
        ("1001", "A", "2024-01-01 10:00", "2", "5", "yes"),
        ("1001", "A", "2024-01-01 10:00", "1", "3", "no"),
        ("1002", "A", "2024-01-05 09:00", "1", "4", "no"),
        ("C1003", "A", "2024-01-06 09:00", "-1", "3", "no"),
        ("1004", "B", "2024-01-03 08:00", "3", "2", "yes"),
        ("1005", "B", "2024-01-03 17:00", "1", "1", "no"),
        ("1006", "C", "2024-01-04 12:00", "-2", "5", "no"),
        ("1007", "D", "2024-01-10 12:00", "1", "2", "no"),
    ]
    table = pd.DataFrame(rows, columns=["Order", "Customer", "When", "Qty", "Price", "Campaign"], dtype=object)
    prepared = prepare_transactions(table, FULL)
    assert prepared.problems == ()
    assert prepared.as_of == dt.date(2024, 1, 10)
    got = prepared.customers.set_index("ID")
    assert got.index.tolist() == ["A", "B", "D"]
    assert got["Customer_Value"].tolist() == [14.0, 7.0, 2.0]
    assert got["Purchase_Frequency"].tolist() == [2.0, 2.0, 1.0]
    assert got["Campaign_Response"].tolist() == [1.0, 1.0, 0.0]
    assert got["Recency"].tolist() == [5.0, 7.0, 0.0]
    assert [str(d.date()) for d in got["Enrolled"]] == ["2024-01-01", "2024-01-03", "2024-01-10"]
    counts = {i.kind: i.count for i in prepared.report.items}
    assert counts["cancelled_lines"] == 1
    assert counts["return_lines"] == 1
    assert counts["customers_without_purchase"] == 1
    assert counts["aggregated"] == 3
    assert prepared.report.rows_read == 8
    assert prepared.report.rows_kept == 7  # C's lone return line is not used


def test_without_order_ids_an_order_is_a_distinct_timestamp() -> None:
    rows = [("A", "2024-01-01 10:00", "5"), ("A", "2024-01-01 10:00", "5"), ("A", "2024-01-01 11:00", "1")]
    customers, report = aggregate_transactions(_log(rows), LOG)
    assert customers["Purchase_Frequency"].tolist() == [2.0]
    assert customers["Customer_Value"].tolist() == [11.0]  # identical lines kept as repeat purchases
    assert {i.kind: i.count for i in report.items}["identical_lines_kept"] == 1


def test_returning_more_than_bought_is_clipped_to_zero() -> None:
    rows = [("A", "2024-01-01", "5"), ("A", "2024-01-02", "-8"), ("B", "2024-01-02", "3")]
    customers, report = aggregate_transactions(_log(rows), LOG)
    assert customers.set_index("ID")["Customer_Value"].to_dict() == {"A": 0.0, "B": 3.0}
    clipped = next(i for i in report.items if i.kind == "value_clipped")
    assert (clipped.count, clipped.examples) == (1, ("A",))


def test_parquet_keeps_numbers_of_mixed_numeric_types(tmp_path: Path) -> None:
    """An object column of ints and floats stays numeric; only text mixed with numbers becomes text."""
    frame = pd.DataFrame({"n": pd.Series([1, 2.5], dtype=object), "t": pd.Series(["a", 3], dtype=object)})
    read = pd.read_parquet(write_table(frame, tmp_path / "out.parquet"))
    assert read["n"].tolist() == [1.0, 2.5]
    assert read["t"].tolist() == ["a", "3"]


def test_parquet_keeps_a_column_of_only_booleans_boolean(tmp_path: Path) -> None:
    frame = pd.DataFrame({"flag": pd.Series([True, False], dtype=object)})
    read = pd.read_parquet(write_table(frame, tmp_path / "flags.parquet"))
    assert read["flag"].tolist() == [True, False]
