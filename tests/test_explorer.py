"""Explorer logic: flags that surface alignment errors, search, filters, view comparison, matrix."""

from __future__ import annotations

import pytest

from core.data.types import Alignment, ProjectedSpan, Projection, Sentence, SentencePair, Span
from core.workbench.explorer import (
    Thresholds,
    agreement,
    alignment_matrix,
    compare,
    flag_counts,
    projection_of_links,
    sentence_flags,
    sentence_rows,
    unaligned_entity_words,
)

SRC = ["Maria", "Silva", "works", "in", "Lisbon", "."]
TGT = ["Maria", "Silva", "trabalha", "em", "Lisboa", "."]
SRC_TAGS = ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
PER, LOC = Span(0, 2, "PER"), Span(4, 5, "LOC")


def make(spans, links=((0, 0), (1, 1), (2, 2), (3, 3), (4, 4)), sid="0", method="heuristic"):
    pair = SentencePair(
        Sentence(SRC, SRC_TAGS, id=sid),
        Sentence(TGT, None, id=sid),
        Alignment.from_links(links),
        sid,
    )
    return Projection(pair, list(spans), method)


def ps(span, source, score=1.0, links=()):
    return ProjectedSpan(span, source, "heuristic", score, links)


GOOD = make([ps(Span(0, 2, "PER"), PER, links=((0, 0), (1, 1))), ps(Span(4, 5, "LOC"), LOC)])


def test_a_clean_projection_has_no_flags():
    assert sentence_flags(GOOD, GOOD) == []


def test_unprojected_entity_is_flagged():
    p = make([ps(Span(0, 2, "PER"), PER)])
    assert "unprojected" in sentence_flags(p)


def test_length_mismatch_both_ways():
    longer = make([ps(Span(0, 5, "PER"), PER), ps(Span(4, 5, "LOC"), LOC)][:1])
    assert "length mismatch" in sentence_flags(longer)
    shorter = make([ps(Span(0, 1, "PER"), Span(0, 3, "PER"))])
    assert "length mismatch" in sentence_flags(shorter)
    assert "length mismatch" not in sentence_flags(shorter, th=Thresholds(length_ratio=4.0))


def test_unaligned_entity_words_and_low_score():
    p = make([ps(Span(0, 1, "PER"), PER, score=0.5)], links=((0, 0), (2, 2)))
    assert unaligned_entity_words(p) == [1, 4]  # "Silva" and "Lisbon" have no link
    flags = sentence_flags(p, th=Thresholds(min_score=0.6))
    assert "unaligned words" in flags and "low score" in flags
    assert "low score" not in sentence_flags(p, th=Thresholds(min_score=0.5))


def test_disagreement_needs_a_second_view():
    other = make([ps(Span(0, 2, "PER"), PER), ps(Span(3, 5, "LOC"), LOC)], method="candidates")
    assert "views disagree" in sentence_flags(GOOD, other)
    assert "views disagree" not in sentence_flags(GOOD, None)
    rows = compare(GOOD, other)
    assert [r.agree for r in rows] == [True, False]
    assert rows[1].a_text == "Lisboa" and rows[1].b_text == "em Lisboa"
    assert agreement([GOOD], [other]) == pytest.approx(0.5)


def test_rows_filter_by_query_flags_and_corrections():
    view = [GOOD, make([ps(Span(0, 2, "PER"), PER)], sid="1")]
    assert [r.id for r in sentence_rows(view)] == ["0", "1"]
    assert [r.id for r in sentence_rows(view, flags=["unprojected"])] == ["1"]
    assert [r.id for r in sentence_rows(view, query="LISBOA")] == ["0", "1"]
    assert [r.id for r in sentence_rows(view, query="1")] == ["1"]  # an id
    assert sentence_rows(view, query="Berlin") == []
    rows = sentence_rows(view, corrected={"0"}, only_corrected=True)
    assert [(r.id, r.corrected) for r in rows] == [("0", True)]
    assert flag_counts(view)["unprojected"] == 1
    with pytest.raises(ValueError, match="differ in length"):
        sentence_rows(view, [GOOD])


def test_matrix_and_entity_links():
    grid = alignment_matrix(GOOD)
    assert len(grid) == len(SRC) and len(grid[0]) == len(TGT)
    assert grid[4][4] == 1 and grid[4][3] == 0
    assert sum(map(sum, grid)) == 5
    assert projection_of_links(GOOD) == {(0, 0): "PER", (1, 1): "PER"}


def test_every_flag_says_why_with_numbers():
    from core.workbench.explorer import FLAGS, flag_explanation, flag_names, reasons

    assert set(flag_names()) == set(FLAGS.names())  # one name per flag, from one registry
    assert all(flag_explanation(n) for n in flag_names())
    shorter = make([ps(Span(0, 1, "PER"), PER, score=0.4)], links=((0, 0), (2, 2)))
    other = make([ps(Span(0, 2, "PER"), PER), ps(Span(3, 5, "LOC"), LOC)], method="candidates")
    found: dict[str, str] = {}
    for r in reasons(shorter, other, Thresholds(min_score=0.5)):
        found[r.flag] = found.get(r.flag, "") + r.text + "\n"
    assert found["length mismatch"] == (
        "PER 'Maria Silva' (source 0-1): 2 source tokens vs 1 projected ('Maria'), ratio 0.50 outside "
        "1/1.5-1.5\n"
    )
    assert found["unprojected"] == (
        "LOC 'Lisbon' (source 4) not projected: none of its words has an alignment link\n"
    )
    assert "LOC 'Lisbon' (source 4): 1 of 1 word unaligned ('Lisbon')" in found["unaligned words"]
    assert "1 of 2 words unaligned ('Silva')" in found["unaligned words"]
    assert "score 0.40 below 0.50 (heuristic)" in found["low score"]
    assert found["views disagree"].startswith(
        "PER 'Maria Silva' (source 0-1): heuristic: 'Maria' (0-0, score 0.40) vs candidates: 'Maria Silva'"
    )
    linked = make([ps(Span(0, 2, "PER"), PER)])  # "Lisbon" links to "Lisboa" but was dropped
    (why,) = reasons(linked)
    assert "its words link to 'Lisboa' (4)" in why.text


def test_filters_combine_with_and_or_or():
    unprojected = make([ps(Span(0, 2, "PER"), PER)], sid="1")
    low = make([ps(Span(0, 2, "PER"), PER, score=0.1), ps(Span(4, 5, "LOC"), LOC)], sid="2")
    view = [GOOD, unprojected, low]
    both = ["unprojected", "low score"]
    assert sentence_rows(view, flags=both, combine="all") == []
    assert [r.id for r in sentence_rows(view, flags=both, combine="any")] == ["1", "2"]
    with pytest.raises(ValueError, match="combine"):
        sentence_rows(view, flags=both, combine="xor")


def test_score_range_and_suspicion_order():
    from core.workbench.explorer import ordered, score_range

    high = make([ps(Span(0, 2, "PER"), PER, score=1.33), ps(Span(4, 5, "LOC"), LOC)], sid="1")
    bad = make([ps(Span(0, 1, "PER"), PER, score=0.1)], links=((0, 0),), sid="2")
    view = [GOOD, high, bad]
    assert score_range(view) == (0.1, 1.33)
    rows = sentence_rows(view)
    assert [r.id for r in ordered(rows, "suspicion")] == ["2", "0", "1"]
    assert rows[2].suspicion > 3 and rows[0].suspicion == 0
    assert [r.id for r in ordered(rows)] == ["0", "1", "2"]
