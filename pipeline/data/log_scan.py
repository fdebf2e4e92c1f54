"""Scanning a large transaction log into dictionary-encoded columns (the engine of the aggregation).

A transaction log repeats itself: ten million order lines hold a few
hundred thousand customers, orders and timestamps and a few thousand
prices.  :func:`scan_log` reads a large text log with pyarrow's
multi-threaded CSV reader straight into *dictionary-encoded* columns (each
line holds a 4-byte code, each distinct text is stored once) and hands them
to pandas as categoricals.  :func:`pipeline.data.transactions.prepare_transactions`
then applies every rule (ids, dates in mixed formats, amounts, cancellations)
to the distinct values only and carries the results to the lines by code,
so no column of ten million Python strings is ever built.

Why pyarrow and not DuckDB (both pinned): the rules already run on distinct
values, and pyarrow's dictionary encoding gives exactly that — distinct
values and per-line codes — in one pass.  DuckDB scans and groups as fast,
but it hands rows back as strings (no codes), so the rules would have to be
rewritten in SQL (the date-format ranking, decimal commas) or joined back
to ten million rows; measured on a 1,000,000-line log on the 2-core machine
(load 9–10): pyarrow dictionary read + conversion to pandas 2.0–2.3 s at
410 MB peak; DuckDB scan 1.0 s plus 2.2 s to return the strings, 640 MB.

Values are the ones :func:`pipeline.data.reading.read_table` reads (same
separator and header, the same missing-value markers, blank lines skipped),
only encoded; anything unusual returns ``None`` and the usual reader
decides, with its usual messages.
"""

from __future__ import annotations

import pandas as pd

from pipeline.data.detect import detect_kind, is_marketing, near_marketing
from pipeline.data.mapping import Mapping
from pipeline.data.reading import (
    _PARQUET_MAGIC,
    _PREFIX_BYTES,
    _UTF8_BOM,
    _ZIP_MAGIC,
    ARROW_MIN_BYTES,
    _clean_name,
    _decode,
    _layout,
    read_table,
)
from pipeline.errors import DataError


def scan_log(
    raw: bytes, name: str, mapping: Mapping | None = None, min_bytes: int = ARROW_MIN_BYTES
) -> pd.DataFrame | None:
    """A large text transaction log with every column dictionary-encoded (pandas categoricals).

    Parameters
    ----------
    raw : bytes
        The file's content.
    name : str
        The file's name, used in messages.
    mapping : Mapping or None
        The user's mapping; ``None``: the log is recognised by
        :func:`pipeline.data.detect.detect_kind` (on its first megabyte, then
        on the whole scan).
    min_bytes : int
        Smaller files are read the usual way (the C parser is as fast there).

    Returns
    -------
    DataFrame or None
        ``None`` when the file is not a large UTF-8 text transaction log
        (smaller than :data:`pipeline.data.reading.ARROW_MIN_BYTES`, a
        spreadsheet, another kind of table, a header the usual reader
        refuses, a row pyarrow cannot read): read it with
        :func:`pipeline.data.reading.read_table` instead.
    """
    if len(raw) < min_bytes or raw.startswith((_PARQUET_MAGIC, _ZIP_MAGIC)):
        return None
    if mapping is not None and mapping.kind != "transactions":
        return None
    prefix = raw[: raw.rfind(b"\n", 0, _PREFIX_BYTES) + 1]
    try:
        prefix.decode("utf-8")
        head = read_table(prefix, name)  # the header checks, with their messages
        sep, header = _layout(_decode(prefix, name), name)
    except (UnicodeDecodeError, DataError):
        return None
    if mapping is None and (is_marketing(head) or near_marketing(head) or detect_kind(head).kind != "transactions"):
        return None
    if not header or any(not str(c).strip() for c in header):
        return None
    frame = _read_encoded(raw, sep, header)
    if frame is None or (mapping is None and detect_kind(frame).kind != "transactions"):
        return None
    return frame


def _read_encoded(raw: bytes, sep: str, header: list[str]) -> pd.DataFrame | None:
    """Every column as a categorical of its text, read by pyarrow; None to fall back."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    from pandas._libs.parsers import STR_NA_VALUES

    body = memoryview(raw)[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else memoryview(raw)
    text = pa.dictionary(pa.int32(), pa.string())
    try:
        table = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            parse_options=pcsv.ParseOptions(delimiter=sep),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, text),
                null_values=sorted(STR_NA_VALUES),  # pandas' missing-value markers, as read_table uses
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    if table.column_names != list(header) or not all(pa.types.is_dictionary(t) for t in table.schema.types):
        return None
    frame = table.to_pandas(split_blocks=True, self_destruct=True)  # frees each Arrow column as it is converted
    del table
    frame.columns = [_clean_name(c) for c in frame.columns]
    return frame
