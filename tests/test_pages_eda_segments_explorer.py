"""EDA, Segments and 3D Explorer: figure builders and page callbacks as plain functions."""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any

import dash
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash.exceptions import PreventUpdate

from dashboard.figures import eda as eda_fig
from dashboard.figures import explorer as explorer_fig
from dashboard.figures import outliers as outliers_fig
from dashboard.figures import pca_words
from dashboard.figures import segments as segments_fig
from dashboard.figures.variables import numeric_variables

THEMES = ("light", "dark")


def page_module(name: str) -> ModuleType:
    """The page module ``name`` exactly as Dash imported it.

    Dash imports every file of the pages folder itself (``importlib`` from the
    file path) under the module name ``pages.<name>``, not
    ``dashboard.pages.<name>``, and that import registers the page and its
    callbacks.  ``import dashboard.pages.eda`` would execute the file a second
    time: a second ``/eda`` entry in the page registry and a second set of
    callbacks with the same outputs.  So tests take the module Dash already
    imported, through the page registry's ``module`` entry (requires the
    ``dash_app`` fixture, which builds the app and so imports the pages).
    """
    for page in dash.page_registry.values():
        if page["module"].rsplit(".", 1)[-1] == name:
            return sys.modules[page["module"]]
    raise LookupError(f"page {name!r} is not registered")


@pytest.fixture
def eda(request_ctx) -> ModuleType:
    """The EDA page module (inside a request context)."""
    return page_module("eda")


@pytest.fixture
def segments(request_ctx) -> ModuleType:
    """The Segments page module (inside a request context)."""
    return page_module("segments")


@pytest.fixture
def explorer(request_ctx) -> ModuleType:
    """The 3D explorer page module (inside a request context)."""
    return page_module("explorer")


def display_order(trained) -> list[dict[str, Any]]:
    """The segment map in display order (largest value share first), as the pages show it."""
    return sorted(trained.artifact.manifest["segments"], key=lambda s: -(s.get("value_share") or 0.0))


def colours(trained) -> dict[str, str]:
    """Segment name → colour, from the artifact."""
    return {s["name"]: s["colour"] for s in trained.artifact.manifest["segments"]}


def text_of(component: Any) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def find_all(component: Any, cls: type) -> list[Any]:
    """Every component of type ``cls`` in a tree."""
    found = [component] if isinstance(component, cls) else []
    children = component if isinstance(component, list | tuple) else getattr(component, "children", None)
    if isinstance(children, list | tuple):
        for c in children:
            found += find_all(c, cls)
    elif children is not None and not isinstance(children, str | int | float):
        found += find_all(children, cls)
    return found


def iqr_count(values: pd.Series) -> int:
    """Customers outside Q1 − 1.5·IQR … Q3 + 1.5·IQR, computed directly with numpy."""
    v = values.dropna().to_numpy(dtype=float)
    q1, q3 = np.percentile(v, [25, 75])
    return int(((v < q1 - 1.5 * (q3 - q1)) | (v > q3 + 1.5 * (q3 - q1))).sum())


def rare_level_count(values: pd.Series) -> int:
    """Customers on count levels held, together with every level beyond them, by under 0.5% of customers."""
    counts = values.dropna().value_counts().sort_index()
    n = int(counts.sum())
    below = counts.cumsum()  # customers at or below each level
    above = n - below + counts  # customers at or above each level
    rare_high = [lvl for lvl in counts.index if above[lvl] < 0.005 * n]
    rare_low = [lvl for lvl in counts.index if below[lvl] < 0.005 * n]
    return int(counts[rare_high].sum() + counts[rare_low].sum())


