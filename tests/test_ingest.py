"""Bring your own data: detection, mappings, transaction logs, validation, CLI (issue #5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.config import DEFAULT_FEATURES, Settings
from pipeline.data.coerce import parse_timestamps, read_numbers, to_flag, to_ids
from pipeline.data.detect import detect_kind, suggest_mapping
from pipeline.data.ingest import validate_table
from pipeline.data.mapping import Mapping
from pipeline.data.reading import data_hash, read_table
from pipeline.data.transactions import aggregate_transactions
from pipeline.errors import DataError
from pipeline.segmentation.naming import ARCHETYPE_BY_KEY, candidate_archetypes
from pipeline.segmentation.training import (
    dataset_from_bytes,
    dataset_from_validation,
    load_dataset,
    settings_for_dataset,
    train,
)
from pipeline.synthetic.customers import generate_sample, sample_bytes, to_text_bytes
from pipeline.synthetic.inputs import (
    customer_table_bytes,
    generate_customer_table,
    generate_transactions,
    transactions_bytes,
)
from tests.ingest_cases import CRM, ONLINE_RETAIL, csv_bytes


def line(inv: str, cust: str | None, when: str, qty: int, price: float = 5.0, item: str = "A") -> dict:
    return {
        "InvoiceNo": inv,
        "StockCode": item,
        "Quantity": str(qty),
        "InvoiceDate": when,
        "UnitPrice": f"{price:.2f}",
        "CustomerID": cust,
    }


@pytest.fixture
def quirky_log() -> pd.DataFrame:
    """Eight lines, one of each quirk, as read_table returns them."""
    rows = [
        line("1001", "17850.0", "2011-01-03 10:00:00", 2, 5.0, "A"),  # 10
        line("1001", "17850.0", "2011-01-03 10:00:00", 1, 3.0, "B"),  # 3
        line("1001", "17850.0", "2011-01-03 10:00:00", 1, 3.0, "B"),  # exact duplicate
        line("C1002", "17850.0", "2011-01-04 09:00:00", -1, 3.0, "B"),  # cancellation: -3
        line("1003", "13047", "05.01.2011 11:30", 4, 2.5, "C"),  # 10, other date format
        line("1003", "13047", "2011-01-05 11:30:00", -2, 2.5, "C"),  # return on an ordinary invoice: -5
        line("1004", None, "2011-01-06 12:00:00", 9, 1.0, "D"),  # no customer id
        line("1005", "13047", "not a date", 1, 1.0, "E"),  # unreadable timestamp
        line("1006", "13047", "2011-01-10 08:00:00", 1, 7.0, "F"),  # 7
    ]
    return read_table(csv_bytes(pd.DataFrame(rows)), "log.csv")


def items(report) -> dict[str, int]:
    return {i.kind: i.count for i in report.items}


# --- detection and suggestions ---------------------------------------------------------


def test_detects_the_reference_marketing_table() -> None:
    det = detect_kind(read_table(sample_bytes(60, 3), "m.tsv"))
    assert det.kind == "marketing" and det.confidence == "high" and det.evidence


def test_detects_a_transaction_log() -> None:
    det = detect_kind(read_table(transactions_bytes(2_000, 1), "tx.csv"))
    assert det.kind == "transactions" and det.confidence == "high"
    assert any("CustomerID repeats" in e for e in det.evidence)
    assert any("Quantity × UnitPrice" in e for e in det.evidence)


def test_detects_a_customer_table() -> None:
    det = detect_kind(read_table(customer_table_bytes(80, 2), "crm.csv"))
    assert det.kind == "customer_table" and det.confidence == "high"
    assert any("Client Ref identifies customers" in e for e in det.evidence)


def test_unique_ids_with_dates_and_amounts_are_a_customer_table_not_a_log() -> None:
    table = pd.DataFrame(
        {"customer_id": ["1", "2", "3"], "signup_date": ["2020-01-01"] * 3, "total_spend": ["1", "2", "3"]}
    )
    det = detect_kind(table)
    assert det.kind == "customer_table"
    assert any("hardly repeats" in e for e in det.evidence)


def test_unrecognisable_columns_are_a_low_confidence_customer_table() -> None:
    det = detect_kind(pd.DataFrame({"a": ["1", "2"], "b": ["3", "4"]}))
    assert det.kind == "customer_table" and det.confidence == "low"
    assert "No customer id column was recognised." in det.evidence


def test_suggests_the_crm_mapping_from_names_and_types() -> None:
    table = read_table(customer_table_bytes(80, 2), "crm.csv")
    assert suggest_mapping(table) == CRM


def test_suggests_the_online_retail_mapping() -> None:
    table = read_table(transactions_bytes(1_000, 1), "tx.csv")
    assert suggest_mapping(table) == ONLINE_RETAIL


def test_synonyms_and_sums_of_several_columns() -> None:
    table = pd.DataFrame(
        {
            "client_id": ["a", "b", "c"],
            "revenue_food": ["1", "2", "3"],
            "revenue_drinks": ["4", "5", "6"],
            "visits": ["1", "2", "3"],
            "accepted_offers": ["0", "1", "0"],
            "signup": ["2020-01-01", "2021-03-04", "2019-12-31"],
            "Year_Birth": ["1970", "1980", "1990"],
            "segment_code": ["x", "x", "x"],
        }
    )
    m = suggest_mapping(table, "customer_table")
    assert m.id_column == "client_id"
    assert m.feature_columns == {
        "Customer_Value": ("revenue_food", "revenue_drinks"),
        "Purchase_Frequency": ("visits",),
        "Campaign_Response": ("accepted_offers",),
    }
    assert m.tenure_date_column == "signup"
    assert m.features == DEFAULT_FEATURES


def test_a_total_column_wins_over_its_parts() -> None:
    table = pd.DataFrame(
        {"id": ["1", "2"], "Total Spend": ["3", "4"], "Spend food": ["1", "2"], "Spend drinks": ["2", "2"]}
    )
    assert suggest_mapping(table, "customer_table").feature_columns["Customer_Value"] == ("Total Spend",)


def test_log_with_amount_column_and_campaign_flag() -> None:
    table = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2"],
            "created_at": ["2021-01-01 10:00", "2021-02-01 10:00", "2021-01-05 09:00", "2021-03-01 09:00"],
            "sales": ["10.5", "3", "7", "1"],
            "promo": ["", "SPRING", "", ""],
        }
    )
    m = suggest_mapping(table, "transactions")
    assert (m.id_column, m.timestamp_column, m.amount_column, m.campaign_column) == (
        "user_id",
        "created_at",
        "sales",
        "promo",
    )
    assert m.quantity_column is None and m.order_column is None
    assert m.features == DEFAULT_FEATURES


# --- the mapping file -------------------------------------------------------------------


@pytest.mark.parametrize("mapping", [CRM, ONLINE_RETAIL, Mapping("marketing")])
def test_mapping_json_round_trip(mapping: Mapping, tmp_path: Path) -> None:
    assert Mapping.from_json(mapping.to_json()) == mapping
    path = mapping.save(tmp_path / "sub" / "m.json")
    assert Mapping.load(path) == mapping
    assert Mapping.load(path).digest() == mapping.digest()


def test_hand_written_mapping_with_single_names_and_as_of() -> None:
    text = json.dumps(
        {
            "kind": "customer_table",
            "id_column": "Client Ref",
            "features": {
                "Customer_Value": "Total Spend",
                "Purchase_Frequency": ["Online orders"],
                "Campaign_Response": None,
            },
            "as_of": "2014-06-30",
        }
    )
    m = Mapping.from_json(text)
    assert m.feature_columns == {"Customer_Value": ("Total Spend",), "Purchase_Frequency": ("Online orders",)}
    assert m.features == ("Customer_Value", "Purchase_Frequency")
    assert m.as_of.isoformat() == "2014-06-30"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON \\(line 1"),
        ("[1, 2]", "must be a JSON object"),
        ('{"kind": "spreadsheet"}', "'kind' must be one of"),
        ('{"kind": "transactions", "amount": "x"}', "unknown key\\(s\\) for a transactions mapping: amount"),
        ('{"kind": "customer_table", "features": {"Spend": ["x"]}}', "unknown feature\\(s\\) Spend"),
        ('{"kind": "customer_table", "features": {"Customer_Value": 3}}', "Customer_Value must be null, a column"),
        ('{"kind": "marketing", "as_of": "soon"}', "'as_of' must be a date"),
        ('{"format": "something-else", "kind": "marketing"}', "is not a column mapping"),
        ('{"kind": "marketing", "version": 9}', "mapping version 9"),
    ],
)
def test_bad_mapping_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        Mapping.load(path)


def test_missing_or_binary_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="File not found"):
        Mapping.load(tmp_path / "nope.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="not a text file"):
        Mapping.load(tmp_path / "bin.json")


def test_cache_key_covers_bytes_and_mapping(tmp_path: Path) -> None:
    raw = customer_table_bytes(60, 4)
    s = Settings(models_dir=tmp_path)
    a = dataset_from_bytes(raw, "crm.csv", s, CRM)
    b = dataset_from_bytes(raw, "crm.csv", s, CRM.replace(recency_column=None))
    assert a.data_hash != b.data_hash != data_hash(raw)
    assert dataset_from_bytes(raw, "crm.csv", s, CRM).data_hash == a.data_hash
    # the reference table read without a mapping keeps its old cache key
    assert load_dataset(None, s).data_hash == data_hash(sample_bytes(s.sample_rows, s.sample_seed))


# --- transaction-log quirks -------------------------------------------------------------


def test_each_quirk_is_handled_and_counted(quirky_log: pd.DataFrame) -> None:
    customers, report = aggregate_transactions(quirky_log, ONLINE_RETAIL)
    got = items(report)
    assert got["duplicate_lines"] == 1
    assert got["missing_customer_id"] == 1
    assert got["date_unparsed"] == 1
    assert got["date_formats_mixed"] == 1
    assert got["cancelled_lines"] == 1
    assert got["return_lines"] == 1
    assert report.rows_read == 9 and report.rows_kept == 6
    assert report.rows_dropped == report.count("dropped") == 3
    by_id = customers.set_index("ID")
    assert list(by_id.index) == ["17850", "13047"]
    # 17850: 10 + 3 bought, 3 cancelled; one order (the cancellation is not one)
    assert by_id.loc["17850", "Customer_Value"] == pytest.approx(10.0)
    assert by_id.loc["17850", "Purchase_Frequency"] == 1
    # 13047: 10 bought, 5 returned, 7 bought; two orders (1003, 1006)
    assert by_id.loc["13047", "Customer_Value"] == pytest.approx(12.0)
    assert by_id.loc["13047", "Purchase_Frequency"] == 2
    # as of the latest line (2011-01-10): first purchases on the 3rd and 5th, last on the 3rd and 10th
    assert by_id.loc["17850", "Recency"] == 7 and by_id.loc["13047", "Recency"] == 0
    assert by_id.loc["17850", "Customer_For_Years"] == pytest.approx(7 / 365.25)
    assert "Campaign_Response" not in customers


def test_the_mixed_format_date_is_read_day_first_in_its_own_format(quirky_log: pd.DataFrame) -> None:
    customers, _ = aggregate_transactions(quirky_log, ONLINE_RETAIL)
    assert customers.set_index("ID").loc["13047", "Enrolled"] == pd.Timestamp("2011-01-05")


def test_without_order_ids_an_order_is_a_distinct_timestamp(quirky_log: pd.DataFrame) -> None:
    customers, report = aggregate_transactions(quirky_log, ONLINE_RETAIL.replace(order_column=None))
    by_id = customers.set_index("ID")
    # without invoice numbers nothing marks the cancellation: it is a return
    assert "cancelled_lines" not in items(report) and items(report)["return_lines"] == 2
    assert by_id.loc["17850", "Purchase_Frequency"] == 1 and by_id.loc["13047", "Purchase_Frequency"] == 2


def test_cancellation_prefix_needs_numeric_order_ids() -> None:
    rows = [line(f"CX-{i}", "1", f"2011-01-0{i} 10:00", 1) for i in range(1, 4)]
    customers, report = aggregate_transactions(pd.DataFrame(rows), ONLINE_RETAIL)
    assert "cancelled_lines" not in items(report)
    assert customers["Purchase_Frequency"].tolist() == [3]


def test_only_returns_drops_the_customer_and_negative_net_is_clipped() -> None:
    rows = [
        line("1", "A", "2011-01-01 10:00", 1, 5.0),
        line("2", "A", "2011-01-02 10:00", -3, 5.0),  # returned more than bought: net -10
        line("3", "B", "2011-01-03 10:00", -1, 5.0),  # only a return
        line("4", "C", "2011-01-04 10:00", 2, 5.0),
    ]
    customers, report = aggregate_transactions(pd.DataFrame(rows), ONLINE_RETAIL)
    got = items(report)
    assert got["customers_without_purchase"] == 1 and got["value_clipped"] == 1
    assert customers.set_index("ID")["Customer_Value"].to_dict() == {"A": 0.0, "C": 10.0}


def test_campaign_response_counts_distinct_flagged_orders() -> None:
    rows = [
        {**line("1", "A", "2011-01-01 10:00", 1), "Promo": "SPRING"},
        {**line("1", "A", "2011-01-01 10:00", 2, item="B"), "Promo": "SPRING"},
        {**line("2", "A", "2011-01-05 10:00", 1), "Promo": ""},
        {**line("3", "A", "2011-01-07 10:00", 1), "Promo": "1"},
        {**line("4", "B", "2011-01-07 10:00", 1), "Promo": "no"},
    ]
    customers, _ = aggregate_transactions(pd.DataFrame(rows), ONLINE_RETAIL.replace(campaign_column="Promo"))
    assert customers.set_index("ID")["Campaign_Response"].to_dict() == {"A": 2.0, "B": 0.0}


def test_lines_after_the_as_of_date_are_dropped(quirky_log: pd.DataFrame) -> None:
    import datetime as dt

    customers, report = aggregate_transactions(quirky_log, ONLINE_RETAIL, as_of=dt.date(2011, 1, 5))
    assert items(report)["after_as_of"] == 1
    assert customers.set_index("ID").loc["13047", "Purchase_Frequency"] == 1


def test_generated_log_counts_match_an_independent_count() -> None:
    log = generate_transactions(3_000, 5)
    table = read_table(csv_bytes(log), "g.csv")
    customers, report = aggregate_transactions(table, ONLINE_RETAIL)
    got = items(report)
    dup = table.duplicated()
    assert got["duplicate_lines"] == dup.sum()
    no_id = ~dup & table["CustomerID"].isna()
    assert got["missing_customer_id"] == no_id.sum()
    bad_date = ~dup & ~no_id & (table["InvoiceDate"] == "not recorded")
    assert got.get("date_unparsed", 0) == bad_date.sum()
    kept = table[~dup & ~no_id & ~bad_date]
    assert got["cancelled_lines"] == kept["InvoiceNo"].str.startswith("C").sum()
    bought = kept[~kept["InvoiceNo"].str.startswith("C") & (kept["Quantity"].astype(int) > 0)]
    ids = bought["CustomerID"].str.replace(".0", "", regex=False)
    assert set(customers["ID"]) == set(ids)
    freq = bought.assign(ID=ids).groupby("ID")["InvoiceNo"].nunique()
    assert customers.set_index("ID")["Purchase_Frequency"].sort_index().tolist() == freq.sort_index().tolist()
    assert report.rows_dropped == report.count("dropped")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),  # customer
            st.integers(1, 6),  # order number
            st.integers(0, 40),  # day
            st.integers(1, 20),  # quantity
            st.sampled_from([0.5, 1.0, 2.25, 9.99]),  # unit price
        ),
        min_size=1,
        max_size=60,
    )
)
def test_aggregation_invariants(rows: list[tuple[str, int, int, int, float]]) -> None:
    frame = pd.DataFrame(
        {
            "InvoiceNo": [f"{c}{o}" for c, o, *_ in rows],  # an order belongs to one customer
            "Quantity": [str(q) for *_, q, _ in rows],
            "InvoiceDate": [(pd.Timestamp("2020-01-01") + pd.Timedelta(days=d)).isoformat() for _, _, d, _, _ in rows],
            "UnitPrice": [str(p) for *_, p in rows],
            "CustomerID": [c for c, *_ in rows],
            "Line": [str(i) for i in range(len(rows))],  # no duplicates
        }
    )
    customers, report = aggregate_transactions(frame, ONLINE_RETAIL)
    amounts = frame["Quantity"].astype(int) * frame["UnitPrice"].astype(float)
    assert customers["Customer_Value"].sum() == pytest.approx(round(amounts.sum(), 2), abs=0.01 * len(customers))
    lines = frame.groupby("CustomerID").size()
    by_id = customers.set_index("ID")
    assert (by_id["Purchase_Frequency"] <= lines[by_id.index]).all()
    assert (by_id["Purchase_Frequency"] == frame.groupby("CustomerID")["InvoiceNo"].nunique()[by_id.index]).all()
    assert set(by_id.index) == set(frame["CustomerID"])
    assert (by_id["Customer_For_Years"] >= 0).all() and (by_id["Recency"] >= 0).all()
    assert report.rows_kept == len(frame)


# --- value parsing -------------------------------------------------------------------


def test_mixed_timestamp_formats_each_read_in_their_own_format() -> None:
    values = pd.Series(["12/1/2010 8:26", "1/13/2011 10:15", "2011-03-04 10:15:00", "04.03.2011 09:00", "x", None])
    parsed = parse_timestamps(values)
    assert parsed.values.tolist()[:4] == [
        pd.Timestamp("2010-12-01 08:26"),
        pd.Timestamp("2011-01-13 10:15"),
        pd.Timestamp("2011-03-04 10:15"),
        pd.Timestamp("2011-03-04 09:00"),
    ]
    assert parsed.secondary.tolist() == [False, False, True, True, False, False]
    assert parsed.unreadable.tolist() == [False, False, False, False, True, False]


def test_numbers_flags_and_ids() -> None:
    nums, bad = read_numbers(pd.Series(["$1,234.50", "12,50", "1.234,56", "-3", "abc", None, " 7 "]))
    assert nums.tolist()[:4] == [1234.5, 12.5, 1234.56, -3.0] and nums.tolist()[6] == 7.0
    assert bad.tolist() == [False, False, False, False, True, False, False]
    assert to_flag(pd.Series(["1", "0", "yes", "No", "SPRING10", "", None])).tolist() == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
    ]
    assert to_ids(pd.Series(["17850.0", " 12 ", "", None])).tolist()[:2] == ["17850", "12"]


# --- customer tables, leaving a feature out ----------------------------------------------


def test_crm_table_builds_the_mapped_features_and_profile() -> None:
    table = read_table(customer_table_bytes(120, 3), "crm.csv")
    v = validate_table(table, CRM, Settings(), "crm.csv")
    assert v.ok, v.problems
    assert list(v.customers.columns) == ["ID", *DEFAULT_FEATURES, "Recency", "Enrolled"]
    assert v.n_customers == 120 and items(v.report)["blank_rows"] == v.report.rows_read - 120
    raw = generate_customer_table(120, 3).dropna(subset=["Client Ref"])
    expected = raw["Online orders"] + raw["Store orders"]
    assert v.customers["Purchase_Frequency"].tolist() == expected.tolist()


def test_leaving_out_campaign_trains_on_three_features(tmp_path: Path) -> None:
    raw = customer_table_bytes(400, 8)
    mapping = CRM.replace(feature_columns={k: v for k, v in CRM.feature_columns.items() if k != "Campaign_Response"})
    s = Settings(models_dir=tmp_path)
    ds = dataset_from_bytes(raw, "crm.csv", s, mapping)
    run = settings_for_dataset(ds, s)
    assert run.features == ("Customer_Value", "Purchase_Frequency", "Customer_For_Years")
    result = train(ds, run)
    segs = result.artifact.manifest["segments"]
    assert [f["name"] for f in result.artifact.manifest["features"]] == list(run.features)
    assert len({s["key"] for s in segs}) == len({s["name"] for s in segs}) == 4
    # no name claims anything about campaigns, which are not known
    for seg in segs:
        assert "Campaign_Response" not in ARCHETYPE_BY_KEY[seg["archetype"]].requires
        assert "response" not in seg["evidence"]


def test_two_features_and_no_profile_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(90)],
            "spend": np.r_[rng.normal(100, 10, 45), rng.normal(900, 50, 45)].round(2).astype(str),
            "orders": np.r_[rng.poisson(2, 45), rng.poisson(12, 45)].astype(str),
        }
    )
    s = Settings(models_dir=tmp_path, k=3)
    ds = dataset_from_bytes(csv_bytes(table), "two.csv", s)
    assert ds.kind == "customer_table" and ds.features == ("Customer_Value", "Purchase_Frequency")
    result = train(ds, settings_for_dataset(ds, s))
    names = [seg["name"] for seg in result.artifact.manifest["segments"]]
    assert len(set(names)) == 3
    assert all(seg["profile"] == {} for seg in result.artifact.manifest["segments"])


def test_naming_candidates_keep_the_four_feature_behaviour() -> None:
    core = [a.key for a in candidate_archetypes(DEFAULT_FEATURES, 4)]
    assert core == ["high_value_loyal", "high_spend_low_engagement", "new_occasional", "low_value"]
    assert len(candidate_archetypes(DEFAULT_FEATURES, 5)) == 7
    no_campaign = {
        a.key for a in candidate_archetypes(("Customer_Value", "Purchase_Frequency", "Customer_For_Years"), 4)
    }
    assert "high_spend_low_engagement" not in no_campaign and "campaign_responsive" not in no_campaign


def test_a_single_feature_is_refused() -> None:
    table = pd.DataFrame({"customer_id": ["1", "2", "3"], "spend": ["1", "2", "3"]})
    one = Mapping("customer_table", id_column="customer_id", feature_columns={"Customer_Value": ("spend",)})
    with pytest.raises(DataError, match="at least two features are needed to segment; the mapping provides 1"):
        dataset_from_bytes(csv_bytes(table), "one.csv", Settings(k=2), one)


# --- the data page's order of calls and the command line ---------------------------------


def test_ui_flow_validate_then_build_without_rereading(tmp_path: Path) -> None:
    raw = transactions_bytes(3_000, 4)
    s = Settings(models_dir=tmp_path)
    table = read_table(raw, "tx.csv")
    det = detect_kind(table)
    mapping = suggest_mapping(table, det.kind)
    v = validate_table(table, mapping, s, "tx.csv")
    assert v.ok and v.to_dict()["n_customers"] == v.n_customers > 0
    json.dumps(v.to_dict())
    ds = dataset_from_validation(v, raw)
    assert ds.data_hash == dataset_from_bytes(raw, "tx.csv", s, mapping).data_hash
    assert train(ds, settings_for_dataset(ds, s)).artifact.manifest["data"]["kind"] == "transactions"


def test_cli_trains_a_log_without_mapping_and_reports_customers(tmp_path: Path, capsys) -> None:
    log = generate_transactions(4_000, 11)
    path = tmp_path / "log.csv"
    path.write_bytes(csv_bytes(log))
    code = main(["train", "--data", str(path), "--json", "--models-dir", str(tmp_path / "m")])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    usable = log[log["InvoiceDate"].ne("not recorded") & log["CustomerID"].notna()]
    bought = usable[~usable["InvoiceNo"].str.startswith("C") & (usable["Quantity"].astype(int) > 0)]
    assert out["n_customers"] == bought["CustomerID"].nunique()
    assert out["data_quality"]["rows_read"] == 4_000
    assert out["features"] == ["Customer_Value", "Purchase_Frequency", "Customer_For_Years", "Recency"]


def test_cli_renamed_customer_table_with_a_mapping_file(tmp_path: Path, capsys) -> None:
    renamed = generate_customer_table(300, 6).rename(
        columns={
            "Client Ref": "k",
            "Total Spend": "c1",
            "Online orders": "c2",
            "Store orders": "c3",
            "Member since": "d",
        }
    )
    data = tmp_path / "crm.csv"
    data.write_bytes(to_text_bytes(renamed, ","))
    assert main(["train", "--data", str(data), "--models-dir", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--mapping" in err and "could not all be mapped automatically" in err

    Mapping(
        "customer_table",
        id_column="k",
        feature_columns={"Customer_Value": ("c1",), "Purchase_Frequency": ("c2", "c3")},
        tenure_date_column="d",
    ).save(tmp_path / "map.json")
    args = ["train", "--data", str(data), "--mapping", str(tmp_path / "map.json"), "--json"]
    assert main([*args, "--models-dir", str(tmp_path / "m")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_customers"] == 300
    assert out["features"] == ["Customer_Value", "Purchase_Frequency", "Customer_For_Years"]


def test_cli_mapping_command_writes_an_editable_suggestion(tmp_path: Path, capsys) -> None:
    data = tmp_path / "crm.csv"
    data.write_bytes(customer_table_bytes(50, 2))
    assert main(["mapping", "--data", str(data), "--out", str(tmp_path / "m.json")]) == 0
    assert "wrote the suggested customer_table mapping" in capsys.readouterr().out
    assert Mapping.load(tmp_path / "m.json") == CRM


def test_cli_bad_mapping_file_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "m.json").write_text("{oops")
    data = tmp_path / "crm.csv"
    data.write_bytes(customer_table_bytes(30, 2))
    assert main(["train", "--data", str(data), "--mapping", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: m.json is not valid JSON") and err.count("\n") == 1


def test_marketing_sample_path_is_unchanged(tmp_path: Path) -> None:
    frame, _ = generate_sample(100, 2)
    ds = dataset_from_bytes(to_text_bytes(frame), "m.tsv", Settings(models_dir=tmp_path))
    assert ds.kind == "marketing" and ds.mapping is None and ds.data_hash == data_hash(to_text_bytes(frame))
    assert ds.features == DEFAULT_FEATURES


def test_a_damaged_marketing_table_keeps_the_missing_columns_error() -> None:
    frame, _ = generate_sample(50, 1)
    raw = to_text_bytes(frame.rename(columns={"MntWines": "MntWine"}))
    det = detect_kind(read_table(raw, "m.tsv"))
    assert det.kind == "customer_table" and any("MntWines (closest: MntWine)" in e for e in det.evidence)
    with pytest.raises(DataError, match=r"m.tsv is missing 1 required column\(s\): MntWines \(closest: MntWine\)"):
        dataset_from_bytes(raw, "m.tsv", Settings())
