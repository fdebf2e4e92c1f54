"""The 3D explorer's first render in a real browser: the scatter comes with the page, no callback before it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from dashboard.plotly_loading import PART_UNAVAILABLE
from dashboard.screenshots import set_theme
from tests.test_plotly_bundle import BUNDLE_2D

# True once the 3D scatter has data and its WebGL canvas.
SCATTER_DRAWN = """() => {
    const gd = document.querySelector('#explorer-scatter-graph .js-plotly-plot');
    return !!(gd && gd._fullData && gd._fullData.length && gd.querySelector('.gl-container canvas'));
}"""


def dash_updates(page) -> list[str]:
    """Record the outputs of every callback request the page sends from now on."""
    sent: list[str] = []

    def record(request) -> None:
        if "/_dash-update-component" in request.url:
            sent.append(str(request.post_data or ""))

    page.on("request", record)
    return sent


def test_navbar_switch_draws_the_scatter_without_a_callback(page, trained) -> None:
    page.goto("/")
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
    sent = dash_updates(page)
    page.locator(".app-navbar a.nav-link[href='/explorer']").click()
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    expect(page.locator("#explorer-axes-note")).to_contain_text("PC1")
    segments = trained.artifact.manifest["segments"]
    expect(page.locator("#explorer-segments input[type=checkbox]:checked")).to_have_count(len(segments))
    expect(page.locator("#explorer-scatter-graph .legendtext")).to_have_count(len(segments))
    page.wait_for_load_state("networkidle")
    # the page layout (router) is the only callback request: the scatter, controls and note came with it
    assert len(sent) == 1 and "_pages_content.children" in sent[0], sent
    assert page.locator("#explorer-grid").count() == 0  # no grid (nor its library) without a drilled segment


def test_deep_link_brings_its_members_grid_after_the_first_render(page, trained) -> None:
    seg = trained.artifact.manifest["segments"][0]
    sent = dash_updates(page)
    page.goto(f"/explorer?segment={seg['key']}")
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    expect(page.locator("#explorer-drill-header")).to_contain_text(seg["name"])
    expect(page.locator("#explorer-grid")).to_contain_text(f"of {seg['size']:,}")
    page.wait_for_load_state("networkidle")
    grid_requests = [s for s in sent if "explorer-grid-holder.children" in s]
    assert len(grid_requests) == 1, sent


def test_hovering_a_customer_shows_its_label(page) -> None:
    """The picking image is read when the pointer first asks (dashboard.plotly_loading.lazy_pick_readback)."""
    page.goto("/explorer")
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate("() => window.__plotly3d === true")  # the served 3-D bundle (patched) drew it
    box = page.locator("#explorer-scatter-graph .gl-container canvas").first.bounding_box()
    label = page.locator(".hovertext")
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # the customers sit around the scene's centre: walk outwards until the pointer is on one
    for step in range(60):
        dx, dy = (step % 12 - 6) * 12, (step // 12 - 2) * 14
        page.mouse.move(cx + dx, cy + dy, steps=2)
        try:
            expect(label.first).to_contain_text("Customer", timeout=1_000)
            return
        except AssertionError:
            continue
    info = page.evaluate("""() => { const gd = document.querySelector('#explorer-scatter-graph .js-plotly-plot');
        const sel = gd._fullLayout.scene._scene.glplot.selection;
        return [!!sel.object, sel.index, document.querySelectorAll('.hovertext').length,
                document.querySelector('.hovertext') && document.querySelector('.hovertext').textContent]; }""")
    raise AssertionError(f"no hover label anywhere near the scene's centre {info}")


# Counts clears of the default framebuffer of every WebGL context (one per draw of a gl-plot3d scene).
COUNT_SCENE_DRAWS = """() => {
    window.__sceneDraws = 0;
    const proto = WebGLRenderingContext.prototype;
    const bind = proto.bindFramebuffer, clear = proto.clear;
    proto.bindFramebuffer = function (target, fb) { this.__fb = fb; return bind.apply(this, arguments); };
    proto.clear = function () { if (!this.__fb) window.__sceneDraws += 1; return clear.apply(this, arguments); };
}"""
# Resolves after n animation frames (the render loop would have drawn again by then if anything had moved).
FRAMES = "(n) => new Promise((done) => { const step = (k) => (k ? requestAnimationFrame(() => step(k - 1)) : done()); step(n); })"


def test_the_scene_is_drawn_once_when_the_page_opens(page) -> None:
    """Not empty first, nor again for the camera (dashboard.plotly_loading.one_first_draw)."""
    page.add_init_script(f"({COUNT_SCENE_DRAWS})()")
    page.goto("/explorer")
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.evaluate(FRAMES, 60)
    assert page.evaluate("() => window.__sceneDraws") == 1
    camera = page.evaluate(
        "() => document.querySelector('#explorer-scatter-graph .js-plotly-plot')._fullLayout.scene._scene.getCamera()"
    )
    # the layout's camera, with the turntable's up (+z)
    assert [camera["eye"][a] for a in "xyz"] == pytest.approx([1.85, 1.85, 1.1])
    assert [camera["up"][a] for a in "xyz"] == pytest.approx([0, 0, 1])


#: Copies of the 3-D part appended to run (the copy assets/prefetch.js loads to have it compiled is not one).
BUNDLE_SCRIPTS = (
    "() => [...document.querySelectorAll('script[src*=\"plotly-3d.min.js\"]:not([data-compile-only])')].length"
)


def test_one_copy_of_the_3d_bundle_runs_opened_directly_or_by_a_switch(page) -> None:
    """Opened directly, the first 3-D draw has assets/prefetch.js run it; after a switch, the click did."""
    page.goto("/explorer")
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate(BUNDLE_SCRIPTS) == 1
    page.goto("/")
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
    assert page.evaluate(BUNDLE_SCRIPTS) == 0
    page.locator(".app-navbar a.nav-link[href='/explorer']").click()
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate(BUNDLE_SCRIPTS) == 1
    assert page.evaluate("() => window.__plotly3d") is True


#: Before the page loads: when the explorer's axes note enters the document, every animation frame after it
#: (a chance for the browser to paint), and when the first WebGL context is created.
PAINT_ORDER_JS = """(() => {
    window.__webglAt = null;
    window.__noteAt = null;
    window.__frames = [];
    const getContext = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
        if (window.__webglAt === null && /webgl/.test(String(kind))) window.__webglAt = performance.now();
        return getContext.call(this, kind, ...rest);
    };
    const frame = (t) => { if (window.__noteAt !== null) window.__frames.push(performance.now()); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    new MutationObserver(() => {
        if (window.__noteAt === null && document.getElementById('explorer-axes-note')) window.__noteAt = performance.now();
    }).observe(document, {childList: true, subtree: true});
})()"""


@pytest.mark.parametrize("how", ["direct", "navbar", "again"])
def test_the_page_is_painted_before_the_scene_is_created(browser, live_server, how: str) -> None:
    """dashboard.plotly_loading.DRAW_HOOKS: the first 3-D draw waits for a frame of the page.

    Without it the WebGL scene was created in the task that put the page in
    the document, so nothing of the page (its header, controls, the axes note
    under the chart) could be painted before the scene: 0.35-0.5 s later
    without a GPU.  Here an animation frame runs between the page's arrival
    and the scene's WebGL context.
    """
    from tests.browser.conftest import checked_page

    with checked_page(browser, live_server) as page:
        page.add_init_script(PAINT_ORDER_JS)
        if how == "navbar":
            page.goto("/")
            expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
            page.locator(".app-navbar a.nav-link[href='/explorer']").click()
        elif how == "again":  # the 3-D part has run already: the first draw still waits for a paint
            page.goto("/explorer")
            page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
            page.locator(".app-navbar a.nav-link[href='/']").click()
            expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
            page.evaluate("() => { window.__noteAt = null; window.__webglAt = null; window.__frames = []; }")
            page.locator(".app-navbar a.nav-link[href='/explorer']").click()
        else:
            page.goto("/explorer")
        page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
        order = page.evaluate("() => ({note: window.__noteAt, webgl: window.__webglAt, frames: window.__frames})")
        assert order["note"] is not None and order["webgl"] is not None, order
        assert order["note"] < order["webgl"], order
        between = [f for f in order["frames"] if order["note"] < f < order["webgl"]]
        assert between, order  # a frame, so a paint, came between the page and its scene


#: Every request for plotly.js's 3-D part (dashboard.plotly_loading.BUNDLE_3D).
PART_URLS = "**/plotly-3d.min.js*"


def hold_part(page) -> list:
    """Hold back every request for the 3-D part; the held routes, to be continued by the test."""
    held: list = []
    page.route(PART_URLS, lambda route: held.append(route))
    return held


#: The explorer's graph div, and whether its 3-D scene (WebGL canvas) exists.
GRAPH_JS = "document.querySelector('#explorer-scatter-graph .js-plotly-plot')"
SCENE_JS = f"() => !!{GRAPH_JS}.querySelector('.gl-container canvas')"
#: The explorer's graph div before plotly.js has drawn it (no class of its own yet), its first draw waiting.
WAITING_GRAPH_JS = "[...document.querySelectorAll('#explorer-scatter-graph div')].find((d) => d.__firstDraw)"


def test_the_3d_part_registers_into_the_pages_build_and_replaces_nothing(page) -> None:
    """One plotly.js on the page: the switch adds scatter3d to the 2-D build, whose resize keeps the scene."""
    page.goto("/")
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
    page.evaluate("() => { window.__plotly2d = window.Plotly; window.__react2d = window.Plotly.react; }")
    page.locator(".app-navbar a.nav-link[href='/explorer']").click()
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate("() => window.Plotly === window.__plotly2d && window.Plotly.react === window.__react2d")
    assert page.evaluate("() => 'scatter3d' in window.Plotly.PlotSchema.get().traces")
    resized = page.evaluate(f"() => window.Plotly.Plots.resize({GRAPH_JS}).then(() => 'resized')")
    assert resized == "resized"
    page.wait_for_timeout(400)  # plotly.js resizes a timer (100 ms) after it is asked
    assert page.evaluate(SCENE_JS)
    assert page.evaluate(f"() => {GRAPH_JS}._fullLayout.scene._scene !== undefined")


def test_a_resize_asked_for_while_the_first_3d_draw_waits_runs_after_it(page) -> None:
    """The 3-D part is held back here; a resize of the waiting graph runs after its draw."""
    held = hold_part(page)
    page.goto("/explorer", wait_until="domcontentloaded")  # not the load event, which may wait for the held script
    for _ in range(600):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the first 3-D draw did not ask for the 3-D part"
    waiting = WAITING_GRAPH_JS
    assert page.evaluate(f"() => !!{waiting} && window.__plotly3d === undefined")
    page.evaluate(
        f"() => {{ const gd = {waiting}; window.__resized = null;"
        " window.Plotly.Plots.resize(gd).then(() => { window.__resized = !!gd._fullLayout; }); }"
    )
    page.wait_for_timeout(400)  # plotly.js resizes a timer (100 ms) after it is asked
    assert page.evaluate("() => window.__resized") is None  # waiting for the draw
    held[0].continue_()
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    page.wait_for_function("() => window.__resized !== null", timeout=30_000)
    assert page.evaluate("() => window.__resized") is True
    page.wait_for_timeout(400)
    assert page.evaluate(SCENE_JS)


#: Whether the 3-D part had run when each of the explorer's graphs got its first plot (its ``.main-svg``).
FIRST_PLOT_JS = """(() => {
    window.__firstPlot = {};
    new MutationObserver(() => {
        for (const id of ['explorer-scatter-graph', 'explorer-profile-graph']) {
            if (!(id in window.__firstPlot) && document.querySelector('#' + id + ' .main-svg')) {
                window.__firstPlot[id] = window.__plotly3d === true;
            }
        }
    }).observe(document, {childList: true, subtree: true});
})()"""


def test_the_explorers_2d_chart_does_not_wait_for_the_3d_part(page, trained) -> None:
    """A deep link's segment profile (a 2-D chart) is drawn while the 3-D part is held back; the scene after it."""
    page.add_init_script(FIRST_PLOT_JS)
    held = hold_part(page)
    seg = trained.artifact.manifest["segments"][0]
    page.goto(f"/explorer?segment={seg['key']}", wait_until="domcontentloaded")
    expect(page.locator("#explorer-profile-graph .main-svg").first).to_be_attached(timeout=30_000)
    assert held, "the first 3-D draw did not ask for the 3-D part"
    assert page.evaluate("() => window.__firstPlot") == {"explorer-profile-graph": False}
    held[0].continue_()
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate("() => window.__firstPlot") == {
        "explorer-profile-graph": False,
        "explorer-scatter-graph": True,
    }


