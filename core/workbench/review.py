"""The review queue: what one key press (or click) of an annotator does, without a UI.

A page turns a key into an event, a dict such as `{"action": "label", "start": 3, "end": 5,
"label": "PER"}`, and calls `handle`; the outcome says what to tell the person and which sentence
to show next. Every change goes to the correction store at once (labels as edits; accept/reject
decisions on projected entities; the sentence's review state).

Actions (the keys the explorer binds them to are in KEYS):
  label        set `label` on tokens [start, end); says which other entity it cut or overwrote
               and offers `keep` (their parts outside the selection) in the outcome
  remove       clear the labels of tokens [start, end)
  keep         put back `spans` ([[start, end, label], ...]) that a label edit cut
  accept       accept the entity [start, end) `label` (or the first one not yet decided)
  reject       remove that entity and record the rejection
  accept_rest  accept every entity not yet decided; the sentence is reviewed; go to the next one
  skip         mark the sentence skipped; go to the next one
  next / prev  go to the next / previous flagged sentence of the queue
  undo / redo  undo or redo the sentence's last change
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.data.formats import atomic_write
from core.data.tags import tags_to_spans
from core.data.types import Span
from core.workbench.corrections import (
    REMOVE,
    ConflictError,
    CorrectionStore,
    affected,
    describe_span,
)
from core.workbench.explorer import TeacherScore

KEYS = {
    "1-9": "set label 1-9 on the selection",
    "Delete / Backspace": "remove the labels of the selection",
    "a": "accept the entity at the cursor",
    "r": "reject (remove) the entity at the cursor",
    "Enter": "accept all remaining entities; sentence reviewed; next sentence",
    "s": "skip the sentence",
    "n / p": "next / previous flagged sentence",
    "k": "keep what the last edit cut",
    "Ctrl+Z / Ctrl+Shift+Z": "undo / redo",
    "← → (Shift: extend)": "move the cursor / select a range; or click, shift-click, drag",
}
ACTIONS = (
    "label",
    "remove",
    "keep",
    "accept",
    "reject",
    "accept_rest",
    "skip",
    "next",
    "prev",
    "undo",
    "redo",
)


@dataclass
class Shown:
    """The sentence on screen, as the page knows it."""

    id: str
    tokens: list[str]
    projected: list[str]  # the view's projected tags (what a first edit starts from)
    method: str = ""  # the view, recorded with edits
    seen_version: int | None = None  # the store version the person was looking at


@dataclass
class Outcome:
    kind: str  # success | info | warning | error
    message: str
    goto: str | None = None  # the sentence to show next, when it changes
    offer: dict | None = None  # a follow-up action the person can take (the `keep` event)
    changed: bool = False
    requeue: bool = False  # the sentence's review state changed: the queue's list is stale


@dataclass
class Queue:
    """The sentences being reviewed, in queue order, and which of them are flagged."""

    ids: list[str]
    flagged: set[str] = field(default_factory=set)

    def step(self, current: str, direction: int, flagged_only: bool = True) -> str | None:
        """The next (1) or previous (-1) sentence after `current`, wrapping around."""
        if not self.ids:
            return None
        start = self.ids.index(current) if current in self.ids else -direction
        n = len(self.ids)
        for k in range(1, n + 1):
            candidate = self.ids[(start + direction * k) % n]
            if candidate != current and (not flagged_only or candidate in self.flagged):
                return candidate
        return None

    def next_unreviewed(self, current: str, reviews: Mapping[str, str]) -> str | None:
        if not self.ids:
            return None
        start = self.ids.index(current) if current in self.ids else -1
        n = len(self.ids)
        for k in range(1, n + 1):
            candidate = self.ids[(start + k) % n]
            if candidate != current and candidate not in reviews:
                return candidate
        return None


def progress(ids: Sequence[str], reviews: Mapping[str, str]) -> str:
    """E.g. `42 of 310 reviewed · 3 skipped`."""
    reviewed = sum(reviews.get(i) == "reviewed" for i in ids)
    skipped = sum(reviews.get(i) == "skipped" for i in ids)
    text = f"{reviewed} of {len(ids)} reviewed"
    return text + (f" · {skipped} skipped" if skipped else "")


def _span(event: Mapping) -> Span:
    try:
        start, end = int(event["start"]), int(event["end"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("select one or more adjacent target tokens first") from None
    return Span(start, end, str(event.get("label") or "X"))


def current_tags(store: CorrectionStore, s: Shown) -> list[str]:
    return store.tags_for(s.id, s.projected)


def _entity(store: CorrectionStore, s: Shown, event: Mapping) -> Span | None:
    """The entity an accept/reject means: the one given, else the first one not yet decided."""
    spans = tags_to_spans(current_tags(store, s))
    if "start" in event and "end" in event:
        wanted = _span(event)
        for span in spans:
            if span.start <= wanted.start < span.end or wanted.start <= span.start < wanted.end:
                return span
        return None
    decided = store.decisions(s.id)
    return next((span for span in spans if span not in decided), None)


def _mark_if_done(store: CorrectionStore, s: Shown, user: str) -> bool:
    decided = store.decisions(s.id)
    if all(span in decided for span in tags_to_spans(current_tags(store, s))):
        store.set_review(s.id, "reviewed", user=user)
        return True
    return False


def handle(
    store: CorrectionStore,
    s: Shown,
    event: Mapping,
    *,
    user: str,
    queue: Queue | None = None,
) -> Outcome:
    """Apply one annotator action to sentence `s`; never raises for a person's mistake."""
    action = event.get("action")
    queue = queue or Queue([s.id])
    try:
        if action in ("label", "remove"):
            return _label(store, s, event, user, REMOVE if action == "remove" else None)
        if action == "keep":
            kept = [Span(int(a), int(b), str(label)) for a, b, label in event.get("spans", [])]
            for span in kept:
                store.set_label(
                    s.id,
                    span.start,
                    span.end,
                    span.label,
                    projected=s.projected,
                    user=user,
                    method=s.method,
                )
            return Outcome(
                "success",
                "Kept " + ", ".join(describe_span(k, s.tokens) for k in kept),
                changed=True,
            )
        if action in ("accept", "reject"):
            span = _entity(store, s, event)
            if span is None:
                return Outcome("info", "No entity left to decide in this sentence.")
            if action == "reject":
                store.remove_label(
                    s.id,
                    span.start,
                    span.end,
                    projected=s.projected,
                    user=user,
                    method=s.method,
                )
            store.decide(s.id, span, "rejected" if action == "reject" else "accepted", user=user)
            done = _mark_if_done(store, s, user)
            verb = "Rejected (removed)" if action == "reject" else "Accepted"
            note = " · sentence reviewed" if done else ""
            return Outcome(
                "success",
                f"{verb} {describe_span(span, s.tokens)}{note}",
                changed=True,
                requeue=done,
            )
        if action == "accept_rest":
            decided = store.decisions(s.id)
            rest = [sp for sp in tags_to_spans(current_tags(store, s)) if sp not in decided]
            for span in rest:
                store.decide(s.id, span, "accepted", user=user)
            store.set_review(s.id, "reviewed", user=user)
            goto = queue.next_unreviewed(s.id, store.reviews())
            return Outcome(
                "success",
                f"Accepted {len(rest)} remaining entit{'y' if len(rest) == 1 else 'ies'}; "
                f"sentence {s.id} reviewed",
                goto=goto,
                changed=True,
                requeue=True,
            )
        if action == "skip":
            store.set_review(s.id, "skipped", user=user)
            return Outcome(
                "info",
                f"Sentence {s.id} skipped",
                goto=queue.next_unreviewed(s.id, store.reviews()),
                changed=True,
                requeue=True,
            )
        if action in ("next", "prev"):
            goto = queue.step(s.id, 1 if action == "next" else -1, flagged_only=True)
            if goto is None:
                return Outcome("info", "No other flagged sentence in the list.")
            return Outcome("info", f"Flagged sentence {goto}", goto=goto)
        if action == "undo":
            edit = store.undo(s.id, user=user)
            if edit is None:
                return Outcome("info", "Nothing to undo for this sentence.")
            return Outcome("success", f"Undone: edit #{edit.undoes}", changed=True)
        if action == "redo":
            edit = store.redo(s.id, user=user)
            if edit is None:
                return Outcome("info", "Nothing to redo for this sentence.")
            return Outcome("success", f"Redone: {edit.describe()}", changed=True)
    except ConflictError as exc:
        return Outcome("error", str(exc))
    except ValueError as exc:
        return Outcome("warning", f"Not saved: {exc}")
    return Outcome("warning", f"Unknown action {action!r}; known: {', '.join(ACTIONS)}")


