"""Your own features in a real browser (issue #14): upload a mall-style table, choose features, train, visit every page.

Every wait is an ``expect`` on a state, never a sleep.  Screenshots of each
page go to ``$FEATURES_SHOTS`` when that variable names a folder (to be
looked at), else to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from pipeline.synthetic.custom_tables import mall_customers, to_csv_bytes

TRAIN_TIMEOUT_MS = 120_000
PAGES = {
    "/": "#overview-model",
    "/eda": "h2",
    "/models": "h2",
    "/explorer": "#explorer-scatter-graph .main-svg",
    "/segments": "h2",
    "/simulator": "h2",
}


def test_upload_choose_features_train_and_visit_every_page(page: Page, tmp_path: Path) -> None:
    shots = Path(os.environ.get("FEATURES_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    table, _ = mall_customers()
    path = tmp_path / "Mall_Customers.csv"
    path.write_bytes(to_csv_bytes(table))

    page.goto("/data")
    expect(page.locator("#data-versions")).to_contain_text("Built-in sample")
    page.locator("#data-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#data-upload-status")).to_contain_text("Mall_Customers.csv accepted", timeout=60_000)
    expect(page.locator("#data-detection")).to_contain_text(
        "Numeric columns offered as your own features", timeout=60_000
    )
    validation = page.locator("#data-validation")
    expect(validation).to_contain_text("Ready to train Mall_Customers.csv", timeout=60_000)
    expect(validation).to_contain_text("on age, annual income, spending score", timeout=60_000)

    # Choose the features: untick Age in the custom-features dropdown.
    picker = page.locator('button[id*="custom_features"]')
    expect(picker).to_contain_text("3 selected", timeout=60_000)
    picker.click()
    page.get_by_role("option", name="Age", exact=True).click()
    page.keyboard.press("Escape")
    expect(picker).to_contain_text("2 selected", timeout=30_000)
    expect(validation).to_contain_text("on annual income, spending score", timeout=60_000)
    view = page.locator("#feature-picker-details")
    expect(view).to_contain_text("Annual Income: usable.", timeout=60_000)
    page.screenshot(path=str(shots / "data.png"), full_page=True)
    expect(view.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)

    page.locator("#data-train").click()
    expect(page.locator("#app-nav-dataset")).to_have_text("Mall_Customers.csv", timeout=TRAIN_TIMEOUT_MS)
    expect(page.locator("#data-train-status")).to_contain_text("Trained.", timeout=30_000)

    for url, ready in PAGES.items():
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible(timeout=60_000)
        expect(page.locator("#app-nav-dataset")).to_have_text("Mall_Customers.csv", timeout=30_000)
        page.wait_for_load_state("networkidle")
        expect(page.locator(".alert-danger")).to_have_count(0, timeout=30_000)
        name = "overview" if url == "/" else url.strip("/")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    # The segments are named from their evidence.
    page.goto("/segments")
    page.locator("#segments-cards").scroll_into_view_if_needed()  # the cards are built once in view
    expect(page.locator("body")).to_contain_text("annual income", timeout=60_000)
    expect(page.locator("body")).to_contain_text("Yours to decide", timeout=30_000)

    # An editable note per segment, saved with the model version and kept on reload.
    first_note = page.locator("textarea[id*='segment-note']").first
    first_note.fill("Invite them to the spring preview")
    page.locator("button[id*='segment-note-save']").first.click()
    expect(page.locator("[id*='segment-note-status']").first).to_have_text("Saved.", timeout=30_000)
    page.reload()
    page.locator("#segments-cards").scroll_into_view_if_needed()
    expect(page.locator("textarea[id*='segment-note']").first).to_have_value(
        "Invite them to the spring preview", timeout=60_000
    )
