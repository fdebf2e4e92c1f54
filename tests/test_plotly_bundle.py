"""The partial plotly.js bundle (assets/vendor): right version, every trace type the dashboard draws."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "assets" / "vendor" / "plotly-partial.min.js"
BUILD = ROOT / "assets" / "vendor" / "build_plotly.sh"
HEADER = re.compile(r"plotly\.js v(?P<version>[\d.]+) partial bundle, traces: (?P<traces>[a-z0-9,]+) ")


def bundle_header() -> tuple[str, set[str]]:
    """Version and trace types written in the bundle's first line by build_plotly.sh."""
    first = BUNDLE.read_text(encoding="utf-8")[:400]
    match = HEADER.search(first)
    assert match, f"no build header in {BUNDLE.name}: {first[:120]!r}"
    return match["version"], set(match["traces"].split(","))


def trace_types_in(source: str) -> set[str]:
    """Trace types of every ``go.<Trace>(...)`` call and ``{"type": ...}`` trace dict in Python ``source``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            cls = getattr(go, node.func.attr, None)
            if (
                isinstance(node.func.value, ast.Name)
                and node.func.value.id == "go"
                and isinstance(cls, type)
                and issubclass(cls, BaseTraceType)
            ):
                found.add(cls().type)
            if node.func.attr in ("add_trace", "add_traces") and node.args and isinstance(node.args[0], ast.Dict):
                for key, value in zip(node.args[0].keys, node.args[0].values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "type" and isinstance(value, ast.Constant):
                        found.add(value.value)
    return found


def dashboard_trace_types() -> dict[str, set[str]]:
    return {
        str(path.relative_to(ROOT)): types
        for path in sorted((ROOT / "dashboard").rglob("*.py"))
        if (types := trace_types_in(path.read_text(encoding="utf-8")))
    }


def test_bundle_is_the_plotly_version_dash_would_load() -> None:
    version, _ = bundle_header()
    assert version == get_plotlyjs_version()
    assert f"PLOTLY_VERSION={version}\n" in BUILD.read_text(encoding="utf-8")


def test_build_script_lists_the_traces_in_the_bundle() -> None:
    _, traces = bundle_header()
    line = next(ln for ln in BUILD.read_text(encoding="utf-8").splitlines() if ln.startswith("TRACES="))
    assert set(line.split("=", 1)[1].strip('"').split()) == traces


def test_every_trace_type_the_dashboard_builds_is_in_the_bundle() -> None:
    _, traces = bundle_header()
    used = dashboard_trace_types()
    assert used, "the scan found no figure builders"
    missing = {path: types - traces for path, types in used.items() if types - traces}
    assert not missing, (
        f"trace types not in assets/vendor/plotly-partial.min.js (add them to build_plotly.sh): {missing}"
    )


def test_no_plotly_express_whose_trace_types_the_scan_cannot_see() -> None:
    for path in (ROOT / "dashboard").rglob("*.py"):
        assert "plotly.express" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("go.Figure(go.Scatter3d(x=[1]))", {"scatter3d"}),
        ("fig.add_trace(go.Sankey(node={}))\nfig.add_trace(go.Bar())", {"sankey", "bar"}),
        ("fig.add_trace({'type': 'violin', 'y': [1]})", {"violin"}),
        ("go.Figure(layout=go.Layout())\ngo.layout.Annotation()", set()),
    ],
)
def test_the_scan_finds_trace_constructors_and_dicts(source: str, expected: set[str]) -> None:
    assert trace_types_in(source) == expected


def test_a_trace_type_missing_from_the_bundle_is_reported() -> None:
    _, traces = bundle_header()
    assert "violin" not in traces
    assert trace_types_in("go.Violin(y=[1])") - traces == {"violin"}


def test_the_app_links_the_partial_bundle_and_no_longer_serves_plotly_min_js(tmp_path: Path) -> None:
    import dash

    from dashboard.app import ASSETS_IGNORE, stop_serving_full_plotly

    app = dash.Dash(__name__, assets_folder=str(ROOT / "assets"), assets_ignore=ASSETS_IGNORE)
    app.layout = dash.html.Div()
    client = app.server.test_client()
    assert client.get("/_dash-component-suites/plotly/package_data/plotly.min.js").status_code == 200
    stop_serving_full_plotly(app)
    index = client.get("/").get_data(as_text=True)
    assert "/assets/vendor/plotly-partial.min.js?m=" in index
    assert "plotly.min.js" not in index
    assert client.get("/_dash-component-suites/plotly/package_data/plotly.min.js").status_code != 200
