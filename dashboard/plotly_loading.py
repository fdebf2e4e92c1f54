"""Two plotly.js bundles: the 2-D one on every page, the 3-D one only where a 3-D chart is drawn.

``assets/vendor/build_plotly.sh`` builds both from plotly.js with only the trace
types the app draws.  The 3-D bundle is the 2-D one plus ``scatter3d`` and its
WebGL stack (0.56 MB more to download, parse and compile), which only the
explorer needs (the simulator's customer map is 2-D).

- ``plotly-2d.min.js`` is an ordinary asset: Dash links it on every page.
- ``plotly-3d.min.js`` is kept off the pages (``ASSETS_IGNORE`` in the app
  factory); Flask still serves it, with its modification stamp in the URL,
  so it is cached as immutable like the other assets.
- A page in :data:`THREE_D_PAGES` opened directly gets the 3-D bundle
  *instead of* the 2-D one in its HTML (one download, one compile): as a
  ``<link rel="preload">``, not a ``<script>``.  Its layout response lists
  the bundle in ``"dist"`` (below) and the renderer runs it from there; a
  ``<script>`` in the HTML would have been run a second time by that (the
  guard skips the work, but the 2 MB script was compiled again: about 0.1 s
  of main thread).
- Reaching a 3-D chart by a navbar switch: every ``/_dash-update-component``
  response that puts one of :data:`THREE_D_GRAPHS` on the page (the
  explorer's page layout does) lists the 3-D bundle in ``"dist"``; the
  renderer loads and runs it before it renders that response, the way
  :mod:`dashboard.grid_loading` brings the grid library.  The bundle then
  replaces ``window.Plotly`` with the superset build, so the graphs created
  from then on, 2-D or 3-D, are drawn by it.  The renderer appends the script
  each time it is listed, so the served bundle starts with a guard: once a
  3-D build has run it does not run again.
- The served 3-D bundle reads the scene's hover-picking image back from the
  GPU when the pointer first asks for it, not after every draw
  (:func:`lazy_pick_readback`): without a GPU that read waits for the whole
  scene to be rendered, a long task right after the first draw.
- It also draws a new scene once instead of four times in its first half
  second (:func:`one_first_draw`): not empty before its traces are added, and
  not again for a camera animation that moves nothing visible.
- A graph's first 3-D draw, and the first draw of a graph below the window,
  wait for the page around them to be painted (:data:`FIRST_DRAW_AFTER_PAINT`,
  in both bundles): without a GPU the scene's creation is a long task, and
  the page's text waited for it; a chart out of sight held back those in view.
- So that a navbar switch waits neither for the download nor for the
  compile, every other page names the 3-D bundle in a ``<meta name="plotly-3d">``
  and ``assets/prefetch.js`` loads it once the page has settled and the
  browser is idle, as a ``<script>`` marked ``data-compile-only``
  (:data:`COMPILE_ONLY`): the browser downloads it into its HTTP cache and V8
  compiles it (on a background thread: the compile hint), but the guard skips
  its body, so ``window.Plotly`` stays the 2-D build and the page's main thread
  does no more than for a prefetch.  The switch then runs the same source from
  the cache, and V8 finds it compiled.  On 2 cores, clicking the explorer
  2.5 s after the overview was drawn: 0.90 s to 0.69 s (medians of 9, old and
  new side by side); clicking at once, before the browser is idle, is
  unchanged.  The meta also names the 3-D pages (``data-pages``): when a
  link to one is pressed or clicked, the script runs the bundle at once,
  while the server builds the new page's layout, instead of after the layout
  has arrived (the renderer then finds it has run: the guard).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import dash
import flask

from . import ids

BUNDLE_2D = "vendor/plotly-2d.min.js"
BUNDLE_3D = "vendor/plotly-3d.min.js"
#: Pages whose layout draws a 3-D chart (tests/test_plotly_bundle.py checks it against the figure builders).
THREE_D_PAGES = ("/explorer",)
#: Graph ids whose figure is 3-D: a callback response naming one brings the 3-D bundle first.
THREE_D_GRAPHS = (ids.EXPLORER_GRAPH,)
#: V8's explicit compile hint, the bundles' first line (``assets/vendor/build_plotly.sh``): their functions are
#: compiled on a background thread while the file streams in, not one by one on the main thread as the bundle's
#: modules first run.  Landing page, fresh contexts on 2 cores: main-thread CPU 396 -> 308 ms, long tasks 134 ->
#: 15 ms (Lighthouse TBT 41 -> 2 ms), so the page answers input sooner; charts drawn no sooner (old and new
#: alternating, 16 runs each: 931 and 948 ms medians), as the compile still shares the two cores.  Read only
#: as the first line.
COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"
#: The attribute of the ``<script>`` that loads the 3-D bundle to have it compiled, not run (``assets/prefetch.js``).
COMPILE_ONLY = "data-compile-only"
#: Skip running the 3-D bundle when a copy already ran, or when the script is loaded only to be compiled.
GUARD_OPEN = (
    b"if(!window.__plotly3d&&!(document.currentScript&&document.currentScript.hasAttribute("
    + f'"{COMPILE_ONLY}"'.encode()
    + b"))){"
)
#: ``Plotly.react`` drawing a graph's first figure in a task of its own, after the next paint, when the figure is
#: 3-D or the graph starts below the window.
#:
#: dcc.Graph draws in the task that puts the page in the document, so nothing of the page is painted before
#: every graph on it is drawn.  Without a GPU, creating a WebGL scene (context, shader programs, axes) is one
#: task of 0.35-0.5 s: measured on /explorer, its largest text was painted 1.7-2.0 s after the start
#: (Lighthouse's LCP), almost all of it waiting for that task.  Deferred, Lighthouse /explorer went from 73 to
#: 80-83 (TBT 448 -> 276-295 ms); the chart itself is drawn ~50 ms later, after that paint
#: (``python -m benchmarks.bench_ab``: 741 -> 790 ms median, 16 runs a side).  A 2-D chart below the window
#: is not seen before the page is scrolled, so it is drawn after the charts in view have been painted: the
#: simulator's customer map (1,200 points, 90-120 ms to draw) held back its gauge and distances.
#: The first call for a graph not drawn yet waits for an animation frame and then a timer (the frame is
#: painted in between); calls made meanwhile for the same graph run after it, in order.  Every other call is
#: passed through as it is.
FIRST_DRAW_AFTER_PAINT = b"""(function(P){var react=P.react;P.react=function(gd,fig){var self=this,args=arguments;
if(gd&&gd.__firstDraw){return gd.__firstDraw.then(function(){return react.apply(self,args);});}
var data=fig&&!Array.isArray(fig)?fig.data:fig;
var is3d=Array.isArray(data)&&data.some(function(t){return t&&t.type==='scatter3d';});
var below=!!(gd&&gd.getBoundingClientRect)&&gd.getBoundingClientRect().top>=window.innerHeight;
if(!gd||gd._fullLayout||!(is3d||below)){return react.apply(self,args);}
var first=new Promise(function(done){requestAnimationFrame(function(){setTimeout(done,0);});})
.then(function(){return react.apply(self,args);});
gd.__firstDraw=first.then(function(){gd.__firstDraw=null;},function(){gd.__firstDraw=null;});
return first;};})(window.Plotly);"""
#: After the bundle has run: WebGL scenes drawn at the screen's own pixel density (plotly.js's default is 2
#: device pixels per CSS pixel on every screen, four times the pixels to render and to read back for hover
#: picking on a standard screen; without a GPU that is most of the first 3D draw), and a graph's first draw
#: after a paint of the page around it when it is 3-D or below the window (:data:`FIRST_DRAW_AFTER_PAINT`).
GUARD_CLOSE = (
    b"\nwindow.__plotly3d=true;"
    b"window.Plotly.setPlotConfig({plotGlPixelRatio:Math.max(1,Math.round(window.devicePixelRatio||1))});"
    + FIRST_DRAW_AFTER_PAINT
    + b"}\n"
)
#: Name of the ``<meta>`` that gives ``assets/prefetch.js`` the 3-D bundle's URL.
PREFETCH_META = "plotly-3d"
LINK_2D = re.compile(re.escape(BUNDLE_2D).encode() + rb"\?m=[0-9.]+")


def graph_markers() -> tuple[bytes, ...]:
    """How a 3-D graph component shows in a callback response that puts it on the page (with or without the space).

    Only a layout carries the component with its ``"id"``; a later figure update
    names the graph as an output key, for a graph already drawn by the 3-D build,
    and must not list the bundle again (the renderer would append and parse the
    2 MB script on every update).
    """
    return tuple(form.format(graph).encode() for graph in THREE_D_GRAPHS for form in ('"id":"{}"', '"id": "{}"'))


def stamped_url(app: dash.Dash, asset: str) -> str:
    """The asset's URL with its modification stamp (``?m=``), as Dash links the assets it walks."""
    path = Path(app.config.assets_folder) / asset
    return f"{app.get_asset_url(asset)}?m={path.stat().st_mtime}"


