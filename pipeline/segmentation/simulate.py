"""What-if scoring of one customer (the simulator's engine).

Given feature values, :func:`simulate` returns the predicted segment, how
confident the assignment is, the distance to every segment centre, the
customer's position in PCA space, and for every other segment the smallest
change to a single feature that moves the customer there.  All of it comes
from the fitted artifact; nothing is refit.

Speed: the simulator calls :func:`simulate` on every slider change, so it
scores with plain NumPy (:class:`FastScorer`) instead of going through
``Pipeline.predict`` with a DataFrame.  The fast path reproduces the fitted
steps exactly (median imputation, standard / log1p scaling, nearest-centre
assignment for KMeans and the nearest-centroid wrapper); any other step is
delegated to scikit-learn, so the results are the same as the pipeline's.
"""

from __future__ import annotations

import dataclasses
import decimal
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.features.definitions import FEATURE_DEFINITIONS

if TYPE_CHECKING:  # scikit-learn and the model's estimators are imported where a fitted model is read
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline

GRID_POINTS = 161
#: Bisection steps that refine a grid hit to the segment boundary (2**-14 of a grid cell).
REFINE_STEPS = 14


@dataclasses.dataclass(frozen=True)
class Move:
    """The smallest single-feature change that reaches ``target``.

    ``delta`` is rounded to the precision shown in ``text`` and checked:
    adding it to the base value really moves the customer to ``target``.
    """

    target: str
    feature: str | None
    delta: float | None
    text: str


