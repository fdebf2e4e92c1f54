"""Customer simulator page: callbacks and figure builders as plain functions."""

from __future__ import annotations

import contextvars
import json
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import dash
import numpy as np
import plotly.graph_objects as go
import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import ids, simulator_results
from dashboard import simulator_inputs as inputs
from dashboard.figures import simulator as fig
from pipeline.segmentation.naming import ARCHETYPES
from pipeline.segmentation.training import TrainResult

THEMES = ("light", "dark")


def page_module(name: str) -> ModuleType:
    """The page module exactly as Dash imported it (a plain import would register it twice)."""
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(f"page {name!r} is not registered")


def prop_id(component_id: str | dict[str, str], prop: str) -> str:
    """Dash's ``prop_id`` string: dict ids are JSON with sorted keys and no spaces."""
    if isinstance(component_id, dict):
        component_id = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return f"{component_id}.{prop}"


def triggered_by(
    fn: Callable[..., Any],
    component_id: str | dict[str, str],
    prop: str,
    value: Any,
    *args: Any,
    outputs_list: list[Any] | None = None,
) -> Any:
    """Call a callback as Dash would after ``component_id.prop`` changed to ``value``."""

    def run() -> Any:
        context_value.set(
            AttributeDict(
                triggered_inputs=[{"prop_id": prop_id(component_id, prop), "value": value}],
                outputs_list=outputs_list or [],
            )
        )
        return fn(*args)

    return contextvars.copy_context().run(run)


@pytest.fixture
def sim(request_ctx) -> ModuleType:
    """The simulator page module (inside a request context)."""
    return page_module("simulator")


@pytest.fixture
def v(sim: ModuleType, trained: TrainResult):
    """The trained artifact's view."""
    return sim.view(trained.artifact.artifact_id)


def built_controls(sim: ModuleType, v, search: str | None = None) -> dict[str, Any]:
    """Run ``build_controls`` and index what it built."""
    controls, presets, moves, style, built = sim.build_controls(v.id, search, None)
    assert style == sim.distances_style(len(v.segments))
    sliders, boxes = {}, {}

    def walk(node: Any) -> None:
        cid = getattr(node, "id", None)
        if isinstance(cid, dict) and cid.get("type") == "sim-slider":
            sliders[cid["index"]] = node
        if isinstance(cid, dict) and cid.get("type") == "sim-input":
            boxes[cid["index"]] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    for c in controls:
        walk(c)
    return {"sliders": sliders, "boxes": boxes, "presets": presets, "moves": moves, "built": built}


def slider_state(values: dict[str, float]) -> tuple[list[float], list[dict[str, str]]]:
    """The ``ALL`` slider values and ids the callbacks receive."""
    return list(values.values()), [ids.sim_slider(f) for f in values]


def predict(sim: ModuleType, v, values: dict[str, float], theme: str = "light") -> tuple[Any, ...]:
    vals, sids = slider_state(values)
    return sim.update_prediction(vals, v.id, theme, sids)


def find(node: Any, wanted: str) -> Any:
    """The component with string id ``wanted`` inside ``node``."""
    if getattr(node, "id", None) == wanted:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        hit = find(child, wanted)
        if hit is not None:
            return hit
    return None


