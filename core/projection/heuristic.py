"""The alignment heuristic of García-Ferrero et al. (2022), as used by the projection paper.

For each source entity: take the target words aligned to any of its words, group them into
contiguous ranges, merge ranges separated by at most `max_gap` words, keep ranges whose length
ratio len(range)/len(entity) exceeds `min_ratio`, and keep the longest. Collisions between
entities (overlapping target ranges) are resolved in favour of the longest range.

One rule differs from the reference implementation by default: a gap is bridged only if its
words are aligned to nothing (`only_unaligned_gaps=True`); the reference bridges any gap of at
most `max_gap` words (`only_unaligned_gaps=False` reproduces it: identical tags on all 9,746
MAFAND en-yor sentences of ../shared/bench/fixture_yor.json.gz, 20 of which differ with the
default). Measured on the same alignments (bench/streaming.py, eflomal on Europarl-NER + FLORES,
3 alignments), the default scores Europarl de F1 0.8053 vs 0.8050 and es 0.8975 vs 0.8971: a
word aligned to something else is rarely part of the entity.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from core.data.types import Alignment, Link, ProjectedSpan, Span, new_projected_span, new_span
from core.projection.base import PROJECTORS, Projector, link_source


@PROJECTORS.register("heuristic")
class HeuristicProjector(Projector):
    """García-Ferrero et al. 2022 projection: `max_gap` 1 and `min_ratio` 0.8 as in the
    reference implementation; `only_unaligned_gaps` (default True) bridges only gaps of
    unaligned words, where the reference bridges any (False); see the module docstring."""

    name = "heuristic"

    def __init__(
        self,
        max_gap: Annotated[int, Field(ge=0)] = 1,
        min_ratio: Annotated[float, Field(ge=0)] = 0.8,
        only_unaligned_gaps: bool = True,
        collision: Literal["longest", "none"] = "longest",
    ):
        if collision not in ("longest", "none"):
            raise ValueError("collision must be 'longest' or 'none'")
        self.max_gap = max_gap
        self.min_ratio = min_ratio
        self.only_unaligned_gaps = only_unaligned_gaps
        self.collision = collision

    def project(
        self,
        source_spans: Sequence[Span],
        source_tokens: Sequence[str],
        target_tokens: Sequence[str],
        alignment: Alignment,
        candidates: Sequence[Span] | None = None,
    ) -> list[ProjectedSpan]:
        links = alignment.links
        if not source_spans or not links:
            return []
        # Usually every source word has at most one link (an intersection of two directions):
        # then an entity's links, in (source, target) order, are read from a source -> target
        # dict made at C speed, without sorting. Else they are one slice of the sorted links,
        # found by bisection.
        # (more links than source words: some word has two, no need to look)
        target_of = dict(links) if len(links) <= len(source_tokens) else {}
        ordered = None if len(target_of) == len(links) else alignment.ordered_links
        n_target = len(target_tokens)
        max_gap, min_ratio, name = self.max_gap, self.min_ratio, self.name
        aligned_anywhere: set[int] | None = None
        found: list[ProjectedSpan] = []
        # An entity's own links: the same lookup as in candidates.py, written out in both on purpose
        # (the hot loop of the projection step: a helper call would run for every entity).
        for entity in source_spans:
            first, last, label = entity
            if ordered is None:
                if last - first == 1:
                    start = target_of.get(first)
                    if start is None:
                        continue
                    own: tuple[Link, ...] = ((first, start),)
                else:
                    aligned: list[Link] = []
                    for i in range(first, last):
                        if i in target_of:
                            aligned.append((i, target_of[i]))
                    if not aligned:
                        continue
                    own = tuple(aligned)
            else:
                lo = bisect_left(ordered, first, key=link_source)
                hi = bisect_left(ordered, last, lo, key=link_source)
                if lo == hi:
                    continue
                own = ordered[lo:hi]
            size = last - first
            if len(own) == 1:  # the common case: one link, one one-word range
                link = own[0]
                start = link[1]
                if start >= n_target or 1 / size <= min_ratio:
                    continue
                span = new_span((start, start + 1, label))
                found.append(new_projected_span((span, entity, name, 1 / size, own)))
                continue
            targets = sorted({link[1] for link in own})
            inside = targets[-1] < n_target
            if not inside:
                targets = [j for j in targets if j < n_target]
                if not targets:
                    continue
            start, end = targets[0], targets[-1] + 1
            if end - start != len(targets):  # else the words are contiguous: one range
                # The longest range (earliest on ties); the ratio test is monotone in length,
                # so if the longest fails it every range does.
                a = b = start
                end = b + 1
                for j in targets[1:]:
                    gap = j - b - 1
                    if gap and gap <= max_gap and self.only_unaligned_gaps:
                        if aligned_anywhere is None:
                            aligned_anywhere = {k for _, k in links}
                        bridge = aligned_anywhere.isdisjoint(range(b + 1, j))
                    else:
                        bridge = gap <= max_gap
                    if not bridge:
                        if b + 1 - a > end - start:
                            start, end = a, b + 1
                        a = j
                    b = j
                if b + 1 - a > end - start:
                    start, end = a, b + 1
                inside = False
            if (end - start) / size <= min_ratio:
                continue
            # the links to the range: all of the entity's when it covers them all
            chosen = own if inside else tuple([link for link in own if start <= link[1] < end])
            covered = len({i for i, _ in chosen}) / size
            span = new_span((start, end, label))
            found.append(new_projected_span((span, entity, name, covered, chosen)))
        if self.collision == "none" or len(found) < 2:
            return found
        # Usually the ranges follow each other without overlap in entity order: nothing to do.
        end = -1
        for projected in found:
            if projected.span.start < end:
                break
            end = projected.span.end
        else:
            return found
        by_start = sorted(found, key=_target_start)
        if all(x.span.end <= y.span.start for x, y in zip(by_start, by_start[1:])):
            return by_start
        kept: list[ProjectedSpan] = []
        for candidate in sorted(found, key=lambda p: (-len(p.span), p.span.start)):
            if not any(candidate.span.overlaps(k.span) for k in kept):
                kept.append(candidate)
        return sorted(kept, key=_target_start)


def _target_start(projected: ProjectedSpan) -> int:
    return projected.span.start
