"""Large downloads: the ``export`` job, and ``GET /download/<job id>`` serving a job's file to its owner only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask
import pytest
from dash import no_update

from dashboard import exports, file_downloads, ids, tasks
from dashboard.identity import SESSION_OWNER
from dashboard.tasks import RUNNER_KEY
from pipeline.config import Settings
from pipeline.data.export import export_bytes
from pipeline.errors import AccessDenied, DataError, SegmentationError
from pipeline.segmentation.assignments import AssignmentScope, artifact_assignments, assignment_export
from pipeline.segmentation.training import TrainResult
from pipeline.store.db import database_path
from pipeline.store.registry import Registry
from tests.test_data_page import triggered

ALICE, BOB = "anon-" + "a1" * 16, "anon-" + "b2" * 16


class FakeContext:
    """What the runner gives a job function: id, owner, settings, progress."""

    def __init__(self, settings: Settings, owner: str) -> None:
        self.job_id, self.owner, self.settings = uuid.uuid4().hex, owner, settings
        self.reports: list[int] = []

    def progress(self, percent: float, message: str, creep_to: float | None = None) -> None:
        self.reports.append(int(percent))


@pytest.fixture
def job_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.replace(data_dir=tmp_path / "data")


@pytest.fixture
def owned(job_settings: Settings, trained: TrainResult) -> str:
    Registry(database_path(job_settings)).add_version(ALICE, trained.artifact.artifact_id, "Built-in sample", "test")
    return trained.artifact.artifact_id


def expected_bytes(trained: TrainResult, scope: AssignmentScope, key: str) -> bytes:
    """What the in-request download sends for ``scope``: the file the job writes must be the same."""
    artifact = trained.artifact
    return export_bytes(assignment_export(artifact.manifest, artifact_assignments(artifact), scope), key)


# ---------------------------------------------------------------- the export job (a plain function)


@pytest.mark.parametrize("key", ["csv", "parquet"])
def test_export_job_writes_what_the_in_request_download_sends(
    job_settings: Settings, owned: str, trained: TrainResult, key: str
) -> None:
    segment = str(trained.artifact.customers["Segment"].iloc[0])
    members = int((trained.artifact.customers["Segment"].astype(str) == segment).sum())
    context = FakeContext(job_settings, ALICE)
    parameters = {"artifact": owned, "segments": [segment], "label": "One", "format": key, "filename": f"one.{key}"}
    result = tasks.run_export(context, parameters)
    assert result == {"artifact": owned, "format": f".{key}", "filename": f"one.{key}", "rows": members}
    path = Path(job_settings.data_dir) / "exports" / f"{context.job_id}.{key}"
    assert path.read_bytes() == expected_bytes(trained, AssignmentScope((segment,), "One"), key)
    assert context.reports == [5, 10, 35, 55, 100]


def test_export_job_refuses_another_owners_version_and_writes_nothing(job_settings: Settings, owned: str) -> None:
    context = FakeContext(job_settings, BOB)
    with pytest.raises(AccessDenied):
        tasks.run_export(context, {"artifact": owned, "segments": None, "label": "All", "format": "csv"})
    assert not (Path(job_settings.data_dir) / "exports").exists()


@pytest.mark.parametrize(
    ("parameters", "error", "message"),
    [
        ({"artifact": "../models", "format": "csv"}, SegmentationError, "Invalid model version id '../models'."),
        ({"artifact": "x", "format": "exe"}, DataError, "Unknown export format 'exe'"),
    ],
)
def test_export_job_refuses_bad_parameters(settings: Settings, parameters: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace(".", r"\.")):
        tasks.run_export(FakeContext(settings, ALICE), parameters)


def test_export_file_names_are_made_by_the_server(settings: Settings) -> None:
    assert (
        tasks.export_file(settings, "b" * 32, ".parquet") == Path(settings.data_dir) / "exports" / f"{'b' * 32}.parquet"
    )
    with pytest.raises(SegmentationError, match="Invalid job id"):
        tasks.export_file(settings, "../../etc/passwd", ".csv")
    with pytest.raises(DataError, match="Cannot write"):
        tasks.export_file(settings, "b" * 32, ".sh")


def test_export_estimate_counts_every_customer_of_the_version(job_settings: Settings, owned: str) -> None:
    estimate = tasks.estimate_export({"artifact": owned}, job_settings, ALICE)
    assert estimate == tasks.CHILD_BASE_BYTES + tasks.EXPORT_BYTES_PER_CUSTOMER * 2240
    # another owner's version is not read for its size (a refusal sized from it would tell how many customers)
    for estimate_of in (tasks.estimate_export, tasks.estimate_report, tasks.estimate_compare):
        assert estimate_of({"artifact": owned}, job_settings, BOB) == tasks.CHILD_BASE_BYTES
    assert tasks.estimate_train({"source": {"artifact": owned}}, job_settings, BOB) == tasks.CHILD_BASE_BYTES + (
        tasks.fit_peak_bytes(0, job_settings)
    )


# ---------------------------------------------------------------- the route, through the app's runner


def client_of(dash_app: Any, owner: str | None) -> Any:
    """A browser whose signed session belongs to ``owner`` (None: a browser without a cookie)."""
    client = dash_app.server.test_client(use_cookies=owner is not None)
    if owner is not None:
        with client.session_transaction() as session:
            session[SESSION_OWNER] = owner
    return client


@pytest.fixture(scope="module")
def alices_export(dash_app: Any, trained: TrainResult) -> Iterator[tuple[str, Path]]:
    """A finished ``export`` job of Alice: all customers of the built-in sample as CSV."""
    runner = dash_app.server.extensions[RUNNER_KEY]
    parameters = {
        "artifact": trained.artifact.artifact_id,
        "segments": None,
        "label": "All customers",
        "format": "csv",
        "filename": "segment-assignments-all-customers.csv",
    }
    job_id = runner.submit(ALICE, "export", parameters)
    status = runner.wait(job_id, ALICE, timeout=240)
    assert status.state == "done", status.error
    settings = dash_app.server.extensions["segmentation_service"].settings
    yield job_id, tasks.export_file(settings, job_id, ".csv")


def test_the_owner_downloads_the_file_as_an_attachment(dash_app, alices_export, trained: TrainResult) -> None:
    job_id, path = alices_export
    response = client_of(dash_app, ALICE).get(f"/download/{job_id}")
    assert response.status_code == 200
    assert response.data == path.read_bytes() == expected_bytes(trained, AssignmentScope(), "csv")
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=segment-assignments-all-customers.csv"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.mimetype == "text/csv"


@pytest.mark.parametrize("who", [BOB, None], ids=["another-session", "no-cookie"])
def test_another_session_replaying_the_job_id_gets_the_same_404_as_an_unknown_id(dash_app, alices_export, who) -> None:
    job_id, path = alices_export
    before = path.read_bytes()
    client = client_of(dash_app, who)
    replay = client.get(f"/download/{job_id}")
    unknown = client.get(f"/download/{uuid.uuid4().hex}")
    for response in (replay, unknown, client.get("/download/not-a-job-id")):
        assert response.status_code == 404
        assert response.get_data(as_text=True) == file_downloads.NOT_FOUND
        assert "Content-Disposition" not in response.headers
    assert path.read_bytes() == before  # nothing changed


def test_a_failed_job_or_a_removed_file_has_nothing_to_send(dash_app, alices_export) -> None:
    runner = dash_app.server.extensions[RUNNER_KEY]
    failed = runner.submit(ALICE, "export", {"artifact": "../etc", "format": "csv", "filename": "x.csv"})
    assert runner.wait(failed, ALICE, timeout=240).state == "failed"
    alice = client_of(dash_app, ALICE)
    assert alice.get(f"/download/{failed}").status_code == 404
    job_id, path = alices_export
    saved = path.read_bytes()
    path.unlink()
    try:
        assert alice.get(f"/download/{job_id}").status_code == 404
    finally:
        path.write_bytes(saved)


def test_job_file_says_why_for_each_refusal(dash_app, alices_export) -> None:
    job_id, path = alices_export
    settings = dash_app.server.extensions["segmentation_service"].settings
    with dash_app.server.test_request_context("/"):
        assert file_downloads.job_file(job_id, ALICE, settings) == (path, "segment-assignments-all-customers.csv")
        with pytest.raises(SegmentationError, match=r"^Unknown job: it was not started in this session"):
            file_downloads.job_file(job_id, BOB, settings)
        with pytest.raises(SegmentationError, match=r"^Unknown job"):
            file_downloads.job_file("../x", ALICE, settings)


# ---------------------------------------------------------------- the menu's callbacks


@contextmanager
def as_alice(dash_app: Any) -> Iterator[None]:
    with dash_app.server.test_request_context("/"):
        flask.session[SESSION_OWNER] = ALICE
        yield


def test_a_large_download_becomes_a_job_and_ends_as_a_link(dash_app, monkeypatch) -> None:
    monkeypatch.setattr(exports, "IN_REQUEST_MAX_ROWS", 1000)  # the sample's 2,240 customers count as large
    runner = dash_app.server.extensions[RUNNER_KEY]
    with as_alice(dash_app), triggered(ids.export_item("overview", "all", "all", "parquet"), "n_clicks"):
        out = exports.download([None, None, 1], None, None)
    assert out["data"] is no_update and out["status"] == ""
    assert out["poll"] is False and out["cancel"] is False and out["box"] == "export-progress mt-1"
    assert out["link_href"] is None and out["link_className"] == "d-none"
    job_id = out["job"]["id"]
    assert runner.wait(job_id, ALICE, timeout=240).state == "done"
    with as_alice(dash_app):
        done = exports.follow_export(1, out["job"])
    assert done["link_href"] == f"/download/{job_id}"
    assert done["link_children"] == "Download segment-assignments-all-customers.parquet again"
    assert done["status"].children == "Download ready: segment-assignments-all-customers.parquet"
    assert done["status"].className == "text-body-secondary"
    assert done["job"] is None and done["poll"] is True and done["box"] == "d-none"
    assert done["data"] is no_update


def test_a_small_download_is_sent_at_once(dash_app, trained: TrainResult) -> None:
    with as_alice(dash_app), triggered(ids.export_item("overview", "all", "all", "csv"), "n_clicks"):
        out = exports.download([1, None, None], None, None)
    assert out["job"] is no_update and out["status"] == ""
    assert out["data"]["filename"] == "segment-assignments-all-customers.csv"
    assert out["data"]["base64"] is True


def test_following_another_sessions_job_is_refused(dash_app, alices_export) -> None:
    job_id, _ = alices_export
    with dash_app.server.test_request_context("/"):
        flask.session[SESSION_OWNER] = BOB
        out = exports.follow_export(1, {"id": job_id})
    assert out["link_href"] is no_update and out["job"] is None
    assert out["status"] is not no_update  # says why (an alert), and links nothing


def test_a_file_of_a_version_the_owner_can_no_longer_read_is_not_sent(dash_app, alices_export, monkeypatch) -> None:
    """The job is the owner's and done, but its version is not (any more) theirs to read: refused, no file."""
    from dashboard.runner import JobStatus
    from pipeline.errors import AccessDenied
    from pipeline.store.registry import NOT_AVAILABLE

    job_id, _ = alices_export
    foreign = "bob-only-0123456789-0123456789"
    dash_app.server.extensions["segmentation_service"].store.add_version(BOB, foreign, "bob.csv", "upload")
    result = {"artifact": foreign, "format": ".csv", "filename": "x.csv", "rows": 1}

    class Runner:
        def status(self, asked: str, owner: str) -> JobStatus:
            return JobStatus(asked, "export", "done", 100, "Done", None, result, None)

    monkeypatch.setattr(file_downloads.tasks, "runner", lambda: Runner())
    settings = dash_app.server.extensions["segmentation_service"].settings
    with dash_app.server.test_request_context("/"), pytest.raises(AccessDenied, match=NOT_AVAILABLE[:40]):
        file_downloads.job_file(job_id, ALICE, settings)
    response = client_of(dash_app, ALICE).get(f"/download/{job_id}")
    assert response.status_code == 404 and response.get_data(as_text=True) == file_downloads.NOT_FOUND
