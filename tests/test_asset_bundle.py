"""The top-level assets served as one stylesheet and one script (dashboard.asset_bundle)."""

from __future__ import annotations

import re
from pathlib import Path

import dash
import pytest

from dashboard import asset_bundle, deferred_scripts
from dashboard.app import ASSETS_IGNORE
from dashboard.compression import IMMUTABLE_CACHE
from dashboard.compression import install as install_compression
from dashboard.serve import setup_now

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"


def make_app(folder: Path = ASSETS, ignore: str = ASSETS_IGNORE) -> dash.Dash:
    """A Dash app on ``folder`` with the app factory's index changes, in the factory's order.

    The deferred scripts need the repository's ``vendor/regenerator-runtime.js``: only with its assets folder.
    """
    app = dash.Dash(__name__, assets_folder=str(folder), assets_ignore=ignore)
    app.layout = dash.html.Div()
    setup_now(app)
    if folder == ASSETS:
        deferred_scripts.install(app)
    asset_bundle.install(app)
    install_compression(app.server)
    return app


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def test_join_puts_each_file_under_its_name_in_the_given_order(tmp_path: Path) -> None:
    write(tmp_path, {"a.css": "a{color:red}\n\n", "b.css": "b{}"})
    bundle = asset_bundle.join(tmp_path, ["b.css", "a.css"], "text/css")
    assert bundle.body == b"/* b.css */\nb{}\n/* a.css */\na{color:red}\n"
    assert bundle.names == ("b.css", "a.css")


def test_join_separates_scripts_so_a_file_without_a_final_semicolon_cannot_run_into_the_next(tmp_path: Path) -> None:
    write(tmp_path, {"a.js": "var a = 1", "b.js": "(function () {})()"})
    bundle = asset_bundle.join(tmp_path, ["a.js", "b.js"], "text/javascript")
    assert bundle.body == b"/* a.js */\nvar a = 1;\n/* b.js */\n(function () {})();\n"


