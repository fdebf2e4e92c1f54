"""Reading for the Spark engine: a marketing table's files, cleaned and engineered into one row per customer.

:func:`load_customers` is what :mod:`pipeline.engines.spark` trains on and
:mod:`pipeline.engines.spark_score` scores: the same files (CSV/TSV or
Parquet; one file or a folder of part files), rules and features as the
default engine's reader (:func:`pipeline.features.definitions.engineer_features`),
computed in Spark SQL.  pyspark is imported inside the functions only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import reduce
from operator import add
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.data.coerce import parse_dates
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.data.reading import require_columns
from pipeline.errors import DataError
from pipeline.features.definitions import (
    CAMPAIGN_COLUMNS,
    DATE_COLUMN,
    ID_COLUMN,
    NUMERIC_COLUMNS,
    PURCHASE_COLUMNS,
    REQUIRED_COLUMNS,
    SPEND_COLUMNS,
)
from pipeline.store.artifacts import sha256_file

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession


#: Rows per partition aimed at once the data is read (fewer partitions are merged).
ROWS_PER_PARTITION = 500_000
#: Sums of source columns, as in :func:`pipeline.features.definitions.engineer_features`.
SUMMED_FEATURES: dict[str, tuple[str, ...]] = {
    "Customer_Value": SPEND_COLUMNS,
    "Purchase_Frequency": PURCHASE_COLUMNS,
    "Campaign_Response": CAMPAIGN_COLUMNS,
}
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def source_files(path: Path) -> list[Path]:
    """The data files of ``path``: itself, or the visible files of a folder (Spark's part files).

    Raises
    ------
    DataError
        Missing path, empty folder, or files of mixed or unknown kinds.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"File not found: {path}")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and p.name[0] not in "._")
    if not files:
        raise DataError(f"{path} holds no data files.")
    kinds = {".parquet" if p.suffix.lower() == ".parquet" else p.suffix.lower() for p in files}
    if len(kinds) > 1 or not kinds <= {".parquet", *_TEXT_SUFFIXES}:
        raise DataError(
            f"{path}: the spark engine reads CSV/TSV or Parquet files of one kind; found {', '.join(sorted(kinds))}."
        )
    return files


