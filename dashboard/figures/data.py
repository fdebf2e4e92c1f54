"""Pure builders for the data page: preview rows and detected column types.

No Dash components here: plain rows and column definitions that the page
hands to ``dash_ag_grid`` and Bootstrap tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.data.coerce import as_text, parse_timestamps, read_numbers

#: Rows shown in the preview grid.
PREVIEW_ROWS = 20
#: Values sampled per column to detect its type.
TYPE_SAMPLE = 500
_TYPE_LABELS = {"number": "Number", "date": "Date / time", "text": "Text", "empty": "Empty"}


def _cell(value: Any) -> str:
    """A cell as display text (missing → empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return str(value)


def preview_grid(table: pd.DataFrame, n_rows: int = PREVIEW_ROWS) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Row data and column definitions of the first ``n_rows`` rows.

    Fields are positional (``c0``, ``c1``, ...) so column names with dots or
    spaces cannot be misread as nested paths; the header shows the real name.

    Returns
    -------
    (rowData, columnDefs)
    """
    head = table.head(n_rows)
    fields = [f"c{i}" for i in range(head.shape[1])]
    values = head.to_numpy(dtype=object)
    rows = [{"_row": i + 2, **{f: _cell(v) for f, v in zip(fields, row, strict=True)}} for i, row in enumerate(values)]
    defs: list[dict[str, Any]] = [
        {"field": "_row", "headerName": "Row", "width": 70, "pinned": "left", "sortable": False, "filter": False},
    ]
    defs += [{"field": f, "headerName": str(c), "minWidth": 110} for f, c in zip(fields, table.columns, strict=True)]
    return rows, defs


def column_types(table: pd.DataFrame, sample: int = TYPE_SAMPLE) -> list[dict[str, Any]]:
    """What each column looks like: type, share filled, distinct values, examples.

    The type is read from the first ``sample`` non-empty values: ``number``
    when at least 80% read as numbers, ``date`` when at least 80% read as
    dates, else ``text`` (``empty`` when the column has no value).

    Returns
    -------
    list of dict
        ``column``, ``type``, ``type_label``, ``filled`` (0–1), ``distinct``,
        ``examples`` (up to 3 texts).
    """
    out = []
    n = len(table)
    for col in table.columns:
        text = as_text(table[col])
        present = text.notna()
        values = table[col].loc[present.to_numpy()].head(sample)
        kind = "empty"
        if len(values):
            numbers = float(read_numbers(values)[0].notna().mean())
            kind = "number" if numbers >= 0.8 else "text"
            if kind == "text" or pd.api.types.is_datetime64_any_dtype(values):
                dates = float(parse_timestamps(values).values.notna().mean())
                if dates >= 0.8:
                    kind = "date"
        examples = list(dict.fromkeys(text.loc[present].head(50).astype(str)))[:3]
        out.append(
            {
                "column": str(col),
                "type": kind,
                "type_label": _TYPE_LABELS[kind],
                "filled": float(present.mean()) if n else 0.0,
                "distinct": int(text.nunique()),
                "examples": examples,
            }
        )
    return out
