"""Model comparison: which clustering, which k, how stable, which preprocessing.

:func:`run_comparison` fits every candidate model on the same features and
scaling as :func:`pipeline.segmentation.training.train` (the preprocessing part of
:func:`pipeline.segmentation.model.build_pipeline`, the clusterers of
:func:`pipeline.segmentation.model.make_clusterer`) and returns one JSON-safe dict;
:func:`load_or_run_comparison` caches it beside the artifacts.  Nothing here
imports Dash.

Candidates
----------
KMeans, Agglomerative (Ward), Gaussian mixture and Birch at the chosen
``settings.k``; DBSCAN (``eps`` at the knee of the k-distance curve, see
:func:`pipeline.segmentation.model.dbscan_eps`) and HDBSCAN find their own number of
segments.  Agglomerative, DBSCAN and HDBSCAN cannot assign new customers
themselves: they are compared, but offered for live prediction only through
:class:`pipeline.segmentation.model.NearestCentroidClusterer` (``predicts_natively`` is
false and each entry says so).  Ward's tree is built once with SciPy's
``linkage`` (what scikit-learn's ``AgglomerativeClustering`` runs for
unstructured Ward) and cut at every k.

Metrics
-------
Silhouette, Davies–Bouldin and Calinski–Harabasz (noise excluded), segments
found, noise share, smallest-segment share (of the customers the model was
fitted on, noise included), fit seconds, and **stability**: the mean and
standard deviation of the adjusted Rand index (ARI) between the model's
labels and the labels of the same model refitted on each of
``settings.bootstrap_resamples`` bootstrap resamples.  A resample draws rows
with replacement and the model is refitted on the distinct rows drawn (about
63%; duplicated rows would fake density for DBSCAN and HDBSCAN); the ARI is
computed on those rows, noise counted as one more label.  Refits go through
:func:`pipeline.segmentation.model.make_clusterer` for the resample, so DBSCAN reads its
``eps`` off the resample's own knee and HDBSCAN's ``min_cluster_size`` is 2%
of the resample; a refit that finds no segment counts as all noise.  Every
model sees the same resamples, drawn from ``settings.random_state``.  The k sweep
(k = 2..10) reports inertia, silhouette, Davies–Bouldin, Calinski–Harabasz
and stability for KMeans (on the same customers as the models, so every k is
a recommendation candidate), and silhouette, Davies–Bouldin and
Calinski–Harabasz for Agglomerative, Gaussian mixture and Birch (for the
analyst, on the stability sample described below).  Silhouettes are exact (:func:`silhouette_matrix`
equals scikit-learn's ``silhouette_samples``) and every model is scored on
the same customers (Ward on its own subset when it is capped, see below), so
they can be compared directly.

Elbow
-----
The elbow of the KMeans inertia curve is the k whose inertia lies farthest
below the straight line from the inertia at k = 2 to the inertia at k = 10,
both axes scaled to [0, 1] (the kneedle rule of
:func:`pipeline.segmentation.model.knee_index`, applied to the curve read from k = 10
down to k = 2, where it increases).

Scaling variants
----------------
KMeans at the chosen k under ``standard``, ``log1p`` and ``yeo-johnson``
scaling: metrics, stability, segment shares and the ARI with the segments of
the scaling being compared.  Silhouettes of different scalings are measured
in different spaces and are not comparable with each other.

Recommendation (:func:`recommend`)
----------------------------------
1. Candidates: the six models at the chosen k (density models at the number
   of segments they find) and KMeans at every k of the sweep.
2. Eligible: at least two segments, as many segments as the k asked for
   (Birch, for one, can return fewer), at most 1% of customers left as
   noise, every segment at least 5% of customers.
3. Shortlist: eligible candidates whose silhouette is within 0.02 of the best
   eligible silhouette.
4. Choice: the shortlisted candidate with the highest mean stability.
   Stabilities within 0.01 of the highest count as tied; ties go to models
   that predict new customers natively, then to the k nearest the inertia
   elbow, then to the higher silhouette, then to fewer segments.
5. If no candidate is eligible, steps 3-4 run over every candidate with at
   least two segments and the reason says which condition none met.

The scaling recommended is the one compared (``settings.scaling``): the rule
never switches scaling because silhouettes across scalings are not
comparable.  The user may still train any model, k and scaling with
``python -m pipeline train --model NAME --k K --scaling S``.

Sizes (n customers, M = ``settings.max_exact_rows``)
----------------------------------------------------
* n <= M: every model and metric uses all n customers.
* n > M: the comparison runs on M customers sampled stratified by the KMeans
  segments of all n (every segment represented); the scaling is still fitted
  on all n.  The result says so (``sampled``).
* Ward holds m²/2 distances in memory, so it is fitted on at most
  :data:`pipeline.segmentation.registry.WARD_MAX_ROWS` (10,000) of those customers (see
  :func:`pipeline.segmentation.model.max_fit_rows`).
* Stability resamples are drawn from at most ``max(M // 4, 1000)`` of them
  (5,000 by default) and inside Ward's rows, so every model has labels there.
  The k sweep of Agglomerative, Gaussian mixture and Birch is read on those
  same customers (the mixture refitted there): nine mixtures and 160
  silhouette labellings on all M customers would double the running time.

The comparison makes hundreds of small fits; they run with one thread each
(``threadpoolctl``, a scikit-learn dependency), because OpenMP and BLAS
threads fighting over two shared cores made them several times slower.

Caching
-------
:func:`load_or_run_comparison` stores the result as JSON (never pickle) in
``<models_dir>/comparisons/<data-name>-<data hash>-<comparison hash>.json``
with :func:`pipeline.store.artifacts.write_json_atomic`.  The comparison hash
(:func:`comparison_hash`) covers every setting that changes the result (not
``settings.model``, since all models are compared) plus the library versions
and :data:`COMPARISON_FORMAT`; a file whose recorded hashes differ is ignored
and recomputed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score
from sklearn.metrics.pairwise import euclidean_distances
from threadpoolctl import threadpool_limits

from pipeline.config import SCALINGS, Settings
from pipeline.errors import DataError, SegmentationError
from pipeline.segmentation import registry
from pipeline.segmentation.metrics import stratified_indices
from pipeline.segmentation.model import (
    build_pipeline,
    eps_at_knee,
    kdistance_curve,
    knee_index,
    make_clusterer,
    max_fit_rows,
    predicts_natively,
)
from pipeline.segmentation.training import Dataset, validate_for_training
from pipeline.store.artifacts import artifact_id, library_versions, write_json_atomic

#: Bump when the computation changes, so cached comparisons are recomputed.
COMPARISON_FORMAT = 1
#: The k values of the sweep.
SWEEP_KS: tuple[int, ...] = tuple(range(2, 11))
SCALING_LABELS: Mapping[str, str] = MappingProxyType(
    {"standard": "Standard scaling", "log1p": "log1p + standard scaling", "yeo-johnson": "Yeo–Johnson power transform"}
)
#: Fewest customers a comparison accepts.
MIN_ROWS = 20
#: Recommendation thresholds (see the module docstring).
MAX_NOISE_SHARE = 0.01
MIN_SEGMENT_SHARE = 0.05
SILHOUETTE_TOLERANCE = 0.02
STABILITY_TOLERANCE = 0.01
#: Most points returned for plots.
KDISTANCE_MAX_POINTS = 500
KNIFE_MAX_POINTS = 2000
#: Memory of one block of the silhouette distance computation.
_BLOCK_BYTES = 64 << 20
#: Label of rows a model was not fitted on (noise is -1).
_UNFITTED = -2

Progress = Callable[[float, str], None]


# --------------------------------------------------------------------------- silhouette


def silhouette_matrix(X: np.ndarray, labelings: Sequence[np.ndarray]) -> np.ndarray:
    """Exact silhouette coefficient of every row under several labelings at once.

    Equals ``sklearn.metrics.silhouette_samples(X[keep], labels[keep])`` for
    each labeling, where ``keep`` are its rows with a label >= 0 (negative
    labels: noise or rows the model did not see, left out).  Distances are
    computed once, in blocks of bounded memory, and the per-segment distance
    sums of all labelings come from one matrix product per block.

    Parameters
    ----------
    X : ndarray of shape (m, d)
        The points.
    labelings : sequence of int arrays of shape (m,)
        One labelling per column of the result.

    Returns
    -------
    ndarray of shape (m, len(labelings))
        Silhouette values; NaN where a row was left out.
    """
    X = np.asarray(X, dtype=float)
    m = len(X)
    parts = [_one_hot(np.asarray(lab)) for lab in labelings]
    if not parts:
        return np.empty((m, 0))
    weights = np.hstack([w for w, _ in parts])
    sums = np.empty((m, weights.shape[1]))
    block = max(1, _BLOCK_BYTES // (8 * max(m, 1)))
    for start in range(0, m, block):
        dist = euclidean_distances(X[start : start + block], X)
        rows = np.arange(len(dist))
        dist[rows, start + rows] = 0.0  # a point's distance to itself, exactly
        sums[start : start + block] = dist @ weights
    out = np.full((m, len(parts)), np.nan)
    offset = 0
    for j, (w, own) in enumerate(parts):
        width = w.shape[1]
        out[:, j] = _silhouette_from_sums(sums[:, offset : offset + width], own, w.sum(axis=0))
        offset += width
    return out


def _one_hot(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrix of the labels >= 0, and each row's column (-1: left out)."""
    values, inverse = np.unique(labels, return_inverse=True)
    column = np.full(len(values), -1)
    kept = values >= 0
    column[kept] = np.arange(int(kept.sum()))
    own = column[inverse.ravel()]
    w = np.zeros((len(labels), int(kept.sum())))
    rows = np.flatnonzero(own >= 0)
    w[rows, own[rows]] = 1.0
    return w, own


