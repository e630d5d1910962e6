"""Composition of the components: align sentence pairs, project spans, score projections."""

from __future__ import annotations

import time
from collections.abc import Sequence

from tqdm import tqdm

from bench.baseline.types import Projection, Sentence, SentencePair, Span
from core.aligners.base import Aligner, TokenPair
from core.evaluate import ner_scores
from core.projection.base import Projector


def make_pairs(sources: Sequence[Sentence], targets: Sequence[Sentence]) -> list[SentencePair]:
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} source sentences but {len(targets)} target sentences")
    return [
        SentencePair(s, t, None, id=s.id or str(n))
        for n, (s, t) in enumerate(zip(sources, targets))
    ]


def align_pairs(
    pairs: Sequence[SentencePair],
    aligner: Aligner,
    extra: Sequence[TokenPair] = (),
    progress: bool = False,
) -> list[SentencePair]:
    """Fill in each pair's alignment (statistical aligners train on pairs + extra)."""
    alignments = aligner.align(
        [(p.source.tokens, p.target.tokens) for p in pairs], extra=extra, progress=progress
    )
    for pair, alignment in zip(pairs, alignments, strict=True):
        pair.alignment = alignment
    return list(pairs)


def project_pairs(
    pairs: Sequence[SentencePair],
    projector: Projector,
    candidates: Sequence[Sequence[Span]] | None = None,
    progress: bool = False,
) -> list[Projection]:
    """Project every aligned pair; `candidates` holds target NER spans per pair, when used."""
    out = []
    for n, pair in enumerate(tqdm(pairs, desc="project", disable=not progress, unit="pair")):
        out.append(projector.project_pair(pair, candidates[n] if candidates is not None else None))
    return out


def eval_projection(
    sources: Sequence[Sentence],
    targets: Sequence[Sentence],
    aligner: Aligner,
    projector: Projector,
    extra: Sequence[TokenPair] = (),
    types: Sequence[str] | None = None,
    progress: bool = False,
) -> dict:
    """Project the sources' gold spans onto the targets' tokens; score against the targets' tags.

    The targets' labels are used only for scoring."""
    started = time.perf_counter()
    blind = [Sentence(t.tokens, None, id=t.id, lang=t.lang) for t in targets]
    pairs = align_pairs(make_pairs(sources, blind), aligner, extra, progress=progress)
    projections = project_pairs(pairs, projector, progress=progress)
    scores = ner_scores(
        [t.tags or ["O"] * len(t) for t in targets], [p.target_tags() for p in projections], types
    )
    scores.update(
        sentences=len(pairs),
        seconds=round(time.perf_counter() - started, 3),
        projected=sum(len(p.spans) for p in projections),
        source_entities=sum(len(s.spans) for s in sources),
    )
    return scores
