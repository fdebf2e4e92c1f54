"""``python -m benchmarks.bench_train``: time and memory of ``python -m pipeline train --json``.

Each run is a fresh process (imports included), on the default sample
(2,240 customers): "train" starts from an empty models folder, "cached"
reuses the artifact.  Target (issue #2): under 5 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from .common import load, median, print_table, run_module

TARGET_S = 5.0


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    print(f"bench_train: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("train", "cached"):
            times, peaks = [], []
            n = 0
            for i in range(args.repeat):
                models = Path(tmp) / (f"m{i}" if mode == "train" else "shared")
                seconds, peak, out = run_module("pipeline", ["train", "--json", "--models-dir", str(models)])
                summary = json.loads(out)
                if mode == "cached" and not summary["artifact"]["cached"] and i == 0:
                    seconds, peak, out = run_module("pipeline", ["train", "--json", "--models-dir", str(models)])
                    summary = json.loads(out)
                assert summary["artifact"]["cached"] == (mode == "cached")
                n = summary["n_customers"]
                times.append(seconds)
                peaks.append(peak)
            med = median(times)
            rows.append(
                [
                    f"train --json ({mode})",
                    f"{n:,}",
                    f"{med:.2f}",
                    f"{min(times):.2f}–{max(times):.2f}",
                    f"{max(peaks):.0f}",
                    f"< {TARGET_S:.0f} s",
                    "pass" if med < TARGET_S else "FAIL",
                ]
            )
    print_table(
        f"python -m pipeline train --json, median of {args.repeat} fresh processes",
        ["run", "rows", "median s", "range s", "peak MB", "target", "result"],
        rows,
    )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
