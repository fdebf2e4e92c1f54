"""The one job runner (:mod:`dashboard.runner`): bounded queue, positions, cancel, heartbeat expiry,
memory refusal, and every child process reaped.

Jobs here are tiny functions of :mod:`tests.runner_jobs` (a module with light
imports): they run in real ``spawn`` children, so the process handling is the
real one, but each takes well under a second unless it is told to wait.  The
app's job kinds (training) and the pages' submit / poll / cancel callbacks
are tested at the end.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from dash import no_update

from dashboard import data_training, tasks, uploads
from dashboard import runner as rn
from dashboard.identity import current_owner
from dashboard.runner import JobKind, JobRefused, JobRunner
from pipeline.config import Settings
from pipeline.store.db import connect, database_path
from pipeline.store.registry import UPLOAD_NOT_AVAILABLE, Registry
from pipeline.synthetic.inputs import transactions_bytes
from tests.runner_jobs import estimate_gb

GB = 1024**3

KINDS = {
    "sleep": JobKind("tests.runner_jobs:sleep_job", estimate_gb),
    "fail": JobKind("tests.runner_jobs:failing_job"),
    "bug": JobKind("tests.runner_jobs:buggy_job"),
    "crash": JobKind("tests.runner_jobs:crashing_job"),
    "spawn": JobKind("tests.runner_jobs:spawning_job"),
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
    jobs = [runner.submit("alice", "sleep", {"release": str(release), "n": i}) for i in range(4)]
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


def test_the_same_request_twice_follows_one_job(runner: JobRunner, tmp_path: Path) -> None:
    params = {"release": str(tmp_path / "go")}
    first = runner.submit("alice", "sleep", params)
    assert runner.submit("alice", "sleep", dict(params)) == first  # a double click: the same job
    other = runner.submit("bob", "sleep", params)  # someone else: their own job
    assert other != first and runner.counts()["queued"] + runner.counts()["running"] == 2
    (tmp_path / "go").touch()
    runner.wait(first, "alice", timeout=60)
    runner.wait(other, "bob", timeout=60)
    again = runner.submit("alice", "sleep", params)  # finished: a new request is a new job
    assert again != first
    runner.wait(again, "alice", timeout=60)


def test_cancel_a_running_and_a_queued_job(runner: JobRunner, tmp_path: Path) -> None:
    never = tmp_path / "never"
    running = runner.submit("alice", "sleep", {"release": str(never), "n": 1})
    queued = runner.submit("alice", "sleep", {"release": str(never), "n": 2})
    wait_until(lambda: runner.status(running, "alice").percent >= 10)
    pid = job_pids(runner)[0]
    assert runner.cancel(queued, "alice").state == "cancelled"
    runner.cancel(running, "alice")
    status = runner.wait(running, "alice", timeout=30)
    assert (status.state, status.error, status.text()) == ("cancelled", None, "Cancelled")
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert runner.counts()["running"] == 0


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_cancel_stops_the_programs_a_job_started(runner: JobRunner, tmp_path: Path) -> None:
    """A cancelled report job must not leave Chromium printing: the job's whole process group stops."""
    pid_file = tmp_path / "program.pid"
    job = runner.submit("alice", "spawn", {"pid_file": str(pid_file)})
    wait_until(lambda: runner.status(job, "alice").percent >= 10)
    program = int(pid_file.read_text())
    assert not _gone(program)
    runner.cancel(job, "alice")
    assert runner.wait(job, "alice", timeout=30).state == "cancelled"
    wait_until(lambda: _gone(program), timeout=30)


def test_a_job_whose_server_died_stops_the_programs_it_started(tmp_path: Path) -> None:
    """The watchdog of an orphaned job kills its group: the program it started does not outlive it."""
    import subprocess
    import sys

    pid_file = tmp_path / "program.pid"
    script = (
        "import sys, time; from pathlib import Path; sys.path.insert(0, sys.argv[3]); "
        "from dashboard.runner import JobRunner, JobKind; "
        "r = JobRunner(Path(sys.argv[1]), {'spawn': JobKind('tests.runner_jobs:spawning_job')}, {}, "
        "max_running=1, heartbeat_s=0.1, memory=lambda: 64 * 1024**3); "
        "r.submit('alice', 'spawn', {'pid_file': sys.argv[2]}); "
        "[time.sleep(0.05) for _ in iter(lambda: Path(sys.argv[2]).exists(), True)]; "
        "import os; os._exit(0)"
    )
    root = str(Path(__file__).resolve().parents[1])
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "s.sqlite3"), str(pid_file), root], check=True, timeout=60
    )
    program = int(pid_file.read_text())
    wait_until(lambda: _gone(program), timeout=30)


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