def _label(
    store: CorrectionStore, s: Shown, event: Mapping, user: str, remove: str | None
) -> Outcome:
    selection = _span(event)
    label = remove or str(event.get("label") or "")
    before = current_tags(store, s)
    cut = affected(before, selection.start, selection.end, label) if not remove else []
    edit = store.set_label(
        s.id,
        selection.start,
        selection.end,
        label,
        projected=s.projected,
        user=user,
        method=s.method,
        expected_version=s.seen_version,
        decision=None if remove else "accepted",  # a label a person set is accepted (one write)
    )
    words = " ".join(s.tokens[selection.start : selection.end])
    message = f"Saved: {edit.describe()} — version {edit.version}: '{words}'"
    if edit.merged:
        message += " (merged with a newer change made elsewhere)"
    offer = None
    if cut:
        message += ". This " + "; ".join(
            ("cut " if a.kept else "overwrote ") + a.describe(s.tokens) for a in cut
        )
        kept = [k for a in cut for k in a.kept]
        if kept:
            offer = {
                "action": "keep",
                "spans": [[k.start, k.end, k.label] for k in kept],
                "text": "Keep " + ", ".join(describe_span(k, s.tokens) for k in kept),
            }
            message += ": press K to keep " + ", ".join(describe_span(k, s.tokens) for k in kept)
    return Outcome("warning" if cut else "success", message, offer=offer, changed=True)