def test_small_counts_are_flagged_only_on_rare_levels() -> None:
    # 990 customers with 0, 6 with 1, 4 with 3 children: IQR fences (Q1 = Q3 = 0) would flag all 10
    children = pd.Series([0] * 990 + [1] * 6 + [3] * 4)
    assert iqr_count(children) == 10
    assert outliers_fig.is_small_count(children)
    for method in ("iqr", "zscore"):
        low, high = outliers_fig.outlier_bounds(children, method)
        assert (low, high) == (0.0, 1.0)  # 3 children: 4 of 1,000 customers (0.4%) -> flagged
        assert int(((children < low) | (children > high)).sum()) == 4 == rare_level_count(children)
    # a level held by 0.5% or more is ordinary: 5 of 1,000 with 3 children -> nothing flagged
    five = pd.Series([0] * 990 + [1] * 5 + [3] * 5)
    assert outliers_fig.outlier_bounds(five, "iqr") == (0.0, 3.0)
    # not small counts: fractions, negative values, more than 10 levels
    assert not outliers_fig.is_small_count(pd.Series([0.5, 1.0, 2.0]))
    assert not outliers_fig.is_small_count(pd.Series([-1, 0, 1]))
    assert not outliers_fig.is_small_count(pd.Series(range(11)))
    assert outliers_fig.is_small_count(pd.Series(range(10)))


# --- every layout builds --------------------------------------------------------------------
def test_layouts_build(eda, segments, explorer, trained) -> None:
    from dashboard import ids

    for module in (eda, segments, explorer):
        assert module.layout() is not None
    key = trained.artifact.manifest["segments"][0]["key"]
    page = explorer.layout(segment=key, other="ignored")
    stores = [c for c in find_all(page, dash.dcc.Store) if c.id == ids.EXPLORER_DEEP_LINK]
    assert stores and stores[0].data == key


def test_pages_are_registered_in_the_navbar_order() -> None:
    by_path = {p["path"]: p for p in dash.page_registry.values()}
    assert (by_path["/eda"]["name"], by_path["/eda"]["order"]) == ("EDA", 1)
    assert (by_path["/explorer"]["name"], by_path["/explorer"]["order"]) == ("3D Explorer", 3)
    assert (by_path["/segments"]["name"], by_path["/segments"]["order"]) == ("Segments", 5)


# --- EDA ------------------------------------------------------------------------------------
def test_eda_controls_offer_features_then_profile(eda, trained) -> None:
    var_options, var_value, cat_options, cat_value = eda.fill_controls(None, None, None)
    values = [o["value"] for o in var_options]
    features = [f["name"] for f in trained.artifact.manifest["features"]]
    assert values[: len(features)] == features
    assert "Income" in values and "Age" in values
    assert var_value == features[0]
    assert cat_value == "Education" and {o["value"] for o in cat_options} == {"Education", "Marital_Status"}
    # a valid current choice is kept
    assert eda.fill_controls(None, "Income", "Marital_Status")[1::2] == ("Income", "Marital_Status")


@pytest.mark.parametrize("theme", THEMES)
def test_distribution_split_by_segment_uses_segment_colours(eda, trained, theme) -> None:
    fig, caption = eda.render_distribution("Customer_Value", True, True, None, theme)
    bars = [t for t in fig.data if t.type == "bar"]
    boxes = [t for t in fig.data if t.type == "box"]
    n = len(trained.artifact.manifest["segments"])
    assert len(bars) == n and len(boxes) == n
    assert {b.name: b.marker.color for b in bars} == colours(trained)
    assert sum(int(np.sum(b.y)) for b in bars) == len(trained.artifact.customers)
    assert f"{len(trained.artifact.customers):,} customers" in caption
    assert fig.layout.template.layout.paper_bgcolor == "rgba(0,0,0,0)"
    # log scale: ticks in original units ($), positions on log(1 + x)
    assert any(t.startswith("$") for t in fig.layout.xaxis2.ticktext)


def test_distribution_single_and_log_with_zeros(eda, trained) -> None:
    fig, _ = eda.render_distribution("Customer_For_Years", True, False, None, "light")
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 1 and bars[0].name == "All customers"
    assert min(fig.layout.xaxis2.tickvals) == 0.0  # zero stays on the log axis
    light = eda.render_distribution("Income", False, False, None, "light")[0]
    dark = eda.render_distribution("Income", False, False, None, "dark")[0]
    assert light.layout.template.layout.font.color != dark.layout.template.layout.font.color


