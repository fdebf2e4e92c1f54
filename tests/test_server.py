"""Start-up: every callback is registered before the server accepts a request (issue 8, finding 5).

Dash copies the ``@dash.callback`` registrations into the app on its first
request and marks that done before doing it, so 20 callback POSTs arriving
together just after start used to fail with ``KeyError: 'Callback function
not found for output ...'`` (2 of 20 in one process, 1-6 with two workers).
:func:`dashboard.serve.setup_now` runs that set-up in ``create_app``.

The real-server tests start ``python -m dashboard`` (one process, and
gunicorn with two workers), wait only until its port accepts a connection,
then send 20 callback POSTs at once, built from the app's own
``_dash-dependencies`` (navbar, overview, segments, EDA, models and the pages
router).
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask
import pytest

from dashboard import ids
from dashboard.screenshots import free_port
from dashboard.serve import setup_now
from pipeline.config import Settings
from pipeline.segmentation.training import TrainResult

ROOT = Path(__file__).resolve().parents[1]
CONCURRENT = 20
# Callbacks a page load fires, whose inputs are the session's artifact, the theme or the URL.
INPUT_VALUES = {
    f"{ids.ACTIVE_ARTIFACT}.data": None,
    f"{ids.THEME}.data": "light",
    "_pages_location.pathname": "/segments",
    "_pages_location.search": "",
}


def split_outputs(output: str) -> list[dict[str, str]]:
    """``"..a.children...b.figure.."`` → ``[{"id": "a", "property": "children"}, ...]`` (string ids only)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]


