"""The executive report: one story (:mod:`.story`), rendered as HTML, PDF or PowerPoint.

:func:`write_report` is the one entry point used by the CLI (``python -m
pipeline report``) and the app's report job.  Renderers are imported inside
it so that importing this package stays cheap.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from pipeline.errors import DataError
from pipeline.reports.branding import Logo
from pipeline.reports.story import ReportStory, build_story
from pipeline.store.artifacts import LoadedArtifact

#: Report formats by file suffix.
FORMATS: tuple[str, ...] = (".html", ".pdf", ".pptx")


def report_format(path: str | Path) -> str:
    """The report format of an output path (``".html"``, ``".pdf"`` or ``".pptx"``).

    Raises
    ------
    DataError
        Any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"Cannot write a report as {Path(path).name}: use a file ending in .html, .pdf or .pptx.")
    return suffix


def story_of(artifact: LoadedArtifact, brand: str | None = None, made_on: dt.date | None = None) -> ReportStory:
    """The report's numbers for a loaded (authenticated) model version."""
    return build_story(artifact.manifest, artifact.customers, brand, made_on)


def write_report(story: ReportStory, out: str | Path, logo: Logo | None = None) -> Path:
    """Render ``story`` to ``out`` in the format its suffix names; returns the path.

    Raises
    ------
    DataError
        Unknown suffix.
    pipeline.reports.pdf.ChromiumMissing
        A PDF was asked for and no Chromium is installed.
    """
    out = Path(out)
    kind = report_format(out)
    if kind == ".pptx":
        from pipeline.reports.pptx import render_pptx

        return render_pptx(story, out, logo)
    from pipeline.reports.html import render_html

    text = render_html(story, logo)
    if kind == ".pdf":
        from pipeline.reports.pdf import html_to_pdf

        return html_to_pdf(text, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out


__all__ = ["FORMATS", "Logo", "ReportStory", "build_story", "report_format", "story_of", "write_report"]
