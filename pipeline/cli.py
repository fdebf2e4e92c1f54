"""Command line: ``python -m pipeline {sample,train,score,mapping,compare} ...``.

User errors (bad files, bad options, rejected artifacts) print one line
``error: ...`` on stderr and exit with status 2; nothing already saved is
touched.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import MODEL_NAMES, SCALINGS, Settings, parse_date
from .errors import SegmentationError

if TYPE_CHECKING:
    from pipeline.segmentation.training import Dataset

Handler = Callable[[argparse.Namespace], int]


def add_settings_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that trains or compares."""
    p.add_argument(
        "--data",
        type=Path,
        help="customer table or transaction log (.csv/.tsv/.txt/.xlsx/.parquet); default: built-in sample",
    )
    p.add_argument(
        "--mapping",
        type=Path,
        help="column mapping JSON (see `mapping`); default: detect the kind of input and map it automatically",
    )
    p.add_argument("--k", type=int, default=4, help="number of segments (default 4)")
    p.add_argument("--model", choices=MODEL_NAMES, default="kmeans", help="clustering model (default kmeans)")
    p.add_argument("--scaling", choices=SCALINGS, default="standard", help="preprocessing (default standard)")
    p.add_argument("--as-of", dest="as_of", help="reference date YYYY-MM-DD for tenure (default: latest enrolment)")
    p.add_argument("--seed", type=int, default=42, help="random_state (default 42)")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def add_value_options(p: argparse.ArgumentParser, default: str = "12 months, margin 1, rate 0") -> None:
    """Options of the expected customer lifetime value (``train`` and ``score``); unset options are None."""
    p.add_argument(
        "--horizon-months",
        dest="horizon_months",
        type=int,
        help=f"future period of the expected lifetime value, in months (default: {default})",
    )
    p.add_argument("--margin", type=float, help="share of revenue kept as profit, above 0 and at most 1")
    p.add_argument(
        "--discount-rate",
        dest="discount_rate",
        type=float,
        help="annual discount rate of future purchases, e.g. 0.1 for 10%%",
    )


def value_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The lifetime-value options given on the command line, as :class:`Settings` fields."""
    given = {
        "horizon_months": getattr(args, "horizon_months", None),
        "margin": getattr(args, "margin", None),
        "annual_discount_rate": getattr(args, "discount_rate", None),
    }
    return {k: v for k, v in given.items() if v is not None}


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The :class:`Settings` described by parsed options."""
    return Settings(
        k=getattr(args, "k", 4),
        model=getattr(args, "model", "kmeans"),
        scaling=getattr(args, "scaling", "standard"),
        as_of=parse_date(args.as_of) if args.as_of else None,
        random_state=getattr(args, "seed", 42),
        models_dir=args.models_dir,
        **value_overrides(args),
    )