def text_of(node: Any) -> str:
    """All text inside a component tree."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text_of(n) for n in node)
    return text_of(getattr(node, "children", None))


# --- layout and controls -------------------------------------------------------
def test_page_is_registered_and_layout_builds(sim: ModuleType) -> None:
    page = next(p for p in dash.page_registry.values() if p["path"] == "/simulator")
    assert page["name"] == "Simulator" and page["order"] == 4
    layout = sim.layout()
    for wanted in (ids.SIM_CONTROLS, ids.SIM_PRESET, ids.SIM_RESULT, ids.SIM_PCA_GRAPH, ids.SIM_BUILT):
        assert find(layout, wanted) is not None, wanted


def test_controls_are_built_from_the_artifact(sim: ModuleType, v) -> None:
    built = built_controls(sim, v)
    assert built["built"] == v.id
    # one slider per feature, then "days since last purchase" when the activity model is fitted
    extra = ["Recency"] if sim.recency_spec(v) is not None else []
    assert list(built["sliders"]) == v.features + extra == list(built["boxes"])
    ranges = v.manifest["feature_ranges"]
    for f, slider in built["sliders"].items():
        if f not in v.features:
            continue
        assert slider.min <= ranges[f]["min"] and slider.max >= ranges[f]["max"]
        assert slider.max - slider.min < (ranges[f]["max"] - ranges[f]["min"]) + 2 * slider.step
        assert slider.updatemode == "drag" and slider.allow_direct_input is False
        assert slider.min <= slider.value <= slider.max
        assert built["boxes"][f].value == slider.value  # box and slider start in step
        marks = slider.marks
        assert 1 <= len(marks) <= 5
        percentiles = {ranges[f][p] for p in ("p5", "p25", "p50", "p75", "p95")}
        assert set(marks) <= percentiles and ranges[f]["p50"] in marks
    spend = built["sliders"]["Customer_Value"].marks
    assert all(m["label"].startswith("$") for m in spend.values())
    assert all(m["label"].endswith(" y") for m in built["sliders"]["Customer_For_Years"].marks.values())
    # presets: one button per segment, in the artifact's names
    for s in v.segments:
        assert s["name"] in text_of(built["presets"])
    # unchanged artifact: nothing to rebuild
    with pytest.raises(PreventUpdate):
        sim.build_controls(v.id, None, v.id)


def test_session_artifact_wins_over_unknown_ids(sim: ModuleType, v) -> None:
    # an unknown/garbage id falls back to the default artifact instead of failing
    assert built_controls(sim, sim.view("../../etc"))["built"] == v.id


def test_deep_link_starts_from_a_segment(sim: ModuleType, v) -> None:
    key = v.segments[-1]["key"]
    built = built_controls(sim, v, f"?segment={key}")
    values = {f: s.value for f, s in built["sliders"].items() if f in v.features}
    assert v.simulate(values).segment["key"] == key
    # an unknown key falls back to the median customer
    median = built_controls(sim, v, "?segment=nope")
    assert {f: s.value for f, s in median["sliders"].items() if f in v.features} == sim.median_values(v)
    recency = sim.recency_spec(v)
    if recency is not None:  # "days since last purchase" starts at the segment's median, else everyone's
        assert built["sliders"]["Recency"].value == sim.clamp(sim.segment_recency(v, key), recency)
        median_days = float(v.customers["Recency"].median())
        assert median["sliders"]["Recency"].value == sim.clamp(median_days, recency)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234.0, "$", "$1.2k"),
        (98.0, "$", "$98"),
        (2_500_000.0, "$", "$2.5M"),
        (1.46, "years", "1.5 y"),
        (12.0, "purchases", "12"),
        (0.5, "", "0.5"),
    ],
)
def test_short_value(sim: ModuleType, value: float, unit: str, text: str) -> None:
    assert inputs.short_value(value, unit) == text


def test_overlapping_marks_are_dropped_keeping_the_median(sim: ModuleType) -> None:
    ranges = {"p5": 10.0, "p25": 12.0, "p50": 14.0, "p75": 60.0, "p95": 98.0}
    marks = inputs.slider_marks(ranges, 0.0, 100.0, "$")
    assert 14.0 in marks and 12.0 not in marks and 10.0 not in marks
    assert list(marks) == sorted(marks)
    assert marks[98.0] == "$98"


# --- presets --------------------------------------------------------------------
def test_each_preset_predicts_its_segment(sim: ModuleType, v) -> None:
    built = built_controls(sim, v)
    vals, sids = slider_state({f: s.value for f, s in built["sliders"].items()})
    for s in v.segments:
        new = triggered_by(sim.apply_preset_or_move, ids.sim_preset(s["key"]), "n_clicks", 1, [1], [], vals, sids, v.id)
        values = {f: x for f, x in zip(built["sliders"], new, strict=True) if f in v.features}
        assert v.simulate(values).segment["key"] == s["key"], s["name"]
        # typical = centroid rounded to the slider steps ("sensibly"), inside the slider range
        for f, value in values.items():
            slider = built["sliders"][f]
            assert slider.min <= value <= slider.max
            assert abs(value - s["centroid"][f]) <= max(slider.step, 0.35 * v.manifest["feature_ranges"][f]["std"])
        # and the prediction shows that name
        result, *_ = predict(sim, v, values)
        assert text_of(find(result, ids.SIM_SEGMENT_NAME)) == s["name"]


def test_unclicked_buttons_do_not_change_sliders(sim: ModuleType, v) -> None:
    vals, sids = slider_state(sim.median_values(v))
    key = v.segments[0]["key"]
    with pytest.raises(PreventUpdate):
        triggered_by(sim.apply_preset_or_move, ids.sim_preset(key), "n_clicks", 0, [0], [], vals, sids, v.id)


# --- prediction -----------------------------------------------------------------
def test_prediction_shows_segment_objective_actions_and_confidence(sim: ModuleType, v) -> None:
    values = sim.median_values(v)
    expected = v.simulate(values)
    result, confidence, texts, classes, disabled, _churn, _charts, _draw = predict(sim, v, values)
    seg = expected.segment
    name = find(result, ids.SIM_SEGMENT_NAME)
    assert name.children == seg["name"] and name.style["color"].startswith("#")
    body = text_of(result)
    assert seg["objective"] in body and all(a in body for a in seg["actions"])
    assert result.to_plotly_json()["props"]["data-values"] == simulator_results.values_signature(values)
    words = text_of(confidence)
    assert seg["name"] in words and ("Clearly" in words or "Probably" in words or "Borderline" in words)
    scored = sim.scored_customer(v, values, "light")
    assert scored == {"artifact": v.id, "theme": "light", "values": values, "churn": sim.churn_estimate(v, values)}
    # moves: one row per segment in display order; the predicted segment's row hidden
    keys = [s["key"] for s in v.segments]
    for key, text, cls, off in zip(keys, texts, classes, disabled, strict=True):
        if key == seg["key"]:
            assert "d-none" in cls and off
        else:
            move = next(m for m in expected.moves if m.target == key)
            assert text == move.text.rsplit(" → ", 1)[0] and "d-none" not in cls and off is (move.feature is None)


def test_prediction_tolerates_missing_and_garbage_values(sim: ModuleType, v) -> None:
    vals = [None, "abc", float("nan")]
    sids = [ids.sim_slider(f) for f in v.features[:3]]
    result, *_ = sim.update_prediction(vals, v.id, "dark", sids)
    # every bad value is replaced by the median: the same as the median customer
    median = {f: float(v.manifest["feature_ranges"][f]["p50"]) for f in v.features}
    assert text_of(find(result, ids.SIM_SEGMENT_NAME)) == v.simulate(median).segment["name"]
    with pytest.raises(PreventUpdate):
        sim.update_prediction(vals, None, "light", sids)


def test_move_outputs_follow_the_page_rows(sim: ModuleType, v) -> None:
    """Inside Dash the row order comes from ``ctx.outputs_list`` (the rows on the page)."""
    values = sim.median_values(v)
    vals, sids = slider_state(values)
    keys = [s["key"] for s in reversed(v.segments)]
    rows = [{"id": ids.sim_move_text(k), "property": "children"} for k in keys]
    outputs = [{}, {}, rows, [], [], {}]
    out = triggered_by(
        sim.update_prediction, sids[0], "value", vals[0], vals, v.id, "light", sids, outputs_list=outputs
    )
    expected, *_ = sim.move_outputs(v.simulate(values), keys)
    assert out[2] == expected


def test_confidence_words_clear_and_borderline(sim: ModuleType, v) -> None:
    base = v.simulate(sim.median_values(v))
    own, runner = base.segment["key"], base.runner_up
    names = v.names
    clear = base.__class__(**{**base.__dict__, "distances": {own: 0.5, runner: 2.0}, "confidence": 0.75})
    head, detail = simulator_results.confidence_words(clear, names)
    assert head == f"Clearly {names[own]}" and "4.0× closer" in detail
    border = base.__class__(**{**base.__dict__, "distances": {own: 1.0, runner: 1.05}, "confidence": 1 - 1 / 1.05})
    head, _ = simulator_results.confidence_words(border, names)
    assert head == f"Borderline between {names[own]} and {names[runner]}"


# --- figures ------------------------------------------------------------------------
@pytest.mark.parametrize("theme", THEMES)
def test_gauge_shows_each_presets_measured_p_alive(sim: ModuleType, v, theme: str) -> None:
    threshold = sim.churn.threshold(sim.churn.churn_model(v.manifest))
    for s in v.segments:
        values = sim.preset_values(v, s["key"])
        vals, sids = slider_state(values)
        gauge, _bars, _pca, drawn = sim.redraw_figures({}, vals, v.id, theme, sids)
        assert isinstance(gauge, go.Figure) and drawn == f"{v.id}|{theme}"
        indicator = gauge.data[0]
        estimate = sim.churn_estimate(v, values)
        if estimate is None:  # no activity model for this data: nothing on the dial
            assert indicator.mode == "gauge" and "not measured" in gauge.layout.annotations[0].text
            continue
        assert indicator.value == round(100 * estimate["p_alive"], 1)
        assert 0 <= indicator.value <= 100 and indicator.gauge.threshold.value == 100 * threshold
        words = "Likely inactive" if estimate["p_alive"] < threshold else "Likely still active"
        assert words in gauge.layout.annotations[0].text


def test_distances_figure_has_one_bar_per_segment(v) -> None:
    sim = v.simulate({f: v.manifest["feature_ranges"][f]["p50"] for f in v.features})
    key = str(sim.segment["key"])
    for theme in THEMES:
        f = fig.distances_figure(v.segments, sim.distances, key, theme)
        bar = f.data[0]
        assert len(bar.x) == len(v.segments) == len(f.layout.yaxis.ticktext)
        assert list(bar.marker.color) == [s["colour"] for s in v.segments]
        i = [s["key"] for s in v.segments].index(key)
        assert bar.marker.opacity[i] == 1.0 and sorted(bar.marker.opacity)[0] < 1.0
        assert bar.x[i] == pytest.approx(min(sim.distances.values()), abs=1e-3)
        f.to_dict()


def test_pca_figure_is_a_2d_map_with_the_customer_as_a_shape_and_label(v) -> None:
    sim = v.simulate({f: v.manifest["feature_ranges"][f]["p50"] for f in v.features})
    f = fig.pca_figure(
        v.customers,
        v.segments,
        sim.pcs,
        sim.segment,
        "dark",
        ["PC1: a (60%)", "PC2: b (20%)"],
        "r",
        max_points=len(v.customers),
    )
    assert [t.type for t in f.data] == ["scatter"] * len(v.segments)  # 2-D: no 3-D bundle for the simulator
    assert [t.name for t in f.data] == [s["name"] for s in v.segments]
    assert [t.marker.color for t in f.data] == [s["colour"] for s in v.segments]
    assert sum(len(t.x) for t in f.data) == len(v.customers)
    shape, label = f.layout.shapes[0], f.layout.annotations[0]
    assert (shape.xanchor, shape.yanchor) == pytest.approx((sim.pcs[0], sim.pcs[1]), abs=1e-3)
    assert shape.fillcolor == sim.segment["colour"] and shape.xsizemode == shape.ysizemode == "pixel"
    assert (label.x, label.y) == (shape.xanchor, shape.yanchor) and sim.segment["name"] in label.text
    assert f.layout.xaxis.title.text == "PC1: a (60%)" and f.layout.yaxis.title.text == "PC2: b (20%)"
    assert f.layout.xaxis.showticklabels is False and f.layout.uirevision == f.layout.datarevision == "r"
    lo, hi = v.customers["PC1"].min(), v.customers["PC1"].max()
    assert list(f.layout.xaxis.range) == pytest.approx([lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)], abs=1e-3)
    default = fig.pca_figure(v.customers, v.segments, sim.pcs, sim.segment, "light")  # the sample: 2,240 > 1,200
    shown = sum(len(t.x) for t in default.data)
    assert fig.MAX_PCA_POINTS == 1200 and shown < len(v.customers)
    assert f"A sample of {shown:,} of {len(v.customers):,}" in default.layout.annotations[1].text
    small = fig.pca_figure(v.customers, v.segments, sim.pcs, sim.segment, "light", max_points=400)
    assert sum(len(t.x) for t in small.data) <= 420
    assert (
        f"A sample of {sum(len(t.x) for t in small.data):,} of {len(v.customers):,}" in small.layout.annotations[1].text
    )


def test_map_ranges_cover_the_customers_and_the_simulated_one() -> None:
    assert fig.map_ranges(((0, 10), (-1, 1)), (5, 0)) == ([-0.5, 10.5], [-1.1, 1.1])
    assert fig.map_ranges(((0, 10), (-1, 1)), (12, 0)) == ([-0.6, 12.6], [-1.1, 1.1])
    assert fig.map_ranges(((0, 10), (-1, 1)), (5, -3, 9)) == ([-0.5, 10.5], [-3.2, 1.2])
    assert fig.map_ranges(((2, 2), (0, 0)), (2, 0)) == ([1.95, 2.05], [-0.05, 0.05])  # no spread: a unit span


def apply_update(figure: dict[str, Any], update: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``figure`` (a figure's JSON) with a ``Plotly.update``-style update applied, as ``UPDATE_CHARTS_JS`` does.

    ``update["data"]``: attribute string → one value per trace; ``update["layout"]``: attribute string → value.
    """
    out = json.loads(json.dumps(figure))

    def put(node: Any, attr: str, value: Any) -> None:
        keys = [int(k) if k.isdigit() else k for k in attr.replace("[", ".").replace("]", "").split(".")]
        for key in keys[:-1]:
            node = node[key]  # every updated attribute's parent exists in the drawn figure
        node[keys[-1]] = value

    for attr, values in update["data"].items():
        for i, value in enumerate(values):
            put(out["data"][i], attr, value)
    for attr, value in update["layout"].items():
        put(out["layout"], attr, value)
    return out


