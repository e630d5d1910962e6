"""`xner align` (parallel text in, Pharaoh links out) and `xner eval-alignment` (AER)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.aligners.base import Aligner, TokenPair, get_aligner
from core.aligners.symmetrize import SYMMETRIZERS
from core.cli.options import (
    add_aligner_args,
    parse_params,
    print_json,
    read_extra_parallel,
    with_alignment_cache,
)
from core.data.formats import read_parallel, write_pharaoh
from core.errors import ConfigError


def _add_symmetrization(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--symmetrization",
        choices=SYMMETRIZERS.names(),
        default=None,
        help="how forward and reverse links are combined (statistical aligners; default: "
        "the aligner's own)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    a = subparsers.add_parser(
        "align",
        help="word-align parallel text; writes Pharaoh links (i-j, 0-based)",
        description="Word-align two line-parallel files (one sentence per line) and write one "
        "line of 0-based source-target links per pair. Raw text is tokenised per language "
        "unless --pretokenized (tokens separated by spaces).",
    )
    a.add_argument("--source", required=True, help="source sentences, one per line")
    a.add_argument("--target", required=True, help="target sentences, one per line")
    a.add_argument("--source-lang", help="source language code, for tokenisation")
    a.add_argument("--target-lang", help="target language code, for tokenisation")
    a.add_argument(
        "--pretokenized",
        action="store_true",
        help="the input (and --extra-parallel) is already tokenised, tokens separated by spaces",
    )
    add_aligner_args(a)
    _add_symmetrization(a)
    a.add_argument("--output", required=True, help="output Pharaoh file (written atomically)")
    a.add_argument("--quiet", action="store_true", help="no progress bars")
    a.set_defaults(run=run_align)

    e = subparsers.add_parser(
        "eval-alignment",
        help="score an aligner against gold word alignments (AER, precision, recall)",
        description="Align the pairs of a gold set (`SRC ||| TGT` tokens, 1-indexed gold links "
        "`i-j` sure / `ipj` possible) and print AER, precision, recall and F1.",
    )
    gold = e.add_mutually_exclusive_group(required=True)
    gold.add_argument(
        "--gold-dir",
        help="folder with NAME.src-tgt + NAME.gold files (or subfolders holding them); "
        "every set found is scored",
    )
    gold.add_argument("--src-tgt", help="one gold set's `SRC ||| TGT` file (with --gold)")
    gold.add_argument(
        "--wpt",
        nargs=3,
        metavar=("SOURCE", "TARGET", "LINKS"),
        help="a WPT-05 gold set: the `<s snum=N>` source and target sentence files and the "
        "`N i j [S|P]` link file (English-Hindi, English-Inuktitut, Romanian-English)",
    )
    e.add_argument("--gold", help="the gold links of --src-tgt")
    e.add_argument(
        "--source-lang",
        help="source language, to tokenise --extra-parallel (default: from the set name, "
        "e.g. enfr -> en)",
    )
    e.add_argument("--target-lang", help="target language, to tokenise --extra-parallel")
    add_aligner_args(e)
    _add_symmetrization(e)
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(run=run_eval_alignment)


def _build(args: argparse.Namespace) -> Aligner:
    params = parse_params(args.aligner_param)
    if args.symmetrization:
        params["symmetrization"] = args.symmetrization
    return with_alignment_cache(get_aligner(args.aligner, **params), args)


def _split_parallel(path_pairs: Sequence[Sequence[str]]) -> list[TokenPair]:
    return [
        (source.split(), target.split())
        for source_path, target_path in path_pairs
        for source, target in read_parallel(source_path, target_path)
    ]


def run_align(args: argparse.Namespace) -> int:
    if args.pretokenized:
        pairs = _split_parallel([(args.source, args.target)])
        extra = _split_parallel(args.extra_parallel)
    else:
        if not (args.source_lang and args.target_lang):
            raise ConfigError("give --source-lang and --target-lang (or --pretokenized)")
        pairs = read_extra_parallel(
            [(args.source, args.target)], args.source_lang, args.target_lang
        )
        extra = read_extra_parallel(args.extra_parallel, args.source_lang, args.target_lang)
    aligner = _build(args)
    alignments = aligner.align(pairs, extra=extra, progress=not args.quiet)
    write_pharaoh(args.output, alignments)
    links = sum(len(x) for x in alignments)
    print(f"aligned {len(pairs)} pairs ({links} links) -> {args.output}", file=sys.stderr)
    return 0


def _langs_from_name(name: str) -> tuple[str, str]:
    """`enfr` -> (en, fr); anything else -> xx (the language-neutral tokeniser)."""
    if len(name) == 4 and name.isalpha():
        return name[:2], name[2:]
    return "xx", "xx"


def run_eval_alignment(args: argparse.Namespace) -> int:
    from core.aligners.evaluation import (
        evaluate_aligner,
        find_gold_sets,
        read_gold_set,
        read_wpt_gold_set,
    )

    if args.wpt:
        if args.gold:
            raise ConfigError("--gold goes with --src-tgt, not --wpt")
        sets = [read_wpt_gold_set(*args.wpt)]
    elif args.src_tgt:
        if not args.gold:
            raise ConfigError("--src-tgt needs --gold")
        sets = [read_gold_set(args.src_tgt, args.gold)]
    else:
        if args.gold:
            raise ConfigError("--gold goes with --src-tgt, not --gold-dir")
        sets = find_gold_sets(args.gold_dir)
    results = []
    aligner = _build(args)  # built once: an embedding aligner loads its encoder only once
    for gold_set in sets:
        guessed = _langs_from_name(gold_set.name)
        extra = read_extra_parallel(
            args.extra_parallel, args.source_lang or guessed[0], args.target_lang or guessed[1]
        )
        scores = evaluate_aligner(aligner, gold_set, extra, progress=not (args.quiet or args.json))
        scores.update(aligner=args.aligner, extra_pairs=len(extra))
        results.append(scores)
    if args.json:
        print_json(results[0] if len(results) == 1 else {"sets": results})
    else:
        for s in results:
            print(
                f"{s['set']}: AER {s['aer']:.4f} P {s['precision']:.4f} R {s['recall']:.4f} "
                f"F1 {s['f1']:.4f} ({s['pairs']} pairs + {s['extra_pairs']} extra, "
                f"{s['seconds']:.1f} s, {args.aligner})"
            )
    return 0
