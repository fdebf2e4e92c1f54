"""The data-quality report: everything the loader dropped, fixed or flagged."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class QualityItem:
    """One thing the loader did to the data.

    Parameters
    ----------
    kind : str
        Machine key, e.g. ``"blank_rows"`` or ``"income_imputed"``.
    action : str
        ``"dropped"``, ``"imputed"``, ``"fixed"``, ``"flagged"`` or ``"info"``.
    count : int
        Rows or values concerned.
    message : str
        One plain-language sentence.
    column : str or None
        The column concerned, if any.
    examples : tuple of str
        A few example values or row numbers.
    """

    kind: str
    action: str
    count: int
    message: str
    column: str | None = None
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        d = dataclasses.asdict(self)
        d["examples"] = list(self.examples)
        return d


@dataclasses.dataclass(frozen=True)
class DataQualityReport:
    """Counts of what happened between the file and the customer table."""

    rows_read: int
    rows_kept: int
    items: tuple[QualityItem, ...] = ()

    @property
    def rows_dropped(self) -> int:
        """Rows read but not kept."""
        return self.rows_read - self.rows_kept

    def count(self, action: str) -> int:
        """Total count over items with ``action``."""
        return sum(i.count for i in self.items if i.action == action)

    def with_items(self, *items: QualityItem) -> DataQualityReport:
        """A new report with ``items`` appended (items with count 0 are skipped)."""
        kept = tuple(i for i in items if i.count > 0)
        return dataclasses.replace(self, items=self.items + kept)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, as stored in the manifest and printed by the CLI."""
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_dropped": self.rows_dropped,
            "values_imputed": self.count("imputed"),
            "values_fixed": self.count("fixed"),
            "rows_flagged": self.count("flagged"),
            "items": [i.to_dict() for i in self.items],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataQualityReport:
        """Inverse of :meth:`to_dict`."""
        items = tuple(QualityItem(**{**i, "examples": tuple(i.get("examples", ()))}) for i in data["items"])
        return cls(rows_read=data["rows_read"], rows_kept=data["rows_kept"], items=items)

    def lines(self) -> list[str]:
        """Human-readable summary, one line per item."""
        head = f"{self.rows_read:,} rows read, {self.rows_kept:,} rows kept"
        return [head] + [f"- {i.message}" for i in self.items]
