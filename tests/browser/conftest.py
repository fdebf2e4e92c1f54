"""Real-browser fixtures: the app served by ``python -m dashboard`` in a subprocess,
driven by Playwright in Debian's headless Chromium.

Without Chromium (or Playwright) the browser tests are skipped, except in CI
(``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.screenshots import CHROMIUM, CHROMIUM_ARGS, free_port
from pipeline.config import Settings
from pipeline.segmentation.training import TrainResult

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

try:
    from playwright.sync_api import expect

    # Waits for states, never sleeps: 30 s, so a loaded shared machine does not fail a state that comes late.
    expect.set_options(timeout=30_000)
except ImportError:
    if IN_CI:
        raise
    # Outside CI, no Playwright means no browser tests (they import it at module level).
    collect_ignore_glob = ["test_*.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


def start_server(settings: Settings, extra_args: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``python -m dashboard`` on a free port and wait until it answers.

    The server's log goes to a file under ``settings.data_dir``: an unread pipe
    would fill up and stall the server after a few hundred requests.
    """
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "dashboard",
        "--port",
        str(port),
        "--models-dir",
        str(settings.models_dir),
        "--data-dir",
        str(settings.data_dir),
        *(extra_args or []),
    ]
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    log_path = Path(settings.data_dir) / f"server-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("dashboard did not start within 90 s")


@pytest.fixture(scope="session")
def live_server(settings: Settings, trained: TrainResult) -> Iterator[str]:
    """Base URL of a dashboard serving the trained sample."""
    proc, url = start_server(settings)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextlib.contextmanager
def checked_page(browser, base_url: str, height: int = 720) -> Iterator[object]:
    """A page in a fresh browser context at 1280 px wide; fails the test on console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": height}, base_url=base_url)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert not errors, f"browser console errors: {errors}"


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:
    """A fresh browser context + page at 1280×720; fails the test on console errors."""
    with checked_page(browser, live_server) as pg:
        yield pg
