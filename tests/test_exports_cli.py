"""``python -m pipeline score --out FILE``: the format follows the suffix; refusals write nothing.

Without ``--model``, ``score`` uses the newest model trained on the same data
(same data hash) and otherwise the built-in sample's model, naming it and
``--model`` when the data do not fit it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.data.export import sheet_names
from pipeline.segmentation.assignments import COLUMNS
from pipeline.segmentation.training import TrainResult
from pipeline.synthetic.customers import generate_sample, to_text_bytes
from pipeline.synthetic.inputs import transactions_bytes


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, trained: TrainResult) -> Path:
    """good.tsv (30 sample customers), log.csv (a transaction log) and models/ holding the sample's model."""
    root = tmp_path_factory.mktemp("score-out")
    frame, _ = generate_sample(30, 21)
    (root / "good.tsv").write_bytes(to_text_bytes(frame))
    (root / "log.csv").write_bytes(transactions_bytes(1_200, seed=123))
    (root / "models").mkdir()
    (root / "models" / trained.artifact.artifact_id).symlink_to(trained.artifact.directory)
    return root


def score(folder: Path, *args: str) -> int:
    return main(["score", "--models-dir", str(folder / "models"), *args])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_suffix_picks_the_format(folder: Path, trained: TrainResult, suffix: str, capsys) -> None:
    out = folder / f"out{suffix}"
    assert score(folder, "--data", str(folder / "good.tsv"), "--out", str(out)) == 0
    assert f"using the built-in sample's model {trained.artifact.artifact_id}" in capsys.readouterr().out
    raw = out.read_bytes()
    if suffix == ".csv":
        frame = pd.read_csv(io.BytesIO(raw))
    elif suffix == ".parquet":
        frame = pd.read_parquet(io.BytesIO(raw))
    else:
        book = openpyxl.load_workbook(io.BytesIO(raw))
        rows = list(book["All customers"].iter_rows(values_only=True))
        frame = pd.DataFrame(rows[1:], columns=rows[0])
        names = list(frame.drop_duplicates("Segment_Key")["Segment_Name"])
        # One sheet per segment ("High Spend – Low Campaign Engagement" is cut to Excel's 31 characters).
        assert sorted(book.sheetnames) == sorted(sheet_names(["Summary", "All customers", *names]))
    assert list(frame.columns)[: len(COLUMNS)] == list(COLUMNS) and len(frame) == 30
    assert set(frame["Model_Version"]) == {trained.artifact.artifact_id}


@pytest.mark.parametrize("name", ["out.json", "out", "out.xls", "out.csv.gz"])
def test_unsupported_suffix_exits_2_and_writes_nothing(folder: Path, name: str, capsys) -> None:
    before = sorted(p.name for p in folder.iterdir())
    assert score(folder, "--data", str(folder / "good.tsv"), "--out", str(folder / name)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot write '{name}': the output must end in .csv, .xlsx, .parquet")
    assert err.count("\n") == 1 and sorted(p.name for p in folder.iterdir()) == before


def test_log_without_model_names_the_model_tried_then_uses_the_one_trained_on_it(
    folder: Path, trained: TrainResult, capsys
) -> None:
    log, out = str(folder / "log.csv"), str(folder / "log-out.csv")
    assert score(folder, "--data", log, "--out", out) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: No model trained on log.csv was found in {folder / 'models'}, so the built-in sample's model "
        f"{trained.artifact.artifact_id} was tried: log.csv lacks the model's feature(s): Campaign_Response. "
        f"Train one on this data (python -m pipeline train --data {log}) or choose a model with "
        "--model <artifact folder>.\n"
    )
    assert not Path(out).exists()
    assert main(["train", "--data", log, "--models-dir", str(folder / "models"), "--json"]) == 0
    trained_id = json.loads(capsys.readouterr().out)["artifact"]["id"]
    assert score(folder, "--data", log, "--out", out) == 0
    assert f"using model {trained_id}, the newest trained on log.csv" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert set(frame["Model_Version"]) == {trained_id} and frame["p_alive"].notna().all()
    assert "Recency" in frame.columns  # the log's model clusters days since the last purchase too
