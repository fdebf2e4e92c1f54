"""The app's own stylesheets and scripts served as one stylesheet and one script.

Dash links every file of the assets folder separately: eight stylesheets
(Bootstrap, the icon subset and six of the app's own) and four small scripts
(``a11y.js``, ``menus.js``, ``prefetch.js``, ``present.js``), twelve of the
page's 24 requests.  A browser opens six connections to a server, so a fresh
page fetched them in four rounds, the stylesheets first (they block the first
paint), and every request costs the browser's network service and renderer a
little work.  :func:`install` keeps the files as they are in the repository
and, when the app is built:

- reads the top-level stylesheets and scripts Dash would link, in Dash's
  order (sorted by name, as ``dash.Dash`` walks the folder), and joins them
  into one stylesheet and one script, each file under a ``/* name */``
  comment (scripts separated by ``;`` so one without a final semicolon cannot
  run into the next);
- serves them at ``/assets/bundle.css`` and ``/assets/bundle.js`` with a
  digest of their content in the URL (``?m=``), so they are cached as
  immutable and compressed once (:mod:`dashboard.compression`).  Under
  ``/assets/`` the stylesheets' relative ``url(fonts/…)`` still resolve;
- writes the page with one ``<link>`` and one ``<script>`` in place of the
  first of the links it replaces (the order of everything else is kept).

With Dash's hot reload (``python -m dashboard --debug``) the page links
each file as before, so an edited stylesheet is reloaded as it is saved.
Files in sub-folders (``vendor/``: plotly.js, regenerator-runtime) are not
joined: :mod:`dashboard.plotly_loading` swaps the plotly.js bundle per page.
The single files are still served at their own URLs.  Measured side by side
with ``python -m benchmarks.bench_ab`` (the README's "Page speed" section).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dash
import flask

#: Where the joined files are served (both under the assets URL, so relative ``url()`` keep working).
CSS_NAME = "bundle.css"
JS_NAME = "bundle.js"
#: Dash's ``<link>`` of a top-level asset stylesheet, with the line break after it.
CSS_LINK = re.compile(r'<link rel="stylesheet" href="(?P<prefix>[^"]*/assets/)(?P<name>[^"/?]+\.css)\?m=[^"]*">\n?')
#: Dash's ``<script>`` of a top-level asset script (before :mod:`dashboard.deferred_scripts` adds ``defer``).
JS_TAG = re.compile(r'<script src="(?P<prefix>[^"]*/assets/)(?P<name>[^"/?]+\.js)\?m=[^"]*"></script>\n?')


@dataclasses.dataclass(frozen=True)
class Bundle:
    """Files of the assets folder joined into one response."""

    names: tuple[str, ...]
    body: bytes
    mimetype: str

    @property
    def stamp(self) -> str:
        """A digest of the body: the ``?m=`` of its URL, new whenever a file changes."""
        return hashlib.sha256(self.body).hexdigest()[:16]

    def tag(self, path: str) -> str:
        """The page's ``<link>`` or ``<script>`` of the bundle served at ``path``."""
        url = f"{path}?m={self.stamp}"
        if self.mimetype == "text/javascript":
            return f'<script src="{url}"></script>'
        return f'<link rel="stylesheet" href="{url}">'


def join(folder: Path, names: Sequence[str], mimetype: str) -> Bundle:
    """The files ``names`` of ``folder`` joined in that order, each under a ``/* name */`` comment.

    Scripts are separated by ``;`` so a file ending without one cannot run into the next.

    Raises
    ------
    ValueError
        If ``names`` is empty (nothing to join: the caller links nothing).
    """
    if not names:
        raise ValueError("no files to join")
    separator = b";\n" if mimetype == "text/javascript" else b"\n"
    parts = [b"/* " + name.encode() + b" */\n" + (folder / name).read_bytes().rstrip() + separator for name in names]
    return Bundle(tuple(names), b"".join(parts), mimetype)


def linked_names(html: str, pattern: re.Pattern[str]) -> list[str]:
    """The top-level asset files ``html`` links with ``pattern`` (:data:`CSS_LINK` or :data:`JS_TAG`), in order."""
    return [m["name"] for m in pattern.finditer(html)]


def replace_tags(html: str, pattern: re.Pattern[str], names: Sequence[str], tag: str) -> str:
    """``html`` with the tags of ``names`` replaced by ``tag``, at the place of the first of them.

    Raises
    ------
    ValueError
        If ``html`` links other top-level asset files than ``names`` (a file
        added or removed after the app was built: restart it).
    """
    found = linked_names(html, pattern)
    if found != list(names):
        raise ValueError(f"the page links {found}, the bundle holds {list(names)}: restart the app")
    first = True

    def swap(m: re.Match[str]) -> str:
        nonlocal first
        out, first = (tag + "\n" if first else ""), False
        return out

    return pattern.sub(swap, html)


def bundles(app: dash.Dash) -> tuple[Bundle | None, Bundle | None]:
    """The stylesheet and script bundles of the top-level assets Dash links, or None where there is none."""
    folder = Path(app.config.assets_folder)
    style_names = linked_names(app._generate_css_dist_html(), CSS_LINK)
    script_names = linked_names(app._generate_scripts_html(), JS_TAG)
    styles = join(folder, style_names, "text/css") if style_names else None
    scripts = join(folder, script_names, "text/javascript") if script_names else None
    return styles, scripts


def install(app: dash.Dash) -> None:
    """Serve the top-level assets joined, and link the joined files instead of each.

    Call from the app factory after :func:`dashboard.serve.setup_now` (Dash has
    walked the assets folder) and after :func:`dashboard.deferred_scripts.install`
    (so this rewrite sees Dash's own tags and the scripts are deferred after it).

    Raises
    ------
    RuntimeError
        If the assets folder holds a file named like a bundle (it would be hidden).
    """
    folder = Path(app.config.assets_folder)
    for name in (CSS_NAME, JS_NAME):
        if (folder / name).exists():
            raise RuntimeError(f"{folder / name} would be hidden by the joined assets; rename it")
    css_bundle, js_bundle = bundles(app)
    base = app.get_asset_url("")  # as the browser asks for it (behind a proxy: with the request prefix)
    route = f"{app.config.routes_pathname_prefix}{app.config.assets_url_path.strip('/')}/"  # as the server sees it

    for name, bundle in ((CSS_NAME, css_bundle), (JS_NAME, js_bundle)):
        if bundle is not None:
            app.server.add_url_rule(f"{route}{name}", endpoint=f"asset_bundle_{name}", view_func=_serve(bundle))

    interpolate = app.interpolate_index

    def interpolate_index(*, css: str, scripts: str, **kwargs: Any) -> str:
        if not app._dev_tools.get("hot_reload"):  # hot reload swaps the files one by one: keep Dash's links
            if css_bundle is not None:
                css = replace_tags(css, CSS_LINK, css_bundle.names, css_bundle.tag(base + CSS_NAME))
            if js_bundle is not None:
                scripts = replace_tags(scripts, JS_TAG, js_bundle.names, js_bundle.tag(base + JS_NAME))
        return interpolate(css=css, scripts=scripts, **kwargs)

    app.interpolate_index = interpolate_index


def _serve(bundle: Bundle) -> Any:
    def view() -> flask.Response:
        return flask.Response(bundle.body, mimetype=bundle.mimetype)

    return view