#: Every WebGL context the page creates, counted from before it loads.
COUNT_WEBGL_JS = """(() => {
    window.__webglContexts = 0;
    const getContext = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
        const context = getContext.call(this, kind, ...rest);
        if (context && /webgl/.test(String(kind))) window.__webglContexts++;
        return context;
    };
})()"""


def test_a_graph_that_left_the_page_before_the_3d_part_came_is_not_drawn(page) -> None:
    """Leaving the explorer while its 3-D part downloads: no WebGL scene is created for the graph left behind,
    and the overview's chart is drawn at once, not after the part."""
    page.add_init_script(COUNT_WEBGL_JS)
    held = hold_part(page)
    page.goto("/")
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
    page.locator(".app-navbar a.nav-link[href='/explorer']").click()
    page.wait_for_function(
        f"() => !!(window.__left = {WAITING_GRAPH_JS})",
        timeout=30_000,
    )
    assert held, "the click did not ask for the 3-D part"
    page.locator(".app-navbar a.nav-link[href='/']").click()
    page.wait_for_function("() => !window.__left.isConnected", timeout=30_000)
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible(timeout=30_000)
    assert page.evaluate("() => window.__plotly3d") is None  # drawn while the part is still held back
    held[0].continue_()
    page.wait_for_function("() => window.__plotly3d === true", timeout=30_000)
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__webglContexts") == 0
    assert page.evaluate("() => window.__left._fullLayout === undefined")


