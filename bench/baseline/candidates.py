"""Candidate matching (the projection paper): score every (source entity, target candidate) pair
with the alignment Dice score c(s, t) = 2 * links(s, t) / (|s| + |t|), then choose a one-to-one,
non-overlapping assignment greedily (the authors' algorithm) or exactly as an integer program
(HiGHS through scipy.optimize.milp).

Candidates are target n-grams or spans predicted by an NER model on the target. For n-grams only
those that start and end on a word aligned to the entity are generated: any other n-gram is a
strict superset of one of these with a lower score, and is eliminated whenever that one is, so
neither solver can ever prefer it. This keeps the step fast without changing its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.baseline.base import PROJECTORS, Projector
from bench.baseline.types import Alignment, ProjectedSpan, Span
from core.registry import Registry

SKIP_TOKENS = frozenset({"!", "?"})


@dataclass(frozen=True)
class Match:
    """A scored (entity, candidate) pair; `entity` indexes the source spans."""

    entity: int
    start: int
    end: int
    score: float


def dice_matches(
    source_spans: Sequence[Span],
    target_tokens: Sequence[str],
    alignment: Alignment,
    candidates: Sequence[Span] | None,
    max_length: int = 10,
    skip_tokens: frozenset[str] = SKIP_TOKENS,
    min_score: float = 0.0,
) -> list[Match]:
    """All (entity, candidate) pairs with a positive Dice score."""
    n_target = len(target_tokens)
    by_source: dict[int, list[int]] = {}
    for i, j in alignment.links:
        if j < n_target:
            by_source.setdefault(i, []).append(j)
    weight = alignment.scores
    blocked = [k for k, tok in enumerate(target_tokens) if tok in skip_tokens]
    matches: list[Match] = []
    for e, entity in enumerate(source_spans):
        # weighted link count per target position, for this entity
        mass: dict[int, float] = {}
        for i in entity.indices():
            for j in by_source.get(i, ()):
                mass[j] = mass.get(j, 0.0) + (weight.get((i, j), 1.0) if weight else 1.0)
        if not mass:
            continue
        ends = sorted(mass)
        if candidates is None:
            spans = []
            for x, a in enumerate(ends):
                for b in ends[x:]:
                    if b + 1 - a > max_length:
                        break
                    if not blocked or not any(a <= k <= b for k in blocked):
                        spans.append((a, b + 1))
        else:
            spans = [(c.start, c.end) for c in candidates]
        for a, b in spans:
            count = sum(m for j, m in mass.items() if a <= j < b)
            if count:
                score = 2.0 * count / (len(entity) + (b - a))
                if score > min_score:
                    matches.append(Match(e, a, b, score))
    return matches


def match_links(match: Match, entity: Span, alignment: Alignment) -> tuple[tuple[int, int], ...]:
    """The links between the entity and the chosen candidate (the projection's provenance)."""
    return tuple(
        sorted(
            (i, j)
            for i, j in alignment.links
            if entity.start <= i < entity.end and match.start <= j < match.end
        )
    )


def solve_greedy(matches: Sequence[Match]) -> list[Match]:
    """Repeatedly take the best remaining pair; drop its entity and overlapping candidates."""
    chosen: list[Match] = []
    used_entities: set[int] = set()
    taken = []
    for m in sorted(matches, key=lambda m: (-m.score, -(m.end - m.start), m.start, m.entity)):
        if m.entity in used_entities or any(m.start < b and a < m.end for a, b in taken):
            continue
        chosen.append(m)
        used_entities.add(m.entity)
        taken.append((m.start, m.end))
    return chosen


def _entities_compete(matches: Sequence[Match]) -> bool:
    """Whether candidates of two different entities overlap (else the problem separates)."""
    ordered = sorted(matches, key=lambda m: m.start)
    for x, m in enumerate(ordered):
        for other in ordered[x + 1 :]:
            if other.start >= m.end:
                break
            if other.entity != m.entity:
                return True
    return False


def solve_ilp(matches: Sequence[Match]) -> list[Match]:
    """Maximise the total score: each entity at most once, overlapping candidates exclusive.

    Overlap is expressed per target token (sum over candidates covering token k <= 1); for
    intervals that is exactly pairwise exclusivity, since overlapping intervals share a token.
    """
    if not matches:
        return []
    if not _entities_compete(matches):
        return solve_greedy(matches)  # each entity takes its best candidate: optimal already
    from scipy.optimize import Bounds, LinearConstraint, milp

    entities = sorted({m.entity for m in matches})
    tokens = sorted({k for m in matches for k in range(m.start, m.end)})
    row_of_entity = {e: r for r, e in enumerate(entities)}
    row_of_token = {k: len(entities) + r for r, k in enumerate(tokens)}
    a = np.zeros((len(entities) + len(tokens), len(matches)))
    for col, m in enumerate(matches):
        a[row_of_entity[m.entity], col] = 1
        for k in range(m.start, m.end):
            a[row_of_token[k], col] = 1
    # Tiny length bonus breaks ties the same way greedy does (prefer longer candidates).
    c = -np.array([m.score + 1e-6 * (m.end - m.start) for m in matches])
    result = milp(
        c,
        constraints=LinearConstraint(a, -np.inf, 1),
        integrality=np.ones(len(matches)),
        bounds=Bounds(0, 1),
    )
    if result.x is None:  # HiGHS failed (should not happen for this bounded binary problem)
        return solve_greedy(matches)
    return [m for m, x in zip(matches, result.x) if x > 0.5]


SOLVERS: Registry = Registry("candidate solver")
SOLVERS.register("greedy")(lambda: solve_greedy)
SOLVERS.register("ilp")(lambda: solve_ilp)


class CandidateProjector(Projector):
    """Candidate matching with a named solver; n-gram candidates unless candidates are given."""

    solver_name = ""

    def __init__(
        self,
        max_length: int = 10,
        min_score: float = 0.0,
        skip_tokens: Sequence[str] = tuple(SKIP_TOKENS),
        use_ner_candidates: bool = False,
    ):
        self.max_length = max_length
        self.min_score = min_score
        self.skip_tokens = frozenset(skip_tokens)
        self.use_ner_candidates = use_ner_candidates
        self.solve = SOLVERS.create(self.solver_name)

    def project(
        self,
        source_spans: Sequence[Span],
        source_tokens: Sequence[str],
        target_tokens: Sequence[str],
        alignment: Alignment,
        candidates: Sequence[Span] | None = None,
    ) -> list[ProjectedSpan]:
        if self.use_ner_candidates and candidates is None:
            raise ValueError(f"{self.name}: NER candidates requested but none were given")
        pool = candidates if self.use_ner_candidates else None
        matches = dice_matches(
            source_spans,
            target_tokens,
            alignment,
            pool,
            self.max_length,
            self.skip_tokens,
            self.min_score,
        )
        out = []
        for m in self.solve(matches):
            entity = source_spans[m.entity]
            links = match_links(m, entity, alignment)
            span = Span(m.start, m.end, entity.label)
            out.append(ProjectedSpan(span, entity, self.name, m.score, links))
        return sorted(out, key=lambda p: p.span.start)


@PROJECTORS.register("candidates-greedy")
class GreedyCandidateProjector(CandidateProjector):
    name = "candidates-greedy"
    solver_name = "greedy"


@PROJECTORS.register("candidates-ilp")
class IlpCandidateProjector(CandidateProjector):
    name = "candidates-ilp"
    solver_name = "ilp"
