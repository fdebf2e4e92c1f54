"""What identifies a comparison: its format, its settings hash and its cache path."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.config import Settings
from pipeline.segmentation.training import Dataset
from pipeline.store.artifacts import artifact_id, library_versions

#: Bump when the computation changes, so cached comparisons are recomputed.
COMPARISON_FORMAT = 2


def comparison_hash(settings: Settings) -> str:
    """SHA-256 of everything that changes a comparison's result.

    Every field of :meth:`Settings.model_fields` except ``model`` (all models
    are compared), plus ``bootstrap_resamples``, ``max_exact_rows``, the
    versions of the numerical libraries and :data:`COMPARISON_FORMAT`.
    """
    fields = {k: v for k, v in settings.model_fields().items() if k != "model"}
    versions = library_versions()
    fields.update(
        bootstrap_resamples=settings.bootstrap_resamples,
        max_exact_rows=settings.max_exact_rows,
        format=COMPARISON_FORMAT,
        libraries={lib: versions.get(lib) for lib in ("scikit-learn", "numpy", "scipy")},
    )
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def comparison_path(dataset: Dataset, settings: Settings) -> Path:
    """Where the cached comparison of ``dataset`` under ``settings`` lives."""
    name = artifact_id(dataset.name, dataset.data_hash, comparison_hash(settings))
    return settings.models_dir / "comparisons" / f"{name}.json"
