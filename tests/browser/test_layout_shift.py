"""Layout shift (CLS) of every page in a real browser, in both themes.

Cumulative layout shift is a layout measure, not a timing: the sum of how far
visible content jumps while the page fills in (callbacks answering, plotly.js
and the other on-demand scripts arriving), excluding shifts right after user
input.  Each page is opened in a new tab with a ``PerformanceObserver`` on
``layout-shift`` entries installed before the page's own scripts; the value is
read once every callback is done and every chart is drawn.  Target (issue
#12, Lighthouse's "good"): below 0.1 on every page.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.screenshots import VIEWPORT, page_paths, set_theme, wait_settled

#: Sums ``layout-shift`` entries not caused by recent input into ``window.__cls``; keeps the moved nodes for the message.
CLS_OBSERVER = """
window.__cls = 0; window.__shifts = [];
new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
        if (e.hadRecentInput) continue;
        window.__cls += e.value;
        const nodes = (e.sources || []).map((s) => {
            const n = s.node;
            return n ? (n.id || (typeof n.className === 'string' && n.className) || n.nodeName) : '?';
        });
        window.__shifts.push(e.value.toFixed(3) + ' ' + nodes.slice(0, 3).join(', '));
    }
}).observe({type: 'layout-shift', buffered: true});
"""
TARGET = 0.1
# The comparison on /models is computed on the first visit: its page is complete when the content shows.
MODELS_READY_JS = (
    "() => !document.querySelector('#models-content') || !document.querySelector('#models-content[hidden]')"
)


@pytest.fixture
def context(browser, live_server: str) -> Iterator[object]:
    ctx = browser.new_context(viewport=VIEWPORT, base_url=live_server)
    yield ctx
    ctx.close()


def page_cls(context, path: str) -> tuple[float, list[str]]:
    """CLS of one page load, read when its callbacks are done and its charts drawn."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(CLS_OBSERVER)
    page.goto(path)
    page.wait_for_function(MODELS_READY_JS, timeout=120_000)
    wait_settled(page, timeout_ms=60_000)
    cls, shifts = page.evaluate("() => [window.__cls, window.__shifts]")
    page.close()
    assert not errors, f"{path}: page errors {errors}"
    return float(cls), list(shifts)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_shifts_less_than_a_tenth(context, live_server: str, theme: str) -> None:
    first = context.new_page()
    first.goto("/")
    wait_settled(first)
    set_theme(first, theme)  # persisted in the context: every page below opens in this theme
    first.close()
    paths = page_paths(live_server)
    assert "/" in paths and len(paths) >= 7
    results = {path: page_cls(context, path) for path in paths}
    too_much = {p: (round(c, 3), s) for p, (c, s) in results.items() if c >= TARGET}
    assert not too_much, f"layout shift ≥ {TARGET} ({theme}): {too_much}"
