"""README screenshots: every page of the app, light and dark, from headless Chromium.

``python -m dashboard.screenshots [--out assets/screenshots] [--data FILE]``

Starts ``python -m dashboard`` in a subprocess on scratch models/data folders
(the sample artifact is trained there first, so the app starts from a cached
model), reads the page list from the served navbar, and writes
``<page>-<theme>.png`` (``overview`` for ``/``) at 1280×720, full page.

The server and browser helpers here are shared with ``benchmarks.bench_app``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 720}
#: Used when the served navbar cannot be read.
DEFAULT_PAGES: tuple[str, ...] = ("/", "/eda", "/models", "/explorer", "/simulator", "/segments", "/data")
THEMES: tuple[str, ...] = ("light", "dark")
THEME_SWITCH = "#app-theme-switch"

# True once Dash has no callback in flight and every Plotly graph on the page has drawn.
SETTLED_JS = """() => {
    if (document.querySelector('[data-dash-is-loading="true"]')) return false;
    const content = document.querySelector('#_pages_content');
    if (!content || !content.children.length) return false;
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
        if (!gd._fullLayout) return false;
    }
    return true;
}"""


def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_models(root: Path, data: Path | None = None) -> tuple[Path, Path]:
    """Scratch ``models``/``data`` folders under ``root`` with the artifact and its comparison ready.

    Returns
    -------
    (models_dir, data_dir)
    """
    from pipeline.config import Settings
    from pipeline.segmentation.compare import load_or_run_comparison
    from pipeline.segmentation.training import load_dataset, settings_for_dataset, train

    settings = Settings(models_dir=root / "models", data_dir=root / "data")
    dataset = load_dataset(data, settings)
    settings = settings_for_dataset(dataset, settings)
    train(dataset, settings)
    # The models page would otherwise be captured while it computes.
    load_or_run_comparison(dataset, settings)
    return settings.models_dir, settings.data_dir


@contextlib.contextmanager
def serve(
    models_dir: Path,
    data_dir: Path,
    data: Path | None = None,
    timeout: float = 90.0,
    port: int | None = None,
    root: Path = ROOT,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``python -m dashboard`` on ``port`` (default: a free one) until the block ends.

    Readiness is polled on a static asset, so no page or callback is warmed up.
    ``root`` is the checkout whose code is served (``benchmarks.bench_ab`` serves
    an older revision beside this one).

    Yields
    ------
    (process, base_url)
    """
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "dashboard",
        "--port",
        str(port),
        "--models-dir",
        str(models_dir),
        "--data-dir",
        str(data_dir),
    ]
    if data is not None:
        cmd += ["--data", str(data)]
    # The request log goes to a file: a pipe nobody reads would fill up and block the server.
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"dashboard exited early:\n{log.read()[-4000:]}")
                try:
                    with urllib.request.urlopen(url + "/assets/app.css", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dashboard did not start within {timeout:.0f} s")
                time.sleep(0.1)
            yield proc, url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def layout_components(node: Any) -> Iterator[dict[str, Any]]:
    """Every component (``{"type", "namespace", "props"}``) of a layout as Dash serves it as JSON, depth first."""
    if isinstance(node, dict):
        if "type" in node and isinstance(node.get("props"), dict):
            yield node
        for value in node.values():
            yield from layout_components(value)
    elif isinstance(node, list):
        for value in node:
            yield from layout_components(value)


def page_paths(url: str) -> list[str]:
    """Paths of the pages the server registered, read from its navbar (fallback :data:`DEFAULT_PAGES`)."""
    try:
        with urllib.request.urlopen(url + "/_dash-layout", timeout=10) as resp:
            layout = json.load(resp)
    except (OSError, ValueError):
        return list(DEFAULT_PAGES)
    found: list[str] = []
    for component in layout_components(layout):
        href = component["props"].get("href") if component["type"] == "NavLink" else None
        if isinstance(href, str) and href.startswith("/") and href not in found:
            found.append(href)
    return found or list(DEFAULT_PAGES)


def page_name(path: str) -> str:
    """``/`` → ``overview``, ``/explorer`` → ``explorer``."""
    return path.strip("/").replace("/", "-") or "overview"


def launch_browser(playwright: Any) -> Any:
    """Headless Chromium (Debian's) driven by Playwright."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_settled(page: Any, timeout_ms: float = 30_000) -> None:
    """Wait until callbacks are done and graphs are drawn, then two more frames."""
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.wait_for_function(SETTLED_JS, polling="raf", timeout=timeout_ms)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


#: Scroll the page down one viewport per frame and back to the top: content mounted only once in view
#: (the EDA page's grid of flagged customers) is then on the full-page screenshot too.
SCROLL_THROUGH_JS = """async () => {
    const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight / 2) {
        window.scrollTo({top: y, behavior: 'instant'});  // Bootstrap makes scrolling smooth
        await frame();
    }
    window.scrollTo({top: 0, behavior: 'instant'});
    await frame();
}"""


def scroll_through(page: Any, timeout_ms: float = 30_000) -> None:
    """Scroll through the whole page as a reader would, then wait until what that mounted is drawn."""
    page.evaluate(SCROLL_THROUGH_JS)
    wait_settled(page, timeout_ms)


def is_not_found(page: Any) -> bool:
    """Dash pages answers unknown paths with its 404 layout."""
    text = page.locator("#_pages_content").inner_text(timeout=5_000)
    return "Page not found" in text[:200] or "404" in text[:200]


def set_theme(page: Any, theme: str) -> None:
    """Flip the navbar switch (persisted in the browser context) to ``theme``."""
    switch = page.locator(THEME_SWITCH)
    if (theme == "dark") != switch.is_checked():
        switch.set_checked(theme == "dark", force=True)
    page.wait_for_function(
        "t => document.documentElement.getAttribute('data-bs-theme') === t", arg=theme, timeout=10_000
    )


def capture(url: str, out: Path, paths: list[str] | None = None, themes: tuple[str, ...] = THEMES) -> list[Path]:
    """Write ``<page>-<theme>.png`` for every page and theme; returns the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    paths = paths or page_paths(url)
    written: list[Path] = []
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            for theme in themes:
                context = browser.new_context(viewport=VIEWPORT, base_url=url, device_scale_factor=1)
                page = context.new_page()
                page.goto("/")
                wait_settled(page)
                set_theme(page, theme)
                for path in paths:
                    page.goto(path)
                    wait_settled(page)
                    scroll_through(page)
                    if is_not_found(page):
                        print(f"skip {path}: not found", file=sys.stderr)
                        continue
                    page.mouse.move(0, 0)
                    target = out / f"{page_name(path)}-{theme}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
                    print(f"wrote {target}")
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Start the app on the sample (or ``--data``), capture every page in both themes."""
    p = argparse.ArgumentParser(prog="python -m dashboard.screenshots", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots", help="output folder")
    p.add_argument("--data", type=Path, help="customer table; default: built-in sample")
    p.add_argument("--pages", nargs="*", help="only these paths (default: every page the app serves)")
    p.add_argument("--themes", nargs="*", default=list(THEMES), choices=THEMES)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        models_dir, data_dir = prepare_models(Path(tmp), args.data)
        with serve(models_dir, data_dir, args.data) as (_proc, url):
            files = capture(url, args.out, args.pages, tuple(args.themes))
    print(f"{len(files)} screenshot(s) in {args.out}")
    return 0 if files else 1


if __name__ == "__main__":
    sys.exit(main())
