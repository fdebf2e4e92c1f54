"""The background training job (data page and model-comparison page) and what it reads: model versions, uploads (:mod:`dashboard.uploads`).

:func:`train_job` builds the data set from a :class:`TrainSource` (the
built-in sample, an upload + mapping, or the data of an existing artifact),
trains through :func:`pipeline.segmentation.training.train` and reports
progress through a :class:`Reporter` (``progress(percent, message,
creep_to=None)``; increasing percentages ending at 100).  It runs as a job of
the one job runner (:mod:`dashboard.runner`, wired in :mod:`dashboard.tasks`),
in a child process with no Flask request: the runner's
:class:`~dashboard.job_process.JobContext` is the reporter and brings the settings
and the owner that submitted the job.  User mistakes raise
:class:`~pipeline.errors.SegmentationError` with a message to show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Protocol

import flask

from pipeline.config import Settings, parse_date
from pipeline.data.mapping import Mapping
from pipeline.data.quality import DataQualityReport
from pipeline.errors import ArtifactError, DataError, SegmentationError
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

from .services import SegmentationService, current_service
from .uploads import (
    UPLOAD_KEY,
    owner_or_current,
    registry_for,
    upload_bytes,
    upload_info,
    upload_table,
    validate_upload_key,
)

#: Settings a job may override (the rest come from the server or the artifact).
OVERRIDABLE = ("k", "model", "scaling", "features", "as_of")
_RESULT_COLUMNS = ("Cluster", "Segment", *PC_COLUMNS)

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
        registry_for(settings).version(owner_or_current(owner), str(artifact_id))
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
        if self.kind == "upload" and not (self.upload_key and UPLOAD_KEY.match(self.upload_key)):
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
    """Where a job reports progress (:class:`dashboard.job_process.JobContext`, or a recorder in tests)."""

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
        The job runner passes its :class:`~dashboard.job_process.JobContext`.
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
        dataset = dataset_from_validation(validation, upload_bytes(src.upload_key, base, owner))
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
        # the upload's key in the source: the log snapshots on /changes read the log again through it
        label = f"upload:{src.upload_key}" if src.kind == "upload" else {"artifact": "retrain"}.get(src.kind, "sample")
        registry_for(base).add_version(owner_or_current(owner), out.artifact_id, out.name, label)
    progress(100, "Done: " + out.summary())
    return out


__all__ = [
    "JobResult",
    "Reporter",
    "SegmentationError",
    "TrainSource",
    "current_service",
    "dataset_from_artifact",
    "delete_artifact",
    "is_protected",
    "train_job",
]
