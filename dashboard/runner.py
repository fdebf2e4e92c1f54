"""The one job runner: every long piece of work (training, model comparison) goes through it.

Pure Python (no Dash), so it is unit-tested directly.  Jobs are rows of the
``jobs`` table of the project's one SQLite database
(:func:`pipeline.store.db.connect`); that table is the only shared state, so
any gunicorn worker process can submit, show, cancel or start a job.

Life of a job
-------------
``queued`` → ``running`` → ``done`` / ``failed`` / ``cancelled``.

- :meth:`JobRunner.submit` checks the memory estimate, stores the job
  ``queued`` and pumps the queue.
- :meth:`JobRunner.pump` claims free slots in one ``BEGIN IMMEDIATE``
  transaction, so the limits hold across processes: at most ``per_owner``
  running jobs per owner and ``max_running`` per server
  (default ``max(1, cores // 2)``); the rest wait in submission order and
  :meth:`JobRunner.status` gives their position.  Before a job starts its
  estimated peak memory is compared with what :mod:`psutil` says is
  available: it waits while other jobs run, and is refused with a message
  when nothing runs and it still does not fit.  Running jobs whose heartbeat
  is older than ``stale_after_s`` (their server process died) are marked
  failed, which frees their slot.  Every status poll and every finishing job
  pumps.
- A claimed job runs in a child process started with the ``spawn``
  multiprocessing context (forking a threaded server whose OpenMP threads
  are busy can deadlock scikit-learn).  The child calls the job function
  (``"module:function"`` of its :class:`~dashboard.job_status.JobKind`) with a :class:`~dashboard.job_process.JobContext`
  and the JSON parameters, and writes progress and the JSON result or the
  error to the database.  It leads its own process group, so whatever it
  starts (Chromium printing a PDF, for example) is stopped with it: a cancel
  signals the whole group, and a child whose server process died kills its
  group and itself.
- A monitor thread in the starting process joins the child (every child is
  reaped, whatever happened), writes the heartbeat while the child lives,
  and terminates the child when a cancel was requested; cancel is a flag in
  the row, so any worker process can set it.  The job leaves ``running``
  (and its slot frees) only once its child has been reaped, so a finishing
  child never overlaps the next one.

What runs in the child (the job function's :class:`~dashboard.job_process.JobContext`
with its progress and heartbeat, and the child's body) is :mod:`dashboard.job_process`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psutil

from dashboard.job_process import HEARTBEAT_S, child_main
from dashboard.job_status import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    STATES,
    JobKind,
    JobRefused,
    JobStatus,
)
from pipeline.store.db import connect, transaction

log = logging.getLogger(__name__)

#: A running job whose heartbeat is older than this is taken for dead.
STALE_AFTER_S = 30.0
#: Seconds a cancelled child gets to stop after SIGTERM before SIGKILL.
TERMINATE_GRACE_S = 5.0
#: Finished jobs older than this are deleted when a new job is submitted.
KEEP_FINISHED_S = 7 * 24 * 3600
STALE_MESSAGE = "The job stopped: the server process running it ended. Start it again."

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    parameters TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    percent INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    estimate_bytes INTEGER NOT NULL DEFAULT 0,
    outcome TEXT CHECK (outcome IN ('done', 'failed')),
    result TEXT,
    error TEXT,
    pid INTEGER,
    host_pid INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    submitted_at REAL NOT NULL,
    started_at REAL,
    heartbeat_at REAL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, state);
"""


