"""Segment-assignment exports (issue 10): the table, its summary and the three formats, on a hand-made model.

The tiny model clusters two features with no scaling (identity), so every
distance is hand-computable: segment "low" is centred at (0, 0), "high" at
(10, 0).  A customer at (2, 0) in "low" is 2 from its centre and 8 from the
other: confidence 1 - 2/8 = 0.75.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from pipeline.data.export import EXPORT_FORMATS, export_bytes, export_format, sheet_names, write_export
from pipeline.errors import DataError
from pipeline.segmentation.assignments import (
    COLUMNS,
    NO_SPEND_MODEL,
    NOT_MEASURED_CUSTOMER,
    AssignmentScope,
    artifact_assignments,
    assignment_export,
    recommended_action,
)
from pipeline.segmentation.model import FeatureBuilder
from pipeline.segmentation.simulate import assignment_confidence, centre_distances
from pipeline.store.artifacts import LoadedArtifact

#: OWASP's triggers, restated so the test does not trust the module's constant.
OWASP = ("=", "+", "-", "@", "\t", "\r")
FEATURES = ("Customer_Value", "Purchase_Frequency")
LONG_NAME = "High [value] customers of the very long name kind"


def starts_like_formula(text: str) -> bool:
    return bool(text) and (text[0] in OWASP or text.lstrip()[:1] in OWASP)


def tiny_artifact(ids: list[str] | None = None, names: tuple[str, str] = ("=Low/Value", LONG_NAME)) -> LoadedArtifact:
    """Four customers at x = 0, 2, 10, 6 (y = 0); the first two in "low", the others in "high"."""
    customers = pd.DataFrame(
        {
            "ID": ids or ["=cmd", "b", "c", "d"],
            "Customer_Value": [0.0, 2.0, 10.0, 6.0],
            "Purchase_Frequency": [0.0, 0.0, 0.0, 0.0],
            "Segment": ["low", "low", "high", "high"],
            "p_alive": [0.9, 0.3, np.nan, 0.2],
            "expected_clv": [100.0, 50.0, np.nan, np.nan],
        }
    )
    pipe = Pipeline(
        [
            ("features", FeatureBuilder(features=FEATURES)),
            ("impute", SimpleImputer(strategy="median")),
            ("scale", FunctionTransformer()),
            ("cluster", KMeans(n_clusters=2, n_init=1, random_state=0)),
        ]
    ).fit(customers)
    manifest = {
        "artifact_id": "tiny-0123456789-abcdef0123",
        "data": {"name": "tiny.csv", "as_of": "2024-03-31"},
        "features": [{"name": f} for f in FEATURES],
        "segments": [
            {"label": 0, "key": "low", "name": names[0], "objective": "Grow", "actions": ["Call", "@mail"]},
            {"label": 1, "key": "high", "name": names[1], "objective": "Keep", "actions": ["VIP"]},
        ],
        "churn_model": {"model": "bg/nbd", "inactive_threshold": 0.5, "how_measured": "BG/NBD of each customer."},
    }
    bundle = {"pipeline": pipe, "centroids_scaled": np.array([[0.0, 0.0], [10.0, 0.0]])}
    return LoadedArtifact(directory=Path("tiny"), manifest=manifest, bundle=bundle, customers=customers)


# --- the table ------------------------------------------------------------------------------------


def test_confidence_known_answers() -> None:
    d = centre_distances(np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [6.0, 0.0], [2.0, 0.0]]), [[0, 0], [10, 0]])
    conf = assignment_confidence(d, np.array([0, 0, 1, 1, 1]))
    # at the centre, 1 - 2/8, at the centre, 1 - 4/6, and assigned to the farther centre (clipped to 0)
    np.testing.assert_allclose(conf, [1.0, 0.75, 1.0, 1 / 3, 0.0])
    assert assignment_confidence(np.array([[3.0]]), np.array([0])).tolist() == [1.0]  # one segment


def test_table_known_answers() -> None:
    table = artifact_assignments(tiny_artifact())
    assert list(table.columns) == [*COLUMNS, *FEATURES]
    assert table["ID"].tolist() == ["=cmd", "b", "c", "d"]  # neutralised only when written
    assert table["Segment_Name"].tolist() == ["=Low/Value", "=Low/Value", LONG_NAME, LONG_NAME]
    np.testing.assert_allclose(table["Assignment_Confidence"], [1.0, 0.75, 1.0, 1 / 3])
    assert table["p_alive"].tolist()[:2] == [0.9, 0.3] and math.isnan(table["p_alive"][2])
    reasons = [None if pd.isna(v) else v for v in table["Not_Measured_Reason"]]
    assert reasons == [None, None, NOT_MEASURED_CUSTOMER, NO_SPEND_MODEL]
    assert table["Recommended_Action"].tolist()[1:3] == ["Grow: Call; @mail", "Keep: VIP"]
    assert set(table["Model_Version"]) == {"tiny-0123456789-abcdef0123"}
    assert set(table["As_Of"]) == {dt.date(2024, 3, 31)}


def test_without_churn_model_the_reason_is_stated() -> None:
    art = tiny_artifact()
    art.manifest["churn_model"] = {"model": None, "reason": "not measured: the data has no enrolment date"}
    art.customers["p_alive"] = np.nan
    art.customers["expected_clv"] = np.nan
    table = artifact_assignments(art)
    assert table["Not_Measured_Reason"].tolist() == ["not measured: the data has no enrolment date"] * 4
    export = assignment_export(art.manifest, table)
    assert export.sheets[0].notes[-1] == "p_alive and expected_clv: not measured: the data has no enrolment date."
    assert export.sheets[0].frame["Share_Likely_Inactive"].isna().all()


def test_recommended_action_from_strategy() -> None:
    assert recommended_action({"objective": "Grow", "actions": ["a", "b"]}) == "Grow: a; b"
    assert recommended_action({"objective": "Grow", "actions": []}) == "Grow"
    assert recommended_action({"actions": ["a"]}) == "a"


def test_summary_known_answers() -> None:
    art = tiny_artifact()
    export = assignment_export(art.manifest, artifact_assignments(art))
    summary = export.sheets[0].frame.set_index("Segment_Key")
    assert summary.index.tolist() == ["high", "low"]  # 2 customers each: by key
    low, high = summary.loc["low"], summary.loc["high"]
    assert (low["Customers"], low["Share_of_Customers"]) == (2, 0.5)
    assert low["Share_of_Spend"] == pytest.approx(2 / 18) and high["Share_of_Spend"] == pytest.approx(16 / 18)
    assert low["Mean_Confidence"] == pytest.approx(0.875)
    assert (low["Measured_Customers"], low["Share_Likely_Inactive"], low["Mean_p_alive"]) == (2, 0.5, 0.6)
    assert (low["Expected_CLV"], low["Value_at_Risk"]) == (150.0, 50.0)
    assert (high["Measured_Customers"], high["Share_Likely_Inactive"], high["Mean_p_alive"]) == (1, 1.0, 0.2)
    assert math.isnan(high["Expected_CLV"]) and math.isnan(high["Value_at_Risk"])
    assert [s.name for s in export.sheets] == ["Summary", "All customers", LONG_NAME, "=Low/Value"]


def test_scope_keeps_only_its_segments_and_shares_are_of_the_file() -> None:
    art = tiny_artifact()
    export = assignment_export(art.manifest, artifact_assignments(art), AssignmentScope(("low",), "=Low/Value"))
    assert export.table["ID"].tolist() == ["=cmd", "b"]
    assert export.sheets[0].frame["Share_of_Customers"].tolist() == [1.0]
    assert [s.name for s in export.sheets] == ["Summary", "=Low/Value"]  # its sheet holds every customer
    assert export.sheets[0].notes[0].startswith("=Low/Value: 2 customers of tiny.csv, as of 2024-03-31")


# --- the formats ----------------------------------------------------------------------------------


def tiny_export():
    art = tiny_artifact()
    return assignment_export(art.manifest, artifact_assignments(art))


def test_registry_and_refusal() -> None:
    assert list(EXPORT_FORMATS) == ["csv", "xlsx", "parquet"]
    assert [f.suffix for f in EXPORT_FORMATS.values()] == [".csv", ".xlsx", ".parquet"]
    assert export_format(".XLSX").key == "xlsx"
    with pytest.raises(DataError, match="Unknown export format 'pdf'; choose one of csv, xlsx, parquet"):
        export_bytes(tiny_export(), "pdf")


def test_csv_known_answer() -> None:
    lines = export_bytes(tiny_export(), "csv").decode().split("\r\n")
    assert lines[0] == ",".join([*COLUMNS, *FEATURES])
    assert lines[1] == (
        "'=cmd,low,'=Low/Value,1.0,0.9,100.0,,Grow: Call; @mail,tiny-0123456789-abcdef0123,2024-03-31,0.0,0.0"
    )
    assert lines[4].startswith(f"d,high,{LONG_NAME},0.33333333333333337,0.2,,{NO_SPEND_MODEL},Keep: VIP,")


def test_xlsx_sheets_formats_and_neutralisation() -> None:
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(tiny_export(), "xlsx")))
    assert book.sheetnames == ["Summary", "All customers", "High -value- customers of the v", "=Low-Value"]
    sheet = book["All customers"]
    header = [c.value for c in sheet[1]]
    assert header == [*COLUMNS, *FEATURES]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b and sheet.auto_filter.ref == "A1:L5"
    col = {name: i + 1 for i, name in enumerate(header)}
    row2 = {name: sheet.cell(row=2, column=i) for name, i in col.items()}
    assert row2["ID"].value == "'=cmd" and row2["ID"].data_type == "s"
    assert row2["Segment_Name"].value == "'=Low/Value"
    assert row2["Assignment_Confidence"].number_format == "0.0%" and row2["p_alive"].number_format == "0.0%"
    assert row2["expected_clv"].number_format == "#,##0.00" and row2["Customer_Value"].number_format == "#,##0.00"
    assert row2["As_Of"].number_format == "yyyy-mm-dd" and row2["As_Of"].value == dt.datetime(2024, 3, 31)
    assert sheet.cell(row=4, column=col["p_alive"]).value is None  # not measured: an empty cell
    summary = book["Summary"]
    rows = list(summary.iter_rows(values_only=True))
    assert rows[0][:4] == ("Segment_Key", "Segment_Name", "Customers", "Share_of_Customers")
    assert rows[1][:3] == ("high", LONG_NAME, 2) and rows[2][:3] == ("low", "'=Low/Value", 2)
    assert summary.cell(row=2, column=4).number_format == "0.0%"
    assert summary.cell(row=3, column=10).number_format == "#,##0.00"  # low; high has no CLV (empty)
    assert rows[4][0].startswith("All customers: 4 customers of tiny.csv")  # notes under the table
    assert [r[0] for r in book["=Low-Value"].iter_rows(min_row=2, values_only=True)] == ["'=cmd", "b"]


def test_parquet_round_trip() -> None:
    raw = export_bytes(tiny_export(), "parquet")
    table = pq.read_table(io.BytesIO(raw))
    assert str(table.schema.field("As_Of").type) == "date32[day]"
    assert str(table.schema.field("Assignment_Confidence").type) == "double"
    back = table.to_pandas()
    assert back["ID"].tolist() == ["'=cmd", "b", "c", "d"]
    assert back["Segment_Name"].tolist()[0] == "'=Low/Value"
    np.testing.assert_allclose(back["Assignment_Confidence"], [1.0, 0.75, 1.0, 1 / 3])
    assert back["As_Of"].tolist()[0] == dt.date(2024, 3, 31)


def test_sheet_names_follow_excel_rules() -> None:
    got = sheet_names(["a/b", "A-B", "History", "'quoted'", "   ", "x" * 40, "X" * 40, "[ok]:*?\\"])
    assert got == ["a-b", "A-B (2)", "History (sheet)", "quoted", "Sheet", "x" * 31, "X" * 27 + " (2)", "-ok-----"]
    assert all(len(n) <= 31 for n in got) and len({n.lower() for n in got}) == len(got)


def test_write_export_refuses_unknown_suffix_and_keeps_old_file(tmp_path: Path) -> None:
    out = tmp_path / "keep.csv"
    out.write_bytes(b"old")
    with pytest.raises(DataError, match=r"must end in \.csv, \.xlsx, \.parquet"):
        write_export(tiny_export(), tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]
    write_export(tiny_export(), out)
    assert out.read_bytes().startswith(b"ID,Segment_Key")


# --- property: no exported text cell starts like a formula, in any format ----------------------------

texts = st.text(min_size=1, max_size=10)


def all_text_cells(key: str, raw: bytes) -> list[str]:
    if key == "csv":
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
        return [*frame.columns, *frame.to_numpy().ravel().tolist()]
    if key == "parquet":
        frame = pd.read_parquet(io.BytesIO(raw))
        return [*frame.columns, *(v for v in frame.to_numpy().ravel() if isinstance(v, str))]
    book = openpyxl.load_workbook(io.BytesIO(raw))
    return [c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


@given(st.lists(texts, min_size=4, max_size=4, unique=True), texts, texts)
@settings(max_examples=25, deadline=None)
def test_property_no_text_cell_starts_like_a_formula(ids: list[str], low: str, high: str) -> None:
    art = tiny_artifact(ids=ids, names=(low, high + "x" if high == low else high))
    export = assignment_export(art.manifest, artifact_assignments(art))
    for key in EXPORT_FORMATS:
        for cell in all_text_cells(key, export_bytes(export, key)):
            assert not starts_like_formula(cell), (key, cell)


def test_xlsx_refuses_more_rows_than_a_sheet_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.data.export as export

    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 4)  # header + 3 rows; the file has 4 customers
    with pytest.raises(DataError, match=r"^4 rows do not fit in an Excel sheet \(3 at most\); export CSV or Parquet"):
        export_bytes(tiny_export(), "xlsx")
    assert export_bytes(tiny_export(), "csv").count(b"\r\n") == 5


def test_confidence_in_chunks_equals_in_one_go(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.segmentation.assignments as assignments

    whole = artifact_assignments(tiny_artifact())["Assignment_Confidence"].tolist()
    monkeypatch.setattr(assignments, "CHUNK_ROWS", 3)  # 4 customers: blocks of 3 and 1
    assert artifact_assignments(tiny_artifact())["Assignment_Confidence"].tolist() == whole
