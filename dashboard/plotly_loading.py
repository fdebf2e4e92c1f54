"""plotly.js in two files: the 2-D build on every page, its 3-D part only once a 3-D chart is drawn.

``assets/vendor/build_plotly.sh`` builds both from plotly.js with only the trace
types the app draws.  ``plotly-2d.min.js`` is plotly.js's core with the 2-D trace
types; ``plotly-3d.min.js`` holds only what ``scatter3d`` adds (its WebGL scene
and the scene's annotations, 0.57 MB) and registers it into the 2-D build on the
page, using that build's own modules (``Plotly.__internals``).  Only the explorer
draws in 3-D (the simulator's customer map is 2-D).

- Every page links ``plotly-2d.min.js``, an ordinary asset, and names the 3-D
  part (kept off the pages by ``ASSETS_IGNORE`` in the app factory; Flask
  serves it with its modification stamp in the URL, cached as immutable) and
  the 3-D pages in a ``<meta name="plotly-3d">`` for ``assets/prefetch.js``.
- The 2-D build is served with :data:`DRAW_HOOKS`.  A graph's first 3-D draw
  waits for a frame of the page around it to be painted, then for the 3-D part
  (``window.__dashLoadPlotly3d`` in ``assets/prefetch.js`` runs it once), then
  draws.  So the page's text never waits for the 3-D code: opened directly,
  ``/explorer`` paints like a 2-D page and its scene follows.
- Until 2026-12-02 the 3-D file was a whole second build (the 2-D one plus
  ``scatter3d``, 1.9 MB) that replaced ``window.Plotly``, so a page switching
  to 3-D downloaded, compiled and ran plotly.js's core a second time, and the
  hooks had to hand every call of the replaced build on to the new one.  The
  3-D part is 0.57 MB and runs on the build already there (figures in the
  README's "Page speed" section, tenth round).
- The served 3-D part reads the scene's hover-picking image back from the
  GPU when the pointer first asks for it, not after every draw
  (:func:`lazy_pick_readback`): without a GPU that read waits for the whole
  scene to be rendered, a long task right after the first draw.
- It also draws a new scene once instead of four times in its first half
  second (:func:`one_first_draw`): not empty before its traces are added, and
  not again for a camera animation that moves nothing visible.
- A graph's first 3-D draw, and the first draw of a graph below the window,
  wait for the page around them to be painted (:data:`DRAW_HOOKS`): without a
  GPU the scene's creation is a long task, and the page's text waited for it;
  a chart out of sight held back those in view.
- So that a navbar switch waits neither for the download nor for the
  compile, every 2-D page has ``assets/prefetch.js`` load the 3-D part once
  the page has settled and the browser is idle, as a ``<script>`` marked
  ``data-compile-only`` (:data:`COMPILE_ONLY`): the browser downloads it into
  its HTTP cache and V8 compiles it (on a background thread: the compile
  hint), but the guard skips its body.  The run then finds the same source in
  the cache, compiled.  When a link to a 3-D page is pressed or clicked, the
  script runs the part at once, while the server builds the new page.
"""

from __future__ import annotations

import re
from pathlib import Path

import dash
import flask

