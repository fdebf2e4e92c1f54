"""Cleaning the reference marketing-campaign schema (reading the file: :mod:`pipeline.data.reading`).

:func:`clean_marketing` validates and cleans a table read by
:func:`~pipeline.data.reading.read_table` and returns the cleaned frame with a
:class:`~pipeline.data.quality.DataQualityReport`, a pure function.

Every user mistake raises :class:`~pipeline.errors.DataError` with a message
that names the problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from pipeline.data.coerce import as_text, parse_dates, read_numbers
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.data.reading import require_columns
from pipeline.errors import DataError
from pipeline.features.definitions import (
    DATE_COLUMN,
    ID_COLUMN,
    NON_NEGATIVE_COLUMNS,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
)

#: Rows looked at first when checking whether a column is constant (most columns vary within them).
_CONSTANT_PREFIX_ROWS = 1000
_MARITAL_KNOWN = ("Married", "Together", "Single", "Divorced", "Widow")
_EDUCATION_ALIASES = {"2n Cycle": "Master"}


def clean_marketing(
    raw: pd.DataFrame, name: str = "data", as_of: dt.date | None = None
) -> tuple[pd.DataFrame, DataQualityReport]:
    """Validate and clean the reference marketing-campaign table.

    Nothing is changed silently: every dropped row, coerced value, regrouped
    category, imputed income and flagged outlier is counted in the returned
    report.  Outliers are flagged in ``Is_Outlier``/``Outlier_Reason``, never
    dropped.

    Parameters
    ----------
    raw : DataFrame
        Output of :func:`read_table`.
    name : str
        The data set's name, used in error messages.
    as_of : date or None
        Reference date for implausible ages; defaults to the latest enrolment.

    Returns
    -------
    (DataFrame, DataQualityReport)
        Cleaned customers (numeric columns as floats, ``Dt_Customer`` as
        datetimes) and the report.

    Raises
    ------
    DataError
        Missing required columns, an unparseable date column, or no rows.
    """
    rows_read = len(raw)
    require_columns(raw, REQUIRED_COLUMNS, name)
    items: list[QualityItem] = []

    frame = raw.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    blank = _blank_rows(frame).to_numpy()
    items.append(QualityItem("blank_rows", "dropped", int(blank.sum()), f"{int(blank.sum()):,} blank rows dropped."))
    if blank.all():
        raise DataError(f"{name} has no customer rows (all {rows_read:,} rows are blank).")

    dup = repeated_rows(frame, ~blank)
    items.append(
        QualityItem("duplicate_rows", "dropped", int(dup.sum()), f"{int(dup.sum()):,} exact duplicate rows dropped.")
    )
    keep = ~(blank | dup)

    frame, constant = _drop_constant_columns(frame, keep)
    if constant:
        items.append(
            QualityItem(
                "constant_columns",
                "dropped",
                len(constant),
                f"Constant columns dropped (no information): {', '.join(constant)}.",
                examples=tuple(constant),
            )
        )

    # The numbers are read before the rows are dropped (each row's number depends on its text only), so the
    # dropped rows are taken out of float columns, not out of as many Arrow text columns; counted on the kept rows.
    frame, coerce_items = _coerce_numeric(frame, keep)
    items.extend(coerce_items)

    frame, date_item = _parse_enrolment(frame, name)
    items.extend(date_item)

    frame, id_items = _ensure_ids(frame)
    items.extend(id_items)

    frame, cat_items = _regroup_categories(frame)
    items.extend(cat_items)

    as_of = as_of or frame[DATE_COLUMN].max().date()
    frame, outlier_items = _flag_outliers(frame, as_of)
    items.extend(outlier_items)

    frame, income_item = _impute_income(frame)
    items.extend(income_item)

    if frame.empty:
        raise DataError(f"{name} has no customer rows left after cleaning.")
    report = DataQualityReport(rows_read=rows_read, rows_kept=len(frame)).with_items(*items)
    return frame.reset_index(drop=True), report


def _blank_rows(frame: pd.DataFrame) -> pd.Series:
    """True where every cell is missing or whitespace.

    Column by column, only on the rows still blank so far: after the first
    filled column (usually the id) few rows are left to look at.
    """
    blank = np.ones(len(frame), dtype=bool)
    for column in range(frame.shape[1]):
        rows = np.flatnonzero(blank)
        if len(rows) == 0:
            break
        cells = frame.iloc[:, column] if len(rows) == len(frame) else frame.iloc[rows, column]
        text = cells.astype("string")
        blank[rows] = (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool, na_value=True)
    return pd.Series(blank, index=frame.index)


def repeated_rows(frame: pd.DataFrame, among: np.ndarray) -> np.ndarray:
    """True for each row of ``among`` that repeats an earlier row of ``among`` cell for cell.

    The same as ``frame[among].duplicated(keep="first")`` (missing equals
    missing), spread back over all rows (False outside ``among``).  Whole rows
    are compared only where the first column's value repeats: a table whose
    ids are distinct costs one pass over one column instead of every column.
    """
    out = np.zeros(len(frame), dtype=bool)
    rows = np.flatnonzero(among)
    if len(rows) < 2 or frame.shape[1] == 0:
        return out
    codes = pd.factorize(frame.iloc[:, 0], use_na_sentinel=False)[0][rows]
    rows = rows[np.bincount(codes)[codes] > 1]
    if len(rows):
        out[rows] = frame.iloc[rows].duplicated(keep="first").to_numpy()
    return out


def rows_where(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame.loc[keep]`` (the index kept), Arrow-backed columns filtered by Arrow itself.

    pandas takes the kept rows by position from each column's Arrow chunks
    (pyarrow's CSV reader makes about a hundred per million rows), several
    times slower than Arrow's own filter; the values are the same.
    """
    import pyarrow as pa  # a pandas dependency here (its default text columns are Arrow-backed)

    if keep.all():
        return frame
    mask = pa.array(keep)
    columns = {}
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i].array
        chunks = getattr(values, "_pa_array", None)
        columns[i] = values[keep] if chunks is None else pd.array(chunks.filter(mask), dtype=values.dtype)
    out = pd.DataFrame(columns, index=frame.index[keep], copy=False)
    out.columns = frame.columns
    return out


