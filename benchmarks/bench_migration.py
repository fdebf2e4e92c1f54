"""``python -m benchmarks.bench_migration``: migration and drift between two snapshots of 1,000,000 customers.

Two snapshots are built in memory (not timed): 1,000,000 customers each,
900,000 of them in both (100,000 gone, 100,000 new), four segments, four
features.  Timed: :func:`pipeline.timeline.report.compare_snapshots` (matching
customers by id, the flows of customers and value, PSI of every feature,
segment shares, centroid shifts, alerts) plus the JSON payload of the CLI.
Scoring the customers with a model is not part of it (that is ``score``'s
cost).  Target (issue #11): under 10 s.  Median of ``--repeat`` runs; peak
memory is the process's maximum resident size; the machine is shared, so the
load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import numpy as np
import pandas as pd

from .common import load, median, print_table

TARGET_SECONDS = 10.0


def snapshots(n: int, seed: int = 0):
    """Two snapshots of ``n`` customers, 90% shared, segments moving with probability 0.2."""
    from pipeline.timeline.snapshot import SegmentInfo, snapshot_from_labels

    rng = np.random.default_rng(seed)
    segments = tuple(SegmentInfo(f"s{i}", f"Segment {i}", "#888888") for i in range(4))
    features = ("Customer_Value", "Purchase_Frequency", "Campaign_Response", "Customer_For_Years")
    ids_a = np.arange(n)
    ids_b = np.arange(n // 10, n + n // 10)
    labels_a = rng.integers(0, 4, n)
    move = rng.random(n) < 0.2
    labels_b = np.where(move, rng.integers(0, 4, n), np.roll(labels_a, -(n // 10)))
    out = []
    for ids, labels, as_of, shift in (
        (ids_a, labels_a, dt.date(2014, 3, 31), 0.0),
        (ids_b, labels_b, dt.date(2014, 6, 30), 0.1),
    ):
        frame = pd.DataFrame({"ID": np.char.add("C", ids.astype(str)).astype(object)})
        for j, f in enumerate(features):
            frame[f] = rng.gamma(2.0 + j, 100.0 / (j + 1), n) * (1 + shift)
        out.append(
            snapshot_from_labels(
                frame, labels, segments, features, data_name="bench", data_hash="h", as_of=as_of, model_id="m"
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the snapshots, time the comparison, print the table."""
    from pipeline.timeline.report import compare_snapshots

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    before_load = load()
    a, b = snapshots(args.rows)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = compare_snapshots(a, b)
        payload = report.to_json()
        times.append(time.perf_counter() - start)
    flows = payload["flows"]
    new = sum(f["customers"] for f in flows if f["from"] == "new")
    gone = sum(f["customers"] for f in flows if f["to"] == "gone")
    assert a.n_customers + new == b.n_customers + gone
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = median(times)
    print_table(
        "migration + drift between two snapshots (in process, snapshots built beforehand)",
        ["rows per snapshot", "runs", "median s", "min s", "max s", "peak MB", "target", "met"],
        [
            [
                f"{args.rows:,}",
                args.repeat,
                f"{med:.2f}",
                f"{min(times):.2f}",
                f"{max(times):.2f}",
                f"{peak_mb:,.0f}",
                f"< {TARGET_SECONDS:.0f} s",
                "yes" if med < TARGET_SECONDS else "NO",
            ]
        ],
    )
    print(f"\nflows: {len(flows)}, new {new:,}, gone {gone:,}; before: {before_load}; after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
