import pytest

from core.data.tags import map_tags, repair_iob2, spans_to_tags, tags_to_spans
from core.data.types import Span


def test_tags_spans_round_trip():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O"]
    spans = tags_to_spans(tags)
    assert spans == [Span(0, 2, "PER"), Span(3, 4, "LOC"), Span(4, 6, "LOC")]
    assert spans_to_tags(spans, len(tags)) == tags


def test_i_after_o_starts_entity_and_is_repaired():
    assert tags_to_spans(["O", "I-ORG", "I-ORG", "I-PER"]) == [Span(1, 3, "ORG"), Span(3, 4, "PER")]
    fixed, count = repair_iob2(["O", "I-ORG", "I-ORG", "I-PER"])
    assert fixed == ["O", "B-ORG", "I-ORG", "B-PER"]
    assert count == 2


def test_overlapping_spans_cannot_be_encoded():
    with pytest.raises(ValueError, match="overlaps"):
        spans_to_tags([Span(0, 2, "PER"), Span(1, 3, "LOC")], 4)


def test_ontonotes_mapping_drops_types_outside_schema():
    tags = ["B-PERSON", "I-PERSON", "B-GPE", "B-NORP", "B-DATE", "I-DATE"]
    from core.data.tags import ONTONOTES_TO_CONLL

    assert map_tags(tags, ONTONOTES_TO_CONLL, keep=["PER", "ORG", "LOC"]) == [
        "B-PER",
        "I-PER",
        "B-LOC",
        "O",
        "O",
        "O",
    ]
