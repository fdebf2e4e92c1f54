"""``score``: write the segment of every customer in a file with a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.engines import DEFAULT_ENGINE, add_engine_options, engine

from .options import (
    add_database_options,
    add_value_options,
    data_argument,
    data_source,
    settings_from_args,
    value_overrides,
)

if TYPE_CHECKING:
    from pipeline.segmentation.training import Dataset
    from pipeline.store.artifacts import LoadedArtifact

NAME = "score"
HELP = "write the segment of every customer in a file"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``score``."""
    p.add_argument(
        "--data", type=data_argument, required=True, help="customer table to score (a file, or a database URL)"
    )
    add_database_options(p)
    p.add_argument(
        "--model",
        dest="model_dir",
        type=Path,
        help="artifact folder (default: the newest model trained on this data in --models-dir, "
        "else the model of the built-in sample)",
    )
    p.add_argument(
        "--out",
        type=data_argument,
        required=True,
        help="segment assignments (.csv, .xlsx or .parquet, by suffix): ID, segment, confidence, p_alive, "
        "expected CLV, recommended action, model version, as-of date; or a database URL with --out-table",
    )
    p.add_argument("--out-table", dest="out_table", help="with a database --out: the assignments table to write")
    p.add_argument(
        "--as-of", dest="as_of", help="reference date YYYY-MM-DD for tenure (default: latest enrolment in the file)"
    )
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    add_value_options(p, "the model's")
    add_engine_options(p)


def choose_model(
    args: argparse.Namespace, settings: Settings, dataset: Dataset, given: LoadedArtifact | None = None
) -> tuple[LoadedArtifact, str]:
    """The model to score with and a sentence saying which it is.

    ``given`` (the ``--model`` artifact, loaded before the data so that a bad
    folder is reported first) if any; otherwise the newest model in ``--models-dir``
    trained on the same data (same data hash, as ``train`` caches it);
    otherwise the built-in sample's model, checked against the data so that
    a mismatch names the model tried and how to choose another.

    Raises
    ------
    DataError
        The data lacks what the chosen model needs.
    """
    from pipeline.errors import DataError
    from pipeline.segmentation.training import load_dataset, train, validate_for_scoring
    from pipeline.store.artifacts import list_manifests, load_artifact

    if given is not None:
        validate_for_scoring(dataset, given.manifest)
        return given, f"model {given.artifact_id}"
    same = [m for m in list_manifests(args.models_dir, settings) if m["data"].get("hash") == dataset.data_hash]
    if same:
        artifact = load_artifact(args.models_dir / str(same[0]["artifact_id"]), settings)
        validate_for_scoring(dataset, artifact.manifest)
        more = f"; {len(same) - 1} other(s) exist, choose one with --model" if len(same) > 1 else ""
        return artifact, f"model {artifact.artifact_id}, the newest trained on {dataset.name}{more}"
    base = Settings(models_dir=args.models_dir, secret_file=settings.secret_file)
    artifact = train(load_dataset(None, base), base).artifact
    try:
        validate_for_scoring(dataset, artifact.manifest)
    except DataError as err:
        raise DataError(
            f"No model trained on {dataset.name} was found in {args.models_dir}, so the built-in sample's model "
            f"{artifact.artifact_id} was tried: {err} Train one on this data "
            f"(python -m pipeline train --data {args.data}) or choose a model with --model <artifact folder>."
        ) from None
    return artifact, f"the built-in sample's model {artifact.artifact_id} (no model trained on {dataset.name} found)"


def run(args: argparse.Namespace) -> int:
    """Write each input customer's segment assignment; the format follows the suffix of ``--out``."""
    from pipeline.data.export import check_output_path, write_export
    from pipeline.data.sql_sink import sink_url, write_scored
    from pipeline.segmentation.assignments import assignment_export, score_assignments
    from pipeline.segmentation.training import load_dataset
    from pipeline.store.artifacts import load_artifact

    settings = settings_from_args(args)
    if args.engine != DEFAULT_ENGINE:
        scorer = engine(args.engine).load_scorer()
        n, used = scorer.score(args.data, args.out, settings, args.model_dir, args.spark_master)
        print(f"wrote {n:,} customers to {args.out} (Parquet, {args.engine} engine) using model {used.artifact_id}")
        return 0
    sink = sink_url(args.out, args.out_table)
    if sink is None:
        check_output_path(args.out)
    # Only a model signed with this installation's key is unpickled, wherever its folder is.
    given = load_artifact(args.model_dir, settings) if args.model_dir is not None else None
    dataset = load_dataset(data_source(args), settings)
    artifact, which = choose_model(args, settings, dataset, given)
    table = score_assignments(artifact, dataset, value_overrides(args))
    if sink is not None:
        print(write_scored(sink, args.out_table, table, artifact.artifact_id, dataset.as_of))
    else:
        write_export(assignment_export(artifact.manifest, table), args.out)
        print(f"wrote {len(table):,} customers to {args.out} using {which}")
    counts = table["Segment_Name"].value_counts()
    measured = int(table["p_alive"].notna().sum())
    print(
        f"p_alive and expected_clv: {measured:,} customers measured"
        if measured
        else f"p_alive and expected_clv: {table['Not_Measured_Reason'].iloc[0] if len(table) else 'no customers'}"
    )
    for name, n in counts.items():
        print(f"  {name}: {n:,}")
    return 0
