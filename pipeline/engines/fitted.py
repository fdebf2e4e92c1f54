"""The default engine's scikit-learn objects, holding parameters fitted elsewhere (by Spark).

An artifact's bundle holds a fitted :func:`pipeline.segmentation.model.build_pipeline`
pipeline and a PCA.  An engine that fits in another library hands its
parameters (medians, scaling means and scales, centroids or mixture
components, principal axes) to these functions, which return the same
scikit-learn objects, so the dashboard and ``score`` use a Spark-trained model
exactly like one trained here.  Each object is first fitted on a few rows that
make its private state valid, then given the real parameters (public,
documented attributes only).
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from pipeline.config import Settings
from pipeline.segmentation.model import build_pipeline


def kmeans(centres: np.ndarray, inertia: float) -> KMeans:
    """A fitted KMeans whose ``cluster_centers_`` are ``centres`` (it predicts the nearest one)."""
    centres = np.asarray(centres, dtype=float)
    # One Lloyd step from the centres on the centres themselves leaves them where they are.
    model = KMeans(n_clusters=len(centres), init=centres, n_init=1, max_iter=1).fit(centres)
    model.cluster_centers_ = centres.copy()
    model.inertia_ = float(inertia)
    return model


def gaussian_mixture(weights: np.ndarray, means: np.ndarray, covariances: np.ndarray, X: np.ndarray) -> GaussianMixture:
    """A fitted full-covariance GaussianMixture with these components.

    ``X`` (at least as many rows as components, in the scaled space) only
    makes scikit-learn's fitted state valid; the parameters are then replaced.
    """
    weights, means, covariances = (np.asarray(a, dtype=float) for a in (weights, means, covariances))
    model = GaussianMixture(n_components=len(weights), covariance_type="full", means_init=means, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(np.asarray(X, dtype=float))
    eye = np.eye(means.shape[1])
    chol = np.stack([solve_triangular(np.linalg.cholesky(c), eye, lower=True).T for c in covariances])
    model.weights_ = weights / weights.sum()
    model.means_ = means
    model.covariances_ = covariances
    model.precisions_cholesky_ = chol
    model.precisions_ = np.stack([c @ c.T for c in chol])
    return model


def pipeline(
    settings: Settings,
    as_of: dt.date,
    medians: np.ndarray,
    means: np.ndarray,
    scales: np.ndarray,
    clusterer: BaseEstimator,
) -> Pipeline:
    """:func:`pipeline.segmentation.model.build_pipeline` holding these parameters.

    Parameters
    ----------
    medians : array
        Median of each feature (imputed for missing values).
    means, scales : array
        The scaler's mean and scale of each feature (after ``log1p`` for that scaling).
    clusterer : estimator
        The fitted clustering step.
    """
    feats = list(settings.features)
    pipe = build_pipeline(settings, as_of)
    pipe.steps[-1] = ("cluster", clusterer)
    rows = pd.DataFrame([medians, np.asarray(medians) + 1.0], columns=feats)
    pipe.named_steps["features"].fit(rows)
    pipe.named_steps["impute"].fit(rows.iloc[:1])
    scale = pipe.named_steps["scale"]
    scale.fit(pipe.named_steps["impute"].transform(rows))
    standard = scale if isinstance(scale, StandardScaler) else scale.named_steps["standard"]
    standard.mean_ = np.asarray(means, dtype=float)
    standard.scale_ = np.asarray(scales, dtype=float)
    standard.var_ = standard.scale_**2
    return pipe


def pca(components: np.ndarray, variance_ratio: np.ndarray, total_variance: float) -> PCA:
    """A fitted PCA with these axes (rows of ``components``) on centred data.

    Each axis gets scikit-learn's sign (its largest loading positive).
    """
    comp = np.asarray(components, dtype=float)
    comp = comp * np.where(comp[np.arange(len(comp)), np.argmax(np.abs(comp), axis=1)] < 0, -1.0, 1.0)[:, None]
    n, d = comp.shape
    model = PCA(n_components=n).fit(np.random.default_rng(0).normal(size=(d + n + 1, d)))
    ratio = np.asarray(variance_ratio, dtype=float)
    model.components_ = comp
    model.mean_ = np.zeros(d)
    model.explained_variance_ratio_ = ratio
    model.explained_variance_ = ratio * total_variance
    return model
