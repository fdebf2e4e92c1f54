"""The one safe writer for user data leaving the project (CSV, XLSX, Parquet).

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, in some, a leading tab or carriage return) as a formula, so a customer
name like ``=HYPERLINK("http://evil", "click")`` in an export becomes a live
link or worse (OWASP, "CSV Injection").  Following OWASP's advice, every *text*
cell whose first character -- or first character after leading white space --
is one of those is prefixed with a single quote, which spreadsheets show as
text.  Numbers stay numbers: ``-5.0`` in a numeric column is written as the
number ``-5``; the *text* ``"-5"`` becomes ``"'-5"``.  Column names are text
cells too and get the same rule.  The CSV writer quotes any cell holding the
separator, a quote or a line break, so a cell cannot spill into the next one.

Parquet cells are typed, but text columns are neutralised as well so that a
Parquet file converted to a spreadsheet later is still safe.  CSV and Parquet
keep every number exactly; XLSX keeps 16 significant digits (openpyxl writes
``%.16g``; Excel itself shows 15).  Control characters that XLSX cannot hold
are shown as U+FFFD there.

The rule is implemented here rather than taken from ``defusedcsv``: that
package wraps only the ``csv`` module (no XLSX or Parquet), leaves number-like
text such as ``"-5"`` unprefixed, and does not treat tab or carriage return
as triggers; the rule is a few lines and is tested here directly.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.errors import DataError

#: First characters that make a spreadsheet treat a cell as a formula (OWASP),
#: plus line feed and the full-width forms some spreadsheets normalise.
FORMULA_TRIGGERS: frozenset[str] = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: Written in front of a dangerous text cell.
ESCAPE_PREFIX = "'"
#: File suffixes :func:`write_table` understands.
SUFFIXES: tuple[str, ...] = (".csv", ".xlsx", ".parquet")


def is_dangerous(text: str) -> bool:
    """True if ``text`` would be read as a formula by a spreadsheet program."""
    if not text:
        return False
    if text[0] in FORMULA_TRIGGERS:
        return True
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


def neutralise_text(value: Any) -> Any:
    """One cell: text that starts like a formula gets a leading ``'``; anything else is returned unchanged."""
    if isinstance(value, str) and is_dangerous(value):
        return ESCAPE_PREFIX + value
    return value


def _is_text_column(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _neutralise_series(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = series.cat.categories
        if pd.api.types.is_object_dtype(cats.dtype) or pd.api.types.is_string_dtype(cats.dtype):
            new = [neutralise_text(c) for c in cats]
            if len(set(new)) == len(new):
                return series.cat.rename_categories(new)
        return _neutralise_series(series.astype(object))
    # A list, not Series.map: map turns None into NaN in object columns.
    out = pd.Series([neutralise_text(v) for v in series.to_numpy(dtype=object)], index=series.index, dtype=object)
    return out if pd.api.types.is_object_dtype(series.dtype) else out.astype(series.dtype)


def _column_name(name: Any) -> Any:
    return neutralise_text(name) if isinstance(name, str) else name


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas.

    Numeric, boolean and date columns are returned unchanged; in text (object,
    string, category) columns every string starting with a formula trigger
    (see :data:`FORMULA_TRIGGERS`) gets a leading ``'``.  Numbers inside an
    object column stay numbers.

    Parameters
    ----------
    frame : DataFrame
        Any table about to leave the project.

    Returns
    -------
    DataFrame
        A new frame; ``frame`` is not modified.
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text_column(col):
            out.isetitem(i, _neutralise_series(col))
    out.columns = [_column_name(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame, *, date_format: str | None = None) -> bytes:
    """UTF-8 CSV of ``frame`` (no index), neutralised, every risky cell quoted.

    Rows end in CRLF (RFC 4180).  That also makes the ``csv`` module quote any
    cell holding a bare carriage return, which a reader would otherwise take
    for the start of a new row (a new, unneutralised first cell).

    Parameters
    ----------
    frame : DataFrame
        The table to write.
    date_format : str, optional
        ``strftime`` format for datetime columns (default: ISO).
    """
    text = neutralise(frame).to_csv(index=False, lineterminator="\r\n", date_format=date_format)
    return text.encode("utf-8")


def _xlsx_ready(frame: pd.DataFrame) -> pd.DataFrame:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out.isetitem(i, col.dt.tz_localize(None))
        elif _is_text_column(col):
            # Control characters are not allowed in XLSX; show them as U+FFFD instead of failing.
            out.isetitem(
                i,
                col.astype(object).map(
                    lambda v: ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v, na_action="ignore"
                ),
            )
    out.columns = [ILLEGAL_CHARACTERS_RE.sub("\ufffd", c) if isinstance(c, str) else c for c in out.columns]
    return neutralise(out)


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if pd.api.types.is_object_dtype(col.dtype):
            kinds = {type(v) for v in col.dropna()}
            mixed = len(kinds) > 1 and not all(issubclass(k, numbers.Number) and k is not bool for k in kinds)
            if mixed:  # a Parquet column has one type: mixed text and numbers become text
                out.isetitem(i, col.map(str, na_action="ignore"))
    return neutralise(out)


def check_output_path(path: Path) -> str:
    """The lower-case suffix of ``path`` if :func:`write_table` can write it (check before long work).

    Raises
    ------
    DataError
        Unknown suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"Cannot write {path.name!r}: the output must end in {', '.join(SUFFIXES)} (got {suffix or 'no suffix'})."
        )
    return suffix


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` safely; the format follows the suffix.

    Parameters
    ----------
    frame : DataFrame
        The table to write (not modified).
    path : Path
        ``.csv``, ``.xlsx`` or ``.parquet``; parent folders are created.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DataError
        Unknown suffix.
    """
    path = Path(path)
    suffix = check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        path.write_bytes(csv_bytes(frame))
    elif suffix == ".xlsx":
        _xlsx_ready(frame).to_excel(path, index=False, engine="openpyxl")
    else:
        _parquet_ready(frame).to_parquet(path, index=False)
    return path


__all__ = [
    "FORMULA_TRIGGERS",
    "check_output_path",
    "csv_bytes",
    "is_dangerous",
    "neutralise",
    "neutralise_text",
    "write_table",
]
