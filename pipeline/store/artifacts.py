"""Versioned, signed, atomically written model artifacts.

An artifact is a folder ``<models_dir>/<artifact_id>/`` holding

* ``manifest.json``: library versions, data hash, settings and their hash,
  created-at, row counts, metrics, feature definitions, the segment map and
  PCA variance, plus the SHA-256 of every other file and an HMAC signature;
* ``bundle-<sha>.joblib``: the fitted estimators (the only pickle);
* ``customers-<sha>.parquet``: the scored customer table (never pickled).

Writes are atomic: content files are written under temporary names and
renamed to content-addressed names, then the manifest is replaced in one
``os.replace``.  A crash at any point leaves the previous manifest pointing at
files that still exist.

Reads are defensive: the manifest must carry this app's schema tag and a
valid HMAC made with this installation's artifact-signing key (derived from
the installation secret, see :mod:`pipeline.store.keys`, which lives in the
user's config folder or ``SEGMENTS_SECRET_KEY``, never in the models folder),
file names must be plain content-addressed names inside the folder, and each
file's SHA-256 must match before anything is unpickled.  The bundle's bytes
are read and checked when the artifact is loaded, and those bytes (not the
file again) are unpickled on first use (:class:`PickledBundle`): showing a
model's manifest and customers does not import scikit-learn.  A folder that brings
its own key file and a re-signed manifest is therefore refused wherever it
is, and reading never creates a key.  A library-version mismatch raises
:class:`~pipeline.errors.ArtifactVersionError`.

Writing (:func:`save_artifact`) hashes the bytes in memory before they are
written and returns the artifact made from those bytes, as a read-back would
give it, without reading the files again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Settings
from pipeline.errors import ArtifactError, ArtifactVersionError
from pipeline.store.keys import ARTIFACT_SIGNING, derived_key, existing_derived_key

SCHEMA = "customer-segmentation/artifact"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
#: Libraries whose versions must match for the pickled bundle to be trusted.
PICKLED_LIBRARIES: tuple[str, ...] = ("scikit-learn", "numpy", "scipy", "joblib")
RECORDED_LIBRARIES: tuple[str, ...] = (*PICKLED_LIBRARIES, "pandas", "pyarrow")
_FILE_NAME = re.compile(r"[a-z]+-[0-9a-f]{16}\.(joblib|parquet|json)")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
#: The file each manifest role must name: ``<role>-<sha16><suffix>``.
_ROLE_SUFFIX = {"bundle": ".joblib", "customers": ".parquet"}


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries an artifact depends on (a new dict each call)."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    # Looking a version up scans every installed distribution (about 10 ms per library);
    # what is installed does not change while a process runs.
    versions = [("python", ".".join(map(str, sys.version_info[:3])))]
    for lib in RECORDED_LIBRARIES:
        try:
            versions.append((lib, metadata.version(lib)))
        except metadata.PackageNotFoundError:  # pragma: no cover - all are required
            versions.append((lib, "missing"))
    return tuple(versions)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def artifact_id(dataset_name: str, data_hash: str, settings_hash: str) -> str:
    """Folder name of an artifact: readable slug + data hash + settings hash."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", dataset_name).strip("-").lower()[:40] or "data"
    return f"{slug}-{data_hash[:10]}-{settings_hash[:10]}"


def signing_key(settings: Settings | None, create: bool) -> bytes | None:
    """This installation's artifact-signing key (never read from a models folder).

    Parameters
    ----------
    settings : Settings or None
        Where the installation secret lives (``None``: the default location).
    create : bool
        Writers pass ``True`` (the secret is created on first need); readers
        pass ``False`` and get ``None`` when no secret exists, so nothing verifies.
    """
    settings = settings if settings is not None else Settings()
    if create:
        return derived_key(settings, ARTIFACT_SIGNING)
    return existing_derived_key(settings, ARTIFACT_SIGNING)


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def _signature(manifest: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, _canonical(manifest), hashlib.sha256).hexdigest()


@contextlib.contextmanager
def _temp_file(directory: Path, suffix: str) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _commit_content(directory: Path, stem: str, suffix: str, data: bytes) -> dict[str, str]:
    """Write ``data`` under a temporary name, then rename it to ``<stem>-<sha16><suffix>``.

    The hash is of the bytes in memory, the very bytes written (the file is not read back).
    """
    digest = hashlib.sha256(data).hexdigest()
    name = f"{stem}-{digest[:16]}{suffix}"
    with _temp_file(directory, suffix) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, directory / name)
    return {"name": name, "sha256": digest}


def _written(write: Any) -> bytes:
    """The bytes ``write(file object)`` writes."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def write_json_atomic(path: Path, payload: dict[str, Any]) -> str:
    """Write JSON to ``path`` atomically (temp file + ``os.replace``); returns the text written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=2, default=str)
    with _temp_file(path.parent, ".json") as tmp:
        tmp.write_text(text)
        _fsync(tmp)
        os.replace(tmp, path)
    return text


