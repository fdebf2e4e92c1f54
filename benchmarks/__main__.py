"""``python -m benchmarks [--only NAME ...]``: run every benchmark, one after another.

Each benchmark prints its own table (rows, seconds, peak memory, targets) and
the machine's load average before and after: the machine is shared, so read
medians, not single runs.  Benchmarks run one at a time so they do not slow
each other down.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

from .common import ROOT, load

ALL = (
    "bench_train",
    "bench_train_stages",
    "bench_compare",
    "bench_ingest",
    "bench_transactions",
    "bench_app",
    "bench_app_large",
    "bench_bundle",
    "bench_lighthouse",
    "bench_trace",
    "bench_upload",
    "bench_churn",
    "bench_churn_fit",
    "bench_load",
    "bench_jobs",
    "bench_migration",
    "bench_report",
    "bench_database",
    "bench_start",
    "bench_scale",
)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks in fresh processes; non-zero if any failed to run."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", choices=ALL, help="run only these")
    args = p.parse_args(argv)
    print(f"benchmarks: {load()}", flush=True)
    failed = []
    for name in args.only or ALL:
        if importlib.util.find_spec(f"benchmarks.{name}") is None:
            print(f"\n== {name}: not present, skipped", flush=True)
            continue
        print(f"\n== {name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that did not complete: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
