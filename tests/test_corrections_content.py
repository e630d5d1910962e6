"""Corrections that follow their sentence by content, redo, whole-sentence imports, review state,
and edits that cut another entity."""

from __future__ import annotations

import sqlite3

import pytest

from core.data.types import Span
from core.workbench.corrections import (
    CorrectionStore,
    affected,
    apply_label,
    content_key,
)

NOVA_YORK = ["ela", "mora", "em", "Nova", "York"]
LOC = ["O", "O", "O", "B-LOC", "I-LOC"]


def test_a_label_on_part_of_another_entity_is_reported_and_can_keep_the_rest():
    cut = affected(LOC, 3, 4, "PER")
    assert [a.describe(NOVA_YORK) for a in cut] == ["LOC 'Nova York' (tokens 3-4)"]
    assert cut[0].kept == (Span(4, 5, "LOC"),)
    assert apply_label(LOC, 3, 4, "PER") == ["O", "O", "O", "B-PER", "O"]
    assert apply_label(LOC, 3, 4, "PER", keep_rest=True) == ["O", "O", "O", "B-PER", "B-LOC"]
    # Resizing an entity of the same type is the ordinary edit: nothing reported.
    assert affected(LOC, 3, 4, "LOC") == []
    assert affected(LOC, 0, 2, "PER") == []


