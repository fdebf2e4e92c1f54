"""Uploaded files and the background training job (data page and model-comparison page).

Uploads
-------
An upload arrives as a ``dcc.Upload`` data URL.  :func:`store_upload`
decodes it, refuses it with one clear sentence (:class:`DataError`) when it is
too big, empty, not a table, binary junk, a spreadsheet with title rows above
the header, or a single row, and otherwise writes it to
``settings.data_dir/uploads/<key>.upload`` and records it, with its owner,
size and SHA-256, in the registry (:mod:`pipeline.store.registry`).  The same
bytes uploaded again by the same owner are stored once.  Every function that
reads an upload takes the ``owner`` (the current request's when not given)
and raises :class:`~pipeline.errors.AccessDenied` for a key that is not
theirs.  The key is a random UUID made
here; the user's file name is only ever shown, never used as a path.  Nothing
uploaded is ever unpickled: tables are parsed by :func:`pipeline.data.loading.read_table`
(text, XLSX, Parquet) and mappings by :meth:`pipeline.data.mapping.Mapping.from_json`.

Uploaded files are immutable, so parsed tables and validations are kept in a
small per-process LRU cache keyed by the upload key (like the artifact cache
of :mod:`dashboard.services`): any worker process can rebuild them from disk.

Training
--------
:func:`train_job` builds the data set from a :class:`TrainSource` (the
built-in sample, an upload + mapping, or the data of an existing artifact),
trains through :func:`pipeline.segmentation.training.train` and reports
progress through a :class:`Reporter` (``progress(percent, message,
creep_to=None)``; increasing percentages ending at 100).  It runs as a job of
the one job runner (:mod:`dashboard.runner`, wired in :mod:`dashboard.tasks`),
in a child process with no Flask request: the runner's
:class:`~dashboard.runner.JobContext` is the reporter and brings the settings
and the owner that submitted the job.  User mistakes raise
:class:`~pipeline.errors.SegmentationError` with a message to show.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Protocol

import dash
import flask
import pandas as pd

from pipeline.config import Settings, parse_date
from pipeline.data.detect import Detection, detect_kind
from pipeline.data.ingest import Validation, validate_table
from pipeline.data.loading import read_table
from pipeline.data.mapping import Mapping
from pipeline.data.quality import DataQualityReport
from pipeline.errors import AccessDenied, ArtifactError, DataError, SegmentationError
from pipeline.segmentation.training import (
    PC_COLUMNS,
    SAMPLE_NAME,
    Dataset,
    dataset_from_validation,
    load_dataset,
    settings_for_dataset,
    train,
)
from pipeline.store.artifacts import load_artifact, valid_artifact_id
from pipeline.store.db import database_path
from pipeline.store.registry import UPLOAD_NOT_AVAILABLE, Registry, UploadRecord

from .identity import current_owner
from .services import EXTENSION_KEY, SegmentationService

UPLOADS = "uploads"
_KEY = re.compile(r"^[0-9a-f]{32}$")
_STORED = re.compile(r"^uploads/[0-9a-f]{32}\.upload$")
#: Uploads older than this are removed when a new file arrives.
UPLOAD_MAX_AGE_S = 7 * 24 * 3600
#: Mapping files larger than this are refused unread.
MAX_MAPPING_BYTES = 1_000_000
#: Settings a job may override (the rest come from the server or the artifact).
OVERRIDABLE = ("k", "model", "scaling", "features", "as_of")
_RESULT_COLUMNS = ("Cluster", "Segment", *PC_COLUMNS)


# ---------------------------------------------------------------- app access


def _memo(namespace: str, key: Hashable, compute: Callable[[], Any], max_items: int) -> Any:
    """``compute()`` cached by the app's service; computed afresh outside an app."""
    try:
        svc = current_service()
    except Exception:  # no Dash app in this process (plain library use, tests)
        return compute()
    return svc.memo(namespace, key, compute, max_items)


#: Parsed uploads kept per process (a 500,000-line log is about 60 MB in memory).
TABLES_KEPT = 3
#: Detections and validations kept per process (small: customers, not lines).
RESULTS_KEPT = 16


