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
    assert "length" in sentence_flags(longer)
    shorter = make([ps(Span(0, 1, "PER"), Span(0, 3, "PER"))])
    assert "length" in sentence_flags(shorter)
    assert "length" not in sentence_flags(shorter, th=Thresholds(length_ratio=4.0))


def test_unaligned_entity_words_and_low_score():
    p = make([ps(Span(0, 1, "PER"), PER, score=0.5)], links=((0, 0), (2, 2)))
    assert unaligned_entity_words(p) == [1, 4]  # "Silva" and "Lisbon" have no link
    flags = sentence_flags(p, th=Thresholds(min_score=0.6))
    assert "unaligned" in flags and "low_score" in flags
    assert "low_score" not in sentence_flags(p, th=Thresholds(min_score=0.5))


def test_disagreement_needs_a_second_view():
    other = make([ps(Span(0, 2, "PER"), PER), ps(Span(3, 5, "LOC"), LOC)], method="candidates")
    assert "disagree" in sentence_flags(GOOD, other)
    assert "disagree" not in sentence_flags(GOOD, None)
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
