"""Reading typed values out of raw text columns (numbers, timestamps, flags, ids).

Shared by the customer-table mapping (:mod:`pipeline.data.ingest`) and the
transaction-log aggregation (:mod:`pipeline.data.transactions`).  Every function
is vectorised and, where values repeat (timestamps, prices, flags), works on
the distinct values only, so a 500,000-line column costs a fraction of a
second.  Nothing here raises on bad values: unreadable values become
missing and the caller counts them.

Rules
-----
Numbers
    Surrounding spaces and currency signs (``$ € £``) are ignored.  A comma
    followed by exactly one or two final digits with no dot after it is a
    decimal comma (``"12,50"`` → 12.5, ``"1.234,56"`` → 1234.56); any other
    comma is a thousands separator (``"1,234"`` → 1234).  Anything else that
    is not a number becomes missing.
Timestamps
    A value is a date, optionally followed by a space or ``T`` and a time
    ``H:MM[:SS[.fff]]`` with an optional ``AM``/``PM``.  Dates are read with
    :func:`parse_dates` (the format that reads the most
    distinct values wins, day-first on ties); the values it could not read
    are read again by the format that reads the most of *them*, and so on,
    so a column mixing ``12/1/2010 8:26`` and ``2011-03-04 10:15:00`` reads
    both correctly.  Only values no single format reads fall back to a
    flexible day-first parse.
Flags
    Missing, empty, ``0``, ``false``, ``no``, ``n``, ``f``, ``none`` and
    ``-`` are false; any other value (``1``, ``yes``, ``Y``, a promotion
    code such as ``SPRING10``) is true.
Ids
    Stripped text; integral float ids (``"17850.0"``, as spreadsheets and
    pandas write them) read as ``"17850"``; empty ids are missing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

_CURRENCY = r"[$€£\s\u00a0]"
_DECIMAL_COMMA = r"^-?[\d.]*\d,\d{1,2}$"
_TIME = r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*([AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
_SPLIT = r"^(\S+?)(?:[ T]+(.*))?$"
#: :data:`_SPLIT` with named groups for pyarrow (``sep`` is empty exactly when there is no time part).
_SPLIT_NAMED = r"^(?P<date>\S+?)(?P<sep>[ T]+(?P<time>.*))?$"
_FALSE_WORDS = ("", "0", "0.0", "false", "no", "n", "f", "none", "-", "nan", "null")


@dataclasses.dataclass(frozen=True)
class ParsedTimestamps:
    """The result of :func:`parse_timestamps`.

    Attributes
    ----------
    values : Series of datetime64
        Parsed timestamps, NaT where missing or unreadable (same index as the input).
    formats : tuple of str
        Date formats used, most common first (``"mixed"`` for the flexible fallback).
    secondary : Series of bool
        True where a value was read by a format other than the main one.
    unreadable : Series of bool
        True where a value was present but could not be read.
    """

    values: pd.Series
    formats: tuple[str, ...]
    secondary: pd.Series
    unreadable: pd.Series


def as_text(values: pd.Series) -> pd.Series:
    """Stripped text with empty strings as missing."""
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def distinct_text(values: pd.Series, blank_is_missing: bool = True) -> tuple[np.ndarray, pd.Series]:
    """Codes and distinct values of the stripped text of ``values``, stripped once per distinct value.

    The same as ``pd.factorize(as_text(values))`` (or, with ``blank_is_missing=False``,
    of ``values.astype("string").str.strip()``): codes in order of first appearance,
    -1 where missing.  Only the factorisation passes over every row, so a
    million-row column of a few thousand distinct amounts or dates costs little more.

    Returns
    -------
    (ndarray of int, Series of string)
        Code of each row and the distinct stripped texts.
    """
    raw = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    raw_codes, raw_uniques = pd.factorize(raw)
    text = pd.Series(raw_uniques, dtype="string").str.strip()
    if blank_is_missing:
        text = text.mask(text == "")
    inner, uniques = pd.factorize(text)
    return np.append(inner, -1)[raw_codes], pd.Series(uniques, dtype="string")


_DATE_FORMATS = (
    "%d-%m-%Y",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%y",
    "%d/%m/%y",
    "%m/%d/%y",
)


def parse_dates(values: pd.Series) -> tuple[pd.Series, str]:
    """Parse a text date column, choosing the format that reads the most values.

    Day-first formats win ties (the reference file is ``dd-mm-yyyy``).  Each
    distinct text is parsed once (a million enrolment dates hold a few
    thousand distinct days); the formats are ranked by the rows they read.

    Returns
    -------
    (Series of datetime64, str)
        The parsed dates (NaT where unparseable) and the format used.
    """
    codes, uniques = distinct_text(values, blank_is_missing=False)
    if len(uniques) == 0:
        text = values.astype("string").str.strip()
        return _parse_distinct_dates(text, np.ones(len(text), dtype=np.int64))
    weights = np.bincount(codes[codes >= 0], minlength=len(uniques))
    parsed, fmt = _parse_distinct_dates(uniques, weights)
    rows = parsed.take(np.where(codes >= 0, codes, 0))
    rows = rows.where(codes >= 0)
    rows.index = values.index
    return rows, fmt


def _parse_distinct_dates(text: pd.Series, weights: np.ndarray) -> tuple[pd.Series, str]:
    """:func:`parse_dates` on values that stand for ``weights`` rows each."""
    best: tuple[int, pd.Series, str] | None = None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        n = int(weights[parsed.notna().to_numpy()].sum())
        if best is None or n > best[0]:
            best = (n, parsed, fmt)
    assert best is not None
    parsed = best[1]
    if best[0] < int(weights[text.notna().to_numpy()].sum()):
        # Mixed formats: fill the gaps with each explicit format in turn, then
        # a flexible parse (year-first for ISO-looking text, else day-first).
        for fmt in _DATE_FORMATS:
            parsed = parsed.fillna(pd.to_datetime(text.where(parsed.isna()), format=fmt, errors="coerce"))
        rest = text.where(parsed.isna())
        iso = rest.str.match(r"^\d{4}\D").fillna(False).astype(bool)
        parsed = parsed.fillna(pd.to_datetime(rest.where(iso), errors="coerce", yearfirst=True, format="mixed"))
        parsed = parsed.fillna(pd.to_datetime(rest.where(~iso), errors="coerce", dayfirst=True, format="mixed"))
        return parsed, best[2] + "+mixed"
    return parsed, best[2]


def to_number(values: pd.Series) -> pd.Series:
    """Parse numbers written as text (see the module rules); unreadable → NaN.

    Parameters
    ----------
    values : Series
        Raw values (text or already numeric).

    Returns
    -------
    Series of float64
        Same index as ``values``.
    """
    return read_numbers(values)[0]


def non_numbers(values: pd.Series) -> pd.Series:
    """True where a value is present but :func:`to_number` cannot read it."""
    return read_numbers(values)[1]


def read_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers and where a present value was not a number, in one pass.

    Returns
    -------
    (Series of float64, Series of bool)
        The numbers (NaN where missing or unreadable) and the unreadable mask.
    """
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.astype("float64"), pd.Series(False, index=values.index)
    codes, text = distinct_text(values)
    nums = pd.to_numeric(text, errors="coerce").astype("float64")
    slow = nums.isna()
    if slow.any():
        rest = text[slow].str.replace(_CURRENCY, "", regex=True)
        decimal_comma = rest.str.match(_DECIMAL_COMMA).fillna(False).astype(bool)
        rest = rest.where(
            ~decimal_comma,
            rest.str.replace(".", "", regex=False).str.replace(",", ".", regex=False),
        )
        rest = rest.where(decimal_comma, rest.str.replace(",", "", regex=False))
        nums[slow] = pd.to_numeric(rest, errors="coerce").astype("float64")
    lookup = np.append(nums.to_numpy(dtype=float), np.nan)  # code -1 (missing) → NaN
    out = lookup[codes]
    bad = np.append(np.isnan(lookup[:-1]), False)[codes]
    return pd.Series(out, index=values.index), pd.Series(bad, index=values.index)


