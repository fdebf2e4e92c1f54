"""The simulator's engine (pipeline.segmentation.simulate): fast scoring, moves, formatting."""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.segmentation.model import build_pipeline
from pipeline.segmentation.simulate import (
    FastScorer,
    Simulation,
    feature_grid,
    feature_step,
    format_change,
    round_to_step,
    simulate,
)
from pipeline.segmentation.training import TrainResult


def _engine(trained: TrainResult) -> dict:
    a = trained.artifact
    m = a.manifest
    feats = [f["name"] for f in m["features"]]
    return {
        "pipeline": a.bundle["pipeline"],
        "pca": a.bundle["pca"],
        "centroids": a.bundle["centroids_scaled"],
        "segments": sorted(m["segments"], key=lambda s: s["label"]),
        "grid": feature_grid(m["feature_ranges"], feats),
        "features": feats,
        "ranges": m["feature_ranges"],
    }


def _run(e: dict, values: dict[str, float]) -> Simulation:
    return simulate(e["pipeline"], e["pca"], e["centroids"], e["segments"], values, e["grid"])


def _label(e: dict, values: dict[str, float]) -> int:
    frame = pd.DataFrame([values], columns=e["features"])
    return int(e["pipeline"].predict(frame)[0])


def _bases(e: dict, trained: TrainResult, n_random: int = 12) -> list[dict[str, float]]:
    """Median customer, every centroid and some real customers."""
    feats = e["features"]
    bases = [{f: e["ranges"][f]["p50"] for f in feats}]
    bases += [{f: float(s["centroid"][f]) for f in feats} for s in e["segments"]]
    rows = trained.artifact.customers[feats].dropna().sample(n_random, random_state=1)
    bases += [{f: float(r[f]) for f in feats} for _, r in rows.iterrows()]
    return bases


@pytest.fixture(scope="module")
def engine(trained: TrainResult) -> dict:
    return _engine(trained)


def test_fast_scorer_matches_the_pipeline(trained: TrainResult, engine: dict) -> None:
    feats = engine["features"]
    X = trained.artifact.customers[feats].to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    Xr = X[rng.integers(0, len(X), 3000)] * rng.uniform(0.3, 1.7, (3000, len(feats)))
    Xr[rng.random(Xr.shape) < 0.05] = np.nan  # the imputer's path too
    scorer = FastScorer(engine["pipeline"])
    expected = engine["pipeline"].predict(pd.DataFrame(Xr, columns=feats))
    np.testing.assert_array_equal(scorer.predict(Xr), expected)
    np.testing.assert_allclose(
        scorer.scaled(Xr), engine["pipeline"][:-1].transform(pd.DataFrame(Xr, columns=feats)), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("model", "scaling"),
    [
        ("kmeans", "log1p"),
        ("kmeans", "yeo-johnson"),
        ("gmm", "standard"),
        ("birch", "standard"),
        ("agglomerative", "log1p"),
    ],
)
def test_fast_scorer_matches_other_models_and_scalings(trained: TrainResult, model: str, scaling: str) -> None:
    frame = trained.artifact.customers.sample(600, random_state=0)
    settings = Settings(model=model, scaling=scaling, n_init=2)
    pipe = build_pipeline(settings, None, n_rows=len(frame)).fit(frame)
    feats = list(settings.features)
    rng = np.random.default_rng(1)
    X = frame[feats].to_numpy(dtype=float) * rng.uniform(0.5, 1.5, (len(frame), len(feats)))
    np.testing.assert_array_equal(FastScorer(pipe).predict(X), pipe.predict(pd.DataFrame(X, columns=feats)).astype(int))


def test_simulation_reports_segment_distances_and_pcs(trained: TrainResult, engine: dict) -> None:
    values = {f: engine["ranges"][f]["p50"] for f in engine["features"]}
    sim = _run(engine, values)
    assert sim.label == _label(engine, values)
    assert sim.segment["label"] == sim.label
    assert set(sim.distances) == {s["key"] for s in engine["segments"]}
    assert 0.0 <= sim.confidence <= 1.0
    assert sim.runner_up in sim.distances and sim.runner_up != sim.segment["key"]
    # nearest centre is the predicted one for KMeans, and the runner-up the second nearest
    order = sorted(sim.distances, key=sim.distances.get)
    assert order[:2] == [sim.segment["key"], sim.runner_up]
    z = engine["pipeline"][:-1].transform(pd.DataFrame([values], columns=engine["features"]))
    np.testing.assert_allclose(sim.pcs, engine["pca"].transform(z)[0][:3], rtol=1e-9, atol=1e-12)
    assert len(sim.moves) == len(engine["segments"]) - 1


