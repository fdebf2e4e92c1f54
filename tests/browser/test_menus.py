"""Menu buttons (dashboard.components.menu_button, assets/menus.js): open, say so, close, and never use Popper."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_a_menu_opens_below_its_button_and_closes_on_escape_elsewhere_and_after_a_choice(page) -> None:
    page.goto("/")
    button = page.get_by_role("button", name="Download report")
    menu = page.locator("#report-menu .dropdown-menu")
    expect(button).to_have_attribute("aria-expanded", "false", timeout=30_000)
    expect(menu).to_be_hidden()
    # No menu is positioned by script: nothing is laid out for a closed menu.
    assert page.locator("[data-popper-placement]").count() == 0

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    box, under = button.bounding_box(), menu.bounding_box()
    assert box and under
    assert under["y"] >= box["y"] + box["height"] - 1  # below the button
    assert abs((under["x"] + under["width"]) - (box["x"] + box["width"])) <= 1  # right edges aligned

    # Opening the other menu closes this one.
    other = page.get_by_role("button", name=re.compile("Download assignments"))
    other.click()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(other).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".export-menu .dropdown-item", has_text="CSV")).to_be_visible()

    # Escape closes it and gives the focus back to its button.
    page.keyboard.press("Escape")
    expect(other).to_have_attribute("aria-expanded", "false")
    expect(other).to_be_focused()

    # Keyboard: Enter opens, Tab reaches the entries.
    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator("#report-menu .dropdown-item").first).to_be_focused()

    # A click elsewhere closes it.
    page.locator("h1").click()
    expect(menu).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")


def test_choosing_an_entry_closes_the_menu(page) -> None:
    page.goto("/")
    page.get_by_role("button", name=re.compile("Download assignments")).click()
    item = page.locator(".export-menu .dropdown-item", has_text="CSV")
    with page.expect_download(timeout=60_000):
        item.click()
    expect(item).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("Download assignments"))).to_have_attribute(
        "aria-expanded", "false"
    )
