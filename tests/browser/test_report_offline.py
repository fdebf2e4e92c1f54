"""The HTML report opens in Chromium with the network blocked and makes no request of its own."""

from __future__ import annotations

from pathlib import Path

from pipeline.reports import story_of, write_report
from pipeline.reports.branding import logo_from_bytes
from pipeline.segmentation.training import TrainResult
from tests.test_report import tiny_png


def test_html_report_makes_zero_external_requests(browser, trained: TrainResult, tmp_path: Path) -> None:
    story = story_of(trained.artifact, "Acme")
    path = write_report(story, tmp_path / "report.html", logo_from_bytes(tiny_png(40, 20), "logo.png"))
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    blocked: list[str] = []
    context.on("request", lambda req: requests.append(req.url))

    def block(route) -> None:  # everything but the report file itself is refused and recorded
        if route.request.url == path.as_uri():
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("section#method", state="attached", timeout=30_000)
    assert page.locator("h1").inner_text() == story.title
    assert page.locator("section.page").count() == len(story.segments) + 5
    assert page.locator("svg").count() == len(story.segments) + 2
    assert page.locator("img.logo").evaluate("img => img.naturalWidth") == 40
    external = [u for u in requests if u != path.as_uri() and not u.startswith("data:")]
    assert external == [] and blocked == []
    context.close()