def to_flag(values: pd.Series) -> pd.Series:
    """Campaign/promotion flags as booleans (see the module rules)."""
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values):
        return (values.fillna(0) != 0).astype(bool)
    text = as_text(values).str.lower()
    codes, uniques = pd.factorize(text)
    truth = ~pd.Index(uniques).isin(_FALSE_WORDS)
    num = pd.to_numeric(pd.Series(uniques, dtype="string"), errors="coerce")
    truth = truth & ~(num == 0).fillna(False).to_numpy()
    lookup = np.append(np.asarray(truth, dtype=bool), False)  # code -1 (missing) → False
    return pd.Series(lookup[codes], index=values.index)


def to_ids(values: pd.Series) -> pd.Series:
    """Customer ids as stripped text (``"17850.0"`` → ``"17850"``); empty → missing."""
    codes, uniques = pd.factorize(as_text(values))
    clean = pd.Series(uniques, dtype="string").str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)
    return pd.Series(clean.array.take(codes, allow_fill=True), index=values.index, dtype="string")


def parse_timestamps(values: pd.Series) -> ParsedTimestamps:
    """Parse a date or date-time column that may mix formats (see the module rules).

    Parameters
    ----------
    values : Series
        Raw values: text, or datetimes (from Excel or Parquet, used as they are).

    Returns
    -------
    ParsedTimestamps
    """
    idx = values.index
    none = pd.Series(False, index=idx)
    if pd.api.types.is_datetime64_any_dtype(values):
        out = pd.to_datetime(values)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)
        return ParsedTimestamps(out.astype("datetime64[ns]"), ("native",), none, none)
    text = as_text(values.map(_iso_if_datetime) if values.dtype == object else values)
    codes, uniques = pd.factorize(text)
    if len(uniques) == 0:
        return ParsedTimestamps(pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]"), (), none, none)
    parts = _split_date_time(pd.Series(uniques, dtype="string"))
    dates, which = _parse_date_parts(parts[0])
    has_time = parts[1].notna()
    stamps = dates.where(~has_time, dates + _parse_time_parts(parts[1]))  # unreadable time → NaT

    bad_u = stamps.isna().to_numpy()
    counts = which[~bad_u].value_counts()
    formats = tuple(str(f) for f in counts.index)
    secondary_u = (which.to_numpy(dtype=object) != (formats[0] if formats else None)) & ~bad_u
    present = codes >= 0
    take = np.where(present, codes, 0)
    parsed = np.where(present, stamps.to_numpy(dtype="datetime64[ns]")[take], np.datetime64("NaT", "ns"))
    return ParsedTimestamps(
        values=pd.Series(parsed, index=idx, dtype="datetime64[ns]"),
        formats=formats,
        secondary=pd.Series(present & secondary_u[take], index=idx),
        unreadable=pd.Series(present & bad_u[take], index=idx),
    )


