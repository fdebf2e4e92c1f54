"""The fitted transform chain: features → impute → scale → cluster.

:func:`build_pipeline` returns one scikit-learn :class:`~sklearn.pipeline.Pipeline`
that predicts a segment from either raw marketing rows (cleaned by
:func:`pipeline.data.loading.clean_marketing`) or a frame holding the feature
values.  Models that cannot predict new points themselves (Agglomerative,
DBSCAN, HDBSCAN) are wrapped in :class:`NearestCentroidClusterer`, which says
so in its ``predicts_natively`` attribute.

Those three models also need time or memory growing with the square of the
number of customers, so :func:`make_clusterer` caps the rows they are fitted
on (:func:`max_fit_rows`): above the cap they are fitted on a random sample
and the other customers are assigned to the nearest segment centroid.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, clone
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, Birch, KMeans
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, PowerTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from pipeline.config import Settings
from pipeline.features.definitions import engineer_features, is_feature_frame


class FeatureBuilder(TransformerMixin, BaseEstimator):
    """Select the clustered features, computing them from raw rows if needed.

    Parameters
    ----------
    features : tuple of str
        Feature names, in model order.
    as_of : date or None
        Reference date used when features are computed from raw rows.
    """

    def __init__(self, features: tuple[str, ...] = (), as_of: dt.date | None = None):
        self.features = features
        self.as_of = as_of

    def fit(self, X: pd.DataFrame, y: object = None) -> FeatureBuilder:
        """Check ``X`` is usable; learns ``feature_names_in_``."""
        self._select(X)
        self.feature_names_in_ = np.array(self.features, dtype=object)
        self.n_features_in_ = len(self.features)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the feature columns as floats, in model order."""
        check_is_fitted(self, "feature_names_in_")
        return self._select(X)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns."""
        return np.array(self.features, dtype=object)

    def _select(self, X: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X, dtype=float), columns=list(self.features))
        if not is_feature_frame(X, self.features):
            if self.as_of is None:
                raise ValueError("raw rows need an as_of date to compute tenure")
            X = engineer_features(X, self.as_of)
        return X[list(self.features)].astype("float64")


def _log1p_nonneg(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(x, 0.0, None))


def make_scaler(scaling: str) -> BaseEstimator:
    """The preprocessing step for a scaling variant.

    ``standard``: z-scores.  ``log1p``: ``log(1 + x)`` (negatives clipped to
    0) then z-scores, which tames heavy-tailed spend.  ``yeo-johnson``: a
    power transform fitted per feature, then z-scores.
    """
    if scaling == "standard":
        return StandardScaler()
    if scaling == "log1p":
        return Pipeline(
            [
                ("log1p", FunctionTransformer(_log1p_nonneg, feature_names_out="one-to-one")),
                ("standard", StandardScaler()),
            ]
        )
    if scaling == "yeo-johnson":
        return PowerTransformer(method="yeo-johnson", standardize=True)
    raise ValueError(f"unknown scaling {scaling!r}")


def kdistance_curve(X: np.ndarray, min_samples: int) -> np.ndarray:
    """Sorted distance of each point to its ``min_samples``-th neighbour (itself included)."""
    nn = NearestNeighbors(n_neighbors=min(min_samples, len(X))).fit(X)
    dist, _ = nn.kneighbors(X)
    return np.sort(dist[:, -1])


def knee_index(y: np.ndarray) -> int:
    """Index of the knee of an increasing curve.

    The point farthest below the chord from the first to the last point
    (the "kneedle" construction on the normalised curve).
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or y[-1] == y[0]:
        return len(y) // 2
    x = np.linspace(0.0, 1.0, len(y))
    yn = (y - y[0]) / (y[-1] - y[0])
    return int(np.argmax(x - yn))


def eps_at_knee(curve: np.ndarray) -> float:
    """DBSCAN ``eps`` read off a k-distance curve: its value at :func:`knee_index` (at least 1e-6)."""
    return float(max(curve[knee_index(curve)], 1e-6))


