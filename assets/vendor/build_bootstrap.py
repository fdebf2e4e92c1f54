"""Write ``assets/00-bootstrap.min.css``: Bootstrap's stylesheet with only the rules the app can use.

Usage: ``python assets/vendor/build_bootstrap.py`` (needs Node's ``npx`` and, on first use, the
npm registry: PurgeCSS is pinned to ``PURGECSS_VERSION``).  Run it after using a Bootstrap class
the subset does not have; ``tests/test_bootstrap_subset.py`` fails until then.

The full stylesheet (``bootstrap-5.3.8.source.css``, 227 KiB, render-blocking on every page;
the app factory's ``assets_ignore`` keeps it off the pages) goes through PurgeCSS, which keeps a
rule when the class names, ids and element names of one of its selectors all occur as words in
the content scanned:

* the app's code and scripts: ``dashboard/**/*.py`` and ``assets/*.js``;
* dash-bootstrap-components' JavaScript bundle, which holds the class names its components
  render (``navbar-expand-md``, ``form-switch``, ``nav-tabs``, ...), with the rules of the
  components the app never creates blocked (:data:`UNUSED_COMPONENTS`);
* every HTML element name (the code writes ``html.Tbody``, the page has ``<tbody>``).

Class names those components compose at run time from a prop (``btn-`` + ``color``,
``col-lg-`` + width, ``form-control-`` + size) do not occur as words, so their families are
kept by pattern (:func:`safelist`: the colour families for each colour the code names); the theme variables (``:root``, ``[data-bs-theme=dark]``),
``@font-face`` and ``@keyframes`` are always kept.  That is a superset of what the app renders,
never one short for a class written in ``dashboard/``.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent / "bootstrap-5.3.8.source.css"
TARGET = ROOT / "assets" / "00-bootstrap.min.css"
PURGECSS_VERSION = "8.0.0"
DBC_BUNDLE = Path(dash_bootstrap_components.__file__).parent / "_components" / "dash_bootstrap_components.min.js"
COLOURS = ("primary", "secondary", "success", "danger", "warning", "info", "light", "dark")
#: Class families dash-bootstrap-components compose from a ``color=`` prop (Button, Alert, Badge,
#: Progress, Spinner, Table, ListGroupItem, Card, Navbar): kept for each colour the app names.
COLOUR_FAMILIES = "btn|btn-outline|alert|bg|text-bg|text|table|list-group-item|border|link"
BREAKPOINT = "(?:sm|md|lg|xl|xxl)"
#: Other class families dash-bootstrap-components compose from props (JavaScript regular expressions).
SAFELIST = [
    rf"^(col|offset|order|row-cols)-({BREAKPOINT}-)?",  # dbc.Col(lg=6, width=...), dbc.Row(...)
    r"^navbar-",  # react-bootstrap composes navbar-nav, navbar-expand-xl, ... from its prefix
    r"^nav-(tabs|pills|fill|justified|underline)$",  # dbc.Tabs / dbc.Nav variants
    r"^container-",  # dbc.Container(fluid=...)
    r"^dropdown-menu-",  # dbc.DropdownMenu(align_end=...)
    r"^list-group-(flush|horizontal)",  # dbc.ListGroup(flush=..., horizontal=...)
    r"^user-select-",  # set by the components on their labels
    r"^(btn|form-control|form-select|input-group)-(sm|lg)$",  # size= on Button, Input, Select, InputGroup
    r"^(show|fade|collapse|collapsing|active|disabled|was-validated|is-valid|is-invalid)$",
]
#: Components whose stylesheet is dropped while the app creates none of them (``dbc.NAME`` nowhere in
#: ``dashboard/``) and writes none of their classes: the tokens of dash-bootstrap-components'
#: bundle would otherwise keep every component's rules.
UNUSED_COMPONENTS = {
    "Accordion": r"^accordion",
    "Breadcrumb": r"^breadcrumb",
    "Carousel": r"^carousel",
    "Modal": r"^modal",
    "Offcanvas": r"^offcanvas",
    "Pagination": r"^(pagination|page-item|page-link)",
    "Popover": r"^(popover|bs-popover)",
    "Toast": r"^toast",
    "Tooltip": r"^(tooltip|bs-tooltip)",
}
CLASS_KEYWORDS = ("className", "class_name", "label_class_name", "input_class_name", "labelClassName")


def class_names(root: Path = ROOT) -> set[str]:
    """Every class name written in ``dashboard/`` (string parts of ``className=`` and similar arguments)
    and in ``assets/*.js`` (quoted words in ``className``/``classList`` statements)."""
    found: set[str] = set()
    for path in sorted((root / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg in CLASS_KEYWORDS:
                for part in ast.walk(node.value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        found.update(part.value.split())
    for path in sorted((root / "assets").glob("*.js")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "className" in line or "classList" in line:
                for quoted in re.findall(r"[\'\"]([\w\s-]+)[\'\"]", line):
                    found.update(quoted.split())
    return {c for c in found if re.fullmatch(r"[A-Za-z_][\w-]*", c)}


def element_names() -> list[str]:
    """Every HTML element name Dash renders (``html.Tbody`` renders ``<tbody>``; the code spells it ``Tbody``)."""
    return sorted({name.lower() for name in dash.html.__all__ if name[:1].isupper()} | {"html", "body", "svg"})


def colours_used(root: Path = ROOT) -> set[str]:
    """Bootstrap colours named by a string constant in ``dashboard/`` (``color="info"``, ``"outline-primary"``)."""
    used: set[str] = set()
    for path in sorted((root / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = node.value.removeprefix("outline-")
                if name in COLOURS:
                    used.add(name)
    return used


def blocked(root: Path = ROOT) -> list[str]:
    """Patterns of the components the app does not use (see :data:`UNUSED_COMPONENTS`)."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in sorted((root / "dashboard").rglob("*.py")))
    classes = class_names(root)
    return [
        pattern
        for name, pattern in UNUSED_COMPONENTS.items()
        if f"dbc.{name}(" not in code and not any(re.search(pattern, c) for c in classes)
    ]


def safelist(root: Path = ROOT) -> list[str]:
    """The patterns kept whatever the content (JavaScript regular expressions)."""
    colours = "|".join(sorted(colours_used(root)))
    return [rf"^({COLOUR_FAMILIES})-({colours})$", *SAFELIST]


def purgecss_config(work: Path) -> Path:
    """The PurgeCSS configuration file (written into ``work``)."""
    content: list[str | dict[str, str]] = [str(p) for p in sorted((ROOT / "dashboard").rglob("*.py"))]
    content += [str(p) for p in sorted((ROOT / "assets").glob("*.js"))]
    content.append(str(DBC_BUNDLE))
    content.append({"raw": " ".join(element_names()), "extension": "html"})

    def regexps(patterns: list[str]) -> str:
        return ", ".join(f"new RegExp({json.dumps(p)})" for p in patterns)

    config = work / "purgecss.config.cjs"
    config.write_text(
        "module.exports = {\n"
        f"  content: {json.dumps(content)},\n"
        f"  css: [{json.dumps(str(SOURCE))}],\n"
        f"  safelist: {{ standard: [{regexps(safelist())}], greedy: [/data-bs-theme/] }},\n"
        f"  blocklist: [{regexps(blocked())}],\n"
        "  fontFace: false, keyframes: false, variables: false,\n"
        "};\n",
        encoding="utf-8",
    )
    return config


def build() -> str:
    """Run PurgeCSS on the full stylesheet; the subset's text."""
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("build_bootstrap: npx (Node.js) not found: apt-get install nodejs npm")
    with tempfile.TemporaryDirectory(prefix="purgecss-") as tmp:
        work = Path(tmp)
        config = purgecss_config(work)
        cmd = [npx, "--yes", f"purgecss@{PURGECSS_VERSION}", "--config", str(config), "--output", str(work)]
        subprocess.run(cmd, check=True, cwd=work)
        out = (work / SOURCE.name).read_text(encoding="utf-8")
    # PurgeCSS leaves the minified file's rules on one line but adds line breaks between some; drop them.
    return re.sub(r"\n+", "\n", out).strip() + "\n"


if __name__ == "__main__":
    text = build()
    TARGET.write_text(text, encoding="utf-8")
    print(
        f"wrote {TARGET} ({len(text.encode()):,} bytes; the full stylesheet: {SOURCE.stat().st_size:,})",
        file=sys.stderr,
    )
