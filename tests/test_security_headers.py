"""Security headers and session cookie flags (issue 8, "use the well-kept pieces").

Every response of the app (page, callback JSON, asset, 404, robots file)
carries the content security policy, ``frame-ancestors 'none'`` /
``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy`` and COOP; HSTS only
over HTTPS.  The policy allows exactly the inline scripts the page holds (by
hash), never ``'unsafe-inline'`` scripts.  The session cookie (set on a
browser's first request, :mod:`dashboard.identity`) is ``HttpOnly`` and
``SameSite=Lax``, and ``Secure`` when the request came over HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import flask
import pytest

from dashboard import ids, security

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NAVBAR_BODY = {
    "output": f"..{ids.NAV_DATASET}.children...{ids.NAV_VERSION}.children..",
    "outputs": [{"id": ids.NAV_DATASET, "property": "children"}, {"id": ids.NAV_VERSION, "property": "children"}],
    "inputs": [{"id": ids.ACTIVE_ARTIFACT, "property": "data", "value": None}],
    "state": [],
    "changedPropIds": [],
}


def csp_directives(value: str) -> dict[str, list[str]]:
    """``"a x y; b z"`` → ``{"a": ["x", "y"], "b": ["z"]}``."""
    out = {}
    for part in value.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_security_headers(resp: Any) -> dict[str, list[str]]:
    """Every fixed header is there with its value; returns the parsed CSP."""
    for name, value in EXPECTED.items():
        assert resp.headers.get(name) == value, (name, resp.headers.get(name))
    csp = csp_directives(resp.headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP
    return csp


def inline_scripts(html: str) -> list[str]:
    """Executable inline scripts of a page (not JSON data blocks, not IE conditional comments)."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    scripts = []
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        if "src=" in attrs or "application/json" in attrs:
            continue
        scripts.append(body)
    return scripts


def sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def test_policy_known_answer() -> None:
    assert security.content_security_policy(["'sha256-AAA='"]) == (
        "default-src 'self'; script-src 'self' 'sha256-AAA='; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


@pytest.mark.parametrize("path", ["/", "/segments", "/simulator", "/data"])
def test_page_response_headers(dash_app, path: str) -> None:
    resp = dash_app.server.test_client().get(path)
    assert resp.status_code == 200
    csp = assert_security_headers(resp)
    scripts = inline_scripts(resp.get_data(as_text=True))
    assert len(scripts) >= 2  # Dash's renderer start-up and the clientside callbacks
    allowed = set(csp["script-src"])
    assert {sha256(s) for s in scripts} <= allowed, "an inline script of the page is not allowed by the CSP"
    assert csp["script-src"][0] == "'self'"
    assert len(allowed) == 1 + len(dash_app.csp_hashes())


def test_callback_response_headers(dash_app) -> None:
    resp = dash_app.server.test_client().post("/_dash-update-component", json=NAVBAR_BODY)
    assert resp.status_code == 200 and resp.is_json
    assert_security_headers(resp)


@pytest.mark.parametrize("path", ["/_dash-layout", "/assets/app.css", "/no-such-file.js"])
def test_other_responses_have_headers(dash_app, path: str) -> None:
    resp = dash_app.server.test_client().get(path)
    assert_security_headers(resp)


def test_robots_txt(dash_app) -> None:
    resp = dash_app.server.test_client().get("/robots.txt")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    assert resp.get_data(as_text=True) == "User-agent: *\nDisallow: /\n"
    assert_security_headers(resp)


def session_cookie(resp: Any, name: str) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert len(cookies) == 1, resp.headers.getlist("Set-Cookie")
    return cookies[0]


def flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_session_cookie_flags_over_http(dash_app) -> None:
    """A new browser's first page gets its identity cookie: HttpOnly, SameSite=Lax, not Secure over HTTP."""
    resp = dash_app.server.test_client().get("/")
    cookie = session_cookie(resp, dash_app.server.config["SESSION_COOKIE_NAME"])
    assert {"httponly", "samesite=lax", "path=/"} <= flags(cookie)
    assert "secure" not in flags(cookie)


@pytest.mark.parametrize(
    "kwargs",
    [{"base_url": "https://segments.example"}, {"headers": {"X-Forwarded-Proto": "https"}}],
    ids=["https", "behind-proxy"],
)
def test_session_cookie_secure_and_hsts_over_https(dash_app, kwargs: dict[str, Any]) -> None:
    resp = dash_app.server.test_client().get("/", **kwargs)
    cookie = session_cookie(resp, dash_app.server.config["SESSION_COOKIE_NAME"])
    assert {"httponly", "samesite=lax", "secure"} <= flags(cookie)
    assert resp.headers["Strict-Transport-Security"] == security.HSTS
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_header_set_by_a_view_is_kept() -> None:
    """A response that sets its own policy (e.g. a download) keeps it; the rest are added."""
    server = flask.Flask(__name__)
    security.install(server, ["'sha256-x'"])

    @server.route("/own")
    def own() -> flask.Response:
        return flask.Response("x", headers={"Referrer-Policy": "no-referrer"})

    resp = server.test_client().get("/own")
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "'sha256-x'" in resp.headers["Content-Security-Policy"]


def test_immutable_files_neither_set_the_cookie_nor_vary_on_it(dash_app) -> None:
    """A stamped asset or fingerprinted script is the same for everyone: cacheable whatever the cookie."""
    client = dash_app.server.test_client()
    page = client.get("/")
    assert session_cookie(page, dash_app.server.config["SESSION_COOKIE_NAME"])
    assert "Cookie" in page.headers["Vary"]
    index = page.get_data(as_text=True)
    stamped = re.search(r'src="(/assets/vendor/plotly-2d\.min\.js\?m=[0-9.]+)"', index).group(1)
    suite = re.search(r'src="(/_dash-component-suites/dash/deps/react@[^"]+)"', index).group(1)
    for path in (stamped, suite):
        resp = client.get(path)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert resp.headers.getlist("Set-Cookie") == []
        assert "Cookie" not in resp.headers.get("Vary", "")


def test_unstamped_assets_and_callbacks_still_refresh_the_session(dash_app) -> None:
    client = dash_app.server.test_client()
    client.get("/")
    name = dash_app.server.config["SESSION_COOKIE_NAME"]
    for resp in (client.get("/assets/app.css"), client.post("/_dash-update-component", json=NAVBAR_BODY)):
        assert resp.status_code == 200
        assert session_cookie(resp, name)
        assert "Cookie" in resp.headers["Vary"]
