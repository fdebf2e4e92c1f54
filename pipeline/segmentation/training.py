"""From a data file to a saved, named segmentation (the ``train`` use case)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.config import DEFAULT_FEATURES, Settings
from pipeline.data.detect import is_marketing, near_marketing
from pipeline.data.ingest import (
    Validation,
    auto_mapping_problem,
    dataset_hash,
    expand_features,
    indicator_features,
    require_valid,
    spread_items,
    training_problems,
    validate_table,
)
from pipeline.data.loading import clean_marketing
from pipeline.data.log_scan import scan_log
from pipeline.data.mapping import Mapping
from pipeline.data.quality import DataQualityReport, QualityItem
from pipeline.data.reading import data_hash, file_bytes, read_table
from pipeline.data.sql import DatabaseSource, read_source
from pipeline.errors import ArtifactError, DataError
from pipeline.features.definitions import (
    DATE_COLUMN,
    FEATURE_DEFINITIONS,
    ID_COLUMN,
    LOG_FEATURES,
    DataPeriod,
    data_period,
    default_as_of,
    engineer_features,
    negligible_spread,
)
from pipeline.segmentation.manifest import PC_COLUMNS, common_manifest, describe_segments, feature_ranges
from pipeline.segmentation.metrics import SILHOUETTE_MAX_ROWS, cluster_metrics
from pipeline.segmentation.naming import (
    SegmentName,
    name_segments,
    segment_facts,
    standardised_centroids,
)
from pipeline.store.artifacts import (
    LoadedArtifact,
    artifact_id,
    load_artifact,
    save_artifact,
)
from pipeline.store.fingerprints import FileStamp, Fingerprint, recognise, remember, still_saved
from pipeline.synthetic.customers import SAMPLE_NAME, sample_bytes

if TYPE_CHECKING:  # scikit-learn, the models and the churn models are imported where a model is fitted or applied
    from sklearn.pipeline import Pipeline

    from pipeline.churn.result import ChurnMeasurement


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A customer table ready to segment.

    Attributes
    ----------
    name : str
        Display name (file name or "Built-in sample").
    data_hash : str
        SHA-256 of the source bytes (plus any mapping): the cache key's data part.
    customers : DataFrame
        ``ID``, engineered features and profile attributes, one row per customer.
    report : DataQualityReport
        What loading dropped, fixed, imputed and flagged.
    as_of : date
        Reference date used for tenure and age.
    kind : str
        Input kind: ``"marketing"``, ``"customer_table"`` or ``"transactions"``.
    mapping : Mapping or None
        The column mapping used (``None`` for the reference table read as is).
    """

    name: str
    data_hash: str
    customers: pd.DataFrame
    report: DataQualityReport
    as_of: dt.date
    kind: str = "marketing"
    mapping: Mapping | None = None

    @property
    def features(self) -> tuple[str, ...]:
        """The features this data set provides and clusters by default, in display order.

        The behavioural features it has; a transaction log adds ``Recency``
        (days since the last purchase, the R of RFM); a customer table adds
        its custom features and the indicators of its encoded categorical columns.
        """
        offered = (*DEFAULT_FEATURES, *(LOG_FEATURES if self.kind == "transactions" else ()))
        own = (*self.mapping.custom_features, *self.indicators) if self.mapping is not None else ()
        return tuple(f for f in (*offered, *own) if f in self.customers.columns)

    @property
    def indicators(self) -> tuple[str, ...]:
        """The one-hot indicator features of the categorical columns encoded into the clustering."""
        if self.mapping is None:
            return ()
        return tuple(f for group in indicator_features(self.customers, self.mapping).values() for f in group)

    @property
    def period(self) -> DataPeriod:
        """The period the data covers: first enrolment or purchase to the as-of date."""
        return data_period(self.customers, self.as_of)


