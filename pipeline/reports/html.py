"""The executive report as one self-contained HTML file (also the source of the PDF).

No script, no stylesheet link, no web font, no remote image: charts are
inline SVG (:mod:`pipeline.reports.svg`), a logo is a ``data:`` URL, so the
file opens offline and makes no network request.  A strict
Content-Security-Policy meta tag (``default-src 'none'``) makes a browser
refuse any request the file might still try.  The theme is the light print
theme whatever the app shows; each section is one landscape page when
printed, with the data set, model version and page number in every footer
(CSS ``@page`` margin boxes, printed by Chromium).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from pipeline.reports.branding import Logo
from pipeline.reports.story import ReportStory, SegmentStory, amount, count, pct
from pipeline.reports.svg import priority_chart, profile_bars, size_value_bars

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _css(footer: str) -> str:
    footer_css = footer.replace("\\", "\\\\").replace('"', '\\"')
    return f"""
@page {{ size: A4 landscape; margin: 12mm 14mm 16mm 14mm;
  @bottom-left {{ content: "{footer_css}"; font: 8pt Helvetica, Arial, sans-serif; color: #333; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font: 8pt Helvetica, Arial, sans-serif; color: #333; }} }}
:root {{ color-scheme: light; }}
body {{ margin: 0; background: #fff; color: #1a1a1a; font: 11pt/1.4 Helvetica, Arial, sans-serif; }}
section.page {{ break-after: page; padding: 0 0 4mm; max-width: 270mm; margin: 0 auto; }}
section.page:last-child {{ break-after: auto; }}
h1 {{ font-size: 24pt; margin: 0 0 4mm; }} h2 {{ font-size: 17pt; margin: 0 0 3mm; }}
h3 {{ font-size: 12pt; margin: 3mm 0 1mm; }}
.sub {{ color: #444; }} .logo {{ max-height: 22mm; max-width: 70mm; float: right; }}
.glance {{ font-size: 14pt; }}
.kpis {{ display: flex; gap: 5mm; margin: 4mm 0 6mm; }}
.kpi {{ flex: 1; border: 1px solid #1a1a1a; border-top: 4px solid #0072B2; padding: 3mm 4mm; }}
.kpi-label {{ font-size: 10pt; color: #333; }} .kpi-value {{ font-size: 24pt; font-weight: bold; }}
.kpi-note {{ font-size: 9pt; color: #333; }} .glance li {{ margin: 2mm 0; }}
.cols {{ display: flex; gap: 8mm; }} .cols > div {{ flex: 1; }} .cols > div.wide {{ flex: 1.4; }}
#method {{ font-size: 8.5pt; }} #method table {{ font-size: 8pt; }} #method .note {{ font-size: 7.5pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 10pt; }}
th, td {{ border-bottom: 1px solid #999; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }}
td.num, th.num {{ text-align: right; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; border: 1px solid #1a1a1a; margin-right: 6px; }}
.note {{ font-size: 9pt; color: #333; }}
@media screen {{ section.page {{ border-bottom: 2px solid #ddd; padding: 10mm 0; }} footer {{ text-align: center; }} }}
@media print {{ .screen-only {{ display: none; }} }}
"""


def _list(items: Iterable[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _kpi_tiles(story: ReportStory) -> str:
    tiles = "".join(
        f'<div class="kpi"><div class="kpi-label">{escape(k.label)}</div><div class="kpi-value">{escape(k.value)}</div>'
        f'<div class="kpi-note">{escape(k.note)}</div></div>'
        for k in story.kpis
    )
    return f'<div class="kpis">{tiles}</div>'


def _title_page(story: ReportStory, logo: Logo | None) -> str:
    img = f'<img class="logo" alt="{escape(story.brand)} logo" src="{logo.data_url}">' if logo else ""
    return (
        f'<section class="page" id="title">{img}<h1>{escape(story.title)}</h1>'
        f'<p class="sub">Data set: <b>{escape(story.dataset)}</b> · as of {escape(story.as_of)} · '
        f"period {escape(story.period)}</p>"
        f'<p class="sub">Model version: <b>{escape(story.model_version)}</b> (trained {escape(story.model_made)}) · '
        f"report made {escape(story.made_on)}</p>"
        f"<h2>At a glance</h2>{_kpi_tiles(story)}{_list(story.glance, 'glance')}</section>"
    )


def _segment_table(story: ReportStory) -> str:
    head = (
        "<tr><th>Segment</th><th class='num'>Customers</th><th class='num'>Share of customers</th>"
        "<th class='num'>Share of spend</th><th class='num'>Likely inactive</th><th class='num'>Value at risk</th></tr>"
    )
    rows = []
    for s in story.segments:
        inactive = pct(s.risk.share_likely_inactive) if s.risk else "not measured"
        var = amount(s.risk.value_at_risk, "$") if s.risk and s.risk.value_at_risk is not None else "not measured"
        rows.append(
            f"<tr><td><span class='swatch' style='background:{escape(s.colour)}'></span>{escape(s.name)}</td>"
            f"<td class='num'>{count(s.size)}</td><td class='num'>{pct(s.share)}</td>"
            f"<td class='num'>{pct(s.value_share)}</td><td class='num'>{inactive}</td><td class='num'>{var}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _overview(story: ReportStory) -> str:
    return (
        f'<section class="page" id="size-value"><h2>{escape(story.overview_title)}</h2>'
        f"{size_value_bars(story.segments)}{_segment_table(story)}"
        "<p class=\"note\">Share of spend: the segment's total customer value over everyone's, from the data set. "
        "Likely inactive and value at risk: measured by the churn model (see Method).</p></section>"
    )


def _segment_page(s: SegmentStory) -> str:
    return (
        f'<section class="page segment" id="segment-{escape(s.key)}"><h2>{escape(s.title)}</h2>'
        '<div class="cols"><div>'
        f"<p><b>Size:</b> {escape(s.size_text)}; share of spend {pct(s.value_share)}.</p>"
        f"<p><b>Churn risk:</b> {escape(s.risk_text)}</p>"
        f"<p><b>Objective:</b> {escape(s.objective)}</p><h3>Recommended actions</h3>{_list(s.actions)}"
        + (f"<p><b>Team note:</b> {escape(s.note)}</p>" if s.note else "")
        + f'<p class="note">Why this name: {escape(s.evidence)} (σ: standard deviations from the average customer).</p>'
        f'</div><div class="wide"><h3>Profile against the average customer</h3>{profile_bars(s.profile)}'
        '<p class="note">* not used to form the segments; shown for context. Clustered features: segment centroid '
        "against the mean of all customers; other attributes: segment mean against the mean of all customers.</p>"
        "</div></div></section>"
    )


def _priority(story: ReportStory) -> str:
    chart = priority_chart(story.priority) if story.priority.points else ""  # nothing measured to place
    return (
        '<section class="page" id="priority"><h2>Priority matrix: value against measured risk</h2>'
        f'{chart}<p class="note">{escape(story.priority.note)}</p></section>'
    )


def _act_first(story: ReportStory) -> str:
    rows = "".join(
        f"<tr><td class='num'>{a.rank}</td><td>{escape(a.name)}</td><td>{escape(a.reason)}</td>"
        f"<td>{escape(a.first_action)}</td></tr>"
        for a in story.act_first
    )
    return (
        '<section class="page" id="act-first"><h2>Where to act first</h2>'
        f"<p>{escape(story.act_first_basis)}</p><table><tr><th class='num'>#</th><th>Segment</th><th>Why</th>"
        f"<th>First action</th></tr>{rows}</table></section>"
    )


def _method(story: ReportStory) -> str:
    m = story.method
    feats = "".join(
        f"<tr><td>{escape(f.label)}</td><td>{escape(f.formula)}</td><td>{escape(f.description)}</td></tr>"
        for f in m.features
    )
    sil = f"{m.silhouette:.3f} on {count(m.silhouette_rows or 0)} customers" if m.silhouette is not None else "n/a"
    quality = (
        f"{count(m.rows_read)} rows read, {count(m.rows_kept)} kept, {count(m.rows_dropped)} dropped, "
        f"{count(m.values_fixed)} values fixed, {count(m.values_imputed)} imputed, {count(m.rows_flagged)} rows flagged."
    )
    return (
        '<section class="page" id="method"><h2>Method and data quality</h2><div class="cols"><div class="wide">'
        f"<h3>Features</h3><table><tr><th>Feature</th><th>Formula</th><th>Meaning</th></tr>{feats}</table>"
        f"<h3>Model</h3><p>{escape(m.model)} with k = {m.k} on {escape(m.scaling)}-scaled features; "
        f"silhouette {escape(sil)}; stability {escape(m.stability)}.</p></div><div>"
        f"<h3>What the loader fixed</h3><p>{escape(quality)}</p>{_list(m.quality_items, 'note')}</div><div>"
        f'<h3>How churn is measured</h3><p class="note">{escape(m.churn)}</p>'
        f"{_list(m.churn_assumptions, 'note')}"
        "</div></div></section>"
    )


def render_html(story: ReportStory, logo: Logo | None = None) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    pages = [
        _title_page(story, logo),
        _overview(story),
        *(_segment_page(s) for s in story.segments),
        _priority(story),
        _act_first(story),
        _method(story),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(story.title)} · {escape(story.footer)}</title><style>{_css(story.footer)}</style></head>"
        f"<body><main>{''.join(pages)}</main>"
        f'<footer class="note screen-only">{escape(story.footer)}</footer></body></html>'
    )
