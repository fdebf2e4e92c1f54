"""Who is asking: the owner identity of the current request.

Three ways, chosen when the app is built (:func:`install`):

- **anonymous** (default): each browser gets a random owner id
  (``anon-<32 hex>``) kept in Flask's signed session cookie, created on its
  first request.  Clearing cookies means a new owner.
- **login** (``python -m dashboard --auth FILE``): HTTP Basic login checked
  against password hashes (:mod:`werkzeug.security`) in a small JSON file;
  the owner is ``user:<name>``.
- **trusted header** (``--trusted-user-header NAME``): behind a company SSO
  proxy that sets the header; the owner is ``user:<value>``.  A request
  without the header is refused (401).

Request identities always carry a prefix, so no browser can ever be the
``"system"`` owner of :mod:`pipeline.store.registry`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import flask
from werkzeug.security import check_password_hash

from pipeline.errors import AccessDenied, DataError
from pipeline.store.registry import new_anonymous_owner

SESSION_OWNER = "owner"
SESSION_USER = "user"
SESSION_USER_HASH = "user_hash"
CONFIG_KEY = "SEGMENTS_IDENTITY"
_ANON = re.compile(r"^anon-[0-9a-f]{32}$")
_USER = re.compile(r"^[A-Za-z0-9._@+-]{1,100}$")
REALM = "Customer Segments"


@dataclasses.dataclass(frozen=True)
class IdentityConfig:
    """How requests are identified.

    Attributes
    ----------
    users : dict or None
        ``name → werkzeug password hash`` when ``--auth FILE`` is used.
    trusted_header : str or None
        Header set by an SSO proxy (``--trusted-user-header``).
    """

    users: dict[str, str] | None = None
    trusted_header: str | None = None

    @property
    def mode(self) -> str:
        """``"header"``, ``"login"`` or ``"anonymous"``."""
        if self.trusted_header:
            return "header"
        return "login" if self.users is not None else "anonymous"


def load_users(path: Path) -> dict[str, str]:
    """Users of an ``--auth`` file: ``{"users": {"alice": "<werkzeug hash>", ...}}``.

    Create a hash with ``python -c "from werkzeug.security import generate_password_hash as g; print(g('pw'))"``.

    Raises
    ------
    DataError
        Unreadable file, not that shape, a bad user name or a plain-text password.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise DataError(f"Cannot read the --auth file {path}: {err.strerror or err}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataError(f"The --auth file {path} is not JSON.") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not users:
        raise DataError(
            f'The --auth file {path} needs {{"users": {{"name": "<password hash>"}}}} with at least one user.'
        )
    for name, hashed in users.items():
        if not _USER.match(str(name)):
            raise DataError(f"User name {name!r} in {path} may only hold letters, digits and . _ @ + -.")
        if not isinstance(hashed, str) or not re.match(r"^(scrypt|pbkdf2):", hashed):
            raise DataError(
                f"The password of {name} in {path} is not a werkzeug password hash (scrypt:… or pbkdf2:…); "
                "store hashes, never passwords."
            )
    return {str(k): str(v) for k, v in users.items()}


def install(server: flask.Flask, config: IdentityConfig) -> None:
    """Check or create the identity before every request of ``server``.

    Login and trusted-header modes answer 401 to a request without a valid
    identity; the anonymous mode gives a new browser its random owner id.
    """
    server.config[CONFIG_KEY] = config

    @server.before_request
    def _identify() -> Any:
        owner = _resolve(config)
        if owner is None:
            headers = {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'} if config.mode == "login" else {}
            return flask.Response("Sign-in required.\n", 401, headers, mimetype="text/plain")
        flask.g.segments_owner = owner
        return None


def _resolve(config: IdentityConfig) -> str | None:
    """The owner of the current request, or None when it has no valid identity.

    Login mode checks the password hash once per browser session (a scrypt
    check takes a noticeable fraction of a second) and then trusts the signed
    session, as long as the user still has the same password hash.
    """
    if config.mode == "anonymous":
        owner = flask.session.get(SESSION_OWNER)
        if not isinstance(owner, str) or not _ANON.match(owner):
            owner = new_anonymous_owner()
            flask.session[SESSION_OWNER] = owner
            flask.session.permanent = True
        return owner
    if config.mode == "header":
        value = (flask.request.headers.get(str(config.trusted_header)) or "").strip()
        return f"user:{value}" if _USER.match(value) else None
    users = config.users or {}
    auth = flask.request.authorization
    remembered = flask.session.get(SESSION_USER)
    if (
        isinstance(remembered, str)
        and remembered in users
        and flask.session.get(SESSION_USER_HASH) == _fingerprint(users[remembered])
        and (auth is None or auth.username == remembered)
    ):
        return f"user:{remembered}"
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    hashed = users.get(auth.username)
    if hashed is None or not check_password_hash(hashed, auth.password or ""):
        return None
    flask.session[SESSION_USER] = auth.username
    flask.session[SESSION_USER_HASH] = _fingerprint(hashed)
    flask.session.permanent = True
    return f"user:{auth.username}"


def _fingerprint(hashed: str) -> str:
    """A short digest of a password hash: a changed password ends the sessions signed in with the old one."""
    return hashlib.sha256(hashed.encode()).hexdigest()[:16]


def current_owner() -> str:
    """The owner identity of the current request (``anon-…`` or ``user:<name>``).

    Raises
    ------
    AccessDenied
        Outside a request, or a request without a valid identity (the
        ``before_request`` hook normally answered it already).
    """
    if not flask.has_request_context():
        raise AccessDenied("No request identity here; pass the owner explicitly.")
    owner = flask.g.get("segments_owner")
    if isinstance(owner, str):
        return owner
    config: IdentityConfig = flask.current_app.config.get(CONFIG_KEY) or IdentityConfig()
    owner = _resolve(config)  # a request context without the hook (tests, scripts)
    if owner is None:
        raise AccessDenied("Sign-in required.")
    flask.g.segments_owner = owner
    return owner


def display_owner(owner: str) -> str:
    """How an owner is shown to others: the user name, "the server", or "another visitor"."""
    if owner == "system":
        return "the server"
    if owner.startswith("user:"):
        return owner.removeprefix("user:")
    return "another visitor"


__all__ = ["IdentityConfig", "current_owner", "display_owner", "install", "load_users"]
