"""Server-side data of the "Over time" page (/changes): snapshots by owner, reports memoised per process.

Snapshots come from two places:

* the **built-in series**: four quarters of generated customers with planted
  migrations (:mod:`pipeline.synthetic.series`), scored by one model trained
  on the first quarter; readable by everyone, ids ``builtin-0`` ... ``builtin-3``;
* the request owner's **stored snapshots** (:class:`pipeline.store.snapshots.SnapshotStore`,
  owner checked on every read): saved from the session's data set on the page,
  or with ``python -m pipeline snapshot --owner``.

Everything heavy (generating and scoring the built-in series, the migration
and drift of a pair) is computed once per process and key through
:meth:`dashboard.services.SegmentationService.memo`; a callback never refits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

import pandas as pd

from dashboard.services import ArtifactView, service
from pipeline.errors import AccessDenied, DataError
from pipeline.store.db import database_path
from pipeline.store.snapshots import SNAPSHOT_NOT_AVAILABLE, SnapshotRecord, SnapshotStore
from pipeline.timeline.matching import SegmentMatch, match_snapshots
from pipeline.timeline.report import ChangeReport, compare_snapshots
from pipeline.timeline.snapshot import Snapshot, segments_of, snapshot_from_labels

BUILTIN_PREFIX = "builtin-"
BUILTIN_SERIES = "Built-in series (planted migrations)"
BUILTIN_CUSTOMERS = 2_000
BUILTIN_PERIODS = 4


@dataclasses.dataclass(frozen=True)
class SnapshotOption:
    """One entry of the snapshot pickers."""

    id: str
    label: str
    series: str
    as_of: dt.date


@dataclasses.dataclass(frozen=True, eq=False)
class PairReport:
    """A compared pair: the report, and the segment matching when the later snapshot had another model."""

    report: ChangeReport
    matches: tuple[SegmentMatch, ...] = ()


def store() -> SnapshotStore:
    """The snapshot store of the app's state database."""
    return store_for(service().settings)


def builtin_series() -> list[Snapshot]:
    """The built-in series (computed once per process; the model is cached on disk by ``train``)."""

    def build() -> list[Snapshot]:
        from pipeline.segmentation.training import dataset_from_bytes
        from pipeline.synthetic.customers import to_text_bytes
        from pipeline.synthetic.series import generate_series
        from pipeline.timeline.build import score_all

        settings = service().settings
        tables, _truth = generate_series(BUILTIN_CUSTOMERS, BUILTIN_PERIODS, seed=11)
        datasets = [
            dataset_from_bytes(to_text_bytes(t, ","), f"customers_{d.isoformat()}.csv", settings) for d, t in tables
        ]
        return score_all(datasets, settings.replace(as_of=None))

    return service().memo("changes-builtin", BUILTIN_SERIES, build, max_items=1)


def options(owner: str | None = None) -> list[SnapshotOption]:
    """The built-in series then the owner's stored snapshots (and the server's), oldest first per series."""
    from pipeline.synthetic.series import period_dates

    # The built-in series' dates are known without building it (that happens when a pair is first compared).
    out = [
        SnapshotOption(f"{BUILTIN_PREFIX}{i}", f"{d.isoformat()} · built-in series", BUILTIN_SERIES, d)
        for i, d in enumerate(period_dates(BUILTIN_PERIODS))
    ]
    records: list[SnapshotRecord] = store().list(service().owner(owner))
    out += [SnapshotOption(r.id, r.label, r.series, r.as_of) for r in records]
    return out


def load(snapshot_id: str | None, owner: str | None = None) -> Snapshot:
    """A snapshot the owner may read; :class:`AccessDenied` (one message) otherwise."""
    sid = str(snapshot_id or "")
    if sid.startswith(BUILTIN_PREFIX):
        series = builtin_series()
        index = sid[len(BUILTIN_PREFIX) :]
        if index.isdigit() and int(index) < len(series):
            return series[int(index)]
        raise AccessDenied(SNAPSHOT_NOT_AVAILABLE)
    who = service().owner(owner)
    return service().memo("changes-snapshot", (who, sid), lambda: store().load(who, sid), max_items=8)


def pair(from_id: str | None, to_id: str | None, owner: str | None = None) -> PairReport:
    """Migration and drift from one snapshot to a later one (memoised per owner and pair).

    A later snapshot scored by another model has its segments matched to the
    earlier ones by centroid first (Hungarian assignment), and the matches are returned.

    Raises
    ------
    SegmentationError
        Not readable (:class:`AccessDenied`), or not comparable (same date, no shared customers...).
    """
    who = service().owner(owner)

    def compute() -> PairReport:
        before, after = load(from_id, who), load(to_id, who)
        matches: tuple[SegmentMatch, ...] = ()
        if after.key_space != before.key_space:
            after, found = match_snapshots(before, after)
            matches = tuple(found)
        return PairReport(compare_snapshots(before, after), matches)

    return service().memo("changes-pair", (who, str(from_id), str(to_id)), compute, max_items=8)


