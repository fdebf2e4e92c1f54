"""Bring your own data: every refused input says what is wrong, in the CLI and the UI alike (issue #5)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.data.coerce import parse_timestamps
from pipeline.data.ingest import require_valid, validate_upload
from pipeline.data.mapping import Mapping
from pipeline.errors import DataError
from pipeline.segmentation.training import load_dataset
from pipeline.synthetic.customers import to_text_bytes
from pipeline.synthetic.inputs import customer_table_bytes, generate_customer_table, generate_transactions
from tests.ingest_cases import CRM, ONLINE_RETAIL, csv_bytes


def refused(raw: bytes, name: str, mapping: Mapping | None = None, k: int = 4) -> str:
    v = validate_upload(raw, name, mapping, Settings(k=k))
    assert not v.ok and v.problems
    with pytest.raises(DataError) as err:
        require_valid(v)
    assert str(err.value) == " ".join(v.problems)
    return str(err.value)


def test_refused_fewer_customers_than_segments() -> None:
    table = generate_customer_table(40, 1).head(3)
    assert "has 3 customer(s), fewer than the 4 segments requested" in refused(
        to_text_bytes(table, ","), "few.csv", CRM
    )


def test_refused_constant_feature() -> None:
    table = generate_customer_table(60, 1).dropna(subset=["Client Ref"]).assign(**{"Promo responses": 0})
    message = refused(to_text_bytes(table, ","), "flat.csv", CRM)
    assert "the feature Campaign_Response has the same value for every customer (0)" in message
    assert "Leave it out" in message


def test_refused_feature_with_no_values() -> None:
    table = generate_customer_table(60, 1).dropna(subset=["Client Ref"]).assign(**{"Promo responses": None})
    assert "the feature Campaign_Response has no values" in refused(to_text_bytes(table, ","), "empty.csv", CRM)


def test_refused_no_id_column() -> None:
    raw = customer_table_bytes(60, 1)
    assert "no customer ID column is mapped" in refused(raw, "crm.csv", CRM.replace(id_column=None))


def test_refused_unparseable_dates_with_examples() -> None:
    table = generate_customer_table(60, 1).dropna(subset=["Client Ref"]).assign(**{"Member since": "soon"})
    message = refused(to_text_bytes(table, ","), "dates.csv", CRM)
    assert "the date column Member since cannot be read as dates (row 2: 'soon')" in message


def test_refused_text_where_numbers_are_expected_with_examples() -> None:
    table = generate_customer_table(60, 1).dropna(subset=["Client Ref"]).assign(**{"Total Spend": "lots"})
    message = refused(to_text_bytes(table, ","), "types.csv", CRM)
    assert "the column Total Spend holds text where numbers are expected (row 2: 'lots')" in message


def test_refused_log_with_unreadable_timestamps() -> None:
    log = generate_transactions(400, 2).assign(InvoiceDate="yesterday")
    message = refused(csv_bytes(log), "log.csv", ONLINE_RETAIL)
    assert "the timestamp column InvoiceDate cannot be read as dates (row 2: 'yesterday')" in message


def test_refused_missing_mapped_column_names_the_closest() -> None:
    message = refused(customer_table_bytes(30, 1), "crm.csv", CRM.replace(recency_column="Days since last ordr"))
    assert "has no column(s) named Days since last ordr (closest: Days since last order)" in message


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"", "empty.csv", "empty.csv is empty."),
        (b"\x00\x01\x02junk\xff" * 200, "junk.csv", "binary data"),
        (b"customer_id,spend,orders\n", "header.csv", "has a header row but no data rows"),
        (b"customer_id,spend,orders\n1,10,2\n", "one.csv", "has only one data row"),
        (b"just some words\nand more\n", "prose.txt", "does not look like a table"),
    ],
)
def test_refused_files_each_with_its_message(raw: bytes, name: str, message: str) -> None:
    assert message in refused(raw, name)


def test_refused_spreadsheet_with_merged_header_rows(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Customer report 2024"])
    ws.merge_cells("A1:D1")
    ws.append(["customer_id", "spend", "orders", "joined"])
    for i in range(20):
        ws.append([i, 10 * i, i % 5, "2020-01-01"])
    buf = io.BytesIO()
    wb.save(buf)
    assert "most columns have no header" in refused(buf.getvalue(), "report.xlsx")


def test_spreadsheet_log_with_real_dates_trains(tmp_path: Path) -> None:
    log = generate_transactions(600, 9)
    xlsx = tmp_path / "log.xlsx"
    frame = log.assign(
        InvoiceDate=parse_timestamps(log["InvoiceDate"]).values,
        Quantity=log["Quantity"].astype(int),
        UnitPrice=log["UnitPrice"].astype(float),
        CustomerID=pd.to_numeric(log["CustomerID"]),
    )
    frame.to_excel(xlsx, index=False)
    ds = load_dataset(xlsx, Settings(models_dir=tmp_path))
    assert ds.kind == "transactions" and ds.mapping == ONLINE_RETAIL
    bought = frame[
        frame["InvoiceDate"].notna()
        & frame["CustomerID"].notna()
        & ~frame["InvoiceNo"].str.startswith("C")
        & (frame["Quantity"] > 0)
    ]
    assert sorted(ds.customers["ID"]) == sorted(str(int(v)) for v in bought["CustomerID"].unique())