def test_redo_reapplies_what_undo_reverted_until_a_new_edit(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    tags = ["O"] * 4
    store.set_label("s", 0, 1, "PER", projected=tags, user="a")
    store.set_label("s", 2, 4, "LOC", projected=tags, user="a")
    assert not store.can_redo("s")
    store.undo("s", user="a")
    store.undo("s", user="a")
    assert store.current("s") == tags
    assert store.redo("s", user="a").action == "redo"
    assert store.current("s") == ["B-PER", "O", "O", "O"]
    store.undo("s", user="a")  # undoes the redo
    assert store.current("s") == tags
    store.redo("s", user="a")
    store.redo("s", user="a")
    assert store.current("s") == ["B-PER", "O", "B-LOC", "I-LOC"]
    assert store.redo("s", user="a") is None
    store.undo("s", user="a")
    store.set_label("s", 1, 2, "ORG", projected=tags, user="a")  # a new edit ends the redo line
    assert not store.can_redo("s") and store.redo("s", user="a") is None
    assert store.corrected_ids() == {"s"}


def test_set_tags_imports_a_whole_sentence_and_skips_unchanged(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    projected = ["B-PER", "O", "O"]
    assert store.set_tags("s", projected, projected=projected, user="a") is None
    edit = store.set_tags("s", ["O", "I-LOC", "O"], projected=projected, user="a")
    assert edit.action == "import" and store.current("s") == ["O", "B-LOC", "O"]
    with pytest.raises(ValueError, match="2 tags for 3 tokens"):
        store.set_tags("s", ["O", "O"], projected=projected, user="a")


def test_review_state_and_entity_decisions(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    assert store.review_state("s") == "unreviewed"
    store.set_review("s", "reviewed", user="a")
    store.set_review("t", "skipped", user="a")
    assert store.reviews() == {"s": "reviewed", "t": "skipped"}
    store.set_review("t", "unreviewed", user="a")
    assert store.reviews() == {"s": "reviewed"}
    store.decide("s", Span(0, 1, "PER"), "accepted", user="a")
    store.decide("s", Span(0, 1, "PER"), "rejected", user="b")
    assert store.decisions("s") == {Span(0, 1, "PER"): "rejected"}
    with pytest.raises(ValueError, match="review state"):
        store.set_review("s", "done", user="a")


def _keyed(path, sentences):
    return CorrectionStore(path, contents={sid: content_key(t) for sid, t in sentences})


def test_swapped_sentences_keep_their_own_corrections(tmp_path):
    first = [("0", ["Ana", "vive"]), ("1", ["Rui", "mora"])]
    store = _keyed(tmp_path / "c.sqlite", first)
    store.set_label("0", 0, 1, "PER", projected=["O", "O"], user="a")
    store.set_review("0", "reviewed", user="a")
    swapped = [("0", ["Rui", "mora"]), ("1", ["Ana", "vive"])]  # equal lengths, new order
    report = CorrectionStore(tmp_path / "c.sqlite").reconcile(swapped)
    assert report.moved == {"0": "1"} and not report.orphaned
    assert store.current("1") == ["B-PER", "O"] and store.current("0") is None
    assert store.reviews() == {"1": "reviewed"}


def test_two_corrected_sentences_trading_places(tmp_path):
    first = [("0", ["a", "b"]), ("1", ["c", "d", "e"])]
    store = _keyed(tmp_path / "c.sqlite", first)
    store.set_label("0", 0, 1, "PER", projected=["O"] * 2, user="a")
    store.set_label("1", 2, 3, "LOC", projected=["O"] * 3, user="a")
    report = store.reconcile([("0", ["c", "d", "e"]), ("1", ["a", "b"])])
    assert report.moved == {"0": "1", "1": "0"}
    assert store.current("0") == ["O", "O", "B-LOC"] and store.current("1") == ["B-PER", "O"]


def test_corrections_of_removed_sentences_are_set_aside_and_reported(tmp_path):
    first = [("0", ["a", "b"]), ("1", ["c", "d"])]
    store = _keyed(tmp_path / "c.sqlite", first)
    store.set_label("0", 0, 1, "PER", projected=["O"] * 2, user="a")
    store.set_label("1", 0, 1, "ORG", projected=["O"] * 2, user="a")
    report = store.reconcile([("0", ["a", "b"]), ("1", ["c", "X", "Y"])])
    assert report.kept == ["0"] and report.orphaned == [("1", 1)]
    assert "set aside" in report.describe() and "1" in report.describe()
    assert store.current("1") is None and store.corrected_ids() == {"0"}
    assert [e.sentence_id for e in store.orphaned()] == ["1"]


def test_duplicate_sentences_keep_their_id_first(tmp_path):
    same = ["o", "mesmo"]
    store = _keyed(tmp_path / "c.sqlite", [("0", same), ("1", same)])
    store.set_label("1", 0, 1, "PER", projected=["O"] * 2, user="a")
    store.reconcile([("0", same), ("1", same), ("2", ["x"])])
    assert store.corrected_ids() == {"1"}


def test_a_store_from_before_content_keys_is_migrated(tmp_path):
    path = tmp_path / "c.sqlite"
    with sqlite3.connect(path) as db:  # the old schema: no content column
        db.executescript(
            "CREATE TABLE edits (id INTEGER PRIMARY KEY AUTOINCREMENT, sentence_id TEXT NOT NULL,"
            " version INTEGER NOT NULL, action TEXT NOT NULL, start INTEGER, end INTEGER, "
            "label TEXT, user TEXT NOT NULL, at TEXT NOT NULL, before TEXT NOT NULL, after TEXT "
            "NOT NULL, method TEXT NOT NULL DEFAULT '', projected TEXT, undoes INTEGER, undone "
            "INTEGER NOT NULL DEFAULT 0, UNIQUE (sentence_id, version));"
            "INSERT INTO edits (sentence_id, version, action, start, end, label, user, at, "
            "before, after) VALUES ('0', 1, 'set', 0, 1, 'PER', 'a', 'x', '[\"O\",\"O\"]', "
            "'[\"B-PER\",\"O\"]'), ('1', 1, 'set', 0, 1, 'PER', 'a', 'x', '[\"O\"]', '[\"B-PER\"]');"
        )
    store = CorrectionStore(path)
    assert store.needs_migration()
    report = store.reconcile([("0", ["a", "b"]), ("1", ["c", "d"])])  # "1" no longer fits
    assert report.migrated == 1 and report.orphaned == [("1", 1)]
    assert not store.needs_migration() and store.current("0") == ["B-PER", "O"]


def _projections(targets: list[list[str]]):
    from core.data.types import Alignment, Projection, Sentence, SentencePair

    out = []
    for n, tokens in enumerate(targets):
        pair = SentencePair(
            Sentence(["X"] * len(tokens), ["O"] * len(tokens), id=str(n)),
            Sentence(tokens, None, id=str(n)),
            Alignment(frozenset()),
            id=str(n),
        )
        out.append(Projection(pair, [], "given"))
    return out


def test_replacing_a_project_keeps_exactly_the_corrections_whose_sentences_remain(tmp_path):
    from core.workbench.workspace import import_projections

    first = [["Ana", "vive"], ["Rui", "mora"], ["sem", "par"]]
    project = import_projections("p", {"given": _projections(first)}, home=tmp_path)
    store = project.corrections
    store.set_label("0", 0, 1, "PER", projected=["O", "O"], user="a")
    store.set_label("2", 0, 1, "ORG", projected=["O", "O"], user="a")
    # Rebuilt with the first two swapped and the third gone: the PER follows "Ana vive".
    second = [["Rui", "mora"], ["Ana", "vive"], ["outra", "frase", "nova"]]
    project = import_projections(
        "p", {"given": _projections(second)}, home=tmp_path, overwrite=True
    )
    assert project.corrections.all_current() == {"1": ["B-PER", "O"]}
    assert project.meta["corrections_orphaned"] == ["2"]
    assert "1 corrected sentences kept" in project.meta["corrections_kept"]
    assert project.export_conll("given").exists()  # lengths fit: no failure