def default_max_running() -> int:
    """``max(1, cores // 2)``: half the machine for background work, the rest for serving."""
    return max(1, (os.cpu_count() or 1) // 2)


def available_memory() -> int:
    """Bytes of memory available to new processes (:func:`psutil.virtual_memory`)."""
    return int(psutil.virtual_memory().available)


def mb(n_bytes: float) -> str:
    """``"1,234 MB"`` (MB = 1024² bytes)."""
    return f"{n_bytes / (1024 * 1024):,.0f} MB"


def memory_message(estimate: int, available: int) -> str:
    """The refusal when a job's estimated peak memory does not fit."""
    return (
        f"Not enough free memory on the server for this job: it needs about {mb(estimate)} at its peak and "
        f"{mb(available)} is free. Try again when other jobs have finished, or use the command line "
        "(python -m pipeline train) on a bigger machine."
    )


def _signal_group(proc: Any, signum: int) -> None:
    """Send ``signum`` to the process group the job child leads, or to the child alone before it leads one."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signum)
            return
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signum)


def _still_to_grow(running: list[sqlite3.Row]) -> int:
    """Bytes the running jobs may still take: their estimates less what their children hold now."""
    total = 0
    for row in running:
        held = 0
        if row["pid"]:
            with contextlib.suppress(psutil.Error):
                held = psutil.Process(int(row["pid"])).memory_info().rss
        total += max(0, int(row["estimate_bytes"] or 0) - held)
    return total


class JobRunner:
    """Bounded queue of background jobs shared by every server process (see the module docstring).

    Parameters
    ----------
    db_path : Path
        The state database (:func:`pipeline.store.db.database_path`).
    kinds : mapping of str to JobKind
        The job kinds this runner accepts.
    settings : object
        Passed to every job function (``context.settings``) and estimator;
        must be picklable (it crosses to the child process).
    max_running : int, optional
        Running jobs per server (all processes); default ``max(1, cores // 2)``.
    per_owner : int
        Running jobs per owner.
    heartbeat_s, stale_after_s : float
        Heartbeat period, and the age after which a running job is taken for dead.
    memory : callable, optional
        Available bytes (default :func:`available_memory`; tests pass a fake).
    start_method : str
        ``"spawn"`` (default) or ``"forkserver"``.
    """

    def __init__(
        self,
        db_path: Path,
        kinds: Mapping[str, JobKind],
        settings: Any = None,
        *,
        max_running: int | None = None,
        per_owner: int = 1,
        heartbeat_s: float = HEARTBEAT_S,
        stale_after_s: float = STALE_AFTER_S,
        memory: Callable[[], int] | None = None,
        start_method: str = "spawn",
    ) -> None:
        if start_method not in ("spawn", "forkserver"):
            raise ValueError("start_method must be 'spawn' or 'forkserver' (fork deadlocks threaded servers).")
        self.db_path = Path(db_path)
        self.kinds = dict(kinds)
        self.settings = settings
        self.max_running = max(1, int(max_running or default_max_running()))
        self.per_owner = max(1, int(per_owner))
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.memory = memory or available_memory
        self._mp = multiprocessing.get_context(start_method)
        self._procs: dict[str, Any] = {}
        self._monitors: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._schema_ready = False
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:  # a forked server worker inherits no children and no held lock
        self._lock = threading.Lock()
        self._procs = {}
        self._monitors = {}

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.db_path)
        try:
            if not self._schema_ready:
                conn.executescript(SCHEMA)
                self._schema_ready = True
            yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------ public API

    def submit(self, owner: str, kind: str, parameters: dict[str, Any] | None = None) -> str:
        """Queue a job for ``owner`` and start it when a slot is free; returns its id.

        The same owner asking for the same kind with the same parameters while
        such a job is queued or running gets that job's id (no second job).

        Raises
        ------
        JobRefused
            Unknown kind, parameters that are not JSON, or an estimated peak
            memory above what is available (counting what running jobs will
            give back).
        """
        if not owner:
            raise JobRefused("No owner: the job cannot be submitted.")
        job_kind = self.kinds.get(kind)
        if job_kind is None:
            raise JobRefused(f"Unknown job kind {kind!r}.")
        params = dict(parameters or {})
        try:
            blob = json.dumps(params, sort_keys=True)
        except (TypeError, ValueError):
            raise JobRefused("The job's parameters are not plain data.") from None
        estimate = int(job_kind.estimate(params, self.settings, owner)) if job_kind.estimate else 0
        job_id = uuid.uuid4().hex
        now = time.time()
        with self._db() as conn, transaction(conn):
            same = conn.execute(  # a second click, or the page opened again: follow the job already there
                "SELECT id FROM jobs WHERE owner = ? AND kind = ? AND parameters = ? AND state IN ('queued', 'running') "
                "AND cancel_requested = 0 ORDER BY seq LIMIT 1",
                (owner, kind, blob),
            ).fetchone()
            if same is not None:
                return str(same["id"])
            running = conn.execute("SELECT COALESCE(SUM(estimate_bytes), 0) FROM jobs WHERE state = 'running'")
            returning = int(running.fetchone()[0])
            available = self.memory()
            if estimate > available + returning:
                raise JobRefused(memory_message(estimate, available + returning))
            conn.execute("DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?", (now - KEEP_FINISHED_S,))
            conn.execute(
                "INSERT INTO jobs (id, owner, kind, parameters, state, estimate_bytes, submitted_at, message) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?, 'Waiting for a free slot…')",
                (job_id, owner, kind, blob, estimate, now),
            )
        self.pump()
        return job_id

    def status(self, job_id: str | None, owner: str) -> JobStatus:
        """The job as its owner sees it (pumps the queue first).

        Raises
        ------
        JobRefused
            No such job, or not this owner's (the same message for both).
        """
        self.pump()
        with self._db() as conn:
            row = self._owned(conn, job_id, owner)
            position = None
            if row["state"] == QUEUED:
                query = "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND seq <= ?"
                position = int(conn.execute(query, (row["seq"],)).fetchone()[0])
        return JobStatus(
            id=row["id"],
            kind=row["kind"],
            state=row["state"],
            percent=int(row["percent"]),
            message=str(row["message"] or ""),
            position=position,
            result=json.loads(row["result"]) if row["result"] else None,
            error=row["error"],
        )

    def cancel(self, job_id: str | None, owner: str) -> JobStatus:
        """Cancel the owner's job: a queued one at once, a running one by terminating its child.

        The flag is in the database: the process that started the child sees
        it within one heartbeat, terminates the child, reaps it and frees the
        slot.  Cancelling a finished job changes nothing.

        Raises
        ------
        JobRefused
            No such job, or not this owner's.
        """
        with self._db() as conn, transaction(conn):
            row = self._owned(conn, job_id, owner)
            if row["state"] == QUEUED:
                conn.execute(
                    "UPDATE jobs SET state = 'cancelled', finished_at = ?, message = 'Cancelled' WHERE id = ?",
                    (time.time(), row["id"]),
                )
            elif row["state"] == RUNNING:
                conn.execute("UPDATE jobs SET cancel_requested = 1, message = 'Cancelling…' WHERE id = ?", (row["id"],))
        with self._lock:
            proc = self._procs.get(str(job_id))
        if proc is not None:
            with contextlib.suppress(Exception):
                _signal_group(proc, signal.SIGTERM)
        return self.status(job_id, owner)

    def wait(self, job_id: str, owner: str, timeout: float = 300.0, poll_s: float = 0.2) -> JobStatus:
        """Poll until the job has finished (for the command line, tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(job_id, owner)
            if status.finished:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {status.state} after {timeout:.0f} s")
            time.sleep(poll_s)

    def counts(self) -> dict[str, int]:
        """Jobs per state on the server (all owners)."""
        with self._db() as conn:
            rows = conn.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").fetchall()
        return {state: 0 for state in STATES} | {r["state"]: int(r["n"]) for r in rows}

    def pump(self) -> list[str]:
        """Expire dead jobs, then claim free slots and start their children; returns the ids started."""
        now = time.time()
        claimed: list[sqlite3.Row] = []
        with self._db() as conn:
            work = conn.execute(  # a read first: most polls find nothing to do and take no write lock
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued') "
                "OR EXISTS (SELECT 1 FROM jobs WHERE state = 'running' AND heartbeat_at < ?)",
                (now - self.stale_after_s,),
            ).fetchone()[0]
            if not work:
                return []
        with self._db() as conn, transaction(conn):
            conn.execute(  # nobody reaps these any more: keep an outcome the child recorded, else failed
                "UPDATE jobs SET "
                "state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE COALESCE(outcome, 'failed') END, "
                "error = CASE WHEN cancel_requested = 1 OR outcome IS NOT NULL THEN error ELSE ? END, finished_at = ? "
                "WHERE state = 'running' AND heartbeat_at < ?",
                (STALE_MESSAGE, now, now - self.stale_after_s),
            )
            running = conn.execute("SELECT owner, estimate_bytes, pid FROM jobs WHERE state = 'running'").fetchall()
            per_owner: dict[str, int] = {}
            for r in running:
                per_owner[r["owner"]] = per_owner.get(r["owner"], 0) + 1
            n_running = len(running)
            queued = conn.execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY seq").fetchall()
            free = None
            for row in queued:
                if n_running >= self.max_running:
                    break
                if per_owner.get(row["owner"], 0) >= self.per_owner:
                    continue
                if row["estimate_bytes"]:
                    free = self.memory() - _still_to_grow(running) if free is None else free
                    if row["estimate_bytes"] > free:
                        if n_running:
                            break  # wait for the running jobs to give memory back (first come, first served)
                        conn.execute(
                            "UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
                            (memory_message(row["estimate_bytes"], free), now, row["id"]),
                        )
                        continue
                    free -= row["estimate_bytes"]
                conn.execute(
                    "UPDATE jobs SET state = 'running', started_at = ?, heartbeat_at = ?, host_pid = ?, "
                    "message = 'Starting…' WHERE id = ?",
                    (now, now, os.getpid(), row["id"]),
                )
                per_owner[row["owner"]] = per_owner.get(row["owner"], 0) + 1
                n_running += 1
                claimed.append(row)
        for row in claimed:
            self._start(row)
        return [row["id"] for row in claimed]

    def close(self, timeout: float = 10.0) -> None:
        """Terminate this process's running children and wait for their monitors (tests, shutdown)."""
        with self._lock:
            procs = list(self._procs.values())
            monitors = list(self._monitors.values())
        for proc in procs:
            with contextlib.suppress(Exception):
                _signal_group(proc, signal.SIGTERM)
        for monitor in monitors:
            monitor.join(timeout)

    def children(self) -> list[int]:
        """Pids of this process's job children still running."""
        with self._lock:
            return [p.pid for p in self._procs.values() if p.pid is not None and p.is_alive()]

    # ------------------------------------------------------------ internals

    def _owned(self, conn: sqlite3.Connection, job_id: str | None, owner: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (str(job_id or ""),)).fetchone()
        if row is None or row["owner"] != owner:
            raise JobRefused("Unknown job: it was not started in this session, or it has been cleaned up.")
        return row

    def _start(self, row: sqlite3.Row) -> None:
        job_id = row["id"]
        kind = self.kinds.get(row["kind"])
        try:
            if kind is None:
                raise JobRefused(f"Unknown job kind {row['kind']!r}.")
            proc = self._mp.Process(
                target=child_main,
                args=(
                    str(self.db_path),
                    job_id,
                    row["owner"],
                    kind.target,
                    json.loads(row["parameters"]),
                    self.settings,
                    self.heartbeat_s,
                ),
                name=f"job-{row['kind']}-{job_id[:8]}",
                daemon=True,
            )
            proc.start()
        except Exception as err:
            log.exception("job %s could not be started", job_id)
            self._finish(job_id, FAILED, f"The job could not be started ({type(err).__name__}: {err}).")
            return
        monitor = threading.Thread(target=self._monitor, args=(job_id, proc), name=f"job-{job_id[:8]}", daemon=True)
        with self._lock:
            self._procs[job_id] = proc
            self._monitors[job_id] = monitor
        with self._db() as conn:
            conn.execute("UPDATE jobs SET pid = ? WHERE id = ?", (proc.pid, job_id))
        monitor.start()

    def _monitor(self, job_id: str, proc: Any) -> None:
        """Heartbeat while the child lives, terminate it on cancel, reap it, record an abnormal end, pump."""
        try:
            conn = connect(self.db_path)
            try:
                while proc.exitcode is None:
                    proc.join(self.heartbeat_s)
                    if proc.exitcode is not None:
                        break
                    try:
                        conn.execute(
                            "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND state = 'running'", (time.time(), job_id)
                        )
                        query = "SELECT state, cancel_requested FROM jobs WHERE id = ?"
                        row = conn.execute(query, (job_id,)).fetchone()
                    except sqlite3.OperationalError:  # busy for longer than the timeout: try again next beat
                        log.warning("heartbeat of job %s not written (database busy)", job_id)
                        continue
                    if row is None or row["state"] != RUNNING or row["cancel_requested"]:
                        self._stop(proc)
            finally:
                conn.close()
        except Exception:  # the database is gone or broken: still reap the child
            log.exception("monitor of job %s failed", job_id)
            self._stop(proc)
        finally:
            proc.join()
            exitcode = proc.exitcode
            with contextlib.suppress(Exception):
                proc.close()
            with self._lock:
                self._procs.pop(job_id, None)
                self._monitors.pop(job_id, None)
        self._finish(job_id, FAILED, f"The job stopped unexpectedly (exit code {exitcode}).")
        with contextlib.suppress(Exception):
            self.pump()

    @staticmethod
    def _stop(proc: Any) -> None:
        """SIGTERM to the child's process group, SIGKILL after the grace period; the child is reaped.

        Called only while the child is not yet reaped, so its pid (and the group it leads) cannot
        have been reused.  A child killed before it made its group is signalled alone.
        """
        _signal_group(proc, signal.SIGTERM)
        proc.join(TERMINATE_GRACE_S)
        if proc.exitcode is None:
            _signal_group(proc, signal.SIGKILL)
            proc.join()

    def _finish(self, job_id: str, state: str, error: str) -> None:
        """The child is reaped: its recorded outcome, or cancelled, or ``state``/``error`` (killed, crashed)."""
        with contextlib.suppress(Exception), self._db() as conn:
            conn.execute(
                "UPDATE jobs SET "
                "state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE COALESCE(outcome, ?) END, "
                "error = CASE WHEN cancel_requested = 1 THEN NULL WHEN outcome IS NOT NULL THEN error ELSE ? END, "
                "message = CASE WHEN cancel_requested = 1 THEN 'Cancelled' ELSE message END, "
                "finished_at = ? WHERE id = ? AND state = 'running'",
                (state, error, time.time(), job_id),
            )


__all__ = [
    "CANCELLED",
    "DONE",
    "FAILED",
    "QUEUED",
    "RUNNING",
    "JobKind",
    "JobRefused",
    "JobRunner",
    "JobStatus",
    "available_memory",
    "default_max_running",
]
