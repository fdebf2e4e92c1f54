"""This installation's secret, kept outside the repository and the models folder.

One secret per installation signs model artifacts and the web app's session
cookie.  It comes from, in order:

1. the ``SEGMENTS_SECRET_KEY`` environment variable, if set and not empty;
2. a file, ``Settings.secret_file`` if given, else
   ``$XDG_CONFIG_HOME/customer-segments/secret-key`` (default
   ``~/.config/customer-segments/secret-key``), created with mode 0600 (its
   folder 0700) the first time a key is *needed for writing*.

Reading (verifying an artifact) never creates the secret: with no secret,
nothing verifies, so nothing is loaded.  Each use gets its own key derived
with HMAC-SHA256 from the secret and a purpose string (``"artifact-signing"``,
``"flask-session"``), so a leaked session key does not sign models.

Because the file is not under ``models/``, a folder that brings its own
``.signing-key`` and a re-signed manifest is not trusted, wherever it is.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import SegmentationError

if TYPE_CHECKING:
    from pipeline.config import Settings

ENV_VAR = "SEGMENTS_SECRET_KEY"
APP_DIR_NAME = "customer-segments"
SECRET_FILE_NAME = "secret-key"
ARTIFACT_SIGNING = "artifact-signing"
FLASK_SESSION = "flask-session"
PURPOSES: tuple[str, ...] = (ARTIFACT_SIGNING, FLASK_SESSION)
_MIN_SECRET_BYTES = 16


class SecretKeyError(SegmentationError):
    """The installation secret exists but cannot be used (unsafe mode, empty, unreadable)."""


def config_dir() -> Path:
    """The user configuration folder of this app (``$XDG_CONFIG_HOME`` or ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / APP_DIR_NAME


def secret_path(settings: Settings) -> Path:
    """Where the secret file is (or would be) kept for ``settings``."""
    custom = getattr(settings, "secret_file", None)
    return Path(custom) if custom is not None else config_dir() / SECRET_FILE_NAME


def _read_secret(path: Path) -> bytes:
    try:
        return _read_secret_file(path)
    except OSError as err:
        raise SecretKeyError(f"Cannot read the secret key file {path}: {err.strerror or err}.") from None


def _read_secret_file(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"The secret key file {path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`."
        )
    data = path.read_bytes().strip()
    if len(data) < _MIN_SECRET_BYTES:
        raise SecretKeyError(f"The secret key file {path} is too short; delete it to create a new one.")
    return data


def _create_secret(path: Path) -> bytes:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return _read_secret(path)
    except OSError as err:
        raise SecretKeyError(
            f"Cannot create the secret key file {path}: {err.strerror or err}. "
            f"Set {ENV_VAR} or make its folder writable."
        ) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode())
        fh.flush()
        os.fsync(fh.fileno())
    return _read_secret(path)


def installation_secret(settings: Settings, create: bool) -> bytes | None:
    """This installation's secret, or ``None`` if there is none and ``create`` is false.

    Parameters
    ----------
    settings : Settings
        ``settings.secret_file`` (if set) overrides the default file location.
    create : bool
        Create the secret file (mode 0600) if it does not exist.  Readers pass
        ``False`` so that verifying never invents a key.

    Raises
    ------
    SecretKeyError
        The file exists but is readable by others, empty or too short.
    """
    env = os.environ.get(ENV_VAR, "")
    if env.strip():
        if len(env.strip()) < _MIN_SECRET_BYTES:
            raise SecretKeyError(f"{ENV_VAR} is too short; use at least {_MIN_SECRET_BYTES} characters.")
        return env.strip().encode()
    path = secret_path(settings)
    if path.is_file():
        return _read_secret(path)
    if not create:
        return None
    return _create_secret(path)


def _derive(secret: bytes, purpose: str) -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}; one of {', '.join(PURPOSES)}")
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def derived_key(settings: Settings, purpose: str) -> bytes:
    """The key for ``purpose`` (created with the secret if this is the first use).

    Parameters
    ----------
    settings : Settings
        Where the secret lives.
    purpose : str
        One of :data:`PURPOSES`: ``"artifact-signing"`` or ``"flask-session"``.
    """
    secret = installation_secret(settings, create=True)
    assert secret is not None
    return _derive(secret, purpose)


def existing_derived_key(settings: Settings, purpose: str) -> bytes | None:
    """The key for ``purpose`` if the secret exists already, else ``None`` (never creates it)."""
    secret = installation_secret(settings, create=False)
    return None if secret is None else _derive(secret, purpose)
