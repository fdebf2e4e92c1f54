"""The app factory: shell layout, navbar, theme, background jobs.

``create_app`` trains or loads the default artifact (never at import time),
registers the pages from ``dashboard/pages`` and returns a ``Dash`` app.  The
shell holds only small state: the session's artifact id and the theme.

Start-up is kept to what the first response needs: a known default artifact
is recognised from signed records (:mod:`pipeline.segmentation.start`), and
neither scikit-learn nor SciPy is imported, nor the artifact unpickled, nor
Plotly's templates built, until a request needs them (each once per process).
:func:`warm_up` does all of that at once, for a server that forks workers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
import plotly.graph_objects as go
from dash import Input, Output, State, clientside_callback, dcc, html
from flask.sessions import SecureCookieSessionInterface

from pipeline.config import Settings
from pipeline.segmentation.start import default_artifact_id as trained_artifact_id
from pipeline.store.keys import FLASK_SESSION, derived_key

from . import ids
from .asset_bundle import install as install_asset_bundle
from .components import nav_pages
from .compression import cache_control
from .compression import install as install_compression
from .deferred_scripts import install as install_deferred_scripts
from .file_downloads import install as install_file_downloads
from .first_render import ROUTING_INPUTS
from .grid_loading import install as install_grid_loading
from .identity import IdentityConfig
from .identity import install as install_identity
from .plotly_loading import install as install_plotly_loading
from .security import install as install_security
from .serve import setup_now
from .services import EXTENSION_KEY, SegmentationService, view
from .tasks import RUNNER_KEY, make_runner
from .theme import THEMES, template

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "pages"
TITLE = "Customer Segments"
#: Asset files kept off the pages: the full icon stylesheet the served subset is built from (assets/vendor/build_icons.py).
#: The 3-D plotly.js bundle is run only once a 3-D chart is drawn (dashboard/plotly_loading.py); regenerator-runtime
#: takes the place of Dash's polyfill (dashboard/deferred_scripts.py); vendored licences are files, not assets.
ASSETS_IGNORE = r"\.source\.css$|^plotly-3d\.min\.js$|^regenerator-runtime\.js$|\.LICENSE$"
#: The page's meta description where a page has none of its own (each page sets one in ``register_page``).
DESCRIPTION = "Customer segmentation dashboard: segments, their value and churn risk, and what to do about each."
#: Dash's page template with the document language set (screen readers pick their voice from it).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def create_app(
    settings: Settings | None = None,
    data_path: str | Path | None = None,
    default_artifact_id: str | None = None,
    identity: IdentityConfig | None = None,
    share_cli_models: bool = False,
) -> dash.Dash:
    """Build the Dash app.

    Parameters
    ----------
    settings : Settings, optional
        Pipeline settings (models and data folders, k, ...).
    data_path : path, optional
        Customer table for the default data set; the built-in sample if None.
    default_artifact_id : str, optional
        Use this existing artifact instead of training/loading one.
    identity : IdentityConfig, optional
        Login users or a trusted SSO header; default: each browser is its own
        anonymous owner (:mod:`dashboard.identity`).
    share_cli_models : bool
        List versions trained outside the app (command line) for everyone,
        read-only; by default browsers do not see them.

    Returns
    -------
    dash.Dash
    """
    settings = settings or Settings()
    if default_artifact_id is None:
        # As `python -m pipeline train` (a log clusters recency, a feature without real spread is
        # left out); an unchanged file whose model is saved is recognised without reading it.
        default_artifact_id = trained_artifact_id(data_path, settings)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ROOT / "assets"),
        assets_ignore=ASSETS_IGNORE,
        title=TITLE,
        description=DESCRIPTION,
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        index_string=INDEX_STRING,
        routing_callback_inputs=ROUTING_INPUTS,  # each page's first figures come with its layout
    )
    svc = SegmentationService(settings, default_artifact_id, share_cli_models=share_cli_models)
    svc.register_default()
    app.server.extensions[EXTENSION_KEY] = svc
    # Training and comparisons: the one bounded job runner (dashboard.runner), shared by every worker process.
    app.server.extensions[RUNNER_KEY] = make_runner(settings)
    configure_sessions(app.server, settings)
    install_identity(app.server, identity or IdentityConfig())
    app.server.config["MAX_CONTENT_LENGTH"] = (settings.max_upload_mb + 20) * 1024 * 1024
    install_file_downloads(app)  # GET /download/<job id>: a finished job's file, to its owner only
    app.layout = shell()
    setup_now(app)  # every callback registered before the first request (Dash does it lazily, racing)
    install_deferred_scripts(app)  # before the CSP hashes: it changes the inline renderer script
    install_asset_bundle(app)  # after the deferred scripts: it rewrites Dash's own tags, which are deferred after it
    install_security(app.server, app.csp_hashes())
    install_compression(app.server)
    install_grid_loading(app)  # after compression: it edits bodies before they are compressed
    install_plotly_loading(app)  # likewise
    stop_serving_full_plotly(app)
    return app


def warm_up(app: dash.Dash) -> None:
    """Do now what the first requests would: unpickle the default artifact (importing scikit-learn), build Plotly's templates.

    For ``--workers N``: run in the master before gunicorn forks, every worker
    starts with them in (copy-on-write) memory instead of each paying on its
    first requests.  The single-process server skips it to answer sooner.
    """
    svc: SegmentationService = app.server.extensions[EXTENSION_KEY]
    svc.view(svc.default_id).artifact.bundle["pipeline"]  # reading a key unpickles the bundle
    for name in THEMES:
        go.Figure(layout={"template": template(name)}).to_plotly_json()


def stop_serving_full_plotly(app: dash.Dash) -> None:
    """Unregister the full ``plotly.min.js`` (4.8 MB) Dash would fetch for a graph when ``window.Plotly`` is missing.

    The pages get plotly.js from ``assets/vendor/plotly-2d.min.js`` or ``plotly-3d.min.js``
    (only the trace types the app draws; :mod:`dashboard.plotly_loading`), so ``dcc.Graph``
    never asks for the full one; taking it off the
    served files makes a page that somehow lacks the partial bundle fail visibly (the
    graph reports that plotly.js did not load) instead of quietly downloading 4.8 MB.
    """
    dcc._js_dist[:] = [r for r in dcc._js_dist if r.get("namespace") != "plotly"]
    app.registered_paths.pop("plotly", None)


def configure_sessions(server: flask.Flask, settings: Settings) -> None:
    """Signed session cookie: key derived from the installation secret; HttpOnly, SameSite=Lax, Secure over HTTPS.

    ``Secure`` is set per response when the request came over HTTPS (directly
    or, behind a proxy, with ``X-Forwarded-Proto: https``), so plain-HTTP use
    on a laptop keeps working.
    """
    server.secret_key = derived_key(settings, FLASK_SESSION)
    server.config.update(
        SESSION_COOKIE_NAME="segments_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=30),
    )
    server.session_interface = _HttpsAwareSessions()


class _HttpsAwareSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with ``Secure`` whenever the request is HTTPS, and none on immutable files.

    A fingerprinted script or stamped asset is the same for every visitor, so
    its response neither sets the cookie nor says ``Vary: Cookie``.  Before,
    every asset carried a fresh ``Set-Cookie`` (the session is refreshed on
    each request, and its signature holds the time) and ``Vary: Cookie``: the
    browser cache could not reuse an asset fetched under an older cookie, so the
    3-D bundle prefetched at idle was downloaded again on the switch to the
    explorer, and a shared proxy could cache none of them.  The identity check
    itself still runs on these requests (login mode still answers 401).
    """

    def save_session(self, app: flask.Flask, session: Any, response: flask.Response) -> None:
        if flask.has_request_context() and cache_control(flask.request) is not None:
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        if flask.has_request_context():
            forwarded = flask.request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
            if flask.request.is_secure or forwarded == "https":
                return True
        return bool(app.config["SESSION_COOKIE_SECURE"])


