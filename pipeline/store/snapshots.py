"""Snapshots kept with their owner (beside :mod:`pipeline.store.registry`, same database and rules).

A stored snapshot is one row in the ``snapshots`` table of the project's
SQLite database (:mod:`pipeline.store.db`) plus one Parquet file of its
customers (id, segment key, value, features) under
``<data_dir>/snapshots/``.  Every read and delete takes the asking owner:
a snapshot is readable by its owner, or by everyone when it is the system's
(the built-in series); anything else -- unknown id, another owner's --
raises :class:`~pipeline.errors.AccessDenied` with one message
(:data:`SNAPSHOT_NOT_AVAILABLE`), so ids cannot be probed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import secrets
import sqlite3
from pathlib import Path

import pandas as pd

from pipeline.errors import AccessDenied
from pipeline.store.db import connect, transaction
from pipeline.store.registry import SYSTEM, check_owner
from pipeline.timeline.snapshot import SEGMENT, SegmentInfo, Snapshot

#: The one refusal for a snapshot that is missing or not the asker's.
SNAPSHOT_NOT_AVAILABLE = "This snapshot is not available to you: it does not exist or belongs to someone else."
_ID = re.compile(r"^[0-9a-f]{24}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    series TEXT NOT NULL,
    data_name TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    as_of TEXT NOT NULL,
    model_id TEXT NOT NULL,
    key_space TEXT NOT NULL,
    segments TEXT NOT NULL,
    features TEXT NOT NULL,
    n_customers INTEGER NOT NULL,
    path TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_by_owner ON snapshots (owner, series, as_of);
"""


@dataclasses.dataclass(frozen=True)
class SnapshotRecord:
    """A stored snapshot as listed (without its customers).

    Attributes
    ----------
    id : str
        Random 24-hex id.
    owner : str
        Who stored it (``"system"``: everyone may read it).
    series : str
        Group name (snapshots of one data source compared over time).
    data_name : str
        The data set's name.
    as_of : date
        Its as-of date.
    model_id : str
        The model version that scored it.
    key_space : str
        The model whose segment keys it uses.
    n_customers : int
        Customers.
    """

    id: str
    owner: str
    series: str
    data_name: str
    as_of: dt.date
    model_id: str
    key_space: str
    n_customers: int

    @property
    def label(self) -> str:
        """``"<as-of> · <data name> (<n> customers)"``."""
        return f"{self.as_of.isoformat()} · {self.data_name} ({self.n_customers:,} customers)"


