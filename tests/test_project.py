"""The fresh-machine path: README commands, CI and pinned requirements agree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [b.strip() for b in blocks if "\n" not in b.strip()]


def test_readme_has_the_two_one_line_commands() -> None:
    cmds = readme_commands()
    assert "pip install -r requirements.txt && python -m dashboard" in cmds
    assert any(c.startswith("pip install -r requirements-dev.txt && ") and "pytest" in c for c in cmds)


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    test_cmd = next(c for c in readme_commands() if "pytest" in c)
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in lines
    assert "apt-get install -y -qq chromium chromium-driver >/dev/null" in lines


def test_requirements_are_pinned() -> None:
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-spark.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), f"{name}: {line!r} is not pinned"


def test_imports_do_no_work(tmp_path: Path) -> None:
    """Importing the packages must not train, read data or create models/ or data/."""
    import os
    import subprocess
    import sys

    code = "import pipeline, pipeline.segmentation.training, pipeline.cli, pipeline.synthetic.customers, dashboard.app"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_hanging_test_fails_with_its_traceback_instead_of_holding_the_run(tmp_path: Path) -> None:
    """pytest-timeout is installed and this project's ``timeout`` applies (here lowered to 1 s to see it act)."""
    import subprocess
    import sys

    (tmp_path / "test_hang.py").write_text("import time\n\ndef test_hangs():\n    time.sleep(60)\n")
    ini = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^timeout = \d+$", ini, flags=re.M), "pyproject.toml sets no per-test timeout"
    (tmp_path / "pyproject.toml").write_text(re.sub(r"^timeout = \d+$", "timeout = 1", ini, flags=re.M))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_hang.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "Timeout (>1.0s)" in proc.stdout and "time.sleep(60)" in proc.stdout, proc.stdout[-2000:]
