"""Measured churn on every page: readers, figure builders and callbacks with known answers.

Fabricated manifests (a fitted ``churn_model``, per-segment ``churn``) are
laid over the session's trained sample, so the pages are tested on numbers
chosen here, and on the "not measured" states (no recency; a model version
written before the measurement).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
import types
from pathlib import Path
from typing import Any

import dash
import plotly.graph_objects as go
import pytest

from dashboard import churn, explorer_drill, ids, simulator_charts, simulator_inputs, simulator_results
from dashboard.components import churn_badge, kpi_card
from dashboard.figures import models as models_fig
from dashboard.figures import segments as segments_fig
from dashboard.figures import simulator as sim_fig
from dashboard.model_comparison.blocks import churn_check_summary
from dashboard.services import ArtifactView

ROOT = Path(__file__).resolve().parents[1]
THEMES = ("light", "dark")

CHURN_MODEL: dict[str, Any] = {
    "model": "bg/nbd",
    "time_unit": "day",
    "params": {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43},
    "spend_model": {"model": "gamma-gamma", "params": {"p": 6.25, "q": 3.74, "gamma": 15.44}},
    "n_customers_fitted": 1000,
    "transactions_after_as_of": 0,
    "holdout": {
        "kind": "after_as_of",
        "period": {"start": "1997-09-30", "end": "1998-06-30", "days": 273},
        "n_customers": 1000,
        "predicted_total": 1100.0,
        "actual_total": 1000.0,
        "by_repeat_purchases": [
            {"repeat_purchases": "1", "n_customers": 300, "predicted_mean": 0.9, "actual_mean": 0.8},
            {"repeat_purchases": "0", "n_customers": 600, "predicted_mean": 0.2, "actual_mean": 0.25},
            {"repeat_purchases": "2+", "n_customers": 100, "predicted_mean": 2.5, "actual_mean": 2.4},
        ],
        "params": {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.4},
        "how_measured": "Model fitted on purchases up to 1997-09-30 (the as-of date).",
    },
    "as_of": "1997-09-30",
    "horizon_months": 12,
    "margin": 1.0,
    "annual_discount_rate": 0.0,
    "inactive_threshold": 0.5,
    "source": "transactions",
    "assumptions": [],
    "how_measured": "BG/NBD fitted by maximum likelihood.",
}


def seg(key: str, size: int, value_share: float, share_inactive: float | None, var: float | None) -> dict[str, Any]:
    """A fabricated segment with measured churn (None: not measured)."""
    churn_part = (
        None
        if share_inactive is None
        else {
            "share_likely_inactive": share_inactive,
            "mean_p_alive": 1 - share_inactive,
            "mean_clv": 100.0,
            "total_clv": 100.0 * size,
            "value_at_risk": var,
        }
    )
    return {
        "key": key,
        "name": key.replace("_", " ").title(),
        "colour": "#0072B2",
        "size": size,
        "share": size / 1000,
        "value_share": value_share,
        "objective": "Keep",
        "actions": ["Call"],
        "churn": churn_part,
    }


THREE = [
    seg("a", 100, 0.5, 0.5, 100.0),
    seg("b", 300, 0.3, 0.2, 500.0),
    seg("c", 600, 0.2, 0.1, 300.0),
]


# --- pure readers -----------------------------------------------------------------------------------------
def test_churn_model_reader_and_reasons() -> None:
    assert churn.churn_model({}) is None
    assert churn.not_measured_reason({}) == churn.NOT_MEASURED_OLD  # written before the measurement
    no_recency = {"churn_model": {"model": None, "reason": "The data has no recency column."}}
    assert churn.churn_model(no_recency) is None
    assert churn.not_measured_reason(no_recency) == "The data has no recency column."
    assert churn.not_measured_reason({"churn_model": {"model": None}}) == churn.NOT_MEASURED_UNKNOWN
    pipeline_words = {
        "churn_model": {"model": None, "reason": "not measured: the data has no days since last purchase"}
    }
    assert churn.not_measured_reason(pipeline_words) == "The data has no days since last purchase."
    assert churn.churn_model({"churn_model": CHURN_MODEL})["params"]["r"] == 0.24
    assert churn.threshold(CHURN_MODEL) == 0.5 and churn.threshold({}) == churn.DEFAULT_THRESHOLD
    assert churn.threshold({"inactive_threshold": 0.3}) == 0.3
    note = churn.how_measured(CHURN_MODEL, value=False)
    assert note == "BG/NBD fitted to purchase history; a customer counts as likely inactive when P(alive) < 0.5."
    assert "Gamma-Gamma" in churn.how_measured(CHURN_MODEL) and "12 months" in churn.how_measured(CHURN_MODEL)
    assert "Gamma-Gamma" not in churn.how_measured({**CHURN_MODEL, "spend_model": None})
    assert "days since the last purchase" in churn.how_measured({**CHURN_MODEL, "source": "marketing"})


@pytest.mark.parametrize(
    ("share", "text"), [(0.38, "38% likely inactive"), (0.0, "0% likely inactive"), (None, "activity not measured")]
)
def test_badge_text(share: float | None, text: str) -> None:
    assert churn.badge_text(seg("x", 10, 0.1, share, 1.0)) == text
    assert churn.badge_text({"key": "old"}) == "activity not measured"  # no "churn" key at all


def test_badge_is_filled_to_the_measured_share() -> None:
    badge = churn_badge(seg("x", 10, 0.1, 0.38, 1.0))
    assert badge.children == "38% likely inactive" and badge.style == {"--churn-share": "38%"}
    assert "churn-badge" in badge.className
    none = churn_badge(seg("x", 10, 0.1, None, None))
    assert none.children == "activity not measured" and "churn-badge-none" in none.className


def test_population_figures_are_size_weighted_sums() -> None:
    pop = churn.population_churn(THREE)
    # (100×0.5 + 300×0.2 + 600×0.1) / 1000 = 170 / 1000
    assert pop["share_likely_inactive"] == pytest.approx(0.17)
    assert pop["n_likely_inactive"] == 170
    assert pop["value_at_risk"] == pytest.approx(900.0)
    assert pop["total_clv"] == pytest.approx(100_000.0)
    # one segment not measured: nothing is made up for the whole
    partial = churn.population_churn([*THREE[:2], seg("c", 600, 0.2, None, None)])
    assert partial == {
        "share_likely_inactive": None,
        "n_likely_inactive": None,
        "value_at_risk": None,
        "total_clv": None,
    }
    # no spend model: the share is measured, the value is not
    no_value = churn.population_churn([seg("a", 100, 0.5, 0.5, None), seg("b", 300, 0.5, 0.2, None)])
    assert no_value["share_likely_inactive"] == pytest.approx(110 / 400) and no_value["value_at_risk"] is None


def test_population_figures_from_the_customer_table() -> None:
    import pandas as pd

    table = pd.DataFrame({"p_alive": [0.2, 0.6, float("nan"), 0.4], "expected_clv": [10.0, 20.0, float("nan"), 5.0]})
    pop = churn.population_from_customers(table, 0.5)
    # the unmeasured customer is left out: 2 of 3 likely inactive, their expected value 10 + 5 of 35
    assert pop == {
        "share_likely_inactive": 2 / 3,
        "n_likely_inactive": 2,
        "value_at_risk": 15.0,
        "total_clv": 35.0,
        "n_measured": 3,
        "n_customers": 4,
    }
    no_value = churn.population_from_customers(table.assign(expected_clv=float("nan")), 0.5)
    assert no_value["value_at_risk"] is None and no_value["n_likely_inactive"] == 2
    assert churn.population_from_customers(table.assign(p_alive=float("nan")), 0.5) is None
    assert churn.population_from_customers(table.drop(columns="p_alive"), 0.5) is None


def test_act_first_order_is_by_value_at_risk() -> None:
    assert [s["key"] for s in churn.act_first_order(THREE)] == ["b", "c", "a"]
    # without a value at risk: after the measured ones, by number of likely inactive customers
    mixed = [seg("p", 100, 0.5, 0.9, None), seg("q", 1000, 0.1, 0.5, None), seg("r", 10, 0.1, 0.1, 5.0)]
    assert [s["key"] for s in churn.act_first_order(mixed)] == ["r", "q", "p"]
    # nothing measured: by share of spend
    plain = [seg("p", 100, 0.2, None, None), seg("q", 100, 0.7, None, None), seg("r", 100, 0.1, None, None)]
    assert [s["key"] for s in churn.act_first_order(plain)] == ["q", "p", "r"]


def test_holdout_readers() -> None:
    rows = churn.holdout_rows(CHURN_MODEL["holdout"])
    assert [r["label"] for r in rows] == ["0", "1", "2+"]
    assert rows[0] == {"label": "0", "n_customers": 600, "predicted": 0.2, "actual": 0.25}
    totals = churn.holdout_totals(CHURN_MODEL["holdout"])
    assert totals["predicted"] == 1100 and totals["actual"] == 1000 and totals["error"] == pytest.approx(0.1)
    assert churn.holdout_rows(None) == [] and churn.holdout_totals(None) is None


# --- figure builders --------------------------------------------------------------------------------------
def bubbles(fig: go.Figure) -> dict[str, Any]:
    return {t.name: t for t in fig.data if t.type == "scatter"}


@pytest.mark.parametrize("theme", THEMES)
def test_priority_matrix_places_segments_by_measured_figures(theme: str) -> None:
    fig = segments_fig.priority_figure([seg("a", 100, 0.45, 0.38, 10.0), *THREE[1:]], theme)
    b = bubbles(fig)
    assert b["A"].y[0] == 0.38 and b["A"].x[0] == 0.45  # y = share likely inactive, x = value share
    assert b["B"].y[0] == 0.2 and b["C"].y[0] == 0.1
    assert b["C"].marker.size > b["B"].marker.size > b["A"].marker.size  # bubble = customers
    assert fig.layout.yaxis.tickformat == ".0%" and "inactive" in fig.layout.yaxis.title.text
    # the horizontal guide is all customers' share: (100×0.38 + 300×0.2 + 600×0.1) / 1000
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.y0 == s.y1]
    assert lines and lines[0].y0 == pytest.approx(0.158)
    assert "$500" in b["B"].customdata[0][2]


def test_priority_matrix_line_is_the_share_of_the_customers_measured() -> None:
    # 1 of the 2 customers measured is likely inactive; 2 more were not measured
    pop = {"share_likely_inactive": 0.5, "n_likely_inactive": 1, "n_measured": 2, "n_customers": 4}
    fig = segments_fig.priority_figure(THREE, "light", population=pop)
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.y0 == s.y1]
    assert lines[0].y0 == 0.5  # not the size-weighted 0.158 of the segments' shares
    assert "customers measured: 50%" in [a.text for a in fig.layout.annotations]
    full = segments_fig.priority_figure(THREE, "light", population={**pop, "n_measured": 4})
    assert "all customers: 50%" in [a.text for a in full.layout.annotations]


def test_priority_matrix_without_spend_places_nothing_at_zero() -> None:
    no_spend = [{**s, "value_share": None} for s in THREE]
    fig = segments_fig.priority_figure(no_spend, "light")
    assert not fig.data and "no customer spend" in fig.layout.annotations[0].text


def test_inactive_caption_says_how_many_were_measured() -> None:
    pop = {"n_likely_inactive": 224, "n_measured": 1071, "n_customers": 2240}
    assert churn.inactive_caption(pop, 0.5) == "224 of 1,071 customers measured, P(alive) < 0.5; 1,169 not measured"
    assert churn.inactive_caption({**pop, "n_measured": 2240}, 0.5) == "224 customers with P(alive) < 0.5"
    assert churn.inactive_caption({"n_likely_inactive": 3}, 0.3) == "3 customers with P(alive) < 0.3"  # segments' sum
    assert churn.inactive_caption({"n_likely_inactive": None}, 0.5) == "of customers"


def test_close_bubbles_get_labels_that_do_not_collide() -> None:
    # two level bubbles side by side: the first label goes beside (left, right half of the plot), the second
    # would cover it there and goes above; a bubble far away keeps its label beside it
    assert segments_fig.label_positions([0.40, 0.45, 0.05], [0.25, 0.25, 0.10], 0.6, 0.4) == [
        "middle left",
        "top center",
        "middle right",
    ]
    assert segments_fig.label_positions([0.1, 0.5], [0.1, 0.3], 0.6, 0.4) == ["middle right", "middle left"]


def test_priority_matrix_not_measured_places_nothing() -> None:
    fig = segments_fig.priority_figure(THREE, "light", not_measured="no recency")
    assert not fig.data and "not measured" in fig.layout.annotations[0].text
    unmeasured = [seg("a", 100, 0.5, None, None)]
    assert not segments_fig.priority_figure(unmeasured, "dark").data
    assert [s["key"] for s in segments_fig.priority_order(THREE)] == ["b", "c", "a"]


@pytest.mark.parametrize("theme", THEMES)
def test_activity_gauge_shows_p_alive(theme: str) -> None:
    fig = sim_fig.activity_gauge_figure(0.73, 0.5, theme)
    ind = fig.data[0]
    assert ind.value == 73.0 and ind.mode == "gauge+number" and ind.number.suffix == "%"
    assert tuple(ind.gauge.axis.range) == (0, 100) and ind.gauge.threshold.value == 50.0
    assert ind.gauge.bar.color == sim_fig.ACTIVE_COLOUR
    assert "Likely still active" in fig.layout.annotations[0].text
    low = sim_fig.activity_gauge_figure(0.2, 0.5, theme)
    assert low.data[0].value == 20.0 and low.data[0].gauge.bar.color == sim_fig.INACTIVE_COLOUR
    assert "Likely inactive" in low.layout.annotations[0].text
    none = sim_fig.activity_gauge_figure(None, 0.5, theme)
    assert "not measured" in none.layout.annotations[0].text and none.data[0].mode == "gauge"


def test_activity_gauge_update_known_answer() -> None:
    u = sim_fig.activity_gauge_update(0.3, 0.5, "light")
    assert u["data"]["value"] == [30.0] and u["data"]["gauge.bar.color"] == [sim_fig.INACTIVE_COLOUR]
    assert u["data"]["mode"] == ["gauge+number"] and u["data"]["gauge.threshold.line.width"] == [3]
    assert u["layout"]["annotations[0].text"] == "<b>Likely inactive</b> · P(alive)"
    off = sim_fig.activity_gauge_update(None, 0.5, "dark")
    assert off["data"]["mode"] == ["gauge"] and off["data"]["gauge.threshold.line.width"] == [0]
    assert off["layout"]["annotations[0].text"] == "<b>Activity not measured</b>"


@pytest.mark.parametrize("theme", THEMES)
def test_holdout_figure(theme: str) -> None:
    fig = models_fig.holdout_figure(churn.holdout_rows(CHURN_MODEL["holdout"]), theme)
    bars, line = fig.data
    assert bars.type == "bar" and list(bars.y) == [0.25, 0.8, 2.4] and list(bars.x) == ["0", "1", "2+"]
    assert line.type == "scatter" and list(line.y) == [0.2, 0.9, 2.5]
    assert not models_fig.holdout_figure([], theme).data


# --- pages ------------------------------------------------------------------------------------------------
def page_module(name: str) -> types.ModuleType:
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(name)


def text_of(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text_of(n) for n in node)
    return text_of(getattr(node, "children", None))


def fabricated(trained, churn_model: dict[str, Any] | None, shares: list[float | None], tag: str) -> ArtifactView:
    """The trained sample's view with a chosen churn model and per-segment shares (largest value share first)."""
    manifest = copy.deepcopy(trained.artifact.manifest)
    manifest["artifact_id"] = f"fabricated-{tag}"
    if churn_model is None:
        manifest.pop("churn_model", None)
    else:
        manifest["churn_model"] = churn_model
    ordered = sorted(manifest["segments"], key=lambda s: -(s.get("value_share") or 0.0))
    for i, s in enumerate(ordered):
        share = shares[i % len(shares)]
        s.pop("churn", None)
        if share is not None:
            s["churn"] = {
                "share_likely_inactive": share,
                "mean_p_alive": 1 - share,
                "mean_clv": 50.0,
                "total_clv": 50.0 * s["size"],
                "value_at_risk": 1000.0 * (i + 1),
            }
    customers = trained.artifact.customers.drop(columns=["p_alive", "expected_clv"], errors="ignore")
    return ArtifactView(dataclasses.replace(trained.artifact, manifest=manifest, customers=customers))


