"""Running a comparison: validate, scale, plan, fit every model, sweep k, score, recommend."""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from pipeline.config import Settings
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation import registry
from pipeline.segmentation.comparison.fitting import (
    SWEEP_KS,
    Fit,
    Plan,
    fit_model,
    make_plan,
    scaled_matrix,
    sweep_others,
)
from pipeline.segmentation.comparison.keys import COMPARISON_FORMAT, comparison_hash
from pipeline.segmentation.comparison.metrics import silhouettes
from pipeline.segmentation.comparison.result import ComparisonResult
from pipeline.segmentation.comparison.rule import elbow_k, recommend
from pipeline.segmentation.comparison.tables import (
    candidates,
    chosen_key,
    how_measured,
    json_safe,
    kdistance_plot,
    knife,
    model_entry,
    sampling,
    scaling_variants,
    sweep_rows,
)
from pipeline.segmentation.training import Dataset, validate_for_training

#: Fewest customers a comparison accepts.
MIN_ROWS = 20

Progress = Callable[[float, str], None]


def run_comparison(dataset: Dataset, settings: Settings, *, progress: Progress | None = None) -> ComparisonResult:
    """Compare every model, sweep k, measure stability and recommend one.

    Parameters
    ----------
    dataset : Dataset
        The customers (see :func:`pipeline.segmentation.training.load_dataset`).
    settings : Settings
        ``k`` (the chosen k), ``scaling`` (the scaling compared), ``features``,
        ``random_state``, ``n_init``, ``bootstrap_resamples`` and
        ``max_exact_rows`` are used; ``model`` is not (all are compared).
    progress : callable(fraction, message), optional
        Called as the work advances (fraction from 0 to 1).

    Returns
    -------
    ComparisonResult
        Typed records (:mod:`pipeline.segmentation.comparison.result`); its
        :meth:`~ComparisonResult.to_dict` is JSON-safe (no NaN, no numpy
        types) with these keys:

        ``models``
            One entry per model: ``name``, ``label``, ``k`` (None for density
            models), ``params``, ``n_segments``, ``silhouette``,
            ``davies_bouldin``, ``calinski_harabasz``, ``noise_share``,
            ``min_segment_share``, ``segment_shares``, ``fit_seconds``,
            ``stability_mean``, ``stability_std``, ``stability_scores``,
            ``predicts_natively``, ``live_prediction`` ("native" or
            "nearest-centroid"), ``sampled_rows`` (customers it was fitted
            on), ``silhouette_rows``, ``flags`` (keys such as "noise",
            "small_segment", "one_segment", "fewer_segments", "not_native",
            "sampled") and
            ``notes`` (one sentence per flag).
        ``k_sweep``, ``elbow_k``
            Rows ``model``, ``k``, ``inertia`` (KMeans), ``silhouette``,
            ``davies_bouldin``, ``calinski_harabasz``, ``n_segments``,
            ``min_segment_share``, ``noise_share``, ``stability_mean`` and
            ``stability_std`` (KMeans), ``fit_rows``; the elbow of KMeans.
        ``scaling_variants``
            KMeans at the chosen k per scaling: ``scaling``, ``label``,
            ``is_compared``, metrics, stability, ``segment_shares`` and
            ``agreement_with_compared`` (ARI with the compared scaling).
        ``kdistance``
            ``min_samples``, ``eps``, ``knee_index`` (into ``distances``),
            ``distances`` and ``ranks`` (at most 500 points), ``rows``.
        ``silhouette_samples``
            For the recommended model: ``model``, ``k``, ``values`` and
            ``labels`` (at most 2,000, stratified, sorted by segment then
            value), ``rows``, ``mean``.
        ``recommendation``
            See :func:`recommend`.
        ``sampled``
            ``applied``, ``rows_used``, ``rows_total``, ``ward_rows``,
            ``stability_rows``, ``resamples``, ``message``, ``how_measured``
            (the customers each model was fitted and scored on, and how the
            others get labels; shown on the /models page).
        ``settings``, ``settings_hash``, ``data_hash``, ``data_name``,
        ``format``, ``created_at``, ``seconds``.

    Raises
    ------
    DataError
        Missing or constant features, or fewer than :data:`MIN_ROWS` customers.
    SegmentationError
        Fewer than two bootstrap resamples requested.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    _validate(dataset, settings)
    report(0.0, "Scaling the features")
    full = scaled_matrix(dataset, settings)
    # Hundreds of small fits: one thread each avoids OpenMP/BLAS oversubscription,
    # which made them several times slower on a shared 2-core machine.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        plan = make_plan(full, settings)
        result = _compare(dataset, settings, full[plan.rows], plan, report)
    result["seconds"] = time.perf_counter() - started
    report(1.0, "Done")
    return ComparisonResult.from_dict(json_safe(result))


def _validate(dataset: Dataset, settings: Settings) -> None:
    validate_for_training(dataset, settings)
    if len(dataset.customers) < MIN_ROWS:
        raise DataError(
            f"{dataset.name} has {len(dataset.customers)} customers; comparing models needs at least {MIN_ROWS}."
        )
    if settings.bootstrap_resamples < 2:
        raise SegmentationError("Stability needs at least 2 bootstrap resamples (20 or more recommended).")


def _compare(dataset: Dataset, settings: Settings, X: np.ndarray, plan: Plan, report: Progress) -> dict[str, Any]:
    ks = [k for k in SWEEP_KS if k < len(plan.ward)]
    report(0.05, "KMeans for k = 2..10")
    kmeans = {k: fit_model("kmeans", settings.replace(k=k), X, plan) for k in ks}
    fits: dict[str, Fit] = {"kmeans": kmeans.get(settings.k) or fit_model("kmeans", settings, X, plan)}
    others = [n for n in registry.model_names() if n != "kmeans"]
    for i, name in enumerate(others):
        report(0.3 + 0.35 * i / len(others), f"Fitting {registry.label(name)}")
        fits[name] = fit_model(name, settings, X, plan)
    report(0.65, "Sweeping k for the other models")
    sweep = sweep_others(settings, X, plan, ks, fits)
    report(0.75, "Silhouettes")
    labelings = {("model", n): f.labels for n, f in fits.items()}
    labelings.update({("kmeans", k): f.labels for k, f in kmeans.items()})
    with threadpool_limits(os.cpu_count() or 1, user_api="blas"):  # one large matrix product: every core helps
        sil = silhouettes(X, labelings)
    models = [model_entry(fits[n], X, sil[("model", n)], plan, settings) for n in registry.model_names()]
    k_sweep = sweep_rows(X, plan, kmeans, sweep, sil, silhouettes(X[plan.base], sweep))
    report(0.8, "Scaling variants")
    variants = scaling_variants(dataset, settings, X, plan, fits["kmeans"], sil[("model", "kmeans")])
    elbow = elbow_k(list(kmeans), [f.inertia for f in kmeans.values()])
    rec = recommend(candidates(models, k_sweep), settings.scaling, elbow=elbow)
    chosen = chosen_key(rec, fits)
    return {
        "format": COMPARISON_FORMAT,
        "data_name": dataset.name,
        "data_hash": dataset.data_hash,
        "settings_hash": comparison_hash(settings),
        "settings": {
            **{key: value for key, value in settings.model_fields().items() if key != "model"},
            "bootstrap_resamples": settings.bootstrap_resamples,
            "max_exact_rows": settings.max_exact_rows,
        },
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "models": models,
        "k_sweep": k_sweep,
        "elbow_k": elbow,
        "scaling_variants": variants,
        "kdistance": kdistance_plot(X, fits["dbscan"]),
        "silhouette_samples": knife(rec, sil.get(chosen), labelings.get(chosen), settings),
        "recommendation": rec,
        "sampled": {**sampling(plan, settings), "how_measured": how_measured(models, plan, settings)},
    }
