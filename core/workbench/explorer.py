"""What the projection explorer shows, computed without a UI: per-sentence warning flags that
surface likely alignment errors, search, filtering, a side-by-side comparison of two views
(projection methods or aligners), and the alignment matrix."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

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
    max_uncertainty: float = 0.5  # a trained tagger's highest token entropy (0-1) at or above this


@dataclass(frozen=True)
class Reason:
    """Why a sentence carries a flag, with the numbers: about one source entity (and the target
    span it was projected to, when there is one)."""

    flag: str
    text: str
    source: Span | None = None
    target: Span | None = None


Check = Callable[[Projection, Projection | None, Thresholds], list[Reason]]


@dataclass(frozen=True)
class Flag:
    """A warning sign on a sentence. `name` is the one name shown everywhere (list, filters,
    counts, the sentence view); `explanation` says what it means."""

    name: str
    explanation: str
    reasons: Check

    def check(self, p: Projection, other: Projection | None, th: Thresholds) -> bool:
        return bool(self.reasons(p, other, th))


FLAGS: Registry[Flag] = Registry("explorer flag")
_ORDER: list[str] = []


def _flag(name: str, explanation: str):
    def decorate(reasons: Check) -> Check:
        FLAGS.register(name)(lambda: Flag(name, explanation, reasons))
        _ORDER.append(name)
        return reasons

    return decorate


def _words(tokens: list[str], span: Span) -> str:
    return " ".join(tokens[span.start : span.end])


def _entity(p: Projection, source: Span) -> str:
    where = f"{source.start}-{source.end - 1}" if len(source) > 1 else f"{source.start}"
    return f"{source.label} '{_words(p.pair.source.tokens, source)}' (source {where})"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@_flag("unprojected", "a source entity was not projected onto any target tokens")
def unprojected_reasons(p: Projection, other: Projection | None, th: Thresholds) -> list[Reason]:
    out = []
    alignment = p.pair.alignment
    for source in p.unprojected:
        linked = (
            sorted({j for i in source.indices() for j in alignment.targets_of(i)})
            if alignment
            else []
        )
        if linked:
            words = ", ".join(f"'{p.pair.target.tokens[j]}' ({j})" for j in linked[:6])
            why = f"its words link to {words}, which the {p.method} projection did not accept"
        else:
            why = "none of its words has an alignment link"
        out.append(Reason("unprojected", f"{_entity(p, source)} not projected: {why}", source))
    return out


@_flag("length mismatch", "a projected span is much longer or shorter than its source entity")
def length_reasons(p: Projection, other: Projection | None, th: Thresholds) -> list[Reason]:
    out = []
    for s in p.spans:
        ratio = len(s.span) / len(s.source)
        if ratio > th.length_ratio or ratio < 1 / th.length_ratio:
            text = (
                f"{_entity(p, s.source)}: {_n(len(s.source), 'source token')} vs "
                f"{len(s.span)} projected ('{_words(p.pair.target.tokens, s.span)}'), "
                f"ratio {ratio:.2f} outside 1/{th.length_ratio:g}-{th.length_ratio:g}"
            )
            out.append(Reason("length mismatch", text, s.source, s.span))
    return out


@_flag("unaligned words", "a word of a source entity has no alignment link at all")
def unaligned_reasons(p: Projection, other: Projection | None, th: Thresholds) -> list[Reason]:
    aligned = {i for i, _ in p.pair.alignment.links} if p.pair.alignment else set()
    by_source = {s.source: s.span for s in p.spans}
    out = []
    for source in p.pair.source.spans:
        missing = [i for i in source.indices() if i not in aligned]
        if missing:
            words = ", ".join(f"'{p.pair.source.tokens[i]}'" for i in missing)
            text = f"{_entity(p, source)}: {len(missing)} of {_n(len(source), 'word')} unaligned ({words})"
            out.append(Reason("unaligned words", text, source, by_source.get(source)))
    return out


@_flag("low score", "a projection score is below the minimum score")
def low_score_reasons(p: Projection, other: Projection | None, th: Thresholds) -> list[Reason]:
    return [
        Reason(
            "low score",
            f"{_entity(p, s.source)} → '{_words(p.pair.target.tokens, s.span)}': score "
            f"{s.score:.2f} below {th.min_score:.2f} ({p.method})",
            s.source,
            s.span,
        )
        for s in p.spans
        if s.score < th.min_score
    ]


@_flag("views disagree", "the compared view projected a source entity differently")
def disagreement_reasons(p: Projection, other: Projection | None, th: Thresholds) -> list[Reason]:
    if other is None:
        return []
    out = []
    tokens = p.pair.target.tokens
    for c in compare(p, other):
        if c.agree:
            continue

        def said(span: Span | None, score: float | None, method: str) -> str:
            if span is None:
                return f"{method}: not projected"
            return f"{method}: '{_words(tokens, span)}' ({span.start}-{span.end - 1}, score {score:.2f})"

        text = (
            f"{_entity(p, c.source)}: {said(c.a, c.a_score, p.method or 'this view')} vs "
            f"{said(c.b, c.b_score, other.method or 'the other view')}"
        )
        out.append(Reason("views disagree", text, c.source, c.a))
    return out


# ---------------------------------------------------------------------- teacher uncertainty

TEACHER_SIGNAL = "teacher uncertainty"  # the one name of the signal: flag, reason, column
TEACHER_EXPLANATION = (
    "a tagger trained for the target language is unsure about a target token (normalised "
    "entropy at or above the threshold) or tags the sentence differently from the projection"
)


@dataclass(frozen=True)
class TeacherScore:
    """What a trained tagger says about one target sentence: per token, the normalised entropy
    of its label distribution (0 sure, 1 uniform) and its best tag sequence."""

    entropy: tuple[float, ...]
    predicted: tuple[str, ...]

    @property
    def uncertainty(self) -> float:
        """The signal's number: the highest token entropy."""
        return max(self.entropy, default=0.0)

    @property
    def mean(self) -> float:
        return sum(self.entropy) / len(self.entropy) if self.entropy else 0.0

    def differing(self, tags: Sequence[str]) -> int:
        """Tokens whose tag differs between the tagger and `tags` (the projection)."""
        return sum(a != b for a, b in zip(self.predicted, tags))

    def points(self, tags: Sequence[str]) -> float:
        """Its share of a sentence's suspicion: the uncertainty plus the share of tokens the
        tagger tags differently from `tags`."""
        return self.uncertainty + (self.differing(tags) / len(tags) if tags else 0.0)


