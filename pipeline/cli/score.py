"""``score``: write the segment of every customer in a file with a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import Settings

from .options import (
    add_database_options,
    add_value_options,
    data_argument,
    data_source,
    settings_from_args,
    value_overrides,
)

NAME = "score"
HELP = "write the segment of every customer in a file"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``score``."""
    p.add_argument(
        "--data", type=data_argument, required=True, help="customer table to score (a file, or a database URL)"
    )
    add_database_options(p)
    p.add_argument(
        "--model", dest="model_dir", type=Path, help="artifact folder (default: the model of the built-in sample)"
    )
    p.add_argument(
        "--out",
        type=data_argument,
        required=True,
        help="output table (.csv, .xlsx or .parquet): ID, Segment_Key, Segment_Name; or a database URL with --out-table",
    )
    p.add_argument("--out-table", dest="out_table", help="with a database --out: the assignments table to write")
    p.add_argument(
        "--as-of", dest="as_of", help="reference date YYYY-MM-DD for tenure (default: latest enrolment in the file)"
    )
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    add_value_options(p, "the model's")


def run(args: argparse.Namespace) -> int:
    """Write each input customer's segment."""
    from pipeline.data.export import check_output_path, write_table
    from pipeline.data.sql_sink import sink_url, write_scored
    from pipeline.segmentation.training import load_dataset, score, train, validate_for_scoring
    from pipeline.store.artifacts import load_artifact

    settings = settings_from_args(args)
    sink = sink_url(args.out, args.out_table)
    if sink is None:
        check_output_path(args.out)
    if args.model_dir is not None:
        # Only a model signed with this installation's key is unpickled, wherever its folder is.
        artifact = load_artifact(args.model_dir, settings)
    else:
        base = Settings(models_dir=args.models_dir, secret_file=settings.secret_file)
        artifact = train(load_dataset(None, base), base).artifact
    dataset = load_dataset(data_source(args), settings)
    validate_for_scoring(dataset, artifact.manifest)
    scored = score(artifact, dataset, value_overrides(args))
    if sink is not None:
        print(write_scored(sink, args.out_table, scored, artifact.artifact_id, dataset.as_of))
    else:
        write_table(scored, args.out)
        print(f"wrote {len(scored):,} customers to {args.out} using {artifact.artifact_id}")
    counts = scored["Segment_Name"].value_counts()
    measured = int(scored["p_alive"].notna().sum())
    churn = artifact.manifest.get("churn_model") or {}
    print(
        f"p_alive and expected_clv: {measured:,} customers measured"
        if measured
        else f"p_alive and expected_clv: {churn.get('reason') or 'not measured on this data'}"
    )
    for name, n in counts.items():
        print(f"  {name}: {n:,}")
    return 0