class SnapshotStore:
    """Owners' snapshots in the SQLite file ``db_path``, customers in ``folder``.

    Parameters
    ----------
    db_path : Path
        The state database (``pipeline.store.db.database_path(settings)``).
    folder : Path
        Where the customers' Parquet files are written (``<data_dir>/snapshots``).
    """

    def __init__(self, db_path: Path, folder: Path) -> None:
        self.db_path = Path(db_path)
        self.folder = Path(folder)

    def _conn(self) -> sqlite3.Connection:
        conn = connect(self.db_path)
        conn.executescript(SCHEMA)
        return conn

    def add(self, owner: str, snapshot: Snapshot, series: str = "") -> SnapshotRecord:
        """Store ``snapshot`` for ``owner`` in ``series`` (default: the data set's name)."""
        check_owner(owner)
        sid = secrets.token_hex(12)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{sid}.parquet"
        tmp = path.with_suffix(".tmp")
        customers = snapshot.customers.copy()
        customers[SEGMENT] = customers[SEGMENT].astype(str)
        customers.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        segments = json.dumps([dataclasses.asdict(s) for s in snapshot.segments])
        series = series or snapshot.data_name
        conn = self._conn()
        try:
            with transaction(conn):
                conn.execute(
                    "INSERT INTO snapshots (id, owner, series, data_name, data_hash, as_of, model_id, key_space, "
                    "segments, features, n_customers, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sid,
                        owner,
                        series,
                        snapshot.data_name,
                        snapshot.data_hash,
                        snapshot.as_of.isoformat(),
                        snapshot.model_id,
                        snapshot.key_space,
                        segments,
                        json.dumps(list(snapshot.features)),
                        snapshot.n_customers,
                        str(path),
                        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    ),
                )
        finally:
            conn.close()
        return SnapshotRecord(
            sid,
            owner,
            series,
            snapshot.data_name,
            snapshot.as_of,
            snapshot.model_id,
            snapshot.key_space,
            snapshot.n_customers,
        )

    def _row(self, owner: str, sid: str | None) -> sqlite3.Row:
        check_owner(owner)
        if not sid or not _ID.match(str(sid)):
            raise AccessDenied(SNAPSHOT_NOT_AVAILABLE)
        conn = self._conn()
        try:
            row = conn.execute(
                "SELECT * FROM snapshots WHERE id = ? AND (owner = ? OR owner = ?)", (sid, owner, SYSTEM)
            ).fetchone()
        finally:
            conn.close()
        if row is None:
            raise AccessDenied(SNAPSHOT_NOT_AVAILABLE)
        return row

    def record(self, owner: str, sid: str | None) -> SnapshotRecord:
        """The listing of snapshot ``sid`` as ``owner`` may see it; :class:`AccessDenied` otherwise."""
        return _record(self._row(owner, sid))

    def load(self, owner: str, sid: str | None) -> Snapshot:
        """The snapshot ``sid`` with its customers; :class:`AccessDenied` if missing or not the owner's."""
        row = self._row(owner, sid)
        customers = pd.read_parquet(row["path"])
        segments = tuple(SegmentInfo(**s) for s in json.loads(row["segments"]))
        customers[SEGMENT] = pd.Categorical(customers[SEGMENT], categories=[s.key for s in segments])
        return Snapshot(
            data_name=row["data_name"],
            data_hash=row["data_hash"],
            as_of=dt.date.fromisoformat(row["as_of"]),
            model_id=row["model_id"],
            segments=segments,
            customers=customers,
            features=tuple(json.loads(row["features"])),
            key_space=row["key_space"],
        )

    def list(self, owner: str, series: str | None = None) -> list[SnapshotRecord]:
        """The owner's snapshots and the system's, oldest as-of first (optionally of one series)."""
        check_owner(owner)
        sql = "SELECT * FROM snapshots WHERE (owner = ? OR owner = ?)"
        args: tuple[str, ...] = (owner, SYSTEM)
        if series is not None:
            sql += " AND series = ?"
            args += (series,)
        conn = self._conn()
        try:
            rows = conn.execute(sql + " ORDER BY series, as_of, created_at", args).fetchall()
        finally:
            conn.close()
        return [_record(r) for r in rows]

    def delete(self, owner: str, sid: str) -> None:
        """Delete the owner's own snapshot (system snapshots and foreign ones: :class:`AccessDenied`)."""
        row = self._row(owner, sid)
        if row["owner"] != owner:
            raise AccessDenied(SNAPSHOT_NOT_AVAILABLE)
        conn = self._conn()
        try:
            conn.execute("DELETE FROM snapshots WHERE id = ? AND owner = ?", (sid, owner))
        finally:
            conn.close()
        Path(row["path"]).unlink(missing_ok=True)


def _record(row: sqlite3.Row) -> SnapshotRecord:
    return SnapshotRecord(
        id=row["id"],
        owner=row["owner"],
        series=row["series"],
        data_name=row["data_name"],
        as_of=dt.date.fromisoformat(row["as_of"]),
        model_id=row["model_id"],
        key_space=row["key_space"],
        n_customers=int(row["n_customers"]),
    )


__all__ = ["SNAPSHOT_NOT_AVAILABLE", "SnapshotRecord", "SnapshotStore"]