def source_hash(files: list[Path]) -> str:
    """SHA-256 of the data: of the file's bytes (as the default engine), or of each file's name and hash."""
    if len(files) == 1:
        return sha256_file(files[0])
    lines = "".join(f"{p.name}:{sha256_file(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def read_source(spark: SparkSession, files: list[Path]) -> SparkFrame:
    """The rows of ``files`` (text read as strings; the separator is the header line's tab, semicolon or comma)."""
    paths = [str(p) for p in files]
    if files[0].suffix.lower() == ".parquet":
        return spark.read.parquet(*paths)
    with open(files[0], encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    sep = "\t" if "\t" in header else ";" if header.count(";") > header.count(",") else ","
    return spark.read.csv(paths, header=True, sep=sep, inferSchema=False)


def clean_rows(raw: SparkFrame, name: str) -> tuple[SparkFrame, DataQualityReport]:
    """Blank and duplicate rows dropped, numbers coerced, enrolment dates parsed.

    Dates are parsed by :func:`pipeline.data.coerce.parse_dates` (the default
    engine's rule) on the distinct date texts, joined back to the rows.

    Raises
    ------
    DataError
        Missing required columns, no rows, or an unreadable date column.
    """
    from pyspark.sql import functions as F

    require_columns(pd.DataFrame(columns=raw.columns), REQUIRED_COLUMNS, name)
    rows_read = raw.count()
    text = [F.trim(F.col(f"`{c}`").cast("string")) for c in raw.columns]
    blank = reduce(lambda a, b: a & b, [(t.isNull() | (t == "")) for t in text])
    kept = raw.filter(~blank).dropDuplicates()
    numbers = [c for c in NUMERIC_COLUMNS if c in raw.columns]
    kept = kept.select(
        *[
            F.expr(f"try_cast(`{c}` as double)").alias(c) if c in numbers else F.col(f"`{c}`")
            for c in raw.columns
            if c != DATE_COLUMN
        ],
        F.trim(F.col(DATE_COLUMN).cast("string")).alias("_date_text"),
    )
    distinct = kept.select("_date_text").distinct().toPandas()["_date_text"]
    parsed, _fmt = parse_dates(distinct)
    dates = pd.DataFrame({"_date_text": distinct.astype(object), "Enrolled": parsed.dt.date.astype(object)})
    dates = dates[dates["_date_text"].notna()]
    lookup = kept.sparkSession.createDataFrame(dates, "_date_text string, Enrolled date")
    kept = kept.join(F.broadcast(lookup), on="_date_text", how="left").drop("_date_text")
    # Few tasks for small data (a shuffle leaves spark.sql.shuffle.partitions, 200 by default, and each
    # KMeans iteration runs one task per partition); big data keeps about 500,000 rows per partition.
    wanted = max(kept.sparkSession.sparkContext.defaultParallelism, rows_read // ROWS_PER_PARTITION + 1)
    if kept.rdd.getNumPartitions() > wanted:
        kept = kept.coalesce(wanted)
    kept = kept.cache()
    counts = kept.agg(F.count(F.lit(1)).alias("n"), F.count("Enrolled").alias("dated")).first()
    n, dated = int(counts["n"]), int(counts["dated"])
    if n == 0:
        raise DataError(f"{name} has no customer rows.")
    if dated < max(1, n // 2):
        raise DataError(
            f"{name}: the date column {DATE_COLUMN} cannot be parsed as dates. Use dd-mm-yyyy or yyyy-mm-dd."
        )
    dropped = rows_read - n
    items = [
        QualityItem("blank_or_duplicate_rows", "dropped", dropped, f"{dropped:,} blank or duplicate rows dropped.")
    ]
    if dated < n:
        items.append(
            QualityItem(
                "date_unparsed",
                "imputed",
                n - dated,
                f"{DATE_COLUMN}: {n - dated:,} dates missing or unreadable; tenure imputed with the median.",
                column=DATE_COLUMN,
            )
        )
    return kept, DataQualityReport(rows_read=rows_read, rows_kept=n).with_items(*items)


def latest_enrolment(rows: SparkFrame) -> dt.date:
    """The default as-of date: the latest enrolment (as :func:`pipeline.features.definitions.default_as_of`)."""
    from pyspark.sql import functions as F

    latest = rows.agg(F.max("Enrolled")).first()[0]
    return latest if latest is not None else dt.date.today()


def customer_rows(rows: SparkFrame, as_of: dt.date) -> SparkFrame:
    """``ID``, the behavioural features, ``Recency`` and the profile attributes of each customer.

    The same definitions as :func:`pipeline.features.definitions.engineer_features`
    and :func:`~pipeline.features.definitions.profile_attributes`: a sum is
    null when any of its parts is; tenure is days to ``as_of`` / 365.25, at least 0.
    """
    from pyspark.sql import functions as F

    have = set(rows.columns)
    cols = [
        F.col(ID_COLUMN).cast("string").alias(ID_COLUMN)
        if ID_COLUMN in have
        else F.lit(None).cast("string").alias(ID_COLUMN)
    ]
    cols += [reduce(add, [F.col(c) for c in parts]).alias(f) for f, parts in SUMMED_FEATURES.items()]
    days = F.datediff(F.lit(as_of), F.col("Enrolled"))
    cols.append(F.greatest(days / 365.25, F.lit(0.0)).alias("Customer_For_Years"))
    profile = {
        "Age": (as_of.year - F.col("Year_Birth"), {"Year_Birth"}),
        "Income": (F.col("Income"), {"Income"}),
        "Children": (F.col("Kidhome") + F.col("Teenhome"), {"Kidhome", "Teenhome"}),
        "Recency": (F.col("Recency"), {"Recency"}),
        "Web_Visits": (F.col("NumWebVisitsMonth"), {"NumWebVisitsMonth"}),
        "Complain": (F.col("Complain"), {"Complain"}),
    }
    cols += [expr.cast("double").alias(c) for c, (expr, needs) in profile.items() if needs <= have]
    cols += [
        F.coalesce(F.col(c).cast("string"), F.lit("Unknown")).alias(c)
        for c in ("Education", "Marital_Status")
        if c in have
    ]
    cols.append(F.col("Enrolled"))
    return rows.select(*cols)


def load_customers(
    spark: SparkSession, path: Path, as_of: dt.date | None
) -> tuple[SparkFrame, DataQualityReport, dt.date, str, str]:
    """Read, clean and engineer ``path``: (customers, report, as-of date, name, data hash)."""
    files = source_files(path)
    name = Path(path).name
    rows, report = clean_rows(read_source(spark, files), name)
    as_of = as_of or latest_enrolment(rows)
    return customer_rows(rows, as_of), report, as_of, name, source_hash(files)
