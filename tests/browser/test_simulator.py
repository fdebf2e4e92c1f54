"""The customer simulator in a real browser: presets, numeric boxes, suggested moves."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from dashboard.services import ArtifactView
from pipeline.segmentation.training import TrainResult


def _segments(trained: TrainResult) -> list[dict]:
    return ArtifactView(trained.artifact).segments


def _box(page, feature: str):
    return page.locator(f'.sim-control input[name="{feature}"]')


def _control(page, feature: str):
    return page.locator(".sim-control").filter(has=page.locator(f'input[name="{feature}"]'))


def _open(page, trained: TrainResult) -> None:
    page.goto("/simulator")
    expect(page.locator("#sim-segment-name")).to_be_visible()
    # one control per feature, and "days since last purchase" when activity is measured and it is not a feature
    view = ArtifactView(trained.artifact)
    measured = bool((view.manifest.get("churn_model") or {}).get("model"))
    extra = int(measured and "Recency" not in view.features and "Recency" in view.customers)
    expect(page.locator(".sim-control")).to_have_count(len(view.features) + extra)
    if measured:  # the gauge shows this customer's P(alive) and the expected value is said in words
        expect(page.locator("#sim-churn")).to_contain_text(re.compile("next 12 months", re.IGNORECASE))
        expect(page.locator("#sim-activity-gauge")).to_contain_text("%")


def test_presets_move_the_prediction_between_segments(page, trained: TrainResult) -> None:
    _open(page, trained)
    first, second = _segments(trained)[0], _segments(trained)[-1]
    presets = page.locator("#sim-preset")
    presets.get_by_role("button", name=first["name"], exact=True).click()
    expect(page.locator("#sim-segment-name")).to_have_text(first["name"])
    expect(page.locator("#sim-result")).to_contain_text(first["objective"])
    presets.get_by_role("button", name=second["name"], exact=True).click()
    expect(page.locator("#sim-segment-name")).to_have_text(second["name"])
    expect(page.locator("#sim-result")).to_contain_text(second["objective"])
    # the customer map (its customers and the simulated one's label) and the distances are drawn
    expect(page.locator("#sim-pca-graph .scatterlayer .point").first).to_be_attached()
    label = page.locator("#sim-pca-graph .annotation-text", has_text="This customer")
    expect(label).to_contain_text(second["name"])  # moved in the browser (UPDATE_CHARTS_JS) to the new segment
    expect(page.locator("#sim-distances-graph .barlayer .point")).to_have_count(len(_segments(trained)))
    # the bars were updated in the browser (UPDATE_CHARTS_JS) to this customer's distances, in display order
    view = ArtifactView(trained.artifact)
    values = {f: float(_box(page, f).input_value()) for f in view.features}
    distances = view.simulate(values).distances
    expect(page.locator("#sim-distances-graph .bartext")).to_have_text(
        [f"{distances[s['key']]:.2f}" for s in view.segments]
    )


def test_typing_the_suggested_change_reaches_the_other_segment(page, trained: TrainResult) -> None:
    _open(page, trained)
    view = ArtifactView(trained.artifact)
    start = view.segments[0]
    page.locator("#sim-preset").get_by_role("button", name=start["name"], exact=True).click()
    expect(page.locator("#sim-segment-name")).to_have_text(start["name"])
    values = {f: float(_box(page, f).input_value()) for f in view.features}
    move = next(m for m in view.simulate(values).moves if m.feature is not None)
    target = view.segment_by_key[move.target]["name"]
    expect(page.locator("#sim-moves")).to_contain_text(move.text.rsplit(" → ", 1)[0])

    box = _box(page, move.feature)
    box.fill(f"{values[move.feature] + move.delta:g}")
    box.press("Enter")
    expect(page.locator("#sim-segment-name")).to_have_text(target)
    # the slider followed the box
    slider = _control(page, move.feature).locator("[role=slider]")
    expect(slider).to_have_attribute("aria-valuenow", f"{values[move.feature] + move.delta:g}")


def test_apply_button_and_out_of_range_entry(page, trained: TrainResult) -> None:
    _open(page, trained)
    view = ArtifactView(trained.artifact)
    start = view.segments[-1]
    page.locator("#sim-preset").get_by_role("button", name=start["name"], exact=True).click()
    expect(page.locator("#sim-segment-name")).to_have_text(start["name"])
    values = {f: float(_box(page, f).input_value()) for f in view.features}
    move = next(m for m in view.simulate(values).moves if m.feature is not None)
    page.locator(".sim-move", has_text=view.segment_by_key[move.target]["name"]).get_by_role(
        "button", name="Apply"
    ).click()
    expect(page.locator("#sim-segment-name")).to_have_text(view.segment_by_key[move.target]["name"])

    box = _box(page, "Customer_Value")
    box.fill("99999999")
    box.press("Enter")
    expect(_control(page, "Customer_Value").locator(".sim-feedback")).to_contain_text("top of your customers' range")
    top = float(box.input_value())
    assert top < 99999999 and top >= view.manifest["feature_ranges"]["Customer_Value"]["max"]


def test_slider_key_moves_the_box_and_the_prediction(page, trained: TrainResult) -> None:
    _open(page, trained)
    view = ArtifactView(trained.artifact)
    feature = view.features[0]
    slider = _control(page, feature).locator("[role=slider]")
    before = float(slider.get_attribute("aria-valuenow"))
    signature = page.locator("#sim-result [data-values]").get_attribute("data-values")
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(slider).not_to_have_attribute("aria-valuenow", f"{before:g}")
    now = float(slider.get_attribute("aria-valuenow"))
    # the box follows in the browser, rounded to the slider's step, and the prediction is for the new value
    expect(_box(page, feature)).to_have_value(f"{now:g}")
    expect(page.locator("#sim-result [data-values]")).not_to_have_attribute("data-values", signature)


#: Before the page loads: when the prediction's text enters the document, every animation frame after it
#: (a chance to paint), and when the gauge (in view) and the customer map (below the window) are first drawn.
DRAW_ORDER_JS = """(() => {
    window.__resultAt = null; window.__gaugeAt = null; window.__mapAt = null; window.__frames = [];
    const frame = () => { if (window.__resultAt !== null) window.__frames.push(performance.now()); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    new MutationObserver(() => {
        const now = performance.now();
        if (window.__resultAt === null && document.querySelector('#sim-result .sim-segment-name, #sim-result h2, #sim-result *')) window.__resultAt = now;
        if (window.__gaugeAt === null && document.querySelector('#sim-activity-gauge .main-svg')) window.__gaugeAt = now;
        if (window.__mapAt === null && document.querySelector('#sim-pca-graph .main-svg')) window.__mapAt = now;
    }).observe(document, {childList: true, subtree: true});
})()"""


def test_the_map_below_the_window_is_drawn_after_the_charts_in_view_are_painted(page) -> None:
    """dashboard.plotly_loading.DRAW_HOOKS: a graph starting below the window draws after a frame.

    The customer map (1,200 points) took 90-120 ms to draw in the task that put
    the page in the document, so the prediction and the gauge in view waited
    for a chart nobody could see yet.
    """
    page.add_init_script(DRAW_ORDER_JS)
    page.goto("/simulator")
    expect(page.locator("#sim-pca-graph .main-svg").first).to_be_attached(timeout=30_000)
    at = page.evaluate(
        "() => ({result: window.__resultAt, gauge: window.__gaugeAt, map: window.__mapAt, frames: window.__frames})"
    )
    assert None not in (at["result"], at["gauge"], at["map"]), at
    assert at["gauge"] < at["map"], at
    between = [f for f in at["frames"] if at["gauge"] <= f < at["map"]]
    assert between, at  # a frame (a paint of the page with its gauge) came before the map was drawn
    assert page.evaluate("() => document.querySelector('#sim-pca-graph').getBoundingClientRect().top") >= 720