def callback_body(dependency: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The JSON the Dash renderer posts to ``/_dash-update-component`` for ``dependency``."""
    outputs = split_outputs(dependency["output"])

    def item(d: dict[str, str]) -> dict[str, Any]:
        return {"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}

    return {
        "output": dependency["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [item(d) for d in dependency["inputs"]],
        "state": [item(d) for d in dependency["state"]],
        "changedPropIds": [],
    }


def page_load_bodies(dependencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bodies for every server callback whose inputs and state are all in :data:`INPUT_VALUES` (no ``@`` outputs).

    The pages router reads the session's artifact and theme as state (``dashboard.first_render``).
    """
    return [
        callback_body(d, INPUT_VALUES)
        for d in dependencies
        if not d.get("clientside_function")
        and "@" not in d["output"]
        and all(f"{i['id']}.{i['property']}" in INPUT_VALUES for i in [*d["inputs"], *d["state"]])
    ]


@pytest.fixture(scope="module")
def bodies(dash_app) -> list[dict[str, Any]]:
    """Real callback bodies from the app's dependency list."""
    deps = dash_app.server.test_client().get("/_dash-dependencies").get_json()
    out = page_load_bodies(deps)
    outputs = {b["output"] for b in out}
    assert f"..{ids.NAV_DATASET}.children...{ids.NAV_VERSION}.children.." in outputs
    assert any(ids.OVERVIEW_KPIS in o for o in outputs) and any("_pages_content" in o for o in outputs)
    return out


def test_callbacks_registered_when_create_app_returns(dash_app) -> None:
    """No first-request set-up left: Dash's hooks are done and every dependency has its function."""
    assert dash_app._got_first_request == {"pages": True, "setup_server": True}
    deps = dash_app.server.test_client().get("/_dash-dependencies").get_json()
    server_side = [d["output"] for d in deps if not d.get("clientside_function")]
    assert len(server_side) > 20
    assert set(server_side) <= set(dash_app.callback_map)
    assert f"..{ids.NAV_DATASET}.children...{ids.NAV_VERSION}.children.." in dash_app.callback_map
    assert ".._pages_content.children..._pages_store.data.." in dash_app.callback_map


def _fake_app(router_name: str | None) -> SimpleNamespace:
    """Just what :func:`setup_now` touches: the set-up hook, ``use_pages`` and the Flask server's hooks."""
    calls: list[str] = []
    server = flask.Flask(__name__)
    if router_name:

        def router() -> None:
            calls.append("router")

        router.__name__ = router_name
        server.before_request(router)
    return SimpleNamespace(_setup_server=lambda: calls.append("setup"), use_pages=True, server=server, calls=calls)


def test_setup_now_runs_both_hooks_once() -> None:
    app = _fake_app("router_sync")
    setup_now(app)
    assert app.calls == ["setup", "router"]


@pytest.mark.parametrize("router_name", [None, "router_async"])
def test_setup_now_refuses_without_the_sync_router(router_name: str | None) -> None:
    """A Dash without the hook (or the async one) would leave the race in place: refused at start, loudly."""
    app = _fake_app(router_name)
    with pytest.raises(RuntimeError, match="router"):
        setup_now(app)


def test_page_load_callbacks_answer_in_process(dash_app, bodies: list[dict[str, Any]]) -> None:
    """The bodies used below are valid: each answers 200 with its outputs (or 204: nothing to update)."""
    client = dash_app.server.test_client()
    for body in bodies:
        resp = client.post("/_dash-update-component", json=body)
        assert resp.status_code in (200, 204), (body["output"], resp.get_data(as_text=True)[:300])
        assert resp.status_code == 204 or "response" in resp.get_json()


def _start(settings: Settings, extra: list[str]) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log_path = Path(settings.data_dir) / f"startup-{port}.log"
    cmd = [sys.executable, "-m", "dashboard", "--port", str(port)]
    cmd += ["--models-dir", str(settings.models_dir), "--data-dir", str(settings.data_dir), *extra]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return proc, port, log_path


def _wait_for_port(proc: subprocess.Popen, port: int, log_path: Path) -> None:
    """Return the moment the port accepts a TCP connection (no HTTP request is made)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited early:\n{log_path.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError("dashboard did not open its port within 120 s")


def _post_all_at_once(port: int, bodies: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """``CONCURRENT`` POSTs released together by a barrier; (status, output) of each."""
    barrier = threading.Barrier(CONCURRENT, timeout=60)  # a thread that fails first breaks it for the rest
    results: list[tuple[int, str]] = [(0, "")] * CONCURRENT

    def one(i: int) -> None:
        body = bodies[i % len(bodies)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        barrier.wait()
        conn.request("POST", "/_dash-update-component", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        results[i] = (resp.status, body["output"])
        conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
def test_concurrent_callbacks_right_after_start(
    settings: Settings, trained: TrainResult, bodies: list[dict[str, Any]], workers: int
) -> None:
    proc, port, log_path = _start(settings, ["--workers", str(workers)])
    try:
        _wait_for_port(proc, port, log_path)
        results = _post_all_at_once(port, bodies)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    log = log_path.read_text()
    failed = [r for r in results if r[0] not in (200, 204)]
    assert not failed, f"{len(failed)} of {CONCURRENT} failed: {failed}\n{log[-2000:]}"
    assert "Callback function not found" not in log and "Traceback" not in log, log[-2000:]
    # gunicorn's control socket (one shared ~/.gunicorn/gunicorn.ctl per machine) stays off
    assert "Control socket listening" not in log


def test_every_job_poll_is_switched_in_the_browser(dash_app) -> None:
    """Each page's poll follows its job store through a clientside callback: no round trip on a page visit."""
    from dashboard import data_training, database_panel, report_menu
    from tests.test_pages_eda_segments_explorer import page_module

    models = page_module("models")  # as Dash imported it (importing dashboard.pages.models would run it again)
    deps = dash_app.server.test_client().get("/_dash-dependencies").get_json()
    widgets = [report_menu.WIDGETS, data_training.TRAIN_WIDGETS, database_panel.READ, database_panel.WRITE]
    for w in [*widgets, models.TRAIN_WIDGETS]:
        switches = [d for d in deps if d["output"] == f"{w.poll}.disabled"]
        assert len(switches) == 1, w.poll
        assert switches[0].get("clientside_function") is not None
        assert switches[0]["inputs"] == [{"id": w.store, "property": "data"}]
