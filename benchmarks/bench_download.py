"""``python -m benchmarks.bench_download [--rows 1000000] [--formats csv parquet] [--in-request]``: large downloads.

A download of every customer of a ``--rows`` table (written once by
``python -m pipeline sample``, trained once in a scratch models folder):

- **job**: the app's ``export`` job through the one job runner
  (:data:`dashboard.tasks.JOB_KINDS`, a ``spawn`` child process, as the
  page's menu submits it): seconds from submit to done, and the peak resident
  memory of the job child (psutil, sampled every 0.05 s);
- **send**: ``GET /download/<job id>`` on the app (Flask test client, the
  owner's session): seconds to receive the whole file, and the server
  process's resident memory growth during the request, which includes loading
  the version once for the owner check (a running server usually has it cached;
  the file itself is streamed from disk);
- **in request** (``--in-request``, what a menu click cost before: the file
  made inside the callback, then base64 and JSON as ``dcc.send_bytes`` sends
  it): seconds and peak memory, in a fresh process.

Prints one table with the file's size and the machine's load before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from .bench_train import sample_file
from .common import ROOT, load, print_table, run_module

OWNER = "anon-" + "e" * 32
MB = 1024 * 1024

IN_REQUEST = """
import base64, json, resource, sys, time
from pathlib import Path
from pipeline.config import Settings
from pipeline.data.export import export_bytes
from pipeline.segmentation.assignments import AssignmentScope, artifact_assignments, assignment_export
from pipeline.store.artifacts import load_artifact
models, artifact_id, key = sys.argv[1], sys.argv[2], sys.argv[3]
artifact = load_artifact(Path(models) / artifact_id, Settings(models_dir=Path(models)))
start = time.perf_counter()
content = export_bytes(assignment_export(artifact.manifest, artifact_assignments(artifact), AssignmentScope()), key)
body = json.dumps({"content": base64.b64encode(content).decode(), "base64": True})
print(f"{time.perf_counter() - start:.3f} {len(body)} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
"""


def _train(data: Path, models: Path) -> str:
    run_module("pipeline", ["train", "--data", str(data), "--models-dir", str(models)])
    (artifact,) = [p.name for p in models.iterdir() if (p / "manifest.json").is_file()]
    return artifact


def _job(runner, settings, artifact_id: str, key: str) -> tuple[float, float, str]:
    """Submit one export job and follow it; (seconds, peak child MB, job id)."""
    peak = 0
    parameters = {"artifact": artifact_id, "segments": None, "label": "All customers", "format": key, "filename": "x"}
    start = time.perf_counter()
    job_id = runner.submit(OWNER, "export", parameters)
    while True:
        for pid in runner.children():
            with contextlib.suppress(psutil.Error):
                peak = max(peak, psutil.Process(pid).memory_info().rss)
        status = runner.status(job_id, OWNER)
        if status.finished:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if status.state != "done":
        raise RuntimeError(f"export job {status.state}: {status.error}")
    return seconds, peak / MB, job_id


def _send(app, job_id: str) -> tuple[float, float, int]:
    """Stream the finished file from the route: (seconds, server RSS growth MB, bytes)."""
    from dashboard.identity import SESSION_OWNER

    client = app.server.test_client()
    with client.session_transaction() as session:
        session[SESSION_OWNER] = OWNER
    me = psutil.Process()
    base, peak, done = me.memory_info().rss, 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, me.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    response = client.get(f"/download/{job_id}", buffered=False)
    received = sum(len(chunk) for chunk in response.response)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if response.status_code != 200:
        raise RuntimeError(f"/download answered {response.status_code}")
    return seconds, max(0, peak - base) / MB, received


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    p.add_argument("--in-request", action="store_true", help="also time the old in-callback download")
    args = p.parse_args(argv)

    from dashboard.app import create_app
    from dashboard.tasks import make_runner
    from pipeline.config import Settings
    from pipeline.store.db import database_path
    from pipeline.store.registry import Registry

    before = load()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-download-") as tmp:
        models, data_dir = Path(tmp) / "models", Path(tmp) / "data"
        artifact_id = _train(sample_file(args.rows), models)
        settings = Settings(models_dir=models, data_dir=data_dir)
        Registry(database_path(settings)).add_version(OWNER, artifact_id, f"{args.rows:,} customers", "bench")
        runner = make_runner(settings, max_running=1)
        app = create_app(settings, default_artifact_id=artifact_id)
        try:
            for key in args.formats:
                seconds, child_mb, job_id = _job(runner, settings, artifact_id, key)
                send_s, send_mb, size = _send(app, job_id)
                rows.append(
                    [
                        f"job + /download ({key})",
                        f"{args.rows:,}",
                        f"{size / MB:,.0f} MB",
                        f"{seconds:.1f} s",
                        f"{child_mb:,.0f} MB (job)",
                        f"{send_s:.2f} s",
                        f"{send_mb:,.0f} MB",
                    ]
                )
                if args.in_request:
                    env_path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
                    import subprocess

                    out = subprocess.run(
                        [sys.executable, "-c", IN_REQUEST, str(models), artifact_id, key],
                        capture_output=True,
                        text=True,
                        check=True,
                        cwd=ROOT,
                        env={**os.environ, "PYTHONPATH": env_path},
                    ).stdout.split()
                    rows.append(
                        [
                            f"in request, before ({key})",
                            f"{args.rows:,}",
                            f"{int(out[1]) / MB:,.0f} MB JSON",
                            f"{float(out[0]):.1f} s",
                            f"{int(out[2]) / 1024:,.0f} MB (server)",
                            "-",
                            "-",
                        ]
                    )
        finally:
            runner.close()
    print_table(
        f"Downloading every customer ({before}; after: {load()})",
        ["path", "customers", "file", "make", "peak memory", "send", "server growth (version load incl.)"],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
