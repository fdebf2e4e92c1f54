"""Uploaded files: stored for their owner, parsed, detected and validated (data page, model page, jobs).

An upload arrives as a ``dcc.Upload`` data URL.  :func:`store_upload`
decodes it, refuses it with one clear sentence (:class:`DataError`) when it is
too big, empty, not a table, binary junk, a spreadsheet with title rows above
the header, or a single row, and otherwise writes it to
``settings.data_dir/uploads/<key>.upload`` and records it, with its owner,
size and SHA-256, in the registry (:mod:`pipeline.store.registry`).  The same
bytes uploaded again by the same owner are stored once.  Every function that
reads an upload takes the ``owner`` (the current request's when not given)
and raises :class:`~pipeline.errors.AccessDenied` for a key that is not
theirs.  The key is a random UUID made
here; the user's file name is only ever shown, never used as a path.  Nothing
uploaded is ever unpickled: tables are parsed by :func:`pipeline.data.reading.read_table`
(text, XLSX, Parquet) and mappings by :meth:`pipeline.data.mapping.Mapping.from_json`.

Uploaded files are immutable, so parsed tables and validations are kept in a
small per-process LRU cache keyed by the upload key (like the artifact cache
of :mod:`dashboard.services`): any worker process can rebuild them from disk.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
import re
import time
import uuid
from pathlib import Path

import flask
import pandas as pd

from pipeline.config import Settings
from pipeline.data.detect import Detection, detect_kind
from pipeline.data.ingest import Validation, validate_table
from pipeline.data.mapping import Mapping
from pipeline.data.reading import read_table
from pipeline.errors import AccessDenied, DataError
from pipeline.store.db import database_path
from pipeline.store.registry import UPLOAD_NOT_AVAILABLE, Registry, UploadRecord

from .identity import current_owner
from .services import current_service, memo

UPLOADS = "uploads"
UPLOAD_KEY = re.compile(r"^[0-9a-f]{32}$")
_STORED = re.compile(r"^uploads/[0-9a-f]{32}\.upload$")
#: Uploads older than this are removed when a new file arrives.
UPLOAD_MAX_AGE_S = 7 * 24 * 3600
#: Mapping files larger than this are refused unread.
MAX_MAPPING_BYTES = 1_000_000
#: Parsed uploads kept per process (a 500,000-line log is about 60 MB in memory).
TABLES_KEPT = 3
#: Detections and validations kept per process (small: customers, not lines).
RESULTS_KEPT = 16


@dataclasses.dataclass(frozen=True)
class UploadInfo:
    """A stored upload.

    Attributes
    ----------
    key : str
        Random hex id (the only thing the browser keeps).
    name : str
        The file's display name (never used as a path).
    size : int
        Bytes.
    uploaded_at : str
        ISO time (UTC).
    """

    key: str
    name: str
    size: int
    uploaded_at: str

    @property
    def size_text(self) -> str:
        """``"33.1 MB"`` / ``"412 KB"``."""
        return size_text(self.size)


def size_text(n_bytes: int) -> str:
    """Human-readable file size (MB = 1024² bytes, as the limit)."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n_bytes / 1024)):,} KB"


def display_name(filename: str | None) -> str:
    """A safe display name: the last path part, printable, at most 80 characters."""
    base = re.split(r"[\\/]", str(filename or ""))[-1]
    clean = "".join(ch for ch in base if ch.isprintable()).strip()
    return clean[:80] or "upload"


def too_big_message(name: str, n_bytes: int, settings: Settings) -> str:
    """The refusal for a file over ``settings.max_upload_mb`` (no server paths in it)."""
    return (
        f"{name} is {size_text(n_bytes)}; files up to {settings.max_upload_mb} MB can be uploaded in the browser. "
        f"Train larger files with the command line (python -m pipeline train --data {name}) and ask whoever runs "
        "this server to share the result, or restart the app with a higher --max-upload-mb."
    )


def decode_contents(contents: str, name: str) -> bytes:
    """Bytes of a ``dcc.Upload`` data URL (``data:<type>;base64,<payload>``)."""
    _, sep, payload = str(contents).partition(",")
    if not sep:
        raise DataError(f"{name} could not be received (the upload was not a data URL); try again.")
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        raise DataError(f"{name} could not be received (the upload was damaged); try again.") from None


def uploads_dir(settings: Settings) -> Path:
    """``<data_dir>/uploads`` (created)."""
    folder = Path(settings.data_dir) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def parse_upload(raw: bytes, name: str, settings: Settings) -> pd.DataFrame:
    """Check an upload's size and read it as a table, or raise a :class:`DataError` saying why not.

    Refused: over ``settings.max_upload_mb``; empty; binary junk; not a table
    (one column, no separators); an unreadable or title-row spreadsheet
    (:func:`pipeline.data.reading.read_table`); a header with no or one data row.
    """
    if len(raw) > settings.max_upload_mb * 1024 * 1024:
        raise DataError(too_big_message(name, len(raw), settings))
    table = read_table(raw, name)
    if len(table) <= 1:
        raise DataError(validate_table(table, None, settings, name).problems[0])
    return table


def owner_or_current(owner: str | None) -> str:
    """``owner``, or the current request's; :class:`AccessDenied` outside a request without one.

    A background job has no request: it passes the owner it captured when it
    was submitted (``JobContext.owner``).
    """
    if owner is not None:
        return owner
    if flask.has_request_context():
        return current_owner()
    raise AccessDenied("No owner for this upload: a background job must pass the owner that submitted it.")


def registry_for(settings: Settings) -> Registry:
    """The app's registry when it serves ``settings``' data folder, else one opened on that folder."""
    with contextlib.suppress(Exception):
        svc = current_service()
        if Path(svc.settings.data_dir) == Path(settings.data_dir):
            return svc.store
    return Registry(database_path(settings))


