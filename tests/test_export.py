"""The one safe writer: formula-leading text is neutralised in CSV, XLSX and Parquet; numbers stay numbers."""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.data.export import TableExport, csv_bytes, export_bytes, is_dangerous, neutralise, write_table
from pipeline.errors import DataError

#: OWASP's list, restated here so that the test does not trust the module's constant.
OWASP = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(text: str) -> bool:
    """The property: the first character, or the first after white space, is an OWASP trigger."""
    return bool(text) and (text[0] in OWASP or text.lstrip()[:1] in OWASP)


def read_csv_text(raw: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)


def read_xlsx(path: Path) -> list[tuple]:
    return list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))


# --- known answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
        ("-5", "'-5"),
        ("=1+2", "'=1+2"),
        ("+33 1 23", "'+33 1 23"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("\uff1dcmd", "'\uff1dcmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        ("'=already", "'=already"),
    ],
)
def test_known_text_cells(cell: str, expected: str) -> None:
    frame = pd.DataFrame({"name": [cell]})
    assert neutralise(frame)["name"].tolist() == [expected]
    assert read_csv_text(csv_bytes(frame))["name"].tolist() == [expected]


def test_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"v": [-5.0, 1.5, -0.25], "n": [-5, 0, 7], "b": [True, False, True]})
    out = neutralise(frame)
    pd.testing.assert_frame_equal(out, frame)
    assert csv_bytes(frame) == b"v,n,b\r\n-5.0,-5,True\r\n1.5,0,False\r\n-0.25,7,True\r\n"


def test_mixed_column_keeps_numbers_and_neutralises_text() -> None:
    frame = pd.DataFrame({"m": [-5, "-5", "@x", 2.5, None]})
    assert neutralise(frame)["m"].tolist() == [-5, "'-5", "'@x", 2.5, None]
    assert csv_bytes(frame) == b"m\r\n-5\r\n'-5\r\n'@x\r\n2.5\r\n\"\"\r\n"  # an empty row is quoted


def test_headers_and_categories_are_neutralised() -> None:
    frame = pd.DataFrame({"=evil": pd.Categorical(["+a", "b", "+a"]), "ok": [1, 2, 3]})
    out = neutralise(frame)
    assert list(out.columns) == ["'=evil", "ok"]
    assert out["'=evil"].tolist() == ["'+a", "b", "'+a"]
    assert csv_bytes(frame).decode().splitlines()[0] == "'=evil,ok"


def test_input_frame_is_not_modified() -> None:
    frame = pd.DataFrame({"name": ["=x"], "=h": [1]})
    neutralise(frame)
    csv_bytes(frame)
    assert frame.columns.tolist() == ["name", "=h"] and frame["name"].tolist() == ["=x"]


def test_a_quote_or_separator_cannot_open_a_new_cell() -> None:
    frame = pd.DataFrame({"a": ['x",=cmd', "y\n=cmd", "z\r=cmd"], "b": [1, 2, 3]})
    back = read_csv_text(csv_bytes(frame))
    assert back["a"].tolist() == ['x",=cmd', "y\n=cmd", "z\r=cmd"] and back["b"].tolist() == ["1", "2", "3"]


def test_xlsx_known_answers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x","y")', "-5", "ok", "bad\x01char"], "v": [-5.0, 1.0, 2.5, 3.0]}
    )
    rows = read_xlsx(write_table(frame, tmp_path / "t.xlsx"))
    assert rows[0] == ("name", "v")
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("http://x","y")', "'-5", "ok", "bad\ufffdchar"]
    assert [r[1] for r in rows[1:]] == [-5, 1, 2.5, 3]
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert all(sheet.cell(row=i, column=1).data_type == "s" for i in range(2, 6))  # text, never a formula


def test_parquet_known_answers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"name": ["=1+2", "ok"], "v": [-5.0, 2.0], "mix": [-5, "x"]})
    back = pd.read_parquet(write_table(frame, tmp_path / "t.parquet"))
    assert back["name"].tolist() == ["'=1+2", "ok"]
    assert back["v"].tolist() == [-5.0, 2.0]
    assert back["mix"].tolist() == ["'-5", "x"]  # a Parquet column has one type: mixed becomes text, then safe


