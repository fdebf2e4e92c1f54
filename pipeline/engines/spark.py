"""The Spark engine: features, imputation, scaling, clustering and PCA in Spark SQL and MLlib.

``python -m pipeline train --engine spark --data FILE_OR_FOLDER`` reads a
marketing table (CSV/TSV or Parquet; one file or a folder of part files)
with Spark, computes the behavioural features from the same column lists as
:func:`pipeline.features.definitions.engineer_features`, imputes medians,
scales, fits the model's MLlib estimator (its ``spark`` factory in
:mod:`pipeline.segmentation.registry`) and PCA, and measures each segment
(size, value share, centroid in original units) over every row.  The fitted
parameters are then put into the default engine's scikit-learn objects
(:mod:`pipeline.engines.fitted`), the segments are named by
:func:`pipeline.segmentation.naming.name_segments`, and the artifact is
written by :func:`pipeline.store.artifacts.write_artifact`: the dashboard
loads and scores it without Spark.

The artifact's customer table (what the explorer shows) holds every scored
customer up to :data:`STORED_ROWS`, else a random sample of that many; the
manifest's ``engine`` entry says which.  Segment sizes, shares, centroids and
the scaling/median parameters always come from every row.  The silhouette,
feature ranges and lapsed shares (used by the naming rule) are computed on
the stored customers.

Reading the files and engineering one row per customer is
:mod:`pipeline.engines.spark_read`.  pyspark is imported inside the
functions only: importing this module starts nothing and needs no pyspark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.config import DEFAULT_FEATURES, Settings
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.engines.spark_read import load_customers
from pipeline.errors import DataError, SegmentationError
from pipeline.features.definitions import (
    BEHAVIOURAL_FEATURES,
    data_period,
)
from pipeline.segmentation import registry
from pipeline.store.artifacts import artifact_id

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

    from pipeline.segmentation.training import TrainResult

#: The ``--engine`` name and the model-registry factory key.
ENGINE = registry.SPARK_ENGINE
#: Most scored customers stored in the artifact (a random sample above it).
STORED_ROWS = 2_000_000
#: Features the Spark engine computes (from the marketing table's columns).
SPARK_FEATURES: tuple[str, ...] = (*BEHAVIOURAL_FEATURES, "Recency")
#: Scalings the Spark engine computes.
SPARK_SCALINGS: tuple[str, ...] = ("standard", "log1p")
PROFILE_NUMBERS: tuple[str, ...] = ("Age", "Income", "Children", "Recency", "Web_Visits", "Complain")


# --------------------------------------------------------------------------- checks and session


def check_supported(settings: Settings) -> None:
    """Refuse, before starting Spark, a model, scaling or feature the Spark engine lacks.

    Raises
    ------
    SegmentationError
        The model has no MLlib factory, or the scaling/features are not computed in Spark.
    """
    spec = registry.spec(settings.model)
    if ENGINE not in spec.factories:
        offered = ", ".join(registry.engine_models(ENGINE))
        raise SegmentationError(
            f"The spark engine has no {spec.label} (MLlib lacks it); with --engine spark choose --model {offered}."
        )
    if settings.scaling not in SPARK_SCALINGS:
        raise SegmentationError(
            f"The spark engine does not compute {settings.scaling} scaling; choose {' or '.join(SPARK_SCALINGS)}."
        )
    other = [f for f in settings.features if f not in SPARK_FEATURES]
    if other:
        raise SegmentationError(
            f"The spark engine computes the features {', '.join(SPARK_FEATURES)}; not {', '.join(other)}."
        )
    if settings.feature_weights:
        raise SegmentationError("The spark engine does not weigh features; train weighted features by default.")


def require_spark() -> None:
    """Refuse clearly when pyspark or Java is missing.

    Raises
    ------
    SegmentationError
        pyspark is not installed, or no ``java`` is found (``JAVA_HOME`` or ``PATH``).
    """
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SegmentationError(
            "The spark engine needs pyspark: pip install -r requirements-spark.txt (and Java 17 or newer)."
        ) from None
    home = os.environ.get("JAVA_HOME")
    if not (home and Path(home, "bin", "java").is_file()) and shutil.which("java") is None:
        raise SegmentationError(
            "The spark engine needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless); "
            "no java found on PATH or in JAVA_HOME."
        )


def spark_session(master: str | None = None) -> SparkSession:
    """The running Spark session, or a new one.

    Parameters
    ----------
    master : str or None
        ``local[*]``, ``spark://HOST:PORT``, ...; ``None``: the master given by
        ``spark-submit`` when run under it, else ``local[*]``.

    Raises
    ------
    SegmentationError
        pyspark or Java missing, or Spark could not start.
    """
    require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName("customer-segments").config("spark.ui.enabled", "false")
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true").config(
        "spark.ui.showConsoleProgress", "false"
    )
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    if master is not None or not under_submit:
        master = master or "local[*]"
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "8").config("spark.driver.memory", "4g")
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session
    except Exception as err:  # the JVM did not start: one line, not a Java stack
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SegmentationError(f"Spark could not start ({master or 'spark-submit'}): {first}") from None


# --------------------------------------------------------------------------- training


def spark_artifact_id(name: str, data_hash: str, settings: Settings) -> str:
    """Folder name of a Spark-trained artifact (its own cache entry: the settings hash is tagged ``spark``)."""
    tagged = hashlib.sha256(f"{settings.model_hash()}:{ENGINE}".encode()).hexdigest()
    return artifact_id(name, data_hash, tagged)


#: The column keeping each customer's spend before the median fills the gaps (describe_segments' measured spend).
MEASURED_VALUE = "_measured_value"


def _scaled_columns(frame: SparkFrame, feats: list[str], scaling: str) -> SparkFrame:
    """``_b_<f>``: the value the scaler standardises (``log1p`` of it, negatives clipped, for that scaling)."""
    from pyspark.sql import functions as F

    def base(f: str) -> Any:
        return F.log1p(F.greatest(F.col(f), F.lit(0.0))) if scaling == "log1p" else F.col(f)

    return frame.select("*", *[base(f).alias(f"_b_{f}") for f in feats])


def _fit_model(vectors: SparkFrame, settings: Settings) -> tuple[Any, SparkFrame]:
    """(fitted MLlib model, rows labelled in ``Cluster``)."""
    est = registry.spec(settings.model).build(settings, None, engine=ENGINE)
    est = est.setFeaturesCol("features").setPredictionCol("Cluster")
    model = est.fit(vectors)
    return model, model.transform(vectors)


def _clusterer(model: Any, X: np.ndarray) -> Any:
    """The scikit-learn clustering step holding the MLlib model's parameters (``X``: rows in the scaled space)."""
    from pipeline.engines import fitted

    if hasattr(model, "clusterCenters"):
        return fitted.kmeans(np.vstack(model.clusterCenters()), model.summary.trainingCost)
    gauss = model.gaussiansDF.toPandas()
    means = np.vstack([np.asarray(m.toArray()) for m in gauss["mean"]])
    covs = np.stack([np.asarray(c.toArray()) for c in gauss["cov"]])
    return fitted.gaussian_mixture(np.asarray(model.weights), means, covs, X)


