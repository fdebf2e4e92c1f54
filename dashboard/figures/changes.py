"""Figures and tables of the "Over time" page: Sankey of flows, shares over time, matrix and drift tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from dash import html

from pipeline.data.export import csv_bytes
from pipeline.timeline.drift import Drift
from pipeline.timeline.matching import SegmentMatch
from pipeline.timeline.migration import GONE, NEW, Migration

from ..theme import NEUTRAL
from .common import themed

NEW_LABEL = "New customers"
FLOW_PREFIX = "flow:"
GONE_LABEL = "Gone"


def _rgba(colour: str, alpha: float) -> str:
    """``#RRGGBB`` → ``rgba(r, g, b, alpha)``."""
    c = colour.lstrip("#")
    if len(c) != 6:
        return f"rgba(108, 117, 125, {alpha})"
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def labels(m: Migration) -> dict[str, str]:
    """Display name of every key on either side, plus ``new`` and ``gone``."""
    return {**m.after.names(), **m.before.names(), NEW: NEW_LABEL, GONE: GONE_LABEL}


def flow_keys(m: Migration) -> list[tuple[str, str]]:
    """``(from, to)`` of each Sankey link, in link order (what a click's ``pointNumber`` indexes)."""
    return [(str(r["from"]), str(r["to"])) for r in m.flows.to_dict("records")]


def clicked_flow(click: Mapping[str, object] | None) -> int | None:
    """The link index of a Sankey click (``None`` for a click on a segment box or nothing)."""
    points = (click or {}).get("points") or [{}]
    label = points[0].get("label") if isinstance(points, list) and isinstance(points[0], dict) else None
    text = str(label or "")
    if text.startswith(FLOW_PREFIX) and text[len(FLOW_PREFIX) :].isdigit():
        return int(text[len(FLOW_PREFIX) :])
    return None


def sankey_figure(m: Migration, theme: str) -> go.Figure:
    """Flows of customers from the earlier snapshot's segments (left) to the later one's (right).

    Nodes and links take the segment colours; new and gone customers are grey.
    A link's ``customdata`` is ``[from key, to key]`` (for clicks).
    """
    names = labels(m)
    colours = {**m.after.colours(), **m.before.colours(), NEW: NEUTRAL, GONE: NEUTRAL}
    left = [s.key for s in m.before.segments] + [NEW]
    right = [s.key for s in m.after.segments] + [GONE]
    left_at = {k: i for i, k in enumerate(left)}
    right_at = {k: len(left) + i for i, k in enumerate(right)}
    flows = m.flows
    before, after = m.before.as_of.isoformat(), m.after.as_of.isoformat()
    # Dates stay out of the labels (left is earlier, right is later) so long names do not collide; hover shows them.
    node_labels = [names[k] for k in left + right]
    node_dates = [f"customers at {before}" if k != NEW else f"new by {after}" for k in left]
    node_dates += [f"customers at {after}" if k != GONE else f"gone by {after}" for k in right]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": node_labels,
                "color": [colours.get(k, NEUTRAL) for k in left + right],
                "pad": 14,
                "thickness": 16,
                "line": {"width": 0},
                "customdata": node_dates,
                "hovertemplate": "%{label}: %{value:,} %{customdata}<extra></extra>",
            },
            link={
                "source": [left_at[f] for f in flows["from"]],
                "target": [right_at[t] for t in flows["to"]],
                "value": flows["customers"].tolist(),
                # A click reports the link's label (Dash keeps only plain fields): "flow:<index>".
                "label": [f"{FLOW_PREFIX}{i}" for i in range(len(flows))],
                "color": [_rgba(colours.get(f, NEUTRAL), 0.45) for f in flows["from"]],
                "customdata": [
                    [f, t, names[f], names[t], v]
                    for f, t, v in zip(flows["from"], flows["to"], flows["value"], strict=True)
                ],
                "hovertemplate": "%{customdata[2]} → %{customdata[3]}<br>%{value:,} customers"
                "<br>value %{customdata[4]:,.0f}<extra>click to list them</extra>",
            },
        )
    )
    return themed(fig, theme, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"size": 12})


