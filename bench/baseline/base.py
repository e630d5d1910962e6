"""The projector interface: source spans + target tokens + alignment -> projected target spans."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from bench.baseline.tags import tags_to_spans
from bench.baseline.types import Alignment, ProjectedSpan, Projection, SentencePair, Span
from core.registry import Registry

PROJECTORS: Registry[Projector] = Registry("baseline projection method")


class Projector(ABC):
    """Projects the entity spans of a source sentence onto target tokens.

    `candidates` are target spans proposed by an NER model on the target side (labels ignored);
    methods that do not use candidates ignore them.
    """

    name: str = ""

    @abstractmethod
    def project(
        self,
        source_spans: Sequence[Span],
        source_tokens: Sequence[str],
        target_tokens: Sequence[str],
        alignment: Alignment,
        candidates: Sequence[Span] | None = None,
    ) -> list[ProjectedSpan]: ...

    def project_pair(
        self, pair: SentencePair, candidates: Sequence[Span] | None = None
    ) -> Projection:
        if pair.alignment is None:
            raise ValueError(f"pair {pair.id!r} has no alignment; align it first")
        spans = self.project(
            tags_to_spans(pair.source.tags or []),
            pair.source.tokens,
            pair.target.tokens,
            pair.alignment,
            candidates,
        )
        return Projection(pair, spans, self.name)


def get_projector(name: str, **params: object) -> Projector:
    return PROJECTORS.create(name, **params)