BUNDLE_2D = "vendor/plotly-2d.min.js"
BUNDLE_3D = "vendor/plotly-3d.min.js"
#: Pages whose layout draws a 3-D chart (tests/test_plotly_bundle.py checks it against the figure builders).
THREE_D_PAGES = ("/explorer",)
#: V8's explicit compile hint, the bundles' first line (``assets/vendor/build_plotly.sh``): their functions are
#: compiled on a background thread while the file streams in, not one by one on the main thread as the bundle's
#: modules first run.  Landing page, fresh contexts on 2 cores: main-thread CPU 396 -> 308 ms, long tasks 134 ->
#: 15 ms (Lighthouse TBT 41 -> 2 ms), so the page answers input sooner; charts drawn no sooner (old and new
#: alternating, 16 runs each: 931 and 948 ms medians), as the compile still shares the two cores.  Read only
#: as the first line.
COMPILE_HINT = b"//# allFunctionsCalledOnLoad\n"
#: The attribute of the ``<script>`` that loads the 3-D part to have it compiled, not run (``assets/prefetch.js``).
COMPILE_ONLY = "data-compile-only"
#: Skip running the 3-D part when it already ran, or when the script is loaded only to be compiled.
GUARD_OPEN = (
    b"if(!window.__plotly3d&&!(document.currentScript&&document.currentScript.hasAttribute("
    + f'"{COMPILE_ONLY}"'.encode()
    + b"))){"
)
#: What the 2-D build runs after its own code, on its ``Plotly`` object:
#:
#: 1. ``Plotly.react`` draws a graph's first figure in a task of its own, after the next paint, when the figure
#:    is 3-D or the graph starts below the window.  dcc.Graph draws in the task that puts the page in the
#:    document, so nothing of the page is painted before every graph on it is drawn.  Without a GPU, creating
#:    a WebGL scene (context, shader programs, axes) is one task of 0.35-0.5 s: measured on /explorer, its
#:    largest text was painted 1.7-2.0 s after the start (Lighthouse's LCP), almost all of it waiting for that
#:    task.  Deferred, Lighthouse /explorer went from 73 to 80-83 (TBT 448 -> 276-295 ms).  A 2-D chart below
#:    the window is not seen before the page is scrolled, so it is drawn after the charts in view have been
#:    painted: the simulator's customer map (1,200 points, 90-120 ms to draw) held back its gauge and
#:    distances.  The first call for a graph not drawn yet waits for an animation frame and then a timer
#:    (the frame is painted in between); calls made meanwhile for the same graph run after it, in order.
#: 2. A 3-D figure (a graph's first, or a later one) is drawn after the 3-D part has run
#:    (``window.__dashLoadPlotly3d``, ``assets/prefetch.js``), in a task before the draw's.  A graph that has
#:    left the page meanwhile is not drawn (its scene's WebGL context and render loop would live on in a
#:    detached element).  If the part cannot be loaded or does not register ``scatter3d`` (a network error,
#:    more than 30 s, or a 2-D build of other code in a tab opened before an upgrade), the graph shows
#:    :data:`PART_UNAVAILABLE` instead: plotly.js would otherwise draw the unknown trace type as a 2-D
#:    scatter of its x and y, a chart that looks right and is not.  The next figure for the graph tries the
#:    part again, and a part that arrives late (the ``dash-plotly3d`` event of :data:`GUARD_CLOSE`) draws
#:    the figures that were waiting for it.
#: 3. A resize asked for while a graph's first draw waits runs after it (dcc.Graph resizes a graph when its
#:    box changes; before the draw there is nothing to resize), and so does a new figure, through these
#:    hooks again (a 3-D figure following a 2-D first draw still brings the part).
#:
#: Every other call is passed through as it is.
PART_UNAVAILABLE = "The 3-D view could not be loaded. Reload the page to try again."
DRAW_HOOKS = (
    b"""(function(P){var react=P.react;
function task(){return new Promise(function(done){setTimeout(done,0);});}
function is3d(fig){var data=fig&&!Array.isArray(fig)?fig.data:fig;
return Array.isArray(data)&&data.some(function(t){return t&&t.type==='scatter3d';});}
function unavailable(fig,layout){var l=(Array.isArray(fig)?layout:fig&&fig.layout)||{};
return {data:[],config:fig&&fig.config,layout:{template:l.template,paper_bgcolor:l.paper_bgcolor,
plot_bgcolor:l.plot_bgcolor,font:l.font,height:l.height,margin:l.margin,xaxis:{visible:false},yaxis:{visible:false},
annotations:[{text:"""
    + f'"{PART_UNAVAILABLE}"'.encode()
    + b""",showarrow:false,xref:'paper',yref:'paper',x:0.5,y:0.5}]}};}
P.react=function(gd,fig){var self=this,args=arguments;
if(gd&&gd.__firstDraw){return gd.__firstDraw.then(function(){return P.react.apply(self,args);});}
var three=is3d(fig),need3d=three&&!window.__plotly3d;
var below=!!(gd&&gd.getBoundingClientRect)&&gd.getBoundingClientRect().top>=window.innerHeight;
if(!gd||(gd._fullLayout&&!need3d)||!(three||below)){if(gd){gd.__wants3d=null;}return react.apply(self,args);}
var failed=false;
var first=new Promise(function(done){requestAnimationFrame(function(){setTimeout(done,0);});})
.then(function(){var load=window.__dashLoadPlotly3d;
if(!need3d||window.__plotly3d||!gd.isConnected){return null;}if(!load){failed=true;return null;}
return load().then(task,function(){failed=true;});})
.then(function(){if(!gd.isConnected){return null;}
if(failed&&!window.__plotly3d){gd.__wants3d=args;return react.call(self,gd,unavailable(fig,args[2]));}
gd.__wants3d=null;return react.apply(self,args);});
gd.__firstDraw=first.then(function(){gd.__firstDraw=null;},function(){gd.__firstDraw=null;});
return first;};
window.addEventListener('dash-plotly3d',function(){
document.querySelectorAll('.js-plotly-plot').forEach(function(gd){var args=gd.__wants3d;
if(args&&gd.isConnected){gd.__wants3d=null;P.react.apply(P,args);}});});
var resize=P.Plots.resize;
P.Plots.resize=function(gd){
if(gd&&gd.__firstDraw){return gd.__firstDraw.then(function(){return P.Plots.resize(gd);});}
return resize(gd);};
})(window.Plotly);"""
)
#: After the 3-D part has run: WebGL scenes drawn at the screen's own pixel density (plotly.js's default is 2
#: device pixels per CSS pixel on every screen, four times the pixels to render and to read back for hover
#: picking on a standard screen; without a GPU that is most of the first 3D draw), and the ``dash-plotly3d``
#: event, for figures that gave up waiting for a late part (:data:`DRAW_HOOKS`).
GUARD_CLOSE = (
    b"\nwindow.__plotly3d=true;"
    b"window.Plotly.setPlotConfig({plotGlPixelRatio:Math.max(1,Math.round(window.devicePixelRatio||1))});"
    b"window.dispatchEvent(new Event('dash-plotly3d'));"
    b"}\n"
)
#: Name of the ``<meta>`` that gives ``assets/prefetch.js`` the 3-D part's URL.
PREFETCH_META = "plotly-3d"
LINK_2D = re.compile(re.escape(BUNDLE_2D).encode() + rb"\?m=[0-9.]+")