def figure_json(figure: go.Figure) -> dict[str, Any]:
    """The figure as the browser gets it."""
    return json.loads(figure.to_json())


def test_a_slider_step_sends_the_charts_changes_not_the_figures(sim: ModuleType, v) -> None:
    """One round trip: the text and what the charts change; the figures are drawn in full once per model and theme."""
    start = sim.median_values(v)
    vals, sids = slider_state(start)
    # not drawn yet for this model and theme: the text, and a full drawing asked for
    *_, update, draw = sim.update_prediction(vals, v.id, "light", sids, None)
    assert update is no_update and draw == {"revision": f"{v.id}|light", "values": sim.complete_values(v, start)}
    gauge, bars, full, drawn = sim.redraw_figures(draw, vals, v.id, "light", sids)
    assert drawn == f"{v.id}|light" and [t.type for t in full.data] == ["scatter"] * len(v.segments)
    # drawn: a step to another segment's typical customer sends only the changes ...
    other = next(s for s in v.segments if s["key"] != v.simulate(start).segment["key"])
    moved = sim.preset_values(v, other["key"])
    vals2, _ = slider_state(moved)
    *_, update, draw = sim.update_prediction(vals2, v.id, "light", sids, drawn)
    assert draw is no_update
    assert list(update) == [ids.SIM_GAUGE, ids.SIM_DISTANCES_GRAPH, ids.SIM_PCA_GRAPH]  # the map last (bench_app)
    assert update[ids.SIM_PCA_GRAPH]["data"] == {}  # the customers are neither resent nor re-plotted
    # ... and the charts they are applied to are the full figures of the new customer
    gauge2, bars2, full2, _ = sim.redraw_figures(draw, vals2, v.id, "light", sids)
    for before, after, gid in ((gauge, gauge2, ids.SIM_GAUGE), (bars, bars2, ids.SIM_DISTANCES_GRAPH)):
        assert apply_update(figure_json(before), update[gid]) == figure_json(after), gid
    assert apply_update(figure_json(full), update[ids.SIM_PCA_GRAPH]) == figure_json(full2)
    assert f"This customer</b> · {other['name']}" in update[ids.SIM_PCA_GRAPH]["layout"]["annotations[0].text"]
    # a new theme draws in full again
    *_, update, draw = sim.update_prediction(vals2, v.id, "dark", sids, drawn)
    assert update is no_update and draw["revision"] == f"{v.id}|dark"
    with pytest.raises(PreventUpdate):  # no model built yet
        sim.redraw_figures({}, vals, None, "light", sids)


