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

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Annotated

import numpy as np
from pydantic import Field

from core.data.types import Alignment, Link, ProjectedSpan, Span, new_projected_span, new_span
from core.projection.base import PROJECTORS, Projector, link_source
from core.registry import Registry

SKIP_TOKENS = frozenset({"!", "?"})


@dataclass(frozen=True)
class Match:
    """A scored (entity, candidate) pair; `entity` indexes the source spans."""

    entity: int
    start: int
    end: int
    score: float


# A scored pair as the solvers see it, ordered best first by the greedy rule: higher score,
# then longer candidate, then earlier start, then lower entity index.
Scored = tuple[float, int, int, int, int]  # (-score, -(end - start), start, entity, end)

# Components of competing entities are solved exactly by search when they have at most this
# many joint choices, else by HiGHS; both give the optimum, the search without HiGHS's set-up.
EXACT_SEARCH_LIMIT = 20_000


def _link_mass(
    own: Sequence[tuple[int, int]], n_target: int, weight: dict[tuple[int, int], float]
) -> dict[int, float]:
    """The weighted count of an entity's links per target word (words inside the target)."""
    mass: dict[int, float] = {}
    if weight:
        for link in own:
            j = link[1]
            if j < n_target:
                mass[j] = mass.get(j, 0.0) + weight.get(link, 1.0)
    else:
        for link in own:
            j = link[1]
            if j < n_target:
                mass[j] = mass.get(j, 0.0) + 1.0
    return mass


def _ngrams(
    e: int,
    size: int,
    own: Sequence[tuple[int, int]],
    weight: dict[tuple[int, int], float],
    target_tokens: Sequence[str],
    max_length: int,
    skip_tokens: frozenset[str],
    min_score: float,
    best_only: bool,
    out: list[Scored],
) -> None:
    """Append entity `e`'s n-grams with a Dice score above `min_score` to `out`, as `Scored`
    tuples (with `best_only`, only its best one, first in the greedy order). `size` is the
    entity's length, `own` its links, `weight` the alignment's link scores."""
    mass = _link_mass(own, len(target_tokens), weight)
    if not mass:
        return
    ends = sorted(mass)
    low, high = ends[0], ends[-1]
    # skip tokens among the aligned words and between them: no n-gram may hold one
    blocked = None
    if not skip_tokens.isdisjoint(target_tokens[low : high + 1]):
        blocked = [k for k in range(low, high + 1) if target_tokens[k] in skip_tokens]
    # with best_only: the best so far in the greedy order (higher score, then longer; the
    # earlier start wins ties as starts are visited in order)
    best_score, best_length, best_start = min_score, 0, -1
    # n-grams that start and end on an aligned word; the count is a running sum
    for x, a in enumerate(ends):
        stop = a + max_length  # n-grams from `a` end before this word
        if blocked:
            if a in blocked:
                continue
            for k in blocked:
                if k > a:
                    stop = min(stop, k)
                    break
        count = 0.0
        for b in ends[x:]:
            if b >= stop:
                break  # every longer n-gram from `a` is too long or holds a skip token
            count += mass[b]
            if not count:
                continue
            length = b + 1 - a
            score = 2.0 * count / (size + length)
            if best_only:
                if score > best_score or (
                    score == best_score and length > best_length and best_start >= 0
                ):
                    best_score, best_length, best_start = score, length, a
            elif score > min_score:
                out.append((-score, -length, a, e, b + 1))
    if best_start >= 0:
        out.append((-best_score, -best_length, best_start, e, best_start + best_length))


