"""The app's start does only what the first response needs (issue #12: start to HTTP 200 under 1 s).

* The built-in sample is recognised from the signed fingerprint record
  without being generated (:mod:`pipeline.segmentation.start`); a file as
  in tests/test_fingerprints.py.
* Building the app, answering ``/`` and filling the landing page import
  neither scikit-learn nor SciPy (checked in a fresh interpreter).
* An artifact's model is unpickled on first use, from the bytes whose hash
  was checked when it was loaded (:class:`pipeline.store.artifacts.PickledBundle`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dashboard.__main__ import skip_notebook_imports
from pipeline.config import Settings
from pipeline.errors import ArtifactError
from pipeline.segmentation import start, training
from pipeline.store.artifacts import PickledBundle, library_versions, load_artifact, write_artifact
from pipeline.store.fingerprints import FINGERPRINTS_NAME, NO_FILE, read_fingerprints
from pipeline.synthetic.customers import sample_identity

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(rows, seed) of every sample the training code generates."""
    seen: list[tuple[int, int]] = []
    original = training.sample_bytes

    def counting(rows: int = 2240, seed: int = 2014, sep: str = "\t") -> bytes:
        seen.append((rows, seed))
        return original(rows, seed, sep)

    monkeypatch.setattr(training, "sample_bytes", counting)
    return seen


@pytest.fixture
def local(tmp_path: Path, settings: Settings) -> Settings:
    return settings.replace(models_dir=tmp_path / "models", data_dir=tmp_path / "data", sample_rows=300, sample_seed=7)


def test_the_sample_is_recognised_without_being_generated(local: Settings, generated: list) -> None:
    first = start.default_artifact_id(None, local)
    assert generated == [(300, 7)]
    assert start.default_artifact_id(None, local) == first
    assert generated == [(300, 7)]
    (fp,) = read_fingerprints(local)
    assert (fp.path, fp.stamp, fp.artifact_id) == (sample_identity(300, 7), NO_FILE, first)
    assert first == training.default_artifact_id(None, local)  # the training code's answer, generating it


def test_another_sample_is_not_taken_for_the_remembered_one(local: Settings, generated: list) -> None:
    first = start.default_artifact_id(None, local)
    other = start.default_artifact_id(None, local.replace(sample_seed=8))
    assert other != first
    assert generated == [(300, 7), (300, 8)]
    assert start.default_artifact_id(None, local.replace(sample_seed=8)) == other
    assert len(generated) == 2


def test_an_edited_sample_record_is_ignored(local: Settings, generated: list) -> None:
    first = start.default_artifact_id(None, local)
    record = local.models_dir / FINGERPRINTS_NAME
    payload = json.loads(record.read_text())
    payload["entries"][0]["artifact_id"] = "someone-elses-model"  # forged: no longer matches its signature
    record.write_text(json.dumps(payload))
    assert start.default_artifact_id(None, local) == first
    assert len(generated) == 2


def test_a_deleted_sample_model_is_trained_again(local: Settings, generated: list) -> None:
    first = start.default_artifact_id(None, local)
    (local.models_dir / first / "manifest.json").unlink()
    assert start.default_artifact_id(None, local) == first
    assert len(generated) == 2
    assert (local.models_dir / first / "manifest.json").is_file()


def test_sample_identity_names_rows_seed_and_generator() -> None:
    name = sample_identity(300, 7)
    assert name.startswith("built-in sample rows=300 seed=7 ")
    assert name == sample_identity(300, 7)
    assert len({name, sample_identity(301, 7), sample_identity(300, 8)}) == 3


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.integers(10, 10**7), st.integers(0, 2**32)), st.tuples(st.integers(10, 10**7), st.integers(0, 2**32))
)
def test_two_samples_share_a_name_only_when_rows_and_seed_agree(a: tuple[int, int], b: tuple[int, int]) -> None:
    assert (sample_identity(*a) == sample_identity(*b)) == (a == b)


def test_the_checked_bytes_are_unpickled_not_the_file_again(local: Settings) -> None:
    folder = local.models_dir / "v1"
    manifest = {"artifact_id": "v1", "created_at": "2024-01-01T00:00:00", "library_versions": library_versions()}
    write_artifact(folder, manifest, {"answer": 42}, pd.DataFrame({"ID": ["a"], "x": [1.5]}), local)
    loaded = load_artifact(folder, local)
    assert isinstance(loaded.bundle, PickledBundle)
    (bundle_file,) = folder.glob("bundle-*.joblib")
    joblib.dump({"answer": 0}, bundle_file)  # replaced after the check: never unpickled
    assert loaded.bundle["answer"] == 42
    assert dict(loaded.bundle) == {"answer": 42}
    with pytest.raises(ArtifactError, match="does not match its manifest hash"):
        load_artifact(folder, local)


def test_a_notebook_import_fails_only_where_the_server_skips_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    skip_notebook_imports()
    with pytest.raises(ImportError):
        import IPython  # noqa: F401


#: Run in a fresh interpreter: build the app on a recognised sample, answer ``/`` and the landing page's data.
_FIRST_RESPONSES = """
import json, sys
from pathlib import Path
from dashboard.__main__ import skip_notebook_imports
skip_notebook_imports()
from dashboard import ids
from dashboard.app import create_app
from pipeline.config import Settings

settings = Settings(models_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]), sample_rows=300, sample_seed=7)
client = create_app(settings).server.test_client()
statuses = [client.get("/").status_code]
dep = next(d for d in client.get("/_dash-dependencies").get_json() if d["output"].startswith("..overview-kpis."))
outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in dep["output"][2:-2].split("...")]
inputs = [{**i, "value": "light" if i["id"] == ids.THEME else None} for i in dep["inputs"]]
body = {"output": dep["output"], "outputs": outputs, "inputs": inputs, "changedPropIds": [], "state": []}
answer = client.post("/_dash-update-component", json=body)
statuses.append(answer.status_code)
heavy = sorted(m for m in ("sklearn", "scipy", "joblib", "IPython") if sys.modules.get(m) is not None)
print(json.dumps({"statuses": statuses, "heavy": heavy, "page": answer.get_data(as_text=True)}))
"""


def test_start_and_landing_page_import_neither_scikit_learn_nor_scipy(local: Settings) -> None:
    default = start.default_artifact_id(None, local)  # trained here: the app's start recognises it
    names = [s["name"] for s in load_artifact(local.models_dir / default, local).manifest["segments"]]
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FIRST_RESPONSES), str(local.models_dir), str(local.data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200]
    assert result["heavy"] == []
    page = json.dumps(json.loads(result["page"]), ensure_ascii=False)
    assert [name for name in names if name not in page] == []  # every segment's card is there


def test_every_public_comparison_name_resolves_where_it_is_said_to_live() -> None:
    from pipeline.segmentation import compare, comparison

    assert sorted(comparison._HOME) == sorted(comparison.__all__) == sorted(compare.__all__)
    for name, module in comparison._HOME.items():
        assert getattr(compare, name) is getattr(comparison, name)
        assert getattr(comparison, name) is getattr(sys.modules[f"{comparison.__name__}.{module}"], name)
    with pytest.raises(AttributeError, match="has no attribute 'not_a_name'"):
        compare.not_a_name  # noqa: B018
