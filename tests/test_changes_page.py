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


class FakeContext:
    """What a job function gets in the runner's child: settings, owner, progress."""

    def __init__(self, settings, owner: str) -> None:
        self.settings, self.owner, self.reports = settings, owner, []

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        self.reports.append((round(percent), message))


def test_log_snapshots_job_stores_every_quarter_for_its_owner(settings, request_ctx, trained) -> None:
    """The way a user gets there: a log uploaded and trained on "Your data", then snapshots of that version.

    The train job recorded the version's source as "upload" without its key, so this always said the
    version was not made from an uploaded log; and the job read the upload's path relative to the working
    folder, not the data folder."""
    from dashboard import jobs, uploads
    from dashboard.identity import current_owner
    from pipeline.store.artifacts import load_artifact
    from pipeline.store.db import database_path
    from pipeline.store.registry import Registry
    from pipeline.synthetic.btyd_log import btyd_log_bytes
    from pipeline.timeline.snapshot import as_of_dates
    from tests.test_data_page import data_url

    owner, other = current_owner(), "anon-" + "2" * 32
    info = uploads.store_upload(data_url(btyd_log_bytes(500, seed=5)), "orders.csv", settings)
    result = jobs.train_job(None, {"upload": info.key}, None, settings=settings)
    version = Registry(database_path(settings)).version(owner, result.artifact_id)
    assert version.source == f"upload:{info.key}" and version.mine
    artifact = load_artifact(settings.models_dir / result.artifact_id, settings)

    context = FakeContext(settings, owner)
    out = timeline.run_log_snapshots(context, {"artifact": result.artifact_id, "every": "quarterly"})
    first = dt_date(artifact.manifest["data"]["period"]["start"])
    want = as_of_dates(first, dt_date(artifact.manifest["data"]["as_of"]), "quarterly")
    stored = timeline.store_for(settings).list(owner, series=out["series"])
    assert [r.as_of for r in stored] == want and [r.id for r in stored] == out["ids"]
    assert {r.model_id for r in stored} == {result.artifact_id}
    assert context.reports[-1] == (100, f"Stored {len(want)} of {len(want)} snapshots")
    assert timeline.store_for(settings).list(other, series=out["series"]) == []
    with pytest.raises(AccessDenied):
        timeline.run_log_snapshots(FakeContext(settings, other), {"artifact": result.artifact_id})
    default = trained.artifact.artifact_id  # the built-in sample: the system's, not an upload
    with pytest.raises(Exception, match="made from a transaction log you uploaded"):
        timeline.run_log_snapshots(FakeContext(settings, owner), {"artifact": default})


def dt_date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_log_snapshot_buttons_run_through_the_job_runner(changes, request_ctx) -> None:
    import time

    as_owner("anon-" + "3" * 32)
    job, polling_off, status = changes.start_log_snapshots(1, None)
    assert polling_off is False and status == "Queued…"
    deadline = time.monotonic() + 120
    while True:  # poll as the dcc.Interval does, until the job has finished
        saved, polling_off, status = changes.follow_log_snapshots(1, job)
        if polling_off:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    # The session shows the built-in sample: not a log the owner uploaded, so the job explains and stores nothing.
    assert saved is dash.no_update
    assert "made from a transaction log you uploaded" in str(status)
    _, off, refused = changes.follow_log_snapshots(1, {"id": "nope"})
    assert off is True and "text-danger" in str(refused)
