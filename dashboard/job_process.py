"""What runs in a job's own process: the job function's context and the child's body.

:class:`dashboard.runner.JobRunner` starts every job in a child process
(``spawn``) at :func:`child_main`, which calls the job function (its
:class:`~dashboard.job_status.JobKind`'s ``"module:function"``) with a
:class:`JobContext` and the JSON parameters, and records the outcome in the
job's row.  Job functions report progress with :meth:`JobContext.progress`;
its ``creep_to`` lets one long step move the bar by itself while a heartbeat
thread in the child shows the elapsed seconds (the one progress/heartbeat
implementation of the project).  The child leads its own process group and
kills it, and itself, when the server process that started it dies.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dashboard.job_status import DONE, FAILED
from pipeline.errors import SegmentationError
from pipeline.store.db import connect

log = logging.getLogger(__name__)

#: Seconds between heartbeats (the runner's monitor) and elapsed-time reports (the child).
HEARTBEAT_S = 0.5


class JobContext:
    """What a job function gets in the child process: its id, owner, settings and progress reporting.

    Progress is written to the job's row (only while it is running and not
    cancelled).  :meth:`progress` with ``creep_to`` starts a long step: a
    heartbeat thread moves the bar from ``percent`` towards ``creep_to``
    (never reaching it) and appends the seconds since the job's first report.
    """

    def __init__(self, db_path: Path, job_id: str, owner: str, settings: Any, heartbeat_s: float = HEARTBEAT_S):
        self.db_path = Path(db_path)
        self.job_id = job_id
        self.owner = owner
        self.settings = settings
        self.heartbeat_s = heartbeat_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._percent = 0
        self._step: tuple[int, int, str, float] | None = None
        self._began: float | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.db_path)
        return conn

    def _write(self, percent: int, message: str) -> None:
        self._conn().execute(
            "UPDATE jobs SET percent = ?, message = ? WHERE id = ? AND state = 'running' AND cancel_requested = 0",
            (percent, message, self.job_id),
        )

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        """Report ``percent`` (never going down, at most 100) and ``message``.

        With ``creep_to``, the step is long: until the next report the bar
        creeps towards ``creep_to`` and the message shows the seconds elapsed.
        """
        now = time.monotonic()
        with self._lock:
            self._began = now if self._began is None else self._began
            self._percent = max(self._percent, min(100, int(percent)))
            current = self._percent
            self._step = (current, int(creep_to), message, now) if creep_to is not None else None
            elapsed = now - self._began
        self._write(current, f"{message}… {elapsed:.0f} s" if creep_to is not None else message)
        if creep_to is not None and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name=f"job-{self.job_id}-heartbeat", daemon=True)
            self._ticker.start()

    @property
    def percent(self) -> int:
        """The last percentage reported."""
        return self._percent

    def _tick(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                if self._step is None:
                    continue
                start, until, message, step_began = self._step
                now = time.monotonic()
                share = 1 - math.exp(-(now - step_began) / 8.0)
                self._percent = max(self._percent, start + int((until - start) * share))
                current = self._percent
                elapsed = now - (self._began or step_began)
            self._write(current, f"{message}… {elapsed:.0f} s")

    def close(self) -> None:
        """Stop the heartbeat thread."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()


def resolve(target: str) -> Callable[[JobContext, dict[str, Any]], dict[str, Any]]:
    """The function named ``"module:function"``."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def child_main(
    db_path: str, job_id: str, owner: str, target: str, parameters: dict[str, Any], settings: Any, heartbeat_s: float
) -> None:
    """Body of the child process: run the job function and record how it ended."""
    parent = os.getppid()
    os.setpgid(0, 0)  # a group of our own: a cancel stops what the job started too (JobRunner._stop)

    def watchdog() -> None:  # the server process died: nobody would reap or cancel us or what we started
        while True:
            time.sleep(heartbeat_s)
            if os.getppid() != parent:
                os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watchdog, name="job-watchdog", daemon=True).start()
    context = JobContext(Path(db_path), job_id, owner, settings, heartbeat_s)
    state, result, error = DONE, None, None
    try:
        result = json.dumps(resolve(target)(context, parameters))
    except SegmentationError as err:
        state, error = FAILED, str(err)
    except Exception as err:  # a bug: logged with its traceback, a sentence for the user
        log.exception("job %s (%s) failed", job_id, target)
        state, error = FAILED, f"The job failed unexpectedly ({type(err).__name__}: {err})."
    finally:
        context.close()
    # The outcome is recorded here; the state changes (and the slot frees) only when the monitor has
    # reaped this process, so a finishing child never overlaps the next one.
    conn = connect(Path(db_path))
    conn.execute(
        "UPDATE jobs SET outcome = ?, result = ?, error = ?, percent = CASE WHEN ? = 'done' THEN 100 ELSE percent END "
        "WHERE id = ? AND state = 'running' AND cancel_requested = 0",
        (state, result, error, state, job_id),
    )
    conn.close()
