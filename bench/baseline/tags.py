"""IOB2 decoding as of commit 3088df9 (core/data/tags.py), for the baseline projectors."""

from __future__ import annotations

from collections.abc import Sequence

from bench.baseline.types import Span


def tags_to_spans(tags: Sequence[str]) -> list[Span]:
    """Decode IOB2 tags; an I- that does not continue a same-type entity starts a new one."""
    spans: list[Span] = []
    start, label = -1, ""
    for i, tag in enumerate(tags):
        if tag.startswith("I-") and start >= 0 and tag[2:] == label:
            continue
        if start >= 0:
            spans.append(Span(start, i, label))
            start, label = -1, ""
        if tag != "O":
            start, label = i, tag[2:]
    if start >= 0:
        spans.append(Span(start, len(tags), label))
    return spans
