"""Snapshots: one data set at one as-of date, scored by one model version.

A :class:`Snapshot` keeps, per customer, the id, the segment key, the value
(``Customer_Value``) and the model's features, which is all that migration and
drift need.  Scoring a later period with the same saved model keeps the
segment identities (same keys, names and colours); a retrained model's
segments are matched to the old ones by :mod:`pipeline.timeline.matching`.

From one transaction log, :func:`log_datasets` builds the customers at
several as-of dates, each from the transactions up to that date only
(:func:`pipeline.data.transactions.prepare_transactions` with an as-of cut).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.features.definitions import ID_COLUMN

#: Column of the segment key in :attr:`Snapshot.customers`.
SEGMENT = "Segment"
#: Column of the customer's value (net spend) in :attr:`Snapshot.customers`.
VALUE = "Value"
#: Frequencies accepted by :func:`as_of_dates`.
FREQUENCIES = {"monthly": "ME", "quarterly": "QE"}


@dataclasses.dataclass(frozen=True)
class SegmentInfo:
    """A segment as the app shows it: stable key, display name, colour."""

    key: str
    name: str
    colour: str


@dataclasses.dataclass(frozen=True, eq=False)
class Snapshot:
    """One data set at one as-of date, scored by one model version.

    Attributes
    ----------
    data_name, data_hash : str
        The data set's name and content hash.
    as_of : date
        Reference date (only data up to it was used).
    model_id : str
        The model version (artifact id) that scored it.
    segments : tuple of SegmentInfo
        The model's segments, in model order.
    customers : DataFrame
        ``ID`` (text), ``Segment`` (key), ``Value`` (float, NaN if unknown)
        and the model's feature columns; one row per customer.
    features : tuple of str
        The feature columns of ``customers``.
    key_space : str
        The model whose segment keys are used: ``model_id``, or the earlier
        model a retrained one was matched to.  Two snapshots are comparable
        when their key spaces agree.
    """

    data_name: str
    data_hash: str
    as_of: dt.date
    model_id: str
    segments: tuple[SegmentInfo, ...]
    customers: pd.DataFrame
    features: tuple[str, ...]
    key_space: str = ""

    def __post_init__(self) -> None:
        if not self.key_space:
            object.__setattr__(self, "key_space", self.model_id)

    @property
    def n_customers(self) -> int:
        """Customers in the snapshot."""
        return len(self.customers)

    def segment_counts(self) -> dict[str, int]:
        """Customers per segment key, every segment listed (zeros included), model order."""
        counts = self.customers[SEGMENT].value_counts()
        return {s.key: int(counts.get(s.key, 0)) for s in self.segments}

    def names(self) -> dict[str, str]:
        """Display name per segment key."""
        return {s.key: s.name for s in self.segments}

    def colours(self) -> dict[str, str]:
        """Colour per segment key."""
        return {s.key: s.colour for s in self.segments}

    def summary(self) -> dict[str, Any]:
        """The ``{"as_of", "n_customers", "segments"}`` object of the CLI's JSON."""
        return {"as_of": self.as_of.isoformat(), "n_customers": self.n_customers, "segments": self.segment_counts()}


def segments_of(manifest: dict[str, Any]) -> tuple[SegmentInfo, ...]:
    """The segments of a model's manifest, in label order."""
    ordered = sorted(manifest["segments"], key=lambda s: int(s["label"]))
    return tuple(SegmentInfo(str(s["key"]), str(s["name"]), str(s.get("colour", "#888888"))) for s in ordered)


def snapshot_from_labels(
    customers: pd.DataFrame,
    labels: np.ndarray,
    segments: Sequence[SegmentInfo],
    features: Sequence[str],
    *,
    data_name: str,
    data_hash: str,
    as_of: dt.date,
    model_id: str,
) -> Snapshot:
    """A :class:`Snapshot` from customers and their segment labels (indices into ``segments``).

    Raises
    ------
    DataError
        Customer ids repeat (a snapshot holds each customer once).
    """
    ids = customers[ID_COLUMN].astype(str).to_numpy(dtype=object)
    frame = pd.DataFrame({ID_COLUMN: ids})
    if frame[ID_COLUMN].duplicated().any():
        dup = frame.loc[frame[ID_COLUMN].duplicated(), ID_COLUMN].head(3).tolist()
        raise DataError(
            f"{data_name}: customer ids repeat (e.g. {', '.join(dup)}); a snapshot holds each customer once."
        )
    keys = np.array([s.key for s in segments], dtype=object)
    frame[SEGMENT] = pd.Categorical.from_codes(np.asarray(labels, dtype=int), categories=list(keys))
    frame[VALUE] = customers["Customer_Value"].to_numpy(dtype=float) if "Customer_Value" in customers else np.nan
    for f in features:
        frame[f] = customers[f].to_numpy(dtype=float)
    return Snapshot(data_name, data_hash, as_of, model_id, tuple(segments), frame, tuple(features))


