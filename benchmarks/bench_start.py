"""``python -m benchmarks.bench_start [--rows 1000000 ...] [--repeat 3]``: start to HTTP 200, model cached.

For the built-in sample (2,240 customers) and for each ``--rows N`` table
(written once by ``python -m pipeline sample --rows N``, as in
:mod:`benchmarks.bench_train`), the app is started once to train its model
(and remember the file's fingerprint, :mod:`pipeline.store.fingerprints`),
then ``repeat`` more times on the same models folder (``--models-dir`` reuses
one that already holds the models, so the first start need not train): the time from launching
``python -m dashboard`` until ``GET /`` answers 200 (interpreter start and
imports included), the server's CPU seconds and peak memory at that moment.
Target (issue #12): under 1 s whatever the data size.

What the start leaves to the first requests (scikit-learn, the artifact's
customers and model, Plotly's templates; see :mod:`dashboard.app`) is
measured too: "first page s" is the time from launch until the landing
page's data callback (KPIs, chart, segment cards) has answered, asked right
after the 200 as a browser would.

Python bytecode: the server processes write and reuse compiled modules in
a temporary cache (``PYTHONPYCACHEPREFIX``), as an installed package has
them, even when the environment sets ``PYTHONDONTWRITEBYTECODE``
(compiling this project's ~140 modules on every start costs about 0.3 s);
``--no-bytecode-cache`` measures with the environment as it is.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dashboard import ids

from .bench_train import sample_file
from .common import ROOT, load, median, print_table

TARGET_S = 1.0
TIMEOUT_S = 600.0
#: The landing page's data callback (dashboard/pages/overview.py ``render``): its output string starts so.
LANDING_OUTPUT = "..overview-kpis.children"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(port: int) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _first_page(port: int) -> None:
    """Ask for the landing page's data as the browser does after loading ``/`` (raises unless it answers 200)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", "/_dash-dependencies")
        deps = json.loads(conn.getresponse().read())
        dep = next(d for d in deps if d["output"].startswith(LANDING_OUTPUT))
        outputs = [
            dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in dep["output"][2:-2].split("...")
        ]
        # A new browser: no model version chosen (the default one), the light theme.
        inputs = [{**i, "value": "light" if i["id"] == ids.THEME else None} for i in dep["inputs"]]
        body = {"output": dep["output"], "outputs": outputs, "inputs": inputs, "changedPropIds": [], "state": []}
        conn.request("POST", "/_dash-update-component", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"the landing page's data answered {response.status}")
    finally:
        conn.close()


def _proc_usage(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak MB) of a running process, from /proc."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    peak = 0.0
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cpu, peak


def start_once(
    models: Path, data_dir: Path, data: Path | None, pycache: Path | None
) -> tuple[float, float, float, float]:
    """(seconds to HTTP 200, server CPU seconds then, server peak MB then, seconds to the first page's data) of one fresh server."""
    port = _free_port()
    cmd = [sys.executable, "-m", "dashboard", "--port", str(port), "--models-dir", str(models)]
    cmd += ["--data-dir", str(data_dir)] + (["--data", str(data)] if data is not None else [])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            while _status(port) != 200:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the server stopped:\n{log.read()[-2000:]}")
                if time.perf_counter() - start > TIMEOUT_S:
                    raise RuntimeError(f"no HTTP 200 within {TIMEOUT_S:.0f} s")
                time.sleep(0.02)
            seconds = time.perf_counter() - start
            cpu, peak = _proc_usage(proc.pid)
            _first_page(port)
            first_page = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(30)
    return seconds, cpu, peak, first_page


def _rows(path: Path) -> int:
    """Data lines of a text table (lines after the header)."""
    with open(path, "rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--rows", type=int, nargs="*", default=[], help="also start on generated tables of these sizes")
    p.add_argument("--data", type=Path, nargs="*", default=[], help="also start on these customer tables")
    p.add_argument("--models-dir", type=Path, help="models folder to reuse (default: a new one per table)")
    p.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the environment's PYTHONDONTWRITEBYTECODE (default: servers reuse compiled modules, as installed)",
    )
    args = p.parse_args(argv)
    print(f"bench_start: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pycache = None if args.no_bytecode_cache else Path(tmp) / "pycache"
        tables = [(None, 2240), *((sample_file(n), n) for n in args.rows), *((f, _rows(f)) for f in args.data)]
        for i, (data, size) in enumerate(tables):
            models, data_dir = args.models_dir or Path(tmp) / f"models-{i}", Path(tmp) / f"data-{i}"
            first = start_once(models, data_dir, data, pycache)  # trains (or reuses) and remembers the file
            runs = [start_once(models, data_dir, data, pycache) for _ in range(args.repeat)]
            seconds = [r[0] for r in runs]
            ok = median(seconds) < TARGET_S
            rows.append(
                [
                    "built-in sample" if data is None else data.name,
                    f"{size:,}",
                    f"{first[0]:.2f}",
                    f"{median(seconds):.2f}",
                    f"{min(seconds):.2f}–{max(seconds):.2f}",
                    f"{median([r[1] for r in runs]):.2f}",
                    f"{max(r[2] for r in runs):.0f}",
                    f"{median([r[3] for r in runs]):.2f}",
                    f"< {TARGET_S:.0f} s",
                    "pass" if ok else "FAIL",
                ]
            )
    print_table(
        f"python -m dashboard: start to HTTP 200 on /, model cached, median of {args.repeat} fresh processes",
        [
            "data",
            "rows",
            "first start s",
            "median s",
            "range s",
            "CPU s",
            "peak MB",
            "first page s",
            "target",
            "result",
        ],
        rows,
    )
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
