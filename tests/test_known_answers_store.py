"""Guards of the artifact store, the installation key and the owner registry, each given its bad input (issue #15)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.errors import AccessDenied, ArtifactError, DataError
from pipeline.store import artifacts, keys
from pipeline.store.artifacts import (
    MANIFEST_NAME,
    artifact_id,
    library_versions,
    list_manifests,
    load_artifact,
    read_manifest,
    valid_artifact_id,
    write_artifact,
)
from pipeline.store.db import BUSY_TIMEOUT_MS, connect, database_path, transaction
from pipeline.store.registry import (
    NOT_AVAILABLE,
    ONLY_OWNER,
    SYSTEM,
    SYSTEM_KEPT,
    UPLOAD_NOT_AVAILABLE,
    Registry,
    check_owner,
    new_anonymous_owner,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data", secret_file=tmp_path / "cfg" / "key")


def _write(settings: Settings, name: str = "v1", created: str = "2024-01-01T00:00:00") -> Path:
    folder = settings.models_dir / name
    manifest = {"artifact_id": name, "created_at": created, "library_versions": library_versions()}
    write_artifact(folder, manifest, {"answer": 42}, pd.DataFrame({"ID": ["a"], "x": [1.5]}), settings)
    return folder


def _edit_manifest(folder: Path, settings: Settings, **files: dict) -> None:
    """Change the manifest's file entries and re-sign it with this installation's key (an insider's forgery)."""
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["files"] = {**manifest["files"], **files}
    key = artifacts.signing_key(settings, create=False)
    manifest["signature"] = artifacts._signature(manifest, key)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


# --- artifacts and keys -----------------------------------------------------------------------------------------------


def test_the_key_file_is_created_with_mode_0600_and_the_artifact_loads(settings: Settings) -> None:
    folder = _write(settings)
    assert stat.S_IMODE(settings.secret_file.stat().st_mode) == 0o600
    assert len(settings.secret_file.read_bytes()) == 64  # 32 random bytes, hex
    loaded = load_artifact(folder, settings)
    assert loaded.bundle == {"answer": 42}
    assert loaded.artifact_id == "v1"
    assert loaded.customers["x"].tolist() == [1.5]
    names = sorted(p.name for p in folder.iterdir())
    assert [n.split("-")[0] for n in names] == ["bundle", "customers", MANIFEST_NAME]


def test_reading_an_artifact_never_creates_a_key(settings: Settings, tmp_path: Path) -> None:
    folder = _write(settings)
    elsewhere = Settings(secret_file=tmp_path / "other" / "key")
    with pytest.raises(ArtifactError, match=r"cannot be verified: this installation has no signing key yet"):
        read_manifest(folder, elsewhere)
    with pytest.raises(ArtifactError, match=r"no signing key yet"):
        load_artifact(folder, elsewhere)
    assert list_manifests(settings.models_dir, elsewhere) == []
    assert not (tmp_path / "other").exists()
    assert keys.existing_derived_key(elsewhere, keys.ARTIFACT_SIGNING) is None
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize(
    "name",
    [
        "../bundle-0123456789abcdef.joblib",
        "sub/bundle-0123456789abcdef.joblib",
        "/etc/bundle-0123456789abcdef.joblib",
        "bundle-0123456789ABCDEF.joblib",  # not the lower-case hex the writer produces
        "bundle-0123456789abcde.joblib",  # 15 hex digits
        "bundle-0123456789abcdef.pkl",
        "customers-0123456789abcdef.parquet",  # another role's file
        "bundle-0123456789abcdef.parquet",  # the bundle is a .joblib
        "",
    ],
)
def test_manifest_file_names_must_be_plain_content_addressed_names(settings: Settings, name: str) -> None:
    folder = _write(settings)
    _edit_manifest(folder, settings, bundle={"name": name, "sha256": "0" * 64})
    with pytest.raises(ArtifactError, match=r"^The manifest in .* does not name a valid bundle file\.$"):
        load_artifact(folder, settings)


def test_manifest_without_a_files_table_is_refused(settings: Settings) -> None:
    folder = _write(settings)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    manifest["files"] = ["bundle"]
    manifest["signature"] = artifacts._signature(manifest, artifacts.signing_key(settings, create=False))
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=r"does not name a valid bundle file"):
        load_artifact(folder, settings)


