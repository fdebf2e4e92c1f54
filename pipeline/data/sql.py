"""Reading customer tables from SQL databases (SQLite, DuckDB, PostgreSQL).

A database source is a URL (or the name of a configured connection) plus
either a table name or a query.  :func:`read_source` turns it into the same
kind of raw frame :func:`pipeline.data.reading.read_table` makes of a file,
so everything after reading (input-kind detection, mapping, validation, the
data-quality report) is the path a file takes.

How rows travel
---------------
* DuckDB: the query's result comes out as Arrow record batches of
  ``chunk_rows`` rows (``to_arrow_reader``), converted to pandas.
* SQLite and PostgreSQL: the driver's cursor (a named, server-side cursor on
  PostgreSQL) fetched ``chunk_rows`` rows at a time, each chunk built into a
  frame; the driver never holds the whole result.

What a query may do
-------------------
A query typed in the dashboard comes from any visitor of a shared server, and
DuckDB and SQLite run inside the app's own process: a query there could read
or write any file the server can (DuckDB's ``read_csv``, ``read_blob``,
``COPY ... TO``; SQLite's ``ATTACH``), among them other owners' data and the
installation's signing key.  So every read (:func:`read_source`,
:func:`test_connection`) is *confined* by default, by the database's own
guards, not a scan of the SQL text:

* DuckDB: the file opened read-only with external access disabled and the
  configuration locked (:data:`DUCKDB_READ_ONLY`), and the statement must be
  one ``SELECT`` (DuckDB's own parser, :func:`check_one_select`);
* SQLite: ``PRAGMA query_only`` and an authorizer that allows only reading
  (:func:`sqlite_read_only`): no ``ATTACH``, no writes, no extension loading;
  the driver runs one statement at a time;
* PostgreSQL: a read-only transaction; the server enforces its own rights.

The command line reads with ``confined=False``: its user runs it on their own
account and can read those files anyway, and a DuckDB query over Parquet or
CSV files (``read_parquet('orders/*.parquet')``) is a documented use.  A
preview (``limit``) is stopped after :data:`PREVIEW_SECONDS`: it runs in the
web request, not the job runner.  Writing scores to a database
(:mod:`pipeline.data.sql_sink`) is the one path that opens a connection for
writing, to the URL its command names.

Passwords
---------
A URL's password is never printed, logged or kept in a name or a cache key:
every displayed URL is ``URL.render_as_string(hide_password=True)`` and every
error message passes through :func:`scrub`.  Prefer a *named connection*
(``db:NAME``): the URL is read from the environment variable
``SEGMENTS_DB_<NAME>`` or from ``connections.json`` in the app's configuration
folder, so it never appears on a command line; for PostgreSQL the password
may also stay in ``PGPASSWORD`` or ``~/.pgpass``, which psycopg reads itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from collections.abc import Mapping as MappingABC
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.data.reading import duplicate_names
from pipeline.errors import DataError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

#: ``--data`` values read as database sources: any ``scheme://`` URL (unsupported ones are refused by name) or ``db:NAME``.
_URL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NAMED_PATTERN = re.compile(r"^db:([A-Za-z][A-Za-z0-9_]{0,62})$")
#: Table names: ``name`` or ``schema.name``, letters, digits and underscores.
_TABLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
_DRIVERS = {
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
#: DuckDB's connection settings for a read: the database file only, read-only, settings locked.
DUCKDB_READ_ONLY: MappingABC[str, Any] = MappingProxyType(
    {"read_only": True, "config": {"enable_external_access": False, "lock_configuration": True}}
)
#: How long a preview (``read_source(..., limit=n)``) may run before it is stopped.
PREVIEW_SECONDS = 20.0
CONNECTIONS_FILE = "connections.json"
ENV_PREFIX = "SEGMENTS_DB_"
DEFAULT_CHUNK_ROWS = 100_000


def is_database(text: str | os.PathLike[str]) -> bool:
    """Whether a ``--data`` value names a database (a supported URL or ``db:NAME``) rather than a file."""
    value = str(text)
    return bool(_URL_PATTERN.match(value) or _NAMED_PATTERN.match(value))


@dataclasses.dataclass(frozen=True)
class DatabaseSource:
    """A table or query in a database.

    Attributes
    ----------
    url : sqlalchemy URL
        Where to connect, with the driver chosen (``postgresql+psycopg``).
        Its ``repr`` and :attr:`safe_url` hide the password.
    table : str or None
        A table name (``name`` or ``schema.name``).
    query : str or None
        A SELECT statement; exactly one of ``table`` and ``query`` is set.
    """

    url: URL
    table: str | None = None
    query: str | None = None

    @property
    def safe_url(self) -> str:
        """The URL with its password replaced by ``***``."""
        return self.url.render_as_string(hide_password=True)

    @property
    def name(self) -> str:
        """Display name: the table (or "query") and the URL without password."""
        what = self.table if self.table is not None else "query"
        return f"{what} in {self.safe_url}"

    def identity(self, content_hash: str) -> bytes:
        """The bytes the cache key is made of: URL without password, table or query, content hash."""
        what = f"table:{self.table}" if self.table is not None else f"query:{self.query}"
        return f"database\n{self.safe_url}\n{what}\n{content_hash}".encode()


def connection_url(text: str, environ: MappingABC[str, str] | None = None, config_folder: Path | None = None) -> str:
    """The URL a ``--data`` value stands for: itself, or the URL of the named connection ``db:NAME``.

    Parameters
    ----------
    text : str
        A database URL or ``db:NAME``.
    environ : mapping or None
        Environment (default ``os.environ``): ``SEGMENTS_DB_<NAME>`` holds the URL of ``db:NAME``.
    config_folder : Path or None
        Folder of ``connections.json`` (``{"NAME": "URL", ...}``); default the app's configuration folder.

    Raises
    ------
    DataError
        An unknown connection name (the message lists the known ones, never their URLs).
    """
    named = _NAMED_PATTERN.match(text)
    if not named:
        return text
    name = named.group(1)
    env = os.environ if environ is None else environ
    found = env.get(ENV_PREFIX + name.upper())
    if found:
        return found
    known = named_connections(env, config_folder)
    if name in known:
        return known[name]
    listed = ", ".join(sorted(known)) or "none"
    raise DataError(
        f"Unknown database connection {name!r}: set {ENV_PREFIX}{name.upper()} to its URL or add it to "
        f"{CONNECTIONS_FILE} (known: {listed})."
    )


def named_connections(environ: MappingABC[str, str] | None = None, config_folder: Path | None = None) -> dict[str, str]:
    """Every named connection: ``SEGMENTS_DB_<NAME>`` variables, then ``connections.json`` (name -> URL)."""
    env = os.environ if environ is None else environ
    found: dict[str, str] = {}
    folder = config_folder
    if folder is None:
        from pipeline.store.keys import config_dir

        folder = config_dir()
    path = Path(folder) / CONNECTIONS_FILE
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise DataError(f"{path} is not a readable JSON object of connection names and URLs: {err}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise DataError(f"{path} must hold a JSON object of connection names and URLs.")
        found.update({str(k): v for k, v in loaded.items() if _NAMED_PATTERN.match(f"db:{k}")})
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and value and _NAMED_PATTERN.match(f"db:{key[len(ENV_PREFIX) :]}"):
            found[key[len(ENV_PREFIX) :].lower()] = value
    return found


def parse_url(text: str, environ: MappingABC[str, str] | None = None, config_folder: Path | None = None) -> URL:
    """A supported database URL (or named connection) as a SQLAlchemy URL with its driver.

    Raises
    ------
    DataError
        Not a URL, or a scheme other than sqlite, duckdb, postgresql.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = connection_url(text, environ, config_folder)
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise DataError(
            "Not a database URL (expected sqlite:///FILE, duckdb:///FILE or postgresql://USER@HOST:PORT/DB)."
        ) from None
    backend = url.get_backend_name()
    if backend not in _DRIVERS:
        raise DataError(f"Unsupported database {backend!r}: use sqlite, duckdb or postgresql.")
    local = backend in ("sqlite", "duckdb") and url.database and url.database != ":memory:"
    if local and not Path(url.database).exists():
        raise DataError(f"Database file not found: {url.database}")
    return url.set(drivername=_DRIVERS[backend])


