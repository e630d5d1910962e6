"""`xner pipeline translate-train`: labelled source CoNLL -> translation -> alignment ->
projection -> target CoNLL (+ JSONL with provenance)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from itertools import islice

from core.cli.commands.translate import add_translator_args, build_translator
from core.cli.options import (
    add_aligner_args,
    add_method_args,
    build_aligner,
    parse_params,
    print_json,
    read_extra_parallel,
)
from core.data.formats import atomic_write
from core.data.types import Sentence
from core.errors import ConfigError
from core.pipelines.chunks import DEFAULT_CHUNK_SIZE
from core.projection.base import PROJECTORS, Projector, get_projector
from core.translate import Translator

# translate_train's statistics that count over the translator's whole life, not per call.
CUMULATIVE_STATS = frozenset({"translated", "cached", "mode"})


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
    t.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        metavar="N",
        help="translate, align, project and write N sentences at a time: memory stays bounded "
        f"whatever the corpus size; each chunk is aligned with the extra text (default "
        f"{DEFAULT_CHUNK_SIZE:,})",
    )
    t.add_argument("--json", action="store_true", help="print the run's statistics as JSON")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(run=run_translate_train)


def run_translate_train(args: argparse.Namespace) -> int:
    """Streams the source CoNLL chunk by chunk (translate, align, project, write per chunk)."""
    from core.data.formats import format_conll, projection_to_dict
    from core.data.stream import iter_conll
    from core.pipelines.chunks import chunked
    from core.pipelines.translate_train import translate_train

    if args.chunk_size < 1:
        raise ConfigError(f"--chunk-size must be at least 1, not {args.chunk_size}")
    sources = iter_conll(args.source_conll, lang=args.source_lang)
    if args.limit:
        sources = islice(sources, args.limit)
    if args.types:
        from core.data.tags import map_tags

        sources = (
            Sentence(s.tokens, map_tags(s.tags or [], keep=args.types), s.id, s.lang)
            for s in sources
        )
    translator = build_translator(args)
    projector = build_method(args, translator, args.source_lang, args.target_lang)
    aligner = None
    extra = ()
    if projector.needs_alignment:
        aligner = build_aligner(args)
        extra = read_extra_parallel(args.extra_parallel, args.source_lang, args.target_lang)
    started = time.perf_counter()
    s: dict = {}
    with ExitStack() as files:
        conll = files.enter_context(atomic_write(args.output_conll))
        jsonl = files.enter_context(atomic_write(args.output_jsonl)) if args.output_jsonl else None
        for chunk in chunked(sources, args.chunk_size):
            result = translate_train(
                chunk,
                args.source_lang,
                args.target_lang,
                translator,
                aligner,
                projector,
                extra,
                args.target_tokenization,
                progress=not (args.quiet or args.json),
            )
            conll.write(format_conll(result.targets()))
            if jsonl is not None:
                jsonl.writelines(
                    json.dumps(projection_to_dict(p), ensure_ascii=False) + "\n"
                    for p in result.projections
                )
            for key, value in result.stats.items():
                if key in CUMULATIVE_STATS or not isinstance(value, int | float):
                    s[key] = value  # the translator counts over the whole run already
                else:
                    s[key] = s.get(key, 0) + value
            s["chunks"] = s.get("chunks", 0) + 1
    if not s:
        raise ConfigError(f"{args.source_conll}: no sentences to translate")
    s["seconds"] = round(time.perf_counter() - started, 3)
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
