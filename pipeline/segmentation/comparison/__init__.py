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
1. Candidates: every model of the registry at the chosen k (density models at the number
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
  segments of all n (every segment represented; above 10 M customers that
  KMeans is fitted on 10 M of them drawn at random and predicted for the
  rest); the scaling is still fitted on all n.  The result says so (``sampled``).
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

Modules
-------
:mod:`.metrics` (silhouettes and other metrics), :mod:`.rule` (the
recommendation), :mod:`.fitting` (plan, fits, stability, sweep),
:mod:`.tables` (the result's rows), :mod:`.result` (the typed result), :mod:`.keys` (format, hash, path),
:mod:`.run` (:func:`run_comparison`), :mod:`.cache`
(:func:`load_or_run_comparison`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cache import load_or_run_comparison, read_cached
    from .fitting import SWEEP_KS
    from .keys import COMPARISON_FORMAT, comparison_hash, comparison_path
    from .metrics import silhouette_matrix
    from .result import ComparisonResult, KDistance, Knife, ModelRow, Recommendation, Sampling, ScalingVariant, SweepRow
    from .rule import MAX_NOISE_SHARE, MIN_SEGMENT_SHARE, SILHOUETTE_TOLERANCE, STABILITY_TOLERANCE, elbow_k, recommend
    from .run import MIN_ROWS, Progress, run_comparison
    from .tables import KDISTANCE_MAX_POINTS, KNIFE_MAX_POINTS, SCALING_LABELS

#: Where each public name lives.  Importing the package imports none of them (nor scikit-learn or
#: SciPy): a name is imported on first use (PEP 562), so the app starts without the comparison's fitting code.
_HOME = {
    "COMPARISON_FORMAT": "keys",
    "ComparisonResult": "result",
    "KDISTANCE_MAX_POINTS": "tables",
    "KDistance": "result",
    "KNIFE_MAX_POINTS": "tables",
    "Knife": "result",
    "MAX_NOISE_SHARE": "rule",
    "MIN_ROWS": "run",
    "MIN_SEGMENT_SHARE": "rule",
    "ModelRow": "result",
    "Progress": "run",
    "Recommendation": "result",
    "SCALING_LABELS": "tables",
    "SILHOUETTE_TOLERANCE": "rule",
    "STABILITY_TOLERANCE": "rule",
    "SWEEP_KS": "fitting",
    "Sampling": "result",
    "ScalingVariant": "result",
    "SweepRow": "result",
    "comparison_hash": "keys",
    "comparison_path": "keys",
    "elbow_k": "rule",
    "load_or_run_comparison": "cache",
    "read_cached": "cache",
    "recommend": "rule",
    "run_comparison": "run",
    "silhouette_matrix": "metrics",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = [
    "COMPARISON_FORMAT",
    "KDISTANCE_MAX_POINTS",
    "KNIFE_MAX_POINTS",
    "MAX_NOISE_SHARE",
    "MIN_ROWS",
    "MIN_SEGMENT_SHARE",
    "SCALING_LABELS",
    "SILHOUETTE_TOLERANCE",
    "STABILITY_TOLERANCE",
    "SWEEP_KS",
    "ComparisonResult",
    "KDistance",
    "Knife",
    "ModelRow",
    "Progress",
    "Recommendation",
    "Sampling",
    "ScalingVariant",
    "SweepRow",
    "comparison_hash",
    "comparison_path",
    "elbow_k",
    "load_or_run_comparison",
    "read_cached",
    "recommend",
    "run_comparison",
    "silhouette_matrix",
]