def test_a_cancel_whose_server_died_ends_cancelled(runner: JobRunner) -> None:
    with connect(runner.db_path) as conn:
        conn.executescript(rn.SCHEMA)
        old = time.time() - 120
        conn.execute(
            "INSERT INTO jobs (id, owner, kind, parameters, state, submitted_at, started_at, heartbeat_at, "
            "cancel_requested) VALUES ('gone', 'zed', 'sleep', '{}', 'running', ?, ?, ?, 1)",
            (old, old, old),
        )
    status = runner.status("gone", "zed")
    assert (status.state, status.error) == ("cancelled", None)


def test_memory_a_running_job_will_still_take_is_counted(tmp_path: Path) -> None:
    runner = make_runner(tmp_path, max_running=2, memory=lambda: 8 * GB)
    release = tmp_path / "go"
    big = runner.submit("a", "sleep", {"gb": 6, "release": str(release)})
    wait_until(lambda: runner.status(big, "a").percent >= 10)
    # 8 GB free now, but the running job expects to grow to 6 GB: 3 more would not fit, so it waits
    other = runner.submit("b", "sleep", {"gb": 3})
    assert runner.status(other, "b").state == "queued"
    release.touch()
    assert runner.wait(big, "a", timeout=60).state == "done"
    assert runner.wait(other, "b", timeout=60).state == "done"
    assert_all_reaped(runner)


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


# ---------------------------------------------------------------- the app's job kinds and pages


def page_module(name: str) -> Any:
    """The page module exactly as Dash imported it."""
    import sys

    import dash

    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(name)


def text_of(component: Any) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def data_url(raw: bytes) -> str:
    return f"data:text/csv;base64,{base64.b64encode(raw).decode()}"


def poll_to_end(poll: Any, job: dict[str, Any], timeout: float = 300.0) -> dict[str, Any]:
    """Call a page's poll callback (as its ``dcc.Interval`` does) until polling stops."""
    deadline = time.monotonic() + timeout
    while True:
        out = poll(1, job)
        if out["poll"] is True:
            return out
        assert out["cancel"] is False and out["box"] != "d-none", out
        assert time.monotonic() < deadline, out["caption"]
        time.sleep(0.2)


def app_runner(tmp_path: Path, settings: Settings, **kwargs: Any) -> JobRunner:
    """A runner of the app's job kinds on a scratch database, with the app's settings."""
    scratch = settings.replace(data_dir=tmp_path / "data", models_dir=settings.models_dir)
    return JobRunner(database_path(scratch), tasks.JOB_KINDS, scratch, heartbeat_s=0.2, **kwargs)


def test_a_made_up_upload_key_fails_cleanly_and_is_reaped(tmp_path: Path, settings: Settings) -> None:
    runner = app_runner(tmp_path, settings)
    job = runner.submit("anon-" + "1" * 32, "train", {"source": {"upload": "f" * 32}})
    status = runner.wait(job, "anon-" + "1" * 32, timeout=120)
    assert (status.state, status.error) == ("failed", UPLOAD_NOT_AVAILABLE)
    assert_all_reaped(runner)


