"""/data "Connect to a database": named connections only, preview, load for check and train, write assignments."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from dash import no_update

from dashboard import database_panel as panel
from dashboard import ids, jobs, tasks, uploads
from dashboard.identity import current_owner
from pipeline.config import Settings
from pipeline.data.sql import parse_url
from pipeline.segmentation.training import TrainResult
from pipeline.store.registry import NOT_AVAILABLE, SYSTEM_KEPT
from pipeline.synthetic.customers import sample_bytes
from tests.test_data_page import train_mine, triggered
from tests.test_runner import poll_to_end


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> str:
    """A SQLite database with 400 sample customers, configured as the named connection ``shop``."""
    from sqlalchemy import create_engine

    frame = pd.read_csv(io.BytesIO(sample_bytes(settings.sample_rows, settings.sample_seed)), sep="\t").dropna(
        how="all"
    )
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    (tmp_path / "shop.db").touch()
    engine = create_engine(parse_url(url))
    with engine.begin() as conn:
        frame.head(400).to_sql("customers", conn, index=False)
    engine.dispose()
    monkeypatch.setenv("SEGMENTS_DB_SHOP", url)
    return url


def text_of(component) -> str:
    return str(component)


def test_card_offers_names_never_urls(shop: str) -> None:
    card = panel.database_card()
    assert "'value': 'shop'" in text_of(card)
    assert shop not in text_of(card) and "sqlite" not in text_of(card).replace("SQLite", "")


def test_card_without_connections_says_how_to_add_one(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for key in [k for k in __import__("os").environ if k.startswith("SEGMENTS_DB_")]:
        monkeypatch.delenv(key)
    assert "No database connection is configured on this server" in text_of(panel.database_card())


def test_test_preview_and_refusals(request_ctx, shop: str) -> None:
    with triggered(ids.DB_TEST, "n_clicks"):
        status, preview = panel.read_database(1, None, "shop", "customers", None)
    assert "Connected to sqlite" in text_of(status) and preview is no_update
    with triggered(ids.DB_PREVIEW_BUTTON, "n_clicks"):
        status, preview = panel.read_database(None, 1, "shop", None, "SELECT * FROM customers")
    assert "First 20 rows of the query (29 columns)." in text_of(status)
    assert len(preview.rowData) == 20
    cases = [
        (None, "customers", None, "Choose a connection first."),
        ("shop", "customers", "SELECT 1", "A database source needs exactly one of --table NAME or --query SQL."),
        ("other", "customers", None, "Unknown database connection 'other'"),
    ]
    for connection, table, query in [c[:3] for c in cases]:
        with triggered(ids.DB_PREVIEW_BUTTON, "n_clicks"):
            status, preview = panel.read_database(None, 1, connection, table, query)
        assert "danger" in text_of(status) and preview is no_update
    jobs_before = tasks.runner().counts()
    for connection, table, query, message in cases:  # refused in the request: no job is queued
        out = panel.start_read(1, connection, table, query)
        assert message in text_of(out["status"]) and out["job"] is None and out["poll"] is True
    assert tasks.runner().counts() == jobs_before
    with triggered(ids.DB_PREVIEW_BUTTON, "n_clicks"):
        status, _ = panel.read_database(None, 1, "shop", "nope", None)
    assert "Table nope not found in sqlite:///" in text_of(status)


def read_in_a_job(connection: str | None, table: str | None, query: str | None) -> dict:
    """Submit the read as the Load button does and poll it to its end."""
    started = panel.start_read(1, connection, table, query)
    assert started["job"]["id"] and (started["poll"], started["button"], started["cancel"]) == (False, True, False)
    return poll_to_end(panel.follow_read, started["job"])


def test_a_table_the_job_cannot_read_ends_with_the_message(request_ctx, shop: str) -> None:
    out = read_in_a_job("shop", "nope", None)
    assert "Table nope not found in sqlite:///" in text_of(out["status"]) and out["key"] is no_update


def test_load_then_check_train_and_write_back(request_ctx, shop: str, settings: Settings) -> None:
    out = read_in_a_job("shop", "customers", None)
    assert "400 rows × 29 columns of customers loaded" in text_of(out["status"])
    key = out["key"]
    info = uploads.upload_info(key, settings)
    assert info.name == "customers from shop"
    validation = uploads.validate_upload_key(key, None, settings)
    assert validation.kind == "marketing" and not validation.problems and validation.n_customers == 400
    artifact_id = train_mine(settings, {"upload": key})

    def write() -> str:
        started = panel.start_write(1, "shop", " assignments ", artifact_id)
        assert started["job"]["id"] and started["status"] is None
        return text_of(poll_to_end(panel.follow_write, started["job"])["status"])

    assert "Wrote 400 assignments to assignments (shop)." in write()
    assert "Wrote 400 assignments to assignments (shop), replacing 400." in write()
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(shop))
    with engine.connect() as conn:
        n, versions = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT model_version) FROM assignments")).one()
    engine.dispose()
    assert (n, versions) == (400, 1)


def test_a_cancelled_read_stores_nothing(request_ctx, shop: str, settings: Settings) -> None:
    started = panel.start_read(1, "shop", "customers", None)
    with triggered(ids.DB_READ_CANCEL, "n_clicks"):
        assert panel.cancel_read(1, started["job"]) == ("Cancelling…", True)
    out = poll_to_end(panel.follow_read, started["job"])
    assert out["status"] == "Reading cancelled; nothing was stored." and out["key"] is no_update
    assert not [u for u in jobs.current_service().store.uploads(current_owner()) if u.name == "customers from shop"]


def test_only_owners_write_assignments(request_ctx, shop: str, trained: TrainResult, settings: Settings) -> None:
    before = tasks.runner().counts()
    out = panel.start_write(1, "shop", "assignments", trained.artifact.artifact_id)
    assert panel.WRITE_OWN_ONLY in text_of(out["status"]) and out["job"] is None
    assert panel.WRITE_OWN_ONLY in text_of(panel.start_write(1, "shop", "assignments", None)["status"])
    assert "Choose a connection first." in text_of(panel.start_write(1, None, "t", None)["status"])
    out = panel.start_write(1, "shop", "t", "../../etc")
    assert NOT_AVAILABLE in text_of(out["status"])
    assert tasks.runner().counts() == before
    # The job checks again (a request could be forged past the page): another owner's version is refused.
    runner = tasks.runner()
    stranger = "anon-" + "7" * 32
    for artifact in (trained.artifact.artifact_id, "../../etc"):
        job = runner.submit(stranger, "db_write", {"connection": "shop", "table": "t", "artifact": artifact})
        status = runner.wait(job, stranger, timeout=120)
        assert status.state == "failed" and status.error in (SYSTEM_KEPT, NOT_AVAILABLE), status.error