@pytest.fixture
def pages(request_ctx) -> dict[str, types.ModuleType]:
    return {n: page_module(n) for n in ("overview", "segments", "simulator", "explorer", "models")}


def test_overview_kpis_and_cards_measured(pages, trained) -> None:
    v = fabricated(trained, CHURN_MODEL, [0.38, 0.1], "overview")
    cards = pages["overview"].churn_kpis(v)
    inactive, at_risk = (text_of(c) for c in cards)
    n = sum(s["size"] for s in v.segments)
    expected = sum(s["size"] * s["churn"]["share_likely_inactive"] for s in v.segments) / n
    assert f"{expected:.0%}" in inactive and "P(alive) < 0.5" in inactive and "BG/NBD" in inactive
    var = sum(s["churn"]["value_at_risk"] for s in v.segments)
    assert f"${var:,.0f}" in at_risk and "12-month" in at_risk
    total = sum(s["churn"]["total_clv"] for s in v.segments)
    assert f"({var / total:.0%} of all)" in at_risk
    assert cards[0].children.children[1].title.startswith("BG/NBD")  # the how-measured note is also the tooltip
    rows = text_of(pages["overview"].segment_cards(v))
    assert "38% likely inactive" in rows and "10% likely inactive" in rows and "churn risk" not in rows