def test_four_concurrent_train_requests_run_one_at_a_time(tmp_path: Path, settings: Settings) -> None:
    """Finding 4: four owners ask to train at the same moment; with a server limit of 1 one runs, three queue."""
    runner = app_runner(tmp_path, settings, max_running=1)
    owners = [f"anon-{i:032x}" for i in range(4)]
    keys = {}
    for i, owner in enumerate(owners):
        raw = transactions_bytes(2_000, seed=40 + i)
        keys[owner] = uploads.store_upload(data_url(raw), f"orders-{i}.csv", runner.settings, owner).key
    barrier = threading.Barrier(4, timeout=60)  # a thread that fails first breaks it for the rest
    submitted: dict[str, str] = {}

    def submit(owner: str) -> None:
        barrier.wait()
        submitted[owner] = runner.submit(owner, "train", {"source": {"upload": keys[owner], "mapping": None}})

    threads = [threading.Thread(target=submit, args=(o,)) for o in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = {o: runner.status(submitted[o], o) for o in owners}
    assert sorted(s.state for s in first.values()) == ["queued", "queued", "queued", "running"]
    assert sorted(s.position for s in first.values() if s.position) == [1, 2, 3]
    most = 0
    while not all(runner.status(submitted[o], o).finished for o in owners):
        most = max(most, runner.counts()["running"], len(runner.children()))
        time.sleep(0.1)
    assert most == 1  # never more than the configured number at once
    results = [runner.status(submitted[o], o) for o in owners]
    assert [r.state for r in results] == ["done"] * 4, [r.error for r in results]
    registry = Registry(database_path(runner.settings))
    for owner, r in zip(owners, results, strict=True):  # each new version is its owner's
        assert registry.version(owner, r.result["artifact_id"]).artifact_id == r.result["artifact_id"]
    assert_all_reaped(runner)


def test_train_estimates_grow_with_the_input_and_stop_at_the_pairwise_chunk(settings: Settings) -> None:
    small, large = tasks.fit_peak_bytes(1_000, settings), tasks.fit_peak_bytes(100_000, settings)
    assert small == 4_000 * 1_000 + 8 * 1_000**2
    assert large == 4_000 * 100_000 + tasks.PAIRWISE_CHUNK_BYTES
    sample = tasks.estimate_train({"source": {"sample": True}}, settings, "anon-" + "2" * 32)
    assert sample == tasks.CHILD_BASE_BYTES + tasks.fit_peak_bytes(settings.sample_rows, settings)
    unknown = tasks.estimate_train({"source": {"upload": "f" * 32}}, settings, "anon-" + "2" * 32)
    assert unknown == tasks.CHILD_BASE_BYTES  # nothing to read: the job itself says why


def test_an_upload_is_estimated_from_its_validated_customers(tmp_path: Path, settings: Settings) -> None:
    scratch = settings.replace(data_dir=tmp_path / "data")
    owner = "anon-" + "3" * 32
    info = uploads.store_upload(data_url(transactions_bytes(2_000, seed=9)), "est.csv", scratch, owner)
    customers = len(uploads.validate_upload_key(info.key, None, scratch, owner).customers)
    estimate = tasks.estimate_train({"source": {"upload": info.key, "mapping": None}}, scratch, owner)
    assert estimate == int(
        tasks.CHILD_BASE_BYTES + tasks.BYTES_PER_UPLOAD_BYTE * info.size + tasks.fit_peak_bytes(customers, scratch)
    )
    # another owner's view of the same key: no size, no customers (the job itself will refuse it)
    assert tasks.estimate_train({"source": {"upload": info.key}}, scratch, "anon-" + "4" * 32) == tasks.CHILD_BASE_BYTES


def test_data_page_submits_polls_and_activates(dash_app, settings: Settings) -> None:
    with dash_app.server.test_request_context("/"):
        page_module("data")  # the page imports its training callbacks
        data = data_training
        info = uploads.store_upload(data_url(transactions_bytes(3_000, seed=31)), "jobs page.csv", settings)
        started = data.train_upload(1, info.key, {"key": info.key, "mapping": None})
        assert started["status"] is None and started["job"]["id"]
        assert (started["poll"], started["button"], started["cancel"], started["box"]) == (
            False,
            True,
            False,
            "data-progress-box",
        )
        out = poll_to_end(data.follow_training, started["job"])
        assert "Trained." in text_of(out["status"]) and "jobs page.csv" in text_of(out["status"])
        assert (out["poll"], out["button"], out["cancel"], out["box"]) == (True, False, True, "d-none")
        aid = out["trained"]["id"]
        # the page's store that the browser copies to the session's version (dashboard.versions.activate_from)
        assert set(out["trained"]) == {"id", "at"}
        assert dash_app.server.extensions["segmentation_service"].store.version(current_owner(), aid)


def test_data_page_cancel_and_refusals(dash_app, settings: Settings) -> None:
    with dash_app.server.test_request_context("/"):
        page_module("data")  # the page imports its training callbacks
        data = data_training
        info = uploads.store_upload(data_url(transactions_bytes(3_500, seed=32)), "cancel me.csv", settings)
        started = data.train_upload(1, info.key, {"key": info.key, "mapping": None})
        alert, cancel_disabled = data.cancelled(1, started["job"])
        assert "Training cancelled" in text_of(alert) and cancel_disabled is True
        out = poll_to_end(data.follow_training, started["job"])
        assert "Training cancelled" in text_of(out["status"]) and out["trained"] is no_update
        # someone else's (or a made-up) key is refused before any job exists
        refused = data.train_upload(1, "e" * 32, {"key": "e" * 32, "mapping": None})
        assert refused["job"] is None and UPLOAD_NOT_AVAILABLE in text_of(refused["status"])
        # a job id that is not this session's is not followed
        other = data.follow_training(1, {"id": "0" * 32})
        assert "Unknown job" in text_of(other["status"]) and other["poll"] is True
