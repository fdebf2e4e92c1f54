"""Old and new side by side: ``python -m benchmarks.bench_ab REV [--runs 16] [--measure landing /explorer ...]``.

A change that saves 30 ms cannot be seen by running a benchmark before and
after it on a shared 2-core machine: the machine's speed drifts by more than
that between two runs.  This serves the code of revision ``REV`` (a git
worktree in a scratch folder) and the working tree at the same time, each
on its own built-in sample, and times the two alternately in fresh browser
contexts, in ABBA order (old-new, new-old, ...), so a drift in the machine's
speed falls on both alike.  One untimed round first warms both servers.

Measures (``--measure``): ``landing`` (the overview's charts drawn in a fresh
context, as ``bench_app``'s fresh landing row) and any navbar path, e.g.
``/explorer`` (a click from the overview until that page's charts are drawn,
as ``bench_app``'s fresh switch rows).  Prints per measure the median and
p90 of each side and the difference of the medians, with the machine's load.
Needs git, Playwright and Chromium (``requirements-dev.txt``).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from benchmarks.bench_app import fmt_seconds, percentile
from benchmarks.common import ROOT, load, print_table

#: What ``--measure`` accepts besides a path.
LANDING = "landing"


def abba(rounds: int) -> list[tuple[str, str]]:
    """The order of each round: ``old`` first in even rounds, ``new`` first in odd ones.

    ``abba(3)`` → ``[("old", "new"), ("new", "old"), ("old", "new")]``.
    """
    return [("old", "new") if i % 2 == 0 else ("new", "old") for i in range(rounds)]


def summary_row(measure: str, old: Sequence[float], new: Sequence[float]) -> list[str]:
    """A table row: the measure, each side's median and p90 (as ``bench_app`` gives them), and new minus old."""
    m_old, m_new = statistics.median(old), statistics.median(new)
    return [
        measure,
        str(len(old)),
        fmt_seconds(m_old),
        fmt_seconds(percentile(old, 90)),
        fmt_seconds(m_new),
        fmt_seconds(percentile(new, 90)),
        f"{1000 * (m_new - m_old):+.0f} ms",
    ]


def parse_measures(values: Sequence[str]) -> list[str]:
    """``--measure`` values checked: ``landing`` or a path starting with ``/``.

    Raises
    ------
    ValueError
        For anything else, naming it.
    """
    bad = [v for v in values if v != LANDING and not v.startswith("/")]
    if bad:
        raise ValueError(f"not a measure: {', '.join(bad)} (use 'landing' or a page path such as /explorer)")
    return list(values)


def revision_label(rev: str) -> str:
    """``REV`` as a short commit hash and its subject, for the report."""
    out = subprocess.run(
        ["git", "log", "-1", "--format=%h %s", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    return out[:90]


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A detached git worktree of ``rev`` in a scratch folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        path = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), rev], cwd=ROOT, check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


def timer(browser: object, measure: str) -> Callable[[str], float]:
    """A function timing ``measure`` once on a server's base URL, in seconds."""
    from benchmarks.bench_app import measure_landing_fresh, measure_switch_fresh  # Playwright only when run

    if measure == LANDING:
        return lambda url: measure_landing_fresh(browser, url, 1)[0]
    return lambda url: measure_switch_fresh(browser, url, 1, measure)[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_ab", description=__doc__.splitlines()[0])
    p.add_argument("rev", help="the old revision (a commit, branch or HEAD~1); the new side is the working tree")
    p.add_argument("--runs", type=int, default=16, help="timed runs per side and measure")
    p.add_argument("--measure", nargs="+", default=[LANDING], help="'landing' and/or page paths such as /explorer")
    args = p.parse_args(argv)
    try:
        measures = parse_measures(args.measure)
    except ValueError as err:
        p.error(str(err))
    if args.runs < 1:
        p.error("--runs must be at least 1")
    try:
        label = revision_label(args.rev)
    except (OSError, subprocess.CalledProcessError):
        p.error(f"not a revision of this repository: {args.rev}")
    from playwright.sync_api import sync_playwright

    from dashboard.screenshots import CHROMIUM, CHROMIUM_ARGS, serve

    print(f"old: {label}\nnew: the working tree of {ROOT}\nbefore: {load()}", flush=True)
    results: dict[str, dict[str, list[float]]] = {m: {"old": [], "new": []} for m in measures}
    with (
        worktree(args.rev) as old_root,
        tempfile.TemporaryDirectory(prefix="bench-ab-data-") as tmp,
        serve(Path(tmp, "old", "models"), Path(tmp, "old", "data"), timeout=300, root=old_root) as (_po, old_url),
        serve(Path(tmp, "new", "models"), Path(tmp, "new", "data"), timeout=300) as (_pn, new_url),
        sync_playwright() as pw,
    ):
        urls = {"old": old_url, "new": new_url}
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for measure in measures:
            once = timer(browser, measure)
            for side in ("old", "new"):  # untimed: each server's first requests
                once(urls[side])
            for order in abba(args.runs):
                for side in order:
                    results[measure][side].append(once(urls[side]))
        browser.close()
    rows = [summary_row(m, r["old"], r["new"]) for m, r in results.items()]
    header = ["measure", "n", "old median", "old p90", "new median", "new p90", "new - old"]
    print_table("Old and new side by side, alternating (fresh browser contexts)", header, rows)
    print(f"\nafter: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