def test_overview_kpi_counts_the_customers_below_the_threshold(pages, trained) -> None:
    v = ArtifactView(trained.artifact)
    assert churn.churn_model(v.manifest) is not None  # the built-in sample has recency: measured
    p = v.customers["p_alive"]
    inactive = int((p < churn.threshold(churn.churn_model(v.manifest))).sum())
    text = text_of(pages["overview"].churn_kpis(v)[0])
    assert f"{inactive / p.notna().sum():.0%}" in text and f"{inactive:,} customers with P(alive) < 0.5" in text


@pytest.mark.parametrize("state", ["old", "no-recency"])
def test_overview_not_measured(pages, trained, state: str) -> None:
    cm = None if state == "old" else {"model": None, "reason": "No days since last purchase in this data."}
    v = fabricated(trained, cm, [None], state)
    text = text_of(pages["overview"].churn_kpis(v))
    assert text.count("not measured") == 2 and "%" not in text and "$" not in text
    reason = churn.NOT_MEASURED_OLD if cm is None else cm["reason"]
    assert reason in text
    assert "activity not measured" in text_of(pages["overview"].segment_cards(v))


def test_segments_page_act_first_and_notes(pages, trained) -> None:
    v = fabricated(trained, CHURN_MODEL, [0.38, 0.1, 0.2, 0.05], "segments")
    listing = pages["segments"].priority_list(v)
    order = [s["name"] for s in churn.act_first_order(v.segments)]
    # value at risk grows down the display order here, so the last segment comes first
    assert order == [s["name"] for s in reversed(v.segments)]
    text = text_of(listing)
    positions = [text.index(name) for name in order]
    assert positions == sorted(positions)
    assert f"${1000 * len(v.segments):,.0f} at risk" in text and "Ordered by value at risk" in text
    assert "BG/NBD" in text_of(pages["segments"].matrix_note(v))
    card = pages["segments"].segment_card(v.segments[0], v, pages["segments"].averages(v))
    text = text_of(card)
    assert "38% likely inactive" in text and "62% mean P(alive)" in text
    assert "$50 expected per customer, 12 months" in text and "$1,000 value at risk" in text


