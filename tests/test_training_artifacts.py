"""Training end to end: determinism, recovery of the latent types, artifacts, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from pipeline.config import Settings
from pipeline.errors import ArtifactError, ArtifactVersionError, DataError, SegmentationError
from pipeline.segmentation.assignments import COLUMNS
from pipeline.segmentation.training import TrainResult, dataset_from_bytes, fit_segmentation, load_dataset, score, train
from pipeline.store import artifacts
from pipeline.store.artifacts import MANIFEST_NAME, load_artifact, read_manifest
from pipeline.synthetic.customers import generate_sample, to_text_bytes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh(tmp_path: Path) -> Settings:
    return Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data")


def small(settings: Settings, rows: int = 300, seed: int = 3):
    frame, truth = generate_sample(rows, seed)
    return dataset_from_bytes(to_text_bytes(frame), f"small-{seed}.tsv", settings), truth


# --- the model --------------------------------------------------------------------


def test_recovers_latent_types_on_default_sample(trained: TrainResult) -> None:
    _, truth = generate_sample(2240, 2014)
    customers = trained.artifact.customers.set_index("ID")
    ari = adjusted_rand_score(truth.loc[customers.index], customers["Segment"])
    assert ari >= 0.6, f"ARI {ari:.3f}"
    # The names are right for most customers, not just the partition.
    assert (truth.loc[customers.index] == customers["Segment"]).mean() > 0.75


def test_default_sample_has_the_four_core_segments(trained: TrainResult) -> None:
    m = trained.artifact.manifest
    assert m["data"]["n_customers"] == 2240
    assert {s["key"] for s in m["segments"]} == {
        "high_value_loyal",
        "high_spend_low_engagement",
        "new_occasional",
        "low_value",
    }
    assert sum(s["size"] for s in m["segments"]) == 2240
    assert sum(s["value_share"] for s in m["segments"]) == pytest.approx(1.0)
    for s in m["segments"]:
        assert s["evidence"].count("σ") == 4


def test_same_seed_same_labels_and_names(fresh: Settings) -> None:
    ds, _ = small(fresh)
    _, a, ma = fit_segmentation(ds, fresh)
    _, b, mb = fit_segmentation(ds, fresh)
    np.testing.assert_array_equal(a["Cluster"], b["Cluster"])
    assert [s["key"] for s in ma["segments"]] == [s["key"] for s in mb["segments"]]


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_names_do_not_depend_on_kmeans_seed(fresh: Settings, seed: int) -> None:
    ds, _ = small(fresh, rows=800)
    _, base, _ = fit_segmentation(ds, fresh)
    _, other, _ = fit_segmentation(ds, fresh.replace(random_state=seed))
    # Cluster numbers may differ; the named segment of each customer may not.
    assert (base["Segment"] == other["Segment"]).mean() > 0.97


def test_pipeline_predicts_from_raw_rows_and_from_feature_values(trained: TrainResult) -> None:
    pipe = trained.artifact.bundle["pipeline"]
    customers = trained.artifact.customers
    feats = [f["name"] for f in trained.artifact.manifest["features"]]
    from_features = pipe.predict(customers[feats])
    np.testing.assert_array_equal(from_features, customers["Cluster"])
    frame, _ = generate_sample(2240, 2014)
    from pipeline.data.loading import clean_marketing
    from pipeline.data.reading import read_table

    clean, _ = clean_marketing(read_table(to_text_bytes(frame), "raw.tsv"))
    np.testing.assert_array_equal(pipe.predict(clean), customers["Cluster"])


def test_fewer_customers_than_segments(fresh: Settings) -> None:
    frame, _ = generate_sample(10, 1)
    ds = dataset_from_bytes(to_text_bytes(frame.iloc[:3]), "tiny.tsv", fresh)
    with pytest.raises(DataError, match="3 customer\\(s\\), fewer than the 4 segments"):
        train(ds, fresh)


def test_constant_feature_is_refused(fresh: Settings) -> None:
    frame, _ = generate_sample(50, 1)
    for c in ("AcceptedCmp1", "AcceptedCmp2", "AcceptedCmp3", "AcceptedCmp4", "AcceptedCmp5", "Response"):
        frame[c] = frame[c].where(frame[c].isna(), 0)
    ds = dataset_from_bytes(to_text_bytes(frame), "flat.tsv", fresh)
    with pytest.raises(DataError, match="Campaign_Response has the same value for every customer"):
        train(ds, fresh)


def test_invalid_settings_are_user_errors() -> None:
    with pytest.raises(SegmentationError, match="k must be"):
        Settings(k=1)
    with pytest.raises(SegmentationError, match="Unknown model"):
        Settings(model="magic")


# --- artifacts ----------------------------------------------------------------------


def test_artifact_round_trip_and_manifest_contents(fresh: Settings) -> None:
    ds, _ = small(fresh)
    result = train(ds, fresh)
    assert not result.cached
    loaded = load_artifact(result.artifact.directory, fresh)
    m = loaded.manifest
    for key in (
        "library_versions",
        "created_at",
        "settings_hash",
        "metrics",
        "features",
        "segments",
        "pca",
        "data_quality",
    ):
        assert key in m
    assert m["data"]["hash"] == ds.data_hash
    assert m["settings_hash"] == fresh.model_hash()
    assert m["library_versions"]["scikit-learn"]
    assert len(m["pca"]["explained_variance_ratio"]) == 3
    pd.testing.assert_frame_equal(loaded.customers, result.artifact.customers)
    feats = [f["name"] for f in m["features"]]
    np.testing.assert_array_equal(
        loaded.bundle["pipeline"].predict(ds.customers[feats]), result.artifact.customers["Cluster"]
    )


def test_same_data_and_settings_reuse_the_cache(fresh: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ds, _ = small(fresh)
    first = train(ds, fresh)
    monkeypatch.setattr("pipeline.segmentation.training.fit_segmentation", lambda *a, **k: pytest.fail("retrained"))
    second = train(ds, fresh)
    assert second.cached and second.artifact.artifact_id == first.artifact.artifact_id


def test_other_settings_give_a_new_version(fresh: Settings) -> None:
    ds, _ = small(fresh)
    a = train(ds, fresh)
    b = train(ds, fresh.replace(k=3))
    assert a.artifact.artifact_id != b.artifact.artifact_id
    assert len(b.artifact.manifest["segments"]) == 3


def test_tampered_bundle_is_refused(fresh: Settings) -> None:
    ds, _ = small(fresh)
    directory = train(ds, fresh).artifact.directory
    bundle = next(directory.glob("bundle-*.joblib"))
    bundle.write_bytes(bundle.read_bytes() + b"evil")
    with pytest.raises(ArtifactError, match="does not match its manifest hash"):
        load_artifact(directory, fresh)
    # train() refuses to reuse it and replaces it with a fresh fit.
    again = train(ds, fresh)
    assert not again.cached and "not reused" in again.note
    load_artifact(directory, fresh)


def test_forged_manifest_is_refused(fresh: Settings) -> None:
    ds, _ = small(fresh)
    directory = train(ds, fresh).artifact.directory
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    manifest["segments"][0]["name"] = "Forged"
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="not signed by this installation"):
        read_manifest(directory, fresh)


def test_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / MANIFEST_NAME).write_text(json.dumps({"schema": "something-else"}))
    with pytest.raises(ArtifactError, match="not written by this app"):
        load_artifact(tmp_path / "x")
    with pytest.raises(ArtifactError, match="No model artifact"):
        load_artifact(tmp_path / "nothing")


def test_library_version_mismatch(fresh: Settings) -> None:
    """An artifact written (and signed) by this installation under an older scikit-learn."""
    ds, _ = small(fresh)
    directory = train(ds, fresh).artifact.directory
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    manifest["library_versions"]["scikit-learn"] = "0.0.1"
    key = artifacts.signing_key(fresh, create=False)
    manifest["signature"] = artifacts._signature(manifest, key)
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactVersionError, match=r"scikit-learn 0.0.1 → \d"):
        load_artifact(directory, fresh)
    result = train(ds, fresh)
    assert not result.cached and "library versions" in result.note
    load_artifact(directory, fresh)


def test_crash_while_writing_keeps_previous_artifact(fresh: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ds, _ = small(fresh)
    good = train(ds, fresh)
    before = (good.artifact.directory / MANIFEST_NAME).read_bytes()

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "write_json_atomic", crash)
    with pytest.raises(OSError, match="disk full"):
        train(ds, fresh, force=True)
    monkeypatch.undo()
    assert (good.artifact.directory / MANIFEST_NAME).read_bytes() == before
    reloaded = load_artifact(good.artifact.directory, fresh)
    assert reloaded.manifest["created_at"] == good.artifact.manifest["created_at"]
    assert not list(good.artifact.directory.glob(".tmp-*"))


def test_score_gives_every_customer_a_segment(trained: TrainResult, settings: Settings) -> None:
    frame, _ = generate_sample(120, 77)
    ds = dataset_from_bytes(to_text_bytes(frame), "new.tsv", settings)
    scored = score(trained.artifact, ds)
    assert len(scored) == 120
    assert set(scored["Segment_Key"]) <= {s["key"] for s in trained.artifact.manifest["segments"]}
    assert scored["ID"].is_unique


# --- command line -------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_train_json(tmp_path: Path) -> None:
    proc = run_cli("train", "--json", "--models-dir", str(tmp_path / "m"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n_customers"] == 2240 and out["k"] == 4
    assert out["features"] == ["Customer_Value", "Purchase_Frequency", "Campaign_Response", "Customer_For_Years"]
    assert 0 < out["silhouette"] < 1
    assert out["data_quality"]["rows_read"] == 2262
    seg = out["segments"][0]
    assert set(seg) >= {"key", "name", "size", "share", "centroid", "evidence"}
    assert set(seg["centroid"]) == set(out["features"])
    again = json.loads(run_cli("train", "--json", "--models-dir", str(tmp_path / "m"), cwd=tmp_path).stdout)
    assert again["artifact"]["cached"] and again["artifact"]["id"] == out["artifact"]["id"]


def test_cli_sample_then_score(tmp_path: Path) -> None:
    proc = run_cli("sample", "--rows", "150", "--seed", "4", "--out", "s.tsv", "--truth", "t.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    truth = pd.read_csv(tmp_path / "t.csv")
    assert len(truth) == 150 and set(truth.columns) == {"ID", "latent_type"}
    proc = run_cli("score", "--data", "s.tsv", "--out", "scored.csv", "--models-dir", "m", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert list(scored.columns) == [
        *COLUMNS,
        "Customer_Value",
        "Purchase_Frequency",
        "Campaign_Response",
        "Customer_For_Years",
    ]
    assert sorted(scored["ID"]) == sorted(truth["ID"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "missing.csv"], "File not found"),
        (["train", "--data", "junk.csv"], "binary data"),
        (["train", "--as-of", "yesterday"], "YYYY-MM-DD"),
        (["train", "--k", "1"], "k must be"),
        (["score", "--data", "junk.csv", "--out", "o.csv", "--model", "nowhere"], "No model artifact"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "junk.csv").write_bytes(b"\x00\x01junk" * 100)
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_load_dataset_default_is_the_sample(fresh: Settings) -> None:
    ds = load_dataset(None, fresh)
    assert ds.name == "Built-in sample" and len(ds.customers) == 2240
    assert ds.data_hash == load_dataset(None, fresh).data_hash


def test_the_trained_artifact_is_what_loading_it_gives(fresh: Settings) -> None:
    """``train`` returns the artifact built from the bytes it wrote: the same as reading them back."""
    ds, _ = small(fresh)
    result = train(ds, fresh)
    loaded = load_artifact(result.artifact.directory, fresh)
    assert result.artifact.manifest == loaded.manifest
    pd.testing.assert_frame_equal(result.artifact.customers, loaded.customers)
    np.testing.assert_array_equal(result.artifact.bundle["pca"].components_, loaded.bundle["pca"].components_)


def test_churn_fitted_beside_the_segmentation_equals_one_after_the_other(fresh: Settings) -> None:
    from pipeline.churn.measure import measure_churn, transactions_after_as_of

    ds, _ = small(fresh, rows=600)
    _, customers, manifest = fit_segmentation(ds, fresh)
    direct = measure_churn(ds.customers, ds.kind, ds.as_of, fresh, transactions_after_as_of(ds.report.items))
    np.testing.assert_array_equal(customers["p_alive"].to_numpy(), direct.p_alive)
    np.testing.assert_array_equal(customers["expected_clv"].to_numpy(), direct.expected_clv)
    assert json.dumps(manifest["churn_model"], sort_keys=True) == json.dumps(direct.to_dict(), sort_keys=True)


def test_an_error_in_the_churn_fit_is_raised_by_fit_segmentation(
    fresh: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise DataError("the churn fit broke")

    monkeypatch.setattr("pipeline.churn.measure.measure_churn", broken)
    with pytest.raises(DataError, match="the churn fit broke"):
        fit_segmentation(small(fresh)[0], fresh)


def test_value_share_counts_only_the_spend_the_data_gives() -> None:
    """A customer whose spend is missing is placed with the median spend, but adds nothing to a share of spend."""
    from pipeline.segmentation.manifest import describe_segments
    from pipeline.segmentation.naming import SegmentName

    # segment 0: 100 and unknown; segment 1: 900 and 1000.  Measured spend 2000: 5 % and 95 %.
    raw = pd.DataFrame({"Customer_Value": [100.0, np.nan, 900.0, 1000.0]})
    imputed = raw.fillna(raw.median())  # the pipeline's median imputation: the unknown spend becomes 900
    customers = raw.assign(Cluster=[0, 0, 1, 1])
    names = [
        SegmentName(
            label=i,
            key=f"s{i}",
            archetype="x",
            name=f"S{i}",
            objective="",
            actions=(),
            colour="#000",
            evidence="",
            match_distance=0.0,
        )
        for i in (0, 1)
    ]
    segments = describe_segments(imputed, customers, names)
    assert [s["value_share"] for s in segments] == [pytest.approx(0.05), pytest.approx(0.95)]
    # the centroid is the model's (imputed) view; the share is the measured spend's
    assert segments[0]["centroid"]["Customer_Value"] == pytest.approx(500.0)
    # without the raw column (older callers) the imputed spend is all there is
    assert describe_segments(imputed, customers.drop(columns="Customer_Value"), names)[0][
        "value_share"
    ] == pytest.approx(1000.0 / 2900.0)
