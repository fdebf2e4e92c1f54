"""``score`` refuses what ``train`` refuses (issue 8, finding 6) and writes through the safe writer."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.segmentation.training import TrainResult, dataset_from_bytes, validate_for_scoring
from pipeline.synthetic.customers import generate_sample, to_text_bytes

ROOT = Path(__file__).resolve().parents[1]
NUMERIC_SOURCES = [
    "Income",
    "MntWines",
    "MntFruits",
    "MntMeatProducts",
    "MntFishProducts",
    "MntSweetProducts",
    "MntGoldProds",
    "NumDealsPurchases",
    "NumWebPurchases",
    "NumCatalogPurchases",
    "NumStorePurchases",
    "AcceptedCmp1",
    "AcceptedCmp2",
    "AcceptedCmp3",
    "AcceptedCmp4",
    "AcceptedCmp5",
    "Response",
]


def words_table(rows: int = 60) -> pd.DataFrame:
    """The sample with every column a feature is computed from replaced by words."""
    frame, _ = generate_sample(rows, 11)
    frame = frame.copy()
    for c in NUMERIC_SOURCES:
        frame[c] = "many"
    return frame


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("score")
    frame, _ = generate_sample(80, 12)
    (root / "good.tsv").write_bytes(to_text_bytes(frame))
    (root / "words.tsv").write_bytes(to_text_bytes(words_table()))
    return root


def test_all_text_features_are_refused(trained: TrainResult, settings: Settings) -> None:
    ds = dataset_from_bytes(to_text_bytes(words_table()), "words.tsv", settings)
    with pytest.raises(DataError, match="the feature Customer_Value has no values") as err:
        validate_for_scoring(ds, trained.artifact.manifest)
    assert "Purchase_Frequency has no values" in str(err.value)
    assert "Campaign_Response has no values" in str(err.value)


def test_as_of_before_the_first_enrolment_is_refused(trained: TrainResult, settings: Settings) -> None:
    frame, _ = generate_sample(60, 13)
    raw = to_text_bytes(frame)
    first = dataset_from_bytes(raw, "x.tsv", settings).customers["Enrolled"].min().date()
    for as_of in (dt.date(1, 1, 1), first - dt.timedelta(days=1)):
        ds = dataset_from_bytes(raw, "x.tsv", settings.replace(as_of=as_of))
        with pytest.raises(DataError, match=f"before the first enrolment in x.tsv \\({first.isoformat()}\\)"):
            validate_for_scoring(ds, trained.artifact.manifest)
    # On the first enrolment day itself it is accepted (boundary).
    validate_for_scoring(dataset_from_bytes(raw, "x.tsv", settings.replace(as_of=first)), trained.artifact.manifest)


def test_missing_feature_and_empty_table_are_refused(trained: TrainResult, settings: Settings) -> None:
    frame, _ = generate_sample(40, 14)
    ds = dataset_from_bytes(to_text_bytes(frame), "x.tsv", settings)
    manifest = {**trained.artifact.manifest, "features": [*trained.artifact.manifest["features"], {"name": "Nope"}]}
    with pytest.raises(DataError, match="lacks the model's feature\\(s\\): Nope"):
        validate_for_scoring(ds, manifest)
    empty = type(ds)(**{**ds.__dict__, "customers": ds.customers.iloc[:0]})
    with pytest.raises(DataError, match="has no customers to score"):
        validate_for_scoring(empty, trained.artifact.manifest)


def test_a_constant_feature_and_few_customers_are_fine_for_scoring(trained: TrainResult, settings: Settings) -> None:
    frame, _ = generate_sample(40, 15)
    ds = dataset_from_bytes(to_text_bytes(frame), "x.tsv", settings)
    one = type(ds)(**{**ds.__dict__, "customers": ds.customers.iloc[:1]})
    validate_for_scoring(one, trained.artifact.manifest)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=180
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "words.tsv", "--out", "o.csv"], "the feature Customer_Value has no values"),
        (["--data", "good.tsv", "--out", "o.csv", "--as-of", "0001-01-01"], "before the first enrolment"),
        (["--data", "good.tsv", "--out", "o.txt"], "must end in .csv, .xlsx, .parquet"),
    ],
)
def test_cli_score_refusals(trained: TrainResult, scratch: Path, args: list[str], message: str) -> None:
    proc = run_cli("score", "--model", str(trained.artifact.directory), *args, cwd=scratch)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not list(scratch.glob("o.*"))


def test_cli_score_writes_xlsx_through_the_safe_writer(trained: TrainResult, scratch: Path) -> None:
    proc = run_cli(
        "score", "--model", str(trained.artifact.directory), "--data", "good.tsv", "--out", "out/s.xlsx", cwd=scratch
    )
    assert proc.returncode == 0, proc.stderr
    book = openpyxl.load_workbook(io.BytesIO((scratch / "out" / "s.xlsx").read_bytes()))
    assert book.sheetnames[:2] == ["Summary", "All customers"]
    sheet = book["All customers"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID", "Segment_Key", "Segment_Name")
    assert len(rows) == 81
    names = {s["name"] for s in trained.artifact.manifest["segments"]}
    assert {r[2] for r in rows[1:]} <= names
