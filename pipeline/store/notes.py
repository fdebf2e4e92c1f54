"""Segment notes: the user's plan for each segment, saved with the model version.

A segment named from custom features (:mod:`pipeline.features.custom`) says
what is known and leaves the action to the user: an editable note per
segment.  Notes live beside the signed artifact, never inside it (its
signature stays valid): in the state database (:mod:`pipeline.store.db`),
table ``segment_notes``, keyed by model version id, owner and segment key.

Owner checks apply: reading or writing a note first asks the
:class:`~pipeline.store.registry.Registry` whether the owner may read that
version (:meth:`~pipeline.store.registry.Registry.version`: the one
:class:`~pipeline.errors.AccessDenied` refusal otherwise).  Each owner keeps
their own notes on a version (a shared version's readers do not see or
change the owner's notes).

:func:`segment_notes` is the one call for anything that shows the notes
(the segments page, the report): ``{segment key: note}``.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import SegmentationError
from pipeline.store.db import connect, database_path
from pipeline.store.registry import Registry

#: Longest note kept (characters).
MAX_NOTE_CHARS = 2000
_KEY = re.compile(r"^[A-Za-z0-9_]{1,120}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_notes (
    owner TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    segment_key TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (owner, artifact_id, segment_key)
);
"""


class NoteError(SegmentationError):
    """A note that cannot be saved (too long, or an unknown segment)."""


def clean_note(text: object) -> str:
    """The note as stored: text, control characters (but newlines) removed, trimmed.

    Raises
    ------
    NoteError
        Longer than :data:`MAX_NOTE_CHARS`.
    """
    note = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", "", str(text or "")).strip()
    if len(note) > MAX_NOTE_CHARS:
        raise NoteError(f"A segment note holds at most {MAX_NOTE_CHARS:,} characters; this one has {len(note):,}.")
    return note


def _conn(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    conn.executescript(SCHEMA)
    return conn


def read_notes(registry: Registry, owner: str, artifact_id: str) -> dict[str, str]:
    """The owner's notes on a version they may read: ``{segment key: note}``.

    Raises
    ------
    AccessDenied
        The version is not the owner's, shared or the system's.
    """
    registry.version(owner, artifact_id)
    conn = _conn(registry.path)
    try:
        rows = conn.execute(
            "SELECT segment_key, note FROM segment_notes WHERE owner = ? AND artifact_id = ? ORDER BY segment_key",
            (owner, artifact_id),
        ).fetchall()
    finally:
        conn.close()
    return {r["segment_key"]: r["note"] for r in rows}


def write_note(
    registry: Registry, owner: str, artifact_id: str, segment_key: str, text: object, known_keys: set[str]
) -> str:
    """Save (or, when empty, delete) the owner's note on one segment of a version; returns the stored text.

    Parameters
    ----------
    registry : Registry
        Owner checks.
    owner, artifact_id : str
        Who writes, on which version (must be readable by the owner).
    segment_key : str
        The segment (must be one of ``known_keys``: the version's segments).
    text : object
        The note.
    known_keys : set of str
        The version's segment keys (from its authenticated manifest).

    Raises
    ------
    AccessDenied
        The version is not readable by the owner.
    NoteError
        Unknown segment, or a note too long.
    """
    registry.version(owner, artifact_id)
    if segment_key not in known_keys or not _KEY.match(segment_key):
        raise NoteError(f"This model version has no segment {segment_key!r}.")
    note = clean_note(text)
    conn = _conn(registry.path)
    try:
        if note:
            conn.execute(
                "INSERT INTO segment_notes (owner, artifact_id, segment_key, note, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (owner, artifact_id, segment_key) DO UPDATE SET note = excluded.note, "
                "updated_at = excluded.updated_at",
                (owner, artifact_id, segment_key, note, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
            )
        else:
            conn.execute(
                "DELETE FROM segment_notes WHERE owner = ? AND artifact_id = ? AND segment_key = ?",
                (owner, artifact_id, segment_key),
            )
    finally:
        conn.close()
    return note


def segment_notes(settings: Settings, owner: str, artifact_id: str) -> dict[str, str]:
    """``{segment key: note}`` of ``owner`` on ``artifact_id`` (for the report and the pages).

    Owner checks apply (:class:`~pipeline.errors.AccessDenied` for a version
    the owner may not read); a version without notes gives ``{}``.
    """
    return read_notes(Registry(database_path(settings)), owner, artifact_id)
