"""Reading customer tables and cleaning the reference marketing-campaign schema.

Two steps, each a pure function:

* :func:`read_table` turns bytes (CSV/TSV/TXT with any of tab, comma or
  semicolon, a byte-order mark, XLSX, Parquet) into a frame of raw columns;
* :func:`clean_marketing` validates and cleans the reference schema and
  returns the cleaned frame with a :class:`~pipeline.data.quality.DataQualityReport`.

Every user mistake raises :class:`~pipeline.errors.DataError` with a message
that names the problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.data.coerce import as_text, parse_dates, read_numbers
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.errors import DataError
from pipeline.features.definitions import (
    DATE_COLUMN,
    ID_COLUMN,
    NON_NEGATIVE_COLUMNS,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
)

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
TABLE_SUFFIXES = (*TEXT_SUFFIXES, ".xlsx", ".parquet")
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
#: Text tables from this size on are read with pyarrow (several times faster than the C parser).
ARROW_MIN_BYTES = 8 << 20
#: How much of a large table is decoded in Python to find its separator and header.
_PREFIX_BYTES = 1 << 20
#: Rows looked at first when checking whether a column is constant (most columns vary within them).
_CONSTANT_PREFIX_ROWS = 1000
_MARITAL_KNOWN = ("Married", "Together", "Single", "Divorced", "Widow")
_EDUCATION_ALIASES = {"2n Cycle": "Master"}


def file_bytes(path: str | Path) -> bytes:
    """Read a file, turning OS errors into a :class:`DataError`."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"File not found: {p}")
    if p.is_dir():
        raise DataError(f"{p} is a folder, not a data file.")
    try:
        return p.read_bytes()
    except OSError as err:
        raise DataError(f"Cannot read {p}: {err.strerror or err}.") from None


def data_hash(raw: bytes) -> str:
    """SHA-256 of a file's bytes: the data part of the artifact cache key."""
    return hashlib.sha256(raw).hexdigest()


def read_table(raw: bytes, name: str = "data.csv") -> pd.DataFrame:
    """Parse a customer table from bytes.

    Parameters
    ----------
    raw : bytes
        The file's content.
    name : str
        The file's name; its suffix is a hint, the content decides.

    Returns
    -------
    DataFrame
        All columns as read (text columns as strings), column names stripped.

    Raises
    ------
    DataError
        Empty file, binary junk, an unreadable spreadsheet, content with
        fewer than two columns, or a header that names two columns alike
        (pandas would rename the copy ``X.1`` and the copy would be lost
        without a word; the message names them so the user can choose).
    """
    suffix = Path(name).suffix.lower()
    if not raw.strip():
        raise DataError(f"{name} is empty.")
    if raw.startswith(_PARQUET_MAGIC):
        frame = _read_parquet(raw, name)
        header = [str(c) for c in frame.columns]
    elif raw.startswith(_ZIP_MAGIC):
        frame = _read_excel(raw, name)
        header = _excel_header(raw)
    elif suffix in (".xlsx", ".parquet", ".xls"):
        raise DataError(f"{name} is not a valid {suffix[1:].upper()} file.")
    else:
        frame, header = _read_text(raw, name)
    frame.columns = [_clean_name(c) for c in frame.columns]
    _refuse_duplicate_names(header, name)
    if frame.shape[1] < 2:
        raise DataError(
            f"{name} does not look like a table: found {frame.shape[1]} column. "
            "Expected a tab-, comma- or semicolon-separated file with a header row."
        )
    unnamed = sum(c.startswith("Unnamed:") or c == "" for c in frame.columns)
    if unnamed > frame.shape[1] / 2:
        raise DataError(
            f"{name}: most columns have no header ({unnamed} of {frame.shape[1]}). "
            "The first row must hold the column names (merged or title rows above it "
            "are not supported; delete them and save again)."
        )
    return frame


def _clean_name(column: Any) -> str:
    return str(column).strip().lstrip("\ufeff").strip()


def duplicate_names(header: Iterable[Any]) -> dict[str, list[int]]:
    """Column names given more than once in a header row, with their 1-based positions.

    Names are compared as the loader cleans them (surrounding spaces and a
    byte-order mark removed); blank header cells are not names and are ignored.
    """
    seen: dict[str, list[int]] = {}
    for i, raw_name in enumerate(header, start=1):
        if raw_name is None or (isinstance(raw_name, float) and np.isnan(raw_name)):
            continue
        clean = _clean_name(raw_name)
        if clean:
            seen.setdefault(clean, []).append(i)
    return {k: v for k, v in seen.items() if len(v) > 1}


def _refuse_duplicate_names(header: list[Any] | None, name: str) -> None:
    dupes = duplicate_names(header or [])
    if not dupes:
        return
    listed = "; ".join(
        f"{col!r} (columns {', '.join(map(str, pos[:-1]))} and {pos[-1]})" for col, pos in list(dupes.items())[:5]
    )
    more = f" and {len(dupes) - 5} more" if len(dupes) > 5 else ""
    raise DataError(
        f"{name} names more than one column alike: {listed}{more}. "
        "Each column needs its own name: rename or delete the copies and load it again."
    )


