"""What the projection explorer shows, computed without a UI: per-sentence warning flags that
surface likely alignment errors, search, filtering, a side-by-side comparison of two views
(projection methods or aligners), and the alignment matrix."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.data.types import Projection, Span
from core.registry import Registry

DEFAULT_LABELS = ("PER", "ORG", "LOC", "DATE", "MISC")


def all_labels(view: Sequence[Projection]) -> list[str]:
    """The labels to offer: the usual types first, then any other type the source side uses."""
    seen = {s.label for p in view for s in p.pair.source.spans}
    return list(DEFAULT_LABELS) + sorted(seen - set(DEFAULT_LABELS))


@dataclass(frozen=True)
class Thresholds:
    length_ratio: float = 1.5  # projected/source length above this (or below its inverse)
    min_score: float = 0.5  # projection score (coverage or Dice) below this


@dataclass(frozen=True)
class Flag:
    name: str
    title: str
    check: Callable[[Projection, Projection | None, Thresholds], bool]


FLAGS: Registry[Flag] = Registry("explorer flag")


def _flag(name: str, title: str):
    def decorate(check):
        FLAGS.register(name)(lambda: Flag(name, title, check))
        return check

    return decorate


@_flag("unprojected", "source entity with no projection")
def has_unprojected(p: Projection, other: Projection | None, th: Thresholds) -> bool:
    return bool(p.unprojected)


@_flag("length", "projected span much longer or shorter than its source")
def has_length_mismatch(p: Projection, other: Projection | None, th: Thresholds) -> bool:
    for s in p.spans:
        ratio = len(s.span) / len(s.source)
        if ratio > th.length_ratio or ratio < 1 / th.length_ratio:
            return True
    return False


@_flag("unaligned", "entity word with no alignment link")
def has_unaligned_entity_words(p: Projection, other: Projection | None, th: Thresholds) -> bool:
    return bool(unaligned_entity_words(p))


@_flag("low_score", "projection score below the threshold")
def has_low_score(p: Projection, other: Projection | None, th: Thresholds) -> bool:
    return any(s.score < th.min_score for s in p.spans)


@_flag("disagree", "the two compared views disagree")
def has_disagreement(p: Projection, other: Projection | None, th: Thresholds) -> bool:
    return other is not None and span_set(p) != span_set(other)


def flag_names() -> list[str]:
    return ["unprojected", "length", "unaligned", "low_score", "disagree"]


def flag_title(name: str) -> str:
    return FLAGS.create(name).title


def span_set(p: Projection) -> set[Span]:
    return {s.span for s in p.spans}


def unaligned_entity_words(p: Projection) -> list[int]:
    """Source token indices inside entities that have no alignment link at all."""
    aligned = {i for i, _ in p.pair.alignment.links} if p.pair.alignment else set()
    return [i for span in p.pair.source.spans for i in span.indices() if i not in aligned]


def sentence_flags(
    p: Projection, other: Projection | None = None, th: Thresholds = Thresholds()
) -> list[str]:
    return [name for name in flag_names() if FLAGS.create(name).check(p, other, th)]


def matches_query(p: Projection, query: str) -> bool:
    """Case-insensitive search over the id, the source and the target text."""
    query = query.strip().lower()
    if not query:
        return True
    pair = p.pair
    return (
        query == str(pair.id).lower()
        or query in pair.source.text().lower()
        or query in pair.target.text().lower()
    )


@dataclass
class Row:
    """One sentence in the explorer's list."""

    index: int
    id: str
    source: str
    target: str
    entities: int
    projected: int
    flags: list[str]
    corrected: bool


def sentence_rows(
    view: Sequence[Projection],
    other: Sequence[Projection] | None = None,
    *,
    query: str = "",
    flags: Sequence[str] = (),
    corrected: set[str] | None = None,
    only_corrected: bool = False,
    th: Thresholds = Thresholds(),
) -> list[Row]:
    """The sentences to list: those matching `query` and carrying ALL the `flags` asked for."""
    corrected = corrected or set()
    if other is not None and len(other) != len(view):
        raise ValueError(f"views differ in length: {len(view)} vs {len(other)} sentences")
    rows = []
    for n, p in enumerate(view):
        if not matches_query(p, query):
            continue
        o = other[n] if other is not None else None
        found = sentence_flags(p, o, th)
        if any(f not in found for f in flags):
            continue
        is_corrected = p.pair.id in corrected
        if only_corrected and not is_corrected:
            continue
        rows.append(
            Row(
                n,
                p.pair.id,
                p.pair.source.text(),
                p.pair.target.text(),
                len(p.pair.source.spans),
                len(p.spans),
                found,
                is_corrected,
            )
        )
    return rows


def flag_counts(
    view: Sequence[Projection],
    other: Sequence[Projection] | None = None,
    th: Thresholds = Thresholds(),
) -> dict[str, int]:
    counts = dict.fromkeys(flag_names(), 0)
    for n, p in enumerate(view):
        for f in sentence_flags(p, other[n] if other is not None else None, th):
            counts[f] += 1
    return counts


@dataclass
class Comparison:
    """How two views projected one source entity."""

    source: Span
    source_text: str
    a: Span | None
    a_text: str
    a_score: float | None
    b: Span | None
    b_text: str
    b_score: float | None

    @property
    def agree(self) -> bool:
        return self.a == self.b


def compare(a: Projection, b: Projection) -> list[Comparison]:
    """Per source entity: the span each view projected it to (None where it did not)."""
    tokens = a.pair.target.tokens
    src_tokens = a.pair.source.tokens
    by_a = {s.source: s for s in a.spans}
    by_b = {s.source: s for s in b.spans}
    out = []
    for entity in a.pair.source.spans:
        pa, pb = by_a.get(entity), by_b.get(entity)
        out.append(
            Comparison(
                entity,
                " ".join(src_tokens[entity.start : entity.end]),
                pa.span if pa else None,
                " ".join(tokens[pa.span.start : pa.span.end]) if pa else "",
                pa.score if pa else None,
                pb.span if pb else None,
                " ".join(tokens[pb.span.start : pb.span.end]) if pb else "",
                pb.score if pb else None,
            )
        )
    return out


def agreement(a: Sequence[Projection], b: Sequence[Projection]) -> float:
    """Share of source entities both views projected to the same target span (or both skipped)."""
    same = total = 0
    for pa, pb in zip(a, b):
        for c in compare(pa, pb):
            total += 1
            same += c.agree
    return same / total if total else 1.0


def alignment_matrix(p: Projection) -> list[list[int]]:
    """rows = source tokens, columns = target tokens; 1 where linked."""
    n, m = len(p.pair.source.tokens), len(p.pair.target.tokens)
    grid = [[0] * m for _ in range(n)]
    for i, j in p.pair.alignment.links if p.pair.alignment else ():
        if i < n and j < m:
            grid[i][j] = 1
    return grid


def projection_of_links(p: Projection) -> dict[tuple[int, int], str]:
    """Links that carried an entity, with the projected span's label (for highlighting)."""
    out: dict[tuple[int, int], str] = {}
    for s in p.spans:
        for link in s.links:
            out[(int(link[0]), int(link[1]))] = s.label
    return out


def view_summary(view: Sequence[Projection]) -> Mapping[str, float]:
    entities = sum(len(p.pair.source.spans) for p in view)
    projected = sum(len(p.spans) for p in view)
    return {
        "sentences": len(view),
        "source entities": entities,
        "projected": projected,
        "projected share": projected / entities if entities else 0.0,
    }
