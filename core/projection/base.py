"""The projector interface: source spans + target tokens + alignment -> projected target spans."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import itemgetter

from core.data.tags import tags_to_spans
from core.data.types import Alignment, ProjectedSpan, Projection, SentencePair, Span
from core.registry import Registry

# A link's source index: projectors bisect an alignment's ordered_links by it.
link_source = itemgetter(0)

PROJECTORS: Registry[Projector] = Registry(
    "projection method",
    backends=("core.projection.heuristic", "core.projection.candidates", "core.projection.marker"),
)


class Projector(ABC):
    """Projects the entity spans of a source sentence onto target tokens.

    `candidates` are target spans proposed by an NER model on the target side (labels ignored);
    methods that do not use candidates ignore them.

    Capabilities (class attributes, read as `PROJECTORS.get(name).needs_translator`, or
    `PROJECTORS.names(needs_translator=False)`): `needs_alignment`: projects through the word
    alignment of each pair (else pairs may go unaligned); `needs_translator`: translates the
    source itself, so it takes `translator`, `src_lang` and `tgt_lang` parameters.
    """

    name: str = ""
    needs_alignment: bool = True
    needs_translator: bool = False

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

    def project_pairs(
        self, pairs: Iterable[SentencePair], candidates: Iterable[Sequence[Span]] | None = None
    ) -> list[Projection]:
        """`project_pair` over many pairs, with the per-pair overhead taken out of the loop.

        A pair without source entities projects to nothing (every method's `project` returns
        no spans for no entities), so its tags are checked at C speed and not decoded."""
        name, project = self.name, self.project
        found_per_pair = repeat(None) if candidates is None else candidates
        out = []
        for pair, found in zip(pairs, found_per_pair):
            alignment = pair.alignment
            if alignment is None:
                raise ValueError(f"pair {pair.id!r} has no alignment; align it first")
            source = pair.source
            tags = source.tags
            if tags is None or tags.count("O") == len(tags):
                out.append(Projection(pair, [], name))
                continue
            spans = project(
                tags_to_spans(tags), source.tokens, pair.target.tokens, alignment, found
            )
            out.append(Projection(pair, spans, name))
        return out


def get_projector(name: str, **params: object) -> Projector:
    return PROJECTORS.create(name, **params)