def _excel_header(raw: bytes) -> list[Any] | None:
    """The first row of the first sheet as written (pandas renames a repeated name ``X.1``)."""
    try:
        first = pd.read_excel(io.BytesIO(raw), sheet_name=0, header=None, nrows=1, dtype=object, engine="openpyxl")
    except Exception:  # the full read succeeded; without a header row there is nothing to check
        return None
    return first.iloc[0].tolist() if len(first) else None


def _read_text(raw: bytes, name: str) -> tuple[pd.DataFrame, list[str]]:
    head = raw[:8192]
    if b"\x00" in head:
        raise DataError(f"{name} is not a text table (it contains binary data).")
    if len(raw) >= ARROW_MIN_BYTES:
        fast = _read_large_text(raw, name)
        if fast is not None:
            return fast
    text = _decode(raw, name)
    sep, header = _layout(text, name)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            skip_blank_lines=True,
            keep_default_na=True,
        )
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(f"{name} could not be parsed as a table: {_first_line(err)}") from None
    return frame, header


def _layout(text: str, name: str) -> tuple[str, list[str]]:
    """The separator (the most frequent of tab, comma, semicolon, bar in the first line) and the header cells."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in ("\t", ",", ";", "|")}
    sep = max(counts, key=lambda s: counts[s])
    if counts[sep] == 0:
        raise DataError(f"{name} does not look like a table: its first line has no tab, comma or semicolon separators.")
    try:
        header = next(csv.reader([first], delimiter=sep), [])
    except csv.Error:  # e.g. a header cell longer than the csv module's field limit: pandas decides below
        header = []
    return sep, header


def _read_large_text(raw: bytes, name: str) -> tuple[pd.DataFrame, list[str]] | None:
    """A large UTF-8 table read without decoding the whole file in Python; None to take the usual path.

    The separator and header come from the first megabyte (cut at a line
    end); pyarrow checks the rest is UTF-8.  Anything unusual (no header
    line there, another encoding, a row pyarrow refuses) returns None and the
    usual path decides, with its usual messages.
    """
    cut = raw.rfind(b"\n", 0, _PREFIX_BYTES) + 1
    prefix = raw[:cut]
    try:
        prefix.decode("utf-8")
        text = _decode(prefix, name)
        if not any(line.strip() for line in text.splitlines()):
            return None
        sep, header = _layout(text, name)
    except (UnicodeDecodeError, DataError):
        return None
    frame = _read_text_arrow(raw, sep)
    return None if frame is None else (frame, header)


def _read_text_arrow(raw: bytes, sep: str) -> pd.DataFrame | None:
    """A large UTF-8 table read by pyarrow's multi-threaded CSV reader; None to fall back.

    Same values as the pandas C parser below (text columns as strings, the
    same missing-value markers, blank lines skipped).  Anything pyarrow
    refuses (a ragged row, another encoding) returns None, so the C parser
    reads it and raises its usual message.
    """
    body = memoryview(raw)[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    try:
        return pd.read_csv(io.BytesIO(body), sep=sep, dtype=str, engine="pyarrow", keep_default_na=True)
    except (ValueError, pd.errors.ParserError, ImportError):
        return None
    except Exception as err:  # pyarrow.lib.ArrowInvalid and kin subclass ValueError; anything else: fall back
        if type(err).__module__.startswith("pyarrow"):
            return None
        raise


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text[:4096])
        if printable < 0.95 * min(len(text), 4096):
            raise DataError(f"{name} is not a text table (it contains binary data).")
        return text
    raise DataError(f"{name} is not a text table: unknown character encoding.")  # pragma: no cover


def _read_excel(raw: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_excel(io.BytesIO(raw), sheet_name=0, dtype=object, engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for bad zips
        raise DataError(f"{name} is not a readable XLSX workbook: {_first_line(err)}") from None


def _read_parquet(raw: bytes, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as err:  # pyarrow raises many types for corrupt files
        raise DataError(f"{name} is not a readable Parquet file: {_first_line(err)}") from None


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def closest_columns(missing: Iterable[str], available: Iterable[str]) -> dict[str, list[str]]:
    """For each missing column, the most similar available column names."""
    avail = list(available)
    lowered = {a.lower(): a for a in avail}
    out: dict[str, list[str]] = {}
    for col in missing:
        hits = difflib.get_close_matches(col.lower(), list(lowered), n=2, cutoff=0.6)
        out[col] = [lowered[h] for h in hits]
    return out


def require_columns(frame: pd.DataFrame, required: Iterable[str], name: str) -> None:
    """Raise a :class:`DataError` listing missing columns and near matches."""
    missing = [c for c in required if c not in frame.columns]
    if not missing:
        return
    near = closest_columns(missing, frame.columns)
    parts = []
    for col in missing:
        hint = f" (closest: {', '.join(near[col])})" if near[col] else ""
        parts.append(f"{col}{hint}")
    raise DataError(f"{name} is missing {len(missing)} required column(s): " + "; ".join(parts) + ".")


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