def test_distance_axis_top_known_answers() -> None:
    assert fig.distance_axis_top(2.3) == 3.5  # 2.3 × 1.4 = 3.22, up to the next 0.5
    assert fig.distance_axis_top(2.5) == 3.5  # 3.5 exactly
    assert fig.distance_axis_top(0.1) == 0.7  # at least 0.5 × 1.4
    assert fig.distance_axis_top(7.2) == 15.0  # 10.08: half a power of ten is 5
    assert fig.distance_axis_top(0.45) == 0.7


@given(
    a=st.lists(st.floats(0, 50, allow_nan=False), min_size=2, max_size=6),
    b=st.lists(st.floats(0, 50, allow_nan=False), min_size=2, max_size=6),
    theme=st.sampled_from(THEMES),
)
@settings(max_examples=40, deadline=None)
def test_distances_update_turns_one_customers_chart_into_the_others(a: list[float], b: list[float], theme: str) -> None:
    n = min(len(a), len(b))
    segments = [{"key": str(i), "name": f"Segment {i}", "colour": "#0072B2"} for i in range(n)]
    da, db = ({str(i): d[i] for i in range(n)} for d in (a, b))
    near_a, near_b = min(da, key=da.get), min(db, key=db.get)
    before = figure_json(fig.distances_figure(segments, da, near_a, theme))
    after = figure_json(fig.distances_figure(segments, db, near_b, theme))
    assert apply_update(before, fig.distances_update(segments, db, near_b, theme)) == after
    top = after["layout"]["xaxis"]["range"][1]
    assert top >= 1.4 * max(db.values()) - 1e-9 and top >= 0.7  # room for the longest bar's label