def test_box_is_sent_as_its_five_numbers() -> None:
    # 1..9: quartiles by linear interpolation 3, 5, 7; whiskers at the extremes
    assert eda_fig.box_stats(np.arange(1.0, 10.0)) == {
        "q1": [3.0],
        "median": [5.0],
        "q3": [7.0],
        "lowerfence": [1.0],
        "upperfence": [9.0],
    }
    assert eda_fig.box_stats(np.array([4.0, 6.0]))["median"] == [5.0]
    fig = eda_fig.distribution_figure(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0] * 200), "x", "light")
    box = next(t for t in fig.data if t.type == "box")
    assert box.x is None and list(box.y) == ["All customers"]  # no raw values: 5 numbers instead of 1,000
    assert (box.q1, box.median, box.q3) == ((2.0,), (3.0,), (4.0,))


def test_page_outputs_are_built_once_per_version_and_choice(eda) -> None:
    first = eda.render_overview(True, None, "light")
    assert eda.render_overview(True, None, "light") is first  # served from the per-version cache
    assert eda.render_overview(True, None, "dark") is not first
    dist = eda.render_distribution("Income", False, False, None, "light")
    assert eda.render_distribution("Income", False, False, None, "light") is dist
    assert eda.render_distribution("Income", True, False, None, "light") is not dist


def test_distribution_bad_input_gives_a_message(eda) -> None:
    fig, caption = eda.render_distribution("Not_A_Column", False, False, None, "light")
    assert isinstance(fig, go.Figure) and not fig.data
    assert "Pick a measure" in fig.layout.annotations[0].text and caption == ""


def test_discrete_variable_gets_one_bar_per_value(trained) -> None:
    values = trained.artifact.customers["Campaign_Response"]
    fig = eda_fig.distribution_figure(values, "Campaign response", "light")
    bar = next(t for t in fig.data if t.type == "bar")
    assert list(bar.x) == list(np.arange(values.min(), values.max() + 1))
    assert list(bar.y) == [int((values == k).sum()) for k in bar.x]


def test_categories_by_segment_are_shares_of_each_segment(eda, trained) -> None:
    fig = eda.render_categories("Education", True, None, "dark")
    n = len(trained.artifact.manifest["segments"])
    assert len(fig.data) == n + 1 and fig.data[0].name == "All customers"
    for trace in fig.data[1:]:
        assert trace.marker.color == colours(trained)[trace.name]
        assert sum(trace.x) == pytest.approx(1.0)
    plain = eda.render_categories("Marital_Status", False, None, "light")
    assert len(plain.data) == 1
    counts = trained.artifact.customers["Marital_Status"].value_counts()
    assert list(plain.data[0].x) == counts.tolist()


@pytest.mark.parametrize("method", ["iqr", "zscore"])
def test_outlier_counts_match_a_direct_computation(eda, trained, method) -> None:
    customers = trained.artifact.customers
    features = [f["name"] for f in trained.artifact.manifest["features"]]
    variables = numeric_variables(customers, features)
    summary = outliers_fig.outlier_summary(customers, variables, method).set_index("variable")
    assert "Complain" not in summary.index  # binary: no outlier rule
    small = {var for var in summary.index if outliers_fig.is_small_count(customers[var])}
    assert {"Children", "Campaign_Response"} <= small  # whole numbers with few levels
    for var, row in summary.iterrows():
        col = customers[var].astype(float)
        zscore_count = int((np.abs(col - col.mean()) > 3 * col.std(ddof=0)).sum())
        expected = rare_level_count(col) if var in small else iqr_count(col) if method == "iqr" else zscore_count
        assert row["total"] == expected, var

    summary_html, note = eda.render_outliers(method, None)
    with pytest.raises(PreventUpdate):  # the grid is mounted only once its place has been on screen
        eda.mount_outlier_grid(False, method, None)
    grid = eda.mount_outlier_grid(True, method, None)
    assert grid.id == "eda-outlier-table"
    rows, cols = grid.rowData, grid.columnDefs
    assert "Customer value" in text_of(summary_html)
    flagged = set()
    for var in summary.index:
        lo, hi = outliers_fig.outlier_bounds(customers[var], method)
        flagged |= set(customers.loc[(customers[var] < lo) | (customers[var] > hi), "ID"].astype(str))
    loader = set(customers.loc[customers["Is_Outlier"], "ID"].astype(str))
    assert {r["ID"] for r in rows} == flagged | loader
    # the loader's flags come first, with their reason
    assert {r["ID"] for r in rows[: len(loader)]} == loader
    assert all(r["Loader note"] for r in rows[: len(loader)])
    assert "Flagged while loading" in text_of(note)
    assert "Small counts (whole numbers with at most 10 distinct values" in text_of(note)
    assert [c["field"] for c in cols] == ["ID", "Segment", "Flagged on", "Loader note"]


