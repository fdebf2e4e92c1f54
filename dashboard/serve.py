"""Serving: Dash's set-up before the first request, and several worker processes (gunicorn).

:func:`setup_now` runs what Dash otherwise does lazily on the first request
(copying the ``@dash.callback`` registrations into the app, adding the pages
router).  Dash marks that set-up done *before* doing it, so requests arriving
together just after start could find a half-filled callback map and fail
with ``KeyError: 'Callback function not found for output ...'``.  Running it
in :func:`dashboard.app.create_app` means every callback is registered before
the server accepts a connection, with ``app.run`` and before gunicorn forks.

``python -m dashboard --workers N`` builds the app once in the master process
(training or loading the default artifact a single time), then forks N
gunicorn workers that share nothing but the files on disk: artifacts under
``models/``, uploads, the owner registry and the job queue under ``data/``.
Each access-log line carries the worker's pid.  Gunicorn's control socket
(by default one shared path, ``~/.gunicorn/gunicorn.ctl``, for every server
on the machine) is switched off: nothing here uses it, and nothing is
written outside the models and data folders.
"""

from __future__ import annotations

from typing import Any

import dash
from flask import Flask
from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(h)s pid=%(p)s "%(r)s" %(s)s %(b)s %(M)sms'
_PAGES_ROUTERS = ("router_sync", "router_async")


def setup_now(app: dash.Dash) -> None:
    """Register every callback of ``app`` now instead of on its first request.

    Runs Dash's own first-request hooks (``Dash._setup_server`` and, with
    ``use_pages``, the pages router that registers the page-switching
    callback) once, in the building thread; afterwards both hooks are no-ops.
    As in Dash, the module-level ``@dash.callback`` registrations go to the
    first app set up in the process (one app per process, as served).

    Raises
    ------
    RuntimeError
        If this Dash version no longer has the pages router hook (the
        set-up would be incomplete; checked so an upgrade cannot bring the
        start-up race back silently).
    """
    app._setup_server()
    if app.use_pages:
        hooks = [f for f in app.server.before_request_funcs.get(None, []) if f.__name__ in _PAGES_ROUTERS]
        if len(hooks) != 1:
            raise RuntimeError(f"Dash {dash.__version__}: pages router hook not found; cannot set up before start")
        if hooks[0].__name__ != "router_sync":
            raise RuntimeError("the async pages router is not supported (use_async=False)")
        hooks[0]()


class GunicornServer(BaseApplication):
    """A gunicorn application serving an already-built Flask server."""

    def __init__(self, server: Flask, options: dict[str, Any]):
        self.server = server
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply ``options`` to gunicorn's configuration."""
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        """The WSGI application (built before the workers fork)."""
        return self.server


def serve(server: Flask, host: str, port: int, workers: int, threads: int = 4) -> None:
    """Serve ``server`` with ``workers`` processes of ``threads`` threads each."""
    GunicornServer(
        server,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "control_socket_disable": True,
            # Idle keep-alive connections wait in the poller, not in a thread, so 5 s (gunicorn: 2 s) costs
            # little and makes a reset less likely when a client reuses a connection as the server drops it.
            "keepalive": 5,
        },
    ).run()