def train(data: Path | None, settings: Settings, master: str | None = None, force: bool = False) -> TrainResult:
    """Fit a segmentation in Spark and write the default engine's signed artifact (or reuse the cached one).

    Parameters
    ----------
    data : Path
        A marketing table (CSV/TSV/Parquet) or a folder of them.
    settings : Settings
        As for :func:`pipeline.segmentation.training.train`; the model needs
        a ``spark`` factory in the model registry.
    master : str or None
        Spark master (``local[*]``, ``spark://HOST:PORT``); see :func:`spark_session`.
    force : bool
        Refit even when the artifact exists.

    Raises
    ------
    SegmentationError
        Unsupported model/scaling/features, pyspark or Java missing, unreadable data.
    """
    import fcntl

    from pipeline.errors import ArtifactError
    from pipeline.segmentation.training import TrainResult
    from pipeline.store.artifacts import load_artifact, write_artifact

    if data is None or not isinstance(data, Path):
        raise SegmentationError("--engine spark needs --data FILE_OR_FOLDER (a CSV/TSV or Parquet marketing table).")
    if settings.features == DEFAULT_FEATURES:
        settings = settings.replace(features=BEHAVIOURAL_FEATURES)
    check_supported(settings)
    spark = spark_session(master)
    customers, report, as_of, name, digest = load_customers(spark, data, settings.as_of)
    directory = settings.models_dir / spark_artifact_id(name, digest, settings)
    note = None
    if not force and (directory / "manifest.json").exists():
        try:
            return TrainResult(load_artifact(directory, settings), cached=True)
        except ArtifactError as err:
            note = f"Existing artifact not reused: {err}"
    bundle, table, manifest = fit_segmentation(customers, report, as_of, name, digest, settings, master)
    manifest["artifact_id"] = directory.name
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        write_artifact(directory, manifest, bundle, table, settings)
    return TrainResult(load_artifact(directory, settings), cached=False, note=note)