def _scored(
    source_spans: Sequence[Span],
    target_tokens: Sequence[str],
    alignment: Alignment,
    candidates: Sequence[Span] | None,
    max_length: int,
    skip_tokens: frozenset[str],
    min_score: float,
    bounds: dict[int, tuple[int, int]] | None = None,
) -> list[Scored]:
    """All (entity, candidate) pairs with a Dice score above `min_score`, as `Scored` tuples.

    An entity's links are one slice of the alignment's sorted links, which is recorded in
    `bounds` (entity index -> slice) when given."""
    ordered = alignment.ordered_links
    n_target = len(target_tokens)
    weight = alignment.scores
    out: list[Scored] = []
    for e, entity in enumerate(source_spans):
        lo = bisect_left(ordered, entity.start, key=link_source)
        hi = bisect_left(ordered, entity.end, lo, key=link_source)
        if lo == hi:
            continue
        if bounds is not None:
            bounds[e] = (lo, hi)
        size = entity.end - entity.start
        if candidates is None:
            own = ordered[lo:hi]
            _ngrams(
                e, size, own, weight, target_tokens, max_length, skip_tokens, min_score, False, out
            )
            continue
        mass = _link_mass(ordered[lo:hi], n_target, weight)
        for c in candidates:
            count = sum(m for j, m in mass.items() if c.start <= j < c.end)
            if count:
                score = 2.0 * count / (size + c.end - c.start)
                if score > min_score:
                    out.append((-score, c.start - c.end, c.start, e, c.end))
    return out


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
    scored = _scored(
        source_spans,
        target_tokens,
        alignment,
        candidates,
        max_length,
        frozenset(skip_tokens),
        min_score,
    )
    return [Match(e, a, b, -neg) for neg, _, a, e, b in scored]


def match_links(match: Match, entity: Span, alignment: Alignment) -> tuple[tuple[int, int], ...]:
    """The links between the entity and the chosen candidate (the projection's provenance)."""
    return tuple(
        sorted(
            (i, j)
            for i, j in alignment.links
            if entity.start <= i < entity.end and match.start <= j < match.end
        )
    )


def _greedy(scored: Sequence[Scored]) -> list[Scored]:
    if len(scored) < 2:
        return list(scored)
    chosen: list[Scored] = []
    used_entities: set[int] = set()
    for m in sorted(scored):
        if m[3] in used_entities or any(m[2] < c[4] and c[2] < m[4] for c in chosen):
            continue
        chosen.append(m)
        used_entities.add(m[3])
    return chosen


