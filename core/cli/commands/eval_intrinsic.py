"""`xner eval-intrinsic`: the projection paper's intrinsic protocol on a labelled target test set.

    xner eval-intrinsic --target-conll TGT --lang L --translator NAME --labeler NAME
        --aligner NAME --method NAME [--extra-parallel ENGLISH.txt TARGET.txt]... [--limit N]
        [--json]

Each target sentence is translated into English, labelled there, and the labels are projected
back onto the original target tokens (`--method` a projection method, or `back-translation`);
`--method model-transfer` applies the labeler to the target tokens directly (the baseline).
With --json one JSON object: f1, precision, recall, sentences, seconds, per_type, ...
This interface is used by checks outside the project: keep it stable.
"""

from __future__ import annotations

import argparse
from functools import cache

from core.cli.commands.pipeline import build_method
from core.cli.commands.translate import add_translator_args, build_translator
from core.cli.options import (
    DEFAULT_METHOD,
    add_aligner_args,
    add_method_args,
    build_aligner,
    check_component_args,
    guess_lang,
    parse_params,
    print_json,
    read_extra_parallel,
)
from core.data.formats import read_conll


def register(subparsers: argparse._SubParsersAction) -> None:
    e = subparsers.add_parser(
        "eval-intrinsic",
        help="translate-test evaluation: translate to English, label, project back, score",
        description="The intrinsic protocol ('compare to original'): target test sentences -> "
        "English translation -> English labeler -> alignment -> labels projected back onto the "
        "original target tokens -> seqeval against the target gold. --method model-transfer "
        "is the baseline; --method back-translation the refinement with a marked back-"
        "translation.",
    )
    e.add_argument("--target-conll", required=True, help="labelled target test set (any CoNLL)")
    e.add_argument("--lang", help="target language code (default: from the file name)")
    e.add_argument("--labeler", default="spacy", help="English labeler (default spacy)")
    e.add_argument(
        "--labeler-param",
        action="append",
        metavar="KEY=VALUE",
        help="labeler option, repeatable (e.g. model=FOLDER)",
    )
    e.add_argument(
        "--types",
        nargs="+",
        default=["PER", "ORG", "LOC"],
        help="entity types scored (default PER ORG LOC, as the paper)",
    )
    e.add_argument("--limit", type=int, help="only the first N sentences")
    add_translator_args(e)
    add_aligner_args(e)
    add_method_args(e)
    e.add_argument(
        "--bt-aligner",
        default="monolingual",
        help="same-language aligner for back-translation (default monolingual: spelling; or "
        "any aligner name, with --aligner-param)",
    )
    e.add_argument(
        "--bt-method",
        default=DEFAULT_METHOD,
        help=f"projection method used inside back-translation (default {DEFAULT_METHOD})",
    )
    e.add_argument(
        "--match-threshold",
        type=float,
        default=0.5,
        help="minimum fuzzy similarity for marker labels (back-translation, marker)",
    )
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(run=run_eval_intrinsic)


def run_eval_intrinsic(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from core.labelers import get_labeler
    from core.pipelines.backtranslation import same_language_aligner
    from core.pipelines.intrinsic import INTRINSIC_METHODS, IntrinsicSetup, evaluate_intrinsic
    from core.projection.base import PROJECTORS

    # The components are built lazily, after translation and labelling: check their settings now.
    if args.method not in INTRINSIC_METHODS and args.method not in PROJECTORS:
        known = ", ".join(INTRINSIC_METHODS.names() + PROJECTORS.names())
        raise ConfigError(f"unknown method {args.method!r}; known: {known}")
    method = args.bt_method if args.method == "back-translation" else args.method
    check_component_args(args, method)
    lang = args.lang or guess_lang(args.target_conll)
    targets = read_conll(args.target_conll, lang=lang)
    if args.limit:
        targets = targets[: args.limit]
    labeler = get_labeler(args.labeler, **parse_params(args.labeler_param))
    translator = cache(lambda: build_translator(args))

    def projector():  # noqa: ANN202
        if args.method == "back-translation":
            args_bt = argparse.Namespace(**{**vars(args), "method": args.bt_method})
            return build_method(args_bt, translator(), "en", lang)
        return build_method(args, translator(), "en", lang)

    def bt_aligner():  # noqa: ANN202
        if args.bt_aligner == "monolingual":
            return same_language_aligner()
        return same_language_aligner(args.bt_aligner, **parse_params(args.aligner_param))

    setup = IntrinsicSetup(
        lang=lang,
        translator=translator,
        labeler=labeler,
        aligner=lambda: build_aligner(args),
        projector=projector,
        extra=read_extra_parallel(args.extra_parallel, "en", lang),
        types=args.types,
        bt_aligner=bt_aligner,
        threshold=args.match_threshold,
        progress=not (args.quiet or args.json),
    )
    scores = evaluate_intrinsic(targets, args.method, setup)
    uses_alignment = args.method not in PROJECTORS or PROJECTORS.get(args.method).needs_alignment
    scores.update(
        lang=lang,
        translator=args.translator if args.method != "model-transfer" else None,
        labeler=args.labeler,
        aligner=None if args.method == "model-transfer" or not uses_alignment else args.aligner,
        extra_pairs=len(setup.extra),
    )
    if args.json:
        print_json(scores)
    else:
        print(
            f"{args.method} ({lang}): P {scores['precision']:.4f} R {scores['recall']:.4f} "
            f"F1 {scores['f1']:.4f} ({scores['sentences']} sentences, {scores['seconds']:.1f} s)"
        )
        for name, s in sorted(scores["per_type"].items()):
            print(
                f"  {name:6s} P {s['precision']:.4f} R {s['recall']:.4f} F1 {s['f1']:.4f} "
                f"n={s['support']}"
            )
    return 0