def test_outlier_method_must_be_known(trained) -> None:
    with pytest.raises(ValueError, match="Unknown outlier method"):
        outliers_fig.outlier_bounds(trained.artifact.customers["Income"], "mad")


@pytest.mark.parametrize("theme", THEMES)
def test_correlation_pca_and_quality(eda, trained, theme) -> None:
    corr, missing, pca, loadings = eda.render_overview(True, None, theme)
    z = np.array(corr.data[0].z, dtype=float)
    assert np.allclose(np.diag(z), 1.0)
    assert np.isnan(z[0, -1]) and not np.isnan(z[-1, 0])  # lower triangle only
    features = [f["name"] for f in trained.artifact.manifest["features"]]
    assert len(z) >= len(features) + 4  # features + numeric profile attributes
    ratios = trained.artifact.manifest["pca"]["explained_variance_ratio"]
    assert list(pca.data[0].y) == pytest.approx(ratios)
    assert list(pca.data[1].y) == pytest.approx(np.cumsum(ratios))
    weights = trained.artifact.manifest["pca"]["loadings"]
    assert np.array(loadings.data[0].z) == pytest.approx(
        np.round([[weights[c][f] for f in features] for c in weights], 2)
    )
    assert loadings.data[0].y[0].startswith("PC1 (")
    text = text_of(missing)
    for item in trained.artifact.manifest["data_quality"]["items"]:
        assert item["message"] in text


# --- Segments ---------------------------------------------------------------------------------
@pytest.mark.parametrize("theme", THEMES)
def test_segment_cards_and_priority_matrix(segments, trained, theme) -> None:
    matrix, priorities, note = segments.render(None, theme)
    with pytest.raises(PreventUpdate):
        segments.render_cards(False, None)  # not yet scrolled into view
    cards, style = segments.render_cards(True, None)
    assert style == {}  # the placeholder's height is dropped once the cards are in
    ordered = display_order(trained)
    assert len(cards) == len(ordered)
    for card, seg in zip(cards, ordered, strict=True):
        text = text_of(card)
        assert seg["name"] in text and seg["objective"] in text
        assert all(action in text for action in seg["actions"])
        assert seg["evidence"] in text
        assert f"{seg['size']:,}" in text
        assert "▲" in text or "▼" in text
        link = find_all(card, dash.dcc.Link)[0]
        assert link.href == f"/explorer?segment={seg['key']}"
    if "churn_model" not in trained.artifact.manifest or not trained.artifact.manifest["churn_model"].get("model"):
        assert not matrix.data and "not measured" in text_of(note)  # never placed on an unmeasured axis
        return
    assert "P(alive) < " in text_of(note)
    assert len(matrix.data) == len(ordered)
    for trace, seg in zip(matrix.data, ordered, strict=True):
        assert trace.name == seg["name"] and trace.marker.color == seg["colour"]
        assert trace.x[0] == pytest.approx(seg["value_share"])
        assert trace.y[0] == pytest.approx(seg["churn"]["share_likely_inactive"])  # measured, not a fixed label
        assert f"{seg['churn']['share_likely_inactive']:.0%} likely inactive" in text_of(cards[ordered.index(seg)])
    sizes = {t.name: t.marker.size for t in matrix.data}
    biggest = max(ordered, key=lambda s: s["size"])
    assert sizes[biggest["name"]] == max(sizes.values())
    first = segments_fig.priority_order(ordered)[0]

    def at_stake(s: dict[str, Any]) -> tuple[float, float]:  # value at risk, then customers likely inactive
        var = s["churn"]["value_at_risk"]
        return (-1.0 if var is None else var, s["churn"]["share_likely_inactive"] * s["size"])

    assert first["key"] == max(ordered, key=at_stake)["key"]
    assert text_of(priorities).index(first["name"]) == min(text_of(priorities).index(s["name"]) for s in ordered)


