"""Model comparison page: server-side access to the cached comparison, and the training form's checks."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from dashboard import jobs
from pipeline.config import SCALINGS, Settings
from pipeline.errors import DataError
from pipeline.segmentation import registry
from pipeline.segmentation.compare import (
    ComparisonResult,
    comparison_path,
)
from pipeline.segmentation.training import Dataset, settings_for_dataset

#: Smallest and largest k the training form accepts (as :class:`pipeline.config.Settings`).
K_MIN, K_MAX = 2, 12


_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def model_count() -> str:
    """How many models the registry holds, in words ("six")."""
    n = len(registry.MODELS)
    return _WORDS[n] if n < len(_WORDS) else f"{n:,}"


def comparison_inputs(artifact_id: str, settings: Settings) -> tuple[Dataset, Settings]:
    """The data of an artifact and the settings its comparison is computed with.

    Raises
    ------
    SegmentationError
        The artifact cannot be read, or its data cannot be segmented.
    """
    dataset, trained_with = jobs.dataset_from_artifact(artifact_id, settings)
    return dataset, settings_for_dataset(dataset, trained_with)


def cached_comparison(artifact_id: str, settings: Settings) -> dict[str, Any] | None:
    """The cached comparison of an artifact, or None when it has not been computed.

    Parsed files are kept per process (the service's ``memo``, keyed by the
    file's modification time and size), so the page's callbacks share one
    read.  Treat the result as read-only.
    """
    from pipeline.segmentation.compare import read_cached  # with the comparison's fitting code: not at the app's start

    dataset, compare_settings = _comparison_key(artifact_id, settings)
    try:
        stat = comparison_path(dataset, compare_settings).stat()
    except OSError:
        return None
    return jobs.current_service().memo(
        "comparisons",
        (artifact_id, settings, stat.st_mtime_ns, stat.st_size),
        lambda: _json_form(read_cached(comparison_path(dataset, compare_settings), dataset, compare_settings)),
        max_items=8,
    )


def _json_form(result: ComparisonResult | None) -> dict[str, Any] | None:
    """The JSON form the figure builders of :mod:`dashboard.figures.models` read."""
    return None if result is None else result.to_dict()


def _comparison_key(artifact_id: str, settings: Settings) -> tuple[Dataset, Settings]:
    """:func:`comparison_inputs` without the customers (an artifact never changes: cached per process)."""

    def inputs() -> tuple[Dataset, Settings]:
        dataset, compare_settings = comparison_inputs(artifact_id, settings)
        return dataclasses.replace(dataset, customers=dataset.customers.iloc[:0]), compare_settings

    return jobs.current_service().memo("comparison-inputs", (artifact_id, settings), inputs, max_items=64)


def native_models() -> dict[str, bool]:
    """Model name → whether it scores new customers itself (from the model registry)."""
    return {name: spec.predicts_natively for name, spec in registry.MODELS.items()}


def training_overrides(model: str | None, k: Any, scaling: str | None) -> dict[str, Any]:
    """The settings to train, checked; density models take no k.

    Raises
    ------
    DataError
        Unknown model or scaling, or k not a whole number from 2 to 12.
    """
    if model not in registry.MODELS:
        raise DataError("Choose a model to train.")
    if scaling not in SCALINGS:
        raise DataError("Choose a scaling.")
    overrides: dict[str, Any] = {"model": model, "scaling": scaling}
    if registry.takes_k(model):
        overrides["k"] = parse_k(k)
    return overrides


def parse_k(k: Any) -> int:
    """``k`` as a whole number from :data:`K_MIN` to :data:`K_MAX`.

    Raises
    ------
    DataError
        Missing, not a whole number, or out of range.
    """
    try:
        value = float(k)
    except (TypeError, ValueError):
        raise DataError(f"Number of segments: enter a whole number from {K_MIN} to {K_MAX}.") from None
    if not math.isfinite(value) or value != int(value) or not K_MIN <= value <= K_MAX:
        raise DataError(f"Number of segments: enter a whole number from {K_MIN} to {K_MAX} (got {k}).")
    return int(value)
