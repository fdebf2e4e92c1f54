"""Known answers and properties of the row helpers of :func:`pipeline.data.loading.clean_marketing`."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.data.loading import clean_marketing, repeated_rows, rows_where
from pipeline.data.reading import read_table
from pipeline.synthetic.customers import generate_sample


def arrow_frame(text: str) -> pd.DataFrame:
    """A table as pyarrow's CSV reader gives it (the reader of large files)."""
    return pd.read_csv(io.StringIO(text), sep="\t", dtype=str, engine="pyarrow")


def test_repeated_rows_compares_whole_rows_where_the_first_column_repeats() -> None:
    frame = pd.DataFrame(
        {
            "ID": ["1", "2", "1", "1", None, None, "3"],
            "x": ["a", "b", "a", "c", "d", "d", "e"],
        }
    )
    among = np.array([True, True, True, True, True, True, True])
    # Row 2 repeats row 0; row 3 shares the id, not the row; row 5 repeats row 4 (missing equals missing).
    np.testing.assert_array_equal(repeated_rows(frame, among), [False, False, True, False, False, True, False])
    # Outside ``among`` nothing repeats and nothing is repeated.
    among[0] = False
    np.testing.assert_array_equal(repeated_rows(frame, among), [False, False, False, False, False, True, False])


def test_rows_where_keeps_the_index_and_the_arrow_columns() -> None:
    frame = arrow_frame("ID\tx\tn\n1\ta\t5\n2\t\t6\n3\tc\t7\n")
    frame["obj"] = pd.Series([1, "b", None], dtype=object)
    kept = rows_where(frame, np.array([True, False, True]))
    pd.testing.assert_frame_equal(kept, frame.loc[[0, 2]])
    assert list(kept.index) == [0, 2]
    assert rows_where(frame, np.ones(3, dtype=bool)) is frame


def test_clean_marketing_counts_blank_and_repeated_rows_as_before() -> None:
    frame, _ = generate_sample(10, 1)
    frame = frame.astype(str)
    twin = frame.iloc[0].copy()
    twin["Year_Birth"] = str(int(float(twin["Year_Birth"])) + 1)  # same id, another row: kept and flagged
    blank = pd.Series("", index=frame.columns)
    # rows: 0, 1, blank, 0 again, 2, twin of 0
    table = pd.DataFrame([frame.iloc[0], frame.iloc[1], blank, frame.iloc[0], frame.iloc[2], twin])
    raw = table.to_csv(sep="\t", index=False).encode()
    clean, report = clean_marketing(read_table(raw, "t.tsv"), "t.tsv")
    counts = {i.kind: i.count for i in report.items}
    assert (counts["blank_rows"], counts["duplicate_rows"], counts["ids_duplicated"]) == (1, 1, 2)
    assert (report.rows_read, report.rows_kept) == (6, 4)
    born = [float(frame["Year_Birth"].iloc[i]) for i in (0, 1, 2)]
    assert clean["Year_Birth"].tolist() == [born[0], born[1], born[2], born[0] + 1]


cells = st.sampled_from(["a", "b", "", None])


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(cells, cells, cells), min_size=0, max_size=30),
    among=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_repeated_rows_is_pandas_duplicated_among_the_rows(data: list, among: list) -> None:
    frame = pd.DataFrame(data, columns=["a", "b", "c"], dtype="str")
    mask = np.array(among[: len(frame)], dtype=bool)
    expected = np.zeros(len(frame), dtype=bool)
    expected[mask] = frame[mask].duplicated(keep="first").to_numpy()
    np.testing.assert_array_equal(repeated_rows(frame, mask), expected)
    pd.testing.assert_frame_equal(rows_where(frame, mask), frame.loc[mask])


def test_outlier_reasons_name_each_flag_and_join_both() -> None:
    frame, _ = generate_sample(40, 2)
    frame = frame.dropna(how="all").astype(str).head(30).reset_index(drop=True)
    frame["Income"] = "50000"
    frame["Year_Birth"] = "1970"
    frame.loc[[1, 2], "Income"] = "9000000"  # far above Q3 + 3×IQR (the IQR is 0)
    frame.loc[[2, 3], "Year_Birth"] = "1890"  # more than 100 years old
    raw = frame.to_csv(sep="\t", index=False).encode()
    clean, _ = clean_marketing(read_table(raw, "t.tsv"), "t.tsv")
    assert clean["Outlier_Reason"].head(5).tolist() == [
        "",
        "income above Q3+3×IQR",
        "income above Q3+3×IQR; implausible birth year",
        "implausible birth year",
        "",
    ]
    assert clean["Outlier_Reason"].dtype == object
    assert clean["Is_Outlier"].head(5).tolist() == [False, True, True, True, False]
    assert int(clean["Is_Outlier"].sum()) == 3


def test_numbers_and_constant_columns_are_judged_on_the_kept_rows_only() -> None:
    """A repeated row's unreadable number is counted once; a column constant on the kept rows is dropped.

    The numbers are read before the blank and repeated rows are taken out (:func:`clean_marketing`
    reads each column once); what is reported is of the kept rows, as when the rows went first.
    """
    frame, _ = generate_sample(10, 3)
    frame = frame.head(6).astype(str)
    frame["Note"] = "same"  # constant on every kept row; missing on the blank row
    frame.loc[1, "MntWines"] = "abc"
    blank = pd.Series("", index=frame.columns)
    table = pd.DataFrame([*(frame.iloc[i] for i in range(6)), frame.iloc[1], blank])  # row 1 again, then a blank row
    raw = table.to_csv(sep="\t", index=False).encode()
    clean, report = clean_marketing(read_table(raw, "t.tsv"), "t.tsv")
    counts = {i.kind: i.count for i in report.items}
    assert (counts["blank_rows"], counts["duplicate_rows"], counts["not_a_number"]) == (1, 1, 1)
    bad = next(i for i in report.items if i.kind == "not_a_number")
    assert bad.message == "MntWines: 1 values are not numbers (row 3: 'abc'); treated as missing."
    assert "Note" in next(i for i in report.items if i.kind == "constant_columns").examples
    assert "Note" not in clean.columns
    assert len(clean) == 6 and np.isnan(clean["MntWines"].iloc[1])
