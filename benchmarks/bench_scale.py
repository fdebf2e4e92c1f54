"""``python -m benchmarks.bench_scale [--rows N ...] [--repeat R]``: default engine vs Spark local by data size.

For each size (default 1 M, 5 M and 10 M customers) a customer table is
written once by ``python -m pipeline sample --rows N`` (kept in the temp
folder, shared with ``bench_train``) and ``python -m pipeline train --json``
is run from an empty models folder with ``--engine default`` and with
``--engine spark --spark-master local[*]``, each ``--repeat`` times in a fresh
process.  Reported: median wall seconds, CPU seconds and peak memory of the
whole process tree (the Spark JVM is a child process: its memory and CPU
count), sampled with psutil every 0.1 s.  The last line says, from these
numbers, up to which measured size each engine is the faster one; a run that
fails (out of memory, for example) counts as not finishing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from .bench_train import sample_file
from .common import ROOT, load, median, print_table

SIZES = (1_000_000, 5_000_000, 10_000_000)
ENGINES = ("default", "spark")


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def measured(args: list[str]) -> tuple[float, float, float, str | None]:
    """(wall seconds, CPU seconds, peak MB, error or None) of one ``python -m pipeline`` run and its children."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = psutil.Process(proc.pid)
    peak, cpu = 0, {}
    while proc.poll() is None:
        rss = 0
        for p in _tree(root):
            try:
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
            except psutil.Error:
                continue
        peak = max(peak, rss)
        time.sleep(0.1)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    error = None if proc.returncode == 0 else (err.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    if error is None:
        json.loads(out)  # a complete train --json summary
    return seconds, sum(cpu.values()), peak / 2**20, error


def run_engine(data: Path, engine: str, repeat: int) -> dict[str, object]:
    """Median seconds, median CPU seconds and peak MB of ``repeat`` trainings (or the first error)."""
    times, cpus, peaks = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-scale-models-") as models:
            args = ["train", "--json", "--data", str(data), "--models-dir", models, "--engine", engine]
            if engine == "spark":
                args += ["--spark-master", "local[*]"]
            seconds, cpu, peak, error = measured(args)
        if error is not None:
            return {"error": error[:120], "seconds": seconds, "peak": peak}
        times.append(seconds)
        cpus.append(cpu)
        peaks.append(peak)
    return {"seconds": median(times), "cpu": median(cpus), "peak": max(peaks), "runs": len(times)}


def verdict(results: dict[int, dict[str, dict[str, object]]]) -> str:
    """Which engine is faster at each measured size, and where that changes (from the numbers, not assumed)."""

    def faster(by_engine: dict[str, dict[str, object]]) -> str | None:
        ok = {e: r["seconds"] for e, r in by_engine.items() if "error" not in r}
        return min(ok, key=ok.get) if ok else None

    order = sorted(results)
    winners = [(n, faster(results[n])) for n in order]
    parts = [f"{n:,}: {w or 'neither finished'}" for n, w in winners]
    changes = [
        f"the {b} engine takes over between {m:,} and {n:,} customers"
        for (m, a), (n, b) in itertools.pairwise(winners)
        if a != b and b is not None
    ]
    last = winners[-1][1]
    tail = "; ".join(changes) if changes else f"the {last} engine is the faster one at every measured size"

    def least(by_engine: dict[str, dict[str, object]], key: str) -> str:
        ok = {e: r[key] for e, r in by_engine.items() if "error" not in r}
        return min(ok, key=ok.get) if ok else "neither"

    cost = "; ".join(f"{n:,}: {least(results[n], 'cpu')} / {least(results[n], 'peak')}" for n in order)
    return (
        f"faster engine (median wall seconds) by size ({'; '.join(parts)}): {tail}. "
        f"Fewer CPU seconds / less peak memory by size ({cost}) - on a busy machine trust these more than wall time."
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.splitlines()[0])
    p.add_argument("--rows", nargs="+", type=int, default=list(SIZES), help="customer counts (default 1M 5M 10M)")
    p.add_argument("--repeat", type=int, default=3, help="runs per engine and size (default 3)")
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    args = p.parse_args(argv)
    print(f"before: {load()}", flush=True)
    results: dict[int, dict[str, dict[str, object]]] = {}
    rows = []
    for n in args.rows:
        start = time.perf_counter()
        data = sample_file(n)
        made = time.perf_counter() - start
        print(f"{n:,} customers: {data} ({data.stat().st_size / 2**20:,.0f} MB; ready in {made:.0f} s)", flush=True)
        results[n] = {}
        for engine in args.engines:
            r = run_engine(data, engine, args.repeat)
            results[n][engine] = r
            if "error" in r:
                rows.append([engine, f"{n:,}", "failed", "-", f"{r['peak']:.0f}", "-", r["error"]])
            else:
                rows.append(
                    [engine, f"{n:,}", f"{r['seconds']:.1f}", f"{r['cpu']:.1f}", f"{r['peak']:.0f}", r["runs"], ""]
                )
            print(f"  {engine}: {r}", flush=True)
    print_table(
        "train --json by engine (process tree: the Spark JVM included)",
        ["engine", "customers", "median s", "CPU s", "peak MB", "runs", "error"],
        rows,
    )
    print(verdict(results))
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
