"""``python -m benchmarks.bench_churn``: time and memory of the churn and lifetime-value measurement (issue 9).

Logs are drawn from the BG/NBD and Gamma-Gamma models with CDNOW's published
parameters (:mod:`pipeline.synthetic.btyd_log`): 78 weeks, first purchases in
the first 12 weeks, as-of date after 39 weeks (the rest is the holdout).

* ``train --json`` end to end on a 25,000-customer log (about 77,000 lines), in a
  fresh process (reading, aggregating, clustering, churn, artifact).  Target: 10 s.
* the churn part alone (:func:`pipeline.churn.measure.measure_churn`: inputs,
  BG/NBD and Gamma-Gamma fits, every customer's p_alive and expected CLV, the
  holdout check) on the same 25,000 customers and on 1,000,000.  Target for
  1,000,000 customers: 60 s.

Peak memory is the peak RSS of the process (for the churn part it includes
building the customer table from the log, which is not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from .common import load, median, print_table, run_module

AS_OF = "1997-09-30"
TARGET_25K_S = 10.0
TARGET_1M_S = 60.0


def write_log(path: Path, n_customers: int, seed: int = 1) -> int:
    """Write a model-drawn log of ``n_customers``; returns its number of lines."""
    from pipeline.synthetic.btyd_log import generate_btyd_log

    table = generate_btyd_log(n_customers, seed)
    table.to_csv(path, index=False, lineterminator="\n")
    return len(table)


def child_measure(path: Path) -> None:
    """Build the customer table of ``path`` (not timed), time :func:`measure_churn`; print JSON."""
    from pipeline.churn.measure import measure_churn, transactions_after_as_of
    from pipeline.config import Settings
    from pipeline.segmentation.training import load_dataset

    settings = Settings(as_of=dt.date.fromisoformat(AS_OF))
    ds = load_dataset(path, settings)
    start = time.perf_counter()
    m = measure_churn(ds.customers, ds.kind, ds.as_of, settings, transactions_after_as_of(ds.report.items))
    seconds = time.perf_counter() - start
    h = m.holdout
    print(
        json.dumps(
            {
                "seconds": seconds,
                "n_customers": len(ds.customers),
                "params": m.bg_params,
                "holdout": None if h is None else [h.predicted_total, h.actual_total],
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--big", type=int, default=1_000_000, help="customers of the large run (0: skip it)")
    p.add_argument("--child-measure", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_measure:
        child_measure(args.child_measure)
        return
    print(f"bench_churn: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log-25k.csv"
        lines = write_log(log, 25_000)
        times, peaks = [], []
        for i in range(args.repeat):
            models = Path(tmp) / f"m{i}"
            seconds, peak, out = run_module(
                "pipeline", ["train", "--json", "--data", str(log), "--as-of", AS_OF, "--models-dir", str(models)]
            )
            summary = json.loads(out)
            assert summary["churn_model"]["model"] == "bg/nbd" and not summary["artifact"]["cached"]
            times.append(seconds)
            peaks.append(peak)
        rows.append(_row("train --json (end to end)", f"25,000 ({lines:,} lines)", times, peaks, TARGET_25K_S))

        times, peaks = [], []
        for _ in range(args.repeat):
            _, peak, out = run_module("benchmarks.bench_churn", ["--child-measure", str(log)])
            times.append(json.loads(out)["seconds"])
            peaks.append(peak)
        rows.append(_row("churn part alone", "25,000", times, peaks, TARGET_25K_S))

        if args.big:
            big = Path(tmp) / "log-big.csv"
            big_lines = write_log(big, args.big)
            _, peak, out = run_module("benchmarks.bench_churn", ["--child-measure", str(big)])
            result = json.loads(out)
            rows.append(
                _row(
                    "churn part alone",
                    f"{result['n_customers']:,} ({big_lines:,} lines)",
                    [result["seconds"]],
                    [peak],
                    TARGET_1M_S,
                )
            )
    print_table(
        f"churn and lifetime value (BG/NBD + Gamma-Gamma), median of {args.repeat} fresh processes (1 for the large run)",
        ["run", "customers", "median s", "range s", "peak MB", "target", "result"],
        rows,
    )
    print(f"after: {load()}")


def _row(name: str, customers: str, times: list[float], peaks: list[float], target: float) -> list[str]:
    med = median(times)
    return [
        name,
        customers,
        f"{med:.2f}",
        f"{min(times):.2f}–{max(times):.2f}",
        f"{max(peaks):.0f}",
        f"< {target:.0f} s",
        "pass" if med < target else "FAIL",
    ]


if __name__ == "__main__":
    main(sys.argv[1:])
