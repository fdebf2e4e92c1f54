"""The partial plotly.js bundles (assets/vendor): right version, every trace type each page draws in the bundle it loads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "assets" / "vendor"
BUNDLE_2D = VENDOR / "plotly-2d.min.js"
BUNDLE_3D = VENDOR / "plotly-3d.min.js"
BUILD = ROOT / "assets" / "vendor" / "build_plotly.sh"
#: Every plotly trace type (``fig.add_<type>(...)`` adds one).
TRACE_TYPES = {
    cls().type
    for cls in (getattr(go, name) for name in dir(go) if name[:1].isupper())
    if isinstance(cls, type) and issubclass(cls, BaseTraceType)
}
HEADER = re.compile(r"plotly\.js v(?P<version>[\d.]+) partial bundle, traces: (?P<traces>[a-z0-9,]+) ")
WITHOUT_HEADER = re.compile(r" without: (?P<without>[a-z0-9,]+) \(")
#: The figure properties each left-out component of plotly.js draws (build_plotly.sh's ``WITHOUT``).
COMPONENT_PROPERTIES = {
    "images": {"images", "add_layout_image"},
    "updatemenus": {"updatemenus"},
    "sliders": {"sliders"},
    "rangeslider": {"rangeslider"},
    "rangeselector": {"rangeselector"},
    "annotations3d": {"scene.annotations"},
}


def bundle_header(bundle: Path = BUNDLE_3D) -> tuple[str, set[str]]:
    """Version and trace types written in the bundle's first line by build_plotly.sh."""
    first = bundle.read_text(encoding="utf-8")[:400]
    match = HEADER.search(first)
    assert match, f"no build header in {bundle.name}: {first[:120]!r}"
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
            if node.func.attr.startswith("add_") and node.func.attr[4:] in TRACE_TYPES:  # fig.add_scatter3d(...)
                found.add(node.func.attr[4:])
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


def build_list(kind: str, name: str) -> set[str]:
    """The words of build_plotly.sh's ``<kind>_<name>="..."``, other lists it names (``$WITHOUT_3D``) expanded."""
    assignment = re.compile(r"^([A-Z0-9_]+)=(.*)$")
    lines = dict(m.groups() for ln in BUILD.read_text(encoding="utf-8").splitlines() if (m := assignment.match(ln)))

    def words(var: str) -> set[str]:
        return {t for w in lines[var].strip('"').split() for t in (words(w[1:]) if w.startswith("$") else {w})}

    return words(f"{kind}_{name}")


def build_traces(name: str) -> set[str]:
    """The trace list ``TRACES_<name>`` of build_plotly.sh."""
    return build_list("TRACES", name)


@pytest.mark.parametrize("bundle", [BUNDLE_2D, BUNDLE_3D])
def test_bundle_is_the_plotly_version_dash_would_load(bundle: Path) -> None:
    version, _ = bundle_header(bundle)
    assert version == get_plotlyjs_version()
    assert f"PLOTLY_VERSION={version}\n" in BUILD.read_text(encoding="utf-8")


def build_without(name: str) -> set[str]:
    """The components build_plotly.sh's ``WITHOUT_<name>`` leaves out (``$WITHOUT_3D`` expanded)."""
    return build_list("WITHOUT", name)


def figure_properties_in(source: str) -> set[str]:
    """Keyword arguments, dict keys and ``add_*`` methods of Python ``source`` that name a left-out component.

    A scene's annotations show as ``scene.annotations``: the ``annotations``
    keyword of ``update_scenes(...)`` or of a ``scene=dict(...)`` / ``{"scene": {...}}``.
    """
    names = set().union(*COMPONENT_PROPERTIES.values())
    found: set[str] = set()

    def scene_keys(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Call):
            return {kw.arg for kw in node.keywords if kw.arg}
        if isinstance(node, ast.Dict):
            return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        return set()

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg in names:
            found.add(node.arg)
        if isinstance(node, ast.keyword) and node.arg == "scene" and "annotations" in scene_keys(node.value):
            found.add("scene.annotations")
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in names:
                    found.add(key.value)
                if isinstance(key, ast.Constant) and key.value == "scene" and "annotations" in scene_keys(value):
                    found.add("scene.annotations")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in names:
                found.add(node.func.attr)
            if node.func.attr == "update_scenes" and any(kw.arg == "annotations" for kw in node.keywords):
                found.add("scene.annotations")
    return found


