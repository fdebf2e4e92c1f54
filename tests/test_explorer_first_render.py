"""The 3D explorer's first render: its first state comes with the layout, a deep link's grid after it."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import dash_ag_grid as dag
import pytest
from dash.exceptions import PreventUpdate

from dashboard import ids
from dashboard.first_render import ARTIFACT_ARG, THEME_ARG
from tests.test_pages_eda_segments_explorer import display_order, page_module, text_of


@pytest.fixture
def explorer(request_ctx) -> ModuleType:
    """The 3D explorer page module (inside a request context)."""
    return page_module("explorer")


def by_id(tree: Any) -> dict[str, Any]:
    """Every component of a layout with a string id, by id."""
    return {c.id: c for c in [tree, *tree._traverse()] if isinstance(getattr(c, "id", None), str)}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_layout_holds_the_first_scatter_controls_and_note(explorer, trained, theme) -> None:
    page = by_id(explorer.layout(**{ARTIFACT_ARG: None, THEME_ARG: theme}))
    # the same figure object the scatter callback would send (built once per version and choice)
    assert page[ids.EXPLORER_GRAPH].figure is explorer.render_scatter("pca", None, None, None, None, theme)["figure"]
    ordered = [s["key"] for s in display_order(trained)]
    assert [o["value"] for o in page[ids.EXPLORER_SEGMENTS].options] == ordered
    assert page[ids.EXPLORER_SEGMENTS].value == ordered
    assert page[ids.EXPLORER_DRILL_SEGMENT].value == ""
    assert [o["value"] for o in page[ids.EXPLORER_DRILL_SEGMENT].options] == ordered
    features = {f["name"] for f in trained.artifact.manifest["features"]}
    for select in (ids.EXPLORER_X, ids.EXPLORER_Y, ids.EXPLORER_Z):
        assert {o["value"] for o in page[select].options} >= features
    assert "PC1: customer value & purchase frequency" in text_of(page[ids.EXPLORER_AXES_NOTE].children)
    # no segment: the drill-down stays hidden, no grid, the grid store empty (not None, see page_frame)
    assert page[ids.EXPLORER_DRILL].hidden is True
    assert page[ids.EXPLORER_GRID_HOLDER].children is None
    assert page[ids.EXPLORER_GRID_WANTED].data == ""
    assert page[ids.EXPLORER_DEEP_LINK].data is None


def test_a_bad_theme_or_session_id_gives_the_default_light_page(explorer) -> None:
    page = by_id(explorer.layout(**{ARTIFACT_ARG: "not-an-artifact", THEME_ARG: "<script>"}))
    light = explorer.render_scatter("pca", None, None, None, None, "light")["figure"]
    assert page[ids.EXPLORER_GRAPH].figure is light


def test_deep_link_layout_opens_the_drill_down_without_its_grid(explorer, trained) -> None:
    seg = trained.artifact.manifest["segments"][1]
    page = by_id(explorer.layout(segment=seg["key"], **{ARTIFACT_ARG: None, THEME_ARG: "light"}))
    assert page[ids.EXPLORER_DRILL_SEGMENT].value == seg["key"]
    assert page[ids.EXPLORER_DRILL].hidden is False
    assert seg["name"] in text_of(page[ids.EXPLORER_DRILL_HEADER].children)
    assert seg["objective"] in text_of(page[ids.EXPLORER_EVIDENCE].children)
    assert page[ids.EXPLORER_PROFILE_GRAPH].figure.data[0].marker.color == seg["colour"]
    # the grid (and the 1.3 MB grid library) is not in the first render: mount_deep_link_grid brings it
    assert page[ids.EXPLORER_GRID_HOLDER].children is None
    assert not [c for c in page.values() if isinstance(c, dag.AgGrid)]
    assert page[ids.EXPLORER_DEEP_LINK].data == seg["key"]


def test_unknown_deep_link_says_so_in_the_first_render(explorer) -> None:
    page = by_id(explorer.layout(segment="no_such_segment", **{ARTIFACT_ARG: None, THEME_ARG: "light"}))
    assert page[ids.EXPLORER_DRILL].hidden is True
    assert "no_such_segment" in text_of(page[ids.EXPLORER_DRILL_HINT].children)
    assert page[ids.EXPLORER_DRILL_SEGMENT].value == ""


def test_deep_link_grid_is_the_drilled_segments_members(explorer, trained) -> None:
    seg = trained.artifact.manifest["segments"][2]
    grid = explorer.mount_deep_link_grid(seg["key"], seg["key"], None)
    assert isinstance(grid, dag.AgGrid) and grid.id == ids.EXPLORER_GRID
    customers = trained.artifact.customers
    members = set(customers.loc[customers["Segment"] == seg["key"], "ID"].astype(str))
    assert {str(r["ID"]) for r in grid.rowData} == members
    # the same grid as a drill-down chosen on the page
    assert grid.rowData == explorer.render_drill(seg["key"], None, "light")[-1].rowData


@pytest.mark.parametrize(
    ("wanted", "drilled"),
    [
        ("", ""),  # no deep link
        ("no_such_segment", ""),  # a deep link the model does not have (the page says so)
        ("low_value", "high_value_loyal"),  # another segment was chosen since (it brought its own grid)
    ],
)
def test_deep_link_grid_is_not_sent_when_not_wanted(explorer, wanted, drilled) -> None:
    with pytest.raises(PreventUpdate):
        explorer.mount_deep_link_grid(wanted, drilled, None)


def test_first_state_callbacks_do_not_run_on_the_first_render(dash_app) -> None:
    """The layout has what they would send: no round trip before the scatter is drawn."""
    specs = dash_app.server.test_client().get("/_dash-dependencies").get_json()
    first_state = {
        f"{ids.EXPLORER_GRAPH}.figure",
        f"{ids.EXPLORER_AXES_NOTE}.children",
        f"{ids.EXPLORER_DRILL}.hidden",
        f"{ids.EXPLORER_SEGMENTS}.options",
        f"{ids.EXPLORER_GRID_HOLDER}.children",
    }
    server = [s for s in specs if s.get("clientside_function") is None]
    touching = [s for s in server if any(o in s["output"] for o in first_state)]
    assert len(touching) >= 5
    assert all(s["prevent_initial_call"] for s in touching), [s["output"] for s in touching]
    store = [s for s in specs if any(i["id"] == ids.EXPLORER_GRID_WANTED for i in s["inputs"])]
    assert [s["prevent_initial_call"] for s in store] == [True]