def test_a_missing_or_changed_file_is_refused(settings: Settings) -> None:
    folder = _write(settings)
    bundle = next(folder.glob("bundle-*.joblib"))
    bundle.write_bytes(bundle.read_bytes() + b"x")
    with pytest.raises(ArtifactError, match=r"^The bundle file of .* does not match its manifest hash"):
        load_artifact(folder, settings)
    bundle.unlink()
    with pytest.raises(ArtifactError, match=rf"^The bundle file of .* is missing \({bundle.name}\)\.$"):
        load_artifact(folder, settings)


def test_manifest_refusals_say_why(settings: Settings) -> None:
    folder = _write(settings)
    empty = settings.models_dir / "empty"
    empty.mkdir()
    with pytest.raises(ArtifactError, match=rf"^No model artifact in .*empty \(no {MANIFEST_NAME}\)\.$"):
        read_manifest(empty, settings)
    (empty / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ArtifactError, match=r"is not valid JSON\.$"):
        read_manifest(empty, settings)
    (empty / MANIFEST_NAME).write_text("[]")
    with pytest.raises(ArtifactError, match=r"was not written by this app; refusing to load it\.$"):
        read_manifest(empty, settings)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    (empty / MANIFEST_NAME).write_text(json.dumps({**manifest, "format_version": -1}))
    with pytest.raises(artifacts.ArtifactVersionError, match=r"uses artifact format -1, this app reads format"):
        read_manifest(empty, settings)
    (empty / MANIFEST_NAME).write_text(json.dumps({**manifest, "created_at": "forged"}))
    with pytest.raises(ArtifactError, match=r"is not signed by this installation; refusing to load it"):
        read_manifest(empty, settings)
    (empty / MANIFEST_NAME).write_text(json.dumps({**manifest, "signature": None}))
    with pytest.raises(ArtifactError, match=r"is not signed by this installation"):
        read_manifest(empty, settings)
    assert read_manifest(folder, settings)["artifact_id"] == "v1"


def test_library_version_mismatch_is_refused(settings: Settings) -> None:
    with pytest.raises(artifacts.ArtifactVersionError, match=r"^The model in m1 was saved with other library versions"):
        artifacts.check_versions({"artifact_id": "m1", "library_versions": {}})
    artifacts.check_versions({"library_versions": library_versions()})


@pytest.mark.parametrize("bad", ["a/b", "../x", "..", "a..b", "/abs", ".hidden", "", "a b", "x" * 122, "a\\b"])
def test_artifact_ids_with_path_parts_are_refused(bad: str) -> None:
    assert not valid_artifact_id(bad)


@pytest.mark.parametrize("good", ["a", "sample-0123456789-abcdef0123", "v1.2_x", "x" * 121])
def test_plain_artifact_ids_are_accepted(good: str) -> None:
    assert valid_artifact_id(good)


def test_list_manifests_skips_bad_folders_and_sorts_newest_first(settings: Settings) -> None:
    _write(settings, "old", "2024-01-01T00:00:00")
    _write(settings, "new", "2024-06-01T00:00:00")
    (settings.models_dir / "junk").mkdir()
    (settings.models_dir / "junk" / MANIFEST_NAME).write_text("{}")
    (settings.models_dir / "loose-file").write_text("x")
    assert [m["artifact_id"] for m in list_manifests(settings.models_dir, settings)] == ["new", "old"]
    assert list_manifests(settings.models_dir / "absent", settings) == []