def teacher_reasons(p: Projection, score: TeacherScore | None, th: Thresholds) -> list[Reason]:
    """The teacher-uncertainty reason of a sentence, with its numbers, or none."""
    from core.data.tags import tags_to_spans

    if score is None or len(score.entropy) != len(p.pair.target.tokens):
        return []
    tags = p.target_tags()
    model, projected = set(tags_to_spans(list(score.predicted))), set(tags_to_spans(tags))
    if score.uncertainty < th.max_uncertainty and model == projected:
        return []
    tokens = p.pair.target.tokens
    k = max(range(len(score.entropy)), key=score.entropy.__getitem__)
    text = (
        f"{TEACHER_SIGNAL} {score.uncertainty:.2f}: the tagger is least sure at '{tokens[k]}' "
        f"({k}; mean entropy {score.mean:.2f} over {_n(len(tokens), 'token')})"
    )
    extra, missing = sorted(model - projected), sorted(projected - model)
    if extra or missing:
        text += f"; it tags {score.differing(tags)} of {len(tokens)} tokens differently"
        if extra:
            text += " — tagger only: " + ", ".join(_target(tokens, s) for s in extra)
        if missing:
            text += " — projection only: " + ", ".join(_target(tokens, s) for s in missing)
    first = (extra or missing or [Span(k, k + 1, score.predicted[k][2:] or "O")])[0]
    return [Reason(TEACHER_SIGNAL, text, None, first)]


def _target(tokens: Sequence[str], span: Span) -> str:
    where = f"{span.start}-{span.end - 1}" if len(span) > 1 else f"{span.start}"
    return f"{span.label} '{' '.join(tokens[span.start : span.end])}' ({where})"


def flag_names(teacher: bool = False) -> list[str]:
    """The flags, with the teacher-uncertainty signal when a trained tagger scored the view."""
    return list(_ORDER) + ([TEACHER_SIGNAL] if teacher else [])


def flag_explanation(name: str) -> str:
    if name == TEACHER_SIGNAL:
        return TEACHER_EXPLANATION
    return FLAGS.create(name).explanation


flag_title = flag_explanation  # the name a page shows is the flag's name; this is its help text


