"""Download menus in a real browser: the file arrives, in the chosen format, with the right customers."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
from playwright.sync_api import expect


def test_overview_downloads_every_customer_as_xlsx(page, trained, tmp_path: Path) -> None:
    page.goto("/")
    expect(page.locator("#overview-segment-cards")).to_contain_text(trained.artifact.manifest["segments"][0]["name"])
    page.get_by_role("button", name=re.compile("Download assignments")).click()
    item = page.locator(".export-menu .dropdown-item", has_text="Excel (.xlsx)")
    expect(item).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=60_000) as info:
        item.click()
    download = info.value
    assert download.suggested_filename == "segment-assignments-all-customers.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    book = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
    assert book.sheetnames[:2] == ["Summary", "All customers"]
    sheet = book["All customers"]
    assert sheet.freeze_panes == "A2" and sheet.max_row == len(trained.artifact.customers) + 1
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["ID", "Segment_Key", "Segment_Name", "Assignment_Confidence"]


def test_explorer_downloads_the_drilled_segment_as_csv(page, trained, tmp_path: Path) -> None:
    seg = trained.artifact.manifest["segments"][2]
    page.goto(f"/explorer?segment={seg['key']}")
    expect(page.locator("#explorer-drill-header")).to_contain_text(seg["name"], timeout=30_000)
    page.get_by_role("button", name=re.compile("this segment's customers")).click()
    item = page.locator("#explorer-drill .export-menu .dropdown-item", has_text="CSV")
    expect(item).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=60_000) as info:
        item.click()
    download = info.value
    assert download.suggested_filename == f"segment-assignments-{seg['key']}.csv"
    saved = tmp_path / "members.csv"
    download.save_as(saved)
    frame = pd.read_csv(saved)
    assert set(frame["Segment_Key"]) == {seg["key"]} and len(frame) == seg["size"]
