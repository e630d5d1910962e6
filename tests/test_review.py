"""The review queue's actions (what each key does), on a real correction store."""

from __future__ import annotations

import pytest

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
    assert store.decisions("s1")[Span(1, 4, "ORG")] == "accepted"  # a label set is accepted
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


# ---------------------------------------------------------------------- teacher uncertainty


def _tiny_tagger(project, folder):
    """A tagger trained for seconds on the project's projected target sentences."""
    from core.training import train_direct
    from tests.test_taggers import SMALL

    view = project.projections(project.view_keys[0])
    model, _ = train_direct([p.labelled_target() for p in view], tagger_params=SMALL, epochs=2)
    model.save(folder)
    return folder


def test_teacher_uncertainty_orders_the_queue_and_says_why(tmp_path, monkeypatch):
    import core.taggers.base as taggers
    from core.runs.store import RunStore
    from core.workbench.explorer import (
        TEACHER_SIGNAL,
        Thresholds,
        flag_counts,
        flag_names,
        ordered,
        reasons,
        sentence_rows,
        suspicion,
    )
    from core.workbench.review import find_teacher, teacher_scores
    from tests.app_support import build_demo

    project = build_demo(tmp_path / "home")
    model = _tiny_tagger(project, tmp_path / "model")
    runs = RunStore(tmp_path / "runs")
    for lang, status in (("pt", "succeeded"), ("yor", "succeeded"), ("pt", "failed")):
        run = runs.create("train", {"lang": lang, "mode": "direct"}, name=f"{lang}-{status}")
        runs.update(run.id, status=status, artifacts={"model": str(model)}, metrics={"f1": 0.5})
    teacher = find_teacher(project, runs.list())
    assert teacher is not None and teacher.name == "pt-succeeded" and teacher.path == str(model)
    assert find_teacher(project, [r for r in runs.list() if r.name != "pt-succeeded"]) is None

    view = project.projections(project.view_keys[0])
    sentences = [(p.pair.id, p.pair.target.tokens) for p in view]
    cache = tmp_path / "cache"
    scores = teacher_scores(teacher.path, sentences, cache)
    assert set(scores) == {p.pair.id for p in view}
    assert all(0.0 <= e <= 1.0 for s in scores.values() for e in s.entropy)
    assert all(len(scores[p.pair.id].predicted) == len(p.pair.target.tokens) for p in view)

    # The second call reads the cache: the model is not even loaded.
    def refuse(path):
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(taggers, "load_tagger", refuse)
    assert teacher_scores(teacher.path, sentences, cache) == scores
    changed = [(sentences[0][0], [*sentences[0][1][:-1], "outro"]), *sentences[1:]]
    with pytest.raises(AssertionError, match="loaded again"):  # new content: scored anew
        teacher_scores(teacher.path, changed, cache)
    monkeypatch.undo()

    # The signal: a named flag with its number in the reasons, part of the suspicion order.
    th = Thresholds(max_uncertainty=0.0)
    assert flag_names(teacher=True)[-1] == TEACHER_SIGNAL
    assert flag_counts(view, th=th, teacher=scores)[TEACHER_SIGNAL] > 0
    rows = ordered(sentence_rows(view, th=th, teacher=scores), "suspicion")
    top = view[rows[0].index]
    score = scores[top.pair.id]
    why = [r for r in reasons(top, None, th, score) if r.flag == TEACHER_SIGNAL]
    assert why and why[0].text.startswith(f"{TEACHER_SIGNAL} {score.uncertainty:.2f}:")
    assert rows[0].uncertainty == score.uncertainty and TEACHER_SIGNAL in rows[0].flags
    for row in rows:
        p = view[row.index]
        without = suspicion(p, None, th)
        assert (
            row.suspicion == pytest.approx(without + 1 + scores[p.pair.id].points(p.target_tags()))
            or TEACHER_SIGNAL not in row.flags
        )
    assert [r.suspicion for r in rows] == sorted((r.suspicion for r in rows), reverse=True)
    plain = ordered(sentence_rows(view, th=th), "suspicion")
    assert [r.id for r in plain] != [r.id for r in rows]  # the signal changes the order
