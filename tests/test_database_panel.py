"""/data "Connect to a database": named connections only, preview, load for check and train, write assignments."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from dash import no_update

from dashboard import database_panel as panel
from dashboard import ids, jobs
from pipeline.config import Settings
from pipeline.data.sql import parse_url
from pipeline.segmentation.training import TrainResult
from pipeline.synthetic.customers import sample_bytes
from tests.test_data_page import train_mine, triggered


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
        status, preview, key = panel.read_database(1, None, None, "shop", "customers", None)
    assert "Connected to sqlite" in text_of(status) and (preview, key) == (no_update, no_update)
    with triggered(ids.DB_PREVIEW_BUTTON, "n_clicks"):
        status, preview, key = panel.read_database(None, 1, None, "shop", None, "SELECT * FROM customers")
    assert "First 20 rows of the query (29 columns)." in text_of(status)
    assert len(preview.rowData) == 20 and key is no_update
    cases = [
        (None, "customers", None, "Choose a connection first."),
        ("shop", "nope", None, "Table nope not found in sqlite:///"),
        ("shop", "customers", "SELECT 1", "A database source needs exactly one of --table NAME or --query SQL."),
        ("other", "customers", None, "Unknown database connection 'other'"),
    ]
    for connection, table, query, message in cases:
        with triggered(ids.DB_LOAD, "n_clicks"):
            status, preview, key = panel.read_database(None, None, 1, connection, table, query)
        assert message in text_of(status) and (preview, key) == (no_update, no_update)


def test_load_then_check_train_and_write_back(request_ctx, shop: str, settings: Settings) -> None:
    with triggered(ids.DB_LOAD, "n_clicks"):
        status, _preview, key = panel.read_database(None, None, 1, "shop", "customers", None)
    assert "400 rows × 29 columns of customers loaded" in text_of(status)
    info = jobs.upload_info(key, settings)
    assert info.name == "customers from shop"
    validation = jobs.validate_upload_key(key, None, settings)
    assert validation.kind == "marketing" and not validation.problems and validation.n_customers == 400
    artifact_id = train_mine(settings, {"upload": key})

    message = panel.export_assignments(1, "shop", "assignments", artifact_id)
    assert "Wrote 400 assignments to assignments (shop)." in text_of(message)
    message = panel.export_assignments(1, "shop", "assignments", artifact_id)
    assert "Wrote 400 assignments to assignments (shop), replacing 400." in text_of(message)
    from sqlalchemy import create_engine, text

    engine = create_engine(parse_url(shop))
    with engine.connect() as conn:
        n, versions = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT model_version) FROM assignments")).one()
    engine.dispose()
    assert (n, versions) == (400, 1)


def test_only_owners_write_assignments(request_ctx, shop: str, trained: TrainResult) -> None:
    message = panel.export_assignments(1, "shop", "assignments", trained.artifact.artifact_id)
    assert "danger" in text_of(message)
    assert "Wrote" not in text_of(message)
    assert "Choose a connection first." in text_of(panel.export_assignments(1, None, "t", None))
