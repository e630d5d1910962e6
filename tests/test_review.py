"""The review queue's actions (what each key does), on a real correction store."""

from __future__ import annotations

from core.data.types import Span
from core.workbench.corrections import CorrectionStore
from core.workbench.review import Queue, Shown, handle, progress

TOKENS = ["Ana", "visitou", "Nova", "York", "com", "Rui"]
PROJECTED = ["B-PER", "O", "B-LOC", "I-LOC", "O", "B-PER"]


def _setup(tmp_path):
    store = CorrectionStore(tmp_path / "c.sqlite")
    return store, Shown("s1", TOKENS, PROJECTED, "heuristic")


def test_a_flagged_sentence_reviewed_key_by_key(tmp_path):
    store, s = _setup(tmp_path)
    queue = Queue(["s0", "s1", "s2", "s3"], flagged={"s1", "s3"})
    out = handle(store, s, {"action": "accept", "start": 0, "end": 1}, user="ana", queue=queue)
    assert out.message == "Accepted PER 'Ana' (token 0)"
    out = handle(store, s, {"action": "reject", "start": 5, "end": 6}, user="ana", queue=queue)
    assert out.message == "Rejected (removed) PER 'Rui' (token 5)"
    assert store.current("s1")[5] == "O"
    # Relabel a range: "visitou Nova York" becomes ORG, overwriting LOC "Nova York".
    out = handle(store, s, {"action": "label", "start": 1, "end": 4, "label": "ORG"}, user="ana")
    assert out.kind == "warning" and "overwrote LOC 'Nova York' (tokens 2-3)" in out.message
    assert out.message.startswith("Saved: set ORG on tokens 1-3 — version 2: 'visitou Nova York'")
    assert store.current("s1")[1:4] == ["B-ORG", "I-ORG", "I-ORG"]
    handle(store, s, {"action": "undo"}, user="ana")
    assert store.current("s1")[1:4] == ["O", "B-LOC", "I-LOC"]
    handle(store, s, {"action": "redo"}, user="ana")
    assert store.current("s1")[1:4] == ["B-ORG", "I-ORG", "I-ORG"]
    plain = handle(store, s, {"action": "label", "start": 1, "end": 4, "label": "MISC"}, user="a")
    assert plain.kind == "success"  # relabelling exactly one entity is no surprise
    # Every entity decided: Enter accepts the rest (none), marks reviewed, moves on.
    out = handle(store, s, {"action": "accept_rest"}, user="ana", queue=queue)
    assert out.goto == "s2" and store.review_state("s1") == "reviewed"
    assert progress(queue.ids, store.reviews()) == "1 of 4 reviewed"
    assert store.decisions("s1")[Span(5, 6, "PER")] == "rejected"


def test_a_label_that_cuts_another_entity_says_so_and_offers_to_keep_it(tmp_path):
    store, s = _setup(tmp_path)
    out = handle(store, s, {"action": "label", "start": 2, "end": 3, "label": "PER"}, user="a")
    assert "cut LOC 'Nova York' (tokens 2-3)" in out.message
    assert "press K to keep LOC 'York' (token 3)" in out.message
    assert store.current("s1")[2:4] == ["B-PER", "O"]
    out = handle(store, s, out.offer, user="a")
    assert out.message == "Kept LOC 'York' (token 3)"
    assert store.current("s1")[2:4] == ["B-PER", "B-LOC"]


def test_accept_without_a_cursor_takes_the_first_undecided_entity(tmp_path):
    store, s = _setup(tmp_path)
    assert "PER 'Ana'" in handle(store, s, {"action": "accept"}, user="a").message
    assert "LOC 'Nova York'" in handle(store, s, {"action": "accept"}, user="a").message
    out = handle(store, s, {"action": "accept"}, user="a")
    assert "sentence reviewed" in out.message and store.review_state("s1") == "reviewed"
    assert handle(store, s, {"action": "accept"}, user="a").kind == "info"


def test_navigation_skip_and_mistakes(tmp_path):
    store, s = _setup(tmp_path)
    queue = Queue(["s0", "s1", "s2", "s3"], flagged={"s1", "s3"})
    assert handle(store, s, {"action": "next"}, user="a", queue=queue).goto == "s3"
    assert handle(store, s, {"action": "prev"}, user="a", queue=queue).goto == "s3"
    alone = Queue(["s1"], flagged={"s1"})
    assert handle(store, s, {"action": "next"}, user="a", queue=alone).goto is None
    out = handle(store, s, {"action": "skip"}, user="a", queue=queue)
    assert out.goto == "s2" and store.reviews() == {"s1": "skipped"}
    assert progress(queue.ids, store.reviews()) == "0 of 4 reviewed · 1 skipped"
    assert "select one or more" in handle(store, s, {"action": "label"}, user="a").message
    assert handle(store, s, {"action": "undo"}, user="a").message.startswith("Nothing to undo")
    assert handle(store, s, {"action": "fly"}, user="a").message.startswith("Unknown action")
    bad = {"action": "label", "start": 0, "end": 99, "label": "PER"}
    assert "outside a sentence" in handle(store, s, bad, user="a").message
