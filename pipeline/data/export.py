"""The one safe writer for user data leaving the project (CSV, XLSX, Parquet).

:data:`EXPORT_FORMATS` is the registry of formats (key → :class:`ExportFormat`
with its suffix, media type and writer); :func:`export_bytes` returns a file's
bytes (the app's downloads), :func:`write_export` writes it (the CLI), and
:func:`write_table` writes a plain table.  A :class:`TableExport` is one main
table (the CSV and Parquet files) plus, for XLSX, the sheets to write in
order, each formatted: bold filled header, frozen header row, auto-filter,
column widths, number formats by column kind (:data:`NUMBER_FORMATS`), notes
under the table, and sheet names made valid for Excel (:func:`sheet_names`).

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

import dataclasses
import io
import numbers
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from pipeline.errors import DataError

#: First characters that make a spreadsheet treat a cell as a formula (OWASP),
#: plus line feed and the full-width forms some spreadsheets normalise.
FORMULA_TRIGGERS: frozenset[str] = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: Written in front of a dangerous text cell.
ESCAPE_PREFIX = "'"
#: Excel number formats by column kind (:attr:`TableExport.column_kinds`).  Money has no currency
#: symbol: the data's currency is not known.
NUMBER_FORMATS: Mapping[str, str] = MappingProxyType(
    {"money": "#,##0.00", "probability": "0.0%", "date": "yyyy-mm-dd", "integer": "#,##0"}
)
#: Rows an Excel sheet holds, header included.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\\\[\]:*?/]")


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


def csv_bytes(frame: pd.DataFrame, *, date_format: str | None = None, header: bool = True) -> bytes:
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
    header : bool, default True
        Whether the first row names the columns (False for the later pieces of a streamed file).
    """
    text = neutralise(frame).to_csv(index=False, header=header, lineterminator="\r\n", date_format=date_format)
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


def _mixed_columns(frame: pd.DataFrame) -> tuple[int, ...]:
    """Positions of the object columns mixing text (or other objects) with numbers: written as text.

    A Parquet column has one type.  Decided on whole columns, so every piece
    of a file written in pieces has the same columns.
    """
    out = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        if pd.api.types.is_object_dtype(col.dtype):
            kinds = {type(v) for v in col.dropna()}
            if len(kinds) > 1 and not all(issubclass(k, numbers.Number) and k is not bool for k in kinds):
                out.append(i)
    return tuple(out)


def _as_written(frame: pd.DataFrame, as_text: Sequence[int]) -> pd.DataFrame:
    """``frame`` with string column names and the ``as_text`` columns as text (the other columns are not copied)."""
    out = frame.set_axis([str(c) for c in frame.columns], axis=1)
    for i in as_text:
        out.isetitem(i, out.iloc[:, i].map(str, na_action="ignore"))
    return out


def _parquet_ready(frame: pd.DataFrame, as_text: Sequence[int] | None = None) -> pd.DataFrame:
    """``frame`` as Parquet takes it: string column names, the ``as_text`` columns (default: the mixed ones) as
    text, every text cell neutralised."""
    return neutralise(_as_written(frame, _mixed_columns(frame) if as_text is None else as_text))


@dataclasses.dataclass(frozen=True)
class Sheet:
    """One XLSX sheet: a title (made valid by :func:`sheet_names`), a table and notes written under it."""

    name: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class TableExport:
    """What one export holds.

    Attributes
    ----------
    table : DataFrame
        The main table: the whole CSV or Parquet file.
    sheets : tuple of Sheet
        The XLSX workbook's sheets in order (empty: one sheet ``Data`` with ``table``).
    column_kinds : mapping
        Column name → ``"money"``, ``"probability"``, ``"date"`` or ``"integer"``
        (the XLSX number format, :data:`NUMBER_FORMATS`).
    """

    table: pd.DataFrame
    sheets: tuple[Sheet, ...] = ()
    column_kinds: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    """One export format of the registry :data:`EXPORT_FORMATS`."""

    key: str
    suffix: str
    label: str
    media_type: str
    write: Callable[[TableExport], bytes]
    #: Writes the same bytes to an open binary file piece by piece (None: the format is made whole).
    stream: Callable[[TableExport, BinaryIO], None] | None = None