def _silhouette_from_sums(sums: np.ndarray, own: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Silhouette values from per-segment distance sums (scikit-learn's edge cases)."""
    out = np.full(len(own), np.nan)
    rows = np.flatnonzero(own >= 0)
    if len(rows) == 0 or len(counts) < 2:
        return out
    s, o = sums[rows], own[rows]
    size = counts[o]
    pick = np.arange(len(rows))
    with np.errstate(divide="ignore", invalid="ignore"):
        intra = s[pick, o] / (size - 1)
        mean_other = s / counts
        mean_other[pick, o] = np.inf
        inter = mean_other.min(axis=1)
        value = (inter - intra) / np.maximum(intra, inter)
    out[rows] = np.nan_to_num(np.where(size > 1, value, 0.0))
    return out


# --------------------------------------------------------------------------- pure rules


def elbow_k(ks: Sequence[int], inertia: Sequence[float]) -> int | None:
    """The k at the elbow of a decreasing inertia curve (see the module docstring)."""
    if len(ks) == 0:
        return None
    y = np.asarray(inertia, dtype=float)[::-1]
    return int(ks[len(ks) - 1 - knee_index(y)])


def recommend(
    candidates: Sequence[Mapping[str, Any]],
    scaling: str,
    *,
    elbow: int | None = None,
    max_noise_share: float = MAX_NOISE_SHARE,
    min_segment_share: float = MIN_SEGMENT_SHARE,
    silhouette_tolerance: float = SILHOUETTE_TOLERANCE,
    stability_tolerance: float = STABILITY_TOLERANCE,
) -> dict[str, Any]:
    """Apply the recommendation rule of the module docstring to a metrics table.

    Parameters
    ----------
    candidates : sequence of mappings
        Rows with ``model``, ``k`` (segments), ``silhouette``,
        ``stability_mean``, ``stability_std``, ``noise_share``,
        ``min_segment_share``, ``n_segments`` and ``predicts_natively``;
        ``label`` (display name) is optional.  Rows with a missing silhouette
        or stability are not candidates.
    scaling : str
        The scaling the table was computed with (returned as is).
    elbow : int, optional
        The elbow k of the inertia curve, used to break ties.

    Returns
    -------
    dict
        ``model``, ``label``, ``k`` (segments), ``scaling``, ``command`` (the
        ``train`` command line for it; density models take no ``--k``),
        ``reason`` (one sentence),
        ``eligible`` (whether the choice met every condition), ``rule`` (the
        thresholds used) and ``considered`` (each candidate with
        ``eligible`` and ``why_not``).  ``model`` is None when no candidate
        has two segments.
    """
    rows = [{**c, "why_not": _why_not(c, max_noise_share, min_segment_share)} for c in candidates if _scored(c)]
    considered = [
        {"model": r["model"], "k": r["k"], "eligible": not r["why_not"], "why_not": r["why_not"]} for r in rows
    ]
    rule = {
        "max_noise_share": max_noise_share,
        "min_segment_share": min_segment_share,
        "silhouette_tolerance": silhouette_tolerance,
        "stability_tolerance": stability_tolerance,
        "elbow_k": elbow,
    }
    pool = [r for r in rows if not r["why_not"]]
    relaxed = not pool
    if relaxed:
        pool = [r for r in rows if r["n_segments"] >= 2]
    if not pool:
        return {
            "model": None,
            "label": None,
            "k": None,
            "scaling": scaling,
            "command": None,
            "eligible": False,
            "reason": "No model found at least two segments; nothing to recommend.",
            "rule": rule,
            "considered": considered,
        }
    best_sil = max(r["silhouette"] for r in pool)
    shortlist = [r for r in pool if r["silhouette"] >= best_sil - silhouette_tolerance]
    best_stab = max(r["stability_mean"] for r in shortlist)
    tied = [r for r in shortlist if r["stability_mean"] >= best_stab - stability_tolerance]

    def tie_break(r: Mapping[str, Any]) -> tuple[bool, int, float, int]:
        distance = abs(int(r["k"]) - elbow) if elbow is not None else 0
        return (bool(r["predicts_natively"]), -distance, r["silhouette"], -int(r["n_segments"]))

    pick = max(tied, key=tie_break)
    facts = _Facts(best_sil, best_stab, tied, relaxed, elbow, min_segment_share)
    k_option = f" --k {int(pick['k'])}" if registry.takes_k(pick["model"]) else ""
    return {
        "model": pick["model"],
        "label": _label(pick),
        "k": int(pick["k"]),
        "scaling": scaling,
        "command": f"python -m pipeline train --model {pick['model']}{k_option} --scaling {scaling}",
        "eligible": not relaxed,
        "reason": _reason(pick, facts, rows),
        "rule": rule,
        "considered": considered,
    }


@dataclasses.dataclass(frozen=True)
class _Facts:
    """What the rule saw, for the reason sentence."""

    best_silhouette: float
    best_stability: float
    tied: Sequence[Mapping[str, Any]]
    relaxed: bool
    elbow: int | None
    min_share: float


def _label(row: Mapping[str, Any]) -> str:
    return str(row.get("label") or registry.label(row["model"]))


def _scored(row: Mapping[str, Any]) -> bool:
    return row.get("silhouette") is not None and row.get("stability_mean") is not None


def _why_not(row: Mapping[str, Any], max_noise: float, min_share: float) -> list[str]:
    why = []
    if row["n_segments"] < 2:
        why.append("fewer than two segments")
    elif row["n_segments"] != row["k"]:
        why.append(f"found {row['n_segments']} segments for k = {row['k']}")
    if row["noise_share"] > max_noise:
        why.append(f"{row['noise_share']:.0%} of customers are noise (limit {max_noise:.0%})")
    if row["min_segment_share"] < min_share:
        why.append(f"smallest segment holds {row['min_segment_share']:.1%} of customers (limit {min_share:.0%})")
    return why


def _reason(pick: Mapping[str, Any], facts: _Facts, rows: Sequence[Mapping[str, Any]]) -> str:
    """One sentence saying why ``pick`` won, naming the models that were never eligible."""
    stab = f"ARI {pick['stability_mean']:.2f} ± {pick['stability_std']:.2f}"
    if pick["stability_mean"] >= facts.best_stability:
        parts = [f"highest stability ({stab})"]
    else:
        parts = [f"stability {stab}, tied with the highest ({facts.best_stability:.2f}) within {STABILITY_TOLERANCE}"]
    if pick["silhouette"] >= facts.best_silhouette:
        parts.append(f"best silhouette ({pick['silhouette']:.3f})")
    else:
        parts.append(
            f"silhouette {pick['silhouette']:.3f}, within {SILHOUETTE_TOLERANCE} of the best ({facts.best_silhouette:.3f})"
        )
    parts.append("no noise points" if pick["noise_share"] == 0 else f"{pick['noise_share']:.1%} noise")
    if facts.relaxed:
        parts.append(f"smallest segment {pick['min_segment_share']:.1%} of customers")
    else:
        parts.append(f"every segment ≥ {facts.min_share:.0%} of customers (smallest {pick['min_segment_share']:.0%})")
    others = [r for r in facts.tied if r is not pick]
    if others and pick["predicts_natively"] and any(not r["predicts_natively"] for r in others):
        parts.append("predicts new customers natively")
    if others and facts.elbow == int(pick["k"]) and any(int(r["k"]) != facts.elbow for r in others):
        parts.append("k at the inertia elbow")
    text = f"{_label(pick)}, k = {int(pick['k'])}: " + ", ".join(parts) + "."
    if facts.relaxed:
        return "No candidate met every condition; closest: " + text
    never: dict[str, str] = {}
    for r in rows:
        if _label(r) != _label(pick) and all(o["why_not"] for o in rows if o["model"] == r["model"]):
            never.setdefault(_label(r), r["why_not"][0])
    if never:
        text += " Not eligible: " + "; ".join(f"{name}: {why}" for name, why in never.items()) + "."
    return text


# --------------------------------------------------------------------------- plan and fits


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Which customers each part of the comparison uses (positions in the used matrix)."""

    rows: np.ndarray
    n_total: int
    ward: np.ndarray
    base: np.ndarray
    resamples: tuple[np.ndarray, ...]


@dataclasses.dataclass(frozen=True)
class _Fit:
    """One fitted configuration: labels over the used rows (-1 noise, -2 not fitted)."""

    model: str
    k: int | None
    labels: np.ndarray
    seconds: float
    params: dict[str, Any]
    inertia: float | None = None
    stability: tuple[float, ...] = ()
    tree: np.ndarray | None = None


def _make_plan(full: np.ndarray, settings: Settings) -> _Plan:
    """Sample (above ``max_exact_rows``), Ward's rows, the stability base and the resamples."""
    n = len(full)
    cap = settings.max_exact_rows
    rng = np.random.default_rng(settings.random_state)
    if n > cap:
        reference, _ = _fit_labels(settings.replace(model="kmeans"), full)
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
    return _Plan(rows=rows, n_total=n, ward=ward, base=base, resamples=resamples)


def _scaled(dataset: Dataset, settings: Settings) -> np.ndarray:
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


def _ward_cut(tree: np.ndarray, k: int) -> np.ndarray:
    return fcluster(tree, k, criterion="maxclust").astype(int) - 1


def _fit_labels(model_settings: Settings, X: np.ndarray) -> tuple[np.ndarray, BaseEstimator | None]:
    """Fit ``model_settings.model`` on all of ``X``; labels (-1 noise) and the estimator."""
    if model_settings.model == "agglomerative":
        return _ward_cut(linkage(X, "ward"), model_settings.k), None
    est = make_clusterer(model_settings, n_rows=len(X))
    try:
        est.fit(X)
    except ValueError:  # no segment found (density models) or fewer distinct rows than k: all noise
        return np.full(len(X), -1), est
    return _labels_of(est, X), est


def _stability(model_settings: Settings, X: np.ndarray, labels: np.ndarray, plan: _Plan) -> tuple[float, ...]:
    """ARI between ``labels`` and refits on each resample (compared on the resampled rows)."""
    scores = []
    for rows in plan.resamples:
        refit, _ = _fit_labels(model_settings, X[rows])
        scores.append(float(adjusted_rand_score(labels[rows], refit)))
    return tuple(scores)


def _fit_model(name: str, settings: Settings, X: np.ndarray, plan: _Plan) -> _Fit:
    """Fit one candidate on its rows of the used matrix ``X`` and measure stability."""
    ms = settings.replace(model=name)
    capped = (max_fit_rows(name, settings) or len(X)) < len(X)
    fit_rows = plan.ward if capped else np.arange(len(X))
    start = time.perf_counter()
    tree = linkage(X[fit_rows], "ward") if name == "agglomerative" else None
    fit_labels, est = (_ward_cut(tree, ms.k), None) if tree is not None else _fit_labels(ms, X[fit_rows])
    seconds = time.perf_counter() - start
    labels = np.full(len(X), _UNFITTED)
    labels[fit_rows] = fit_labels
    params = _public_params(est if est is not None else make_clusterer(ms, n_rows=len(fit_rows)))
    k = ms.k if registry.takes_k(name) else None
    inertia = float(est.inertia_) if est is not None and hasattr(est, "inertia_") else None
    return _Fit(name, k, labels, seconds, params, inertia, _stability(ms, X, labels, plan), tree)


# --------------------------------------------------------------------------- metrics


def _metrics(X: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Davies–Bouldin, Calinski–Harabasz, segments, noise and segment shares of one labelling."""
    fitted = labels != _UNFITTED
    keep = labels >= 0
    _, counts = np.unique(labels[keep], return_counts=True)
    n_fit = int(fitted.sum())
    out: dict[str, Any] = {
        "n_segments": len(counts),
        "noise_share": float(np.sum(labels == -1) / n_fit) if n_fit else None,
        "min_segment_share": float(counts.min() / n_fit) if len(counts) else 0.0,
        "segment_shares": sorted((float(c / n_fit) for c in counts), reverse=True),
        "davies_bouldin": None,
        "calinski_harabasz": None,
        "fit_rows": n_fit,
    }
    if 2 <= len(counts) < int(keep.sum()):
        out["davies_bouldin"] = float(davies_bouldin_score(X[keep], labels[keep]))
        out["calinski_harabasz"] = float(calinski_harabasz_score(X[keep], labels[keep]))
    return out


def _stability_fields(scores: Sequence[float]) -> dict[str, Any]:
    if not scores:
        return {"stability_mean": None, "stability_std": None, "stability_scores": []}
    return {
        "stability_mean": float(np.mean(scores)),
        "stability_std": float(np.std(scores)),
        "stability_scores": [float(s) for s in scores],
    }


def _mean_silhouette(values: np.ndarray) -> tuple[float | None, int]:
    kept = values[~np.isnan(values)]
    return (float(kept.mean()) if len(kept) else None), len(kept)


# --------------------------------------------------------------------------- public API


def comparison_hash(settings: Settings) -> str:
    """SHA-256 of everything that changes a comparison's result.

    Every field of :meth:`Settings.model_fields` except ``model`` (all models
    are compared), plus ``bootstrap_resamples``, ``max_exact_rows``, the
    versions of the numerical libraries and :data:`COMPARISON_FORMAT`.
    """
    fields = {k: v for k, v in settings.model_fields().items() if k != "model"}
    versions = library_versions()
    fields.update(
        bootstrap_resamples=settings.bootstrap_resamples,
        max_exact_rows=settings.max_exact_rows,
        format=COMPARISON_FORMAT,
        libraries={lib: versions.get(lib) for lib in ("scikit-learn", "numpy", "scipy")},
    )
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def comparison_path(dataset: Dataset, settings: Settings) -> Path:
    """Where the cached comparison of ``dataset`` under ``settings`` lives."""
    name = artifact_id(dataset.name, dataset.data_hash, comparison_hash(settings))
    return settings.models_dir / "comparisons" / f"{name}.json"


def run_comparison(dataset: Dataset, settings: Settings, *, progress: Progress | None = None) -> dict[str, Any]:
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
    dict
        JSON-safe (no NaN, no numpy types):

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
            ``stability_rows``, ``resamples``, ``message``.
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
    full = _scaled(dataset, settings)
    # Hundreds of small fits: one thread each avoids OpenMP/BLAS oversubscription,
    # which made them several times slower on a shared 2-core machine.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        plan = _make_plan(full, settings)
        result = _compare(dataset, settings, full[plan.rows], plan, report)
    result["seconds"] = time.perf_counter() - started
    report(1.0, "Done")
    return _json_safe(result)


def _validate(dataset: Dataset, settings: Settings) -> None:
    validate_for_training(dataset, settings)
    if len(dataset.customers) < MIN_ROWS:
        raise DataError(
            f"{dataset.name} has {len(dataset.customers)} customers; comparing models needs at least {MIN_ROWS}."
        )
    if settings.bootstrap_resamples < 2:
        raise SegmentationError("Stability needs at least 2 bootstrap resamples (20 or more recommended).")


def _compare(dataset: Dataset, settings: Settings, X: np.ndarray, plan: _Plan, report: Progress) -> dict[str, Any]:
    ks = [k for k in SWEEP_KS if k < len(plan.ward)]
    report(0.05, "KMeans for k = 2..10")
    kmeans = {k: _fit_model("kmeans", settings.replace(k=k), X, plan) for k in ks}
    fits: dict[str, _Fit] = {"kmeans": kmeans.get(settings.k) or _fit_model("kmeans", settings, X, plan)}
    others = [n for n in registry.model_names() if n != "kmeans"]
    for i, name in enumerate(others):
        report(0.3 + 0.35 * i / len(others), f"Fitting {registry.label(name)}")
        fits[name] = _fit_model(name, settings, X, plan)
    report(0.65, "Sweeping k for the other models")
    sweep = _sweep_others(settings, X, plan, ks, fits)
    report(0.75, "Silhouettes")
    labelings = {("model", n): f.labels for n, f in fits.items()}
    labelings.update({("kmeans", k): f.labels for k, f in kmeans.items()})
    sil = _silhouettes(X, labelings)
    models = [_model_entry(fits[n], X, sil[("model", n)], plan, settings) for n in registry.model_names()]
    k_sweep = _sweep_rows(X, plan, kmeans, sweep, sil, _silhouettes(X[plan.base], sweep))
    report(0.8, "Scaling variants")
    variants = _scaling_variants(dataset, settings, X, plan, fits["kmeans"], sil[("model", "kmeans")])
    elbow = elbow_k(list(kmeans), [f.inertia for f in kmeans.values()])
    rec = recommend(_candidates(models, k_sweep), settings.scaling, elbow=elbow)
    chosen = _chosen_key(rec, fits)
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
        "kdistance": _kdistance(X, fits["dbscan"]),
        "silhouette_samples": _knife(rec, sil.get(chosen), labelings.get(chosen), settings),
        "recommendation": rec,
        "sampled": _sampled(plan, settings),
    }


def _silhouettes(X: np.ndarray, labelings: Mapping[Any, np.ndarray]) -> dict[Any, np.ndarray]:
    """Per-row silhouettes of every labelling, each distinct array computed once."""
    column: dict[int, int] = {}
    arrays: list[np.ndarray] = []
    for labels in labelings.values():
        if id(labels) not in column:
            column[id(labels)] = len(arrays)
            arrays.append(labels)
    values = silhouette_matrix(X, arrays)
    return {key: values[:, column[id(labels)]] for key, labels in labelings.items()}


def _sweep_others(
    settings: Settings, X: np.ndarray, plan: _Plan, ks: Sequence[int], fits: Mapping[str, _Fit]
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
                out[(name, k)] = _ward_cut(tree, k)[in_ward]
            elif name == "birch":
                birch.set_params(n_clusters=k).partial_fit()
                out[(name, k)] = np.asarray(birch.predict(X[base]), dtype=int)
            else:
                out[(name, k)] = _fit_labels(settings.replace(model=name, k=k), X[base])[0]
    return out


def _sweep_rows(
    X: np.ndarray,
    plan: _Plan,
    kmeans: Mapping[int, _Fit],
    others: Mapping[tuple[str, int], np.ndarray],
    sil: Mapping[Any, np.ndarray],
    others_sil: Mapping[Any, np.ndarray],
) -> list[dict[str, Any]]:
    """KMeans rows (every used row), then the other models' rows (the base rows)."""
    rows = []
    for k, fit in kmeans.items():
        rows.append(_sweep_row("kmeans", k, X, fit.labels, sil[("kmeans", k)], fit.inertia, fit.stability))
    Xb = X[plan.base]
    for (name, k), labels in sorted(
        others.items(), key=lambda item: (registry.sweep_models().index(item[0][0]), item[0][1])
    ):
        rows.append(_sweep_row(name, k, Xb, labels, others_sil[(name, k)], None, ()))
    return rows


def _sweep_row(
    name: str,
    k: int,
    X: np.ndarray,
    labels: np.ndarray,
    sil: np.ndarray,
    inertia: float | None,
    stability: Sequence[float],
) -> dict[str, Any]:
    metrics = _metrics(X, labels)
    silhouette, sil_rows = _mean_silhouette(sil)
    stab = _stability_fields(stability)
    return {
        "model": name,
        "label": registry.label(name),
        "k": k,
        "inertia": inertia,
        "silhouette": silhouette,
        "davies_bouldin": metrics["davies_bouldin"],
        "calinski_harabasz": metrics["calinski_harabasz"],
        "n_segments": metrics["n_segments"],
        "noise_share": metrics["noise_share"],
        "min_segment_share": metrics["min_segment_share"],
        "stability_mean": stab["stability_mean"],
        "stability_std": stab["stability_std"],
        "fit_rows": metrics["fit_rows"],
        "silhouette_rows": sil_rows,
        "predicts_natively": registry.spec(name).predicts_natively,
    }


def _model_entry(fit: _Fit, X: np.ndarray, sil: np.ndarray, plan: _Plan, settings: Settings) -> dict[str, Any]:
    metrics = _metrics(X, fit.labels)
    silhouette, sil_rows = _mean_silhouette(sil)
    native = predicts_natively(make_clusterer(settings.replace(model=fit.model)))
    entry = {
        "name": fit.model,
        "label": registry.label(fit.model),
        "k": fit.k,
        "params": fit.params,
        "silhouette": silhouette,
        "silhouette_rows": sil_rows,
        **{key: metrics[key] for key in ("n_segments", "davies_bouldin", "calinski_harabasz")},
        **{key: metrics[key] for key in ("noise_share", "min_segment_share", "segment_shares")},
        "fit_seconds": fit.seconds,
        **_stability_fields(fit.stability),
        "predicts_natively": native,
        "live_prediction": "native" if native else "nearest-centroid",
        "sampled_rows": metrics["fit_rows"],
    }
    entry["flags"], entry["notes"] = _flags(entry, plan)
    return entry


def _flags(entry: Mapping[str, Any], plan: _Plan) -> tuple[list[str], list[str]]:
    flags, notes = [], []
    if entry["n_segments"] < 2:
        flags.append("one_segment")
        notes.append(f"Found {entry['n_segments']} segment(s); nothing to compare.")
    if entry["k"] is not None and 1 <= entry["n_segments"] < entry["k"]:
        flags.append("fewer_segments")
        notes.append(f"Found only {entry['n_segments']} segments for k = {entry['k']}.")
    if entry["noise_share"] and entry["noise_share"] > MAX_NOISE_SHARE:
        flags.append("noise")
        notes.append(f"{entry['noise_share']:.1%} of customers are left as noise (no segment).")
    if entry["n_segments"] >= 1 and entry["min_segment_share"] < MIN_SEGMENT_SHARE:
        flags.append("small_segment")
        notes.append(f"The smallest segment holds {entry['min_segment_share']:.1%} of customers.")
    if not entry["predicts_natively"]:
        flags.append("not_native")
        notes.append(
            "Cannot score new customers itself; offered for live prediction only through the nearest-centroid wrapper."
        )
    if entry["sampled_rows"] < plan.n_total:
        flags.append("sampled")
        notes.append(f"Fitted on {entry['sampled_rows']:,} of {plan.n_total:,} customers.")
    return flags, notes


def _candidates(models: Sequence[Mapping[str, Any]], k_sweep: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rule step 1: every model at the chosen k, then KMeans at each other k of the sweep."""
    rows = [_candidate(m) for m in models]
    seen = {(r["model"], r["k"]) for r in rows}
    rows += [_candidate(r) for r in k_sweep if r["model"] == "kmeans" and ("kmeans", r["k"]) not in seen]
    return rows


def _candidate(row: Mapping[str, Any]) -> dict[str, Any]:
    """A models-table or k-sweep row in the form :func:`recommend` reads."""
    return {
        "model": row.get("name", row.get("model")),
        "label": row["label"],
        "k": row["k"] if row["k"] is not None else row["n_segments"],
        **{
            key: row[key]
            for key in (
                "silhouette",
                "stability_mean",
                "stability_std",
                "noise_share",
                "min_segment_share",
                "n_segments",
                "predicts_natively",
            )
        },
    }


def _chosen_key(rec: Mapping[str, Any], fits: Mapping[str, _Fit]) -> tuple[str, Any] | None:
    if rec["model"] is None:
        return None
    fit = fits[rec["model"]]
    if fit.k is None or fit.k == rec["k"]:
        return ("model", rec["model"])
    return (rec["model"], rec["k"])


def _scaling_variants(
    dataset: Dataset, settings: Settings, X: np.ndarray, plan: _Plan, compared: _Fit, compared_sil: np.ndarray
) -> list[dict[str, Any]]:
    """KMeans at the chosen k under every scaling (the compared one reuses its fit)."""
    rows = []
    for scaling in SCALINGS:
        if scaling == settings.scaling:
            Xs, fit, sil = X, compared, compared_sil
        else:
            variant = settings.replace(scaling=scaling)
            Xs = _scaled(dataset, variant)[plan.rows]
            fit = _fit_model("kmeans", variant, Xs, plan)
            sil = silhouette_matrix(Xs, [fit.labels])[:, 0]
        metrics = _metrics(Xs, fit.labels)
        silhouette, sil_rows = _mean_silhouette(sil)
        rows.append(
            {
                "scaling": scaling,
                "label": SCALING_LABELS[scaling],
                "is_compared": scaling == settings.scaling,
                "model": "kmeans",
                "k": fit.k,
                "silhouette": silhouette,
                "silhouette_rows": sil_rows,
                **{key: metrics[key] for key in ("davies_bouldin", "calinski_harabasz", "n_segments")},
                **{key: metrics[key] for key in ("min_segment_share", "segment_shares")},
                "inertia": fit.inertia,
                **_stability_fields(fit.stability),
                "agreement_with_compared": float(adjusted_rand_score(compared.labels, fit.labels)),
            }
        )
    return rows


def _kdistance(X: np.ndarray, dbscan: _Fit) -> dict[str, Any]:
    """The k-distance curve DBSCAN's ``eps`` was read from, downsampled for plotting."""
    min_samples = int(dbscan.params["min_samples"])
    curve = kdistance_curve(X, min_samples)
    knee = knee_index(curve)
    idx = np.unique(
        np.concatenate([np.linspace(0, len(curve) - 1, KDISTANCE_MAX_POINTS - 1).round().astype(int), [knee]])
    )
    return {
        "min_samples": min_samples,
        "eps": eps_at_knee(curve),
        "knee_index": int(np.searchsorted(idx, knee)),
        "knee_rank": int(knee),
        "distances": [float(v) for v in curve[idx]],
        "ranks": [int(i) for i in idx],
        "rows": len(curve),
    }


def _knife(
    rec: Mapping[str, Any], values: np.ndarray | None, labels: np.ndarray | None, settings: Settings
) -> dict[str, Any]:
    """Per-customer silhouettes of the recommended model, for a knife plot."""
    empty = {"model": rec.get("model"), "k": rec.get("k"), "values": [], "labels": [], "rows": 0, "mean": None}
    if values is None or labels is None:
        return empty
    keep = ~np.isnan(values)
    vals, labs = values[keep], labels[keep]
    if len(vals) == 0:
        return empty
    idx = stratified_indices(labs, KNIFE_MAX_POINTS, settings.random_state)
    order = np.lexsort((-vals[idx], labs[idx]))
    pick = idx[order]
    return {
        "model": rec["model"],
        "k": rec["k"],
        "scaling": rec["scaling"],
        "values": [float(v) for v in vals[pick]],
        "labels": [int(v) for v in labs[pick]],
        "rows": len(vals),
        "mean": float(vals.mean()),
        "segment_means": {str(int(s)): float(vals[labs == s].mean()) for s in np.unique(labs)},
    }


def _sampled(plan: _Plan, settings: Settings) -> dict[str, Any]:
    n, m = plan.n_total, len(plan.rows)
    b = len(plan.base)
    resamples = settings.bootstrap_resamples
    if m < n:
        message = (
            f"Computed on {m:,} of {n:,} customers (a sample stratified by KMeans segment; "
            f"every model and metric uses the same customers)."
        )
    else:
        message = f"Computed on all {n:,} customers."
    if len(plan.ward) < m:
        message += f" Agglomerative (Ward) fitted on {len(plan.ward):,} of them (its memory grows with the square)."
    message += f" Stability from {resamples} bootstrap resamples of {b:,} customers."
    return {
        "applied": bool(m < n or len(plan.ward) < m or b < m),
        "rows_used": m,
        "rows_total": n,
        "ward_rows": len(plan.ward),
        "stability_rows": b,
        "resamples": resamples,
        "message": message,
    }


def _json_safe(value: Any) -> Any:
    """Plain JSON types only: numpy scalars converted, NaN and infinities → None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value


def load_or_run_comparison(
    dataset: Dataset, settings: Settings, *, progress: Progress | None = None, force: bool = False
) -> tuple[dict[str, Any], bool]:
    """The cached comparison if it matches, else a fresh one (then cached).

    Returns
    -------
    (result, cached)
        ``result`` as :func:`run_comparison`; ``cached`` is True when it was
        read from disk.  A cache file that cannot be read, or whose recorded
        ``settings_hash``, ``data_hash`` or ``format`` differ, is ignored and
        overwritten.  If the cache cannot be written (read-only folder) the
        fresh result is still returned.
    """
    path = comparison_path(dataset, settings)
    if not force:
        cached = read_cached(path, dataset, settings)
        if cached is not None:
            return cached, True
    result = run_comparison(dataset, settings, progress=progress)
    with contextlib.suppress(OSError):
        write_json_atomic(path, result)
    return result, False


def read_cached(path: Path, dataset: Dataset, settings: Settings) -> dict[str, Any] | None:
    """The comparison stored at ``path`` if it is valid JSON for this data and these settings."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    expected = {"format": COMPARISON_FORMAT, "settings_hash": comparison_hash(settings), "data_hash": dataset.data_hash}
    if any(data.get(k) != v for k, v in expected.items()):
        return None
    return data
