"""Segmenting on your own columns (issue #14): custom features, names from evidence, notes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.data.detect import detect_kind, suggest_mapping
from pipeline.data.ingest import validate_table
from pipeline.data.mapping import Mapping
from pipeline.errors import AccessDenied, DataError
from pipeline.features.custom import custom_definition, feature_checks, label_and_unit
from pipeline.segmentation.naming import CUSTOM_OBJECTIVE, custom_phrase, name_segments, standardised_centroids
from pipeline.segmentation.training import dataset_from_bytes, settings_for_dataset, train
from pipeline.store.notes import MAX_NOTE_CHARS, NoteError, read_notes, segment_notes, write_note
from pipeline.store.registry import Registry
from pipeline.synthetic.custom_tables import mall_customers, planted_table, to_csv_bytes

INCOME, SCORE = "Annual Income (k$)", "Spending Score (1-100)"
#: Columns and units the code has never seen.
PLANTED_COLUMNS = {"Kelp harvest [t]": (50.0, 4.0), "Zorb index": (0.0, 1.0), "Qwerty (m/s)": (300.0, 20.0)}
PLANTED_CENTRES = [
    {"Kelp harvest [t]": 6.0, "Zorb index": 0.0, "Qwerty (m/s)": 0.0},
    {"Kelp harvest [t]": -3.0, "Zorb index": 6.0, "Qwerty (m/s)": 0.0},
    {"Kelp harvest [t]": -3.0, "Zorb index": -3.0, "Qwerty (m/s)": -6.0},
    {"Kelp harvest [t]": 0.0, "Zorb index": -3.0, "Qwerty (m/s)": 6.0},
]


def test_label_and_unit_come_from_the_column_name() -> None:
    assert label_and_unit(INCOME) == ("Annual Income", "k$")
    assert label_and_unit(SCORE) == ("Spending Score (1-100)", "")
    assert custom_definition(SCORE).short == "spending score"
    assert label_and_unit("Kelp harvest [t]") == ("Kelp harvest", "t")
    assert label_and_unit("loyalty_points") == ("loyalty points", "")
    d = custom_definition(INCOME)
    assert (d.label, d.unit, d.formula, d.short) == (
        "Annual Income",
        "k$",
        'column "Annual Income (k$)" as given',
        "annual income",
    )
    g = custom_definition("Gender = Female")
    assert (g.label, g.unit, g.short) == ("Gender: Female", "share", "female")


def test_custom_phrase_words_direction_and_size() -> None:
    assert custom_phrase(INCOME, 1.0) == "high annual income"
    assert custom_phrase(INCOME, -1.6) == "very low annual income"
    assert custom_phrase(INCOME, 0.3) == "slightly higher annual income"
    assert custom_phrase(INCOME, 0.2) is None
    assert custom_phrase("Age", -0.9) == "young"
    assert custom_phrase("Age", 0.6) == "older"
    assert custom_phrase("Gender = Female", 0.8) == "mostly female"
    assert custom_phrase("Gender = Female", -0.8) is None


@settings(max_examples=60, deadline=None)
@given(z=st.floats(-5, 5, allow_nan=False), name=st.text("abcxyz ", min_size=1, max_size=12).filter(str.strip))
def test_custom_phrase_never_contradicts_the_sign(z: float, name: str) -> None:
    phrase = custom_phrase(name, z)
    if abs(z) < 0.25:
        assert phrase is None
    elif name.strip().lower() not in ("age",):
        assert phrase is not None
        assert phrase.startswith(
            ("high", "very high", "slightly higher") if z > 0 else ("low", "very low", "slightly lower")
        )


def _planted_dataset(tmp_path: Path, seed: int = 3):
    table, groups = planted_table(PLANTED_COLUMNS, PLANTED_CENTRES, [120, 90, 60, 30], random_state=seed)
    raw = to_csv_bytes(table)
    s = Settings(k=4, features=tuple(PLANTED_COLUMNS), models_dir=tmp_path / "models")
    dataset = dataset_from_bytes(raw, "planted.csv", s)
    return dataset, settings_for_dataset(dataset, s), groups


def test_planted_groups_in_unseen_columns_are_recovered_and_named_from_their_evidence(tmp_path: Path) -> None:
    dataset, s, groups = _planted_dataset(tmp_path)
    assert dataset.kind == "customer_table" and s.features == tuple(PLANTED_COLUMNS)
    result = train(dataset, s)
    customers = result.artifact.customers
    assert adjusted_rand_score(groups, customers["Cluster"].to_numpy()) >= 0.9
    segments = result.artifact.manifest["segments"]
    assert len({seg["name"] for seg in segments}) == 4
    for seg in segments:
        z = seg["centroid_z"]
        top = max(z, key=lambda f: abs(z[f]))
        word = custom_phrase(top, z[top])
        # The name holds its centroid's largest deviation, with its direction and size.
        assert word is not None and word in seg["name"].lower(), (seg["name"], z)
        for f, v in z.items():
            phrase = custom_phrase(f, v)
            if phrase and phrase.split()[-1] in seg["name"].lower():
                assert phrase in seg["name"].lower()
        assert seg["objective"] == CUSTOM_OBJECTIVE
        assert seg["actions"][1].startswith(f"How many: {seg['size']:,} customers")
        assert seg["actions"][2] == "Worth: not measured (no spend column is among the clustered features)."
    defs = {d["name"]: d for d in result.artifact.manifest["features"]}
    assert defs["Qwerty (m/s)"]["unit"] == "m/s" and defs["Kelp harvest [t]"]["label"] == "Kelp harvest"


def test_names_do_not_depend_on_cluster_numbering() -> None:
    table, groups = planted_table(PLANTED_COLUMNS, PLANTED_CENTRES, [50, 40, 30, 20], random_state=1)
    feats = table[list(PLANTED_COLUMNS)]
    base = {s.label: (s.name, s.key, s.colour) for s in name_segments(standardised_centroids(feats, groups))}
    rng = np.random.default_rng(0)
    for _ in range(5):
        perm = rng.permutation(4)
        relabelled = perm[groups]
        named = {s.label: (s.name, s.key, s.colour) for s in name_segments(standardised_centroids(feats, relabelled))}
        assert {g: named[int(perm[g])] for g in range(4)} == base


def test_refits_with_other_seeds_give_the_same_names(tmp_path: Path) -> None:
    names = []
    for seed in (1, 2):
        dataset, s, _groups = _planted_dataset(tmp_path, seed=5)
        result = train(dataset, s.replace(random_state=seed, models_dir=tmp_path / f"m{seed}"))
        names.append(sorted(seg["name"] for seg in result.artifact.manifest["segments"]))
    assert names[0] == names[1]


def test_mall_table_is_a_customer_table_with_an_id_and_custom_features() -> None:
    table, _ = mall_customers()
    assert detect_kind(table).kind == "customer_table" and detect_kind(table).confidence == "high"
    m = suggest_mapping(table)
    assert m.id_column == "CustomerID"
    assert m.custom_features == ("Age", INCOME, SCORE)
    assert m.categorical_features == ("Gender",) and m.categorical_weight == 0.0
    v = validate_table(table, m, Settings(k=5))
    assert v.ok and v.features == ("Age", INCOME, SCORE)


def test_mall_k5_on_income_and_score_matches_the_well_known_result(tmp_path: Path) -> None:
    table, groups = mall_customers()
    s = Settings(k=5, features=(INCOME, SCORE), models_dir=tmp_path)
    dataset = dataset_from_bytes(to_csv_bytes(table), "Mall_Customers.csv", s)
    result = train(dataset, settings_for_dataset(dataset, s))
    m = result.artifact.manifest
    sizes = {seg["name"]: seg["size"] for seg in m["segments"]}
    assert sizes == {
        "Average annual income and spending score": 81,
        "High annual income, high spending score": 39,
        "High annual income, low spending score": 35,
        "Low annual income, low spending score": 23,
        "Low annual income, high spending score": 22,
    }
    assert round(m["metrics"]["silhouette"], 2) == 0.56
    assert adjusted_rand_score(groups, result.artifact.customers["Cluster"]) == 1.0
    # Age is profiled (a custom column not clustered), and the units come from the columns.
    assert "Age" in m["segments"][0]["profile"]
    assert {d["name"]: d["unit"] for d in m["features"]} == {INCOME: "k$", SCORE: ""}


def test_cli_train_with_features_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table, _ = mall_customers()
    path = tmp_path / "mall.csv"
    path.write_bytes(to_csv_bytes(table))
    args = ["train", "--data", str(path), "--features", INCOME, SCORE, "--k", "5", "--json"]
    assert main([*args, "--models-dir", str(tmp_path / "m")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["features"] == [INCOME, SCORE]
    assert sorted(s["size"] for s in out["segments"]) == [22, 23, 35, 39, 81]


def test_cli_refuses_an_unknown_feature_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table, _ = mall_customers()
    path = tmp_path / "mall.csv"
    path.write_bytes(to_csv_bytes(table))
    code = main(["train", "--data", str(path), "--features", INCOME, "Shoe size", "--models-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "Shoe size" in err


def test_mapping_json_carries_custom_features_and_refuses_bad_ones() -> None:
    m = Mapping(
        "customer_table", id_column="CustomerID", custom_features=(INCOME, SCORE), categorical_features=("Gender",)
    )
    assert Mapping.from_json(m.to_json()) == m
    assert json.loads(m.to_json())["custom_features"] == [INCOME, SCORE]
    with pytest.raises(DataError, match="'custom_features' must be a list of column names"):
        Mapping.from_dict({"kind": "customer_table", "custom_features": "Age"})
    with pytest.raises(DataError, match="categorical weight must be a number from 0"):
        Mapping("customer_table", categorical_weight=2)
    with pytest.raises(DataError, match="only be chosen from a customer table"):
        Mapping("transactions", custom_features=("Age",))
    # A mapping without custom features keeps the cache key it had before they existed.
    plain = Mapping("customer_table", id_column="id", feature_columns={"Customer_Value": ("spend",)})
    assert "custom_features" not in json.dumps(plain.to_dict()) or plain.digest() == plain.replace().digest()


def test_a_reserved_column_name_is_refused() -> None:
    table = pd.DataFrame({"id": range(10), "Cluster": range(10), "x": range(10)})
    m = Mapping("customer_table", id_column="id", custom_features=("Cluster", "x"))
    v = validate_table(table, m, Settings(k=2))
    assert v.problems == (
        "data: the column(s) Cluster cannot be custom features: the app uses these names itself "
        "(map them as a behavioural feature, or rename the column).",
    )


def test_categorical_column_is_one_hot_encoded_with_its_weight(tmp_path: Path) -> None:
    table, _ = mall_customers()
    s = Settings(k=4, features=("Age", SCORE, "Gender"), models_dir=tmp_path)
    dataset = dataset_from_bytes(to_csv_bytes(table), "mall.csv", s)
    s2 = settings_for_dataset(dataset, s)
    assert s2.features == ("Age", SCORE, "Gender = Female", "Gender = Male")
    assert s2.feature_weights == (("Gender = Female", 0.5), ("Gender = Male", 0.5))
    result = train(dataset, s2)
    pipe = result.artifact.bundle["pipeline"]
    assert pipe.named_steps["weight"].kw_args["weights"] == (1.0, 1.0, 0.5, 0.5)
    assert result.artifact.customers["Gender"].isin(["Female", "Male"]).all()


def test_feature_checks_report_missing_constant_and_heavy_tails() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "ok": rng.normal(10, 2, 300),
            "tail": rng.lognormal(0, 1.5, 300),
            "flat": np.full(300, 4.0),
            "gappy": np.r_[rng.normal(5, 1, 290), [np.nan] * 10],
        }
    )
    checks = {c.name: c for c in feature_checks(frame, ("ok", "tail", "flat", "gappy"))}
    assert checks["ok"].verdict == "ok"
    assert checks["tail"].verdict == "heavy_tail" and "choose log1p or yeo-johnson" in checks["tail"].message
    assert checks["flat"].verdict == "constant"
    assert checks["gappy"].missing == 10 and "10 missing values are imputed with the median" in checks["gappy"].message


def test_segment_notes_are_kept_per_owner_and_version(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    reg = Registry(tmp_path / "state.sqlite3")
    reg.add_version("anon-a", "v1", "mall.csv", "upload")
    keys = {"high_spending_score"}
    assert write_note(reg, "anon-a", "v1", "high_spending_score", "  Invite to the VIP evening\n", keys) == (
        "Invite to the VIP evening"
    )
    assert segment_notes(s, "anon-a", "v1") == {"high_spending_score": "Invite to the VIP evening"}
    with pytest.raises(AccessDenied):
        read_notes(reg, "anon-b", "v1")
    with pytest.raises(AccessDenied):
        write_note(reg, "anon-b", "v1", "high_spending_score", "mine now", keys)
    with pytest.raises(NoteError, match="has no segment 'other'"):
        write_note(reg, "anon-a", "v1", "other", "x", keys)
    with pytest.raises(NoteError, match=f"at most {MAX_NOTE_CHARS:,} characters"):
        write_note(reg, "anon-a", "v1", "high_spending_score", "x" * (MAX_NOTE_CHARS + 1), keys)
    write_note(reg, "anon-a", "v1", "high_spending_score", "", keys)
    assert read_notes(reg, "anon-a", "v1") == {}
