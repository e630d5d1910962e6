"""The `xner` command line. Each module in core.cli.commands adds its own subcommands, so a new
command is one new file; see core/cli/commands/__init__.py."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import core.cli.commands
from core import __version__
from core.errors import XnerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xner",
        description="Cross-lingual NER by annotation projection: align, project, train, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"xner {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(core.cli.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"core.cli.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except XnerError as exc:
        print(f"xner: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("xner: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