def shares_figure(
    points: Sequence[tuple[dt.date, Mapping[str, float]]],
    names: Mapping[str, str],
    colours: Mapping[str, str],
    theme: str,
) -> go.Figure:
    """Stacked area of each segment's share of customers at every snapshot date."""
    fig = go.Figure()
    dates = [d.isoformat() for d, _ in points]
    keys = list(dict.fromkeys(k for _, shares in points for k in shares))
    for k in keys:
        fig.add_scatter(
            x=dates,
            y=[shares.get(k, 0.0) for _, shares in points],
            name=names.get(k, k),
            mode="lines+markers",
            stackgroup="shares",
            line={"color": colours.get(k, NEUTRAL), "width": 1},
            fillcolor=_rgba(colours.get(k, NEUTRAL), 0.6),
            hovertemplate="%{x}: %{y:.1%} of customers<extra>" + names.get(k, k) + "</extra>",
        )
    return themed(
        fig,
        theme,
        yaxis={"tickformat": ".0%", "range": [0, 1], "title": None},
        xaxis={"title": None, "type": "category"},
        legend={"orientation": "h", "y": -0.15},
        # Room for the ticks, the dates' overhang and the legend below (two rows for the sample's four
        # names): plotly.js then draws the chart once instead of widening its margins with a second draw.
        margin={"l": 50, "r": 50, "t": 20, "b": 130},
        hovermode="x unified",
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[object]], table_id: str | None = None) -> html.Table:
    kwargs = {"id": table_id} if table_id else {}
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h, scope="col") for h in head])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        className="table table-sm small mb-0 changes-table",
        **kwargs,
    )


def matrix_table(m: Migration, what: str = "customers") -> html.Div:
    """Customers (or value) from each segment (rows, then new) to each segment (columns, then gone), with totals."""
    names = labels(m)
    counts = m.matrix(what)
    head = ["From \\ to", *[names[c] for c in counts.columns], "Total"]
    rows = []
    for key, row in counts.iterrows():
        rows.append([names[str(key)], *[f"{int(v):,}" for v in row], f"{int(row.sum()):,}"])
    totals = counts.sum(axis=0)
    rows.append(["Total", *[f"{int(v):,}" for v in totals], f"{int(totals.sum()):,}"])
    return html.Div(_table(head, rows), className="table-responsive")


def inflow_table(m: Migration) -> html.Div:
    """Per segment: before, stayed, in from other segments, new, out to other segments, gone, after."""
    names = labels(m)
    io = m.inflow_outflow()
    head = ["Segment", "Before", "Stayed", "In", "New", "Out", "Gone", "After"]
    cols = ("before", "stayed", "inflow", "new", "outflow", "gone", "after")
    rows = [[names.get(r["segment"], r["segment"]), *[f"{int(r[c]):,}" for c in cols]] for r in io.to_dict("records")]
    return html.Div(_table(head, rows), className="table-responsive")


def drift_table(d: Drift) -> html.Div:
    """PSI per feature with its band, then share change and centroid shift per segment."""
    badge = {"stable": "text-success", "moderate": "text-warning", "major": "text-danger", "not measured": ""}
    features = _table(
        ["Feature", "PSI", "Reading"],
        [
            [f.name, "n/a" if f.band == "not measured" else f"{f.psi:.3f}", html.Span(f.band, className=badge[f.band])]
            for f in d.features
        ],
    )
    segments = _table(
        ["Segment", "Share before", "Share after", "Change (points)", "Centre moved (SD)"],
        [
            [
                s.name,
                f"{s.share_before:.1%}",
                f"{s.share_after:.1%}",
                f"{s.share_change_points:+.1f}",
                "n/a" if s.centroid_shift_sd != s.centroid_shift_sd else f"{s.centroid_shift_sd:.2f}",
            ]
            for s in d.segments
        ],
    )
    return html.Div(
        [html.Div(features, className="table-responsive mb-3"), html.Div(segments, className="table-responsive")]
    )


def matches_table(matches: Sequence[SegmentMatch], old_names: Mapping[str, str]) -> html.Div:
    """How the later model's segments were matched to the earlier ones (similarity 1 = same centre)."""
    rows = [
        [
            m.new_key,
            old_names.get(m.old_key, "—") if m.old_key else "— (no match)",
            "n/a" if m.old_key is None else f"{m.distance:.2f}",
            f"{m.similarity:.2f}",
            "kept the earlier name" if m.renamed else "kept its own name",
        ]
        for m in matches
    ]
    return _table(["Later segment", "Matched to", "Distance (SD)", "Similarity", "Name"], rows)


def movers_table(movers: pd.DataFrame, limit: int = 20) -> html.Div:
    """The first ``limit`` customers of a flow: id, value before, value after."""
    rows = [
        [str(r["ID"]), _money(r["value_before"]), _money(r["value_after"])]
        for r in movers.head(limit).to_dict("records")
    ]
    return _table(["Customer", "Value before", "Value after"], rows)


def _money(v: object) -> str:
    return "—" if v is None or v != v else f"{float(v):,.0f}"


def movers_csv(movers: pd.DataFrame, names: Mapping[str, str]) -> str:
    """CSV text of a flow's customers (segment names added), through the one safe writer."""
    out = movers.assign(
        from_name=movers["from"].astype(str).map(lambda k: names.get(k, k)),
        to_name=movers["to"].astype(str).map(lambda k: names.get(k, k)),
    )
    return csv_bytes(out).decode("utf-8")