#: The explorer's graph shows the notice of dashboard.plotly_loading.PART_UNAVAILABLE.
UNAVAILABLE_JS = f"() => ({GRAPH_JS} || {{}}).textContent?.includes({json.dumps(PART_UNAVAILABLE)}) === true"


def test_a_3d_part_of_another_build_is_refused_and_the_graph_says_so(page) -> None:
    """A tab holding an older 2-D build gets a newer 3-D part: the part refuses to register into it, and the
    graph says the 3-D view could not be loaded instead of drawing its points as a 2-D scatter."""
    build = b'"%s"' % re.search(rb'__build:"([0-9a-f]{16})"', BUNDLE_2D.read_bytes())[1]

    def other_build(route) -> None:
        body = route.fetch().body()
        assert build in body
        route.fulfill(
            body=body.replace(build, b'"' + b"0" * 16 + b'"'),
            content_type="text/javascript",
            headers={"Cache-Control": "no-store"},
        )

    assert "3-D view could not be loaded" in PART_UNAVAILABLE
    page.route(PART_URLS, other_build)
    page.goto("/explorer")
    page.wait_for_function(UNAVAILABLE_JS, timeout=30_000)
    assert page.evaluate("() => window.__plotly3d") is None
    assert page.evaluate(SCENE_JS) is False
    assert page.evaluate(f"() => {GRAPH_JS}._fullData.length") == 0  # not the points as a 2-D scatter
    assert any("needs the plotly-2d.min.js of its own build" in e for e in page.console_errors)
    expect(page.locator("#explorer-axes-note")).to_be_visible()  # the rest of the page works
    page.console_errors.clear()
    # the next figure for the graph (here: the theme switched) tries again, and gets the right part
    page.unroute(PART_URLS)
    set_theme(page, "dark")
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate(UNAVAILABLE_JS) is False


