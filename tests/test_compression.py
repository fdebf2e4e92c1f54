"""Compressed responses: right body for every request, immutable files compressed once."""

from __future__ import annotations

import gzip

import brotli
import flask
import flask_compress.flask_compress as flask_compress_module
import pytest

from dashboard import compression
from dashboard.compression import BoundedBytesCache, cache_key


def make_server() -> tuple[flask.Flask, list[str]]:
    server = flask.Flask(__name__)
    calls: list[str] = []

    @server.post("/_dash-update-component")
    def update() -> flask.Response:
        body = flask.request.get_json()
        calls.append("update")
        return flask.jsonify({"echo": body["who"], "pad": "x" * 2000})

    @server.get("/_dash-component-suites/lib.v1m1.js")
    def suite() -> flask.Response:
        calls.append("suite")
        return flask.Response("var a = 1;" * 500, mimetype="application/javascript")

    compression.install(server)
    return server, calls


def decoded(response: flask.Response) -> bytes:
    data = response.get_data()
    enc = response.headers.get("Content-Encoding")
    return {"gzip": gzip.decompress, "br": brotli.decompress, None: lambda b: b}[enc](data)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_two_callbacks_never_get_each_others_body(encoding: str) -> None:
    server, _ = make_server()
    client = server.test_client()
    headers = {"Accept-Encoding": encoding}
    a = client.post("/_dash-update-component", json={"who": "alice"}, headers=headers)
    b = client.post("/_dash-update-component", json={"who": "bob"}, headers=headers)
    assert a.headers["Content-Encoding"] == b.headers["Content-Encoding"] == encoding
    assert b'"echo":"alice"' in decoded(a)
    assert b'"echo":"bob"' in decoded(b)


def test_immutable_file_is_compressed_once_per_algorithm_and_right() -> None:
    server, _ = make_server()
    client = server.test_client()
    first = client.get("/_dash-component-suites/lib.v1m1.js", headers={"Accept-Encoding": "gzip"})
    cache = server.config["COMPRESS_CACHE_BACKEND"]()
    assert len(cache) == 1
    second = client.get("/_dash-component-suites/lib.v1m1.js", headers={"Accept-Encoding": "gzip"})
    assert decoded(first) == decoded(second) == b"var a = 1;" * 500
    br = client.get("/_dash-component-suites/lib.v1m1.js", headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br" and decoded(br) == b"var a = 1;" * 500
    assert len(cache) == 2
    plain = client.get("/_dash-component-suites/lib.v1m1.js")
    assert "Content-Encoding" not in plain.headers and plain.get_data() == b"var a = 1;" * 500


def test_a_streamed_asset_is_compressed_once_and_served_whole(tmp_path, monkeypatch) -> None:
    """Flask streams ``/assets/`` files (send_file); flask-compress would compress a stream on every request."""
    body = b"var plotly = 1;" * 4000
    (tmp_path / "bundle.js").write_bytes(body)
    server = flask.Flask(__name__, static_folder=str(tmp_path), static_url_path="/assets")
    compression.install(server)
    client = server.test_client()
    compressions = []
    real = flask_compress_module
    monkeypatch.setattr(real, "_compress_chunks", lambda *a: compressions.append("stream") or iter([b""]))
    original = real._compress_data
    monkeypatch.setattr(real, "_compress_data", lambda *a: compressions.append("whole") or original(*a))
    responses = [client.get("/assets/bundle.js?m=17.5", headers={"Accept-Encoding": "br"}) for _ in range(3)]
    assert compressions == ["whole"]
    for r in responses:
        assert r.headers["Content-Encoding"] == "br" and r.headers["Cache-Control"] == compression.IMMUTABLE_CACHE
        assert brotli.decompress(r.get_data()) == body
        assert int(r.headers["Content-Length"]) == len(r.get_data())
    plain = client.get("/assets/bundle.js?m=17.5")
    assert "Content-Encoding" not in plain.headers and plain.get_data() == body
    # An unstamped file is neither immutable nor read whole: flask-compress streams it as before.
    client.get("/assets/bundle.js", headers={"Accept-Encoding": "br"})
    assert compressions == ["whole", "stream"]


def test_cache_keys_only_for_get_of_immutable_paths() -> None:
    server = flask.Flask(__name__)
    with server.test_request_context("/_dash-component-suites/x.v1.js?m=2"):
        assert cache_key(flask.request) == "immutable:/_dash-component-suites/x.v1.js?m=2"
    with server.test_request_context("/assets/app.css?m=5"):
        assert cache_key(flask.request) == "immutable:/assets/app.css?m=5"
    with server.test_request_context("/_dash-update-component", method="POST"):
        assert cache_key(flask.request) == ""
    with server.test_request_context("/_dash-layout"):
        assert cache_key(flask.request) == ""


def test_cache_refuses_unmarked_keys_and_stays_within_its_size() -> None:
    cache = BoundedBytesCache(max_bytes=10)
    cache.set("gzip;", b"abc")
    cache.set("br;None", b"abc")
    assert cache.get("gzip;") is None and len(cache) == 0
    cache.set("gzip;immutable:/a", b"12345")
    cache.set("gzip;immutable:/b", b"67890")
    assert cache.get("gzip;immutable:/a") == b"12345"  # now most recently used
    cache.set("gzip;immutable:/c", b"xyz")  # 13 bytes > 10: the least recently used (/b) goes
    assert cache.get("gzip;immutable:/b") is None
    assert cache.get("gzip;immutable:/a") == b"12345" and cache.get("gzip;immutable:/c") == b"xyz"
    cache.set("gzip;immutable:/big", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get("gzip;immutable:/big") is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m1700000000.js", compression.IMMUTABLE_CACHE),
        ("/assets/vendor/plotly-2d.min.js?m=1700000000.5", compression.IMMUTABLE_CACHE),
        ("/_dash-component-suites/dash_ag_grid/async-community.js", None),
        ("/assets/fonts/bootstrap-icons.woff2", None),
        ("/_dash-layout", None),
    ],
)
def test_only_fingerprinted_or_stamped_files_are_immutable(path: str, expected: str | None) -> None:
    server = flask.Flask(__name__)
    with server.test_request_context(path):
        assert compression.cache_control(flask.request) == expected
    with server.test_request_context(path, method="POST"):
        assert compression.cache_control(flask.request) is None


def test_fingerprinted_suite_is_served_immutable_and_a_callback_is_not() -> None:
    server, _ = make_server()
    client = server.test_client()
    suite = client.get("/_dash-component-suites/lib.v1m1.js")
    assert suite.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    update = client.post("/_dash-update-component", json={"who": "alice"})
    assert "immutable" not in update.headers.get("Cache-Control", "")
