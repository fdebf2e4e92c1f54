"""Main-thread work per page, from Chrome performance traces: ``python -m benchmarks.bench_trace [--runs 3] [--waterfall]``.

Wall-clock page timings are noisy on a shared machine; the browser's main
thread work is much less so.  For the landing page (``/`` opened in a fresh
browser context) and for a navbar switch from ``/`` to each 2-D page of
:data:`benchmarks.bench_app.SWITCH_PAGES` (fresh context, ``/`` loaded first),
this records a Chrome trace (``devtools.timeline``) from the navigation or
click until the page is done by :mod:`benchmarks.bench_app`'s definitions, and
prints the medians over ``--runs`` of:

* **main ms**: the renderer main thread's busy time (top-level tasks), and
  **main CPU ms**: the CPU time of those tasks (the trace's thread time: what
  the page itself costs, less inflated than wall time when other processes
  take the cores);
* **blocking ms**: the part of each task beyond 50 ms, summed (what
  Lighthouse's total blocking time counts), and the number of such long tasks;
* **compile ms**: V8 script compilation; **layout ms**: style and layout;
* **requests**: requests started before the page was done, and of those the
  ``/_dash-*`` round trips (layout, dependencies, callbacks);
* **wall ms**: the page's done time, for reference (noisy).

``--direct`` opens each page itself in a fresh context instead (what
Lighthouse measures).

``--waterfall`` prints, for the first run of each measurement, every request
with its start and end (ms from the navigation or the click) and, for a
callback, the outputs it fills.  Prints ``uptime`` before and after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bench_app import SWITCH_PAGES, uptime
from benchmarks.probes import CLICK_JS, FETCH_COUNTER_JS, OVERVIEW_DONE_JS, PAGE_DONE_JS
from dashboard.screenshots import VIEWPORT, launch_browser, prepare_models, serve

CATEGORIES = "devtools.timeline,disabled-by-default-devtools.timeline,v8,blink.user_timing"
#: Added with ``--js-profile``: JavaScript CPU samples in the saved traces (DevTools shows them per function; slower).
PROFILER = ",disabled-by-default-v8.cpu_profiler"
LONG_TASK_MS = 50.0
DASH_CALLS = ("/_dash-layout", "/_dash-dependencies", "/_dash-update-component")


@dataclass
class Run:
    """One traced page load or switch."""

    main_ms: float
    cpu_ms: float
    blocking_ms: float
    long_tasks: int
    compile_ms: float
    layout_ms: float
    wall_ms: float
    requests: list[tuple[float, float, str]] = field(default_factory=list)  # (start ms, end ms, what)

    @property
    def dash_requests(self) -> int:
        """Round trips to Dash (``/_dash-layout``, ``/_dash-dependencies``, ``/_dash-update-component``)."""
        return sum(1 for _s, _e, what in self.requests if what.startswith(DASH_CALLS))


def main_thread_stats(events: list[dict[str, Any]], start_us: float, end_us: float) -> dict[str, float]:
    """Busy, blocking, compile and layout ms of the busiest renderer main thread between two trace times."""
    threads = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"
    }
    per_thread: dict[tuple[int, int], list[dict[str, Any]]] = {t: [] for t in threads}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key in per_thread and e.get("ph") == "X" and start_us <= e.get("ts", 0) <= end_us:
            per_thread[key].append(e)

    def busy(evs: list[dict[str, Any]]) -> float:
        return sum(e.get("dur", 0) for e in evs if e["name"] == "RunTask") / 1000.0

    if not per_thread:
        return {"main_ms": 0.0, "cpu_ms": 0.0, "blocking_ms": 0.0, "long_tasks": 0, "compile_ms": 0.0, "layout_ms": 0.0}
    evs = max(per_thread.values(), key=busy)
    tasks = [e.get("dur", 0) / 1000.0 for e in evs if e["name"] == "RunTask"]
    compile_ms = sum(e.get("dur", 0) for e in evs if e["name"] in ("v8.compile", "v8.compileModule")) / 1000.0
    layout_ms = sum(e.get("dur", 0) for e in evs if e["name"] in ("Layout", "UpdateLayoutTree")) / 1000.0
    return {
        "main_ms": sum(tasks),
        "cpu_ms": sum(e.get("tdur", e.get("dur", 0)) for e in evs if e["name"] == "RunTask") / 1000.0,
        "blocking_ms": sum(max(0.0, t - LONG_TASK_MS) for t in tasks),
        "long_tasks": sum(1 for t in tasks if t > LONG_TASK_MS),
        "compile_ms": compile_ms,
        "layout_ms": layout_ms,
    }


def _trace_window(events: list[dict[str, Any]], mark: str) -> float:
    """Trace time (µs) of the ``console.timeStamp(mark)`` event."""
    for e in events:
        if e.get("name") == "TimeStamp" and (e.get("args", {}).get("data", {}) or {}).get("message") == mark:
            return float(e["ts"])
    raise RuntimeError(f"no TimeStamp {mark!r} in the trace")


def _what(request: Any) -> str:
    """``/_dash-update-component eda-corr-graph.figure,...`` or the path of a request."""
    path = "/" + request.url.split("/", 3)[-1].split("?")[0]
    if path.endswith("_dash-update-component"):
        try:
            output = (request.post_data_json or {}).get("output", "")
        except (ValueError, TypeError):
            output = ""
        return f"{path} {str(output)[:90]}"
    return path


#: Where :func:`traced` writes each raw trace (``--save-traces DIR``; open them in Chrome DevTools' Performance panel).
SAVE: dict[str, Any] = {"dir": None, "categories": CATEGORIES}


def traced(page: Any, action: Any, done: Any) -> Run:
    """Trace ``action()`` (a navigation or a click, returning its epoch ms) until ``done()`` returns the wall ms."""
    cdp = page.context.new_cdp_session(page)
    requests: list[tuple[float, float, str]] = []
    chunks: list[dict[str, Any]] = []
    cdp.on("Tracing.dataCollected", lambda p: chunks.extend(p["value"]))
    finished = {"done": False}
    cdp.on("Tracing.tracingComplete", lambda _p: finished.update(done=True))
    cdp.send("Tracing.start", {"categories": SAVE["categories"], "transferMode": "ReportEvents"})
    recorded: list[Any] = []

    def record(request: Any) -> None:
        recorded.append(request)

    page.on("requestfinished", record)
    t0_wall = action()
    wall_ms = done()
    page.evaluate("() => console.timeStamp('trace-done')")
    cdp.send("Tracing.end")
    while not finished["done"]:
        page.wait_for_timeout(50)  # the trace's chunks arrive as events; nothing to wait for in the page
    page.remove_listener("requestfinished", record)
    start_us = _trace_window(chunks, "trace-start")
    end_us = _trace_window(chunks, "trace-done")
    stats = main_thread_stats(chunks, start_us, end_us)
    if SAVE["dir"] is not None:
        name = f"trace-{len(list(SAVE['dir'].glob('trace-*.json'))):03d}.json"
        (SAVE["dir"] / name).write_text(json.dumps({"traceEvents": chunks, "window": [start_us, end_us]}))
    for r in recorded:
        t = r.timing
        begin = t["startTime"] - t0_wall
        if begin > wall_ms:
            continue
        requests.append((begin, begin + max(t.get("responseEnd", 0.0), 0.0), _what(r)))
    cdp.detach()
    return Run(wall_ms=wall_ms, requests=sorted(requests), **stats)


def trace_landing(browser: Any, url: str, path: str = "/") -> Run:
    """``path`` opened in a fresh browser context, from navigation until its charts on screen are drawn.

    ``/`` is done by :data:`~benchmarks.probes.OVERVIEW_DONE_JS`, other
    pages by :data:`~benchmarks.probes.PAGE_DONE_JS`.
    """
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(f"({FETCH_COUNTER_JS})()")
    page = context.new_page()
    page.goto("about:blank")

    def action() -> float:
        page.evaluate("() => console.timeStamp('trace-start')")
        page.goto(url + path, wait_until="commit")
        return float(page.evaluate("() => performance.timeOrigin"))  # epoch ms of the navigation

    def done() -> float:
        if path == "/":
            page.wait_for_function(OVERVIEW_DONE_JS, polling="raf", timeout=60_000)
        else:
            page.wait_for_function(PAGE_DONE_JS, arg=[path, ""], polling="raf", timeout=60_000)
        return float(page.evaluate("() => window.__doneAt"))

    try:
        return traced(page, action, done)
    finally:
        context.close()


def trace_switch(browser: Any, url: str, path: str, done_js: str = PAGE_DONE_JS) -> Run:
    """A navbar click from ``/`` to ``path`` in a fresh context, until the page is done (``done_js``)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(f"({FETCH_COUNTER_JS})()")
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_function(OVERVIEW_DONE_JS, polling="raf", timeout=60_000)
    page.wait_for_load_state("networkidle")
    before = page.evaluate("() => document.querySelector('#_pages_content h1').textContent")
    t0 = {"ms": 0.0}

    def action() -> float:
        page.evaluate("() => console.timeStamp('trace-start')")
        t0["ms"] = float(page.evaluate(CLICK_JS, path))
        return float(page.evaluate("() => performance.timeOrigin")) + t0["ms"]  # epoch ms of the click

    def done() -> float:
        page.wait_for_function(done_js, arg=[path, before], polling="raf", timeout=60_000)
        return float(page.evaluate("() => window.__doneAt")) - t0["ms"]

    try:
        return traced(page, action, done)
    finally:
        context.close()


