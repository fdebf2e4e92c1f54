"""Tiny job functions for tests/test_runner.py, run in real ``spawn`` children.

Kept apart from the test module so a child imports almost nothing (no Dash,
no pandas) and starts in a fraction of a second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dashboard.job_process import JobContext
from pipeline.errors import DataError

GB = 1024**3


def sleep_job(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Report progress, wait ``seconds`` (or until a ``release`` file exists), then return."""
    context.progress(10, "Sleeping", creep_to=90)
    release = parameters.get("release")
    deadline = time.monotonic() + float(parameters.get("seconds", 0.0))
    while time.monotonic() < deadline or (release and not Path(release).exists()):
        time.sleep(0.05)
    return {"pid": os.getpid(), "owner": context.owner, "settings": context.settings}


def failing_job(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """A user mistake: the message reaches the owner."""
    raise DataError("The file has no customer id column.")


def buggy_job(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """A bug: a sentence for the user, the traceback in the log."""
    return {"x": 1 / 0}


def crashing_job(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """The process dies without recording anything."""
    os._exit(7)


def estimate_gb(parameters: dict[str, Any], settings: Any, owner: str) -> int:
    """The estimate a test asks for: ``parameters["gb"]`` GiB."""
    return int(parameters.get("gb", 0) * GB)


def spawning_job(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Start a long-lived program (as a PDF job starts Chromium), record its pid, wait for it."""
    import subprocess

    with subprocess.Popen(["sleep", "300"]) as program:
        Path(parameters["pid_file"]).write_text(str(program.pid))
        context.progress(10, "Started a program")
        program.wait()
    return {}