def sheet_names(names: Sequence[str]) -> list[str]:
    """Valid, unique Excel sheet names for ``names``, in order.

    Excel's rules: at most 31 characters, none of ``\\ / ? * [ ] :``, not
    blank, not starting or ending with an apostrophe, not ``History``, unique
    ignoring case.  Forbidden characters become ``-``; a repeated name gets
    `` (2)``, `` (3)``... within the 31 characters.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out: list[str] = []
    taken: set[str] = set()
    for raw in names:
        name = ILLEGAL_CHARACTERS_RE.sub("", _SHEET_FORBIDDEN.sub("-", str(raw)))
        name = " ".join(name.split()).strip("'").strip()[:EXCEL_SHEET_NAME_MAX].strip().strip("'") or "Sheet"
        if name.lower() == "history":
            name = "History (sheet)"
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            tail = f" ({n})"
            candidate = name[: EXCEL_SHEET_NAME_MAX - len(tail)].rstrip().rstrip("'") + tail
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def _safe_text(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return neutralise_text(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)) if isinstance(value, str) else value


def _column_values(col: pd.Series) -> list[Any]:
    """Python values of one column for openpyxl: missing values as None (an empty cell)."""
    values = col.astype(object).where(col.notna(), None).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _column_width(header: str, values: list[Any]) -> float:
    sample = values[:200]
    longest = max([len(str(header)), *(len(str(v)) for v in sample if v is not None)], default=8)
    return float(min(60, max(8, longest + 2)))


def _write_sheet(wb: Any, title: str, frame: pd.DataFrame, notes: Sequence[str], kinds: Mapping[str, str]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ready = _xlsx_ready(frame)
    ws = wb.create_sheet(title)
    headers = [str(c) for c in ready.columns]
    columns = [_column_values(ready.iloc[:, i]) for i in range(ready.shape[1])]
    formats: list[str | None] = []
    for i, name in enumerate(frame.columns):
        kind = kinds.get(str(name))
        if kind is None and pd.api.types.is_datetime64_any_dtype(ready.iloc[:, i].dtype):
            kind = "date"
        formats.append(NUMBER_FORMATS.get(kind or ""))
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _column_width(header, columns[i - 1])
    ws.freeze_panes = "A2"
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(frame) + 1}"
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E79")
    wrap = Alignment(vertical="top", wrap_text=True)
    head_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=header)
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
        head_cells.append(cell)
    ws.append(head_cells)
    styled = [j for j, f in enumerate(formats) if f]
    for r in range(len(frame)):
        row: list[Any] = [col[r] for col in columns]
        for j in styled:
            if row[j] is not None:
                cell = WriteOnlyCell(ws, value=row[j])
                cell.number_format = formats[j]
                row[j] = cell
        ws.append(row)
    if notes and len(frame) + 2 + len(notes) <= EXCEL_MAX_ROWS:  # notes go under the table when they fit
        ws.append([])
        for note in notes:
            ws.append([_safe_text(note)])


def xlsx_bytes(export: TableExport) -> bytes:
    """The XLSX workbook of ``export`` (see the module docstring); every text cell neutralised.

    Raises
    ------
    DataError
        A sheet has more rows than Excel holds.
    """
    from openpyxl import Workbook

    sheets = export.sheets or (Sheet("Data", export.table),)
    largest = max(len(sheet.frame) for sheet in sheets)
    if largest + 1 > EXCEL_MAX_ROWS:  # checked before writing anything
        raise DataError(
            f"{largest:,} rows do not fit in an Excel sheet ({EXCEL_MAX_ROWS - 1:,} at most); "
            "export CSV or Parquet instead."
        )
    wb = Workbook(write_only=True)
    for title, sheet in zip(sheet_names([s.name for s in sheets]), sheets, strict=True):
        _write_sheet(wb, title, sheet.frame, sheet.notes, export.column_kinds)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


#: Rows neutralised and written at a time by :func:`_csv_stream` (a file never exists whole in memory).
CSV_CHUNK_ROWS = 100_000


def _csv_stream(export: TableExport, fh: BinaryIO) -> None:
    """The CSV of ``export.table`` written to ``fh`` in chunks of :data:`CSV_CHUNK_ROWS` rows.

    The bytes are those of :func:`csv_bytes` on the whole table: neutralising
    is cell by cell and keeps each column's dtype, and only the first chunk
    carries the header.
    """
    frame = export.table
    for start in range(0, max(len(frame), 1), CSV_CHUNK_ROWS):
        chunk = frame.iloc[start : start + CSV_CHUNK_ROWS]
        fh.write(csv_bytes(chunk, date_format="%Y-%m-%d", header=start == 0))


def _csv_export(export: TableExport) -> bytes:
    buf = io.BytesIO()
    _csv_stream(export, buf)
    return buf.getvalue()


#: Rows neutralised and written at a time by :func:`_parquet_stream`: one row group each.
PARQUET_CHUNK_ROWS = 100_000


def _parquet_schema(frame: pd.DataFrame, as_text: Sequence[int]) -> Any:
    """The Arrow schema of the whole of ``frame`` as written (types inferred from every row, not the first piece's)."""
    import pyarrow as pa

    return pa.Schema.from_pandas(_as_written(frame, as_text), preserve_index=False)


def _parquet_stream(export: TableExport, fh: BinaryIO) -> None:
    """The Parquet file of ``export.table`` written to ``fh`` in row groups of :data:`PARQUET_CHUNK_ROWS` rows.

    Each piece is made ready (:func:`_parquet_ready`, with the mixed columns
    decided on the whole table) and converted on its own, so the table is
    never copied whole; the file reads back as the one written at once.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = export.table
    as_text = _mixed_columns(frame)
    schema = _parquet_schema(frame, as_text)
    with pq.ParquetWriter(fh, schema) as writer:
        for start in range(0, max(len(frame), 1), PARQUET_CHUNK_ROWS):
            chunk = _parquet_ready(frame.iloc[start : start + PARQUET_CHUNK_ROWS], as_text)
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))


def parquet_bytes(export: TableExport) -> bytes:
    """The Parquet file of ``export.table``; text columns neutralised."""
    buf = io.BytesIO()
    _parquet_stream(export, buf)
    return buf.getvalue()


#: The export formats: the one registry of what a table can be exported as.
EXPORT_FORMATS: Mapping[str, ExportFormat] = MappingProxyType(
    {
        "csv": ExportFormat("csv", ".csv", "CSV", "text/csv", _csv_export, _csv_stream),
        "xlsx": ExportFormat(
            "xlsx",
            ".xlsx",
            "Excel (.xlsx)",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx_bytes,
        ),
        "parquet": ExportFormat(
            "parquet", ".parquet", "Parquet", "application/vnd.apache.parquet", parquet_bytes, _parquet_stream
        ),
    }
)
#: File suffixes :func:`write_table` and :func:`write_export` understand.
SUFFIXES: tuple[str, ...] = tuple(f.suffix for f in EXPORT_FORMATS.values())


def export_format(key: str) -> ExportFormat:
    """The registered format ``key`` (``"csv"``, ``"xlsx"``, ``"parquet"``).

    Raises
    ------
    DataError
        Not a registered format.
    """
    fmt = EXPORT_FORMATS.get(str(key).lower().lstrip("."))
    if fmt is None:
        raise DataError(f"Unknown export format {key!r}; choose one of {', '.join(EXPORT_FORMATS)}.")
    return fmt


def export_bytes(export: TableExport, key: str) -> bytes:
    """The bytes of ``export`` in format ``key`` (for downloads); every text cell neutralised."""
    return export_format(key).write(export)


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
    return write_export(TableExport(frame), path)


def write_export(export: TableExport, path: Path) -> Path:
    """Write ``export`` to ``path`` in the format its suffix names, atomically.

    The file is written under a temporary name in the same folder and renamed
    over ``path`` at the end, so a failure leaves any previous file intact.

    Raises
    ------
    DataError
        Unknown suffix (nothing is written), or the data do not fit the format.
    """
    path = Path(path)
    suffix = check_output_path(path)
    fmt = next(f for f in EXPORT_FORMATS.values() if f.suffix == suffix)
    content = fmt.write(export) if fmt.stream is None else None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            if fmt.stream is not None:
                fmt.stream(export, fh)
            else:
                fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = [
    "EXPORT_FORMATS",
    "FORMULA_TRIGGERS",
    "NUMBER_FORMATS",
    "ExportFormat",
    "Sheet",
    "TableExport",
    "check_output_path",
    "csv_bytes",
    "export_bytes",
    "export_format",
    "is_dangerous",
    "neutralise",
    "neutralise_text",
    "sheet_names",
    "write_export",
    "write_table",
    "xlsx_bytes",
]
