"""One registry of models: a new entry reaches the CLI, the settings, the comparison and the pages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import MappingProxyType, ModuleType
from typing import Any

import dash
import pytest
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from dashboard.figures import models as fig
from dashboard.model_comparison.data import native_models
from pipeline.cli import build_parser
from pipeline.cli.compare import comparison_text
from pipeline.config import Settings
from pipeline.errors import SegmentationError
from pipeline.segmentation import compare, registry
from pipeline.segmentation.model import make_clusterer, max_fit_rows, predicts_natively
from tests.test_compare import by_name, make_dataset, sweep_row, three_blobs

NEW = "minibatch"


def _minibatch(settings: Settings, n_rows: int | None, cap: int | None) -> MiniBatchKMeans:
    return MiniBatchKMeans(n_clusters=settings.k, n_init=3, random_state=settings.random_state)


NEW_SPEC = registry.ModelSpec(
    name=NEW,
    label="Mini-batch KMeans",
    colour="#F0E442",
    factories=MappingProxyType({registry.DEFAULT_ENGINE: _minibatch}),
    predicts_natively=True,
    short_label="MBKM",
)


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch) -> Iterator[registry.ModelSpec]:
    """The registry with one more model, added in one place."""
    monkeypatch.setattr(registry, "MODELS", MappingProxyType({**registry.MODELS, NEW: NEW_SPEC}))
    yield NEW_SPEC


def page_module(name: str) -> ModuleType:
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(name)


def test_built_in_entries_match_their_estimators() -> None:
    """Each entry's flags say what its factory builds."""
    assert registry.model_names() == ("kmeans", "agglomerative", "gmm", "birch", "dbscan", "hdbscan")
    assert registry.sweep_models() == ("kmeans", "agglomerative", "gmm", "birch")
    settings = Settings(max_exact_rows=5000)
    for name, spec in registry.MODELS.items():
        assert predicts_natively(make_clusterer(settings.replace(model=name))) is spec.predicts_natively
    assert {n: max_fit_rows(n, settings) for n in registry.MODELS} == {
        "kmeans": None,
        "agglomerative": 5000,
        "gmm": None,
        "birch": None,
        "dbscan": 5000,
        "hdbscan": 5000,
    }
    assert max_fit_rows("agglomerative", Settings()) == registry.WARD_MAX_ROWS == 10_000
    assert [n for n, s in registry.MODELS.items() if s.leaves_noise] == ["dbscan", "hdbscan"]


def test_unknown_model_and_engine_are_refused() -> None:
    with pytest.raises(SegmentationError, match=r"Unknown model 'minibatch'; choose one of kmeans, agglomerative"):
        Settings(model=NEW)
    with pytest.raises(ValueError, match=r"DBSCAN has no spark engine \(it has: sklearn\)"):
        make_clusterer(Settings(model="dbscan"), engine="spark")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        registry.spec("nope")


def test_new_entry_reaches_settings_and_cli(extended: registry.ModelSpec) -> None:
    settings = Settings(model=NEW, k=3)
    est = make_clusterer(settings)
    assert isinstance(est, MiniBatchKMeans) and est.n_clusters == 3
    args = build_parser().parse_args(["train", "--model", NEW, "--k", "3"])
    assert args.model == NEW
    train = build_parser()._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    model_option = next(a for a in train._actions if a.dest == "model")
    assert tuple(model_option.choices) == (*registry.model_names()[:-1], NEW)


def test_new_entry_is_compared_and_swept(extended: registry.ModelSpec) -> None:
    X = three_blobs(per_blob=60)
    dataset, cols = make_dataset(X, "blobs-registry")
    settings = Settings(features=cols, k=3, bootstrap_resamples=2)
    result = compare.run_comparison(dataset, settings).to_dict()
    assert [m["name"] for m in result["models"]][-1] == NEW
    entry = by_name(result, NEW)
    Xs = StandardScaler().fit_transform(X)
    with threadpool_limits(1):
        labels = _minibatch(settings, None, None).fit(Xs).labels_
    assert entry["label"] == "Mini-batch KMeans" and entry["k"] == 3 and entry["n_segments"] == 3
    assert entry["predicts_natively"] and entry["live_prediction"] == "native"
    assert entry["silhouette"] == pytest.approx(silhouette_score(Xs, labels))
    swept = {r["k"] for r in result["k_sweep"] if r["model"] == NEW}
    assert swept == set(range(2, 11))
    assert sweep_row(result, NEW, 3)["silhouette"] == pytest.approx(entry["silhouette"])
    assert any(c["model"] == NEW for c in result["recommendation"]["considered"])
    text = comparison_text(result)
    assert "MBKM" in text and "Mini-batch KMeans" in text


def test_new_entry_reaches_the_pages(extended: registry.ModelSpec, request_ctx: Any) -> None:
    models = page_module("models")
    card = models.train_card()
    select = _find(card, "options")
    assert {"label": "Mini-batch KMeans", "value": NEW} in select
    assert native_models()[NEW] is True
    assert models.training_overrides(NEW, 5, "standard") == {"model": NEW, "scaling": "standard", "k": 5}
    assert fig.model_label(NEW) == "Mini-batch KMeans"
    assert fig.model_colour(NEW) == "#F0E442"
    assert fig.choice_label(NEW, 5) == "Mini-batch KMeans, k = 5"
    assert "Seven methods compared" in str(models.layout())


def _find(component: Any, prop: str) -> Any:
    """The first value of ``prop`` in a Dash component tree."""
    value = getattr(component, prop, None)
    if value is not None:
        return value
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = _find(child, prop)
            if found is not None:
                return found
    return None


def test_unchanged_registry_still_lists_six_models() -> None:
    """The fixture above does not leak: the registry is back to the built-ins."""
    assert NEW not in registry.MODELS
    assert len(registry.model_names()) == 6
