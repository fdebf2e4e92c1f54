"""Server-side data for callbacks: artifacts by version, cached per process, handed out by owner.

Callbacks never receive DataFrames from the browser.  A browser session holds
only an artifact id in a ``dcc.Store``; callbacks ask the
:class:`SegmentationService` (one per app, reached with :func:`service`) for
the :class:`ArtifactView` of that id.  The service checks with its
:class:`~pipeline.store.registry.Registry` (``service().store``) that the
request's owner (:func:`dashboard.identity.current_owner`) may read that
version: an id from the browser is never a key by itself.  A version the
owner may not read, or whose files fail their hash check, is never loaded;
the default data set is shown instead *with a notice* saying why
(:attr:`ArtifactView.notice`, shown in the navbar and on /data).

Artifacts are immutable on disk, so a per-process LRU cache is safe with
several worker processes: each process loads from the same authenticated files.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import os
import shutil
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dash
import flask
import numpy as np
import pandas as pd

from pipeline.config import Settings
from pipeline.errors import AccessDenied, ArtifactError, SegmentationError
from pipeline.store.artifacts import (
    MANIFEST_NAME,
    LoadedArtifact,
    load_artifact,
    read_manifest,
    sha256_file,
    valid_artifact_id,
)
from pipeline.store.db import database_path
from pipeline.store.registry import NOT_AVAILABLE, Registry, VersionRecord
from pipeline.synthetic.customers import SAMPLE_NAME

if TYPE_CHECKING:
    from pipeline.segmentation.simulate import Simulation

EXTENSION_KEY = "segmentation_service"


@dataclasses.dataclass(frozen=True)
class ArtifactView:
    """Read-only conveniences over one loaded artifact, shared by all pages."""

    artifact: LoadedArtifact
    #: Why this (default) view is shown instead of the version the session asked for, if it is.
    notice: str | None = None

    @property
    def id(self) -> str:
        """The artifact (model version) id."""
        return self.artifact.artifact_id

    @property
    def manifest(self) -> dict[str, Any]:
        """The authenticated manifest."""
        return self.artifact.manifest

    @property
    def customers(self) -> pd.DataFrame:
        """Scored customers (treat as read-only)."""
        return self.artifact.customers

    @functools.cached_property
    def segments(self) -> list[dict[str, Any]]:
        """Segment map, largest value share first (display order)."""
        segs = self.manifest["segments"]
        return sorted(segs, key=lambda s: -(s.get("value_share") or 0.0))

    @functools.cached_property
    def segment_by_key(self) -> dict[str, dict[str, Any]]:
        """Segment map keyed by segment key."""
        return {s["key"]: s for s in self.segments}

    @functools.cached_property
    def colours(self) -> dict[str, str]:
        """Segment key → colour (from the artifact)."""
        return {s["key"]: s["colour"] for s in self.segments}

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Segment key → display name."""
        return {s["key"]: s["name"] for s in self.segments}

    @property
    def features(self) -> list[str]:
        """Clustered feature names, in model order."""
        return [f["name"] for f in self.manifest["features"]]

    @functools.cached_property
    def feature_defs(self) -> dict[str, dict[str, str]]:
        """Feature name → declared definition."""
        return {f["name"]: f for f in self.manifest["features"]}

    @functools.cached_property
    def grid(self) -> dict[str, np.ndarray]:
        """Candidate values per feature for the simulator's what-if search."""
        from pipeline.segmentation.simulate import feature_grid  # scikit-learn: on first use, not at the app's start

        return feature_grid(self.manifest["feature_ranges"], self.features)

    @functools.cached_property
    def assignments(self) -> pd.DataFrame:
        """The segment-assignments table of every customer (for downloads; treat as read-only)."""
        from pipeline.segmentation.assignments import artifact_assignments

        return artifact_assignments(self.artifact)

    def simulate(self, values: dict[str, float]) -> Simulation:
        """Score a hypothetical customer with this artifact's model."""
        from pipeline.segmentation.simulate import simulate

        b = self.artifact.bundle
        ordered = sorted(self.manifest["segments"], key=lambda s: s["label"])
        return simulate(b["pipeline"], b["pca"], b["centroids_scaled"], ordered, values, self.grid)

    @property
    def label(self) -> str:
        """``"Built-in sample · kmeans k=4 · 2026-11-26"``: for the navbar."""
        m = self.manifest
        return f"{m['model']['name']} k={m['model']['k']} · {m['created_at'][:10]}"


