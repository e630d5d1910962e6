"""Translate-train: labelled source data -> translation -> alignment -> projection -> target CoNLL.

With the `marker` method the EasyProject way is taken instead: the source is translated with
`[ ]` around its entities and the marked translation is the labelled target (no alignment).
Sentences whose translation comes back empty (e.g. the `file` translator skipping what it lacks)
are left out and counted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.aligners.base import Aligner, TokenPair
from core.data.tokenize import Tokenizer
from core.data.types import Projection, Sentence, SentencePair
from core.pipelines.steps import align_pairs, project_pairs
from core.projection.base import Projector
from core.projection.marker import MarkerProjector, marker_translate
from core.translate import Translator, detokenize

TOKENIZATIONS = ("auto", "whitespace")


@dataclass
class TranslateTrainResult:
    projections: list[Projection]
    stats: dict = field(default_factory=dict)

    def targets(self) -> list[Sentence]:
        """The labelled target sentences (projected tags)."""
        return [p.labelled_target() for p in self.projections]


def translate_train(
    sources: Sequence[Sentence],
    src_lang: str,
    tgt_lang: str,
    translator: Translator,
    aligner: Aligner | None,
    projector: Projector,
    extra: Sequence[TokenPair] = (),
    target_tokenization: str = "auto",
    progress: bool = False,
) -> TranslateTrainResult:
    """`target_tokenization`: `auto` (the target language's tokenizer) or `whitespace` (the
    translations are pre-tokenised, e.g. a `file` translator fed tokenised gold text)."""
    if target_tokenization not in TOKENIZATIONS:
        raise ValueError(f"target_tokenization must be one of {TOKENIZATIONS}")
    started = time.perf_counter()
    stats: dict = {"sentences": len(sources), "source_entities": sum(len(s.spans) for s in sources)}
    if isinstance(projector, MarkerProjector):
        projections = marker_translate(
            sources, translator, src_lang, tgt_lang, projector.threshold, progress
        )
        kept = [p for p in projections if p.pair.target.tokens]
        stats.update(skipped_empty=len(projections) - len(kept), mode="easyproject")
        projections = kept
    else:
        if aligner is None:
            raise ValueError(f"method {projector.name!r} needs an aligner")
        texts = [detokenize(s.tokens) for s in sources]
        translations = translator.translate(texts, src_lang, tgt_lang, progress=progress)
        split = str.split if target_tokenization == "whitespace" else Tokenizer(tgt_lang)
        pairs = []
        for n, (source, translation) in enumerate(zip(sources, translations)):
            tokens = split(translation) if translation else []
            if tokens:
                target = Sentence(tokens, None, id=source.id or str(n), lang=tgt_lang)
                pairs.append(SentencePair(source, target, None, id=source.id or str(n)))
        stats["skipped_empty"] = len(sources) - len(pairs)
        stats["translate_seconds"] = round(time.perf_counter() - started, 3)
        align_pairs(pairs, aligner, extra, progress=progress)
        projections = project_pairs(pairs, projector, progress=progress)
    stats.update(
        projected=sum(len(p.spans) for p in projections),
        translated=translator.stats.translated,
        cached=translator.stats.cached,
        seconds=round(time.perf_counter() - started, 3),
    )
    return TranslateTrainResult(projections, stats)