@pytest.mark.parametrize(("bundle", "name"), [(BUNDLE_2D, "2D"), (BUNDLE_3D, "3D")])
def test_the_bundles_leave_out_the_components_the_build_script_names(bundle: Path, name: str) -> None:
    match = WITHOUT_HEADER.search(bundle.read_text(encoding="utf-8")[:400])
    assert match, f"no 'without:' in the header of {bundle.name}: rebuild with build_plotly.sh"
    assert set(match["without"].split(",")) == build_without(name)
    assert build_without(name) <= set(COMPONENT_PROPERTIES), "say which figure properties a left-out component draws"
    # the 2-D build has no 3-D scene to annotate; the 3-D part adds the scene's annotations
    assert build_without("2D") == build_without("3D") | {"annotations3d"}
    assert build_list("COMPONENTS", "3D") == {"annotations3d"}


def test_no_figure_of_the_dashboard_uses_a_component_left_out_of_the_3d_bundle() -> None:
    left_out = set().union(*(COMPONENT_PROPERTIES[c] for c in build_without("3D")))
    used = {
        str(path.relative_to(ROOT)): props & left_out
        for path in sorted((ROOT / "dashboard").rglob("*.py"))
        if (props := figure_properties_in(path.read_text(encoding="utf-8"))) & left_out
    }
    assert not used, f"these figures need a component build_plotly.sh leaves out (take it off WITHOUT_3D): {used}"
    # the explorer names its axes with scene annotations: the 3-D part adds them
    assert "scene.annotations" in figure_properties_in((ROOT / "dashboard" / "figures" / "explorer.py").read_text())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("fig.update_layout(updatemenus=[{}])", {"updatemenus"}),
        ("fig.update_xaxes(rangeslider={'visible': True}, rangeselector={})", {"rangeslider", "rangeselector"}),
        ("fig.add_layout_image(source='x.png')", {"add_layout_image"}),
        ("go.Layout(**{'sliders': []})", {"sliders"}),
        ("fig.update_scenes(annotations=[{}])", {"scene.annotations"}),
        ("fig.update_layout(scene=dict(annotations=[{}]))", {"scene.annotations"}),
        ("layout = {'scene': {'annotations': []}}", {"scene.annotations"}),
        # the 2-D annotations, a dcc.Slider and the word in text are not the plotly.js components
        ("fig.add_annotation(text='a')\nfig.update_layout(annotations=[])\ndcc.Slider(id='x')\n'sliders'", set()),
    ],
)
def test_the_component_scan_finds_each_left_out_property(source: str, expected: set[str]) -> None:
    assert figure_properties_in(source) == expected


def test_build_script_lists_the_traces_in_the_bundles() -> None:
    assert bundle_header(BUNDLE_2D)[1] == build_traces("2D")
    # the 3-D part's header names what a page has once it has run: the 2-D build's traces and scatter3d
    assert bundle_header(BUNDLE_3D)[1] == build_traces("2D") | build_traces("3D") == build_traces("2D") | {"scatter3d"}


#: A call of the 2-D build's module by the 3-D part, and an entry of the 2-D build's ``__internals``.
INTERNAL_CALL = re.compile(rb'__internals\["(node_modules/[^"]+)"\]\(\)')
INTERNAL_ENTRY = re.compile(rb'"(node_modules/[^"]+)":function\(\)\{return')


def test_the_3d_part_uses_the_2d_builds_modules_and_holds_none_of_its_core() -> None:
    part, build = BUNDLE_3D.read_bytes(), BUNDLE_2D.read_bytes()
    used = set(INTERNAL_CALL.findall(part))
    # the registry it registers scatter3d into, and the library every trace module uses, come from the 2-D build
    assert {b"node_modules/plotly.js/src/registry.js", b"node_modules/plotly.js/src/lib/index.js"} <= used
    assert used <= set(INTERNAL_ENTRY.findall(build)), "rebuild both files with build_plotly.sh in one run"
    # and it checks that they are all there before registering anything
    for module in used:
        assert part.count(b'"' + module + b'"') == 2, module  # once in the check's list, once in its call
    assert b"needs the plotly-2d.min.js of its own build" in part
    # and that the 2-D build is of the same code: both carry the digest of the 2-D build's files
    (build_id,) = re.findall(rb'__build:"([0-9a-f]{16})"', build)
    assert part.count(b'"%s"' % build_id) == 1
    # the 2-D build is the page's window.Plotly, which the 3-D part registers into
    assert b"var Plotly=(()=>" in build[:1000]
    # none of the core: a third of the 2-D build's size, and no registry of its own
    assert BUNDLE_3D.stat().st_size < BUNDLE_2D.stat().st_size * 0.45
    assert b"__internals={" not in part and b"__internals = {" not in part


