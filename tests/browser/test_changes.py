"""The "Over time" page (/changes) in a real browser: flows, tables, alerts, clicking a flow, download."""

from __future__ import annotations

from playwright.sync_api import expect

from dashboard.screenshots import wait_settled
from tests.browser.test_csp import COLLECT_VIOLATIONS

WAIT = 60_000  # the first visit builds and scores the built-in series once per server process


def test_changes_page_shows_flows_and_lists_a_clicked_flow(page) -> None:
    page.add_init_script(COLLECT_VIOLATIONS)
    page.goto("/changes")
    expect(page.locator("#changes-summary")).to_contain_text("2014-03-31 → 2014-06-30", timeout=WAIT)
    expect(page.locator("#changes-matrix")).to_contain_text("New customers")
    expect(page.locator("#changes-matrix")).to_contain_text("Gone")
    expect(page.locator("#changes-drift")).to_contain_text("PSI")
    expect(page.locator("#changes-alerts")).to_contain_text("since 2014-03-31")
    expect(page.locator("#changes-shares .main-svg").first).to_be_visible()
    links = page.locator("#changes-sankey .sankey-link")
    expect(links.first).to_be_visible()
    wait_settled(page, timeout_ms=WAIT)  # a link clicked while the page's callbacks still run can be redrawn away
    links.nth(1).click(force=True)
    expect(page.locator("#changes-movers")).to_contain_text("customers", timeout=30_000)
    expect(page.locator("#changes-movers table")).to_be_visible()
    button = page.locator("#changes-download-button")
    expect(button).to_be_enabled()
    with page.expect_download() as info:
        button.click()
    assert info.value.suggested_filename == "movers.csv"
    assert page.evaluate("() => window.__cspViolations") == []  # the Sankey draws under the app's policy


def test_changes_page_refuses_a_backward_pair(page) -> None:
    page.goto("/changes")
    expect(page.locator("#changes-summary")).to_contain_text("2014-03-31 → 2014-06-30", timeout=WAIT)
    page.select_option("#changes-from", "builtin-2")  # 2014-09-30, after the "to" snapshot
    expect(page.locator("#changes-summary")).to_contain_text("must be later than", timeout=30_000)
