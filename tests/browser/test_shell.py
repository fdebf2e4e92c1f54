"""The app shell in a real browser: navigation, theme switch, no console errors."""

from __future__ import annotations

from playwright.sync_api import expect


def test_overview_renders_kpis_and_segments(page, trained) -> None:
    page.goto("/")
    expect(page.locator("#overview-kpis")).to_contain_text("Customers")
    first = trained.artifact.manifest["segments"][0]["name"]
    expect(page.locator("#overview-segment-cards")).to_contain_text(first)
    expect(page.locator("#app-nav-dataset")).to_have_text("Built-in sample")
    expect(page.locator("#overview-size-graph .main-svg").first).to_be_visible()


def test_theme_switch_sets_dark_mode(page) -> None:
    page.goto("/")
    expect(page.locator("#overview-kpis")).to_contain_text("Customers")
    page.locator("#app-theme-switch").check(force=True)
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")


def test_unknown_address_shows_a_styled_page_with_links(page) -> None:
    page.goto("/no-such-page")
    expect(page.locator("h1")).to_have_text("Page not found")
    links = page.locator(".not-found-card a")
    expect(links.first).to_have_attribute("href", "/")
    nav = page.locator(".app-navbar .nav-link")
    expect(nav.first).to_be_visible()
    # one link per navbar page; the 404 page itself is in neither list
    assert links.count() == nav.count() >= 7
    expect(nav.filter(has_text="Page not found")).to_have_count(0)
    links.filter(has_text="Segments").click()
    expect(page.locator("h1")).to_contain_text("Segments")
