"""Segments over time: snapshots, Hungarian matching, migration, drift, the snapshot store, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.errors import AccessDenied, DataError
from pipeline.store.snapshots import SNAPSHOT_NOT_AVAILABLE, SnapshotStore
from pipeline.synthetic.btyd_log import generate_btyd_log
from pipeline.synthetic.series import generate_series, planted_matrix
from pipeline.timeline.build import check_dates, score_all
from pipeline.timeline.drift import PSI_EPSILON, drift, psi, psi_band
from pipeline.timeline.matching import match_centroids, match_snapshots
from pipeline.timeline.migration import migrate
from pipeline.timeline.snapshot import SegmentInfo, as_of_dates, log_datasets, snapshot_from_labels

SEGS = (SegmentInfo("a", "Alpha", "#111111"), SegmentInfo("b", "Beta", "#222222"))


def snap(ids, labels, values=None, as_of=dt.date(2014, 3, 31), model="m1", x=None, segments=SEGS):
    """A hand-made snapshot with one feature ``x`` (default: the value)."""
    values = np.asarray(values if values is not None else np.arange(len(ids), dtype=float))
    customers = pd.DataFrame(
        {"ID": [str(i) for i in ids], "Customer_Value": values, "x": x if x is not None else values}
    )
    return snapshot_from_labels(
        customers,
        np.asarray(labels),
        segments,
        ("Customer_Value", "x"),
        data_name="hand",
        data_hash="h",
        as_of=as_of,
        model_id=model,
    )


LATER = dt.date(2014, 6, 30)

# ---------------------------------------------------------------- PSI


def test_psi_known_answer_quartiles() -> None:
    # Quartile edges of 0..99 are 24.75, 49.5, 74.25: expected 25% per bin; actual 40/20/20/20%.
    actual = np.r_[np.zeros(40), np.full(20, 30.0), np.full(20, 60.0), np.full(20, 90.0)]
    want = (0.4 - 0.25) * math.log(0.4 / 0.25) + 3 * (0.2 - 0.25) * math.log(0.2 / 0.25)
    assert psi(np.arange(100.0), actual, bins=4) == pytest.approx(want, abs=1e-12)
    assert want == pytest.approx(0.103972, abs=1e-6)
    assert psi_band(want) == "moderate"


def test_psi_empty_bin_uses_the_documented_epsilon() -> None:
    # Everything lands in the first quartile: three empty bins take share 0.0001.
    e = PSI_EPSILON
    want = (1 - 0.25) * math.log(1 / 0.25) + 3 * (e - 0.25) * math.log(e / 0.25)
    assert psi(np.arange(100.0), np.zeros(50), bins=4) == pytest.approx(want, abs=1e-12)
    assert psi_band(want) == "major"


def test_psi_of_identical_samples_is_zero_and_missing_values_are_left_out() -> None:
    x = np.arange(1000.0)
    assert psi(x, np.r_[x, np.nan]) == 0.0
    assert math.isnan(psi(x, np.array([np.nan])))
    assert psi_band(float("nan")) == "not measured"
    assert psi_band(0.05) == "stable"


# ---------------------------------------------------------------- Hungarian matching


def test_hungarian_matching_beats_greedy_and_reports_similarity() -> None:
    old = pd.DataFrame({"f": [0.0, 4.0], "g": [0.0, 0.0]}, index=["A", "B"])
    new = pd.DataFrame({"f": [2.1, 3.0], "g": [0.0, 0.0]}, index=["X", "Y"])
    # Greedy (X first) would take B for X (1.9) and leave A for Y (3.0): total 4.9; optimal is 2.1 + 1.0.
    x, y = match_centroids(old, new, pd.Series({"f": 1.0, "g": 1.0}))
    assert (x.old_key, x.new_key, y.old_key, y.new_key) == ("A", "X", "B", "Y")
    assert x.distance == pytest.approx(2.1) and x.similarity == pytest.approx(1 / 3.1)
    assert y.distance == pytest.approx(1.0) and y.similarity == pytest.approx(0.5)
    assert (x.renamed, y.renamed) == (False, True)  # below 0.5 similarity a pair keeps separate identities


def test_hungarian_scales_by_standard_deviation_and_leaves_extra_segments_unmatched() -> None:
    old = pd.DataFrame({"spend": [0.0, 1000.0], "years": [0.0, 0.0]}, index=["A", "B"])
    new = pd.DataFrame({"spend": [1000.0, 0.0, 0.0], "years": [0.0, 0.0, 6.0]}, index=["P", "Q", "R"])
    matches = match_centroids(old, new, pd.Series({"spend": 1000.0, "years": 2.0}))
    got = {m.new_key: (m.old_key, round(m.distance, 6)) for m in matches}
    assert got["P"] == ("B", 0.0) and got["Q"] == ("A", 0.0)
    assert got["R"][0] is None and matches[2].similarity == 0.0


def test_retrained_snapshot_takes_the_old_identities() -> None:
    before = snap(range(4), [0, 0, 1, 1], values=[1.0, 1.0, 10.0, 10.0])
    renamed = (SegmentInfo("hi", "High", "#333333"), SegmentInfo("lo", "Low", "#444444"))
    after = snap(range(4), [1, 1, 0, 0], values=[1.0, 1.0, 10.0, 10.0], model="m2", segments=renamed, as_of=LATER)
    relabelled, matches = match_snapshots(before, after)
    assert relabelled.key_space == "m1"
    assert relabelled.customers["Segment"].astype(str).tolist() == ["a", "a", "b", "b"]
    assert [s.name for s in relabelled.segments] == ["Beta", "Alpha"]
    assert {(m.new_key, m.old_key) for m in matches} == {("hi", "b"), ("lo", "a")}
    assert all(m.similarity == 1.0 for m in matches)
    with pytest.raises(DataError, match="different models"):
        migrate(before, after)
    assert migrate(before, relabelled).flows["customers"].sum() == 4


# ---------------------------------------------------------------- migration


def test_migration_known_answer_with_new_and_gone() -> None:
    before = snap(["c1", "c2", "c3", "c4"], [0, 0, 1, 1], values=[10.0, 20.0, 30.0, 40.0])
    after = snap(["c2", "c3", "c4", "c5"], [1, 1, 0, 0], values=[21.0, 31.0, 41.0, 5.0], as_of=LATER)
    m = migrate(before, after)
    got = {(r["from"], r["to"]): (r["customers"], r["value"]) for r in m.flows.to_dict("records")}
    assert got == {
        ("a", "gone"): (1, 10.0),
        ("a", "b"): (1, 20.0),
        ("b", "b"): (1, 30.0),
        ("b", "a"): (1, 40.0),
        ("new", "a"): (1, 5.0),
    }
    assert m.matrix().loc["new", "a"] == 1 and m.matrix("value").loc["a", "b"] == 20.0
    io = m.inflow_outflow().set_index("segment")
    assert io.loc["a"].to_dict() == {
        "before": 2,
        "stayed": 0,
        "inflow": 1,
        "new": 1,
        "outflow": 1,
        "gone": 1,
        "after": 2,
    }
    movers = m.movers("b", "a")
    assert movers["ID"].tolist() == ["c4"] and movers["value_before"].tolist() == [40.0]
    assert movers["value_after"].tolist() == [41.0]
    with pytest.raises(DataError, match="Unknown segment pair x -> a"):
        m.movers("x", "a")


@hsettings(max_examples=60, deadline=None)
@given(
    expected=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200),
    actual=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200),
)
def test_psi_is_never_negative_and_zero_on_itself(expected: list[float], actual: list[float]) -> None:
    assert psi(np.array(expected), np.array(actual)) >= 0
    assert psi(np.array(expected), np.array(expected)) == 0


@hsettings(max_examples=60, deadline=None)
@given(
    before_ids=st.sets(st.integers(0, 60), min_size=1, max_size=40),
    after_ids=st.sets(st.integers(0, 60), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_flows_add_up(before_ids: set[int], after_ids: set[int], seed: int) -> None:
    shared = before_ids & after_ids
    if not shared:
        after_ids = after_ids | {next(iter(before_ids))}
    rng = np.random.default_rng(seed)
    b_ids, a_ids = sorted(before_ids), sorted(after_ids)
    before = snap(b_ids, rng.integers(0, 2, len(b_ids)), values=rng.random(len(b_ids)))
    after = snap(a_ids, rng.integers(0, 2, len(a_ids)), values=rng.random(len(a_ids)), as_of=LATER)
    flows = migrate(before, after).flows
    new = flows.loc[flows["from"] == "new", "customers"].sum()
    gone = flows.loc[flows["to"] == "gone", "customers"].sum()
    assert before.n_customers + new == after.n_customers + gone
    assert flows["customers"].sum() == len(before_ids | after_ids)
    assert (flows["customers"] > 0).all()
    for key, n in before.segment_counts().items():
        assert flows.loc[flows["from"] == key, "customers"].sum() == n
    for key, n in after.segment_counts().items():
        assert flows.loc[flows["to"] == key, "customers"].sum() == n


def test_migration_refusals() -> None:
    before = snap(["1", "2"], [0, 1])
    with pytest.raises(DataError, match=r"'to' snapshot \(2014-03-31\) must be later than the 'from' snapshot"):
        migrate(before, snap(["1", "2"], [0, 1]))
    with pytest.raises(DataError, match="share no customer id"):
        migrate(before, snap(["8", "9"], [0, 1], as_of=LATER))
    with pytest.raises(DataError, match="'to' date 2014-01-01 must be after the 'from' date 2014-03-31"):
        check_dates(dt.date(2014, 3, 31), dt.date(2014, 1, 1))
    with pytest.raises(DataError, match="ids repeat"):
        snap(["1", "1"], [0, 1])


# ---------------------------------------------------------------- drift


def test_drift_alerts_in_plain_language_and_retrain_threshold() -> None:
    n = 1000
    before = snap(range(n), [0] * 90 + [1] * 910, x=np.arange(n, dtype=float), values=np.ones(n))
    after = snap(range(n), [0] * 60 + [1] * 940, x=np.arange(n, dtype=float), values=np.ones(n), as_of=LATER)
    d = drift(before, after)
    assert d.to_json()["segment_share_change"] == {"a": -3.0, "b": 3.0}
    assert "Alpha shrank from 9% to 6% of customers since 2014-03-31." in d.alerts
    assert "Beta grew from 91% to 94% of customers since 2014-03-31." in d.alerts
    assert [f.psi for f in d.features] == [0.0, 0.0]
    # Members of Alpha are now 0..59 instead of 0..89: its mean x moved 15 / sd(0..999) = 0.052 sd.
    shift = {s.key: s.centroid_shift_sd for s in d.segments}
    assert shift["a"] == pytest.approx(15 / np.arange(n).std(), rel=1e-9)
    assert d.retrain_recommended is False
    moved = snap(range(n), [0] * 90 + [1] * 910, x=np.arange(n) + 400.0, values=np.ones(n), as_of=LATER)
    d2 = drift(before, moved)
    assert d2.retrain_recommended is True
    assert any(a.startswith("x shifted (major: PSI") for a in d2.alerts)
    assert d2.alerts[-1].startswith("Retraining is recommended")


# ---------------------------------------------------------------- planted migrations


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory, isolated_secret: Path):
    tables, truth = generate_series(3000, 3, seed=11)
    folder = tmp_path_factory.mktemp("series")
    for as_of, table in tables:
        table.to_csv(folder / f"customers_{as_of}.csv", index=False)
    return folder, [as_of for as_of, _ in tables], truth


def test_planted_migration_is_recovered_within_5_points(series, tmp_path: Path) -> None:
    from pipeline.segmentation.training import load_dataset

    folder, dates, truth = series
    settings = Settings(models_dir=tmp_path / "models")
    datasets = [load_dataset(folder / f"customers_{d}.csv", settings) for d in dates]
    snaps = score_all(datasets, settings)  # trained on the first period, used for all
    first = truth[truth["period"] == 0].set_index("ID")["type"]
    seg = snaps[0].customers.set_index("ID")["Segment"].astype(str)
    to_type = pd.crosstab(seg, first.reindex(seg.index)).idxmax(axis=1).to_dict()
    assert sorted(to_type.values()) == sorted(set(first))  # one segment per planted type
    to_type.update({"new": "new", "gone": "gone"})
    checked = 0
    for p in (0, 1):
        planted = planted_matrix(truth, p, p + 1)
        flows = migrate(snaps[p], snaps[p + 1]).flows
        flows = flows.assign(**{"from": flows["from"].map(to_type), "to": flows["to"].map(to_type)})
        found = flows.pivot_table(index="from", columns="to", values="customers", aggfunc="sum").reindex_like(planted)
        found = found.fillna(0)
        rows = planted.sum(axis=1)
        for a in planted.index:
            for b in planted.columns:
                if planted.loc[a, b] >= 100:
                    checked += 1
                    gap = 100 * abs(found.loc[a, b] - planted.loc[a, b]) / rows[a]
                    assert gap <= 5, (p, a, b, found.loc[a, b], planted.loc[a, b])
    assert checked == 15  # cells with at least 100 planted customers, over both period pairs


# ---------------------------------------------------------------- one log, many snapshots


def test_log_snapshots_use_only_transactions_up_to_each_date(tmp_path: Path) -> None:
    log = generate_btyd_log(400, seed=3)
    raw = log.to_csv(index=False).encode()
    dates = [dt.date(1997, 6, 30), dt.date(1998, 3, 31)]
    early, late = log_datasets(raw, "log.csv", dates, Settings())
    for ds, d in zip((early, late), dates, strict=True):
        cut = log[pd.to_datetime(log["OrderDate"]) <= pd.Timestamp(d)]
        spend = cut.groupby("CustomerID")["Amount"].sum().round(2)
        got = ds.customers.set_index("ID")["Customer_Value"]
        assert ds.as_of == d
        assert set(got.index) == set(spend.index)
        assert np.allclose(got.sort_index().to_numpy(), spend.sort_index().to_numpy())
    with pytest.raises(DataError, match=r"as-of date 1996-12-31 is outside log\.csv, which runs from 1997-01-01"):
        log_datasets(raw, "log.csv", [dt.date(1996, 12, 31)], Settings())
    with pytest.raises(DataError, match=r"as-of date 2001-01-01 is outside log\.csv"):
        log_datasets(raw, "log.csv", [dt.date(2001, 1, 1)], Settings())


# ---------------------------------------------------------------- the store


def test_snapshot_store_keeps_owners_apart(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "state.sqlite3", tmp_path / "snapshots")
    mine = store.add("alice", snap(["1", "2", "3"], [0, 1, 1]), series="s")
    system = store.add("system", snap(["1", "2"], [0, 0], as_of=LATER), series="s")
    loaded = store.load("alice", mine.id)
    assert loaded.customers["Segment"].astype(str).tolist() == ["a", "b", "b"]
    assert loaded.segments == SEGS and loaded.as_of == dt.date(2014, 3, 31)
    assert [r.id for r in store.list("alice")] == [mine.id, system.id]
    assert [r.id for r in store.list("bob")] == [system.id]
    for bad in (mine.id, "0" * 24, "../etc/passwd", None):
        with pytest.raises(AccessDenied) as err:
            store.load("bob", bad)
        assert str(err.value) == SNAPSHOT_NOT_AVAILABLE
    with pytest.raises(AccessDenied, match="not available to you"):
        store.delete("bob", system.id)  # readable, but not bob's
    store.delete("alice", mine.id)
    with pytest.raises(AccessDenied, match="not available to you"):
        store.load("alice", mine.id)


# ---------------------------------------------------------------- CLI


def test_cli_migrate_json_shape_and_movers_export(series, tmp_path: Path, capsys) -> None:
    folder, dates, _ = series
    out = tmp_path / "movers.csv"
    args = ["migrate", "--from", str(folder / f"customers_{dates[0]}.csv"), "--to"]
    args += [str(folder / f"customers_{dates[1]}.csv"), "--models-dir", str(tmp_path / "m"), "--json"]
    assert main([*args, "--movers", "nobody", "gone", "--out", str(out)]) == 2  # unknown segment: refused
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"from", "to", "flows", "drift"}
    assert set(payload["from"]) == {"as_of", "n_customers", "segments"}
    assert payload["from"]["as_of"] == "2014-03-31" and payload["to"]["as_of"] == "2014-06-30"
    assert set(payload["drift"]) == {"features", "segment_share_change", "alerts", "retrain_recommended"}
    assert all(set(f) == {"from", "to", "customers", "value"} for f in payload["flows"])
    assert all(set(f) == {"name", "psi"} for f in payload["drift"]["features"])
    new = sum(f["customers"] for f in payload["flows"] if f["from"] == "new")
    gone = sum(f["customers"] for f in payload["flows"] if f["to"] == "gone")
    assert payload["from"]["n_customers"] + new == payload["to"]["n_customers"] + gone
    key = next(iter(payload["from"]["segments"]))
    assert main([*args, "--movers", key, "gone", "--out", str(out)]) == 0
    want = next(f["customers"] for f in payload["flows"] if f["from"] == key and f["to"] == "gone")
    assert len(pd.read_csv(out)) == want


def test_cli_refusals_are_one_line(tmp_path: Path, capsys) -> None:
    log = tmp_path / "log.csv"
    generate_btyd_log(300, seed=1).to_csv(log, index=False)
    base = ["migrate", "--data", str(log), "--models-dir", str(tmp_path / "m")]
    assert main([*base, "--from-as-of", "1997-09-30", "--to-as-of", "1997-03-31"]) == 2
    assert "error: The 'to' date 1997-03-31 must be after the 'from' date 1997-09-30" in capsys.readouterr().err
    assert main([*base, "--from-as-of", "1990-01-31", "--to-as-of", "1997-03-31"]) == 2
    assert "is outside log.csv" in capsys.readouterr().err
    assert main(["migrate", "--from", str(log), "--models-dir", str(tmp_path / "m")]) == 2
    assert "need both --from and --to" in capsys.readouterr().err


def test_cli_snapshot_and_log_migration(tmp_path: Path, capsys) -> None:
    log = tmp_path / "log.csv"
    generate_btyd_log(600, seed=2).to_csv(log, index=False)
    common = ["--models-dir", str(tmp_path / "m"), "--json"]
    assert main(["snapshot", "--data", str(log), "--as-of", "1997-06-30", "--data-dir", str(tmp_path), *common]) == 0
    snap_json = json.loads(capsys.readouterr().out)
    assert snap_json["as_of"] == "1997-06-30" and sum(snap_json["segments"].values()) == snap_json["n_customers"]
    store = SnapshotStore(tmp_path / "state.sqlite3", tmp_path / "snapshots")
    assert [r.id for r in store.list("cli")] == [snap_json["id"]]
    assert store.list("anon-browser") == []  # kept out of the app unless --owner says whose it is
    args = ["migrate", "--data", str(log), "--from-as-of", "1997-06-30", "--to-as-of", "1998-03-31", *common]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["from"]["segments"] == snap_json["segments"]  # same data, same model: same snapshot
    assert payload["to"]["n_customers"] >= payload["from"]["n_customers"]  # a log only adds customers
    assert not any(f["to"] == "gone" for f in payload["flows"])


def test_cli_retrain_matches_the_new_segments_to_the_old_names(series, tmp_path: Path, capsys) -> None:
    folder, dates, _ = series
    args = ["migrate", "--from", str(folder / f"customers_{dates[0]}.csv"), "--to"]
    args += [str(folder / f"customers_{dates[1]}.csv"), "--models-dir", str(tmp_path / "m"), "--json", "--retrain"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    matches = payload["matches"]
    # The same four planted types in both periods: every new segment finds its old one, centres close.
    assert sorted(m["old_key"] for m in matches) == sorted(payload["from"]["segments"])
    assert all(m["similarity"] > 0.7 for m in matches)
    assert set(payload["to"]["segments"]) == set(payload["from"]["segments"])


def test_as_of_dates_month_and_quarter_ends() -> None:
    assert as_of_dates(dt.date(2014, 1, 15), dt.date(2014, 4, 30), "monthly") == [
        dt.date(2014, 1, 31),
        dt.date(2014, 2, 28),
        dt.date(2014, 3, 31),
        dt.date(2014, 4, 30),
    ]
    assert as_of_dates(dt.date(2014, 1, 1), dt.date(2014, 12, 31), "quarterly") == [
        dt.date(2014, 3, 31),
        dt.date(2014, 6, 30),
        dt.date(2014, 9, 30),
        dt.date(2014, 12, 31),
    ]
    with pytest.raises(DataError, match="No quarterly period ends between 2014-01-01 and 2014-02-01"):
        as_of_dates(dt.date(2014, 1, 1), dt.date(2014, 2, 1), "quarterly")
    with pytest.raises(DataError, match="Unknown frequency 'weekly'"):
        as_of_dates(dt.date(2014, 1, 1), dt.date(2014, 2, 1), "weekly")


def test_cli_snapshot_every_quarter_of_a_log(tmp_path: Path, capsys) -> None:
    log = tmp_path / "log.csv"
    generate_btyd_log(500, seed=4).to_csv(log, index=False)
    args = ["snapshot", "--data", str(log), "--every", "quarterly", "--since", "1997-01-01", "--as-of", "1997-12-31"]
    args += ["--models-dir", str(tmp_path / "m"), "--data-dir", str(tmp_path), "--owner", "anon-x", "--json"]
    assert main(args) == 0
    snaps = json.loads(capsys.readouterr().out)["snapshots"]
    assert [s["as_of"] for s in snaps] == ["1997-03-31", "1997-06-30", "1997-09-30", "1997-12-31"]
    assert len({s["model_id"] for s in snaps}) == 1  # one model (trained at the first date) scores all
    counts = [s["n_customers"] for s in snaps]
    assert counts == sorted(counts)  # a log only adds customers
    store = SnapshotStore(tmp_path / "state.sqlite3", tmp_path / "snapshots")
    assert [r.as_of.isoformat() for r in store.list("anon-x")] == [s["as_of"] for s in snaps]
    assert store.list("anon-y") == []
