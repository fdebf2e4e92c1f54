"""The side-by-side benchmark's pure parts: run order, percentiles, the report row and its refusals."""

from __future__ import annotations

import pytest

from benchmarks import bench_ab


def test_rounds_alternate_which_side_goes_first() -> None:
    assert bench_ab.abba(4) == [("old", "new"), ("new", "old"), ("old", "new"), ("new", "old")]
    # each side goes first in half the rounds (an odd count: the old side once more)
    first = [order[0] for order in bench_ab.abba(5)]
    assert first.count("old") == 3 and first.count("new") == 2
    assert bench_ab.abba(0) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 9.1),  # position 0.9 * 9 = 8.1: 9 + 0.1 * (10 - 9)
        ([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 9.1),  # order does not matter
        ([5], 5),
        ([3, 1], 2.8),  # position 0.9: 1 + 0.9 * (3 - 1)
        (list(range(1, 17)), 14.5),  # 16 runs: position 13.5
    ],
)
def test_p90_is_bench_apps_interpolated_percentile(values: list[float], expected: float) -> None:
    # the same p90 as bench_app's tables, so the two can be read side by side
    assert bench_ab.percentile(values, 90) == pytest.approx(expected)


def test_the_row_gives_medians_p90s_and_the_difference_in_ms() -> None:
    old = [0.990, 0.900, 0.950, 0.930]
    new = [0.940, 0.956, 0.950, 0.960]
    # medians 0.940 and 0.953 s; p90 at position 2.7: 0.95 + 0.7 * 0.04 = 0.978 and 0.956 + 0.7 * 0.004 = 0.9588 s
    assert bench_ab.summary_row("landing", old, new) == [
        "landing",
        "4",
        "940 ms",
        "978 ms",
        "953 ms",
        "959 ms",
        "+13 ms",
    ]
    assert bench_ab.summary_row("/explorer", [0.7], [0.68])[-1] == "-20 ms"


def test_measures_are_landing_or_a_page_path() -> None:
    assert bench_ab.parse_measures(["landing", "/explorer", "/eda"]) == ["landing", "/explorer", "/eda"]
    with pytest.raises(ValueError, match="not a measure: explorer, fast"):
        bench_ab.parse_measures(["explorer", "landing", "fast"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["HEAD", "--measure", "explorer"], "not a measure: explorer"),
        (["HEAD", "--runs", "0"], "--runs must be at least 1"),
        (["no-such-revision-0a9f"], "not a revision of this repository: no-such-revision-0a9f"),
    ],
)
def test_bad_arguments_are_refused_before_any_server_starts(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench_ab.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