def database_source(
    text: str,
    table: str | None = None,
    query: str | None = None,
    environ: MappingABC[str, str] | None = None,
    config_folder: Path | None = None,
) -> DatabaseSource:
    """The :class:`DatabaseSource` of ``--data URL`` with ``--table`` or ``--query``.

    Raises
    ------
    DataError
        A bad URL, neither or both of table and query, an empty query or a
        table name that is not ``name`` / ``schema.name``.
    """
    url = parse_url(text, environ, config_folder)
    if (table is None) == (query is None):
        raise DataError("A database source needs exactly one of --table NAME or --query SQL.")
    if table is not None and not _TABLE_PATTERN.match(table):
        raise DataError(f"Not a table name: {table!r} (letters, digits and _; optionally schema.table).")
    if query is not None and not query.strip().rstrip(";").strip():
        raise DataError("The query is empty.")
    return DatabaseSource(url=url, table=table, query=query.strip().rstrip(";").strip() if query else None)


def create_engine_for(url: URL, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine for ``url`` (no pool kept between uses; a 10 s connect timeout on PostgreSQL).

    ``read_only``: the guards of a read (module notes): DuckDB opened with
    :data:`DUCKDB_READ_ONLY`, SQLite with ``PRAGMA query_only``.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    backend = url.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "postgresql":
        args = {"connect_timeout": 10}
    elif backend == "duckdb" and read_only:
        args = {"read_only": True, "config": dict(DUCKDB_READ_ONLY["config"])}
    engine = create_engine(url, poolclass=NullPool, connect_args=args)
    if backend == "sqlite" and read_only:

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA query_only = ON")

    return engine


def check_one_select(sql: str) -> None:
    """Refuse DuckDB SQL that is not exactly one ``SELECT`` (DuckDB's parser decides; ``WITH`` ... is one).

    SQL the parser cannot read is left to the run, which fails with its message.

    Raises
    ------
    DataError
        Several statements, or another kind of statement.
    """
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return  # running it fails with the same parser's message (read_error)
    kinds = [str(s.type).rsplit(".", 1)[-1] for s in statements]
    if kinds != ["SELECT"]:
        shown = ", ".join(kinds) or "none"
        raise DataError(f"A query must be one SELECT statement (this one has: {shown}).")


#: SQLite actions a read needs: its SELECT, reading columns, calling functions, recursive CTEs.
_SQLITE_READ_ACTIONS = frozenset(
    getattr(sqlite3, name)
    for name in ("SQLITE_SELECT", "SQLITE_READ", "SQLITE_FUNCTION", "SQLITE_RECURSIVE")
    if hasattr(sqlite3, name)
)
#: Functions SQLite might know that reach outside the database (none is in Python's build; refused if present).
_SQLITE_REFUSED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})


