"""Known answers at the edges of the transaction reader, the log scan and the safe writer (issue #15).

Each test is a case worked by hand that a mutant of ``pipeline.data.transactions``,
``pipeline.data.log_scan`` or ``pipeline.data.export`` let through in the re-runs after the
pyarrow rewrite: missing timestamps are neither unreadable nor readable (they do not count for the
50 % refusal either way), day numbers before 1970 are floored (not truncated towards zero), the
scan's size threshold and header, and the XLSX/Parquet writer (sheet names, widths, formats,
notes, the row limit at its boundary, atomic writes)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest

from pipeline.data import export
from pipeline.data.export import Sheet, TableExport, neutralise, parquet_bytes, sheet_names, xlsx_bytes
from pipeline.data.log_scan import scan_log
from pipeline.data.mapping import Mapping
from pipeline.data.transactions import prepare_transactions
from pipeline.errors import DataError

LOG = Mapping("transactions", id_column="Customer", timestamp_column="When", amount_column="Amount")


def _log(rows: list[tuple[str | None, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["Customer", "When", "Amount"], dtype=object)


def _counts(prepared) -> dict[str, int]:
    return {i.kind: i.count for i in prepared.report.items if i.count}


def test_missing_timestamps_are_dropped_not_counted_as_unreadable() -> None:
    # 2 readable dates and 3 empty ones: 0 of 2 present timestamps are unreadable, so no refusal;
    # the 3 lines are dropped as "missing or unreadable" (the 50 % rule counts present values only).
    prepared = prepare_transactions(
        _log([("a", "2024-01-01", "5"), ("b", "2024-01-02", "5")] + [("d", None, "5")] * 3), LOG
    )
    assert prepared.problems == ()
    assert _counts(prepared)["date_unparsed"] == 3
    assert prepared.customers["ID"].tolist() == ["a", "b"]


def test_missing_timestamps_do_not_dilute_the_unreadable_share() -> None:
    # Present: 1 readable + 2 unreadable, so 2 > 0.5 × 3: refused. The 4 empty timestamps are not
    # "present": counting them would make it 2 > 0.5 × 7, and the log would pass.
    rows = [("a", "2024-01-01", "5"), ("b", "2024/13/45", "5"), ("c", "bad", "5")] + [("d", None, "5")] * 4
    prepared = prepare_transactions(_log(rows), LOG)
    assert prepared.customers is None
    assert prepared.problems == (
        "data: the timestamp column When cannot be read as dates (row 3: '2024/13/45', row 4: 'bad'). "
        "Use a format such as yyyy-mm-dd hh:mm or dd/mm/yyyy.",
    )


def test_days_before_1970_are_floored_not_truncated() -> None:
    # Day numbers count from 1970-01-01 (day 0): 1969-06-01 is day -214, 1969-06-20 day -195. A time
    # of day belongs to its date (floor): 1969-06-01 10:00 is day -214, not -213 (truncation towards
    # zero would merge it with 1969-06-02 00:00, and 06-20 12:00 with 06-21 00:00).
    rows = [
        ("a", "1969-06-01 10:00", "5"),  # day -214
        ("a", "1969-06-02 00:00", "5"),  # day -213
        ("a", "1969-06-03 10:00", "5"),  # day -212
        ("a", "1969-06-20 12:00", "3"),  # after the as-of date (1969-06-10, day -205): day -195
        ("a", "1969-06-21 00:00", "3"),  # day -194
        ("a", "1969-06-25 06:00", "3"),  # day -190: the log's last day
    ]
    got = prepare_transactions(_log(rows), LOG, dt.date(1969, 6, 10)).customers
    assert got["Repeat_Purchase_Days"].tolist() == [2.0]  # 3 purchase days
    assert got["Days_First_To_Last_Purchase"].tolist() == [2.0]
    assert got["Days_Since_First_Purchase"].tolist() == [9.0]  # -205 - (-214)
    assert got["Holdout_Actual_Days"].tolist() == [3.0]
    assert got["Holdout_End_Day"].tolist() == [-190.0]
    assert got["Holdout_Period_Days"].tolist() == [15.0]  # -190 - (-205)


def test_a_text_categorical_keeps_its_categories_neutralised() -> None:
    column = pd.Series(["=1+2", "ok", "=1+2"], dtype="string").astype("category")
    got = neutralise(pd.DataFrame({"c": column}))["c"]
    assert isinstance(got.dtype, pd.CategoricalDtype)
    assert got.cat.categories.tolist() == ["'=1+2", "ok"]
    assert got.cat.codes.tolist() == [0, 1, 0]


def _workbook(export: TableExport):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(xlsx_bytes(export)))


def test_sheet_names_follow_excels_rules_with_known_answers() -> None:
    names = ["a/b", "x" * 40, "'quoted'", "   ", "History", "Seg", "seg", "SEG", "y" * 40, "y" * 35]
    expected = [
        "a-b",  # forbidden characters become "-"
        "x" * 31,  # at most 31 characters
        "quoted",  # no leading or trailing apostrophe
        "Sheet",  # never blank
        "History (sheet)",  # "History" is reserved
        "Seg",
        "seg (2)",  # unique ignoring case: the second gets (2), the third (3)
        "SEG (3)",
        "y" * 31,
        "y" * 27 + " (2)",  # the suffix fits in the 31 characters
    ]
    assert sheet_names(names) == expected
    frame = pd.DataFrame({"v": [1]})
    export = TableExport(frame, sheets=tuple(Sheet(n, frame) for n in names))
    assert _workbook(export).sheetnames == expected


def test_column_widths_are_the_longest_text_plus_two_between_8_and_60() -> None:
    frame = pd.DataFrame(
        {
            "h": ["a"] * 200 + ["z" * 30],  # only the first 200 values are measured: 1 + 2 → at least 8
            "hd": ["abcdefghijkl"] + [None] * 200,  # 12 + 2 = 14; a missing value is an empty cell, not "None"
            "twelve chars": ["x" * 13] + [None] * 200,  # 13 + 2 = 15
            "long": ["w" * 100] * 201,  # capped at 60
        }
    )
    sheet = _workbook(TableExport(frame)).active
    widths = [sheet.column_dimensions[letter].width for letter in "ABCD"]
    assert widths == [8.0, 14.0, 15.0, 60.0]
    header = sheet["A1"]
    assert (header.value, header.font.b, header.font.color.rgb, header.fill.fgColor.rgb) == (
        "h",
        True,
        "00FFFFFF",
        "001F4E79",
    )
    assert (header.alignment.vertical, header.alignment.wrap_text) == ("top", True)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:D202"


def test_number_formats_follow_the_column_kinds_and_dates_without_a_kind() -> None:
    frame = pd.DataFrame(
        {
            "Spend": [1234.5],
            "Share": [0.25],
            "When": pd.to_datetime(["2024-03-31"]),  # no kind given: a datetime column is a date
            "Count": [3],
            "Plain": [7.5],  # no kind, not a date: General
        }
    )
    kinds = {"Spend": "money", "Share": "probability", "Count": "integer"}
    row = _workbook(TableExport(frame, column_kinds=kinds)).active[2]
    assert [c.number_format for c in row] == ["#,##0.00", "0.0%", "yyyy-mm-dd", "#,##0", "General"]
    assert [c.value for c in row] == [1234.5, 0.25, dt.datetime(2024, 3, 31), 3, 7.5]


def _rows(export: TableExport) -> list[list[object]]:
    return [[c.value for c in row] for row in _workbook(export).active.iter_rows()]


def test_notes_go_under_the_table_after_a_blank_row_neutralised() -> None:
    frame = pd.DataFrame({"v": [1, 2]})
    rows = _rows(TableExport(frame, sheets=(Sheet("S", frame, ("How measured: x", "=1+1")),)))
    assert rows == [["v"], [1], [2], [None], ["How measured: x"], ["'=1+1"]]
    # Without notes the sheet ends at the table's last row: no blank row is written after it.
    raw = xlsx_bytes(TableExport(frame))
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert z.read("xl/worksheets/sheet1.xml").count(b"<row ") == 3


def test_notes_are_written_only_when_they_fit_in_the_sheet(monkeypatch) -> None:
    # With a 10-row sheet: 5 table lines + header + blank row + 3 notes = 10 rows fit; 4 notes do not.
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 10)
    frame = pd.DataFrame({"v": range(5)})
    fits = _rows(TableExport(frame, sheets=(Sheet("S", frame, ("a", "b", "c")),)))
    assert len(fits) == 10 and fits[-3:] == [["a"], ["b"], ["c"]]
    too_many = _rows(TableExport(frame, sheets=(Sheet("S", frame, ("a", "b", "c", "d")),)))
    assert too_many == [["v"], [0], [1], [2], [3], [4]]


def test_a_sheet_of_more_rows_than_excel_holds_is_refused_before_writing(monkeypatch) -> None:
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 10)
    assert len(_rows(TableExport(pd.DataFrame({"v": range(9)})))) == 10  # 9 lines + header: exactly full
    with pytest.raises(
        DataError, match=r"^10 rows do not fit in an Excel sheet \(9 at most\); export CSV or Parquet instead\.$"
    ):
        xlsx_bytes(TableExport(pd.DataFrame({"v": range(10)})))


def test_parquet_holds_the_table_columns_only() -> None:
    import pyarrow.parquet as pq

    frame = pd.DataFrame({"name": ["=x", "b"], "v": [1.5, 2.0]}, index=[7, 9])
    table = pq.read_table(io.BytesIO(parquet_bytes(TableExport(frame))))
    assert table.column_names == ["name", "v"]
    assert table.to_pydict() == {"name": ["'=x", "b"], "v": [1.5, 2.0]}


def test_write_table_creates_missing_parent_folders(tmp_path) -> None:
    target = tmp_path / "a" / "b" / "out.csv"
    assert export.write_table(pd.DataFrame({"name": ["=x"]}), target) == target
    assert target.read_bytes().decode("utf-8").splitlines() == ["name", "'=x"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.csv"]  # no temporary file left


def test_a_failed_write_leaves_no_temporary_file(tmp_path) -> None:
    target = tmp_path / "out.csv"
    target.mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(OSError):
        export.write_table(pd.DataFrame({"v": [1]}), target)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"] and target.is_dir()


def test_export_formats_by_key_and_an_unknown_key_refused() -> None:
    assert export.export_format(".XLSX").suffix == ".xlsx"
    table = TableExport(pd.DataFrame({"name": ["@SUM(A1)"], "when": pd.to_datetime(["2024-03-31 10:00"])}))
    assert export.export_bytes(table, "csv").decode("utf-8").splitlines() == ["name,when", "'@SUM(A1),2024-03-31"]
    with pytest.raises(DataError, match=r"^Unknown export format 'pdf'; choose one of csv, xlsx, parquet\.$"):
        export.export_bytes(table, "pdf")


def _csv(header: str, lines: list[str]) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def test_the_log_scan_size_threshold_is_inclusive() -> None:
    raw = _csv("Customer,When,Amount", ["A,2024-01-01,5", "B,2024-01-02,3"])
    at = scan_log(raw, "log.csv", LOG, min_bytes=len(raw))  # exactly the threshold: scanned
    assert at is not None and at["Customer"].tolist() == ["A", "B"]
    assert scan_log(raw, "log.csv", LOG, min_bytes=len(raw) + 1) is None  # one byte short: the usual reader


def test_a_scanned_last_line_without_a_newline_keeps_the_whole_header() -> None:
    # The header is read from the file's first complete lines (up to the last newline of the first
    # megabyte): here only the header line ends in a newline, and its last letter must not be lost.
    scanned = scan_log(b"Customer,When,Amount\nA,2024-01-01,5", "log.csv", LOG, min_bytes=0)
    assert scanned is not None
    assert list(scanned.columns) == ["Customer", "When", "Amount"]
    assert scanned.astype(str).values.tolist() == [["A", "2024-01-01", "5"]]


def test_a_scanned_first_line_ends_at_its_newline_not_inside_the_next_character() -> None:
    # The header prefix stops at the newline: a 2-byte "é" right after it must not be cut in half
    # (a cut character is not UTF-8, and the scan would give up on a readable log).
    scanned = scan_log("Customer,When,Amount\né,2024-01-01,5".encode(), "log.csv", LOG, min_bytes=0)
    assert scanned is not None and scanned["Customer"].tolist() == ["é"]


def test_a_blank_column_name_is_left_to_the_usual_reader() -> None:
    # read_table names it "Unnamed: 1"; the scan cannot, so it steps aside.
    assert scan_log(_csv("Customer,,Amount", ["A,2024-01-01,5"]), "log.csv", LOG, min_bytes=0) is None


def test_a_bad_row_after_the_first_megabyte_is_left_to_the_usual_reader() -> None:
    # The first megabyte is a clean log (recognised without a mapping); a ragged row after it makes
    # pyarrow give up, and the scan returns None instead of failing.
    lines = [f"{i % 40 + 1000},2024-01-{i % 28 + 1:02d},{(i * 7) % 50 + 1}.5" for i in range(60_000)]
    raw = _csv("CustomerID,OrderDate,Amount", [*lines, "1,2024-01-01,5,extra"])
    assert len(raw) > 1 << 20
    assert scan_log(raw, "log.csv", None, min_bytes=0) is None
    assert scan_log(_csv("CustomerID,OrderDate,Amount", lines), "log.csv", None, min_bytes=0).shape == (60_000, 3)


def test_a_line_without_an_order_id_is_no_cancellation_even_after_a_c_order() -> None:
    # Orders 1, 2, 3 are plain digits (3 of 4 lines with an order id), so C4 is a cancellation. The
    # last line has no order id: it is an order of its own (by its timestamp), a purchase of 7.
    mapping = Mapping(
        "transactions", id_column="Customer", timestamp_column="When", amount_column="Amount", order_column="Order"
    )
    rows = [
        ("1", "a", "2024-01-01", "5"),
        ("2", "a", "2024-01-02", "5"),
        ("3", "b", "2024-01-03", "5"),
        ("C4", "b", "2024-01-04", "2"),
        (None, "c", "2024-01-05", "7"),
    ]
    table = pd.DataFrame(rows, columns=["Order", "Customer", "When", "Amount"], dtype=object)
    prepared = prepare_transactions(table, mapping)
    got = prepared.customers.set_index("ID")
    assert got["Customer_Value"].to_dict() == {"a": 10.0, "b": 3.0, "c": 7.0}
    assert _counts(prepared)["cancelled_lines"] == 1


def test_purchases_at_different_hours_of_one_day_are_one_purchase_day() -> None:
    # a buys twice on 1 January (08:00 and 18:00) and on 3 January: 2 purchase days, 1 repeat day.
    # After the as-of date (5 January) a buys twice on 20 January: 1 holdout purchase day.
    rows = [
        ("a", "2024-01-01 08:00", "5"),
        ("a", "2024-01-01 18:00", "5"),
        ("a", "2024-01-03 12:00", "5"),
        ("a", "2024-01-20 09:00", "1"),
        ("a", "2024-01-20 17:00", "1"),
    ]
    got = prepare_transactions(_log(rows), LOG, dt.date(2024, 1, 5)).customers
    assert got["Repeat_Purchase_Days"].tolist() == [1.0]
    assert got["Days_First_To_Last_Purchase"].tolist() == [2.0]
    assert got["Spend_Per_Purchase_Day"].tolist() == [7.5]
    assert got["Holdout_Actual_Days"].tolist() == [1.0]
    assert got["Holdout_End_Day"].tolist() == [19742.0]  # 2024-01-20


def test_only_lines_equal_in_every_column_are_identical() -> None:
    # Line 7 repeats line 2 exactly: 1 identical line. Lines 5 (e, 01-01) and 6 (a, 01-02) share no
    # customer and no date; a key that mixed the columns' codes lossily (1/4 + 2 = 5/4 + 1) would
    # call them identical too.
    rows = [
        ("a", "2024-01-01", "5"),
        ("b", "2024-01-02", "5"),
        ("c", "2024-01-03", "5"),
        ("d", "2024-01-01", "5"),
        ("e", "2024-01-01", "5"),
        ("a", "2024-01-02", "5"),
        ("b", "2024-01-02", "5"),
    ]
    prepared = prepare_transactions(_log(rows), LOG)
    assert _counts(prepared)["identical_lines_kept"] == 1
    assert prepared.customers.set_index("ID")["Customer_Value"].to_dict() == {
        "a": 10.0,
        "b": 10.0,
        "c": 5.0,
        "d": 5.0,
        "e": 5.0,
    }
