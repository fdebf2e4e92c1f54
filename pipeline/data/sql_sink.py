"""Writing scored customers (segment assignments) to a database table.

One row per customer: ``customer_id``, ``segment_key``, ``segment_name``,
``confidence``, ``p_alive``, ``expected_clv`` (NULL where not measured),
``model_version``, ``as_of`` and ``scored_at``.  :func:`write_assignments`
works in ONE transaction: create the table if absent, delete the rows of the
same model version and as-of date (so a re-run replaces them), insert the new
rows.  Any failure rolls everything back: the table is as it was.  Rows of
other versions or dates stay, so the table keeps the history of assignments.

How rows travel (1,000,000 rows measured by ``python -m benchmarks.bench_database``)
-----------------------------------------------------------------------------------
* PostgreSQL: ``COPY ... FROM STDIN`` (CSV) through psycopg on the
  transaction's own connection: one statement instead of a million inserts.
* DuckDB: the frame is registered as a view and copied with one
  ``INSERT ... SELECT`` (DuckDB reads the pandas columns directly).
* SQLite: ``executemany`` of the insert (sqlite3 runs it in C).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.data.sql import _TABLE_PATTERN, create_engine_for, scrub
from pipeline.errors import DataError
from pipeline.features.definitions import ID_COLUMN

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import URL, Connection

#: Columns of an assignments table, in order.
ASSIGNMENT_COLUMNS = (
    "customer_id",
    "segment_key",
    "segment_name",
    "confidence",
    "p_alive",
    "expected_clv",
    "model_version",
    "as_of",
    "scored_at",
)
_NUMBERS = ("confidence", "p_alive", "expected_clv")
_REQUIRED_TEXT = ("customer_id", "segment_key", "segment_name", "model_version")


@dataclasses.dataclass(frozen=True)
class WriteResult:
    """What :func:`write_assignments` did.

    Attributes
    ----------
    table : str
        The table written.
    url : str
        Where (password hidden).
    rows_written : int
        Rows inserted.
    rows_replaced : int
        Rows of the same model version and as-of date deleted first (0 on a first run).
    created : bool
        Whether the table was created.
    """

    table: str
    url: str
    rows_written: int
    rows_replaced: int
    created: bool


def assignment_rows(
    scored: pd.DataFrame, model_version: str, as_of: dt.date, scored_at: dt.datetime | None = None
) -> pd.DataFrame:
    """The rows to write for a segment-assignments table (:mod:`pipeline.segmentation.assignments`).

    Parameters
    ----------
    scored : DataFrame
        ``ID``, ``Segment_Key``, ``Segment_Name``, ``p_alive``, ``expected_clv``
        and, when present, ``Assignment_Confidence`` (else NULL: not measured).
    model_version : str
        The artifact id of the model.
    as_of : date
        The reference date of the scoring.
    scored_at : datetime or None
        When (UTC); default now.

    Returns
    -------
    DataFrame
        The :data:`ASSIGNMENT_COLUMNS`.
    """
    n = len(scored)
    when = scored_at or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def numbers(col: str) -> np.ndarray:
        if col not in scored:
            return np.full(n, np.nan)
        return pd.to_numeric(scored[col], errors="coerce").to_numpy(dtype=float)

    return pd.DataFrame(
        {
            "customer_id": scored[ID_COLUMN].astype(str).to_numpy() if n else np.array([], dtype=object),
            "segment_key": scored["Segment_Key"].astype(str).to_numpy() if n else np.array([], dtype=object),
            "segment_name": scored["Segment_Name"].astype(str).to_numpy() if n else np.array([], dtype=object),
            "confidence": numbers("Assignment_Confidence"),
            "p_alive": numbers("p_alive"),
            "expected_clv": numbers("expected_clv"),
            "model_version": np.full(n, str(model_version), dtype=object),
            "as_of": np.full(n, as_of, dtype=object),
            "scored_at": np.full(n, when, dtype=object),
        }
    )


def check_rows(rows: pd.DataFrame) -> None:
    """Refuse rows that cannot be written whole.

    Raises
    ------
    DataError
        Missing columns, no rows, an empty customer id, segment or model
        version, an infinite number, one model version / as-of date not shared
        by every row, or a customer id given twice.
    """
    missing = [c for c in ASSIGNMENT_COLUMNS if c not in rows]
    if missing:
        raise DataError(f"Assignments lack the column(s) {', '.join(missing)}.")
    if rows.empty:
        raise DataError("There are no assignments to write.")
    for col in _REQUIRED_TEXT:
        values = rows[col]
        blank = values.isna() | (values.astype(str).str.strip() == "")
        if blank.any():
            raise DataError(f"{int(blank.sum()):,} assignment(s) have no {col.replace('_', ' ')}; nothing was written.")
    for col in _NUMBERS:
        values = pd.to_numeric(rows[col], errors="coerce")
        if values.isna().sum() > rows[col].isna().sum() or np.isinf(values.to_numpy(dtype=float)).any():
            raise DataError(f"{col} holds values that are not finite numbers; nothing was written.")
    for col in ("model_version", "as_of"):
        if rows[col].nunique(dropna=False) != 1:
            raise DataError(f"All assignments written at once must share one {col.replace('_', ' ')}.")
    if rows["as_of"].isna().any() or not isinstance(rows["as_of"].iloc[0], dt.date):
        raise DataError("The as-of date of the assignments is missing.")
    dupes = rows["customer_id"].duplicated()
    if dupes.any():
        first = rows["customer_id"][dupes].iloc[0]
        raise DataError(
            f"Customer id {first} appears {int((rows['customer_id'] == first).sum())} times; nothing was written."
        )


def assignments_table(name: str) -> Table:
    """The SQLAlchemy table of assignments named ``name`` (``table`` or ``schema.table``)."""
    from sqlalchemy import Column, Date, DateTime, Double, Index, MetaData, Table, Text

    schema, _, table = name.rpartition(".")
    meta = MetaData(schema=schema or None)
    return Table(
        table,
        meta,
        Column("customer_id", Text, nullable=False),
        Column("segment_key", Text, nullable=False),
        Column("segment_name", Text, nullable=False),
        Column("confidence", Double),
        Column("p_alive", Double),
        Column("expected_clv", Double),
        Column("model_version", Text, nullable=False),
        Column("as_of", Date, nullable=False),
        Column("scored_at", DateTime(timezone=True), nullable=False),
        Index(f"ix_{table}_version_as_of", "model_version", "as_of"),
    )


def _existing_columns(conn: Connection, table: Table) -> list[str] | None:
    from sqlalchemy import inspect, select, text

    inspector = inspect(conn)
    if not inspector.has_table(table.name, schema=table.schema):
        return None
    # the column names of an empty read: DuckDB's inspector needs pg_catalog tables DuckDB 2 lacks
    result = conn.execute(select(text("*")).select_from(table).limit(0))
    try:
        return list(result.keys())
    finally:
        result.close()


def _insert_postgresql(conn: Connection, table: Table, rows: pd.DataFrame, chunk_rows: int) -> None:
    cursor = conn.connection.driver_connection.cursor()
    name = conn.dialect.identifier_preparer.format_table(table)
    columns = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in ASSIGNMENT_COLUMNS)
    frame = rows.loc[:, list(ASSIGNMENT_COLUMNS)]
    with cursor.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, len(frame), chunk_rows):
            buf = io.StringIO()
            frame.iloc[start : start + chunk_rows].to_csv(buf, header=False, index=False, float_format="%.17g")
            copy.write(buf.getvalue().encode())


def _insert_duckdb(conn: Connection, table: Table, rows: pd.DataFrame) -> None:
    raw = conn.connection.driver_connection
    name = conn.dialect.identifier_preparer.format_table(table)
    columns = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in ASSIGNMENT_COLUMNS)
    frame = rows.loc[:, list(ASSIGNMENT_COLUMNS)].copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["scored_at"] = pd.to_datetime(frame["scored_at"], utc=True)
    raw.register("segments_assignments_rows", frame)
    try:
        raw.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM segments_assignments_rows")
    finally:
        raw.unregister("segments_assignments_rows")


def _insert_generic(conn: Connection, table: Table, rows: pd.DataFrame, chunk_rows: int) -> None:
    frame = rows.loc[:, list(ASSIGNMENT_COLUMNS)]
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start : start + chunk_rows]
        records = [
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in zip(ASSIGNMENT_COLUMNS, row, strict=True)
            }
            for row in part.itertuples(index=False, name=None)
        ]
        conn.execute(table.insert(), records)


def write_assignments(
    url: URL, table_name: str, rows: pd.DataFrame, chunk_rows: int = 100_000, check: bool = True
) -> WriteResult:
    """Write ``rows`` (see :func:`assignment_rows`) to ``table_name`` in one transaction.

    Parameters
    ----------
    url : sqlalchemy URL
        Where (:func:`pipeline.data.sql.parse_url`).
    table_name : str
        ``table`` or ``schema.table``; created if absent.
    rows : DataFrame
        One model version and as-of date.
    chunk_rows : int
        Rows per insert batch.
    check : bool
        Refuse bad rows before connecting (:func:`check_rows`); only tests
        turn it off, to show the database's own refusal rolls back too.

    Raises
    ------
    DataError
        Bad rows, a bad table name, a table of that name with other columns,
        or any failure of the database; nothing is written then.
    """
    from sqlalchemy import and_, delete, func, select
    from sqlalchemy.exc import SQLAlchemyError

    if not _TABLE_PATTERN.match(table_name):
        raise DataError(f"Not a table name: {table_name!r} (letters, digits and _; optionally schema.table).")
    if check:
        check_rows(rows)
    safe = url.render_as_string(hide_password=True)
    table = assignments_table(table_name)
    version, as_of = str(rows["model_version"].iloc[0]), rows["as_of"].iloc[0]
    backend = url.get_backend_name()
    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            existing = _existing_columns(conn, table)
            if existing is not None:
                lacking = [c for c in ASSIGNMENT_COLUMNS if c not in existing]
                if lacking:
                    raise DataError(
                        f"Table {table_name} in {safe} exists without the assignment column(s) "
                        f"{', '.join(lacking)}; choose another --out-table."
                    )
            else:
                table.create(conn)
            where = and_(table.c.model_version == version, table.c.as_of == as_of)
            replaced = 0
            if existing is not None:
                replaced = int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())
                conn.execute(delete(table).where(where))
            if backend == "postgresql":
                _insert_postgresql(conn, table, rows, chunk_rows)
            elif backend == "duckdb":
                _insert_duckdb(conn, table, rows)
            else:
                _insert_generic(conn, table, rows, chunk_rows)
    except DataError:
        raise
    except (SQLAlchemyError, OSError) as err:
        raise DataError(f"Nothing was written to {table_name} in {safe}: {scrub(_message(err), url)}") from None
    except Exception as err:  # driver errors raised outside SQLAlchemy (COPY, DuckDB's own API)
        if type(err).__module__.split(".")[0] not in ("psycopg", "duckdb", "_duckdb", "sqlite3"):
            raise
        raise DataError(f"Nothing was written to {table_name} in {safe}: {scrub(str(err), url)}") from None
    finally:
        engine.dispose()
    return WriteResult(
        table=table_name, url=safe, rows_written=len(rows), rows_replaced=replaced, created=existing is None
    )


def _message(err: BaseException) -> str:
    orig: Any = getattr(err, "orig", None)
    return str(orig if orig is not None else err)


def sink_url(out: str | os.PathLike[str], out_table: str | None) -> URL | None:
    """The database ``score --out`` names, or None for a file.

    Raises
    ------
    DataError
        A database without ``--out-table``, or ``--out-table`` with a file.
    """
    from pipeline.data.sql import is_database, parse_url

    if not is_database(out):
        if out_table is not None:
            raise DataError("--out-table writes to a database: give --out a database URL or db:NAME.")
        return None
    if out_table is None:
        raise DataError("Writing to a database needs --out-table NAME.")
    if not _TABLE_PATTERN.match(out_table):
        raise DataError(f"Not a table name: {out_table!r} (letters, digits and _; optionally schema.table).")
    return parse_url(str(out))


def write_scored(url: URL, table_name: str, scored: pd.DataFrame, model_version: str, as_of: dt.date) -> str:
    """Write a segment-assignments table to ``table_name``; the one line to print."""
    result = write_assignments(url, table_name, assignment_rows(scored, model_version, as_of))
    replaced = (
        f", replacing {result.rows_replaced:,} of the same model version and as-of date" if result.rows_replaced else ""
    )
    created = " (table created)" if result.created else ""
    return (
        f"wrote {result.rows_written:,} customers to table {result.table}{created} in {result.url} "
        f"using {model_version}, as of {as_of.isoformat()}{replaced}"
    )