def test_segments_page_not_measured(pages, trained) -> None:
    v = fabricated(trained, {"model": None, "reason": "No recency."}, [None], "segments-none")
    text = text_of(pages["segments"].priority_list(v))
    assert "Ordered by share of total spend" in text and "No recency." in text and "at risk" not in text
    assert "No recency." in text_of(pages["segments"].matrix_note(v))


def test_explorer_drill_header_badge(pages, trained) -> None:
    v = fabricated(trained, CHURN_MODEL, [0.38], "explorer")
    header = text_of(explorer_drill.drill_header(v.segments[0]))
    assert "38% likely inactive" in header and "risk" not in header


def test_models_page_churn_check(pages, trained) -> None:
    m = pages["models"]
    v = fabricated(trained, CHURN_MODEL, [0.3], "models")
    text = text_of(churn_check_summary(v))
    assert "predicted 1,100" in text and "actual 1,000" in text and "prediction 10.0% above actual" in text
    assert "1997-09-30 to 1998-06-30" in text and "fitted on purchases up to 1997-09-30" in text
    marketing = fabricated(trained, {**CHURN_MODEL, "holdout": None, "source": "marketing"}, [0.3], "models-mkt")
    assert "no purchase dates" in text_of(churn_check_summary(marketing))
    none = fabricated(trained, None, [None], "models-none")
    assert churn.NOT_MEASURED_OLD in text_of(churn_check_summary(none))
    # the callback draws the session's artifact (the trained sample)
    _summary, figure, style = m.churn_check(trained.artifact.artifact_id, "dark")
    assert isinstance(figure, go.Figure)
    holdout = (churn.churn_model(trained.artifact.manifest) or {}).get("holdout")
    assert style == ({} if churn.holdout_rows(holdout) else {"display": "none"})
    assert m.PAGE_OUTPUTS  # untouched positional tuple of the comparison callbacks


