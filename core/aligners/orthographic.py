"""Orthographic links: identical words on both sides (names, numbers, acronyms) are linked.

Statistical aligners trained on a few thousand pairs see most names once and often leave them
unaligned; an identical string is strong evidence of a link (Alexander Nikitin, ISO 9002, ADR).
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from core.data.types import Alignment

_HAS_WORD_CHAR = regex.compile(r"[\p{L}\p{N}]")


def identical_links(
    source: Sequence[str], target: Sequence[str], min_length: int = 2
) -> set[tuple[int, int]]:
    """Links between case-insensitively identical tokens of at least `min_length` characters."""
    positions: dict[str, list[int]] = {}
    for j, token in enumerate(target):
        positions.setdefault(token.lower(), []).append(j)
    links = set()
    for i, token in enumerate(source):
        if len(token) < min_length or not _HAS_WORD_CHAR.search(token):
            continue
        for j in positions.get(token.lower(), ()):
            links.add((i, j))
    return links


def add_identical_links(
    alignment: Alignment,
    source: Sequence[str],
    target: Sequence[str],
    min_length: int = 2,
    score: float = 1.0,
) -> Alignment:
    """The alignment plus identical-token links (scored `score` where scores are kept)."""
    extra = identical_links(source, target, min_length) - alignment.links
    if not extra:
        return alignment
    scores = dict(alignment.scores)
    if scores:
        scores.update({link: score for link in extra})
    return Alignment(alignment.links | extra, scores)
