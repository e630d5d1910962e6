"""The correction store: labels set/changed/removed, history, undo, restarts, two writers."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from core.data.formats import read_conll
from core.data.types import Alignment, ProjectedSpan, Projection, Sentence, SentencePair, Span
from core.workbench.corrections import (
    REMOVE,
    ConflictError,
    CorrectionStore,
    apply_label,
    corrected_sentences,
    export_conll,
)

PROJECTED = ["O", "B-LOC", "I-LOC", "O", "O"]  # "o Rio de Janeiro ." style


def test_apply_label_set_replaces_overlapping_entities():
    assert apply_label(PROJECTED, 2, 3, "LOC") == ["O", "O", "B-LOC", "O", "O"]
    assert apply_label(PROJECTED, 0, 3, "ORG") == ["B-ORG", "I-ORG", "I-ORG", "O", "O"]
    assert apply_label(PROJECTED, 3, 5, "PER") == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_apply_label_remove_keeps_the_unselected_rest():
    assert apply_label(PROJECTED, 1, 2, REMOVE) == ["O", "O", "B-LOC", "O", "O"]
    assert apply_label(["B-PER", "I-PER", "I-PER"], 1, 2, REMOVE) == ["B-PER", "O", "B-PER"]
    assert apply_label(PROJECTED, 0, 5, REMOVE) == ["O"] * 5


@pytest.mark.parametrize("bad", [(0, 9, "PER"), (3, 3, "PER"), (-1, 2, "PER"), (0, 1, "B-PER")])
def test_apply_label_rejects_bad_ranges_and_labels(bad):
    with pytest.raises(ValueError):
        apply_label(PROJECTED, *bad)


def test_set_change_remove_with_history(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    assert store.current("s1") is None and store.version("s1") == 0
    e1 = store.set_label("s1", 2, 4, "LOC", projected=PROJECTED, user="ana", method="heuristic")
    assert e1.version == 1 and e1.before == PROJECTED and e1.projected == PROJECTED
    assert store.current("s1") == ["O", "O", "B-LOC", "I-LOC", "O"]
    store.set_label("s1", 2, 4, "ORG", projected=PROJECTED, user="rui")
    store.remove_label("s1", 2, 3, projected=PROJECTED, user="rui")
    assert store.current("s1") == ["O", "O", "O", "B-ORG", "O"]
    history = store.history("s1")
    assert [e.action for e in history] == ["remove", "set", "set"]
    assert [e.user for e in history] == ["rui", "rui", "ana"]
    assert history[-1].method == "heuristic" and history[-1].at.endswith("+00:00")
    assert store.corrected_ids() == {"s1"}


def test_undo_is_a_stack_and_keeps_history(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    store.set_label("s1", 2, 4, "LOC", projected=PROJECTED, user="a")
    store.set_label("s1", 0, 1, "PER", projected=PROJECTED, user="a")
    undo = store.undo("s1", user="a")
    assert undo is not None and undo.action == "undo"
    assert store.current("s1") == ["O", "O", "B-LOC", "I-LOC", "O"]
    store.undo("s1", user="a")
    assert store.current("s1") == PROJECTED  # back to the projection
    assert store.undo("s1", user="a") is None  # nothing left to undo
    assert store.corrected_ids() == set()
    assert len(store.history("s1")) == 4  # two edits + two undos, none deleted
    assert all(e.undone for e in store.history("s1") if e.action != "undo")


def test_corrections_survive_a_restart_and_a_killed_writer(tmp_path):
    path = tmp_path / "c.sqlite"
    store = CorrectionStore(path)
    store.set_label("7", 0, 1, "PER", projected=["O", "O"], user="a")
    del store
    # A process that dies right after its correction returns: the commit must be on disk.
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_write_and_die, args=(str(path),))
    child.start()
    child.join(30)
    assert child.exitcode == 9
    reopened = CorrectionStore(path)
    assert reopened.current("7") == ["B-PER", "O"]
    assert reopened.current("8") == ["O", "B-LOC"]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _write_and_die(path: str) -> None:
    import os

    CorrectionStore(path).set_label("8", 1, 2, "LOC", projected=["O", "O"], user="b")
    os._exit(9)  # no clean shutdown, no checkpoint


def test_two_tabs_on_one_sentence_lose_nothing(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    tags = ["O"] * 6
    seen_by_tab1 = seen_by_tab2 = store.version("s")  # both tabs open the sentence at version 0
    store.set_label("s", 0, 2, "PER", projected=tags, user="tab1", expected_version=seen_by_tab1)
    # Tab 2 edits other tokens: applied on top of tab 1's change, both survive.
    edit = store.set_label(
        "s", 4, 5, "LOC", projected=tags, user="tab2", expected_version=seen_by_tab2
    )
    assert edit.merged
    assert store.current("s") == ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    # Tab 2 then edits the tokens tab 1 changed, still from its stale view: refused, clearly.
    with pytest.raises(ConflictError, match="changed by tab1.*NOT saved"):
        store.set_label(
            "s", 1, 2, "ORG", projected=tags, user="tab2", expected_version=seen_by_tab2
        )
    assert store.current("s") == ["B-PER", "I-PER", "O", "O", "B-LOC", "O"]
    # After reloading (fresh version) the same change goes through.
    store.set_label(
        "s", 1, 2, "ORG", projected=tags, user="tab2", expected_version=store.version("s")
    )
    assert store.current("s")[:2] == ["O", "B-ORG"]  # set replaces the overlapped entity
    with pytest.raises(ConflictError, match="nothing was undone"):
        store.undo("s", user="tab1", expected_version=1)


def test_concurrent_writers_get_distinct_versions(tmp_path):
    path = str(tmp_path / "c.sqlite")
    CorrectionStore(path)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_label_token, args=(path, k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert all(p.exitcode == 0 for p in procs)
    store = CorrectionStore(path)
    assert sorted(e.version for e in store.history("s")) == [1, 2, 3, 4]
    assert store.current("s") == ["B-PER"] * 4


def _label_token(path: str, k: int) -> None:
    CorrectionStore(path).set_label("s", k, k + 1, "PER", projected=["O"] * 4, user=f"w{k}")


def _projection(sid: str, tokens: list[str], spans: list[Span]) -> Projection:
    pair = SentencePair(
        Sentence(["A", "B"], ["B-PER", "O"], id=sid),
        Sentence(tokens, None, id=sid, lang="pt"),
        Alignment(frozenset({(0, 0)})),
        id=sid,
    )
    return Projection(
        pair, [ProjectedSpan(s, Span(0, 1, s.label), "heuristic") for s in spans], "heuristic"
    )


def test_export_merges_corrections_over_projections_atomically(tmp_path):
    projections = [
        _projection("0", ["Ana", "vive"], [Span(0, 1, "PER")]),
        _projection("1", ["o", "Rui"], [Span(0, 2, "PER")]),
    ]
    store = CorrectionStore(tmp_path / "c.sqlite")
    store.set_label("1", 1, 2, "PER", projected=["B-PER", "I-PER"], user="a")
    out = tmp_path / "out" / "corrected.conll"
    assert export_conll(out, projections, store) == 2
    sentences = read_conll(out)
    assert [s.tags for s in sentences] == [["B-PER", "O"], ["O", "B-PER"]]
    assert export_conll(out, projections, store, only_corrected=True) == 1
    assert [s.tokens for s in read_conll(out)] == [["o", "Rui"]]
    assert not list(out.parent.glob("*.tmp"))


def test_corrected_sentences_rejects_tags_of_the_wrong_length():
    with pytest.raises(ValueError, match="2 tokens"):
        corrected_sentences([_projection("0", ["a", "b"], [])], {"0": ["O"]})
