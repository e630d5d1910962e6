"""`xner project` and `xner eval-projection`."""

from __future__ import annotations

import argparse
import sys

from core.cli.options import (
    add_aligner_args,
    add_method_args,
    build_aligner,
    build_projector,
    guess_lang,
    print_json,
    read_extra_parallel,
)
from core.data.formats import read_conll, read_lines, write_conll, write_projections_jsonl
from core.data.types import Sentence
from core.errors import ConfigError
from core.pipelines.steps import (
    align_pairs,
    eval_projection_repeats,
    make_pairs,
    project_and_score,
    project_pairs,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "project",
        help="project source entity spans onto target tokens",
        description="Align labelled (or labeller-tagged) source sentences with their target "
        "side and project the entities; writes target CoNLL and JSONL with provenance.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--source-conll", help="labelled source sentences (any CoNLL flavour)")
    src.add_argument(
        "--source-text", help="raw source text, one sentence per line (labelled by --labeler)"
    )
    tgt = p.add_mutually_exclusive_group(required=True)
    tgt.add_argument("--target-text", help="raw target text, one sentence per line")
    tgt.add_argument("--target-conll", help="tokenised target sentences (tags are ignored)")
    p.add_argument("--source-lang", default="en")
    p.add_argument("--target-lang", help="target language code (default: guessed from file name)")
    p.add_argument(
        "--labeler", default="spacy", help="source labeler for --source-text (default spacy)"
    )
    p.add_argument("--types", nargs="+", default=None, help="entity types to keep (default all)")
    add_aligner_args(p)
    add_method_args(p)
    p.add_argument("--output-conll", required=True, help="projected target CoNLL (TOKEN TAG)")
    p.add_argument("--output-jsonl", help="projections with provenance (method, score, links)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run_project)

    e = subparsers.add_parser(
        "eval-projection",
        help="project gold source spans onto a parallel gold target and score them",
        description="Projects SRC's gold spans onto TGT's tokens (TGT's labels are used only for "
        "scoring) and prints entity-level P/R/F1.",
    )
    e.add_argument("--source-conll", required=True)
    e.add_argument("--target-conll", required=True)
    e.add_argument("--source-lang", default=None, help="default: from the file name, else en")
    e.add_argument("--target-lang", default=None, help="default: from the file name")
    e.add_argument("--types", nargs="+", default=None, help="entity types to score (default all)")
    add_aligner_args(e)
    add_method_args(e)
    e.add_argument(
        "--repeats",
        type=_positive_int,
        default=1,
        metavar="N",
        help="align N times afresh (the alignment cache bypassed) and report each score's mean "
        "± sample std: the run-to-run spread of a sampling aligner such as eflomal (default 1)",
    )
    e.add_argument("--output-conll", help="also write the projected target (TOKEN TAG)")
    e.add_argument("--output-jsonl", help="also write the projections with provenance")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(run=run_eval_projection)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _tokenised(path: str, lang: str) -> list[Sentence]:
    from core.data.tokenize import Tokenizer

    tokenizer = Tokenizer(lang)
    return [
        Sentence(tokenizer(line), None, id=str(n), lang=lang)
        for n, line in enumerate(read_lines(path))
    ]


def run_project(args: argparse.Namespace) -> int:
    target_lang = args.target_lang or guess_lang(args.target_text or args.target_conll)
    if args.source_conll:
        sources = read_conll(args.source_conll, lang=args.source_lang)
    else:
        from core.labelers import get_labeler

        raw = _tokenised(args.source_text, args.source_lang)
        sources = get_labeler(args.labeler).label_sentences(raw)
    if args.types:
        from core.data.tags import map_tags

        sources = [
            Sentence(s.tokens, map_tags(s.tags or [], keep=args.types), s.id, s.lang)
            for s in sources
        ]
    if args.target_text:
        targets = _tokenised(args.target_text, target_lang)
    else:
        targets = [
            Sentence(s.tokens, None, s.id, target_lang) for s in read_conll(args.target_conll)
        ]
    if len(sources) != len(targets):
        raise ConfigError(
            f"{len(sources)} source sentences but {len(targets)} target sentences: the inputs are not parallel"
        )
    extra = read_extra_parallel(args.extra_parallel, args.source_lang, target_lang)
    aligner, projector = build_aligner(args), build_projector(args)
    pairs = align_pairs(make_pairs(sources, targets), aligner, extra, progress=not args.quiet)
    projections = project_pairs(pairs, projector, progress=not args.quiet)
    write_conll(args.output_conll, [p.labelled_target() for p in projections])
    if args.output_jsonl:
        write_projections_jsonl(args.output_jsonl, projections)
    total = sum(len(s.spans) for s in sources)
    done = sum(len(p.spans) for p in projections)
    print(
        f"projected {done} of {total} source entities over {len(pairs)} pairs -> {args.output_conll}",
        file=sys.stderr,
    )
    return 0


def run_eval_projection(args: argparse.Namespace) -> int:
    source_lang = args.source_lang or guess_lang(args.source_conll, "en")
    target_lang = args.target_lang or guess_lang(args.target_conll)
    sources = read_conll(args.source_conll, lang=source_lang)
    targets = read_conll(args.target_conll, lang=target_lang)
    if len(sources) != len(targets):
        raise ConfigError(
            f"{args.source_conll} has {len(sources)} sentences but {args.target_conll} has {len(targets)}"
        )
    if args.repeats > 1 and (args.output_conll or args.output_jsonl):
        raise ConfigError("--output-conll/--output-jsonl write one projection: not with --repeats")
    extra = read_extra_parallel(args.extra_parallel, source_lang, target_lang)
    progress = not (args.quiet or args.json)
    if args.repeats > 1:
        projector = build_projector(args)
        build_aligner(args, cache=False)  # bad aligner settings fail before any work
        scores = eval_projection_repeats(
            sources,
            targets,
            lambda: build_aligner(args, cache=False),
            projector,
            extra,
            args.types,
            repeats=args.repeats,
            progress=progress,
        )
        scores.update(aligner=args.aligner, method=args.method, extra_pairs=len(extra))
        _print_repeats(args, scores)
        return 0
    scores, projections = project_and_score(
        sources,
        targets,
        build_aligner(args),
        build_projector(args),
        extra,
        args.types,
        progress=progress,
    )
    if args.output_conll:
        write_conll(args.output_conll, [p.labelled_target() for p in projections])
    if args.output_jsonl:
        write_projections_jsonl(args.output_jsonl, projections)
    scores.update(aligner=args.aligner, method=args.method, extra_pairs=len(extra))
    if args.json:
        print_json(scores)
    else:
        print(
            f"{args.method} via {args.aligner}: P {scores['precision']:.4f} R {scores['recall']:.4f} "
            f"F1 {scores['f1']:.4f} ({scores['sentences']} sentences, {scores['seconds']:.1f} s)"
        )
        for name, s in sorted(scores["per_type"].items()):
            print(
                f"  {name:6s} P {s['precision']:.4f} R {s['recall']:.4f} F1 {s['f1']:.4f} n={s['support']}"
            )
    return 0


def _print_repeats(args: argparse.Namespace, scores: dict) -> None:
    if args.json:
        print_json(scores)
        return

    def spread(metric: str, where: dict = scores) -> str:
        std = where[f"{metric}_std"]
        return f"{where[metric]:.4f}" + (f" ± {std:.4f}" if std is not None else "")

    print(
        f"{args.method} via {args.aligner}, {scores['repeats']} fresh alignments (mean ± std): "
        f"P {spread('precision')} R {spread('recall')} F1 {spread('f1')} "
        f"(min {scores['f1_min']:.4f}, max {scores['f1_max']:.4f}; {scores['sentences']} "
        f"sentences, {scores['seconds']:.1f} s)"
    )
    print("  F1 per run: " + " ".join(f"{r['f1']:.4f}" for r in scores["runs"]))
    for name, s in scores["per_type"].items():
        print(f"  {name:6s} F1 {spread('f1', s)} n={s['support']}")
