"""Trusted artifacts only: the installation secret, forged versions and the artifact guards (issues 8 and 15)."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import joblib
import pytest

from pipeline.config import Settings
from pipeline.errors import ArtifactError
from pipeline.segmentation.training import artifact_dir, dataset_from_bytes, train
from pipeline.store import artifacts, keys
from pipeline.store.artifacts import MANIFEST_NAME, list_manifests, load_artifact, read_manifest, valid_artifact_id
from pipeline.synthetic.customers import generate_sample, to_text_bytes

ROOT = Path(__file__).resolve().parents[1]


class Payload:
    """Unpickling this creates ``path`` (stands in for any code an attacker would run)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (builtins.open, (self.path, "w"))


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder of this test alone (the secret is created there on first write)."""
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv(keys.ENV_VAR, raising=False)
    return home


@pytest.fixture
def fresh(tmp_path: Path, own_home: Path) -> Settings:
    return Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data")


def small_dataset(settings: Settings, rows: int = 200, seed: int = 5):
    frame, _ = generate_sample(rows, seed)
    return dataset_from_bytes(to_text_bytes(frame), f"small-{seed}.tsv", settings)


def forge(directory: Path, sentinel: Path) -> Path:
    """Turn an artifact folder into a forged one: malicious bundle, own key beside it, re-signed manifest.

    The key is put where the old scheme read it (``<models_dir>/.signing-key``) and inside the folder.
    """
    bundle_path = next(directory.glob("bundle-*.joblib"))
    bundle_path.unlink()
    evil = directory / "bundle-0000000000000000.joblib"
    joblib.dump({"pipeline": Payload(sentinel)}, evil)
    digest = artifacts.sha256_file(evil)
    final = directory / f"bundle-{digest[:16]}.joblib"
    evil.rename(final)
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    manifest["files"]["bundle"] = {"name": final.name, "sha256": digest}
    key = os.urandom(32)
    for place in (directory / ".signing-key", directory.parent / ".signing-key"):
        place.write_bytes(key)
        place.chmod(0o600)
    manifest["signature"] = hmac.new(key, artifacts._canonical(manifest), hashlib.sha256).hexdigest()
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))
    return directory


def test_the_payload_is_real(tmp_path: Path) -> None:
    """Control: loading the malicious bundle directly does run its code (so the refusals below mean something)."""
    sentinel = tmp_path / "ran"
    joblib.dump({"pipeline": Payload(sentinel)}, tmp_path / "b.joblib")
    joblib.load(tmp_path / "b.joblib")
    assert sentinel.exists()


# --- the installation secret ---------------------------------------------------------------


def test_secret_is_created_once_with_mode_0600_outside_models(fresh: Settings, own_home: Path) -> None:
    path = own_home / "customer-segments" / "secret-key"
    assert keys.secret_path(fresh) == path
    assert keys.installation_secret(fresh, create=False) is None
    assert not path.exists()
    secret = keys.installation_secret(fresh, create=True)
    assert secret is not None and len(secret) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.installation_secret(fresh, create=True) == secret  # not replaced
    assert not fresh.models_dir.exists()


def test_derived_keys_are_hmac_of_the_purpose(fresh: Settings) -> None:
    secret = keys.installation_secret(fresh, create=True)
    signing = keys.derived_key(fresh, "artifact-signing")
    session = keys.derived_key(fresh, "flask-session")
    assert signing == hmac.new(secret, b"artifact-signing", hashlib.sha256).digest()
    assert session == hmac.new(secret, b"flask-session", hashlib.sha256).digest()
    assert signing != session and len(signing) == 32
    assert keys.existing_derived_key(fresh, "artifact-signing") == signing
    with pytest.raises(ValueError, match="unknown key purpose"):
        keys.derived_key(fresh, "anything")


def test_environment_variable_wins_and_creates_no_file(fresh: Settings, own_home: Path, monkeypatch) -> None:
    monkeypatch.setenv(keys.ENV_VAR, "x" * 40)
    assert keys.installation_secret(fresh, create=True) == b"x" * 40
    assert keys.derived_key(fresh, "artifact-signing") == hmac.new(b"x" * 40, b"artifact-signing", "sha256").digest()
    assert not own_home.exists()
    monkeypatch.setenv(keys.ENV_VAR, "short")
    with pytest.raises(keys.SecretKeyError, match="too short"):
        keys.installation_secret(fresh, create=True)


def test_secret_file_override_and_unsafe_modes(tmp_path: Path, own_home: Path) -> None:
    custom = Settings(secret_file=tmp_path / "elsewhere" / "key")
    assert keys.secret_path(custom) == tmp_path / "elsewhere" / "key"
    keys.derived_key(custom, "flask-session")
    assert (tmp_path / "elsewhere" / "key").is_file() and not own_home.exists()
    (tmp_path / "elsewhere" / "key").chmod(0o644)
    with pytest.raises(keys.SecretKeyError, match="chmod 600"):
        keys.installation_secret(custom, create=False)
    (tmp_path / "elsewhere" / "key").chmod(0o600)
    (tmp_path / "elsewhere" / "key").write_bytes(b"tiny")
    with pytest.raises(keys.SecretKeyError, match="too short"):
        keys.installation_secret(custom, create=False)


def test_secret_file_is_not_a_model_field() -> None:
    assert "secret_file" not in Settings().model_fields()
    assert Settings(secret_file=Path("/a")).model_hash() == Settings().model_hash()


# --- reading never creates a key ---------------------------------------------------------------


def test_reading_without_a_secret_refuses_and_creates_nothing(tmp_path: Path, own_home: Path) -> None:
    """An artifact from another installation, read where no secret exists yet."""
    other = Settings(models_dir=tmp_path / "models", secret_file=tmp_path / "other-installation-key")
    directory = train(small_dataset(other), other).artifact.directory
    here = Settings(models_dir=tmp_path / "models")
    with pytest.raises(ArtifactError, match="has no signing key yet"):
        load_artifact(directory, here)
    with pytest.raises(ArtifactError, match="has no signing key yet"):
        read_manifest(directory, here)
    assert list_manifests(here.models_dir, here) == []
    assert not own_home.exists()
    assert not (tmp_path / "models" / ".signing-key").exists()


def test_training_writes_no_key_into_the_models_folder(fresh: Settings, own_home: Path) -> None:
    train(small_dataset(fresh), fresh)
    assert not list(fresh.models_dir.rglob("*key*"))
    assert stat.S_IMODE((own_home / "customer-segments" / "secret-key").stat().st_mode) == 0o600


def test_another_installations_artifact_is_refused(tmp_path: Path, fresh: Settings) -> None:
    other = Settings(models_dir=tmp_path / "theirs", secret_file=tmp_path / "their-key")
    directory = train(small_dataset(other), other).artifact.directory
    keys.derived_key(fresh, "artifact-signing")  # this installation has a secret too
    with pytest.raises(ArtifactError, match="not signed by this installation"):
        load_artifact(directory, fresh)
    load_artifact(directory, other)  # fine where it was made


# --- forged versions ---------------------------------------------------------------------------


def test_forged_version_is_refused_by_load_and_list(tmp_path: Path, fresh: Settings) -> None:
    directory = train(small_dataset(fresh), fresh).artifact.directory
    sentinel = tmp_path / "payload-ran"
    forge(directory, sentinel)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    with pytest.raises(ArtifactError, match="not signed by this installation"):
        load_artifact(directory, fresh)
    assert list_manifests(fresh.models_dir, fresh) == []
    # Moved anywhere else, with its key beside it, it is still refused.
    elsewhere = shutil.copytree(directory, tmp_path / "usb" / directory.name)
    (elsewhere.parent / ".signing-key").write_bytes((directory / ".signing-key").read_bytes())
    with pytest.raises(ArtifactError, match="not signed by this installation"):
        load_artifact(elsewhere, fresh)
    assert not sentinel.exists()
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_train_refits_over_a_forged_version(tmp_path: Path, fresh: Settings) -> None:
    dataset = small_dataset(fresh)
    directory = train(dataset, fresh).artifact.directory
    assert directory == artifact_dir(dataset, fresh)
    sentinel = tmp_path / "payload-ran"
    forge(directory, sentinel)
    result = train(dataset, fresh)
    assert not result.cached
    assert "not signed by this installation" in (result.note or "")
    assert not sentinel.exists()
    assert load_artifact(directory, fresh).manifest["artifact_id"] == directory.name
    assert len(list(directory.glob("bundle-*.joblib"))) == 1  # the forged bundle was replaced


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=180
    )


def test_score_refuses_a_forged_model_and_the_payload_never_runs(tmp_path: Path, fresh: Settings) -> None:
    directory = train(small_dataset(fresh), fresh).artifact.directory
    sentinel = tmp_path / "payload-ran"
    forge(directory, sentinel)
    frame, _ = generate_sample(50, 9)
    (tmp_path / "new.tsv").write_bytes(to_text_bytes(frame))
    proc = run_cli("score", "--data", "new.tsv", "--model", str(directory), "--out", "o.csv", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "not signed by this installation" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not sentinel.exists()
    assert not (tmp_path / "o.csv").exists()


# --- guards on names (issue 15, item 10) ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["a/b", "../x", "..", "a..b", "", ".hidden", "-x", "a\n", "a b", "a\\b", "/abs", "x" * 122, "é"],
)
def test_artifact_ids_with_path_parts_are_invalid(value: str) -> None:
    assert not valid_artifact_id(value)


@pytest.mark.parametrize("value", ["built-in-sample-39b7309248-e4d25280ac", "a", "A.b_c-1", "x" * 121])
def test_plain_artifact_ids_are_valid(value: str) -> None:
    assert valid_artifact_id(value)


def test_list_manifests_skips_folders_with_invalid_names(fresh: Settings) -> None:
    directory = train(small_dataset(fresh), fresh).artifact.directory
    shutil.copytree(directory, fresh.models_dir / ".hidden-copy")
    assert [m["artifact_id"] for m in list_manifests(fresh.models_dir, fresh)] == [directory.name]


@pytest.mark.parametrize(
    "name",
    [
        "../bundle-0123456789abcdef.joblib",
        "/etc/bundle-0123456789abcdef.joblib",
        "sub/bundle-0123456789abcdef.joblib",
        "bundle-0123456789abcdef.joblib\n",
        "bundle-0123456789ABCDEF.joblib",
        "bundle-0123456789abcde.joblib",
        "customers-0123456789abcdef.parquet",
        "bundle-0123456789abcdef.parquet",
        "manifest.json",
        "",
    ],
)
def test_manifest_file_names_must_be_plain_content_addressed(fresh: Settings, name: str, tmp_path: Path) -> None:
    """A correctly signed manifest that names anything but ``bundle-<sha16>.joblib`` is refused."""
    directory = train(small_dataset(fresh), fresh).artifact.directory
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    manifest["files"]["bundle"]["name"] = name
    manifest["signature"] = artifacts._signature(manifest, artifacts.signing_key(fresh, create=False))
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))
    read_manifest(directory, fresh)  # the signature is fine ...
    with pytest.raises(ArtifactError, match="does not name a valid bundle file"):
        load_artifact(directory, fresh)  # ... the name is not


def test_manifest_without_files_is_refused(fresh: Settings) -> None:
    directory = train(small_dataset(fresh), fresh).artifact.directory
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    manifest["files"] = "bundle-0123456789abcdef.joblib"
    manifest["signature"] = artifacts._signature(manifest, artifacts.signing_key(fresh, create=False))
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="does not name a valid bundle file"):
        load_artifact(directory, fresh)


def test_the_app_refuses_a_forged_version_and_says_so(tmp_path: Path, fresh: Settings) -> None:
    """The dashboard's service: a forged version is reported as such, never loaded, never swapped silently."""
    from dashboard.services import SegmentationService

    good = train(small_dataset(fresh, seed=5), fresh).artifact.directory
    forged = train(small_dataset(fresh, seed=6), fresh).artifact.directory
    sentinel = tmp_path / "payload-ran"
    forge(forged, sentinel)
    svc = SegmentationService(fresh, default_id=good.name)
    svc.store.add_system_version(forged.name, "forged.tsv")  # even if listed for everyone
    _manifest, problem = svc.check(forged.name)
    assert problem is not None and "not signed by this installation" in problem
    assert str(fresh.models_dir) not in problem
    with pytest.raises(ArtifactError, match=r"damaged, not loaded: .*not signed by this installation"):
        svc.checked_view(forged.name, owner="anon-0123456789abcdef")
    shown = svc.view(forged.name, owner="anon-0123456789abcdef")
    assert shown.id == good.name and "not signed by this installation" in (shown.notice or "")
    assert not sentinel.exists()


