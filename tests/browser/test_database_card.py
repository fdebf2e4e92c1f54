"""/data "Connect to a database" in a real browser: read a table in a job, train on it, write assignments back.

The server runs with one named connection (``SEGMENTS_DB_SHOP``, a SQLite file
of 400 sample customers).  Reading the whole table and writing the
assignments are jobs of the one job runner: the card shows their progress
bars and the result lines.  Every wait is an ``expect`` on a state.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
from collections.abc import Iterator

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from pipeline.config import Settings
from pipeline.data.sql import parse_url
from pipeline.segmentation.training import TrainResult
from pipeline.synthetic.customers import sample_bytes
from tests.browser.conftest import checked_page, start_server

JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def db_server(settings: Settings, trained: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard whose only named connection ``shop`` is a SQLite file of 400 sample customers."""
    from sqlalchemy import create_engine

    path = tmp_path_factory.mktemp("shop") / "shop.db"
    path.touch()  # a named connection may only open an existing file
    frame = pd.read_csv(io.BytesIO(sample_bytes(settings.sample_rows, settings.sample_seed)), sep="\t")
    engine = create_engine(parse_url(f"sqlite:///{path}"))
    with engine.begin() as conn:
        frame.dropna(how="all").head(400).to_sql("customers", conn, index=False)
    engine.dispose()
    saved = {k: v for k, v in os.environ.items() if k.startswith("SEGMENTS_DB_")}
    for key in saved:
        del os.environ[key]
    os.environ["SEGMENTS_DB_SHOP"] = f"sqlite:///{path}"
    # Its own data folder: the job queue there is shared by every server on the folder, and a job the
    # session's other server (started without SEGMENTS_DB_SHOP) picked up failed with "unknown connection".
    own = dataclasses.replace(settings, data_dir=tmp_path_factory.mktemp("shop-data"))
    try:
        proc, url = start_server(own)
    finally:
        del os.environ["SEGMENTS_DB_SHOP"]
        os.environ.update(saved)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def db_page(browser, db_server: str) -> Iterator[Page]:
    with checked_page(browser, db_server, height=900) as pg:
        yield pg


def test_read_train_and_write_back_through_jobs(db_page: Page) -> None:
    page = db_page
    page.goto("/data")
    expect(page.locator("#db-connection")).to_have_value("shop")
    page.locator("#db-table").fill("customers")
    page.locator("#db-table").press("Tab")

    page.locator("#db-preview-button").click()
    expect(page.locator("#db-status")).to_contain_text("First 20 rows of customers (29 columns).")

    page.locator("#db-load").click()
    status = page.locator("#db-status")
    expect(status).to_contain_text("400 rows × 29 columns of customers loaded", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#db-read-box")).to_be_hidden()
    expect(page.locator("#data-validation")).to_contain_text("Ready to train customers from shop", timeout=60_000)

    page.locator("#data-train").click()
    expect(page.locator("#data-train-status")).to_contain_text("Trained.", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#app-nav-dataset")).to_have_text("customers from shop")

    page.locator("#db-out-table").fill("assignments")
    page.locator("#db-export").click()
    expect(page.locator("#db-export-status")).to_contain_text(
        "Wrote 400 assignments to assignments (shop).", timeout=JOB_TIMEOUT_MS
    )
    expect(page.locator("#db-write-box")).to_be_hidden()


def test_the_built_in_model_is_not_written_and_a_bad_table_is_a_message(db_page: Page) -> None:
    page = db_page
    page.goto("/data")
    expect(page.locator("#db-connection")).to_have_value("shop")
    page.locator("#db-export").click()
    expect(page.locator("#db-export-status")).to_contain_text("Only your own model versions can be written")
    page.locator("#db-table").fill("nope")
    page.locator("#db-table").press("Tab")
    page.locator("#db-load").click()
    expect(page.locator("#db-status")).to_contain_text("Table nope not found", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#db-load")).to_be_enabled()
