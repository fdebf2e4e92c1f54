"""Recognising an unchanged data file without reading it again.

Starting the app on a data file trains its model or reuses the cached one;
deciding which needs the file's SHA-256, and reading and hashing a
1,000,000-customer file takes seconds.  This module remembers, for a file, its
*stamp* (size, modification and change times in nanoseconds, inode and
device, from one ``stat`` call), the data hash (SHA-256) it had with that
stamp and the artifact its model was saved as.  When the stamp is unchanged the file is
recognised without being read; any change to any part of the stamp (a new
size, a new modification time, a file replaced by another with the same
name) means it is read and hashed in full again.

The record lives next to the models (``<models_dir>/.data-fingerprints.json``)
and is signed with this installation's artifact-signing key
(:mod:`pipeline.store.keys`), like the artifacts it points to: a record
written by anyone without the key, or edited, is ignored (the file is then
simply read again).  It is a cache: deleting it only costs one full read.

A data set that is not a file (the built-in sample, generated from a
seed) is remembered under a *key* instead of a path, naming everything its
bytes depend on (:func:`pipeline.synthetic.customers.sample_identity`), with
the stamp :data:`NO_FILE`; :func:`recognise_generated` finds it.

What a stamp cannot see: content rewritten in place with the same size
*and* the modification and change times forced back to their old values
(``ctime`` cannot be set from user space), the same limit as ``make`` and
``git``'s index.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import ArtifactError, SegmentationError
from pipeline.store.keys import ARTIFACT_SIGNING, derived_key, existing_derived_key

FINGERPRINTS_NAME = ".data-fingerprints.json"
SCHEMA = "customer-segmentation/data-fingerprints"
#: Entries kept (the most recently written); older ones are dropped.
MAX_ENTRIES = 64


@dataclasses.dataclass(frozen=True)
class FileStamp:
    """What one ``stat`` call says about a file; equal stamps mean an unchanged file."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: str | Path) -> FileStamp:
        """The stamp of ``path`` (raises ``OSError`` when it cannot be read)."""
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


#: The stamp of a generated data set (no file): its entry is found by its key alone.
NO_FILE = FileStamp(size=0, mtime_ns=0, ctime_ns=0, inode=0, device=0)


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """A file's stamp, the data hash read with that stamp, and the artifact trained from it.

    Attributes
    ----------
    path : str
        The file's absolute path (a generated data set: its key, with the stamp :data:`NO_FILE`).
    stamp : FileStamp
        Its stamp when ``data_hash`` was computed.
    data_hash : str
        The data set's hash read from it (:attr:`pipeline.segmentation.training.Dataset.data_hash`:
        the SHA-256 of its bytes, with the column mapping when one was used).
    settings_hash : str
        The settings asked for (:meth:`pipeline.config.Settings.model_hash`).
    artifact_id : str
        The artifact those settings gave on this file.
    """

    path: str
    stamp: FileStamp
    data_hash: str
    settings_hash: str
    artifact_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {**dataclasses.asdict(self), "stamp": dataclasses.asdict(self.stamp)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fingerprint:
        """Inverse of :meth:`to_dict` (``KeyError``/``TypeError`` on a malformed entry)."""
        return cls(
            path=str(d["path"]),
            stamp=FileStamp(**{k: int(v) for k, v in d["stamp"].items()}),
            data_hash=str(d["data_hash"]),
            settings_hash=str(d["settings_hash"]),
            artifact_id=str(d["artifact_id"]),
        )


def fingerprints_path(settings: Settings) -> Path:
    """Where the signed record lives for ``settings``."""
    return Path(settings.models_dir) / FINGERPRINTS_NAME


def _signature(entries: list[dict[str, Any]], key: bytes) -> str:
    body = json.dumps({"schema": SCHEMA, "entries": entries}, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def read_fingerprints(settings: Settings) -> list[Fingerprint]:
    """The signed record's entries; empty when missing, unreadable, unsigned or not this installation's."""
    try:
        payload = json.loads(fingerprints_path(settings).read_text())
        entries = payload["entries"]
        key = existing_derived_key(settings, ARTIFACT_SIGNING)
        if key is None or payload.get("schema") != SCHEMA or not isinstance(entries, list):
            return []
        if not hmac.compare_digest(str(payload.get("signature", "")), _signature(entries, key)):
            return []
        return [Fingerprint.from_dict(e) for e in entries]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, SegmentationError):
        return []


def recognise(path: str | Path, settings_hash: str, settings: Settings) -> Fingerprint | None:
    """The remembered fingerprint of ``path`` under these settings, if the file is unchanged since.

    Reads only the file's metadata (one ``stat``), never its content.
    """
    where = str(Path(path).resolve())
    try:
        stamp = FileStamp.of(where)
    except OSError:
        return None
    return _entry(where, stamp, settings_hash, settings)


def recognise_generated(key: str, settings_hash: str, settings: Settings) -> Fingerprint | None:
    """The remembered fingerprint of the generated data set named ``key`` under these settings, if any."""
    return _entry(key, NO_FILE, settings_hash, settings)


def _entry(where: str, stamp: FileStamp, settings_hash: str, settings: Settings) -> Fingerprint | None:
    for fp in read_fingerprints(settings):
        if fp.path == where and fp.settings_hash == settings_hash and fp.stamp == stamp:
            return fp
    return None


def still_saved(known: Fingerprint, settings: Settings) -> bool:
    """True if the artifact ``known`` names is still there, signed, and made from its data hash.

    Reads the artifact's signed manifest only (nothing is unpickled).
    """
    from pipeline.store.artifacts import read_manifest

    try:
        manifest = read_manifest(Path(settings.models_dir) / known.artifact_id, settings)
    except ArtifactError:
        return False
    data = manifest.get("data") or {}
    return manifest.get("artifact_id") == known.artifact_id and data.get("hash") == known.data_hash


def remember(fingerprint: Fingerprint, settings: Settings) -> None:
    """Add (or replace) ``fingerprint`` in the signed record, written atomically.

    Best effort: a record that cannot be written costs a full read next time, never an error.
    """
    from pipeline.store.artifacts import write_json_atomic

    kept = [
        fp
        for fp in read_fingerprints(settings)
        if (fp.path, fp.settings_hash) != (fingerprint.path, fingerprint.settings_hash)
    ]
    entries = [fp.to_dict() for fp in [*kept, fingerprint][-MAX_ENTRIES:]]
    try:
        key = derived_key(settings, ARTIFACT_SIGNING)
        payload = {"schema": SCHEMA, "entries": entries, "signature": _signature(entries, key)}
        write_json_atomic(fingerprints_path(settings), payload)
    except (OSError, SegmentationError):
        return
