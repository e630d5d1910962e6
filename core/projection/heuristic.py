"""The alignment heuristic of García-Ferrero et al. (2022), as used by the projection paper.

For each source entity: take the target words aligned to any of its words, group them into
contiguous ranges, merge ranges separated by at most `max_gap` unaligned words, keep ranges whose
length ratio len(range)/len(entity) exceeds `min_ratio`, and keep the longest. Collisions between
entities (overlapping target ranges) are resolved in favour of the longest range.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from core.data.types import Alignment, ProjectedSpan, Span
from core.projection.base import PROJECTORS, Projector


def aligned_ranges(
    targets: Sequence[int], aligned_anywhere: set[int], max_gap: int = 1, only_unaligned_gaps=True
) -> list[tuple[int, int]]:
    """Group sorted target indices into [start, end) ranges, bridging short gaps."""
    ranges: list[list[int]] = []
    for j in sorted(set(targets)):
        if ranges:
            gap = range(ranges[-1][1], j)
            bridgeable = len(gap) <= max_gap and not (
                only_unaligned_gaps and any(k in aligned_anywhere for k in gap)
            )
            if len(gap) == 0 or bridgeable:
                ranges[-1][1] = j + 1
                continue
        ranges.append([j, j + 1])
    return [(a, b) for a, b in ranges]


@PROJECTORS.register("heuristic")
class HeuristicProjector(Projector):
    """García-Ferrero et al. 2022 projection; parameters as in the reference implementation."""

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
        n_target = len(target_tokens)
        # Sorted by source index, an entity's links are one slice, found by bisection; sorted
        # (i, j) order is also the order of the provenance links.
        ordered = sorted(links)
        aligned_anywhere: set[int] | None = None
        found: list[ProjectedSpan] = []
        for entity in source_spans:
            lo = bisect_left(ordered, (entity.start, -1))
            hi = bisect_left(ordered, (entity.end, -1), lo)
            if lo == hi:
                continue
            own = ordered[lo:hi]
            size = entity.end - entity.start
            if hi - lo == 1:  # the common case: one link, one one-word range
                start = own[0][1]
                if start >= n_target or 1 / size <= self.min_ratio:
                    continue
                end = start + 1
                chosen = own
            else:
                targets = sorted({j for _, j in own})
                if targets[-1] >= n_target:
                    targets = [j for j in targets if j < n_target]
                    if not targets:
                        continue
                # The longest range (earliest on ties); the ratio test is monotone in length,
                # so if the longest fails it every range does.
                start = a = b = targets[0]
                end = b + 1
                for j in targets[1:]:
                    gap = j - b - 1
                    if gap and gap <= self.max_gap and self.only_unaligned_gaps:
                        if aligned_anywhere is None:
                            aligned_anywhere = {k for _, k in links}
                        bridge = aligned_anywhere.isdisjoint(range(b + 1, j))
                    else:
                        bridge = gap <= self.max_gap
                    if not bridge:
                        if b + 1 - a > end - start:
                            start, end = a, b + 1
                        a = j
                    b = j
                if b + 1 - a > end - start:
                    start, end = a, b + 1
                if (end - start) / size <= self.min_ratio:
                    continue
                chosen = [link for link in own if start <= link[1] < end]
            covered = len({i for i, _ in chosen}) / size
            found.append(
                ProjectedSpan(
                    Span(start, end, entity.label), entity, self.name, covered, tuple(chosen)
                )
            )
        if self.collision == "none" or len(found) < 2:
            return found
        by_start = sorted(found, key=lambda p: p.span.start)
        if all(x.span.end <= y.span.start for x, y in zip(by_start, by_start[1:])):
            return by_start
        kept: list[ProjectedSpan] = []
        for candidate in sorted(found, key=lambda p: (-len(p.span), p.span.start)):
            if not any(candidate.span.overlaps(k.span) for k in kept):
                kept.append(candidate)
        return sorted(kept, key=lambda p: p.span.start)