def fit_segmentation(
    customers: SparkFrame,
    report: DataQualityReport,
    as_of: dt.date,
    name: str,
    digest: str,
    settings: Settings,
    master: str | None = None,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Spark's :func:`pipeline.segmentation.training.fit_segmentation`: (bundle, stored customers, manifest)."""
    from pyspark.ml.feature import PCA as SparkPCA
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    from pipeline.churn.measure import measure_churn
    from pipeline.engines import fitted
    from pipeline.segmentation.manifest import PC_COLUMNS, common_manifest, feature_ranges, segment_churn_entry
    from pipeline.segmentation.metrics import SILHOUETTE_MAX_ROWS, cluster_metrics
    from pipeline.segmentation.naming import name_segments, segment_facts

    feats = list(settings.features)
    customers = customers.cache()
    missing = customers.agg(*[F.count(F.when(F.col(f).isNull(), 1)).alias(f) for f in feats]).first().asDict()
    quantiles = customers.approxQuantile(feats, [0.5], 1e-4)
    empty = [f for f, q in zip(feats, quantiles, strict=True) if not q]
    if empty:
        raise DataError(f"{name}: the feature(s) {', '.join(empty)} have no values.")
    medians = np.array([q[0] for q in quantiles])
    # the spend as the data gives it (null where missing), for the share of spend: imputed spend was never measured
    measured = customers.withColumn(MEASURED_VALUE, F.col("Customer_Value")) if "Customer_Value" in feats else customers
    imputed = _scaled_columns(measured.fillna(dict(zip(feats, medians.tolist(), strict=True))), feats, settings.scaling)
    moments = imputed.agg(
        F.count(F.lit(1)).alias("n"),
        *[F.avg(c).alias(f"m_{c}") for f in feats for c in (f, f"_b_{f}")],
        *[F.stddev_pop(c).alias(f"s_{c}") for f in feats for c in (f, f"_b_{f}")],
    ).first()
    n = int(moments["n"])
    if n < settings.k:
        raise DataError(f"{name} has {n} customers, fewer than the {settings.k} segments asked for.")
    mu = np.array([moments[f"m_{f}"] for f in feats])
    sd = np.array([moments[f"s_{f}"] or 0.0 for f in feats])
    b_mu = np.array([moments[f"m__b_{f}"] for f in feats])
    b_sd = np.array([moments[f"s__b_{f}"] or 0.0 for f in feats])
    b_scale = np.where(b_sd > 0, b_sd, 1.0)  # as StandardScaler: a constant feature is not divided
    scaled = imputed.select(
        "*",
        *[
            ((F.col(f"_b_{f}") - float(m)) / float(s)).alias(f"_z_{f}")
            for f, m, s in zip(feats, b_mu, b_scale, strict=True)
        ],
    )
    vectors = VectorAssembler(inputCols=[f"_z_{f}" for f in feats], outputCol="features").transform(scaled).cache()
    model, labelled = _fit_model(vectors, settings)
    n_pcs = min(3, len(feats))
    pca_model = SparkPCA(k=n_pcs, inputCol="features", outputCol="pcs").fit(vectors)

    # Every segment measured over every row (original units, as the default engine's describe_segments).
    profile = [c for c in PROFILE_NUMBERS if c in customers.columns]
    per = (
        labelled.groupBy("Cluster")
        .agg(
            F.count(F.lit(1)).alias("size"),
            *[F.avg(f).alias(f"c_{f}") for f in feats],
            *[F.avg(f"_z_{f}").alias(f"z_{f}") for f in feats],
            *[F.avg(c).alias(f"p_{c}") for c in profile if c not in feats],
            *([F.sum(MEASURED_VALUE).alias("value")] if "Customer_Value" in feats else []),  # nulls left out
        )
        .toPandas()
        .astype({"Cluster": int})
        .set_index("Cluster")
        .sort_index()
    )
    centroid = per[[f"c_{f}" for f in feats]].set_axis(feats, axis=1)
    z = (centroid - mu) / np.where(sd > 0, sd, 1.0)

    stored = labelled.drop("features", *[c for c in labelled.columns if c.startswith(("_b_", "_z_", "probability"))])
    if MEASURED_VALUE in stored.columns:  # the stored spend as the data gives it, as the default engine stores it
        stored = stored.withColumn("Customer_Value", F.col(MEASURED_VALUE)).drop(MEASURED_VALUE)
    if n > STORED_ROWS:
        stored = stored.sample(fraction=min(1.0, 1.05 * STORED_ROWS / n), seed=settings.random_state).limit(STORED_ROWS)
    table = stored.toPandas()
    table["Cluster"] = table["Cluster"].astype(int)
    table["Enrolled"] = pd.to_datetime(table["Enrolled"])
    labels = table["Cluster"].to_numpy()
    names = name_segments(z, segment_facts(table, labels))
    by_label = {s.label: s for s in names}

    imputed_table = table[feats].fillna(dict(zip(feats, medians, strict=True)))
    values = imputed_table.to_numpy(dtype=float)
    X_sample = ((np.log1p(np.clip(values, 0.0, None)) if settings.scaling == "log1p" else values) - b_mu) / b_scale
    clusterer = _clusterer(model, X_sample)
    pipe = fitted.pipeline(settings, as_of, medians, b_mu, b_scale, clusterer)
    components = np.asarray(pca_model.pc.toArray()).T
    total_variance = float(np.sum(np.where(b_sd > 0, 1.0, 0.0))) * n / max(n - 1, 1)
    pca = fitted.pca(components, np.asarray(pca_model.explainedVariance.toArray()), total_variance)
    pcs = pca.transform(X_sample)
    table["Segment"] = [by_label[v].key for v in labels]
    for j in range(3):
        table[PC_COLUMNS[j]] = pcs[:, j] if j < pcs.shape[1] else 0.0
    churn = measure_churn(table, "marketing", as_of, settings, 0)
    table["p_alive"] = churn.p_alive
    table["expected_clv"] = churn.expected_clv

    metrics = cluster_metrics(
        X_sample, labels, min(settings.max_exact_rows, SILHOUETTE_MAX_ROWS), settings.random_state
    )
    metrics["noise_share"] = 0.0
    if hasattr(model, "summary") and hasattr(model.summary, "trainingCost"):
        metrics["inertia"] = float(model.summary.trainingCost)
    report = report.with_items(
        *(
            QualityItem(
                "feature_imputed",
                "imputed",
                int(missing[f]),
                f"{f}: {int(missing[f])} missing values imputed with the median.",
                column=f,
            )
            for f in feats
        )
    )
    total_value = float(per["value"].sum()) if "value" in per else 0.0
    segments = []
    for seg in sorted(names, key=lambda s: s.label):
        row = per.loc[seg.label]
        entry = seg.to_dict()
        entry.update(
            {
                "size": int(row["size"]),
                "share": float(row["size"]) / n,
                "value_share": float(row["value"]) / total_value if total_value else None,
                "centroid": {f: float(centroid.loc[seg.label, f]) for f in feats},
                "centroid_z": {f: float(z.loc[seg.label, f]) for f in feats},
                "profile": {c: float(row[f"c_{c}"] if c in feats else row[f"p_{c}"]) for c in profile},
                "churn": segment_churn_entry(churn, labels == seg.label),
            }
        )
        segments.append(entry)
    period = data_period(table, as_of)
    manifest = {
        **common_manifest(
            settings,
            n_segments=len(names),
            predicts=True,
            kind="marketing",
            period=period,
            pca=pca,
            features=feats,
            report=report,
        ),
        "engine": {
            "name": ENGINE,
            "spark_version": customers.sparkSession.version,
            "master": master or customers.sparkSession.sparkContext.master,
            "customers_total": n,
            "customers_stored": len(table),
            "how_measured": (
                "Medians, scaling, the model, PCA and each segment's size, share and centroid from every row in Spark; "
                + (
                    "the stored customer table holds every customer."
                    if len(table) == n
                    else f"the stored customer table, silhouette, feature ranges and lapsed shares from a random "
                    f"sample of {len(table):,} of {n:,} customers."
                )
            ),
        },
        "data": {
            "name": name,
            "hash": digest,
            "rows_read": report.rows_read,
            "n_customers": n,
            "as_of": as_of.isoformat(),
            "kind": "marketing",
            "period": period.to_dict(),
            "mapping": None,
        },
        "metrics": metrics,
        "segments": segments,
        "churn_model": churn.to_dict(),
        "population": {f: float(m) for f, m in zip(feats, mu, strict=True)},
        "feature_ranges": feature_ranges(imputed_table),
    }
    centroids_scaled = np.vstack([per.loc[s.label, [f"z_{f}" for f in feats]].to_numpy(dtype=float) for s in names])
    vectors.unpersist()
    customers.unpersist()
    return {"pipeline": pipe, "pca": pca, "centroids_scaled": centroids_scaled}, table, manifest
