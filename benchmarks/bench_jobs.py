"""``python -m benchmarks.bench_jobs``: four concurrent train requests through the job runner (issue 8, finding 4).

Four owners each upload a different transaction log of about ``--mb`` MB
(20 MB by default, as in the finding) and ask to train it at the same moment
(four threads released together call :meth:`dashboard.runner.JobRunner.submit`,
which is all the page's Train callback does).  The runner uses the app's job
kinds (:data:`dashboard.tasks.JOB_KINDS`), so every job is the real training
in a ``spawn`` child process.  This process plays the server: it holds the
runner, its monitor threads and the children.

Measured, per server limit (``--limits``; 1 = ``max(1, cores // 2)`` on this
2-core machine, the default; 4 = no effective bound, what the finding saw):

- **server memory**: the resident memory of this process plus all its
  descendants (psutil, sampled every 0.1 s): before, and the peak;
- **largest job**: the peak resident memory of one job child, next to the
  runner's estimate for that upload (:func:`dashboard.tasks.estimate_train`);
- **most running**: the most jobs seen running at once (database and live
  children), and the seconds until all four were done;
- **zombies**: children of this process left unreaped afterwards.

Wall-clock numbers depend on how busy the shared machine is (the load average
is printed before and after).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import tempfile
import threading
import time
from pathlib import Path

import psutil

from dashboard import tasks, uploads
from dashboard.runner import JobRunner
from pipeline.config import Settings
from pipeline.store.db import database_path
from pipeline.synthetic.inputs import transactions_bytes

from .common import load, print_table

MB = 1024 * 1024
#: Lines of the generated log per MB (measured: 200,000 lines are 13.3 MB).
LINES_PER_MB = 15_000


def tree_rss() -> dict[int, int]:
    """Resident bytes of this process and each descendant, by pid."""
    me = psutil.Process()
    out = {me.pid: me.memory_info().rss}
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            out[child.pid] = child.memory_info().rss
    return out


def zombies() -> int:
    """Children of this process that ended and were never reaped."""
    n = 0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            n += child.status() == psutil.STATUS_ZOMBIE
    return n


def run(limit: int, logs: list[bytes], folder: Path) -> list[str]:
    """Four owners train their logs at once under a server limit of ``limit``; one table row."""
    settings = Settings(models_dir=folder / "models", data_dir=folder / "data")
    runner = JobRunner(database_path(settings), tasks.JOB_KINDS, settings, max_running=limit)
    owners = [f"anon-{i:032x}" for i in range(len(logs))]
    keys = {}
    for i, (owner, raw) in enumerate(zip(owners, logs, strict=True)):
        url = f"data:text/csv;base64,{base64.b64encode(raw).decode()}"
        keys[owner] = uploads.store_upload(url, f"orders-{i}.csv", settings, owner).key
    estimate = max(tasks.estimate_train({"source": {"upload": keys[o]}}, settings, o) for o in owners)
    before = sum(tree_rss().values())
    peak_total, peak_child, most_running = before, 0, 0
    submitted: dict[str, str] = {}
    barrier = threading.Barrier(len(owners), timeout=60)  # a thread that fails first breaks it for the rest

    def submit(owner: str) -> None:
        barrier.wait()
        submitted[owner] = runner.submit(owner, "train", {"source": {"upload": keys[owner], "mapping": None}})

    threads = [threading.Thread(target=submit, args=(o,)) for o in owners]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    job_pids: set[int] = set()
    while True:
        rss = tree_rss()
        peak_total = max(peak_total, sum(rss.values()))
        job_pids.update(runner.children())
        peak_child = max([peak_child, *(rss.get(pid, 0) for pid in job_pids)])
        most_running = max(most_running, runner.counts()["running"], len(runner.children()))
        states = [runner.status(submitted[o], o) for o in owners]
        if all(s.finished for s in states):
            break
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    runner.close()
    time.sleep(0.5)
    failed = [s.error for s in states if s.state != "done"]
    if failed:
        raise RuntimeError(f"jobs failed: {failed}")
    return [
        str(limit),
        f"{len(owners)} × {sum(map(len, logs)) / len(logs) / MB:.1f} MB",
        f"{seconds:.1f}",
        str(most_running),
        f"{before / MB:,.0f}",
        f"{peak_total / MB:,.0f}",
        f"{peak_child / MB:,.0f}",
        f"{estimate / MB:,.0f}",
        str(zombies()),
    ]


def main(argv: list[str] | None = None) -> None:
    """Generate the logs, run each limit, print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--mb", type=float, default=20.0, help="size of each uploaded log")
    p.add_argument("--limits", type=int, nargs="+", default=[1, 4], help="server limits of running jobs")
    args = p.parse_args(argv)
    print(f"bench_jobs: {load()}")
    lines = int(args.mb * LINES_PER_MB)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run_no, limit in enumerate(args.limits):
            logs = [transactions_bytes(lines, seed=100 * run_no + i) for i in range(4)]  # new data: nothing cached
            rows.append(run(limit, logs, Path(tmp) / f"limit-{limit}"))
            del logs
    print_table(
        "Four concurrent train requests (different owners, different logs) through the job runner",
        [
            "limit",
            "uploads",
            "all done s",
            "most running",
            "server MB before",
            "server MB peak",
            "largest job MB",
            "estimate MB",
            "zombies",
        ],
        rows,
    )
    print(
        "how measured: resident memory of this process (the server's role) plus every descendant, sampled every "
        "0.1 s with psutil; 'largest job' is the peak of one job child; 'estimate' is what the runner checks "
        "against available memory before a job starts."
    )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
