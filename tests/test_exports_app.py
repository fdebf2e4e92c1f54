"""Download menus (Overview, Segments, Explorer): one component, one callback, owner-checked, the safe writer.

The callbacks are called as plain functions inside a Flask request context
whose signed session holds the owner (as in tests/test_sharing.py).
"""

from __future__ import annotations

import base64
import io

import openpyxl
import pandas as pd
import pytest
from dash import no_update

from dashboard import exports, ids
from pipeline.errors import AccessDenied, DataError
from pipeline.segmentation.training import TrainResult
from pipeline.store.registry import NOT_AVAILABLE
from tests.test_data_page import component_ids, page_module, text_of, triggered
from tests.test_sharing import ALICE, BOB, as_owner, service

FORMAT_KEYS = ("csv", "xlsx", "parquet")


def content(sent: dict) -> bytes:
    return base64.b64decode(sent["content"]) if sent.get("base64") else sent["content"].encode()


def read(key: str, raw: bytes) -> pd.DataFrame:
    if key == "csv":
        return pd.read_csv(io.BytesIO(raw), dtype={"ID": str})
    if key == "parquet":
        return pd.read_parquet(io.BytesIO(raw)).astype({"ID": str})
    rows = list(openpyxl.load_workbook(io.BytesIO(raw))["All customers"].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0]).astype({"ID": str})


@pytest.mark.parametrize("key", FORMAT_KEYS)
def test_all_customers_in_every_format(request_ctx, trained: TrainResult, key: str) -> None:
    sent = exports.download_data(None, "all", key, None)
    assert sent["filename"] == f"segment-assignments-all-customers.{key}"
    frame = read(key, content(sent))
    customers = trained.artifact.customers
    assert len(frame) == len(customers) and set(frame["ID"]) == set(customers["ID"].astype(str))
    sizes = {s["key"]: s["size"] for s in trained.artifact.manifest["segments"]}
    assert frame["Segment_Key"].value_counts().to_dict() == sizes
    assert set(frame["Model_Version"]) == {trained.artifact.artifact_id}


def test_xlsx_summary_equals_the_models_segment_map(request_ctx, trained: TrainResult) -> None:
    book = openpyxl.load_workbook(io.BytesIO(content(exports.download_data(None, "all", "xlsx", None))))
    rows = list(book["Summary"].iter_rows(values_only=True))
    header = rows[0]
    found = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] and r[1]}
    for seg in trained.artifact.manifest["segments"]:
        got = found[seg["key"]]
        assert got["Customers"] == seg["size"] and got["Share_of_Customers"] == pytest.approx(seg["share"])
        assert got["Share_of_Spend"] == pytest.approx(seg["value_share"])
        churn = seg["churn"]
        assert got["Share_Likely_Inactive"] == pytest.approx(churn["share_likely_inactive"])
        assert got["Value_at_Risk"] == pytest.approx(churn["value_at_risk"])
    assert len(book.sheetnames) == 2 + len(trained.artifact.manifest["segments"])


def test_one_segment_and_the_segments_shown(request_ctx, trained: TrainResult) -> None:
    segs = trained.artifact.manifest["segments"]
    one = exports.download_data(None, "segment", "csv", {"segment": [segs[1]["key"]]})
    assert one["filename"] == f"segment-assignments-{segs[1]['key']}.csv"
    frame = read("csv", content(one))
    assert set(frame["Segment_Key"]) == {segs[1]["key"]} and len(frame) == segs[1]["size"]
    shown = {"shown": [segs[0]["key"], segs[2]["key"]]}
    two = exports.download_data(None, "shown", "parquet", shown)
    assert two["filename"] == "segment-assignments-2-segments.parquet"
    frame = read("parquet", content(two))
    assert set(frame["Segment_Key"]) == set(shown["shown"]) and len(frame) == segs[0]["size"] + segs[2]["size"]


