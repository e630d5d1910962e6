"""`xner components`: the registered aligners, projection methods, translators, labelers and
taggers, their capabilities, and each one's parameters with what they accept and their defaults
(read from the constructors, as the `--*-param` checks are)."""

from __future__ import annotations

import argparse

from core.errors import ConfigError
from core.registry import Registry


def registries() -> dict[str, Registry]:
    """The component kinds by the name the command takes (imported here: loading is lazy)."""
    from core.aligners.base import ALIGNERS
    from core.labelers import LABELERS
    from core.projection.base import PROJECTORS
    from core.taggers import TAGGERS
    from core.translate.base import TRANSLATORS

    return {
        "aligner": ALIGNERS,
        "method": PROJECTORS,
        "translator": TRANSLATORS,
        "labeler": LABELERS,
        "tagger": TAGGERS,
    }


# Class attributes that describe what a component needs or does (see the base classes).
CAPABILITIES = ("needs_alignment", "needs_translator", "trains_on_corpus", "needs_encoder")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "components",
        help="list aligners, projection methods, translators, labelers, taggers and their options",
        description="Without arguments: every component kind and its names. With a KIND: its "
        "names and capabilities. With KIND NAME: the options it takes (as KEY=VALUE for "
        "--aligner-param, --method-param, ...), what each accepts and its default.",
    )
    p.add_argument("kind", nargs="?", help="aligner, method, translator, labeler or tagger")
    p.add_argument("name", nargs="?", help="a component of that kind, e.g. eflomal")
    p.set_defaults(run=run_components)


def run_components(args: argparse.Namespace) -> int:
    kinds = registries()
    if args.kind is None:
        for kind, registry in kinds.items():
            print(f"{kind}: {', '.join(registry.names())}")
        return 0
    if args.kind not in kinds:
        raise ConfigError(f"unknown component kind {args.kind!r}; known: {', '.join(kinds)}")
    registry = kinds[args.kind]
    if args.name is None:
        for name in registry.names():
            factory = registry.get(name)
            flags = [c for c in CAPABILITIES if getattr(factory, c, False) is True]
            print(name + (f"  ({', '.join(flags)})" if flags else ""))
        return 0
    params = registry.describe_params(args.name)
    width = max((len(key) for key in params), default=0)
    for key, text in params.items():
        print(f"{key:<{width}}  {text}")
    return 0
