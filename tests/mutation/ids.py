"""Stable mutant ids, the equivalents file, and the converter from the old line-number ids.

A mutant id names *what* is mutated, not *where* the file puts it today::

    module::qualified.function::mutation::"source line"
    module::qualified.function::mutation::"source line"#2

``source line`` is the text of the line the mutated node starts on, stripped, its comment removed
and runs of blanks collapsed to one space (a backtick becomes ``'`` so the id fits in a markdown
code span). The same mutation on the same line text more than once in a function gets ``#2``,
``#3``… in source order (the first one has no suffix). So code added or removed above a function,
or elsewhere in it, leaves every id alone; only editing the mutated line itself (or an identical
line before it in the same function) changes it. The line and column stay in the reports for
humans (``Mutant.line``), not in the key.

The ids of earlier runs were ``module::function::Lline:Ccolumn::mutation``;
``python -m tests.mutation --convert-equivalents [--at REV]`` rewrites such entries of the
equivalents file to the new form (see :func:`convert_file`). Nothing here imports the code under
test or runs a test: generating the ids is ``ast`` work only, fast enough for the normal suite
(tests/test_mutation_equivalents.py).
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import subprocess
import tokenize
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tests.mutation import operators

ROOT = Path(__file__).resolve().parents[2]
ENTRY = re.compile(r"^- `([^`]+)`", flags=re.M)
OLD_ID = re.compile(r"^(?P<module>[\w.]+)::(?P<qualname>[\w.]+)::L(?P<line>\d+):C(?P<col>\d+)::(?P<mutation>.+)$")
NEW_ID = re.compile(r'^(?P<module>[\w.]+)::(?P<qualname>[\w.]+)::(?P<mutation>.+?)::"(?P<text>.*)"(?:#(?P<n>\d+))?$')


def config() -> dict:
    """``[tool.mutation]`` of pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh).get("tool", {}).get("mutation", {})


def equivalents_path() -> Path:
    return ROOT / config().get("equivalents", "tests/mutation/equivalents.md")


@dataclass(frozen=True)
class MutantSite:
    """One mutant of a module: its stable id, where it is now, and its index for :func:`operators.mutate`."""

    id: str
    module: str
    qualname: str
    index: int  # position among operators.sites(function): what the runner mutates
    line: int
    col: int
    mutation: str
    text: str


