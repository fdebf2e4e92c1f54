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
    p.add_argument("--out", type=Path, required=True, help="file; with --periods: a folder, one table per period")
    p.add_argument(
        "--periods",
        type=int,
        help="write a series of N customer tables (quarter ends from 2014-03-31) with planted migrations; "
        "--rows customers in the first period, --truth each customer's type per period",
    )
    p.add_argument("--truth", type=Path, help="also write each customer's latent type (ground truth)")
    p.add_argument("--comma", action="store_true", help="comma-separated (default: tab, like the public file)")


def run(args: argparse.Namespace) -> int:
    """Write the built-in sample data (and optionally its ground truth)."""
    from pipeline.synthetic.customers import generate_sample, to_text_bytes

    if args.periods is not None:
        return _series(args)
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


def _series(args: argparse.Namespace) -> int:
    """``--periods N``: one customer table per period and the planted truth."""
    from pipeline.data.export import write_table
    from pipeline.errors import DataError
    from pipeline.synthetic.series import generate_series

    if not 2 <= args.periods <= 40:
        raise DataError(f"--periods must be 2 to 40, got {args.periods}.")
    if args.rows < 20:
        raise DataError(f"A series needs at least 20 customers (--rows), got {args.rows}.")
    tables, truth = generate_series(args.rows, args.periods, args.seed)
    for as_of, table in tables:
        write_table(table, args.out / f"customers_{as_of.isoformat()}.csv")
    if args.truth:
        write_table(truth, args.truth)
    print(
        f"wrote {len(tables)} customer tables ({tables[0][0].isoformat()} to {tables[-1][0].isoformat()}) to {args.out}"
        + (f" and the planted types to {args.truth}" if args.truth else "")
    )
    return 0
