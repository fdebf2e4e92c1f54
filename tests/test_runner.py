"""The one job runner (:mod:`dashboard.runner`): bounded queue, positions, cancel, heartbeat expiry,
memory refusal, and every child process reaped.

Jobs here are tiny functions of this module (``tests.test_runner:<name>``):
they run in real ``spawn`` children, so the process handling is the real one,
but each takes well under a second unless it is told to wait.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from dashboard import runner as rn
from dashboard.runner import JobKind, JobRefused, JobRunner
from pipeline.errors import DataError
from pipeline.store.db import connect

GB = 1024**3

# ---------------------------------------------------------------- job functions (run in the child)


def sleep_job(context: rn.JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Report progress, wait ``seconds`` (or until a ``release`` file exists), then return."""
    context.progress(10, "Sleeping", creep_to=90)
    release = parameters.get("release")
    deadline = time.monotonic() + float(parameters.get("seconds", 0.0))
    while time.monotonic() < deadline or (release and not Path(release).exists()):
        time.sleep(0.05)
    return {"pid": os.getpid(), "owner": context.owner, "settings": context.settings}


def failing_job(context: rn.JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """A user mistake: the message reaches the owner."""
    raise DataError("The file has no customer id column.")


def buggy_job(context: rn.JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """A bug: a sentence for the user, the traceback in the log."""
    return {"x": 1 / 0}


def crashing_job(context: rn.JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """The process dies without recording anything."""
    os._exit(7)


def _estimate(parameters: dict[str, Any], settings: Any, owner: str) -> int:
    return int(parameters.get("gb", 0) * GB)


KINDS = {
    "sleep": JobKind("tests.test_runner:sleep_job", _estimate),
    "fail": JobKind("tests.test_runner:failing_job"),
    "bug": JobKind("tests.test_runner:buggy_job"),
    "crash": JobKind("tests.test_runner:crashing_job"),
}


# ---------------------------------------------------------------- helpers


def make_runner(tmp_path: Path, **kwargs: Any) -> JobRunner:
    options: dict[str, Any] = {"max_running": 1, "heartbeat_s": 0.1, "memory": lambda: 64 * GB}
    options.update(kwargs)
    return JobRunner(tmp_path / "state.sqlite3", KINDS, {"name": "test"}, **options)


def zombies() -> list[psutil.Process]:
    """Children of this test process that ended and were never reaped."""
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                out.append(child)
        except psutil.NoSuchProcess:
            pass
    return out


def job_pids(runner: JobRunner) -> list[int]:
    with connect(runner.db_path) as conn:
        return [r["pid"] for r in conn.execute("SELECT pid FROM jobs WHERE pid IS NOT NULL")]


def assert_all_reaped(runner: JobRunner) -> None:
    """Every child this runner started is gone (not running, not a zombie)."""
    runner.close()
    for pid in job_pids(runner):
        try:
            status = psutil.Process(pid).status()
        except psutil.NoSuchProcess:
            continue
        raise AssertionError(f"job child {pid} still exists ({status})")
    assert not zombies()


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def runner(tmp_path: Path):
    r = make_runner(tmp_path)
    yield r
    assert_all_reaped(r)


# ---------------------------------------------------------------- tests


def test_a_job_runs_in_a_child_and_returns_its_result(runner: JobRunner) -> None:
    job = runner.submit("alice", "sleep", {"seconds": 0})
    status = runner.wait(job, "alice", timeout=60)
    assert (status.state, status.percent, status.error, status.position) == ("done", 100, None, None)
    assert status.result["owner"] == "alice" and status.result["settings"] == {"name": "test"}
    assert status.result["pid"] != os.getpid()
    assert status.text() == "Done"


def test_one_owner_four_jobs_one_runs_the_rest_queue_in_order(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, max_running=4)  # the server has room: the per-owner limit holds them back
    release = tmp_path / "go"
    jobs = [runner.submit("alice", "sleep", {"release": str(release)}) for _ in range(4)]
    statuses = [runner.status(j, "alice") for j in jobs]
    assert [s.state for s in statuses] == ["running", "queued", "queued", "queued"]
    assert [s.position for s in statuses] == [None, 1, 2, 3]
    assert statuses[1].text() == "Waiting for a free slot on the server (next in line)…"
    assert statuses[3].text() == "Waiting for a free slot on the server (number 3 in line)…"
    assert runner.counts() == {"queued": 3, "running": 1, "done": 0, "failed": 0, "cancelled": 0}
    release.touch()
    finished = [runner.wait(j, "alice", timeout=120) for j in jobs]
    assert [s.state for s in finished] == ["done"] * 4
    assert len({s.result["pid"] for s in finished}) == 4  # one child each, one after the other
    assert_all_reaped(runner)


def test_four_owners_with_a_server_limit_of_one(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, max_running=1)
    release = tmp_path / "go"
    owners = ["a", "b", "c", "d"]
    jobs = {o: runner.submit(o, "sleep", {"release": str(release)}) for o in owners}
    statuses = {o: runner.status(j, o) for o, j in jobs.items()}
    assert [statuses[o].state for o in owners] == ["running", "queued", "queued", "queued"]
    assert [statuses[o].position for o in owners] == [None, 1, 2, 3]
    # the first one finishing starts the next (pumped by the finishing monitor), positions move up
    release.touch()
    assert runner.wait(jobs["a"], "a", timeout=60).state == "done"
    for o in owners:
        assert runner.wait(jobs[o], o, timeout=60).state == "done"
    assert_all_reaped(runner)


def test_two_runners_share_the_limit_like_two_worker_processes(tmp_path: Path) -> None:
    first, second = make_runner(tmp_path, max_running=2), make_runner(tmp_path, max_running=2)
    release = tmp_path / "go"
    jobs = [
        (r, r.submit(o, "sleep", {"release": str(release)})) for r, o in zip([first, second] * 2, "abcd", strict=True)
    ]
    states = [r.status(j, o).state for (r, j), o in zip(jobs, "abcd", strict=True)]
    assert states.count("running") == 2 and states.count("queued") == 2
    assert first.counts()["running"] == 2
    release.touch()
    for (r, j), o in zip(jobs, "abcd", strict=True):
        assert r.wait(j, o, timeout=120).state == "done"
    assert_all_reaped(first)
    assert_all_reaped(second)


def test_cancel_a_running_and_a_queued_job(runner: JobRunner, tmp_path: Path) -> None:
    never = tmp_path / "never"
    running = runner.submit("alice", "sleep", {"release": str(never)})
    queued = runner.submit("alice", "sleep", {"release": str(never)})
    wait_until(lambda: runner.status(running, "alice").percent >= 10)
    pid = job_pids(runner)[0]
    assert runner.cancel(queued, "alice").state == "cancelled"
    runner.cancel(running, "alice")
    status = runner.wait(running, "alice", timeout=30)
    assert (status.state, status.error, status.text()) == ("cancelled", None, "Cancelled")
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert runner.counts()["running"] == 0


def test_cancel_from_another_worker_process_sets_the_flag(runner: JobRunner, tmp_path: Path) -> None:
    job = runner.submit("alice", "sleep", {"release": str(tmp_path / "never")})
    wait_until(lambda: runner.status(job, "alice").percent >= 10)
    other = make_runner(tmp_path)  # another process: it has no handle on the child, only the database
    assert other.cancel(job, "alice").message == "Cancelling…"
    assert runner.wait(job, "alice", timeout=30).state == "cancelled"  # the starting process's monitor stopped it


def test_another_owner_cannot_see_or_cancel_a_job(runner: JobRunner, tmp_path: Path) -> None:
    job = runner.submit("alice", "sleep", {"release": str(tmp_path / "never")})
    for attempt in (lambda: runner.status(job, "mallory"), lambda: runner.cancel(job, "mallory")):
        with pytest.raises(JobRefused, match="Unknown job"):
            attempt()
    with pytest.raises(JobRefused, match="Unknown job"):
        runner.status("0" * 32, "alice")
    assert runner.status(job, "alice").state == "running"  # nothing changed
    runner.cancel(job, "alice")
    runner.wait(job, "alice", timeout=30)


def test_failures_are_messages_and_children_are_reaped(runner: JobRunner) -> None:
    failed = runner.wait(runner.submit("a", "fail"), "a", timeout=60)
    assert (failed.state, failed.error) == ("failed", "The file has no customer id column.")
    bug = runner.wait(runner.submit("b", "bug"), "b", timeout=60)
    assert bug.error == "The job failed unexpectedly (ZeroDivisionError: division by zero)."
    crash = runner.wait(runner.submit("c", "crash"), "c", timeout=60)
    assert (crash.state, crash.error) == ("failed", "The job stopped unexpectedly (exit code 7).")


def test_refusals_of_bad_submissions(runner: JobRunner) -> None:
    with pytest.raises(JobRefused, match="Unknown job kind 'mine'"):
        runner.submit("a", "mine")
    with pytest.raises(JobRefused, match="not plain data"):
        runner.submit("a", "sleep", {"x": object()})
    with pytest.raises(JobRefused, match="No owner"):
        runner.submit("", "sleep")
    assert sum(runner.counts().values()) == 0


def test_memory_refused_at_submit_with_a_clear_message(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, memory=lambda: 2 * GB)
    with pytest.raises(JobRefused) as err:
        runner.submit("a", "sleep", {"gb": 3})
    assert str(err.value).startswith("Not enough free memory on the server for this job: it needs about 3,072 MB")
    assert "2,048 MB is free" in str(err.value)
    assert sum(runner.counts().values()) == 0  # nothing queued, nothing started
    job = runner.submit("a", "sleep", {"gb": 1})
    assert runner.wait(job, "a", timeout=60).state == "done"
    assert_all_reaped(runner)


def test_memory_checked_again_when_a_job_starts(tmp_path: Path) -> None:
    free = {"bytes": 8 * GB}
    runner = make_runner(tmp_path, memory=lambda: free["bytes"])
    release = tmp_path / "go"
    first = runner.submit("a", "sleep", {"gb": 1, "release": str(release)})
    big = runner.submit("b", "sleep", {"gb": 6})  # fits the 8 GB now: queued behind the first
    assert runner.status(big, "b").state == "queued"
    free["bytes"] = 3 * GB  # someone else took the memory; the big job keeps waiting while another runs
    assert runner.status(big, "b").state == "queued"
    release.touch()
    assert runner.wait(first, "a", timeout=60).state == "done"
    refused = runner.wait(big, "b", timeout=60)  # nothing else runs and it still does not fit: refused
    assert refused.state == "failed" and refused.error.startswith("Not enough free memory")
    assert len(job_pids(runner)) == 1  # the big job never got a process
    assert_all_reaped(runner)


def test_a_job_whose_heartbeat_stopped_is_failed_and_frees_its_slot(runner: JobRunner) -> None:
    # A job claimed by a server process that died: running, heartbeat long ago, no monitor anywhere.
    with connect(runner.db_path) as conn:
        conn.executescript(rn.SCHEMA)
        old = time.time() - 120
        conn.execute(
            "INSERT INTO jobs (id, owner, kind, parameters, state, submitted_at, started_at, heartbeat_at, host_pid) "
            "VALUES ('dead', 'zed', 'sleep', '{}', 'running', ?, ?, ?, 999999)",
            (old, old, old),
        )
    waiting = runner.submit("alice", "sleep", {"seconds": 0})
    dead = runner.status("dead", "zed")
    assert (dead.state, dead.error) == ("failed", rn.STALE_MESSAGE)
    assert runner.wait(waiting, "alice", timeout=60).state == "done"


def test_a_live_heartbeat_keeps_a_long_job(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, stale_after_s=1.0)
    job = runner.submit("a", "sleep", {"seconds": 2.5})
    status = runner.wait(job, "a", timeout=60)  # longer than stale_after_s: the monitor's heartbeat kept it
    assert status.state == "done"
    assert_all_reaped(runner)


def test_progress_creeps_and_shows_elapsed_seconds(runner: JobRunner, tmp_path: Path) -> None:
    job = runner.submit("a", "sleep", {"release": str(tmp_path / "go")})
    wait_until(lambda: runner.status(job, "a").message.endswith(" s"))
    status = runner.status(job, "a")
    assert status.message.startswith("Sleeping… ") and 10 <= status.percent < 90
    (tmp_path / "go").touch()
    assert runner.wait(job, "a", timeout=60).percent == 100


def test_finished_rows_are_plain_json(runner: JobRunner) -> None:
    job = runner.submit("a", "sleep", {"seconds": 0})
    runner.wait(job, "a", timeout=60)
    with connect(runner.db_path) as conn:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job,)).fetchone()
    assert json.loads(row["parameters"]) == {"seconds": 0}
    assert json.loads(row["result"])["owner"] == "a"
    assert row["finished_at"] >= row["started_at"] >= row["submitted_at"]


def test_default_server_limit_is_half_the_cores() -> None:
    assert rn.default_max_running() == max(1, (os.cpu_count() or 1) // 2)


def test_fork_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="spawn"):
        JobRunner(tmp_path / "s.sqlite3", KINDS, start_method="fork")
