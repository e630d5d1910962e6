"""IOB2 tags <-> spans, validation, and mapping between tag schemes (e.g. OntoNotes -> CoNLL)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from core.data.types import Span, new_span

# OntoNotes (spaCy) labels onto the PER/ORG/LOC/DATE scheme of CoNLL, WikiANN and MasakhaNER.
ONTONOTES_TO_CONLL: dict[str, str] = {
    "PERSON": "PER",
    "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "DATE": "DATE",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
    "MISC": "MISC",
}

SCHEMES: dict[str, tuple[str, ...]] = {
    "conll": ("PER", "ORG", "LOC", "MISC"),
    "wikiann": ("PER", "ORG", "LOC"),
    "masakhaner": ("PER", "ORG", "LOC", "DATE"),
    "europarl": ("PER", "ORG", "LOC", "MISC"),
}


def is_valid_tag(tag: str) -> bool:
    return tag == "O" or (len(tag) > 2 and tag[1] == "-" and tag[0] in "BI")


def tags_to_spans(tags: Sequence[str]) -> list[Span]:
    """Decode IOB2 tags; an I- that does not continue a same-type entity starts a new one."""
    spans: list[Span] = []
    start = end = -1
    label = inside = ""  # inside: the tag that continues the current entity, "I-" + label
    for i, tag in enumerate(tags):
        if tag == "O":  # most tags: one comparison each
            continue
        if tag == inside and i == end:
            end += 1
            continue
        if start >= 0:
            spans.append(new_span((start, end, label)))
        start, end, label = i, i + 1, tag[2:]
        inside = "I-" + label
    if start >= 0:
        spans.append(new_span((start, end, label)))
    return spans


def spans_to_tags(spans: Iterable[Span], length: int) -> list[str]:
    """Encode spans as IOB2; overlapping spans are an error (one tag per token)."""
    tags = ["O"] * length
    for span in sorted(spans):
        if span.end > length:
            raise ValueError(f"span {span} beyond sentence length {length}")
        if any(tags[i] != "O" for i in span.indices()):
            raise ValueError(f"span {span} overlaps another span")
        tags[span.start] = "B-" + span.label
        for i in range(span.start + 1, span.end):
            tags[i] = "I-" + span.label
    return tags


def repair_iob2(tags: Sequence[str]) -> tuple[list[str], int]:
    """Turn an I-X that does not follow B-X/I-X into B-X; returns the tags and the repair count."""
    out: list[str] = []
    repairs = 0
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and (prev == "O" or prev[2:] != tag[2:]):
            tag = "B-" + tag[2:]
            repairs += 1
        out.append(tag)
        prev = tag
    return out, repairs


def map_spans(
    spans: Iterable[Span],
    mapping: Mapping[str, str] | None = None,
    keep: Iterable[str] | None = None,
) -> list[Span]:
    """Rename span labels through `mapping` and drop labels outside `keep` (None keeps all)."""
    allowed = set(keep) if keep is not None else None
    out = []
    for span in spans:
        label = mapping.get(span.label, span.label) if mapping else span.label
        if allowed is None or label in allowed:
            out.append(Span(span.start, span.end, label))
    return out


def map_tags(
    tags: Sequence[str],
    mapping: Mapping[str, str] | None = None,
    keep: Iterable[str] | None = None,
) -> list[str]:
    return spans_to_tags(map_spans(tags_to_spans(tags), mapping, keep), len(tags))
