"""The Bootstrap subset the pages load keeps every rule a class written in dashboard/ can match (build_bootstrap.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import dash

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_bootstrap", ROOT / "assets" / "vendor" / "build_bootstrap.py")
build_bootstrap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_bootstrap)

CLASS = re.compile(r"\.([A-Za-z_][\w-]*)")


def selectors(css: str) -> set[str]:
    """Every selector of the (minified) stylesheet, at-rule preludes left out."""
    out: set[str] = set()
    for prelude in re.findall(r"([^{}]+)\{", css):
        if not prelude.lstrip().startswith("@"):
            out.update(s.strip() for s in prelude.split(","))
    return out


def required_selectors(full: str, used: set[str]) -> set[str]:
    """Selectors of ``full`` naming at least one class, all of them in ``used``: the subset must keep them."""
    return {s for s in selectors(full) if (names := set(CLASS.findall(s))) and names <= used}


def test_every_rule_a_class_of_the_app_can_match_is_kept() -> None:
    full = build_bootstrap.SOURCE.read_text(encoding="utf-8")
    served = selectors(build_bootstrap.TARGET.read_text(encoding="utf-8"))
    used = build_bootstrap.class_names()
    assert {"d-flex", "text-body-secondary", "table-hover", "visually-hidden", "btn-outline-secondary"} <= used
    missing = required_selectors(full, used) - served
    assert not missing, f"run python assets/vendor/build_bootstrap.py; missing: {sorted(missing)[:20]}"


def test_theme_variables_and_the_components_the_app_renders_are_kept() -> None:
    served = build_bootstrap.TARGET.read_text(encoding="utf-8")
    assert ":root,[data-bs-theme=light]{" in served
    assert "[data-bs-theme=dark]{" in served
    rules = selectors(served)
    # rendered by dash-bootstrap-components from props, not written in dashboard/
    for selector in (
        ".navbar-expand-xl .navbar-nav",
        ".container-fluid",
        ".form-switch .form-check-input",
        ".alert-info",
        ".col-lg-6",
    ):
        assert selector in rules, selector
    # components the app never creates
    assert not [s for s in rules if re.search(r"\.(modal|carousel|toast|offcanvas)\b", s)]
    assert len(served) < len(build_bootstrap.SOURCE.read_text(encoding="utf-8")) / 2


def test_a_missing_rule_is_reported() -> None:
    full = ".a{x:1}.b>.c{x:2}.d .e{x:3}@media (min-width:1px){.a{x:4}}td{x:5}"
    assert selectors(full) == {".a", ".b>.c", ".d .e", "td"}
    assert required_selectors(full, {"a", "b", "d"}) == {".a"}
    assert required_selectors(full, {"b", "c"}) == {".b>.c"}


def test_class_names_reads_class_arguments_and_scripts(tmp_path: Path) -> None:
    (tmp_path / "dashboard").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "dashboard" / "page.py").write_text(
        'html.Div(className="d-flex gap-2")\n'
        'dbc.Switch(label_class_name="small")\n'
        'html.Span(className=f"badge data-{kind} {tone}")\n'
        'title = "text-danger"\n'
    )
    (tmp_path / "assets" / "x.js").write_text("el.classList.add('fw-semibold');\nconst y = 'mt-2';\n")
    assert build_bootstrap.class_names(tmp_path) == {"d-flex", "gap-2", "small", "badge", "data-", "fw-semibold"}


def test_colours_and_unused_components_come_from_the_code(tmp_path: Path) -> None:
    (tmp_path / "dashboard").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "dashboard" / "page.py").write_text(
        'dbc.Button("x", color="outline-primary")\ndbc.Alert("y", color="info")\n'
        'dbc.Modal(id="m")\nhtml.Div(className="toast-body")\n'
    )
    assert build_bootstrap.colours_used(tmp_path) == {"primary", "info"}
    blocked = build_bootstrap.blocked(tmp_path)
    assert build_bootstrap.UNUSED_COMPONENTS["Modal"] not in blocked
    assert build_bootstrap.UNUSED_COMPONENTS["Toast"] not in blocked
    assert build_bootstrap.UNUSED_COMPONENTS["Carousel"] in blocked


def test_full_stylesheet_is_not_linked_by_the_pages() -> None:
    from dashboard.app import ASSETS_IGNORE

    app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    app.layout = dash.html.Div()
    index = app.server.test_client().get("/").get_data(as_text=True)
    assert "00-bootstrap.min.css" in index
    assert "bootstrap-5.3.8.source.css" not in index
