"""Presentation mode in a real browser: the story walked with the arrow keys, ?present=1,
and the read-only link that opens only versions the viewer may read."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from pipeline.segmentation.training import TrainResult


def _visible_title(page):
    return page.locator(".present-screen:not([hidden]) .present-title")


def test_arrow_keys_walk_the_story_one_screen_at_a_time(page, trained: TrainResult) -> None:
    segments = trained.artifact.manifest["segments"]
    n = 2 + len(segments) + 2  # overview, size vs value, one per segment, priority, where to act first
    page.goto("/")
    expect(page.locator("#app-nav-dataset")).to_have_text("Built-in sample")
    page.locator("#app-nav-present").click()
    expect(page.locator(".present-counter")).to_have_text(f"Screen 1 of {n}", timeout=30_000)
    expect(page.locator(".app-navbar")).to_be_hidden()  # controls hidden
    expect(page.locator(".present-screen:not([hidden])")).to_have_count(1)
    expect(_visible_title(page)).to_have_text(f"Built-in sample: {len(segments)} customer segments")
    page.keyboard.press("ArrowRight")
    expect(_visible_title(page)).to_have_text("Segment size vs value")
    expect(page.locator(".present-screen:not([hidden]) .js-plotly-plot")).to_be_visible()
    page.keyboard.press("ArrowRight")
    first = sorted(segments, key=lambda s: s["label"])[0]
    expect(_visible_title(page)).to_contain_text(f"{first['name']}: ")
    expect(page.locator(".present-screen:not([hidden])")).to_contain_text(first["objective"])
    page.keyboard.press("ArrowLeft")
    expect(_visible_title(page)).to_have_text("Segment size vs value")
    page.keyboard.press("End")
    expect(page.locator(".present-counter")).to_have_text(f"Screen {n} of {n}")
    expect(_visible_title(page)).to_contain_text("Act first on")
    page.keyboard.press("ArrowRight")  # stays on the last screen
    expect(page.locator(".present-counter")).to_have_text(f"Screen {n} of {n}")
    page.keyboard.press("ArrowUp")
    expect(_visible_title(page)).to_have_text("Priority: value against measured risk")
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"://[^/]+/$"))
    expect(page.locator(".app-navbar")).to_be_visible()


def test_present_query_opens_presentation_mode(page) -> None:
    page.goto("/segments?present=1")
    expect(page.locator(".present-counter")).to_contain_text("Screen 1 of", timeout=30_000)
    assert page.url.endswith("/present")


def test_share_link_opens_readable_versions_only(page, trained: TrainResult) -> None:
    aid = trained.artifact.artifact_id
    page.goto("/present")
    # the server's built-in version is readable by everyone: the owner is offered the link
    link = page.locator(".present-share-link")
    expect(link).to_have_text(f"{page.url.split('/present')[0]}/present?version={aid}", timeout=30_000)
    page.goto(f"/present?version={aid}")
    expect(_visible_title(page)).to_contain_text("Built-in sample")
    # an id this browser may not read shows nothing of it (and no fallback to another data set)
    page.goto("/present?version=someone-elses-version-0000000000")
    expect(_visible_title(page)).to_have_text("This presentation is not available")
    expect(page.locator(".present-screen")).to_have_count(1)
    expect(page.locator(".present-share")).to_be_empty()
