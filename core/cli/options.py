"""Argument helpers shared by the `xner` subcommands (aligner/method options, extra text)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path

from core.aligners.base import ALIGNERS, Aligner, TokenPair, get_aligner
from core.data.tokenize import ISO3_TO_ISO1, tokenize_parallel
from core.errors import ConfigError
from core.experiments.settings import ProjectionSettings
from core.projection.base import PROJECTORS, Projector, get_projector

KNOWN_LANGS = set(ISO3_TO_ISO1) | set(ISO3_TO_ISO1.values())


def parse_params(items: Sequence[str] | None) -> dict:
    """`key=value` strings -> dict; values parsed as JSON when they can be (numbers, booleans)."""
    params: dict = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected KEY=VALUE, got {item!r}")
        try:
            params[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[key.replace("-", "_")] = value
    return params


def add_aligner_args(parser: argparse.ArgumentParser, default: str = "eflomal") -> None:
    group = parser.add_argument_group("alignment")
    group.add_argument("--aligner", default=default, help=f"aligner backend (default {default})")
    group.add_argument(
        "--aligner-param",
        action="append",
        metavar="KEY=VALUE",
        help="aligner option, repeatable (e.g. symmetrization=intersection, model=FOLDER)",
    )
    group.add_argument(
        "--extra-parallel",
        nargs=2,
        action="append",
        metavar=("SOURCE.txt", "TARGET.txt"),
        default=[],
        help="raw parallel text (one sentence per line, source side first), tokenised by xner "
        "and added to the aligner's training corpus; repeatable",
    )
    group.add_argument(
        "--no-alignment-cache",
        action="store_true",
        help="align afresh: by default a sampling aligner's (eflomal's) alignments are cached "
        "by input and settings ($XNER_ALIGNMENT_CACHE, default ~/.cache/xner/alignments), so "
        "that rerunning a command reproduces them",
    )


DEFAULT_METHOD = ProjectionSettings.model_fields["method"].default  # defined with the settings


def add_method_args(parser: argparse.ArgumentParser, default: str = DEFAULT_METHOD) -> None:
    group = parser.add_argument_group("projection")
    group.add_argument("--method", default=default, help=f"projection method (default {default})")
    group.add_argument(
        "--method-param",
        action="append",
        metavar="KEY=VALUE",
        help="projection option, repeatable (e.g. min_ratio=0.8, max_length=10)",
    )


def build_aligner(args: argparse.Namespace, cache: bool = True) -> Aligner:
    """The aligner of --aligner/--aligner-param; behind the alignment cache unless `cache` is
    False or --no-alignment-cache."""
    aligner = get_aligner(args.aligner, **parse_params(args.aligner_param))
    return with_alignment_cache(aligner, args) if cache else aligner


def with_alignment_cache(aligner: Aligner, args: argparse.Namespace) -> Aligner:
    """The aligner behind the alignment cache (if its output is random), unless
    --no-alignment-cache."""
    from core.aligners.cache import cached

    return aligner if args.no_alignment_cache else cached(aligner)


def check_component_args(args: argparse.Namespace, method: str | None = None) -> None:
    """Check --aligner-param and --method-param against the components' constructors without
    building them, so that a bad value fails before any slow step (translation, labelling).
    `method`: the projection method the params go to (default --method, if it is one)."""
    ALIGNERS.check_params(args.aligner, parse_params(args.aligner_param))
    method = method or args.method
    if method in PROJECTORS:
        PROJECTORS.check_params(method, parse_params(args.method_param))


def build_projector(args: argparse.Namespace) -> Projector:
    return get_projector(args.method, **parse_params(args.method_param))


def guess_lang(path: str | Path, default: str = "xx") -> str:
    """A language code from a file name such as de.test.conll02 or eng.dev (else `default`)."""
    for part in re.split(r"[._\-/]", Path(path).name):
        if part.lower() in KNOWN_LANGS:
            return part.lower()
    return default


def read_extra_parallel(
    path_pairs: Sequence[Sequence[str]], source_lang: str, target_lang: str
) -> list[TokenPair]:
    """Tokenise raw parallel files (checked for equal length) for an aligner's training corpus;
    tokenised once per content (core.data.tokenize.tokenize_parallel caches them)."""
    extra: list[TokenPair] = []
    for source_path, target_path in path_pairs:
        extra.extend(tokenize_parallel(source_path, target_path, source_lang, target_lang))
    return extra


def print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None, sort_keys=True))
