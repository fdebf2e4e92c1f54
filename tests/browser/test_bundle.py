"""What the browser downloads: the partial plotly.js build (its 3-D part only where drawn), never plotly.min.js, the grid library only with a grid.

Each test records every request of a fresh browser context.  The charts of
each page must be drawn by the partial bundle with the trace types it was
built with (a trace type Plotly does not know would be dropped or drawn as
something else), and a page without a grid must not fetch dash-ag-grid.
"""

from __future__ import annotations

from playwright.sync_api import expect

from dashboard.screenshots import wait_settled
from tests.test_plotly_bundle import BUNDLE_2D, bundle_header

TRACE_TYPES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(
    gd => (gd._fullData || []).map(t => t.type))"""


#: Resource Timing entries of the 3-D part: how each was asked for and bytes over the wire.
BUNDLE_3D_ENTRIES_JS = """() => performance.getEntriesByType('resource').filter(e => e.name.includes('plotly-3d'))
    .map(e => ({initiator: e.initiatorType, transferred: e.transferSize}))"""
PREFETCHED_JS = (
    "() => performance.getEntriesByType('resource').some(e => e.name.includes('plotly-3d') && e.responseEnd > 0)"
)


#: The 3-D part's script elements: whether each is the copy loaded only to be compiled (assets/prefetch.js).
BUNDLE_3D_SCRIPTS_JS = """() => [...document.querySelectorAll('script[src*="plotly-3d"]')]
    .map(s => s.hasAttribute('data-compile-only'))"""
#: Trace types the page's plotly.js can draw.
SCATTER3D_KNOWN_JS = "() => 'scatter3d' in window.Plotly.PlotSchema.get().traces"


def assert_3d_bundle_not_run(page) -> None:
    """A 2-D page may load the 3-D part to have it compiled (assets/prefetch.js) but never runs it."""
    assert page.evaluate("() => window.__plotly3d") is None
    assert all(page.evaluate(BUNDLE_3D_SCRIPTS_JS))
    assert page.evaluate(SCATTER3D_KNOWN_JS) is False  # nothing registered into the 2-D build


def record(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def drawn_trace_types(page) -> set[str]:
    wait_settled(page, timeout_ms=60_000)
    return set(page.evaluate(TRACE_TYPES_JS))


def test_pages_draw_with_the_partial_bundle_and_never_fetch_plotly_min_js(page) -> None:
    _, traces = bundle_header()
    urls = record(page)
    response = page.goto("/")
    assert response is not None and response.ok
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    seen = drawn_trace_types(page)
    assert seen <= bundle_header(BUNDLE_2D)[1]
    assert_3d_bundle_not_run(page)
    page.goto("/explorer")
    expect(page.locator("#explorer-scatter-graph .gl-container canvas").first).to_be_attached()
    seen |= drawn_trace_types(page)
    page.goto("/changes")
    expect(page.locator("#changes-sankey .sankey-link").first).to_be_attached()
    seen |= drawn_trace_types(page)
    page.goto("/simulator")
    seen |= drawn_trace_types(page)
    assert {"bar", "scatter3d", "sankey"} <= seen
    assert seen <= traces, seen - traces
    assert not [u for u in urls if "plotly.min.js" in u]
    assert [u for u in urls if "/assets/vendor/plotly-2d.min.js" in u], "the 2-D bundle was not loaded"
    assert [u for u in urls if "/assets/vendor/plotly-3d.min.js" in u], "the 3-D bundle was not loaded"
    assert page.evaluate("() => typeof window.Plotly.newPlot") == "function"
    # dcc's graph chunk came with each page's scripts (stamped URL, 4 pages opened), never fetched by dcc
    # itself (``async-graph.js`` without the stamp) when a graph was rendered
    chunks = [u for u in urls if "/dcc/async-graph" in u]
    assert len(chunks) == 4 and all("/dcc/async-graph.v" in u for u in chunks), chunks


#: When the explorer's axes note (its largest text) entered the document, in ms from the navigation.
NOTE_ARRIVAL_JS = """(() => {
    window.__noteAt = null;
    new MutationObserver(() => {
        if (window.__noteAt === null && document.getElementById('explorer-axes-note')) window.__noteAt = performance.now();
    }).observe(document, {childList: true, subtree: true});
})()"""
#: When each plotly.js bundle was asked for, in ms from the navigation.
BUNDLE_STARTS_JS = """() => Object.fromEntries(performance.getEntriesByType('resource')
    .filter(e => /plotly-[23]d/.test(e.name)).map(e => [e.name.match(/plotly-[23]d/)[0], e.startTime]))"""


def test_explorer_opened_directly_paints_as_a_2d_page_then_runs_the_3d_bundle(page) -> None:
    """The page's text does not wait for the 3-D bundle: it is asked for once the page is in the document."""
    page.add_init_script(NOTE_ARRIVAL_JS)
    urls = record(page)
    page.goto("/explorer")
    expect(page.locator("#explorer-scatter-graph .gl-container canvas").first).to_be_attached(timeout=60_000)
    assert "scatter3d" in drawn_trace_types(page)
    assert len([u for u in urls if "plotly-2d.min.js" in u]) == 1
    assert len([u for u in urls if "plotly-3d.min.js" in u]) == 1
    starts = page.evaluate(BUNDLE_STARTS_JS)
    note = page.evaluate("() => window.__noteAt")
    assert starts["plotly-2d"] < note < starts["plotly-3d"], (starts, note)
    assert page.evaluate(BUNDLE_3D_SCRIPTS_JS) == [False]  # run once, nothing loaded only to be compiled
    assert page.evaluate("() => window.__plotly3d") is True
    assert page.evaluate(SCATTER3D_KNOWN_JS) is True


