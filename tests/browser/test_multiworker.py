"""Several worker processes: one browser session served by different workers sees one state.

``python -m dashboard --workers 2`` forks two gunicorn workers that share only
the files on disk; the access log names the worker (pid) of every request.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from playwright.sync_api import expect

from dashboard.services import ArtifactView
from pipeline.config import Settings
from pipeline.segmentation.training import TrainResult

from .conftest import start_server


def test_two_workers_serve_one_session(browser, settings: Settings, trained: TrainResult) -> None:
    proc, url = start_server(settings, ["--workers", "2"])
    log = Path(settings.data_dir) / f"server-{url.rsplit(':', 1)[1]}.log"
    try:
        deadline = time.monotonic() + 30
        while len(psutil.Process(proc.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # gunicorn forks workers one by one; the first answers at once
        assert len(psutil.Process(proc.pid).children()) == 2
        context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=url)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        segments = ArtifactView(trained.artifact).segments
        page.goto("/simulator")
        for seg in (segments[0], segments[-1], segments[1]):
            page.locator("#sim-preset").get_by_role("button", name=seg["name"], exact=True).click()
            expect(page.locator("#sim-segment-name")).to_have_text(seg["name"])
        page.get_by_role("link", name="Overview").click()
        expect(page.locator("#overview-segment-cards")).to_contain_text(segments[0]["name"])
        context.close()
        assert not errors, errors

        # Concurrent requests spread over the workers; every one succeeds.
        def get(_: int) -> int:
            with urllib.request.urlopen(url + "/_dash-layout", timeout=30) as resp:
                return resp.status

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(get, range(40))) == {200}
        pids = set(re.findall(r'pid=<?(\d+)>? "(?:GET|POST) /_dash', log.read_text()))
        assert len(pids) == 2, f"requests were served by {pids}:\n{log.read_text()[-1500:]}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
