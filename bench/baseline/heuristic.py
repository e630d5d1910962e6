"""The alignment heuristic of García-Ferrero et al. (2022), as used by the projection paper.

For each source entity: take the target words aligned to any of its words, group them into
contiguous ranges, merge ranges separated by at most `max_gap` unaligned words, keep ranges whose
length ratio len(range)/len(entity) exceeds `min_ratio`, and keep the longest. Collisions between
entities (overlapping target ranges) are resolved in favour of the longest range.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.baseline.base import PROJECTORS, Projector
from bench.baseline.types import Alignment, ProjectedSpan, Span


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
        max_gap: int = 1,
        min_ratio: float = 0.8,
        only_unaligned_gaps: bool = True,
        collision: str = "longest",
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
        if not source_spans or not alignment.links:
            return []
        by_source: dict[int, list[int]] = {}
        for i, j in alignment.links:
            if j < len(target_tokens):
                by_source.setdefault(i, []).append(j)
        aligned_anywhere = {j for _, j in alignment.links}
        found: list[ProjectedSpan] = []
        for entity in source_spans:
            targets = [j for i in entity.indices() for j in by_source.get(i, ())]
            if not targets:
                continue
            ranges = aligned_ranges(
                targets, aligned_anywhere, self.max_gap, self.only_unaligned_gaps
            )
            ranges = [r for r in ranges if (r[1] - r[0]) / len(entity) > self.min_ratio]
            if not ranges:
                continue
            start, end = max(ranges, key=lambda r: (r[1] - r[0], -r[0]))
            links = tuple(
                sorted(
                    (i, j)
                    for i in entity.indices()
                    for j in by_source.get(i, ())
                    if start <= j < end
                )
            )
            covered = len({i for i, _ in links}) / len(entity)
            found.append(
                ProjectedSpan(Span(start, end, entity.label), entity, self.name, covered, links)
            )
        if self.collision == "none":
            return found
        kept: list[ProjectedSpan] = []
        for candidate in sorted(found, key=lambda p: (-len(p.span), p.span.start)):
            if not any(candidate.span.overlaps(k.span) for k in kept):
                kept.append(candidate)
        return sorted(kept, key=lambda p: p.span.start)