def test_relative_xdg_config_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keys.config_dir() == tmp_path / ".config" / "customer-segments"


def test_a_secret_created_meanwhile_by_another_process_is_used(fresh: Settings) -> None:
    path = keys.secret_path(fresh)
    first = keys.installation_secret(fresh, create=True)
    assert keys._create_secret(path) == first  # O_EXCL lost the race: read, do not overwrite


def test_an_unwritable_config_folder_gives_one_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    custom = Settings(secret_file=blocker / "secret-key")
    with pytest.raises(keys.SecretKeyError, match=r"Cannot create the secret key file .*Set SEGMENTS_SECRET_KEY"):
        keys.derived_key(custom, "artifact-signing")
    assert keys.installation_secret(custom, create=False) is None


def test_a_customers_file_changed_under_its_name_is_refused(fresh: Settings) -> None:
    """The customer table is hash-checked too: other rows under the manifest's file name are refused."""
    import pandas as pd

    directory = train(small_dataset(fresh), fresh).artifact.directory
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    path = directory / manifest["files"]["customers"]["name"]
    frame = pd.read_parquet(path)
    frame.head(10).to_parquet(path, index=False)  # a valid Parquet file, not the one that was signed
    with pytest.raises(ArtifactError, match=r"The customers file of .* does not match its manifest hash"):
        load_artifact(directory, fresh)


def test_a_model_saved_with_other_library_versions_is_refused(fresh: Settings) -> None:
    """Signed, intact, but pickled under another scikit-learn: retrain, never unpickle across versions."""
    directory = train(small_dataset(fresh), fresh).artifact.directory
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    lib = artifacts.PICKLED_LIBRARIES[0]
    manifest["library_versions"][lib] = "0.0.1"
    manifest["signature"] = artifacts._signature(manifest, artifacts.signing_key(fresh, create=False))
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(artifacts.ArtifactVersionError, match=f"saved with other library versions \\({lib} 0.0.1 → "):
        load_artifact(directory, fresh)