def dataset_from_bytes(raw: bytes, name: str, settings: Settings, mapping: Mapping | None = None) -> Dataset:
    """Read a table given as bytes and build the customer table to segment.

    Parameters
    ----------
    raw : bytes
        The file's content.
    name : str
        The file's name.
    settings : Settings
        ``as_of`` and, for mapped tables, ``k`` and ``features`` (checked).
    mapping : Mapping or None
        How to read the columns.  ``None``: the reference marketing table
        (or a damaged copy with at least half its columns, which then gets
        the missing-columns error) is read as before; any other table is
        detected and mapped automatically (:func:`pipeline.data.ingest.validate_table`),
        which must succeed without guessing.

    Raises
    ------
    DataError
        Unreadable file, or a table the mapping cannot turn into customers
        to segment (every reason in one message).
    """
    table = scan_log(raw, name, mapping)  # a large transaction log, dictionary-encoded; None: read as usual
    return dataset_from_frame(read_table(raw, name) if table is None else table, raw, name, settings, mapping)


def dataset_from_frame(
    table: pd.DataFrame, raw: bytes, name: str, settings: Settings, mapping: Mapping | None = None
) -> Dataset:
    """:func:`dataset_from_bytes` after reading: ``table`` as read, ``raw`` the bytes its cache key is made of.

    A database source (:mod:`pipeline.data.sql`) enters here with the rows it
    read and, as ``raw``, its URL without password, table or query and content hash.
    """
    if mapping is None and (is_marketing(table) or near_marketing(table)):
        clean, report = clean_marketing(table, name, settings.as_of)
        as_of = settings.as_of or default_as_of(clean[DATE_COLUMN])
        customers = engineer_features(clean, as_of)
        report = report.with_items(*spread_items(customers, DEFAULT_FEATURES))
        return Dataset(name=name, data_hash=data_hash(raw), customers=customers, report=report, as_of=as_of)
    validation = validate_table(table, mapping, settings, name)
    if mapping is None and validation.mapping and auto_mapping_problem(table, validation.mapping, name):
        raise DataError(
            f"{' '.join(validation.problems)} Write a mapping with `python -m pipeline mapping --data {name} "
            "--out mapping.json`, check it, then pass --mapping mapping.json."
        )
    return dataset_from_validation(validation, raw)


def dataset_from_validation(validation: Validation, raw: bytes) -> Dataset:
    """The :class:`Dataset` of a successful :func:`pipeline.data.ingest.validate_table`.

    Parameters
    ----------
    validation : Validation
        Must have no blocking problem.
    raw : bytes
        The file's bytes (with the mapping, they make the cache key).

    Raises
    ------
    DataError
        Listing the validation's blocking problems.
    """
    require_valid(validation)
    assert validation.customers is not None and validation.kind is not None
    return Dataset(
        name=validation.name,
        data_hash=dataset_hash(raw, validation.mapping),
        customers=validation.customers,
        report=validation.report,
        as_of=validation.as_of or dt.date.today(),
        kind=validation.kind,
        mapping=validation.mapping,
    )


def load_dataset(
    path: str | Path | DatabaseSource | None, settings: Settings, mapping: Mapping | str | Path | None = None
) -> Dataset:
    """The data set at ``path`` (a file or a :class:`~pipeline.data.sql.DatabaseSource`), or the built-in sample.

    ``mapping`` is a :class:`~pipeline.data.mapping.Mapping` or the path of a
    mapping JSON file; ``None`` detects the kind of input.
    """
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = Mapping.load(mapping)
    if path is None:
        if mapping is not None:
            raise DataError("A column mapping needs a data file (--data); the built-in sample needs none.")
        raw = sample_bytes(settings.sample_rows, settings.sample_seed)
        return dataset_from_bytes(raw, SAMPLE_NAME, settings)
    if isinstance(path, DatabaseSource):  # the command line's or the server's own --data, not a visitor's query
        read = read_source(path, confined=False)
        return dataset_from_frame(read.frame, read.identity, read.name, settings, mapping)
    return dataset_from_bytes(file_bytes(path), Path(path).name, settings, mapping)


