"""The simulator's charts: the full figures for a scored customer, and what a slider step changes in them.

The full figures are sent for a new model or theme; after that a slider step
sends only :func:`chart_updates`, which :data:`UPDATE_CHARTS_JS` (a clientside
callback of :mod:`dashboard.pages.simulator`) applies to the drawn charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard import churn, ids
from dashboard.figures.pca_words import pca_axis_titles
from dashboard.figures.simulator import (
    activity_gauge_figure,
    activity_gauge_update,
    distances_figure,
    distances_update,
    pca_extent,
    pca_figure,
    pca_marker_update,
)
from dashboard.figures.variables import variable_label
from dashboard.services import ArtifactView, per_version
from pipeline.segmentation.simulate import Simulation


def churn_view(v: ArtifactView, scored: Mapping[str, Any]) -> tuple[float | None, float]:
    """This customer's P(alive) (None: not measured) and the likely-inactive threshold."""
    estimate = scored.get("churn") or {}
    p_alive = estimate.get("p_alive") if isinstance(estimate, Mapping) else None
    return p_alive, churn.threshold(churn.churn_model(v.manifest))


def chart_revision(v: ArtifactView, theme: str) -> str:
    """What the drawn charts are for (``SIM_DRAWN``): a new model or theme draws them again in full."""
    return f"{v.id}|{theme}"


def full_figures(v: ArtifactView, sim: Simulation, scored: Mapping[str, Any]) -> tuple[Any, ...]:
    """P(alive) gauge, distances and the customer map of the scored customer, and the revision they are drawn for."""
    theme = str(scored.get("theme") or "light")
    seg = sim.segment
    p_alive, threshold = churn_view(v, scored)
    return (
        activity_gauge_figure(p_alive, threshold, theme),
        distances_figure(v.segments, sim.distances, str(seg["key"]), theme),
        pca_figure(
            v.customers,
            v.segments,
            sim.pcs,
            seg,
            theme,
            axis_titles=map_axis_titles(v),
            revision=v.id,
        ),
        chart_revision(v, theme),
    )


def chart_updates(v: ArtifactView, sim: Simulation, scored: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What a slider step changes in the drawn charts: graph id → ``Plotly.update`` arguments.

    The gauge's value and caption, the bars and their labels, where the map's
    marker (a layout shape and label) goes; applied in the browser by
    :data:`UPDATE_CHARTS_JS`, so the figures are neither resent nor
    re-plotted through ``dcc.Graph`` (which deep-copies a figure on every
    change and re-plots it whole: every customer on the map).  In the order
    they are applied: the map last (``bench_app`` times "every chart updated"
    at the map's ``plotly_afterplot``).
    """
    theme = str(scored.get("theme") or "light")
    seg = sim.segment
    p_alive, threshold = churn_view(v, scored)
    extent = per_version(v, "sim-pca-extent", None, lambda: pca_extent(v.customers))
    return {
        ids.SIM_GAUGE: activity_gauge_update(p_alive, threshold, theme),
        ids.SIM_DISTANCES_GRAPH: distances_update(v.segments, sim.distances, str(seg["key"]), theme),
        ids.SIM_PCA_GRAPH: pca_marker_update(sim.pcs, seg, theme, extent),
    }


def map_axis_titles(v: ArtifactView) -> list[str]:
    """Titles of the map's axes: ``"PC1: customer value & purchase frequency (62%)"``, ``"PC2: ..."``."""
    pca = v.manifest.get("pca") or {}
    labels = {f: variable_label(f, v.feature_defs, short=True) for f in v.features}
    return pca_axis_titles(pca.get("explained_variance_ratio") or [], pca.get("loadings"), labels)[:2]


#: Applies :func:`chart_updates` to the drawn charts: ``Plotly.react`` with the drawn figure's own objects,
#: new ones only along the changed attributes' paths (``"marker.opacity"``, ``"annotations[0].x"``), so
#: plotly.js redraws what changed and not the rest (the customers on the map: their traces are the same
#: objects; ``Plotly.update`` would re-plot them, a shape's anchor is a "calc" edit to it).  A value equal
#: to the drawn one is left out (plotly.js compares arrays by identity).  Dash runs it in a task after the
#: one that puts the prediction's text on the page, so the text is painted first; a chart not drawn yet
#: (plotly.js still loading) gets the newest update once it is (tried on every animation frame for 10 s).
UPDATE_CHARTS_JS = """function (update) {
    if (!update) { return window.dash_clientside.no_update; }
    // A copy of root with path set to value: new objects along the path, the rest shared; root itself when
    // the value is already there (plotly.js compares arrays by identity and would redraw an equal one).
    const set = (root, path, value) => {
        const keys = path.replace(/\\[(\\d+)\\]/g, '.$1').split('.');
        const now = keys.reduce((node, key) => (node === undefined || node === null ? undefined : node[key]), root);
        if (JSON.stringify(now) === JSON.stringify(value)) { return root; }
        const top = Object.assign(Array.isArray(root) ? [] : {}, root);
        let node = top;
        for (const key of keys.slice(0, -1)) {
            node[key] = Object.assign(Array.isArray(node[key]) ? [] : {}, node[key]);
            node = node[key];
        }
        node[keys[keys.length - 1]] = value;
        return top;
    };
    // The newest update waits on its chart's element (a new visit to the page has new elements: nothing stale).
    for (const id of Object.keys(update)) {
        const box = document.getElementById(id);
        if (box) { box.simPending = update[id]; }
    }
    const apply = (tries) => {
        let waiting = 0;
        for (const id of Object.keys(update)) {
            const box = document.getElementById(id), u = box && box.simPending;
            if (!u) { continue; }
            const gd = box.querySelector('.js-plotly-plot');
            if (!gd || !gd._fullLayout || !gd.data || !window.Plotly) { waiting++; continue; }
            box.simPending = null;
            const data = gd.data.slice();
            for (const [attr, values] of Object.entries(u.data)) {
                values.forEach((value, i) => { data[i] = set(data[i], attr, value); });
            }
            let layout = gd.layout;
            for (const [attr, value] of Object.entries(u.layout)) { layout = set(layout, attr, value); }
            window.Plotly.react(gd, data, layout);
        }
        if (waiting && tries < 600) { requestAnimationFrame(() => apply(tries + 1)); }
    };
    apply(0);
    return window.dash_clientside.no_update;
}"""