def page_modules() -> dict[str, Path]:
    """Path of each page → its module (from ``dash.register_page(..., path=...)``)."""
    out = {}
    for module in sorted((ROOT / "dashboard" / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "register_page":
                for kw in node.keywords:
                    if kw.arg == "path" and isinstance(kw.value, ast.Constant):
                        out[kw.value.value] = module
    return out


def page_trace_types(module: Path) -> set[str]:
    """Trace types built by the page module and the dashboard modules it imports (transitively)."""
    seen: set[Path] = set()
    todo = [module]
    types: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        source = path.read_text(encoding="utf-8")
        types |= trace_types_in(source)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                package = path.relative_to(ROOT).parent.parts
                parts = (
                    [*package[: len(package) - node.level + 1], *(node.module or "").split(".")] if node.level else []
                )
                parts = parts or (node.module or "").split(".")
                if parts[0] == "dashboard":
                    base = ROOT.joinpath(*[p for p in parts if p])
                    todo += [base.with_suffix(".py"), base / "__init__.py"]
                    todo += [(base / alias.name).with_suffix(".py") for alias in node.names]
    return types


def test_each_page_draws_only_trace_types_of_the_bundle_it_loads() -> None:
    from dashboard.plotly_loading import THREE_D_PAGES

    pages = page_modules()
    assert {"/", "/explorer", "/models", "/changes"} <= set(pages)
    _, traces_2d = bundle_header(BUNDLE_2D)
    _, traces_3d = bundle_header(BUNDLE_3D)
    for path, module in pages.items():
        types = page_trace_types(module)
        bundle = traces_3d if path in THREE_D_PAGES else traces_2d
        assert types <= bundle, f"{path} draws {types - bundle}, not in its bundle"
    assert "scatter3d" in page_trace_types(pages["/explorer"])
    assert not [p for p in THREE_D_PAGES if "scatter3d" not in page_trace_types(pages[p])], "3-D bundle for nothing"


def test_every_trace_type_the_dashboard_builds_is_in_the_bundle() -> None:
    _, traces = bundle_header()
    used = dashboard_trace_types()
    assert used, "the scan found no figure builders"
    missing = {path: types - traces for path, types in used.items() if types - traces}
    assert not missing, f"trace types not in assets/vendor/plotly-3d.min.js (add them to build_plotly.sh): {missing}"


def test_no_plotly_express_whose_trace_types_the_scan_cannot_see() -> None:
    for path in (ROOT / "dashboard").rglob("*.py"):
        assert "plotly.express" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("go.Figure(go.Scatter3d(x=[1]))", {"scatter3d"}),
        ("fig.add_trace(go.Sankey(node={}))\nfig.add_trace(go.Bar())", {"sankey", "bar"}),
        ("fig.add_trace({'type': 'violin', 'y': [1]})", {"violin"}),
        ("fig.add_scatter3d(x=[1])\nfig.add_bar(y=[1])\nfig.add_annotation(text='a')", {"scatter3d", "bar"}),
        ("go.Figure(layout=go.Layout())\ngo.layout.Annotation()", set()),
    ],
)
def test_the_scan_finds_trace_constructors_and_dicts(source: str, expected: set[str]) -> None:
    assert trace_types_in(source) == expected


def test_a_trace_type_missing_from_the_bundle_is_reported() -> None:
    _, traces = bundle_header(BUNDLE_2D)
    assert "violin" not in traces
    assert "scatter3d" not in traces
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
    assert "/assets/vendor/plotly-2d.min.js?m=" in index
    assert "plotly-3d" not in index
    assert "plotly.min.js" not in index
    assert client.get("/_dash-component-suites/plotly/package_data/plotly.min.js").status_code != 200
