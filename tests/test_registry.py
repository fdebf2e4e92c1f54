"""The owner registry (pipeline.store.registry) and the SQLite opener (pipeline.store.db).

Every method that reads, switches, shares or deletes is given a foreign and a
missing id: both are refused with the *same* message (ids cannot be probed)
and nothing changes.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.errors import AccessDenied, SegmentationError
from pipeline.store.db import DATABASE_NAME, connect, database_path, transaction
from pipeline.store.registry import (
    NOT_AVAILABLE,
    SYSTEM,
    UPLOAD_NOT_AVAILABLE,
    Registry,
    check_owner,
    new_anonymous_owner,
)

A, B = "anon-" + "a" * 32, "anon-" + "b" * 32
KEY_A, KEY_B = "a" * 32, "b" * 32


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "state.sqlite3")


def snapshot(reg: Registry) -> tuple[list[tuple], list[tuple]]:
    """Every row of both tables (to assert that a refusal changed nothing)."""
    conn = reg._conn()
    uploads = [tuple(r) for r in conn.execute("SELECT * FROM uploads ORDER BY key")]
    versions = [tuple(r) for r in conn.execute("SELECT * FROM versions ORDER BY owner, artifact_id")]
    return uploads, versions


# ---------------------------------------------------------------- db


def test_database_path_is_under_the_data_folder(tmp_path: Path) -> None:
    s = Settings(models_dir=tmp_path / "m", data_dir=tmp_path / "d")
    assert database_path(s) == tmp_path / "d" / DATABASE_NAME


def test_connect_sets_wal_busy_timeout_foreign_keys_and_rows(tmp_path: Path) -> None:
    conn = connect(tmp_path / "sub" / "x.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    row = conn.execute("SELECT 1 AS one").fetchone()
    assert isinstance(row, sqlite3.Row) and row["one"] == 1


def test_wal_two_connections_read_while_one_writes(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    writer, reader = connect(path), connect(path)
    writer.execute("CREATE TABLE t (v INTEGER)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (2)")
    # The reader is not blocked by the open write transaction and sees the committed state.
    assert reader.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1
    writer.execute("COMMIT")
    assert reader.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 2


def test_transaction_rolls_back_as_a_whole(tmp_path: Path) -> None:
    conn = connect(tmp_path / "x.sqlite3")
    conn.execute("CREATE TABLE t (v INTEGER)")
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("boom")
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_two_registries_on_one_file_see_each_other(tmp_path: Path) -> None:
    one, two = Registry(tmp_path / "s.sqlite3"), Registry(tmp_path / "s.sqlite3")
    one.add_version(A, "v1", "shop.csv", "upload")
    assert [v.artifact_id for v in two.versions(A)] == ["v1"]


def test_concurrent_writers_all_land(tmp_path: Path) -> None:
    reg = Registry(tmp_path / "s.sqlite3")
    reg.versions(A)  # schema

    def work(i: int) -> None:
        for j in range(20):
            reg.add_version(f"anon-{i:032x}", f"v{j}", "x", "upload")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reg._conn().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 80


# ---------------------------------------------------------------- versions


def test_add_version_is_idempotent(reg: Registry) -> None:
    reg.add_version(A, "v1", "shop.csv", "upload:x")
    before = snapshot(reg)
    reg.add_version(A, "v1", "renamed.csv", "upload:y")
    assert snapshot(reg) == before
    (v,) = reg.versions(A)
    assert (v.artifact_id, v.dataset_name, v.mine, v.shared, v.owner) == ("v1", "shop.csv", True, False, A)


def test_owners_see_only_their_own_shared_and_system_versions(reg: Registry) -> None:
    reg.add_system_version("default", "Built-in sample")
    reg.add_version(A, "va", "a.csv", "upload")
    reg.add_version(B, "vb", "b.csv", "upload")
    assert {v.artifact_id for v in reg.versions(A)} == {"default", "va"}
    assert {v.artifact_id for v in reg.versions(B)} == {"default", "vb"}
    assert reg.can_read(A, "va") and not reg.can_read(B, "va") and reg.can_read(B, "default")
    assert reg.version(B, "default").system


@pytest.mark.parametrize("wanted", ["va", "missing", "", None, "../va"])
def test_reading_a_foreign_or_missing_version_gives_one_message(reg: Registry, wanted: str | None) -> None:
    reg.add_version(A, "va", "a.csv", "upload")
    before = snapshot(reg)
    with pytest.raises(AccessDenied) as err:
        reg.version(B, wanted)
    assert str(err.value) == NOT_AVAILABLE
    assert not reg.can_read(B, wanted)
    assert snapshot(reg) == before


@pytest.mark.parametrize("method", ["share", "unshare", "remove", "owned"])
@pytest.mark.parametrize("wanted", ["va", "missing"])
def test_changing_a_foreign_or_missing_version_is_refused_alike(reg: Registry, method: str, wanted: str) -> None:
    reg.add_version(A, "va", "a.csv", "upload")
    before = snapshot(reg)
    call = {
        "share": lambda: reg.share(B, wanted, True),
        "unshare": lambda: reg.share(B, wanted, False),
        "remove": lambda: reg.remove_version(B, wanted),
        "owned": lambda: reg.owned(B, wanted),
    }[method]
    with pytest.raises(AccessDenied) as err:
        call()
    assert str(err.value) == NOT_AVAILABLE
    assert snapshot(reg) == before


def test_sharing_makes_a_version_readable_not_changeable(reg: Registry) -> None:
    reg.add_version(A, "va", "a.csv", "upload")
    assert reg.share(A, "va").shared
    seen = reg.version(B, "va")
    assert (seen.mine, seen.shared, seen.owner) == (False, True, A)
    before = snapshot(reg)
    for call in (lambda: reg.remove_version(B, "va"), lambda: reg.share(B, "va", False)):
        with pytest.raises(AccessDenied, match="Only the owner"):
            call()
    assert snapshot(reg) == before
    reg.share(A, "va", False)
    with pytest.raises(AccessDenied, match="not available"):
        reg.version(B, "va")


def test_system_versions_cannot_be_deleted_or_unshared(reg: Registry) -> None:
    reg.add_system_version("default", "Built-in sample")
    before = snapshot(reg)
    for call in (lambda: reg.remove_version(A, "default"), lambda: reg.share(A, "default", False)):
        with pytest.raises(AccessDenied):
            call()
    assert snapshot(reg) == before


def test_a_version_held_by_two_owners_is_orphaned_only_by_the_last(reg: Registry) -> None:
    # The same data and settings give the same artifact id: both owners trained it.
    reg.add_version(A, "v", "same.csv", "upload")
    reg.add_version(B, "v", "same.csv", "upload")
    record, orphaned = reg.remove_version(A, "v")
    assert record.mine and not orphaned
    assert not reg.can_read(A, "v") and reg.can_read(B, "v")
    _, orphaned = reg.remove_version(B, "v")
    assert orphaned and not reg.known("v")


def test_sample_also_trained_by_an_owner_is_kept_for_everyone(reg: Registry) -> None:
    reg.add_system_version("default", "Built-in sample")
    reg.add_version(A, "default", "Built-in sample", "sample")
    assert reg.version(A, "default").mine
    _, orphaned = reg.remove_version(A, "default")
    assert not orphaned and reg.can_read(B, "default")


# ---------------------------------------------------------------- uploads


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_identical_uploads_by_one_owner_are_stored_once(reg: Registry) -> None:
    first, created = reg.add_upload(A, KEY_A, "shop.csv", 10, sha(b"x"), f"uploads/{KEY_A}.upload")
    assert created
    again, created = reg.add_upload(A, "c" * 32, "shop (1).csv", 10, sha(b"x"), "uploads/c.upload")
    assert not created and again == first
    # Another owner uploading the same bytes gets their own record.
    other, created = reg.add_upload(B, KEY_B, "shop.csv", 10, sha(b"x"), f"uploads/{KEY_B}.upload")
    assert created and other.owner == B
    assert reg.find_upload(A, sha(b"x")) == first and reg.find_upload(A, sha(b"y")) is None
    assert [u.key for u in reg.uploads(A)] == [KEY_A]


@pytest.mark.parametrize("key", [KEY_B, "f" * 32, "../../etc/passwd", "", None])
def test_foreign_or_missing_upload_keys_give_one_message(reg: Registry, key: str | None) -> None:
    reg.add_upload(B, KEY_B, "b.csv", 1, sha(b"b"), f"uploads/{KEY_B}.upload")
    before = snapshot(reg)
    with pytest.raises(AccessDenied) as err:
        reg.upload(A, key)
    assert str(err.value) == UPLOAD_NOT_AVAILABLE
    with pytest.raises(AccessDenied) as err2:
        reg.delete_upload(A, key)
    assert str(err2.value) == UPLOAD_NOT_AVAILABLE
    assert snapshot(reg) == before


def test_owner_deletes_own_upload(reg: Registry) -> None:
    reg.add_upload(A, KEY_A, "a.csv", 1, sha(b"a"), f"uploads/{KEY_A}.upload")
    assert reg.delete_upload(A, KEY_A).key == KEY_A
    with pytest.raises(AccessDenied):
        reg.upload(A, KEY_A)


def test_access_denied_is_a_user_error() -> None:
    assert issubclass(AccessDenied, SegmentationError)


# ---------------------------------------------------------------- owners


@pytest.mark.parametrize("bad", ["", "x" * 201, "a\nb", "tab\there", None, 5])
def test_bad_owner_ids_are_refused(reg: Registry, bad: object) -> None:
    with pytest.raises(AccessDenied):
        check_owner(bad)  # type: ignore[arg-type]
    with pytest.raises(AccessDenied):
        reg.versions(bad)  # type: ignore[arg-type]
    assert not reg.can_read(bad, "x")  # type: ignore[arg-type]


def test_anonymous_owner_ids_are_random_and_never_system() -> None:
    ids = {new_anonymous_owner() for _ in range(50)}
    assert len(ids) == 50 and SYSTEM not in ids
    assert all(i.startswith("anon-") and len(i) == 37 for i in ids)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_property_nobody_reads_an_unshared_version_of_someone_else(tmp_path_factory, other: str, aid: str) -> None:
    reg = Registry(tmp_path_factory.mktemp("p") / "s.sqlite3")
    reg.add_version(A, aid, "x", "upload")
    if other == A:
        return
    assert not reg.can_read(other, aid)
    with pytest.raises(AccessDenied):
        reg.version(other, aid)