# --- simulator --------------------------------------------------------------------------------------------
@pytest.fixture
def fake_measure(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, float]]:
    """A stand-in ``pipeline.churn.measure.customer_churn`` with a known answer; records its calls.

    P(alive) = 1 / (1 + recency / 100); expected purchases = 2 × P(alive); value = purchases × 50.
    """
    calls: list[dict[str, float]] = []
    result = types.SimpleNamespace

    def customer_churn(cm, *, frequency, tenure_years, recency_days, value):
        calls.append(
            {"frequency": frequency, "tenure_years": tenure_years, "recency_days": recency_days, "value": value}
        )
        p = 1.0 / (1.0 + recency_days / 100.0)
        return result(p_alive=p, expected_purchases=2 * p, expected_clv=100 * p if cm.get("spend_model") else None)

    module = types.ModuleType("pipeline.churn.measure")
    module.customer_churn = customer_churn  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pipeline.churn.measure", module)
    return calls


def test_simulator_recency_input_gauge_and_value(pages, trained, fake_measure) -> None:
    sim = pages["simulator"]
    v = fabricated(trained, CHURN_MODEL, [0.3], "sim")
    spec = sim.recency_spec(v)
    assert spec is not None and spec.feature == "Recency" and spec.unit == "days" and spec.lo == 0
    assert spec.hi >= float(v.customers["Recency"].max())
    values = {**sim.median_values(v), "Recency": 100}
    estimate = sim.churn_estimate(v, values)
    assert estimate == {"p_alive": 0.5, "expected_purchases": 1.0, "expected_clv": 50.0}
    call = fake_measure[-1]
    assert call["recency_days"] == 100 and call["frequency"] == values["Purchase_Frequency"]
    assert call["tenure_years"] == values["Customer_For_Years"] and call["value"] == values["Customer_Value"]
    block = sim.churn_block(v, estimate)
    assert "$50" in text_of(block) and "1.0 expected purchases" in text_of(block)
    assert block.to_plotly_json()["props"]["data-p-alive"] == "0.5000"
    # no recency slider value: the customers' median recency is used
    sim.churn_estimate(v, sim.median_values(v))
    assert fake_measure[-1]["recency_days"] == float(v.customers["Recency"].median())
    gauge = sim_fig.activity_gauge_figure(estimate["p_alive"], churn.threshold(CHURN_MODEL), "light")
    assert gauge.data[0].value == 50.0


