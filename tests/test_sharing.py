"""Owners on one server (issue 8, finding 1, 7 and 8): nobody reaches another owner's data.

Alice uploads and trains a file with a unique name.  Bob (another browser,
or a cookie-less HTTP client replaying Alice's upload key, artifact id and
delete payload) is refused by every callback with the one "not available"
message, and Alice's data are unchanged afterwards.  The callbacks are called
as plain functions inside a Flask request context whose signed session holds
the owner; the replay goes through ``/_dash-update-component``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from dash import MATCH, no_update

from dashboard import exports, ids, jobs, uploads
from dashboard.identity import SESSION_OWNER, IdentityConfig, current_owner, display_owner, install, load_users
from pipeline.config import Settings
from pipeline.errors import AccessDenied, DataError
from pipeline.store.registry import NOT_AVAILABLE, ONLY_OWNER, UPLOAD_NOT_AVAILABLE
from pipeline.synthetic.inputs import transactions_bytes
from tests.test_data_page import component_ids, data_url, page_module, text_of, triggered

ALICE = "anon-" + "a1" * 16
BOB = "anon-" + "b0" * 16


@contextlib.contextmanager
def as_owner(dash_app: Any, owner: str) -> Iterator[None]:
    """A request whose signed session belongs to ``owner`` (anonymous mode)."""
    with dash_app.server.test_request_context("/"):
        flask.session[SESSION_OWNER] = owner
        assert current_owner() == owner
        yield


def service(dash_app: Any):
    return dash_app.server.extensions["segmentation_service"]


def rows(dash_app: Any, owner: str) -> list[tuple]:
    """The owner's registry rows (to assert that a refusal changed nothing)."""
    conn = service(dash_app).store._conn()
    ups = [tuple(r) for r in conn.execute("SELECT * FROM uploads WHERE owner = ? ORDER BY key", (owner,))]
    vs = [tuple(r) for r in conn.execute("SELECT * FROM versions WHERE owner = ? ORDER BY artifact_id", (owner,))]
    return ups + vs


@pytest.fixture(scope="module")
def alice(dash_app: Any, settings: Settings) -> dict[str, Any]:
    """Alice's upload (a file with a unique name) and the version she trained from it."""
    name = f"alice-secret-{uuid.uuid4().hex[:8]}.csv"
    raw = transactions_bytes(3_000, seed=77)
    data = page_module("data")
    with as_owner(dash_app, ALICE):
        key, status, *_ = data.receive_upload(
            {"name": name, "size": len(raw), "ok": True, "at": 1}, data_url(raw), None
        )
        assert "accepted" in text_of(status)
        result = jobs.train_job(None, {"upload": key}, settings=settings)
        service(dash_app).store.add_version(ALICE, result.artifact_id, result.name, "upload")
        first_row = uploads.upload_table(key, settings).iloc[0].astype(str).tolist()
    return {"name": name, "key": key, "aid": result.artifact_id, "raw": raw, "cell": first_row[0]}


# ---------------------------------------------------------------- uploads


def test_bob_cannot_read_alices_upload_through_any_callback(dash_app, settings, alice) -> None:
    data = page_module("data")
    before = rows(dash_app, ALICE)
    with as_owner(dash_app, BOB):
        preview = text_of(data.show_preview(alice["key"]))
        assert UPLOAD_NOT_AVAILABLE in preview and alice["name"] not in preview and alice["cell"] not in preview
        with triggered(ids.DATA_UPLOAD_KEY, "data", alice["key"]):
            kind, _opts, detection, form, *_ = data.build_form(alice["key"], None, None, None, None)
        assert kind is None and UPLOAD_NOT_AVAILABLE in text_of(detection) and alice["name"] not in text_of(form)
        report, disabled, *_ = data.check_mapping(["transactions"], [ids.data_map_field("kind")], alice["key"])
        assert disabled is True and UPLOAD_NOT_AVAILABLE in text_of(report)
        # A refused upload does not name the file Alice still has loaded.
        _, status, *_ = data.receive_upload(
            {"name": "x.csv", "size": 0, "ok": True, "at": 1}, data_url(b""), alice["key"]
        )
        assert alice["name"] not in text_of(status) and "still loaded" not in text_of(status)
        download = data.save_mapping(1, {"key": alice["key"], "mapping": {"kind": "transactions"}}, alice["key"])
        assert alice["name"].removesuffix(".csv") not in download["filename"]
        for read in (uploads.upload_info, uploads.upload_table, uploads.upload_detection):
            with pytest.raises(AccessDenied, match="not available to you"):
                read(alice["key"], settings)
        with pytest.raises(AccessDenied):
            jobs.train_job(None, {"upload": alice["key"]}, settings=settings)
    assert rows(dash_app, ALICE) == before
    with as_owner(dash_app, ALICE):  # intact for Alice
        assert alice["name"] in text_of(data.show_preview(alice["key"]))


