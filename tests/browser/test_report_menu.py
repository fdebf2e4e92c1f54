"""The Overview page's "Download report" menu: a background job with progress, then the file."""

from __future__ import annotations

from pathlib import Path

from pipeline.segmentation.training import TrainResult


def test_download_report_menu(page, trained: TrainResult, tmp_path: Path) -> None:
    page.goto("/", wait_until="networkidle")
    page.get_by_role("button", name="Download report").click()
    with page.expect_download(timeout=120_000) as download:
        page.locator("#report-pptx").click()
    got = download.value
    assert got.suggested_filename == f"segment-report-{trained.artifact.artifact_id}.pptx"
    saved = tmp_path / got.suggested_filename
    got.save_as(saved)

    from pptx import Presentation

    titles = [s.shapes.title.text for s in Presentation(str(saved)).slides]
    for seg in trained.artifact.manifest["segments"]:
        assert any(t.startswith(f"{seg['name']}: {seg['share']:.0%} of customers") for t in titles)
    page.get_by_text(f"Report ready: {got.suggested_filename}").wait_for(timeout=30_000)
    # It came from /download/<job id> (not base64 inside a callback), and the link offers it again.
    again = page.get_by_role("link", name=f"Download {got.suggested_filename} again")
    assert (again.get_attribute("href") or "").startswith("/download/")
    assert got.url.endswith(again.get_attribute("href"))
    # The progress box is hidden again and the menu can be used once more.
    page.locator("#report-box.d-none").wait_for(state="attached", timeout=30_000)
    assert page.locator("#report-menu button").first.is_enabled()
