"""The app's background work: the job kinds (training, model comparison), their memory
estimates, the app's :class:`~dashboard.runner.JobRunner`, and the progress widgets every
page uses to submit, follow and cancel a job.

Job functions run in a child process started by the runner (no Flask app
there): they get a :class:`~dashboard.job_process.JobContext` with the server's
settings and the owner that submitted the job, and return JSON.

- ``train`` (:func:`run_train`): ``{"source": TrainSource.to_dict(), "overrides": {...}}``
  → :func:`dashboard.jobs.train_job`, which records the new version as the
  owner's in the registry; returns :class:`dashboard.jobs.JobResult` as a dict.
- ``compare`` (:func:`run_compare`): ``{"artifact": id}`` → :func:`compare_job`
  (computes and caches the comparison); returns ``{"artifact": id, "ready": true}``.
- ``report`` (:func:`run_report`) and ``export`` (:func:`run_export`) write one
  file under the data folder, named by the job id; :mod:`dashboard.file_downloads`
  sends it to the job's owner.

Pages hold the job id in a ``dcc.Store`` and poll :func:`job_status` with a
``dcc.Interval``; :class:`JobWidgets` maps a :class:`~dashboard.runner.JobStatus`
to the page's button, progress bar, caption and cancel button.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, clientside_callback, dcc, html, no_update

from dashboard import jobs, uploads
from dashboard.components import error_alert
from dashboard.job_process import JobContext
from dashboard.runner import JobKind, JobRunner, JobStatus
from pipeline.config import Settings
from pipeline.data.mapping import Mapping
from pipeline.errors import SegmentationError
from pipeline.segmentation.training import settings_for_dataset
from pipeline.store.artifacts import read_manifest, valid_artifact_id
from pipeline.store.db import database_path

RUNNER_KEY = "segments_job_runner"
#: Environment variable that overrides the server's limit of running jobs.
MAX_JOBS_ENV = "SEGMENTS_MAX_JOBS"
MB = 1024 * 1024
# Peak memory of a job child (resident set).  Measured on this machine (python -m benchmarks.bench_jobs
# prints measured peak against these estimates): the child's interpreter and imports, plus a share per
# uploaded byte (raw bytes, parsed table, one row per customer), plus the pairwise-distance work of the
# fit's silhouette, which scikit-learn does in chunks of at most ``working_memory`` (1 GiB by default)
# on at most ``settings.max_exact_rows`` customers.  E.g. a 20,000-customer table (0.7 MB) peaked at
# 1,263 MB, a 100,000-customer one (3.7 MB) at 1,331 MB, a 500,000-line log (33 MB, 4,529 customers)
# at 612 MB; in the job runner a 19 MB log peaked at 450 MB against an estimate of 507 MB.
#: Resident memory of a job child after its imports, before it reads anything.
CHILD_BASE_BYTES = 250 * MB
#: Peak bytes per uploaded byte (raw bytes, parsed table, per-customer rows; a log measured about 9).
BYTES_PER_UPLOAD_BYTE = 10.0
#: Fewest bytes a table row takes in a text upload (bounds the customers an upload can hold).
MIN_ROW_BYTES = 30
#: Bytes per customer of the per-customer tables (features, profile, scores) in a fit or comparison.
BYTES_PER_CUSTOMER = 4_000
#: scikit-learn's pairwise-distance chunk (``working_memory``), the ceiling of the silhouette step.
PAIRWISE_CHUNK_BYTES = 1024 * MB


def fit_peak_bytes(n_customers: int, settings: Settings) -> int:
    """Estimated peak of fitting and scoring ``n_customers`` (without the child's base and the raw upload)."""
    n = max(0, int(n_customers))
    exact = min(n, settings.max_exact_rows)
    return int(BYTES_PER_CUSTOMER * n + min(8 * exact * exact, PAIRWISE_CHUNK_BYTES))


# ---------------------------------------------------------------- job functions (in the child)


def run_train(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``train``: train (the new version is recorded as the owner's), return the :class:`jobs.JobResult` dict."""
    source = jobs.TrainSource.from_dict(parameters.get("source") or {})
    settings: Settings = context.settings
    result = jobs.train_job(context, source, parameters.get("overrides"), settings=settings, owner=context.owner)
    return dataclasses.asdict(result)


def compare_job(reporter: Any, artifact_id: str, settings: Settings, owner: str | None = None) -> dict[str, Any]:
    """Load or compute (and cache) the comparison of an artifact, reporting progress; its JSON form.

    The comparison's own progress (a fraction and a step) goes to
    ``reporter.progress``; the reporter's heartbeat adds the seconds elapsed.

    Raises
    ------
    SegmentationError
        The data cannot be compared (message for the user), or the version
        is not the owner's.
    """
    dataset, trained_with = jobs.dataset_from_artifact(artifact_id, settings, owner)
    compare_settings = settings_for_dataset(dataset, trained_with)

    def update(fraction: float, message: str) -> None:
        percent = min(99, round(float(fraction) * 100))
        reporter.progress(percent, message, creep_to=percent)

    update(0.0, "Starting")
    from pipeline.segmentation.compare import load_or_run_comparison  # scikit-learn: in the job, not at start

    result, _cached = load_or_run_comparison(dataset, compare_settings, progress=update)
    reporter.progress(100, "Done")
    return result.to_dict()


def run_compare(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``compare``: compute and cache the comparison of ``parameters["artifact"]``."""
    artifact_id = str(parameters.get("artifact") or "")
    compare_job(context, artifact_id, context.settings, context.owner)
    return {"artifact": artifact_id, "ready": True}


#: Folder under the data folder where report jobs write their file (one per job, named by the job id).
REPORTS_DIR = "reports"
#: Report files older than this are removed when a new report job starts.
REPORT_MAX_AGE_S = 24 * 3600
#: Extra peak of a PDF report: the headless Chromium that prints it (measured about 250 MB here).
CHROMIUM_BYTES = 400 * MB


#: Folder under the data folder where export jobs write their file (one per job, named by the job id).
EXPORTS_DIR = "exports"


def _job_file(settings: Settings, folder: str, job_id: str, suffix: str) -> Path:
    """``<data_dir>/<folder>/<job id><suffix>`` (names made here, never by the browser)."""
    if not re.fullmatch(r"[0-9a-f]{32}", str(job_id)):
        raise SegmentationError("Invalid job id.")
    return Path(settings.data_dir) / folder / f"{job_id}{suffix}"


def _prune_old_files(folder: Path, max_age_s: float = REPORT_MAX_AGE_S) -> None:
    """Remove the files in ``folder`` older than ``max_age_s`` (made by earlier jobs); create the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > max_age_s:
                old.unlink()


def report_file(settings: Settings, job_id: str, suffix: str) -> Path:
    """``<data_dir>/reports/<job id><suffix>``: where a report job writes (names made here, never by the browser)."""
    from pipeline.reports import report_format

    return _job_file(settings, REPORTS_DIR, job_id, report_format(f"x{suffix}"))


def export_file(settings: Settings, job_id: str, suffix: str) -> Path:
    """``<data_dir>/exports/<job id><suffix>``: where an export job writes (a suffix of the export formats)."""
    from pipeline.data.export import check_output_path

    return _job_file(settings, EXPORTS_DIR, job_id, check_output_path(Path(f"x{suffix}")))


def _owners_artifact(context: JobContext, artifact_id: str, out: Path, loading_at: int) -> Any:
    """The version a file job reads, once its owner may read it; ``out``'s folder made and pruned.

    Raises
    ------
    SegmentationError
        An invalid id, or :class:`~pipeline.errors.AccessDenied` when the version is not the owner's.
    """
    from pipeline.store.artifacts import load_artifact
    from pipeline.store.registry import Registry

    context.progress(5, "Checking the model version")
    if not valid_artifact_id(artifact_id):
        raise SegmentationError(f"Invalid model version id {artifact_id!r}.")
    Registry(database_path(context.settings)).version(context.owner, artifact_id)  # AccessDenied if not theirs
    _prune_old_files(out.parent)
    context.progress(loading_at, "Loading the model version", creep_to=loading_at + 20)
    return load_artifact(Path(context.settings.models_dir) / artifact_id, context.settings)


def run_report(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``report``: the executive report of a version the owner may read, written under the data folder.

    ``parameters``: ``{"artifact": id, "format": ".html" | ".pdf" | ".pptx"}``.  Returns
    ``{"artifact": id, "format": suffix, "filename": download name}``; the file is
    :func:`report_file` of this job.
    """
    from pipeline.reports import story_of, write_report
    from pipeline.store.notes import segment_notes

    settings: Settings = context.settings
    artifact_id = str(parameters.get("artifact") or "")
    out = report_file(settings, context.job_id, str(parameters.get("format") or ""))
    artifact = _owners_artifact(context, artifact_id, out, loading_at=15)
    context.progress(
        40, "Writing the report" + (" (Chromium prints the PDF)" if out.suffix == ".pdf" else ""), creep_to=95
    )
    notes = segment_notes(settings, context.owner, artifact_id)
    write_report(story_of(artifact, notes=notes), out)
    context.progress(100, "Done")
    return {"artifact": artifact_id, "format": out.suffix, "filename": f"segment-report-{artifact_id}{out.suffix}"}


def run_export(context: JobContext, parameters: dict[str, Any]) -> dict[str, Any]:
    """Job ``export``: the segment assignments of a version the owner may read, written by the one safe writer.

    For downloads too large to make inside a request (:data:`dashboard.exports.IN_REQUEST_MAX_ROWS`).
    ``parameters``: ``{"artifact": id, "segments": [keys] | None, "label": str, "format": "csv" | "xlsx" |
    "parquet", "filename": download name}``.  Returns ``{"artifact", "format" (suffix), "filename", "rows"}``;
    the file is :func:`export_file` of this job.
    """
    from pipeline.data.export import export_format, write_export
    from pipeline.segmentation.assignments import AssignmentScope, artifact_assignments, assignment_export

    settings: Settings = context.settings
    artifact_id = str(parameters.get("artifact") or "")
    fmt = export_format(str(parameters.get("format") or ""))
    out = export_file(settings, context.job_id, fmt.suffix)
    artifact = _owners_artifact(context, artifact_id, out, loading_at=10)
    context.progress(35, "Scoring the customers", creep_to=50)
    segments = parameters.get("segments")
    scope = AssignmentScope(tuple(map(str, segments)) if segments else None, str(parameters.get("label") or ""))
    export = assignment_export(artifact.manifest, artifact_assignments(artifact), scope)
    rows = len(export.table)
    context.progress(55, f"Writing {rows:,} customers as {fmt.label}", creep_to=97)
    write_export(export, out)
    context.progress(100, "Done")
    return {"artifact": artifact_id, "format": fmt.suffix, "filename": str(parameters.get("filename")), "rows": rows}


# ---------------------------------------------------------------- memory estimates (in the server)


def _customers(artifact_id: Any, settings: Settings, owner: str) -> int:
    """Customers of a version the owner may read, from its manifest (0 otherwise: the job will say why).

    Owner-checked first: a "not enough memory" refusal sized from another
    owner's version would tell its size.
    """
    if not artifact_id or not valid_artifact_id(str(artifact_id)):
        return 0
    with contextlib.suppress(Exception):
        from pipeline.store.registry import Registry

        Registry(database_path(settings)).version(owner, str(artifact_id))  # AccessDenied if not readable
        manifest = read_manifest(Path(settings.models_dir) / str(artifact_id), settings)
        return int(manifest["data"]["n_customers"])
    return 0


def estimate_train(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    """Peak bytes of a training job: from the upload's size and customers, or the version retrained.

    An upload's customers come from its validation (the one the data page
    showed, cached per process; computed here otherwise).  When it cannot be
    validated the bound is one customer per :data:`MIN_ROW_BYTES` bytes, and
    the job itself then says what is wrong.
    """
    source = parameters.get("source") or {}
    if source.get("upload"):
        size, customers = 0, None
        with contextlib.suppress(Exception):  # a key that is not the owner's: the job fails with the message
            key = str(source["upload"])
            size = uploads.upload_info(key, settings, owner).size
            mapping = Mapping.from_dict(source["mapping"]) if source.get("mapping") else None
            validation = uploads.validate_upload_key(key, mapping, settings, owner)
            customers = len(validation.customers) if validation.customers is not None else None
        n = customers if customers is not None else size // MIN_ROW_BYTES
        return int(CHILD_BASE_BYTES + BYTES_PER_UPLOAD_BYTE * size + fit_peak_bytes(n, settings))
    if source.get("artifact"):
        return int(CHILD_BASE_BYTES + fit_peak_bytes(_customers(source["artifact"], settings, owner), settings))
    return int(CHILD_BASE_BYTES + fit_peak_bytes(settings.sample_rows, settings))


def estimate_compare(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    """Peak bytes of a comparison: the customers of the version compared (models refitted one at a time)."""
    return int(CHILD_BASE_BYTES + 2 * fit_peak_bytes(_customers(parameters.get("artifact"), settings, owner), settings))


def estimate_report(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    """Peak bytes of a report: the version's customer table, plus Chromium for a PDF."""
    n = _customers(parameters.get("artifact"), settings, owner)
    return int(
        CHILD_BASE_BYTES + BYTES_PER_CUSTOMER * n + (CHROMIUM_BYTES if parameters.get("format") == ".pdf" else 0)
    )


#: Peak bytes per customer of an export job: the assignments table, its neutralised copy and the file's
#: bytes (all of 1,000,000 customers: a CSV made whole peaked at 2.7 GB, in pieces 1.3 GB; Parquet made whole
#: at 1.8 GB, in row groups 1.3 GB).  Excel is still made whole: the estimate keeps room for it.
EXPORT_BYTES_PER_CUSTOMER = 3_000


def estimate_export(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    """Peak bytes of an export: every customer of the version is scored, then the scope written."""
    return int(CHILD_BASE_BYTES + EXPORT_BYTES_PER_CUSTOMER * _customers(parameters.get("artifact"), settings, owner))


#: The job kinds of the app.
JOB_KINDS: dict[str, JobKind] = {
    "train": JobKind("dashboard.tasks:run_train", estimate_train),
    "compare": JobKind("dashboard.tasks:run_compare", estimate_compare),
    "snapshots": JobKind("dashboard.timeline:run_log_snapshots", lambda p, s, o: _log_snapshots_estimate(p, s, o)),
    "report": JobKind("dashboard.tasks:run_report", estimate_report),
    "export": JobKind("dashboard.tasks:run_export", estimate_export),
    "db_read": JobKind("dashboard.database_jobs:run_db_read", lambda p, s, o: _database_estimate("read", p, s, o)),
    "db_write": JobKind("dashboard.database_jobs:run_db_write", lambda p, s, o: _database_estimate("write", p, s, o)),
}


def _database_estimate(kind: str, parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    from dashboard import database_jobs  # imports this module

    estimate = database_jobs.estimate_db_read if kind == "read" else database_jobs.estimate_db_write
    return estimate(parameters, settings, owner)


def _log_snapshots_estimate(parameters: dict[str, Any], settings: Settings, owner: str) -> int:
    from dashboard.timeline import estimate_log_snapshots  # the page's module (imports this one)

    return estimate_log_snapshots(parameters, settings, owner)


# ---------------------------------------------------------------- the app's runner


def make_runner(settings: Settings, max_running: int | None = None) -> JobRunner:
    """The runner of an app serving ``settings`` (limit: ``max_running``, else ``$SEGMENTS_MAX_JOBS``,
    else ``max(1, cores // 2)``)."""
    if max_running is None and os.environ.get(MAX_JOBS_ENV, "").strip().isdigit():
        max_running = int(os.environ[MAX_JOBS_ENV])
    return JobRunner(database_path(settings), JOB_KINDS, settings, max_running=max_running)


def runner() -> JobRunner:
    """The runner of the app handling the current request."""
    return flask.current_app.extensions[RUNNER_KEY]


def _owner() -> str:
    from dashboard.identity import current_owner

    return current_owner()


def submit(kind: str, parameters: dict[str, Any]) -> str:
    """Submit a job for the current request's owner; returns its id (:class:`JobRefused` with the reason)."""
    return runner().submit(_owner(), kind, parameters)


def job_status(job_id: str | None) -> JobStatus:
    """The current owner's job (:class:`JobRefused` for anyone else's or an unknown id)."""
    return runner().status(job_id, _owner())


def cancel_job(job_id: str | None) -> JobStatus:
    """Cancel the current owner's job."""
    return runner().cancel(job_id, _owner())


def cancel_clicked(n_clicks: int | None, job: dict[str, Any] | None, message: Any) -> tuple[Any, bool]:
    """A page's Cancel button: cancel the followed job (if still the owner's); ``(status message, cancel disabled)``."""
    from dash.exceptions import PreventUpdate

    if not n_clicks:
        raise PreventUpdate
    with contextlib.suppress(SegmentationError):
        cancel_job((job or {}).get("id"))
    return message, True


# ---------------------------------------------------------------- progress widgets


@dataclasses.dataclass(frozen=True)
class JobWidgets:
    """The ids of one page's job widgets, and their values for each moment of a job.

    Attributes
    ----------
    store, poll : str
        ``dcc.Store`` holding ``{"id": job id}`` and the ``dcc.Interval`` that polls it.
    button, cancel : str or None
        The start button (disabled while a job runs) and the cancel button.
    box, box_class : str
        The progress block and its class while shown (``"d-none"`` hides it).
    bar, caption : str
        ``dbc.Progress`` and the caption under it.
    """

    store: str
    poll: str
    button: str | None
    cancel: str
    box: str
    box_class: str
    bar: str
    caption: str

    def register_poll_switch(self) -> None:
        """Poll while the session follows a job, also when the page is opened again while it runs.

        The switch is a clientside callback (the store's job → the poll's
        ``disabled``): a page visit costs no round trip for it.  For string
        ids (one page's widgets); the poll of a ``MATCH`` family is switched
        by the callbacks that start and follow its jobs.
        """
        clientside_callback(
            # The poll's id in the comment: one inline script (and CSP hash) per registration.
            f"function (job) {{  // {self.poll}: poll while a job is followed\n    return !(job && job.id);\n}}",
            Output(self.poll, "disabled"),
            Input(self.store, "data"),
        )

    def outputs(self, duplicate: bool = False) -> dict[str, Output]:
        """Named outputs: ``job``, ``poll``, ``button``, ``cancel``, ``box``, ``bar``, ``caption``."""
        props = {
            "job": (self.store, "data"),
            "poll": (self.poll, "disabled"),
            "button": (self.button, "disabled"),
            "cancel": (self.cancel, "disabled"),
            "box": (self.box, "className"),
            "bar": (self.bar, "value"),
            "caption": (self.caption, "children"),
        }
        return {
            name: Output(cid, prop, allow_duplicate=duplicate) for name, (cid, prop) in props.items() if cid is not None
        }

    def block(self, cancel_label: str = "Cancel", interval_ms: int = 500) -> html.Div:
        """The progress block (bar, caption, cancel button; hidden until a job starts), its store and poll."""
        return html.Div(
            [
                html.Div(
                    [
                        dbc.Progress(id=self.bar, value=0, striped=True, animated=True, label=None),
                        html.Div(
                            [
                                html.Span(id=self.caption, className="small text-body-secondary me-2"),
                                dbc.Button(cancel_label, id=self.cancel, size="sm", color="secondary", outline=True),
                            ],
                            className="d-flex align-items-center mt-1",
                        ),
                    ],
                    id=self.box,
                    className="d-none",
                ),
                dcc.Store(id=self.store),
                dcc.Interval(id=self.poll, interval=interval_ms, disabled=True),
            ]
        )

    def follow(self, job: dict[str, Any] | None) -> tuple[dict[str, Any], JobStatus | None, Any]:
        """One poll of a job: ``(widget values, finished status or None, status line or no_update)``.

        While it waits or runs: its progress and ``None``.  When it has ended: the idle widgets and its
        status, or the refusal (someone else's or an unknown job) as the status line.
        """
        if not job or not job.get("id"):
            return self.idle(), None, no_update
        try:
            status = job_status(job["id"])  # the runner refuses another owner's job
        except SegmentationError as err:
            return self.idle(), None, error_alert(str(err))
        if not status.finished:
            return self.progress(status), None, no_update
        return self.idle(), status, no_update

    def _values(self, **values: Any) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k != "button" or self.button is not None}

    def started(self, job_id: str, **extra: Any) -> dict[str, Any]:
        """A job was submitted: poll it (the store holds ``{"id": job_id, **extra}``), show the bar, allow cancel."""
        return self._values(
            job={"id": job_id, **extra},
            poll=False,
            button=True,
            cancel=False,
            box=self.box_class,
            bar=0,
            caption="Submitting…",
        )

    def progress(self, status: JobStatus) -> dict[str, Any]:
        """A job still queued or running: its percentage and what it is doing (or its place in line)."""
        return self._values(
            job=no_update,
            poll=False,
            button=True,
            cancel=False,
            box=self.box_class,
            bar=status.percent,
            caption=status.text(),
        )

    def idle(self) -> dict[str, Any]:
        """No job (finished, cancelled, refused or unknown): stop polling, hide the bar."""
        return self._values(job=None, poll=True, button=False, cancel=True, box="d-none", bar=0, caption="")

    def follow_training(
        self,
        job: dict[str, Any] | None,
        cancelled: Callable[[], Any],
        trained: Callable[[jobs.JobResult], Any],
    ) -> dict[str, Any]:
        """One poll of a training job, for a callback whose outputs are :meth:`outputs` plus ``status`` and ``trained``.

        Progress or place in line while it waits or runs; when it ends, ``trained(result)`` and the new
        version (``{"id": artifact id, "at": time}``), ``cancelled()``, or the job's error.
        """
        idle = {**self.idle(), "trained": no_update}
        if not job or not job.get("id"):
            return {**idle, "status": no_update}
        try:
            status = job_status(job["id"])
        except SegmentationError as err:
            return {**idle, "status": error_alert(str(err))}
        if not status.finished:
            return {**self.progress(status), "status": no_update, "trained": no_update}
        if status.state == "cancelled":
            return {**idle, "status": cancelled()}
        if status.state == "failed" or not status.result:
            return {**idle, "status": error_alert(status.error or "Training failed.")}
        result = jobs.JobResult(**status.result)
        return {**idle, "status": trained(result), "trained": {"id": result.artifact_id, "at": time.time()}}


__all__ = [
    "JOB_KINDS",
    "JobWidgets",
    "cancel_job",
    "compare_job",
    "estimate_compare",
    "estimate_export",
    "estimate_report",
    "estimate_train",
    "export_file",
    "fit_peak_bytes",
    "job_status",
    "make_runner",
    "report_file",
    "run_compare",
    "run_export",
    "run_report",
    "run_train",
    "runner",
    "submit",
]
