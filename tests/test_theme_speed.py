"""The themed figure is the same figure, whichever way the template is set."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from dashboard.figures.common import themed
from dashboard.theme import THEMES, template


@pytest.mark.parametrize("theme", THEMES)
def test_themed_equals_a_validated_update(theme: str) -> None:
    def make() -> go.Figure:
        return go.Figure(go.Bar(x=["a", "b"], y=[3, 4]))

    fast = themed(make(), theme, title="Sizes", height=300)
    slow = make().update_layout(template=template(theme), title="Sizes", height=300)
    assert fast.to_plotly_json() == slow.to_plotly_json()
    assert fast.layout.template.layout.font.family == template(theme).layout.font.family


def test_a_figure_cannot_change_the_cached_template() -> None:
    fig = themed(go.Figure(), "light")
    fig.update_layout(template_layout_font_size=31)
    assert template("light").layout.font.size == 13
    assert fig.layout.template.layout.font.size == 31


def test_layout_options_are_still_validated() -> None:
    with pytest.raises(ValueError):
        themed(go.Figure(), "light", not_a_layout_property=1)


@pytest.mark.parametrize("theme", THEMES)
def test_tick_labels_are_not_measured_to_be_hidden(theme: str) -> None:
    """plotly.js measures every tick label on each draw unless overflow is allowed (a forced layout per label)."""
    axes = themed(go.Figure(go.Bar(x=[1, 2], y=[3, 4])), theme).layout.template.layout
    assert axes.xaxis.ticklabeloverflow == axes.yaxis.ticklabeloverflow == "allow"