def test_join_refuses_an_empty_list(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no files"):
        asset_bundle.join(tmp_path, [], "text/css")


def test_the_stamp_changes_with_the_content(tmp_path: Path) -> None:
    write(tmp_path, {"a.css": "a{}"})
    before = asset_bundle.join(tmp_path, ["a.css"], "text/css")
    write(tmp_path, {"a.css": "a{color:blue}"})
    after = asset_bundle.join(tmp_path, ["a.css"], "text/css")
    assert before.stamp != after.stamp
    assert re.fullmatch(r"[0-9a-f]{16}", before.stamp)
    assert after.stamp == asset_bundle.join(tmp_path, ["a.css"], "text/css").stamp  # same bytes, same stamp


def test_replace_tags_puts_one_tag_where_the_first_was_and_keeps_the_rest_in_order() -> None:
    css = (
        '<link rel="stylesheet" href="https://cdn.example/x.css">\n'
        '<link rel="stylesheet" href="/assets/a.css?m=1">\n'
        '<link rel="stylesheet" href="/assets/b.css?m=2">\n'
        '<link rel="stylesheet" href="/assets/vendor/c.css?m=3">'
    )
    out = asset_bundle.replace_tags(css, asset_bundle.CSS_LINK, ["a.css", "b.css"], "<BUNDLE>")
    assert out == (
        '<link rel="stylesheet" href="https://cdn.example/x.css">\n'
        "<BUNDLE>\n"
        '<link rel="stylesheet" href="/assets/vendor/c.css?m=3">'
    )


def test_replace_tags_refuses_a_page_that_links_other_files_than_the_bundle() -> None:
    css = '<link rel="stylesheet" href="/assets/a.css?m=1">\n<link rel="stylesheet" href="/assets/new.css?m=1">'
    with pytest.raises(ValueError, match="restart the app"):
        asset_bundle.replace_tags(css, asset_bundle.CSS_LINK, ["a.css"], "<BUNDLE>")


def test_the_app_page_links_one_stylesheet_and_one_script_for_the_top_level_assets() -> None:
    plain = dash.Dash(__name__, assets_folder=str(ASSETS), assets_ignore=ASSETS_IGNORE)
    plain.layout = dash.html.Div()
    plain_index = plain.server.test_client().get("/").get_data(as_text=True)
    css_names = asset_bundle.linked_names(plain_index, asset_bundle.CSS_LINK)
    js_names = asset_bundle.linked_names(plain_index, asset_bundle.JS_TAG)
    # Dash's own order: sorted by name, Bootstrap first
    assert css_names == sorted(p.name for p in ASSETS.glob("*.css") if not re.search(ASSETS_IGNORE, p.name))
    assert css_names[:2] == ["00-bootstrap.min.css", "01-bootstrap-icons.min.css"]
    assert js_names == sorted(p.name for p in ASSETS.glob("*.js"))

    client = make_app().server.test_client()
    index = client.get("/").get_data(as_text=True)
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', index)
    assert len(stylesheets) == 1 and re.fullmatch(r"/assets/bundle\.css\?m=[0-9a-f]{16}", stylesheets[0])
    scripts = re.findall(r'<script defer src="(/assets/[^"]+)"', index)
    bundle_js = [s for s in scripts if s.startswith("/assets/bundle.js?m=")]
    assert len(bundle_js) == 1
    # the vendor scripts stay where they were: regenerator first, plotly.js right after the joined scripts
    assert scripts[0].startswith("/assets/vendor/regenerator-runtime.js?m=")
    assert scripts.index(bundle_js[0]) + 1 == next(i for i, s in enumerate(scripts) if "/vendor/plotly-2d" in s)
    assert not any(re.search(r"/assets/[^/]+\.(?:css|js)\?", s) for s in scripts if s not in bundle_js)

    css = client.get(stylesheets[0])
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert css.headers["Cache-Control"] == IMMUTABLE_CACHE
    assert css.get_data() == asset_bundle.join(ASSETS, css_names, "text/css").body
    js = client.get(bundle_js[0])
    assert js.mimetype == "text/javascript"
    assert js.get_data() == asset_bundle.join(ASSETS, js_names, "text/javascript").body
    # the icon font is still found relative to the stylesheet's URL
    assert 'url("fonts/bootstrap-icons.woff2' in css.get_data(as_text=True)
    assert client.get("/assets/fonts/bootstrap-icons.woff2").status_code == 200


def test_a_file_added_to_the_assets_folder_joins_the_bundle_in_name_order(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        {"b.css": "b{}", "a.css": "a{}", "z.js": "z()", "vendor/lib.js": "lib()", "skip.source.css": "x{}"},
    )
    client = make_app(folder, r"\.source\.css$").server.test_client()
    index = client.get("/").get_data(as_text=True)
    (css_url,) = re.findall(r'href="(/assets/bundle\.css\?m=[0-9a-f]+)"', index)
    assert client.get(css_url).get_data() == b"/* a.css */\na{}\n/* b.css */\nb{}\n"
    (js_url,) = re.findall(r'src="(/assets/bundle\.js\?m=[0-9a-f]+)"', index)
    assert client.get(js_url).get_data() == b"/* z.js */\nz();\n"
    assert "/assets/vendor/lib.js?m=" in index
    assert "skip.source" not in index


def test_with_hot_reload_the_page_links_each_file_as_dash_does(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.css": "a{}", "b.css": "b{}"})
    app = make_app(folder, "")
    app._dev_tools["hot_reload"] = True  # what app.run(debug=True) switches on
    index = app.server.test_client().get("/").get_data(as_text=True)
    assert "bundle.css" not in index
    assert re.findall(r'href="/assets/([a-z]+\.css)\?m=', index) == ["a.css", "b.css"]


def test_an_asset_named_like_a_bundle_is_refused_rather_than_hidden(tmp_path: Path) -> None:
    folder = write(tmp_path, {"bundle.css": "x{}"})
    with pytest.raises(RuntimeError, match="would be hidden"):
        make_app(folder, "")


def test_a_folder_without_top_level_assets_links_nothing_new(tmp_path: Path) -> None:
    folder = write(tmp_path, {"vendor/lib.js": "lib()"})
    client = make_app(folder, "").server.test_client()
    index = client.get("/").get_data(as_text=True)
    assert "/assets/bundle." not in index
    assert "/assets/vendor/lib.js?m=" in index
    assert client.get("/assets/bundle.css").status_code == 404


def test_behind_a_proxy_the_page_asks_with_the_request_prefix_and_the_server_answers_without_it(tmp_path: Path) -> None:
    folder = write(tmp_path, {"a.css": "a{}"})
    app = dash.Dash(__name__, assets_folder=str(folder), routes_pathname_prefix="/", requests_pathname_prefix="/app/")
    app.layout = dash.html.Div()
    setup_now(app)
    asset_bundle.install(app)
    client = app.server.test_client()
    (url,) = re.findall(r'href="([^"]*bundle\.css\?m=[0-9a-f]+)"', client.get("/").get_data(as_text=True))
    assert url.startswith("/app/assets/bundle.css?m=")
    assert client.get(url.removeprefix("/app")).get_data() == b"/* a.css */\na{}\n"
