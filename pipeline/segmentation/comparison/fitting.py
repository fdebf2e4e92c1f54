"""Fitting the candidates: which customers each part uses (the plan), fits, refits for stability, the k sweep of the other models."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.base import BaseEstimator
from sklearn.metrics import adjusted_rand_score

from pipeline.config import Settings
from pipeline.segmentation import registry
from pipeline.segmentation.comparison.metrics import UNFITTED
from pipeline.segmentation.metrics import stratified_indices
from pipeline.segmentation.model import (
    build_pipeline,
    make_clusterer,
    max_fit_rows,
)
from pipeline.segmentation.training import Dataset

#: The KMeans that stratifies the sample is fitted on at most this many times ``max_exact_rows`` customers.
REFERENCE_FIT_FACTOR = 10
#: The k values of the sweep.
SWEEP_KS: tuple[int, ...] = tuple(range(2, 11))


@dataclasses.dataclass(frozen=True)
class Plan:
    """Which customers each part of the comparison uses (positions in the used matrix)."""

    rows: np.ndarray
    n_total: int
    ward: np.ndarray
    base: np.ndarray
    resamples: tuple[np.ndarray, ...]


@dataclasses.dataclass(frozen=True)
class Fit:
    """One fitted configuration: labels over the used rows (-1 noise, -2 not fitted)."""

    model: str
    k: int | None
    labels: np.ndarray
    seconds: float
    params: dict[str, Any]
    inertia: float | None = None
    stability: tuple[float, ...] = ()
    tree: np.ndarray | None = None


def make_plan(full: np.ndarray, settings: Settings) -> Plan:
    """Sample (above ``max_exact_rows``), Ward's rows, the stability base and the resamples."""
    n = len(full)
    cap = settings.max_exact_rows
    rng = np.random.default_rng(settings.random_state)
    if n > cap:
        reference = _reference_segments(full, settings)
        rows = stratified_indices(reference, cap, settings.random_state)
        if len(rows) > cap:  # per-segment rounding can add a few rows
            rows = np.sort(rng.choice(rows, size=cap, replace=False))
    else:
        rows = np.arange(n)
    m = len(rows)
    caps = [c for c in (max_fit_rows(name, settings) for name in registry.model_names()) if c is not None]
    ward_cap = min([m, *caps])
    ward = np.sort(rng.choice(m, size=ward_cap, replace=False)) if m > ward_cap else np.arange(m)
    base_size = max(cap // 4, 1000)
    base = np.sort(rng.choice(ward, size=base_size, replace=False)) if len(ward) > base_size else ward
    resamples = tuple(
        base[np.unique(rng.integers(0, len(base), size=len(base)))] for _ in range(settings.bootstrap_resamples)
    )
    return Plan(rows=rows, n_total=n, ward=ward, base=base, resamples=resamples)


def _reference_segments(full: np.ndarray, settings: Settings) -> np.ndarray:
    """KMeans segments of every customer, to stratify the sample by.

    Fitted on at most :data:`REFERENCE_FIT_FACTOR` × ``max_exact_rows``
    customers drawn at random (a million customers: 200,000) and predicted
    for all of them; below that, fitted on all.
    """
    ms = settings.replace(model="kmeans")
    most = REFERENCE_FIT_FACTOR * settings.max_exact_rows
    if len(full) <= most:
        return fit_labels(ms, full)[0]
    rows = np.sort(np.random.default_rng(settings.random_state).choice(len(full), size=most, replace=False))
    est = make_clusterer(ms, n_rows=most).fit(full[rows])
    return np.asarray(est.predict(full), dtype=int)


def scaled_matrix(dataset: Dataset, settings: Settings) -> np.ndarray:
    """The matrix the clusterers of ``train`` see (features → impute → scale)."""
    prep = build_pipeline(settings, dataset.as_of)[:-1]
    return np.asarray(prep.fit_transform(dataset.customers), dtype=float)


def _labels_of(est: BaseEstimator, X: np.ndarray) -> np.ndarray:
    labels = getattr(est, "labels_", None)
    return np.asarray(est.predict(X) if labels is None else labels, dtype=int)


def _public_params(est: BaseEstimator) -> dict[str, Any]:
    inner = getattr(est, "estimator_", None) or getattr(est, "estimator", None) or est
    return {
        k: v for k, v in sorted(inner.get_params(deep=False).items()) if isinstance(v, bool | int | float | str | None)
    }


def ward_cut(tree: np.ndarray, k: int) -> np.ndarray:
    return fcluster(tree, k, criterion="maxclust").astype(int) - 1


def fit_labels(model_settings: Settings, X: np.ndarray) -> tuple[np.ndarray, BaseEstimator | None]:
    """Fit ``model_settings.model`` on all of ``X``; labels (-1 noise) and the estimator."""
    if model_settings.model == "agglomerative":
        return ward_cut(linkage(X, "ward"), model_settings.k), None
    est = make_clusterer(model_settings, n_rows=len(X))
    try:
        est.fit(X)
    except ValueError:  # no segment found (density models) or fewer distinct rows than k: all noise
        return np.full(len(X), -1), est
    return _labels_of(est, X), est


def _stability(model_settings: Settings, X: np.ndarray, labels: np.ndarray, plan: Plan) -> tuple[float, ...]:
    """ARI between ``labels`` and refits on each resample (compared on the resampled rows)."""
    scores = []
    for rows in plan.resamples:
        refit, _ = fit_labels(model_settings, X[rows])
        scores.append(float(adjusted_rand_score(labels[rows], refit)))
    return tuple(scores)


def fit_model(name: str, settings: Settings, X: np.ndarray, plan: Plan) -> Fit:
    """Fit one candidate on its rows of the used matrix ``X`` and measure stability."""
    ms = settings.replace(model=name)
    capped = (max_fit_rows(name, settings) or len(X)) < len(X)
    fit_rows = plan.ward if capped else np.arange(len(X))
    start = time.perf_counter()
    tree = linkage(X[fit_rows], "ward") if name == "agglomerative" else None
    found, est = (ward_cut(tree, ms.k), None) if tree is not None else fit_labels(ms, X[fit_rows])
    seconds = time.perf_counter() - start
    labels = np.full(len(X), UNFITTED)
    labels[fit_rows] = found
    params = _public_params(est if est is not None else make_clusterer(ms, n_rows=len(fit_rows)))
    k = ms.k if registry.takes_k(name) else None
    inertia = float(est.inertia_) if est is not None and hasattr(est, "inertia_") else None
    return Fit(name, k, labels, seconds, params, inertia, _stability(ms, X, labels, plan), tree)


def sweep_others(
    settings: Settings, X: np.ndarray, plan: Plan, ks: Sequence[int], fits: Mapping[str, Fit]
) -> dict[tuple[str, int], np.ndarray]:
    """Labels of every model that takes k (KMeans aside) at every k, over the rows ``plan.base``.

    When the base is every used row, the chosen k reuses ``fits``.  Otherwise
    Ward's tree (from ``fits``) is cut and Birch's tree (built once on every
    used row) is re-clustered, both read on the base rows; any other model
    (the Gaussian mixture) is refitted on the base rows.
    """
    base = plan.base
    everything = len(base) == len(X)
    tree = fits["agglomerative"].tree
    in_ward = np.searchsorted(plan.ward, base)  # the base lies inside Ward's rows
    birch = make_clusterer(settings.replace(model="birch")).set_params(n_clusters=None).fit(X)
    names = [n for n in registry.sweep_models() if n != "kmeans"]
    out: dict[tuple[str, int], np.ndarray] = {}
    for k in ks:
        for name in names:
            if everything and k == settings.k:
                out[(name, k)] = fits[name].labels
            elif name == "agglomerative":
                out[(name, k)] = ward_cut(tree, k)[in_ward]
            elif name == "birch":
                birch.set_params(n_clusters=k).partial_fit()
                out[(name, k)] = np.asarray(birch.predict(X[base]), dtype=int)
            else:
                out[(name, k)] = fit_labels(settings.replace(model=name, k=k), X[base])[0]
    return out
