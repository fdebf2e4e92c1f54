"""The first screen's charts are drawn once: their margins already fit their labels (figures.common.label_margin).

plotly.js widens a margin too narrow for an axis's tick labels or title by
drawing the chart again; on a page's first render that second draw cost
about 20 ms of main thread per chart.  On the built-in sample, each chart
below ends with exactly the margins its figure asked for.
"""

from __future__ import annotations

import pytest

#: The chart has been drawn from a figure that asks for margins.  Until then it is kept in view once shown:
#: charts below the fold are drawn when they scroll into view (on /models, when the comparison is already
#: cached; a first visit draws it when the comparison job ends, its part of the page hidden until then).
DRAWN_JS = """(id) => {
    const box = document.getElementById(id);
    if (box && box.offsetParent) box.scrollIntoView({block: 'center'});
    const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    return !!(gd && gd._fullLayout && gd._fullLayout._size && gd.layout.margin && gd.querySelector('.main-svg'));
}"""
#: What a drawn chart ended with, against what its figure asked for.
MARGINS_JS = """(id) => {
    const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    const asked = gd.layout.margin, size = gd._fullLayout._size;
    const legend = gd.querySelector('.legend');
    return {
        asked: [asked.l, asked.r, asked.t, asked.b],
        drawn: [size.l, size.r, size.t, size.b].map(Math.round),
        // why a margin was pushed, if it was: the chart's width and its legend's size and items
        width: gd._fullLayout.width,
        legend: legend ? [legend.getBBox().width, legend.getBBox().height] : null,
        items: Array.from(gd.querySelectorAll('.legendtext')).map((t) => t.textContent),
    };
}"""


@pytest.mark.parametrize(
    ("path", "graphs"),
    [
        ("/", ["overview-size-graph"]),
        ("/eda", ["eda-dist-graph", "eda-category-graph"]),
        ("/segments", ["segments-matrix-graph"]),
        ("/changes", ["changes-sankey", "changes-shares"]),
        ("/models", ["models-metric-graph"]),
        ("/simulator", ["sim-activity-gauge", "sim-distances-graph", "sim-pca-graph"]),
    ],
)
def test_first_screen_charts_keep_the_margins_they_asked_for(page, path: str, graphs: list[str]) -> None:
    page.goto(path)
    for graph in graphs:
        # drawn from its figure (a placeholder has no margins)
        page.wait_for_function(DRAWN_JS, arg=graph, polling=100, timeout=120_000)
        margins = page.evaluate(MARGINS_JS, graph)
        assert margins["drawn"] == margins["asked"], (graph, margins)