def series_shares(from_id: str | None, owner: str | None = None) -> list[tuple[dt.date, dict[str, float]]]:
    """Segment shares of every snapshot in the series and key space of ``from_id``, by as-of date."""
    who = service().owner(owner)
    first = load(from_id, who)
    chosen = next((o for o in options(who) if o.id == from_id), None)
    if chosen is None:
        raise AccessDenied(SNAPSHOT_NOT_AVAILABLE)
    points = []
    for o in options(who):
        if o.series != chosen.series:
            continue
        snap = load(o.id, who)
        if snap.key_space != first.key_space:
            continue
        counts = snap.segment_counts()
        total = max(1, snap.n_customers)
        points.append((snap.as_of, {k: n / total for k, n in counts.items()}))
    return sorted(points, key=lambda p: p[0])


def save_current(v: ArtifactView, owner: str | None = None) -> SnapshotRecord:
    """Store the session's data set, as scored by its model, as a snapshot of the owner (series: the data's name).

    Raises
    ------
    DataError
        The scored customers lack ids.
    """
    m = v.manifest
    segments = segments_of(m)
    keys = [s.key for s in segments]
    if "ID" not in v.customers:
        raise DataError("This data set has no customer ids; snapshots need them to follow customers over time.")
    labels = pd.Index(keys).get_indexer(v.customers["Segment"].astype(str))
    snap = snapshot_from_labels(
        v.customers,
        labels,
        segments,
        [f["name"] for f in m["features"]],
        data_name=str(m["data"]["name"]),
        data_hash=str(m["data"]["hash"]),
        as_of=dt.date.fromisoformat(m["data"]["as_of"]),
        model_id=str(m["artifact_id"]),
    )
    return store().add(service().owner(owner), snap, series=str(m["data"]["name"]))


# ---------------------------------------------------------------- snapshots of an uploaded log (a background job)

#: Most snapshots one job stores (the latest period ends are kept).
MAX_LOG_SNAPSHOTS = 12


def run_log_snapshots(context: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``snapshots``: the owner's uploaded transaction log at every month or quarter end, scored by its model.

    Parameters (JSON): ``artifact`` (a version the owner trained on an
    upload of a transaction log) and ``every`` (``"monthly"`` or
    ``"quarterly"``).  Each snapshot uses only the lines up to its date and
    is stored as the owner's, in the series ``"<data name> · <every>"``.

    Raises
    ------
    SegmentationError
        Not the owner's version or upload, not a transaction log, no period end in the log.
    """
    from dashboard.uploads import upload_bytes
    from pipeline.data.mapping import Mapping
    from pipeline.store.artifacts import load_artifact, valid_artifact_id
    from pipeline.store.registry import Registry
    from pipeline.timeline.snapshot import FREQUENCIES, as_of_dates, log_datasets, score_snapshot

    settings, owner = context.settings, context.owner
    artifact_id = str(parameters.get("artifact") or "")
    every = str(parameters.get("every") or "quarterly")
    if every not in FREQUENCIES or not valid_artifact_id(artifact_id):
        raise DataError("Choose a model version and monthly or quarterly snapshots.")
    registry = Registry(database_path(settings))
    version = registry.version(owner, artifact_id)  # AccessDenied unless readable by the owner
    if not version.mine or not version.source.startswith("upload:"):
        raise DataError("Snapshots at several dates are made from a transaction log you uploaded (on Your data).")
    key = version.source.split(":", 1)[1]
    artifact = load_artifact(settings.models_dir / artifact_id, settings)
    data = artifact.manifest["data"]
    if data.get("kind") != "transactions":
        raise DataError(
            f"{data['name']} is a customer table: one state of the customers. Snapshots at several dates need a transaction log."
        )
    start = dt.date.fromisoformat((data.get("period") or {}).get("start") or data["as_of"])
    dates = as_of_dates(start, dt.date.fromisoformat(data["as_of"]), every)[-MAX_LOG_SNAPSHOTS:]
    context.progress(5, f"Aggregating {data['name']} at {len(dates)} dates", creep_to=60)
    mapping = Mapping.from_dict(data["mapping"]) if data.get("mapping") else None
    raw = upload_bytes(key, settings, owner)  # the one reader of stored uploads: owner-checked, under the data folder
    datasets = log_datasets(raw, str(data["name"]), dates, settings.replace(as_of=None), mapping)
    snapshots = store_for(settings)
    series = f"{data['name']} · {every}"
    ids_ = []
    for i, dataset in enumerate(datasets):
        ids_.append(snapshots.add(owner, score_snapshot(artifact, dataset), series=series).id)
        context.progress(60 + 40 * (i + 1) / len(datasets), f"Stored {i + 1} of {len(datasets)} snapshots")
    return {"series": series, "ids": ids_}


def store_for(settings: Any) -> SnapshotStore:
    """The snapshot store of ``settings`` (in a job child, where there is no app)."""
    return SnapshotStore(database_path(settings), settings.data_dir / "snapshots")


def estimate_log_snapshots(parameters: dict[str, Any], settings: Any, owner: str) -> int:
    """Peak bytes: the log read once and aggregated per date, plus scoring (as a training of that version)."""
    from dashboard.tasks import BYTES_PER_UPLOAD_BYTE, estimate_train

    size = 0
    with contextlib.suppress(Exception):
        from pipeline.store.registry import Registry

        registry = Registry(database_path(settings))
        version = registry.version(owner, str(parameters.get("artifact")))
        size = registry.upload(owner, version.source.split(":", 1)[1]).size
    return int(
        estimate_train({"source": {"artifact": parameters.get("artifact")}}, settings, owner)
        + BYTES_PER_UPLOAD_BYTE * size
    )