def test_identical_uploads_are_stored_once_per_owner(dash_app, settings) -> None:
    raw = transactions_bytes(1_500, seed=91)
    folder = settings.data_dir / "uploads"
    with as_owner(dash_app, ALICE):
        first = uploads.store_upload(data_url(raw), "orders.csv", settings)
        files = set(folder.iterdir())
        for i in range(5):
            again = uploads.store_upload(data_url(raw), f"orders ({i}).csv", settings)
            assert again.key == first.key
        assert set(folder.iterdir()) == files
    with as_owner(dash_app, BOB):  # another owner gets a copy of their own (never Alice's key)
        assert uploads.store_upload(data_url(raw), "orders.csv", settings).key != first.key


def test_over_limit_message_shows_no_server_path(settings) -> None:
    message = uploads.too_big_message("big.csv", 80 * 1024 * 1024, settings)
    assert str(settings.models_dir) not in message and str(settings.data_dir) not in message
    assert "--models-dir" not in message and "80.0 MB" in message


def test_a_job_without_an_owner_is_refused(settings, alice) -> None:
    with pytest.raises(AccessDenied, match="owner"):
        uploads.upload_info(alice["key"], settings)


# ---------------------------------------------------------------- versions


def test_bob_cannot_see_switch_share_delete_or_download_alices_version(dash_app, settings, alice) -> None:
    data, app = page_module("data"), __import__("dashboard.app").app
    aid = alice["aid"]
    svc = service(dash_app)
    before = rows(dash_app, ALICE)
    with as_owner(dash_app, BOB):
        table = data.show_versions(None, 0)
        assert alice["name"] not in text_of(table)
        assert all(aid not in json.dumps(i) for i in component_ids(table))
        for action in ("switch", "delete", "share", "unshare"):
            active, _tick, message = data.apply_version_action(action, aid, None, 0)
            assert active is no_update and NOT_AVAILABLE in text_of(message), action
        segment = svc.view(None).segments[0]["key"]
        item = ids.export_item("explorer", "members", "segment", "csv")
        with triggered(item, "n_clicks"):
            out = exports.download([1, None, None], {"segment": [segment]}, aid)
        assert out["data"] is no_update and NOT_AVAILABLE in out["status"] and out["job"] is no_update
        with pytest.raises(AccessDenied):
            exports.download_data(aid, "all", "xlsx", None)
        v = svc.view(aid)
        assert v.id == svc.default_id and "not available to you" in v.notice
        name, version = app.show_active_dataset(aid)
        assert alice["name"] not in name and version.startswith("⚠")
        with pytest.raises(AccessDenied):
            jobs.dataset_from_artifact(aid, settings)
    assert rows(dash_app, ALICE) == before
    assert (settings.models_dir / aid / "manifest.json").is_file()
    with as_owner(dash_app, ALICE):  # intact and usable for Alice
        assert alice["name"] in text_of(data.show_versions(aid, 0))
        assert data.apply_version_action("switch", aid, None, 0)[0] == aid
        seg = svc.view(aid).segments[0]["key"]
        csv = base64.b64decode(exports.download_data(aid, "segment", "csv", {"segment": [seg]})["content"])
        assert csv.count(b"\n") > 1 and aid.encode() in csv
        assert svc.view(aid).notice is None and svc.view(aid).id == aid


