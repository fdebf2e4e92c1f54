"""Write ``assets/01-bootstrap-icons.min.css``: Bootstrap Icons' stylesheet with only the icons the app shows.

Usage: ``python assets/vendor/build_icons.py`` (no network; run it after using a new icon,
``tests/test_icons_subset.py`` fails until then).

The full stylesheet (``bootstrap-icons-1.13.1.source.css``, 87 KB, 2,078 icon rules; the
app factory's ``assets_ignore`` keeps it off the pages) is cut down to its header, the
``@font-face`` and base rules and the rules of the icons named in the app: every
``bi-NAME`` class in ``dashboard/`` and ``assets/``, and every Python string constant in
``dashboard/`` that is exactly an icon name (``page_header(..., "graph-up")``).  That is
a superset (a constant ``"x"`` keeps the ``bi-x`` rule), never one short.  The font file
is unchanged.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent / "bootstrap-icons-1.13.1.source.css"
TARGET = ROOT / "assets" / "01-bootstrap-icons.min.css"
RULE = re.compile(r"\.bi-([a-z0-9-]+)::before\{content:\"[^\"]*\"\}")
CLASS = re.compile(r"\bbi-([a-z0-9-]+)")


def icon_rules(css: str) -> dict[str, str]:
    """Icon name → its ``::before`` rule, in the stylesheet's order."""
    return {m[1]: m[0] for m in RULE.finditer(css)}


def names_used(root: Path = ROOT, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Icon names the app's code and assets mention (``known``: every icon name, for bare constants)."""
    used: set[str] = set()
    for path in sorted((root / "dashboard").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        used |= set(CLASS.findall(text))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
                used.add(node.value)
    for path in sorted((root / "assets").glob("*.*")):
        if path.suffix in (".js", ".css") and path != TARGET:
            used |= set(CLASS.findall(path.read_text(encoding="utf-8")))
    return used & known if known else used


def subset(css: str, names: set[str]) -> str:
    """The stylesheet with the rules of the icons not in ``names`` removed."""
    keep = set(names)
    return RULE.sub(lambda m: m[0] if m[1] in keep else "", css)


def build() -> str:
    css = SOURCE.read_text(encoding="utf-8")
    return subset(css, names_used(known=set(icon_rules(css))))


if __name__ == "__main__":
    out = build()
    TARGET.write_text(out, encoding="utf-8")
    print(f"wrote {TARGET} ({len(out):,} bytes, {len(icon_rules(out))} icons)")
