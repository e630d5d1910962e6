"""Projection methods on hand-made alignments, including a case where the ILP beats greedy."""

import pytest

from core.data.types import Alignment, Span
from core.projection import get_projector
from core.projection.candidates import dice_matches, solve_greedy, solve_ilp


def project(name, spans, source, target, links, **params):
    return get_projector(name, **params).project(
        spans, source.split(), target.split(), Alignment.from_links(links)
    )


@pytest.mark.parametrize("method", ["heuristic", "candidates-greedy", "candidates-ilp"])
def test_reordered_entities(method):
    out = project(
        method,
        [Span(0, 2, "PER"), Span(3, 4, "LOC")],
        "John Smith in Paris",
        "Paris , John Smith",
        [(0, 2), (1, 3), (3, 0)],
    )
    assert [(p.span, p.source) for p in out] == [
        (Span(0, 1, "LOC"), Span(3, 4, "LOC")),
        (Span(2, 4, "PER"), Span(0, 2, "PER")),
    ]
    assert all(p.method == method and p.links for p in out)


def test_heuristic_bridges_one_unaligned_word_but_not_two():
    spans = [Span(0, 3, "ORG")]
    near = project(
        "heuristic", spans, "Bank of England", "Banco de la Inglaterra", [(0, 0), (2, 2), (2, 3)]
    )
    assert [p.span for p in near] == [Span(0, 4, "ORG")]
    far = project("heuristic", spans, "Bank of England", "Banco x y Inglaterra", [(0, 0), (2, 3)])
    # two separate one-word ranges, each 1/3 of the entity: below the 0.8 length ratio
    assert far == []


def test_heuristic_length_ratio_threshold():
    spans = [Span(0, 4, "ORG")]
    out = project("heuristic", spans, "a b c d", "w x y z", [(0, 0), (1, 1), (2, 2)])
    assert [p.span for p in out] == []  # 3/4 = 0.75 is not > 0.8
    out = project("heuristic", spans, "a b c d", "w x y z", [(0, 0), (1, 1), (2, 2)], min_ratio=0.7)
    assert [p.span for p in out] == [Span(0, 3, "ORG")]


def test_heuristic_collision_keeps_longest():
    spans = [Span(0, 1, "PER"), Span(2, 4, "ORG")]
    out = project("heuristic", spans, "Smith of Acme Corp", "x y z", [(0, 1), (2, 1), (3, 2)])
    assert [(p.span, p.source.label) for p in out] == [(Span(1, 3, "ORG"), "ORG")]


def test_candidates_skip_exclamation_and_question_marks():
    out = project(
        "candidates-greedy", [Span(0, 2, "ORG")], "Acme Corp", "Acme ! Corp", [(0, 0), (1, 2)]
    )
    assert [p.span for p in out] in ([Span(0, 1, "ORG")], [Span(2, 3, "ORG")])


def test_dice_score():
    [m] = [
        m
        for m in dice_matches(
            [Span(0, 2, "PER")], ["a", "b", "c"], Alignment.from_links([(0, 0), (1, 1)]), None
        )
        if (m.start, m.end) == (0, 2)
    ]
    assert m.score == pytest.approx(2 * 2 / (2 + 2))


def test_exact_ilp_beats_greedy():
    # Entity A aligns to t0 and t1, entity B only to t0. Greedy takes A -> [t0 t1] (Dice 4/3)
    # and leaves B with nothing; the optimum is A -> t1, B -> t0 (1 + 1 = 2).
    spans = [Span(0, 1, "PER"), Span(1, 2, "LOC")]
    links = [(0, 0), (0, 1), (1, 0)]
    greedy = project("candidates-greedy", spans, "A B", "t0 t1", links)
    exact = project("candidates-ilp", spans, "A B", "t0 t1", links)
    assert [p.span for p in greedy] == [Span(0, 2, "PER")]
    assert sorted(p.span for p in exact) == [Span(0, 1, "LOC"), Span(1, 2, "PER")]
    assert sum(p.score for p in exact) > sum(p.score for p in greedy)


