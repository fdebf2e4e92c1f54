"""Jobs of /data's "Connect to a database": read a whole table or query, write a version's assignments.

Both can take many seconds on a large table (1 M rows read from SQLite in
7.8 s and written in 17.5 s, ``python -m benchmarks.bench_database``), so
they run in the one job runner (bounded, cancellable, reaped), not in a
request: kinds ``db_read`` and ``db_write`` of :data:`dashboard.tasks.JOB_KINDS`.

Only *named connections* reach here (see :mod:`dashboard.database_panel`);
the child reads the names from the same server configuration.  The owner is
the one captured in the request that submitted the job: a read is stored as
that owner's upload, and a write is refused unless the version is the
owner's own (:meth:`~pipeline.store.registry.Registry.owned`).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard import uploads
from dashboard.job_process import JobContext
from pipeline.config import Settings
from pipeline.data.sql import DatabaseSource, database_source, read_source
from pipeline.errors import DataError

MB = 1024 * 1024


def source_of(connection: str | None, table: str | None, query: str | None) -> DatabaseSource:
    """The source the form describes (a named connection only).

    Raises
    ------
    DataError
        No connection chosen, or not exactly one of table and query.
    """
    if not connection:
        raise DataError("Choose a connection first.")
    return database_source(f"db:{connection}", (table or "").strip() or None, (query or "").strip() or None)


def described(table: str | None) -> str:
    """How the status lines name the source: the table, or "the query"."""
    return table.strip() if table and table.strip() else "the query"


def as_upload(frame: pd.DataFrame, name: str) -> str:
    """A frame as the ``contents`` string an upload sends (Parquet bytes, base64)."""
    buf = io.BytesIO()
    try:
        frame.to_parquet(buf, index=False)
    except Exception as err:  # pyarrow refuses columns of mixed or exotic types
        raise DataError(f"{name} has columns that cannot be stored: {str(err).splitlines()[0]}") from None
    return "data:application/octet-stream;base64," + base64.b64encode(buf.getvalue()).decode()


def run_db_read(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``db_read``: read the whole table or query and store it as the owner's upload.

    ``parameters``: ``{"connection": name, "table": str | None, "query": str | None}``.
    Returns ``{"key": upload key, "rows": n, "columns": n, "what": table or "the query",
    "connection": name}``.  Over the upload size limit, it is refused like a file.
    """
    connection = parameters.get("connection")
    table, query = parameters.get("table"), parameters.get("query")
    source = source_of(connection, table, query)
    what = described(table)
    context.progress(5, f"Reading {what} from {connection}", creep_to=80)
    frame = read_source(source).frame
    context.progress(85, f"Storing {len(frame):,} rows for check and train", creep_to=99)
    name = f"{what} from {connection}"
    info = uploads.store_upload(as_upload(frame, name), name, context.settings, context.owner)
    context.progress(100, "Done")
    return {"key": info.key, "rows": len(frame), "columns": int(frame.shape[1]), "what": what, "connection": connection}


def run_db_write(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``db_write``: write the assignments of the owner's own version to a table, in one transaction.

    ``parameters``: ``{"connection": name, "table": str, "artifact": version id}``.
    Returns ``{"rows_written", "rows_replaced", "table", "connection"}``.
    """
    from pipeline.data.sql_sink import assignment_rows, write_assignments
    from pipeline.errors import AccessDenied
    from pipeline.segmentation.assignments import artifact_assignments
    from pipeline.store.artifacts import load_artifact, valid_artifact_id
    from pipeline.store.db import database_path
    from pipeline.store.registry import NOT_AVAILABLE, Registry

    settings: Settings = context.settings
    connection = parameters.get("connection")
    if not connection:
        raise DataError("Choose a connection first.")
    artifact_id = str(parameters.get("artifact") or "")
    context.progress(5, "Checking the model version")
    if not valid_artifact_id(artifact_id):
        raise AccessDenied(NOT_AVAILABLE)
    Registry(database_path(settings)).owned(context.owner, artifact_id)  # only the owner's own versions
    url = database_source(f"db:{connection}", table="x").url
    context.progress(10, "Loading the model version", creep_to=30)
    artifact = load_artifact(Path(settings.models_dir) / artifact_id, settings)
    as_of = dt.date.fromisoformat(str(artifact.manifest["data"]["as_of"]))
    rows = assignment_rows(artifact_assignments(artifact), artifact_id, as_of)
    context.progress(35, f"Writing {len(rows):,} assignments", creep_to=99)
    result = write_assignments(url, str(parameters.get("table") or "").strip(), rows)
    context.progress(100, "Done")
    return {
        "rows_written": int(result.rows_written),
        "rows_replaced": int(result.rows_replaced),
        "table": result.table,
        "connection": connection,
    }


def estimate_db_read(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    """Peak bytes of a read: bounded by the upload limit (a larger result is refused like a file)."""
    from dashboard.tasks import BYTES_PER_UPLOAD_BYTE, CHILD_BASE_BYTES

    return int(CHILD_BASE_BYTES + BYTES_PER_UPLOAD_BYTE * settings.max_upload_mb * MB)


def estimate_db_write(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    """Peak bytes of a write: the version's customer table, as a report job."""
    from dashboard.tasks import estimate_report

    return estimate_report({"artifact": parameters.get("artifact")}, settings, owner)


__all__ = [
    "as_upload",
    "described",
    "estimate_db_read",
    "estimate_db_write",
    "run_db_read",
    "run_db_write",
    "source_of",
]
