"""The comparison cache: JSON beside the artifacts (never pickle), ignored when its hashes differ."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from pipeline.config import Settings
from pipeline.segmentation.comparison.keys import COMPARISON_FORMAT, comparison_hash, comparison_path
from pipeline.segmentation.comparison.result import ComparisonResult
from pipeline.segmentation.comparison.run import Progress, run_comparison
from pipeline.segmentation.training import Dataset
from pipeline.store.artifacts import write_json_atomic


def load_or_run_comparison(
    dataset: Dataset, settings: Settings, *, progress: Progress | None = None, force: bool = False
) -> tuple[ComparisonResult, bool]:
    """The cached comparison if it matches, else a fresh one (then cached).

    Returns
    -------
    (result, cached)
        ``result`` as :func:`run_comparison`; ``cached`` is True when it was
        read from disk.  A cache file that cannot be read, or whose recorded
        ``settings_hash``, ``data_hash`` or ``format`` differ, is ignored and
        overwritten.  If the cache cannot be written (read-only folder) the
        fresh result is still returned.
    """
    path = comparison_path(dataset, settings)
    if not force:
        cached = read_cached(path, dataset, settings)
        if cached is not None:
            return cached, True
    result = run_comparison(dataset, settings, progress=progress)
    with contextlib.suppress(OSError):
        write_json_atomic(path, result.to_dict())
    return result, False


def read_cached(path: Path, dataset: Dataset, settings: Settings) -> ComparisonResult | None:
    """The comparison stored at ``path`` if it is a valid comparison of this data under these settings."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    expected = {"format": COMPARISON_FORMAT, "settings_hash": comparison_hash(settings), "data_hash": dataset.data_hash}
    if any(data.get(k) != v for k, v in expected.items()):
        return None
    try:
        return ComparisonResult.from_dict(data)
    except (ValueError, TypeError, KeyError, AttributeError):  # written by another version of the fields
        return None
