"""Four concurrent train requests over HTTP against ``python -m dashboard --workers 2`` (issue 8, finding 4).

Four people (four cookie jars, so four owners) press "Train and use" on /models at the same moment, with
the server limited to one running job (``SEGMENTS_MAX_JOBS=1``).  The requests land on both gunicorn
workers; the limit lives in the state database, so it holds across them: one job runs, three wait with
their place in line, all four finish, and no job process is left behind (running or as a zombie).  No
browser is needed, but a live server is, so the test lives with the browser tests.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import sqlite3
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from pipeline.config import Settings
from pipeline.store.db import database_path

from .conftest import start_server

TRAIN_TIMEOUT_S = 240  # under the suite's 300 s per test (pyproject.toml); it takes about 20 s


class Client:
    """One browser's worth of HTTP: its own cookies (so its own owner), Dash callback calls."""

    def __init__(self, url: str, dependencies: list[dict[str, Any]]) -> None:
        self.url = url
        self.deps = dependencies
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.opener.open(url + "/models", timeout=60).read()  # gets the session cookie (the owner)

    def call(self, trigger: str, value: Any, state: dict[str, Any]) -> dict[str, Any]:
        """Run the callback whose only input is ``trigger`` (``"id.prop"``); its response by id and property."""
        dep = next(d for d in self.deps if [f"{i['id']}.{i['property']}" for i in d["inputs"]] == [trigger])
        outputs = []
        for part in dep["output"].strip(".").split("..."):
            cid, prop = part.rsplit(".", 1)
            outputs.append({"id": cid, "property": prop})
        cid, prop = trigger.rsplit(".", 1)
        payload = {
            "output": dep["output"],
            "outputs": outputs,
            "inputs": [{"id": cid, "property": prop, "value": value}],
            "state": [{**s, "value": state.get(s["id"])} for s in dep["state"]],
            "changedPropIds": [trigger],
        }
        req = urllib.request.Request(
            self.url + "/_dash-update-component", json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        with self.opener.open(req, timeout=120) as resp:
            return json.loads(resp.read())["response"]


def job_states(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT state, COUNT(*) FROM jobs WHERE kind = 'train' GROUP BY state").fetchall())
    finally:
        conn.close()


def cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def test_four_concurrent_train_requests_over_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(models_dir=tmp_path / "models", data_dir=tmp_path / "data")
    monkeypatch.setenv("SEGMENTS_MAX_JOBS", "1")
    proc, url = start_server(settings, ["--workers", "2"])
    try:
        deps = json.loads(urllib.request.urlopen(url + "/_dash-dependencies", timeout=60).read())
        clients = [Client(url, deps) for _ in range(4)]
        barrier = threading.Barrier(4, timeout=60)  # a thread that fails first breaks it for the rest
        jobs: dict[int, dict[str, Any]] = {}

        def press_train(i: int) -> None:
            choice = {"models-choice-model": "kmeans", "models-choice-k": 3 + i, "models-choice-scaling": "standard"}
            barrier.wait()
            out = clients[i].call("models-train.n_clicks", 1, choice)
            jobs[i] = out["models-train-job"]["data"]

        threads = [threading.Thread(target=press_train, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(job and job.get("id") for job in jobs.values()), jobs

        db = database_path(settings)
        first = job_states(db)
        assert first.get("running", 0) <= 1
        assert first.get("queued", 0) == 4 - first.get("running", 0) - first.get("done", 0) >= 2
        captions = [
            clients[i].call("models-train-poll.n_intervals", 1, {"models-train-job": jobs[i]}) for i in range(4)
        ]
        waiting = [c["models-progress-text"]["children"] for c in captions if "models-progress-text" in c]
        assert any("in line" in text for text in waiting), waiting

        most_running, done, deadline = 0, {}, time.monotonic() + TRAIN_TIMEOUT_S
        while len(done) < 4:
            most_running = max(most_running, job_states(db).get("running", 0))
            for i in range(4):
                if i not in done:
                    out = clients[i].call("models-train-poll.n_intervals", 1, {"models-train-job": jobs[i]})
                    if out["models-train-poll"]["disabled"]:  # the job ended: polling stopped
                        done[i] = out
            assert time.monotonic() < deadline, job_states(db)
            time.sleep(0.5)
        assert most_running == 1
        for i, out in done.items():
            assert out["models-trained"]["data"]["id"], out
            assert f"k = {3 + i}" in json.dumps(out["models-train-status"]["children"])
        assert job_states(db) == {"done": 4}

        # Every job process was reaped: none left under the server, none a zombie.
        time.sleep(1.0)
        left = [p for p in tree(proc.pid) if "spawn_main" in " ".join(cmdline(p))]  # job children
        assert not left, [cmdline(p) for p in left]
        zombies = []
        for p in tree(proc.pid):
            with contextlib.suppress(psutil.Error):
                zombies += [p.pid] if p.status() == psutil.STATUS_ZOMBIE else []
        assert not zombies
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