def span_set(p: Projection) -> set[Span]:
    return {s.span for s in p.spans}


def unaligned_entity_words(p: Projection) -> list[int]:
    """Source token indices inside entities that have no alignment link at all."""
    aligned = {i for i, _ in p.pair.alignment.links} if p.pair.alignment else set()
    return [i for span in p.pair.source.spans for i in span.indices() if i not in aligned]


def reasons(
    p: Projection,
    other: Projection | None = None,
    th: Thresholds = Thresholds(),
    teacher: TeacherScore | None = None,
) -> list[Reason]:
    """Every reason the sentence is flagged, flag by flag (the teacher's last)."""
    found = [r for name in _ORDER for r in FLAGS.create(name).reasons(p, other, th)]
    return found + teacher_reasons(p, teacher, th)


def sentence_flags(
    p: Projection,
    other: Projection | None = None,
    th: Thresholds = Thresholds(),
    teacher: TeacherScore | None = None,
) -> list[str]:
    found = [name for name in _ORDER if FLAGS.create(name).check(p, other, th)]
    return found + ([TEACHER_SIGNAL] if teacher_reasons(p, teacher, th) else [])


def score_range(view: Sequence[Projection]) -> tuple[float, float]:
    """The lowest and highest projection score in a view (coverage scores can exceed 1)."""
    scores = [s.score for p in view for s in p.spans]
    return (min(scores), max(scores)) if scores else (0.0, 1.0)


def suspicion(
    p: Projection,
    other: Projection | None = None,
    th: Thresholds = Thresholds(),
    teacher: TeacherScore | None = None,
) -> float:
    """How likely the sentence needs a correction, for ordering a review queue: one point per
    reason (per entity and flag), plus how far the weakest score falls below the minimum, plus
    a trained tagger's uncertainty and disagreement (TeacherScore.points) when there is one."""
    points = float(len(reasons(p, other, th, teacher)))
    if p.spans:
        weakest = min(s.score for s in p.spans)
        if th.min_score > 0 and weakest < th.min_score:
            points += (th.min_score - weakest) / th.min_score
    if teacher is not None and len(teacher.entropy) == len(p.pair.target.tokens):
        points += teacher.points(p.target_tags())
    return points


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


COMBINE = {"all": "AND: all the chosen flags", "any": "OR: any of the chosen flags"}


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
    suspicion: float = 0.0
    uncertainty: float | None = None  # the teacher-uncertainty signal, when a tagger scored it


def sentence_rows(
    view: Sequence[Projection],
    other: Sequence[Projection] | None = None,
    *,
    query: str = "",
    flags: Sequence[str] = (),
    combine: str = "all",
    corrected: set[str] | None = None,
    only_corrected: bool = False,
    th: Thresholds = Thresholds(),
    teacher: Mapping[str, TeacherScore] | None = None,
) -> list[Row]:
    """The sentences to list: those matching `query` and carrying the `flags` asked for, ALL of
    them (combine="all") or ANY of them (combine="any"). `teacher`: a trained tagger's scores
    by sentence id, for the teacher-uncertainty signal."""
    if combine not in COMBINE:
        raise ValueError(f"combine must be one of {', '.join(COMBINE)}, not {combine!r}")
    corrected = corrected or set()
    if other is not None and len(other) != len(view):
        raise ValueError(f"views differ in length: {len(view)} vs {len(other)} sentences")
    rows = []
    for n, p in enumerate(view):
        if not matches_query(p, query):
            continue
        o = other[n] if other is not None else None
        score = teacher.get(p.pair.id) if teacher else None
        found = sentence_flags(p, o, th, score)
        wanted = [f in found for f in flags]
        if flags and not (all(wanted) if combine == "all" else any(wanted)):
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
                suspicion(p, o, th, score) if found or score else 0.0,
                score.uncertainty if score else None,
            )
        )
    return rows


ORDERS = {"document": "document order", "suspicion": "most suspicious first"}


def ordered(rows: Sequence[Row], order: str = "document") -> list[Row]:
    """Rows in document order, or most suspicious first (ties in document order)."""
    if order == "suspicion":
        return sorted(rows, key=lambda r: (-r.suspicion, r.index))
    if order == "document":
        return list(rows)
    raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")