def current_service() -> SegmentationService:
    """The app's :class:`SegmentationService`, in a request or in a process that built the app.

    In a request this is :func:`dashboard.services.service`; outside one the
    Dash app of this process (:func:`dash.get_app`).  A job's child process
    (:mod:`dashboard.runner`) has no app: job functions pass the settings and
    the owner explicitly, and the caches here fall back to computing.
    """
    if flask.has_app_context():
        return flask.current_app.extensions[EXTENSION_KEY]
    return dash.get_app().server.extensions[EXTENSION_KEY]


# ---------------------------------------------------------------- uploads


@dataclasses.dataclass(frozen=True)
class UploadInfo:
    """A stored upload.

    Attributes
    ----------
    key : str
        Random hex id (the only thing the browser keeps).
    name : str
        The file's display name (never used as a path).
    size : int
        Bytes.
    uploaded_at : str
        ISO time (UTC).
    """

    key: str
    name: str
    size: int
    uploaded_at: str

    @property
    def size_text(self) -> str:
        """``"33.1 MB"`` / ``"412 KB"``."""
        return size_text(self.size)


def size_text(n_bytes: int) -> str:
    """Human-readable file size (MB = 1024² bytes, as the limit)."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n_bytes / 1024)):,} KB"


def display_name(filename: str | None) -> str:
    """A safe display name: the last path part, printable, at most 80 characters."""
    base = re.split(r"[\\/]", str(filename or ""))[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return clean[:80] or "upload"


def too_big_message(name: str, n_bytes: int, settings: Settings) -> str:
    """The refusal for a file over ``settings.max_upload_mb`` (no server paths in it)."""
    return (
        f"{name} is {size_text(n_bytes)}; files up to {settings.max_upload_mb} MB can be uploaded in the browser. "
        f"Train larger files with the command line (python -m pipeline train --data {name}) and ask whoever runs "
        "this server to share the result, or restart the app with a higher --max-upload-mb."
    )


def decode_contents(contents: str, name: str) -> bytes:
    """Bytes of a ``dcc.Upload`` data URL (``data:<type>;base64,<payload>``)."""
    _, sep, payload = str(contents).partition(",")
    if not sep:
        raise DataError(f"{name} could not be received (the upload was not a data URL); try again.")
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise DataError(f"{name} could not be received (the upload was damaged); try again.") from None


def uploads_dir(settings: Settings) -> Path:
    """``<data_dir>/uploads`` (created)."""
    folder = Path(settings.data_dir) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def parse_upload(raw: bytes, name: str, settings: Settings) -> pd.DataFrame:
    """Check an upload's size and read it as a table, or raise a :class:`DataError` saying why not.

    Refused: over ``settings.max_upload_mb``; empty; binary junk; not a table
    (one column, no separators); an unreadable or title-row spreadsheet
    (:func:`pipeline.data.loading.read_table`); a header with no or one data row.
    """
    if len(raw) > settings.max_upload_mb * 1024 * 1024:
        raise DataError(too_big_message(name, len(raw), settings))
    table = read_table(raw, name)
    if len(table) <= 1:
        raise DataError(validate_table(table, None, settings, name).problems[0])
    return table


def _owner(owner: str | None) -> str:
    """``owner``, or the current request's; :class:`AccessDenied` outside a request without one.

    A background job has no request: it passes the owner it captured when it
    was submitted (``JobContext.owner``).
    """
    if owner is not None:
        return owner
    if flask.has_request_context():
        return current_owner()
    raise AccessDenied("No owner for this upload: a background job must pass the owner that submitted it.")


def _store(settings: Settings) -> Registry:
    """The app's registry when it serves ``settings``' data folder, else one opened on that folder."""
    with contextlib.suppress(Exception):
        svc = current_service()
        if Path(svc.settings.data_dir) == Path(settings.data_dir):
            return svc.store
    return Registry(database_path(settings))


def _upload_path(record: UploadRecord, settings: Settings) -> Path:
    """Where an upload's bytes are (only ``uploads/<32 hex>.upload`` under the data folder is ever used)."""
    if not _STORED.match(record.path):
        raise AccessDenied(UPLOAD_NOT_AVAILABLE)
    return Path(settings.data_dir) / record.path