@given(
    a=st.one_of(st.none(), st.floats(0, 1)),
    b=st.one_of(st.none(), st.floats(0, 1)),
    threshold=st.floats(0.05, 0.95),
    theme=st.sampled_from(THEMES),
)
@settings(max_examples=40, deadline=None)
def test_gauge_update_turns_one_customers_dial_into_the_others(
    a: float | None, b: float | None, threshold: float, theme: str
) -> None:
    before = figure_json(fig.activity_gauge_figure(a, threshold, theme))
    after = figure_json(fig.activity_gauge_figure(b, threshold, theme))
    assert apply_update(before, fig.activity_gauge_update(b, threshold, theme)) == after


def test_readable_colour_contrast() -> None:
    for a in ARCHETYPES:
        for theme in THEMES:
            colour = fig.readable_colour(a.colour, theme)
            bg = (0x21, 0x25, 0x29) if theme == "dark" else (255, 255, 255)
            rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
            assert fig._contrast(np.array(rgb, float), np.array(bg, float)) >= 3.0, (a.name, theme)


# --- moves --------------------------------------------------------------------------
def test_applying_a_move_reaches_its_segment(sim: ModuleType, v) -> None:
    applied = 0
    for start in [sim.median_values(v), *(sim.preset_values(v, s["key"]) for s in v.segments)]:
        vals, sids = slider_state(start)
        for move in v.simulate(start).moves:
            if move.feature is None:
                continue
            new = triggered_by(
                sim.apply_preset_or_move, ids.sim_move(move.target), "n_clicks", 1, [], [1], vals, sids, v.id
            )
            values = {f: (start[f] if x is no_update else x) for f, x in zip(v.features, new, strict=True)}
            assert [f for f in v.features if values[f] != start[f]] == [move.feature]
            assert v.simulate(values).segment["key"] == move.target, move.text
            applied += 1
    assert applied >= len(v.segments)


