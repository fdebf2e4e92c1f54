"""``compare``: compare models, sweep k, measure stability and recommend one."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from pipeline.segmentation import registry

from .options import add_settings_options, dataset_from_args, settings_from_args

NAME = "compare"
HELP = "compare models, sweep k, measure stability, recommend one"


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``compare``."""
    add_settings_options(parser)
    parser.add_argument("--force", action="store_true", help="recompute even if a cached comparison exists")


def run(args: argparse.Namespace) -> int:
    """Run (or reuse) the comparison and print it."""
    from pipeline.segmentation.compare import comparison_path, load_or_run_comparison
    from pipeline.segmentation.training import settings_for_dataset

    dataset = dataset_from_args(args, settings_from_args(args))
    settings = settings_for_dataset(dataset, settings_from_args(args))
    result, cached = load_or_run_comparison(dataset, settings, force=args.force)
    payload = {**result.to_dict(), "cached": cached, "cache_path": str(comparison_path(dataset, settings))}
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(comparison_text(payload))
    return 0


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def comparison_text(result: Mapping[str, Any]) -> str:
    """The human-readable comparison printed by ``python -m pipeline compare``."""
    s = result["settings"]
    lines = [
        f"Model comparison on {result['data_name']}: {', '.join(s['features'])} ({s['scaling']} scaling), chosen k = {s['k']}",
        result["sampled"]["message"],
        result["sampled"]["how_measured"],
        "",
        f"{'model':<22}{'k':>3}{'segs':>5}{'silhouette':>11}{'DB':>7}{'CH':>9}{'noise':>7}{'smallest':>9}"
        f"{'stability':>14}{'fit s':>7}{'rows':>9}  prediction",
    ]
    for m in result["models"]:
        stab = "n/a" if m["stability_mean"] is None else f"{m['stability_mean']:.2f} ± {m['stability_std']:.2f}"
        lines.append(
            f"{m['label']:<22}{m['k'] if m['k'] is not None else '-':>3}{m['n_segments']:>5}"
            f"{_num(m['silhouette'], '.3f'):>11}{_num(m['davies_bouldin'], '.2f'):>7}"
            f"{_num(m['calinski_harabasz'], ',.0f'):>9}{_num(m['noise_share'], '.1%'):>7}"
            f"{_num(m['min_segment_share'], '.1%'):>9}{stab:>14}{m['fit_seconds']:>7.2f}{m['sampled_rows']:>9,}"
            f"  {m['live_prediction']}"
        )
    lines += ["", "k sweep (silhouette; KMeans also inertia, Davies–Bouldin, Calinski–Harabasz, stability):"]
    swept = [n for n in registry.sweep_models() if n != "kmeans"]
    shorts = [registry.spec(n).short for n in swept]
    other_rows = {r["fit_rows"] for r in result["k_sweep"] if r["model"] in swept}
    if other_rows and max(other_rows) < result["sampled"]["rows_used"]:
        lines.append(
            f"({', '.join(shorts[:-1])} and {shorts[-1]} columns on the {max(other_rows):,}-customer stability sample)"
        )
    lines.append(
        f"{'k':>3}{'inertia':>11}{'KMeans':>8}{'DB':>7}{'CH':>9}{'stability':>11}" + "".join(f"{h:>8}" for h in shorts)
    )
    by = {(r["model"], r["k"]): r for r in result["k_sweep"]}
    for k in sorted({r["k"] for r in result["k_sweep"]}):
        km = by.get(("kmeans", k), {})
        mark = " ← elbow" if k == result["elbow_k"] else ""
        lines.append(
            f"{k:>3}{_num(km.get('inertia'), ',.0f'):>11}{_num(km.get('silhouette'), '.3f'):>8}"
            f"{_num(km.get('davies_bouldin'), '.2f'):>7}{_num(km.get('calinski_harabasz'), ',.0f'):>9}"
            f"{_num(km.get('stability_mean'), '.2f'):>11}"
            + "".join(f"{_num(by.get((n, k), {}).get('silhouette'), '.3f'):>8}" for n in swept)
            + mark
        )
    lines += ["", f"Scaling variants (KMeans, k = {s['k']}; silhouettes are in each scaling's own space):"]
    lines.append(f"{'scaling':<30}{'silhouette':>11}{'DB':>7}{'stability':>14}{'smallest':>9}{'ARI vs compared':>17}")
    for v in result["scaling_variants"]:
        stab = f"{v['stability_mean']:.2f} ± {v['stability_std']:.2f}"
        lines.append(
            f"{v['label']:<30}{_num(v['silhouette'], '.3f'):>11}{_num(v['davies_bouldin'], '.2f'):>7}{stab:>14}"
            f"{_num(v['min_segment_share'], '.1%'):>9}{v['agreement_with_compared']:>17.2f}"
        )
    kd = result["kdistance"]
    lines += [
        "",
        f"DBSCAN eps = {kd['eps']:.3f} (knee of the {kd['min_samples']}-distance curve over {kd['rows']:,} customers)",
    ]
    rec = result["recommendation"]
    lines += ["", f"Recommendation: {rec['reason']}"]
    if rec["command"]:
        lines.append(f"Train it with: {rec['command']}")
    wrapped = [m["label"] for m in result["models"] if not m["predicts_natively"]]
    if wrapped:
        lines.append(
            f"Note: {', '.join(wrapped)} cannot score new customers themselves; they are offered for live "
            "prediction only through the nearest-centroid wrapper."
        )
    cache = "reused from cache" if result.get("cached") else f"computed in {result['seconds']:.1f} s"
    lines += ["", f"Comparison {cache}" + (f" ({result['cache_path']})" if result.get("cache_path") else "")]
    return "\n".join(lines)
