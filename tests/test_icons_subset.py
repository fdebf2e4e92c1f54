"""The icon stylesheet the pages load holds every icon the app names, and is what build_icons.py writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dash

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_icons", ROOT / "assets" / "vendor" / "build_icons.py")
build_icons = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_icons)


def test_served_subset_is_up_to_date() -> None:
    assert build_icons.TARGET.read_text(encoding="utf-8") == build_icons.build(), (
        "run python assets/vendor/build_icons.py"
    )


def test_every_icon_the_app_names_has_its_rule() -> None:
    full = build_icons.icon_rules(build_icons.SOURCE.read_text(encoding="utf-8"))
    served = build_icons.icon_rules(build_icons.TARGET.read_text(encoding="utf-8"))
    used = build_icons.names_used(known=set(full))
    assert {"people-fill", "graph-up", "easel", "sun", "moon-stars"} <= used
    assert used <= set(served)
    assert len(served) < len(full) / 10


def test_names_used_finds_classes_and_bare_constants(tmp_path: Path) -> None:
    (tmp_path / "dashboard").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "dashboard" / "page.py").write_text(
        'html.I(className="bi bi-trash me-2")\npage_header("Title", "sub", "graph-up")\nlabel = "Graph"\n'
    )
    (tmp_path / "assets" / "x.js").write_text("el.className = 'bi bi-x-lg';")
    known = {"trash", "graph-up", "x-lg", "x", "people"}
    assert build_icons.names_used(tmp_path, known) == {"trash", "graph-up", "x-lg"}


def test_subset_keeps_font_face_and_named_rules_only() -> None:
    css = '@font-face{src:url("fonts/a.woff2")}.bi-a::before{content:"\\f101"}.bi-b::before{content:"\\f102"}'
    assert build_icons.subset(css, {"b"}) == '@font-face{src:url("fonts/a.woff2")}.bi-b::before{content:"\\f102"}'


def test_full_stylesheet_is_not_linked_by_the_pages() -> None:
    from dashboard.app import ASSETS_IGNORE

    app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    app.layout = dash.html.Div()
    index = app.server.test_client().get("/").get_data(as_text=True)
    assert "01-bootstrap-icons.min.css" in index
    assert ".source.css" not in index
    assert "vendor/plotly-2d.min.js" in index
