"""Your data (/data): upload parsing, detection, mapping save/load, the training job, versions.

Page callbacks are called as plain functions inside a request context; the
ones that read ``dash.ctx`` get a hand-made callback context
(:func:`triggered`).  The training job's body is :func:`dashboard.jobs.train_job`,
called directly with a recording reporter (the job runner and the page's
submit / poll / cancel callbacks are tested in tests/test_runner.py).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import dash
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

from dashboard import ids, jobs, uploads
from dashboard.identity import current_owner
from pipeline.config import Settings
from pipeline.data.mapping import Mapping
from pipeline.errors import AccessDenied, DataError
from pipeline.segmentation.training import SAMPLE_NAME, TrainResult
from pipeline.store.registry import NOT_AVAILABLE
from pipeline.synthetic.inputs import customer_table_bytes, transactions_bytes

TENURE = "Customer_For_Years"


def page_module(name: str) -> ModuleType:
    """The page module exactly as Dash imported it (see tests/test_pages_eda_segments_explorer.py)."""
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(f"page {name!r} is not registered")


@pytest.fixture
def data(request_ctx) -> ModuleType:
    """The data page module (inside a request context)."""
    return page_module("data")


@contextlib.contextmanager
def triggered(component_id: str | dict[str, str], prop: str, value: Any = 1) -> Iterator[None]:
    """Run a callback as if ``component_id.prop`` had just changed to ``value``."""
    cid = (
        json.dumps(component_id, sort_keys=True, separators=(",", ":"))
        if isinstance(component_id, dict)
        else component_id
    )
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{cid}.{prop}", "value": value}]))
    try:
        yield
    finally:
        context_value.reset(token)


def data_url(raw: bytes, mime: str = "text/csv") -> str:
    """What ``dcc.Upload`` puts in ``contents``."""
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def text_of(component: Any) -> str:
    """All text inside a Dash component tree (as the browser would run it together)."""
    if component is None or component is no_update:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(text_of(c) for c in component)
    children = getattr(component, "children", None)
    return text_of(children)


def upload(data: ModuleType, raw: bytes, name: str, current: str | None = None) -> tuple[Any, ...]:
    """Run the upload callback as the browser does after the size check passed."""
    check = {"name": name, "size": len(raw), "ok": True, "at": 1}
    return data.receive_upload(check, data_url(raw), current)


class Recorder:
    """A progress reporter (like the runner's ``JobContext``) that records what it is given."""

    def __init__(self) -> None:
        self.values: list[tuple[int, str]] = []

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        self.values.append((max([int(percent), *self.percents]), message))

    @property
    def percents(self) -> list[int]:
        return [v[0] for v in self.values]


def merged_header_xlsx() -> bytes:
    """A workbook with a merged title row above the real header."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Customer report, Q3", None, None, None])
    ws.merge_cells("A1:D1")
    ws.append(["Client", "Spend", "Orders", "Since"])
    for i in range(5):
        ws.append([f"C{i}", 100 + i, i + 1, "2020-01-01"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- refused uploads


@pytest.mark.parametrize(
    ("raw", "name", "expected"),
    [
        (b"", "empty.csv", "empty.csv is empty"),
        (b"just one line of words\nand another\n", "notes.txt", "does not look like a table"),
        (b"CustomerID,Amount\n17850,12.5\n", "one_row.csv", "has only one data row"),
        (bytes(range(256)) * 40, "junk.csv", "not a text table (it contains binary data)"),
        (None, "report.xlsx", "most columns have no header"),
    ],
    ids=["empty", "not-a-table", "one-row", "binary-junk", "merged-header-rows"],
)
def test_refused_uploads_say_why_and_keep_nothing(data, settings: Settings, raw, name, expected) -> None:
    raw = merged_header_xlsx() if raw is None else raw
    before = set((settings.data_dir / "uploads").glob("*")) if (settings.data_dir / "uploads").exists() else set()
    key, status, contents, validation, disabled, train_status = upload(data, raw, name)
    assert key is no_update
    assert contents is None  # the browser copy is freed
    assert (validation, disabled, train_status) == (no_update, no_update, no_update)
    message = text_of(status)
    assert f"{name} was not accepted" in message
    assert expected in message
    after = set((settings.data_dir / "uploads").glob("*")) if (settings.data_dir / "uploads").exists() else set()
    assert after == before


def test_too_big_upload_is_refused_with_the_cli_hint(data, request_ctx, monkeypatch) -> None:
    svc = request_ctx.server.extensions["segmentation_service"]
    monkeypatch.setattr(svc, "settings", svc.settings.replace(max_upload_mb=1))
    raw = b"CustomerID,Amount\n" + b"17850,12.5\n" * 120_000  # 1.3 MB
    key, status, *_ = upload(data, raw, "big.csv")
    message = text_of(status)
    assert key is no_update
    assert "big.csv is 1.3 MB; files up to 1 MB can be uploaded in the browser" in message
    assert "--data" in message and "--max-upload-mb" in message
    assert str(svc.settings.models_dir) not in message and "models" not in message  # no server paths (finding 8)


def test_too_big_flag_from_the_browser_is_refused_without_the_contents(data) -> None:
    check = {"name": "huge.csv", "size": 80 * 1024 * 1024, "ok": False, "at": 1}
    key, status, *_ = data.receive_upload(check, None, None)
    assert key is no_update
    assert "huge.csv is 80.0 MB; files up to 50 MB" in text_of(status)


def test_refusal_keeps_the_previous_upload(data) -> None:
    key, *_ = upload(data, transactions_bytes(2_000, seed=1), "orders.csv")
    again, status, *_ = upload(data, b"", "empty.csv", current=key)
    assert again is no_update
    assert "orders.csv is still loaded" in text_of(status)


def test_upload_is_stored_under_a_generated_name(data, settings: Settings) -> None:
    raw = transactions_bytes(2_000, seed=1)
    key, status, _contents, validation, disabled, _ = upload(data, raw, "../../etc/orders.csv")
    assert isinstance(key, str) and len(key) == 32
    assert "orders.csv accepted: 2,000 rows × 8 columns" in text_of(status)
    assert disabled is True and "Checking orders.csv" in text_of(validation)
    stored = settings.data_dir / "uploads" / f"{key}.upload"
    assert stored.read_bytes() == raw
    assert uploads.upload_info(key, settings).name == "orders.csv"
    assert not (settings.data_dir.parent / "etc").exists()
    with pytest.raises(AccessDenied, match="not available to you"):
        uploads.upload_info("../../models", settings)


# ---------------------------------------------------------------- detection, form, validation


def component_ids(component: Any) -> list[Any]:
    """Every ``id`` in a Dash component tree."""
    if isinstance(component, list | tuple):
        return [i for c in component for i in component_ids(c)]
    found = [component.id] if getattr(component, "id", None) is not None else []
    children = getattr(component, "children", None)
    return found + (component_ids(children) if children is not None else [])


def form_values(form: Any) -> dict[str, Any]:
    """``{field index: value}`` of a mapping form (walks the component tree)."""
    out: dict[str, Any] = {}

    def walk(c: Any) -> None:
        if c is None or isinstance(c, str | int | float):
            return
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
            return
        cid = getattr(c, "id", None)
        if isinstance(cid, dict) and cid.get("type") == "data-map-field":
            out[cid["index"]] = getattr(c, "value", None)
        walk(getattr(c, "children", None))

    walk(form)
    return out


def check(data: ModuleType, key: str, values: dict[str, Any]) -> tuple[Any, ...]:
    field_ids = [ids.data_map_field(k) for k in values]
    return data.check_mapping(list(values.values()), field_ids, key)


def test_transaction_log_is_detected_and_mapped(data) -> None:
    key, *_ = upload(data, transactions_bytes(3_000, seed=2), "orders.csv")
    with triggered(ids.DATA_UPLOAD_KEY, "data", key):
        kind, options, detection, form, _status, _ = data.build_form(key, None, None, None, None)
    assert kind == "transactions"
    assert not any(o["disabled"] for o in options)
    evidence = text_of(detection)
    assert "a transaction log" in evidence and "CustomerID repeats" in evidence
    values = form_values(form)
    assert values["kind"] == "transactions"
    assert values["id_column"] == "CustomerID"
    assert values["timestamp_column"] == "InvoiceDate"
    assert (values["quantity_column"], values["unit_price_column"]) == ("Quantity", "UnitPrice")
    assert values["order_column"] == "InvoiceNo"
    report, disabled, hint, stored, save_disabled = check(data, key, values)
    assert disabled is False and save_disabled is False
    assert "Ready to train orders.csv" in text_of(report)
    assert "rows read" in text_of(report)
    assert "kmeans, k = 4" in text_of(hint)
    assert stored["key"] == key and stored["mapping"]["kind"] == "transactions"


def test_renamed_customer_table_suggestion_and_a_left_out_feature(data) -> None:
    key, *_ = upload(data, customer_table_bytes(300, seed=4), "crm.csv")
    with triggered(ids.DATA_UPLOAD_KEY, "data", key):
        kind, _, detection, form, *_ = data.build_form(key, None, None, None, None)
    assert kind == "customer_table"
    assert "Client Ref identifies customers" in text_of(detection)
    values = form_values(form)
    assert values["id_column"] == "Client Ref"
    assert values["Customer_Value"] == ["Total Spend"]
    assert sorted(values["Purchase_Frequency"]) == ["Online orders", "Store orders"]
    assert values["tenure_date_column"] == "Member since"
    values["Campaign_Response"] = []  # no campaign data
    report, disabled, *_ = check(data, key, values)
    assert disabled is False
    assert "Left out: campaign response" in text_of(report)


def test_user_can_change_the_kind(data) -> None:
    key, *_ = upload(data, transactions_bytes(3_000, seed=2), "orders.csv")
    with triggered(ids.DATA_KIND, "value", "customer_table"):
        kind, _, detection, form, *_ = data.build_form(key, "customer_table", None, None, None)
    assert kind == "customer_table"
    assert "You chose to read it as a customer table" in text_of(detection)
    assert form_values(form)["kind"] == "customer_table"


def test_blocking_problems_disable_train_with_reasons(data) -> None:
    key, *_ = upload(data, customer_table_bytes(300, seed=4), "crm.csv")
    values = {"kind": "customer_table", "id_column": "Client Ref", "Customer_Value": ["Region"], "as_of": None}
    report, disabled, hint, *_ = check(data, key, values)
    assert disabled is True
    text = text_of(report)
    assert "crm.csv cannot be trained yet" in text
    assert "the column Region holds text where numbers are expected" in text  # type problem with examples
    assert "row 2:" in text
    assert "disabled" in text_of(hint)
    values = {"kind": "customer_table", "Customer_Value": ["Total Spend"], TENURE: ["Total Spend"], "as_of": None}
    report, disabled, *_ = check(data, key, {**values, "tenure_date_column": "Member since"})
    assert disabled is True and "Tenure is mapped twice" in text_of(report)


def test_no_upload_means_no_training(data) -> None:
    _report, disabled, hint, *_ = data.check_mapping([], [], None)
    assert disabled is True and hint == "Upload a file first."


# ---------------------------------------------------------------- mapping files


def test_mapping_save_and_load_round_trip(data) -> None:
    key, *_ = upload(data, customer_table_bytes(300, seed=4), "crm.csv")
    values = {
        "kind": "customer_table",
        "id_column": "Client Ref",
        "Customer_Value": ["Total Spend"],
        "Purchase_Frequency": ["Online orders", "Store orders"],
        "Campaign_Response": [],
        TENURE: [],
        "tenure_date_column": "Member since",
        "recency_column": "Days since last order",
        "as_of": "2024-06-30",
    }
    *_, stored, _ = check(data, key, values)
    download = data.save_mapping(1, stored, key)
    assert download["filename"] == "crm-mapping.json"
    saved = Mapping.from_json(download["content"])
    assert saved.feature_columns["Purchase_Frequency"] == ("Online orders", "Store orders")
    assert saved.as_of.isoformat() == "2024-06-30"

    # Start again from the suggestion, then load the saved file.
    contents = data_url(download["content"].encode(), "application/json")
    with triggered(ids.DATA_MAPPING_UPLOAD, "contents", contents):
        kind, _, _, form, status, cleared = data.build_form(key, "customer_table", contents, "crm-mapping.json", None)
    assert kind == "customer_table" and cleared is None
    assert "Loaded the mapping crm-mapping.json" in text_of(status)
    loaded = form_values(form)
    assert data.mapping_from_fields(loaded) == saved


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", "is not valid JSON"),
        (pickle.dumps({"kind": "customer_table"}), "not a text file"),
        (json.dumps({"kind": "customer_table", "evil": 1}).encode(), "unknown key(s)"),
    ],
    ids=["bad-json", "pickle", "unknown-key"],
)
def test_bad_mapping_files_are_refused(data, raw: bytes, expected: str) -> None:
    key, *_ = upload(data, customer_table_bytes(300, seed=4), "crm.csv")
    contents = data_url(raw, "application/json")
    with triggered(ids.DATA_MAPPING_UPLOAD, "contents", contents):
        kind, _, _, form, status, cleared = data.build_form(key, "customer_table", contents, "m.json", None)
    assert kind is no_update and form is no_update and cleared is None
    assert expected in text_of(status)


def test_stored_mapping_is_restored_when_the_page_is_opened_again(data) -> None:
    key, *_ = upload(data, transactions_bytes(3_000, seed=2), "orders.csv")
    mine = Mapping(
        "transactions",
        id_column="CustomerID",
        timestamp_column="InvoiceDate",
        quantity_column="Quantity",
        unit_price_column="UnitPrice",
    )
    stored = {"key": key, "mapping": mine.to_dict()}
    with triggered(ids.DATA_UPLOAD_KEY, "data", key):
        _, _, _, form, *_ = data.build_form(key, None, None, None, stored)
    assert form_values(form)["order_column"] is None  # not the suggestion's InvoiceNo


# ---------------------------------------------------------------- the training job


#: The owner the training-job tests upload and train as (a job has no request: it passes its owner).
JOB_OWNER = "anon-" + "7" * 32


def assert_progress(rec: Recorder) -> None:
    assert rec.percents == sorted(rec.percents), rec.values
    assert rec.percents[0] < 100 and rec.percents[-1] == 100
    assert all(isinstance(msg, str) and msg for _, msg in rec.values)


def test_job_trains_a_renamed_customer_table(settings: Settings) -> None:
    info = uploads.store_upload(data_url(customer_table_bytes(400, seed=6)), "crm export.csv", settings, JOB_OWNER)
    mapping = Mapping(
        "customer_table",
        id_column="Client Ref",
        feature_columns={"Customer_Value": ("Total Spend",), "Purchase_Frequency": ("Online orders", "Store orders")},
        tenure_date_column="Member since",
    )
    rec = Recorder()
    result = jobs.train_job(rec, {"upload": info.key, "mapping": mapping.to_dict()}, settings=settings, owner=JOB_OWNER)
    assert_progress(rec)
    assert (settings.models_dir / result.artifact_id / "manifest.json").is_file()
    assert result.name == "crm export.csv" and result.k == 4
    manifest = json.loads((settings.models_dir / result.artifact_id / "manifest.json").read_text())
    assert [f["name"] for f in manifest["features"]] == ["Customer_Value", "Purchase_Frequency", "Customer_For_Years"]
    assert manifest["data"]["kind"] == "customer_table"


def test_job_trains_a_transaction_log_and_retrains_it_with_other_settings(settings: Settings) -> None:
    info = uploads.store_upload(data_url(transactions_bytes(12_000, seed=8)), "orders.csv", settings, JOB_OWNER)
    rec = Recorder()
    result = jobs.train_job(rec, jobs.TrainSource.upload(info.key), settings=settings, owner=JOB_OWNER)
    assert_progress(rec)
    assert result.n_customers > 50 and not result.cached
    manifest = json.loads((settings.models_dir / result.artifact_id / "manifest.json").read_text())
    assert manifest["data"]["kind"] == "transactions"
    assert manifest["data"]["n_customers"] == result.n_customers

    # The model-comparison page's use: the same data, another k.
    rec = Recorder()
    again = jobs.train_job(
        rec, {"artifact": result.artifact_id}, {"k": 3, "scaling": "log1p"}, settings=settings, owner=JOB_OWNER
    )
    assert_progress(rec)
    assert again.artifact_id != result.artifact_id
    assert (again.k, again.scaling, again.n_customers) == (3, "log1p", result.n_customers)
    # Same data + same settings: the artifact is reused.
    assert jobs.train_job(None, {"artifact": again.artifact_id}, settings=settings, owner=JOB_OWNER).cached


def test_job_refuses_bad_sources_and_overrides(settings: Settings) -> None:
    with pytest.raises(DataError, match="upload a file first"):
        jobs.train_job(None, {"upload": "../x"}, settings=settings, owner=JOB_OWNER)
    with pytest.raises(DataError, match="Unknown training source"):
        jobs.train_job(None, {"path": "/etc/passwd"}, settings=settings, owner=JOB_OWNER)
    with pytest.raises(DataError, match="Cannot change models_dir"):
        jobs.train_job(None, {"sample": True}, {"models_dir": "/tmp"}, settings=settings, owner=JOB_OWNER)
    bad = uploads.store_upload(data_url(customer_table_bytes(300, seed=4)), "crm.csv", settings, JOB_OWNER)
    with pytest.raises(DataError, match="at least two features"):
        jobs.train_job(
            None,
            {"upload": bad.key, "mapping": {"kind": "customer_table", "id_column": "Client Ref"}},
            settings=settings,
            owner=JOB_OWNER,
        )


# ---------------------------------------------------------------- versions: switch and delete


def train_mine(settings: Settings, source: dict[str, Any], overrides: dict[str, Any] | None = None) -> str:
    """Train as the current request's owner and record the version as theirs (what the ``train`` job does)."""
    result = jobs.train_job(None, source, overrides, settings=settings)
    jobs.current_service().store.add_version(current_owner(), result.artifact_id, result.name, "test")
    return result.artifact_id


def test_versions_list_marks_the_session_and_protects_the_default(data, trained: TrainResult) -> None:
    table = data.show_versions(None, 0)
    text = text_of(table)
    assert SAMPLE_NAME in text and "in use" in text and "default" in text
    default = trained.artifact.artifact_id
    found = component_ids(table)
    assert ids.data_version_action("switch", default) in found
    assert ids.data_version_action("delete", default) not in found


def test_switching_sets_the_session_store(data, settings: Settings) -> None:
    info = uploads.store_upload(data_url(transactions_bytes(4_000, seed=5)), "switch.csv", settings)
    aid = train_mine(settings, {"upload": info.key})
    button = ids.data_version_action("switch", aid)
    with triggered(button, "n_clicks", 1):
        chosen, tick, message = data.version_action([1], [], None, 0)
    # the page's store names the version; the clientside copy (versions.activate_from) makes it the session's
    assert (chosen["id"], tick, message) == (aid, no_update, None)
    assert set(chosen) == {"id", "at"}
    # A re-render of the list (n_clicks None) does nothing.
    with triggered(button, "n_clicks", None), pytest.raises(dash.exceptions.PreventUpdate):
        data.version_action([None], [], None, 0)


def test_deleting_never_removes_the_default_or_the_sample(data, settings: Settings, trained: TrainResult) -> None:
    default = trained.artifact.artifact_id
    active, tick, message = data.apply_version_action("delete", default, None, 0)
    assert active is no_update and tick == 1
    assert "is kept" in text_of(message)
    assert (settings.models_dir / default / "manifest.json").is_file()
    other_sample = train_mine(settings, {"sample": True}, {"k": 3})
    assert other_sample != default
    data.apply_version_action("delete", other_sample, None, 0)
    assert (settings.models_dir / other_sample / "manifest.json").is_file()
    _, _, message = data.apply_version_action("delete", "../../etc", None, 0)
    assert NOT_AVAILABLE in text_of(message)  # unknown and foreign ids get the same refusal


def test_deleting_the_active_upload_falls_back_to_the_default(data, settings: Settings) -> None:
    info = uploads.store_upload(data_url(transactions_bytes(4_000, seed=11)), "gone.csv", settings)
    aid = train_mine(settings, {"upload": info.key})
    other = uploads.store_upload(data_url(transactions_bytes(4_000, seed=12)), "kept.csv", settings)
    kept = train_mine(settings, {"upload": other.key})

    active, tick, message = data.apply_version_action("delete", aid, aid, 3)
    assert active is None and tick == 4
    assert "Deleted gone.csv" in text_of(message) and "back on the default" in text_of(message)
    assert not (settings.models_dir / aid).exists()
    # Deleting one this session does not use leaves the session alone.
    active, *_ = data.apply_version_action("delete", kept, None, 0)
    assert active is no_update
    assert not Path(settings.models_dir / kept).exists()