def store_upload(contents: str, filename: str | None, settings: Settings, owner: str | None = None) -> UploadInfo:
    """Decode, check, parse and save an upload for ``owner``; returns its record.

    The same bytes uploaded again by the same owner are stored once: the
    first record is returned (under its first name).

    Raises
    ------
    DataError
        The file is refused (see :func:`parse_upload`); nothing is written.
    """
    who = _owner(owner)
    name = display_name(filename)
    raw = decode_contents(contents, name)
    digest = hashlib.sha256(raw).hexdigest()
    store = _store(settings)
    existing = store.find_upload(who, digest)
    if existing is not None:
        path = _upload_path(existing, settings)
        if path.is_file():
            store.touch_upload(who, existing.key)
            return _info(existing)
        store.forget_upload(existing.key)  # its file expired: store it again
    table = parse_upload(raw, name, settings)
    folder = uploads_dir(settings)
    prune_uploads(settings)
    key = uuid.uuid4().hex
    relative = f"{UPLOADS}/{key}.upload"
    try:
        _write_atomic(folder / f"{key}.upload", raw)
    except OSError as err:
        raise DataError(f"{name} could not be saved on the server ({err.strerror or 'write error'}).") from None
    record, created = store.add_upload(who, key, name, len(raw), digest, relative)
    if not created:  # the same owner stored the same bytes at the same moment in another process
        with contextlib.suppress(OSError):
            (folder / f"{key}.upload").unlink()
    else:
        _memo("upload-tables", key, lambda: table, TABLES_KEPT)
    return _info(record)


def _info(record: UploadRecord) -> UploadInfo:
    return UploadInfo(record.key, display_name(record.name), record.size, record.uploaded_at)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def upload_info(key: str | None, settings: Settings, owner: str | None = None) -> UploadInfo:
    """The record of the owner's stored upload (``owner``: the current request's if not given).

    Raises
    ------
    AccessDenied
        Malformed, unknown or another owner's key (one message for all).
    """
    return _info(_store(settings).upload(_owner(owner), key))


def upload_table(key: str, settings: Settings, owner: str | None = None) -> pd.DataFrame:
    """The parsed table of the owner's upload (cached per process; treat as read-only).

    The owner is checked on every call, before the cache is consulted.
    """
    record = _store(settings).upload(_owner(owner), key)

    def parse() -> pd.DataFrame:
        try:
            raw = _upload_path(record, settings).read_bytes()
        except OSError:
            raise DataError(f"{display_name(record.name)} is no longer on the server; upload it again.") from None
        return read_table(raw, display_name(record.name))

    return _memo("upload-tables", record.key, parse, TABLES_KEPT)


def upload_detection(key: str, settings: Settings, owner: str | None = None) -> Detection:
    """:func:`pipeline.data.ingest.detect_kind` of the owner's upload (cached)."""
    table = upload_table(key, settings, owner)
    return _memo("upload-results", ("detection", key), lambda: detect_kind(table), RESULTS_KEPT)


def validate_upload_key(key: str, mapping: Mapping | None, settings: Settings, owner: str | None = None) -> Validation:
    """:func:`pipeline.data.ingest.validate_table` of the owner's upload under ``mapping`` (cached).

    ``mapping=None`` detects the kind and uses the suggestion.
    """
    info = upload_info(key, settings, owner)
    table = upload_table(key, settings, owner)

    def validate() -> Validation:
        return validate_table(table, mapping, settings, info.name)

    cache_key = ("validation", key, mapping.digest() if mapping else None, settings.model_hash())
    return _memo("upload-results", cache_key, validate, RESULTS_KEPT)


def prune_uploads(settings: Settings, max_age_s: float = UPLOAD_MAX_AGE_S) -> int:
    """Delete uploads older than ``max_age_s`` (files and registry rows); returns how many files were removed."""
    folder = Path(settings.data_dir) / UPLOADS
    if not folder.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    store = _store(settings)
    cutoff_iso = dt.datetime.fromtimestamp(cutoff, dt.UTC).isoformat(timespec="seconds")
    for record in store.uploads_before(cutoff_iso):
        store.forget_upload(record.key)
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and _KEY.match(path.stem) and path.stat().st_mtime < cutoff:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def parse_mapping_upload(contents: str, filename: str | None) -> Mapping:
    """A mapping file uploaded as a data URL, parsed as JSON (never unpickled).

    Raises
    ------
    DataError
        Too large, not UTF-8 text, not JSON, or not a valid mapping.
    """
    name = display_name(filename)
    raw = decode_contents(contents, name)
    if len(raw) > MAX_MAPPING_BYTES:
        raise DataError(f"{name} is too large to be a column mapping (a mapping is a small JSON file).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name} is not a text file; a mapping is a small JSON file.") from None
    return Mapping.from_json(text, name)