def test_profile_rows_are_in_original_units_against_the_average(trained) -> None:
    manifest = trained.artifact.manifest
    seg = manifest["segments"][0]
    defs = {f["name"]: f for f in manifest["features"]}
    features = list(defs)
    avg = dict(manifest["population"], Income=float(trained.artifact.customers["Income"].mean()))
    rows = {r["variable"]: r for r in segments_fig.profile_rows(seg, avg, features, defs)}
    value = seg["centroid"]["Customer_Value"]
    assert rows["Customer_Value"]["delta"] == pytest.approx(value / manifest["population"]["Customer_Value"] - 1)
    assert rows["Customer_Value"]["value_text"] == f"${value:,.0f}"
    assert rows["Income"]["feature"] is False and rows["Income"]["delta"] is not None
    assert segments_fig.delta_text(0.5) == "▲ +50%" and segments_fig.delta_text(-0.25) == "▼ −25%"
    assert segments_fig.delta_text(0.01) == "≈ average" and segments_fig.delta_text(None) == "–"


# --- 3D explorer -------------------------------------------------------------------------------
def test_explorer_controls_and_deep_link(explorer, trained) -> None:
    key = trained.artifact.manifest["segments"][-1]["key"]
    seg_options, seg_value, drill_options, drill, *axes = explorer.fill_controls(None, key)
    assert [o["value"] for o in seg_options] == [o["value"] for o in drill_options] == seg_value
    assert seg_value == [s["key"] for s in display_order(trained)]
    assert drill == key
    assert explorer.fill_controls(None, "no_such_segment")[3] == ""
    assert explorer.fill_controls(None, None)[3] == ""
    assert {o["value"] for o in axes[0]} >= {f["name"] for f in trained.artifact.manifest["features"]}


