"""The page's own scripts: deferred, and without Dash's 96 KB polyfill.

Paint the page before its scripts run: every ``<script src>`` of the page gets ``defer``.

Dash writes its library scripts (React, the renderer, the component suites,
plotly.js) as plain ``<script>`` tags at the end of the body, then an inline
script that starts the renderer.  Plain scripts block the first paint until
all of them are downloaded and run, so the browser showed nothing (not even the
"Loading..." placeholder) for about 1.5 s on a first visit.  Deferred scripts
are downloaded in parallel with the parsing and run, in document order, after
it and before ``DOMContentLoaded``; the renderer is started on that event,
so it still runs after every library script, as before.

Dash lists ``@babel/polyfill`` 7.12 first among the renderer's dependencies.
In the browsers the app supports (every current Chromium, Firefox and
Safari) core-js finds nothing to add, but it still inspects and wraps the
built-ins, which cost 85-120 ms of main thread on every first load (the
largest script evaluation of the landing page, before plotly.js).  The one
thing the Dash scripts need from it is the global ``regeneratorRuntime``
(the renderer's lazy components, ``dcc`` and the bootstrap components call
it).  So the page loads ``regenerator-runtime`` 0.14.1 (25 KB, MIT,
``assets/vendor/regenerator-runtime.js``, kept off Dash's automatic asset
list) in the polyfill's place, first, as before.

Dash also links its DataTable library (``dash_table``, 32 KB) on every page
because ``import dash`` registers it; the app draws no DataTable (tables are
plain HTML or, where a grid is needed, dash-ag-grid), so its tag is dropped.
"""

from __future__ import annotations

import re
from typing import Any

import dash

from .plotly_loading import stamped_url

#: The renderer start-up, run once every deferred script has run.
RENDERER = "window.addEventListener('DOMContentLoaded', function () { window.renderer = new DashRenderer(); });"
#: The part of the polyfill the Dash scripts use (served from the assets folder, not linked automatically).
REGENERATOR = "vendor/regenerator-runtime.js"
#: Dash's ``<script>`` for ``@babel/polyfill`` (its URL carries Dash's version stamp).
POLYFILL = re.compile(r'<script src="[^"]*/dash/deps/polyfill@[^"]*"></script>')


#: Dash's ``<script>`` for the DataTable library, which no page uses (tests/test_deferred_scripts.py checks).
DATA_TABLE = re.compile(r'<script src="[^"]*/dash/dash_table/bundle[^"]*"></script>\n?')


def drop_data_table(scripts: str) -> str:
    """``scripts`` without Dash's DataTable library."""
    return DATA_TABLE.sub("", scripts)


def drop_polyfill(scripts: str, regenerator_url: str) -> str:
    """``scripts`` with Dash's polyfill replaced by ``regenerator-runtime`` at the same place.

    Raises
    ------
    ValueError
        If ``scripts`` has no polyfill tag (a Dash upgrade changed it: look
        again at what the new renderer needs before dropping anything).
    """
    swapped, count = POLYFILL.subn(f'<script src="{regenerator_url}"></script>', scripts)
    if count != 1:
        raise ValueError(f"expected one @babel/polyfill script in Dash's page, found {count}")
    return swapped


#: ``dcc``'s main script; its graph chunk is named like it (same folder, same version stamp).
DCC_MAIN = re.compile(r'<script src="(?P<base>[^"]*/dash/dcc/)dash_core_components(?P<stamp>\.v[^"/]*)?\.js"></script>')


def load_graph_chunk(scripts: str) -> str:
    """``scripts`` with ``dcc``'s graph chunk (13 KB) loaded with the page, right after ``dcc`` itself.

    ``dcc.Graph`` is a lazy component: its code is a separate chunk
    (``async-graph.js``) that ``dcc`` fetches when the first graph is rendered,
    so every page's first chart waited for one more request and one more
    render pass.  Loaded as a page script, the chunk registers itself in
    ``dcc``'s chunk list and the graph finds it there.  Every page but the
    data page draws a chart first thing.

    Raises
    ------
    ValueError
        If ``scripts`` has no ``dcc`` script (a Dash upgrade changed its name).
    """

    def add(m: re.Match[str]) -> str:
        return f'{m[0]}<script src="{m["base"]}async-graph{m["stamp"] or ""}.js"></script>'

    out, count = DCC_MAIN.subn(add, scripts)
    if count != 1:
        raise ValueError(f"expected one dash_core_components script in Dash's page, found {count}")
    return out


def defer(scripts: str) -> str:
    """``scripts`` (Dash's ``{%scripts%}`` HTML) with ``defer`` on every external script."""
    return scripts.replace("<script src=", "<script defer src=")


def install(app: dash.Dash) -> None:
    """Defer the page's scripts, swap the polyfill, drop DataTable; call from the app factory BEFORE the CSP hashes are taken."""
    app.renderer = RENDERER
    interpolate = app.interpolate_index
    regenerator_url = stamped_url(app, REGENERATOR)

    def interpolate_index(**kwargs: Any) -> str:
        return interpolate(
            **{
                **kwargs,
                "scripts": defer(load_graph_chunk(drop_data_table(drop_polyfill(kwargs["scripts"], regenerator_url)))),
            }
        )

    app.interpolate_index = interpolate_index
