"""`xner models list` and `xner models materialise NAME`: pretrained models from PyPI packages
as local transformers folders (see core.models)."""

from __future__ import annotations

import argparse

from core.cli.options import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    from core.models import PACKAGE_MODELS

    parser = subparsers.add_parser(
        "models",
        help="pretrained models shipped in PyPI packages, as transformers folders",
        description="List the packaged models and convert one into a transformers folder under "
        "DATA_HOME/models (XNER_HOME, default ./xner_data). Their names (e.g. e5-small) are "
        "accepted wherever a model folder or Hub id is.",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    listing = sub.add_parser("list", help="what is installed and what is materialised")
    listing.add_argument("--json", action="store_true", help="one JSON line per model")
    listing.set_defaults(run=run_list)
    make = sub.add_parser(
        "materialise",
        aliases=["materialize"],
        help="convert a packaged model once; prints its folder",
    )
    make.add_argument("name", choices=sorted(PACKAGE_MODELS), help="packaged model")
    make.add_argument("--force", action="store_true", help="convert again even if done")
    make.set_defaults(run=run_materialise)
    parser.set_defaults(run=lambda args: parser.print_help() or 2)


def run_list(args: argparse.Namespace) -> int:
    from core.models import list_models

    rows = list_models()
    if args.json:
        for row in rows:
            print_json(row)
        return 0
    for row in rows:
        state = "materialised" if row["materialised"] else "not materialised"
        if row["installed"] == "no":
            state = f"not installed (pip install {row['package']})"
        print(f"{row['name']:<14} {state:<18} {row['folder']}")
        print(f"{'':<14} {row['description']} [{row['licence']}]")
    return 0


def run_materialise(args: argparse.Namespace) -> int:
    from core.models import materialise

    print(materialise(args.name, force=args.force))
    return 0