@pytest.mark.parametrize("theme", THEMES)
def test_scatter_has_one_trace_per_segment(explorer, trained, theme) -> None:
    out = explorer.render_scatter("pca", None, None, None, None, theme)
    fig = out["figure"]
    ordered = display_order(trained)
    assert [t.name for t in fig.data] == [s["name"] for s in ordered]
    assert [t.marker.color for t in fig.data] == [s["colour"] for s in ordered]
    assert [t.legendgroup for t in fig.data] == [s["key"] for s in ordered]
    assert all(t.type == "scatter3d" and t.visible for t in fig.data)
    assert [len(t.x) for t in fig.data] == [s["size"] for s in ordered]
    ratios = trained.artifact.manifest["pca"]["explained_variance_ratio"]
    # no 3D text (every character is turned into triangles on the first draw): the components' names are
    # SVG annotations on the cube's edges, grid lines without numbers; the note under the chart says what
    # drives each component and its share: the sample's PC1 weighs customer value and purchase frequency
    # alike (manifest loadings)
    scene = fig.layout.scene
    assert [scene[a].title.text for a in ("xaxis", "yaxis", "zaxis")] == ["", "", ""]
    spans = []
    for a, pc in zip(("xaxis", "yaxis", "zaxis"), ("PC1", "PC2", "PC3"), strict=True):
        pcs = trained.artifact.customers[pc]
        spans.append((float(pcs.min()), float(pcs.max())))
        assert scene[a].tickvals == pytest.approx(np.linspace(pcs.min(), pcs.max(), 5), abs=1e-3)
        assert list(scene[a].ticktext) == [""] * 5
    assert [n.text for n in scene.annotations] == ["PC1", "PC2", "PC3"]
    (x0, x1), (_y0, y1), (z0, _z1) = spans
    assert (scene.annotations[0].x, scene.annotations[0].y, scene.annotations[0].z) == pytest.approx(
        ((x0 + x1) / 2, y1, z0)
    )
    assert not any(n.showarrow for n in scene.annotations)
    # opaque markers: a translucent trace costs plotly.js a second, blended pass on every draw
    assert all(t.marker.opacity is None for t in fig.data)
    note = text_of(explorer.render_axes_note("pca", None))
    assert explorer.render_axes_note("features", None) is None
    assert f"PC1: customer value & purchase frequency ({ratios[0]:.0%})" in note
    assert re.search(r"PC3: [a-z &]+ \(\d+%\)", note)
    assert explorer.render_scatter("pca", None, None, None, None, theme)["figure"] is fig  # built once per version
    # lean payload: rounded float32 coordinates, ids as text, only the features as customdata
    first = fig.data[0]
    assert first.x.dtype == np.float32
    assert np.allclose(first.x, np.round(first.x.astype(float), 3), atol=1e-4)
    assert first.customdata.shape[1] == len(trained.artifact.manifest["features"])
    assert "Customer %{text}" in first.hovertemplate and "%{fullData.name}" in first.hovertemplate
    seg_ids = trained.artifact.customers.loc[trained.artifact.customers["Segment"] == ordered[0]["key"], "ID"]
    assert set(first.text) == set(seg_ids.astype(str))
    assert fig.layout.showlegend is True


def test_axis_names_sit_on_the_front_edges_of_the_cube() -> None:
    notes = explorer_fig.axis_name_notes(["PC1", "PC2", "PC3"], [(0.0, 2.0), (0.0, 4.0), (-1.0, 1.0)])
    assert [(n["text"], n["x"], n["y"], n["z"]) for n in notes] == [
        ("PC1", 1.0, 4.0, -1.0),  # under the front-right bottom edge (along x)
        ("PC2", 2.0, 2.0, -1.0),  # under the front-left bottom edge (along y)
        ("PC3", 2.0, 0.0, 0.0),  # beside the left vertical edge (along z)
    ]
    assert [n.get("yanchor") for n in notes] == ["top", "top", None]
    assert notes[2]["xanchor"] == "right" and not any(n["showarrow"] for n in notes)


def test_feature_axes_keep_their_titles_and_numbers(explorer) -> None:
    fig = explorer.render_scatter("features", "Customer_Value", "Income", "Age", None, "light")["figure"]
    assert not fig.layout.scene.annotations


def test_blank_ticks_keep_even_grid_lines_without_text() -> None:
    assert explorer_fig.blank_ticks(pd.Series([0.0, 4.0, np.nan])) == {
        "tickmode": "array",
        "tickvals": [0.0, 1.0, 2.0, 3.0, 4.0],
        "ticktext": ["", "", "", "", ""],
    }
    assert explorer_fig.blank_ticks(pd.Series([-1.0, 0.5]), 4)["tickvals"] == [-1.0, -0.5, 0.0, 0.5]
    assert explorer_fig.blank_ticks(pd.Series([np.nan])) == {"showticklabels": False}


def test_scatter_filter_hides_other_segments(explorer, trained) -> None:
    ordered = display_order(trained)
    keep = ordered[1]["key"]
    fig = explorer.render_scatter("pca", None, None, None, None, "light", [keep])["figure"]
    assert [bool(t.visible) for t in fig.data] == [s["key"] == keep for s in ordered]
    none = explorer.render_scatter("pca", None, None, None, None, "light", [])["figure"]
    assert len(none.data) == len(ordered) and not any(t.visible for t in none.data)
    assert "Select at least one segment" in none.layout.annotations[0].text


