"""Model comparison (/models): figure builders, page callbacks and the training job as plain functions.

The comparison of the trained sample is computed once for the module with the
app's own settings (so the page callbacks find it in the cache); figure
builders are checked against its numbers.  The job bodies are called directly
with a recording reporter; the submit and poll callbacks run real jobs through
the app's job runner (:mod:`dashboard.runner`) and are polled to the end.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import dash
import plotly.graph_objects as go
import pytest
from dash import no_update

from dashboard import ids, jobs, tasks
from dashboard.figures import models as fig
from dashboard.model_comparison.data import cached_comparison, comparison_inputs
from dashboard.model_comparison.layout import NO_CHOICE
from pipeline.config import MODEL_NAMES, Settings
from pipeline.errors import DataError
from pipeline.segmentation.compare import comparison_path
from pipeline.segmentation.training import TrainResult, settings_for_dataset
from pipeline.store.db import database_path
from pipeline.store.registry import Registry
from tests.test_data_page import triggered

THEMES = ("light", "dark")


def page_module(name: str) -> ModuleType:
    """The page module exactly as Dash imported it (see tests/test_pages_eda_segments_explorer.py)."""
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(f"page {name!r} is not registered")


class Recorder:
    """A progress reporter (like the runner's ``JobContext``) that remembers every report."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        self.calls.append((int(percent), message))


def poll_to_end(poll: Any, job: dict[str, Any], timeout: float = 300.0) -> dict[str, Any]:
    """Call a page's job-poll callback (as its ``dcc.Interval`` does) until the job has ended."""
    deadline = time.monotonic() + timeout
    while True:
        out = poll(1, job)
        if out["poll"] is True:  # polling stopped: the job ended
            return out
        assert out["cancel"] is False and out["box"] != "d-none"  # running or queued: bar shown, cancel allowed
        assert time.monotonic() < deadline, f"job still running: {out['caption']}"
        time.sleep(0.2)


def text_of(component: Any) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


@pytest.fixture
def models(request_ctx) -> ModuleType:
    """The models page module (inside a request context)."""
    return page_module("models")


@pytest.fixture(scope="module")
def computed(dash_app, trained: TrainResult, settings: Settings) -> tuple[dict[str, Any], Recorder]:
    """The comparison of the trained sample, computed (or read) by the page's job and cached."""
    rec = Recorder()
    with dash_app.server.test_request_context("/"):
        result = tasks.compare_job(rec, trained.artifact.artifact_id, settings)
    return result, rec


@pytest.fixture(scope="module")
def result(computed) -> dict[str, Any]:
    """The comparison result dict."""
    return computed[0]


@pytest.fixture(scope="module")
def retrained(dash_app, trained: TrainResult, settings: Settings) -> tuple[jobs.JobResult, Recorder]:
    """What the page's Train button runs: another model, k and scaling on the same data."""
    rec = Recorder()
    overrides = {"model": "gmm", "k": 5, "scaling": "yeo-johnson"}
    job = jobs.train_job(rec, {"artifact": trained.artifact.artifact_id}, overrides, settings=settings)
    # Trained outside a request (no owner): shared read-only, so every test's anonymous session may open it.
    Registry(database_path(settings)).add_system_version(job.artifact_id, job.name, "test")
    return job, rec


@pytest.fixture
def no_cache_for_retrained(retrained, settings: Settings, models) -> Iterator[str]:
    """The retrained artifact's id, with its comparison cache removed."""
    job = retrained[0]
    dataset, compare_settings = comparison_inputs(job.artifact_id, settings)
    comparison_path(dataset, compare_settings).unlink(missing_ok=True)
    yield job.artifact_id


# --- the job ---------------------------------------------------------------------------------------------
def test_comparison_job_reports_progress_and_caches(computed, trained, settings, models) -> None:
    result, rec = computed
    assert rec.calls, "no progress reported"
    percents = [c[0] for c in rec.calls]
    assert percents == sorted(percents) and percents[-1] == 100
    assert all(isinstance(c[1], str) and c[1] for c in rec.calls)
    assert cached_comparison(trained.artifact.artifact_id, settings) == result


def test_comparison_uses_the_artifacts_settings(result, trained) -> None:
    m = trained.artifact.manifest
    assert result["data_hash"] == m["data"]["hash"]
    assert result["settings"]["k"] == m["model"]["k"]
    assert result["settings"]["scaling"] == m["model"]["scaling"]


# --- figure builders and facts ---------------------------------------------------------------------------
def test_table_has_one_row_per_model_with_the_results_numbers(result) -> None:
    rows = fig.table_rows(result)
    assert [r["name"] for r in rows] == [m["name"] for m in result["models"]]
    assert {r["name"] for r in rows} == set(MODEL_NAMES)
    for row, m in zip(rows, result["models"], strict=True):
        for key in (
            "n_segments",
            "silhouette",
            "davies_bouldin",
            "calinski_harabasz",
            "noise_share",
            "min_segment_share",
            "stability_mean",
            "stability_std",
            "fit_seconds",
        ):
            assert row[key] == m[key], key
        assert row["live_prediction"] == ("Native" if m["live_prediction"] == "native" else "Nearest-centroid")
    assert {c.key for c in fig.TABLE_COLUMNS} <= set(rows[0])
    assert sum(r["recommended"] for r in rows) <= 1
    json.dumps(rows)  # JSON-safe


def test_table_says_which_models_cannot_predict_natively(result) -> None:
    labels = fig.not_native_labels(result)
    assert set(labels) == {m["label"] for m in result["models"] if not m["predicts_natively"]}
    assert "Agglomerative (Ward)" in labels and "KMeans" not in labels


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("metric", list(fig.METRICS))
def test_metric_figure_orders_best_on_top(result, metric: str, theme: str) -> None:
    figure = fig.metric_figure(result, metric, theme)
    bar = figure.data[0]
    assert len(bar.y) == len(result["models"])
    info = fig.METRICS[metric]
    scored = [m[metric] for m in result["models"] if m[metric] is not None]
    best = max(scored) if info.better == "higher" else min(scored)
    assert bar.x[-1] == pytest.approx(best)  # the last category is drawn at the top
    assert info.direction in figure.layout.xaxis.title.text
    assert any("★" in label for label in bar.y)


def test_metric_figure_unknown_metric_is_a_message(result) -> None:
    figure = fig.metric_figure(result, "nonsense", "light")
    assert figure.layout.annotations[0].text == "Choose a metric."


@pytest.mark.parametrize("theme", THEMES)
def test_sweep_marks_the_chosen_k_and_the_elbow(result, trained, theme: str) -> None:
    chosen = trained.artifact.manifest["model"]["k"]
    figure = fig.sweep_figure(result, chosen, theme)
    shapes = [s for s in figure.layout.shapes if s.name == "chosen-k"]
    assert len(shapes) == 2 and all(s.x0 == chosen == s.x1 for s in shapes)
    elbow = [a for a in figure.layout.annotations if a.name == "elbow"]
    assert len(elbow) == 1 and elbow[0].x == result["elbow_k"]
    elbow_trace = next(t for t in figure.data if t.name == "elbow")
    assert list(elbow_trace.x) == [result["elbow_k"]]
    inertia = figure.data[0]
    assert list(inertia.x) == [r["k"] for r in result["k_sweep"] if r["model"] == "kmeans"]
    names = {t.name for t in figure.data}
    assert {"KMeans", "Agglomerative (Ward)", "Gaussian mixture", "Birch"} <= names
    assert figure.layout.template.layout.font.color == ("#DEE2E6" if theme == "dark" else "#212529")


def test_sweep_marks_the_recommendation_when_it_is_swept(result) -> None:
    rec = result["recommendation"]
    figure = fig.sweep_figure(result, None, "light")
    star = [t for t in figure.data if t.name == "recommended"]
    if rec["model"] in ("kmeans", "agglomerative", "gmm", "birch"):
        assert len(star) == 1 and list(star[0].x) == [rec["k"]]
    assert not [s for s in figure.layout.shapes if s.name == "chosen-k"]


@pytest.mark.parametrize("theme", THEMES)
def test_knife_uses_the_artifacts_segments_for_the_model_in_use(result, trained, theme: str) -> None:
    knife = result["silhouette_samples"]
    manifest = trained.artifact.manifest
    segments = fig.knife_segments(knife, manifest)
    rec = result["recommendation"]
    in_use = manifest["model"]
    if (rec["model"], rec["k"], rec["scaling"]) != (in_use["name"], in_use["k"], in_use["scaling"]):
        pytest.skip("the sample's recommendation is not the model in use")
    assert segments is not None
    colours = {s["name"]: s["colour"] for s in manifest["segments"]}
    figure = fig.knife_figure(knife, segments, theme)
    assert {t.name for t in figure.data} == set(colours)
    for trace in figure.data:
        assert trace.fillcolor == colours[trace.name]
    assert sum(len(t.x) for t in figure.data) == len(knife["values"])
    average = [a for a in figure.layout.annotations if a.name == "average"]
    assert average and f"{knife['mean']:.2f}" in average[0].text
    assert any(s.x0 == pytest.approx(knife["mean"]) for s in figure.layout.shapes)


def test_knife_numbers_groups_of_another_model(result, trained) -> None:
    knife = result["silhouette_samples"]
    manifest = json.loads(json.dumps(trained.artifact.manifest))
    manifest["model"]["k"] = manifest["model"]["k"] + 1  # not the model in use
    assert fig.knife_segments(knife, manifest) is None
    figure = fig.knife_figure(knife, None, "light")
    names = [t.name for t in figure.data]
    assert names and all(n.startswith("Group ") for n in names)
    assert not set(names) & {s["name"] for s in trained.artifact.manifest["segments"]}


@pytest.mark.parametrize("theme", THEMES)
def test_kdistance_marks_the_knee_and_eps(result, theme: str) -> None:
    kd = result["kdistance"]
    figure = fig.kdistance_figure(kd, theme)
    knee = next(t for t in figure.data if t.name == "knee")
    assert list(knee.x) == [kd["ranks"][kd["knee_index"]]]
    assert any(s.y0 == pytest.approx(kd["eps"]) for s in figure.layout.shapes)
    assert f"{kd['eps']:.2f}" in next(a.text for a in figure.layout.annotations if a.name == "knee")
    assert f"{kd['min_samples']}th" in figure.layout.yaxis.title.text


@pytest.mark.parametrize("theme", THEMES)
def test_scaling_variants(result, theme: str) -> None:
    variants = result["scaling_variants"]
    figure = fig.scaling_figure(variants, theme)
    assert [t.name for t in figure.data] == [label for _, label, _ in fig.SCALING_BARS]
    stability = figure.data[0]
    assert list(stability.y) == [v["stability_mean"] for v in variants]
    assert sum("(in use)" in x for x in stability.x) == 1
    rows = fig.scaling_rows(variants)
    assert len(rows) == 3
    sentence = fig.scaling_sentence(variants)
    assert "log1p" in sentence and "Yeo–Johnson" in sentence and "agreement" in sentence


def test_recommendation_in_words_and_why_not_the_others(result) -> None:
    rec = result["recommendation"]
    text = fig.plain_recommendation(result)
    assert "segments" in text and "customers" in text
    entry = fig.recommended_entry(result)
    assert entry is not None and entry["model"] == rec["model"] and entry["k"] == rec["k"]
    others = fig.why_not_others(result)
    who = " ".join(w for w, _ in others)
    for m in result["models"]:
        if (m["name"], m["k"] or m["n_segments"]) != (rec["model"], rec["k"]):
            assert m["label"] in who
    for c in rec["considered"]:
        for reason in c["why_not"]:
            if c["model"] != "kmeans" or c["k"] == result["settings"]["k"]:
                assert any(reason in why for _, why in others), reason


def test_empty_inputs_give_messages_not_errors() -> None:
    assert fig.kdistance_figure({}, "dark").layout.annotations[0].text
    assert fig.knife_figure({}, None, "light").layout.annotations[0].text
    assert fig.sweep_figure({}, 4, "light").layout.annotations[0].text
    assert fig.scaling_figure([], "light").layout.annotations[0].text
    assert "nothing to recommend" in fig.plain_recommendation({"models": [], "recommendation": {"model": None}})


# --- page callbacks ----------------------------------------------------------------------------------------
def test_layout_builds(models) -> None:
    page = models.layout()
    text = str(page)
    for cid in (ids.MODELS_TABLE, ids.MODELS_TRAIN, ids.MODELS_COMPUTE_CANCEL, ids.MODELS_CHOICE_K, ids.MODELS_PENDING):
        assert cid in text


def test_cached_comparison_renders(models, computed, trained) -> None:
    result, _ = computed
    assert models.load(None) == {"pending": None, "status": None, "retry": "d-none"}
    for theme in THEMES:
        out = models.fill(None, theme)
        assert set(out) == set(models.PAGE_OUTPUTS)
        assert out["content_hidden"] is False and out["compute_panel"] == "d-none"
        assert "Our recommendation" in text_of(out["recommendation"])
        assert "Why not the others?" in text_of(out["recommendation"])
        assert "In use now" in text_of(out["in_use"])
        assert result["sampled"]["message"] in text_of(out["sampled"])
        assert "nearest" in text_of(out["native"])
        assert len(out["table"]) == len(result["models"])
        assert all(isinstance(out[f], go.Figure) for f in ("sweep", "knife", "kdist", "scaling"))
    metric = models.metric_chart("davies_bouldin", None, "dark")
    assert isinstance(metric["metric_figure"], go.Figure) and "Lower is better" in metric["metric_help"]
    rec = result["recommendation"]
    form = models.prefill(None)
    assert (form["model"], form["scaling_choice"]) == (rec["model"], rec["scaling"])
    if rec["model"] in ("kmeans", "agglomerative", "gmm", "birch"):
        assert form["k"] == rec["k"]


def test_missing_comparison_says_it_is_computing(models, no_cache_for_retrained: str) -> None:
    load = models.load(no_cache_for_retrained)
    assert load["pending"]["artifact"] == no_cache_for_retrained
    assert "Comparing models" in text_of(load["status"])
    # opened directly: the layout asks for the comparison itself (the browser passes it on to ``compute``)
    page = models.layout(session_artifact=no_cache_for_retrained)
    by_id = {c.id: c for c in page._traverse() if isinstance(getattr(c, "id", None), str)}
    assert by_id[ids.MODELS_PENDING].data["artifact"] == no_cache_for_retrained
    assert "Comparing models" in text_of(by_id[ids.MODELS_COMPUTE_STATUS].children)
    assert by_id[ids.MODELS_CONTENT].hidden is True
    out = models.fill(no_cache_for_retrained, "light")
    assert out["content_hidden"] is True and out["compute_panel"] != "d-none"  # content hidden, compute panel shown
    assert out["recommendation"] is None and out["table"] == []
    with pytest.raises(dash.exceptions.PreventUpdate):  # the form keeps what the user chose
        models.prefill(no_cache_for_retrained)


def test_a_finished_job_for_another_version_changes_nothing(models, trained, no_cache_for_retrained: str) -> None:
    with pytest.raises(dash.exceptions.PreventUpdate):
        models.computed(
            {"artifact": trained.artifact.artifact_id, "ready": True}, no_cache_for_retrained, "light", None
        )


def test_computed_draws_the_page_metric_and_form(models, computed, trained) -> None:
    result, _ = computed
    aid = trained.artifact.artifact_id
    out = models.computed({"artifact": aid, "ready": True}, None, "dark", "silhouette")
    groups = (models.PAGE_OUTPUTS, models.METRIC_OUTPUTS, models.FORM_OUTPUTS, models.STATUS_OUTPUTS)
    assert set(out) == {name for group in groups for name in group}
    assert out["content_hidden"] is False and "Our recommendation" in text_of(out["recommendation"])
    assert isinstance(out["metric_figure"], go.Figure) and "Higher is better" in out["metric_help"]
    rec = result["recommendation"]
    assert out["model"] == rec["model"]
    assert (out["status"], out["retry"]) == (None, "d-none")
    failed = models.computed({"artifact": aid, "ready": False, "error": "Too few customers."}, None, "light", None)
    assert all(v is no_update for name, v in failed.items() if name not in models.STATUS_OUTPUTS)
    assert "Too few customers." in text_of(failed["status"]) and failed["retry"] != "d-none"


def test_cancel_and_compute_again(models, trained) -> None:
    status, retry = models.compute_cancelled(1)
    assert "cancelled" in text_of(status) and retry != "d-none"
    pending, status, retry = models.compute_again(1, None)
    assert pending["artifact"] == trained.artifact.artifact_id and retry == "d-none"
    assert "Comparing models" in text_of(status)


def test_compute_submits_a_job_and_its_poll_reports_the_result(models, computed, trained) -> None:
    aid = trained.artifact.artifact_id
    started = models.compute({"artifact": aid})
    assert started["job"]["artifact"] == aid and started["poll"] is False and started["cancel"] is False
    out = poll_to_end(models.follow_compute, started["job"])["computed"]
    assert out["ready"] is True and out["artifact"] == aid
    bad = poll_to_end(models.follow_compute, models.compute({"artifact": "no-such-version"})["job"])["computed"]
    assert bad["ready"] is False and bad["artifact"] == "no-such-version" and "cannot be compared" in bad["error"]


def test_train_job_makes_the_requested_version(retrained, trained) -> None:
    job, rec = retrained
    assert job.artifact_id != trained.artifact.artifact_id
    assert (job.model, job.k, job.scaling) == ("gmm", 5, "yeo-johnson")
    assert job.n_customers == trained.artifact.manifest["data"]["n_customers"]
    percents = [c[0] for c in rec.calls]
    assert percents == sorted(percents) and percents[-1] == 100


def test_train_choice_submits_a_job_and_its_poll_activates_it(models, trained, retrained) -> None:
    """The Train button's callback, run as a plain function: same choice → the same version, reused."""
    job = retrained[0]
    started = models.train_choice(1, "gmm", 5, "yeo-johnson", trained.artifact.artifact_id)
    assert started["button"] is True and started["status"] is None  # Train is disabled while the job runs
    out = poll_to_end(models.follow_train, started["job"])
    data, status = out["trained"], out["status"]
    assert data["id"] == job.artifact_id
    assert "Now using" in text_of(status) and "k = 5" in text_of(status)
    assert out["button"] is False and out["box"] == "d-none"
    refused = models.train_choice(1, "kmeans", 40, "standard", None)
    assert refused["job"] is None and "whole number from 2 to 12" in text_of(refused["status"])


def test_training_overrides(models) -> None:
    mod = models
    assert mod.training_overrides("kmeans", "3", "log1p") == {"model": "kmeans", "k": 3, "scaling": "log1p"}
    assert mod.training_overrides("dbscan", None, "standard") == {"model": "dbscan", "scaling": "standard"}
    for bad in (None, "", 1, 13, 2.5, "x"):
        with pytest.raises(DataError, match="whole number"):
            mod.training_overrides("kmeans", bad, "standard")
    with pytest.raises(DataError, match="model"):
        mod.training_overrides("nope", 4, "standard")
    with pytest.raises(DataError, match="scaling"):
        mod.training_overrides("kmeans", 4, "nope")


def test_choice_note(models) -> None:
    out = models.choice_note("hdbscan", 4)
    assert out["k_disabled"] and not out["k_invalid"]
    assert "own number" in text_of(out["note"]) and "nearest-centroid" in text_of(out["note"])
    out = models.choice_note("kmeans", 99)
    assert not out["k_disabled"] and out["k_invalid"] and "whole number" in text_of(out["note"])
    out = models.choice_note("agglomerative", 4)
    assert not out["k_invalid"] and "nearest-centroid" in text_of(out["note"])
    assert "itself" in text_of(models.choice_note("kmeans", 4)["note"])
    assert models.choice_note(None, None) == {"note": NO_CHOICE, "k_disabled": False, "k_invalid": False}


def test_comparison_settings_match_training(models, trained, settings) -> None:
    dataset, compare_settings = comparison_inputs(trained.artifact.artifact_id, settings)
    assert compare_settings == settings_for_dataset(dataset, compare_settings)
    assert compare_settings.k == trained.artifact.manifest["model"]["k"]


def test_layout_is_filled_in_and_charts_wait_until_in_view(models, computed) -> None:
    result, _ = computed
    page = models.layout(session_theme="dark")
    by_id = {c.id: c for c in page._traverse() if isinstance(getattr(c, "id", None), str)}
    assert by_id[ids.MODELS_CONTENT].hidden is False and by_id[ids.MODELS_COMPUTE_PANEL].className == "d-none"
    assert len(by_id[ids.MODELS_TABLE_BODY].children) == len(result["models"])
    assert by_id[ids.MODELS_TABLE_SORT].data is None  # the comparison's order until a header is clicked
    assert "Our recommendation" in text_of(by_id[ids.MODELS_RECOMMENDATION].children)
    form = models.form_values(models.shown_comparison(None)[0], result)
    assert by_id[ids.MODELS_CHOICE_MODEL].value == form["model"]
    # what the first callbacks used to set on every visit is in the layout: no round trip after it
    choice = models.choice_note(form["model"], form["k"])
    assert text_of(by_id[ids.MODELS_CHOICE_NOTE].children) == text_of(choice["note"])
    assert by_id[ids.MODELS_CHOICE_K].disabled is choice["k_disabled"]
    assert by_id[ids.MODELS_PENDING].data is None  # cached: nothing to compute
    for gid in (ids.MODELS_SWEEP_GRAPH, ids.MODELS_KNIFE_GRAPH, ids.MODELS_METRIC_GRAPH, ids.MODELS_CHURN_GRAPH):
        figure = by_id[gid].figure
        assert figure["data"] == [] and "template" not in figure["layout"]  # a light placeholder until draw_charts
    with pytest.raises(dash.exceptions.PreventUpdate):
        models.draw_charts(False, None, "dark", "stability_mean")
    drawn = models.draw_charts(True, None, "dark", "stability_mean")
    full = models.fill(None, "dark")
    for name in models.CHARTS:
        assert drawn[name].to_plotly_json() == full[name].to_plotly_json()
    assert drawn["metric_figure"].to_plotly_json() == (
        models.metric_chart("stability_mean", None, "dark")["metric_figure"].to_plotly_json()
    )


def test_sort_table_callback_reorders_the_body_and_keeps_the_order_on_redraw(models, computed) -> None:
    result, _ = computed
    by_silhouette = sorted(result["models"], key=lambda m: m["silhouette"], reverse=True)
    with triggered(ids.models_sort("silhouette"), "n_clicks", 1):
        out = models.sort_table([1], None, None)
    assert set(out) == {"table", "sort", "headers"}
    assert out["sort"] == {"column": "silhouette", "descending": True}
    assert [text_of(tr.children[0]).removesuffix(" ★") for tr in out["table"]] == [m["label"] for m in by_silhouette]
    assert out["headers"].count("descending") == 1 and set(out["headers"]) == {None, "descending"}
    with triggered(ids.models_sort("silhouette"), "n_clicks", 2):
        again = models.sort_table([2], out["sort"], None)
    assert again["sort"] == {"column": "silhouette", "descending": False}
    assert [text_of(tr.children[0]) for tr in again["table"]] == [text_of(tr.children[0]) for tr in out["table"]][::-1]
    # a redraw (theme change) keeps the order the user chose
    redrawn = models.fill(None, "dark", again["sort"])
    assert [text_of(tr.children[0]) for tr in redrawn["table"]] == [text_of(tr.children[0]) for tr in again["table"]]
    # a header (re)inserted without a click changes nothing
    with triggered(ids.models_sort("silhouette"), "n_clicks", None), pytest.raises(dash.exceptions.PreventUpdate):
        models.sort_table([None], None, None)