def navbar() -> dbc.Navbar:
    """Top bar: brand, one link per registered page, data set and theme switch."""
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact")) for page in nav_pages()]
    right = html.Div(
        [
            html.Div(
                [
                    html.Div(id=ids.NAV_DATASET, className="fw-semibold text-truncate"),
                    html.Div(id=ids.NAV_VERSION, className="text-body-secondary small text-truncate"),
                ],
                className="me-3 nav-dataset lh-sm",
                title="Active data set and model version",
            ),
            dcc.Link(
                [
                    html.I(className="bi bi-easel", **{"aria-hidden": "true"}),
                    html.Span(" Present", className="d-none d-xxl-inline"),
                    html.Span("Presentation mode", className="visually-hidden d-xxl-none"),
                ],
                href="/present",
                id=ids.NAV_PRESENT,
                className="btn btn-sm btn-outline-secondary me-3 text-nowrap",
                title="Presentation mode: the story one screen at a time (arrow keys)",
            ),
            html.I(className="bi bi-sun me-1", title="Light theme", **{"aria-hidden": "true"}),
            dbc.Switch(
                id=ids.THEME_SWITCH,
                value=False,
                className="mb-0 d-inline-block",
                persistence=True,
                label="Dark theme",
                label_class_name="visually-hidden",
            ),
            html.I(className="bi bi-moon-stars", title="Dark theme", **{"aria-hidden": "true"}),
        ],
        className="d-flex align-items-center py-1",
    )
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.I(className="bi bi-people-fill me-2"), TITLE], href="/", className="fw-semibold"),
                dbc.NavbarToggler(id=ids.NAV_TOGGLER, n_clicks=0),
                dbc.Collapse(
                    [dbc.Nav(links, navbar=True, className="me-auto"), right],
                    id=ids.NAV_COLLAPSE,
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        className="border-bottom app-navbar",
        color="body",
        dark=False,
        expand="xl",
        sticky="top",
    )


