"""Property-based tests (hypothesis): random and adversarial input to the readers, the tag repair
and the projectors either works or fails with one of xner's own errors (XnerError), never with a
crash; and what the writers write, the readers read back unchanged."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data.formats import (
    format_conll,
    nfc,
    parse_conll,
    read_gold_alignment,
    read_lines,
    read_pharaoh,
    read_projections_jsonl,
    read_src_tgt,
    text_lines,
)
from core.data.tags import is_valid_tag, repair_iob2, spans_to_tags, tags_to_spans
from core.data.types import Alignment, Sentence, Span
from core.errors import XnerError

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Characters that break naive readers: line and paragraph separators, NEL, CR, BOM, tabs,
# ideographic and no-break spaces, combining marks, NUL, quotes, surrogate-free astral planes.
NASTY = "\u2028\u2029\u0085\r\ufeff\t\u3000\u00a0\u0301\x00\"'\\|-p0123456789 ßẹ́東京😀"
text_chars = st.one_of(st.sampled_from(list(NASTY)), st.characters(exclude_categories=["Cs"]))
nasty_text = st.text(text_chars, max_size=200)
line = st.text(text_chars.filter(lambda c: c != "\n"), max_size=40)
lines_text = st.lists(line, max_size=12).map("\n".join)
labels = st.sampled_from(["PER", "ORG", "LOC", "DATE", "X-Y"])
tag = st.one_of(
    st.just("O"), st.builds(lambda p, label: f"{p}-{label}", st.sampled_from("BI"), labels)
)
conll_line = st.one_of(
    st.builds(lambda tok, t: f"{tok} {t}", line, tag),
    st.builds(lambda tok, t: f"{tok}\t{t}", line, tag),
    st.just(""),
    st.just("-DOCSTART- -X- O"),
    line,
)
conll_text = st.lists(conll_line, max_size=15).map("\n".join)


def _file(content: str | bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="xner-fuzz-"))
    path = folder / "input"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "replace"))
    return path


def _only_our_errors(call, *args) -> object:
    try:
        return call(*args)
    except XnerError:
        return None


# ------------------------------------------------------------------ readers


@FAST
@given(st.one_of(conll_text, nasty_text))
def test_conll_parser_never_crashes(text):
    sentences = _only_our_errors(parse_conll, text, "fuzz.conll")
    for sentence in sentences or []:
        assert sentence.tokens and len(sentence.tags) == len(sentence.tokens)
        assert all(is_valid_tag(t) for t in sentence.tags)


@FAST
@given(st.one_of(lines_text, nasty_text, st.binary(max_size=200)))
def test_line_reader_never_crashes_and_counts_lf_only(content):
    lines = _only_our_errors(lambda: read_lines(_file(content), allow_empty_lines=True))
    if lines is not None and isinstance(content, str):
        body = content.removeprefix("\ufeff")
        assert len(lines) == len(text_lines(body))


@FAST
@given(st.one_of(lines_text, nasty_text, st.binary(max_size=120)))
def test_alignment_readers_never_crash(content):
    path = _file(content)
    for reader in (read_pharaoh, read_gold_alignment, read_src_tgt):
        _only_our_errors(reader, path)


@FAST
@given(
    st.one_of(
        nasty_text,
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
            lambda inner: st.one_of(
                st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=5)
            ),
            max_leaves=12,
        ).map(json.dumps),
        st.fixed_dictionaries(
            {
                "id": st.one_of(st.integers(), st.text(max_size=4)),
                "source_tokens": st.lists(st.text(max_size=4), max_size=4),
                "target_tokens": st.lists(st.text(max_size=4), max_size=4),
                "links": st.lists(st.tuples(st.integers(-2, 5), st.integers(-2, 5)), max_size=4),
                "spans": st.lists(
                    st.fixed_dictionaries(
                        {
                            "start": st.integers(-2, 6),
                            "end": st.integers(-2, 6),
                            "label": labels,
                            "source_start": st.integers(-2, 6),
                            "source_end": st.integers(-2, 6),
                            "method": st.just("m"),
                            "score": st.one_of(st.floats(), st.text(max_size=3)),
                        }
                    ),
                    max_size=3,
                ),
            }
        ).map(json.dumps),
    )
)
def test_projection_jsonl_reader_never_crashes(content):
    _only_our_errors(read_projections_jsonl, _file(content))


# ------------------------------------------------------------------ writers round-trip

token = st.text(text_chars.filter(lambda c: c not in "\n"), min_size=1, max_size=12)
sentence = st.lists(st.tuples(token, tag), min_size=1, max_size=8).map(
    lambda pairs: Sentence([t for t, _ in pairs], repair_iob2([g for _, g in pairs])[0])
)


@FAST
@given(st.lists(sentence, min_size=1, max_size=5))
def test_conll_written_is_read_back_or_refused(sentences):
    try:
        text = format_conll(sentences)
    except XnerError:
        return  # a token CoNLL cannot hold: refused with the sentence and token named
    back = parse_conll(text, "roundtrip.conll", fmt="conll")
    assert [s.tokens for s in back] == [[nfc(t) for t in s.tokens] for s in sentences]
    assert [s.tags for s in back] == [s.tags for s in sentences]


# ------------------------------------------------------------------ tags

any_tag = st.one_of(tag, st.text(max_size=6))


@FAST
@given(st.lists(tag, max_size=30))
def test_repaired_tags_round_trip_through_spans(tags):
    repaired, count = repair_iob2(tags)
    assert len(repaired) == len(tags)
    assert count == sum(a != b for a, b in zip(tags, repaired))
    assert all(is_valid_tag(t) for t in repaired)
    assert repair_iob2(repaired) == (repaired, 0)  # idempotent
    assert spans_to_tags(tags_to_spans(repaired), len(repaired)) == repaired


@FAST
@given(st.lists(any_tag, max_size=20))
def test_tag_repair_never_crashes_on_any_strings(tags):
    repaired, _ = repair_iob2(tags)
    assert len(repaired) == len(tags)


# ------------------------------------------------------------------ projectors


@st.composite
def projection_case(draw):
    n_source = draw(st.integers(1, 8))
    n_target = draw(st.integers(0, 8))
    source_tags = repair_iob2(draw(st.lists(tag, min_size=n_source, max_size=n_source)))[0]
    # links mostly inside the pair, some pointing past either end (a bad alignment file)
    inside = st.tuples(st.integers(0, n_source - 1), st.integers(0, max(n_target - 1, 0)))
    outside = st.tuples(st.integers(0, n_source + 3), st.integers(0, n_target + 3))
    links = draw(st.frozensets(st.one_of(inside, inside, outside), max_size=12))
    candidates = draw(
        st.one_of(
            st.none(),
            st.lists(
                st.builds(
                    lambda a, b, label: Span(min(a, b), max(a, b) + 1, label),
                    st.integers(0, max(n_target - 1, 0)),
                    st.integers(0, max(n_target - 1, 0)),
                    labels,
                ),
                max_size=4,
            ),
        )
    )
    if n_target == 0:
        candidates = None
    tokens = draw(st.lists(token, min_size=n_source + n_target, max_size=n_source + n_target))
    return source_tags, tokens[:n_source], tokens[n_source:], Alignment(links), candidates


@pytest.mark.parametrize("method", ["heuristic", "candidates-greedy", "candidates-ilp"])
@FAST
@given(case=projection_case())
def test_projectors_give_spans_inside_the_target(method, case):
    from core.projection.base import get_projector

    source_tags, source_tokens, target_tokens, alignment, candidates = case
    source_spans = tags_to_spans(source_tags)
    projected = _only_our_errors(
        get_projector(method).project,
        source_spans,
        source_tokens,
        target_tokens,
        alignment,
        candidates,
    )
    for p in projected or []:
        assert 0 <= p.span.start < p.span.end <= len(target_tokens)
        assert p.source in source_spans and p.span.label == p.source.label
    if method.startswith("candidates") and projected:  # one target span per source entity
        assert len({p.source for p in projected}) == len(projected)