def _drop_constant_columns(frame: pd.DataFrame, keep: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` without the columns constant over the rows ``keep`` (missing counts as a value), and their names.

    The id and the required columns are never dropped.  The rows are not taken out of ``frame``.
    """
    rows = np.flatnonzero(keep)
    if len(rows) < 2:
        return frame, []
    every = len(rows) == len(frame)
    protected = set(REQUIRED_COLUMNS) | {ID_COLUMN}

    def kept(column: str, limit: int | None = None) -> pd.Series:
        values = frame[column]
        if every:
            return values if limit is None else values.iloc[:limit]
        return values.iloc[rows if limit is None else rows[:limit]]

    # A column that varies within its first kept rows is not constant: only the others are counted in full.
    constant = [
        c
        for c in frame.columns
        if c not in protected
        and kept(c, _CONSTANT_PREFIX_ROWS).nunique(dropna=False) <= 1
        and kept(c).nunique(dropna=False) <= 1
    ]
    return frame.drop(columns=constant), constant


def _coerce_numeric(frame: pd.DataFrame, keep: np.ndarray) -> tuple[pd.DataFrame, list[QualityItem]]:
    """The rows ``keep`` of ``frame``, its numeric columns read as numbers, and the items of what was not read.

    The same as :func:`numeric_column` on each numeric column of ``rows_where(frame, keep)``.
    """
    out = frame.copy(deep=False)
    unreadable = {}
    for col in NUMERIC_COLUMNS:
        if col in out:
            out[col], unreadable[col] = read_numbers(out[col])
    out = rows_where(out, keep)
    items: list[QualityItem] = []
    for col, bad in unreadable.items():
        kept_bad = bad[keep]
        raw = rows_where(frame[[col]], keep)[col] if kept_bad.any() else out[col]  # the text, for examples only
        out[col], col_items = number_items(raw, out[col], kept_bad, col, non_negative=col in NON_NEGATIVE_COLUMNS)
        items.extend(col_items)
    return out, items


def example_values(text: pd.Series, mask: np.ndarray, n: int = 3) -> tuple[str, ...]:
    """Up to ``n`` distinct values of ``text`` where ``mask`` is true."""
    values = text.to_numpy(dtype=object, na_value=None)[np.flatnonzero(mask)[:50]]
    return tuple(dict.fromkeys("(empty)" if v is None else str(v) for v in values))[:n]


def example_rows(text: pd.Series, mask: np.ndarray) -> str:
    """``row 12: 'abc', row 40: 'n/a'`` (file rows: the header is row 1)."""
    values = text.to_numpy(dtype=object, na_value=None)
    first: dict[object, Any] = {}
    for pos in np.flatnonzero(mask)[:200]:
        first.setdefault(values[pos], text.index[pos])
        if len(first) == 3:
            break
    return ", ".join(f"row {i + 2}: {'(empty)' if v is None else repr(str(v))}" for v, i in first.items())


def numeric_column(
    values: pd.Series, column: str, non_negative: bool = True
) -> tuple[pd.Series, pd.Series, list[QualityItem]]:
    """Numbers of a raw column; what is not a number (or is negative) becomes missing, counted.

    Parsing follows :func:`pipeline.data.coerce.read_numbers` (currency signs,
    thousands separators, decimal commas).

    Returns
    -------
    (Series of float64, Series of bool, list of QualityItem)
        The numbers, where a present value was not a number, and the report items.
    """
    num, bad = read_numbers(values)
    num, items = number_items(values, num, bad, column, non_negative)
    return num, bad, items


def number_items(
    values: pd.Series, num: pd.Series, bad: pd.Series, column: str, non_negative: bool = True
) -> tuple[pd.Series, list[QualityItem]]:
    """:func:`numeric_column` after reading: ``num`` with negatives masked when ``non_negative``, and the items.

    ``values`` is the raw column (for examples of what was not a number),
    ``num`` and ``bad`` what :func:`pipeline.data.coerce.read_numbers` made of it.
    """
    items = []
    if bad.any():
        text, mask = as_text(values), bad.to_numpy()
        items.append(
            QualityItem(
                "not_a_number",
                "imputed",
                int(bad.sum()),
                f"{column}: {int(bad.sum()):,} values are not numbers ({example_rows(text, mask)}); treated as missing.",
                column=column,
                examples=example_values(text, mask),
            )
        )
    if non_negative:
        neg = num < 0
        if neg.any():
            ex = tuple(f"{v:g}" for v in num[neg].head(3))
            items.append(
                QualityItem(
                    "negative_value",
                    "imputed",
                    int(neg.sum()),
                    f"{column}: {int(neg.sum()):,} negative values (e.g. {', '.join(ex)}); treated as missing.",
                    column=column,
                    examples=ex,
                )
            )
            num = num.mask(neg)
    return num, items


def _parse_enrolment(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[QualityItem]]:
    text = frame[DATE_COLUMN].astype("string").str.strip()
    parsed, _fmt = parse_dates(text)
    present = text.notna() & (text != "")
    failed = present & parsed.isna()
    if int(parsed.notna().sum()) < max(1, 0.5 * int(present.sum())):
        rows = failed[failed].index[:3]
        examples = ", ".join(f"row {i + 2}: {text[i]!r}" for i in rows) or "the column is empty"
        raise DataError(
            f"{name}: the date column {DATE_COLUMN} cannot be parsed as dates ({examples}). "
            "Use dd-mm-yyyy or yyyy-mm-dd."
        )
    out = frame.copy(deep=False)
    out[DATE_COLUMN] = parsed
    items = []
    missing = parsed.isna()
    if missing.any():
        ex = tuple(str(v) for v in text[missing].fillna("(empty)").head(3))
        items.append(
            QualityItem(
                "date_unparsed",
                "imputed",
                int(missing.sum()),
                f"{DATE_COLUMN}: {int(missing.sum()):,} dates missing or unreadable (e.g. {', '.join(ex)}); tenure imputed with the median.",
                column=DATE_COLUMN,
                examples=ex,
            )
        )
    return out, items


def _ensure_ids(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[QualityItem]]:
    out = frame.copy(deep=False)
    items = []
    if ID_COLUMN not in out:
        out[ID_COLUMN] = np.arange(1, len(out) + 1).astype(str)
        items.append(
            QualityItem(
                "ids_generated", "fixed", len(out), f"No {ID_COLUMN} column: customers numbered 1 to {len(out):,}."
            )
        )
        return out, items
    ids = out[ID_COLUMN].astype("string").str.strip()
    # Integral float ids ("5524.0" from spreadsheets) read as "5524".
    ids = ids.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True).replace("", pd.NA)
    ids, id_items = customer_ids(ids, ID_COLUMN)
    items.extend(id_items)
    out[ID_COLUMN] = ids
    return out, items


def customer_ids(ids: pd.Series, column: str) -> tuple[pd.Series, list[QualityItem]]:
    """Fill missing customer ids and flag shared ones, counting both.

    Parameters
    ----------
    ids : Series of str
        Normalised ids (missing as NA), indexed by the row's position in the file.
    column : str
        The id column's name, for the messages.

    Returns
    -------
    (Series of str, list of QualityItem)
        A missing id becomes ``row-<file line>``; rows sharing an id are all
        kept and flagged.
    """
    items = []
    missing = ids.isna().to_numpy()
    if missing.any():
        fill = pd.Series([f"row-{i + 2}" for i in ids.index[missing]], index=ids.index[missing], dtype="string")
        ids = ids.mask(pd.Series(missing, index=ids.index), fill)
        items.append(
            QualityItem(
                "ids_missing",
                "fixed",
                int(missing.sum()),
                f"{int(missing.sum()):,} customers had no {column}; named after their row number.",
                column=column,
            )
        )
    dup = ids.duplicated(keep=False)
    if dup.any():
        ex = tuple(dict.fromkeys(ids[dup].astype(str)))[:3]
        items.append(
            QualityItem(
                "ids_duplicated",
                "flagged",
                int(dup.sum()),
                f"{int(dup.sum()):,} rows have the same {column} as another row (e.g. {', '.join(ex)}); all kept.",
                column=column,
                examples=ex,
            )
        )
    return ids.astype(str), items


def _regroup_categories(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[QualityItem]]:
    out = frame.copy(deep=False)
    items = []
    if "Marital_Status" in out:
        status = out["Marital_Status"].astype("string").str.strip()
        junk = status.notna() & ~status.isin(_MARITAL_KNOWN)
        if junk.any():
            counts = status[junk].value_counts()
            ex = tuple(f"{k} ({v})" for k, v in counts.items())
            items.append(
                QualityItem(
                    "category_regrouped",
                    "fixed",
                    int(junk.sum()),
                    f"Marital_Status: {int(junk.sum())} unusual values grouped as 'Other': {', '.join(ex)}.",
                    column="Marital_Status",
                    examples=ex,
                )
            )
        out["Marital_Status"] = status.mask(junk, "Other")
    if "Education" in out:
        edu = out["Education"].astype("string").str.strip()
        alias = edu.isin(list(_EDUCATION_ALIASES))
        if alias.any():
            items.append(
                QualityItem(
                    "category_regrouped",
                    "fixed",
                    int(alias.sum()),
                    f"Education: {int(alias.sum())} '2n Cycle' values (a second-cycle degree) grouped with 'Master'.",
                    column="Education",
                    examples=("2n Cycle",),
                )
            )
        out["Education"] = edu.replace(_EDUCATION_ALIASES)
    return out, items


def _flag_outliers(frame: pd.DataFrame, as_of: dt.date) -> tuple[pd.DataFrame, list[QualityItem]]:
    out = frame.copy(deep=False)
    high = odd = np.zeros(len(out), dtype=bool)
    items = []
    if "Income" in out and out["Income"].notna().sum() >= 4:
        q1, q3 = out["Income"].quantile([0.25, 0.75])
        fence = q3 + 3 * (q3 - q1)
        high = (out["Income"] > fence).to_numpy()
        if high.any():
            ex = tuple(f"{v:,.0f}" for v in out.loc[high, "Income"].head(3))
            items.append(
                QualityItem(
                    "income_outlier",
                    "flagged",
                    int(high.sum()),
                    f"Income: {_n(int(high.sum()), 'customer')} above {fence:,.0f} (Q3 + 3×IQR) flagged as outliers (e.g. {', '.join(ex)}); kept and segmented.",
                    column="Income",
                    examples=ex,
                )
            )
    if "Year_Birth" in out:
        age = as_of.year - out["Year_Birth"]
        odd = ((age > 100) | (age < 16)).to_numpy()
        if odd.any():
            ex = tuple(str(int(v)) for v in out.loc[odd, "Year_Birth"].head(3))
            items.append(
                QualityItem(
                    "age_outlier",
                    "flagged",
                    int(odd.sum()),
                    f"Year_Birth: {int(odd.sum())} implausible birth years (e.g. {', '.join(ex)}) flagged as outliers; kept and segmented.",
                    column="Year_Birth",
                    examples=ex,
                )
            )
    # Each row's reasons, "; "-joined: one of four texts, picked by the two masks (no per-row string work).
    texts = np.array(
        ["", "income above Q3+3×IQR", "implausible birth year", "income above Q3+3×IQR; implausible birth year"],
        dtype=object,
    )
    out["Outlier_Reason"] = pd.Series(texts[high.astype(int) + 2 * odd.astype(int)], index=out.index, dtype=object)
    out["Is_Outlier"] = high | odd
    return out, items


def _n(count: int, noun: str) -> str:
    """``"1 customer"``, ``"3 customers"``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _impute_income(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[QualityItem]]:
    if "Income" not in frame:
        return frame, []
    missing = frame["Income"].isna()
    if not missing.any():
        return frame, []
    median = frame["Income"].median()
    out = frame.copy(deep=False)
    out["Income"] = out["Income"].fillna(median if pd.notna(median) else 0.0)
    item = QualityItem(
        "income_imputed",
        "imputed",
        int(missing.sum()),
        f"Income: {int(missing.sum())} missing values imputed with the median ({median:,.0f}); Income is a profile attribute, not a clustering feature.",
        column="Income",
    )
    return out, [item]
