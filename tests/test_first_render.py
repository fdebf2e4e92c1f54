"""First figures in the page layout (dashboard.first_render): the session's data version and theme reach the
layout, the values equal the callbacks', and what is below the fold waits until it is on screen."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import dash
import pytest
from dash import dcc, html
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.first_render import ARTIFACT_ARG, ROUTING_INPUTS, THEME_ARG, fill_in, session_choice


def page_module(name: str) -> ModuleType:
    """The page module exactly as Dash imported it (see tests/test_pages_eda_segments_explorer.py)."""
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(f"page {name!r} is not registered")


def component(tree: Any, cid: str) -> Any:
    """The component with id ``cid`` in ``tree``."""
    return next(c for c in [tree, *tree._traverse()] if getattr(c, "id", None) == cid)


def figure_json(fig: Any) -> Any:
    return fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else fig


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, (None, "light")),
        ({ARTIFACT_ARG: "abc", THEME_ARG: "dark"}, ("abc", "dark")),
        ({ARTIFACT_ARG: "", THEME_ARG: "light"}, (None, "light")),
        ({ARTIFACT_ARG: 123, THEME_ARG: "purple"}, (None, "light")),  # not a string id, not a theme
        ({ARTIFACT_ARG: None, THEME_ARG: None, "segment": "x"}, (None, "light")),
    ],
)
def test_session_choice(kwargs: dict[str, Any], expected: tuple[str | None, str]) -> None:
    assert session_choice(kwargs) == expected


def test_the_router_reads_the_session_stores(dash_app) -> None:
    assert {name: (s.component_id, s.component_property) for name, s in ROUTING_INPUTS.items()} == {
        ARTIFACT_ARG: (ids.ACTIVE_ARTIFACT, "data"),
        THEME_ARG: (ids.THEME, "data"),
    }
    assert dash_app.routing_callback_inputs == ROUTING_INPUTS


def test_fill_in_sets_properties_by_id_and_refuses_unknown_ids() -> None:
    tree = html.Div([html.Span(id="a"), dcc.Graph(id="g")])
    assert fill_in(tree, {("a", "children"): "hello", ("g", "figure"): {"data": []}}) is tree
    assert component(tree, "a").children == "hello" and component(tree, "g").figure == {"data": []}
    with pytest.raises(KeyError, match=r"not in the layout: \['nope'\]"):
        fill_in(tree, {("nope", "children"): 1})


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_overview_layout_holds_what_render_draws(request_ctx, theme: str) -> None:
    overview = page_module("overview")
    page = overview.layout(**{ARTIFACT_ARG: None, THEME_ARG: theme})
    kpis, figure, *_ = overview.render(None, theme)
    assert figure_json(component(page, ids.OVERVIEW_SIZE_GRAPH).figure) == figure_json(figure)
    assert str(component(page, ids.OVERVIEW_KPIS).children) == str(kpis)


def test_a_version_the_session_may_not_read_shows_the_default(request_ctx) -> None:
    overview = page_module("overview")
    foreign = overview.layout(**{ARTIFACT_ARG: "someone-elses-version-0123456789abcdef", THEME_ARG: "light"})
    default = overview.layout(**{ARTIFACT_ARG: None, THEME_ARG: "light"})
    assert figure_json(component(foreign, ids.OVERVIEW_SIZE_GRAPH).figure) == figure_json(
        component(default, ids.OVERVIEW_SIZE_GRAPH).figure
    )


def test_segments_layout_holds_what_render_draws(request_ctx) -> None:
    segments = page_module("segments")
    page = segments.layout(**{THEME_ARG: "dark"})
    matrix, priorities, _note = segments.render(None, "dark")
    assert figure_json(component(page, ids.SEGMENTS_MATRIX_GRAPH).figure) == figure_json(matrix)
    assert str(component(page, ids.SEGMENTS_PRIORITY).children) == str(priorities)
    # The cards, below the fold, come when their row is on screen: until then it keeps two rows' height.
    n = len(segments.view(None).segments)
    assert component(page, ids.SEGMENTS_CARDS).style == {"minHeight": f"{-(-n // 2) * segments.CARD_ROW_PX}px"}
    assert component(page, ids.SEGMENTS_CARDS_WANTED).data is False


def test_eda_draws_its_first_screen_and_leaves_the_rest_until_in_view(request_ctx) -> None:
    eda = page_module("eda")
    page = eda.layout(**{THEME_ARG: "dark"})
    options, variable, cat_options, category = eda.fill_controls(None, None, None)
    assert (component(page, ids.EDA_VARIABLE).options, component(page, ids.EDA_VARIABLE).value) == (options, variable)
    assert (component(page, ids.EDA_CATEGORY).options, component(page, ids.EDA_CATEGORY).value) == (
        cat_options,
        category,
    )
    dist, caption = eda.render_distribution(variable, False, False, None, "dark")
    assert figure_json(component(page, ids.EDA_DIST_GRAPH).figure) == figure_json(dist)
    assert component(page, ids.EDA_DIST_STATS).children == caption
    assert figure_json(component(page, ids.EDA_CATEGORY_GRAPH).figure) == figure_json(
        eda.render_categories(category, False, None, "dark")
    )
    below = component(page, ids.EDA_BELOW_FOLD)
    for gid in (ids.EDA_CORR_GRAPH, ids.EDA_PCA_GRAPH, ids.EDA_LOADINGS_GRAPH):
        assert not component(below, gid).figure.data  # blank, in the page's theme
        assert component(below, gid).figure.layout.template.layout.font.color == "#DEE2E6"
    assert component(page, ids.EDA_BELOW_FOLD_WANTED).data is False
    for wanted in (False, None):
        with pytest.raises(PreventUpdate):
            eda.render_overview(wanted, None, "dark")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_changes_layout_holds_the_first_pair_as_render_draws_it(request_ctx, theme: str) -> None:
    changes = page_module("changes")
    page = changes.layout(**{THEME_ARG: theme})
    options, _, start, end = changes.fill_pickers(None, None, None)
    assert (start, end) == ("builtin-0", "builtin-1")
    for picker, value in ((ids.CHANGES_FROM, start), (ids.CHANGES_TO, end)):
        assert (component(page, picker).options, component(page, picker).value) == (options, value)
    drawn = changes.render(start, end, theme)
    assert figure_json(component(page, ids.CHANGES_SANKEY).figure) == figure_json(drawn["sankey"])
    assert figure_json(component(page, ids.CHANGES_SHARES).figure) == figure_json(drawn["shares"])
    for key, target in (("summary", ids.CHANGES_SUMMARY), ("drift", ids.CHANGES_DRIFT), ("matrix", ids.CHANGES_MATRIX)):
        assert str(component(page, target).children) == str(drawn[key])


def test_changes_callbacks_wait_for_a_change(dash_app) -> None:
    """The layout holds the first state: neither the pickers nor the pair's report is asked for again on arrival."""
    entries = {tuple(o.split(".")[0] for o in c["output"].strip(".").split("...")): c for c in dash_app._callback_list}
    pickers = entries[(ids.CHANGES_FROM, ids.CHANGES_TO, ids.CHANGES_FROM, ids.CHANGES_TO)]
    report = next(c for outs, c in entries.items() if ids.CHANGES_SANKEY in outs and ids.CHANGES_SUMMARY in outs)
    assert pickers["prevent_initial_call"] is True and report["prevent_initial_call"] is True
