"""`xner project` and `xner eval-projection`."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack

from core.cli.options import (
    add_aligner_args,
    add_method_args,
    build_aligner,
    build_projector,
    guess_lang,
    print_json,
    read_extra_parallel,
)
from core.data.formats import (
    atomic_write,
    read_conll,
    write_conll,
    write_projections_jsonl,
)
from core.data.types import Sentence, SentencePair
from core.errors import ConfigError
from core.pipelines.chunks import DEFAULT_CHUNK_SIZE, Shard
from core.pipelines.steps import (
    eval_projection_repeats,
    project_and_score,
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
    scale = p.add_argument_group("scale")
    scale.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=DEFAULT_CHUNK_SIZE,
        metavar="N",
        help="read, align, project and write N pairs at a time: memory stays bounded whatever "
        f"the corpus size; each chunk is aligned with the extra text (default {DEFAULT_CHUNK_SIZE:,})",
    )
    scale.add_argument(
        "--shard",
        type=_shard,
        default=Shard(),
        metavar="K/N",
        help="run shard K of N (0-based): only chunks K, K+N, K+2N, ...; join the shards' "
        "outputs with `xner merge-shards` (same --chunk-size)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run_project)

    m = subparsers.add_parser(
        "merge-shards",
        help="join the outputs of `xner project --shard K/N` runs in input order",
        description="Joins shard outputs (CoNLL or JSONL, given in shard order 0..N-1) into the "
        "output an unsharded run writes: chunk 0 of shard 0, chunk 1 of shard 1, ...",
    )
    m.add_argument("shards", nargs="+", help="the shards' output files, shard 0 first")
    m.add_argument("--output", required=True, help="the merged file")
    m.add_argument("--chunk-size", type=_positive_int, default=DEFAULT_CHUNK_SIZE, metavar="N")
    m.add_argument(
        "--kind",
        choices=("conll", "jsonl"),
        help="file kind (default: from the output's extension, .jsonl or else CoNLL)",
    )
    m.set_defaults(run=run_merge_shards)

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


def _shard(text: str) -> Shard:
    index, sep, count = text.partition("/")
    try:
        return Shard(int(index), int(count))
    except (ValueError, ConfigError) as exc:
        detail = str(exc) if sep and isinstance(exc, ConfigError) else "expected K/N, e.g. 0/4"
        raise argparse.ArgumentTypeError(f"bad shard {text!r}: {detail}") from None


def run_project(args: argparse.Namespace) -> int:
    """Streams the inputs chunk by chunk (see core.pipelines.chunks); per chunk the raw text is
    tokenised (and labelled), aligned with the extra text, projected and written."""
    from core.data.formats import format_conll, projection_to_dict
    from core.data.stream import iter_conll, iter_lines
    from core.pipelines.chunks import ChunkStats, parallel, project_chunks

    target_lang = args.target_lang or guess_lang(args.target_text or args.target_conll)
    source_lang = args.source_lang
    aligner, projector = build_aligner(args), build_projector(args)  # bad settings fail first
    keep = None
    if args.types:
        from core.data.tags import map_tags

        keep = lambda tags: map_tags(tags or [], keep=args.types)  # noqa: E731
    labeler = source_tok = target_tok = None
    if args.source_text:
        from core.data.tokenize import Tokenizer
        from core.labelers import get_labeler

        labeler = get_labeler(args.labeler)
        source_tok = Tokenizer(source_lang)
        sources = iter_lines(args.source_text)
    else:
        sources = iter_conll(args.source_conll, lang=source_lang)
    if args.target_text:
        from core.data.tokenize import Tokenizer

        target_tok = Tokenizer(target_lang)
        targets = iter_lines(args.target_text)
    else:
        targets = iter_conll(args.target_conll)

    def prepare(raw: list, offset: int) -> list[SentencePair]:
        if labeler is not None:
            tokenised = [
                Sentence(source_tok(line), None, id=str(offset + n), lang=source_lang)
                for n, (line, _) in enumerate(raw)
            ]
            source_side = labeler.label_sentences(tokenised)
        else:
            source_side = [s for s, _ in raw]
        pairs = []
        for n, (source, (_, target)) in enumerate(zip(source_side, raw)):
            pair_id = str(offset + n)
            if keep is not None:
                source = Sentence(source.tokens, keep(source.tags), pair_id, source_lang)
            if target_tok is not None:
                target = Sentence(target_tok(target), None, id=pair_id, lang=target_lang)
            else:
                target = Sentence(target.tokens, None, pair_id, target_lang)
            pairs.append(SentencePair(source, target, None, id=source.id or pair_id))
        return pairs

    extra = read_extra_parallel(args.extra_parallel, source_lang, target_lang)
    stats = ChunkStats()
    chunks = project_chunks(
        parallel(
            sources,
            targets,
            args.source_text or args.source_conll,
            args.target_text or args.target_conll,
        ),
        prepare,
        aligner,
        projector,
        extra,
        chunk_size=args.chunk_size,
        shard=args.shard,
        stats=stats,
        progress=not args.quiet,
    )
    with ExitStack() as files:
        conll = files.enter_context(atomic_write(args.output_conll))
        jsonl = files.enter_context(atomic_write(args.output_jsonl)) if args.output_jsonl else None
        for projections in chunks:
            conll.write(format_conll(p.labelled_target() for p in projections))
            if jsonl is not None:
                jsonl.writelines(
                    json.dumps(projection_to_dict(p), ensure_ascii=False) + "\n"
                    for p in projections
                )
    shard = f" (shard {args.shard.index}/{args.shard.count})" if args.shard.count > 1 else ""
    print(
        f"projected {stats.projected} of {stats.source_entities} source entities over "
        f"{stats.pairs} pairs in {stats.chunks} chunk(s){shard} -> {args.output_conll}",
        file=sys.stderr,
    )
    return 0


def run_merge_shards(args: argparse.Namespace) -> int:
    from core.pipelines.chunks import merge_shards

    kind = args.kind or ("jsonl" if str(args.output).endswith(".jsonl") else "conll")
    total = merge_shards(args.shards, args.output, args.chunk_size, kind)
    print(f"merged {len(args.shards)} shards: {total} sentences -> {args.output}", file=sys.stderr)
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
