"""The shortcuts for a million customers give the same answers as the plain way on small inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.churn import measure
from pipeline.config import Settings
from pipeline.data import loading, reading
from pipeline.data.coerce import parse_dates
from pipeline.segmentation.training import load_dataset
from pipeline.synthetic.customers import sample_bytes

QUIRKY = [
    b'\xef\xbb\xbfID\tName\tIncome\n1\t a b \t100\n\n2\tNA\t\n3\t"q,\tx"\tN/A\n4\tnull\tNone\n',
    b'ID,Name,Income\r\n1,x,1\r\n2,,\r\n\r\n3,"a ""b""",3\r\n',
    b"ID;Name;Income\n1;x;1\n2;y\n",  # a short row: pyarrow refuses it, the C parser fills it
    "ID;Name\n1;caf\xe9\n".encode("cp1252"),  # not UTF-8: the usual path decodes it
    b"\n\n\nID,Name\n1,2\n",
]


@pytest.mark.parametrize("raw", [sample_bytes(300, 5), *QUIRKY])
def test_arrow_reader_reads_what_the_c_parser_reads(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    c_parser = reading.read_table(raw, "t.csv")
    monkeypatch.setattr(reading, "ARROW_MIN_BYTES", 0)
    pd.testing.assert_frame_equal(reading.read_table(raw, "t.csv"), c_parser)


def test_ragged_long_row_keeps_the_c_parser_message(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b"ID,Name\n1,x\n2,y,extra,more\n"
    with pytest.raises(Exception) as plain:
        reading.read_table(raw, "t.csv")
    monkeypatch.setattr(reading, "ARROW_MIN_BYTES", 0)
    with pytest.raises(type(plain.value), match="Expected 2 fields in line 3, saw 4"):
        reading.read_table(raw, "t.csv")


def test_dates_are_ranked_by_rows_not_by_distinct_values() -> None:
    # two distinct day-first dates on four rows against three distinct ISO dates on three rows
    values = pd.Series(["01-02-2013"] * 3 + ["05-06-2012", "2013-02-03", "2013-02-04", "2013-02-05", None, " "])
    parsed, fmt = parse_dates(values)
    assert fmt == "%d-%m-%Y+mixed"
    expected = ["2013-02-01"] * 3 + ["2012-06-05", "2013-02-03", "2013-02-04", "2013-02-05"]
    assert [d.date().isoformat() for d in parsed[:7]] == expected
    assert parsed[7:].isna().all() and list(parsed.index) == list(values.index)


def test_blank_rows_are_rows_with_nothing_but_whitespace() -> None:
    frame = pd.DataFrame(
        {"a": ["1", None, " ", "", None], "b": [None, None, "  ", None, "y"], "c": [None, None, "\t", "", None]},
        index=[5, 6, 7, 8, 9],
    )
    assert loading._blank_rows(frame).to_dict() == {5: False, 6: True, 7: True, 8: True, 9: False}


def test_purchase_model_on_a_sample_above_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    dataset = load_dataset(None, settings)
    whole = measure.measure_churn(dataset.customers, dataset.kind, dataset.as_of, settings)
    monkeypatch.setattr(measure, "MAX_BGNBD_FIT", 1000)
    capped = measure.measure_churn(dataset.customers, dataset.kind, dataset.as_of, settings)
    assert whole.n_customers_fitted == len(dataset.customers) == 2240
    assert capped.n_customers_fitted == 1000
    assert "fitted on a random sample of 1,000 of 2,240 customers" in " ".join(capped.assumptions)
    assert not any("random sample of" in a and "purchase model" in a for a in whole.assumptions)
    assert np.isfinite(capped.p_alive).all() and len(capped.p_alive) == 2240
    assert isinstance(dataset.as_of, dt.date)
