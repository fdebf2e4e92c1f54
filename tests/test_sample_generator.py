"""The built-in sample's spend: no pile-up at the cap, deterministic, customers under the cap untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.synthetic.customers import SPEND_CAP, SPEND_COLUMNS, below_cap, generate_sample


def _spend(frame: pd.DataFrame) -> pd.Series:
    return frame[list(SPEND_COLUMNS)].apply(pd.to_numeric, errors="coerce").sum(axis=1)


def test_no_spike_at_the_top_of_spend() -> None:
    frame, _ = generate_sample()
    spend = _spend(frame)
    # clipping used to put 141 customers at $2,590-2,600 (35 at exactly $2,598)
    assert int((spend >= 2_590).sum()) == 1
    assert spend.max() == 2_596
    assert spend.value_counts()[spend.max()] == 1
    # the top $100 holds no more customers than the $100 below it
    assert int(spend.between(2_500, 2_599).sum()) <= int(spend.between(2_400, 2_499).sum())


def test_sample_is_deterministic() -> None:
    a, truth_a = generate_sample(300, seed=5)
    b, truth_b = generate_sample(300, seed=5)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(truth_a, truth_b)


def test_only_customers_over_the_cap_are_redrawn() -> None:
    base = np.array([1_000.0, 2_000.0, 3_000.0, 2_600.0])
    noise = np.array([0.0, 0.1, 0.0, 0.5])
    out = below_cap(base, noise.copy(), seed=1)
    assert out[0] == 1_000.0  # under the cap: unchanged
    assert out[1] == 2_000.0 * np.exp(0.1)
    assert (out[2:] < SPEND_CAP).all()  # over the cap: redrawn below it, not clipped onto it
    assert np.array_equal(out, below_cap(base, noise.copy(), seed=1))  # same seed, same values
    assert not np.array_equal(out, below_cap(base, noise.copy(), seed=2))