class LRU:
    """A small thread-safe LRU cache of immutable derived data (one process)."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The cached value, or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``, evicting the least recently used beyond ``max_items``."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        """Forget ``key``."""
        with self._lock:
            self._items.pop(key, None)

    def reset_lock(self) -> None:
        """A fresh lock (after ``fork`` the parent's could be held by a thread that is gone)."""
        self._lock = threading.Lock()


class SegmentationService:
    """Per-process cache of artifact views, keyed by artifact id, handed out by owner.

    Parameters
    ----------
    settings : Settings
        Where artifacts live.
    default_id : str
        The artifact shown to a session that has not chosen another (owned by
        ``"system"``, readable by everyone).
    max_items : int
        Artifacts kept in memory per process.
    store : Registry, optional
        Owners of uploads and versions; ``Registry(database_path(settings))`` if not given.
    share_cli_models : bool
        Artifacts found in the models folder that no one registered (trained
        with the command line) are listed for everyone as the server's
        (read-only).  Off by default: they stay invisible to browsers.
    """

    def __init__(
        self,
        settings: Settings,
        default_id: str,
        max_items: int = 6,
        store: Registry | None = None,
        share_cli_models: bool = False,
    ):
        self.settings = settings
        self.default_id = default_id
        self.store = store if store is not None else Registry(database_path(settings))
        self.share_cli_models = share_cli_models
        self._max = max_items
        self._cache: collections.OrderedDict[str, ArtifactView] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._memos: dict[str, LRU] = {}
        self._checks: dict[str, tuple[Any, dict[str, Any] | None, str | None]] = {}
        # Background callbacks run in forked processes: never inherit a held lock.
        os.register_at_fork(after_in_child=self._reset_locks)

    def _reset_locks(self) -> None:
        self._lock = threading.Lock()
        for lru in self._memos.values():
            lru.reset_lock()

    def memo(self, namespace: str, key: Hashable, compute: Callable[[], Any], max_items: int = 16) -> Any:
        """``compute()`` cached per process under ``(namespace, key)``.

        For immutable data derived from files on disk (parsed uploads,
        validations, comparison results): any worker process can rebuild it,
        so the cache is an optimisation, never the place state lives.
        """
        with self._lock:
            lru = self._memos.setdefault(namespace, LRU(max_items))
        value = lru.get(key)
        if value is None:
            value = compute()
            lru.put(key, value)
        return value

    # ------------------------------------------------------------ owner checks

    def owner(self, owner: str | None = None) -> str:
        """``owner``, or the current request's (:func:`dashboard.identity.current_owner`).

        Raises
        ------
        AccessDenied
            No owner given outside a request (a background job must pass the
            owner it captured in the request that started it).
        """
        if owner is not None:
            return owner
        from dashboard.identity import current_owner

        return current_owner()

    def register_default(self) -> None:
        """Record the default artifact as the server's (shared read-only; nobody can delete it)."""
        manifest = read_manifest(self.artifact_dir(self.default_id), self.settings)
        name = str(manifest["data"]["name"])
        source = "sample" if name == SAMPLE_NAME else "default"
        self.store.add_system_version(self.default_id, name, source)

    def readable(self, artifact_id: str | None, owner: str | None = None) -> VersionRecord:
        """The version as the owner sees it; :class:`AccessDenied` if missing or not theirs/shared."""
        who = self.owner(owner)
        if not artifact_id or not valid_artifact_id(str(artifact_id)):
            return self.store.version(who, None)  # raises the one "not available" message
        return self.store.version(who, str(artifact_id))

    def checked_view(self, artifact_id: str | None, owner: str | None = None) -> ArtifactView:
        """The view of a version the owner may read, or an error (never another data set).

        For downloads and anything that must not fall back to the default.

        Raises
        ------
        AccessDenied
            Missing, or not the owner's, shared or the server's.
        ArtifactError
            The version is damaged or foreign (message without server paths).
        """
        if not artifact_id:
            return self._load(self.default_id)
        self.readable(artifact_id, owner)
        try:
            return self._load(str(artifact_id))
        except ArtifactError as err:
            raise ArtifactError(f"This version is damaged, not loaded: {self._reason(err, str(artifact_id))}") from None

    def view(self, artifact_id: str | None, owner: str | None = None) -> ArtifactView:
        """The view of ``artifact_id`` if the owner may read it and it loads.

        Otherwise the default view with :attr:`ArtifactView.notice` saying why
        (not available to this owner, or damaged and not loaded): a page never
        shows another data set without saying so.
        """
        if not artifact_id or artifact_id == self.default_id:
            return self._load(self.default_id)
        try:
            return self.checked_view(artifact_id, owner)
        except SegmentationError as err:
            return self._with_notice(f"{err} Showing the default data set instead.")

    def _with_notice(self, notice: str) -> ArtifactView:
        default = self._load(self.default_id)
        key = (default.id, notice)
        return self.memo("noticed-views", key, lambda: dataclasses.replace(default, notice=notice), max_items=8)

    def _reason(self, err: Exception, artifact_id: str) -> str:
        """An artifact error's message without the server's folders."""
        text = str(err)
        for path in (self.settings.models_dir / artifact_id, self.settings.models_dir):
            for form in (str(path), str(path.resolve())):
                text = text.replace(form, artifact_id if path.name == artifact_id else "the models folder")
        return text

    def _load(self, artifact_id: str) -> ArtifactView:
        # Held while loading: concurrent first requests load an artifact once.
        with self._lock:
            if artifact_id in self._cache:
                self._cache.move_to_end(artifact_id)
                return self._cache[artifact_id]
            view = ArtifactView(load_artifact(self.settings.models_dir / artifact_id, self.settings))
            self._cache[artifact_id] = view
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
            return view

    def forget(self, artifact_id: str) -> None:
        """Drop an artifact from this process's cache (after deletion)."""
        with self._lock:
            self._cache.pop(artifact_id, None)
            self._checks.pop(artifact_id, None)

    # ------------------------------------------------------------ listing and deleting

    def versions(self, owner: str | None = None) -> list[VersionEntry]:
        """Every version the owner may read (own, shared, the server's), newest first, each checked.

        A version whose manifest or files fail their checks is listed with
        ``problem`` set (shown as "damaged, not loaded: ...").
        """
        who = self.owner(owner)
        if self.share_cli_models:
            self.adopt_unregistered()
        out = []
        for record in self.store.versions(who):
            manifest, problem = self.check(record.artifact_id)
            out.append(VersionEntry(record, manifest, problem))
        return sorted(out, key=lambda e: (e.manifest or {}).get("created_at", e.record.added_at), reverse=True)

    def check(self, artifact_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """``(manifest, None)`` for a sound version, ``(manifest or None, reason)`` for a damaged one.

        Checks the manifest signature and every file's SHA-256 without
        unpickling anything; cached per process until a file changes.
        """
        directory = self.artifact_dir(artifact_id)
        try:
            stamp = tuple(
                (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(directory.iterdir()) if p.is_file()
            )
        except OSError:
            return None, "its folder is missing"
        with self._lock:
            cached = self._checks.get(artifact_id)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        manifest: dict[str, Any] | None = None
        problem: str | None = None
        try:
            manifest = read_manifest(directory, self.settings)
            for role, entry in sorted((manifest.get("files") or {}).items()):
                name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
                path = directory / name
                if not name or "/" in name or name.startswith(".") or not path.is_file():
                    raise ArtifactError(f"its {role} file is missing")
                if sha256_file(path) != str(entry.get("sha256", "")):
                    raise ArtifactError(f"its {role} file does not match its manifest hash (modified or damaged)")
        except ArtifactError as err:
            problem = self._reason(err, artifact_id)
        with self._lock:
            self._checks[artifact_id] = (stamp, manifest, problem)
        return manifest, problem

    def adopt_unregistered(self) -> int:
        """List unregistered, validly signed artifacts as the server's (``--share-cli-models``); returns how many."""
        root = self.settings.models_dir
        added = 0
        if not root.is_dir():
            return 0
        for child in sorted(root.iterdir()):
            if not (child.is_dir() and valid_artifact_id(child.name) and (child / MANIFEST_NAME).is_file()):
                continue
            if self.store.known(child.name):
                continue
            try:
                manifest = read_manifest(child, self.settings)
            except ArtifactError:
                continue
            self.store.add_system_version(child.name, str(manifest["data"]["name"]), "cli")
            added += 1
        return added

    def delete(self, artifact_id: str, owner: str | None = None) -> str:
        """Remove the owner's version; the folder goes when nobody else holds it. Returns the data set's name.

        The folder of a built-in-sample version is kept (it only leaves this owner's list).

        Raises
        ------
        AccessDenied
            Missing, not the owner's (shared and server versions included).
        """
        who = self.owner(owner)
        if not artifact_id or not valid_artifact_id(str(artifact_id)):
            raise AccessDenied(NOT_AVAILABLE)
        if artifact_id == self.default_id:
            self.store.owned(who, artifact_id)  # the one refusal unless this owner also trained it
        record, orphaned = self.store.remove_version(who, str(artifact_id))
        manifest, _problem = self.check(str(artifact_id))
        # Versions of the built-in sample are cheap to keep and may be reused by anyone's training.
        if orphaned and artifact_id != self.default_id and (manifest or {}).get("data", {}).get("name") != SAMPLE_NAME:
            directory = self.artifact_dir(str(artifact_id))
            shutil.rmtree(directory, ignore_errors=True)
            with contextlib.suppress(OSError):
                (directory.parent / f".{directory.name}.lock").unlink()
            self.forget(str(artifact_id))
        return record.dataset_name

    def artifact_dir(self, artifact_id: str) -> Path:
        """Folder of an artifact (id validated)."""
        if not valid_artifact_id(artifact_id):
            raise ArtifactError(f"Invalid model version id {artifact_id!r}.")
        return self.settings.models_dir / artifact_id


@dataclasses.dataclass(frozen=True)
class VersionEntry:
    """One line of the versions list: who holds it, its manifest, and what is wrong with it if anything.

    Attributes
    ----------
    record : VersionRecord
        Ownership as the asking owner sees it.
    manifest : dict or None
        The authenticated manifest (None when it cannot be read).
    problem : str or None
        Why the version cannot be loaded ("damaged, not loaded: <problem>").
    """

    record: VersionRecord
    manifest: dict[str, Any] | None
    problem: str | None

    @property
    def artifact_id(self) -> str:
        """The version id."""
        return self.record.artifact_id


def service() -> SegmentationService:
    """The service of the app handling the current request."""
    return flask.current_app.extensions[EXTENSION_KEY]


def view(artifact_id: str | None) -> ArtifactView:
    """Shorthand: the artifact view for a session's artifact id, if the request's owner may read it."""
    return service().view(artifact_id)


def per_version(v: ArtifactView, namespace: str, key: Hashable, compute: Callable[[], Any], max_items: int = 32) -> Any:
    """``compute()`` cached per process for one data version (``v``) and ``key``.

    For pure figure builders and tables of a page: a version's files never
    change, so what is built from ``v`` and ``key`` alone (theme and control
    values included in ``key``) can be served again without rebuilding it.
    """
    return service().memo(namespace, (v.id, key), compute, max_items)


def memo(namespace: str, key: Hashable, compute: Callable[[], Any], max_items: int) -> Any:
    """``compute()`` cached by the app's service; computed afresh outside an app."""
    try:
        svc = current_service()
    except Exception:  # no Dash app in this process (plain library use, tests)
        return compute()
    return svc.memo(namespace, key, compute, max_items)


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