def test_ilp_never_worse_than_greedy_on_random_cases():
    import random

    rng = random.Random(0)
    for _ in range(200):
        n_src, n_tgt = rng.randint(1, 8), rng.randint(1, 8)
        spans = []
        pos = 0
        while pos < n_src:
            length = rng.randint(1, 3)
            if rng.random() < 0.5 and pos + length <= n_src:
                spans.append(Span(pos, pos + length, "X"))
            pos += length
        links = {(rng.randrange(n_src), rng.randrange(n_tgt)) for _ in range(rng.randint(0, 10))}
        matches = dice_matches(spans, ["w"] * n_tgt, Alignment.from_links(links), None)
        greedy, exact = solve_greedy(matches), solve_ilp(matches)
        assert sum(m.score for m in exact) >= sum(m.score for m in greedy) - 1e-9
        for chosen in (greedy, exact):
            assert len({m.entity for m in chosen}) == len(chosen)
            taken = sorted((m.start, m.end) for m in chosen)
            assert all(a[1] <= b[0] for a, b in zip(taken, taken[1:]))


def test_ner_candidates_restrict_the_choice():
    projector = get_projector("candidates-greedy", use_ner_candidates=True)
    out = projector.project(
        [Span(0, 1, "PER")],
        ["Ana"],
        ["a", "Ana", "b"],
        Alignment.from_links([(0, 0), (0, 1)]),
        candidates=[Span(1, 2, "PER")],
    )
    assert [p.span for p in out] == [Span(1, 2, "PER")]


def test_unknown_method_lists_known_ones():
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="known: candidates-greedy, candidates-ilp, heuristic"):
        get_projector("magic")


def _random_case(rng, one_per_source=False):
    """Random spans and links; `one_per_source`: at most one link per source word (as an
    intersection of two directions gives, which projectors read without sorting)."""
    n_src, n_tgt = rng.randint(1, 9), rng.randint(1, 9)
    spans, pos = [], 0
    while pos < n_src:
        length = rng.randint(1, 3)
        if rng.random() < 0.5 and pos + length <= n_src:
            spans.append(Span(pos, pos + length, rng.choice("XY")))
        pos += length
    links = {(rng.randrange(n_src), rng.randrange(n_tgt)) for _ in range(rng.randint(0, 12))}
    if one_per_source:
        links = set(dict(links).items())
    return spans, n_src, n_tgt, Alignment.from_links(links)