def add_dist(body: bytes, url: str) -> bytes | None:
    """The callback response ``body`` with the 3-D bundle in ``dist``; None if it puts no 3-D graph on the page."""
    if not any(marker in body for marker in graph_markers()):
        return None
    data = json.loads(body)
    dist = data.setdefault("dist", [])
    if not any(d.get("url") == url for d in dist):
        dist.append({"type": "_js_dist", "url": url})
    return json.dumps(data, separators=(",", ":")).encode()


#: The 2-D bundle's ``<script>`` element (``defer`` or not; ``prefix`` = the URL up to ``vendor/``).
SCRIPT_2D = re.compile(
    rb'<script(?: [a-z-]+)* src="(?P<prefix>[^"]*?)' + LINK_2D.pattern + rb'"(?: [a-z-]+)*></script>'
)


def swap_link(html: bytes, url_3d: str) -> bytes:
    """The page HTML preloading the 3-D bundle where it ran the 2-D one.

    The renderer runs the bundle when the page's layout (which lists it in
    ``"dist"``) arrives.  A 2-D link in another form is swapped for the 3-D
    bundle's URL (run twice, the second time skipped by the guard).
    """
    tail = url_3d[url_3d.index(BUNDLE_3D) :].encode()  # the link is replaced from ``vendor/`` on
    preloaded, n = SCRIPT_2D.subn(
        lambda m: b'<link rel="preload" as="script" href="' + m["prefix"] + tail + b'">', html
    )
    return preloaded if n else LINK_2D.sub(lambda _: tail, html)