def _upload_path(record: UploadRecord, settings: Settings) -> Path:
    """Where an upload's bytes are (only ``uploads/<32 hex>.upload`` under the data folder is ever used)."""
    if not _STORED.match(record.path):
        raise AccessDenied(UPLOAD_NOT_AVAILABLE)
    return Path(settings.data_dir) / record.path


def store_upload(contents: str, filename: str | None, settings: Settings, owner: str | None = None) -> UploadInfo:
    """Decode, check, parse and save an upload for ``owner``; returns its record.

    The same bytes uploaded again by the same owner are stored once: the
    first record is returned (under its first name).

    Raises
    ------
    DataError
        The file is refused (see :func:`parse_upload`); nothing is written.
    """
    who = owner_or_current(owner)
    name = display_name(filename)
    raw = decode_contents(contents, name)
    digest = hashlib.sha256(raw).hexdigest()
    store = registry_for(settings)
    existing = store.find_upload(who, digest)
    if existing is not None:
        path = _upload_path(existing, settings)
        if path.is_file():
            store.touch_upload(who, existing.key)
            return _info(existing)
        store.forget_upload(existing.key)  # its file expired: store it again
    table = parse_upload(raw, name, settings)
    folder = uploads_dir(settings)
    prune_uploads(settings)
    key = uuid.uuid4().hex
    relative = f"{UPLOADS}/{key}.upload"
    try:
        _write_atomic(folder / f"{key}.upload", raw)
    except OSError as err:
        raise DataError(f"{name} could not be saved on the server ({err.strerror or 'write error'}).") from None
    record, created = store.add_upload(who, key, name, len(raw), digest, relative)
    if not created:  # the same owner stored the same bytes at the same moment in another process
        with contextlib.suppress(OSError):
            (folder / f"{key}.upload").unlink()
    else:
        memo("upload-tables", key, lambda: table, TABLES_KEPT)
    return _info(record)


def _info(record: UploadRecord) -> UploadInfo:
    return UploadInfo(record.key, display_name(record.name), record.size, record.uploaded_at)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def upload_info(key: str | None, settings: Settings, owner: str | None = None) -> UploadInfo:
    """The record of the owner's stored upload (``owner``: the current request's if not given).

    Raises
    ------
    AccessDenied
        Malformed, unknown or another owner's key (one message for all).
    """
    return _info(registry_for(settings).upload(owner_or_current(owner), key))


def upload_table(key: str, settings: Settings, owner: str | None = None) -> pd.DataFrame:
    """The parsed table of the owner's upload (cached per process; treat as read-only).

    The owner is checked on every call, before the cache is consulted.
    """
    record = registry_for(settings).upload(owner_or_current(owner), key)

    def parse() -> pd.DataFrame:
        try:
            raw = _upload_path(record, settings).read_bytes()
        except OSError:
            raise DataError(f"{display_name(record.name)} is no longer on the server; upload it again.") from None
        return read_table(raw, display_name(record.name))

    return memo("upload-tables", record.key, parse, TABLES_KEPT)


def upload_detection(key: str, settings: Settings, owner: str | None = None) -> Detection:
    """:func:`pipeline.data.ingest.detect_kind` of the owner's upload (cached)."""
    table = upload_table(key, settings, owner)
    return memo("upload-results", ("detection", key), lambda: detect_kind(table), RESULTS_KEPT)


def validate_upload_key(key: str, mapping: Mapping | None, settings: Settings, owner: str | None = None) -> Validation:
    """:func:`pipeline.data.ingest.validate_table` of the owner's upload under ``mapping`` (cached).

    ``mapping=None`` detects the kind and uses the suggestion.
    """
    info = upload_info(key, settings, owner)
    table = upload_table(key, settings, owner)

    def validate() -> Validation:
        return validate_table(table, mapping, settings, info.name)

    cache_key = ("validation", key, mapping.digest() if mapping else None, settings.model_hash())
    return memo("upload-results", cache_key, validate, RESULTS_KEPT)


def prune_uploads(settings: Settings, max_age_s: float = UPLOAD_MAX_AGE_S) -> int:
    """Delete uploads older than ``max_age_s`` (files and registry rows); returns how many files were removed."""
    folder = Path(settings.data_dir) / UPLOADS
    if not folder.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    store = registry_for(settings)
    cutoff_iso = dt.datetime.fromtimestamp(cutoff, dt.UTC).isoformat(timespec="seconds")
    for record in store.uploads_before(cutoff_iso):
        store.forget_upload(record.key)
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and UPLOAD_KEY.match(path.stem) and path.stat().st_mtime < cutoff:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def parse_mapping_upload(contents: str, filename: str | None) -> Mapping:
    """A mapping file uploaded as a data URL, parsed as JSON (never unpickled).

    Raises
    ------
    DataError
        Too large, not UTF-8 text, not JSON, or not a valid mapping.
    """
    name = display_name(filename)
    raw = decode_contents(contents, name)
    if len(raw) > MAX_MAPPING_BYTES:
        raise DataError(f"{name} is too large to be a column mapping (a mapping is a small JSON file).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name} is not a text file; a mapping is a small JSON file.") from None
    return Mapping.from_json(text, name)


def upload_bytes(key: str, settings: Settings, owner: str | None = None) -> bytes:
    """The stored bytes of the owner's upload (they make the data set's cache key with the mapping)."""
    record = registry_for(settings).upload(owner_or_current(owner), key)
    try:
        return _upload_path(record, settings).read_bytes()
    except OSError:
        raise DataError("The uploaded file is no longer on the server; upload it again.") from None
