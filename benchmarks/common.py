"""Shared helpers for the benchmarks: run a command in a fresh process, time it,
read its peak memory, and print a table.  Wall-clock numbers live here, never
in unit tests."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUNNER = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
except SystemExit as e:
    code = e.code or 0
else:
    code = 0
print(f"__peak_kb__={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def run_module(module: str, args: Sequence[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Run ``python -m module args`` in a fresh process.

    Returns
    -------
    (seconds, peak_mb, stdout)
        Wall time including interpreter start-up and imports, and the peak RSS.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, module, *args], cwd=cwd or ROOT, capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    peak = next(int(line.split("=")[1]) for line in proc.stderr.splitlines() if line.startswith("__peak_kb__="))
    return seconds, peak / 1024, proc.stdout


def load() -> str:
    """The 1/5/15-minute load averages, for the report."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def median(values: Sequence[float]) -> float:
    """Median of a sequence."""
    return float(statistics.median(values))


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print an aligned plain-text table."""
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for j, r in enumerate(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if j == 0:
            print("  ".join("-" * w for w in widths))