def test_rewriting_an_artifact_removes_its_stale_files(settings: Settings) -> None:
    folder = _write(settings)
    keep = folder / "notes-0123456789abcdef.txt"
    keep.write_text("not ours")
    manifest = {"artifact_id": "v1", "created_at": "x", "library_versions": library_versions()}
    write_artifact(folder, manifest, {"answer": 43}, pd.DataFrame({"ID": ["b"]}), settings)
    assert len(list(folder.glob("bundle-*"))) == 1
    assert len(list(folder.glob("customers-*"))) == 1
    assert keep.exists()
    assert load_artifact(folder, settings).bundle == {"answer": 43}


def test_artifact_id_is_slug_and_two_hashes() -> None:
    assert (
        artifact_id("My Shop (2024)!", "0123456789abcdef", "fedcba9876543210") == "my-shop-2024-0123456789-fedcba9876"
    )
    assert artifact_id("***", "a" * 12, "b" * 12) == "data-aaaaaaaaaa-bbbbbbbbbb"
    assert artifact_id("x" * 50, "1" * 10, "2" * 10) == "x" * 40 + "-1111111111-2222222222"


def test_a_key_file_others_can_read_or_too_short_is_refused(settings: Settings) -> None:
    path = settings.secret_file
    path.parent.mkdir(parents=True)
    path.write_text("k" * 40)
    os.chmod(path, 0o640)
    with pytest.raises(keys.SecretKeyError, match=r"can be read by other users \(mode 640\); run `chmod 600 "):
        keys.installation_secret(settings, create=False)
    os.chmod(path, 0o600)
    assert keys.installation_secret(settings, create=False) == b"k" * 40
    path.write_text("short")
    with pytest.raises(keys.SecretKeyError, match=r"is too short; delete it to create a new one\.$"):
        keys.installation_secret(settings, create=False)


