"""Back-translation refinement (the projection paper): the labelled English sentence, with `[ ]`
around its entities, is translated back into the target language; the bracketed spans get
labels by their best fuzzy match with the entities translated on their own; then the ORIGINAL
target sentence is aligned to this back-translation (both in the target language) and the
labels are projected from the back-translation onto the original tokens with a projection
method (heuristic or candidates).

The same-language alignment defaults to `MonolingualAligner`: two sentences in one language
share most of their words, so spelling (identical words, shared prefixes for inflections)
aligned monotonically, plus identical words out of order, is a strong and deterministic
aligner; any registered aligner (e.g. eflomal) can be used instead.
"""

from __future__ import annotations

import difflib
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.aligners.base import Aligner, TokenPair, get_aligner
from core.data.tags import spans_to_tags
from core.data.types import Alignment, Projection, Sentence, SentencePair
from core.pipelines.steps import align_pairs, project_pairs
from core.projection.base import Projector
from core.projection.marker import one_span_per_entity, translate_marked
from core.translate import Translator


def fold(token: str) -> str:
    """Lower-cased, accents stripped: Califórnia and California, Kościelny and Koscielny."""
    decomposed = unicodedata.normalize("NFD", token.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def token_similarity(a: str, b: str, min_prefix: int = 4, min_ratio: float = 0.7) -> float:
    """1 for the same word (case-insensitive), 0.9 up to accents, 0.8 for a long shared prefix
    (inflection), 0.6 for similar spelling (difflib ratio >= min_ratio, words of 4+ letters)."""
    if a.lower() == b.lower():
        return 1.0
    a, b = fold(a), fold(b)
    if a == b:
        return 0.9
    shorter = min(len(a), len(b))
    if shorter < min_prefix:
        return 0.0
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    if common >= min_prefix and common >= 0.6 * shorter:
        return 0.8
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # The cheap upper bounds first: most word pairs fail them.
    similar = (
        matcher.real_quick_ratio() >= min_ratio
        and matcher.quick_ratio() >= min_ratio
        and matcher.ratio() >= min_ratio
    )
    return 0.6 if similar else 0.0


def monolingual_links(
    source: Sequence[str], target: Sequence[str], max_gap: int = 3
) -> dict[tuple[int, int], float]:
    """Monotone best-weight matching (a weighted LCS over token similarity); then identical words
    left over on both sides linked out of order when the word occurs once on each side; then
    gaps of equal length (at most `max_gap` words) between monotone links filled word for word."""
    n, m = len(source), len(target)
    sim = [[token_similarity(s, t) for t in target] for s in source]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            take = sim[i][j] + below[j + 1] if sim[i][j] > 0 else 0.0
            row[j] = max(take, below[j], row[j + 1])
    links: dict[tuple[int, int], float] = {}
    i = j = 0
    while i < n and j < m:
        if sim[i][j] > 0 and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            links[(i, j)] = sim[i][j]
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    monotone = set(links)
    linked_s = {a for a, _ in links}
    linked_t = {b for _, b in links}
    free_s: dict[str, list[int]] = {}
    free_t: dict[str, list[int]] = {}
    for a, tok in enumerate(source):
        if a not in linked_s:
            free_s.setdefault(tok.lower(), []).append(a)
    for b, tok in enumerate(target):
        if b not in linked_t:
            free_t.setdefault(tok.lower(), []).append(b)
    for word, places in free_s.items():
        other = free_t.get(word, [])
        if len(places) == 1 and len(other) == 1:
            links[(places[0], other[0])] = 1.0
    # Equal-length gaps between monotone anchors (and the sentence ends) are word-for-word
    # substitutions more often than not: "Papa Leão" for "Pope Leo", "Bom Jesus" for "Good Jesus".
    anchors = sorted(k for k in links if k in monotone)
    for (i0, j0), (i1, j1) in zip([(-1, -1), *anchors], [*anchors, (n, m)]):
        if i1 - i0 == j1 - j0 and 1 < i1 - i0 <= 1 + max_gap:
            for k in range(1, i1 - i0):
                if (i0 + k) not in linked_s and (j0 + k) not in linked_t:
                    links.setdefault((i0 + k, j0 + k), 0.5)
    return links


class MonolingualAligner(Aligner):
    """Aligns two sentences in the same language by spelling (deterministic, no training)."""

    name = "monolingual"

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        out = []
        for source, target in pairs:
            links = monolingual_links(source, target)
            out.append(Alignment(frozenset(links), links))
        return out


def same_language_aligner(name: str | None = None, **params: object) -> Aligner:
    return (
        MonolingualAligner() if name in (None, "", "monolingual") else get_aligner(name, **params)
    )


@dataclass
class BackTranslationResult:
    projections: list[Projection]  # back-translation (source) -> original target
    back_translations: list[Sentence]  # labelled back-translated sentences
    stats: dict = field(default_factory=dict)

    def target_tags(self) -> list[list[str]]:
        return [p.target_tags() for p in self.projections]


def back_translation_refinement(
    english: Sequence[Sentence],
    targets: Sequence[Sentence],
    translator: Translator,
    tgt_lang: str,
    projector: Projector,
    aligner: Aligner | None = None,
    src_lang: str = "en",
    threshold: float = 0.5,
    progress: bool = False,
) -> BackTranslationResult:
    """Project the labels of `english` (labelled translations of `targets`) back onto the
    original `targets` through a marked back-translation."""
    if len(english) != len(targets):
        raise ValueError(f"{len(english)} labelled sentences but {len(targets)} targets")
    started = time.perf_counter()
    marked = translate_marked(english, translator, src_lang, tgt_lang, threshold, progress)
    translated = time.perf_counter()
    back: list[Sentence] = []
    marked_spans = labelled = 0
    for n, (source, m) in enumerate(zip(english, marked)):
        marked_spans += len(m.spans)
        spans = [s for s, _, _ in one_span_per_entity(m.labelled_spans(source.spans))]
        labelled += len(spans)
        tokens = m.tokens
        back.append(
            Sentence(
                tokens, spans_to_tags(spans, len(tokens)), id=source.id or str(n), lang=tgt_lang
            )
        )
    blind = [Sentence(t.tokens, None, id=t.id, lang=t.lang) for t in targets]
    pairs = [
        SentencePair(b, t, None, id=t.id or str(n)) for n, (b, t) in enumerate(zip(back, blind))
    ]
    # Only sentences with labelled spans need aligning: the rest project nothing.
    busy = [p for p in pairs if p.source.spans]
    align_pairs(busy, aligner or MonolingualAligner(), progress=progress)
    for p in pairs:
        if p.alignment is None:
            p.alignment = Alignment()
    projections = project_pairs(pairs, projector, progress=progress)
    stats = {
        "source_entities": sum(len(s.spans) for s in english),
        "marked_spans": marked_spans,
        "labelled_spans": labelled,
        "projected": sum(len(p.spans) for p in projections),
        "translate_seconds": round(translated - started, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return BackTranslationResult(projections, back, stats)
