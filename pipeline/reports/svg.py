"""Static SVG charts of the executive report (no JavaScript, no network, print-ready).

Drawn by hand rather than with Plotly + kaleido: three simple chart types,
text that stays text (searchable, read back by ``pdftotext``), no browser
start per image (kaleido measured about 2.2 s per cold image here) and no
4.7 MB of JavaScript in the file.  Colours are Okabe-Ito (colour-blind safe);
every bar and bubble carries its value or name as text, and the two series of
the bar chart differ in lightness and pattern, so a greyscale print reads the
same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from pipeline.reports.story import PriorityMatrix, ProfileRow, SegmentStory, amount, pct

#: Okabe-Ito blue (dark in greyscale) and orange (light in greyscale).
DARK = "#0072B2"
LIGHT = "#E69F00"
INK = "#1a1a1a"
GRID = "#bdbdbd"
FONT = "font-family:Helvetica,Arial,sans-serif"


def _text(
    x: float, y: float, body: str, size: int = 12, anchor: str = "start", weight: str = "normal", halo: bool = False
) -> str:
    extra = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}" fill="{INK}"{extra}>{escape(body)}</text>'
    )


def _svg(width: int, height: int, body: Sequence[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(label)}" style="{FONT};max-height:{height}px">'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="' + LIGHT + '"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a5d00" stroke-width="2"/></pattern></defs>'
        + "".join(body)
        + "</svg>"
    )


def size_value_bars(segments: Sequence[SegmentStory], width: int = 900) -> str:
    """Grouped horizontal bars: each segment's share of customers and share of spend."""
    label_w, right = 260, 60
    row_h, top = 56, 34
    height = top + row_h * len(segments) + 10
    scale = width - label_w - right
    peak = max([0.01, *(s.share for s in segments), *((s.value_share or 0) for s in segments)])
    body = [
        f'<rect x="{label_w}" y="6" width="14" height="14" fill="{DARK}"/>',
        _text(label_w + 20, 18, "Share of customers"),
        f'<rect x="{label_w + 170}" y="6" width="14" height="14" fill="url(#hatch)" stroke="#8a5d00"/>',
        _text(label_w + 190, 18, "Share of spend"),
    ]
    for i, s in enumerate(segments):
        y = top + i * row_h
        body.append(_text(label_w - 10, y + 27, s.name, 13, "end", "bold"))
        for j, (value, fill) in enumerate(((s.share, DARK), (s.value_share, "url(#hatch)"))):
            w = 0 if value is None else scale * value / peak
            yy = y + 4 + j * 24
            body.append(
                f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="20" fill="{fill}" stroke="{INK}" stroke-width="0.5"/>'
            )
            body.append(_text(label_w + w + 6, yy + 15, pct(value) if value is not None else "not measured", 12))
    return _svg(width, height, body, "Share of customers and share of spend by segment")


def profile_bars(rows: Sequence[ProfileRow], width: int = 560) -> str:
    """Each attribute as an index against the average customer (average = 100), with both values as text."""
    label_w, right, row_h, top = 170, 150, 30, 26
    height = top + row_h * len(rows) + 24
    ratios = [r.ratio for r in rows if r.ratio is not None]
    peak = max([2.0, *ratios])
    scale = (width - label_w - right) / peak
    x100 = label_w + scale
    body = [_text(label_w, 14, "Index: average customer = 100 (segment vs average)", 11)]
    for i, r in enumerate(rows):
        y = top + i * row_h
        body.append(_text(label_w - 8, y + 16, r.label + ("" if r.clustered else " *"), 12, "end"))
        ratio = r.ratio
        values = f"{amount(r.segment, r.unit)} vs {amount(r.average, r.unit)}"
        if ratio is None:
            body.append(_text(label_w + 4, y + 16, values, 11))
            continue
        w = max(0.0, ratio) * scale
        fill = DARK if ratio >= 1 else LIGHT
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="18" fill="{fill}" stroke="{INK}" stroke-width="0.5"/>'
        )
        body.append(_text(max(label_w + w, x100) + 4, y + 16, f"{ratio * 100:.0f} ({values})", 11))
    body.append(
        f'<line x1="{x100:.1f}" y1="{top - 4}" x2="{x100:.1f}" y2="{height - 18}" stroke="{INK}" stroke-dasharray="4 3"/>'
    )
    body.append(_text(x100, height - 4, "average", 11, "middle"))
    return _svg(width, height, body, "Segment profile against the average customer")


def _ticks(peak: float) -> list[float]:
    step = 0.05 if peak <= 0.3 else (0.1 if peak <= 0.6 else 0.2)
    return [i * step for i in range(int(peak / step) + 2)]


def priority_chart(matrix: PriorityMatrix, width: int = 1000, height: int = 470) -> str:
    """Bubble chart: x and y as in ``matrix``, bubble area proportional to customers, names as labels."""
    left, bottom, top, right = 110, 50, 30, 110
    px, py = width - left - right, height - top - bottom
    xs = _ticks(max([0.05, *(p.x for p in matrix.points)]) * 1.15)
    ys = _ticks(max([0.05, *(p.y for p in matrix.points)]) * 1.15)
    xmax, ymax = xs[-1], ys[-1]
    biggest = max([1, *(p.size for p in matrix.points)])

    pad = 40  # keeps bubbles at 0 off the axes

    def X(v: float) -> float:
        return left + pad + (px - pad) * v / xmax

    def Y(v: float) -> float:
        return top + (py - pad) * (1 - v / ymax)

    body = []
    for t in xs:
        body.append(
            f'<line x1="{X(t):.1f}" y1="{top}" x2="{X(t):.1f}" y2="{top + py}" stroke="{GRID}" stroke-width="0.5"/>'
        )
        body.append(_text(X(t), top + py + 16, pct(t), 11, "middle"))
    for t in ys:
        body.append(
            f'<line x1="{left}" y1="{Y(t):.1f}" x2="{left + px}" y2="{Y(t):.1f}" stroke="{GRID}" stroke-width="0.5"/>'
        )
        body.append(_text(left - 6, Y(t) + 4, pct(t), 11, "end"))
    body.append(_text(left + px / 2, height - 8, matrix.x_label, 12, "middle", "bold"))
    body.append(
        f'<text transform="translate(16 {top + py / 2:.1f}) rotate(-90)" font-size="12" font-weight="bold" '
        f'text-anchor="middle" fill="{INK}">{escape(matrix.y_label)}</text>'
    )

    def radius(size: int) -> float:
        return 8 + 30 * math.sqrt(size / biggest)

    for p in sorted(matrix.points, key=lambda p: -p.size):
        r = radius(p.size)
        body.append(
            f'<circle cx="{X(p.x):.1f}" cy="{Y(p.y):.1f}" r="{r:.1f}" fill="{p.colour}" fill-opacity="0.55" '
            f'stroke="{INK}" stroke-width="1"/>'
        )
    for p in matrix.points:
        anchor = "end" if X(p.x) > left + px * 0.7 else "start"
        dx = -(radius(p.size) + 4) if anchor == "end" else radius(p.size) + 4
        body.append(_text(X(p.x) + dx, Y(p.y) - 4, p.name, 12, anchor, "bold", halo=True))
        body.append(_text(X(p.x) + dx, Y(p.y) + 11, f"{pct(p.x)}, {pct(p.y)}", 11, anchor, halo=True))
    return _svg(width, height, body, "Priority matrix")


def money(value: float | None) -> str:
    """Dollars for tables (``$17,039``)."""
    return amount(value, "$")
