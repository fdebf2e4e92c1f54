"""The page's scripts are deferred and the renderer starts once they have run (dashboard.deferred_scripts)."""

from __future__ import annotations

import re
from pathlib import Path

import dash
import pytest

from dashboard import deferred_scripts
from dashboard.app import ASSETS_IGNORE
from dashboard.security import install as install_security

ROOT = Path(__file__).resolve().parents[1]


def make_app() -> dash.Dash:
    app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    app.layout = dash.html.Div()
    deferred_scripts.install(app)
    install_security(app.server, app.csp_hashes())
    return app


def test_every_external_script_is_deferred_in_the_original_order_with_regenerator_for_the_polyfill() -> None:
    plain = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    plain.layout = dash.html.Div()
    before = re.findall(r'<script src="([^"]+)"', plain.server.test_client().get("/").get_data(as_text=True))
    index = make_app().server.test_client().get("/").get_data(as_text=True)
    assert not re.findall(r"<script src=", index)
    after = re.findall(r'<script defer src="([^"]+)"', index)
    assert "polyfill@" in before[0] and "/assets/vendor/regenerator-runtime.js?m=" in after[0]
    kept = [u for u in before[1:] if "/dash_table/" not in u]
    assert len(kept) == len(before) - 2
    dcc_main = next(i for i, u in enumerate(kept) if "/dcc/dash_core_components.v" in u)
    graph_chunk = kept[dcc_main].replace("dash_core_components.v", "async-graph.v")
    kept.insert(dcc_main + 1, graph_chunk)
    assert [u.split("?")[0] for u in after[1:]] == [u.split("?")[0] for u in kept]
    assert not any("polyfill" in u for u in after)
    assert len(after) > 5


def test_the_regenerator_script_is_served_and_defines_the_global_the_dash_scripts_call() -> None:
    client = make_app().server.test_client()
    index = client.get("/").get_data(as_text=True)
    (url,) = re.findall(r'<script defer src="(/assets/vendor/regenerator-runtime\.js\?m=[0-9.]+)"', index)
    response = client.get(url)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "regenerator-runtime 0.14.1" in body.splitlines()[0]
    assert "regeneratorRuntime = runtime;" in body


def test_drop_polyfill_swaps_the_one_tag_in_place() -> None:
    scripts = (
        '<script src="/_dash-component-suites/dash/deps/polyfill@7.v4_4_1m1.12.1.min.js"></script>\n'
        '<script src="/_dash-component-suites/dash/deps/react@18.v4_4_1m1.3.1.min.js"></script>'
    )
    assert deferred_scripts.drop_polyfill(scripts, "/assets/r.js?m=2") == (
        '<script src="/assets/r.js?m=2"></script>\n'
        '<script src="/_dash-component-suites/dash/deps/react@18.v4_4_1m1.3.1.min.js"></script>'
    )


@pytest.mark.parametrize("count", [0, 2])
def test_drop_polyfill_refuses_a_page_without_exactly_one_polyfill(count: int) -> None:
    tag = '<script src="/_dash-component-suites/dash/deps/polyfill@7.v1.min.js"></script>'
    with pytest.raises(ValueError, match=f"expected one @babel/polyfill script in Dash's page, found {count}"):
        deferred_scripts.drop_polyfill(tag * count + '<script src="/a.js"></script>', "/assets/r.js")


def test_the_graph_chunk_comes_right_after_dcc_with_its_version_stamp() -> None:
    scripts = (
        '<script src="/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m17.js"></script>\n'
        '<script src="/_dash-component-suites/dash/dcc/dash_core_components-shared.v4_4_1m17.js"></script>'
    )
    assert deferred_scripts.load_graph_chunk(scripts) == (
        '<script src="/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m17.js"></script>'
        '<script src="/_dash-component-suites/dash/dcc/async-graph.v4_4_1m17.js"></script>\n'
        '<script src="/_dash-component-suites/dash/dcc/dash_core_components-shared.v4_4_1m17.js"></script>'
    )
    unstamped = '<script src="/app/_dash-component-suites/dash/dcc/dash_core_components.js"></script>'
    assert deferred_scripts.load_graph_chunk(unstamped).endswith(
        '<script src="/app/_dash-component-suites/dash/dcc/async-graph.js"></script>'
    )


def test_the_graph_chunk_is_served_immutable() -> None:
    client = make_app().server.test_client()
    index = client.get("/").get_data(as_text=True)
    (url,) = re.findall(r'<script defer src="([^"]*/dcc/async-graph\.v[^"]+)"', index)
    response = client.get(url)
    assert response.status_code == 200 and b"webpackChunkdash_core_components" in response.get_data()


@pytest.mark.parametrize("count", [0, 2])
def test_load_graph_chunk_refuses_a_page_without_exactly_one_dcc_script(count: int) -> None:
    tag = '<script src="/_dash-component-suites/dash/dcc/dash_core_components.v1.js"></script>'
    with pytest.raises(ValueError, match=f"expected one dash_core_components script in Dash's page, found {count}"):
        deferred_scripts.load_graph_chunk(tag * count + '<script src="/a.js"></script>')


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


def test_drop_data_table_removes_only_its_tag() -> None:
    scripts = (
        '<script src="/_dash-component-suites/dash/html/dash_html_components.v4_4_1m1.min.js"></script>\n'
        '<script src="/_dash-component-suites/dash/dash_table/bundle.v7_4_1m1.js"></script>\n'
        '<script src="/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m1.js"></script>'
    )
    assert deferred_scripts.drop_data_table(scripts) == (
        '<script src="/_dash-component-suites/dash/html/dash_html_components.v4_4_1m1.min.js"></script>\n'
        '<script src="/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m1.js"></script>'
    )


def test_no_page_draws_a_dash_data_table() -> None:
    """Its library is no longer linked, so a DataTable in a layout would never render."""
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "dashboard").rglob("*.py"))
        if path.name != "deferred_scripts.py"
        and re.search(r"\bdash_table\b|\bDataTable\(", path.read_text(encoding="utf-8"))
    ]
    assert users == []
