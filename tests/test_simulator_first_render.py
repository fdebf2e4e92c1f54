"""The simulator's first render: controls, the first customer's prediction and the three charts come with the layout."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from dashboard import ids
from dashboard.first_render import ARTIFACT_ARG, THEME_ARG
from tests.test_explorer_first_render import by_id
from tests.test_simulator import page_module, predict, text_of


@pytest.fixture
def sim(request_ctx) -> ModuleType:
    """The simulator page module (inside a request context)."""
    return page_module("simulator")


def slider_values(tree: Any) -> dict[str, float]:
    """Feature -> value of every slider in ``tree``."""
    return {
        c.id["index"]: c.value
        for c in [tree, *tree._traverse()]
        if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == "sim-slider"
    }


def move_rows(tree: Any) -> dict[str, tuple[str, str, bool]]:
    """Segment key -> (text, row class, "apply" disabled) of the move rows in ``tree``."""
    parts = {(c.id["type"], c.id["index"]): c for c in tree._traverse() if isinstance(getattr(c, "id", None), dict)}
    return {
        key: (
            text_of(parts[("sim-move-text", key)].children),
            parts[("sim-move-row", key)].className,
            bool(parts[("sim-move-button", key)].disabled),
        )
        for kind, key in parts
        if kind == "sim-move-row"
    }


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_layout_holds_what_the_callbacks_would_send(sim, trained, theme) -> None:
    tree = sim.layout(**{ARTIFACT_ARG: None, THEME_ARG: theme})
    page = by_id(tree)
    v = sim.view(None)
    assert page[ids.SIM_BUILT].data == v.id
    # the controls build_controls would send, at the same values
    controls, _presets, moves, style, _built = sim.build_controls(v.id, None, None)
    assert slider_values(page[ids.SIM_CONTROLS]) == slider_values(sim.html.Div(controls))
    assert page[ids.SIM_DISTANCES_GRAPH].style == style
    # the prediction update_prediction gives for those sliders
    result, confidence, texts, classes, disabled, activity, _update, draw = predict(
        sim, v, slider_values(page[ids.SIM_CONTROLS]), theme
    )
    assert text_of(page[ids.SIM_RESULT].children) == text_of(result)
    assert text_of(page[ids.SIM_CONFIDENCE].children) == text_of(confidence)
    assert text_of(page[ids.SIM_CHURN].children) == text_of(activity)
    keys = [s["key"] for s in v.segments]
    assert move_rows(page[ids.SIM_MOVES]) == dict(zip(keys, zip(texts, classes, disabled, strict=True), strict=True))
    assert sum(1 for c in classes if "d-none" in c) == 1  # the predicted segment's own row is hidden
    # the figures redraw_figures would send for that drawing, and the revision they are drawn for
    gauge, distances, customer_map, revision = sim.redraw_figures(
        draw,
        list(slider_values(page[ids.SIM_CONTROLS]).values()),
        v.id,
        theme,
        [ids.sim_slider(f) for f in slider_values(page[ids.SIM_CONTROLS])],
    )
    assert page[ids.SIM_DRAWN].data == revision == draw["revision"]
    for got, want in (
        (page[ids.SIM_GAUGE].figure, gauge),
        (page[ids.SIM_DISTANCES_GRAPH].figure, distances),
        (page[ids.SIM_PCA_GRAPH].figure, customer_map),
    ):
        assert got.to_plotly_json() == want.to_plotly_json()
    assert moves is not None


def test_deep_link_starts_the_page_from_that_segment(sim, trained) -> None:
    v = sim.view(None)
    seg = v.segments[-1]
    page = by_id(sim.layout(segment=seg["key"], **{ARTIFACT_ARG: None, THEME_ARG: "light"}))
    controls, *_ = sim.build_controls(v.id, f"?segment={seg['key']}", None)
    assert slider_values(page[ids.SIM_CONTROLS]) == slider_values(sim.html.Div(controls))
    assert seg["name"] in text_of(page[ids.SIM_RESULT].children)


def test_an_unknown_deep_link_or_session_id_gives_the_default_page(sim) -> None:
    plain = by_id(sim.layout(**{ARTIFACT_ARG: None, THEME_ARG: "light"}))
    odd = by_id(sim.layout(segment="no_such_segment", **{ARTIFACT_ARG: "../../etc", THEME_ARG: "<script>"}))
    assert odd[ids.SIM_BUILT].data == plain[ids.SIM_BUILT].data
    assert slider_values(odd[ids.SIM_CONTROLS]) == slider_values(plain[ids.SIM_CONTROLS])
    assert odd[ids.SIM_DRAWN].data == plain[ids.SIM_DRAWN].data  # the light theme's drawing


def test_no_callback_runs_on_the_first_render(dash_app) -> None:
    """The layout has what they would send: the page makes no round trip after it arrives."""
    specs = dash_app.server.test_client().get("/_dash-dependencies").get_json()
    first_state = (ids.SIM_CONTROLS, ids.SIM_RESULT, ids.SIM_GAUGE, ids.SIM_PCA_GRAPH, ids.SIM_DRAW)
    server = [s for s in specs if s.get("clientside_function") is None]
    touching = [s for s in server if any(f"{o}." in s["output"] for o in first_state)]
    assert len(touching) == 3  # build_controls, update_prediction, redraw_figures
    assert all(s["prevent_initial_call"] for s in touching), [s["output"] for s in touching]