def summarise(name: str, runs: list[Run]) -> list[str]:
    """One table row of medians."""

    def med(attr: str) -> float:
        return statistics.median(float(getattr(r, attr)) for r in runs)

    return [
        name,
        str(len(runs)),
        f"{med('main_ms'):.0f}",
        f"{med('cpu_ms'):.0f}",
        f"{med('blocking_ms'):.0f} ({med('long_tasks'):.0f})",
        f"{med('compile_ms'):.0f}",
        f"{med('layout_ms'):.0f}",
        f"{statistics.median(len(r.requests) for r in runs):.0f} ({med('dash_requests'):.0f})",
        f"{med('wall_ms'):.0f}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Trace the landing page and the 2-D page switches; print the table."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_trace", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pages", nargs="*", default=["/", *SWITCH_PAGES], help="/ (landing) and switch targets")
    p.add_argument(
        "--direct", action="store_true", help="open every page directly in a fresh context (as Lighthouse does)"
    )
    p.add_argument("--waterfall", action="store_true", help="print the requests of each first run")
    p.add_argument("--json", type=Path, default=None, help="also write every run to this file")
    p.add_argument("--save-traces", type=Path, default=None, help="write every raw trace to this folder")
    p.add_argument("--js-profile", action="store_true", help="with --save-traces: sample JavaScript too")
    args = p.parse_args(argv)
    if args.js_profile:
        SAVE["categories"] = CATEGORIES + PROFILER
    if args.save_traces:
        args.save_traces.mkdir(parents=True, exist_ok=True)
        SAVE["dir"] = args.save_traces
    from playwright.sync_api import sync_playwright

    print(f"uptime before: {uptime()}")
    results: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as tmp:
        models_dir, data_dir = prepare_models(Path(tmp))
        with sync_playwright() as pw, serve(models_dir, data_dir) as (_proc, url):
            browser = launch_browser(pw)
            try:
                trace_landing(browser, url)  # the server's first answers, not counted
                for path in args.pages:
                    direct = path == "/" or args.direct
                    name = f"fresh context: {path}" if direct else f"switch / → {path}"
                    results[name] = [
                        trace_landing(browser, url, path) if direct else trace_switch(browser, url, path)
                        for _ in range(args.runs)
                    ]
            finally:
                browser.close()
    cols = [
        "measurement",
        "n",
        "main ms",
        "main CPU ms",
        "blocking ms (long tasks)",
        "compile ms",
        "layout ms",
        "requests (dash)",
    ]
    cols.append("wall ms")
    rows = [summarise(name, runs) for name, runs in results.items()]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)))
    if args.waterfall:
        for name, runs in results.items():
            print(f"\n{name} (first run): start–end ms, request")
            for start, end, what in runs[0].requests:
                print(f"  {start:7.0f} {end:7.0f}  {what}")
    if args.json:
        args.json.write_text(json.dumps({k: [r.__dict__ for r in v] for k, v in results.items()}, indent=1))
    print(f"uptime after: {uptime()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
