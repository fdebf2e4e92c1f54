"""Paint the page before its scripts run: every ``<script src>`` of the page gets ``defer``.

Dash writes its library scripts (React, the renderer, the component suites,
plotly.js) as plain ``<script>`` tags at the end of the body, then an inline
script that starts the renderer.  Plain scripts block the first paint until
all of them are downloaded and run, so the browser showed nothing (not even the
"Loading..." placeholder) for about 1.5 s on a first visit.  Deferred scripts
are downloaded in parallel with the parsing and run, in document order, after
it and before ``DOMContentLoaded``; the renderer is started on that event,
so it still runs after every library script, as before.

``dcc.Graph``'s code is a chunk (``async-graph.js``) that the renderer asks
for only when the first graph mounts, one more round trip between the page's
layout arriving and its first chart; it is preloaded with the page
(:data:`PRELOAD`), so it is already there when the layout arrives.
"""

from __future__ import annotations

from typing import Any

import dash

#: The renderer start-up, run once every deferred script has run.
RENDERER = "window.addEventListener('DOMContentLoaded', function () { window.renderer = new DashRenderer(); });"
#: On-demand chunks every chart page needs, fetched with the page (paths under ``_dash-component-suites/``).
PRELOAD = ("dash/dcc/async-graph.js",)


def defer(scripts: str) -> str:
    """``scripts`` (Dash's ``{%scripts%}`` HTML) with ``defer`` on every external script."""
    return scripts.replace("<script src=", "<script defer src=")


def preloads(prefix: str = "/") -> str:
    """``<link rel="preload">`` tags for :data:`PRELOAD` under the app's ``requests_pathname_prefix``."""
    return "".join(f'<link rel="preload" as="script" href="{prefix}_dash-component-suites/{path}">' for path in PRELOAD)


def install(app: dash.Dash) -> None:
    """Defer the page's scripts; call from the app factory BEFORE the CSP hashes are taken (the renderer changes)."""
    app.renderer = RENDERER
    interpolate = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        scripts = preloads(app.config.requests_pathname_prefix or "/") + defer(kwargs["scripts"])
        return interpolate(**{**kwargs, "scripts": scripts})

    app.interpolate_index = interpolate_index
