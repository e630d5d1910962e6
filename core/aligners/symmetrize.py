"""Symmetrisation of two directional word alignments (Koehn et al. 2003; Moses `symal`).

Each method combines the forward links (every target word aligned to at most one source word)
and the reverse links (every source word aligned to at most one target word), both given as
(source, target) pairs, into one link set:

- intersection: links in both directions (high precision);
- union: links in either direction (high recall);
- grow-diag: the intersection grown with union links that neighbour (also diagonally) an
  existing link and align a word that is still unaligned, repeated until nothing changes;
- grow-diag-final: grow-diag, then any union link whose source or target word is unaligned;
- grow-diag-final-and: grow-diag, then union links whose source and target words are both
  unaligned.

The grow step visits links in (source, target) order and repeats sweeps until a sweep adds
nothing, as in Koehn's pseudo-code; it touches only existing links, not the whole grid, because
the aligner symmetrises every sentence of a corpus.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import Annotated, Literal

from pydantic import BeforeValidator

from core.data.types import Link
from core.errors import ConfigError
from core.registry import Registry

LinkSet = frozenset[Link]
Symmetrizer = Callable[[Iterable[Link], Iterable[Link]], LinkSet]

SYMMETRIZERS: Registry[LinkSet] = Registry("symmetrization")

_NEIGHBOURS_DIAG = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _grow(alignment: set[Link], union: set[Link], neighbours=_NEIGHBOURS_DIAG) -> None:
    """Koehn's GROW-DIAG in place: repeated sweeps over the links in (source, target) order."""
    aligned_source = {i for i, _ in alignment}
    aligned_target = {j for _, j in alignment}
    candidates = union - alignment
    while candidates:
        added = False
        # A heap reproduces the grid loop: a link added ahead of the sweep position is visited
        # in this sweep, one added behind it waits for the next sweep.
        queue = sorted(alignment)
        while queue:
            i, j = heapq.heappop(queue)
            for di, dj in neighbours:
                link = (i + di, j + dj)
                if link not in candidates:
                    continue
                if link[0] in aligned_source and link[1] in aligned_target:
                    continue
                alignment.add(link)
                candidates.discard(link)
                aligned_source.add(link[0])
                aligned_target.add(link[1])
                added = True
                if link > (i, j):
                    heapq.heappush(queue, link)
        if not added:
            break


def _final(alignment: set[Link], directional: Iterable[Link], both_unaligned: bool) -> None:
    """Koehn's FINAL / FINAL-AND: add directional links that align a still unaligned word."""
    aligned_source = {i for i, _ in alignment}
    aligned_target = {j for _, j in alignment}
    for i, j in sorted(directional):
        free_source, free_target = i not in aligned_source, j not in aligned_target
        if (free_source and free_target) if both_unaligned else (free_source or free_target):
            alignment.add((i, j))
            aligned_source.add(i)
            aligned_target.add(j)


@SYMMETRIZERS.register("intersection")
def intersection(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    return frozenset(forward) & frozenset(reverse)


@SYMMETRIZERS.register("union")
def union(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    return frozenset(forward) | frozenset(reverse)


@SYMMETRIZERS.register("grow-diag")
def grow_diag(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    forward, reverse = set(forward), set(reverse)
    alignment = forward & reverse
    _grow(alignment, forward | reverse)
    return frozenset(alignment)


@SYMMETRIZERS.register("grow-diag-final")
def grow_diag_final(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    forward, reverse = set(forward), set(reverse)
    alignment = forward & reverse
    _grow(alignment, forward | reverse)
    _final(alignment, forward, both_unaligned=False)
    _final(alignment, reverse, both_unaligned=False)
    return frozenset(alignment)


@SYMMETRIZERS.register("grow-diag-final-and")
def grow_diag_final_and(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    forward, reverse = set(forward), set(reverse)
    alignment = forward & reverse
    _grow(alignment, forward | reverse)
    _final(alignment, forward, both_unaligned=True)
    _final(alignment, reverse, both_unaligned=True)
    return frozenset(alignment)


# Directional links alone, for comparison with the symmetrised ones.
@SYMMETRIZERS.register("forward")
def forward_only(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    return frozenset(forward)


@SYMMETRIZERS.register("reverse")
def reverse_only(forward: Iterable[Link], reverse: Iterable[Link]) -> LinkSet:
    return frozenset(reverse)


def _normalise(name: object) -> object:
    return name.strip().lower().replace("_", "-") if isinstance(name, str) else name


# The accepted names as a parameter type (aligners' `symmetrization`): `_` for `-`, any case.
Symmetrization = Annotated[Literal[tuple(SYMMETRIZERS.names())], BeforeValidator(_normalise)]


def get_symmetrizer(name: str) -> Symmetrizer:
    """The symmetrisation function for `name` (accepts `_` for `-`, any case)."""
    key = _normalise(name)
    if key not in SYMMETRIZERS:
        known = ", ".join(SYMMETRIZERS.names())
        raise ConfigError(f"unknown symmetrization {name!r}; known: {known}")
    return SYMMETRIZERS.get(key)


def symmetrize(forward: Iterable[Link], reverse: Iterable[Link], method: str) -> LinkSet:
    return get_symmetrizer(method)(forward, reverse)
