"""``report``: write the executive report (HTML, PDF or PowerPoint) of a data set or model version."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Settings, parse_date

if TYPE_CHECKING:
    from pipeline.store.artifacts import LoadedArtifact

NAME = "report"
HELP = "write the executive report (.html, .pdf or .pptx) of a data set or a saved model version"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``report``."""
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--data", type=Path, help="customer table or transaction log to train on (or reuse); default: built-in sample"
    )
    source.add_argument(
        "--model", dest="model_id", metavar="ID", help="a saved model version: its id (folder name) in --models-dir"
    )
    p.add_argument("--mapping", type=Path, help="column mapping JSON for --data (see `mapping`)")
    p.add_argument("--k", type=int, default=4, help="number of segments when training (default 4)")
    p.add_argument("--as-of", dest="as_of", help="reference date YYYY-MM-DD when training (default: from the data)")
    p.add_argument("--seed", type=int, default=42, help="random_state when training (default 42)")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="model versions folder (default models/)")
    p.add_argument("--out", type=Path, required=True, help="the report file: .html, .pdf or .pptx")
    p.add_argument("--brand-name", dest="brand_name", help="name shown on the title page (default: Customer segments)")
    p.add_argument("--logo", type=Path, help="logo for the title page: PNG or JPEG, at most 2 MB")


def artifact_for_args(args: argparse.Namespace, settings: Settings) -> LoadedArtifact:
    """The model version the report describes: ``--model ID`` or the one trained on ``--data`` (cached)."""
    from pipeline.errors import ArtifactError
    from pipeline.segmentation.training import load_dataset, settings_for_dataset, train
    from pipeline.store.artifacts import MANIFEST_NAME, load_artifact, valid_artifact_id

    if args.model_id is not None:
        model_id = str(args.model_id)
        if not valid_artifact_id(model_id) or Path(model_id).name != model_id:
            raise ArtifactError(
                f"{model_id!r} is not a model version id: give the folder name of a version in "
                f"{settings.models_dir} (letters, digits, '.', '_' and '-'; no path)."
            )
        directory = Path(settings.models_dir) / model_id
        if not (directory / MANIFEST_NAME).is_file():
            raise ArtifactError(f"There is no model version {model_id} in {settings.models_dir}.")
        return load_artifact(directory, settings)
    dataset = load_dataset(args.data, settings, args.mapping)
    return train(dataset, settings_for_dataset(dataset, settings)).artifact


def run(args: argparse.Namespace) -> int:
    """Write the report and say where."""
    import time

    from pipeline.reports import report_format, story_of, write_report
    from pipeline.reports.branding import check_brand_name, load_logo

    started = time.perf_counter()
    kind = report_format(args.out)
    brand = check_brand_name(args.brand_name)
    logo = load_logo(args.logo)
    if kind == ".pdf":
        from pipeline.reports.pdf import find_chromium

        find_chromium()
    settings = Settings(
        k=args.k,
        as_of=parse_date(args.as_of) if args.as_of else None,
        random_state=args.seed,
        models_dir=args.models_dir,
    )
    artifact = artifact_for_args(args, settings)
    story = story_of(artifact, brand)
    out = write_report(story, args.out, logo)
    print(
        f"wrote {out} ({out.stat().st_size / 1024:,.0f} KB): {story.n_segments} segments of "
        f"{story.n_customers:,} customers, model version {story.model_version}, "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0