def default_artifact_id(path: str | Path | None, settings: Settings) -> str:
    """The artifact of ``path`` (None: the built-in sample) under ``settings``, trained if needed.

    What the app does on start.  A file recognised unchanged since its
    model was saved (:mod:`pipeline.store.fingerprints`: same size, times,
    inode; the signed record and the artifact's signed manifest agree) is
    not read at all, so the start takes the same time whatever the file's
    size.  Otherwise the file is read, its model trained or reused
    (:func:`train` on :func:`settings_for_dataset`, as ``python -m pipeline
    train``), and the fingerprint remembered when the file did not change
    while it was read.

    Raises
    ------
    DataError
        Unreadable file or data that cannot be segmented (as :func:`load_dataset`, :func:`train`).
    """
    wanted = settings.model_hash()
    before = None
    if path is not None:
        known = recognise(path, wanted, settings)
        if known is not None and still_saved(known, settings):
            return known.artifact_id
        with contextlib.suppress(OSError):
            before = FileStamp.of(path)
    dataset = load_dataset(path, settings)
    trained = train(dataset, settings_for_dataset(dataset, settings)).artifact.artifact_id
    if path is not None and before is not None:
        with contextlib.suppress(OSError):
            if FileStamp.of(path) == before:
                where = str(Path(path).resolve())
                remember(Fingerprint(where, before, dataset.data_hash, wanted, trained), settings)
    return trained


def settings_for_dataset(dataset: Dataset, settings: Settings) -> Settings:
    """``settings`` restricted to the features ``dataset`` provides and can support.

    * The default feature set (``Settings().features``) stands for "the
      data's default features" (:attr:`Dataset.features`): for a transaction
      log it includes ``Recency``.  Any other set is taken as asked.
    * A requested feature the data lacks is left out (a mapped table without
      campaign data is trained on the others).
    * A feature whose real spread is negligible
      (:func:`pipeline.features.definitions.negligible_spread`: tenure within
      90 days, recency within 30 days, ...) is left out; the data set's
      quality report says which and why (``feature_left_out``).

    Use the returned settings for :func:`train` (and anything keyed by the
    settings hash).

    Raises
    ------
    DataError
        Fewer than two usable features remain.
    """
    requested = dataset.features if settings.features == DEFAULT_FEATURES else settings.features
    encoded = indicator_features(dataset.customers, dataset.mapping) if dataset.mapping else {}
    requested = expand_features(requested, encoded)
    provided = set(dataset.features) | {f for f in FEATURE_DEFINITIONS if f in dataset.customers.columns}
    available = tuple(f for f in requested if f in provided)
    flat = negligible_spread(dataset.customers, available)
    usable = tuple(f for f in available if f not in flat)
    indicators = set(dataset.indicators)
    weights = tuple(
        (f, dataset.mapping.categorical_weight) for f in usable if f in indicators and dataset.mapping is not None
    )
    if usable == settings.features and weights == settings.feature_weights:
        return settings
    if len(usable) < 2:
        have = ", ".join(f for f in dataset.features if f not in flat) or "none"
        why = "".join(f" {fact}." for fact in flat.values())
        raise DataError(
            f"{dataset.name} provides {len(usable)} usable feature(s) of those requested (it has: {have}); "
            f"at least two are needed to segment.{why}"
        )
    return settings.replace(features=usable, feature_weights=weights)


