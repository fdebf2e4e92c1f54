"""Executive report: known answers of the story, one set of numbers across HTML/PDF/PPTX, refusals."""

from __future__ import annotations

import contextlib
import datetime as dt
import html.parser
import io
import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pptx import Presentation

from pipeline.cli import main
from pipeline.errors import DataError
from pipeline.reports import report_format, write_report
from pipeline.reports.branding import MAX_LOGO_BYTES, load_logo, logo_from_bytes
from pipeline.reports.story import build_story

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def tiny_png(width: int = 2, height: int = 1) -> bytes:
    """A valid RGB PNG made by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def tiny_manifest(churn: bool = True) -> dict:
    """Two segments of 4 customers: A (3 customers, spend 10+20+30) and B (1 customer, spend 180)."""
    seg_churn = (
        {
            "a": {"share_likely_inactive": 1 / 3, "mean_p_alive": 0.6, "mean_clv": 50.0, "value_at_risk": 40.0},
            "b": {"share_likely_inactive": 1.0, "mean_p_alive": 0.2, "mean_clv": 300.0, "value_at_risk": 300.0},
        }
        if churn
        else {"a": None, "b": None}
    )
    return {
        "artifact_id": "tiny-0123456789-abcdef0123",
        "created_at": "2026-11-01T10:00:00+00:00",
        "data": {"name": "tiny.csv", "as_of": "2026-10-31", "n_customers": 4, "period": {"text": "2026"}},
        "model": {"name": "kmeans", "scaling": "standard", "k": 2},
        "metrics": {"silhouette": 0.5, "silhouette_rows": 4},
        "features": [{"name": "Customer_Value", "label": "Customer value", "unit": "$", "formula": "sum"}],
        "population": {"Customer_Value": 60.0},
        "churn_model": (
            {"model": "bg/nbd", "inactive_threshold": 0.5, "horizon_months": 12, "how_measured": "BG/NBD."}
            if churn
            else {"model": None, "reason": "the table has no purchase dates"}
        ),
        "data_quality": {"rows_read": 5, "rows_kept": 4, "rows_dropped": 1, "items": [{"message": "1 blank row."}]},
        "segments": [
            {
                "key": "a",
                "name": "Alpha",
                "colour": "#0072B2",
                "size": 3,
                "share": 0.75,
                "value_share": 0.25,
                "objective": "Grow",
                "actions": ["Call them"],
                "centroid": {"Customer_Value": 20.0},
                "profile": {"Age": 30.0},
                "churn": seg_churn["a"],
            },
            {
                "key": "b",
                "name": "Beta",
                "colour": "#D55E00",
                "size": 1,
                "share": 0.25,
                "value_share": 0.75,
                "objective": "Keep",
                "actions": ["Thank them"],
                "centroid": {"Customer_Value": 180.0},
                "profile": {"Age": 50.0},
                "churn": seg_churn["b"],
            },
        ],
    }


TINY_CUSTOMERS = pd.DataFrame({"Customer_Value": [10.0, 20.0, 30.0, 180.0], "Age": [20.0, 30.0, 40.0, 50.0]})


# ---------------------------------------------------------------- known answers


def test_story_known_answers() -> None:
    story = build_story(tiny_manifest(), TINY_CUSTOMERS, "Acme", dt.date(2026, 11, 30))
    assert [s.name for s in story.segments] == ["Beta", "Alpha"]  # most spend first
    beta, alpha = story.segments
    assert beta.title == "Beta: 25% of customers, 75% of spend"
    assert alpha.size_text == "3 customers (75%)"
    assert story.title == "Acme: 2 segments of 4 customers"
    assert story.footer == "Data: tiny.csv (as of 2026-10-31) · Model version: tiny-0123456789-abcdef0123"
    # 1/3 of 3 plus 1 of 1 = 2 of 4 customers likely inactive; 40 + 300 at risk.
    assert story.glance == (
        "4 customers in 2 segments.",
        "Beta holds 75% of spend with 25% of customers.",
        "50% of customers are likely inactive (probability of being active below 0.5); "
        "$340 of expected lifetime value over 12 months is at risk.",
    )
    assert [(a.rank, a.name, a.reason, a.first_action) for a in story.act_first] == [
        (1, "Beta", "$300 at risk; 100% likely inactive", "Thank them"),
        (2, "Alpha", "$40 at risk; 33% likely inactive", "Call them"),
    ]
    assert [(p.name, p.x, p.y, p.size) for p in story.priority.points] == [
        ("Beta", 1.0, 0.75, 1),
        ("Alpha", 1 / 3, 0.25, 3),
    ]
    # Customer value: centroid 20 against the population mean 60; Age: 30 against the mean of 20..50 = 35.
    rows = {r.name: (r.segment, r.average, r.clustered) for r in alpha.profile}
    assert rows == {"Customer_Value": (20.0, 60.0, True), "Age": (30.0, 35.0, False)}
    assert alpha.risk_text == (
        "33% likely inactive (mean probability of being active 0.60); value at risk $40 of expected lifetime value."
    )
    assert story.method.rows_dropped == 1 and story.method.quality_items == ("1 blank row.",)


def test_story_says_not_measured_with_the_reason() -> None:
    story = build_story(tiny_manifest(churn=False), TINY_CUSTOMERS, None, dt.date(2026, 11, 30))
    assert not story.churn_measured
    assert story.brand == "Customer segments"
    assert all(s.risk is None for s in story.segments)
    assert story.segments[0].risk_text == "Churn risk not measured: the table has no purchase dates"
    assert story.glance[-1] == "Churn risk not measured: the table has no purchase dates."
    assert story.act_first_basis.startswith("Ranked by share of spend, because churn risk was not measured")
    assert story.priority.x_label == "Share of customers"
    assert story.method.churn == "not measured: the table has no purchase dates"


def test_likely_inactive_is_a_share_of_the_customers_measured() -> None:
    """Customers whose activity could not be measured count in no share (the segments' sizes would count them)."""
    # Alpha: 3 members, one measured and inactive, two not measured; Beta: 1 member, measured, active
    customers = TINY_CUSTOMERS.assign(p_alive=[0.1, np.nan, np.nan, 0.9], expected_clv=[40.0, 7.0, 7.0, 300.0])
    manifest = tiny_manifest()
    manifest["segments"][0]["churn"] = {
        "share_likely_inactive": 1.0,
        "mean_p_alive": 0.1,
        "mean_clv": 40.0,
        "value_at_risk": 40.0,
    }
    manifest["segments"][1]["churn"] = {
        "share_likely_inactive": 0.0,
        "mean_p_alive": 0.9,
        "mean_clv": 300.0,
        "value_at_risk": 0.0,
    }
    story = build_story(manifest, customers, "Acme", dt.date(2026, 11, 30))
    # 1 of the 2 measured (50 %), not 3 of 4 (the size-weighted 75 %); $40 at risk, not the unmeasured $14
    assert story.glance[2] == (
        "50% of the 2 customers whose activity could be measured are likely inactive (probability of being active "
        "below 0.5); 2 could not be measured; $40 of expected lifetime value over 12 months is at risk."
    )
    kpis = {k.label: (k.value, k.note) for k in story.kpis}
    assert kpis["Likely inactive"] == ("50%", "of the 2 customers measured")
    assert kpis["Value at risk"][0] == "$40"
    # every customer measured: the sentence and the KPI as before
    full = build_story(
        tiny_manifest(), TINY_CUSTOMERS.assign(p_alive=[0.1, 0.9, 0.9, 0.1]), "Acme", dt.date(2026, 11, 30)
    )
    assert full.glance[2].startswith("50% of customers are likely inactive (probability of being active below 0.5)")
    assert {k.label: k.note for k in full.kpis}["Likely inactive"] == "of customers (measured)"


def test_without_spend_nothing_is_placed_at_zero_spend(tmp_path: Path) -> None:
    manifest = tiny_manifest()
    for seg in manifest["segments"]:
        seg["value_share"] = None
        seg["churn"]["value_at_risk"] = None
    story = build_story(manifest, TINY_CUSTOMERS, "Acme", dt.date(2026, 11, 30))
    assert story.priority.y_label == "Share of customers (spend not measured)"
    assert sorted((p.name, p.x, p.y) for p in story.priority.points) == [("Alpha", 1 / 3, 0.75), ("Beta", 1.0, 0.25)]
    assert story.act_first_basis == (
        "Ranked by measured likely inactive customers: the data has no customer spend (no value at risk)."
    )
    # 1 likely inactive in each segment: a tie, kept in the story's order (most spend first: here by size)
    assert [(a.name, a.reason) for a in story.act_first] == [
        ("Alpha", "33% likely inactive, 75% of customers"),
        ("Beta", "100% likely inactive, 25% of customers"),
    ]
    assert "Value concentration" not in {k.label for k in story.kpis}
    assert story.glance[1] == "Value concentration not measured: the data has no customer spend."
    neither = tiny_manifest(churn=False)
    for seg in neither["segments"]:
        seg["value_share"] = None
    bare = build_story(neither, TINY_CUSTOMERS, "Acme", dt.date(2026, 11, 30))
    assert bare.priority.points == () and "no matrix to draw" in bare.priority.note
    assert bare.act_first_basis == "Ranked by size: neither churn risk nor spend is measured for this data."
    assert [a.name for a in bare.act_first] == ["Alpha", "Beta"]
    # the report draws no empty matrix: it says why there is none
    html = write_report(bare, tmp_path / "bare.html", None).read_text()
    section = html[html.index('id="priority"') :].split("</section>")[0]
    assert "<svg" not in section and "no matrix to draw" in section
    deck = Presentation(str(write_report(bare, tmp_path / "bare.pptx", None)))
    slide = next(sl for sl in deck.slides if sl.shapes.title.text.startswith("Priority matrix"))
    assert not any(sh.has_chart for sh in slide.shapes)
    assert any("no matrix to draw" in sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)


def test_html_is_self_contained(tmp_path: Path) -> None:
    story = build_story(tiny_manifest(), TINY_CUSTOMERS, "Acme <b>", dt.date(2026, 11, 30))
    logo = logo_from_bytes(tiny_png(), "logo.png")
    text = write_report(story, tmp_path / "r.html", logo).read_text()
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "@import" not in text and "url(http" not in text
    assert "Acme &lt;b&gt;" in text  # the brand name is escaped
    assert 'src="data:image/png;base64,' in text


# ---------------------------------------------------------------- refusals


def test_bad_suffix_is_refused() -> None:
    with pytest.raises(
        DataError, match=r"Cannot write a report as deck\.docx: use a file ending in \.html, \.pdf or \.pptx\."
    ):
        report_format("deck.docx")


def test_bad_logos_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"The logo logo\.gif is not a PNG or JPEG image"):
        logo_from_bytes(b"GIF89a....", "logo.gif")
    with pytest.raises(DataError, match=r"The logo x\.png is a damaged image"):
        logo_from_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 10, "x.png")
    with pytest.raises(DataError, match=r"The logo big\.png is 2\.0 MB; at most 2 MB is allowed\."):
        logo_from_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_LOGO_BYTES, "big.png")
    with pytest.raises(DataError, match=r"The logo wide\.png is 4001×1 pixels"):
        logo_from_bytes(tiny_png(4001, 1), "wide.png")
    with pytest.raises(DataError, match=r"The logo missing\.png does not exist"):
        load_logo(tmp_path / "missing.png")
    with pytest.raises(DataError, match=r"The logo empty\.png is empty\."):
        (tmp_path / "empty.png").write_bytes(b"")
        load_logo(tmp_path / "empty.png")
    assert logo_from_bytes(tiny_png(3, 2), "ok.png").width == 3


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("model_id", "message"),
    [
        ("no-such-version", "error: There is no model version no-such-version in "),
        ("../models", "error: '../models' is not a model version id"),
        ("a/b", "error: 'a/b' is not a model version id"),
        ("/etc", "error: '/etc' is not a model version id"),
    ],
)
def test_unknown_or_path_like_model_id_is_refused(
    model_id: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        ["report", "--model", model_id, "--models-dir", str(tmp_path), "--out", str(tmp_path / "r.html")], capsys
    )
    assert code == 2 and err.startswith(message), err
    assert not (tmp_path / "r.html").exists()


