"""Two people on one server (issue 8, "Done when"): nobody sees or reaches the other's data.

A uploads and trains a file with a unique name.  B, in another browser
context (no shared cookies), never sees that name on any page and cannot
switch to it, not even by writing A's version id into its own session
store.  Cookie-less POSTs to ``/_dash-update-component`` replaying A's upload
key, artifact id and delete action are refused with the one "not available"
message, and A's data set is intact afterwards.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard import ids
from pipeline.store.registry import NOT_AVAILABLE, UPLOAD_NOT_AVAILABLE
from pipeline.synthetic.inputs import transactions_bytes
from tests.test_sharing import export_download_body

TRAIN_TIMEOUT_MS = 120_000
PAGES = ("/", "/eda", "/segments", "/explorer", "/simulator", "/models", "/data")


@pytest.fixture
def people(browser, live_server: str) -> Iterator[tuple[Page, Page]]:
    """Two independent browser contexts, failing on console errors."""
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


def stored(page: Page, store_id: str) -> Any:
    """The value of a ``dcc.Store(storage_type="session")`` in this tab."""
    raw = page.evaluate("(k) => window.sessionStorage.getItem(k)", store_id)
    return json.loads(raw) if raw else None


def post(base: str, output_part: str, inputs: list[Any], state: list[Any], changed: list[str]) -> tuple[int, str]:
    """A cookie-less ``/_dash-update-component`` request, as the Dash renderer would send it."""
    with urllib.request.urlopen(base + "/_dash-dependencies", timeout=30) as resp:
        spec = next(d for d in json.load(resp) if output_part in d["output"])
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
    return send(base, body)


def send(base: str, body: dict[str, Any]) -> tuple[int, str]:
    """POST one ``/_dash-update-component`` body without cookies."""
    req = urllib.request.Request(
        base + "/_dash-update-component",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, resp.read().decode()


def test_b_never_sees_or_reaches_a_data_set(people: tuple[Page, Page], live_server: str, tmp_path: Path) -> None:
    a, b = people
    name = f"alice-{uuid.uuid4().hex[:8]}.csv"
    path = tmp_path / name
    path.write_bytes(transactions_bytes(3_000, seed=606))

    # A uploads and trains.
    a.goto("/data")
    expect(a.locator("#data-versions")).to_contain_text("Built-in sample")
    a.locator("#data-upload input[type=file]").set_input_files(str(path))
    expect(a.locator("#data-validation")).to_contain_text(f"Ready to train {name}", timeout=60_000)
    a.locator("#data-train").click()
    expect(a.locator("#app-nav-dataset")).to_have_text(name, timeout=TRAIN_TIMEOUT_MS)
    expect(a.locator(".data-version-active")).to_contain_text(name)
    key, aid = stored(a, ids.DATA_UPLOAD_KEY), stored(a, ids.ACTIVE_ARTIFACT)
    assert isinstance(key, str) and isinstance(aid, str) and aid.startswith("alice-")

    # B never sees the name, on any page.
    for route in PAGES:
        b.goto(route)
        expect(b.locator("#app-nav-dataset")).to_have_text("Built-in sample")
        b.wait_for_load_state("networkidle")
        assert name not in b.content(), route
    expect(b.locator("#data-versions")).to_contain_text("Built-in sample")
    expect(b.locator("#data-versions")).not_to_contain_text(name)
    assert b.locator(f"[data-artifact='{aid}']").count() == 0

    # B cannot switch to it, even with A's id written into its own session store.
    b.evaluate("([k, v]) => window.sessionStorage.setItem(k, JSON.stringify(v))", [ids.ACTIVE_ARTIFACT, aid])
    b.goto("/")
    expect(b.locator("#app-nav-version")).to_contain_text("not available to you")
    expect(b.locator("#app-nav-dataset")).to_have_text("Built-in sample")
    assert name not in b.content()

    # Cookie-less replays of A's upload key, artifact id and delete action are refused.
    status, text = post(
        live_server,
        f"{ids.DATA_PREVIEW}.children",
        [{"id": ids.DATA_UPLOAD_KEY, "property": "data", "value": key}],
        [],
        [f"{ids.DATA_UPLOAD_KEY}.data"],
    )
    assert status == 200 and UPLOAD_NOT_AVAILABLE in text and name not in text and "InvoiceNo" not in text
    with urllib.request.urlopen(live_server + "/_dash-dependencies", timeout=30) as resp:
        spec = next(d for d in json.load(resp) if "export-download" in d["output"])
    status, text = send(live_server, export_download_body(spec, aid))
    assert "content" not in text and NOT_AVAILABLE in text
    button = ids.data_version_action("delete", aid)
    status, text = post(
        live_server,
        f"{ids.DATA_VERSIONS_TICK}.data",
        [[], [{"id": button, "property": "submit_n_clicks", "value": 1}], [], []],
        [
            {"id": ids.ACTIVE_ARTIFACT, "property": "data", "value": None},
            {"id": ids.DATA_VERSIONS_TICK, "property": "data", "value": 0},
        ],
        [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".submit_n_clicks"],
    )
    assert status == 200 and NOT_AVAILABLE in text and "Deleted" not in text

    # A's data set is intact.
    a.goto("/data")
    expect(a.locator("#app-nav-dataset")).to_have_text(name)
    expect(a.locator(".data-version-active")).to_contain_text(name)
    expect(a.locator("#data-preview")).to_contain_text(name)
    a.goto("/")
    expect(a.locator("#overview-model")).to_contain_text(aid)