def test_the_environment_secret_wins_and_must_be_long_enough(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(keys.ENV_VAR, "  " + "s" * 40 + "  ")
    assert keys.installation_secret(settings, create=True) == b"s" * 40
    assert not settings.secret_file.exists()
    monkeypatch.setenv(keys.ENV_VAR, "short")
    with pytest.raises(keys.SecretKeyError, match=rf"^{keys.ENV_VAR} is too short; use at least"):
        keys.installation_secret(settings, create=True)


def test_derived_keys_are_hmac_of_the_purpose(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import hmac

    monkeypatch.setenv(keys.ENV_VAR, "s" * 40)
    expected = hmac.new(b"s" * 40, b"artifact-signing", hashlib.sha256).digest()
    assert keys.derived_key(settings, keys.ARTIFACT_SIGNING) == expected
    assert keys.existing_derived_key(settings, keys.ARTIFACT_SIGNING) == expected
    assert keys.derived_key(settings, "flask-session") != expected
    with pytest.raises(ValueError, match=r"unknown key purpose 'other'"):
        keys.derived_key(settings, "other")


# --- registry and db: owner checks ------------------------------------------------------------------------------------


@pytest.fixture
def registry(settings: Settings) -> Registry:
    reg = Registry(database_path(settings))
    yield reg
    reg.close()


def test_connections_create_their_folder_and_stay_in_their_thread(tmp_path: Path) -> None:
    import threading

    conn = connect(tmp_path / "a" / "b" / "state.sqlite3")
    assert (tmp_path / "a" / "b" / "state.sqlite3").is_file()
    errors: list[BaseException] = []

    def use() -> None:
        try:
            conn.execute("SELECT 1")
        except sqlite3.ProgrammingError as err:
            errors.append(err)

    worker = threading.Thread(target=use)
    worker.start()
    worker.join()
    assert len(errors) == 1  # one connection per thread (Registry opens one in each)
    conn.close()


def test_database_settings(settings: Settings) -> None:
    path = database_path(settings)
    assert path == settings.data_dir / "state.sqlite3"
    conn = connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.isolation_level is None
    conn.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
    assert [tuple(r) for r in conn.execute("SELECT x FROM t")] == [(2,)]
    assert conn.execute("SELECT x FROM t").fetchone()["x"] == 2
    conn.close()


@pytest.mark.parametrize("bad", ["", "a\nb", "\x7f", "x" * 201, None, 5])
def test_an_unusable_identity_is_refused(bad: object, registry: Registry) -> None:
    with pytest.raises(AccessDenied, match=r"^No valid identity for this request; reload the page\.$"):
        check_owner(bad)  # type: ignore[arg-type]
    assert not registry.can_read(bad, "v1")  # type: ignore[arg-type]


def test_identities() -> None:
    assert check_owner("x" * 200) == "x" * 200
    owner = new_anonymous_owner()
    assert owner.startswith("anon-") and len(owner) == 5 + 32
    assert owner != new_anonymous_owner()


def test_missing_and_foreign_versions_get_the_same_refusal(registry: Registry) -> None:
    registry.add_version("alice", "v1", "shop", "cli")
    for owner, version in [("bob", "v1"), ("bob", "nope"), ("alice", "nope"), ("alice", None), ("alice", "")]:
        with pytest.raises(AccessDenied) as err:
            registry.version(owner, version)
        assert str(err.value) == NOT_AVAILABLE
        assert not registry.can_read(owner, version)
    assert registry.can_read("alice", "v1")
    seen = registry.version("alice", "v1")
    assert (seen.artifact_id, seen.dataset_name, seen.source, seen.mine, seen.shared, seen.owner) == (
        "v1",
        "shop",
        "cli",
        True,
        False,
        "alice",
    )


def test_sharing_lets_others_read_but_only_the_owner_change(registry: Registry) -> None:
    registry.add_version("alice", "v1", "shop", "cli")
    shared = registry.share("alice", "v1")
    assert shared.shared and shared.mine
    seen = registry.version("bob", "v1")
    assert (seen.mine, seen.shared, seen.owner) == (False, True, "alice")
    with pytest.raises(AccessDenied) as err:
        registry.remove_version("bob", "v1")
    assert str(err.value) == ONLY_OWNER
    with pytest.raises(AccessDenied, match=ONLY_OWNER):
        registry.share("bob", "v1", False)
    assert not registry.share("alice", "v1", False).shared
    with pytest.raises(AccessDenied, match=NOT_AVAILABLE):
        registry.version("bob", "v1")


def test_system_versions_are_readable_by_all_and_kept(registry: Registry) -> None:
    registry.add_system_version("sample", "Sample")
    seen = registry.version("bob", "sample")
    assert (seen.mine, seen.shared, seen.owner, seen.system, seen.source) == (False, True, SYSTEM, True, "default")
    for action in (registry.remove_version, registry.owned):
        with pytest.raises(AccessDenied) as err:
            action("bob", "sample")
        assert str(err.value) == SYSTEM_KEPT
    with pytest.raises(AccessDenied, match=r"^The built-in data sets are always shared\.$"):
        registry.share(SYSTEM, "sample", False)
    with pytest.raises(AccessDenied, match=SYSTEM_KEPT):
        registry.remove_version(SYSTEM, "sample")


def test_removing_the_last_hold_orphans_a_version(registry: Registry) -> None:
    registry.add_version("alice", "v1", "shop", "cli")
    registry.add_version("bob", "v1", "shop", "cli")
    registry.add_version("bob", "v1", "other name", "x")  # idempotent: the first record stays
    assert registry.version("bob", "v1").dataset_name == "shop"
    assert registry.remove_version("alice", "v1")[1] is False
    assert registry.known("v1")
    record, orphaned = registry.remove_version("bob", "v1")
    assert orphaned is True and record.owner == "bob"
    assert not registry.known("v1")


def test_versions_lists_own_shared_and_system_once_each(registry: Registry) -> None:
    registry.add_system_version("sample", "Sample")
    registry.add_version("alice", "sample", "Sample", "sample")
    registry.add_version("alice", "a1", "A", "cli")
    registry.add_version("carol", "c1", "C", "cli", shared=True)
    registry.add_version("carol", "c2", "C2", "cli")
    seen = {v.artifact_id: (v.mine, v.owner) for v in registry.versions("alice")}
    assert seen == {"sample": (True, "alice"), "a1": (True, "alice"), "c1": (False, "carol")}
    bob = {v.artifact_id: (v.mine, v.owner) for v in registry.versions("bob")}
    assert bob == {"sample": (False, SYSTEM), "c1": (False, "carol")}


KEY = "0123456789abcdef" * 2


def test_uploads_are_the_owners_only(registry: Registry) -> None:
    record, created = registry.add_upload("alice", KEY, "shop.csv", 10, "h1", "/srv/u1")
    assert created and (record.key, record.owner, record.size, record.path) == (KEY, "alice", 10, "/srv/u1")
    again, created = registry.add_upload("alice", "f" * 32, "copy.csv", 10, "h1", "/srv/u2")
    assert not created and again.key == KEY  # same content, same owner: stored once
    assert registry.find_upload("alice", "h1").key == KEY
    assert registry.find_upload("bob", "h1") is None
    for owner, key in [("bob", KEY), ("alice", "f" * 32), ("alice", None), ("alice", "../x"), ("alice", KEY.upper())]:
        with pytest.raises(AccessDenied) as err:
            registry.upload(owner, key)
        assert str(err.value) == UPLOAD_NOT_AVAILABLE
    with pytest.raises(AccessDenied, match=UPLOAD_NOT_AVAILABLE):
        registry.delete_upload("bob", KEY)
    with pytest.raises(DataError, match=r"^Invalid upload key\.$"):
        registry.add_upload("alice", "short", "x", 1, "h2", "/p")
    assert [u.key for u in registry.uploads("alice")] == [KEY]
    assert registry.uploads("bob") == []
    assert registry.delete_upload("alice", KEY).key == KEY
    assert registry.uploads("alice") == []


def test_upload_housekeeping_by_age(registry: Registry) -> None:
    registry.add_upload("alice", KEY, "shop.csv", 10, "h1", "/srv/u1")
    conn = sqlite3.connect(registry.path)
    conn.execute("UPDATE uploads SET uploaded_at = '2000-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    assert [u.key for u in registry.uploads_before("2000-01-01T00:00:01+00:00")] == [KEY]
    assert registry.uploads_before("2000-01-01T00:00:00+00:00") == []
    registry.touch_upload("alice", KEY)
    assert registry.uploads_before("2000-01-02T00:00:00+00:00") == []
    registry.forget_upload(KEY)
    assert registry.uploads("alice") == []


def test_every_owner_taking_call_refuses_an_unusable_identity(registry: Registry) -> None:
    registry.add_version("alice", "v1", "shop", "cli")
    calls = [
        lambda o: registry.add_upload(o, KEY, "x.csv", 1, "h", "/p"),
        lambda o: registry.find_upload(o, "h"),
        lambda o: registry.upload(o, KEY),
        lambda o: registry.uploads(o),
        lambda o: registry.add_version(o, "v2", "shop", "cli"),
        lambda o: registry.version(o, "v1"),
        lambda o: registry.versions(o),
    ]
    for call in calls:
        with pytest.raises(AccessDenied, match=r"^No valid identity for this request; reload the page\.$"):
            call("bad\x00owner")
    assert registry.uploads("alice") == []
    assert not registry.known("v2")


def test_write_json_atomic_creates_its_folder_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "state.json"
    artifacts.write_json_atomic(target, {"a": 1, "when": pd.Timestamp("2024-01-02")})
    assert json.loads(target.read_text()) == {"a": 1, "when": "2024-01-02 00:00:00"}
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_sha256_file_is_the_content_hash(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000  # more than one read chunk
    path.write_bytes(data)
    assert artifacts.sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_the_key_folder_is_created_private_however_deep(tmp_path: Path) -> None:
    settings = Settings(secret_file=tmp_path / "a" / "b" / "key")
    key = keys.derived_key(settings, keys.ARTIFACT_SIGNING)
    assert len(key) == 32
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert keys.existing_derived_key(settings, keys.ARTIFACT_SIGNING) == key


def test_a_thread_reuses_its_connection_and_a_forked_process_opens_its_own(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection per process and thread: the same object on every call, a new one after a fork."""
    from pipeline.store import registry as registry_module

    first = registry._conn()
    assert registry._conn() is first
    registry.add_version("alice", "v1", "shop", "cli")
    real_pid = os.getpid()
    monkeypatch.setattr(registry_module.os, "getpid", lambda: real_pid + 1)  # as seen in a forked child
    child = registry._conn()
    assert child is not first
    assert registry._conn() is child
    assert registry.version("alice", "v1").dataset_name == "shop"  # the child's connection sees the same file
    child.close()


# --- keys: where the secret lives, its boundaries and its refusals ---------------------------------------------------


def test_the_secret_lives_in_the_absolute_config_home_or_in_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert keys.config_dir() == tmp_path / "xdg" / "customer-segments"
    assert keys.secret_path(Settings()) == tmp_path / "xdg" / "customer-segments" / "secret-key"
    assert keys.secret_path(Settings(secret_file=tmp_path / "mine")) == tmp_path / "mine"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for relative_or_empty in ("relative/dir", ""):
        monkeypatch.setenv("XDG_CONFIG_HOME", relative_or_empty)
        assert keys.config_dir() == tmp_path / "home" / ".config" / "customer-segments"


@pytest.mark.parametrize(("length", "accepted"), [(15, False), (16, True), (17, True)])
def test_a_secret_needs_at_least_16_characters_in_the_file_and_in_the_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, length: int, accepted: bool
) -> None:
    path = settings.secret_file
    path.parent.mkdir(parents=True)
    path.write_text("k" * length + "\n")
    os.chmod(path, 0o600)
    monkeypatch.setenv(keys.ENV_VAR, "e" * length)
    if accepted:
        assert keys.installation_secret(settings, create=False) == b"e" * length
        monkeypatch.delenv(keys.ENV_VAR)
        assert keys.installation_secret(settings, create=False) == b"k" * length
        return
    with pytest.raises(keys.SecretKeyError) as err:
        keys.installation_secret(settings, create=False)
    assert str(err.value) == f"{keys.ENV_VAR} is too short; use at least 16 characters."
    monkeypatch.delenv(keys.ENV_VAR)
    with pytest.raises(keys.SecretKeyError) as err:
        keys.installation_secret(settings, create=False)
    assert str(err.value) == f"The secret key file {path} is too short; delete it to create a new one."


def test_an_unreadable_secret_file_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    with pytest.raises(keys.SecretKeyError) as err:
        keys._read_secret(missing)
    assert str(err.value) == f"Cannot read the secret key file {missing}: No such file or directory."


def test_a_secret_file_that_cannot_be_created_says_why(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    path = tmp_path / "file" / "key"
    with pytest.raises(keys.SecretKeyError) as err:
        keys.installation_secret(Settings(secret_file=path), create=True)
    assert str(err.value) == (
        f"Cannot create the secret key file {path}: File exists. Set {keys.ENV_VAR} or make its folder writable."
    )


def test_the_secret_is_created_in_an_existing_folder_and_kept_when_another_process_wrote_it_first(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    created = keys.installation_secret(Settings(secret_file=folder / "key"), create=True)
    assert created == (folder / "key").read_bytes() and len(created) == 64
    assert keys.installation_secret(Settings(secret_file=folder / "key"), create=True) == created
    # Lost the race: the file appeared between the check and the exclusive create; the other writer's secret wins.
    (folder / "other").write_text("o" * 32)
    os.chmod(folder / "other", 0o600)
    assert keys._create_secret(folder / "other") == b"o" * 32


def test_close_closes_this_threads_connection_but_never_a_parents(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.store import registry as registry_module

    first = registry._conn()
    registry.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        first.execute("SELECT 1")
    registry.close()  # nothing open: nothing to do
    second = registry._conn()
    assert second is not first
    real_pid = os.getpid()
    monkeypatch.setattr(registry_module.os, "getpid", lambda: real_pid + 1)  # a forked child holding it
    registry.close()
    assert second.execute("SELECT 1").fetchone()[0] == 1  # the parent's connection is left open
    second.close()


@pytest.mark.parametrize("bad", ["", "a\nb", None])
def test_an_unusable_identity_cannot_read_even_a_shared_version(bad: object, registry: Registry) -> None:
    registry.add_version("alice", "v1", "shop", "cli", shared=True)
    assert registry.can_read("bob", "v1") is True
    assert registry.can_read(bad, "v1") is False  # type: ignore[arg-type]
    assert registry.can_read("bob", "") is False
    assert registry.can_read("bob", None) is False
    assert registry.can_read("bob", "v2") is False


# --- artifacts: what is written, and what a rewrite or a failed write leaves behind -----------------------------------


def test_a_failed_content_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.os, "fsync", fail)  # the bytes are written, then the flush to disk fails
    with pytest.raises(OSError, match="disk full"):
        artifacts._commit_content(tmp_path, "bundle", ".joblib", b"half")
    assert list(tmp_path.iterdir()) == []


def test_a_rewrite_keeps_json_and_unrelated_files_and_the_customers_index_is_not_stored(settings: Settings) -> None:
    folder = _write(settings)
    kept = [folder / "notes-0123456789abcdef.json", folder / "my-notes.txt", folder / "readme"]
    for path in kept:
        path.write_text("not ours")
    manifest = {"artifact_id": "v1", "created_at": "x", "library_versions": library_versions()}
    customers = pd.DataFrame({"ID": ["b", "c"]}, index=[5, 7])
    write_artifact(folder, manifest, {"answer": 43}, customers, settings)
    assert all(path.exists() for path in kept)
    loaded = load_artifact(folder, settings)
    assert loaded.customers.index.tolist() == [0, 1]
    assert loaded.customers.columns.tolist() == ["ID"]


def test_the_signature_does_not_depend_on_the_order_of_the_manifest_keys(settings: Settings) -> None:
    folder = _write(settings)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    (folder / MANIFEST_NAME).write_text(json.dumps(dict(reversed(list(manifest.items())))))
    assert load_artifact(folder, settings).bundle == {"answer": 42}


def test_library_versions_record_python_and_name_a_missing_library(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform
    from importlib import metadata

    versions = library_versions()
    assert versions["python"] == platform.python_version()
    assert list(versions) == ["python", *artifacts.RECORDED_LIBRARIES]
    real = metadata.version

    def without_pyarrow(name: str) -> str:
        if name == "pyarrow":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(artifacts.metadata, "version", without_pyarrow)
    fresh = dict(artifacts._installed_versions.__wrapped__())
    assert fresh["pyarrow"] == "missing"
    assert fresh["numpy"] == versions["numpy"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open descriptors through /proc")
def test_atomic_writes_leave_no_file_descriptor_open(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for i in range(5):
        artifacts.write_json_atomic(tmp_path / f"s{i}.json", {"i": i})
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_version_held_by_the_system_and_shared_by_a_user_is_seen_as_the_systems(registry: Registry) -> None:
    registry.add_version("carol", "sample", "Carol's copy", "cli", shared=True)
    registry.add_system_version("sample", "Sample")
    seen = registry.version("bob", "sample")
    assert (seen.owner, seen.dataset_name, seen.source, seen.mine, seen.shared) == (
        SYSTEM,
        "Sample",
        "default",
        False,
        True,
    )
    assert [(v.owner, v.dataset_name) for v in registry.versions("bob")] == [(SYSTEM, "Sample")]
    assert registry.version("carol", "sample").owner == "carol"  # her own row first
