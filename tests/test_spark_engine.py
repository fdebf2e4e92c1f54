"""The Spark engine (``train``/``score --engine spark``) against the default engine, on one shared local session.

Without pyspark or Java these tests skip, except in CI (``CI=true``) where a
missing dependency fails.  One local Spark session (``local[2]``, two shuffle
partitions, no UI) serves the whole file (pytest-xdist ``--dist loadfile`` runs
a file in one worker).
"""

from __future__ import annotations

import builtins
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import settings as settings_hyp
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import adjusted_rand_score

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.engines import ENGINES, engine
from pipeline.errors import SegmentationError
from pipeline.segmentation import registry
from pipeline.segmentation.training import TrainResult, load_dataset, score, train
from pipeline.synthetic.customers import generate_sample, to_text_bytes

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROWS = 3000


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -r requirements-spark.txt)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no java (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    """The one local Spark session of this file."""
    missing = _spark_missing()
    if missing:
        if IN_CI:
            pytest.fail(f"Spark tests need pyspark and Java in CI: {missing}")
        pytest.skip(missing)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("segments-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    stop_within(session, STOP_TIMEOUT_S)


#: Spark's shutdown (the JVM's context, then the Python accumulator server's ``shutdown()``, which waits
#: for its serving thread) has no timeout of its own; it takes about 1 s here.
STOP_TIMEOUT_S = 60


def stop_within(session: object, seconds: float) -> bool:
    """Stop the Spark session, or end its JVM when the stop has not returned after ``seconds``; True if it stopped.

    A stop that hangs would otherwise hold this worker after the file's last test, and with it the run.
    """
    stopper = threading.Thread(target=session.stop, daemon=True)  # type: ignore[attr-defined]
    stopper.start()
    stopper.join(seconds)
    if not stopper.is_alive():
        return True
    jvm = getattr(session.sparkContext._gateway, "proc", None)  # type: ignore[attr-defined]
    if jvm is not None:
        jvm.kill()
        jvm.wait(timeout=30)
    return False


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3,000-customer marketing table with four planted customer types."""
    table, _truth = generate_sample(ROWS, seed=7)
    path = tmp_path_factory.mktemp("spark-data") / "planted.csv"
    path.write_bytes(to_text_bytes(table, sep=","))
    return path


@pytest.fixture(scope="module")
def both(spark: object, planted: Path, settings: Settings) -> tuple[TrainResult, TrainResult]:
    """(default, spark) KMeans artifacts trained on the planted table."""
    from pipeline.engines import spark as spark_engine

    default = train(load_dataset(planted, settings), settings)
    trained = spark_engine.train(planted, settings)
    return default, trained


def _by_id(result: TrainResult) -> pd.DataFrame:
    return result.artifact.customers.drop_duplicates("ID").assign(ID=lambda d: d["ID"].astype(str)).set_index("ID")


def test_engine_registry_names_both_engines_and_refuses_others() -> None:
    assert list(ENGINES) == ["default", "spark"]
    assert engine("spark").factory_key == registry.SPARK_ENGINE
    with pytest.raises(SegmentationError, match="Unknown engine 'flink'; choose one of default, spark"):
        engine("flink")
    assert registry.engine_models("spark") == ("kmeans", "gmm")


def test_spark_and_default_engines_agree_on_planted_segments(both: tuple[TrainResult, TrainResult]) -> None:
    default, trained = both
    a, b = _by_id(default), _by_id(trained)
    ids = a.index.intersection(b.index)
    assert len(ids) == len(a) == len(b)
    assert adjusted_rand_score(a.loc[ids, "Cluster"], b.loc[ids, "Cluster"]) >= 0.95
    names_a = {s["name"] for s in default.artifact.manifest["segments"]}
    names_b = {s["name"] for s in trained.artifact.manifest["segments"]}
    assert names_a == names_b
    by_key = {s["key"]: s["name"] for s in trained.artifact.manifest["segments"]}
    by_key_default = {s["key"]: s["name"] for s in default.artifact.manifest["segments"]}
    same = (a.loc[ids, "Segment"].map(by_key_default) == b.loc[ids, "Segment"].map(by_key)).mean()
    assert same >= 0.95


def test_spark_artifact_is_the_default_artifact_shape(both: tuple[TrainResult, TrainResult]) -> None:
    default, trained = both
    m, d = trained.artifact.manifest, default.artifact.manifest
    assert set(d) <= set(m)
    assert m["engine"]["name"] == "spark" and m["engine"]["customers_stored"] == m["data"]["n_customers"]
    assert m["data"]["hash"] == d["data"]["hash"]  # same file, same data hash
    assert trained.artifact.artifact_id != default.artifact.artifact_id  # each engine its own cache entry
    sizes = trained.artifact.customers["Cluster"].value_counts()
    assert {s["label"]: s["size"] for s in m["segments"]} == sizes.to_dict()
    # Centroids in original units: the segment means of the stored (imputed) features.
    seg = m["segments"][0]
    members = trained.artifact.customers[trained.artifact.customers["Cluster"] == seg["label"]]
    assert seg["centroid"]["Customer_Value"] == pytest.approx(members["Customer_Value"].mean(), rel=1e-9)
    scaler = trained.artifact.bundle["pipeline"].named_steps["scale"]
    assert scaler.mean_[0] == pytest.approx(m["population"]["Customer_Value"], rel=1e-9)
    assert list(m["pca"]["loadings"]) == ["PC1", "PC2", "PC3"]


def test_spark_artifact_scores_in_the_default_engine_without_spark(
    both: tuple[TrainResult, TrainResult], planted: Path, settings: Settings
) -> None:
    _, trained = both
    table = score(trained.artifact, load_dataset(planted, settings))
    stored = _by_id(trained)
    keys = table.drop_duplicates("ID").assign(ID=lambda d: d["ID"].astype(str)).set_index("ID")["Segment_Key"]
    assert (keys.loc[stored.index] == stored["Segment"]).all()  # sklearn predicts what Spark assigned
    code = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from pathlib import Path\n"
        "from pipeline.config import Settings\n"
        "from pipeline.store.artifacts import load_artifact\n"
        "from pipeline.segmentation.training import load_dataset, score\n"
        f"s = Settings(models_dir=Path({str(settings.models_dir)!r}))\n"
        f"a = load_artifact(Path({str(trained.artifact.directory)!r}), s)\n"
        f"print(len(score(a, load_dataset(Path({str(planted)!r}), s))), 'pyspark' in sys.modules and sys.modules['pyspark'] is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.split() == [str(len(table)), "False"]


def test_score_with_spark_writes_parquet_that_round_trips(
    both: tuple[TrainResult, TrainResult], planted: Path, settings: Settings, tmp_path: Path, capsys
) -> None:
    _, trained = both
    out = tmp_path / "scored.parquet"
    code = main(
        [
            "score",
            "--engine",
            "spark",
            "--data",
            str(planted),
            "--model",
            str(trained.artifact.directory),
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    back = pd.read_parquet(out)
    assert list(back.columns) == ["ID", "Segment_Key", "Segment_Name", "Model_Version", "As_Of"]
    expected = score(trained.artifact, load_dataset(planted, settings)).drop_duplicates("ID")
    merged = back.merge(expected.assign(ID=expected["ID"].astype(str)), on="ID", suffixes=("", "_default"))
    assert len(back) == trained.artifact.manifest["data"]["n_customers"] == len(merged)
    assert (merged["Segment_Name"] == merged["Segment_Name_default"]).all()
    assert set(back["Model_Version"]) == {trained.artifact.artifact_id}
    assert f"wrote {len(back):,} customers to {out} (Parquet, spark engine)" in capsys.readouterr().out


def test_gaussian_mixture_in_spark_predicts_the_same_in_scikit_learn(
    spark: object, planted: Path, settings: Settings
) -> None:
    from pipeline.engines import spark as spark_engine

    result = spark_engine.train(planted, settings.replace(model="gmm"))
    customers = result.artifact.customers
    pipe = result.artifact.bundle["pipeline"]
    predicted = pipe.predict(customers[list(result.artifact.manifest["settings"]["features"])])
    assert np.mean(predicted == customers["Cluster"].to_numpy()) >= 0.999
    assert result.artifact.manifest["model"]["name"] == "gmm"


def test_unsupported_model_is_one_line_error(planted: Path, settings: Settings, capsys) -> None:
    code = main(
        [
            "train",
            "--engine",
            "spark",
            "--model",
            "dbscan",
            "--data",
            str(planted),
            "--models-dir",
            str(settings.models_dir),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        "error: The spark engine has no DBSCAN (MLlib lacks it); with --engine spark choose --model kmeans, gmm.\n"
    )


def test_missing_pyspark_is_one_line_error(planted: Path, settings: Settings, monkeypatch, capsys) -> None:
    real_import = builtins.__import__

    def no_pyspark(name: str, *args: object, **kwargs: object) -> object:
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    code = main(["train", "--engine", "spark", "--data", str(planted), "--models-dir", str(settings.models_dir)])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: The spark engine needs pyspark: pip install -r requirements-spark.txt (and Java 17 or newer).\n"
    )


def test_missing_java_is_one_line_error(spark: object, planted: Path, settings: Settings, monkeypatch, capsys) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code = main(["train", "--engine", "spark", "--data", str(planted), "--models-dir", str(settings.models_dir)])
    assert code == 2
    assert "error: The spark engine needs Java 17 or newer" in capsys.readouterr().err


def test_spark_engine_needs_a_file(settings: Settings, capsys) -> None:
    code = main(["train", "--engine", "spark", "--models-dir", str(settings.models_dir)])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: --engine spark needs --data FILE_OR_FOLDER (a CSV/TSV or Parquet marketing table).\n"
    )


def test_default_path_never_imports_pyspark() -> None:
    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "import pipeline.engines, pipeline.engines.spark, pipeline.engines.fitted\n"
        "print(any(m == 'pyspark' or m.startswith('pyspark.') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- without Spark


@settings_hyp(max_examples=25, deadline=None)
@given(
    centres=arrays(np.float64, st.tuples(st.integers(2, 5), st.integers(2, 4)), elements=st.floats(-50, 50)),
    seed=st.integers(0, 1000),
)
def test_fitted_kmeans_predicts_the_nearest_centre(centres: np.ndarray, seed: int) -> None:
    from pipeline.engines import fitted

    assume(len(np.unique(centres.round(3), axis=0)) == len(centres))
    model = fitted.kmeans(centres, inertia=12.5)
    X = np.random.default_rng(seed).normal(scale=30, size=(40, centres.shape[1]))
    d = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(model.cluster_centers_, centres)
    assert model.inertia_ == 12.5
    clear = np.sort(d, axis=1)[:, 1] - np.sort(d, axis=1)[:, 0] > 1e-6  # no ties
    np.testing.assert_array_equal(model.predict(X)[clear], d.argmin(axis=1)[clear])


def test_fitted_pipeline_imputes_medians_and_scales_with_the_given_parameters(settings: Settings) -> None:
    from pipeline.engines import fitted

    s = settings.replace(features=("Customer_Value", "Purchase_Frequency"), k=2)
    clusterer = fitted.kmeans(np.array([[0.0, 0.0], [1.0, 1.0]]), inertia=0.0)
    pipe = fitted.pipeline(s, None, np.array([100.0, 5.0]), np.array([50.0, 4.0]), np.array([10.0, 2.0]), clusterer)
    rows = pd.DataFrame({"Customer_Value": [np.nan, 60.0], "Purchase_Frequency": [6.0, np.nan]})
    # NaN -> median, then (x - mean) / scale: (100-50)/10 = 5, (6-4)/2 = 1; (60-50)/10 = 1, (5-4)/2 = 0.5
    np.testing.assert_allclose(pipe[:-1].transform(rows), [[5.0, 1.0], [1.0, 0.5]])
    assert list(pipe.predict(rows)) == [1, 1]


def test_fitted_pca_takes_scikit_learns_sign() -> None:
    from pipeline.engines import fitted

    model = fitted.pca(np.array([[0.6, -0.8], [-0.8, -0.6]]), np.array([0.7, 0.3]), total_variance=2.0)
    np.testing.assert_allclose(model.components_, [[-0.6, 0.8], [0.8, 0.6]])
    np.testing.assert_allclose(model.explained_variance_, [1.4, 0.6])
    np.testing.assert_allclose(model.transform(np.array([[1.0, 0.0]])), [[-0.6, 0.8]])


def test_source_files_refuses_missing_empty_and_mixed(tmp_path: Path) -> None:
    from pipeline.engines.spark_read import source_files, source_hash

    with pytest.raises(SegmentationError, match=f"File not found: {tmp_path / 'none.csv'}"):
        source_files(tmp_path / "none.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SegmentationError, match="holds no data files"):
        source_files(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.csv").write_text("x\n1\n")
    (mixed / "b.parquet").write_bytes(b"PAR1")
    (mixed / "_SUCCESS").write_text("")
    with pytest.raises(SegmentationError, match=r"CSV/TSV or Parquet files of one kind; found \.csv, \.parquet"):
        source_files(mixed)
    (mixed / "b.parquet").unlink()
    assert source_files(mixed) == [mixed / "a.csv"]
    assert source_hash([mixed / "a.csv"]) == hashlib.sha256(b"x\n1\n").hexdigest()


def test_spark_refuses_scaling_and_features_it_does_not_compute(settings: Settings) -> None:
    from pipeline.engines.spark import check_supported

    with pytest.raises(SegmentationError, match="does not compute yeo-johnson scaling; choose standard or log1p"):
        check_supported(settings.replace(scaling="yeo-johnson"))
    with pytest.raises(SegmentationError, match="not Income"):
        check_supported(settings.replace(features=("Customer_Value", "Income")))


def test_a_spark_stop_that_hangs_ends_its_jvm_instead_of_holding_the_run() -> None:
    from types import SimpleNamespace

    release = threading.Event()

    class Jvm:
        killed = False

        def kill(self) -> None:
            self.killed = True

        def wait(self, timeout: float) -> int:
            return -9

    def session() -> SimpleNamespace:
        return SimpleNamespace(
            stop=lambda: release.wait(30), sparkContext=SimpleNamespace(_gateway=SimpleNamespace(proc=Jvm()))
        )

    hanging = session()
    assert stop_within(hanging, 0.2) is False
    assert hanging.sparkContext._gateway.proc.killed
    release.set()
    prompt = session()
    assert stop_within(prompt, 5) is True
    assert not prompt.sparkContext._gateway.proc.killed


def test_both_engines_share_out_only_the_spend_the_data_gives(
    spark: object, tmp_path: Path, settings: Settings
) -> None:
    """Customers with a missing spend column have no measured spend: neither engine counts the median for them."""
    from pipeline.engines import spark as spark_engine

    table, _truth = generate_sample(ROWS, seed=7)
    table.loc[table.index[:150], "MntGoldProds"] = np.nan  # a part missing: the customer's total is missing
    path = tmp_path / "gaps.csv"
    path.write_bytes(to_text_bytes(table, sep=","))
    default = train(load_dataset(path, settings), settings)
    trained = spark_engine.train(path, settings)
    for result in (default, trained):
        customers = _by_id(result)
        assert customers["Customer_Value"].isna().sum() == 150  # stored as the data gives it
        spend = customers.groupby("Segment")["Customer_Value"].sum()  # NaN left out
        shares = {s["key"]: s["value_share"] for s in result.artifact.manifest["segments"]}
        assert shares == pytest.approx((spend / spend.sum()).to_dict())
    by_name = [{s["name"]: s["value_share"] for s in r.artifact.manifest["segments"]} for r in (default, trained)]
    assert by_name[0] == pytest.approx(by_name[1], abs=0.01)
