"""``python -m benchmarks.bench_report``: time of the executive report on the default data (issue 10).

* ``python -m pipeline report --out report.{html,pdf,pptx}`` end to end in a fresh
  process (interpreter, imports, the built-in sample made and hashed to find its
  cached model version, the signed version loaded, the story, the file), with the
  model already trained (as in the app, where a report describes an existing
  version).  Targets: HTML 5 s, PDF and PPTX 15 s.
  Also the CPU seconds used (the process and Chromium): on a shared machine the wall
  time grows with the load, the CPU time much less.
* where the time goes: the same steps timed one by one in one process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from .common import load, median, print_table, run_module

TARGETS = {"html": 5.0, "pdf": 15.0, "pptx": 15.0}


def child_steps(models: Path, out_dir: Path) -> None:
    """Time each step of a report in this process; print JSON."""
    steps: dict[str, float] = {}
    t = time.perf_counter()
    from pipeline.config import Settings
    from pipeline.reports import story_of, write_report
    from pipeline.segmentation.training import load_dataset, settings_for_dataset, train

    steps["imports (pipeline, pandas, scikit-learn)"] = time.perf_counter() - t
    settings = Settings(models_dir=models)
    t = time.perf_counter()
    dataset = load_dataset(None, settings)
    steps["built-in sample made and read"] = time.perf_counter() - t
    t = time.perf_counter()
    artifact = train(dataset, settings_for_dataset(dataset, settings)).artifact
    steps["cached model version found, verified, loaded"] = time.perf_counter() - t
    t = time.perf_counter()
    story = story_of(artifact)
    steps["story (numbers)"] = time.perf_counter() - t
    t = time.perf_counter()
    import pptx  # noqa: F401

    steps["import python-pptx"] = time.perf_counter() - t
    for suffix in ("html", "pdf", "pptx"):
        t = time.perf_counter()
        write_report(story, out_dir / f"steps.{suffix}")
        steps[f"render {suffix}" + (" (Chromium prints the HTML)" if suffix == "pdf" else "")] = time.perf_counter() - t
    print(json.dumps(steps))


def main(argv: list[str] | None = None) -> int:
    """Train once, then time each format end to end and step by step."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_report")
    p.add_argument("--repeat", type=int, default=3, help="runs per format (default 3)")
    p.add_argument("--child-steps", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_steps:
        child_steps(*args.child_steps)
        return 0
    print(f"before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = root / "models"
        run_module("pipeline", ["train", "--models-dir", str(models)])
        rows = []
        for suffix, target in TARGETS.items():
            times, peaks, cpus = [], [], []
            for _ in range(args.repeat):
                out = root / f"report.{suffix}"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                seconds, peak, _ = run_module("pipeline", ["report", "--out", str(out), "--models-dir", str(models)])
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                times.append(seconds)
                peaks.append(peak)
                # CPU seconds of the process and its children (Chromium): what the work costs on an idle machine.
                cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            rows.append(
                [
                    f"report .{suffix}",
                    "2,240",
                    f"{median(times):.2f}",
                    f"{min(times):.2f}-{max(times):.2f}",
                    f"{median(cpus):.2f}",
                    f"{max(peaks):.0f}",
                    f"< {target:.0f} s",
                    "met" if median(times) < target else "NOT met",
                    f"{out.stat().st_size / 1024:,.0f} KB",
                ]
            )
        print_table(
            f"executive report, fresh process, median of {args.repeat}",
            ["what", "customers", "median s", "range s", "CPU s", "peak MB", "target", "", "file"],
            rows,
        )
        _, _, printed = run_module("benchmarks.bench_report", ["--child-steps", str(models), str(root)])
        steps = json.loads(printed.strip().splitlines()[-1])
        print_table(
            "where the time goes (one process, one run)",
            ["step", "seconds"],
            [[k, f"{v:.2f}"] for k, v in steps.items()],
        )
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
