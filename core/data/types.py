"""Typed data that flows through xner: sentences, spans, alignments, projections.

`Span` and `ProjectedSpan` are immutable records stored as tuples: projection makes several per
sentence, and a tuple is built at C speed. They behave as frozen dataclasses would: fields by
name, equal (and ordered, for spans) only to their own kind, hashed as the tuple of their
fields. `Span(...)` checks its bounds; code that builds records from values it computed itself
(the projectors' inner loops) uses `new_span` and `new_projected_span`, which take the fields
as one tuple and check nothing. `Alignment` is a record with slots, immutable like a frozen
dataclass: aligners make one per sentence pair, so making one is three slot writes, and its
links are sorted only if something asks for `ordered_links`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from types import MethodType

Link = tuple[int, int]  # (source token index, target token index), 0-based

# Field getters made in C by namedtuple (as fast as reading an attribute).
_span_fields = namedtuple("_span_fields", "start end label")
_projected_fields = namedtuple("_projected_fields", "span source method score links")


def _unordered(record: tuple, other: object) -> bool:
    """A record compared with another kind: no order (not even with a plain tuple)."""
    if isinstance(other, tuple):
        raise TypeError(f"{type(record).__name__} and {type(other).__name__} are not ordered")
    return NotImplemented


class _Record(tuple):
    """A frozen record stored as a tuple (fast to make and compare), which behaves like a frozen
    dataclass: equal only to a record of its own class (never to a plain tuple), hashed by its
    fields, unordered unless a subclass orders it, pickled through its constructor."""

    __slots__ = ()

    def __getnewargs__(self) -> tuple:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)  # type: ignore[arg-type]
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__ne__(self, other)  # type: ignore[arg-type]
        return True if isinstance(other, tuple) else NotImplemented

    def __lt__(self, other: object) -> bool:
        return _unordered(self, other)

    __le__ = __gt__ = __ge__ = __lt__
    __hash__ = tuple.__hash__


class Span(_Record):
    """An entity over tokens [start, end) with a type label such as PER."""

    __slots__ = ()
    __match_args__ = ("start", "end", "label")

    start: int = _span_fields.start  # type: ignore[assignment]
    end: int = _span_fields.end  # type: ignore[assignment]
    label: str = _span_fields.label  # type: ignore[assignment]

    def __new__(cls, start: int, end: int, label: str) -> Span:
        if start < 0 or end <= start:
            raise ValueError(f"invalid span [{start}, {end})")
        return tuple.__new__(cls, (start, end, label))

    def __repr__(self) -> str:
        return f"Span(start={self[0]!r}, end={self[1]!r}, label={self[2]!r})"

    # Ordered among spans only.
    def __lt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__lt__(self, other)  # type: ignore[operator]
        return _unordered(self, other)

    def __le__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__le__(self, other)  # type: ignore[operator]
        return _unordered(self, other)

    def __gt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__gt__(self, other)  # type: ignore[operator]
        return _unordered(self, other)

    def __ge__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__ge__(self, other)  # type: ignore[operator]
        return _unordered(self, other)

    def __len__(self) -> int:
        return self[1] - self[0]

    def overlaps(self, other: Span) -> bool:
        return self[0] < other[1] and other[0] < self[1]

    def indices(self) -> range:
        return range(self[0], self[1])


# tuple.__new__ bound to the class: a bound method passes the class on without the extra
# layer functools.partial adds (about 50 ns less per record).
new_span: Callable[[tuple[int, int, str]], Span] = MethodType(tuple.__new__, Span)
"""A Span from (start, end, label) already known valid: no checks."""


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


class Alignment:
    """Word alignment of one sentence pair: a set of (source, target) links, optional scores.

    Immutable, equal to another alignment with the same links (scores are not compared) and
    hashed by its links, as a frozen dataclass of `links` and `scores` would be. A record with
    slots: aligners make one per pair, so making one is three slot writes and no sorting.
    `ordered_links` holds the same links sorted by (source, target), made on first use and
    kept: a source span's links are one slice of it."""

    __slots__ = ("links", "scores", "_ordered_links")
    __match_args__ = ("links", "scores")

    links: frozenset[Link]
    scores: dict[Link, float]

    def __init__(
        self, links: frozenset[Link] = frozenset(), scores: dict[Link, float] | None = None
    ) -> None:
        _set_links(self, links)
        _set_scores(self, {} if scores is None else scores)
        _set_ordered_links(self, None)

    @property
    def ordered_links(self) -> tuple[Link, ...]:
        ordered = self._ordered_links
        if ordered is None:
            ordered = tuple(sorted(self.links))
            _set_ordered_links(self, ordered)
        return ordered

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: an Alignment is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: an Alignment is immutable")

    def __reduce__(self) -> tuple[type[Alignment], tuple[frozenset[Link], dict[Link, float]]]:
        return (Alignment, (self.links, self.scores))

    def __repr__(self) -> str:
        return f"Alignment(links={self.links!r}, scores={self.scores!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self.links == other.links  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.links,))

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


# The slots' own setters: the constructor writes through them, past the refusing __setattr__.
_set_links = Alignment.links.__set__  # type: ignore[attr-defined]
_set_scores = Alignment.scores.__set__  # type: ignore[attr-defined]
_set_ordered_links = Alignment._ordered_links.__set__  # type: ignore[attr-defined]


@dataclass
class SentencePair:
    """A source sentence, its translation, and (once aligned) the word alignment between them."""

    source: Sentence
    target: Sentence
    alignment: Alignment | None = None
    id: str = ""


class ProjectedSpan(_Record):
    """A target span with its provenance: the source span, method, score and supporting links."""

    __slots__ = ()
    __match_args__ = ("span", "source", "method", "score", "links")

    span: Span = _projected_fields.span  # type: ignore[assignment]
    source: Span = _projected_fields.source  # type: ignore[assignment]
    method: str = _projected_fields.method  # type: ignore[assignment]
    score: float = _projected_fields.score  # type: ignore[assignment]
    links: tuple[Link, ...] = _projected_fields.links  # type: ignore[assignment]

    def __new__(
        cls,
        span: Span,
        source: Span,
        method: str,
        score: float = 1.0,
        links: tuple[Link, ...] = (),
    ) -> ProjectedSpan:
        return tuple.__new__(cls, (span, source, method, score, links))

    def __repr__(self) -> str:
        return (
            f"ProjectedSpan(span={self[0]!r}, source={self[1]!r}, method={self[2]!r}, "
            f"score={self[3]!r}, links={self[4]!r})"
        )

    @property
    def label(self) -> str:
        return self[0][2]


new_projected_span: Callable[[tuple[Span, Span, str, float, tuple[Link, ...]]], ProjectedSpan] = (
    MethodType(tuple.__new__, ProjectedSpan)
)
"""A ProjectedSpan from (span, source, method, score, links), all given: no checks."""


@dataclass(slots=True)
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
