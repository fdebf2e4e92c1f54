"""Model comparison (/models) in a real browser: the recommendation and the table appear (computed by a job
of the job runner on a first visit), then training another k from the page switches the whole app to it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from dashboard import ids
from dashboard.jobs import dataset_from_artifact
from dashboard.screenshots import wait_settled
from pipeline.config import Settings
from pipeline.segmentation.compare import comparison_path, read_cached
from pipeline.segmentation.training import TrainResult, settings_for_dataset

#: A first visit computes the comparison in a job (5–15 s on the sample plus a child process start; over a
#: minute on a shared 2-core machine under load, where the job may also wait for a free slot).
COMPUTE_TIMEOUT = 180_000


def cached_result(trained: TrainResult, settings: Settings) -> dict[str, Any]:
    """The comparison the page computed (or found) for the trained sample, read from the shared cache."""
    dataset, trained_with = dataset_from_artifact(trained.artifact.artifact_id, settings)
    compare_settings = settings_for_dataset(dataset, trained_with)
    result = read_cached(comparison_path(dataset, compare_settings), dataset, compare_settings)
    assert result is not None, "the page showed a recommendation but no comparison is cached"
    return result.to_dict()


def test_models_page_recommends_then_trains_another_k(page, trained, settings) -> None:
    page.goto("/models")
    recommendation = page.locator(f"#{ids.MODELS_RECOMMENDATION}")
    expect(recommendation).to_contain_text("Our recommendation", timeout=COMPUTE_TIMEOUT)
    expect(recommendation).to_contain_text("Why not the others?")
    table = page.locator(f"#{ids.MODELS_TABLE}")
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table).to_contain_text("Nearest-centroid")
    expect(page.locator(f"#{ids.MODELS_NATIVE_NOTE}")).to_contain_text("cannot place new customers")
    # the charts are below the fold: drawn once they scroll into view (or when a comparison computed here ends)
    page.locator(f"#{ids.MODELS_CHARTS}").scroll_into_view_if_needed()
    for graph in (ids.MODELS_METRIC_GRAPH, ids.MODELS_SWEEP_GRAPH, ids.MODELS_KNIFE_GRAPH, ids.MODELS_KDIST_GRAPH):
        expect(page.locator(f"#{graph} .main-svg").first).to_be_visible()
    expect(page.locator(f"#{ids.MODELS_SWEEP_GRAPH}")).to_contain_text("elbow")

    # the form is pre-filled with the recommendation
    rec = cached_result(trained, settings)["recommendation"]
    expect(page.locator(f"#{ids.MODELS_CHOICE_MODEL}")).to_have_value(rec["model"])
    expect(page.locator(f"#{ids.MODELS_CHOICE_SCALING}")).to_have_value(rec["scaling"])
    if rec["model"] in ("kmeans", "agglomerative", "gmm", "birch"):
        expect(page.locator(f"#{ids.MODELS_CHOICE_K}")).to_have_value(str(rec["k"]))
    expect(recommendation).to_contain_text(f"with {rec['k']} segments")

    # a metric switch redraws the chart with its direction
    page.select_option(f"#{ids.MODELS_METRIC}", "davies_bouldin")
    expect(page.locator(f"#{ids.MODELS_METRIC_HELP}")).to_contain_text("Lower is better")

    # train KMeans with k = 3: the navbar, and then the whole page, follow the new version
    navbar = page.locator(f"#{ids.NAV_VERSION}")
    expect(navbar).to_contain_text(f"k={trained.artifact.manifest['model']['k']}")
    page.select_option(f"#{ids.MODELS_CHOICE_MODEL}", "kmeans")
    page.select_option(f"#{ids.MODELS_CHOICE_SCALING}", "standard")
    k_box = page.locator(f"#{ids.MODELS_CHOICE_K}")
    k_box.fill("3")
    expect(k_box).to_have_value("3")
    page.locator(f"#{ids.MODELS_TRAIN}").click()
    expect(navbar).to_contain_text("kmeans k=3", timeout=COMPUTE_TIMEOUT)
    expect(page.locator(f"#{ids.MODELS_TRAIN_STATUS}")).to_contain_text("Now using KMeans, k = 3")
    # the comparison of the new version (its k is 3) is computed in the background and shown without a reload
    expect(page.locator(f"#{ids.MODELS_IN_USE}")).to_contain_text("k = 3", timeout=COMPUTE_TIMEOUT)
    expect(recommendation).to_contain_text("Our recommendation")


def sort_header(page, column: str):
    """The ``<th>`` of a sortable column (a dict id: matched on its rendered ``id`` attribute)."""
    return page.locator(f"[id='{ids.dom_id(ids.models_sort_header(column))}']")


def first_column(page) -> list[str]:
    """The model names of the models table, top to bottom (the recommended one with its star)."""
    return page.locator(f"#{ids.MODELS_TABLE} tbody th").all_inner_texts()


def test_models_table_sorts_by_a_header_click_and_by_keyboard(page, trained, settings) -> None:
    page.goto("/models")
    names = page.locator(f"#{ids.MODELS_TABLE} tbody th")
    expect(names).to_have_count(6, timeout=COMPUTE_TIMEOUT)
    models = cached_result(trained, settings)["models"]
    shown = {name.removesuffix(" ★"): name for name in first_column(page)}
    assert list(shown) == [m["label"] for m in models]  # the comparison's order at first
    header = sort_header(page, "silhouette")
    assert header.get_attribute("aria-sort") is None
    button = header.get_by_role("button")
    assert (button.get_attribute("title") or "").endswith("Higher is better.")  # what the column measures
    button.click()  # higher is better: best first
    expect(header).to_have_attribute("aria-sort", "descending")
    best_first = [shown[m["label"]] for m in sorted(models, key=lambda m: m["silhouette"], reverse=True)]
    expect(names).to_have_text(best_first)
    button.focus()
    page.keyboard.press("Enter")  # the header is a button: the keyboard reverses it too
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(names).to_have_text(best_first[::-1])
    # another header takes the sort over; the first one is no longer sorted
    noise = sort_header(page, "noise_share")
    noise.get_by_role("button").click()
    expect(noise).to_have_attribute("aria-sort", "ascending")  # lower is better: best first
    expect(header).not_to_have_attribute("aria-sort", "ascending")
    assert header.get_attribute("aria-sort") is None


def test_switch_to_models_is_one_round_trip_without_the_grid_library(page) -> None:
    page.goto("/models")  # the comparison computed (or found) first, so the switch below only draws it
    expect(page.locator(f"#{ids.MODELS_TABLE} tbody tr")).to_have_count(6, timeout=COMPUTE_TIMEOUT)
    page.goto("/")
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    wait_settled(page, timeout_ms=60_000)
    calls: list[str] = []
    grid: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "_dash-update-component" in r.url else None)
    page.on("request", lambda r: grid.append(r.url) if "dash_ag_grid" in r.url else None)
    page.locator(".app-navbar a.nav-link[href='/models']").click()
    expect(page.locator(f"#{ids.MODELS_TABLE} tbody tr")).to_have_count(6)
    wait_settled(page, timeout_ms=60_000)
    assert len(calls) == 1, calls  # the page's layout, filled in: no callback fired by its arrival
    assert grid == []
