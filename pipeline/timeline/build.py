"""Use cases shared by the CLI and the app: snapshots from files, with a saved or freshly trained model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.timeline.matching import SegmentMatch, match_snapshots
from pipeline.timeline.report import ChangeReport, compare_snapshots
from pipeline.timeline.snapshot import Snapshot, log_datasets, score_snapshot


def load_model(model: str | Path, settings: Settings) -> Any:
    """A saved model by artifact id (in ``settings.models_dir``) or folder; only this installation's signed ones.

    Raises
    ------
    ArtifactError
        Missing, foreign or tampered with.
    """
    from pipeline.store.artifacts import load_artifact, valid_artifact_id

    text = str(model)
    directory = settings.models_dir / text if valid_artifact_id(text) else Path(text)
    return load_artifact(directory, settings)


def train_model(dataset: Any, settings: Settings) -> Any:
    """Train (or reuse) a model on ``dataset`` with its usable features."""
    from pipeline.segmentation.training import settings_for_dataset, train

    return train(dataset, settings_for_dataset(dataset, settings)).artifact


def datasets_at(path: Path, dates: list[dt.date], settings: Settings, mapping: str | Path | None = None) -> list[Any]:
    """The customers of one file at ``dates``.

    A transaction log gives the customers at each date from the lines up to
    it (:func:`pipeline.timeline.snapshot.log_datasets`, dates checked against
    the log's span); any other table has one state, so one date only.

    Raises
    ------
    DataError
        Several dates for a customer table, or dates outside the log.
    """
    from pipeline.data.detect import detect_kind
    from pipeline.data.mapping import Mapping
    from pipeline.data.reading import file_bytes, read_table
    from pipeline.segmentation.training import load_dataset

    raw = file_bytes(path)
    name = Path(path).name
    loaded = Mapping.load(mapping) if mapping is not None else None
    kind = loaded.kind if loaded is not None else detect_kind(read_table(raw, name)).kind
    if kind == "transactions":
        return log_datasets(raw, name, dates, settings, loaded)
    if len(dates) != 1:
        raise DataError(f"{name} is a customer table, one state of the customers; give two tables (--from, --to).")
    return [load_dataset(path, settings.replace(as_of=dates[0]), loaded)]


def check_dates(start: dt.date, end: dt.date) -> None:
    """Refuse a 'to' date that is not after the 'from' date."""
    if end <= start:
        raise DataError(
            f"The 'to' date {end.isoformat()} must be after the 'from' date {start.isoformat()}; "
            "migration runs forward in time."
        )


def score_all(datasets: list[Any], settings: Settings, model: str | Path | None = None) -> list[Snapshot]:
    """Every data set scored by one model: ``model``, or one trained on the first data set."""
    artifact = load_model(model, settings) if model is not None else train_model(datasets[0], settings)
    return [score_snapshot(artifact, d) for d in datasets]


def retrained(before: Snapshot, dataset: Any, settings: Settings) -> tuple[Snapshot, list[SegmentMatch]]:
    """``dataset`` scored by a model retrained on it, its segments matched to ``before``'s by centroid."""
    return match_snapshots(before, score_snapshot(train_model(dataset, settings), dataset))


def change_report(before: Snapshot, after: Snapshot) -> ChangeReport:
    """Migration and drift (see :func:`pipeline.timeline.report.compare_snapshots`)."""
    return compare_snapshots(before, after)