def shell() -> html.Div:
    """The page frame around ``dash.page_container``."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Store(id=ids.ACTIVE_ARTIFACT, storage_type="session"),
            dcc.Store(id=ids.THEME, storage_type="local", data="light"),
            html.Div(id=ids.THEME_DUMMY, hidden=True),
            html.A("Skip to content", href=f"#{ids.MAIN}", className="visually-hidden-focusable skip-link"),
            navbar(),
            html.Main(
                dbc.Container(dash.page_container, fluid=True, className="app-main py-3"),
                id=ids.MAIN,
                tabIndex="-1",
            ),
        ]
    )


@dash.callback(
    Output(ids.NAV_DATASET, "children"),
    Output(ids.NAV_VERSION, "children"),
    Input(ids.ACTIVE_ARTIFACT, "data"),
)
def show_active_dataset(artifact_id: str | None) -> tuple[str, str]:
    """Navbar text for the session's data set and model version."""
    v = view(artifact_id)
    if v.notice:  # the session's choice is not shown: say so instead of swapping silently
        return v.manifest["data"]["name"], f"⚠ {v.notice}"
    return v.manifest["data"]["name"], v.label


@dash.callback(Output(ids.THEME, "data"), Input(ids.THEME_SWITCH, "value"), prevent_initial_call=True)
def store_theme(dark: bool | None) -> str:
    """Theme switch → theme store (read by every figure callback)."""
    return "dark" if dark else "light"


clientside_callback(
    "function (n, isOpen) { return n ? !isOpen : isOpen; }",
    Output(ids.NAV_COLLAPSE, "is_open"),
    Input(ids.NAV_TOGGLER, "n_clicks"),
    State(ids.NAV_COLLAPSE, "is_open"),
)

clientside_callback(
    """function (theme) {
        document.documentElement.setAttribute('data-bs-theme', theme || 'light');
        return '';
    }""",
    Output(ids.THEME_DUMMY, "children"),
    Input(ids.THEME, "data"),
)

__all__ = ["create_app", "warm_up"]
