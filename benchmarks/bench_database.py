"""``python -m benchmarks.bench_database``: read 1,000,000 customers from, and write 1,000,000 assignments to, each database.

Set-up (not timed): the built-in sample (typed, enrolment as a DATE) is
repeated to ``--rows`` customers with fresh ids and loaded into a SQLite
file, a DuckDB file and a throw-away PostgreSQL 15 cluster
(:mod:`tests.postgres_server`; skipped when its programs are missing).

Timed, each in a fresh process (median of ``--repeat`` runs; peak memory of the process):

* ``read``: :func:`pipeline.data.sql.read_source` of the table (DuckDB via
  Arrow record batches, SQLite and PostgreSQL via a streamed cursor in
  100,000-row partitions);
* ``read + prepare`` (only with ``--prepare``): :func:`pipeline.segmentation.training.load_dataset`
  (read, then the file path: detection, cleaning, features, quality report;
  that part is the file path's own cost, the same for a file);
* ``write``: :func:`pipeline.data.sql_sink.write_assignments` of ``--rows``
  assignments in one transaction, replacing the previous run's rows
  (PostgreSQL: COPY FROM STDIN; DuckDB: INSERT ... SELECT from the frame;
  SQLite: executemany).

Target (issue #13): each under 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .common import ROOT, load, median, print_table, run_module

TARGET_S = 30.0
TABLE = "customers"
OUT_TABLE = "assignments"


def customers(rows: int):
    """The sample repeated to ``rows`` customers, ids 1..rows, enrolment as dates."""
    import numpy as np
    import pandas as pd

    from pipeline.config import Settings
    from pipeline.synthetic.customers import sample_bytes

    s = Settings()
    base = pd.read_csv(io.BytesIO(sample_bytes(s.sample_rows, s.sample_seed)), sep="\t").dropna(how="all")
    base["Dt_Customer"] = pd.to_datetime(base["Dt_Customer"], format="%d-%m-%Y").dt.date
    frame = base.iloc[np.arange(rows) % len(base)].reset_index(drop=True)
    frame["ID"] = np.arange(1, rows + 1)
    return frame


def put(url: str, frame) -> None:
    """Load ``frame`` as :data:`TABLE` at ``url`` (the fastest way each database offers)."""
    from sqlalchemy import create_engine, text

    from pipeline.data.sql import parse_url

    engine = create_engine(parse_url(url))
    backend = engine.url.get_backend_name()
    with engine.begin() as conn:
        if backend == "duckdb":
            raw = conn.connection.driver_connection
            raw.register("frame", frame)
            raw.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM frame")
            raw.unregister("frame")
        elif backend == "postgresql":
            frame.head(0).to_sql(TABLE, conn, if_exists="replace", index=False)
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {TABLE} FROM STDIN (FORMAT csv)") as copy:
                for start in range(0, len(frame), 100_000):
                    copy.write(frame.iloc[start : start + 100_000].to_csv(header=False, index=False).encode())
        else:
            frame.to_sql(TABLE, conn, if_exists="replace", index=False, chunksize=50_000)
        conn.execute(text(f"DROP TABLE IF EXISTS {OUT_TABLE}"))
    engine.dispose()


def worker(op: str, url: str, rows: int, models: str) -> None:
    """One timed operation; prints a JSON line."""
    from pipeline.config import Settings
    from pipeline.data.sql import database_source, read_source

    source = database_source(url, table=TABLE)
    if op == "read":
        start, cpu = time.perf_counter(), time.process_time()
        n = len(read_source(source).frame)
    elif op == "prepare":
        from pipeline.segmentation.training import load_dataset

        start, cpu = time.perf_counter(), time.process_time()
        n = len(load_dataset(source, Settings(models_dir=Path(models))).customers)
    else:
        import numpy as np
        import pandas as pd

        from pipeline.data.sql_sink import assignment_rows, write_assignments

        rng = np.random.default_rng(0)
        keys = rng.integers(0, 4, rows)
        scored = pd.DataFrame(
            {
                "ID": np.arange(1, rows + 1),
                "Segment_Key": np.array(["a", "b", "c", "d"])[keys],
                "Segment_Name": np.array(["High-Value Loyal", "Low-Value", "New / Occasional", "At Risk"])[keys],
                "p_alive": rng.random(rows),
                "expected_clv": rng.random(rows) * 1000,
            }
        )
        table = assignment_rows(scored, "bench-model", dt.date(2026, 11, 30))
        start, cpu = time.perf_counter(), time.process_time()
        n = write_assignments(source.url, OUT_TABLE, table).rows_written
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "rows": n}))


@contextlib.contextmanager
def databases(folder: Path, with_postgres: bool) -> Iterator[dict[str, str]]:
    """SQLite, DuckDB and (when installed) PostgreSQL URLs."""
    import duckdb

    duckdb.connect(str(folder / "shop.duckdb")).close()
    (folder / "shop.db").touch()
    urls = {"sqlite": f"sqlite:///{folder / 'shop.db'}", "duckdb": f"duckdb:///{folder / 'shop.duckdb'}"}
    sys.path.insert(0, str(ROOT))
    from tests.postgres_server import postgres_bin, throwaway_postgres

    if not with_postgres or postgres_bin() is None:
        print("PostgreSQL server programs not found: PostgreSQL left out", file=sys.stderr)
        yield urls
        return
    with throwaway_postgres() as pg:
        yield {**urls, "postgresql": pg}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", choices=("sqlite", "duckdb", "postgresql"), action="append")
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--prepare", action="store_true", help="also time read + the file path (load_dataset)")
    p.add_argument("--worker", nargs=4, metavar=("OP", "URL", "ROWS", "MODELS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        op, url, rows, models = args.worker
        worker(op, url, int(rows), models)
        return
    frame = customers(args.rows)
    table = []
    with tempfile.TemporaryDirectory() as tmp, databases(Path(tmp), not args.no_postgres) as urls:
        for name, url in urls.items():
            if args.only and name not in args.only:
                continue
            put(url, frame)
            ops = [("read", "read"), ("prepare", "read + prepare"), ("write", "write (one transaction)")]
            for op, label in ops if args.prepare else [ops[0], ops[2]]:
                seconds, peaks, cpus = [], [], []
                for _ in range(args.repeat):
                    _, peak, out = run_module("benchmarks.bench_database", ["--worker", op, url, str(args.rows), tmp])
                    result = json.loads(out.strip().splitlines()[-1])
                    assert result["rows"] == args.rows, result
                    seconds.append(result["seconds"])
                    cpus.append(result["cpu"])
                    peaks.append(peak)
                s = median(seconds)
                print(f"{name} {label}: {seconds} s (CPU {cpus} s), peak {max(peaks):.0f} MB ({load()})", flush=True)
                table.append(
                    [
                        name,
                        label,
                        f"{args.rows:,}",
                        f"{s:.2f}",
                        f"{median(cpus):.2f}",
                        f"{max(peaks):.0f}",
                        f"< {TARGET_S:.0f} s",
                        "met" if s < TARGET_S else "NOT met",
                    ]
                )
    print_table(
        f"Databases: median of {args.repeat} runs, each in a fresh process (imports not timed; CPU s = the process's CPU time, which a busy machine does not inflate); {load()}",
        ["database", "operation", "rows", "median s", "CPU s", "peak MB", "target", ""],
        table,
    )


if __name__ == "__main__":
    main()