@pytest.mark.parametrize("name", ["out.txt", "out", "out.csv.gz", "out.xls"])
def test_unknown_suffix_is_refused_clearly(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError, match=r"must end in \.csv, \.xlsx, \.parquet"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert not (tmp_path / name).exists()


def test_suffix_is_case_insensitive_and_folders_are_created(tmp_path: Path) -> None:
    path = write_table(pd.DataFrame({"a": ["=x"]}), tmp_path / "deep" / "OUT.CSV")
    assert path.read_bytes() == b"a\r\n'=x\r\n"


def test_is_dangerous_boundaries() -> None:
    assert not is_dangerous("")
    assert not is_dangerous("   ")
    assert not is_dangerous("x-")
    assert is_dangerous(" -")


# --- properties ---------------------------------------------------------------------------------

texts = st.text(max_size=12)
finite = st.floats(allow_nan=False, allow_infinity=False)
whole = st.integers(min_value=-(2**53), max_value=2**53)
rows = st.lists(st.tuples(texts, finite, whole), min_size=1, max_size=8)
#: Excel's numbers stop at 9.99999999999999e307; near the float maximum 16 digits round up to infinity.
excel_rows = st.lists(st.tuples(texts, st.floats(min_value=-1e300, max_value=1e300), whole), min_size=1, max_size=8)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def frame_of(data: list[tuple[str, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": pd.Series([r[0] for r in data], dtype=object),
            "real": pd.Series([r[1] for r in data], dtype="float64"),
            "whole": pd.Series([r[2] for r in data], dtype="int64"),
        }
    )


@given(rows)
@settings(max_examples=200, deadline=None)
def test_property_csv(data: list[tuple[str, float, int]]) -> None:
    frame = frame_of(data)
    raw = csv_bytes(frame)
    as_text = read_csv_text(raw)
    for original, cell in zip(frame["text"], as_text["text"], strict=True):
        assert not starts_like_formula(cell)
        assert cell == ("'" + original if starts_like_formula(original) or is_dangerous(original) else original)
    typed = pd.read_csv(io.BytesIO(raw), float_precision="round_trip")
    assert typed["real"].tolist() == frame["real"].tolist()
    assert typed["whole"].tolist() == frame["whole"].tolist()


@given(excel_rows)
@SLOW
def test_property_xlsx(tmp_path: Path, data: list[tuple[str, float, int]]) -> None:
    frame = frame_of(data)
    found = read_xlsx(write_table(frame, tmp_path / "p.xlsx"))
    assert found[0] == ("text", "real", "whole")
    for (text, real, whole), original in zip(found[1:], data, strict=True):
        assert text is None or not starts_like_formula(text)
        # openpyxl writes 16 significant digits ("%.16g"); Excel itself shows 15.
        assert real == float(f"{original[1]:.16g}")
        assert math.isclose(real, original[1], rel_tol=1e-15, abs_tol=0.0)
        assert whole == original[2]


@given(rows)
@SLOW
def test_property_parquet(tmp_path: Path, data: list[tuple[str, float, int]]) -> None:
    frame = frame_of(data)
    back = pd.read_parquet(write_table(frame, tmp_path / "p.parquet"))
    for original, cell in zip(frame["text"], back["text"], strict=True):
        assert not starts_like_formula(cell)
        assert cell.removeprefix("'") == original or cell == original
    assert back["real"].tolist() == frame["real"].tolist()
    assert back["whole"].tolist() == frame["whole"].tolist()


@given(st.lists(st.one_of(texts, finite, whole, st.none()), min_size=1, max_size=10))
@settings(max_examples=200, deadline=None)
def test_property_mixed_column_neutralises_only_text(values: list) -> None:
    out = neutralise(pd.DataFrame({"m": pd.Series(values, dtype=object)}))["m"].tolist()
    for before, after in zip(values, out, strict=True):
        if isinstance(before, str):
            assert not starts_like_formula(after)
            assert after in (before, "'" + before)
        else:
            assert after is before or (after == before)


def test_string_dtype_and_timezones(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "s": pd.array(["=1", None, "ok"], dtype="string"),
            "t": pd.to_datetime(["2024-01-02 03:04", "2024-05-06 07:08", None]).tz_localize("UTC"),
        }
    )
    out = neutralise(frame)
    assert str(out["s"].dtype) == "string" and out["s"].tolist()[::2] == ["'=1", "ok"] and out["s"].isna()[1]
    rows = read_xlsx(write_table(frame, tmp_path / "t.xlsx"))
    assert rows[1][0] == "'=1" and rows[1][1].isoformat() == "2024-01-02T03:04:00"
    assert pd.read_parquet(write_table(frame, tmp_path / "t.parquet"))["s"].tolist()[0] == "'=1"


# ---------------------------------------------------------------- the CSV written in pieces


@contextlib.contextmanager
def chunk_rows(name: str, rows: int) -> Iterator[None]:
    """``pipeline.data.export.<name>`` (a piece's rows) set to ``rows`` inside the block (hypothesis tests
    cannot take the function-scoped ``monkeypatch``)."""
    from pipeline.data import export as export_module

    saved = getattr(export_module, name)
    setattr(export_module, name, rows)
    try:
        yield
    finally:
        setattr(export_module, name, saved)


@given(rows, st.integers(min_value=1, max_value=4))
@settings(max_examples=100, deadline=None)
def test_property_csv_written_in_pieces_is_the_whole_csv(data: list[tuple[str, float, int]], chunk: int) -> None:
    from pipeline.data import export as export_module

    frame = frame_of(data)
    frame["segment"] = pd.Categorical([("=A" if i % 2 else "B") for i in range(len(frame))])
    frame["as_of"] = pd.to_datetime(["2024-01-31"] * len(frame))
    whole = csv_bytes(frame, date_format="%Y-%m-%d")
    buf = io.BytesIO()
    with chunk_rows("CSV_CHUNK_ROWS", chunk):
        export_module._csv_stream(export_module.TableExport(frame), buf)
    assert buf.getvalue() == whole


def test_write_export_streams_csv_with_one_header_and_every_row(tmp_path: Path, monkeypatch) -> None:
    from pipeline.data import export as export_module

    monkeypatch.setattr(export_module, "CSV_CHUNK_ROWS", 2)
    frame = pd.DataFrame({"ID": [1, 2, 3, 4, 5], "Note": ["ok", "=cmd()", "+1", "x", None]})
    path = export_module.write_export(export_module.TableExport(frame), tmp_path / "out.csv")
    assert path.read_bytes() == b"ID,Note\r\n1,ok\r\n2,'=cmd()\r\n3,'+1\r\n4,x\r\n5,\r\n"
    assert path.read_bytes() == export_module.export_bytes(export_module.TableExport(frame), "csv")
    empty = export_module.write_export(export_module.TableExport(frame.iloc[:0]), tmp_path / "empty.csv")
    assert empty.read_bytes() == b"ID,Note\r\n"


# ---------------------------------------------------------------- the Parquet file written in row groups

#: A cell of an object column: text (some formula-like), a whole number, or missing.
cells = st.one_of(texts, whole, st.none())


@given(rows, st.lists(cells, min_size=8, max_size=8), st.integers(min_value=1, max_value=4))
@settings(max_examples=100, deadline=None)
def test_property_parquet_written_in_pieces_reads_back_as_written_at_once(
    data: list[tuple[str, float, int]], mixed: list[Any], chunk: int
) -> None:
    """Same columns, types and values as the table written in one go (each piece is converted on its own)."""
    from pipeline.data import export as export_module

    frame = frame_of(data)
    frame["mixed"] = pd.Series(mixed[: len(frame)], dtype=object)  # text and numbers: one type, decided on the whole
    frame["late"] = pd.Series([None] * (len(frame) - 1) + ["=late"], dtype=object)  # text only in the last piece
    frame["segment"] = pd.Categorical([("=A" if i % 2 else "B") for i in range(len(frame))])
    frame["as_of"] = pd.to_datetime(["2024-01-31"] * len(frame))
    at_once = io.BytesIO()
    export_module._parquet_ready(frame).to_parquet(at_once, index=False)
    pieces = io.BytesIO()
    with chunk_rows("PARQUET_CHUNK_ROWS", chunk):
        export_module._parquet_stream(export_module.TableExport(frame), pieces)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(io.BytesIO(pieces.getvalue())).num_row_groups == -(-len(frame) // chunk)
    back, expected = pd.read_parquet(io.BytesIO(pieces.getvalue())), pd.read_parquet(at_once)
    pd.testing.assert_frame_equal(back, expected)
    for column in ("text", "mixed", "late", "segment"):  # text cells only: a number column may hold -1
        assert not any(starts_like_formula(v) for v in back[column].dropna() if isinstance(v, str))


def test_parquet_of_an_empty_table_keeps_its_columns() -> None:
    frame = pd.DataFrame({"ID": pd.Series([], dtype="int64"), "Note": pd.Series([], dtype=object)})
    back = pd.read_parquet(io.BytesIO(export_bytes(TableExport(frame), "parquet")))
    assert list(back.columns) == ["ID", "Note"] and len(back) == 0