# ---------------------------------------------------------------- artifacts


def is_protected(manifest: dict[str, Any], default_id: str) -> bool:
    """True for the app's default artifact and any artifact of the built-in sample."""
    return manifest.get("artifact_id") == default_id or manifest.get("data", {}).get("name") == SAMPLE_NAME


def delete_artifact(svc: SegmentationService, artifact_id: str, owner: str | None = None) -> str:
    """Remove the owner's version (:meth:`SegmentationService.delete`); returns the data set's name.

    The folder is deleted only when no other owner holds the same version.

    Raises
    ------
    AccessDenied
        Missing, another owner's, shared by someone else, or the server's default.
    """
    return svc.delete(artifact_id, owner)


def dataset_from_artifact(artifact_id: str, settings: Settings, owner: str | None = None) -> tuple[Dataset, Settings]:
    """The data set an artifact was trained on, and the settings it was trained with.

    The artifact's scored customer table (Parquet, authenticated) holds the
    customers with every feature and profile attribute; the columns the fit
    added are dropped and so are the imputation notes it added to the report.

    ``owner`` (the current request's when not given) must be allowed to read
    the version.  A background job with no request passes the owner that
    submitted it; without one there is no check, so only server code that
    checked already may call it that way.

    Raises
    ------
    AccessDenied
        The version is not the owner's, shared or the server's.
    ArtifactError
        Invalid id, missing, tampered or incompatible artifact.
    """
    if not valid_artifact_id(str(artifact_id)):
        raise ArtifactError(f"Invalid model version id {artifact_id!r}.")
    if owner is not None or flask.has_request_context():
        _store(settings).version(_owner(owner), str(artifact_id))
    art = load_artifact(Path(settings.models_dir) / artifact_id, settings)
    m = art.manifest
    data = m["data"]
    customers = art.customers.drop(columns=[c for c in _RESULT_COLUMNS if c in art.customers.columns])
    report = DataQualityReport.from_dict(m["data_quality"])
    report = dataclasses.replace(report, items=tuple(i for i in report.items if i.kind != "feature_imputed"))
    mapping = Mapping.from_dict(data["mapping"]) if data.get("mapping") else None
    dataset = Dataset(
        name=str(data["name"]),
        data_hash=str(data["hash"]),
        customers=customers,
        report=report,
        as_of=dt.date.fromisoformat(data["as_of"]),
        kind=str(data.get("kind", "marketing")),
        mapping=mapping,
    )
    s = m["settings"]
    trained_with = settings.replace(
        k=int(s["k"]),
        model=str(s["model"]),
        scaling=str(s["scaling"]),
        features=tuple(s["features"]),
        as_of=dt.date.fromisoformat(s["as_of"]) if s.get("as_of") else None,
        random_state=int(s["random_state"]),
        n_init=int(s["n_init"]),
    )
    return dataset, trained_with


# ---------------------------------------------------------------- the job


