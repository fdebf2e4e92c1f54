"""Classic mutation operators over the ``ast`` of one function body.

Each operator turns one node into a slightly wrong version of itself. The mutants are the ones
mutmut and its predecessors call "classic": comparison flips, arithmetic swaps, ``and``/``or``,
constant tweaks, ``return None`` and removed calls. Strings are left alone (message wording is
asserted by tests where users read it, but a changed message is not a changed behaviour), and so
are docstrings, annotations, decorators and default values (those are evaluated when the module
is imported, outside the function body this runner swaps).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}


@dataclass(frozen=True)
class Site:
    """One place a mutation can be made: the node's position and a short description."""

    line: int
    col: int
    description: str


def _describe(node: ast.AST) -> str:
    return type(node).__name__


def _is_docstring(parent: ast.AST, node: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return (
        isinstance(body, list)
        and body
        and body[0] is node
        and isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """Child nodes worth mutating: skips annotations, decorators, defaults and docstrings."""
    for field, value in ast.iter_fields(node):
        if field in {"annotation", "returns", "decorator_list", "type_comment"}:
            continue
        if isinstance(node, ast.arguments):
            continue  # defaults are evaluated at import time
        if isinstance(node, ast.JoinedStr):
            continue  # f-string internals: formatting only
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, ast.AST) and not _is_docstring(node, item):
                yield item


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Pre-order walk in a fixed order (the same order for the original and a deep copy)."""
    yield node
    for child in _children(node):
        yield from _walk(child)


def _mutations(node: ast.AST) -> list[tuple[str, object]]:
    """(description, change) pairs for one node; ``change`` is applied by :func:`_apply`."""
    out: list[tuple[str, object]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is not None:
                out.append((f"{type(op).__name__}->{swap.__name__}", ("cmp", i, swap)))
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        swap = BINOP_SWAPS.get(type(node.op))
        if swap is not None:
            out.append((f"{type(node.op).__name__}->{swap.__name__}", ("binop", swap)))
    elif isinstance(node, ast.BoolOp):
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append((f"{type(node.op).__name__}->{swap.__name__}", ("boolop", swap)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        out.append((f"drop {type(node.op).__name__}", ("unary",)))
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            out.append((f"{value}->{not value}", ("const", not value)))
        elif isinstance(value, int):
            out.append((f"{value}->{value + 1}", ("const", value + 1)))
        elif isinstance(value, float):
            new = value + 1.0 if value not in (0.0, 1.0) else (1.0 if value == 0.0 else 2.0)
            out.append((f"{value}->{new}", ("const", new)))
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            out.append(("return None", ("return_none",)))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        out.append(("remove call", ("remove_call",)))
    return out


def _apply(node: ast.AST, change: tuple) -> None:
    kind = change[0]
    if kind == "cmp":
        node.ops[change[1]] = change[2]()
    elif kind == "binop" or kind == "boolop":
        node.op = change[1]()
    elif kind == "unary":
        # Replace the UnaryOp by its operand in place: turn this node into a no-op wrapper.
        node.op = ast.UAdd() if isinstance(node.op, ast.USub) else _NotNot()
    elif kind == "const":
        node.value = change[1]
    elif kind == "return_none" or kind == "remove_call":
        node.value = ast.Constant(value=None)


class _NotNot(ast.UAdd):
    """Marker: ``not x`` -> ``x`` (rewritten by :func:`_strip_markers` before compiling)."""


class _StripMarkers(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, _NotNot):
            return node.operand
        return node


def sites(func: ast.AST) -> list[tuple[Site, tuple]]:
    """Every mutation of one function definition, in a fixed order."""
    found: list[tuple[Site, tuple]] = []
    for stmt in func.body:
        if _is_docstring(func, stmt):
            continue
        for node in _walk(stmt):
            for description, change in _mutations(node):
                site = Site(getattr(node, "lineno", 0), getattr(node, "col_offset", 0), description)
                found.append((site, change))
    return found


def mutate(func: ast.AST, index: int) -> ast.AST:
    """A copy of ``func`` with its ``index``-th mutation applied (same order as :func:`sites`)."""
    import copy

    clone = copy.deepcopy(func)
    seen = 0
    for stmt in clone.body:
        if _is_docstring(clone, stmt):
            continue
        for node in _walk(stmt):
            for _description, change in _mutations(node):
                if seen == index:
                    _apply(node, change)
                    return _StripMarkers().visit(clone)
                seen += 1
    raise IndexError(index)