def _iso_if_datetime(v: object) -> object:
    """Datetime objects (from ``read_excel(dtype=object)``) as ISO text."""
    if isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "isoformat"):
        try:
            return pd.Timestamp(v).isoformat(sep=" ")
        except (TypeError, ValueError):
            return v
    return v


def _parse_date_parts(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Read distinct date strings format by format; returns (dates, format used per value)."""
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    which = pd.Series(None, index=text.index, dtype=object)
    remaining = text.dropna()
    while not remaining.empty:
        parsed, fmt = parse_dates(remaining)
        base = fmt.split("+")[0]
        strict = pd.to_datetime(remaining, format=base, errors="coerce")
        if strict.notna().sum() == 0:
            flexible = parsed.dropna()
            if not flexible.empty:
                result[flexible.index] = flexible.astype("datetime64[ns]")
                which[flexible.index] = "mixed"
            break
        hit = strict.notna()
        result[strict.index[hit]] = strict[hit].astype("datetime64[ns]")
        which[strict.index[hit]] = base
        remaining = remaining[~hit]
    return result, which


def _split_date_time(text: pd.Series) -> pd.DataFrame:
    """``text.str.extract(_SPLIT)`` (columns 0: date, 1: time or missing), by pyarrow's vectorised regex engine.

    A log holds hundreds of thousands of distinct timestamps; Python's ``re``
    one value at a time is the slow part of reading them.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.extract_regex(pa.array(text.to_numpy(dtype=object, na_value=None), pa.string()), _SPLIT_NAMED)
    except (ImportError, ValueError, TypeError):  # pragma: no cover - pyarrow is pinned; re is the fallback
        return text.str.extract(_SPLIT)
    matched = pd.Series(found.is_valid().to_numpy(zero_copy_only=False), index=text.index)
    date = pd.Series(found.field("date").to_pandas(), index=text.index, dtype="string").where(matched)
    has_time = matched & (pd.Series(found.field("sep").to_pandas(), index=text.index, dtype="string").str.len() > 0)
    time = pd.Series(found.field("time").to_pandas(), index=text.index, dtype="string").where(has_time.fillna(False))
    return pd.DataFrame({0: date, 1: time})


def _parse_time_parts(text: pd.Series) -> pd.Series:
    """``H:MM[:SS]`` with optional AM/PM as timedeltas; NaT where unreadable (each distinct text read once)."""
    codes, distinct = pd.factorize(text)
    if 0 < len(distinct) < len(text):
        parsed = _parse_time_parts(pd.Series(distinct, dtype="string"))
        return pd.Series(parsed.to_numpy().take(np.maximum(codes, 0)), index=text.index).where(codes >= 0)
    m = text.str.extract(_TIME)
    hours = pd.to_numeric(m[0], errors="coerce")
    minutes = pd.to_numeric(m[1], errors="coerce")
    seconds = pd.to_numeric(m[2], errors="coerce").fillna(0.0)
    ampm = m[3].str.lower().str.replace(".", "", regex=False)
    pm = (ampm == "pm").fillna(False).astype(bool)
    hours = hours.where(ampm.isna(), hours % 12 + 12 * pm)
    ok = hours.notna() & (hours < 24) & (minutes < 60) & (seconds < 61)
    total = (hours * 3600 + minutes * 60 + seconds).where(ok)
    return pd.to_timedelta(total, unit="s")
