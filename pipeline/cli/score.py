"""``score``: write the segment of every customer in a file with a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import Settings

from .options import add_value_options, settings_from_args, value_overrides

NAME = "score"
HELP = "write the segment of every customer in a file"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``score``."""
    p.add_argument("--data", type=Path, required=True, help="customer table to score")
    p.add_argument(
        "--model", dest="model_dir", type=Path, help="artifact folder (default: the model of the built-in sample)"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="output table (.csv, .xlsx or .parquet): ID, Segment_Key, Segment_Name"
    )
    p.add_argument(
        "--as-of", dest="as_of", help="reference date YYYY-MM-DD for tenure (default: latest enrolment in the file)"
    )
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    add_value_options(p, "the model's")


def run(args: argparse.Namespace) -> int:
    """Write each input customer's segment."""
    from pipeline.data.export import check_output_path, write_table
    from pipeline.segmentation.training import load_dataset, score, train, validate_for_scoring
    from pipeline.store.artifacts import load_artifact

    settings = settings_from_args(args)
    check_output_path(args.out)
    if args.model_dir is not None:
        # Only a model signed with this installation's key is unpickled, wherever its folder is.
        artifact = load_artifact(args.model_dir, settings)
    else:
        base = Settings(models_dir=args.models_dir, secret_file=settings.secret_file)
        artifact = train(load_dataset(None, base), base).artifact
    dataset = load_dataset(args.data, settings)
    validate_for_scoring(dataset, artifact.manifest)
    scored = score(artifact, dataset, value_overrides(args))
    write_table(scored, args.out)
    counts = scored["Segment_Name"].value_counts()
    print(f"wrote {len(scored):,} customers to {args.out} using {artifact.artifact_id}")
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
