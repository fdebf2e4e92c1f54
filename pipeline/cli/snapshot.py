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
    p.add_argument("--as-of", dest="as_of", required=True, help="as-of date YYYY-MM-DD (a log: lines up to it only)")
    p.add_argument(
        "--model", help="model version (artifact id in --models-dir, or folder); default: train on this data"
    )
    p.add_argument("--mapping", type=Path, help="column mapping JSON (default: detect)")
    p.add_argument("--series", default="", help="series name the snapshot belongs to (default: the data's name)")
    p.add_argument("--owner", default="system", help="owner stored with the snapshot (default system: everyone)")
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
    from pipeline.store.db import database_path
    from pipeline.store.snapshots import SnapshotStore
    from pipeline.timeline.build import datasets_at, score_all

    as_of = parse_date(args.as_of)
    settings = settings_of(args, as_of)
    (snap,) = score_all(datasets_at(args.data, [as_of], settings, args.mapping), settings, args.model)
    store = SnapshotStore(database_path(settings), settings.data_dir / "snapshots")
    record = store.add(args.owner, snap, args.series)
    payload = {"id": record.id, "data": snap.data_name, "series": record.series, "model_id": snap.model_id}
    payload.update(snap.summary())
    emit(args, payload, text)
    return 0
