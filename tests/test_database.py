"""Databases as sources and sinks: SQLite, DuckDB (no server) and a throw-away PostgreSQL cluster."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.data.sql import (
    content_hash,
    database_source,
    is_database,
    named_connections,
    parse_url,
    read_source,
)
from pipeline.data.sql import (
    test_connection as check_connection,
)
from pipeline.data.sql_sink import ASSIGNMENT_COLUMNS, assignment_rows, write_assignments
from pipeline.errors import DataError
from pipeline.segmentation.assignments import score_assignments
from pipeline.segmentation.training import TrainResult, load_dataset, train
from pipeline.synthetic.customers import sample_bytes
from tests.postgres_server import postgres_bin, throwaway_postgres


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster for the session (skipped without the server programs, unless CI=true)."""
    if postgres_bin() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server programs (initdb, pg_ctl) missing on CI: apt-get install postgresql")
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) not installed")
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def reference(settings: Settings) -> pd.DataFrame:
    """The built-in sample as a database would hold it: numbers typed, enrolment a DATE column."""
    frame = pd.read_csv(io.BytesIO(sample_bytes(settings.sample_rows, settings.sample_seed)), sep="\t")
    frame["Dt_Customer"] = pd.to_datetime(frame["Dt_Customer"], format="%d-%m-%Y").dt.date
    return frame


