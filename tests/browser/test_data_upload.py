"""Your data (/data) in a real browser: upload, detection, background training, cancel, isolation.

Files go through the real ``dcc.Upload`` input (Playwright ``set_input_files``),
training through the real job runner (:mod:`dashboard.runner`: a child process,
polled by the page).  Every wait is an ``expect`` on a state, never a sleep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline.synthetic.inputs import customer_table_bytes, transactions_bytes

TRAIN_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated transaction logs and a large customer table (written once for this module)."""
    folder = tmp_path_factory.mktemp("uploads")
    sizes = {
        "shop_orders.csv": (6_000, 21),
        "north_store.csv": (4_000, 31),
        "south_store.csv": (9_000, 41),
        "while_away.csv": (5_000, 61),
    }
    out = {}
    for name, (lines, seed) in sizes.items():
        out[name] = folder / name
        out[name].write_bytes(transactions_bytes(lines, seed=seed))
    # 40,000 customers (1.5 MB): small to upload, several seconds to fit (time to cancel).
    out["big_crm.csv"] = folder / "big_crm.csv"
    out["big_crm.csv"].write_bytes(customer_table_bytes(40_000, seed=51))
    return out


def upload_file(page: Page, path: Path) -> None:
    """Give ``path`` to the page's drop zone and wait until it is checked."""
    page.locator("#data-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#data-upload-status")).to_contain_text(f"{path.name} accepted", timeout=60_000)
    expect(page.locator("#data-validation")).to_contain_text(f"Ready to train {path.name}", timeout=60_000)
    expect(page.locator("#data-train")).to_be_enabled()


def open_data_page(page: Page) -> None:
    page.goto("/data")
    expect(page.locator("#data-versions")).to_contain_text("Built-in sample")


def test_upload_detect_train_and_the_navbar_follows(page: Page, logs: dict[str, Path]) -> None:
    open_data_page(page)
    expect(page.locator("#app-nav-dataset")).to_have_text("Built-in sample")
    upload_file(page, logs["shop_orders.csv"])

    expect(page.locator("#data-preview")).to_contain_text("shop_orders.csv")
    expect(page.locator("#data-preview-grid")).to_contain_text("InvoiceNo")
    expect(page.locator("#data-detection")).to_contain_text("a transaction log (one row per order line)")
    expect(page.locator("#data-kind input[value=transactions]")).to_be_checked()
    expect(page.locator("#data-validation")).to_contain_text("rows read")
    expect(page.locator("#data-validation")).to_contain_text("cancelled orders")

    page.locator("#data-train").click()
    expect(page.locator("#data-progress-box")).to_be_visible()
    expect(page.locator("#app-nav-dataset")).to_have_text("shop_orders.csv", timeout=TRAIN_TIMEOUT_MS)
    status = page.locator("#data-train-status")
    expect(status).to_contain_text("Trained.")
    expect(page.locator("#data-progress-box")).to_be_hidden()
    expect(page.locator(".data-version-active")).to_contain_text("shop_orders.csv")

    status.get_by_role("link", name="Open the overview").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#overview-model")).to_contain_text("shop-orders-csv-")  # the version id


def test_cancel_keeps_the_active_data_set(page: Page, logs: dict[str, Path]) -> None:
    open_data_page(page)
    upload_file(page, logs["big_crm.csv"])
    page.locator("#data-train").click()
    expect(page.locator("#data-progress-box")).to_be_visible()
    cancel = page.locator("#data-cancel")
    expect(cancel).to_be_enabled()  # as soon as the job is submitted (queued or running)
    cancel.click()
    expect(page.locator("#data-train-status")).to_contain_text("Training cancelled")
    expect(page.locator("#data-progress-box")).to_be_hidden()
    expect(page.locator("#data-train")).to_be_enabled()
    expect(page.locator("#app-nav-dataset")).to_have_text("Built-in sample")
    # The job was stopped: opening the page again lists no version of the big table.
    open_data_page(page)
    expect(page.locator("#data-versions")).not_to_contain_text("big_crm.csv")
    expect(page.locator("#app-nav-dataset")).to_have_text("Built-in sample")


def test_leaving_the_page_while_training_then_coming_back(page: Page, logs: dict[str, Path]) -> None:
    """The job runs on without the page; back on /data the page follows it again and switches to the result."""
    open_data_page(page)
    upload_file(page, logs["while_away.csv"])
    page.locator("#data-train").click()
    expect(page.locator("#data-progress-box")).to_be_visible()  # submitted: the session holds the job id
    page.locator(".app-navbar").get_by_role("link", name="Segments", exact=True).click()
    expect(page).to_have_url(re.compile(r"/segments$"))
    expect(page.locator("#app-nav-dataset")).to_have_text("Built-in sample")
    page.locator(".app-navbar").get_by_role("link", name="Your data", exact=True).click()
    # The upload comes back from the tab's session storage: its preview, its form and its check.
    expect(page.locator("#data-preview")).to_contain_text("Column", timeout=60_000)
    expect(page.locator("#data-validation")).to_contain_text("Ready to train while_away.csv", timeout=60_000)
    expect(page.locator("#data-train-status")).to_contain_text("Trained.", timeout=TRAIN_TIMEOUT_MS)
    expect(page.locator("#app-nav-dataset")).to_have_text("while_away.csv")


@pytest.fixture
def two_sessions(browser, live_server: str) -> Iterator[tuple[Page, Page]]:
    """Two independent browser contexts (two people), failing on console errors."""
    contexts, pages, errors = [], [], []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=live_server)
        pg = context.new_page()
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        contexts.append(context)
        pages.append(pg)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


def slug(name: str) -> str:
    """The start of the version ids of a data set's artifacts (``north-store-csv-``)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() + "-"


def customers_on_overview(page: Page) -> str:
    """The Customers KPI of the overview (the first card)."""
    expect(page.locator("#overview-kpis .kpi-label").first).to_contain_text("Customers")
    kpi = page.locator("#overview-kpis .kpi-value").first
    expect(kpi).not_to_be_empty()
    return kpi.inner_text()


def test_two_sessions_see_only_their_own_data(two_sessions: tuple[Page, Page], logs: dict[str, Path]) -> None:
    north, south = two_sessions
    for page, name in ((north, "north_store.csv"), (south, "south_store.csv")):
        open_data_page(page)
        upload_file(page, logs[name])
    for page in (north, south):
        page.locator("#data-train").click()
    for page, name in ((north, "north_store.csv"), (south, "south_store.csv")):
        expect(page.locator("#app-nav-dataset")).to_have_text(name, timeout=TRAIN_TIMEOUT_MS)

    counts = {}
    for page, name in ((north, "north_store.csv"), (south, "south_store.csv")):
        page.goto("/")
        expect(page.locator("#app-nav-dataset")).to_have_text(name)
        expect(page.locator("#overview-model")).to_contain_text(slug(name))
        counts[name] = customers_on_overview(page)
    assert counts["north_store.csv"] != counts["south_store.csv"]

    # Each keeps its own choice on other pages too, and after a reload.
    north.goto("/segments")
    expect(north.locator("#app-nav-dataset")).to_have_text("north_store.csv")
    south.reload()
    expect(south.locator("#app-nav-dataset")).to_have_text("south_store.csv")
    expect(south.locator("#overview-model")).to_contain_text(slug("south_store.csv"))