def _components(scored: Sequence[Scored]) -> list[list[Scored]]:
    """Groups of pairs that interact: same entity or overlapping candidates (sweep by start)."""
    parent = list(range(len(scored)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_of_entity: dict[int, int] = {}
    reach_end, reach_root = -1, -1
    for x in sorted(range(len(scored)), key=lambda x: scored[x][2]):
        m = scored[x]
        if m[3] in first_of_entity:
            parent[root(x)] = root(first_of_entity[m[3]])
        else:
            first_of_entity[m[3]] = x
        if m[2] < reach_end:
            parent[root(x)] = root(reach_root)
        if m[4] > reach_end:
            reach_end, reach_root = m[4], x
    groups: dict[int, list[Scored]] = {}
    for x, m in enumerate(scored):
        groups.setdefault(root(x), []).append(m)
    return list(groups.values())


def _objective(m: Scored) -> float:
    # Tiny length bonus breaks ties the same way greedy does (prefer longer candidates).
    return -m[0] - 1e-6 * m[1]


def _search(component: list[Scored]) -> list[Scored]:
    """The optimum of one component by depth-first search with an upper bound."""
    by_entity: dict[int, list[Scored]] = {}
    for m in sorted(component):
        by_entity.setdefault(m[3], []).append(m)
    options = list(by_entity.values())
    # what the remaining entities could add at most, for pruning
    bound = [0.0] * (len(options) + 1)
    for k in range(len(options) - 1, -1, -1):
        bound[k] = bound[k + 1] + max(_objective(m) for m in options[k])
    best: list[Scored] = []
    best_value = -1.0
    chosen: list[Scored] = []

    def visit(k: int, value: float) -> None:
        nonlocal best, best_value
        if value + bound[k] <= best_value + 1e-12:
            return
        if k == len(options):
            best, best_value = list(chosen), value
            return
        for m in options[k]:
            if not any(m[2] < c[4] and c[2] < m[4] for c in chosen):
                chosen.append(m)
                visit(k + 1, value + _objective(m))
                chosen.pop()
        visit(k + 1, value)  # this entity stays unprojected

    visit(0, 0.0)
    return best


def _highs(component: list[Scored]) -> list[Scored]:
    """The optimum of one component as an integer program (HiGHS through scipy).

    Overlap is expressed per target token (sum over candidates covering token k <= 1); for
    intervals that is exactly pairwise exclusivity, since overlapping intervals share a token."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    entities = sorted({m[3] for m in component})
    tokens = sorted({k for m in component for k in range(m[2], m[4])})
    row_of_entity = {e: r for r, e in enumerate(entities)}
    row_of_token = {k: len(entities) + r for r, k in enumerate(tokens)}
    a = np.zeros((len(entities) + len(tokens), len(component)))
    for col, m in enumerate(component):
        a[row_of_entity[m[3]], col] = 1
        for k in range(m[2], m[4]):
            a[row_of_token[k], col] = 1
    result = milp(
        -np.array([_objective(m) for m in component]),
        constraints=LinearConstraint(a, -np.inf, 1),
        integrality=np.ones(len(component)),
        bounds=Bounds(0, 1),
    )
    if result.x is None:  # HiGHS failed (should not happen for this bounded binary problem)
        return _greedy(component)
    return [m for m, x in zip(component, result.x) if x > 0.5]


def _exact(scored: Sequence[Scored], search_limit: int = EXACT_SEARCH_LIMIT) -> list[Scored]:
    """Maximise the total score: each entity at most once, overlapping candidates exclusive.

    The problem separates into components; one with a single entity takes that entity's best
    candidate (what greedy does), the others are solved exactly."""
    if len(scored) < 2:
        return list(scored)
    chosen: list[Scored] = []
    for component in _components(scored):
        entities = {m[3] for m in component}
        if len(entities) == 1:
            chosen.append(min(component))
            continue
        choices = 1
        for e in entities:
            choices *= 1 + sum(1 for m in component if m[3] == e)
        if choices <= search_limit:
            chosen.extend(_search(component))
        else:
            chosen.extend(_highs(component))
    return chosen


def _as_scored(matches: Sequence[Match]) -> list[Scored]:
    return [(-m.score, m.start - m.end, m.start, m.entity, m.end) for m in matches]


def _as_matches(scored: Sequence[Scored]) -> list[Match]:
    return [Match(e, a, b, -neg) for neg, _, a, e, b in scored]


def solve_greedy(matches: Sequence[Match]) -> list[Match]:
    """Repeatedly take the best remaining pair; drop its entity and overlapping candidates."""
    return _as_matches(_greedy(_as_scored(matches)))


def solve_ilp(matches: Sequence[Match], search_limit: int = EXACT_SEARCH_LIMIT) -> list[Match]:
    """Maximise the total score: each entity at most once, overlapping candidates exclusive
    (exactly: components up to `search_limit` joint choices by search, larger ones by HiGHS)."""
    return _as_matches(_exact(_as_scored(matches), search_limit))


SOLVERS: Registry = Registry("candidate solver")
SOLVERS.register("greedy")(lambda: _greedy)
SOLVERS.register("ilp")(lambda: _exact)


class CandidateProjector(Projector):
    """Candidate matching with a named solver; n-gram candidates unless candidates are given."""

    solver_name = ""

    def __init__(
        self,
        max_length: Annotated[int, Field(ge=1)] = 10,
        min_score: Annotated[float, Field(ge=0, le=1)] = 0.0,
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
        if self.use_ner_candidates:
            if candidates is None:
                raise ValueError(f"{self.name}: NER candidates requested but none were given")
            pool: Sequence[Span] | None = candidates
        else:
            pool = None
        links = alignment.links
        if not source_spans or not links:
            return []
        if pool is None:
            # Each entity's best n-gram first. If no two of them overlap, they are what greedy
            # takes (each is the first of its entity in the greedy order and nothing taken
            # before it overlaps it) and the optimum (every entity gets its highest score), so
            # neither solver needs the other candidates.
            weight = alignment.scores
            n_target = len(target_tokens)
            skip_tokens, min_score, name = self.skip_tokens, self.min_score, self.name
            max_length = self.max_length
            # An entity's links in (source, target) order: from a source -> target dict when
            # every source word has at most one link (usual: an intersection of directions),
            # else a slice of the sorted links found by bisection.
            # (more links than source words: some word has two, no need to look)
            target_of = dict(links) if len(links) <= len(source_tokens) else {}
            ordered = None if len(target_of) == len(links) else alignment.ordered_links
            found: list[ProjectedSpan] = []
            in_order = True  # no best n-gram starts before the previous one ends
            previous_end = -1
            # An entity's own links: the same lookup as in heuristic.py, written out in both on purpose
            # (the hot loop of the projection step: a helper call would run for every entity).
            for entity in source_spans:
                first, last, label = entity
                size = last - first
                if ordered is None:
                    if size == 1:
                        start = target_of.get(first)
                        if start is None:
                            continue
                        own: tuple[Link, ...] = ((first, start),)
                    else:
                        aligned: list[Link] = []
                        for i in range(first, last):
                            if i in target_of:
                                aligned.append((i, target_of[i]))
                        if not aligned:
                            continue
                        own = tuple(aligned)
                else:
                    lo = bisect_left(ordered, first, key=link_source)
                    hi = bisect_left(ordered, last, lo, key=link_source)
                    if lo == hi:
                        continue
                    own = ordered[lo:hi]
                n_links = len(own)
                if n_links == 1:  # the common case: one link, one n-gram (as _ngrams finds)
                    start = own[0][1]
                    if start >= n_target or target_tokens[start] in skip_tokens:
                        continue
                    if weight:
                        count = weight.get(own[0], 1.0)
                        if not count:
                            continue
                        score = 2.0 * count / (size + 1)
                    else:
                        score = 2.0 / (size + 1)
                    if score <= min_score:
                        continue
                    if start < previous_end:
                        in_order = False
                    previous_end = start + 1
                    span = new_span((start, previous_end, label))
                    found.append(new_projected_span((span, entity, name, score, own)))
                    continue
                if not weight:
                    # Links to distinct, contiguous words: an n-gram of L of them holds L links
                    # and scores 2L / (size + L), which grows with L, so the whole block is the
                    # best when it is allowed (inside the target, short enough, no skip token).
                    if n_links == 2:  # two words are distinct and contiguous if 1 apart
                        start, end = own[0][1], own[1][1]
                        if start > end:
                            start, end = end, start
                        end += 1
                        block = end - start == 2
                    else:
                        ends = sorted({link[1] for link in own})
                        start, end = ends[0], ends[-1] + 1
                        block = len(ends) == n_links and end - start == n_links
                    if (
                        block
                        and end <= n_target
                        and n_links <= max_length
                        and skip_tokens.isdisjoint(target_tokens[start:end])
                    ):
                        score = 2.0 * n_links / (size + n_links)
                        if score > min_score:
                            if start < previous_end:
                                in_order = False
                            previous_end = end
                            span = new_span((start, end, label))
                            found.append(new_projected_span((span, entity, name, score, own)))
                        continue
                best: list[Scored] = []
                _ngrams(
                    0,  # the entity's index: unused here
                    size,
                    own,
                    weight,
                    target_tokens,
                    max_length,
                    skip_tokens,
                    min_score,
                    True,
                    best,
                )
                if best:
                    neg_score, _, start, _, end = best[0]
                    supporting = tuple([link for link in own if start <= link[1] < end])
                    if start < previous_end:
                        in_order = False
                    previous_end = end
                    span = new_span((start, end, label))
                    found.append(new_projected_span((span, entity, name, -neg_score, supporting)))
            # usually in the entities' order already; else sorted by start and checked again
            if in_order or _in_target_order(found):
                return found
        settings = (self.max_length, self.skip_tokens, self.min_score)
        bounds: dict[int, tuple[int, int]] = {}
        scored = _scored(source_spans, target_tokens, alignment, pool, *settings, bounds)
        chosen = self.solve(scored)
        chosen.sort(key=itemgetter(2))
        ordered = alignment.ordered_links
        out = []
        for neg_score, _, start, e, end in chosen:
            entity = source_spans[e]
            lo, hi = bounds[e]
            links = tuple([link for link in ordered[lo:hi] if start <= link[1] < end])
            span = new_span((start, end, entity.label))
            out.append(new_projected_span((span, entity, self.name, -neg_score, links)))
        return out


def _in_target_order(found: list[ProjectedSpan]) -> bool:
    """Sort `found` by target start; whether no two of them overlap."""
    found.sort(key=_target_start)
    end = -1
    for projected in found:
        if projected.span.start < end:
            return False
        end = projected.span.end
    return True


def _target_start(projected: ProjectedSpan) -> int:
    return projected.span.start


@PROJECTORS.register("candidates-greedy")
class GreedyCandidateProjector(CandidateProjector):
    name = "candidates-greedy"
    solver_name = "greedy"


@PROJECTORS.register("candidates-ilp")
class IlpCandidateProjector(CandidateProjector):
    name = "candidates-ilp"
    solver_name = "ilp"
