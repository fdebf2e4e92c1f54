"""The app's ``report`` job: written under the data folder for the owner of the version, refused otherwise."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from dashboard import tasks
from pipeline.config import Settings
from pipeline.errors import AccessDenied, DataError, SegmentationError
from pipeline.segmentation.training import TrainResult
from pipeline.store.db import database_path
from pipeline.store.registry import Registry

OWNER, OTHER = "anon-" + "c" * 32, "anon-" + "d" * 32


class FakeContext:
    """What the runner gives a job function: id, owner, settings, progress."""

    def __init__(self, settings: Settings, owner: str) -> None:
        self.job_id, self.owner, self.settings = uuid.uuid4().hex, owner, settings
        self.reports: list[tuple[int, str]] = []

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        self.reports.append((int(percent), message))


@pytest.fixture
def job_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's models, with a state database of this test's own.

    (An app built earlier in the session registers the built-in sample as everyone's.)
    """
    return settings.replace(data_dir=tmp_path / "data")


@pytest.fixture
def owned(job_settings: Settings, trained: TrainResult) -> str:
    Registry(database_path(job_settings)).add_version(OWNER, trained.artifact.artifact_id, "Built-in sample", "test")
    return trained.artifact.artifact_id


def test_report_job_writes_the_owners_report(job_settings: Settings, owned: str) -> None:
    context = FakeContext(job_settings, OWNER)
    result = tasks.run_report(context, {"artifact": owned, "format": ".html"})
    assert result == {"artifact": owned, "format": ".html", "filename": f"segment-report-{owned}.html"}
    path = Path(job_settings.data_dir) / "reports" / f"{context.job_id}.html"
    assert path.is_file() and owned in path.read_text()
    assert [p for p, _ in context.reports] == [5, 15, 40, 100]


def test_report_job_refuses_another_owners_version(job_settings: Settings, owned: str) -> None:
    context = FakeContext(job_settings, OTHER)
    with pytest.raises(AccessDenied):
        tasks.run_report(context, {"artifact": owned, "format": ".pdf"})
    assert not (Path(job_settings.data_dir) / "reports" / f"{context.job_id}.pdf").exists()


@pytest.mark.parametrize(
    ("parameters", "error", "message"),
    [
        ({"artifact": "../models", "format": ".html"}, SegmentationError, "Invalid model version id '../models'."),
        ({"artifact": "x", "format": ".exe"}, DataError, "Cannot write a report as x.exe"),
    ],
)
def test_report_job_refuses_bad_parameters(settings: Settings, parameters: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace(".", r"\.")):
        tasks.run_report(FakeContext(settings, OWNER), parameters)


def test_report_file_names_are_made_by_the_server(settings: Settings) -> None:
    assert tasks.report_file(settings, "a" * 32, ".pptx") == Path(settings.data_dir) / "reports" / f"{'a' * 32}.pptx"
    with pytest.raises(SegmentationError, match="Invalid job id"):
        tasks.report_file(settings, "../../etc/passwd", ".html")


def test_report_estimate_adds_chromium_for_pdf(job_settings: Settings, owned: str) -> None:
    html = tasks.estimate_report({"artifact": owned, "format": ".html"}, job_settings, OWNER)
    pdf = tasks.estimate_report({"artifact": owned, "format": ".pdf"}, job_settings, OWNER)
    assert html == tasks.CHILD_BASE_BYTES + tasks.BYTES_PER_CUSTOMER * 2240
    assert pdf - html == tasks.CHROMIUM_BYTES


@pytest.mark.parametrize("suffix", [".pptx", ".pdf"])
def test_report_job_on_an_uploaded_transaction_log(settings: Settings, suffix: str, tmp_path: Path) -> None:
    """A version trained on a transaction log (as after an upload): the job's file carries its segments."""
    from pipeline.reports.pdf import ChromiumMissing, find_chromium
    from pipeline.segmentation.training import load_dataset, settings_for_dataset, train
    from pipeline.synthetic.btyd_log import btyd_log_bytes
    from tests.test_report import IN_CI, pdf_text, pptx_text

    if suffix == ".pdf":
        try:
            find_chromium()
        except ChromiumMissing:
            if IN_CI:
                raise
            pytest.skip("Chromium is not installed")
    log = tmp_path / "orders.csv"
    log.write_bytes(btyd_log_bytes(600, 1))
    dataset = load_dataset(log, settings)
    artifact = train(dataset, settings_for_dataset(dataset, settings)).artifact
    Registry(database_path(settings)).add_version(OWNER, artifact.artifact_id, "orders.csv", "upload")
    context = FakeContext(settings, OWNER)
    tasks.run_report(context, {"artifact": artifact.artifact_id, "format": suffix})
    path = tasks.report_file(settings, context.job_id, suffix)
    text = " ".join((pptx_text(path) if suffix == ".pptx" else pdf_text(path)).split())
    assert "Data: orders.csv" in text
    for seg in artifact.manifest["segments"]:
        assert f"{seg['name']}: {seg['share']:.0%} of customers" in text


def test_report_job_carries_the_owners_segment_notes_escaped(
    job_settings: Settings, owned: str, trained: TrainResult
) -> None:
    from pipeline.store.notes import write_note

    keys = {s["key"] for s in trained.artifact.manifest["segments"]}
    key = trained.artifact.manifest["segments"][0]["key"]
    registry = Registry(database_path(job_settings))
    write_note(registry, OWNER, owned, key, "Call them <b>before</b> May & keep the tone warm", keys)
    context = FakeContext(job_settings, OWNER)
    tasks.run_report(context, {"artifact": owned, "format": ".html"})
    html = (Path(job_settings.data_dir) / "reports" / f"{context.job_id}.html").read_text()
    assert "<b>Team note:</b> Call them &lt;b&gt;before&lt;/b&gt; May &amp; keep the tone warm" in html
    assert html.count("Team note:") == 1  # only the segment with a note