def test_simulator_value_not_measured_for_some_inputs(pages, trained) -> None:
    sim = pages["simulator"]
    v = fabricated(trained, CHURN_MODEL, [0.3], "sim-partial")
    nothing = text_of(sim.churn_block(v, {"p_alive": 0.8, "expected_purchases": None, "expected_clv": None}))
    assert "not measured for these values" in nothing and "$" not in nothing
    only = text_of(sim.churn_block(v, {"p_alive": 0.8, "expected_purchases": 2.25, "expected_clv": None}))
    assert "Expected purchases, next 12 months" in only and "2.2" in only and "value not measured" in only


def test_simulator_says_which_inputs_are_taken_at_the_median(pages, trained) -> None:
    sim = pages["simulator"]
    v = fabricated(trained, CHURN_MODEL, [0.3], "sim-median")
    median = float(v.customers["Customer_For_Years"].median())
    assert (
        simulator_inputs.median_note(v, ["Customer_For_Years"])
        == f" Taken at the customers' median: Tenure {median:.1f} years."
    )
    assert simulator_inputs.median_note(v, []) == ""
    block = sim.churn_block(v, {"p_alive": 0.8, "expected_purchases": 1.0, "expected_clv": 9.0}, ["Customer_For_Years"])
    assert "Taken at the customers' median: Tenure" in text_of(block)