def test_navbar_switch_to_the_explorer_brings_the_3d_bundle_and_back_draws_2d(page) -> None:
    urls = record(page)
    page.goto("/")
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    wait_settled(page, timeout_ms=60_000)
    # loaded at idle to be compiled, not run
    page.wait_for_function(PREFETCHED_JS, timeout=60_000)
    assert page.evaluate(BUNDLE_3D_SCRIPTS_JS) == [True]
    assert_3d_bundle_not_run(page)
    assert len([u for u in urls if "plotly-3d" in u]) == 1
    page.locator(".app-navbar a.nav-link[href='/explorer']").click()
    expect(page.locator("#explorer-scatter-graph .gl-container canvas").first).to_be_attached(timeout=60_000)
    assert "scatter3d" in drawn_trace_types(page)
    assert page.evaluate("() => window.__plotly3d") is True
    assert page.evaluate(SCATTER3D_KNOWN_JS) is True
    assert page.evaluate(BUNDLE_3D_SCRIPTS_JS) == [True, False]  # one copy compiled at idle, one run
    # the switch ran the same file without downloading it again: from the browser's cache (transfer size 0:
    # not even a revalidation, since an immutable file neither sets nor varies on the session cookie)
    entries = page.evaluate(BUNDLE_3D_ENTRIES_JS)
    assert entries[0]["initiator"] == "script" and entries[0]["transferred"] > 100_000, entries
    assert all(e["transferred"] == 0 for e in entries[1:]), entries
    # the second switch does not run the 3-D part again, and no switch replaces the page's plotly.js
    assert page.evaluate("() => window.Plotly.__marker = 1") == 1
    page.locator(".app-navbar a.nav-link[href='/']").click()
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    page.locator(".app-navbar a.nav-link[href='/explorer']").click()
    expect(page.locator("#explorer-scatter-graph .gl-container canvas").first).to_be_attached(timeout=60_000)
    assert page.evaluate(BUNDLE_3D_SCRIPTS_JS) == [True, False]
    page.locator(".app-navbar a.nav-link[href='/']").click()
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    assert page.evaluate("() => window.Plotly.__marker") == 1


def test_a_right_click_on_the_explorer_link_does_not_run_the_3d_bundle(page) -> None:
    """Only a plain click takes this tab to the explorer; a context menu or a new tab leaves the page as it is."""
    page.goto("/")
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    link = page.locator(".app-navbar a.nav-link[href='/explorer']")
    link.click(button="right")
    link.dispatch_event("pointerdown", {"button": 0, "ctrlKey": True})
    page.wait_for_timeout(300)
    assert page.evaluate(BUNDLE_3D_SCRIPTS_JS) in ([], [True])  # at most the copy loaded only to be compiled
    assert_3d_bundle_not_run(page)


def test_partial_bundle_is_served_immutable(page) -> None:
    with page.expect_response(lambda r: "plotly-2d.min.js" in r.url) as info:
        page.goto("/")
    assert "immutable" in info.value.headers.get("cache-control", "")


def test_grid_library_only_where_a_grid_is_shown(page) -> None:
    urls = record(page)
    page.goto("/")
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    wait_settled(page, timeout_ms=60_000)
    assert not [u for u in urls if "dash_ag_grid" in u]
    assert page.evaluate("() => typeof window.dash_ag_grid") == "undefined"
    # a navbar switch to a page with a grid brings the library, once, and the grid renders
    page.locator(".app-navbar a.nav-link[href='/eda']").click()
    page.locator("#eda-outlier-grid-holder").scroll_into_view_if_needed()  # the grid is mounted once in view
    expect(page.locator("#eda-outlier-table .ag-row").first).to_be_visible()
    bundles = [u for u in urls if "/dash_ag_grid/dash_ag_grid." in u]
    assert len(bundles) == 1, bundles
    # back to a page without a grid and again to one: the guarded bundle does not replace the library
    marker = page.evaluate("() => { window.dash_ag_grid.__marker = 1; return 1; }")
    page.locator(".app-navbar a.nav-link[href='/']").click()
    expect(page.locator("#overview-size-graph .barlayer .point").first).to_be_attached()
    page.locator(".app-navbar a.nav-link[href='/eda']").click()
    page.locator("#eda-outlier-grid-holder").scroll_into_view_if_needed()  # the grid is mounted once in view
    expect(page.locator("#eda-outlier-table .ag-row").first).to_be_visible()
    assert page.evaluate("() => window.dash_ag_grid.__marker") == marker


def test_grid_page_opened_directly_renders_its_grid(page) -> None:
    urls = record(page)
    page.goto("/eda")
    page.locator("#eda-outlier-grid-holder").scroll_into_view_if_needed()
    expect(page.locator("#eda-outlier-table .ag-row").first).to_be_visible()
    assert [u for u in urls if "/dash_ag_grid/dash_ag_grid." in u]
