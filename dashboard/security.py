"""Security headers on every response, and a robots file.

:func:`install` adds, to every response of the Flask server (pages, callback
JSON, assets, errors):

- ``Content-Security-Policy``: scripts only from this server plus Dash's own
  inline scripts by hash (``Dash.csp_hashes()``: the renderer start-up and the
  clientside callbacks), no ``eval`` (plotly.js, the 3D scatter and
  dash-ag-grid's ``{"function": ...}`` formatters work without it: checked in
  Chromium by ``tests/browser/test_csp.py``); inline styles because React and
  Plotly set style attributes; images, fonts and workers also from
  ``data:``/``blob:`` (Plotly's image export, icon fonts); no plugins, no
  foreign forms, and ``frame-ancestors 'none'``;
- ``X-Frame-Options: DENY`` (the same for older browsers),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``Cross-Origin-Opener-Policy: same-origin``;
- ``Strict-Transport-Security`` only on requests that arrived over HTTPS
  (directly or ``X-Forwarded-Proto: https`` from a proxy); browsers ignore
  it over plain HTTP, and a laptop at ``http://127.0.0.1`` keeps working.

The session cookie's flags (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over
HTTPS) are set where the session is configured,
:func:`dashboard.app.configure_sessions`.

Written here rather than taken from flask-talisman: the headers are fixed
strings computed once, and Talisman's defaults (redirect to HTTPS, HSTS and
``Secure`` session cookies everywhere) would have to be switched off for
plain-HTTP use while its ``init_app`` overwrites the session cookie settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import flask

ROBOTS_TXT = "User-agent: *\nDisallow: /\n"
HSTS = "max-age=31536000"


def content_security_policy(script_hashes: Sequence[str]) -> str:
    """The CSP header value, with Dash's inline-script hashes (``'sha256-...'``) allowed."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(script_hashes: Sequence[str]) -> dict[str, str]:
    """Headers set on every response (HSTS aside, which depends on the request)."""
    return {
        "Content-Security-Policy": content_security_policy(script_hashes),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def _is_https() -> bool:
    forwarded = flask.request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return flask.request.is_secure or forwarded == "https"


def install(server: flask.Flask, script_hashes: Sequence[str] = ()) -> None:
    """Add the security headers to every response of ``server`` and answer ``/robots.txt``.

    Parameters
    ----------
    server : flask.Flask
        The Dash app's server, after every callback is registered.
    script_hashes : sequence of str
        ``Dash.csp_hashes()`` of the app (its inline scripts).
    """
    headers = security_headers(script_hashes)

    @server.after_request
    def _add_headers(response: flask.Response) -> flask.Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if _is_https():
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    @server.route("/robots.txt")
    def _robots() -> flask.Response:
        return flask.Response(ROBOTS_TXT, mimetype="text/plain")