def functions(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level functions and methods of top-level classes, by qualified name."""
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    out[f"{node.name}.{item.name}"] = item
    return out


def line_texts(source: str) -> list[str]:
    """Each physical line (index 0 = line 1) normalised for ids: comment cut, stripped, blanks collapsed."""
    lines = source.splitlines()
    comments: dict[int, int] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.start[1]
    out = []
    for number, line in enumerate(lines, start=1):
        if number in comments:
            line = line[: comments[number]]
        out.append(" ".join(line.split()).replace("`", "'"))
    return out


def make_id(module: str, qualname: str, mutation: str, text: str, occurrence: int) -> str:
    suffix = f"#{occurrence}" if occurrence > 1 else ""
    return f'{module}::{qualname}::{mutation}::"{text}"{suffix}'


def sites_of_source(module: str, source: str, filename: str = "<source>") -> list[MutantSite]:
    """Every mutant of ``source`` (the text of ``module``), in the runner's order, with stable ids."""
    tree = ast.parse(source, filename)
    texts = line_texts(source)
    out: list[MutantSite] = []
    for qualname, node in functions(tree).items():
        seen: dict[tuple[str, str], int] = {}
        for index, (site, _change) in enumerate(operators.sites(node)):
            text = texts[site.line - 1] if 0 < site.line <= len(texts) else ""
            key = (site.description, text)
            seen[key] = seen.get(key, 0) + 1
            out.append(
                MutantSite(
                    make_id(module, qualname, site.description, text, seen[key]),
                    module,
                    qualname,
                    index,
                    site.line,
                    site.col,
                    site.description,
                    text,
                )
            )
    return out


def module_file(module: str) -> Path:
    """The source file of a dotted module name, without importing it."""
    base = ROOT / Path(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def module_sites(module: str, at: str | None = None) -> list[MutantSite]:
    """The mutants of ``module`` as its file is now, or at git revision ``at``."""
    path = module_file(module)
    if at is None:
        source = path.read_text(encoding="utf-8")
    else:
        rel = path.relative_to(ROOT).as_posix()
        source = subprocess.run(
            ["git", "show", f"{at}:{rel}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    return sites_of_source(module, source, str(path))


def entries(text: str) -> list[str]:
    """The backticked ids of an equivalents file (``- `id` — reason``)."""
    return ENTRY.findall(text)


def entry_module(entry: str) -> str:
    return entry.split("::", 1)[0]


def nearest(entry: str, ids: list[str], n: int = 3) -> list[str]:
    """The current ids most like ``entry`` (same function first), for a message that says what to write."""
    old = OLD_ID.match(entry)
    new = NEW_ID.match(entry)
    parts = old or new
    pool = ids
    if parts:
        prefix = f"{parts['module']}::{parts['qualname']}::"
        same_function = [i for i in ids if i.startswith(prefix)]
        same_mutation = [i for i in same_function if i.startswith(prefix + parts["mutation"] + "::")]
        pool = same_mutation or same_function or ids
    return difflib.get_close_matches(entry, pool, n=n, cutoff=0.0)


def stale_entries(text: str) -> list[tuple[str, list[str]]]:
    """Entries of an equivalents file that match no current mutant, each with its nearest current ids."""
    cache: dict[str, list[str]] = {}
    out = []
    for entry in entries(text):
        module = entry_module(entry)
        if module not in cache:
            try:
                cache[module] = [s.id for s in module_sites(module)]
            except (FileNotFoundError, SyntaxError):
                cache[module] = []
        if entry not in cache[module]:
            out.append((entry, nearest(entry, cache[module])))
    return out


class ConversionError(ValueError):
    """An old id that names no mutant of the source it refers to, or whose mutant is gone now."""


def convert_id(old: str, then: list[MutantSite], now: list[MutantSite]) -> str:
    """The stable id of old-style ``old``: found by line, column and mutation in ``then``, checked in ``now``.

    ``then`` are the mutants of the source the old id was written against, ``now`` those of the
    current source. The new id must name exactly one current mutant with the same function,
    mutation and line text.
    """
    parts = OLD_ID.match(old)
    if parts is None:
        raise ConversionError(f"not an old line-number id: {old}")
    line, col = int(parts["line"]), int(parts["col"])
    hits = [
        s
        for s in then
        if (s.qualname, s.line, s.col, s.mutation) == (parts["qualname"], line, col, parts["mutation"])
        and s.module == parts["module"]
    ]
    if len(hits) != 1:
        candidates = [
            f"L{s.line}:C{s.col} {s.id}"
            for s in then
            if s.qualname == parts["qualname"] and s.mutation == parts["mutation"]
        ][:5]
        raise ConversionError(f"{old}: no mutant at that line and column; same function and mutation: {candidates}")
    new = hits[0].id
    matches = [s for s in now if s.id == new]
    if len(matches) != 1 or (matches[0].mutation, matches[0].text) != (hits[0].mutation, hits[0].text):
        raise ConversionError(
            f"{old}: its line is gone from the current code ({new}); nearest: {nearest(new, [s.id for s in now])}"
        )
    return new


def convert_text(text: str, at: str | None = None) -> tuple[str, list[tuple[str, str]], list[str]]:
    """``text`` with every old-style entry replaced by its stable id.

    Returns the new text, the (old, new) pairs converted and the messages of the entries left
    as they were (they name no mutant: look at them by hand).
    """
    then: dict[str, list[MutantSite]] = {}
    now: dict[str, list[MutantSite]] = {}
    converted: list[tuple[str, str]] = []
    failed: list[str] = []
    for entry in entries(text):
        if not OLD_ID.match(entry):
            continue
        module = entry_module(entry)
        try:
            if module not in now:
                now[module] = module_sites(module)
                then[module] = module_sites(module, at) if at else now[module]
            new = convert_id(entry, then[module], now[module])
        except (ConversionError, FileNotFoundError, subprocess.CalledProcessError) as exc:
            failed.append(str(exc))
            continue
        converted.append((entry, new))
    for old, new in converted:
        text = text.replace(f"- `{old}`", f"- `{new}`")
    return text, converted, failed


def convert_file(path: Path | None = None, at: str | None = None) -> int:
    """Rewrite the equivalents file's old-style entries in place; print what changed; 1 if any is left."""
    path = path or equivalents_path()
    text, converted, failed = convert_text(path.read_text(encoding="utf-8"), at)
    path.write_text(text, encoding="utf-8")
    for old, new in converted:
        print(f"converted {old}\n       -> {new}")
    for message in failed:
        print(f"NOT converted: {message}")
    print(f"{len(converted)} converted, {len(failed)} left as they were (match no mutant)")
    return 1 if failed else 0