def test_cli_refuses_bad_suffix_and_logo_before_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["report", "--out", str(tmp_path / "r.txt"), "--models-dir", str(tmp_path)], capsys)
    assert (code, err.strip()) == (
        2,
        "error: Cannot write a report as r.txt: use a file ending in .html, .pdf or .pptx.",
    )
    (tmp_path / "logo.png").write_text("not an image")
    code, _, err = run_cli(
        [
            "report",
            "--out",
            str(tmp_path / "r.html"),
            "--logo",
            str(tmp_path / "logo.png"),
            "--models-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 2 and "error: The logo logo.png is not a PNG or JPEG image" in err
    assert not any(tmp_path.glob("*/manifest.json"))  # refused before training anything


def test_missing_chromium_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.reports.pdf as pdf

    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(tmp_path / "nothing"))
    monkeypatch.setattr(pdf, "DEFAULT_CHROMIUM", str(tmp_path / "nothing"))
    monkeypatch.setattr(pdf.shutil, "which", lambda _name: None)
    code, _, err = run_cli(["report", "--out", str(tmp_path / "r.pdf"), "--models-dir", str(tmp_path)], capsys)
    assert code == 2
    assert err.startswith("error: A PDF report needs Chromium, which is not installed")
    assert not (tmp_path / "r.pdf").exists()


# ---------------------------------------------------------------- one set of numbers


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join(parser.parts)


def pptx_text(path: Path) -> str:
    from pptx import Presentation

    parts = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
            if shape.has_chart:
                chart = shape.chart
                parts += [str(c) for c in chart.plots[0].categories] + [s.name for s in chart.plots[0].series]
        parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        if IN_CI:
            pytest.fail("pdftotext (poppler-utils) is missing in CI")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run([exe, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sample_reports(tmp_path_factory: pytest.TempPathFactory, isolated_secret: Path) -> tuple[dict, dict[str, Path]]:
    """``train --json`` on the built-in sample, and the three reports of the same data."""
    from pipeline.reports.pdf import find_chromium

    root = tmp_path_factory.mktemp("report")
    models = root / "models"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["train", "--json", "--models-dir", str(models)]) == 0
    summary = json.loads(buf.getvalue())
    outs = {}
    for suffix in ("html", "pptx", "pdf"):
        if suffix == "pdf":
            try:
                find_chromium()
            except Exception:
                if IN_CI:
                    raise
                continue
        out = root / f"report.{suffix}"
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["report", "--out", str(out), "--models-dir", str(models), "--brand-name", "Acme"]) == 0
        outs[suffix] = out
    return summary, outs


@pytest.mark.parametrize("suffix", ["html", "pptx", "pdf"])
def test_one_set_of_numbers(suffix: str, sample_reports: tuple[dict, dict[str, Path]]) -> None:
    summary, outs = sample_reports
    if suffix not in outs:
        pytest.skip("Chromium is not installed")
    reader = {"html": html_text, "pptx": pptx_text, "pdf": pdf_text}[suffix]
    text = _flat(reader(outs[suffix]))
    assert summary["artifact"]["id"] in text
    assert f"{summary['n_customers']:,} customers in {len(summary['segments'])} segments." in text
    for seg in summary["segments"]:
        title = f"{seg['name']}: {seg['share']:.0%} of customers, {seg['value_share']:.0%} of spend"
        size = f"{seg['size']:,} customers ({seg['share']:.0%})"
        assert title in text, (suffix, title)
        assert size in text, (suffix, size)


def test_pdf_footer_and_pages(sample_reports: tuple[dict, dict[str, Path]]) -> None:
    summary, outs = sample_reports
    if "pdf" not in outs:
        pytest.skip("Chromium is not installed")
    pages = pdf_text(outs["pdf"]).split("\f")
    pages = [p for p in pages if p.strip()]
    n = len(summary["segments"]) + 5  # title, overview, one per segment, matrix, act first, method
    assert len(pages) == n
    for i, page in enumerate(pages, start=1):
        flat = _flat(page)
        assert f"Model version: {summary['artifact']['id']}" in flat
        assert "Data: Built-in sample (as of" in flat
        assert f"Page {i} of {n}" in flat


def test_pptx_charts_are_native(sample_reports: tuple[dict, dict[str, Path]]) -> None:
    from pptx import Presentation
    from pptx.enum.chart import XL_CHART_TYPE

    summary, outs = sample_reports
    slides = list(Presentation(str(outs["pptx"])).slides)
    kinds = [shape.chart.chart_type for s in slides for shape in s.shapes if shape.has_chart]
    assert kinds.count(XL_CHART_TYPE.BAR_CLUSTERED) == 1 + len(summary["segments"])
    assert kinds.count(XL_CHART_TYPE.BUBBLE) == 1
    bubble = next(
        sh.chart for s in slides for sh in s.shapes if sh.has_chart and sh.chart.chart_type == XL_CHART_TYPE.BUBBLE
    )
    assert sorted(s.name for s in bubble.plots[0].series) == sorted(seg["name"] for seg in summary["segments"])
    assert all(s.notes_slide.notes_text_frame.text.strip() for s in slides)


def test_report_of_a_saved_version_by_id(
    sample_reports: tuple[dict, dict[str, Path]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    summary, _outs = sample_reports
    models = Path(summary["artifact"]["path"]).parent
    out = tmp_path / "by-id.html"
    code, printed, _ = run_cli(
        ["report", "--model", summary["artifact"]["id"], "--models-dir", str(models), "--out", str(out)], capsys
    )
    assert code == 0 and printed.startswith(f"wrote {out} (")
    assert _flat(html_text(out)).count(summary["artifact"]["id"]) >= 1


def test_transaction_log_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], isolated_secret: Path) -> None:
    """A transaction log (purchase dates): the deck carries the measured churn of each segment."""
    from pipeline.synthetic.btyd_log import btyd_log_bytes

    log = tmp_path / "orders.csv"
    log.write_bytes(btyd_log_bytes(600, 1))
    models = tmp_path / "models"
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        assert main(["train", "--json", "--data", str(log), "--models-dir", str(models)]) == 0
    summary = json.loads(buf.getvalue())
    out = tmp_path / "orders.pptx"
    code, _, err = run_cli(["report", "--data", str(log), "--models-dir", str(models), "--out", str(out)], capsys)
    assert code == 0, err
    text = _flat(pptx_text(out))
    assert summary["churn_model"]["model"] == "bg/nbd"
    for seg in summary["segments"]:
        assert f"{seg['name']}: {seg['share']:.0%} of customers" in text
        assert f"Churn risk: {seg['churn']['share_likely_inactive']:.0%} likely inactive" in text


# ---------------------------------------------------------------- properties of input handling


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=512), png_header=st.booleans())
def test_any_logo_bytes_are_a_logo_or_one_clear_refusal(data: bytes, png_header: bool) -> None:
    raw = (b"\x89PNG\r\n\x1a\n" + data) if png_header else data
    try:
        logo = logo_from_bytes(raw, "logo.png")
    except DataError as err:
        assert str(err).startswith("The logo logo.png ")
    else:
        assert logo.mime in ("image/png", "image/jpeg") and logo.width > 0


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=120))
def test_any_brand_name_is_escaped_or_refused(name: str) -> None:
    from pipeline.reports.branding import check_brand_name
    from pipeline.reports.html import render_html

    try:
        brand = check_brand_name(name)
    except DataError as err:
        assert "brand name" in str(err)
        return
    story = build_story(tiny_manifest(), TINY_CUSTOMERS, brand, dt.date(2026, 11, 30))
    parser = _Text()
    parser.feed(render_html(story))
    assert story.title in " ".join(parser.parts)  # the name comes back as text, never as markup
    assert story.brand == (brand or "Customer segments")


def test_brand_and_logo_reach_every_format(
    sample_reports: tuple[dict, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    summary, _outs = sample_reports
    models = Path(summary["artifact"]["path"]).parent
    logo = tmp_path / "logo.png"
    logo.write_bytes(tiny_png(30, 10))
    for suffix in ("html", "pptx"):
        out = tmp_path / f"brand.{suffix}"
        argv = ["report", "--model", summary["artifact"]["id"], "--models-dir", str(models), "--out", str(out)]
        code, _, err = run_cli([*argv, "--brand-name", "Acme Retail", "--logo", str(logo)], capsys)
        assert code == 0, err
    deck = Presentation(str(tmp_path / "brand.pptx"))
    first = deck.slides[0]
    assert first.shapes.title.text == f"Acme Retail: {len(summary['segments'])} segments of 2,240 customers"
    assert [s.shape_type for s in first.shapes].count(MSO_SHAPE_TYPE.PICTURE) == 1
    page = (tmp_path / "brand.html").read_text()
    assert '<img class="logo" alt="Acme Retail logo" src="data:image/png;base64,' in page
