"""``python -m benchmarks.bench_train_stages [--rows N] [--repeat R]``: where ``train``'s seconds go, stage by stage.

Each run is a fresh ``python -m pipeline train --json`` process on the
customer table of ``bench_train`` (``--rows``, default 1,000,000, written once
by ``python -m pipeline sample``) into an empty models folder.  In that
process the functions of each stage are wrapped with a timer (CPU seconds of
the whole process, all threads, and wall seconds); nothing else changes.
"imports" is the time to import what ``train`` needs (pandas, scikit-learn,
SciPy, pyarrow and the pipeline) before anything runs.  The table gives the
median of the runs per stage and the machine's load: CPU seconds move much
less with the load than wall seconds.  The churn fit runs in a second
thread beside the rest of "fit" (:func:`pipeline.segmentation.training.fit_segmentation`):
the CPU seconds of the stages inside "fit" include that thread's while they
overlap, so read those as wall seconds and the whole process's CPU seconds
as the total.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .bench_train import sample_file
from .common import ROOT, load, median, print_table

#: (module, function, stage): the functions timed, by the names ``train`` calls them under.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("pipeline.segmentation.training", "file_bytes", "read the file"),
    ("pipeline.segmentation.training", "read_table", "parse the text"),
    ("pipeline.segmentation.training", "clean_marketing", "clean"),
    ("pipeline.segmentation.training", "engineer_features", "features, spread, hash, settings"),
    ("pipeline.segmentation.training", "spread_items", "features, spread, hash, settings"),
    ("pipeline.segmentation.training", "data_hash", "features, spread, hash, settings"),
    ("pipeline.segmentation.training", "settings_for_dataset", "features, spread, hash, settings"),
    ("pipeline.segmentation.training", "validate_for_training", "features, spread, hash, settings"),
    ("pipeline.segmentation.training", "fit_segmentation", "fit (all of the next four and the rest)"),
    ("pipeline.churn.measure", "measure_churn", "  churn fit and measure"),
    ("pipeline.segmentation.training", "cluster_metrics", "  metrics (silhouette, DB, CH)"),
    ("pipeline.segmentation.training", "describe_segments", "  describe and name segments"),
    ("pipeline.segmentation.training", "name_segments", "  describe and name segments"),
    ("pipeline.segmentation.training", "feature_ranges", "  describe and name segments"),
    ("pipeline.segmentation.training", "save_artifact", "write the artifact"),
)

_CHILD = """
import functools, importlib, io, json, sys, time
c0, w0 = time.process_time(), time.perf_counter()
import pandas, pyarrow.parquet, scipy.optimize, sklearn.cluster, sklearn.decomposition, sklearn.pipeline
import pipeline.churn.measure, pipeline.cli, pipeline.segmentation.kmeans, pipeline.segmentation.training
stats = {"imports": [time.process_time() - c0, time.perf_counter() - w0]}
def timed(f, stage):
    @functools.wraps(f)
    def g(*a, **k):
        c, w = time.process_time(), time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            s = stats.setdefault(stage, [0.0, 0.0])
            s[0] += time.process_time() - c
            s[1] += time.perf_counter() - w
    return g
for module, name, stage in json.loads(sys.argv[1]):
    mod = importlib.import_module(module)
    setattr(mod, name, timed(getattr(mod, name), stage))
km = pipeline.segmentation.kmeans.SampledRestartKMeans
km.fit = timed(km.fit, "  KMeans")
out, sys.stdout = sys.stdout, io.StringIO()
pipeline.cli.main(sys.argv[2:])
sys.stdout = out
stats["whole process"] = [time.process_time() - c0, time.perf_counter() - w0]
print(json.dumps(stats))
"""


def one_run(data: Path, models: Path) -> dict[str, list[float]]:
    """{stage: [CPU s, wall s]} of one fresh ``train`` process."""
    args = ["train", "--json", "--data", str(data), "--models-dir", str(models)]
    cmd = [sys.executable, "-c", _CHILD, json.dumps(STAGES), *args]
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    print(f"bench_train_stages: {load()}")
    data = sample_file(args.rows)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            runs.append(one_run(data, Path(tmp) / f"m{i}"))
    order = ["imports", *dict.fromkeys(stage for _, _, stage in STAGES), "whole process"]
    order.insert(order.index("  churn fit and measure"), "  KMeans")
    rows = [
        [
            stage,
            f"{median([r.get(stage, [0.0, 0.0])[0] for r in runs]):.2f}",
            f"{median([r.get(stage, [0.0, 0.0])[1] for r in runs]):.2f}",
        ]
        for stage in order
    ]
    print_table(
        f"python -m pipeline train --json on {args.rows:,} customers, median of {args.repeat} fresh processes",
        ["stage", "CPU s", "wall s"],
        rows,
    )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
