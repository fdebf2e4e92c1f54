"""What a job is, as the runner's callers see it: its kinds, states and status, and the refusal.

:class:`dashboard.runner.JobRunner` runs jobs; :mod:`dashboard.job_process` is
what runs in a job's own process.  Both, and the pages, share these types.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pipeline.errors import SegmentationError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
FINISHED = (DONE, FAILED, CANCELLED)


class JobRefused(SegmentationError):
    """A job cannot be submitted, shown or cancelled; ``str(err)`` is the message for the user."""


@dataclasses.dataclass(frozen=True)
class JobKind:
    """What a job kind runs and how much memory it needs.

    Attributes
    ----------
    target : str
        ``"package.module:function"``; the function is called in the child
        as ``function(context: JobContext, parameters: dict) -> dict`` (a
        JSON-safe result) and raises :class:`SegmentationError` for the user.
    estimate : callable, optional
        ``estimate(parameters, settings, owner) -> bytes``: the job's peak
        memory, computed in the server before the job is queued and started.
    """

    target: str
    estimate: Callable[[dict[str, Any], Any, str], int] | None = None


@dataclasses.dataclass(frozen=True)
class JobStatus:
    """One job as the owner sees it (JSON-safe fields).

    Attributes
    ----------
    id, kind, state : str
        Job id, kind and one of :data:`STATES`.
    percent : int
        0–100.
    message : str
        What the job is doing (or its last report).
    position : int or None
        Place in the server's queue (1 = next) while queued.
    result : dict or None
        The job function's return value when done.
    error : str or None
        Why it failed (a sentence for the user).
    """

    id: str
    kind: str
    state: str
    percent: int
    message: str
    position: int | None
    result: dict[str, Any] | None
    error: str | None

    @property
    def finished(self) -> bool:
        """Done, failed or cancelled."""
        return self.state in FINISHED

    def text(self) -> str:
        """One line for a progress bar's caption."""
        if self.state == QUEUED:
            ahead = "next in line" if self.position == 1 else f"number {self.position} in line"
            return f"Waiting for a free slot on the server ({ahead})…"
        if self.state == RUNNING:
            return self.message or "Starting…"
        if self.state == DONE:
            return "Done"
        if self.state == CANCELLED:
            return "Cancelled"
        return self.error or "Failed"