def _sqlite_authorizer(action: int, arg1: str | None, _arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action not in _SQLITE_READ_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == getattr(sqlite3, "SQLITE_FUNCTION", -1) and (_arg2 or "").lower() in _SQLITE_REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@contextlib.contextmanager
def sqlite_read_only(raw: Any) -> Iterator[None]:
    """While in the block, the SQLite connection ``raw`` prepares only statements that read (no ATTACH, no writes)."""
    raw.set_authorizer(_sqlite_authorizer)
    try:
        yield
    finally:
        raw.set_authorizer(None)


@contextlib.contextmanager
def stopped_after(seconds: float | None, stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop`` if the block still runs after ``seconds`` (None: never)."""
    if seconds is None:
        yield
        return
    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def scrub(message: str, url: URL) -> str:
    """``message`` on one line with the URL's password (if any) replaced by ``***``."""
    line = next((part.strip() for part in str(message).splitlines() if part.strip()), "unknown error")
    if url.password:
        line = line.replace(str(url.password), "***")
    return line


def _driver_message(err: BaseException) -> str:
    orig = getattr(err, "orig", None)
    return str(orig if orig is not None else err)


def connect_error(err: BaseException, source: DatabaseSource) -> DataError:
    """A one-line :class:`DataError` for a failed connection (password hidden)."""
    return DataError(f"Cannot connect to {source.safe_url}: {scrub(_driver_message(err), source.url)}")


def read_error(err: BaseException, source: DatabaseSource) -> DataError:
    """A one-line :class:`DataError` for a failed read (password hidden)."""
    what = f"Cannot read table {source.table}" if source.table is not None else "The query failed"
    return DataError(f"{what} in {source.safe_url}: {scrub(_driver_message(err), source.url)}")


def statement(source: DatabaseSource, dialect: Any) -> str:
    """The statement that reads ``source``: its query, or ``SELECT *`` from its table quoted for ``dialect``."""
    if source.query is not None:
        return source.query
    from sqlalchemy import select, table, text

    assert source.table is not None
    schema, _, name = source.table.rpartition(".")
    return str(select(text("*")).select_from(table(name, schema=schema or None)).compile(dialect=dialect))


def _check_table(conn: Connection, source: DatabaseSource) -> None:
    from sqlalchemy import inspect

    assert source.table is not None
    schema, _, name = source.table.rpartition(".")
    inspector = inspect(conn)
    if inspector.has_table(name, schema=schema or None):
        return
    try:
        tables = inspector.get_table_names(schema=schema or None) + inspector.get_view_names(schema=schema or None)
    except Exception:  # listing is a courtesy; the refusal stands without it
        tables = []
    if inspector.has_table(name.lower(), schema=schema or None):
        tables = [name.lower()]
    hint = f" (tables: {', '.join(sorted(tables)[:10])})" if tables else " (it has no tables)"
    raise DataError(f"Table {source.table} not found in {source.safe_url}{hint}.")


def test_connection(source: DatabaseSource, confined: bool = True) -> str:
    """Connect once and check the table exists; a one-line description of the server.

    Raises
    ------
    DataError
        The connection or the check failed.
    """
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine_for(source.url, read_only=confined)
    try:
        with engine.connect() as conn:
            if source.table is not None:
                _check_table(conn, source)
            version = conn.dialect.server_version_info
    except DataError:
        raise
    except (SQLAlchemyError, OSError) as err:
        raise connect_error(err, source) from None
    finally:
        engine.dispose()
    shown = ".".join(str(v) for v in version) if version else ""
    return f"connected to {source.url.get_backend_name()} {shown}".strip()


def _frame_from_arrow(
    conn: Connection, sql: str, chunk_rows: int, seconds: float | None, confined: bool
) -> pd.DataFrame:
    import pyarrow as pa

    if confined:
        check_one_select(sql)
    raw = conn.connection.driver_connection
    with stopped_after(seconds, raw.interrupt):
        reader = raw.sql(sql).to_arrow_reader(chunk_rows)
        table = pa.Table.from_batches(list(reader), schema=reader.schema)
    return table.to_pandas()


def _frame_from_cursor(
    conn: Connection, sql: str, chunk_rows: int, seconds: float | None, confined: bool
) -> pd.DataFrame:
    # The driver's own cursor (tuples made in C; SQLAlchemy's Row objects cost several times more per row);
    # on PostgreSQL a named, server-side cursor, so the server sends ``chunk_rows`` rows at a time.
    raw = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    if postgres:  # the first statements of the read's transaction
        raw.execute("SET TRANSACTION READ ONLY")
        if seconds is not None:
            raw.execute(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
    else:  # SQLite: the authorizer refuses all but reading; a deadline through the progress handler
        end = None if seconds is None else time.monotonic() + seconds
        raw.set_progress_handler((lambda: int(time.monotonic() > end)) if end is not None else None, 10_000)
    cursor = raw.cursor(name="segments_read") if postgres else raw.cursor()
    guard = sqlite_read_only(raw) if confined and conn.dialect.name == "sqlite" else contextlib.nullcontext()
    try:
        with guard:
            cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        parts = []
        while rows := cursor.fetchmany(chunk_rows):
            parts.append(pd.DataFrame.from_records(rows, columns=columns, coerce_float=True))
    finally:
        cursor.close()
        if not postgres:
            raw.set_progress_handler(None, 10_000)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types a file reader would give: exact decimals as floats, other objects untouched."""
    import decimal

    out = {}
    for col in frame.columns:
        values = frame[col]
        if values.dtype == object:
            sample = values.dropna()
            if len(sample) and isinstance(sample.iloc[0], decimal.Decimal):
                values = pd.to_numeric(values.astype(object), errors="coerce").astype(float)
        out[col] = values
    return pd.DataFrame(out, index=frame.index)


def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names, types and values (row order included)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    if len(frame):
        try:
            hashed = pd.util.hash_pandas_object(frame, index=False)
        except TypeError:  # unhashable cell values (lists, dicts): hash their text
            hashed = pd.util.hash_pandas_object(frame.astype(str), index=False)
        digest.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class DatabaseTable:
    """What :func:`read_source` read.

    Attributes
    ----------
    frame : DataFrame
        The rows, columns as the database typed them (names stripped).
    identity : bytes
        URL without password, table or query, and the content hash: the bytes the cache key is made of.
    name : str
        Display name (no password).
    """

    frame: pd.DataFrame
    identity: bytes
    name: str


def read_source(
    source: DatabaseSource, chunk_rows: int = DEFAULT_CHUNK_ROWS, limit: int | None = None, confined: bool = True
) -> DatabaseTable:
    """Read a table or query into a frame (see the module notes for how rows travel).

    ``limit``: read at most that many rows (a preview); the statement is wrapped
    as ``SELECT * FROM (...) AS source LIMIT n``, and stopped after
    :data:`PREVIEW_SECONDS`.  ``confined``: with the database's guards (the
    module notes); the command line alone passes False.

    Raises
    ------
    DataError
        Cannot connect (bad host, wrong password), table not found, the
        query failed, or the result is not a table of at least two
        uniquely named columns.
    """
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine_for(source.url, read_only=confined)
    seconds = PREVIEW_SECONDS if limit is not None else None
    try:
        try:
            conn = engine.connect()
        except (SQLAlchemyError, OSError) as err:
            raise connect_error(err, source) from None
        with conn:
            sql = statement(source, conn.dialect)
            if limit is not None:
                sql = f"SELECT * FROM ({sql}) AS segments_source LIMIT {int(limit)}"
            started = time.monotonic()
            try:
                if source.url.get_backend_name() == "duckdb":
                    frame = _frame_from_arrow(conn, sql, chunk_rows, seconds, confined)
                else:
                    frame = _frame_from_cursor(conn, sql, chunk_rows, seconds, confined)
            except DataError:
                raise
            except Exception as err:  # every driver raises its own types for a failing statement
                failure = read_error(err, source)
                if seconds is not None and time.monotonic() - started >= seconds:
                    failure = DataError(
                        f"The preview of {source.name} was stopped after {seconds:g} s; "
                        'load it with "Use for check and train" (a background job) instead.'
                    )
            else:
                failure = None
        if failure is not None:
            if source.table is not None:  # say "not found" rather than the driver's words, on a fresh connection
                with engine.connect() as conn:
                    _check_table(conn, source)
            raise failure
    finally:
        engine.dispose()
    header = [str(c) for c in frame.columns]
    dupes = duplicate_names(header)
    if dupes:
        raise DataError(f"{source.name} returns columns with the same name: {', '.join(dupes)}; rename them with AS.")
    frame.columns = [c.strip() for c in header]
    if frame.shape[1] < 2:
        raise DataError(f"{source.name} returns {frame.shape[1]} column; a customer table needs several.")
    if frame.empty:
        raise DataError(f"{source.name} returns no rows.")
    frame = _normalise(frame)
    return DatabaseTable(frame=frame, identity=source.identity(content_hash(frame)), name=source.name)
