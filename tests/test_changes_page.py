"""The "Over time" page (/changes): callbacks as plain functions, owner checks, the safe download."""

from __future__ import annotations

import sys
from types import ModuleType

import dash
import flask
import plotly.graph_objects as go
import pytest

from dashboard import timeline
from pipeline.errors import AccessDenied
from pipeline.store.snapshots import SNAPSHOT_NOT_AVAILABLE


def page(name: str) -> ModuleType:
    """The page module as Dash imported it (see tests/test_pages_eda_segments_explorer.py)."""
    return sys.modules[dash.page_registry[f"pages.{name}"]["module"]]


@pytest.fixture
def changes(dash_app) -> ModuleType:
    return page("changes")


def as_owner(owner: str) -> None:
    flask.g.segments_owner = owner


def test_page_is_registered_as_over_time(dash_app) -> None:
    entry = dash.page_registry["pages.changes"]
    assert (entry["path"], entry["name"]) == ("/changes", "Over time")


def test_builtin_series_renders_sankey_matrix_drift_and_shares(changes, request_ctx) -> None:
    as_owner("anon-" + "a" * 32)
    items, _, start, end = changes.fill_pickers(None, None, None)
    assert (start, end) == ("builtin-0", "builtin-1")
    assert [i["value"] for i in items[:4]] == ["builtin-0", "builtin-1", "builtin-2", "builtin-3"]
    out = changes.render(start, end, "dark")
    sankey = out["sankey"]
    assert isinstance(sankey, go.Figure) and sankey.data[0].type == "sankey"
    m = timeline.pair(start, end).report.migration
    # Node colours are the segment colours (new and gone grey); one link per non-empty flow.
    seg_colours = [s.colour for s in m.before.segments]
    assert list(sankey.data[0].node.color[: len(seg_colours)]) == seg_colours
    assert sum(sankey.data[0].link.value) == len(set(m.moves["ID"]))
    assert len(out["shares"].data) == len(m.before.segments)  # one area per segment over the four quarters
    assert len(out["shares"].data[0].x) == 4
    assert "Retraining" in str(out["alerts"]) or "still fits" in str(out["alerts"])


def test_clicking_a_flow_lists_and_downloads_its_customers(changes, request_ctx) -> None:
    as_owner("anon-" + "b" * 32)
    m = timeline.pair("builtin-0", "builtin-1").report.migration
    index = next(i for i, r in enumerate(m.flows.to_dict("records")) if r["from"] != r["to"] and r["to"] != "gone")
    row = m.flows.iloc[index]
    click = {"points": [{"pointNumber": index, "label": f"flow:{index}", "value": int(row["customers"])}]}
    flow, listing, disabled = changes.show_flow(click, "builtin-0", "builtin-1")
    assert flow == {"from": row["from"], "to": row["to"]} and disabled is False
    assert f"{int(row['customers']):,} customers" in str(listing)
    sent = changes.download_flow(1, flow, "builtin-0", "builtin-1")
    lines = sent["content"].strip().splitlines()
    assert lines[0].startswith("ID,from,to,value_before,value_after") and len(lines) == int(row["customers"]) + 1
    node_click = {"points": [{"pointNumber": 0, "label": "Low-Value (2014-03-31)"}]}
    assert changes.show_flow(node_click, "builtin-0", "builtin-1")[1] == "Click a flow (a band), not a segment box."


def test_refusals_same_date_and_foreign_snapshot(changes, request_ctx, dash_app) -> None:
    as_owner("anon-" + "c" * 32)
    out = changes.render("builtin-1", "builtin-0", "light")
    assert "must be later than" in str(out["summary"])
    # A snapshot saved by another owner is "not available", exactly like an unknown id.
    alice = "anon-" + "d" * 32
    record = timeline.save_current(timeline.service().view(None), owner=alice)
    for sid in (record.id, "f" * 24, "builtin-9"):
        with pytest.raises(AccessDenied) as err:
            timeline.load(sid)
        assert str(err.value) == SNAPSHOT_NOT_AVAILABLE
    assert "not available to you" in str(changes.render("builtin-0", record.id, "light")["summary"])
    assert changes.download_flow(1, {"from": "x", "to": "y"}, "builtin-0", record.id) is dash.no_update


def test_saved_snapshot_of_the_current_data_is_listed_for_its_owner(changes, request_ctx) -> None:
    owner = "anon-" + "e" * 32
    as_owner(owner)
    saved, status = changes.save_snapshot(1, None)
    assert "Saved:" in str(status)
    items, _, _, end = changes.fill_pickers(saved, None, None)
    assert end == saved["id"] and saved["id"] in [i["value"] for i in items]
    snap = timeline.load(saved["id"])
    v = timeline.service().view(None)
    assert snap.n_customers == v.manifest["data"]["n_customers"] and snap.model_id == v.id
    # Comparing the built-in series with it needs segment matching: different models, different customers.
    out = changes.render("builtin-0", saved["id"], "light")
    assert "share no customer id" in str(out["summary"])
