"""Model comparison: metrics, recommendation rule, stability, sampling, caching, CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, Birch, KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from pipeline.cli import main
from pipeline.cli.compare import comparison_text
from pipeline.config import MODEL_NAMES, Settings
from pipeline.data.quality import DataQualityReport
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation import compare
from pipeline.segmentation.comparison import cache as cache_module
from pipeline.segmentation.model import NearestCentroidClusterer, build_pipeline, make_clusterer
from pipeline.segmentation.training import Dataset
from pipeline.synthetic.customers import sample_bytes

ROOT = Path(__file__).resolve().parents[1]
TIMING_KEYS = {"seconds", "fit_seconds", "created_at"}


def make_dataset(X: np.ndarray, name: str) -> tuple[Dataset, tuple[str, ...]]:
    """A Dataset whose features are the columns of ``X`` (f0, f1, ...)."""
    cols = tuple(f"f{i}" for i in range(X.shape[1]))
    frame = pd.DataFrame(X, columns=list(cols))
    frame.insert(0, "ID", np.arange(len(X)))
    report = DataQualityReport(rows_read=len(X), rows_kept=len(X))
    return Dataset(name, f"hash-{name}", frame, report, dt.date(2020, 1, 1)), cols


def run(dataset: Dataset, settings: Settings, **kwargs: Any) -> dict[str, Any]:
    """The comparison's JSON form (what the cache file and ``compare --json`` hold)."""
    return compare.run_comparison(dataset, settings, **kwargs).to_dict()


def three_blobs(seed: int = 0, per_blob: int = 100) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return np.vstack([rng.normal(c, 0.6, size=(per_blob, 2)) for c in centres])


def by_name(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in result["models"] if m["name"] == name)


def sweep_row(result: dict[str, Any], model: str, k: int) -> dict[str, Any]:
    return next(r for r in result["k_sweep"] if r["model"] == model and r["k"] == k)


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


@pytest.fixture(scope="module")
def blobs() -> tuple[Dataset, Settings, dict[str, Any]]:
    """Three well-separated blobs compared with the default settings (20 resamples, k = 4)."""
    dataset, cols = make_dataset(three_blobs(), "blobs")
    settings = Settings(features=cols)
    assert settings.bootstrap_resamples >= 20
    return dataset, settings, run(dataset, settings)


# --------------------------------------------------------------------------- metric values


def test_silhouette_matrix_equals_sklearn_including_noise_and_singletons() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(240, 3))
    X[:80] += 4
    km = KMeans(3, n_init=3, random_state=0).fit_predict(X)
    noisy = np.where(rng.random(240) < 0.15, -1, km)
    singleton = km.copy()
    singleton[7] = 9  # a segment of one customer: silhouette 0 by definition
    values = compare.silhouette_matrix(X, [km, noisy, singleton])
    for j, labels in enumerate([km, noisy, singleton]):
        keep = labels >= 0
        np.testing.assert_allclose(values[keep, j], silhouette_samples(X[keep], labels[keep]), atol=1e-12)
        assert np.isnan(values[~keep, j]).all()
        assert np.nanmean(values[:, j]) == pytest.approx(silhouette_score(X[keep], labels[keep]), abs=1e-12)
    assert values[7, 2] == 0.0