def dbscan_eps(X: np.ndarray, min_samples: int) -> float:
    """DBSCAN ``eps`` at the knee of the k-distance curve."""
    return eps_at_knee(kdistance_curve(X, min_samples))


#: Largest sample Ward linkage is fitted on: it holds n²/2 float64 distances
#: in memory (10,000 rows → 400 MB).
WARD_MAX_ROWS = 10_000


def max_fit_rows(model: str, settings: Settings) -> int | None:
    """Most rows ``model`` is fitted on; ``None`` means all rows.

    Agglomerative (Ward) is capped at ``min(settings.max_exact_rows,
    WARD_MAX_ROWS)``, DBSCAN and HDBSCAN at ``settings.max_exact_rows``;
    KMeans, Gaussian mixture and Birch scale linearly and see every row.
    """
    if model == "agglomerative":
        return min(settings.max_exact_rows, WARD_MAX_ROWS)
    if model in ("dbscan", "hdbscan"):
        return settings.max_exact_rows
    return None


class NearestCentroidClusterer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Wrap a clusterer that cannot predict, assigning new points to the nearest centroid.

    The wrapped model's training labels are kept as ``labels_`` (noise stays
    -1); segments are renumbered 0..m-1.  ``predict`` assigns any point,
    noise included, to the segment whose mean (in the scaled space) is
    nearest.  This is an honest approximation, flagged by
    ``predicts_natively = False``.

    Parameters
    ----------
    estimator : estimator
        An unfitted clusterer with ``fit`` and ``labels_``.
    auto_eps : bool
        For DBSCAN: set ``eps`` from the knee of the k-distance curve at fit.
    max_fit_rows : int or None
        Fit the wrapped model on a random sample of at most this many rows
        (``None``: every row).  Rows outside the sample get the label of
        their nearest centroid in ``labels_``; ``fit_rows_`` says how many
        rows the wrapped model saw.
    random_state : int or None
        Seed of that sample.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Segment of each training row, -1 for noise found by the wrapped model.
    cluster_centers_ : ndarray of shape (n_clusters_, n_features)
        Segment means of the rows the wrapped model labelled.
    n_clusters_ : int
        Segments found (noise excluded).
    noise_share_ : float
        Share of the fitted rows labelled noise.
    fit_rows_ : int
        Rows the wrapped model was fitted on.
    estimator_ : estimator
        The fitted wrapped model.
    """

    predicts_natively = False

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        auto_eps: bool = False,
        max_fit_rows: int | None = None,
        random_state: int | None = None,
    ):
        self.estimator = estimator
        self.auto_eps = auto_eps
        self.max_fit_rows = max_fit_rows
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> NearestCentroidClusterer:
        """Fit the wrapped model (on a sample if needed) and compute segment centroids."""
        X = np.asarray(X, dtype=float)
        n = len(X)
        rows = None
        if self.max_fit_rows is not None and n > self.max_fit_rows:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(n, size=self.max_fit_rows, replace=False))
        Xfit = X if rows is None else X[rows]
        est = clone(self.estimator)
        if self.auto_eps:
            est.set_params(eps=dbscan_eps(Xfit, est.get_params()["min_samples"]))
        est.fit(Xfit)
        raw = np.asarray(est.labels_)
        found = np.unique(raw[raw >= 0])
        if len(found) == 0:
            raise ValueError("the model found no clusters (every point is noise)")
        remap = np.full(int(found.max()) + 2, -1)  # remap[-1] stays -1: every negative label is noise
        remap[found] = np.arange(len(found))
        fit_labels = remap[np.where(raw >= 0, raw, -1)]
        self.cluster_centers_ = np.vstack([Xfit[fit_labels == i].mean(axis=0) for i in range(len(found))])
        self.n_clusters_ = len(found)
        self.noise_share_ = float(np.mean(fit_labels < 0))
        self.fit_rows_ = len(Xfit)
        self.estimator_ = est
        self.n_features_in_ = X.shape[1]
        if rows is None:
            self.labels_ = fit_labels
        else:
            self.labels_ = self.predict(X)
            self.labels_[rows] = fit_labels
        return self

    @property
    def _n_features_out(self) -> int:
        """Number of ``transform`` columns (one distance per segment)."""
        return self.n_clusters_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Nearest-centroid segment of each row."""
        return np.argmin(self.transform(X), axis=1)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Euclidean distance of each row to each centroid."""
        check_is_fitted(self, "cluster_centers_")
        X = np.asarray(X, dtype=float)
        return np.sqrt(((X[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(axis=2))


def make_clusterer(settings: Settings, n_rows: int | None = None) -> BaseEstimator:
    """The unfitted clustering step for ``settings.model``.

    ``n_rows`` (the number of training rows) sets HDBSCAN's
    ``min_cluster_size`` to 2% of the rows it will be fitted on (at least 10).
    """
    k, seed = settings.k, settings.random_state
    min_samples = max(5, 2 * len(settings.features))
    if settings.model == "kmeans":
        return KMeans(n_clusters=k, n_init=settings.n_init, random_state=seed)
    if settings.model == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", n_init=2, random_state=seed)
    if settings.model == "birch":
        return Birch(n_clusters=k)
    cap = max_fit_rows(settings.model, settings)
    fit_rows = min(n_rows, cap) if n_rows is not None and cap is not None else n_rows
    if settings.model == "agglomerative":
        return NearestCentroidClusterer(
            AgglomerativeClustering(n_clusters=k, linkage="ward"), max_fit_rows=cap, random_state=seed
        )
    if settings.model == "dbscan":
        return NearestCentroidClusterer(
            DBSCAN(min_samples=min_samples), auto_eps=True, max_fit_rows=cap, random_state=seed
        )
    if settings.model == "hdbscan":
        size = max(10, (fit_rows or 1000) // 50)
        return NearestCentroidClusterer(HDBSCAN(min_cluster_size=size, copy=True), max_fit_rows=cap, random_state=seed)
    raise ValueError(f"unknown model {settings.model!r}")


def predicts_natively(clusterer: BaseEstimator) -> bool:
    """False for models wrapped in :class:`NearestCentroidClusterer`."""
    return bool(getattr(clusterer, "predicts_natively", True))


def _weigh(x: np.ndarray, weights: tuple[float, ...] = ()) -> np.ndarray:
    return np.asarray(x, dtype=float) * np.asarray(weights, dtype=float)


def feature_weights(settings: Settings) -> tuple[float, ...]:
    """Weight of each clustered feature in the scaled space, in model order (1 unless set)."""
    given = dict(settings.feature_weights)
    return tuple(float(given.get(f, 1.0)) for f in settings.features)


def build_pipeline(settings: Settings, as_of: dt.date | None, n_rows: int | None = None) -> Pipeline:
    """features → median imputation → scaling (→ weights, if any) → clustering, unfitted."""
    steps: list[tuple[str, BaseEstimator]] = [
        ("features", FeatureBuilder(features=settings.features, as_of=as_of)),
        ("impute", SimpleImputer(strategy="median")),
        ("scale", make_scaler(settings.scaling)),
    ]
    if settings.feature_weights:
        weights = feature_weights(settings)
        steps.append(
            ("weight", FunctionTransformer(_weigh, kw_args={"weights": weights}, feature_names_out="one-to-one"))
        )
    steps.append(("cluster", make_clusterer(settings, n_rows)))
    return Pipeline(steps).set_output(transform="default")


def scaled(pipeline: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """The scaled feature matrix the clusterer sees."""
    return np.asarray(pipeline[:-1].transform(X), dtype=float)


def training_labels(pipeline: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Labels of the training rows: every customer gets a segment (noise → nearest)."""
    return np.asarray(pipeline.predict(X), dtype=int)
