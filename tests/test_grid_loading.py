"""The grid library is loaded on demand: not a script of the page, listed in ``dist`` of callbacks that render a grid."""

from __future__ import annotations

import json

import dash
import dash_ag_grid as dag
import pytest
from dash import Input, Output, html

from dashboard import grid_loading
from dashboard.compression import install as install_compression

URL = "/_dash-component-suites/dash_ag_grid/dash_ag_grid.v1m2.min.js"


def make_app() -> dash.Dash:
    app = dash.Dash(__name__)
    app.layout = html.Div([html.Button(id="show"), html.Div(id="out"), html.Div(id="text")])

    @app.callback(Output("out", "children"), Input("show", "n_clicks"))
    def show(_n):
        return dag.AgGrid(id="grid", rowData=[{"a": i} for i in range(100)], columnDefs=[{"field": "a"}])

    @app.callback(Output("text", "children"), Input("show", "n_clicks"))
    def text(_n):
        return "no grid here"

    install_compression(app.server)
    grid_loading.install(app)
    return app


def update(client, output: str) -> dict:
    body = {
        "output": f"{output}.children",
        "outputs": {"id": output, "property": "children"},
        "inputs": [{"id": "show", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["show.n_clicks"],
    }
    response = client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    return json.loads(response.get_data())


@pytest.fixture
def client():
    yield make_app().server.test_client()
    grid_loading._main_bundle().pop("dynamic", None)


def test_add_dist_lists_the_bundle_once_for_a_grid_and_ignores_other_responses() -> None:
    grid = b'{"response": {"out": {"children": {"props": {}, "type": "AgGrid", "namespace": "dash_ag_grid"}}}}'
    once = json.loads(grid_loading.add_dist(grid, URL))
    assert once["dist"] == [{"type": "_js_dist", "url": URL}]
    twice = json.loads(grid_loading.add_dist(json.dumps(once).encode(), URL))
    assert twice["dist"] == [{"type": "_js_dist", "url": URL}]
    assert grid_loading.add_dist(b'{"response": {"t": {"children": "dash_ag_grid"}}}', URL) is None


def test_guarded_bundle_runs_only_without_the_library() -> None:
    assert grid_loading.guarded(b"window.dash_ag_grid={};\n//# sourceMappingURL=x.map") == (
        b"if(!window.dash_ag_grid){window.dash_ag_grid={};\n//# sourceMappingURL=x.map\n}\n"
    )


def test_page_has_no_grid_script_and_a_grid_callback_brings_it(client) -> None:
    index = client.get("/").get_data(as_text=True)
    assert "_dash-component-suites/dash_ag_grid/" not in index
    assert "_dash-component-suites/dash/dcc/dash_core_components" in index
    with_grid = update(client, "out")
    (dist,) = with_grid["dist"]
    assert dist["type"] == "_js_dist"
    assert "/_dash-component-suites/dash_ag_grid/dash_ag_grid.v" in dist["url"]
    assert "dist" not in update(client, "text")
    served = client.get(dist["url"], headers={"Accept-Encoding": "identity"}).get_data()
    assert served.startswith(grid_loading.GUARD_OPEN)
    assert served.endswith(grid_loading.GUARD_CLOSE)
    assert b"window.dash_ag_grid=" in served


def test_compressed_callback_response_carries_the_dist(client) -> None:
    import gzip

    body = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [{"id": "show", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["show.n_clicks"],
    }
    response = client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "dist" in json.loads(gzip.decompress(response.get_data()))