# --- slider ↔ box sync ----------------------------------------------------------------
def _sync(sim: ModuleType, source: str, feature: str, slider: Any, box: Any, lo: float, hi: float, step: float):
    """The box's callback after Enter (``source="box"``) or after leaving the box (``"blur"``).

    Slider → box runs in the browser (tests/browser/test_simulator.py).
    """
    prop = "n_submit" if source == "box" else "n_blur"
    return triggered_by(sim.sync_feature, ids.sim_input(feature), prop, 1, 1, None, box, slider, lo, hi, step)


def test_box_moves_the_slider_rounded_to_its_step(sim: ModuleType) -> None:
    assert _sync(sim, "box", "Customer_Value", 100, 1234, 0, 2600, 10) == (1230, 1230, False, "")
    assert _sync(sim, "box", "Purchase_Frequency", 12, 20, 1, 74, 1) == (20, no_update, False, "")
    assert _sync(sim, "blur", "Purchase_Frequency", 12, 20, 1, 74, 1) == (20, no_update, False, "")


def test_leaving_an_unchanged_box_does_not_rescore(sim: ModuleType) -> None:
    # the slider already holds the box's number: nothing is sent to it (no new prediction)
    assert _sync(sim, "blur", "Customer_Value", 1230, 1230, 0, 2600, 10) == (no_update, no_update, False, "")
    assert _sync(sim, "box", "Customer_Value", 1230, 1234, 0, 2600, 10) == (no_update, 1230, False, "")


@pytest.mark.parametrize("bad", [None, "", "abc", float("nan"), float("inf")])
def test_invalid_box_entry_is_flagged_and_slider_kept(sim: ModuleType, bad: Any) -> None:
    slider, box, invalid, message = _sync(sim, "box", "Customer_Value", 100, bad, 0, 2600, 10)
    assert slider is no_update and box is no_update and invalid is True
    assert message == "Enter a number from $0 to $2,600."


@pytest.mark.parametrize(
    ("typed", "expected", "words"),
    [
        (99999, 2600, "Set to $2,600, the top of your customers' range."),
        (-5, 0, "Set to $0, the bottom of your customers' range."),
    ],
)
def test_out_of_range_box_entry_is_clamped_with_a_note(sim: ModuleType, typed: float, expected: float, words: str):
    slider, box, invalid, message = _sync(sim, "box", "Customer_Value", 100, typed, 0, 2600, 10)
    assert slider == expected and box == expected and invalid is False
    assert words in message


def test_out_of_range_years_are_explained_in_years(sim: ModuleType) -> None:
    *_, message = _sync(sim, "box", "Customer_For_Years", 1.0, 7, 0, 2.0, 0.1)
    assert "2.0 years" in message
