"""Command line: ``python -m pipeline <command> ...``.

One module per sub-command in this package, each with ``NAME``, ``HELP``,
``configure(parser)`` and ``run(args) -> int``; :data:`COMMANDS` is the
registry, so adding a command is one new module and one line here.  Command
modules import their heavy dependencies inside ``run`` so that ``--help``
stays fast.

User errors (bad files, bad options, rejected artifacts) print one line
``error: ...`` on stderr and exit with status 2; nothing already saved is
touched.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from pipeline.errors import SegmentationError

from .options import (
    add_settings_options,
    add_value_options,
    dataset_from_args,
    emit,
    settings_from_args,
    value_overrides,
)

__all__ = [
    "COMMANDS",
    "add_settings_options",
    "add_value_options",
    "build_parser",
    "command_modules",
    "dataset_from_args",
    "emit",
    "main",
    "settings_from_args",
    "value_overrides",
]

#: The sub-commands, in the order ``--help`` lists them (module names in this package).
COMMANDS: tuple[str, ...] = (
    "sample",
    "train",
    "score",
    "mapping",
    "compare",
    "snapshot",
    "migrate",
    "report",
)


def command_modules(names: Sequence[str] = COMMANDS) -> list[ModuleType]:
    """The command modules of :data:`COMMANDS`."""
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def build_parser(modules: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="Customer segmentation pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in command_modules() if modules is None else modules:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SegmentationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing was saved.", file=sys.stderr)
        return 130