def add_prefetch_meta(html: bytes, url_3d: str, pages: tuple[str, ...] = THREE_D_PAGES) -> bytes:
    """The page HTML naming the 3-D bundle and the 3-D pages for ``assets/prefetch.js`` (only a page that links the 2-D one)."""
    if not LINK_2D.search(html) or b"</head>" not in html:
        return html
    meta = f'<meta name="{PREFETCH_META}" content="{url_3d}" data-pages="{" ".join(pages)}">'.encode()
    return html.replace(b"</head>", meta + b"</head>", 1)


def with_first_draw_after_paint(script: bytes) -> bytes:
    """The 2-D bundle ``script`` with :data:`FIRST_DRAW_AFTER_PAINT` run after it (the 3-D one has it in its guard)."""
    return script + b"\n;" + FIRST_DRAW_AFTER_PAINT + b"\n"


def guarded(script: bytes) -> bytes:
    """``script`` (with :func:`lazy_pick_readback` and :func:`one_first_draw`) that does nothing once a 3-D build has run.

    Its compile hint (:data:`COMPILE_HINT`) stays the first line.
    """
    hint = COMPILE_HINT if script.startswith(COMPILE_HINT) else b""
    return hint + GUARD_OPEN + one_first_draw(lazy_pick_readback(script[len(hint) :])) + GUARD_CLOSE


def edited(script: bytes, edits: tuple[tuple[re.Pattern[bytes], bytes], ...]) -> bytes:
    """``script`` with every ``(pattern, replacement)`` of ``edits`` applied, or unchanged.

    Applied only when each pattern is found exactly once (in another
    plotly.js build a place may be missing or repeated: the bundle is then
    served as built, never half-changed).
    """
    out = script
    for pattern, replacement in edits:
        out, n = pattern.subn(replacement, out)
        if n != 1:
            return script
    return out


#: gl-select-static's ``end()`` (after each picking pass of a 3-D scene): read the picking image back 1 ms later.
PICK_READ_SCHEDULED = re.compile(
    rb"this\._readTimeout\|\|clearTimeout\(this\._readTimeout\),this\._readTimeout=setTimeout\(this\._readCallback,1\)"
)
#: gl-select-static's ``query()`` (the pointer asks what is under it), up to its first statement.
PICK_QUERY = re.compile(rb"(\.query=function\(\w+,\w+,\w+\)\{if\(!this\.gl\)return null;)")
#: ``end()`` only notes that the picking image changed; ``query()`` reads it first if so.
PICK_READ_PENDING = b"this._readPending=!0"
PICK_READ_ON_QUERY = rb"\1this._readPending&&(this._readPending=!1,this._readCallback());"
LAZY_PICK = ((PICK_READ_SCHEDULED, PICK_READ_PENDING), (PICK_QUERY, PICK_READ_ON_QUERY))


def lazy_pick_readback(script: bytes) -> bytes:
    """The 3-D bundle reading its hover-picking image back when it is first queried, not after every draw.

    plotly.js's 3-D scenes (gl-plot3d) draw every object again into a
    picking framebuffer after each change and, 1 ms later, read that whole
    image back to the CPU (``readPixels``), whether or not the pointer is on
    the chart.  The read waits until the GPU has finished every command
    before it; with software GL (no GPU) that is the whole first draw of the
    scene, so the main thread was blocked 0.2–0.3 s after the explorer's
    scatter appeared, and again after each step of a rotation.  Here the
    read happens when the mouse listener first queries the image (hovering
    or clicking a point), so what is picked is the same, and is the newest
    picking image.

    Returns ``script`` unchanged when the two places are not found exactly
    once each (another plotly.js build); ``tests/test_plotly_loading.py``
    checks the vendored bundle is patched.
    """
    return edited(script, LAZY_PICK)