def _plain_heuristic(spans, n_tgt, links, min_ratio=0.8, only_unaligned_gaps=True):
    """The heuristic written the slow, obvious way: ranges, bridged gaps, longest, collisions."""
    aligned = {j for _, j in links}
    found = []
    for entity in spans:
        targets = sorted({j for i, j in links if entity.start <= i < entity.end and j < n_tgt})
        ranges = []
        for j in targets:
            gap = range(ranges[-1][1], j) if ranges else range(0)
            if ranges and (
                len(gap) == 0
                or (len(gap) <= 1 and not (only_unaligned_gaps and set(gap) & aligned))
            ):
                ranges[-1][1] = j + 1
            else:
                ranges.append([j, j + 1])
        ranges = [r for r in ranges if (r[1] - r[0]) / len(entity) > min_ratio]
        if ranges:
            a, b = max(ranges, key=lambda r: (r[1] - r[0], -r[0]))
            found.append(Span(a, b, entity.label))
    kept = []
    for s in sorted(found, key=lambda s: (-len(s), s.start)):
        if not any(s.overlaps(k) for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


@pytest.mark.parametrize("one_per_source", [False, True])
@pytest.mark.parametrize("only_unaligned_gaps", [True, False])
def test_heuristic_matches_the_plain_definition_on_random_cases(
    only_unaligned_gaps, one_per_source
):
    import random

    rng = random.Random(7)
    projector = get_projector("heuristic", only_unaligned_gaps=only_unaligned_gaps)
    for _ in range(1000):
        spans, n_src, n_tgt, alignment = _random_case(rng, one_per_source)
        out = projector.project(spans, ["s"] * n_src, ["t"] * n_tgt, alignment)
        expected = _plain_heuristic(spans, n_tgt, alignment.links, 0.8, only_unaligned_gaps)
        assert [p.span for p in out] == expected
        for p in out:  # provenance: exactly the entity's links inside the projected span
            assert p.links == tuple(
                sorted(
                    (i, j)
                    for i, j in alignment.links
                    if p.source.start <= i < p.source.end and p.span.start <= j < p.span.end
                )
            )


def test_exact_search_agrees_with_highs():
    import random

    rng = random.Random(3)
    for _ in range(150):
        spans, _, n_tgt, alignment = _random_case(rng)
        matches = dice_matches(spans, ["w"] * n_tgt, alignment, None)
        searched = solve_ilp(matches)
        highs = solve_ilp(matches, search_limit=0)  # every competing component through HiGHS
        assert sum(m.score for m in searched) == pytest.approx(sum(m.score for m in highs))


def test_project_pairs_equals_project_pair_and_keeps_the_collector_state():
    import gc

    from core.data.tags import spans_to_tags
    from core.data.types import Sentence, SentencePair
    from core.pipelines.steps import project_pairs

    rng = __import__("random").Random(5)
    pairs = []
    for n in range(300):
        spans, n_src, n_tgt, alignment = _random_case(rng)
        source = Sentence(["s"] * n_src, spans_to_tags(spans, n_src))
        pairs.append(SentencePair(source, Sentence(["t"] * n_tgt), alignment, id=str(n)))
    for method in ("heuristic", "candidates-greedy", "candidates-ilp"):
        projector = get_projector(method)
        assert gc.isenabled()
        batch = project_pairs(pairs, projector)
        assert gc.isenabled()
        one_by_one = [projector.project_pair(p) for p in pairs]
        assert [b.spans for b in batch] == [o.spans for o in one_by_one]


def test_tags_to_spans_on_random_tags():
    import random

    from core.data.tags import tags_to_spans

    def plain(tags):
        spans, start, label = [], -1, ""
        for i, tag in enumerate(tags):
            if tag.startswith("I-") and start >= 0 and tag[2:] == label:
                continue
            if start >= 0:
                spans.append(Span(start, i, label))
                start, label = -1, ""
            if tag != "O":
                start, label = i, tag[2:]
        if start >= 0:
            spans.append(Span(start, len(tags), label))
        return spans

    rng = random.Random(11)
    for _ in range(2000):
        tags = [rng.choice(["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]) for _ in range(8)]
        assert tags_to_spans(tags) == plain(tags)


@pytest.mark.parametrize("one_per_source", [False, True])
@pytest.mark.parametrize("method", ["candidates-greedy", "candidates-ilp"])
def test_best_candidate_shortcuts_equal_scoring_every_candidate(method, one_per_source):
    """The projector takes each entity's best n-gram (whole contiguous blocks directly) when no
    two overlap; the solvers over every scored candidate must choose the same (ILP: the same
    total), with weighted links, skip tokens and short maximum lengths too."""
    import random

    rng = random.Random(13)
    solve = solve_greedy if method == "candidates-greedy" else solve_ilp
    for n in range(1500):
        spans, n_src, n_tgt, alignment = _random_case(rng, one_per_source)
        if n % 3 == 1:  # weighted links, some of weight 0
            scores = {link: rng.choice([0.0, 0.25, 0.5, 1.0]) for link in alignment.links}
            alignment = Alignment(alignment.links, scores)
        tokens = [rng.choice(["w", "w", "w", "!"]) if n % 3 == 2 else "w" for _ in range(n_tgt)]
        max_length = rng.choice([1, 2, 10])
        projector = get_projector(method, max_length=max_length)
        out = projector.project(spans, ["s"] * n_src, tokens, alignment)
        matches = dice_matches(spans, tokens, alignment, None, max_length=max_length)
        chosen = sorted(solve(matches), key=lambda m: m.start)
        got = [(p.span.start, p.span.end, p.source, p.score) for p in out]
        if method == "candidates-greedy":
            assert got == [(m.start, m.end, spans[m.entity], m.score) for m in chosen]
        else:
            assert sum(p.score for p in out) == pytest.approx(sum(m.score for m in chosen))
        for p in out:  # provenance: the entity's links inside the span, in sorted order
            assert p.links == tuple(
                sorted(
                    (i, j)
                    for i, j in alignment.links
                    if p.source.start <= i < p.source.end and p.span.start <= j < p.span.end
                )
            )


def test_spans_behave_as_frozen_dataclasses():
    import copy
    import pickle

    from core.data.types import ProjectedSpan, new_projected_span, new_span

    span = Span(1, 3, "PER")
    assert (span.start, span.end, span.label, len(span)) == (1, 3, "PER", 2)
    assert span == Span(start=1, end=3, label="PER") and span != Span(1, 3, "LOC")
    plain = (1, 3, "PER")
    assert span != plain and not plain == span  # noqa: SIM201  (a tuple on the left too)
    assert hash(span) == hash((1, 3, "PER"))  # as a frozen dataclass hashes its fields
    assert sorted([Span(2, 3, "X"), span, Span(1, 2, "Z")]) == [
        Span(1, 2, "Z"),
        span,
        Span(2, 3, "X"),
    ]
    with pytest.raises(TypeError):
        span < (1, 4, "PER")  # noqa: B015
    with pytest.raises(AttributeError):
        span.start = 0  # type: ignore[misc]
    with pytest.raises(ValueError, match="invalid span"):
        Span(2, 2, "PER")
    assert repr(span) == "Span(start=1, end=3, label='PER')"
    assert pickle.loads(pickle.dumps(span)) == span == copy.deepcopy(span)
    assert span.overlaps(Span(2, 5, "X")) and not span.overlaps(Span(3, 5, "X"))
    assert new_span((1, 3, "PER")) == span

    projected = ProjectedSpan(span, Span(0, 2, "PER"), "heuristic", 0.5, ((0, 1), (1, 2)))
    assert projected.label == "PER" and projected.links == ((0, 1), (1, 2))
    assert ProjectedSpan(span, span, "m") == new_projected_span((span, span, "m", 1.0, ()))
    assert projected != ProjectedSpan(span, Span(0, 2, "PER"), "heuristic", 0.6, ((0, 1), (1, 2)))
    assert hash(projected) == hash((span, Span(0, 2, "PER"), "heuristic", 0.5, ((0, 1), (1, 2))))
    assert pickle.loads(pickle.dumps(projected)) == projected
    with pytest.raises(TypeError):
        projected < projected  # noqa: B015


def test_alignment_behaves_as_a_frozen_dataclass_and_sorts_its_links_once():
    import copy
    import pickle

    alignment = Alignment(frozenset({(2, 0), (0, 3), (0, 1), (1, 1)}), {(0, 1): 0.5})
    assert alignment.ordered_links == ((0, 1), (0, 3), (1, 1), (2, 0))
    assert alignment.ordered_links is alignment.ordered_links  # sorted on first use, then kept
    assert alignment.inverted().ordered_links == ((0, 2), (1, 0), (1, 1), (3, 0))
    assert alignment == Alignment(alignment.links)  # scores and the order are not compared
    assert alignment != Alignment(frozenset({(0, 1)})) and alignment != alignment.links
    assert hash(alignment) == hash((alignment.links,))  # as a frozen dataclass hashes
    assert Alignment() == Alignment(frozenset()) and not Alignment() and len(alignment) == 4
    assert Alignment().scores == {} and Alignment().scores is not Alignment().scores
    assert repr(Alignment(frozenset({(0, 1)}))) == "Alignment(links=frozenset({(0, 1)}), scores={})"
    for copied in (pickle.loads(pickle.dumps(alignment)), copy.deepcopy(alignment)):
        assert copied == alignment and copied.scores == {(0, 1): 0.5}
    with pytest.raises(AttributeError):
        alignment.links = frozenset()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        alignment.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        alignment.missing  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(TypeError):
        alignment < alignment  # type: ignore[operator]  # noqa: B015


def test_project_pairs_leaves_objects_frozen_by_the_caller_frozen():
    import gc

    from core.data.types import Sentence, SentencePair
    from core.pipelines.steps import project_pairs

    pair = SentencePair(
        Sentence(["Ana"], ["B-PER"]), Sentence(["Ana"]), Alignment.from_links([(0, 0)])
    )
    marker = [object()]  # a tracked object; frozen ones are not listed by gc.get_objects

    def frozen() -> bool:
        return not any(o is marker for o in gc.get_objects())

    gc.freeze()
    try:
        [projection] = project_pairs([pair], get_projector("heuristic"))
        assert frozen() and gc.isenabled()
    finally:
        gc.unfreeze()
    assert not frozen()
    [projection] = project_pairs([pair], get_projector("heuristic"))
    assert gc.get_freeze_count() == 0 and projection.target_tags() == ["B-PER"]