def validate_for_training(dataset: Dataset, settings: Settings) -> None:
    """Refuse data that cannot support the requested segmentation.

    Raises
    ------
    DataError
        A clustered feature is missing, empty, constant or without real
        spread (:func:`pipeline.features.definitions.negligible_spread`;
        :func:`settings_for_dataset` leaves such a feature out), or there are
        fewer customers than segments.
    """
    problems = training_problems(dataset.customers, settings.features, settings.k, dataset.name)
    for f, fact in negligible_spread(dataset.customers, settings.features).items():
        problems.append(
            f"{dataset.name}: the feature {f} barely varies ({fact}); standardising would blow it up into the "
            "largest split. Leave it out."
        )
    if problems:
        raise DataError(" ".join(problems))


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns."""

    artifact: LoadedArtifact
    cached: bool
    note: str | None = None


def artifact_dir(dataset: Dataset, settings: Settings) -> Path:
    """Where the artifact for this data and these settings lives."""
    return settings.models_dir / artifact_id(dataset.name, dataset.data_hash, settings.model_hash())


def train(dataset: Dataset, settings: Settings, force: bool = False) -> TrainResult:
    """Fit and save a segmentation, or reuse the cached artifact.

    Same data + same settings reuse the artifact on disk.  An artifact that
    fails authentication or was saved with other library versions is
    replaced by a fresh fit, and ``note`` says why.
    """
    directory = artifact_dir(dataset, settings)
    note = None
    if not force and (directory / "manifest.json").exists():
        try:
            return TrainResult(load_artifact(directory, settings), cached=True)
        except ArtifactError as err:
            note = f"Existing artifact not reused: {err}"
    validate_for_training(dataset, settings)
    bundle, customers, manifest = fit_segmentation(dataset, settings)
    manifest["artifact_id"] = directory.name
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # What was written, as a read-back would give it (from the bytes written, not read again):
        # callers see exactly what the app will load.
        saved = save_artifact(directory, manifest, bundle, customers, settings)
    return TrainResult(saved, cached=False, note=note)


def fit_segmentation(dataset: Dataset, settings: Settings) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """Fit the pipeline and PCA, name the segments and describe them.

    The churn and spend models (:func:`pipeline.churn.measure.measure_churn`)
    do not depend on the segmentation: they are fitted in a second thread
    while the segmentation is fitted (on two cores the two overlap).  The
    result is the same as one after the other: the churn fit only reads the
    customers, draws its sample from its own ``random_state`` generator and
    makes no BLAS call whose result could depend on the threads scikit-learn
    allows BLAS while KMeans runs (its sums are ``np.add.reduce``); an error
    in either is raised here, after both have stopped.

    Returns
    -------
    (bundle, customers, manifest)
        ``bundle`` holds the fitted ``pipeline`` and ``pca``; ``customers``
        is the scored table (``Cluster``, ``Segment``, ``PC1..3`` added);
        ``manifest`` is the JSON-safe description (without files/signature).
    """
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.churn.measure import measure_churn, transactions_after_as_of

    after = transactions_after_as_of(dataset.report.items)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="churn-fit") as pool:
        churn = pool.submit(measure_churn, dataset.customers, dataset.kind, dataset.as_of, settings, after)
        return _fit_segmentation(dataset, settings, churn.result)


def _fit_segmentation(
    dataset: Dataset, settings: Settings, churn_result: Callable[[], ChurnMeasurement]
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """:func:`fit_segmentation`, the churn measurement given by ``churn_result()`` (waited for when needed)."""
    from sklearn.decomposition import PCA

    from pipeline.segmentation.model import build_pipeline, predicts_natively

    frame = dataset.customers
    feats = list(settings.features)
    pipe: Pipeline = build_pipeline(settings, dataset.as_of, n_rows=len(frame))
    # ``pipe.fit(frame)`` step by step (the slices share the pipeline's steps): the features are
    # computed, imputed and scaled once, and the values kept for what follows (the same as
    # ``scaled(pipe, frame)`` and ``pipe.predict(frame)``, without repeating them).
    imputed_values = np.asarray(pipe[:2].fit_transform(frame), dtype=float)
    X = np.asarray(pipe[2:-1].fit_transform(imputed_values), dtype=float)  # scaling (and weights, when set)
    clusterer = pipe.named_steps["cluster"].fit(X)
    labels = np.asarray(clusterer.predict(X), dtype=int)
    fit_labels = np.asarray(getattr(clusterer, "labels_", labels))
    pca = PCA(n_components=min(3, X.shape[1]), random_state=settings.random_state).fit(X)
    pcs = pca.transform(X)

    imputed = pd.DataFrame(imputed_values, columns=feats, index=frame.index)
    names = name_segments(standardised_centroids(imputed, labels), segment_facts(frame, labels))
    by_label = {s.label: s for s in names}

    customers = frame.copy(deep=False)  # copy-on-write: the data set's frame is never changed
    customers["Cluster"] = labels
    present, position = np.unique(labels, return_inverse=True)
    customers["Segment"] = np.array([by_label[v].key for v in present], dtype=object)[position]
    for j in range(3):
        customers[PC_COLUMNS[j]] = pcs[:, j] if j < pcs.shape[1] else 0.0
    churn = churn_result()
    customers["p_alive"] = churn.p_alive
    customers["expected_clv"] = churn.expected_clv

    silhouette_rows = min(settings.max_exact_rows, SILHOUETTE_MAX_ROWS)
    metrics = cluster_metrics(X, fit_labels, silhouette_rows, settings.random_state)
    # Density models fitted on a capped sample know their true noise share.
    metrics["noise_share"] = float(getattr(clusterer, "noise_share_", np.mean(fit_labels < 0)))
    if hasattr(clusterer, "inertia_"):
        metrics["inertia"] = float(clusterer.inertia_)
    if hasattr(clusterer, "restart_rows_"):  # KMeans: the rows its n_init restarts ran on (then refined on all)
        metrics["restart_rows"] = int(clusterer.restart_rows_)
    imputed_counts = {f: int(frame[f].isna().sum()) for f in feats}
    report = dataset.report.with_items(
        *(
            QualityItem("feature_imputed", "imputed", n, f"{f}: {n} missing values imputed with the median.", column=f)
            for f, n in imputed_counts.items()
        )
    )
    manifest = {
        **common_manifest(
            settings,
            n_segments=len(names),
            predicts=predicts_natively(clusterer),
            kind=dataset.kind,
            period=dataset.period,
            pca=pca,
            features=feats,
            report=report,
        ),
        "data": {
            "name": dataset.name,
            "hash": dataset.data_hash,
            "rows_read": dataset.report.rows_read,
            "n_customers": len(frame),
            "as_of": dataset.as_of.isoformat(),
            "kind": dataset.kind,
            "period": dataset.period.to_dict(),
            "mapping": dataset.mapping.to_dict() if dataset.mapping else None,
        },
        "metrics": metrics,
        "segments": describe_segments(imputed, customers, names, churn),
        "churn_model": churn.to_dict(),
        "population": {f: float(imputed[f].mean()) for f in feats},
        "feature_ranges": feature_ranges(imputed),
    }
    bundle = {"pipeline": pipe, "pca": pca, "centroids_scaled": _scaled_centroids(X, labels, names)}
    return bundle, customers, manifest


def _scaled_centroids(X: np.ndarray, labels: np.ndarray, names: list[SegmentName]) -> np.ndarray:
    return np.vstack([X[labels == s.label].mean(axis=0) for s in names])


def summary(result: TrainResult) -> dict[str, Any]:
    """The ``train --json`` object."""
    m = result.artifact.manifest
    return {
        "n_customers": m["data"]["n_customers"],
        "features": [f["name"] for f in m["features"]],
        "k": m["model"]["k"],
        "model": m["model"]["name"],
        "scaling": m["model"]["scaling"],
        "silhouette": m["metrics"]["silhouette"],
        "metrics": m["metrics"],
        "artifact": {
            "id": m["artifact_id"],
            "path": str(result.artifact.directory),
            "cached": result.cached,
            "created_at": m["created_at"],
        },
        "as_of": m["data"]["as_of"],
        "data_quality": m["data_quality"],
        "churn_model": m.get("churn_model"),
        "segments": [
            {
                **{
                    k: s[k]
                    for k in ("key", "name", "size", "share", "value_share", "centroid", "evidence", "objective")
                },
                "churn": s.get("churn"),
            }
            for s in m["segments"]
        ],
        "note": result.note,
    }


def score(artifact: LoadedArtifact, dataset: Dataset, value_settings: dict[str, Any] | None = None) -> pd.DataFrame:
    """Segment of every customer of ``dataset`` under ``artifact``'s model.

    Parameters
    ----------
    artifact : LoadedArtifact
        The model.
    dataset : Dataset
        The customers to score.
    value_settings : dict or None
        ``horizon_months``, ``margin`` and/or ``annual_discount_rate`` to use
        for the expected CLV instead of the model's.

    Returns
    -------
    DataFrame
        ``ID``, ``Segment_Key``, ``Segment_Name``, ``p_alive`` and
        ``expected_clv`` (the model's churn and spend models applied to the
        customers' own history, derived as in training; NaN where not measured).
    """
    from pipeline.churn.measure import score_churn

    pipe: Pipeline = artifact.bundle["pipeline"]
    names = {s["label"]: s for s in artifact.manifest["segments"]}
    feats = [f["name"] for f in artifact.manifest["features"]]
    missing = [f for f in feats if f not in dataset.customers]
    if missing:
        raise DataError(f"{dataset.name} lacks the model's feature(s): {', '.join(missing)}.")
    labels = pipe.predict(dataset.customers)
    p_alive, clv = score_churn(
        artifact.manifest.get("churn_model"), dataset.customers, dataset.kind, dataset.as_of, value_settings
    )
    return pd.DataFrame(
        {
            ID_COLUMN: dataset.customers[ID_COLUMN].to_numpy(),
            "Segment_Key": [names[int(v)]["key"] for v in labels],
            "Segment_Name": [names[int(v)]["name"] for v in labels],
            "p_alive": p_alive,
            "expected_clv": clv,
        }
    )


def validate_for_scoring(dataset: Dataset, manifest: dict[str, Any]) -> None:
    """Refuse data that a saved model cannot score meaningfully (the checks ``train`` makes that apply).

    A feature the model uses must be present and hold at least one number
    (a column of words is read as empty, as in :func:`validate_for_training`);
    there must be customers; and the as-of date must not precede every
    customer's enrolment (each tenure would be clipped to zero).  A constant
    feature or fewer customers than segments are fine for scoring.

    Parameters
    ----------
    dataset : Dataset
        The customers to score.
    manifest : dict
        The authenticated manifest of the model (its ``features``).

    Raises
    ------
    DataError
        Every problem found, in one message.
    """
    name = dataset.name
    customers = dataset.customers
    feats = [str(f["name"]) for f in manifest.get("features", [])]
    problems = []
    if len(customers) == 0:
        problems.append(f"{name} has no customers to score.")
    missing = [f for f in feats if f not in customers.columns]
    if missing:
        problems.append(f"{name} lacks the model's feature(s): {', '.join(missing)}.")
    for f in feats:
        if f in customers.columns and len(customers) and customers[f].notna().sum() == 0:
            problems.append(f"{name}: the feature {f} has no values (no cell could be read as a number).")
    if "Enrolled" in customers.columns:
        enrolled = pd.to_datetime(customers["Enrolled"], errors="coerce").dropna()
        if len(enrolled) and pd.Timestamp(dataset.as_of) < enrolled.min().normalize():
            first = enrolled.min().date().isoformat()
            problems.append(
                f"The as-of date {dataset.as_of.isoformat()} is before the first enrolment in {name} ({first}): "
                f"every tenure would be zero. Choose a date on or after {first}."
            )
    if problems:
        raise DataError(" ".join(problems))