def test_simulator_not_measured(pages, trained, fake_measure) -> None:
    sim = pages["simulator"]
    v = fabricated(trained, {"model": None, "reason": "No recency in this data."}, [None], "sim-none")
    assert sim.recency_spec(v) is None and sim.churn_estimate(v, sim.median_values(v)) is None
    assert not fake_measure  # nothing guessed, nothing computed
    assert "No recency in this data." in text_of(sim.churn_block(v, None))


def test_simulator_callbacks_on_the_trained_sample(pages, trained) -> None:
    """End to end through the callbacks: controls (with the recency input when measured), text, gauge."""
    sim = pages["simulator"]
    v = sim.view(trained.artifact.artifact_id)
    controls, *_ = sim.build_controls(v.id, None, None)
    slider_ids = []

    def walk(node: Any) -> None:
        cid = getattr(node, "id", None)
        if isinstance(cid, dict) and cid.get("type") == "sim-slider":
            slider_ids.append((cid, node.value))
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    for c in controls:
        walk(c)
    measured = churn.churn_model(v.manifest) is not None
    assert [c["index"] for c, _ in slider_ids] == v.features + (["Recency"] if measured else [])
    values = [value for _, value in slider_ids]
    result, *_, block, _charts, _draw = sim.update_prediction(values, v.id, "light", [c for c, _ in slider_ids])
    scored = sim.scored_customer(v, dict(zip([c["index"] for c, _ in slider_ids], values, strict=True)), "light")
    # the result's signature covers every input on the page, the recency input included
    signature = result.to_plotly_json()["props"]["data-values"]
    assert signature == simulator_results.values_signature({c["index"]: float(x) for c, x in slider_ids})
    gauge, *_ = simulator_charts.full_figures(v, v.simulate(scored["values"]), scored)
    if measured:
        assert scored["churn"]["p_alive"] == pytest.approx(gauge.data[0].value / 100, abs=0.0005)
        assert float(block.to_plotly_json()["props"]["data-p-alive"]) == pytest.approx(
            scored["churn"]["p_alive"], abs=1e-4
        )
    else:
        assert scored["churn"] is None and gauge.data[0].mode == "gauge" and "not measured" in text_of(block)
    update = simulator_charts.chart_updates(v, v.simulate(scored["values"]), scored)[ids.SIM_GAUGE]
    assert update["data"]["value"] == [gauge.data[0].value]


def test_kpi_card_note_is_shown_and_is_the_tooltip() -> None:
    card = kpi_card("Likely inactive", "17%", "170 customers", note="How it is measured.")
    assert "How it is measured." in text_of(card) and card.children.children[1].title == "How it is measured."
    assert "title" not in kpi_card("Customers", "10").children.children[1].to_plotly_json()["props"]


