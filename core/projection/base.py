"""The projector interface: source spans + target tokens + alignment -> projected target spans."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence

from core.registry import Registry
from core.types import Alignment, ProjectedSpan, Projection, SentencePair, Span

PROJECTORS: Registry[Projector] = Registry("projection method")

# core.pipelines.markers registers `marker` (it needs a translator, so it lives with the pipelines).
_BACKENDS = ("core.projection.heuristic", "core.projection.candidates", "core.pipelines.markers")


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
            pair.source.spans, pair.source.tokens, pair.target.tokens, pair.alignment, candidates
        )
        return Projection(pair, spans, self.name)


def get_projector(name: str, **params: object) -> Projector:
    for module in _BACKENDS:
        importlib.import_module(module)
    return PROJECTORS.create(name, **params)
