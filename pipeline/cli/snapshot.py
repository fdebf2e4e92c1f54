"""``snapshot``: score one data set at one as-of date and store the snapshot with its owner."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pipeline.config import Settings, parse_date

from .options import emit

NAME = "snapshot"
HELP = "score a data set at an as-of date and store the snapshot (for `migrate` and the app's /changes)"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``snapshot``."""
    p.add_argument("--data", type=Path, required=True, help="customer table or transaction log")
    p.add_argument(
        "--as-of",
        dest="as_of",
        required=True,
        nargs="+",
        help="as-of date YYYY-MM-DD (a log: lines up to it only); a log takes several dates, one snapshot each",
    )
    p.add_argument(
        "--every",
        choices=("monthly", "quarterly"),
        help="a log: one snapshot at every month or quarter end from --since to --as-of",
    )
    p.add_argument("--since", help="first date of --every (YYYY-MM-DD)")
    p.add_argument(
        "--model", help="model version (artifact id in --models-dir, or folder); default: train on this data"
    )
    p.add_argument("--mapping", type=Path, help="column mapping JSON (default: detect)")
    p.add_argument("--series", default="", help="series name the snapshot belongs to (default: the data's name)")
    p.add_argument(
        "--owner",
        default="cli",
        help="owner stored with the snapshot: a browser's identity (e.g. user:NAME), or system to show it to "
        "everyone (default cli: kept out of the app, like models trained here)",
    )
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="state folder (default data/)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def settings_of(args: argparse.Namespace, as_of: Any = None) -> Settings:
    """The settings of ``snapshot`` and ``migrate``."""
    return Settings(as_of=as_of, models_dir=args.models_dir, data_dir=getattr(args, "data_dir", Path("data")))


def text(payload: dict[str, Any]) -> str:
    """Human-readable summary."""
    lines = [
        f"snapshot {payload['id']}: {payload['data']} as of {payload['as_of']}, "
        f"{payload['n_customers']:,} customers, model {payload['model_id']}"
    ]
    lines += [f"  {k}: {n:,}" for k, n in payload["segments"].items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build, store and describe the snapshot."""
    from pipeline.errors import DataError
    from pipeline.store.db import database_path
    from pipeline.store.snapshots import SnapshotStore
    from pipeline.timeline.build import datasets_at, score_all
    from pipeline.timeline.snapshot import as_of_dates

    dates = [parse_date(d) for d in args.as_of]
    if args.every:
        if not args.since or len(dates) != 1:
            raise DataError("--every needs --since DATE and one --as-of DATE (the last one).")
        dates = as_of_dates(parse_date(args.since), dates[0], args.every)
    settings = settings_of(args, dates[0] if len(dates) == 1 else None)
    snaps = score_all(datasets_at(args.data, dates, settings, args.mapping), settings, args.model)
    store = SnapshotStore(database_path(settings), settings.data_dir / "snapshots")
    payloads = []
    for snap in snaps:
        record = store.add(args.owner, snap, args.series)
        payload = {"id": record.id, "data": snap.data_name, "series": record.series, "model_id": snap.model_id}
        payload.update(snap.summary())
        payloads.append(payload)
    if len(payloads) == 1:
        emit(args, payloads[0], text)
    else:
        emit(args, {"snapshots": payloads}, lambda p: "\n".join(text(x) for x in p["snapshots"]))
    return 0