@dataclasses.dataclass(frozen=True)
class TrainSource:
    """What to train on.

    Build with :meth:`sample`, :meth:`upload` or :meth:`artifact`, or from the
    JSON-safe dict of :meth:`to_dict` (``{"sample": true}``,
    ``{"upload": key, "mapping": {...}}``, ``{"artifact": id}``).
    """

    kind: str
    upload_key: str | None = None
    mapping: Mapping | None = None
    artifact_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("sample", "upload", "artifact"):
            raise DataError(f"Unknown training source {self.kind!r}.")
        if self.kind == "upload" and not (self.upload_key and _KEY.match(self.upload_key)):
            raise DataError("No uploaded file: upload a file first.")
        if self.kind == "artifact" and not (self.artifact_id and valid_artifact_id(self.artifact_id)):
            raise DataError("Unknown model version.")

    @classmethod
    def sample(cls) -> TrainSource:
        """The built-in sample."""
        return cls("sample")

    @classmethod
    def upload(cls, key: str, mapping: Mapping | None = None) -> TrainSource:
        """A stored upload read with ``mapping`` (``None``: detected and suggested)."""
        return cls("upload", upload_key=key, mapping=mapping)

    @classmethod
    def artifact(cls, artifact_id: str) -> TrainSource:
        """The data an existing artifact was trained on (to retrain it with other settings)."""
        return cls("artifact", artifact_id=artifact_id)

    @classmethod
    def from_dict(cls, data: TrainSource | dict[str, Any]) -> TrainSource:
        """Inverse of :meth:`to_dict` (a :class:`TrainSource` is returned as is)."""
        if isinstance(data, TrainSource):
            return data
        if not isinstance(data, dict):
            raise DataError("Unknown training source.")
        if data.get("sample"):
            return cls.sample()
        if data.get("upload"):
            raw = data.get("mapping")
            mapping = raw if isinstance(raw, Mapping) else (Mapping.from_dict(raw) if raw else None)
            return cls.upload(str(data["upload"]), mapping)
        if data.get("artifact"):
            return cls.artifact(str(data["artifact"]))
        raise DataError("Unknown training source.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (small: fits a ``dcc.Store`` or callback argument)."""
        if self.kind == "sample":
            return {"sample": True}
        if self.kind == "upload":
            return {"upload": self.upload_key, "mapping": self.mapping.to_dict() if self.mapping else None}
        return {"artifact": self.artifact_id}


@dataclasses.dataclass(frozen=True)
class JobResult:
    """What :func:`train_job` returns (JSON-safe fields only).

    Attributes
    ----------
    artifact_id : str
        The new (or reused) model version: put it in ``ids.ACTIVE_ARTIFACT``.
    name : str
        Data set name.
    n_customers : int
        Customers segmented.
    model, scaling : str
        Clustering model and preprocessing.
    k : int
        Segments requested.
    silhouette : float or None
        Fit quality.
    cached : bool
        True when the same data and settings were already trained.
    note : str or None
        Why an existing artifact was not reused, if it was not.
    """

    artifact_id: str
    name: str
    n_customers: int
    model: str
    scaling: str
    k: int
    silhouette: float | None
    cached: bool
    note: str | None = None

    def summary(self) -> str:
        """One sentence for the UI."""
        sil = f", silhouette {self.silhouette:.2f}" if self.silhouette is not None else ""
        again = " (already trained: reused)" if self.cached else ""
        return f"{self.name}: {self.n_customers:,} customers in {self.k} segments ({self.model}{sil}){again}."


class Reporter(Protocol):
    """Where a job reports progress (:class:`dashboard.runner.JobContext`, or a recorder in tests)."""

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        """``percent`` (never going down) and what is happening; ``creep_to``: a long step starts."""


class _Silent:
    """A :class:`Reporter` that drops every report (library use without a job)."""

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        """Ignore the report."""


def _apply_overrides(base: Settings, overrides: dict[str, Any] | None) -> Settings:
    if not overrides:
        return base
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise DataError(f"Cannot change {', '.join(unknown)} when training; allowed: {', '.join(OVERRIDABLE)}.")
    changes = dict(overrides)
    if isinstance(changes.get("as_of"), str):
        changes["as_of"] = parse_date(changes["as_of"])
    if "features" in changes:
        changes["features"] = tuple(changes["features"])
    if "k" in changes:
        try:
            changes["k"] = int(changes["k"])
        except (TypeError, ValueError):
            raise DataError(f"k must be a whole number, got {changes['k']!r}.") from None
    return base.replace(**changes)


def train_job(
    reporter: Reporter | None,
    source: TrainSource | dict[str, Any],
    overrides: dict[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    owner: str | None = None,
) -> JobResult:
    """Build a data set, train it and save the artifact, reporting progress.

    Parameters
    ----------
    reporter : Reporter or None
        Gets ``progress(percent, message, creep_to=None)``: percentages
        increase and end at 100; the fit is one long step that creeps to 95.
        The job runner passes its :class:`~dashboard.runner.JobContext`.
    source : TrainSource or dict
        The built-in sample, an upload + mapping, or an existing artifact's
        data (see :class:`TrainSource`).
    overrides : dict, optional
        Settings to change: ``k``, ``model``, ``scaling``, ``features``,
        ``as_of``.  For an artifact source they apply on top of the settings
        that artifact was trained with; otherwise on top of the app's.
    settings : Settings, optional
        Models folder, data folder and defaults; the app's
        (:func:`current_service`) when not given.
    owner : str, optional
        Whose upload or version is read (checked by the registry); the current
        request's when not given.  A job passes the owner that submitted it.

    Returns
    -------
    JobResult
        Its ``artifact_id`` is the version to activate; it is recorded as the
        owner's in the registry (:meth:`pipeline.store.registry.Registry.add_version`).

    Raises
    ------
    SegmentationError
        The data or the settings cannot be trained (message for the user).
    """
    progress = (reporter or _Silent()).progress
    base = settings or current_service().settings
    src = TrainSource.from_dict(source)
    if src.kind == "sample":
        progress(5, "Preparing the built-in sample…")
        trained_with = _apply_overrides(base, overrides)
        dataset = load_dataset(None, trained_with)
    elif src.kind == "upload":
        assert src.upload_key is not None
        info = upload_info(src.upload_key, base, owner)
        progress(5, f"Reading {info.name} ({info.size_text})…")
        upload_table(src.upload_key, base, owner)
        trained_with = _apply_overrides(base, overrides)
        progress(25, "Checking the columns and building one row per customer…")
        validation = validate_upload_key(src.upload_key, src.mapping, trained_with, owner)
        if not validation.ok:
            raise DataError(" ".join(validation.problems) or f"{info.name} cannot be trained.")
        dataset = dataset_from_validation(validation, _upload_bytes(src.upload_key, base, owner))
    else:
        assert src.artifact_id is not None
        progress(5, f"Loading the data of version {src.artifact_id}…")
        dataset, previous = dataset_from_artifact(src.artifact_id, base, owner)
        trained_with = _apply_overrides(previous, overrides)
    progress(50, f"Checking {len(dataset.customers):,} customers…")
    fit_settings = settings_for_dataset(dataset, trained_with)
    fitting = (
        f"Fitting {fit_settings.model} (k = {fit_settings.k}, {fit_settings.scaling} scaling) "
        f"on {len(dataset.customers):,} customers and naming the segments"
    )
    progress(60, fitting, creep_to=95)
    result = train(dataset, fit_settings)
    m = result.artifact.manifest
    out = JobResult(
        artifact_id=result.artifact.artifact_id,
        name=str(m["data"]["name"]),
        n_customers=int(m["data"]["n_customers"]),
        model=str(m["model"]["name"]),
        scaling=str(m["model"]["scaling"]),
        k=int(m["model"]["k"]),
        silhouette=m["metrics"].get("silhouette"),
        cached=result.cached,
        note=result.note,
    )
    if owner is not None or flask.has_request_context():  # the new version is the owner's (same id: kept once)
        label = {"upload": "upload", "artifact": "retrain"}.get(src.kind, "sample")
        _store(base).add_version(_owner(owner), out.artifact_id, out.name, label)
    progress(100, "Done: " + out.summary())
    return out


def _upload_bytes(key: str, settings: Settings, owner: str | None = None) -> bytes:
    """The stored bytes of the owner's upload (they make the data set's cache key with the mapping)."""
    record = _store(settings).upload(_owner(owner), key)
    try:
        return _upload_path(record, settings).read_bytes()
    except OSError:
        raise DataError("The uploaded file is no longer on the server; upload it again.") from None


__all__ = [
    "JobResult",
    "Reporter",
    "SegmentationError",
    "TrainSource",
    "UploadInfo",
    "current_service",
    "dataset_from_artifact",
    "delete_artifact",
    "is_protected",
    "parse_mapping_upload",
    "store_upload",
    "train_job",
    "upload_detection",
    "upload_info",
    "upload_table",
    "validate_upload_key",
]
