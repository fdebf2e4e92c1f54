"""Load the data-grid library (dash-ag-grid, 1.3 MB of JavaScript) only where a grid is shown.

Dash puts every imported component library's script on every page, so the
overview, the simulator and the other pages without a grid downloaded and
compiled the grid bundle too.  :func:`install` changes that with Dash's own
mechanism for libraries a page did not load at start: a callback response may
carry ``"dist"``, a list of scripts the renderer loads (and waits for) before
it renders the response.

- The grid's main bundle becomes a *dynamic* resource: still served under
  its fingerprinted URL, no longer a ``<script>`` of the page.
- Every ``/_dash-update-component`` response that contains a grid component
  (Dash pages renders each page's layout through such a callback, so a page
  opened directly and a navbar switch both count) gets that URL in ``dist``.
- The renderer appends the script each time it is listed, so the served
  bundle starts with a guard: once ``window.dash_ag_grid`` exists it does not
  run again (a second run would replace the component class and remount the
  grids already on the page).  The grid's own lazy chunk
  (``async-community.js``) is found relative to the bundle's URL, which does
  not change.
"""

from __future__ import annotations

import json

import dash
import dash_ag_grid
import flask

NAMESPACE = "dash_ag_grid"
BUNDLE = "dash_ag_grid.min.js"
#: Skip running the bundle when an earlier copy already defined the library.
GUARD_OPEN = b"if(!window.dash_ag_grid){"
GUARD_CLOSE = b"\n}\n"
#: How a serialised grid component shows in a callback response (with or without the space).
MARKERS = (b'"namespace":"dash_ag_grid"', b'"namespace": "dash_ag_grid"')


def _main_bundle() -> dict:
    return next(r for r in dash_ag_grid._js_dist if r.get("relative_package_path") == BUNDLE)


def make_dynamic() -> None:
    """Take the grid bundle off every page's script list (it stays servable); idempotent."""
    _main_bundle()["dynamic"] = True


def bundle_url(app: dash.Dash) -> str:
    """The fingerprinted URL Dash serves the grid bundle under (and registers it for serving)."""
    resource = {"relative_package_path": BUNDLE, "namespace": NAMESPACE}
    (url,) = app._collect_and_register_resources([resource])
    return url


def add_dist(body: bytes, url: str) -> bytes | None:
    """The callback response ``body`` with the grid script in ``dist``; None if it holds no grid."""
    if not any(marker in body for marker in MARKERS):
        return None
    data = json.loads(body)
    dist = data.setdefault("dist", [])
    if not any(d.get("url") == url for d in dist):
        dist.append({"type": "_js_dist", "url": url})
    return json.dumps(data, separators=(",", ":")).encode()


def guarded(script: bytes) -> bytes:
    """``script`` that does nothing when ``window.dash_ag_grid`` is already defined."""
    return GUARD_OPEN + script + GUARD_CLOSE


def install(app: dash.Dash) -> None:
    """Serve the grid bundle on demand only.

    Call from the app factory AFTER :func:`dashboard.compression.install`:
    Flask runs ``after_request`` functions last-registered first, and the
    body must be changed before it is compressed.
    """
    make_dynamic()
    url = bundle_url(app)
    path = url.split("?")[0]

    @app.server.after_request
    def _grid_on_demand(response: flask.Response) -> flask.Response:
        request = flask.request
        if request.path.endswith("/_dash-update-component") and response.mimetype == "application/json":
            body = add_dist(response.get_data(), url)
            if body is not None:
                response.set_data(body)
        elif request.path == path and response.status_code == 200:
            response.direct_passthrough = False
            response.set_data(guarded(response.get_data()))
        return response
