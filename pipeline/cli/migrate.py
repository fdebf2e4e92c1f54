"""``migrate``: who moved between segments from one snapshot to a later one, and what drifted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.config import parse_date
from pipeline.errors import DataError

from .options import emit
from .snapshot import settings_of

NAME = "migrate"
HELP = "migration between segments and drift between two dates of a log, or two customer tables"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``migrate``."""
    p.add_argument("--data", type=Path, help="transaction log (with --from-as-of and --to-as-of)")
    p.add_argument("--from-as-of", dest="from_as_of", help="earlier as-of date YYYY-MM-DD in the log")
    p.add_argument("--to-as-of", dest="to_as_of", help="later as-of date YYYY-MM-DD in the log")
    p.add_argument("--from", dest="from_file", type=Path, help="earlier customer table (with --to)")
    p.add_argument("--to", dest="to_file", type=Path, help="later customer table, same customer ids")
    p.add_argument("--model", help="model version (artifact id or folder); default: train on the earlier snapshot")
    p.add_argument(
        "--retrain",
        action="store_true",
        help="score the later snapshot with a model retrained on it, segments matched to the earlier ones",
    )
    p.add_argument("--mapping", type=Path, help="column mapping JSON (default: detect)")
    p.add_argument("--movers", nargs=2, metavar=("FROM", "TO"), help="export the customers who moved FROM -> TO")
    p.add_argument("--out", type=Path, help="file for --movers (.csv, .xlsx or .parquet)")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def text(payload: dict[str, Any]) -> str:
    """Human-readable report."""
    a, b = payload["from"], payload["to"]
    lines = [f"from {a['as_of']} ({a['n_customers']:,} customers) to {b['as_of']} ({b['n_customers']:,} customers)", ""]
    lines.append(f"{'from':<28}{'to':<28}{'customers':>10}{'value':>14}")
    for f in payload["flows"]:
        lines.append(f"{f['from']:<28}{f['to']:<28}{f['customers']:>10,}{f['value']:>14,.0f}")
    d = payload["drift"]
    lines += ["", "feature drift (PSI: < 0.1 stable, 0.1-0.25 moderate, >= 0.25 major)"]
    lines += [f"  {f['name']}: {'n/a' if f['psi'] is None else format(f['psi'], '.3f')}" for f in d["features"]]
    lines += ["", "segment share change (points)"]
    lines += [f"  {k}: {v:+.1f}" for k, v in d["segment_share_change"].items()]
    lines += ["", "alerts:" if d["alerts"] else "alerts: none"] + [f"  - {t}" for t in d["alerts"]]
    lines.append(f"retrain recommended: {'yes' if d['retrain_recommended'] else 'no'}")
    for m in payload.get("matches", []):
        lines.append(f"  matched {m['new_key']} -> {m['old_key']} (similarity {m['similarity']:.2f})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build both snapshots, compare them, print (and export the movers)."""
    from pipeline.data.export import check_output_path, write_table
    from pipeline.segmentation.training import load_dataset
    from pipeline.timeline.build import check_dates, datasets_at, load_model, retrained, score_all, train_model
    from pipeline.timeline.report import compare_snapshots
    from pipeline.timeline.snapshot import score_snapshot

    log_mode = args.data is not None
    table_mode = args.from_file is not None or args.to_file is not None
    if log_mode == table_mode:
        raise DataError("Give either --data LOG --from-as-of DATE --to-as-of DATE, or --from FILE --to FILE.")
    if args.movers and args.out is None:
        raise DataError("--movers needs --out FILE for the list of customers.")
    if args.out is not None:
        check_output_path(args.out)
    settings = settings_of(args)
    if log_mode:
        if not (args.from_as_of and args.to_as_of):
            raise DataError("A transaction log needs --from-as-of and --to-as-of.")
        start, end = parse_date(args.from_as_of), parse_date(args.to_as_of)
        check_dates(start, end)
        datasets = datasets_at(args.data, [start, end], settings, args.mapping)
    else:
        if args.from_file is None or args.to_file is None:
            raise DataError("Two customer tables need both --from and --to.")
        datasets = [load_dataset(p, settings, args.mapping) for p in (args.from_file, args.to_file)]
    matches = None
    if args.retrain:
        artifact = load_model(args.model, settings) if args.model else train_model(datasets[0], settings)
        before = score_snapshot(artifact, datasets[0])
        after, matches = retrained(before, datasets[1], settings)
    else:
        before, after = score_all(datasets, settings, args.model)
    report = compare_snapshots(before, after)
    payload = report.to_json()
    if matches is not None:
        payload["matches"] = [
            {
                "old_key": m.old_key,
                "new_key": m.new_key,
                "distance_sd": round(m.distance, 3),
                "similarity": round(m.similarity, 3),
            }
            for m in matches
        ]
    movers = report.migration.movers(*args.movers) if args.movers else None  # unknown keys refused before printing
    emit(args, payload, text)
    if movers is not None:
        write_table(movers, args.out)
        note = f"wrote {len(movers):,} customers who moved {args.movers[0]} -> {args.movers[1]} to {args.out}"
        print(note, file=sys.stderr if args.json else sys.stdout)
    return 0
