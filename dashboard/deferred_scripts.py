"""Paint the page before its scripts run: every ``<script src>`` of the page gets ``defer``.

Dash writes its library scripts (React, the renderer, the component suites,
plotly.js) as plain ``<script>`` tags at the end of the body, then an inline
script that starts the renderer.  Plain scripts block the first paint until
all of them are downloaded and run, so the browser showed nothing (not even the
"Loading..." placeholder) for about 1.5 s on a first visit.  Deferred scripts
are downloaded in parallel with the parsing and run, in document order, after
it and before ``DOMContentLoaded``; the renderer is started on that event,
so it still runs after every library script, as before.
"""

from __future__ import annotations

from typing import Any

import dash

#: The renderer start-up, run once every deferred script has run.
RENDERER = "window.addEventListener('DOMContentLoaded', function () { window.renderer = new DashRenderer(); });"


def defer(scripts: str) -> str:
    """``scripts`` (Dash's ``{%scripts%}`` HTML) with ``defer`` on every external script."""
    return scripts.replace("<script src=", "<script defer src=")


def install(app: dash.Dash) -> None:
    """Defer the page's scripts; call from the app factory BEFORE the CSP hashes are taken (the renderer changes)."""
    app.renderer = RENDERER
    interpolate = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        return interpolate(**{**kwargs, "scripts": defer(kwargs["scripts"])})

    app.interpolate_index = interpolate_index
