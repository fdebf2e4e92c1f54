"""Who owns which upload and model version: the one store that hands them out.

Every upload and every model version (artifact) the app knows is a row in the
project's SQLite database (:mod:`pipeline.store.db`) with its **owner**: the
identity of a browser session, a signed-in user, or ``"system"`` for the
built-in sample and the ``--data`` default.  Every method that reads,
switches to, downloads or deletes something takes the asking owner and raises
:class:`~pipeline.errors.AccessDenied` unless the thing is the owner's own,
shared by its owner, or the system's.  "Does not exist" and "belongs to
someone else" give the same message (:data:`NOT_AVAILABLE`), so ids cannot be
probed: an id the browser holds is never a key by itself.

Model versions are content-addressed (the same data and settings give the
same artifact id), so two owners who train the same file hold the same
version: ownership is one row per ``(owner, artifact_id)``.  Removing a
version removes the asker's row; :meth:`Registry.remove_version` says when no
one holds the folder any more, and only then may the caller delete it.

Uploads are stored once per owner and content (SHA-256): the same file
uploaded again by the same owner returns the first record.

The module is pure (stdlib ``sqlite3``), safe with several worker processes
(WAL, ``BEGIN IMMEDIATE``); a connection is opened per process and thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import secrets
import sqlite3
import threading
from pathlib import Path

from pipeline.errors import AccessDenied, DataError
from pipeline.store.db import connect, transaction

#: Owner of the built-in sample and the ``--data`` default (shared read-only with everyone).
SYSTEM = "system"
#: The one refusal for anything missing or not the asker's (ids cannot be probed).
NOT_AVAILABLE = "This data set or model version is not available to you: it does not exist or belongs to someone else."
#: The refusal for an upload key that is missing or not the asker's.
UPLOAD_NOT_AVAILABLE = "That uploaded file is not available to you: it does not exist or belongs to someone else."
#: Refusal to change or delete a version shared by another owner.
ONLY_OWNER = "Only the owner can change or delete this version; you can switch to it and read it."
#: Refusal to change or delete the built-in sample or the server's default.
SYSTEM_KEPT = "The built-in sample or the server's default data set is kept for everyone; you can switch to it."
_OWNER = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")
_KEY = re.compile(r"^[0-9a-f]{32}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    UNIQUE (owner, sha256)
);
CREATE TABLE IF NOT EXISTS versions (
    owner TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    source TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    PRIMARY KEY (owner, artifact_id)
);
CREATE INDEX IF NOT EXISTS versions_by_artifact ON versions (artifact_id);
CREATE INDEX IF NOT EXISTS versions_shared ON versions (shared) WHERE shared = 1;
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_owner(owner: str) -> str:
    """``owner`` if it is a usable identity (1-200 printable characters), else :class:`AccessDenied`."""
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise AccessDenied("No valid identity for this request; reload the page.")
    return owner


def new_anonymous_owner() -> str:
    """A random owner id for a browser without a login (``anon-`` + 128 random bits)."""
    return "anon-" + secrets.token_hex(16)


@dataclasses.dataclass(frozen=True)
class UploadRecord:
    """A stored upload as the registry knows it.

    Attributes
    ----------
    key : str
        Random 32-hex id (what the browser keeps).
    owner : str
        Who uploaded it.
    name : str
        Display name (never used as a path).
    size : int
        Bytes.
    sha256 : str
        Content hash (identical uploads by one owner are stored once).
    path : str
        Where the bytes are on the server (never shown to users).
    uploaded_at : str
        ISO time, UTC.
    """

    key: str
    owner: str
    name: str
    size: int
    sha256: str
    path: str
    uploaded_at: str


@dataclasses.dataclass(frozen=True)
class VersionRecord:
    """A model version as one owner sees it.

    Attributes
    ----------
    artifact_id : str
        The version (artifact folder name).
    dataset_name : str
        Name of the data set it was trained on.
    source : str
        How it came (``"sample"``, ``"default"``, ``"upload:<key>"``, ``"artifact:<id>"``, ``"cli"``...).
    mine : bool
        The asker owns it (may share, unshare and delete it).
    shared : bool
        Readable by everyone on the server (the asker's own sharing flag when ``mine``).
    owner : str
        The asker when ``mine``; otherwise the owner who shares it (``"system"`` for the defaults).
    added_at : str
        ISO time (UTC) it was registered for this owner.
    """

    artifact_id: str
    dataset_name: str
    source: str
    mine: bool
    shared: bool
    owner: str
    added_at: str

    @property
    def system(self) -> bool:
        """The built-in sample or the server's default data set."""
        return self.owner == SYSTEM


class Registry:
    """Owners of uploads and model versions, in the SQLite file at ``path``.

    Parameters
    ----------
    path : Path
        The state database (``pipeline.store.db.database_path(settings)``);
        the tables are created on first use.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._schema_pid: int | None = None

    # ------------------------------------------------------------ plumbing

    def _conn(self) -> sqlite3.Connection:
        """This process and thread's connection (a forked child opens its own)."""
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != pid:
            conn = connect(self.path)
            if self._schema_pid != pid:  # once per process (CREATE ... IF NOT EXISTS)
                conn.executescript(SCHEMA)
                self._schema_pid = pid
            self._local.conn = conn
            self._local.pid = pid
        return conn

    def close(self) -> None:
        """Close this thread's connection (a new one opens on next use)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

    # ------------------------------------------------------------ uploads

    def add_upload(
        self, owner: str, key: str, name: str, size: int, sha256: str, path: str
    ) -> tuple[UploadRecord, bool]:
        """Register an upload; ``(record, created)``.

        When the owner already has an upload with the same ``sha256`` that one
        is returned with ``created=False`` (the caller drops its new copy).
        """
        check_owner(owner)
        if not _KEY.match(str(key)):
            raise DataError("Invalid upload key.")
        conn = self._conn()
        with transaction(conn):
            row = conn.execute("SELECT * FROM uploads WHERE owner = ? AND sha256 = ?", (owner, sha256)).fetchone()
            if row is not None:
                return _upload(row), False
            at = _now()
            conn.execute(
                "INSERT INTO uploads (key, owner, name, size, sha256, path, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, owner, name, int(size), sha256, str(path), at),
            )
        return UploadRecord(key, owner, name, int(size), sha256, str(path), at), True

    def find_upload(self, owner: str, sha256: str) -> UploadRecord | None:
        """The owner's upload with this content hash, if any."""
        check_owner(owner)
        row = self._conn().execute("SELECT * FROM uploads WHERE owner = ? AND sha256 = ?", (owner, sha256)).fetchone()
        return _upload(row) if row is not None else None

    def upload(self, owner: str, key: str | None) -> UploadRecord:
        """The owner's upload ``key``.

        Raises
        ------
        AccessDenied
            Malformed, unknown, or another owner's key (one message for all).
        """
        check_owner(owner)
        if not key or not _KEY.match(str(key)):
            raise AccessDenied(UPLOAD_NOT_AVAILABLE)
        row = self._conn().execute("SELECT * FROM uploads WHERE key = ? AND owner = ?", (key, owner)).fetchone()
        if row is None:
            raise AccessDenied(UPLOAD_NOT_AVAILABLE)
        return _upload(row)

    def touch_upload(self, owner: str, key: str) -> None:
        """Mark the owner's upload as uploaded now (the same file came again: keep it from expiring)."""
        record = self.upload(owner, key)
        self._conn().execute("UPDATE uploads SET uploaded_at = ? WHERE key = ?", (_now(), record.key))

    def uploads(self, owner: str) -> list[UploadRecord]:
        """The owner's uploads, newest first."""
        check_owner(owner)
        rows = (
            self._conn()
            .execute("SELECT * FROM uploads WHERE owner = ? ORDER BY uploaded_at DESC, key", (owner,))
            .fetchall()
        )
        return [_upload(r) for r in rows]

    def delete_upload(self, owner: str, key: str) -> UploadRecord:
        """Forget the owner's upload ``key`` (the caller removes the file); :class:`AccessDenied` otherwise."""
        record = self.upload(owner, key)
        self._conn().execute("DELETE FROM uploads WHERE key = ? AND owner = ?", (record.key, owner))
        return record

    def uploads_before(self, cutoff_iso: str) -> list[UploadRecord]:
        """Every owner's uploads older than ``cutoff_iso`` (server housekeeping only)."""
        rows = self._conn().execute("SELECT * FROM uploads WHERE uploaded_at < ?", (cutoff_iso,)).fetchall()
        return [_upload(r) for r in rows]

    def forget_upload(self, key: str) -> None:
        """Drop an upload's row whoever owns it (server housekeeping after its file expired)."""
        self._conn().execute("DELETE FROM uploads WHERE key = ?", (key,))

    # ------------------------------------------------------------ versions

    def add_version(self, owner: str, artifact_id: str, dataset_name: str, source: str, shared: bool = False) -> None:
        """Record that ``owner`` holds ``artifact_id`` (idempotent: a second call changes nothing).

        Called when a training job finishes (also when it reused an existing
        version: the same data and settings give the same id).
        """
        check_owner(owner)
        self._conn().execute(
            "INSERT OR IGNORE INTO versions (owner, artifact_id, dataset_name, source, shared, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (owner, str(artifact_id), str(dataset_name), str(source), int(bool(shared)), _now()),
        )

    def add_system_version(self, artifact_id: str, dataset_name: str, source: str = "default") -> None:
        """Register a version everyone may read and no browser may delete (the sample / ``--data`` default)."""
        self.add_version(SYSTEM, artifact_id, dataset_name, source, shared=True)

    def can_read(self, owner: str, artifact_id: str | None) -> bool:
        """True when ``artifact_id`` is the owner's, shared, or the system's."""
        if not artifact_id or not isinstance(owner, str) or not _OWNER.match(owner):
            return False
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM versions WHERE artifact_id = ? AND (owner = ? OR shared = 1) LIMIT 1",
                (str(artifact_id), owner),
            )
            .fetchone()
        )
        return row is not None

    def version(self, owner: str, artifact_id: str | None) -> VersionRecord:
        """The version as ``owner`` sees it.

        Raises
        ------
        AccessDenied
            Unknown, or neither the owner's, shared nor the system's (one message for both).
        """
        check_owner(owner)
        if not artifact_id:
            raise AccessDenied(NOT_AVAILABLE)
        rows = (
            self._conn()
            .execute(
                "SELECT * FROM versions WHERE artifact_id = ? AND (owner = ? OR shared = 1)", (str(artifact_id), owner)
            )
            .fetchall()
        )
        if not rows:
            raise AccessDenied(NOT_AVAILABLE)
        return _as_seen(rows, owner)

    def versions(self, owner: str) -> list[VersionRecord]:
        """Every version ``owner`` may read (own, shared, system), one record per artifact, newest first."""
        check_owner(owner)
        rows = (
            self._conn()
            .execute(
                "SELECT * FROM versions WHERE owner = ? OR shared = 1 ORDER BY added_at DESC, artifact_id", (owner,)
            )
            .fetchall()
        )
        grouped: dict[str, list[sqlite3.Row]] = {}
        for row in rows:
            grouped.setdefault(row["artifact_id"], []).append(row)
        return [_as_seen(group, owner) for group in grouped.values()]

    def owned(self, owner: str, artifact_id: str | None) -> VersionRecord:
        """The owner's own version (to share, unshare or delete); :class:`AccessDenied` otherwise.

        A shared or system version that is readable but not the owner's is refused too.
        """
        record = self.version(owner, artifact_id)
        if record.mine:
            return record
        if record.system:
            raise AccessDenied(SYSTEM_KEPT)
        raise AccessDenied(ONLY_OWNER)

    def share(self, owner: str, artifact_id: str, shared: bool = True) -> VersionRecord:
        """Share the owner's version read-only with everyone on the server (``shared=False``: unshare)."""
        record = self.owned(owner, artifact_id)
        if record.owner == SYSTEM:
            raise AccessDenied("The built-in data sets are always shared.")
        self._conn().execute(
            "UPDATE versions SET shared = ? WHERE owner = ? AND artifact_id = ?",
            (int(bool(shared)), owner, artifact_id),
        )
        return dataclasses.replace(record, shared=bool(shared))

    def remove_version(self, owner: str, artifact_id: str) -> tuple[VersionRecord, bool]:
        """Remove the owner's hold on a version; ``(record, orphaned)``.

        ``orphaned`` is True when nobody holds the version any more: only then
        may the caller delete the artifact folder.  System versions are
        refused (:class:`AccessDenied`).
        """
        record = self.owned(owner, artifact_id)
        if record.owner == SYSTEM:
            raise AccessDenied(SYSTEM_KEPT)
        conn = self._conn()
        with transaction(conn):
            conn.execute("DELETE FROM versions WHERE owner = ? AND artifact_id = ?", (owner, artifact_id))
            left = conn.execute("SELECT COUNT(*) FROM versions WHERE artifact_id = ?", (artifact_id,)).fetchone()[0]
        return record, left == 0

    def known(self, artifact_id: str) -> bool:
        """True when any owner holds ``artifact_id`` (server housekeeping: unregistered folders)."""
        row = self._conn().execute("SELECT 1 FROM versions WHERE artifact_id = ? LIMIT 1", (artifact_id,)).fetchone()
        return row is not None


def _upload(row: sqlite3.Row) -> UploadRecord:
    return UploadRecord(
        key=row["key"],
        owner=row["owner"],
        name=row["name"],
        size=int(row["size"]),
        sha256=row["sha256"],
        path=row["path"],
        uploaded_at=row["uploaded_at"],
    )


def _as_seen(rows: list[sqlite3.Row], owner: str) -> VersionRecord:
    """One record from the rows of one artifact the owner may read: their own row first."""
    own = [r for r in rows if r["owner"] == owner]
    if own:
        r = own[0]
        return VersionRecord(
            r["artifact_id"], r["dataset_name"], r["source"], True, bool(r["shared"]), owner, r["added_at"]
        )
    system = [r for r in rows if r["owner"] == SYSTEM]
    r = (system or rows)[0]
    return VersionRecord(r["artifact_id"], r["dataset_name"], r["source"], False, True, r["owner"], r["added_at"])


__all__ = [
    "NOT_AVAILABLE",
    "ONLY_OWNER",
    "SYSTEM",
    "SYSTEM_KEPT",
    "UPLOAD_NOT_AVAILABLE",
    "Registry",
    "UploadRecord",
    "VersionRecord",
    "check_owner",
    "new_anonymous_owner",
]