def test_scatter_feature_axes(explorer, trained) -> None:
    fig = explorer.render_scatter("features", "Customer_Value", "Income", "Age", None, "dark")["figure"]
    assert fig.layout.scene.xaxis.title.text == "Customer value ($)"
    assert fig.layout.scene.yaxis.title.text == "Income ($/year)"
    assert fig.layout.scene.xaxis.ticktext is None  # features' numbers mean something: plotly's own tick labels
    customers = trained.artifact.customers
    seg = display_order(trained)[0]
    incomes = customers.loc[customers["Segment"] == seg["key"], "Income"].round(3).to_numpy(dtype=np.float32)
    assert np.allclose(np.sort(fig.data[0].y), np.sort(incomes))
    bad = explorer.render_scatter("features", "Customer_Value", "Nope", "Age", None, "dark")["figure"]
    assert not bad.data and "Choose a feature" in bad.layout.annotations[0].text


def test_clicking_a_point_opens_its_segment(explorer, trained) -> None:
    row = trained.artifact.customers.iloc[7]
    assert explorer.segment_from_click({"points": [{"text": str(row["ID"])}]}, None) == row["Segment"]
    assert explorer.segment_from_click(None, None) is dash.no_update
    assert explorer.segment_from_click({"points": [{"text": "no-such-id"}]}, None) is dash.no_update


@pytest.mark.parametrize("theme", THEMES)
def test_drill_down_shows_only_that_segment(explorer, trained, theme) -> None:
    seg = trained.artifact.manifest["segments"][0]
    hidden, hint, header, profile, evidence, grid = explorer.render_drill(seg["key"], None, theme)
    rows, cols, size = grid.rowData, grid.columnDefs, grid.columnSize
    assert hidden is False and hint is None
    assert seg["name"] in text_of(header)
    assert seg["evidence"] in text_of(evidence) and seg["objective"] in text_of(evidence)
    customers = trained.artifact.customers
    members = set(customers.loc[customers["Segment"] == seg["key"], "ID"].astype(str))
    assert len(rows) == seg["size"] and {str(r["ID"]) for r in rows} == members
    assert cols[0]["field"] == "ID" and len(cols) <= 14
    bar = profile.data[0]
    assert bar.marker.color == seg["colour"]
    assert "Average customer" in bar.hovertemplate
    assert size == "responsiveSizeToFit"


def test_drill_down_without_or_with_unknown_segment(explorer) -> None:
    hidden, hint, _header, profile, _evidence, grid = explorer.render_drill("", None, "light")
    assert hidden is True and hint is None and grid is None  # no grid (nor its library) without a segment
    assert profile is dash.no_update  # nothing drawn in the hidden drill-down
    hidden, hint, *_ = explorer.render_drill(None, None, "light", "not_a_segment")
    assert hidden is True and "not_a_segment" in text_of(hint)


def test_pca_axes_are_named_by_their_drivers() -> None:
    loadings = {
        "PC1": {"Customer_Value": 0.60, "Purchase_Frequency": 0.59, "Campaign_Response": 0.45},
        "PC2": {"Customer_Value": -0.19, "Customer_For_Years": 0.95},
        "PC3": {"Campaign_Response": -0.89, "Customer_Value": -0.32},
    }
    labels = {
        "Customer_Value": "Customer value",
        "Purchase_Frequency": "Purchase frequency",
        "Customer_For_Years": "Tenure",
    }
    titles = pca_words.pca_axis_titles([0.619, 0.213, 0.157], loadings, labels)
    # 0.59 is within 80% of 0.60: both name PC1; 0.45 is not; a negative driver reads "less ..."
    assert titles == [
        "PC1: customer value & purchase frequency (62%)",
        "PC2: tenure (21%)",
        "PC3: less campaign response (16%)",
    ]
    # an artifact without loadings keeps the variance-only titles
    assert pca_words.pca_axis_titles([0.619, 0.213]) == ["PC1 (62% var)", "PC2 (21% var)", "PC3"]
