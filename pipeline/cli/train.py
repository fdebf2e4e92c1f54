"""``train``: train a segmentation (or reuse the cached one) and print its summary."""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.engines import DEFAULT_ENGINE, add_engine_options, engine
from pipeline.errors import SegmentationError

from .options import add_settings_options, add_value_options, dataset_from_args, emit, settings_from_args

NAME = "train"
HELP = "train a segmentation (or reuse the cached one)"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``train``."""
    add_settings_options(p)
    add_value_options(p)
    p.add_argument("--force", action="store_true", help="retrain even if a cached artifact exists")
    add_engine_options(p)


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


def silhouette_line(s: dict[str, Any]) -> str:
    """The silhouette, and the sample it was computed on when that is not every customer."""
    if s["silhouette"] is None:
        return "silhouette n/a"
    rows = (s.get("metrics") or {}).get("silhouette_rows")
    n = s["n_customers"]
    if rows and rows < n:
        return f"silhouette {s['silhouette']:.3f} (on a sample of {rows:,} of {n:,} customers, stratified by segment)"
    return f"silhouette {s['silhouette']:.3f}"


def restart_line(s: dict[str, Any]) -> list[str]:
    """How KMeans chose its start when its restarts ran on a sample of the customers (none otherwise)."""
    rows = (s.get("metrics") or {}).get("restart_rows")
    n = s["n_customers"]
    if not rows or rows >= n:
        return []
    return [
        f"KMeans restarts on a random sample of {rows:,} of {n:,} customers; "
        "the best one refined on all of them (labels, centres and inertia are of all customers)"
    ]


def train_text(s: dict[str, Any]) -> str:
    """Human-readable ``train`` summary."""
    art = s["artifact"]
    width = max([32, *(len(seg["name"]) + 2 for seg in s["segments"])])
    lines = [
        f"{s['n_customers']:,} customers, {s['model']} k={s['k']} on {', '.join(s['features'])} ({s['scaling']} scaling)",
        silhouette_line(s),
        *restart_line(s),
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


def run(args: argparse.Namespace) -> int:
    """Train (or reuse) an artifact and print its summary."""
    from pipeline.segmentation.training import settings_for_dataset, summary, train

    settings = settings_from_args(args)
    if args.engine != DEFAULT_ENGINE:
        if args.mapping is not None or getattr(args, "table", None) or getattr(args, "query", None):
            raise SegmentationError(
                f"--engine {args.engine} reads a marketing table file or folder (no --mapping, no database)."
            )
        result = engine(args.engine).load().train(args.data, settings, master=args.spark_master, force=args.force)
        emit(args, summary(result), train_text)
        return 0
    dataset = dataset_from_args(args, settings)
    result = train(dataset, settings_for_dataset(dataset, settings), force=args.force)
    emit(args, summary(result), train_text)
    return 0
