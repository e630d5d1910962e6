"""The `xner` command line. Each module in core.cli.commands adds its own subcommands, so a new
command is one new file; see core/cli/commands/__init__.py."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sqlite3
import sys

import core.cli.commands
from core import __version__
from core.errors import XnerError
from core.fileerrors import describe_error, describe_os_error


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
        _check_shared_options(args)
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except BrokenPipeError:
        # `xner runs list | head -1`: the reader has all it wanted. Point stdout at /dev/null so
        # the interpreter's final flush does not raise again, and exit like `head`'s writers do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except XnerError as exc:
        return _error(str(exc))
    except sqlite3.Error as exc:
        return _error(describe_error(exc))
    except OSError as exc:  # disk full, read-only, a folder where a file belongs, permissions...
        return _error(describe_os_error(exc))
    except KeyboardInterrupt:
        print("xner: interrupted", file=sys.stderr)
        return 130


def _check_shared_options(args: argparse.Namespace) -> None:
    """Options several commands share, checked once: --types names known entity types."""
    if getattr(args, "types", None):
        from core.experiments.settings import check_entity_types

        check_entity_types(args.types, "--types")


def _error(message: str) -> int:
    print(f"xner: error: {' '.join(message.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
