"""The themed figure is the same figure, whichever way the template is set."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from dashboard.figures.common import label_margin, themed
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


def test_label_margin_fits_the_longest_label_generously() -> None:
    # 36 characters at 13 px and 0.62 em each, plus 14 px: ceil(290.16) + 14
    assert label_margin(["Low-Value", "High Spend – Low Campaign Engagement"]) == 305
    assert label_margin(["abc"], font_size=10, pad=0) == 19  # ceil(3 * 10 * 0.62) = ceil(18.6)
    assert label_margin([12345]) == math.ceil(5 * 13 * 0.62) + 14  # numbers as they are written
    assert label_margin([]) == 14