def put_table(url: str, name: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` as table ``name`` at ``url`` (replacing it)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:  # pandas' own "replace" reflects the table, which DuckDB 2 cannot
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            frame.to_sql(name, conn, index=False)
    finally:
        engine.dispose()


def fetch(url: str, sql: str) -> pd.DataFrame:
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            return pd.DataFrame(conn.execute(text(sql)).mappings().all())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def db_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Empty SQLite and DuckDB files for this module."""
    import duckdb

    folder = tmp_path_factory.mktemp("dbs")
    duckdb.connect(str(folder / "shop.duckdb")).close()
    (folder / "shop.db").touch()
    return {"sqlite": f"sqlite:///{folder / 'shop.db'}", "duckdb": f"duckdb:///{folder / 'shop.duckdb'}"}


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def db_url(request: pytest.FixtureRequest, db_urls: dict[str, str]) -> str:
    """Each of the three databases (PostgreSQL from the session's cluster)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return db_urls[request.param]


def segments_of(result: TrainResult) -> list[tuple[str, int]]:
    summary = result.artifact.manifest["segments"]
    return sorted((s["name"], int(s["size"])) for s in summary)


# --- sources ---------------------------------------------------------------------------------


def test_reference_table_trains_to_the_same_segments_as_the_file(
    db_url: str, reference: pd.DataFrame, settings: Settings, trained: TrainResult
) -> None:
    put_table(db_url, "customers", reference)
    dataset = load_dataset(database_source(db_url, table="customers"), settings)
    result = train(dataset, settings)
    assert segments_of(result) == segments_of(trained)
    sample = load_dataset(None, settings)
    assert (dataset.report.rows_read, dataset.report.rows_dropped) == (2262, 22)
    assert (sample.report.rows_read, sample.report.rows_dropped) == (2262, 22)
    assert "customers in " in dataset.name


def test_cli_train_json_matches_the_file(
    db_urls: dict[str, str], reference: pd.DataFrame, settings: Settings, tmp_path: Path, capsys
) -> None:
    put_table(db_urls["sqlite"], "customers", reference)
    sample = tmp_path / "sample.csv"
    assert main(["sample", "--out", str(sample)]) == 0
    capsys.readouterr()
    common = ["--models-dir", str(settings.models_dir), "--json"]
    assert main(["train", "--data", str(sample), *common]) == 0
    from_file = json.loads(capsys.readouterr().out)
    query = "SELECT * FROM customers"
    assert main(["train", "--data", db_urls["sqlite"], "--query", query, *common]) == 0
    from_db = json.loads(capsys.readouterr().out)
    assert from_db["segments"] == from_file["segments"]
    assert set(from_db) == set(from_file)
    assert from_db["data_quality"] == from_file["data_quality"]


def test_cache_key_changes_with_the_content_not_the_password(db_urls: dict[str, str], reference) -> None:
    put_table(db_urls["sqlite"], "small", reference.head(50))
    first = read_source(database_source(db_urls["sqlite"], table="small"))
    again = read_source(database_source(db_urls["sqlite"], table="small"))
    assert first.identity == again.identity
    put_table(db_urls["sqlite"], "small", reference.head(51))
    changed = read_source(database_source(db_urls["sqlite"], table="small"))
    assert changed.identity != first.identity
    assert content_hash(pd.DataFrame({"a": [1, 2]})) != content_hash(pd.DataFrame({"a": [2, 1]}))


def test_password_never_in_names_keys_or_errors(pg_url: str) -> None:
    password = pg_url.split(":")[2].split("@")[0]
    source = database_source(pg_url, table="customers")
    assert password not in source.name
    assert password not in repr(source)
    assert password not in source.identity("x").decode()
    wrong = pg_url.replace(password, "not-the-" + password)
    with pytest.raises(DataError) as err:
        read_source(database_source(wrong, table="customers"))
    assert "password authentication failed" in str(err.value)
    assert "not-the-" not in str(err.value) and password not in str(err.value)
    assert "\n" not in str(err.value)


def test_connection_check(pg_url: str, db_urls: dict[str, str], reference: pd.DataFrame) -> None:
    put_table(pg_url, "customers", reference.head(20))
    assert check_connection(database_source(pg_url, table="customers")).startswith("connected to postgresql 15")
    with pytest.raises(DataError, match=r"^Table nope not found in postgresql\+psycopg://segments:\*\*\*@"):
        check_connection(database_source(pg_url, table="nope"))


@pytest.mark.parametrize(
    ("data", "extra", "message"),
    [
        ("postgresql://u:p@host:port/db", ["--table", "t"], "error: Not a database URL (expected sqlite:///FILE"),
        ("mysql://u@h/db", ["--table", "t"], "error: Unsupported database 'mysql': use sqlite, duckdb or postgresql."),
        ("duckdb:///no/such.duckdb", ["--table", "t"], "error: Database file not found: no/such.duckdb"),
        ("db:nowhere", ["--table", "t"], "error: Unknown database connection 'nowhere': set SEGMENTS_DB_NOWHERE"),
        ("{sqlite}", [], "error: A database source needs exactly one of --table NAME or --query SQL."),
        ("{sqlite}", ["--table", "a;drop"], "error: Not a table name: 'a;drop'"),
        ("{sqlite}", ["--table", "nope"], "error: Table nope not found in sqlite:///"),
        ("{sqlite}", ["--query", "SELECT * FROM nope"], "error: The query failed in sqlite:///"),
        ("{sqlite}", ["--query", "SELECT ID FROM customers"], "returns 1 column; a customer table needs several."),
        ("{sqlite}", ["--query", "SELECT * FROM customers WHERE 0"], "returns no rows."),
        ("{sqlite}", ["--query", "SELECT Income, Income FROM customers"], "returns columns with the same name: Income"),
        ("{sqlite}", ["--table", "no_id"], "error: no_id in sqlite:///"),
        ("data.csv", ["--table", "t"], "error: --table and --query read from a database: give --data a database URL"),
    ],
)
def test_cli_refusals_are_one_line_exit_2(
    db_urls, reference, settings, data: str, extra: list[str], message: str, capsys
) -> None:
    put_table(db_urls["sqlite"], "customers", reference)
    put_table(db_urls["sqlite"], "no_id", reference[["Income", "MntWines", "Recency"]])
    models = settings.models_dir / "refusals"
    code = main(["train", "--data", data.format(**db_urls), *extra, "--models-dir", str(models)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert not models.exists()


def test_mapping_command_reads_a_database(db_urls, reference, tmp_path: Path, capsys) -> None:
    put_table(db_urls["sqlite"], "renamed", reference.rename(columns={"ID": "customer_no"}).head(300))
    out = tmp_path / "mapping.json"
    assert main(["mapping", "--data", db_urls["sqlite"], "--table", "renamed", "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["mapping"]["kind"], payload["n_customers"], payload["problems"]) == ("marketing", 300, [])
    assert out.is_file()


def test_no_customer_id_message(db_urls, reference, settings) -> None:
    put_table(db_urls["sqlite"], "no_id", reference[["Income", "MntWines", "Recency"]])
    with pytest.raises(DataError, match="no customer id column"):
        load_dataset(database_source(db_urls["sqlite"], table="no_id"), settings)


def test_named_connections(tmp_path: Path, db_urls: dict[str, str]) -> None:
    env = {"SEGMENTS_DB_SHOP": db_urls["sqlite"], "SEGMENTS_DB_": "x", "OTHER": "y"}
    (tmp_path / "connections.json").write_text(json.dumps({"lake": db_urls["duckdb"], "bad name": "z"}))
    assert named_connections(env, tmp_path) == {"shop": db_urls["sqlite"], "lake": db_urls["duckdb"]}
    assert str(parse_url("db:shop", env, tmp_path)) == db_urls["sqlite"]
    assert str(parse_url("db:lake", env, tmp_path)) == db_urls["duckdb"]
    with pytest.raises(DataError, match=r"Unknown database connection 'nope'.*\(known: lake, shop\)\.$"):
        parse_url("db:nope", env, tmp_path)
    (tmp_path / "connections.json").write_text("[1]")
    with pytest.raises(DataError, match="must hold a JSON object"):
        named_connections({}, tmp_path)


def test_is_database() -> None:
    assert is_database("sqlite:///a.db") and is_database("postgresql://u@h/d") and is_database("db:shop")
    assert is_database("mysql://x")  # refused later, by name
    assert not is_database("data.csv") and not is_database("C:/data.csv") and not is_database("db:")


def test_postgres_decimals_and_dates_read_as_numbers_and_dates(pg_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS typed"))
        conn.execute(text("CREATE TABLE typed (id int, income numeric(10,2), joined date)"))
        conn.execute(text("INSERT INTO typed VALUES (1, 1234.50, '2014-06-29'), (2, NULL, NULL)"))
    engine.dispose()
    frame = read_source(database_source(pg_url, table="typed")).frame
    assert frame["income"].dtype == float
    assert frame["income"].iloc[0] == 1234.5 and pd.isna(frame["income"].iloc[1])
    assert frame["joined"].iloc[0] == dt.date(2014, 6, 29)


# --- sinks -----------------------------------------------------------------------------------


def test_score_writes_history_and_replaces_a_rerun(
    db_url: str, reference: pd.DataFrame, trained: TrainResult, settings: Settings, capsys
) -> None:
    put_table(db_url, "customers", reference)
    fetch_sql = (
        "SELECT model_version, as_of, COUNT(*) AS n FROM assignments GROUP BY model_version, as_of ORDER BY as_of"
    )
    put_table(db_url, "assignments", pd.DataFrame({"customer_id": ["x"]}))  # a foreign table of that name
    args = ["score", "--data", db_url, "--table", "customers", "--out", db_url, "--out-table", "assignments"]
    args += ["--model", str(trained.artifact.directory)]
    assert main(args) == 2
    assert "exists without the assignment column(s) segment_key" in capsys.readouterr().err
    assert fetch(db_url, "SELECT COUNT(*) AS n FROM assignments")["n"].tolist() == [1]
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE assignments"))
    engine.dispose()

    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote 2,240 customers to table assignments (table created) in {db_url.split(':')[0]}")
    assert main(args) == 0
    assert "replacing 2,240 of the same model version and as-of date" in capsys.readouterr().out
    assert main([*args, "--as-of", "2014-12-31"]) == 0
    counts = fetch(db_url, fetch_sql)
    version = trained.artifact.artifact_id
    assert counts["model_version"].tolist() == [version, version]
    sample_as_of = str(trained.artifact.manifest["data"]["as_of"])  # the sample's latest enrolment
    assert [str(d)[:10] for d in counts["as_of"]] == [sample_as_of, "2014-12-31"]
    assert counts["n"].tolist() == [2240, 2240]

    rows = fetch(db_url, f"SELECT * FROM assignments WHERE as_of = '{sample_as_of}' ORDER BY customer_id")
    expected = score_assignments(trained.artifact, load_dataset(None, settings))
    expected = expected.assign(customer_id=expected["ID"].astype(str)).sort_values("customer_id")
    assert list(rows.columns) == list(ASSIGNMENT_COLUMNS)
    assert rows["customer_id"].tolist() == expected["customer_id"].tolist()
    assert rows["segment_name"].tolist() == expected["Segment_Name"].tolist()
    assert rows["segment_key"].tolist() == expected["Segment_Key"].tolist()
    assert rows["p_alive"].astype(float).round(9).tolist() == expected["p_alive"].round(9).tolist()
    confidence = expected["Assignment_Confidence"].round(9).tolist()
    assert rows["confidence"].astype(float).round(9).tolist() == confidence  # the assignments table's


def test_database_failure_rolls_back_everything(db_url: str) -> None:
    url = parse_url(db_url)
    base = pd.DataFrame(
        {"ID": ["a", "b", "c"], "Segment_Key": ["k1", "k2", "k1"], "Segment_Name": ["One", "Two", "One"]}
    ).assign(p_alive=[0.5, 0.25, None], expected_clv=[10.0, 20.0, None])
    day = dt.date(2020, 1, 1)
    first = write_assignments(url, "rollback_test", assignment_rows(base, "v1", day))
    assert (first.rows_written, first.rows_replaced, first.created) == (3, 0, True)
    before = fetch(db_url, "SELECT * FROM rollback_test ORDER BY customer_id")
    bad = assignment_rows(pd.concat([base.assign(ID=["d", "e", "f"])] * 2000, ignore_index=True), "v1", day)
    bad["customer_id"] = [f"c{i}" for i in range(len(bad))]
    bad.loc[4500, "segment_name"] = None  # the database refuses row 4,501, after 4,500 were sent
    with pytest.raises(DataError, match=r"^Nothing was written to rollback_test in "):
        write_assignments(url, "rollback_test", bad, chunk_rows=1000, check=False)
    pd.testing.assert_frame_equal(fetch(db_url, "SELECT * FROM rollback_test ORDER BY customer_id"), before)


def test_check_rows_refusals() -> None:
    base = pd.DataFrame({"ID": ["a", "b"], "Segment_Key": ["k", "k"], "Segment_Name": ["N", "N"]})
    rows = assignment_rows(base, "v", dt.date(2020, 1, 1))
    from pipeline.data.sql_sink import check_rows

    with pytest.raises(DataError, match=r"^There are no assignments to write\.$"):
        check_rows(rows.iloc[:0])
    with pytest.raises(DataError, match=r"^1 assignment\(s\) have no customer id; nothing was written\.$"):
        check_rows(rows.assign(customer_id=["a", " "]))
    with pytest.raises(DataError, match=r"^p_alive holds values that are not finite numbers"):
        check_rows(rows.assign(p_alive=[0.1, float("inf")]))
    with pytest.raises(DataError, match=r"^Customer id a appears 2 times"):
        check_rows(rows.assign(customer_id=["a", "a"]))
    with pytest.raises(DataError, match=r"^All assignments written at once must share one model version\."):
        check_rows(rows.assign(model_version=["v", "w"]))


def test_out_table_needs_a_database_and_vice_versa(tmp_path: Path, db_urls, capsys) -> None:
    base = ["score", "--data", "x.csv"]
    assert main([*base, "--out", str(tmp_path / "a.csv"), "--out-table", "t"]) == 2
    assert "--out-table writes to a database" in capsys.readouterr().err
    assert main([*base, "--out", db_urls["sqlite"]]) == 2
    assert capsys.readouterr().err == "error: Writing to a database needs --out-table NAME.\n"


# --- property: bad inputs never leave a half-written table -----------------------------------

_BAD = st.sampled_from(["none_id", "blank_name", "inf", "text_number", "duplicate", "none_key", "fine"])


_FAULTS = st.lists(st.tuples(_BAD, st.integers(min_value=0, max_value=59)), max_size=4)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(min_value=1, max_value=60),
    faults=_FAULTS,
    check=st.booleans(),
    backend=st.sampled_from(["sqlite", "duckdb"]),
)
def test_bad_inputs_never_leave_a_half_written_table(
    db_urls: dict[str, str], n: int, faults: list[tuple[str, int]], check: bool, backend: str
) -> None:
    all_or_nothing(db_urls[backend], n, faults, check)


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=60), faults=_FAULTS, check=st.booleans())
def test_bad_inputs_never_leave_a_half_written_postgresql_table(
    pg_url: str, n: int, faults: list[tuple[str, int]], check: bool
) -> None:
    all_or_nothing(pg_url, n, faults, check)


def all_or_nothing(db: str, n: int, faults: list[tuple[str, int]], check: bool) -> None:
    """Write ``n`` assignments with ``faults`` after a history: either all are written or the table is unchanged."""
    url = parse_url(db)
    history = assignment_rows(
        pd.DataFrame({"ID": ["h1", "h2"], "Segment_Key": ["k", "k"], "Segment_Name": ["N", "N"]}),
        "old",
        dt.date(2019, 1, 1),
    )
    write_assignments(url, "prop", history)
    before = fetch(db, "SELECT customer_id, model_version FROM prop ORDER BY model_version, customer_id")
    scored = pd.DataFrame(
        {
            "ID": [f"c{i}" for i in range(n)],
            "Segment_Key": ["k"] * n,
            "Segment_Name": ["Name"] * n,
            "p_alive": [0.5] * n,
            "expected_clv": [1.0] * n,
        }
    )
    rows = assignment_rows(scored, "new", dt.date(2020, 1, 1))
    if not check:  # without the Python check only faults the database itself must refuse
        faults = [(kind, at) for kind, at in faults if kind in ("none_id", "none_key", "duplicate", "fine")]
    rows = rows.astype({"p_alive": object})
    for kind, at in faults:
        i = at % n
        if kind == "none_id":
            rows.loc[i, "customer_id"] = None
        elif kind == "none_key":
            rows.loc[i, "segment_key"] = None
        elif kind == "blank_name":
            rows.loc[i, "segment_name"] = " "
        elif kind == "inf":
            rows.loc[i, "p_alive"] = float("inf")
        elif kind == "text_number":
            rows.loc[i, "p_alive"] = "high"
        elif kind == "duplicate" and check:
            rows.loc[i, "customer_id"] = rows.loc[0, "customer_id"] if i else rows.loc[n - 1, "customer_id"]
    try:
        write_assignments(url, "prop", rows, chunk_rows=7, check=check)
    except DataError:
        after = fetch(db, "SELECT customer_id, model_version FROM prop ORDER BY model_version, customer_id")
        pd.testing.assert_frame_equal(after, before)
    else:
        after = fetch(db, "SELECT model_version, COUNT(*) AS n FROM prop GROUP BY model_version ORDER BY model_version")
        assert after["n"].tolist() == [n, len(before)]
    finally:
        _drop(db, "prop")


def _drop(db: str, table: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(db))
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()
