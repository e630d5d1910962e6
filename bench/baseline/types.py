"""Typed data that flows through xner: sentences, spans, alignments, projections."""

from __future__ import annotations

from dataclasses import dataclass, field

Link = tuple[int, int]  # (source token index, target token index), 0-based


@dataclass(frozen=True, order=True)
class Span:
    """An entity over tokens [start, end) with a type label such as PER."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def indices(self) -> range:
        return range(self.start, self.end)


@dataclass
class Sentence:
    """A tokenised sentence; `tags` are IOB2 tags, one per token, or None when unlabelled."""

    tokens: list[str]
    tags: list[str] | None = None
    id: str = ""
    lang: str = ""

    def __post_init__(self) -> None:
        if self.tags is not None and len(self.tags) != len(self.tokens):
            raise ValueError(
                f"sentence {self.id!r}: {len(self.tokens)} tokens but {len(self.tags)} tags"
            )

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def spans(self) -> list[Span]:
        from core.data.tags import tags_to_spans

        return tags_to_spans(self.tags) if self.tags is not None else []

    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True)
class Alignment:
    """Word alignment of one sentence pair: a set of (source, target) links, optional scores."""

    links: frozenset[Link] = frozenset()
    scores: dict[Link, float] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def from_links(cls, links: object) -> Alignment:
        return cls(frozenset((int(i), int(j)) for i, j in links))  # type: ignore[union-attr]

    def __len__(self) -> int:
        return len(self.links)

    def targets_of(self, source_index: int) -> list[int]:
        return sorted(j for i, j in self.links if i == source_index)

    def sources_of(self, target_index: int) -> list[int]:
        return sorted(i for i, j in self.links if j == target_index)

    def inverted(self) -> Alignment:
        return Alignment(
            frozenset((j, i) for i, j in self.links),
            {(j, i): s for (i, j), s in self.scores.items()},
        )


@dataclass
class SentencePair:
    """A source sentence, its translation, and (once aligned) the word alignment between them."""

    source: Sentence
    target: Sentence
    alignment: Alignment | None = None
    id: str = ""


@dataclass(frozen=True)
class ProjectedSpan:
    """A target span with its provenance: the source span, method, score and supporting links."""

    span: Span
    source: Span
    method: str
    score: float = 1.0
    links: tuple[Link, ...] = ()

    @property
    def label(self) -> str:
        return self.span.label


@dataclass
class Projection:
    """The result of projecting one pair's source spans onto its target tokens."""

    pair: SentencePair
    spans: list[ProjectedSpan]
    method: str

    @property
    def unprojected(self) -> list[Span]:
        done = {p.source for p in self.spans}
        return [s for s in self.pair.source.spans if s not in done]

    def target_tags(self) -> list[str]:
        from core.data.tags import spans_to_tags

        return spans_to_tags([p.span for p in self.spans], len(self.pair.target.tokens))

    def labelled_target(self) -> Sentence:
        t = self.pair.target
        return Sentence(list(t.tokens), self.target_tags(), id=t.id, lang=t.lang)