@pytest.fixture
def one_thread() -> Any:
    """Single-threaded BLAS/OpenMP: small fits are much faster on a busy 2-core machine."""
    with threadpool_limits(1):
        yield


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.usefixtures("one_thread")
def test_model_metrics_match_sklearn_on_fixed_data(blobs: tuple[Dataset, Settings, dict[str, Any]]) -> None:
    dataset, settings, result = blobs
    X = StandardScaler().fit_transform(dataset.customers[list(settings.features)])
    seed, k, n = settings.random_state, settings.k, len(X)
    reference = {
        "kmeans": KMeans(k, n_init=settings.n_init, random_state=seed).fit_predict(X),
        "agglomerative": AgglomerativeClustering(k, linkage="ward").fit_predict(X),
        "gmm": GaussianMixture(k, n_init=2, random_state=seed).fit(X).predict(X),
        "birch": Birch(n_clusters=k).fit(X).labels_,
        "hdbscan": HDBSCAN(min_cluster_size=max(10, n // 50), copy=True).fit(X).labels_,
        "dbscan": make_clusterer(settings.replace(model="dbscan"), n_rows=n).fit(X).labels_,
    }
    for name, labels in reference.items():
        entry, keep = by_name(result, name), labels >= 0
        assert entry["n_segments"] == len(np.unique(labels[keep])), name
        assert entry["noise_share"] == pytest.approx(np.mean(labels < 0)), name
        assert entry["silhouette"] == pytest.approx(silhouette_score(X[keep], labels[keep]), abs=1e-9), name
        assert entry["davies_bouldin"] == pytest.approx(davies_bouldin_score(X[keep], labels[keep]), rel=1e-9), name
        assert entry["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X[keep], labels[keep]), rel=1e-9)
        assert entry["sampled_rows"] == n and entry["silhouette_rows"] == keep.sum()
    for j in (2, 5, 7):  # sweep rows: scipy's Ward cut, Birch's re-clustered tree, GMM and KMeans refits
        km = KMeans(j, n_init=settings.n_init, random_state=seed).fit(X)
        assert sweep_row(result, "kmeans", j)["inertia"] == pytest.approx(km.inertia_, rel=1e-9)
        for model, labels in (
            ("kmeans", km.labels_),
            ("agglomerative", AgglomerativeClustering(j, linkage="ward").fit_predict(X)),
            ("birch", Birch(n_clusters=j).fit(X).labels_),
            ("gmm", GaussianMixture(j, n_init=2, random_state=seed).fit(X).predict(X)),
        ):
            row = sweep_row(result, model, j)
            assert row["silhouette"] == pytest.approx(silhouette_score(X, labels), abs=1e-9), (model, j)
            assert row["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels), rel=1e-9), (model, j)


def test_result_is_plain_json_with_documented_fields(blobs: tuple[Dataset, Settings, dict[str, Any]]) -> None:
    _, _, result = blobs
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    for key in ("models", "k_sweep", "elbow_k", "scaling_variants", "kdistance", "silhouette_samples"):
        assert key in result
    for key in ("recommendation", "sampled", "settings_hash", "data_hash", "seconds"):
        assert key in result
    assert [m["name"] for m in result["models"]] == list(MODEL_NAMES)
    for m in result["models"]:
        assert {"label", "params", "predicts_natively", "sampled_rows", "stability_mean", "stability_std"} <= set(m)
        assert m["predicts_natively"] == (m["name"] in ("kmeans", "gmm", "birch"))
        assert ("not_native" in m["flags"]) == (not m["predicts_natively"])
    assert {r["k"] for r in result["k_sweep"] if r["model"] == "kmeans"} == set(range(2, 11))
    assert {v["scaling"] for v in result["scaling_variants"]} == {"standard", "log1p", "yeo-johnson"}
    kd = result["kdistance"]
    assert len(kd["distances"]) <= 500 and kd["distances"] == sorted(kd["distances"])
    assert kd["eps"] == pytest.approx(kd["distances"][kd["knee_index"]])
    assert by_name(result, "dbscan")["params"]["eps"] == pytest.approx(kd["eps"])
    knife = result["silhouette_samples"]
    assert (knife["model"], knife["k"]) == (result["recommendation"]["model"], result["recommendation"]["k"])
    assert len(knife["values"]) == len(knife["labels"]) == knife["rows"] == 300
    assert np.mean(knife["values"]) == pytest.approx(sweep_row(result, "kmeans", 3)["silhouette"])


# --------------------------------------------------------------------------- recommendation


def candidate(model: str, k: int, silhouette: float, stability: float, **extra: Any) -> dict[str, Any]:
    row = {
        "model": model,
        "k": k,
        "silhouette": silhouette,
        "stability_mean": stability,
        "stability_std": 0.01,
        "noise_share": 0.0,
        "min_segment_share": 0.2,
        "n_segments": k,
        "predicts_natively": model in ("kmeans", "gmm", "birch"),
    }
    return {**row, **extra}


def test_recommend_prefers_stability_among_near_best_silhouettes() -> None:
    rec = compare.recommend(
        [
            candidate("kmeans", 2, 0.50, 0.80),
            candidate("kmeans", 4, 0.49, 0.97),  # within 0.02 of the best silhouette, most stable
            candidate("gmm", 4, 0.40, 0.99),  # most stable overall, but silhouette too far behind
            candidate("dbscan", 3, 0.60, 0.99, noise_share=0.08),  # best silhouette, but noisy
            candidate("birch", 6, 0.495, 0.99, min_segment_share=0.02),  # a 2% segment
            candidate("birch", 4, 0.495, 0.99, n_segments=3),  # fewer segments than asked for
        ],
        "standard",
    )
    assert (rec["model"], rec["k"], rec["scaling"]) == ("kmeans", 4, "standard")
    assert rec["eligible"] and rec["command"] == "python -m pipeline train --model kmeans --k 4 --scaling standard"
    assert "highest stability" in rec["reason"] and "within 0.02 of the best (0.500)" in rec["reason"]
    assert "DBSCAN: 8% of customers are noise" in rec["reason"]
    considered = {(c["model"], c["k"]): c for c in rec["considered"]}
    assert not considered[("birch", 6)]["eligible"] and considered[("kmeans", 2)]["eligible"]
    assert considered[("birch", 4)]["why_not"] == ["found 3 segments for k = 4"]


def test_recommend_breaks_stability_ties_by_native_prediction_then_elbow() -> None:
    tied = [
        candidate("hdbscan", 4, 0.50, 0.99),  # best silhouette, tied stability, but not native
        candidate("kmeans", 2, 0.485, 0.985),
        candidate("kmeans", 4, 0.49, 0.984),
        candidate("kmeans", 6, 0.495, 0.99),
        candidate("kmeans", 3, 0.49, 0.95),  # stability not tied
    ]
    assert compare.recommend(tied, "log1p", elbow=4)["k"] == 4
    assert compare.recommend(tied, "log1p", elbow=4)["model"] == "kmeans"
    assert compare.recommend(tied, "log1p", elbow=None)["k"] == 6  # then the higher silhouette
    density = compare.recommend([candidate("dbscan", 5, 0.6, 0.9)], "standard")
    assert density["command"] == "python -m pipeline train --model dbscan --scaling standard"


def test_recommend_relaxes_when_nothing_is_eligible_and_handles_no_segments() -> None:
    rec = compare.recommend(
        [candidate("kmeans", 3, 0.4, 0.9, min_segment_share=0.03), candidate("dbscan", 1, 0.0, 1.0, n_segments=1)],
        "standard",
    )
    assert rec["model"] == "kmeans" and not rec["eligible"]
    assert rec["reason"].startswith("No candidate met every condition")
    none = compare.recommend([candidate("dbscan", 1, 0.0, 1.0, n_segments=1)], "standard")
    assert none["model"] is None and none["command"] is None


def test_elbow_of_inertia_curve() -> None:
    ks = list(range(2, 11))
    assert compare.elbow_k(ks, [100, 22, 18, 15, 13, 12, 11, 10, 9]) == 3
    assert compare.elbow_k(ks, [100, 80, 60, 20, 17, 15, 14, 13, 12]) == 5
    assert compare.elbow_k([], []) is None


def test_three_blobs_recommend_k3(blobs: tuple[Dataset, Settings, dict[str, Any]]) -> None:
    _, settings, result = blobs
    rec = result["recommendation"]
    assert settings.k == 4  # the chosen k differs from the structure in the data
    assert (rec["model"], rec["k"], rec["eligible"]) == ("kmeans", 3, True)
    assert result["elbow_k"] == 3
    assert "KMeans, k = 3" in rec["reason"]


def test_dominant_blob_plus_noise_flags_dbscan_for_noise() -> None:
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(0, 1, size=(400, 2)), rng.uniform(-12, 12, size=(60, 2))])
    dataset, cols = make_dataset(X, "blob-noise")
    result = run(dataset, Settings(features=cols, bootstrap_resamples=3))
    dbscan = by_name(result, "dbscan")
    assert dbscan["noise_share"] > compare.MAX_NOISE_SHARE
    assert "noise" in dbscan["flags"] and any("noise" in note for note in dbscan["notes"])
    assert "noise" not in by_name(result, "kmeans")["flags"]
    rec = result["recommendation"]
    assert rec["model"] != "dbscan"
    assert all(not c["eligible"] for c in rec["considered"] if c["model"] == "dbscan")


# --------------------------------------------------------------------------- stability


def test_stability_near_one_on_blobs_and_lower_on_uniform_noise(
    blobs: tuple[Dataset, Settings, dict[str, Any]],
) -> None:
    _, _, result = blobs
    separated = sweep_row(result, "kmeans", 3)
    assert separated["stability_mean"] > 0.97 and separated["stability_std"] < 0.05
    dataset, cols = make_dataset(np.random.default_rng(1).uniform(size=(300, 4)), "uniform")
    noise = by_name(run(dataset, Settings(features=cols)), "kmeans")
    assert len(noise["stability_scores"]) == 20
    assert noise["stability_mean"] < 0.8
    assert separated["stability_mean"] - noise["stability_mean"] > 0.2


# --------------------------------------------------------------------------- sampling, determinism


def test_sampling_path_above_max_exact_rows() -> None:
    rng = np.random.default_rng(2)
    dataset, cols = make_dataset(np.vstack([three_blobs(2, 120), rng.normal(3, 3, size=(40, 2))]), "big")
    steps: list[tuple[float, str]] = []
    settings = Settings(features=cols, max_exact_rows=300, bootstrap_resamples=3)
    result = run(dataset, settings, progress=lambda f, m: steps.append((f, m)))
    fractions = [f for f, _ in steps]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    sampled = result["sampled"]
    assert sampled["applied"] and (sampled["rows_used"], sampled["rows_total"]) == (300, 400)
    assert "Computed on 300 of 400 customers" in sampled["message"]
    for m in result["models"]:
        assert m["sampled_rows"] == 300 and "sampled" in m["flags"]
        assert m["silhouette_rows"] <= 300
    assert result["kdistance"]["rows"] == 300
    assert result["silhouette_samples"]["rows"] <= 300
    assert json.dumps(result, allow_nan=False)


def test_large_data_sweeps_other_models_on_the_stability_sample() -> None:
    rng = np.random.default_rng(3)
    dataset, cols = make_dataset(np.vstack([three_blobs(3, 400), rng.normal(3, 3, size=(100, 2))]), "larger")
    result = run(dataset, Settings(features=cols, max_exact_rows=1200, bootstrap_resamples=2))
    sampled = result["sampled"]
    assert (sampled["rows_used"], sampled["rows_total"], sampled["stability_rows"]) == (1200, 1300, 1000)
    assert "bootstrap resamples of 1,000 customers" in sampled["message"]
    for row in result["k_sweep"]:
        expected = 1200 if row["model"] == "kmeans" else 1000
        assert row["fit_rows"] == expected and row["silhouette_rows"] <= expected, row
    kmeans = by_name(result, "kmeans")
    assert sweep_row(result, "kmeans", 4)["silhouette"] == kmeans["silhouette"]
    assert len(kmeans["stability_scores"]) == 2
    assert "stability sample" in comparison_text(result)


def test_same_settings_give_identical_results_apart_from_timings() -> None:
    dataset, cols = make_dataset(three_blobs(4, 60), "det")
    settings = Settings(features=cols, bootstrap_resamples=3)
    first, second = run(dataset, settings), run(dataset, settings)
    assert without_timings(first) == without_timings(second)
    reseeded = run(dataset, settings.replace(random_state=7))
    assert by_name(reseeded, "kmeans")["stability_scores"] != by_name(first, "kmeans")["stability_scores"]


# --------------------------------------------------------------------------- cache


def test_cache_is_reused_and_stale_files_are_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset, cols = make_dataset(three_blobs(6, 40), "cache")
    settings = Settings(features=cols, bootstrap_resamples=2, models_dir=tmp_path)
    fresh, cached = compare.load_or_run_comparison(dataset, settings)
    assert not cached
    path = compare.comparison_path(dataset, settings)
    assert path.is_file() and path.parent == tmp_path / "comparisons"

    def no_rerun(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("recomputed although a valid cache exists")

    with monkeypatch.context() as patch:
        patch.setattr(cache_module, "run_comparison", no_rerun)
        again, cached = compare.load_or_run_comparison(dataset, settings.replace(model="dbscan"))
    assert cached and again == fresh  # the model choice does not change the comparison

    stale = {**fresh.to_dict(), "settings_hash": "0" * 64}
    path.write_text(json.dumps(stale))
    redone, cached = compare.load_or_run_comparison(dataset, settings)
    assert not cached and redone.settings_hash == compare.comparison_hash(settings)
    path.write_text("{not json")
    assert not compare.load_or_run_comparison(dataset, settings)[1]
    assert compare.load_or_run_comparison(dataset, settings)[1]
    assert compare.comparison_hash(settings) != compare.comparison_hash(settings.replace(k=3))
    assert compare.comparison_hash(settings) != compare.comparison_hash(settings.replace(bootstrap_resamples=30))


def test_typed_result_round_trips_its_json_form(blobs) -> None:
    """The typed result writes the same JSON as before it was typed, and reads it back unchanged."""
    result = blobs[2]
    typed = compare.ComparisonResult.from_dict(result)
    assert typed.to_dict() == result
    assert json.dumps(typed.to_dict()) == json.dumps(result)  # same keys in the same order
    assert list(result) == [
        "format", "data_name", "data_hash", "settings_hash", "settings", "created_at", "models", "k_sweep",
        "elbow_k", "scaling_variants", "kdistance", "silhouette_samples", "recommendation", "sampled", "seconds",
    ]  # fmt: skip
    assert typed.model("dbscan").label == "DBSCAN" and typed.model("kmeans").predicts_natively
    assert typed.recommendation.rule.max_noise_share == compare.MAX_NOISE_SHARE
    assert isinstance(typed.models[0].segment_shares, tuple)
    with pytest.raises(ValueError, match="ComparisonResult: missing field 'sampled'"):
        compare.ComparisonResult.from_dict({k: v for k, v in result.items() if k != "sampled"})
    with pytest.raises(ValueError, match=r"Sampling: unknown fields \['extra'\]"):
        compare.ComparisonResult.from_dict({**result, "sampled": {**result["sampled"], "extra": 1}})


# --------------------------------------------------------------------------- command line


def test_cli_compare_json_on_small_sample(tmp_path: Path) -> None:
    data = tmp_path / "customers.tsv"
    data.write_bytes(sample_bytes(400, 11))
    cmd = [sys.executable, "-m", "pipeline", "compare", "--data", str(data), "--models-dir", str(tmp_path / "m")]
    run = subprocess.run([*cmd, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    assert {"models", "k_sweep", "recommendation", "sampled", "elbow_k", "kdistance", "cached"} <= set(payload)
    assert len(payload["models"]) == 6 and not payload["cached"]
    assert all(len(m["stability_scores"]) == 20 for m in payload["models"])
    assert {"model", "k", "scaling", "reason"} <= set(payload["recommendation"])
    assert payload["sampled"]["rows_total"] == 400 and not payload["sampled"]["applied"]
    text = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "Recommendation: " in text.stdout and "reused from cache" in text.stdout
    assert "DBSCAN" in text.stdout and "k sweep" in text.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "File not found"), (b"a,b\n1,2\n3,4\n", "bad.csv")],
)
def test_cli_compare_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, expected: str
) -> None:
    data = tmp_path / "bad.csv"
    if content is not None:
        data.write_bytes(content)
    status = main(["compare", "--data", str(data), "--models-dir", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err
    assert not (tmp_path / "m" / "comparisons").exists()


def test_compare_refuses_too_few_customers_or_resamples() -> None:
    dataset, cols = make_dataset(three_blobs(0, 5), "tiny")
    with pytest.raises(DataError, match="at least 20"):
        run(dataset, Settings(features=cols))
    dataset, cols = make_dataset(three_blobs(0, 20), "ok")
    with pytest.raises(SegmentationError, match="resamples"):
        run(dataset, Settings(features=cols, bootstrap_resamples=1))


# --------------------------------------------------------------------------- model.py: every model trains


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.usefixtures("one_thread")
def test_every_model_builds_and_predicts_in_the_training_pipeline(name: str) -> None:
    dataset, cols = make_dataset(three_blobs(8, 50), "pipe")
    pipe = build_pipeline(Settings(features=cols, model=name, k=3), dataset.as_of, n_rows=150)
    labels = pipe.fit(dataset.customers).predict(dataset.customers)
    assert len(labels) == 150 and labels.min() >= 0
    truth = np.repeat([0, 1, 2], 50)
    assert adjusted_rand_score(truth, labels) > 0.9


def test_nearest_centroid_clusterer_fits_quadratic_models_on_a_capped_sample() -> None:
    X = StandardScaler().fit_transform(three_blobs(9, 200))
    est = NearestCentroidClusterer(AgglomerativeClustering(3), max_fit_rows=150, random_state=0).fit(X)
    assert est.fit_rows_ == 150 and len(est.labels_) == 600
    assert adjusted_rand_score(np.repeat([0, 1, 2], 200), est.labels_) > 0.99
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    again = NearestCentroidClusterer(AgglomerativeClustering(3), max_fit_rows=150, random_state=0).fit(X)
    np.testing.assert_array_equal(again.cluster_centers_, est.cluster_centers_)
    assert est.get_feature_names_out().tolist() == [
        "nearestcentroidclusterer0",
        "nearestcentroidclusterer1",
        "nearestcentroidclusterer2",
    ]
