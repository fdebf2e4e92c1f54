"""The page's scripts are deferred and the renderer starts once they have run (dashboard.deferred_scripts)."""

from __future__ import annotations

import re
from pathlib import Path

import dash
import pytest
from dash import _callback

from dashboard import deferred_scripts
from dashboard.app import ASSETS_IGNORE
from dashboard.security import install as install_security

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def keep_global_callbacks():
    """A bare app's first request takes Dash's global callbacks for itself; give them back for the real app.

    Without this, a later test in the same process that builds the dashboard finds
    no callback for the navbar (``Callback function not found``).
    """
    saved_map, saved_list = dict(_callback.GLOBAL_CALLBACK_MAP), list(_callback.GLOBAL_CALLBACK_LIST)
    yield
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_MAP.update(saved_map)
    _callback.GLOBAL_CALLBACK_LIST[:] = saved_list


def make_app() -> dash.Dash:
    app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    app.layout = dash.html.Div()
    deferred_scripts.install(app)
    install_security(app.server, app.csp_hashes())
    return app


def test_every_external_script_is_deferred_in_the_original_order() -> None:
    plain = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    plain.layout = dash.html.Div()
    before = re.findall(r'<script src="([^"]+)"', plain.server.test_client().get("/").get_data(as_text=True))
    index = make_app().server.test_client().get("/").get_data(as_text=True)
    assert not re.findall(r"<script src=", index)
    after = re.findall(r'<script defer src="([^"]+)"', index)
    assert [u.split("?")[0] for u in after] == [u.split("?")[0] for u in before]
    assert len(after) > 5


def test_the_renderer_starts_on_dom_content_loaded_and_its_hash_is_allowed() -> None:
    response = make_app().server.test_client().get("/")
    index = response.get_data(as_text=True)
    assert f'<script id="_dash-renderer" type="application/javascript">{deferred_scripts.RENDERER}</script>' in index
    assert "var renderer = new DashRenderer();" not in index
    csp = response.headers["Content-Security-Policy"]
    (allowed,) = make_app().csp_hashes()
    assert allowed in csp


def test_defer_leaves_inline_scripts_alone() -> None:
    html = '<script src="/a.js"></script>\n<script id="x">1</script>\n<script src="/b.js?m=1"></script>'
    assert deferred_scripts.defer(html) == (
        '<script defer src="/a.js"></script>\n<script id="x">1</script>\n<script defer src="/b.js?m=1"></script>'
    )
