"""Server-side data for callbacks: artifacts by version, cached per process.

Callbacks never receive DataFrames from the browser.  A browser session holds
only an artifact id in a ``dcc.Store``; callbacks ask the
:class:`SegmentationService` (one per app, reached with :func:`service`) for
the :class:`ArtifactView` of that id.  Artifacts are immutable on disk, so a
per-process LRU cache is safe with several worker processes: each process
loads from the same authenticated files.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import flask
import numpy as np
import pandas as pd

from pipeline.config import Settings
from pipeline.errors import ArtifactError
from pipeline.segmentation.simulate import Simulation, feature_grid, simulate
from pipeline.store.artifacts import LoadedArtifact, list_manifests, load_artifact, valid_artifact_id

EXTENSION_KEY = "segmentation_service"


@dataclasses.dataclass(frozen=True)
class ArtifactView:
    """Read-only conveniences over one loaded artifact, shared by all pages."""

    artifact: LoadedArtifact

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
        return feature_grid(self.manifest["feature_ranges"], self.features)

    def simulate(self, values: dict[str, float]) -> Simulation:
        """Score a hypothetical customer with this artifact's model."""
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
    """Per-process cache of artifact views, keyed by artifact id.

    Parameters
    ----------
    settings : Settings
        Where artifacts live.
    default_id : str
        The artifact shown to a session that has not chosen another.
    max_items : int
        Artifacts kept in memory per process.
    """

    def __init__(self, settings: Settings, default_id: str, max_items: int = 6):
        self.settings = settings
        self.default_id = default_id
        self._max = max_items
        self._cache: collections.OrderedDict[str, ArtifactView] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._memos: dict[str, LRU] = {}
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

    def view(self, artifact_id: str | None) -> ArtifactView:
        """The view of ``artifact_id``; the default one when it is unknown or gone."""
        wanted = artifact_id if artifact_id and valid_artifact_id(artifact_id) else self.default_id
        try:
            return self._load(wanted)
        except ArtifactError:
            if wanted == self.default_id:
                raise
            return self._load(self.default_id)

    def _load(self, artifact_id: str) -> ArtifactView:
        # Held while loading: concurrent first requests load an artifact once.
        with self._lock:
            if artifact_id in self._cache:
                self._cache.move_to_end(artifact_id)
                return self._cache[artifact_id]
            view = ArtifactView(load_artifact(self.settings.models_dir / artifact_id))
            self._cache[artifact_id] = view
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
            return view

    def forget(self, artifact_id: str) -> None:
        """Drop an artifact from this process's cache (after deletion)."""
        with self._lock:
            self._cache.pop(artifact_id, None)

    def versions(self) -> list[dict[str, Any]]:
        """Manifests of every artifact in this installation, newest first."""
        return list_manifests(self.settings.models_dir)

    def artifact_dir(self, artifact_id: str) -> Path:
        """Folder of an artifact (id validated)."""
        if not valid_artifact_id(artifact_id):
            raise ArtifactError(f"Invalid model version id {artifact_id!r}.")
        return self.settings.models_dir / artifact_id


def service() -> SegmentationService:
    """The service of the app handling the current request."""
    return flask.current_app.extensions[EXTENSION_KEY]


def view(artifact_id: str | None) -> ArtifactView:
    """Shorthand: the artifact view for a session's artifact id."""
    return service().view(artifact_id)