# --- no fixed risk label left -----------------------------------------------------------------------------
def test_no_fixed_risk_label_is_read_by_the_dashboard() -> None:
    pattern = re.compile(r"""\[["']risk["']\]|\.get\(["']risk["']|RISK_(LEVELS|COLOURS|LABELS|ORDER)|risk_badge""")
    offenders = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sorted((ROOT / "dashboard").rglob("*.py"))
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_the_population_share_is_of_the_measured_customers_not_the_segments_sizes() -> None:
    """Segment A: 100 members, 10 measured, all likely inactive; B: 100 members, all measured, none inactive.

    Weighting the segments' shares (1.0 and 0.0) by their sizes said 50 % and 100 customers; measured, it is
    10 of the 110 customers measured (9.1 %), and 90 customers could not be measured."""
    import numpy as np

    from pipeline.churn.result import population_churn

    p_alive = np.r_[np.full(10, 0.1), np.full(90, np.nan), np.full(100, 0.9)]
    pop = population_churn(p_alive, None, 0.5)
    assert (pop.n_customers, pop.n_measured, pop.n_likely_inactive, pop.n_not_measured) == (200, 110, 10, 90)
    assert pop.share_likely_inactive == pytest.approx(10 / 110)
    assert pop.value_at_risk is None and pop.total_clv is None
    clv = np.r_[np.full(10, 3.0), np.full(90, 7.0), np.full(100, 1.0)]  # the unmeasured customers' CLV not counted
    valued = population_churn(p_alive, clv, 0.5)
    assert (valued.value_at_risk, valued.total_clv) == (30.0, 130.0)
    assert population_churn(np.full(3, np.nan), clv[:3], 0.5) is None


def test_overview_spend_kpis_say_the_period_and_who_is_counted(pages, trained) -> None:
    v = ArtifactView(trained.artifact)
    text = text_of(pages["overview"].kpis(v))
    # the built-in sample is the reference table: its spend covers the last two years, as it documents
    assert "spend per customer, the last two years, per the source table" in text
    assert "all customers, the last two years, per the source table" in text
    # some spend unknown: the total counts the customers with a known spend, and says so
    customers = v.customers.copy()
    customers.loc[customers.index[:40], "Customer_Value"] = float("nan")
    partial = ArtifactView(dataclasses.replace(trained.artifact, customers=customers))
    assert f"the {len(customers) - 40:,} customers with a known spend" in text_of(pages["overview"].kpis(partial))


def test_overview_value_concentration_without_spend_is_not_measured(pages, trained) -> None:
    manifest = copy.deepcopy(trained.artifact.manifest)
    manifest["artifact_id"] = "fabricated-no-spend"
    for s in manifest["segments"]:
        s["value_share"] = None
    customers = trained.artifact.customers.drop(columns=["Customer_Value"])
    v = ArtifactView(dataclasses.replace(trained.artifact, manifest=manifest, customers=customers))
    cards = pages["overview"].kpis(v)
    concentration = next(text_of(c) for c in cards if "Value concentration" in text_of(c))
    assert "not measured" in concentration and "no customer spend" in concentration
    assert "of customers" not in concentration  # no segment named as if it held the spend


def test_presentation_title_counts_only_the_customers_measured(request_ctx, trained) -> None:
    """The title screen's "likely inactive" is over the customers measured, and a missing spend is not "n/a"."""
    present = page_module("present")
    customers = trained.artifact.customers.copy()
    p = customers["p_alive"].to_numpy(copy=True)
    p[:1000] = float("nan")  # 1,000 customers whose activity could not be measured
    customers["p_alive"] = p
    v = ArtifactView(dataclasses.replace(trained.artifact, customers=customers))
    measured = customers["p_alive"].notna()
    share = float((customers.loc[measured, "p_alive"] < 0.5).mean())
    text = text_of(present.overview_screen(v))
    assert f"{share:.0%}" in text and f"likely inactive of the {int(measured.sum()):,} customers measured" in text
    full = text_of(present.overview_screen(ArtifactView(trained.artifact)))
    assert "likely inactive (measured)" in full
    manifest = copy.deepcopy(trained.artifact.manifest)
    manifest["artifact_id"] = "fabricated-present-no-spend"
    for s in manifest["segments"]:
        s["value_share"] = None
    no_spend = ArtifactView(
        dataclasses.replace(trained.artifact, manifest=manifest, customers=trained.artifact.customers)
    )
    title = text_of(present.overview_screen(no_spend))
    assert "share of spend (the data has no customer spend)" in title and "of spend from" not in title