def test_sharing_is_read_only_and_can_be_undone(dash_app, settings, alice) -> None:
    data = page_module("data")
    aid = alice["aid"]
    with as_owner(dash_app, ALICE):
        _, _, message = data.apply_version_action("share", aid, None, 0)
        assert "shared read-only" in text_of(message)
        assert ids.data_version_action("unshare", aid) in component_ids(data.show_versions(None, 0))
    try:
        with as_owner(dash_app, BOB):
            table = data.show_versions(None, 0)
            assert alice["name"] in text_of(table) and "shared by another visitor" in text_of(table)
            found = component_ids(table)
            assert ids.data_version_action("switch", aid) in found
            assert ids.data_version_action("delete", aid) not in found
            assert data.apply_version_action("switch", aid, None, 0)[0] == aid
            for action in ("delete", "unshare"):
                _, _, message = data.apply_version_action(action, aid, None, 0)
                assert ONLY_OWNER in text_of(message)
            assert service(dash_app).view(aid).id == aid
    finally:
        with as_owner(dash_app, ALICE):
            _, _, message = data.apply_version_action("unshare", aid, None, 0)
            assert "no longer shared" in text_of(message)
    with as_owner(dash_app, BOB):
        assert alice["name"] not in text_of(data.show_versions(None, 0))
        assert service(dash_app).view(aid).id != aid


def test_user_names_are_shown_to_others_but_anonymous_ids_are_not() -> None:
    assert display_owner("user:alice") == "alice"
    assert display_owner(ALICE) == "another visitor" and display_owner("system") == "the server"


def test_versions_trained_outside_the_app_are_not_listed_to_browsers(dash_app, settings, tmp_path) -> None:
    from pipeline.segmentation.training import load_dataset, train

    s = settings.replace(k=3, random_state=31)
    cli = train(load_dataset(None, s), s).artifact.artifact_id
    svc = service(dash_app)
    assert not svc.store.known(cli)
    with as_owner(dash_app, BOB):
        assert cli not in {e.artifact_id for e in svc.versions()}
        assert svc.view(cli).id == svc.default_id
    svc.share_cli_models = True
    try:
        with as_owner(dash_app, BOB):
            entry = {e.artifact_id: e for e in svc.versions()}[cli]
            assert entry.record.system and not entry.record.mine
            with pytest.raises(AccessDenied):
                svc.delete(cli)
    finally:
        svc.share_cli_models = False


def test_deleting_a_version_two_owners_trained_keeps_it_for_the_other(dash_app, settings, alice) -> None:
    svc = service(dash_app)
    with as_owner(dash_app, ALICE):
        info = uploads.store_upload(data_url(transactions_bytes(2_000, seed=5150)), "both.csv", settings)
        aid = jobs.train_job(None, {"upload": info.key}, settings=settings).artifact_id
        svc.store.add_version(ALICE, aid, "both.csv", "upload")
    svc.store.add_version(BOB, aid, "both.csv", "upload")  # Bob uploaded and trained the same file
    with as_owner(dash_app, ALICE):
        assert svc.delete(aid) == "both.csv"
    assert (settings.models_dir / aid).is_dir()
    with as_owner(dash_app, BOB):
        assert svc.view(aid).id == aid
        svc.delete(aid)
    assert not (settings.models_dir / aid).exists()


# ---------------------------------------------------------------- damaged versions (finding 7)


def test_damaged_version_is_listed_as_such_and_never_swapped_silently(dash_app, settings) -> None:
    from pipeline.segmentation.training import load_dataset, train

    data, app = page_module("data"), __import__("dashboard.app").app
    s = settings.replace(k=3, random_state=4242)
    aid = train(load_dataset(None, s), s).artifact.artifact_id
    svc = service(dash_app)
    svc.store.add_version(ALICE, aid, "Damaged copy", "test")
    bundle = next((settings.models_dir / aid).glob("bundle-*.joblib"))
    with bundle.open("ab") as fh:
        fh.write(b"tampered")
    svc.forget(aid)
    with as_owner(dash_app, ALICE):
        table = text_of(data.show_versions(None, 0))
        assert "damaged, not loaded: its bundle file does not match its manifest hash" in table
        assert str(settings.models_dir) not in table
        active, _, message = data.apply_version_action("switch", aid, None, 0)
        assert active is no_update and "damaged, not loaded" in text_of(message)
        v = svc.view(aid)
        assert v.id == svc.default_id and "damaged, not loaded" in v.notice
        assert str(settings.models_dir) not in v.notice
        shown = text_of(data.show_versions(aid, 0))  # the session still points at it: the page says so
        assert "damaged, not loaded" in shown and "Showing the default data set instead" in shown
        assert app.show_active_dataset(aid)[1].startswith("⚠")
    shutil.rmtree(settings.models_dir / aid)


# ---------------------------------------------------------------- identity modes


