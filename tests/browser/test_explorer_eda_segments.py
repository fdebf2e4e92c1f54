"""EDA, Segments and 3D Explorer in a real browser: render, filter, drill down, no console errors."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def display_order(trained) -> list[dict[str, Any]]:
    """The segment map as the pages show it (largest value share first)."""
    return sorted(trained.artifact.manifest["segments"], key=lambda s: -(s.get("value_share") or 0.0))


def test_eda_page_renders_and_splits_by_segment(page, trained) -> None:
    page.goto("/eda")
    expect(page.locator("#eda-dist-stats")).to_contain_text("customers")
    expect(page.locator("#eda-dist-graph .main-svg").first).to_be_visible()
    expect(page.locator("#eda-corr-graph .main-svg").first).to_be_visible()
    expect(page.locator("#eda-loadings-graph .main-svg").first).to_be_visible()
    expect(page.locator("#eda-outlier-summary")).to_contain_text("Customer value")
    # the flagged-customers grid is below the fold: mounted (and its library loaded) once scrolled to
    assert page.locator("#eda-outlier-table").count() == 0
    page.locator("#eda-outlier-grid-holder").scroll_into_view_if_needed()
    expect(page.locator("#eda-outlier-table .ag-row").first).to_be_visible()
    # correlations, data fixes and PCA are below the fold too: built once their part is on screen
    page.locator("#eda-below-fold").scroll_into_view_if_needed()
    expect(page.locator("#eda-corr-graph")).to_contain_text("Customer value")
    expect(page.locator("#eda-loadings-graph")).to_contain_text("PC1")
    first_item = trained.artifact.manifest["data_quality"]["items"][0]["message"]
    expect(page.locator("#eda-missing")).to_contain_text(first_item)
    page.locator("#eda-split").check(force=True)
    legend = page.locator("#eda-dist-graph .legendtext")
    expect(legend).to_have_count(len(display_order(trained)))
    expect(legend.first).to_have_text(display_order(trained)[0]["name"])


def test_segments_page_shows_every_segment(page, trained) -> None:
    page.goto("/segments")
    segments = display_order(trained)
    expect(page.locator("#segments-priority li")).to_have_count(len(segments))
    # The cards are built when their row scrolls into view (dashboard.first_render.when_in_view).
    assert page.locator("#segments-cards .segment-card").count() == 0
    page.locator("#segments-cards").scroll_into_view_if_needed()
    expect(page.locator("#segments-cards .segment-card")).to_have_count(len(segments))
    for seg in segments:
        expect(page.locator("#segments-cards")).to_contain_text(seg["name"])
        expect(page.locator("#segments-cards")).to_contain_text(seg["objective"])
    expect(page.locator("#segments-matrix-graph .main-svg").first).to_be_visible()
    expect(page.locator("#segments-priority li")).to_have_count(len(segments))


def test_explorer_filter_changes_the_traces_and_opens_the_segment(page, trained) -> None:
    page.goto("/explorer")
    segments = display_order(trained)
    legend = page.locator("#explorer-scatter-graph .legendtext")
    expect(legend).to_have_count(len(segments))
    keep, others = segments[0], segments[1:]
    for seg in others:
        page.locator(f"#explorer-segments input[value='{seg['key']}']").uncheck()
    expect(legend).to_have_count(1)
    expect(legend).to_have_text(keep["name"])
    # a filter down to one segment opens its drill-down, and the address becomes shareable
    expect(page.locator("#explorer-drill-header")).to_contain_text(keep["name"])
    expect(page).to_have_url(f"{page.url.split('?')[0]}?segment={keep['key']}")
    page.locator(f"#explorer-segments input[value='{others[0]['key']}']").check()
    expect(legend).to_have_count(2)
    for seg in (keep, others[0]):
        page.locator(f"#explorer-segments input[value='{seg['key']}']").uncheck()
    expect(legend).to_have_count(0)
    expect(page.locator("#explorer-scatter-graph")).to_contain_text("Select at least one segment")
    page.locator(f"#explorer-segments input[value='{keep['key']}']").check()
    expect(legend).to_have_count(1)
    expect(page.locator("#explorer-scatter-graph")).not_to_contain_text("Select at least one segment")


def test_explorer_deep_link_opens_the_drill_down(page, trained) -> None:
    seg = trained.artifact.manifest["segments"][0]
    page.goto(f"/explorer?segment={seg['key']}")
    expect(page.locator("#explorer-drill-header")).to_contain_text(seg["name"])
    expect(page.locator("#explorer-evidence")).to_contain_text(seg["objective"])
    page.locator("#explorer-evidence summary").click()
    expect(page.locator("#explorer-evidence")).to_contain_text(seg["evidence"])
    rows = page.locator("#explorer-grid .ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible()
    expect(page.locator("#explorer-grid")).to_contain_text(f"of {seg['size']:,}")
    expect(page.locator("#explorer-profile-graph .main-svg").first).to_be_visible()
    # Its download menu: tests/browser/test_exports.py::test_explorer_downloads_the_drilled_segment_as_csv


def test_explorer_unknown_deep_link_says_so(page) -> None:
    page.goto("/explorer?segment=no_such_segment")
    expect(page.locator("#explorer-drill-hint")).to_contain_text("no_such_segment")
    expect(page.locator("#explorer-scatter-graph .legendtext").first).to_be_visible()