def stamped_url(app: dash.Dash, asset: str) -> str:
    """The asset's URL with its modification stamp (``?m=``), as Dash links the assets it walks."""
    path = Path(app.config.assets_folder) / asset
    return f"{app.get_asset_url(asset)}?m={path.stat().st_mtime}"


def add_prefetch_meta(html: bytes, url_3d: str, pages: tuple[str, ...] = THREE_D_PAGES) -> bytes:
    """The page HTML naming the 3-D part and the 3-D pages for ``assets/prefetch.js`` (only a page that links the 2-D one)."""
    if not LINK_2D.search(html) or b"</head>" not in html:
        return html
    meta = f'<meta name="{PREFETCH_META}" content="{url_3d}" data-pages="{" ".join(pages)}">'.encode()
    return html.replace(b"</head>", meta + b"</head>", 1)


def with_draw_hooks(script: bytes) -> bytes:
    """The 2-D build ``script`` with :data:`DRAW_HOOKS` run after it."""
    return script + b"\n;" + DRAW_HOOKS + b"\n"


def guarded(script: bytes) -> bytes:
    """The 3-D part ``script`` (with :func:`lazy_pick_readback` and :func:`one_first_draw`), run once at most.

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
    """The 3-D part reading its hover-picking image back when it is first queried, not after every draw.

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
    """The 3-D part drawing a new scene once, not four times in its first half second.

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
    """Serve the 2-D build with :data:`DRAW_HOOKS` and the 3-D part guarded and patched; name the part in every page.

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
        if request.path == path_3d:
            response.direct_passthrough = False
            response.set_data(guarded(response.get_data()))
        elif request.path == path_2d:
            response.direct_passthrough = False
            response.set_data(with_draw_hooks(response.get_data()))
        elif response.mimetype == "text/html":
            response.set_data(add_prefetch_meta(response.get_data(), url_3d, pages))
        return response
