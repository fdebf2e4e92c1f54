"""The project's one embedded SQLite database: how it is opened.

Every part that keeps state on the server (the owner registry of
:mod:`pipeline.store.registry`, the job runner's ``jobs`` table) opens the
same file, ``<data_dir>/state.sqlite3``, through :func:`connect`, so every
connection has the same settings:

- ``journal_mode=WAL``: readers never block the writer and several worker
  processes can use the file at once;
- ``busy_timeout``: a writer waits for another one instead of failing with
  ``database is locked``;
- ``foreign_keys=ON`` and rows as :class:`sqlite3.Row` (columns by name);
- autocommit (``isolation_level=None``): a transaction is explicit
  (``with transaction(conn): ...``, ``BEGIN IMMEDIATE``), never left open by accident.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipeline.config import Settings

#: File name of the state database inside ``settings.data_dir``.
DATABASE_NAME = "state.sqlite3"
#: Milliseconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_MS = 10_000


def database_path(settings: Settings) -> Path:
    """``<settings.data_dir>/state.sqlite3`` (the folder is not created here)."""
    return Path(settings.data_dir) / DATABASE_NAME


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the state database at ``path`` with the project's settings.

    Parameters
    ----------
    path : Path
        The database file; its folder is created if needed.

    Returns
    -------
    sqlite3.Connection
        WAL journal, busy timeout, foreign keys on, :class:`sqlite3.Row` rows,
        autocommit mode (use :func:`transaction` for several statements).
        Not shared between threads or processes: open one where it is used.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=True)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): one writer at a time, all or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


__all__ = ["BUSY_TIMEOUT_MS", "DATABASE_NAME", "connect", "database_path", "transaction"]
