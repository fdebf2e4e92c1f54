"""The executive report as a PowerPoint deck (python-pptx), ready to present and to edit.

Slide titles are sentences with the numbers in them; the charts are native
PowerPoint charts (clustered bars for size against value and each profile,
a bubble chart for the priority matrix), so a manager can restyle or edit
them; every slide's speaker notes say where its numbers come from and how
they were measured.  Each slide carries the data set, the model version and
its number in a footer line.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.chart.data import BubbleChartData, CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.util import Emu, Inches, Pt

from pipeline.reports.branding import Logo
from pipeline.reports.story import ReportStory, SegmentStory, amount, count, pct

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
INK = RGBColor(0x1A, 0x1A, 0x1A)
DARK = RGBColor(0x00, 0x72, 0xB2)
LIGHT = RGBColor(0xE6, 0x9F, 0x00)
#: Loader notes listed on the method slide (all of them are in its speaker notes).
SHOWN_QUALITY_ITEMS = 6


def _rgb(hex_colour: str) -> RGBColor:
    try:
        return RGBColor.from_string(hex_colour.lstrip("#")[:6].upper())
    except ValueError:
        return RGBColor(0x55, 0x55, 0x55)


class _Deck:
    def __init__(self, story: ReportStory) -> None:
        self.story = story
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = WIDTH, HEIGHT
        self.layout = self.prs.slide_layouts[5]  # title only

    def slide(self, title: str, notes: Sequence[str]) -> object:
        slide = self.prs.slides.add_slide(self.layout)
        shape = slide.shapes.title
        shape.left, shape.top, shape.width, shape.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(1.0)
        shape.text = title
        para = shape.text_frame.paragraphs[0]
        para.font.size, para.font.bold, para.font.color.rgb = Pt(28), True, INK
        number = len(self.prs.slides)
        self.text(slide, [f"{self.story.footer} · Slide {number}"], Inches(0.5), Inches(7.0), Inches(12.3), 10)
        slide.notes_slide.notes_text_frame.text = "\n".join(notes)
        return slide

    @staticmethod
    def text(slide: object, lines: Sequence[str], left: Emu, top: Emu, width: Emu, size: int = 16) -> object:
        box = slide.shapes.add_textbox(left, top, width, Inches(0.4))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            para.text = line
            para.font.size = Pt(size)
            para.font.color.rgb = INK
            para.space_after = Pt(6)
        return box


def _bar_chart(
    slide: object, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], box: tuple, fmt: str
) -> object:
    data = CategoryChartData(number_format=fmt)
    data.categories = list(categories)
    for name, values in series:
        data.add_series(name, list(values))
    chart = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, *box, data).chart
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position, chart.legend.include_in_layout = XL_LEGEND_POSITION.TOP, False
    plot = chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format, plot.data_labels.number_format_is_linked = fmt, False
    plot.data_labels.position = XL_LABEL_POSITION.OUTSIDE_END
    plot.data_labels.font.size = Pt(12)
    chart.category_axis.reverse_order = True
    chart.category_axis.tick_labels.font.size = Pt(12)
    chart.value_axis.tick_labels.font.size = Pt(10)
    chart.value_axis.tick_labels.number_format, chart.value_axis.tick_labels.number_format_is_linked = fmt, False
    for i, s in enumerate(plot.series):
        s.format.fill.solid()
        s.format.fill.fore_color.rgb = (DARK, LIGHT)[i % 2]
        s.format.line.color.rgb = INK
    return chart


def _title_slide(deck: _Deck, logo: Logo | None) -> None:
    st = deck.story
    slide = deck.slide(
        st.title,
        [
            f"Data set {st.dataset}, as of {st.as_of}; period {st.period}.",
            f"Model version {st.model_version}, trained {st.model_made}; report made {st.made_on}.",
            "Every number in this deck is read from the signed model version named above.",
        ],
    )
    deck.text(
        slide,
        [
            f"Data set: {st.dataset} · as of {st.as_of} · period {st.period}",
            f"Model version: {st.model_version} (trained {st.model_made}) · report made {st.made_on}",
        ],
        Inches(0.5),
        Inches(1.4),
        Inches(12.3),
        14,
    )
    width = Inches(12.3 / max(1, len(st.kpis)))
    for i, k in enumerate(st.kpis):
        box = deck.text(
            slide, [k.label, k.value, k.note], Inches(0.5) + i * width, Inches(2.4), width - Inches(0.15), 12
        )
        value = box.text_frame.paragraphs[1]
        value.font.size, value.font.bold = Pt(30), True
        box.line.color.rgb = INK
    deck.text(slide, ["At a glance", *st.glance], Inches(0.5), Inches(4.0), Inches(12.3), 18)
    if logo is not None:
        slide.shapes.add_picture(io.BytesIO(logo.data), Inches(10.8), Inches(5.4), height=Inches(1.2))


def _overview_slide(deck: _Deck) -> None:
    st = deck.story
    segs = st.segments
    slide = deck.slide(
        st.overview_title,
        [
            "Share of customers: segment size over all customers in the data set.",
            "Share of spend: the segment's total customer value (sum of its spend) over everyone's.",
            *(f"{s.name}: {count(s.size)} customers ({pct(s.share)}), {pct(s.value_share)} of spend." for s in segs),
        ],
    )
    series = [("Share of customers", [s.share for s in segs])]
    if any(s.value_share is not None for s in segs):
        series.append(("Share of spend", [s.value_share or 0.0 for s in segs]))
    _bar_chart(slide, [s.name for s in segs], series, (Inches(0.5), Inches(1.3), Inches(12.3), Inches(5.6)), "0%")


def _segment_slide(deck: _Deck, s: SegmentStory) -> None:
    st = deck.story
    notes = [
        f"{s.name}: {count(s.size)} of {count(st.n_customers)} customers ({pct(s.share)}); "
        f"{pct(s.value_share)} of total spend.",
        f"Why this name: {s.evidence} (standard deviations from the average customer).",
        f"Churn: {s.risk_text}",
        f"How churn is measured: {st.method.churn}",
        "Profile: clustered features compare the segment centroid with the population mean; other attributes "
        "compare the segment mean with the mean of all customers.",
        *(f"{r.label}: segment {amount(r.segment, r.unit)}, average {amount(r.average, r.unit)}." for r in s.profile),
    ]
    slide = deck.slide(s.title, notes)
    lines = [
        f"Size: {s.size_text}; share of spend {pct(s.value_share)}",
        f"Churn risk: {s.risk_text}",
        f"Objective: {s.objective}",
        "Recommended actions:",
        *(f"• {a}" for a in s.actions),
        *([f"Team note: {s.note}"] if s.note else []),
    ]
    deck.text(slide, lines, Inches(0.5), Inches(1.4), Inches(5.6), 16)
    rows = [r for r in s.profile if r.ratio is not None]
    if rows:
        chart = _bar_chart(
            slide,
            [r.label for r in rows],
            [("Index (average customer = 100)", [round(r.ratio * 100) for r in rows])],
            (Inches(6.4), Inches(1.3), Inches(6.4), Inches(5.6)),
            "0",
        )
        chart.has_title = True
        chart.chart_title.text_frame.text = "Profile against the average customer (average = 100)"
        chart.chart_title.text_frame.paragraphs[0].font.size = Pt(13)


def _priority_slide(deck: _Deck) -> None:
    st = deck.story
    m = st.priority
    slide = deck.slide(
        "Priority matrix: value against measured risk" if st.churn_measured else "Priority matrix: value against size",
        [m.note, f"x: {m.x_label}; y: {m.y_label}; bubble size: customers."]
        + [f"{p.name}: x {pct(p.x)}, y {pct(p.y)}, {count(p.size)} customers." for p in m.points],
    )
    if not m.points:  # nothing measured to place: the slide says so (its note)
        deck.text(slide, [m.note], Inches(0.5), Inches(1.5), Inches(12.3), 18)
        return
    data = BubbleChartData(number_format="0%")
    for p in m.points:
        series = data.add_series(p.name)
        series.add_data_point(p.x, p.y, p.size)
    chart = slide.shapes.add_chart(
        XL_CHART_TYPE.BUBBLE, Inches(0.5), Inches(1.3), Inches(12.3), Inches(5.6), data
    ).chart
    chart.has_legend, chart.legend.position = True, XL_LEGEND_POSITION.RIGHT
    chart.legend.include_in_layout = False
    labels = chart.plots[0].data_labels  # names on the bubbles: readable without colour
    labels.show_series_name, labels.show_value = True, False
    labels.position = XL_LABEL_POSITION.RIGHT
    labels.font.size = Pt(11)
    for plot_series, p in zip(chart.plots[0].series, m.points, strict=True):
        plot_series.format.fill.solid()
        plot_series.format.fill.fore_color.rgb = _rgb(p.colour)
        plot_series.format.line.color.rgb = INK
    for axis, title in ((chart.value_axis, m.y_label), (chart.category_axis, m.x_label)):
        axis.has_title = True
        axis.axis_title.text_frame.text = title
        axis.tick_labels.number_format, axis.tick_labels.number_format_is_linked = "0%", False


def _act_first_slide(deck: _Deck) -> None:
    st = deck.story
    slide = deck.slide(
        "Where to act first", [st.act_first_basis, *(f"{a.rank}. {a.name}: {a.reason}." for a in st.act_first)]
    )
    deck.text(slide, [st.act_first_basis], Inches(0.5), Inches(1.3), Inches(12.3), 14)
    rows = len(st.act_first) + 1
    table = slide.shapes.add_table(rows, 4, Inches(0.5), Inches(2.0), Inches(12.3), Inches(0.5 * rows)).table
    for j, (head, width) in enumerate((("#", 0.6), ("Segment", 3.6), ("Why", 4.6), ("First action", 3.5))):
        table.columns[j].width = Inches(width)
        table.cell(0, j).text = head
    for i, a in enumerate(st.act_first, start=1):
        for j, value in enumerate((str(a.rank), a.name, a.reason, a.first_action)):
            table.cell(i, j).text = value


def _method_slide(deck: _Deck) -> None:
    m = deck.story.method
    sil = f"{m.silhouette:.3f} on {count(m.silhouette_rows or 0)} customers" if m.silhouette is not None else "n/a"
    quality = (
        f"Data: {count(m.rows_read)} rows read, {count(m.rows_kept)} kept, {count(m.rows_dropped)} dropped, "
        f"{count(m.values_fixed)} values fixed, {count(m.values_imputed)} imputed, {count(m.rows_flagged)} flagged."
    )
    shown = m.quality_items[:SHOWN_QUALITY_ITEMS]
    more = len(m.quality_items) - len(shown)
    lines = [
        f"Model: {m.model}, k = {m.k}, {m.scaling} scaling; silhouette {sil}; stability {m.stability}.",
        "Features: " + "; ".join(f"{f.label} = {f.formula}" for f in m.features),
        quality,
        *(f"• {item}" for item in shown),
        *([f"… and {more} more in the speaker notes."] if more else []),
    ]
    slide = deck.slide(
        "Method and data quality",
        [
            f"How churn is measured: {m.churn}",
            *m.churn_assumptions,
            *(f"{f.label}: {f.description}" for f in m.features),
            "What the loader fixed:",
            *m.quality_items,
        ],
    )
    deck.text(slide, lines, Inches(0.5), Inches(1.3), Inches(6.4), 11)
    deck.text(slide, [f"How churn is measured: {m.churn}"], Inches(7.1), Inches(1.3), Inches(5.7), 11)


def render_pptx(story: ReportStory, out: Path, logo: Logo | None = None) -> Path:
    """Write the deck to ``out`` (written to a temporary name, then renamed)."""
    deck = _Deck(story)
    _title_slide(deck, logo)
    _overview_slide(deck)
    for s in story.segments:
        _segment_slide(deck, s)
    _priority_slide(deck)
    _act_first_slide(deck)
    _method_slide(deck)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    deck.prs.save(str(tmp))
    tmp.replace(out)
    return out
