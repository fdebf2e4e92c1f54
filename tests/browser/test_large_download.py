"""A download too large for one request: a background job with progress, then the file from /download/<job id>."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from dashboard.exports import IN_REQUEST_MAX_ROWS
from pipeline.config import Settings
from tests.browser.conftest import ROOT, checked_page, start_server

#: Just over the in-request limit, so "All customers" becomes a job.
ROWS = IN_REQUEST_MAX_ROWS + 5_000


@pytest.fixture(scope="module")
def large_server(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[str]:
    """The dashboard on a generated table of :data:`ROWS` customers (trained at start)."""
    root = tmp_path_factory.mktemp("large-download")
    data = root / "customers.csv"
    cmd = [sys.executable, "-m", "pipeline", "sample", "--rows", str(ROWS), "--out", str(data)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    proc, url = start_server(Settings(models_dir=root / "models", data_dir=root / "data"), ["--data", str(data)])
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_all_customers_as_csv_is_made_in_the_background_and_downloaded(browser, large_server, tmp_path: Path) -> None:
    with checked_page(browser, large_server) as page:
        page.goto("/")
        menu = page.get_by_role("button", name=re.compile("Download assignments"))
        expect(menu).to_be_visible(timeout=60_000)
        menu.click()
        item = page.locator(".export-menu .dropdown-item", has_text="CSV")
        expect(item.first).to_be_visible(timeout=30_000)
        with page.expect_download(timeout=180_000) as info:
            item.first.click()
            # the job's progress is shown while the file is made
            expect(page.locator(".export-progress .progress")).to_be_visible(timeout=30_000)
        download = info.value
        assert download.suggested_filename == "segment-assignments-all-customers.csv"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        table = pd.read_csv(saved)
        assert len(table) == ROWS and list(table.columns[:3]) == ["ID", "Segment_Key", "Segment_Name"]
        again = page.get_by_role("link", name="Download segment-assignments-all-customers.csv again")
        expect(again).to_be_visible(timeout=30_000)
        assert re.fullmatch(r"/download/[0-9a-f]{32}", again.get_attribute("href") or "")
        expect(page.get_by_text("Download ready: segment-assignments-all-customers.csv")).to_be_visible()
        # the progress block is hidden again
        expect(page.locator(".export-progress")).to_have_count(0)
