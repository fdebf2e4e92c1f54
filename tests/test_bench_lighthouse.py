"""bench_lighthouse's bookkeeping of runs, without Lighthouse: a failed try is made again, within a budget."""

from __future__ import annotations

import subprocess

from benchmarks.bench_lighthouse import collect_runs


def scripted(outcomes: list[object]):
    """A run that returns or raises the next outcome, and the list of tries made."""
    tries: list[int] = []

    def run() -> dict[str, float]:
        tries.append(1)
        outcome = outcomes[len(tries) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return {"score": float(outcome)}  # type: ignore[arg-type]

    return run, tries


def test_a_failed_try_is_made_again_until_the_wanted_runs_are_in() -> None:
    run, tries = scripted([90, RuntimeError("lighthouse failed on /x:\nNO_NAVSTART"), 91, 92, 99])
    runs, errors = collect_runs(run, wanted=3, attempts=6)
    assert [r["score"] for r in runs] == [90, 91, 92]
    assert errors == ["NO_NAVSTART"]
    assert len(tries) == 4  # no try after the third run


def test_the_budget_of_tries_bounds_a_page_that_keeps_failing() -> None:
    timeout = subprocess.TimeoutExpired(["npx"], 300)
    run, tries = scripted([RuntimeError("a\nfirst"), 80, timeout, RuntimeError(""), 81, 82])
    runs, errors = collect_runs(run, wanted=3, attempts=4)
    assert [r["score"] for r in runs] == [80]
    assert errors == ["first", str(timeout).splitlines()[-1], "RuntimeError"]
    assert len(tries) == 4


def test_no_budget_below_the_runs_wanted() -> None:
    run, _ = scripted([70, 71])
    runs, errors = collect_runs(run, wanted=2, attempts=1)
    assert [r["score"] for r in runs] == [70, 71] and errors == []
