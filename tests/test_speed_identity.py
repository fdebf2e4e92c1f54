"""The 1,000,000-customer shortcuts (issue #12) give exactly what the plain way gives.

* the pyarrow reader for large text tables and the C parser clean a dirty
  marketing table (BOM, semicolons, quoted fields, missing values, mixed date
  formats, junk numbers) into the same customers and the same report;
* Nelder-Mead, which uses no gradient, gets the spend model's likelihood
  without it: the same value to the bit, so the same fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.churn import bgnbd, gamma_gamma
from pipeline.data import coerce, loading, reading
from pipeline.synthetic.customers import generate_sample, to_text_bytes


def dirty_table() -> pd.DataFrame:
    frame, _ = generate_sample(120, seed=11)
    frame = frame.astype({c: object for c in frame.columns})
    frame.loc[3, "Dt_Customer"] = "2013-02-05"  # another date format
    frame.loc[4, "Dt_Customer"] = "7/3/2013"
    frame.loc[5, "Dt_Customer"] = "not a date"
    frame.loc[6, "Income"] = "$1,234"
    frame.loc[7, "Income"] = "12,50"
    frame.loc[8, "MntWines"] = "lots"
    frame.loc[9, "Education"] = 'PhD, "cum laude"'  # a quoted field with the separator and quotes
    frame.loc[10, "Marital_Status"] = "YOLO"
    frame.loc[11, "Income"] = None
    frame.loc[12, "ID"] = None
    return frame


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_arrow_and_c_parser_clean_to_the_same_customers(sep: str, bom: bytes, monkeypatch) -> None:
    raw = bom + to_text_bytes(dirty_table(), sep) + sep.join([""] * 29).encode() + b"\n"  # and a blank row
    plain, plain_report = loading.clean_marketing(reading.read_table(raw, "t.csv"), "t.csv")
    monkeypatch.setattr(reading, "ARROW_MIN_BYTES", 0)
    arrow_table = reading.read_table(raw, "t.csv")
    fast, fast_report = loading.clean_marketing(arrow_table, "t.csv")
    pd.testing.assert_frame_equal(fast, plain)
    assert fast_report == plain_report
    kinds = {i.kind for i in plain_report.items}
    assert {"blank_rows", "not_a_number", "date_unparsed", "category_regrouped", "ids_missing"} <= kinds


def test_cleaning_leaves_the_table_it_was_given_unchanged() -> None:
    table = reading.read_table(to_text_bytes(dirty_table(), ","), "t.csv")
    before = table.copy()
    loading.clean_marketing(table, "t.csv")
    pd.testing.assert_frame_equal(table, before)


def _spend_data() -> gamma_gamma._Spend:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 12, 500).astype(float)
    m = rng.gamma(4.0, 20.0, 500)
    return gamma_gamma._Spend.build(x, m, np.ones(500))


@pytest.mark.parametrize("log_params", [[0.1, 0.5, 2.0], [-3.0, 9.0, 20.0], [2.0, -1.0, -4.0]])
@pytest.mark.parametrize("penalizer", [0.0, 1e-3])
def test_value_without_gradient_is_the_same_number(log_params: list[float], penalizer: float) -> None:
    z = np.array(log_params)
    data = _spend_data()
    full, grad = gamma_gamma._neg_log_likelihood(z, data, penalizer)
    assert gamma_gamma._neg_log_likelihood_value(z, data, penalizer) == full
    assert grad.shape == (3,)


def test_nelder_mead_on_the_value_only_finds_the_same_point() -> None:
    # Spend per purchase proportional to the purchases: no finite maximum, L-BFGS-B gives up
    # and Nelder-Mead runs (its full budget).
    x = np.repeat(np.arange(1.0, 6.0), 40)
    m = 5.0 * x
    data = gamma_gamma._Spend.build(x, m, np.ones(x.size))
    x0 = np.log([1.0, 2.0, 10.0])

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        return gamma_gamma._neg_log_likelihood(z, data, 0.0)

    calls = {"value": 0}

    def value(z: np.ndarray) -> float:
        calls["value"] += 1
        return gamma_gamma._neg_log_likelihood_value(z, data, 0.0)

    plain = bgnbd.minimise(fun, x0, 200, 1e-9)
    fast = bgnbd.minimise(fun, x0, 200, 1e-9, value=value)
    assert calls["value"] > 100  # Nelder-Mead ran on the value only
    np.testing.assert_array_equal(fast.x, plain.x)
    assert fast.fun == plain.fun


texts = st.lists(
    st.one_of(st.none(), st.sampled_from(["", " ", "1", " 1", "1 ", "1.0", "a", "\\t2,5 ", "NA"]), st.text(max_size=4)),
    max_size=30,
)


@given(texts, st.booleans())
@settings(max_examples=200, deadline=None)
def test_distinct_text_is_factorize_of_the_stripped_text(values: list, blank_is_missing: bool) -> None:
    for dtype in (object, "str", "string"):
        series = pd.Series(values, dtype=dtype, index=range(7, 7 + len(values)))
        text = series.astype("string").str.strip()
        if blank_is_missing:
            text = text.mask(text == "")
        codes, uniques = pd.factorize(text)
        got_codes, got_uniques = coerce.distinct_text(series, blank_is_missing)
        np.testing.assert_array_equal(got_codes, codes)
        assert list(got_uniques) == list(uniques)


@given(texts)
@settings(max_examples=100, deadline=None)
def test_numbers_and_dates_read_per_distinct_value_as_per_row(values: list) -> None:
    series = pd.Series(values, dtype=object)
    nums, bad = coerce.read_numbers(series)
    per_row = [coerce.read_numbers(pd.Series([v], dtype=object)) for v in values]
    np.testing.assert_array_equal(nums.to_numpy(), np.array([n.iloc[0] for n, _ in per_row], dtype=float))
    assert bad.tolist() == [bool(b.iloc[0]) for _, b in per_row]
    parsed, _ = coerce.parse_dates(series)
    assert list(parsed.index) == list(series.index)
