"""The "how measured" note of a comparison: in ``compare --json``, the text output and on the /models page (issue #12).

A lowered ``max_exact_rows`` stands in for a million customers: the note
must say how many customers each model was fitted and scored on, and that
the labels of the rest are predicted.  No wall clock here (the 1 M-customer
timing is ``python -m benchmarks.bench_compare --large-rows 1000000``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard.model_comparison.blocks import sampled_note
from pipeline.cli.compare import comparison_text
from pipeline.config import Settings
from pipeline.data.quality import DataQualityReport
from pipeline.segmentation.compare import run_comparison
from pipeline.segmentation.training import Dataset

SAMPLED = (
    "How measured: each model was fitted and scored on a sample of the 400 customers (KMeans, Agglomerative (Ward), "
    "Gaussian mixture, Birch, DBSCAN and HDBSCAN on 300); the scores and segment shares here are of those customers, "
    "the others are not scored. Trained on this data, KMeans, Gaussian mixture and Birch are fitted on all 400 and "
    "Agglomerative (Ward), DBSCAN and HDBSCAN on 300, and the labels of the rest are predicted (nearest segment centre)."
)


def _dataset(n_per_blob: int, extra: int) -> tuple[Dataset, tuple[str, ...]]:
    rng = np.random.default_rng(2)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    X = np.vstack([*(rng.normal(c, 0.6, size=(n_per_blob, 2)) for c in centres), rng.normal(3, 3, size=(extra, 2))])
    frame = pd.DataFrame(X, columns=["f0", "f1"])
    frame.insert(0, "ID", np.arange(len(X)))
    report = DataQualityReport(rows_read=len(X), rows_kept=len(X))
    return Dataset("blobs", "hash-blobs", frame, report, dt.date(2020, 1, 1)), ("f0", "f1")


def _text(component: Any) -> str:
    """All the text of a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


@pytest.fixture(scope="module")
def sampled() -> dict[str, Any]:
    dataset, cols = _dataset(120, 40)
    return run_comparison(dataset, Settings(features=cols, max_exact_rows=300, bootstrap_resamples=2)).to_dict()


def test_the_note_says_who_was_fitted_and_scored_and_that_the_rest_is_predicted(sampled: dict[str, Any]) -> None:
    assert sampled["sampled"]["how_measured"] == SAMPLED
    assert all(m["sampled_rows"] == 300 for m in sampled["models"])


def test_the_note_is_in_the_text_output_and_on_the_models_page(sampled: dict[str, Any]) -> None:
    assert SAMPLED in comparison_text({**sampled, "cached": False, "cache_path": ""}).splitlines()
    shown = _text(sampled_note(sampled))
    assert sampled["sampled"]["message"] in shown and SAMPLED in shown


def test_without_sampling_the_note_says_every_customer() -> None:
    dataset, cols = _dataset(20, 0)
    result = run_comparison(dataset, Settings(features=cols, bootstrap_resamples=2)).to_dict()
    note = "How measured: every model was fitted and scored on all 60 customers."
    assert result["sampled"]["how_measured"] == note
    assert note in _text(sampled_note(result))


def test_above_ten_samples_the_stratifying_kmeans_is_fitted_on_a_subsample_and_predicted() -> None:
    from pipeline.segmentation.comparison.fitting import REFERENCE_FIT_FACTOR, _reference_segments, make_plan

    dataset, _ = _dataset(500, 0)
    X = dataset.customers[["f0", "f1"]].to_numpy()
    settings = Settings(features=("f0", "f1"), max_exact_rows=100, bootstrap_resamples=2)
    assert len(X) > REFERENCE_FIT_FACTOR * settings.max_exact_rows
    segments = _reference_segments(X, settings)
    assert segments.shape == (1500,) and set(np.unique(segments)) == {0, 1, 2, 3}
    plan = make_plan(X, settings)
    # Each of the four segments gets its share of 100 rounded to the nearest row: 99 customers, each once.
    assert len(plan.rows) == 99 and len(np.unique(plan.rows)) == 99 and plan.n_total == 1500
