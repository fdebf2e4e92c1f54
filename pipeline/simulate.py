"""What-if scoring of one customer (the simulator's engine).

Given feature values, :func:`simulate` returns the predicted segment, how
confident the assignment is, the distance to every segment centre, the
customer's position in PCA space, and for every other segment the smallest
change to a single feature that moves the customer there.  All of it comes
from the fitted artifact; nothing is refit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from .features import FEATURE_DEFINITIONS
from .model import scaled

GRID_POINTS = 161


@dataclasses.dataclass(frozen=True)
class Move:
    """The smallest single-feature change that reaches ``target``."""

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


def format_change(feature: str, delta: float) -> str:
    """``"+$420 spend"``, ``"−3 purchases"``, ``"+0.8 years tenure"``."""
    sign = "+" if delta >= 0 else "−"
    mag = abs(delta)
    d = FEATURE_DEFINITIONS.get(feature)
    if d is None:
        return f"{sign}{mag:,.2f} {feature}"
    if d.unit == "$":
        return f"{sign}${mag:,.0f} {d.short}"
    if d.unit == "years":
        return f"{sign}{mag:.1f} years {d.short}"
    return f"{sign}{mag:,.0f} {d.unit}"


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


def simulate(
    pipeline: Pipeline,
    pca: PCA,
    centroids_scaled: np.ndarray,
    segments: Sequence[Mapping[str, Any]],
    values: Mapping[str, float],
    grid: Mapping[str, np.ndarray],
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

    Returns
    -------
    Simulation
    """
    features = [str(f) for f in pipeline.named_steps["features"].features]
    base = pd.DataFrame([{f: float(values[f]) for f in features}], columns=features)
    # One batched predict: the base row, then every single-feature variant.
    variants = [base]
    owners: list[tuple[str, float]] = []
    for f in features:
        g = np.asarray(grid[f], dtype=float)
        block = pd.concat([base] * len(g), ignore_index=True)
        block[f] = g
        variants.append(block)
        owners.extend((f, v) for v in g)
    frame = pd.concat(variants, ignore_index=True)
    labels = np.asarray(pipeline.predict(frame), dtype=int)
    label = int(labels[0])

    z = scaled(pipeline, base)
    dist = np.sqrt(((centroids_scaled - z) ** 2).sum(axis=1))
    by_label = {int(s["label"]): s for s in segments}
    keys = [str(s["key"]) for s in segments]
    distances = {k: float(d) for k, d in zip(keys, dist, strict=True)}
    own = keys.index(str(by_label[label]["key"]))
    others = [i for i in range(len(keys)) if i != own]
    runner = min(others, key=lambda i: dist[i]) if others else None
    confidence = 1.0 - float(dist[own] / dist[runner]) if runner is not None and dist[runner] > 0 else 1.0
    pcs = pca.transform(z)[0]
    pcs3 = tuple(float(pcs[j]) if j < len(pcs) else 0.0 for j in range(3))

    stds = {f: float(np.std(grid[f])) or 1.0 for f in features}
    moves = []
    for seg in segments:
        if int(seg["label"]) == label:
            continue
        best: tuple[float, str, float] | None = None
        hits = np.flatnonzero(labels[1:] == int(seg["label"]))
        for i in hits:
            f, v = owners[i]
            delta = v - float(values[f])
            cost = abs(delta) / stds[f]
            if best is None or cost < best[0]:
                best = (cost, f, delta)
        if best is None:
            moves.append(Move(str(seg["key"]), None, None, f"No single-feature change reaches {seg['name']}."))
        else:
            _, f, delta = best
            moves.append(Move(str(seg["key"]), f, delta, f"{format_change(f, delta)} → {seg['name']}"))
    return Simulation(
        label=label,
        segment=by_label[label],
        distances=distances,
        confidence=max(0.0, min(1.0, confidence)),
        runner_up=keys[runner] if runner is not None else None,
        pcs=pcs3,  # type: ignore[arg-type]
        moves=tuple(moves),
    )
