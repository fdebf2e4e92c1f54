"""Compressed responses: gzip or Brotli for HTML, JSON, JavaScript and CSS; long-lived caching of fixed files.

A fresh browser downloads about 2.7 MB of JavaScript and CSS for a page,
of which the partial Plotly bundle is 1.5 MB (2.0 MB with 3-D); compressed that is about a
quarter to a third.  The work is done by flask-compress (what ``dash.Dash(compress=True)``
uses, but configured here): callback responses are compressed on the fly (a
few milliseconds for the largest figure), while the library bundles and the
app's assets, whose URLs carry a version or modification stamp and so never
change, are compressed once per worker process and kept in a bounded cache
(Brotli level 5 takes the 2.0 MB Plotly bundle to 0.6 MB in 0.08 CPU seconds);
the files Flask would stream from ``/assets/`` are read whole first
(:func:`as_sequence`), since flask-compress never caches a stream.  Those stamped files are sent
with ``Cache-Control: public, max-age=31536000, immutable``
(:func:`cache_control`): a returning browser neither downloads nor revalidates
them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import flask
from dash.fingerprint import check_fingerprint
from flask_compress import Compress

#: URL prefixes whose responses never change for a given URL (versioned or stamped by Dash).
IMMUTABLE_PREFIXES = ("/_dash-component-suites/", "/assets/")
#: Largest total size of compressed files kept per worker process.
CACHE_BYTES = 32 * 2**20
#: How long browsers may keep an unstamped asset (a font, a screenshot) without asking again.
ASSET_MAX_AGE = 24 * 3600
#: For files whose URL changes whenever their content does: Dash's fingerprinted library bundles
#: (``name.v1_2_3m456.min.js``) and the assets it links with a modification stamp (``?m=``),
#: among them the partial plotly.js bundle.  A year, and never revalidated on reload.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


#: Marks the cache keys of immutable files; flask-compress asks the cache about every response.
MARK = "immutable:"


class BoundedBytesCache:
    """A thread-safe least-recently-used cache of compressed immutable files, with a total size limit.

    It has the ``get``/``set`` interface flask-compress expects of
    ``COMPRESS_CACHE_BACKEND``.  flask-compress consults the cache for every
    response it compresses, with the key ``"<algorithm>;<cache_key(request)>"``;
    only keys made by :func:`cache_key` for an immutable file are stored or
    answered, so a callback's response is never served from the cache.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        if MARK not in key:
            return None
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if MARK not in key or len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


def cache_key(request: flask.Request) -> str:
    """The cache key of an immutable file's compressed body; ``""`` (never cached) for anything else."""
    if request.method != "GET" or not request.path.startswith(IMMUTABLE_PREFIXES):
        return ""
    return f"{MARK}{request.full_path}"


def cache_control(request: flask.Request) -> str | None:
    """:data:`IMMUTABLE_CACHE` for a fingerprinted or stamped file; None (the default headers) for anything else."""
    if request.method != "GET":
        return None
    if request.path.startswith("/_dash-component-suites/") and check_fingerprint(request.path)[1]:
        return IMMUTABLE_CACHE
    if request.path.startswith("/assets/") and request.args.get("m"):
        return IMMUTABLE_CACHE
    return None


def install(server: flask.Flask) -> None:
    """Compress the responses of ``server`` (call once, from the app factory)."""
    cache = BoundedBytesCache()
    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=500,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/plain",
            "application/json",
            "application/javascript",
            "text/javascript",
        ],
        COMPRESS_CACHE_KEY=cache_key,
        COMPRESS_CACHE_BACKEND=lambda: cache,
        SEND_FILE_MAX_AGE_DEFAULT=ASSET_MAX_AGE,
    )
    Compress(server)

    mimetypes = frozenset(server.config["COMPRESS_MIMETYPES"])

    # Registered after flask-compress's hook, so it runs before it (Flask calls them in reverse order).
    @server.after_request
    def _immutable(response: flask.Response) -> flask.Response:
        value = cache_control(flask.request)
        if value and response.status_code == 200:
            response.headers["Cache-Control"] = value
            if response.mimetype in mimetypes:
                as_sequence(response)
        return response


def as_sequence(response: flask.Response) -> None:
    """Read a file response's body into memory, so flask-compress compresses it once and caches it.

    Flask sends the files under ``/assets/`` as a stream (``send_file``), and
    flask-compress compresses a streamed body anew on every request, without
    its cache: 35 ms of server CPU for each download of the 1.5 MB plotly.js
    bundle (Brotli level 5), 50 ms for the 3-D one.  Only immutable files of a
    compressible type come here; they are at most a few megabytes.
    """
    if response.is_streamed:
        response.direct_passthrough = False
        response.make_sequence()
