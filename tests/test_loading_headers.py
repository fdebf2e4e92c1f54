"""A header that names two columns alike is refused with the names (issue 8, finding 8), in every format."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from pipeline.data.reading import duplicate_names, read_table
from pipeline.errors import DataError


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"ID,Income,Income\n1,2,3\n", "a.csv", "'Income' (columns 2 and 3)"),
        (b"ID\tIncome\tKids\t Income \n1\t2\t3\t4\n", "b.tsv", "'Income' (columns 2 and 4)"),
        (b"ID;A;A;A\n1;2;3;4\n", "c.csv", "'A' (columns 2, 3 and 4)"),
        (b"\xef\xbb\xbfID,ID,x\n1,2,3\n", "bom.csv", "'ID' (columns 1 and 2)"),
        (b'"ID","Na,me","Na,me"\n1,2,3\n', "quoted.csv", "'Na,me' (columns 2 and 3)"),
    ],
)
def test_duplicate_text_headers_are_refused_with_their_names(raw: bytes, name: str, message: str) -> None:
    with pytest.raises(DataError, match="names more than one column alike") as err:
        read_table(raw, name)
    assert message in str(err.value)
    assert str(err.value).startswith(name) and "\n" not in str(err.value)


def test_duplicate_xlsx_header_is_refused() -> None:
    buf = io.BytesIO()
    pd.DataFrame([[1, 2, 3, 4]], columns=["ID", "Spend", "Visits", "Spend2"]).rename(
        columns={"Spend2": "Spend"}
    ).to_excel(buf, index=False)
    with pytest.raises(DataError, match=r"'Spend' \(columns 2 and 4\)"):
        read_table(buf.getvalue(), "x.xlsx")


def test_a_real_dot_one_name_and_blank_headers_are_not_duplicates() -> None:
    frame = read_table(b"ID,X,X.1,,\n1,2,3,4,5\n", "ok.csv")
    assert list(frame.columns)[:3] == ["ID", "X", "X.1"]


def test_many_duplicates_are_summarised() -> None:
    header = ",".join(f"c{i},c{i}" for i in range(7))
    with pytest.raises(DataError, match="and 2 more"):
        read_table(f"{header}\n{','.join('1' * 14)}\n".encode(), "wide.csv")


def test_duplicate_names_known_answer() -> None:
    assert duplicate_names(["a", " a", "b", None, float("nan"), "", "", "b\ufeff", "c"]) == {"a": [1, 2]}
    assert duplicate_names(["\ufeffID", "ID"]) == {"ID": [1, 2]}
    assert duplicate_names([]) == {}
