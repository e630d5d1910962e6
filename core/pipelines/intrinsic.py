"""Translate-test, the projection paper's intrinsic protocol ("compare to original"), and the
model-transfer baseline.

translate-test: target test sentences -> translation into English -> English labeler ->
alignment (English first, as in eval-projection) -> labels projected back onto the ORIGINAL
target tokens -> seqeval against the target gold. Model transfer: the same labeler applied to
the target tokens directly. Back-translation refinement and marker projection reuse the same
translated, labelled English side.

The steps are separate functions so a benchmark can translate and label once and compare many
methods on the same English side (`prepare`, `align`, `score_*`); `evaluate_intrinsic` runs one
method end to end, as `xner eval-intrinsic` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.aligners.base import Aligner, TokenPair
from core.data.tokenize import Tokenizer
from core.data.types import Alignment, Sentence, SentencePair
from core.evaluate import ner_scores
from core.labelers import Labeler
from core.pipelines.backtranslation import back_translation_refinement
from core.pipelines.steps import align_pairs, project_pairs
from core.projection.base import Projector
from core.registry import Registry
from core.translate import Translator, detokenize

DEFAULT_TYPES = ("PER", "ORG", "LOC")  # the paper scores without DATE and MISC
PIVOT = "en"


@dataclass
class IntrinsicData:
    """The shared part of translate-test: gold targets and their labelled English translations."""

    lang: str
    targets: list[Sentence]  # with gold tags (used only for scoring)
    english: list[Sentence]  # translated, tokenised, labelled
    timings: dict = field(default_factory=dict)
    empty_translations: int = 0

    def blind_pairs(self) -> list[SentencePair]:
        return [
            SentencePair(e, Sentence(t.tokens, None, id=t.id, lang=t.lang), None, id=t.id or str(n))
            for n, (e, t) in enumerate(zip(self.english, self.targets))
        ]


def translate_sentences(
    sentences: Sequence[Sentence],
    translator: Translator,
    src_lang: str,
    tgt_lang: str,
    progress: bool = False,
) -> list[Sentence]:
    """Detokenise, translate (batched, cached) and tokenise the translations."""
    texts = [detokenize(s.tokens) for s in sentences]
    out = translator.translate(texts, src_lang, tgt_lang, progress=progress)
    tokenizer = Tokenizer(tgt_lang)
    return [
        Sentence(tokenizer(t) if t else [], None, id=s.id or str(n), lang=tgt_lang)
        for n, (s, t) in enumerate(zip(sentences, out))
    ]


def prepare(
    targets: Sequence[Sentence],
    lang: str,
    translator: Translator,
    labeler: Labeler,
    progress: bool = False,
) -> IntrinsicData:
    started = time.perf_counter()
    english = translate_sentences(targets, translator, lang, PIVOT, progress)
    translated = time.perf_counter()
    labelled = labeler.label_sentences(english)
    done = time.perf_counter()
    return IntrinsicData(
        lang,
        list(targets),
        labelled,
        {"translate": round(translated - started, 3), "label": round(done - translated, 3)},
        sum(1 for e in english if not e.tokens),
    )


def align(
    data: IntrinsicData, aligner: Aligner, extra: Sequence[TokenPair] = (), progress: bool = False
) -> tuple[list[SentencePair], float]:
    started = time.perf_counter()
    pairs = align_pairs(data.blind_pairs(), aligner, extra, progress=progress)
    return pairs, round(time.perf_counter() - started, 3)


def score(
    targets: Sequence[Sentence], predicted: Sequence[Sequence[str]], types: Sequence[str] | None
) -> dict:
    return ner_scores([t.tags or ["O"] * len(t) for t in targets], predicted, types)


def score_projection(
    data: IntrinsicData,
    pairs: Sequence[SentencePair],
    projector: Projector,
    types: Sequence[str] | None = DEFAULT_TYPES,
    progress: bool = False,
) -> dict:
    started = time.perf_counter()
    prepare_hook = getattr(projector, "prepare", None)
    if prepare_hook is not None:  # batched translation for the marker method
        prepare_hook([p.source for p in pairs], progress=progress)
    projections = project_pairs(pairs, projector, progress=progress)
    scores = score(data.targets, [p.target_tags() for p in projections], types)
    scores.update(
        projected=sum(len(p.spans) for p in projections),
        source_entities=sum(len(e.spans) for e in data.english),
        project_seconds=round(time.perf_counter() - started, 3),
    )
    return scores


def model_transfer(
    targets: Sequence[Sentence], labeler: Labeler, types: Sequence[str] | None = DEFAULT_TYPES
) -> dict:
    started = time.perf_counter()
    predicted = labeler.label([t.tokens for t in targets])
    scores = score(targets, predicted, types)
    scores.update(label_seconds=round(time.perf_counter() - started, 3))
    return scores


# --------------------------------------------------------------------------- one method, end to end


@dataclass
class IntrinsicSetup:
    """Everything one `eval-intrinsic` run needs; components are built by the caller."""

    lang: str
    translator: Callable[[], Translator]
    labeler: Labeler
    aligner: Callable[[], Aligner]
    projector: Callable[[], Projector]
    extra: Sequence[TokenPair] = ()
    types: Sequence[str] | None = DEFAULT_TYPES
    bt_aligner: Callable[[], Aligner | None] = lambda: None
    threshold: float = 0.5
    progress: bool = False


INTRINSIC_METHODS: Registry[Callable[[Sequence[Sentence], IntrinsicSetup], dict]] = Registry(
    "intrinsic method"
)


@INTRINSIC_METHODS.register("model-transfer")
def _run_model_transfer(targets: Sequence[Sentence], setup: IntrinsicSetup) -> dict:
    return model_transfer(targets, setup.labeler, setup.types)


@INTRINSIC_METHODS.register("back-translation")
def _run_back_translation(targets: Sequence[Sentence], setup: IntrinsicSetup) -> dict:
    translator = setup.translator()
    data = prepare(targets, setup.lang, translator, setup.labeler, setup.progress)
    result = back_translation_refinement(
        data.english,
        data.targets,
        translator,
        setup.lang,
        setup.projector(),
        setup.bt_aligner(),
        threshold=setup.threshold,
        progress=setup.progress,
    )
    scores = score(data.targets, result.target_tags(), setup.types)
    scores.update(result.stats)
    scores.update(timings=data.timings, empty_translations=data.empty_translations)
    return scores


def _run_projection(targets: Sequence[Sentence], setup: IntrinsicSetup) -> dict:
    translator = setup.translator()
    data = prepare(targets, setup.lang, translator, setup.labeler, setup.progress)
    projector = setup.projector()
    if projector.needs_alignment:
        pairs, align_seconds = align(data, setup.aligner(), setup.extra, setup.progress)
    else:
        pairs, align_seconds = data.blind_pairs(), 0.0
        for p in pairs:
            p.alignment = Alignment()
    scores = score_projection(data, pairs, projector, setup.types, setup.progress)
    data.timings["align"] = align_seconds
    scores.update(timings=data.timings, empty_translations=data.empty_translations)
    return scores


def evaluate_intrinsic(targets: Sequence[Sentence], method: str, setup: IntrinsicSetup) -> dict:
    """Score one method (`model-transfer`, `back-translation` or a projection method name)."""
    started = time.perf_counter()
    run = INTRINSIC_METHODS.get(method) if method in INTRINSIC_METHODS else _run_projection
    scores = run(targets, setup)
    scores.update(
        method=method, sentences=len(targets), seconds=round(time.perf_counter() - started, 3)
    )
    return scores
