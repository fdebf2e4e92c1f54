"""The executive report as a PDF: headless Chromium (Debian's ``chromium``) prints the HTML.

The page size (A4 landscape), margins, page numbers and the footer with the
data set and model version come from the HTML's CSS ``@page`` rules, so the
PDF and the HTML are the same document.  Chromium runs with a throw-away
profile, no network services and a time limit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.errors import SegmentationError

#: Where Debian installs Chromium; ``$CHROMIUM`` overrides.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ENV = "CHROMIUM"
#: Seconds Chromium may take to print the report.
PRINT_TIMEOUT_S = 120


class ChromiumMissing(SegmentationError):
    """No Chromium to print the PDF with."""


def find_chromium() -> str:
    """The Chromium executable (``$CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on the PATH).

    Raises
    ------
    ChromiumMissing
        None is installed.
    """
    for candidate in (os.environ.get(CHROMIUM_ENV), DEFAULT_CHROMIUM, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ChromiumMissing(
        "A PDF report needs Chromium, which is not installed (looked for $CHROMIUM and /usr/bin/chromium). "
        "Install it (Debian/Ubuntu: apt-get install chromium) or write .html or .pptx instead."
    )


def html_to_pdf(html: str, out: Path, chromium: str | None = None) -> Path:
    """Print ``html`` to the PDF file ``out`` with headless Chromium.

    Raises
    ------
    ChromiumMissing
        No Chromium.
    SegmentationError
        Chromium failed or timed out (its last message is included).
    """
    exe = chromium or find_chromium()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise SegmentationError(f"Chromium did not finish printing the PDF within {PRINT_TIMEOUT_S} s.") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
            raise SegmentationError(f"Chromium could not print the PDF (exit {done.returncode}: {last[0]}).")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_name(f".{out.name}.tmp")
        shutil.copyfile(pdf, tmp_out)
        os.replace(tmp_out, out)
    return out