@pytest.mark.parametrize(
    ("rows", "fmt", "selection", "message"),
    [
        ("segment", "csv", {"segment": []}, "Choose a segment first."),
        ("shown", "csv", {"shown": []}, "Select at least one segment to show."),
        ("segment", "csv", {"segment": ["nope"]}, "This model has no segment “nope”."),
        ("segment", "csv", {"segment": "all"}, "Choose a segment first."),
        ("everyone", "csv", None, "Unknown group of customers 'everyone'."),
        ("all", "pdf", None, "Unknown export format 'pdf'; choose one of csv, xlsx, parquet."),
    ],
)
def test_refusals_say_why_and_send_nothing(request_ctx, rows, fmt, selection, message) -> None:
    with pytest.raises(DataError) as err:
        exports.download_data(None, rows, fmt, selection)
    assert str(err.value) == message
    item = ids.export_item("explorer", "members", rows, fmt)
    with triggered(item, "n_clicks"):
        out = exports.download([1], selection, None)
    assert out["data"] is no_update and out["status"] == message
    assert out["job"] is no_update and out["link_href"] is no_update


def test_a_foreign_owners_version_is_refused(dash_app) -> None:
    foreign = "alice-only-0123456789-0123456789"
    service(dash_app).store.add_version(ALICE, foreign, "alice.csv", "upload")
    with as_owner(dash_app, BOB):
        for key in FORMAT_KEYS:
            with pytest.raises(AccessDenied, match="not available to you"):
                exports.download_data(foreign, "all", key, None)
        with triggered(ids.export_item("overview", "all", "all", "xlsx"), "n_clicks"):
            out = exports.download([None, 1, None], None, foreign)
        assert out["data"] is no_update and out["status"] == NOT_AVAILABLE and out["job"] is no_update
        assert "alice" not in out["status"]


def test_no_click_sends_nothing(request_ctx) -> None:
    with triggered(ids.export_item("overview", "all", "all", "csv"), "n_clicks", None):
        out = exports.download([None, None, None], None, None)
    assert set(out) == set(exports.OUTPUTS) and all(value is no_update for value in out.values())


def test_every_page_offers_every_format(request_ctx, trained: TrainResult) -> None:
    def items(tree) -> set[tuple[str, str, str, str]]:
        found = component_ids(tree)
        return {
            (i["page"], i["menu"], i["rows"], i["format"])
            for i in found
            if isinstance(i, dict) and i.get("type") == "export-item"
        }

    overview = items(page_module("overview").layout())
    assert overview == {("overview", "all", "all", f) for f in FORMAT_KEYS}
    cards, _style = page_module("segments").render_cards(True, None)  # built once their row is in view
    keys = [s["key"] for s in trained.artifact.manifest["segments"]]
    expected = {("segment-card", k, "segment", f) for k in keys for f in FORMAT_KEYS}
    assert items(page_module("segments").layout()) | items(cards) == expected | {
        ("segments", "all", "all", f) for f in FORMAT_KEYS
    }
    explorer = items(page_module("explorer").layout())
    assert explorer == {("explorer", "members", "segment", f) for f in FORMAT_KEYS} | {
        ("explorer", "customers", g, f) for g in ("all", "shown") for f in FORMAT_KEYS
    }
    assert "Segments shown" in text_of(page_module("explorer").layout())


def test_app_refuses_excel_beyond_its_row_limit(request_ctx, trained: TrainResult, monkeypatch) -> None:
    monkeypatch.setattr(exports, "APP_XLSX_MAX_ROWS", 100)
    n = len(trained.artifact.customers)
    with pytest.raises(DataError) as err:
        exports.download_data(None, "all", "xlsx", None)
    assert str(err.value) == (
        f"{n:,} customers are too many for an Excel download here (at most 100): download CSV or Parquet, "
        "or write Excel with python -m pipeline score --out FILE.xlsx."
    )
    assert exports.download_data(None, "all", "parquet", None)["filename"].endswith(".parquet")
