"""Serving with several worker processes (gunicorn).

``python -m dashboard --workers N`` builds the app once in the master process
(training or loading the default artifact a single time), then forks N
gunicorn workers that share nothing but the files on disk: artifacts under
``models/``, uploads and the background-job cache under ``data/``.  Every
callback finds its data through the per-process artifact cache keyed by the
id in the browser's session store, so a request can land on any worker.
Each access-log line carries the worker's pid.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(h)s pid=%(p)s "%(r)s" %(s)s %(b)s %(M)sms'


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
        },
    ).run()