def test_moves_really_reach_their_target(trained: TrainResult, engine: dict) -> None:
    checked = 0
    for base in _bases(engine, trained):
        sim = _run(engine, base)
        targets = {m.target for m in sim.moves}
        assert sim.segment["key"] not in targets
        for move in sim.moves:
            if move.feature is None:
                assert "No single-feature change" in move.text
                continue
            moved = dict(base)
            moved[move.feature] = base[move.feature] + move.delta
            target = next(s for s in engine["segments"] if s["key"] == move.target)
            assert _label(engine, moved) == target["label"], move.text
            assert move.text.endswith(f"→ {target['name']}")
            checked += 1
    assert checked > 20


def test_moves_are_the_smallest_step_along_their_feature(trained: TrainResult, engine: dict) -> None:
    """KMeans cells are convex: no smaller whole step in the same direction reaches the target."""
    for base in _bases(engine, trained, n_random=6):
        for move in _run(engine, base).moves:
            if move.feature is None:
                continue
            lo, hi = engine["ranges"][move.feature]["min"], engine["ranges"][move.feature]["max"]
            step = feature_step(move.feature, lo, hi)
            units = round(abs(move.delta) / step)
            target = next(s["label"] for s in engine["segments"] if s["key"] == move.target)
            for k in range(1, units):
                nearer = dict(base)
                nearer[move.feature] = base[move.feature] + np.sign(move.delta) * k * step
                assert _label(engine, nearer) != target, (move.text, k)


def test_move_deltas_are_rounded_to_the_shown_precision(engine: dict) -> None:
    values = {f: engine["ranges"][f]["p50"] for f in engine["features"]}
    for move in _run(engine, values).moves:
        if move.feature is None:
            continue
        lo, hi = engine["ranges"][move.feature]["min"], engine["ranges"][move.feature]["max"]
        step = feature_step(move.feature, lo, hi)
        assert move.delta == pytest.approx(round(move.delta / step) * step, abs=1e-9)
        assert move.text.startswith(format_change(move.feature, move.delta))


def test_bad_values_raise_clear_errors(engine: dict) -> None:
    values = {f: engine["ranges"][f]["p50"] for f in engine["features"]}
    with pytest.raises(ValueError, match="not a finite number: Customer_Value"):
        _run(engine, {**values, "Customer_Value": float("nan")})
    missing = dict(values)
    missing.pop("Customer_Value")
    with pytest.raises(KeyError):
        _run(engine, missing)


def test_simulate_is_fast(engine: dict) -> None:
    values = {f: engine["ranges"][f]["p50"] for f in engine["features"]}
    _run(engine, values)
    times = []
    for i in range(30):
        values["Customer_Value"] = 100.0 + 10 * i
        t = time.perf_counter()
        _run(engine, values)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.020  # the simulator's server budget per update


@pytest.mark.parametrize(
    ("feature", "lo", "hi", "step"),
    [
        ("Customer_Value", 4, 2598, 10.0),
        ("Customer_Value", 0, 500, 1.0),
        ("Purchase_Frequency", 0, 74, 1.0),
        ("Campaign_Response", 0, 5, 1.0),
        ("Customer_For_Years", 0, 1.9, 0.1),
        ("Something_Else", 0, 2.5, 0.01),
        ("Something_Else", 0, 25000, 100.0),
        ("Something_Else", 3, 3, 1.0),
    ],
)
def test_feature_step(feature: str, lo: float, hi: float, step: float) -> None:
    assert feature_step(feature, lo, hi) == step


def test_round_to_step_has_no_float_noise() -> None:
    assert round_to_step(0.30000000000000004, 0.1) == 0.3
    assert str(round_to_step(1.15, 0.1)) in ("1.1", "1.2")
    assert round_to_step(1234, 10) == 1230
    assert round_to_step(7.6, 1) == 8


@pytest.mark.parametrize(
    ("feature", "delta", "text"),
    [
        ("Customer_Value", 420.0, "+$420 spend"),
        ("Customer_Value", -1250.0, "−$1,250 spend"),
        ("Purchase_Frequency", 3.0, "+3 purchases"),
        ("Purchase_Frequency", -1.0, "−1 purchase"),
        ("Campaign_Response", 1.0, "+1 campaign accepted"),
        ("Campaign_Response", 2.0, "+2 campaigns accepted"),
        ("Customer_For_Years", -0.3, "−0.3 years tenure"),
        ("Other_Thing", 0.25, "+0.25 Other Thing"),
    ],
)
def test_format_change(feature: str, delta: float, text: str) -> None:
    assert format_change(feature, delta) == text