def login_app(tmp_path: Path, **config: Any) -> flask.Flask:
    server = flask.Flask("t")
    server.secret_key = b"k" * 32
    install(server, IdentityConfig(**config))
    server.add_url_rule("/who", "who", lambda: current_owner())
    return server


def test_login_mode_checks_werkzeug_password_hashes(tmp_path: Path) -> None:
    from werkzeug.security import generate_password_hash

    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": {"alice": generate_password_hash("s3cret")}}))
    client = login_app(tmp_path, users=load_users(path)).test_client()
    assert client.get("/who").status_code == 401
    assert "Basic" in client.get("/who").headers["WWW-Authenticate"]
    assert client.get("/who", auth=("alice", "wrong")).status_code == 401
    assert client.get("/who", auth=("mallory", "s3cret")).status_code == 401
    assert client.get("/who", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert client.get("/who", headers={"Authorization": "Bearer x"}).status_code == 401
    ok = client.get("/who", auth=("alice", "s3cret"))
    assert ok.status_code == 200 and ok.text == "user:alice"
    # The signed session remembers the sign-in (the slow hash is checked once per session) ...
    assert client.get("/who").text == "user:alice"
    copy = login_app(tmp_path, users=load_users(path)).test_client()  # the same cookie on a restarted server
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/who").text == "user:alice"
    # ... until the user's password hash changes on the server.
    path.write_text(json.dumps({"users": {"alice": generate_password_hash("new")}}))
    again = login_app(tmp_path, users=load_users(path)).test_client()
    again.set_cookie("session", client.get_cookie("session").value)
    assert again.get("/who").status_code == 401
    assert again.get("/who", auth=("alice", "new")).text == "user:alice"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "is not JSON"),
        ('{"users": {}}', "at least one user"),
        ('{"users": {"alice": "plain-password"}}', "not a werkzeug password hash"),
        ('{"users": {"a b": "scrypt:x"}}', "may only hold"),
    ],
)
def test_bad_auth_files_are_refused(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(DataError, match=expected):
        load_users(path)


def test_trusted_header_mode(tmp_path: Path) -> None:
    client = login_app(tmp_path, trusted_header="X-Forwarded-User").test_client()
    assert client.get("/who").status_code == 401
    assert client.get("/who", headers={"X-Forwarded-User": "bob@corp"}).text == "user:bob@corp"
    assert client.get("/who", headers={"X-Forwarded-User": "the system"}).status_code == 401


def test_anonymous_browsers_get_their_own_stable_owner(tmp_path: Path) -> None:
    server = login_app(tmp_path)
    one, two = server.test_client(), server.test_client()
    a1, a2, b = one.get("/who").text, one.get("/who").text, two.get("/who").text
    assert a1 == a2 and a1 != b and a1.startswith("anon-") and b.startswith("anon-")
    # A forged cookie (not signed with the server's key) is ignored: a new owner is given.
    forged = server.test_client()
    forged.set_cookie("session", "eyJvd25lciI6ImFub24tYWFhYSJ9.forged.sig")
    assert forged.get("/who").text not in (a1, b)


def test_session_cookie_is_httponly_lax_and_secure_over_https(dash_app) -> None:
    client = dash_app.server.test_client()
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = dash_app.server.test_client().get("/", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in secure
    proxied = dash_app.server.test_client().get("/", headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]
    assert "Secure" in proxied


# ---------------------------------------------------------------- cookie-less HTTP replay


def callback_spec(client: Any, output_part: str) -> dict[str, Any]:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if output_part in d["output"])


def post(client: Any, spec: dict[str, Any], inputs: list[Any], state: list[Any], changed: list[str]) -> Any:
    """A ``/_dash-update-component`` request as the Dash renderer sends it."""
    outputs = []
    for part in spec["output"].strip(".").split("..."):
        cid, _, prop = part.rpartition(".")
        outputs.append({"id": cid, "property": prop})
    body = {
        "output": spec["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": changed,
    }
    return client.post("/_dash-update-component", json=body)


def export_download_body(spec: dict[str, Any], artifact_id: str) -> dict[str, Any]:
    """The renderer's request for the explorer's "this segment as CSV" download (a pattern-matching callback)."""
    menu = {"page": "explorer", "menu": "members"}
    items = [
        {"id": ids.export_item("explorer", "members", "segment", f), "property": "n_clicks", "value": v}
        for f, v in (("csv", 1), ("xlsx", None), ("parquet", None))
    ]
    return {
        "output": spec["output"],
        "outputs": [
            {
                "id": {k: (menu[k] if isinstance(v, type(MATCH)) else v) for k, v in out.component_id.items()},
                "property": out.component_property,
            }
            for out in exports.OUTPUTS.values()
        ],
        "inputs": [items],
        "state": [
            {"id": ids.export_selection(**menu), "property": "data", "value": {"segment": ["any"]}},
            {"id": ids.ACTIVE_ARTIFACT, "property": "data", "value": artifact_id},
        ],
        "changedPropIds": [json.dumps(items[0]["id"], sort_keys=True, separators=(",", ":")) + ".n_clicks"],
    }


def post_export_download(client: Any, artifact_id: str) -> Any:
    """Replay a download of ``artifact_id``'s assignments through ``/_dash-update-component``."""
    deps = client.get("/_dash-dependencies").get_json()
    spec = next(d for d in deps if "export-download" in d["output"] and "export-item" in json.dumps(d["inputs"]))
    return client.post("/_dash-update-component", json=export_download_body(spec, artifact_id))


def test_cookieless_replay_of_upload_key_artifact_id_and_delete_is_refused(dash_app, settings, alice) -> None:
    before = rows(dash_app, ALICE)
    mallory = dash_app.server.test_client(use_cookies=False)

    spec = callback_spec(mallory, f"{ids.DATA_PREVIEW}.children")
    r = post(
        mallory,
        spec,
        [{"id": ids.DATA_UPLOAD_KEY, "property": "data", "value": alice["key"]}],
        [],
        [f"{ids.DATA_UPLOAD_KEY}.data"],
    )
    assert r.status_code == 200
    assert UPLOAD_NOT_AVAILABLE in r.text and alice["name"] not in r.text and alice["cell"] not in r.text

    r = post_export_download(mallory, alice["aid"])
    assert r.status_code == 200 and "content" not in r.text and NOT_AVAILABLE in r.text  # nothing exported

    spec = callback_spec(mallory, f"{ids.DATA_VERSIONS_TICK}.data")
    button = ids.data_version_action("delete", alice["aid"])
    r = post(
        mallory,
        spec,
        [[], [{"id": button, "property": "submit_n_clicks", "value": 1}], [], []],
        [
            {"id": ids.ACTIVE_ARTIFACT, "property": "data", "value": None},
            {"id": ids.DATA_VERSIONS_TICK, "property": "data", "value": 0},
        ],
        [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".submit_n_clicks"],
    )
    assert r.status_code == 200 and NOT_AVAILABLE in r.text and "Deleted" not in r.text

    # Alice's upload, version and registry rows are unchanged.
    assert rows(dash_app, ALICE) == before
    assert (settings.models_dir / alice["aid"] / "manifest.json").is_file()
    assert (settings.data_dir / "uploads" / f"{alice['key']}.upload").read_bytes() == alice["raw"]


# ---------------------------------------------------------------- presentation share link


def test_presentation_link_opens_only_what_the_viewer_may_read(dash_app, alice) -> None:
    present = page_module("present")
    store = service(dash_app).store
    with as_owner(dash_app, ALICE):  # not shared yet: Alice sees her deck and is told how to share it
        deck, share = present.render(alice["aid"], None, "light")
        assert "/present?version=" not in text_of(share) and "Share this version on Your data" in text_of(share)
        name = store.version(ALICE, alice["aid"]).dataset_name
        assert name in text_of(deck[0])
    with as_owner(dash_app, BOB):  # Bob's copy of the link shows nothing of it, and no other data set
        deck, share = present.render(alice["aid"], None, "light")
        assert len(deck) == 1 and "not available to you" in text_of(deck) and name not in text_of(deck)
        assert share == []
    store.share(ALICE, alice["aid"], shared=True)
    try:
        with as_owner(dash_app, ALICE):
            _, share = present.render(alice["aid"], None, "light")
            assert f"/present?version={alice['aid']}" in text_of(share)
        with as_owner(dash_app, BOB):  # shared: read-only for everyone on the server
            deck, _ = present.render(alice["aid"], None, "light")
            assert name in text_of(deck[0]) and len(deck) > 4
    finally:
        store.share(ALICE, alice["aid"], shared=False)
    with as_owner(dash_app, BOB):
        deck, _ = present.render(alice["aid"], None, "light")
        assert "not available to you" in text_of(deck)