@dataclasses.dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`."""

    label: int
    segment: Mapping[str, Any]
    distances: dict[str, float]
    confidence: float
    runner_up: str | None
    pcs: tuple[float, float, float]
    moves: tuple[Move, ...]


def feature_step(feature: str, lo: float, hi: float) -> float:
    """The natural precision of a feature's values (slider step, rounding of changes).

    Money: $10 over ranges of $1,000 or more, else $1; years: 0.1; other
    declared features are counts (1); undeclared features get a power of ten
    about 1/100 of their range.

    Parameters
    ----------
    feature : str
        Feature name.
    lo, hi : float
        Observed range.

    Returns
    -------
    float
    """
    d = FEATURE_DEFINITIONS.get(feature)
    if d is not None:
        if d.unit == "$":
            return 10.0 if hi - lo >= 1000 else 1.0
        if d.unit == "years":
            return 0.1
        return 1.0
    span = float(hi) - float(lo)
    if not math.isfinite(span) or span <= 0:
        return 1.0
    return float(10.0 ** math.floor(math.log10(span / 100.0)))


def round_to_step(value: float, step: float) -> float:
    """``value`` rounded to a multiple of ``step`` (without float noise like 0.30000000000000004).

    The result has the step's decimals (0.25 → 2, 2.5 → 1, 10 → 0); a tie goes to the even multiple.

    Raises
    ------
    ValueError
        ``step`` is not a positive finite number.
    """
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number, not {step!r}")
    decimals = -decimal.Decimal(repr(float(step))).as_tuple().exponent
    return round(round(float(value) / step) * step, decimals)


def format_change(feature: str, delta: float) -> str:
    """``"+$420 spend"``, ``"−3 purchases"``, ``"+0.8 years tenure"``."""
    sign = "+" if delta >= 0 else "−"
    mag = abs(delta)
    d = FEATURE_DEFINITIONS.get(feature)
    if d is None:
        digits = 0 if mag >= 10 else 1 if mag >= 1 else 2
        return f"{sign}{mag:,.{digits}f} {feature.replace('_', ' ')}"
    if d.unit == "$":
        return f"{sign}${mag:,.0f} {d.short}"
    if d.unit == "years":
        return f"{sign}{mag:.1f} years {d.short}"
    noun, _, rest = d.unit.partition(" ")
    if round(mag) == 1 and noun.endswith("s"):  # "1 purchase", "1 campaign accepted"
        noun = noun[:-1]
    return f"{sign}{mag:,.0f} {noun}{' ' + rest if rest else ''}"


def feature_grid(
    ranges: Mapping[str, Mapping[str, float]], features: Sequence[str], points: int = GRID_POINTS
) -> dict[str, np.ndarray]:
    """Candidate values per feature: the observed min..max range, evenly spaced.

    Count-like features (unit not $ or years) use whole numbers.
    """
    grid = {}
    for f in features:
        lo, hi = ranges[f]["min"], ranges[f]["max"]
        values = np.linspace(lo, hi, points)
        d = FEATURE_DEFINITIONS.get(f)
        if d is not None and d.unit not in ("$", "years"):
            values = np.unique(np.round(values))
        grid[f] = values
    return grid


class FastScorer:
    """Scaled features, segment labels and PCs of feature rows, without pandas.

    Built from a fitted pipeline ``features → impute → scale → cluster``.
    Steps it knows (``SimpleImputer`` with a constant fill, ``StandardScaler``,
    ``FunctionTransformer``, nested pipelines, KMeans and
    :class:`~pipeline.segmentation.model.NearestCentroidClusterer`) run as NumPy
    arithmetic identical to scikit-learn's; other steps are called through
    scikit-learn.

    Parameters
    ----------
    pipeline : Pipeline
        The artifact's fitted pipeline.
    """

    def __init__(self, pipeline: Pipeline):
        from pipeline.segmentation.model import FeatureBuilder

        first = pipeline.steps[0][1]
        self.features: list[str] = [str(f) for f in getattr(first, "features", ())]
        self._pipeline = pipeline
        self._native = isinstance(first, FeatureBuilder) and bool(self.features)
        self._transforms: list[Callable[[np.ndarray], np.ndarray]] = [
            _fast_transform(step) for _, step in pipeline.steps[1:-1]
        ]
        self._predict = _fast_predict(pipeline.steps[-1][1])

    def scaled(self, X: np.ndarray) -> np.ndarray:
        """Rows of feature values (model order) → the matrix the clusterer sees."""
        X = np.asarray(X, dtype=float)
        if not self._native:
            frame = pd.DataFrame(X, columns=self.features or None)
            return np.asarray(self._pipeline[:-1].transform(frame), dtype=float)
        for transform in self._transforms:
            X = transform(X)
        return X

    def labels(self, Z: np.ndarray) -> np.ndarray:
        """Segment label of each scaled row."""
        return np.asarray(self._predict(Z), dtype=int)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Segment label of each row of feature values."""
        return self.labels(self.scaled(X))


def _fast_transform(step: Any) -> Callable[[np.ndarray], np.ndarray]:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if step is None or step == "passthrough":
        return lambda X: X
    if isinstance(step, Pipeline):
        inner = [_fast_transform(s) for _, s in step.steps]

        def chain(X: np.ndarray) -> np.ndarray:
            for t in inner:
                X = t(X)
            return X

        return chain
    if (
        isinstance(step, SimpleImputer)
        and not step.add_indicator
        and isinstance(step.missing_values, float)
        and math.isnan(step.missing_values)
        and np.all(np.isfinite(np.asarray(step.statistics_, dtype=float)))
    ):
        fill = np.asarray(step.statistics_, dtype=float)
        return lambda X: np.where(np.isnan(X), fill, X)
    if isinstance(step, StandardScaler):
        mean = step.mean_ if step.with_mean else None
        scale = step.scale_ if step.with_std else None

        def standardise(X: np.ndarray) -> np.ndarray:
            if mean is not None:
                X = X - mean
            if scale is not None:
                X = X / scale
            return X

        return standardise
    if isinstance(step, FunctionTransformer) and step.func is not None:
        func, kwargs = step.func, step.kw_args or {}
        return lambda X: np.asarray(func(X, **kwargs), dtype=float)
    names = getattr(step, "feature_names_in_", None)
    if names is not None:
        return lambda X: np.asarray(step.transform(pd.DataFrame(X, columns=names)), dtype=float)
    return lambda X: np.asarray(step.transform(X), dtype=float)


def _fast_predict(clusterer: Any) -> Callable[[np.ndarray], np.ndarray]:
    from sklearn.cluster import KMeans

    from pipeline.segmentation.model import NearestCentroidClusterer

    if isinstance(clusterer, (KMeans, NearestCentroidClusterer)):  # KMeans: also its sampled-restart subclass
        centres = np.asarray(clusterer.cluster_centers_, dtype=float)

        def nearest(Z: np.ndarray) -> np.ndarray:
            d = ((Z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            return np.argmin(d, axis=1)

        return nearest
    return lambda Z: clusterer.predict(Z)


def _pcs(pca: PCA, z: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    if isinstance(pca, PCA) and not pca.whiten:
        return (z - pca.mean_) @ pca.components_.T
    return np.asarray(pca.transform(z), dtype=float)


def centre_distances(Z: np.ndarray, centroids_scaled: np.ndarray) -> np.ndarray:
    """Euclidean distance of each scaled row to each segment centre, shape (n_rows, n_segments)."""
    Z = np.asarray(Z, dtype=float)
    centres = np.asarray(centroids_scaled, dtype=float)
    return np.sqrt(((Z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))


def assignment_confidence(distances: np.ndarray, own: np.ndarray) -> np.ndarray:
    """How clearly each customer belongs to its segment: ``1 - d_own / d_nearest_other``, clipped to [0, 1].

    ``d_own`` is the distance (in the scaled space the model clusters in) to
    the centre of the customer's own segment, ``d_nearest_other`` to the
    nearest other centre.  1 means at its segment's centre, 0 means at least
    as close to another segment's centre (on the boundary, or assigned by a
    model that does not assign by distance, such as a Gaussian mixture).  With
    a single segment, or when every other centre coincides with the row, it is 1.

    Parameters
    ----------
    distances : ndarray of shape (n_rows, n_segments)
        See :func:`centre_distances`.
    own : ndarray of int, shape (n_rows,)
        Column of each row's own segment.

    Returns
    -------
    ndarray of float, shape (n_rows,)
    """
    d = np.asarray(distances, dtype=float)
    own = np.asarray(own, dtype=int)
    rows = np.arange(len(d))
    if d.shape[1] < 2:
        return np.ones(len(d))
    others = d.copy()
    others[rows, own] = np.inf
    runner = others.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        conf = np.where(runner > 0, 1.0 - d[rows, own] / runner, 1.0)
    return np.clip(conf, 0.0, 1.0)


def simulate(
    pipeline: Pipeline,
    pca: PCA,
    centroids_scaled: np.ndarray,
    segments: Sequence[Mapping[str, Any]],
    values: Mapping[str, float],
    grid: Mapping[str, np.ndarray],
    steps: Mapping[str, float] | None = None,
) -> Simulation:
    """Score one hypothetical customer.

    Parameters
    ----------
    pipeline : Pipeline
        The artifact's fitted pipeline.
    pca : PCA
        The artifact's fitted PCA (on scaled features).
    centroids_scaled : ndarray of shape (n_segments, n_features)
        Segment centres in the scaled space, in the order of ``segments``.
    segments : sequence of dict
        The manifest's segment map (``label``, ``key``, ``name``...), one per
        row of ``centroids_scaled``.
    values : mapping
        Feature name → value in original units.
    grid : mapping
        Candidate values per feature (see :func:`feature_grid`).
    steps : mapping, optional
        Precision per feature for the suggested changes; default
        :func:`feature_step` over the grid's range.

    Returns
    -------
    Simulation

    Raises
    ------
    KeyError
        A feature of the model has no value.
    ValueError
        A value is not a finite number.
    """
    scorer = FastScorer(pipeline)
    features = scorer.features or [str(f) for f in pipeline.named_steps["features"].features]
    x0 = np.array([float(values[f]) for f in features])
    if not np.all(np.isfinite(x0)):
        bad = [f for f, v in zip(features, x0, strict=True) if not math.isfinite(v)]
        raise ValueError(f"not a finite number: {', '.join(bad)}")
    grids = [np.asarray(grid[f], dtype=float) for f in features]
    step_of = [
        float(steps[f]) if steps and f in steps else feature_step(f, float(g.min()), float(g.max()))
        for f, g in zip(features, grids, strict=True)
    ]

    # One batched scoring: the base row, then every single-feature variant on the grid.
    sizes = [len(g) for g in grids]
    rows = np.tile(x0, (1 + sum(sizes), 1))
    col = np.concatenate([np.full(n, j) for j, n in enumerate(sizes)]) if sizes else np.zeros(0, int)
    cand = np.concatenate(grids) if grids else np.zeros(0)
    rows[1 + np.arange(len(cand)), col] = cand
    Z = scorer.scaled(rows)
    labels = scorer.labels(Z)
    label = int(labels[0])

    z = Z[:1]
    dist = centre_distances(z, centroids_scaled)[0]
    by_label = {int(s["label"]): s for s in segments}
    keys = [str(s["key"]) for s in segments]
    distances = {k: float(d) for k, d in zip(keys, dist, strict=True)}
    own = keys.index(str(by_label[label]["key"]))
    others = [i for i in range(len(keys)) if i != own]
    runner = min(others, key=lambda i: dist[i]) if others else None
    confidence = float(assignment_confidence(dist[None, :], np.array([own]))[0])
    pcs = _pcs(pca, z)[0]
    pcs3 = tuple(float(pcs[j]) if j < len(pcs) else 0.0 for j in range(3))

    spread = np.array([float(np.std(g)) or 1.0 for g in grids])
    delta = cand - x0[col]
    cost = np.abs(delta) / spread[col] if len(cand) else np.zeros(0)
    found: dict[int, int] = {}  # target label → index into cand of its cheapest grid hit
    for seg in segments:
        t = int(seg["label"])
        if t == label:
            continue
        hits = np.flatnonzero(labels[1:] == t)
        if len(hits):
            found[t] = int(hits[np.argmin(cost[hits])])
    exact = _refine(scorer, x0, found, cand, col, grids, step_of)

    moves = []
    for seg in segments:
        t = int(seg["label"])
        if t == label:
            continue
        if t not in exact:
            moves.append(Move(str(seg["key"]), None, None, f"No single-feature change reaches {seg['name']}."))
            continue
        j, d = exact[t]
        moves.append(Move(str(seg["key"]), features[j], d, f"{format_change(features[j], d)} → {seg['name']}"))
    return Simulation(
        label=label,
        segment=by_label[label],
        distances=distances,
        confidence=confidence,
        runner_up=keys[runner] if runner is not None else None,
        pcs=pcs3,  # type: ignore[arg-type]
        moves=tuple(moves),
    )


def _refine(
    scorer: FastScorer,
    x0: np.ndarray,
    found: Mapping[int, int],
    cand: np.ndarray,
    col: np.ndarray,
    grids: Sequence[np.ndarray],
    step_of: Sequence[float],
) -> dict[int, tuple[int, float]]:
    """Smallest verified change per target: bisect to the boundary, round outward, check.

    Returns target label → (feature column, delta) where ``x0 + delta`` on
    that column is assigned to the target.
    """
    if not found:
        return {}
    targets = list(found)
    j = np.array([col[found[t]] for t in targets])
    hi = np.array([cand[found[t]] for t in targets])  # reaches the target
    base = x0[j]
    lo = np.empty_like(hi)  # does not reach it: the grid neighbour towards the base, or the base
    for i in range(len(targets)):
        g = grids[j[i]]
        k = int(np.searchsorted(g, hi[i]))
        if hi[i] > base[i]:
            lo[i] = max(base[i], g[k - 1]) if k > 0 else base[i]
        else:
            lo[i] = min(base[i], g[k + 1]) if k + 1 < len(g) else base[i]
    want = np.array(targets)
    rows = np.tile(x0, (len(targets), 1))
    idx = np.arange(len(targets))
    for _ in range(REFINE_STEPS):
        mid = (lo + hi) / 2.0
        rows[idx, j] = mid
        ok = scorer.predict(rows) == want
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)

    # Round the change outward to the shown precision, then verify; step further if rounding fell short.
    steps = np.array([step_of[c] for c in j])
    sign = np.where(hi >= base, 1.0, -1.0)
    units = np.ceil(np.abs(hi - base) / steps - 1e-9)
    result: dict[int, tuple[int, float]] = {}
    pending = np.ones(len(targets), dtype=bool)
    for extra in range(4):
        d = np.array([round_to_step(s * (u + extra) * st, st) for s, u, st in zip(sign, units, steps, strict=True)])
        rows[idx, j] = base + d
        ok = (scorer.predict(rows) == want) & pending
        for i in np.flatnonzero(ok):
            result[targets[i]] = (int(j[i]), float(d[i]))
        pending &= ~ok
        if not pending.any():
            break
    for i in np.flatnonzero(pending):  # rounding never lands in the target: give the exact grid change
        result[targets[i]] = (int(j[i]), float(cand[found[targets[i]]] - base[i]))
    return result