def test_a_part_that_comes_after_the_graph_gave_up_draws_it(page) -> None:
    """The part's download fails, the graph says so; when the part runs later, the waiting figure is drawn."""
    page.route(PART_URLS, lambda route: route.abort())
    page.goto("/explorer")
    page.wait_for_function(UNAVAILABLE_JS, timeout=30_000)
    page.console_errors.clear()  # the failed download
    page.unroute(PART_URLS)
    page.evaluate("() => window.__dashLoadPlotly3d()")  # no new figure from the server: the part's event draws
    page.wait_for_function(SCATTER_DRAWN, polling="raf", timeout=30_000)
    assert page.evaluate(UNAVAILABLE_JS) is False


def test_a_3d_figure_queued_behind_a_2d_first_draw_brings_the_part(page) -> None:
    """A graph below the window defers its first draw; a 3-D figure given meanwhile goes through the hooks."""
    page.goto("/")
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()
    page.evaluate(
        """() => { const gd = document.createElement('div');
        gd.id = 'queued'; gd.style.cssText = 'position:absolute;top:3000px;width:400px;height:300px';
        document.body.appendChild(gd);
        window.Plotly.react(gd, {data: [{type: 'bar', y: [1, 2]}], layout: {}});
        window.__queued = window.Plotly.react(gd, {data: [{type: 'scatter3d', mode: 'markers', x: [1], y: [2], z: [3]}], layout: {}}); }"""
    )
    page.wait_for_function("() => window.__plotly3d === true", timeout=30_000)
    page.wait_for_function(
        "() => { const gd = document.getElementById('queued'); return gd._fullData && gd._fullData[0].type === 'scatter3d'"
        " && !!gd.querySelector('.gl-container canvas'); }",
        timeout=30_000,
    )
