"""`xner pipeline translate-train`: labelled source CoNLL -> translation -> alignment ->
projection -> target CoNLL (+ JSONL with provenance)."""

from __future__ import annotations

import argparse
import sys

from core.cli.commands.translate import add_translator_args, build_translator
from core.cli.options import (
    add_aligner_args,
    add_method_args,
    build_aligner,
    parse_params,
    print_json,
    read_extra_parallel,
)
from core.data.formats import read_conll, write_conll, write_projections_jsonl
from core.data.types import Sentence
from core.projection.base import PROJECTORS, Projector, get_projector
from core.translate import Translator


def build_method(
    args: argparse.Namespace, translator: Translator, src_lang: str, tgt_lang: str
) -> Projector:
    """--method with --method-param; a method that translates by itself gets the pipeline's
    translator and languages."""
    params = parse_params(args.method_param)
    if PROJECTORS.get(args.method).needs_translator:
        params.update(translator=translator, src_lang=src_lang, tgt_lang=tgt_lang)
    return get_projector(args.method, **params)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pipeline",
        help="end-to-end pipelines (translate-train)",
        description="Pipelines composed from a translator, an aligner and a projection method.",
    )
    sub = p.add_subparsers(dest="pipeline", metavar="PIPELINE", required=True)
    t = sub.add_parser(
        "translate-train",
        help="translate labelled source data and project its entities onto the translation",
        description="Labelled source CoNLL -> translation -> word alignment -> projection -> "
        "target CoNLL. With --method marker, the EasyProject way: the source is translated "
        "with [ ] around its entities and the marked spans are the target entities.",
    )
    t.add_argument("--source-conll", required=True, help="labelled source sentences")
    t.add_argument("--source-lang", default="en")
    t.add_argument("--target-lang", required=True)
    t.add_argument("--types", nargs="+", default=None, help="entity types to keep (default all)")
    t.add_argument("--limit", type=int, help="only the first N sentences")
    t.add_argument(
        "--target-tokenization",
        choices=("auto", "whitespace"),
        default="auto",
        help="how translations are split into tokens: the language's tokenizer (auto), or on "
        "spaces when the translations are already tokenised (e.g. from a file)",
    )
    add_translator_args(t)
    add_aligner_args(t)
    add_method_args(t)
    t.add_argument("--output-conll", required=True, help="projected target CoNLL (TOKEN TAG)")
    t.add_argument("--output-jsonl", help="projections with provenance (method, score, links)")
    t.add_argument("--json", action="store_true", help="print the run's statistics as JSON")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(run=run_translate_train)


def run_translate_train(args: argparse.Namespace) -> int:
    from core.pipelines.translate_train import translate_train

    sources = read_conll(args.source_conll, lang=args.source_lang)
    if args.limit:
        sources = sources[: args.limit]
    if args.types:
        from core.data.tags import map_tags

        sources = [
            Sentence(s.tokens, map_tags(s.tags or [], keep=args.types), s.id, s.lang)
            for s in sources
        ]
    translator = build_translator(args)
    projector = build_method(args, translator, args.source_lang, args.target_lang)
    aligner = None
    extra = ()
    if projector.needs_alignment:
        aligner = build_aligner(args)
        extra = read_extra_parallel(args.extra_parallel, args.source_lang, args.target_lang)
    result = translate_train(
        sources,
        args.source_lang,
        args.target_lang,
        translator,
        aligner,
        projector,
        extra,
        args.target_tokenization,
        progress=not (args.quiet or args.json),
    )
    write_conll(args.output_conll, result.targets())
    if args.output_jsonl:
        write_projections_jsonl(args.output_jsonl, result.projections)
    s = result.stats
    if args.json:
        print_json(s | {"output_conll": args.output_conll, "method": args.method})
    else:
        print(
            f"projected {s['projected']} of {s['source_entities']} source entities over "
            f"{s['sentences'] - s['skipped_empty']} sentences ({s['skipped_empty']} skipped: "
            f"empty translation; {s['translated']} translated, {s['cached']} cached) "
            f"-> {args.output_conll}",
            file=sys.stderr,
        )
    return 0
