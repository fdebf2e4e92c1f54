"""Load benchmark: ``python -m benchmarks.bench_load [--users 20] [--seconds 60] [--workers 2] [--think 1.0]``.

Trains the built-in sample (and its model comparison) into scratch folders,
serves it with ``python -m dashboard --workers 2`` and then lets simulated
users work against it over loopback for a fixed time:

* the callback requests are real: headless Chromium opens every page once
  and moves a simulator slider, and every ``/_dash-update-component`` body it
  sends is recorded (no job-starting callbacks);
* each user (own cookie jar, so its own anonymous owner) repeats, until the
  time is up: pick an action (open a page: its HTML, ``_dash-layout``,
  ``_dash-dependencies`` and the page's callbacks, one after another; or
  move a simulator slider: the server callbacks it sends, one since 2026-12-01, with a nudged value), then
  wait a think time drawn uniformly from 0.5-1.5 x ``--think`` seconds
  (seeded per user);
* every request is timed on the client; server memory (RSS and unique set
  size summed over the gunicorn master and its workers) and the machine's
  load average are sampled once a second.

Prints requests/s, p50/p95/p99 latency and errors per request kind and in
total, server memory, and the load average before the server started and at
the end of the run.  Target: 0 errors and p95 < 300 ms with the client on the
same machine.  Exit 1 if missed.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import requests

from benchmarks.common import ROOT, load, print_table
from dashboard.screenshots import free_port, launch_browser, prepare_models

PAGES = ("/", "/segments", "/simulator", "/explorer", "/eda", "/models")
SIM_MOVE = "simulator move"
P95_TARGET = 0.300
# Callbacks that start or poll background jobs are not replayed (a benchmark must not queue trainings).
SKIP_OUTPUTS = ("-job", "-poll", "download", "upload")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of a non-empty list."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- server -------------------------------------------------------------------------
def start_server(models_dir: Path, data_dir: Path, workers: int, log_path: Path) -> tuple[subprocess.Popen, str]:
    """``python -m dashboard --workers N`` on a free loopback port; returns once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--models-dir", str(models_dir), "--data-dir", str(data_dir), "--workers", str(workers)]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited early:\n{log_path.read_text()[-3000:]}")
        try:
            answers = requests.get(url + "/assets/app.css", timeout=2).status_code == 200
            # gunicorn forks the workers one by one; wait for all of them
            if answers and len(psutil.Process(proc.pid).children()) >= (workers if workers > 1 else 0):
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("dashboard did not start within 180 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def server_memory(pid: int) -> tuple[float, float]:
    """(RSS, USS) in MB summed over the server process and its children."""
    rss = uss = 0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0, 0.0
    for p in procs:
        try:
            info = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        uss += info.uss
    return rss / 2**20, uss / 2**20


# --- recording real requests ---------------------------------------------------------
def record_requests(url: str) -> dict[str, list[dict[str, Any]]]:
    """The callback bodies a real browser sends: per page on opening it, and for one simulator slider move."""
    from playwright.sync_api import sync_playwright

    recorded: dict[str, list[dict[str, Any]]] = defaultdict(list)
    current = {"key": ""}

    def grab(request: Any) -> None:
        # Dash 4 adds ``?endId=...`` to every callback URL
        if request.method == "POST" and urlsplit(request.url).path.endswith("/_dash-update-component"):
            body = request.post_data_json or {}
            if not any(s in str(body.get("output", "")) for s in SKIP_OUTPUTS):
                recorded[current["key"]].append(body)

    settled = """() => !document.querySelector('[data-dash-is-loading="true"]')
        && document.querySelector('#_pages_content') && document.querySelector('#_pages_content').children.length"""
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        page = browser.new_page()
        page.on("request", grab)
        for path in PAGES:
            current["key"] = path
            page.goto(url + path, wait_until="networkidle")
            page.wait_for_function(settled, timeout=60_000)
        page.goto(url + "/simulator", wait_until="networkidle")
        page.wait_for_function(settled, timeout=60_000)
        current["key"] = SIM_MOVE
        page.locator(".sim-control [role=slider]").first.press("ArrowRight")
        page.wait_for_load_state("networkidle")
        page.wait_for_function(settled, timeout=60_000)
        browser.close()
    missing = [k for k in (*PAGES, SIM_MOVE) if not recorded[k]]
    if missing:
        raise RuntimeError(f"no callback requests recorded for {missing}")
    return dict(recorded)


def nudged(body: dict[str, Any], step: int) -> dict[str, Any]:
    """A copy of a slider request whose first numeric slider value moves by 0 or 1 (no two runs alike)."""
    out = copy.deepcopy(body)
    for item in out.get("inputs", []):
        group = item if isinstance(item, list) else [item]
        for entry in group:
            if isinstance(entry.get("value"), int | float) and not isinstance(entry.get("value"), bool):
                entry["value"] = entry["value"] + (step % 2)
                return out
    return out


# --- the simulated users -----------------------------------------------------------------
@dataclass
class Results:
    """Latencies and errors per request kind, shared by the user threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


def timed(session: requests.Session, results: Results, kind: str, method: str, url: str, **kwargs: Any) -> None:
    t = time.perf_counter()
    error = None
    try:
        resp = session.request(method, url, timeout=60, **kwargs)
        resp.content  # noqa: B018 - read the whole body
        if resp.status_code >= 400:
            error = f"{resp.status_code} {method} {url.rsplit('/', 1)[-1]} {resp.text[:120]!r}"
    except requests.RequestException as err:
        error = f"{type(err).__name__}: {err}"
    results.add(kind, time.perf_counter() - t, error)


def user(
    number: int, url: str, recorded: dict[str, list[dict[str, Any]]], until: float, think: float, results: Results
) -> None:
    """One simulated user: actions and think times until ``until`` (monotonic clock)."""
    rng = random.Random(number)
    actions = [*PAGES, SIM_MOVE, SIM_MOVE]
    post = url + "/_dash-update-component"
    step = 0
    with requests.Session() as session:
        timed(session, results, "page HTML", "GET", url + "/")  # a browser's first visit: identity cookie
        while time.monotonic() < until:
            action = rng.choice(actions)
            if action == SIM_MOVE:
                step += 1
                for body in recorded[SIM_MOVE]:
                    timed(session, results, "callback: simulator move", "POST", post, json=nudged(body, step))
            else:
                timed(session, results, "page HTML", "GET", url + action)
                timed(session, results, "layout + dependencies", "GET", url + "/_dash-layout")
                timed(session, results, "layout + dependencies", "GET", url + "/_dash-dependencies")
                for body in recorded[action]:
                    timed(session, results, "callback: page load", "POST", post, json=body)
            time.sleep(min(max(0.0, until - time.monotonic()), think * rng.uniform(0.5, 1.5)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (alive ones)."""
    total = 0.0
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def monitor(pid: int, stop: threading.Event, samples: list[tuple[float, float, float]]) -> None:
    """Every second: (server RSS MB, server USS MB, 1-minute load average)."""
    while not stop.is_set():
        rss, uss = server_memory(pid)
        samples.append((rss, uss, os.getloadavg()[0]))
        stop.wait(1.0)


def run_load(
    url: str, pid: int, recorded: dict[str, list[dict[str, Any]]], users: int, seconds: float, think: float
) -> tuple[Results, float, list[tuple[float, float, float]]]:
    """Run the users; returns the results, the wall time and the monitor samples."""
    results = Results()
    samples: list[tuple[float, float, float]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=monitor, args=(pid, stop, samples), daemon=True)
    watcher.start()
    start = time.monotonic()
    until = start + seconds
    threads = [
        threading.Thread(target=user, args=(i, url, recorded, until, think, results), daemon=True) for i in range(users)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    wall = time.monotonic() - start
    stop.set()
    watcher.join()
    return results, wall, samples


def report(results: Results, wall: float, rows_meta: dict[str, Any]) -> bool:
    """Print the table; True if the targets are met."""
    rows = []
    everything: list[float] = []
    total_errors = 0
    for kind in sorted(results.latencies):
        lat = results.latencies[kind]
        errs = len(results.errors.get(kind, []))
        everything += lat
        total_errors += errs
        rows.append(
            [kind, len(lat), f"{len(lat) / wall:.1f}", ms(percentile(lat, 50)), ms(percentile(lat, 95)),
             ms(percentile(lat, 99)), errs]
        )  # fmt: skip
    p95 = percentile(everything, 95)
    rows.append(
        ["all requests", len(everything), f"{len(everything) / wall:.1f}", ms(percentile(everything, 50)), ms(p95),
         ms(percentile(everything, 99)), total_errors]
    )  # fmt: skip
    print_table(
        f"Load benchmark: {rows_meta['users']} users for {wall:.0f} s against --workers {rows_meta['workers']}, "
        f"think time {rows_meta['think']:.1f} s (0.5-1.5x)",
        ["requests", "n", "req/s", "p50", "p95", "p99", "errors"],
        rows,
    )
    for kind, errs in results.errors.items():
        print(f"  errors in {kind} (first 3 of {len(errs)}): {errs[:3]}")
    ok = total_errors == 0 and p95 < P95_TARGET
    print(
        f"\ntarget: 0 errors and p95 < {ms(P95_TARGET)}: {'PASS' if ok else 'FAIL'} ({total_errors} errors, p95 {ms(p95)})"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Prepare, serve, record, load, report; exit 1 if the target is missed."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_load", description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=20, help="simulated users")
    p.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    p.add_argument("--think", type=float, default=1.0, help="mean think time between a user's actions, seconds")
    args = p.parse_args(argv)
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        models_dir, data_dir = prepare_models(Path(tmp))
        proc, url = start_server(models_dir, data_dir, args.workers, Path(tmp) / "server.log")
        try:
            recorded = record_requests(url)
            idle_rss, idle_uss = server_memory(proc.pid)
            load_start = load()
            server_cpu, client_cpu = cpu_seconds(proc.pid), cpu_seconds(os.getpid())
            results, wall, samples = run_load(url, proc.pid, recorded, args.users, args.seconds, args.think)
            server_cpu, client_cpu = cpu_seconds(proc.pid) - server_cpu, cpu_seconds(os.getpid()) - client_cpu
            load_end = load()
        finally:
            stop_server(proc)
        log = (Path(tmp) / "server.log").read_text()
    import dash

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"Dash {dash.__version__}; client and server on this machine (loopback)"
    )
    print(f"machine load: before the server started: {load_before}")
    print(f"              when the load started:     {load_start}")
    print(f"              at the end of the load:    {load_end}")
    during = [x[2] for x in samples]
    if during:
        print(f"              during (1-min average, sampled each second): mean {sum(during) / len(during):.2f}, "
              f"max {max(during):.2f}")  # fmt: skip
    calls = {k: len(v) for k, v in recorded.items()}
    print(f"recorded callback requests per action (from headless Chromium): {calls}")
    ok = report(results, wall, vars(args))
    peak_rss = max((s[0] for s in samples), default=0.0)
    peak_uss = max((s[1] for s in samples), default=0.0)
    print(
        f"server memory (master + {args.workers} workers): before the load RSS {idle_rss:.0f} MB / USS "
        f"{idle_uss:.0f} MB; peak during RSS {peak_rss:.0f} MB / USS {peak_uss:.0f} MB "
        "(RSS counts pages shared after fork once per process; USS does not count them)"
    )
    print(
        f"CPU used during the load: server {server_cpu:.0f} s, this client {client_cpu:.0f} s, "
        f"of {wall * (os.cpu_count() or 1):.0f} core-seconds available (the rest went to other processes or idle)"
    )
    tracebacks = log.count("Traceback")
    restarts = log.count("Booting worker") - args.workers
    print(
        f"server log: {tracebacks} tracebacks, {log.count('WORKER TIMEOUT')} worker timeouts, "
        f"{max(0, restarts)} worker restarts"
    )
    return 0 if ok and not tracebacks else 1


if __name__ == "__main__":
    sys.exit(main())