def dataset_from_args(args: argparse.Namespace, settings: Settings) -> Dataset:
    """The data set named by ``--data`` (and ``--mapping``), or the built-in sample."""
    from pipeline.segmentation.training import load_dataset

    return load_dataset(args.data, settings, getattr(args, "mapping", None))


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: Callable[[dict[str, Any]], str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(text(payload))


def cmd_sample(args: argparse.Namespace) -> int:
    """Write the built-in sample data (and optionally its ground truth)."""
    from pipeline.synthetic.customers import generate_sample, to_text_bytes

    table, truth = generate_sample(args.rows, args.seed)
    sep = "," if args.out.suffix.lower() == ".csv" and args.comma else "\t"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(to_text_bytes(table, sep))
    if args.truth:
        truth.to_csv(args.truth, header=True)
    print(
        f"wrote {len(truth):,} customers to {args.out}" + (f" and ground truth to {args.truth}" if args.truth else "")
    )
    return 0


def churn_lines(s: dict[str, Any], width: int = 32) -> list[str]:
    """The measured churn and lifetime value of a ``train`` summary, as text lines."""
    churn = s.get("churn_model")
    if not churn:
        return []
    if churn.get("model") is None:
        return ["", f"churn and lifetime value: {churn.get('reason')}"]
    lines = [
        "",
        f"churn (BG/NBD, {churn['n_customers_fitted']:,} customers, as of {churn['as_of']}); "
        f"likely inactive: p_alive < {churn['inactive_threshold']:g}; CLV over {churn['horizon_months']} months",
        f"{'segment':<{width}}{'inactive':>10}{'p_alive':>9}{'mean CLV':>11}{'at risk':>13}",
    ]

    def money(v: float | None) -> str:
        return "n/a" if v is None else f"{v:,.0f}"

    for seg in s["segments"]:
        c = seg.get("churn") or {}
        share = "n/a" if c.get("share_likely_inactive") is None else f"{c['share_likely_inactive']:.0%}"
        p = "n/a" if c.get("mean_p_alive") is None else f"{c['mean_p_alive']:.2f}"
        lines.append(
            f"{seg['name']:<{width}}{share:>10}{p:>9}{money(c.get('mean_clv')):>11}{money(c.get('value_at_risk')):>13}"
        )
    hold = churn.get("holdout")
    if hold:
        lines.append(
            f"holdout ({hold['kind']}, {hold['period']['start']} to {hold['period']['end']}): "
            f"{hold['predicted_total']:,.0f} purchase days predicted, {hold['actual_total']:,.0f} made"
        )
    lines.append(f"how measured: {churn['how_measured']}")
    lines += [f"  - {a}" for a in churn.get("assumptions", [])]
    return lines


def train_text(s: dict[str, Any]) -> str:
    """Human-readable ``train`` summary."""
    art = s["artifact"]
    width = max([32, *(len(seg["name"]) + 2 for seg in s["segments"])])
    lines = [
        f"{s['n_customers']:,} customers, {s['model']} k={s['k']} on {', '.join(s['features'])} ({s['scaling']} scaling)",
        f"silhouette {s['silhouette']:.3f}" if s["silhouette"] is not None else "silhouette n/a",
        f"artifact {art['id']} ({'reused from cache' if art['cached'] else 'trained'}) in {art['path']}",
        "",
        f"{'segment':<{width}}{'customers':>10}{'share':>8}{'value':>8}  evidence",
    ]
    for seg in s["segments"]:
        vs = f"{seg['value_share']:.0%}" if seg["value_share"] is not None else "n/a"
        lines.append(f"{seg['name']:<{width}}{seg['size']:>10,}{seg['share']:>8.0%}{vs:>8}  {seg['evidence']}")
    lines += churn_lines(s, width)
    dq = s["data_quality"]
    lines += [
        "",
        f"data quality: {dq['rows_read']:,} rows read, {dq['rows_dropped']:,} dropped, {dq['values_imputed']:,} values imputed, {dq['rows_flagged']:,} flagged",
    ]
    lines += [f"  - {i['message']}" for i in dq["items"]]
    if s.get("note"):
        lines.append(f"note: {s['note']}")
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or reuse) an artifact and print its summary."""
    from pipeline.segmentation.training import settings_for_dataset, summary, train

    settings = settings_from_args(args)
    dataset = dataset_from_args(args, settings)
    result = train(dataset, settings_for_dataset(dataset, settings), force=args.force)
    _emit(args, summary(result), train_text)
    return 0


def cmd_mapping(args: argparse.Namespace) -> int:
    """Write the suggested column mapping of a file, for the user to check and edit."""
    from pipeline.data.ingest import detect_kind, suggest_mapping, validate_table
    from pipeline.data.loading import file_bytes, read_table

    table = read_table(file_bytes(args.data), args.data.name)
    detection = detect_kind(table)
    kind = args.kind or detection.kind
    mapping = suggest_mapping(table, kind)
    validation = validate_table(table, mapping, Settings(k=args.k), args.data.name)
    mapping.save(args.out)
    payload = {
        "out": str(args.out),
        "detection": detection.to_dict(),
        "mapping": mapping.to_dict(),
        "n_customers": validation.n_customers,
        "features": list(validation.features),
        "problems": list(validation.problems),
    }
    _emit(args, payload, mapping_text)
    return 0


def mapping_text(p: dict[str, Any]) -> str:
    """Human-readable ``mapping`` summary."""
    det = p["detection"]
    lines = [f"{det['label']} ({det['confidence']} confidence)"]
    lines += [f"  - {e}" for e in det["evidence"]]
    lines.append(f"wrote the suggested {p['mapping']['kind']} mapping to {p['out']}; check it and edit it if needed")
    if p["problems"]:
        lines.append("with this mapping, training would be refused:")
        lines += [f"  - {m}" for m in p["problems"]]
    else:
        lines.append(f"with this mapping: {p['n_customers']:,} customers, features {', '.join(p['features'])}")
    lines.append(f"then: python -m pipeline train --data FILE --mapping {p['out']}")
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace) -> int:
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


def build_parser(
    extra: Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = (),
) -> argparse.ArgumentParser:
    """The argument parser; ``extra`` registers further sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="Customer segmentation pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write the built-in sample data set")
    p.add_argument("--rows", type=int, default=2240)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--truth", type=Path, help="also write each customer's latent type (ground truth)")
    p.add_argument("--comma", action="store_true", help="comma-separated (default: tab, like the public file)")
    p.set_defaults(handler=cmd_sample)

    p = sub.add_parser("train", help="train a segmentation (or reuse the cached one)")
    add_settings_options(p)
    add_value_options(p)
    p.add_argument("--force", action="store_true", help="retrain even if a cached artifact exists")
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("score", help="write the segment of every customer in a file")
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
    p.set_defaults(handler=cmd_score)

    p = sub.add_parser("mapping", help="write the suggested column mapping of a file (JSON, to edit)")
    p.add_argument("--data", type=Path, required=True, help="customer table or transaction log")
    p.add_argument("--out", type=Path, required=True, help="mapping JSON file to write")
    p.add_argument(
        "--kind", choices=("marketing", "customer_table", "transactions"), help="input kind (default: detected)"
    )
    p.add_argument("--k", type=int, default=4, help="number of segments the check assumes (default 4)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(handler=cmd_mapping)

    for name, help_text, configure, handler in extra:
        p = sub.add_parser(name, help=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def _extra_commands() -> list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]]:
    try:
        from pipeline.segmentation.compare import cli_command
    except ImportError:
        return []
    return [cli_command()]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser(_extra_commands())
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except SegmentationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing was saved.", file=sys.stderr)
        return 130