#: gl-plot3d's ``createScene`` ends by running its render loop once (``ae()``: a draw of the empty scene).
LOOP_STARTED_AT_ONCE = re.compile(rb"(return (\w+)\.enableMouseListeners\(\),)(\w+)\(\),(\2\.redraw=function\(\))")
LOOP_STARTED_NEXT_FRAME = rb"\1requestAnimationFrame(\3),\4"
#: The 3-D camera's ``mode`` setter: to turntable, the up vector is animated to +z over the next 500 ms.
TURNTABLE_ANIMATED = re.compile(
    rb"var (\w+)=\w+\(\);(\w+)\._active\.lookAt\(\1,(\w+),(\w+),\w+\),"
    rb"\2\._active\.lookAt\(\1\+500,\3,\4,\[0,0,1\]\),\2\._active\.flush\(\1\)"
)
#: The same end state (eye, centre, up +z), set at the view's last key time: seen by the first draw.
TURNTABLE_AT_ONCE = rb"var \1=\2.lastT();\2._active.lookAt(\1,\3,\4,[0,0,1]),\2._active.flush(\1)"
ONE_FIRST_DRAW = ((LOOP_STARTED_AT_ONCE, LOOP_STARTED_NEXT_FRAME), (TURNTABLE_ANIMATED, TURNTABLE_AT_ONCE))


def one_first_draw(script: bytes) -> bytes:
    """The 3-D bundle drawing a new scene once, not four times in its first half second.

    Traced in a fresh browser (every clear of the page's WebGL canvas logged
    with its call stack and what made the render loop draw): plotly.js drew
    a new scene (1) empty, when gl-plot3d's ``createScene`` ran its render
    loop once before the traces were added, at the graph's full height; (2)
    with the data, from the scene's ``plot``, 30 px lower once the top
    margin applied (the canvas is resized: a new drawing buffer); (3, 4,
    and a fifth ~0.5 s later) from the render loop, because the camera's
    matrix moved by about 0.001: the scene's ``updateFx`` sets the camera's
    mode to turntable on every plot, the camera was created in orbit mode,
    and the mode setter animates the up vector to +z over 500 ms, seen by
    the loop only 2 frames late (it reads the camera 33 ms in the past).
    Each draw without a GPU costs tens to hundreds of milliseconds.

    Here (1) the loop's first run waits for the next animation frame (the
    scene's ``plot``, in the same task, has drawn it by then, so the loop
    finds nothing to do) and (3–5) the turntable's up is set at the view's
    last key time, without the animation; the end state is the same (the
    camera matrix and a screenshot of the settled scene are identical).  A
    user switching the mode bar from orbit to turntable rotation sees the
    scene right itself at once instead of over half a second.

    Returns ``script`` unchanged unless both places are found exactly once.
    """
    return edited(script, ONE_FIRST_DRAW)


def install(app: dash.Dash) -> None:
    """Serve the 3-D bundle only where it is needed, and both with :data:`FIRST_DRAW_AFTER_PAINT`.

    Call from the app factory AFTER :func:`dashboard.compression.install`:
    Flask runs ``after_request`` functions last-registered first, and the
    body must be changed before it is compressed.
    """
    url_3d = stamped_url(app, BUNDLE_3D)
    path_3d = app.get_asset_url(BUNDLE_3D)
    path_2d = app.get_asset_url(BUNDLE_2D)
    pages = tuple(app.get_relative_path(p) for p in THREE_D_PAGES)

    @app.server.after_request
    def _plotly_3d_on_demand(response: flask.Response) -> flask.Response:
        request = flask.request
        if response.status_code != 200:
            return response
        if request.path.endswith("/_dash-update-component") and response.mimetype == "application/json":
            body = add_dist(response.get_data(), url_3d)
            if body is not None:
                response.set_data(body)
        elif request.path == path_3d:
            response.direct_passthrough = False
            response.set_data(guarded(response.get_data()))
        elif request.path == path_2d:
            response.direct_passthrough = False
            response.set_data(with_first_draw_after_paint(response.get_data()))
        elif response.mimetype == "text/html":
            html = response.get_data()
            if request.path.rstrip("/") in pages:
                response.set_data(swap_link(html, url_3d))
            else:
                response.set_data(add_prefetch_meta(html, url_3d, pages))
        return response