# ---------------------------------------------------------------------- teacher uncertainty

TEACHER_CACHE = "cache/teacher"  # in the project folder: one JSON file per (model, content)


@dataclass(frozen=True)
class Teacher:
    """A trained tagger the review queue can ask: a finished training run's saved model."""

    path: str  # the model folder (core.taggers.base.load_tagger)
    run_id: str
    name: str
    lang: str
    f1: float | None = None

    def describe(self) -> str:
        score = f", test F1 {self.f1:.3f}" if self.f1 is not None else ""
        return f"run {self.name} ({self.run_id}, {self.lang}{score})"


def find_teacher(project, runs: Iterable) -> Teacher | None:
    """The tagger to score the project's sentences with: among finished training runs (run
    records, newest first as the registry lists them) with a saved model for the project's
    target language, the newest one the project's own retraining trained on its corrected data,
    else the newest one."""
    from core.taggers.base import resolve_dir
    from core.workbench.retrain import recorded

    lang = str(project.meta.get("target_lang") or "")
    ours = {
        r["id"]
        for entry in recorded(project)
        for r in entry.get("runs", [])
        if r.get("version") == "corrected"
    }
    found: list[Teacher] = []
    for run in runs:
        config = run.config or {}
        metrics = run.metrics if isinstance(run.metrics, dict) else {}
        if run.status != "succeeded" or run.kind != "train" or config.get("lang") != lang:
            continue
        model = (run.artifacts or {}).get("model") or metrics.get("model_path")
        if not model or resolve_dir(model) is None:
            continue
        f1 = metrics.get("f1")
        teacher = Teacher(
            str(model), run.id, run.name, lang, f1 if isinstance(f1, int | float) else None
        )
        if run.id in ours:
            return teacher
        found.append(teacher)
    return found[0] if found else None


def model_fingerprint(path: str | Path) -> str:
    """Changes when the saved model does: its files' names, sizes and modification times."""
    from core.taggers.base import resolve_dir

    folder = resolve_dir(path)
    if folder is None:
        raise ValueError(f"no saved tagger in {path}")
    stats = [
        (str(f.relative_to(folder)), f.stat().st_size, f.stat().st_mtime_ns)
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    ]
    return hashlib.sha256(json.dumps([str(folder.resolve()), stats]).encode()).hexdigest()


def content_fingerprint(sentences: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Changes when any sentence id or target token does."""
    data = json.dumps([[sid, list(tokens)] for sid, tokens in sentences], ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def teacher_scores(
    model: str | Path,
    sentences: Sequence[tuple[str, Sequence[str]]],
    cache: Path | None = None,
) -> dict[str, TeacherScore]:
    """Per sentence id, the tagger's normalised token entropies and best tags for `sentences`
    ((id, target tokens)); read from, else written to, `cache`/<model>-<content>.json."""
    key = f"{model_fingerprint(model)[:16]}-{content_fingerprint(sentences)[:16]}"
    path = cache / f"{key}.json" if cache is not None else None
    if path is not None and path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {
            sid: TeacherScore(tuple(v["entropy"]), tuple(v["predicted"]))
            for sid, v in stored.items()
        }
    import numpy as np

    from core.taggers.base import load_tagger, viterbi_iob2

    tagger = load_tagger(model)
    labels = tagger.labels
    token_lists = [list(tokens) for _, tokens in sentences]
    out: dict[str, TeacherScore] = {}
    for (sid, tokens), probs in zip(sentences, tagger.predict_proba(token_lists)):
        if not len(tokens):
            out[sid] = TeacherScore((), ())
            continue
        p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
        entropy = -(p * np.log(p)).sum(axis=1) / math.log(max(len(labels), 2))
        out[sid] = TeacherScore(
            tuple(round(float(e), 4) for e in np.clip(entropy, 0.0, 1.0)),
            tuple(viterbi_iob2(np.asarray(probs), labels)),
        )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            json.dump(
                {sid: {"entropy": v.entropy, "predicted": v.predicted} for sid, v in out.items()},
                handle,
            )
    return out
