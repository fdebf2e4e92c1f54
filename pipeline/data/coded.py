"""A column as codes into its distinct values, so a rule runs once per distinct value.

A transaction log has far fewer distinct customer ids, timestamps and order ids
than lines, and :func:`pipeline.data.log_scan.scan_log` already reads them
dictionary-encoded.  :mod:`pipeline.data.transactions` cleans and parses each
distinct value once and carries the result to the lines by their codes, so the
result is the same however the table was read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from pipeline.data.loading import example_rows, example_values


@dataclasses.dataclass(frozen=True, eq=False)
class Coded:
    """A column as codes into its distinct values (a dictionary encoding).

    Attributes
    ----------
    codes : ndarray of int64
        Per line, the position of its value in ``uniques``; -1 where missing.
    uniques : Series
        The distinct raw values (RangeIndex), as read.
    """

    codes: np.ndarray
    uniques: pd.Series

    @classmethod
    def of(cls, values: pd.Series) -> Coded:
        """Encode a column: a categorical's own codes, else :func:`pandas.factorize`."""
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.int64)
            return cls(codes, pd.Series(values.cat.categories).reset_index(drop=True))
        codes, uniques = pd.factorize(values)
        return cls(np.asarray(codes, dtype=np.int64), pd.Series(uniques).reset_index(drop=True))

    def take(self, per_value: np.ndarray, missing: Any) -> np.ndarray:
        """``per_value`` (one entry per distinct value) carried to the lines; ``missing`` where a line has none."""
        return np.append(np.asarray(per_value), np.asarray([missing], dtype=np.asarray(per_value).dtype))[self.codes]

    def texts(self, text: pd.Series, mask: np.ndarray, index: pd.Index, n: int = 200) -> pd.Series:
        """The text (``text``: one entry per distinct value) of the first ``n`` lines in ``mask``, by row label."""
        pos = np.flatnonzero(mask)[:n]
        codes = self.codes[pos]
        values = np.full(len(pos), None, dtype=object)
        if len(text):
            values = text.take(np.maximum(codes, 0)).to_numpy(dtype=object, na_value=None)
            values[codes < 0] = None
        return pd.Series(values, index=index[pos], dtype=object)

    def example_rows(self, text: pd.Series, mask: np.ndarray, index: pd.Index) -> str:
        """:func:`pipeline.data.loading.example_rows` of the lines in ``mask``."""
        shown = self.texts(text, mask, index)
        return example_rows(shown, np.ones(len(shown), dtype=bool))

    def example_values(self, text: pd.Series, mask: np.ndarray) -> tuple[str, ...]:
        """:func:`pipeline.data.loading.example_values` of the lines in ``mask``."""
        shown = self.texts(text, mask, pd.RangeIndex(len(mask)), n=50)
        return example_values(shown, np.ones(len(shown), dtype=bool))