def write_artifact(
    directory: Path,
    manifest: dict[str, Any],
    bundle: dict[str, Any],
    customers: pd.DataFrame,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Write an artifact atomically and return the final, signed manifest.

    Parameters
    ----------
    directory : Path
        ``<models_dir>/<artifact_id>``; created if needed.
    manifest : dict
        JSON-safe metadata (``files``, ``schema`` and ``signature`` are set here).
    bundle : dict
        Fitted estimators, pickled with joblib.
    customers : DataFrame
        Scored customer table, written as Parquet.
    settings : Settings, optional
        Where this installation's secret lives (default location if ``None``).
    """
    return _write(directory, manifest, bundle, customers, settings)[0]


def save_artifact(
    directory: Path,
    manifest: dict[str, Any],
    bundle: dict[str, Any],
    customers: pd.DataFrame,
    settings: Settings | None = None,
) -> LoadedArtifact:
    """:func:`write_artifact`, returning what :func:`load_artifact` would read back, without reading it.

    The manifest is parsed from the JSON text written, the bundle is the
    joblib bytes written (unpickled on first use, :class:`PickledBundle`)
    and the customers the Parquet bytes written (parsed on first use): the
    same values a read-back gives, without reading the files, re-hashing
    them or parsing a customer table nobody asks for.  The signature and
    hashes are made from these bytes; :func:`load_artifact` still checks
    them on every later load.
    """
    _, text, pickled, parquet = _write(directory, manifest, bundle, customers, settings)
    loaded = json.loads(text)
    check_versions(loaded)
    return LoadedArtifact(directory=Path(directory), manifest=loaded, bundle=PickledBundle(pickled), customers=parquet)


def _write(
    directory: Path,
    manifest: dict[str, Any],
    bundle: dict[str, Any],
    customers: pd.DataFrame,
    settings: Settings | None,
) -> tuple[dict[str, Any], str, bytes, bytes]:
    """Write an artifact: (signed manifest, its JSON text, the bundle's bytes, the customers' bytes)."""
    import joblib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = signing_key(settings, create=True)
    assert key is not None
    pickled = _written(lambda fh: joblib.dump(bundle, fh, compress=3))
    parquet = _written(lambda fh: customers.to_parquet(fh, index=False))
    files = {
        "bundle": _commit_content(directory, "bundle", ".joblib", pickled),
        "customers": _commit_content(directory, "customers", ".parquet", parquet),
    }
    final = {**manifest, "schema": SCHEMA, "format_version": FORMAT_VERSION, "files": files}
    final["signature"] = _signature(final, key)
    text = write_json_atomic(directory / MANIFEST_NAME, final)
    keep = {f["name"] for f in files.values()}
    for stale in directory.glob("*-*.*"):
        if _FILE_NAME.fullmatch(stale.name) and stale.name not in keep and stale.suffix != ".json":
            stale.unlink(missing_ok=True)
    return final, text, pickled, parquet


def read_manifest(directory: Path, settings: Settings | None = None) -> dict[str, Any]:
    """Read and authenticate an artifact's manifest (nothing is unpickled, no key is created).

    Parameters
    ----------
    directory : Path
        The artifact folder, anywhere on disk.
    settings : Settings, optional
        Where this installation's secret lives (default location if ``None``).

    Raises
    ------
    ArtifactError
        Missing or unreadable manifest, foreign schema, bad signature.
    """
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise ArtifactError(f"No model artifact in {directory} (no {MANIFEST_NAME}).")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ArtifactError(f"The manifest in {directory} is not valid JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise ArtifactError(f"{directory} was not written by this app; refusing to load it.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactVersionError(
            f"{directory} uses artifact format {manifest.get('format_version')}, "
            f"this app reads format {FORMAT_VERSION}; retrain."
        )
    key = signing_key(settings, create=False)
    if key is None:
        raise ArtifactError(
            f"The model in {directory} cannot be verified: this installation has no signing key yet "
            "(it has trained nothing); refusing to load it."
        )
    sig = manifest.get("signature")
    if not isinstance(sig, str) or not hmac.compare_digest(sig, _signature(manifest, key)):
        raise ArtifactError(
            f"The model in {directory} is not signed by this installation; refusing to load it "
            "(retrain it here with `python -m pipeline train`)."
        )
    return manifest


def _checked_bytes(directory: Path, manifest: dict[str, Any], role: str) -> bytes:
    """The content of the ``role`` file, read once and checked against the manifest's hash."""
    data = _named_file(directory, manifest, role).read_bytes()
    _require_hash(directory, manifest, role, hashlib.sha256(data).hexdigest())
    return data


def _require_hash(directory: Path, manifest: dict[str, Any], role: str, actual: str) -> None:
    if not hmac.compare_digest(actual, str(manifest["files"][role].get("sha256", ""))):
        raise ArtifactError(
            f"The {role} file of {directory} does not match its manifest hash; it may have "
            "been modified. Refusing to load it."
        )


def _named_file(directory: Path, manifest: dict[str, Any], role: str) -> Path:
    files = manifest.get("files")
    entry = files.get(role) if isinstance(files, dict) else None
    name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
    if not _FILE_NAME.fullmatch(name) or not name.startswith(f"{role}-") or not name.endswith(_ROLE_SUFFIX[role]):
        raise ArtifactError(f"The manifest in {directory} does not name a valid {role} file.")
    path = directory / entry["name"]
    if not path.is_file():
        raise ArtifactError(f"The {role} file of {directory} is missing ({entry['name']}).")
    return path


def check_versions(manifest: dict[str, Any]) -> None:
    """Raise :class:`ArtifactVersionError` if pickled libraries' versions differ."""
    saved = manifest.get("library_versions", {})
    now = library_versions()
    diff = [f"{lib} {saved.get(lib)} → {now[lib]}" for lib in PICKLED_LIBRARIES if saved.get(lib) != now[lib]]
    if diff:
        raise ArtifactVersionError(
            f"The model in {manifest.get('artifact_id', '?')} was saved with other library "
            f"versions ({'; '.join(diff)}); retrain it."
        )


class PickledBundle(Mapping[str, Any]):
    """An artifact's fitted estimators: bytes that matched the signed manifest, unpickled on first use.

    :func:`load_artifact` reads the file and checks its SHA-256 before building
    this; reading a key unpickles *those bytes* (importing scikit-learn), so
    what was checked is what is loaded, and pages that need only the manifest
    and the customers never unpickle.  Two threads reading first at once may
    both unpickle (the same bytes, the same result): no lock to inherit
    across ``fork``.
    """

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data
        self._value: dict[str, Any] | None = None

    def _loaded(self) -> dict[str, Any]:
        value = self._value
        if value is None:
            import joblib  # with scikit-learn, here only (and when writing)

            value = joblib.load(io.BytesIO(self._data or b""))
            self._value, self._data = value, None
        return value

    def __getitem__(self, key: str) -> Any:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


@dataclasses.dataclass(frozen=True, init=False)
class LoadedArtifact:
    """An authenticated artifact in memory.

    ``bundle``: a dict, or a :class:`PickledBundle` when loaded from disk.
    ``customers`` is given as a frame or as the Parquet bytes that were
    written (:func:`save_artifact`), parsed on first use (two threads reading
    first at once may both parse: the same bytes, the same frame).
    """

    directory: Path
    manifest: dict[str, Any]
    bundle: Mapping[str, Any]

    def __init__(
        self, directory: Path, manifest: dict[str, Any], bundle: Mapping[str, Any], customers: pd.DataFrame | bytes
    ) -> None:
        object.__setattr__(self, "directory", directory)
        object.__setattr__(self, "manifest", manifest)
        object.__setattr__(self, "bundle", bundle)
        object.__setattr__(self, "_customers", customers)

    @property
    def customers(self) -> pd.DataFrame:
        """The scored customer table."""
        value = self._customers
        if isinstance(value, bytes):
            value = pd.read_parquet(io.BytesIO(value))
            object.__setattr__(self, "_customers", value)
        return value

    @property
    def artifact_id(self) -> str:
        """The artifact's version id (its folder name)."""
        return str(self.manifest["artifact_id"])


def load_artifact(directory: Path, settings: Settings | None = None) -> LoadedArtifact:
    """Authenticate and load an artifact.

    Parameters
    ----------
    directory : Path
        The artifact folder, anywhere on disk.
    settings : Settings, optional
        Where this installation's secret lives (default location if ``None``).

    Raises
    ------
    ArtifactError
        Foreign, unsigned or tampered artifact.
    ArtifactVersionError
        Saved with other versions of the pickled libraries.
    """
    directory = Path(directory)
    manifest = read_manifest(directory, settings)
    bundle = _checked_bytes(directory, manifest, "bundle")
    parquet = _checked_bytes(directory, manifest, "customers")
    check_versions(manifest)
    customers = pd.read_parquet(io.BytesIO(parquet))
    return LoadedArtifact(directory=directory, manifest=manifest, bundle=PickledBundle(bundle), customers=customers)


def list_manifests(models_dir: Path, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Authenticated manifests of every artifact under ``models_dir``, newest first.

    Folders that fail authentication (foreign, forged, damaged manifest) are left out.
    """
    out = []
    root = Path(models_dir)
    if not root.is_dir():
        return out
    for child in sorted(root.iterdir()):
        if child.is_dir() and valid_artifact_id(child.name) and (child / MANIFEST_NAME).is_file():
            with contextlib.suppress(ArtifactError):
                out.append(read_manifest(child, settings))
    return sorted(out, key=lambda m: m.get("created_at", ""), reverse=True)


def valid_artifact_id(value: str) -> bool:
    """True if ``value`` is a safe artifact folder name (no path parts)."""
    return isinstance(value, str) and bool(_ID.fullmatch(value)) and ".." not in value
