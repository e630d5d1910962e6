"""Composition of the components: align sentence pairs, project spans, score projections."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from tqdm import tqdm

from core.aligners.base import Aligner, TokenPair
from core.data.types import Projection, Sentence, SentencePair, Span
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
    items = tqdm(pairs, desc="project", unit="pair") if progress else pairs
    with collector_paused():
        return projector.project_pairs(items, candidates)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a loop that makes no reference cycles.

    Projection allocates a few small objects per pair; with the collector on, every 700
    allocations trigger a collection and the rarer full ones walk every live object (all the
    pairs), which made repeats of the step 2-3x slower at random. Reference counting still
    frees everything; the collector's previous state is restored afterwards.

    The objects made meanwhile then move to the oldest generation as they are (gc.freeze then
    gc.unfreeze, which only relinks lists), so the young collection that would follow does not
    walk them all (an eighth of the step's time); skipped when objects are frozen already, as
    unfreezing would release those too."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


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
    return project_and_score(sources, targets, aligner, projector, extra, types, progress)[0]


def project_and_score(
    sources: Sequence[Sentence],
    targets: Sequence[Sentence],
    aligner: Aligner,
    projector: Projector,
    extra: Sequence[TokenPair] = (),
    types: Sequence[str] | None = None,
    progress: bool = False,
) -> tuple[dict, list[Projection]]:
    """`eval_projection`'s scores and the projections they score."""
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
    return scores, projections


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the sample standard deviation (None for fewer than two values)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else None


def eval_projection_repeats(
    sources: Sequence[Sentence],
    targets: Sequence[Sentence],
    new_aligner: Callable[[], Aligner],
    projector: Projector,
    extra: Sequence[TokenPair] = (),
    types: Sequence[str] | None = None,
    repeats: int = 5,
    progress: bool = False,
) -> dict:
    """`eval_projection` `repeats` times, each with a fresh aligner from `new_aligner`: the
    spread a sampling aligner (eflomal) gives. `precision`/`recall`/`f1` (and each type's) are
    means, with `*_std` (sample standard deviation), `f1_min`/`f1_max` and every run's scores."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    runs = [
        eval_projection(sources, targets, new_aligner(), projector, extra, types, progress)
        for _ in range(repeats)
    ]
    out: dict = {"repeats": repeats}
    for metric in ("precision", "recall", "f1"):
        out[metric], out[f"{metric}_std"] = mean_std([r[metric] for r in runs])
    out["f1_min"], out["f1_max"] = min(r["f1"] for r in runs), max(r["f1"] for r in runs)
    out["per_type"] = {}
    for name in sorted({name for r in runs for name in r["per_type"]}):
        f1s = [r["per_type"][name]["f1"] for r in runs if name in r["per_type"]]
        mean, std = mean_std(f1s)
        support = max(r["per_type"][name]["support"] for r in runs if name in r["per_type"])
        out["per_type"][name] = {"f1": mean, "f1_std": std, "support": support}
    out["runs"] = [
        {key: r[key] for key in ("precision", "recall", "f1", "projected", "seconds")} for r in runs
    ]
    out.update(
        {key: runs[0][key] for key in ("sentences", "source_entities", "support")},
        seconds=round(sum(r["seconds"] for r in runs), 3),
    )
    return out
