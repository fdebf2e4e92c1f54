"""Every page is served with its own non-empty meta description (search results and link previews show it)."""

from __future__ import annotations

import html
import re

import dash

META = re.compile(r'<meta name="description" content="([^"]*)"')


def served_description(client, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200
    found = META.findall(resp.get_data(as_text=True))
    assert len(found) == 1, found
    return html.unescape(found[0])


def test_overview_has_its_description(dash_app) -> None:
    text = served_description(dash_app.server.test_client(), "/")
    assert text == (
        "Customer segments at a glance: who your customers are, what each segment is worth and what to do about it."
    )


def test_every_page_has_its_own_description(dash_app) -> None:
    client = dash_app.server.test_client()
    pages = [p for p in dash.page_registry.values() if p["path"] != "/404"]
    seen = {p["path"]: served_description(client, p["path"]) for p in pages}
    assert len(seen) >= 8 and all(seen.values())
    assert len(set(seen.values())) == len(seen)  # one per page, not the app's default everywhere


def test_models_description_counts_the_registered_methods(dash_app) -> None:
    from dashboard.model_comparison.data import model_count

    text = served_description(dash_app.server.test_client(), "/models")
    assert text.startswith(f"{model_count().capitalize()} segmentation methods compared")