def score_snapshot(artifact: Any, dataset: Any) -> Snapshot:
    """Score ``dataset`` (a :class:`~pipeline.segmentation.training.Dataset`) with a saved model.

    The segment keys, names and colours are the model's, so every period
    scored with it keeps the segment identities.

    Raises
    ------
    DataError
        The data cannot be scored by this model (see
        :func:`pipeline.segmentation.training.validate_for_scoring`).
    """
    from pipeline.segmentation.training import validate_for_scoring

    manifest = artifact.manifest
    validate_for_scoring(dataset, manifest)
    labels = np.asarray(artifact.bundle["pipeline"].predict(dataset.customers), dtype=int)
    return snapshot_from_labels(
        dataset.customers,
        labels,
        segments_of(manifest),
        [str(f["name"]) for f in manifest["features"]],
        data_name=dataset.name,
        data_hash=dataset.data_hash,
        as_of=dataset.as_of,
        model_id=str(manifest["artifact_id"]),
    )


def as_of_dates(start: dt.date, end: dt.date, frequency: str) -> list[dt.date]:
    """Month or quarter ends from ``start`` to ``end`` (both included when they are period ends).

    Raises
    ------
    DataError
        Unknown frequency, or no period end between the two dates.
    """
    if frequency not in FREQUENCIES:
        raise DataError(f"Unknown frequency {frequency!r}; choose {' or '.join(FREQUENCIES)}.")
    dates = [d.date() for d in pd.date_range(start, end, freq=FREQUENCIES[frequency])]
    if not dates:
        raise DataError(f"No {frequency} period ends between {start.isoformat()} and {end.isoformat()}.")
    return dates


def log_datasets(raw: bytes, name: str, dates: Sequence[dt.date], settings: Settings, mapping: Any = None) -> list[Any]:
    """The customers of a transaction log at each as-of date, from the transactions up to that date only.

    Parameters
    ----------
    raw : bytes
        The log file's content (read once).
    name : str
        The file's name (messages, snapshot name).
    dates : sequence of date
        As-of dates, in any order; each must fall within the log.
    settings : Settings
        ``k`` and features (the as-of date is replaced per date).
    mapping : Mapping or None
        The log's column mapping; ``None`` detects it.

    Returns
    -------
    list of Dataset
        One per date, in the order given.

    Raises
    ------
    DataError
        The file is not a transaction log, or a date lies before the first
        purchase or after the last line of the log.
    """
    from pipeline.data.ingest import validate_table
    from pipeline.data.reading import read_table
    from pipeline.segmentation.training import dataset_from_validation

    table = read_table(raw, name)
    whole = validate_table(table, mapping, settings.replace(as_of=None), name)
    if whole.kind != "transactions":
        raise DataError(
            f"{name} is not a transaction log; snapshots at several dates need one (or two customer tables)."
        )
    first, last = log_span(dataset_from_validation(whole, raw).customers, whole.as_of)
    for d in dates:
        if not first <= d <= last:
            raise DataError(
                f"The as-of date {d.isoformat()} is outside {name}, which runs from {first.isoformat()} "
                f"to {last.isoformat()}; choose dates within it."
            )
    return [
        dataset_from_validation(validate_table(table, whole.mapping, settings.replace(as_of=d), name), raw)
        for d in dates
    ]


def log_span(customers: pd.DataFrame, as_of: dt.date | None) -> tuple[dt.date, dt.date]:
    """First purchase day and last day (the uncut as-of date) of an aggregated log."""
    first = pd.to_datetime(customers["Enrolled"]).min().date()
    return first, as_of or first
