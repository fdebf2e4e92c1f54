"""A query typed by any visitor reads its database and nothing else of the server (pipeline.data.sql).

DuckDB and SQLite run inside the app's process: without guards a query could
read any file the server can (other owners' data, the signing key) or write
one.  Each test gives the attack it exists for and checks the refusal and
that nothing changed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from dashboard import database_panel as panel
from dashboard import ids
from pipeline.data import sql
from pipeline.data.sql import check_one_select, database_source, read_source
from pipeline.errors import DataError
from tests.test_data_page import triggered

SECRET = "the installation's signing key"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.key"
    path.write_text(SECRET)
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    """A DuckDB file with a ``customers`` table of 30 rows."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE customers AS SELECT range AS id, range * 2.5 AS spend FROM range(30)")
    return f"duckdb:///{path}"


@pytest.fixture
def shop(tmp_path: Path) -> str:
    """A SQLite file with a ``customers`` table of 30 rows."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER, spend REAL)")
        conn.executemany("INSERT INTO customers VALUES (?, ?)", [(i, i * 2.5) for i in range(30)])
    return f"sqlite:///{path}"


def rows_of(url: str) -> int:
    return len(read_source(database_source(url, table="customers")).frame)


def refused(url: str, query: str, limit: int | None = None) -> str:
    with pytest.raises(DataError) as err:
        read_source(database_source(url, query=query), limit=limit)
    assert SECRET not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("limit", [None, 20])
def test_duckdb_reads_no_file_of_the_server(warehouse: str, secret: Path, limit: int | None) -> None:
    for query in (
        f"SELECT content, size FROM read_blob('{secret}')",
        f"SELECT * FROM read_csv('{secret}', header = false)",
        f"SELECT * FROM read_text('{secret}')",
    ):
        assert "Permission Error" in refused(warehouse, query, limit)


@pytest.mark.parametrize("limit", [None, 20])
def test_duckdb_writes_no_file_and_runs_one_select_only(warehouse: str, tmp_path: Path, limit: int | None) -> None:
    out = tmp_path / "written.csv"
    # closing the preview's wrapper early to run a COPY between two SELECTs, or a COPY alone
    stacked = f"SELECT 1 AS a, 2 AS b) t; COPY (SELECT 'x' AS x) TO '{out}'; SELECT * FROM (SELECT 1 AS a, 2 AS b"
    expected = {  # as the preview wraps it, the SQL is one SELECT that no longer parses, or several statements
        None: ("Parser Error", "A query must be one SELECT statement (this one has: COPY)."),
        20: (
            "A query must be one SELECT statement (this one has: SELECT, COPY, SELECT).",
            'Parser Error: syntax error at or near "SELECT"',
        ),
    }[limit]
    assert expected[0] in refused(warehouse, stacked, limit)
    assert expected[1] in refused(warehouse, f"COPY (SELECT 'x' AS x) TO '{out}'", limit)
    assert not out.exists()
    several = refused(warehouse, "SELECT 1 AS a, 2 AS b; SELECT 3 AS c, 4 AS d", limit)
    assert (
        several == "A query must be one SELECT statement (this one has: SELECT, SELECT)." or "Parser Error" in several
    )
    assert "one SELECT statement" in refused(warehouse, "DELETE FROM customers")
    assert rows_of(warehouse) == 30


def test_duckdb_settings_cannot_be_turned_back(warehouse: str, tmp_path: Path) -> None:
    # one SELECT cannot change a setting; the engine's connection refuses it as well
    engine = sql.create_engine_for(database_source(warehouse, table="customers").url, read_only=True)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with pytest.raises(duckdb.Error, match="Cannot change configuration option"):
            raw.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error, match="Permission Error"):
            raw.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
        with pytest.raises(duckdb.Error, match="read-only"):
            raw.execute("CREATE TABLE z AS SELECT 1 AS a")
    engine.dispose()
    assert not (tmp_path / "other.duckdb").exists()


def test_duckdb_reads_its_own_tables_with_one_select(warehouse: str) -> None:
    query = "WITH big AS (SELECT * FROM customers WHERE spend > 10) SELECT id, spend FROM big ORDER BY id"
    frame = read_source(database_source(warehouse, query=query)).frame
    assert frame["id"].tolist() == list(range(5, 30))
    assert len(read_source(database_source(warehouse, query=query), limit=3).frame) == 3
    assert sql.test_connection(database_source(warehouse, table="customers")).startswith("connected to duckdb")


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("SELECT 1", None),
        ("WITH a AS (SELECT 1 AS x) SELECT * FROM a", None),
        ("SELECT 1; SELECT 2", "SELECT, SELECT"),
        ("COPY (SELECT 1) TO 'x.csv'", "COPY"),
        ("INSERT INTO t VALUES (1)", "INSERT"),
        ("ATTACH 'x.duckdb' AS x", "ATTACH"),
        ("PRAGMA version", "PRAGMA"),
    ],
)
def test_check_one_select(query: str, kinds: str | None) -> None:
    if kinds is None:
        check_one_select(query)
    else:
        with pytest.raises(DataError, match=rf"^A query must be one SELECT statement \(this one has: {kinds}\)\.$"):
            check_one_select(query)


def test_sqlite_attaches_nothing_and_writes_nothing(shop: str, tmp_path: Path) -> None:
    other = tmp_path / "state.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE owners (name TEXT)")
        conn.execute("INSERT INTO owners VALUES ('alice')")
    for limit in (None, 20):
        attach = refused(shop, f"ATTACH DATABASE '{other}' AS other", limit)
        assert ("not authorized" if limit is None else "syntax error") in attach  # wrapped: no longer parses
        assert ("not authorized" if limit is None else "syntax error") in refused(shop, "DELETE FROM customers", limit)
        stacked = refused(shop, "SELECT 1 AS a, 2 AS b) t; DROP TABLE customers; SELECT * FROM (SELECT 1 AS a", limit)
        assert ("syntax error" if limit is None else "one statement at a time") in stacked
    assert "not authorized" in refused(shop, "SELECT load_extension('x') AS a, 1 AS b")
    assert rows_of(shop) == 30
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT name FROM owners").fetchall() == [("alice",)]


def test_sqlite_reads_its_own_tables(shop: str) -> None:
    query = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT n.i, c.spend FROM n JOIN customers c ON c.id = n.i"
    assert read_source(database_source(shop, query=query)).frame["i"].tolist() == [1, 2, 3]
    assert len(read_source(database_source(shop, table="customers"), limit=7).frame) == 7


def test_a_preview_is_stopped_after_its_time(warehouse: str, shop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "PREVIEW_SECONDS", 0.3)
    endless_duckdb = "SELECT count(*) AS n, 1 AS b FROM range(100000000) a, range(100000000) b"
    message = refused(warehouse, endless_duckdb, limit=20)
    assert message.startswith("The preview of query in duckdb:///") and message.endswith(
        ' was stopped after 0.3 s; load it with "Use for check and train" (a background job) instead.'
    )
    endless_sqlite = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) AS m, 1 AS b FROM n"
    assert refused(shop, endless_sqlite, limit=20).endswith(
        ' was stopped after 0.3 s; load it with "Use for check and train" (a background job) instead.'
    )
    # the connection is still usable afterwards
    assert rows_of(warehouse) == 30 and rows_of(shop) == 30


def test_the_data_page_preview_refuses_the_attacks(
    request_ctx, warehouse: str, secret: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGMENTS_DB_WAREHOUSE", warehouse)
    out = tmp_path / "bob_wrote.csv"
    attacks = [
        f"SELECT content, size FROM read_blob('{secret}')",
        f"SELECT 1 AS a, 2 AS b) t; COPY (SELECT 'x' AS x) TO '{out}'; SELECT * FROM (SELECT 1 AS a, 2 AS b",
    ]
    for query in attacks:
        with triggered(ids.DB_PREVIEW_BUTTON, "n_clicks"):
            status, preview = panel.read_database(None, 1, "warehouse", None, query)
        assert "danger" in str(status) and SECRET not in str(status) and preview is panel.no_update
    assert not out.exists()
    with triggered(ids.DB_PREVIEW_BUTTON, "n_clicks"):
        status, preview = panel.read_database(None, 1, "warehouse", None, "SELECT * FROM customers")
    assert "First 20 rows of the query (2 columns)." in str(status)


def test_the_command_line_reads_files_through_duckdb_as_documented(warehouse: str, tmp_path: Path) -> None:
    """``train --data duckdb:///shop.duckdb --query "SELECT * FROM read_parquet(...)"`` (README): the command
    line's own user reads their files; the same query from the app is refused."""
    import pandas as pd

    orders = tmp_path / "orders.parquet"
    pd.DataFrame({"id": [1, 2, 3], "spend": [5.0, 6.0, 7.0]}).to_parquet(orders)
    source = database_source(warehouse, query=f"SELECT * FROM read_parquet('{orders}')")
    assert read_source(source, confined=False).frame["spend"].tolist() == [5.0, 6.0, 7.0]
    with pytest.raises(DataError, match="Permission Error"):
        read_source(source)
