"""The loader takes every dirty copy of the reference file, and names every bad input."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.data.loading import clean_marketing, parse_dates
from pipeline.data.reading import read_table
from pipeline.errors import DataError
from pipeline.features.definitions import MARKETING_COLUMNS
from pipeline.synthetic.customers import generate_sample, to_text_bytes


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A small generated table with the sample's dirt (blank rows, NaN incomes, outliers)."""
    frame, _ = generate_sample(200, seed=5)
    return frame


def load(raw: bytes, name: str = "data.csv"):
    return clean_marketing(read_table(raw, name), name)


def item(report, kind: str):
    hits = [i for i in report.items if i.kind == kind]
    return hits[0] if hits else None


def test_tab_and_comma_give_the_same_customers(table: pd.DataFrame) -> None:
    tab, _ = load(to_text_bytes(table, "\t"))
    comma, _ = load(to_text_bytes(table, ","))
    pd.testing.assert_frame_equal(tab, comma)
    assert len(tab) == 200


def test_semicolon_and_txt_suffix(table: pd.DataFrame) -> None:
    clean, _ = load(to_text_bytes(table, ";"), "export.txt")
    assert len(clean) == 200


def test_byte_order_mark_before_header(table: pd.DataFrame) -> None:
    raw = b"\xef\xbb\xbf" + to_text_bytes(table, "\t")
    frame = read_table(raw, "bom.csv")
    assert frame.columns[0] == "ID"
    clean, _ = clean_marketing(frame)
    assert clean["ID"].notna().all()


def test_thousand_blank_rows_are_dropped_and_counted(table: pd.DataFrame) -> None:
    raw = to_text_bytes(table, ",") + b",,,,,,,,,,,,,,,,,,,,,,,,,,,,\n" * 1000
    clean, report = load(raw)
    assert len(clean) == 200
    assert item(report, "blank_rows").count == 1000 + table["ID"].isna().sum()
    assert report.rows_read == len(table) + 1000


def test_missing_income_is_imputed_and_counted(table: pd.DataFrame) -> None:
    n_missing = int(table["Income"].iloc[:200].isna().sum())
    assert n_missing >= 1
    clean, report = load(to_text_bytes(table))
    assert clean["Income"].notna().all()
    assert item(report, "income_imputed").count == n_missing


def test_outliers_are_flagged_not_dropped(table: pd.DataFrame) -> None:
    clean, report = load(to_text_bytes(table))
    rich = clean.loc[clean["Income"] == 666_666]
    assert len(rich) == 1 and bool(rich["Is_Outlier"].iloc[0])
    old = clean.loc[clean["Year_Birth"] < 1901]
    assert len(old) == 3 and old["Is_Outlier"].all()
    assert "birth year" in old["Outlier_Reason"].iloc[0]
    incomes = table["Income"].dropna()
    q1, q3 = incomes.quantile([0.25, 0.75])
    expected = int((incomes > q3 + 3 * (q3 - q1)).sum())
    assert item(report, "income_outlier").count == expected >= 1
    assert item(report, "age_outlier").count == 3
    assert report.rows_kept == 200


def test_junk_categories_are_regrouped() -> None:
    frame, _ = generate_sample(300, seed=9)
    frame.loc[0, "Marital_Status"] = "YOLO"
    frame.loc[1, "Marital_Status"] = "Absurd"
    frame.loc[2, "Education"] = "2n Cycle"
    clean, report = load(to_text_bytes(frame))
    assert set(clean["Marital_Status"]) <= {"Married", "Together", "Single", "Divorced", "Widow", "Other"}
    assert "2n Cycle" not in set(clean["Education"])
    regrouped = [i for i in report.items if i.kind == "category_regrouped"]
    assert {i.column for i in regrouped} == {"Marital_Status", "Education"}
    marital = next(i for i in regrouped if i.column == "Marital_Status")
    assert marital.count == int(
        (~frame["Marital_Status"].iloc[:300].isin(["Married", "Together", "Single", "Divorced", "Widow"])).sum()
    )


def test_constant_columns_are_dropped(table: pd.DataFrame) -> None:
    clean, report = load(to_text_bytes(table))
    assert "Z_CostContact" not in clean and "Z_Revenue" not in clean
    assert set(item(report, "constant_columns").examples) == {"Z_CostContact", "Z_Revenue"}


def test_xlsx_and_parquet(table: pd.DataFrame) -> None:
    real = table.dropna(how="all")
    buf = io.BytesIO()
    real.to_excel(buf, index=False)
    xl, _ = load(buf.getvalue(), "customers.xlsx")
    pq_buf = io.BytesIO()
    real.astype({"Dt_Customer": str}).to_parquet(pq_buf, index=False)
    pq, _ = load(pq_buf.getvalue(), "customers.parquet")
    text, _ = load(to_text_bytes(table))
    assert len(xl) == len(pq) == len(text) == 200
    np.testing.assert_allclose(xl["MntWines"], text["MntWines"])
    assert list(pq["ID"]) == list(text["ID"])


