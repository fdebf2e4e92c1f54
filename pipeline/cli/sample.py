"""``sample``: write the built-in sample data set (and its ground truth)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "sample"
HELP = "write the built-in sample data set"


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``sample``."""
    p.add_argument("--rows", type=int, default=2240)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--truth", type=Path, help="also write each customer's latent type (ground truth)")
    p.add_argument("--comma", action="store_true", help="comma-separated (default: tab, like the public file)")


def run(args: argparse.Namespace) -> int:
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
