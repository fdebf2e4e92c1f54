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