def test_iso_dates_and_mixed_formats(table: pd.DataFrame) -> None:
    iso = table.copy()
    iso["Dt_Customer"] = pd.to_datetime(iso["Dt_Customer"], format="%d-%m-%Y").dt.strftime("%Y-%m-%d")
    a, _ = load(to_text_bytes(iso))
    b, _ = load(to_text_bytes(table))
    assert (a["Dt_Customer"] == b["Dt_Customer"]).all()
    parsed, fmt = parse_dates(pd.Series(["04-09-2012", "2013-03-08", "21/08/2013", None]))
    assert fmt.endswith("+mixed")
    assert list(parsed.dt.month.iloc[:3]) == [9, 3, 8]


def test_us_short_dates_are_read_month_first(table: pd.DataFrame) -> None:
    """A public copy writes enrolment dates as m/d/yy ("6/16/14")."""
    us = table.copy()
    dates = pd.to_datetime(us["Dt_Customer"], format="%d-%m-%Y")
    us["Dt_Customer"] = [f"{d.month}/{d.day}/{d.year % 100:02d}" if pd.notna(d) else None for d in dates]
    a, _ = load(to_text_bytes(us))
    b, _ = load(to_text_bytes(table))
    assert (a["Dt_Customer"] == b["Dt_Customer"]).all()


def test_non_numeric_values_are_counted_with_examples(table: pd.DataFrame) -> None:
    dirty = table.astype({"MntFruits": object}).copy()
    dirty.loc[3, "MntFruits"] = "unknown"
    dirty.loc[4, "MntFruits"] = "lots"
    clean, report = load(to_text_bytes(dirty))
    bad = item(report, "not_a_number")
    assert bad.column == "MntFruits" and bad.count == 2
    assert "'lots'" in bad.message
    assert np.isnan(clean.loc[3, "MntFruits"])


def test_currency_formatted_numbers_are_read(table: pd.DataFrame) -> None:
    money = table.astype({"Income": object}).copy()
    money.loc[0, "Income"] = "$58,138.00"
    clean, report = load(to_text_bytes(money, "\t"))
    assert clean.loc[0, "Income"] == 58_138.0
    assert item(report, "not_a_number") is None


# --- bad input: one clear message each ---------------------------------------


def test_missing_columns_are_listed_with_closest_names(table: pd.DataFrame) -> None:
    renamed = table.rename(columns={"MntWines": "Mnt_Wine", "Response": "Respone"}).drop(columns=["NumWebPurchases"])
    with pytest.raises(DataError) as err:
        load(to_text_bytes(renamed), "shop.csv")
    msg = str(err.value)
    assert "shop.csv is missing 3 required column(s)" in msg
    assert "MntWines (closest: Mnt_Wine)" in msg
    assert "Response (closest: Respone)" in msg
    assert "NumWebPurchases" in msg


def test_unparseable_dates_name_example_rows(table: pd.DataFrame) -> None:
    bad = table.copy()
    bad["Dt_Customer"] = "soon"
    with pytest.raises(DataError, match=r"Dt_Customer cannot be parsed as dates \(row 2: 'soon'"):
        load(to_text_bytes(bad))


def test_all_blank_rows_means_no_customers() -> None:
    header = "\t".join(MARKETING_COLUMNS) + "\n"
    raw = (header + "\t" * (len(MARKETING_COLUMNS) - 1) + "\n").encode() * 1
    with pytest.raises(DataError, match="no customer rows"):
        load(raw)


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"   \n\n", "blank.csv", "empty"),
        (b"\x00\x01\x02\x03binary\x00junk" * 50, "junk.csv", "binary data"),
        (b"just some words\nand more words\n", "notes.txt", "does not look like a table"),
        (b"PK\x03\x04garbage that is not a zip" * 10, "book.xlsx", "not a readable XLSX"),
        (b"PAR1nonsense", "x.parquet", "not a readable Parquet"),
        (b"not excel at all", "book.xlsx", "not a valid XLSX"),
    ],
)
def test_files_that_are_not_tables(raw: bytes, name: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_table(raw, name)


def test_spreadsheet_with_title_row_above_header(table: pd.DataFrame) -> None:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        table.dropna(how="all").to_excel(writer, index=False, startrow=2)
        writer.sheets["Sheet1"]["A1"] = "Customer export Q3"
    with pytest.raises(DataError, match="first row must hold the column names"):
        read_table(buf.getvalue(), "export.xlsx")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_fail_only_with_data_error(raw: bytes) -> None:
    try:
        clean_marketing(read_table(raw, "fuzz.csv"), "fuzz.csv")
    except DataError as err:
        assert str(err)
        assert "\n" not in str(err)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["12-01-2013", "2013-01-12", "", "x", "31/12/2012", "1e9"]), min_size=1, max_size=20))
def test_date_parsing_never_crashes(values: list[str]) -> None:
    parsed, _ = parse_dates(pd.Series(values, dtype="string"))
    assert len(parsed) == len(values)
