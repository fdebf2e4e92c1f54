"""The 3-D part of plotly.js only where a 3-D chart is drawn (dashboard.plotly_loading)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dash
import flask

from dashboard import plotly_loading
from dashboard.app import ASSETS_IGNORE

ROOT = Path(__file__).resolve().parents[1]


def make_app() -> dash.Dash:
    app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    app.layout = dash.html.Div()
    plotly_loading.install(app)
    return app


def test_every_page_links_the_2d_bundle_and_names_the_3d_one_for_prefetch_js() -> None:
    app = make_app()
    client = app.server.test_client()
    url_3d = plotly_loading.stamped_url(app, plotly_loading.BUNDLE_3D)
    meta = f'<meta name="plotly-3d" content="{url_3d}" data-pages="/explorer"></head>'
    index = client.get("/").get_data(as_text=True)
    assert "/assets/vendor/plotly-2d.min.js?m=" in index
    # the 3-D part is only named (assets/prefetch.js loads it), never linked
    assert meta in index and "plotly-3d.min.js" not in index.replace(meta, "")
    # a 3-D page opened directly is served as a 2-D one: its first 3-D draw brings the 3-D part
    for path in ("/explorer", "/simulator"):
        page = client.get(path).get_data(as_text=True)
        assert "/assets/vendor/plotly-2d.min.js?m=" in page
        assert meta in page and "plotly-3d.min.js" not in page.replace(meta, "")
        assert "preload" not in page


def test_the_2d_bundle_is_served_with_the_draw_hooks() -> None:
    app = make_app()
    url = plotly_loading.stamped_url(app, plotly_loading.BUNDLE_2D)
    body = app.server.test_client().get(url).get_data()
    built = (ROOT / "assets" / plotly_loading.BUNDLE_2D).read_bytes()
    assert body == plotly_loading.with_draw_hooks(built)
    assert body.startswith(plotly_loading.COMPILE_HINT)  # still first, where V8 reads it
    assert body.endswith(b";" + plotly_loading.DRAW_HOOKS + b"\n")


def test_the_prefetch_meta_goes_only_into_a_page_linking_the_2d_bundle() -> None:
    url = "/assets/vendor/plotly-3d.min.js?m=2.5"
    page = b'<html><head><script src="/assets/vendor/plotly-2d.min.js?m=1.5"></script></head><body></body></html>'
    out = plotly_loading.add_prefetch_meta(page, url)
    meta = b'<meta name="plotly-3d" content="' + url.encode() + b'" data-pages="/explorer"></head>'
    assert out == page.replace(b"</head>", meta)
    two = plotly_loading.add_prefetch_meta(page, url, ("/app/explorer", "/app/globe"))
    assert b'data-pages="/app/explorer /app/globe"></head>' in two
    no_plotly = b"<html><head></head><body>error</body></html>"
    assert plotly_loading.add_prefetch_meta(no_plotly, url) == no_plotly


def test_the_3d_part_is_served_guarded_and_stamped() -> None:
    app = make_app()
    url = plotly_loading.stamped_url(app, plotly_loading.BUNDLE_3D)
    assert url.startswith("/assets/vendor/plotly-3d.min.js?m=")
    body = app.server.test_client().get(url).get_data()
    # the compile hint first (V8 reads it only there), then the guard
    assert body.startswith(plotly_loading.COMPILE_HINT + plotly_loading.GUARD_OPEN + b"/* plotly.js v")
    assert body.endswith(plotly_loading.GUARD_CLOSE)
    vendored = (ROOT / "assets" / plotly_loading.BUNDLE_3D).read_bytes()
    assert vendored.startswith(plotly_loading.COMPILE_HINT + b"/* plotly.js v")
    rest = vendored[len(plotly_loading.COMPILE_HINT) :]
    patched = plotly_loading.one_first_draw(plotly_loading.lazy_pick_readback(rest))
    assert body == plotly_loading.COMPILE_HINT + plotly_loading.GUARD_OPEN + patched + plotly_loading.GUARD_CLOSE
    # the hover-picking image is read when the pointer asks, not 1 ms after every draw
    assert b"setTimeout(this._readCallback,1)" in vendored
    assert b"setTimeout(this._readCallback" not in body
    assert body.count(b"_readPending") == 3
    # a new scene is drawn once: its render loop starts on the next frame, the turntable is not animated
    started = re.compile(rb"return (\w+)\.enableMouseListeners\(\),(\w+)\(\),\1\.redraw=")  # minified names vary
    (scene, loop), *more = started.findall(vendored)
    assert not more
    assert b"%s.enableMouseListeners(),requestAnimationFrame(%s),%s.redraw=" % (scene, loop, scene) in body
    turntable = re.compile(rb"lookAt\(\w+\+500,")  # the camera animation's second key frame
    assert len(turntable.findall(vendored)) == 1 and not turntable.findall(body)


def test_both_bundles_start_with_the_compile_hint() -> None:
    # V8 compiles a file's functions while it streams in only when the hint is its first line
    build = (ROOT / "assets" / "vendor" / "build_plotly.sh").read_text(encoding="utf-8")
    assert f'COMPILE_HINT="{plotly_loading.COMPILE_HINT.decode().strip()}"' in build
    for bundle in (plotly_loading.BUNDLE_2D, plotly_loading.BUNDLE_3D):
        assert (ROOT / "assets" / bundle).read_bytes().startswith(plotly_loading.COMPILE_HINT + b"/* plotly.js v")


def test_a_script_without_the_hint_is_guarded_as_it_is() -> None:
    script = b"var Plotly={};"
    assert plotly_loading.guarded(script) == plotly_loading.GUARD_OPEN + script + plotly_loading.GUARD_CLOSE
    hinted = plotly_loading.guarded(plotly_loading.COMPILE_HINT + script)
    assert hinted == plotly_loading.COMPILE_HINT + plotly_loading.GUARD_OPEN + script + plotly_loading.GUARD_CLOSE


def test_lazy_pick_readback_moves_the_read_into_the_query() -> None:
    # gl-select-static as esbuild minifies it (names differ between builds: any identifiers)
    script = (
        b"y.end=function(){var w=this.gl;w&&(w.bindFramebuffer(w.FRAMEBUFFER,null),this._readTimeout||"
        b"clearTimeout(this._readTimeout),this._readTimeout=setTimeout(this._readCallback,1))},"
        b"y.query=function(a,b,c){if(!this.gl)return null;var S=1}"
    )
    assert plotly_loading.lazy_pick_readback(script) == (
        b"y.end=function(){var w=this.gl;w&&(w.bindFramebuffer(w.FRAMEBUFFER,null),this._readPending=!0)},"
        b"y.query=function(a,b,c){if(!this.gl)return null;"
        b"this._readPending&&(this._readPending=!1,this._readCallback());var S=1}"
    )
    # another build where either place is missing or repeated: served as built
    assert plotly_loading.lazy_pick_readback(script[:120]) == script[:120]
    assert plotly_loading.lazy_pick_readback(script + b";" + script) == script + b";" + script


def test_one_first_draw_starts_the_loop_next_frame_and_sets_the_turntable_at_once() -> None:
    # gl-plot3d's createScene and the 3-D camera's mode setter as esbuild minifies them (any identifiers)
    loop = b"function ae(){q._stopped||(ge(),requestAnimationFrame(ae))}return q.enableMouseListeners(),ae(),q.redraw=function(){K=!0,ge()},q}"
    mode = (
        b"set:function(m){var g=x.computedUp.slice(),h=x.computedEye.slice(),M=x.computedCenter.slice();"
        b'if(x.setMode(m),m==="turntable"){var t=n();x._active.lookAt(t,h,M,g),'
        b"x._active.lookAt(t+500,h,M,[0,0,1]),x._active.flush(t)}return x.getMode()}"
    )
    script = loop + b";" + mode
    assert plotly_loading.one_first_draw(script) == (
        b"function ae(){q._stopped||(ge(),requestAnimationFrame(ae))}"
        b"return q.enableMouseListeners(),requestAnimationFrame(ae),q.redraw=function(){K=!0,ge()},q};"
        b"set:function(m){var g=x.computedUp.slice(),h=x.computedEye.slice(),M=x.computedCenter.slice();"
        b'if(x.setMode(m),m==="turntable"){var t=x.lastT();x._active.lookAt(t,h,M,[0,0,1]),'
        b"x._active.flush(t)}return x.getMode()}"
    )
    # either place missing or repeated: served as built, not half-changed
    assert plotly_loading.one_first_draw(loop) == loop
    assert plotly_loading.one_first_draw(mode) == mode
    assert plotly_loading.one_first_draw(script + script) == script + script


def test_callback_responses_are_left_alone_even_when_they_put_a_3d_graph_on_the_page() -> None:
    # the renderer would load the 3-D part before drawing the page: its text would wait for it
    app = make_app()
    layout = {"response": {"_pages_content": {"children": {"props": {"id": "explorer-scatter-graph"}}}}}
    body = json.dumps(layout)
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        response = app.server.process_response(flask.Response(body, mimetype="application/json"))
    assert response.get_data(as_text=True) == body


def test_the_draw_hooks_prefetch_js_and_the_guard_name_the_same_globals() -> None:
    prefetch = (ROOT / "assets" / "prefetch.js").read_text(encoding="utf-8")
    for name in ("__dashLoadPlotly3d", "__plotly3d"):
        assert f"window.{name}".encode() in plotly_loading.DRAW_HOOKS
        assert f"window.{name}" in prefetch
    assert b"window.__plotly3d=true;" in plotly_loading.GUARD_CLOSE
    # one build on every page: first draws and resizes are hooked; nothing is handed to another build
    for call in (b"P.react=function", b"P.Plots.resize=function"):
        assert call in plotly_loading.DRAW_HOOKS
    assert b"purge" not in plotly_loading.DRAW_HOOKS and b"window.Plotly" not in plotly_loading.DRAW_HOOKS[:-20]


def test_the_guard_skips_the_copy_prefetch_js_loads_only_to_be_compiled() -> None:
    # the served 3-D part and assets/prefetch.js name the same attribute
    assert f'hasAttribute("{plotly_loading.COMPILE_ONLY}")'.encode() in plotly_loading.GUARD_OPEN
    prefetch = (ROOT / "assets" / "prefetch.js").read_text(encoding="utf-8")
    assert f"script.setAttribute('{plotly_loading.COMPILE_ONLY}', '')" in prefetch
    assert plotly_loading.GUARD_OPEN.startswith(b"if(!window.__plotly3d&&")
