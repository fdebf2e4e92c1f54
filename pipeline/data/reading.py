"""Reading customer tables: the bytes of a file into a frame of raw columns.

:func:`read_table` reads CSV/TSV/TXT with any of tab, comma or semicolon and a
byte-order mark (large text files with pyarrow), XLSX and Parquet, whatever the
file's suffix says.  Every user mistake raises
:class:`~pipeline.errors.DataError` with a message that names the problem
(an empty file, binary junk, one column, two columns named alike, a missing
column with the closest names).  Cleaning the reference schema comes after:
:mod:`pipeline.data.loading`.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import DataError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
TABLE_SUFFIXES = (*TEXT_SUFFIXES, ".xlsx", ".parquet")
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
#: Text tables from this size on are read with pyarrow (several times faster than the C parser).
ARROW_MIN_BYTES = 8 << 20
#: How much of a large table is decoded in Python to find its separator and header.
_PREFIX_BYTES = 1 << 20


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
