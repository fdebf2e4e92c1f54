"""Accessibility in a real browser: axe-core (WCAG 2.1 A/AA) on every page in both themes,
page structure (one <main>, one <h1>, a skip link) and keyboard use of the simulator and
the member grid.

axe-core is vendored (``tests/browser/vendor/axe.min.js``, MPL-2.0, licence next to it)
so the audit runs offline and the rules do not change under us; it is injected into the
page, which needs the app's Content-Security-Policy bypassed for this one context.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard.screenshots import scroll_through, set_theme, wait_settled
from dashboard.services import ArtifactView
from pipeline.segmentation.training import TrainResult

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = ("/", "/eda", "/segments", "/explorer", "/simulator", "/models", "/data", "/changes")

RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
    }));
}"""

# What the keyboard focus is on: tag, accessible text, and whether it sits in the member grid.
FOCUSED = """() => {
    const a = document.activeElement;
    return {
        tag: a.tagName, id: a.id, role: a.getAttribute('role') || '',
        name: (a.getAttribute('aria-label') || a.textContent || '').trim().slice(0, 120),
        inGrid: !!a.closest('#explorer-grid'), inPaging: !!a.closest('.ag-paging-panel'),
        outline: getComputedStyle(a).outlineStyle !== 'none' || getComputedStyle(a).boxShadow !== 'none',
    };
}"""


@pytest.fixture
def audit_page(browser, live_server: str) -> Iterator[object]:
    """A page whose context lets the vendored axe-core script in (CSP bypassed for the audit only)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=live_server, bypass_csp=True)
    pg = context.new_page()
    yield pg
    context.close()


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the current page."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def describe(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}")
            lines += [f"    {n['target']}: {n['summary'].splitlines()[-1].strip()}" for n in v["nodes"]]
    return "\n".join(lines)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_violation_on_any_page(audit_page, trained: TrainResult, theme: str) -> None:
    page = audit_page
    page.goto("/")
    wait_settled(page)
    set_theme(page, theme)
    # the drill-down (member grid, download button, evidence) only shows for a chosen segment
    paths = [
        *PAGES,
        f"/explorer?segment={trained.artifact.manifest['segments'][0]['key']}",
        "/no-such-page",
        "/present",
    ]
    found: dict[str, list[dict]] = {}
    for path in paths:
        page.goto(path)
        wait_settled(page)
        scroll_through(page)  # what is built once in view (segment cards, /eda's lower half) is audited too
        if "segment=" in path:
            expect(page.locator("#explorer-grid .ag-row").first).to_be_visible(timeout=30_000)
        expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
        violations = axe_violations(page)
        if violations:
            found[f"{theme} {path}"] = violations
        # structure: one landmark and one title per page, the language set
        assert page.locator("main").count() == 1, path
        assert page.locator("h1:visible").count() == 1, path  # presentation: one screen (and title) shown
        expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not found, "axe-core found accessibility violations:\n" + describe(found)


def test_skip_link_is_the_first_stop_and_jumps_to_the_content(audit_page) -> None:
    page = audit_page
    page.goto("/segments")
    wait_settled(page)
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["name"] == "Skip to content"
    expect(page.get_by_role("link", name="Skip to content")).to_be_visible()  # shown while focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.tagName") == "MAIN"


def _tab_to(page, wanted, limit: int = 120) -> dict:
    """Press Tab until ``wanted(focused)`` holds; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"], f"focus is not visible on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached by keyboard within {limit} Tab presses")


def test_simulator_is_usable_by_keyboard(audit_page, trained: TrainResult) -> None:
    page = audit_page
    view = ArtifactView(trained.artifact)
    start = view.segments[-1]
    page.goto("/simulator")
    expect(page.locator("#sim-segment-name")).to_be_visible(timeout=30_000)
    # a preset, chosen by keyboard
    _tab_to(page, lambda f: f["tag"] == "BUTTON" and f["name"] == start["name"])
    page.keyboard.press("Enter")
    expect(page.locator("#sim-segment-name")).to_have_text(start["name"])
    values = {f: float(page.locator(f'.sim-control input[name="{f}"]').input_value()) for f in view.features}
    # the first number box has its visible label tied to it; its slider moves with the keys
    box = _tab_to(page, lambda f: f["tag"] == "INPUT")
    expect(page.locator(f"label[for='{box['id']}']")).to_have_count(1)
    slider = _tab_to(page, lambda f: f["role"] == "slider")
    assert slider["name"].endswith(" slider")
    thumb = page.locator("[role=slider]:focus")
    before = thumb.get_attribute("aria-valuenow")
    page.keyboard.press("End")
    expect(thumb).not_to_have_attribute("aria-valuenow", before)
    page.keyboard.press("Home")
    page.keyboard.press("Shift+Tab")  # back to the box; set it to the preset's value again
    page.keyboard.press("Shift+Tab")
    # "Apply" the suggested move to another segment, by keyboard, after the preset again
    page.locator("#sim-preset").get_by_role("button", name=start["name"], exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator(f'.sim-control input[name="{view.features[0]}"]')).to_have_value(
        f"{values[view.features[0]]:g}"
    )
    move = next(m for m in view.simulate(values).moves if m.feature is not None)
    name = view.segment_by_key[move.target]["name"]
    apply = _tab_to(page, lambda f: f["tag"] == "BUTTON" and f["name"].startswith("Apply") and name in f["name"])
    assert apply["name"] == f"Apply the change that moves the customer to {name}"
    page.keyboard.press("Enter")
    expect(page.locator("#sim-segment-name")).to_have_text(name)


def test_member_grid_is_one_tab_stop(audit_page, trained: TrainResult) -> None:
    page = audit_page
    seg = trained.artifact.manifest["segments"][0]
    page.goto(f"/explorer?segment={seg['key']}")
    expect(page.locator("#explorer-grid .ag-row").first).to_be_visible(timeout=30_000)
    stops = []
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["inGrid"]:
            stops.append(focused)
        elif stops:
            break
    table_stops = [f for f in stops if not f["inPaging"]]
    assert len(table_stops) == 1, table_stops  # the table itself: one stop (arrow keys move inside)
    # the pager stays reachable
    assert {f["name"] for f in stops if f["inPaging"]} >= {"Next Page", "Last Page"}
