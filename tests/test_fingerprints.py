"""The app's start recognises an unchanged data file without reading it (issue #12).

Reads are counted by wrapping :func:`pipeline.segmentation.training.file_bytes`:
an unchanged file is read once (the first start), a changed one again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.segmentation import training
from pipeline.store.fingerprints import FINGERPRINTS_NAME, FileStamp, read_fingerprints
from pipeline.synthetic.customers import sample_bytes


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = training.file_bytes

    def counting(path: str | Path) -> bytes:
        seen.append(str(path))
        return original(path)

    monkeypatch.setattr(training, "file_bytes", counting)
    return seen


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "customers.tsv"
    path.write_bytes(sample_bytes(300, 7))
    return path


@pytest.fixture
def local(tmp_path: Path, settings: Settings) -> Settings:
    return settings.replace(models_dir=tmp_path / "models")


def test_unchanged_file_is_not_read_again(data_file: Path, local: Settings, reads: list[str]) -> None:
    first = training.default_artifact_id(data_file, local)
    assert reads == [str(data_file)]
    again = training.default_artifact_id(data_file, local)
    assert again == first
    assert reads == [str(data_file)]
    (fp,) = read_fingerprints(local)
    assert fp.path == str(data_file.resolve())
    assert fp.artifact_id == first
    assert fp.stamp == FileStamp.of(data_file)


def test_new_mtime_same_size_is_read_again(data_file: Path, local: Settings, reads: list[str]) -> None:
    first = training.default_artifact_id(data_file, local)
    st = data_file.stat()
    os.utime(data_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert data_file.stat().st_size == st.st_size
    assert training.default_artifact_id(data_file, local) == first  # same bytes: same model, reused
    assert len(reads) == 2


def test_same_mtime_new_size_is_read_again(data_file: Path, local: Settings, reads: list[str]) -> None:
    first = training.default_artifact_id(data_file, local)
    st = data_file.stat()
    lines = data_file.read_bytes().splitlines(keepends=True)
    data_file.write_bytes(b"".join(lines[:-1]))  # one customer fewer
    os.utime(data_file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert data_file.stat().st_mtime_ns == st.st_mtime_ns
    assert data_file.stat().st_size != st.st_size
    second = training.default_artifact_id(data_file, local)
    assert len(reads) == 2
    assert second != first  # other data, other model
    assert training.default_artifact_id(data_file, local) == second
    assert len(reads) == 2


def test_other_settings_are_not_taken_for_the_remembered_ones(
    data_file: Path, local: Settings, reads: list[str]
) -> None:
    first = training.default_artifact_id(data_file, local)
    other = training.default_artifact_id(data_file, local.replace(k=3))
    assert other != first
    assert len(reads) == 2
    assert {fp.artifact_id for fp in read_fingerprints(local)} == {first, other}


def test_edited_record_is_ignored(data_file: Path, local: Settings, reads: list[str]) -> None:
    training.default_artifact_id(data_file, local)
    record = local.models_dir / FINGERPRINTS_NAME
    payload = json.loads(record.read_text())
    payload["entries"][0]["stamp"]["size"] += 1  # forged: no longer matches its signature
    record.write_text(json.dumps(payload))
    assert read_fingerprints(local) == []
    training.default_artifact_id(data_file, local)
    assert len(reads) == 2


def test_deleted_model_is_trained_again(data_file: Path, local: Settings, reads: list[str]) -> None:
    first = training.default_artifact_id(data_file, local)
    (local.models_dir / first / "manifest.json").unlink()
    assert training.default_artifact_id(data_file, local) == first
    assert len(reads) == 2
    assert (local.models_dir / first / "manifest.json").is_file()
