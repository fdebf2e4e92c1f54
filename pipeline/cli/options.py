"""Options and helpers shared by the sub-commands of ``python -m pipeline``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import DEFAULT_FEATURES, SCALINGS, Settings, parse_date
from pipeline.errors import DataError
from pipeline.segmentation import registry

if TYPE_CHECKING:
    from pipeline.data.sql import DatabaseSource
    from pipeline.segmentation.training import Dataset


def add_settings_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that trains or compares."""
    p.add_argument(
        "--data",
        type=data_argument,
        help="customer table or transaction log (.csv/.tsv/.txt/.xlsx/.parquet), or a database URL "
        "(sqlite:///FILE, duckdb:///FILE, postgresql://USER@HOST/DB) or db:NAME with --table or --query; "
        "default: built-in sample",
    )
    add_database_options(p)
    p.add_argument(
        "--mapping",
        type=Path,
        help="column mapping JSON (see `mapping`); default: detect the kind of input and map it automatically",
    )
    p.add_argument(
        "--features",
        nargs="+",
        metavar="COL",
        help="cluster on exactly these features: behavioural names (Customer_Value, ...) or numeric columns of a "
        "customer table (a text column is one-hot encoded); default: the data's own features",
    )
    p.add_argument("--k", type=int, default=4, help="number of segments (default 4)")
    p.add_argument(
        "--model", choices=registry.model_names(), default="kmeans", help="clustering model (default kmeans)"
    )
    p.add_argument("--scaling", choices=SCALINGS, default="standard", help="preprocessing (default standard)")
    p.add_argument("--as-of", dest="as_of", help="reference date YYYY-MM-DD for tenure (default: latest enrolment)")
    p.add_argument("--seed", type=int, default=42, help="random_state (default 42)")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="artifact folder (default models/)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def data_argument(text: str) -> Path | str:
    """A ``--data`` value: a database URL or ``db:NAME`` stays text (a Path would fold ``//``), anything else is a Path."""
    from pipeline.data.sql import is_database

    return text if is_database(text) else Path(text)


def add_database_options(p: argparse.ArgumentParser) -> None:
    """``--table`` / ``--query``: what to read when ``--data`` is a database."""
    p.add_argument("--table", help="with a database --data: the table to read (NAME or SCHEMA.NAME)")
    p.add_argument("--query", help="with a database --data: a SELECT statement to read instead of a table")


def data_source(args: argparse.Namespace, option: str = "data") -> Path | DatabaseSource | None:
    """``--data`` as a file path, a database source (with ``--table``/``--query``), or None.

    Raises
    ------
    DataError
        ``--table``/``--query`` given without a database, or a bad database source.
    """
    from pipeline.data.sql import database_source

    value = getattr(args, option, None)
    table, query = getattr(args, "table", None), getattr(args, "query", None)
    if isinstance(value, str):
        return database_source(value, table, query)
    if table is not None or query is not None:
        raise DataError("--table and --query read from a database: give --data a database URL or db:NAME.")
    return value


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
    features = getattr(args, "features", None)
    return Settings(
        features=tuple(features) if features else DEFAULT_FEATURES,
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

    return load_dataset(data_source(args), settings, getattr(args, "mapping", None))


def emit(args: argparse.Namespace, payload: dict[str, Any], text: Callable[[dict[str, Any]], str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(text(payload))