def flag_counts(
    view: Sequence[Projection],
    other: Sequence[Projection] | None = None,
    th: Thresholds = Thresholds(),
    teacher: Mapping[str, TeacherScore] | None = None,
) -> dict[str, int]:
    counts = dict.fromkeys(flag_names(bool(teacher)), 0)
    for n, p in enumerate(view):
        score = teacher.get(p.pair.id) if teacher else None
        for f in sentence_flags(p, other[n] if other is not None else None, th, score):
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


# ---------------------------------------------------------------------- gold vs projected


@dataclass
class GoldScore:
    """Projected spans against gold spans (exact start, end and label, as seqeval counts)."""

    true_positives: int = 0
    false_positives: list[Span] = field(default_factory=list)
    misses: list[Span] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = self.true_positives + len(self.false_positives)
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        gold = self.true_positives + len(self.misses)
        return self.true_positives / gold if gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: GoldScore) -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.misses += other.misses

    def describe(self) -> str:
        return (
            f"P {self.precision:.3f} · R {self.recall:.3f} · F1 {self.f1:.3f} "
            f"({self.true_positives} correct, {len(self.false_positives)} false positives, "
            f"{len(self.misses)} misses)"
        )


def gold_score(predicted: Sequence[str], gold: Sequence[str]) -> GoldScore:
    """Score predicted IOB2 tags against gold IOB2 tags of the same sentence."""
    from core.data.tags import tags_to_spans

    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted tags for {len(gold)} gold tags")
    found, wanted = set(tags_to_spans(list(predicted))), set(tags_to_spans(list(gold)))
    return GoldScore(len(found & wanted), sorted(found - wanted), sorted(wanted - found))


GOLD_FILTERS = {
    "all": "all sentences",
    "false positives": "with a projected span the gold does not have",
    "misses": "with a gold span the projection missed",
    "exact": "projection equals the gold",
}


def gold_scores(
    view: Sequence[Projection], gold: Mapping[str, Sequence[str]]
) -> tuple[dict[str, GoldScore], GoldScore]:
    """Per sentence and project-level (micro-averaged) scores of a view against the gold."""
    per: dict[str, GoldScore] = {}
    total = GoldScore()
    for p in view:
        tags = gold.get(p.pair.id)
        if tags is None:
            continue
        score = gold_score(p.target_tags(), tags)
        per[p.pair.id] = score
        total.add(score)
    return per, total


def gold_filter(score: GoldScore | None, wanted: str) -> bool:
    if wanted == "all":
        return True
    if score is None:
        return False
    if wanted == "false positives":
        return bool(score.false_positives)
    if wanted == "misses":
        return bool(score.misses)
    if wanted == "exact":
        return not score.false_positives and not score.misses
    raise ValueError(f"gold filter must be one of {', '.join(GOLD_FILTERS)}, not {wanted!r}")


# ---------------------------------------------------------------------- long sentences


Window = tuple[tuple[int, int], tuple[int, int]]  # (source [start, end), target [start, end))


def alignment_windows(
    n_source: int,
    n_target: int,
    links: Sequence[tuple[int, int]],
    size: int = 14,
    whole: int = 22,
) -> list[Window]:
    """Cut a long sentence pair into drawable pieces: `size` source tokens at a time, with the
    target tokens they link to (or, for unlinked stretches, the target tokens at the same
    relative position). A pair of at most `whole` tokens a side is one window."""
    if n_source <= max(size, whole) and n_target <= max(size, whole):
        return [((0, n_source), (0, n_target))]
    windows: list[Window] = []
    for start in range(0, max(n_source, 1), size):
        end = min(n_source, start + size)
        linked = sorted(j for i, j in links if start <= i < end and 0 <= j < n_target)
        if linked:
            # The bulk of the links (drop far reorderings beyond 2x the window, drawn elsewhere).
            middle = linked[len(linked) // 2]
            near = [j for j in linked if abs(j - middle) <= 2 * size] or linked
            t0, t1 = near[0], near[-1] + 1
        else:
            t0 = start * n_target // max(n_source, 1)
            t1 = min(n_target, max(t0 + 1, end * n_target // max(n_source, 1)))
        windows.append(((start, end), (t0, t1)))
    return windows


def focus_window(windows: Sequence[Window], focus: Span | None) -> int:
    """The window that holds the focused source entity (0 without one)."""
    if focus is None:
        return 0
    for n, ((s0, s1), _) in enumerate(windows):
        if s0 <= focus.start < s1:
            return n
    return 0
