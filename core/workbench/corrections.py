"""Human corrections of projected target labels, kept in SQLite (WAL) with full history and undo.

Every change is one row in `edits`: which sentence, the tags before and after, who and when, and
the projection it overrode (method + the projected tags the person was looking at). A sentence's
current labels are the `after` tags of its newest edit; sentences without edits keep their
projection. Rows are never updated in place except the `undone` mark, so nothing is lost: an undo
is itself a new row that restores the tags before the edit it undoes (a stack: it always undoes
the newest edit still in effect).

Concurrency (two browser tabs, two processes): writes run inside `BEGIN IMMEDIATE`, so versions
are assigned one at a time, and a (sentence, version) UNIQUE key backs that up. A caller passes
the version it looked at (`expected_version`); if someone else edited the sentence in between,
the change is still applied on top of the newest labels when it touches other tokens (the result
says `merged`), and refused with a ConflictError naming who changed what when the same tokens
were changed: no correction is silently overwritten.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.data.formats import PathLike, write_conll
from core.data.tags import spans_to_tags, tags_to_spans
from core.data.types import Projection, Sentence, Span
from core.errors import XnerError

REMOVE = "O"  # the label that means "no entity here"
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sentence_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,          -- set | remove | undo
    start INTEGER,
    end INTEGER,
    label TEXT,
    user TEXT NOT NULL,
    at TEXT NOT NULL,              -- UTC, ISO 8601
    before TEXT NOT NULL,          -- JSON list of IOB2 tags
    after TEXT NOT NULL,
    method TEXT NOT NULL DEFAULT '',
    projected TEXT,                -- JSON tags of the projection shown when the edit was made
    undoes INTEGER,                -- for undo rows: the edit undone
    undone INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sentence_id, version)
);
CREATE INDEX IF NOT EXISTS edits_sentence ON edits (sentence_id, version);
"""


class ConflictError(XnerError):
    """Someone else changed the same tokens of the sentence since the caller last looked."""


@dataclass(frozen=True)
class Edit:
    id: int
    sentence_id: str
    version: int
    action: str
    start: int | None
    end: int | None
    label: str | None
    user: str
    at: str
    before: list[str]
    after: list[str]
    method: str
    projected: list[str] | None
    undoes: int | None
    undone: bool
    merged: bool = False  # applied on top of newer edits made by someone else

    def describe(self) -> str:
        if self.action == "undo":
            return f"undo of edit #{self.undoes}"
        if self.action == "remove":
            return f"remove labels on tokens {self.start}-{self.end - 1}"
        return f"set {self.label} on tokens {self.start}-{self.end - 1}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def apply_label(tags: list[str], start: int, end: int, label: str) -> list[str]:
    """New tags after labelling tokens [start, end) `label` (REMOVE clears them).

    Setting a label replaces every entity that overlaps the selection (the selection becomes the
    entity: select the exact extent to shorten or extend a span); removing clears only the selected
    tokens, so the rest of a partly selected entity stays an entity."""
    if not 0 <= start < end <= len(tags):
        raise ValueError(f"token range [{start}, {end}) outside a sentence of {len(tags)} tokens")
    if label != REMOVE and not _LABEL.match(label):
        raise ValueError(f"entity label {label!r} must be a bare type such as PER (no B-/I-)")
    selection = Span(start, end, label)
    spans: list[Span] = []
    for span in tags_to_spans(tags):
        if not span.overlaps(selection):
            spans.append(span)
        elif label == REMOVE:
            if span.start < start:
                spans.append(Span(span.start, start, span.label))
            if span.end > end:
                spans.append(Span(end, span.end, span.label))
    if label != REMOVE:
        spans.append(selection)
    return spans_to_tags(spans, len(tags))


def _row_to_edit(row: sqlite3.Row, merged: bool = False) -> Edit:
    return Edit(
        id=row["id"],
        sentence_id=row["sentence_id"],
        version=row["version"],
        action=row["action"],
        start=row["start"],
        end=row["end"],
        label=row["label"],
        user=row["user"],
        at=row["at"],
        before=json.loads(row["before"]),
        after=json.loads(row["after"]),
        method=row["method"],
        projected=json.loads(row["projected"]) if row["projected"] else None,
        undoes=row["undoes"],
        undone=bool(row["undone"]),
        merged=merged,
    )


class CorrectionStore:
    """The corrections of one project, in one SQLite file."""

    def __init__(self, path: PathLike, timeout: float = 15.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: safe across Streamlit's threads and processes.
        with closing(sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a committed correction survives a power cut
            yield db

    # ------------------------------------------------------------------ reading

    def version(self, sentence_id: str) -> int:
        with self._connect() as db:
            return self._version(db, sentence_id)

    @staticmethod
    def _version(db: sqlite3.Connection, sentence_id: str) -> int:
        row = db.execute(
            "SELECT MAX(version) FROM edits WHERE sentence_id = ?", (sentence_id,)
        ).fetchone()
        return row[0] or 0

    def current(self, sentence_id: str) -> list[str] | None:
        """The corrected tags, or None when the sentence was never corrected."""
        with self._connect() as db:
            row = db.execute(
                "SELECT after FROM edits WHERE sentence_id = ? ORDER BY version DESC LIMIT 1",
                (sentence_id,),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def all_current(self) -> dict[str, list[str]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT e.sentence_id, e.after FROM edits e JOIN (SELECT sentence_id, "
                "MAX(version) AS v FROM edits GROUP BY sentence_id) m "
                "ON e.sentence_id = m.sentence_id AND e.version = m.v"
            ).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    def history(self, sentence_id: str | None = None, limit: int | None = None) -> list[Edit]:
        """Edits, newest first (of one sentence, or of the whole project)."""
        query = "SELECT * FROM edits"
        params: tuple = ()
        if sentence_id is not None:
            query += " WHERE sentence_id = ?"
            params = (sentence_id,)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self._connect() as db:
            return [_row_to_edit(r) for r in db.execute(query, params).fetchall()]

    def corrected_ids(self) -> set[str]:
        """Sentences with at least one edit still in effect."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT DISTINCT sentence_id FROM edits WHERE action != 'undo' AND undone = 0"
            ).fetchall()
        return {r[0] for r in rows}

    def tags_for(self, sentence_id: str, projected: list[str]) -> list[str]:
        current = self.current(sentence_id)
        return current if current is not None else list(projected)

    # ------------------------------------------------------------------ writing

    def set_label(
        self,
        sentence_id: str,
        start: int,
        end: int,
        label: str,
        *,
        projected: list[str],
        user: str,
        method: str = "",
        expected_version: int | None = None,
    ) -> Edit:
        """Label target tokens [start, end) (label REMOVE clears them); saved at once."""
        action = "remove" if label == REMOVE else "set"
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                version = self._version(db, sentence_id)
                before = self._tags(db, sentence_id) or list(projected)
                merged = expected_version is not None and version != expected_version
                if merged:
                    self._check_conflict(db, sentence_id, expected_version, start, end)
                after = apply_label(before, start, end, label)
                edit_id = self._insert(
                    db,
                    sentence_id,
                    version + 1,
                    action,
                    (start, end, None if label == REMOVE else label),
                    user,
                    before,
                    after,
                    method,
                    projected,
                    None,
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            return _row_to_edit(self._row(db, edit_id), merged=merged)

    def remove_label(self, sentence_id: str, start: int, end: int, **kwargs: object) -> Edit:
        return self.set_label(sentence_id, start, end, REMOVE, **kwargs)  # type: ignore[arg-type]

    def undo(
        self, sentence_id: str, *, user: str, expected_version: int | None = None
    ) -> Edit | None:
        """Undo the newest edit of the sentence still in effect; None when there is none."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                version = self._version(db, sentence_id)
                if expected_version is not None and version != expected_version:
                    last = self._last(db, sentence_id)
                    raise ConflictError(
                        f"sentence {sentence_id} was changed by {last.user} at {last.at} "
                        f"({last.describe()}) after you opened it; nothing was undone. "
                        "Look at its current labels and undo again if you still want to."
                    )
                row = db.execute(
                    "SELECT * FROM edits WHERE sentence_id = ? AND action != 'undo' AND undone = 0 "
                    "ORDER BY version DESC LIMIT 1",
                    (sentence_id,),
                ).fetchone()
                if row is None:
                    db.execute("ROLLBACK")
                    return None
                target = _row_to_edit(row)
                current = self._tags(db, sentence_id) or target.after
                edit_id = self._insert(
                    db,
                    sentence_id,
                    version + 1,
                    "undo",
                    (target.start, target.end, target.label),
                    user,
                    current,
                    target.before,
                    target.method,
                    target.projected,
                    target.id,
                )
                db.execute("UPDATE edits SET undone = 1 WHERE id = ?", (target.id,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            return _row_to_edit(self._row(db, edit_id))

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _tags(db: sqlite3.Connection, sentence_id: str) -> list[str] | None:
        row = db.execute(
            "SELECT after FROM edits WHERE sentence_id = ? ORDER BY version DESC LIMIT 1",
            (sentence_id,),
        ).fetchone()
        return json.loads(row[0]) if row else None

    @staticmethod
    def _row(db: sqlite3.Connection, edit_id: int) -> sqlite3.Row:
        return db.execute("SELECT * FROM edits WHERE id = ?", (edit_id,)).fetchone()

    @staticmethod
    def _last(db: sqlite3.Connection, sentence_id: str) -> Edit:
        row = db.execute(
            "SELECT * FROM edits WHERE sentence_id = ? ORDER BY version DESC LIMIT 1",
            (sentence_id,),
        ).fetchone()
        return _row_to_edit(row)

    @staticmethod
    def _check_conflict(
        db: sqlite3.Connection, sentence_id: str, since: int, start: int, end: int
    ) -> None:
        """Refuse when an edit newer than `since` changed a tag within [start, end)."""
        rows = db.execute(
            "SELECT * FROM edits WHERE sentence_id = ? AND version > ? ORDER BY version",
            (sentence_id, since),
        ).fetchall()
        for edit in map(_row_to_edit, rows):
            changed = {k for k, (a, b) in enumerate(zip(edit.before, edit.after)) if a != b}
            # A changed tag just outside the selection can also alter the selected entity's
            # boundaries (B-/I- continuity), so the neighbours count as touched too.
            if changed & set(range(max(0, start - 1), end + 1)):
                raise ConflictError(
                    f"sentence {sentence_id} was changed by {edit.user} at {edit.at} "
                    f"({edit.describe()}) after you opened it, on the tokens you selected; "
                    "your change was NOT saved. Look at the current labels and apply it again."
                )

    @staticmethod
    def _insert(
        db: sqlite3.Connection,
        sentence_id: str,
        version: int,
        action: str,
        where: tuple[int | None, int | None, str | None],
        user: str,
        before: list[str],
        after: list[str],
        method: str,
        projected: list[str] | None,
        undoes: int | None,
    ) -> int:
        start, end, label = where
        cursor = db.execute(
            "INSERT INTO edits (sentence_id, version, action, start, end, label, user, at, "
            "before, after, method, projected, undoes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                sentence_id,
                version,
                action,
                start,
                end,
                label,
                user or "anonymous",
                now(),
                json.dumps(before),
                json.dumps(after),
                method,
                json.dumps(projected) if projected is not None else None,
                undoes,
            ),
        )
        return int(cursor.lastrowid)


# ---------------------------------------------------------------------- corrected data


def corrected_sentences(
    projections: Iterable[Projection],
    corrections: Mapping[str, list[str]],
    only_corrected: bool = False,
) -> list[Sentence]:
    """Target sentences with their labels: the correction where one exists, else the projection."""
    out = []
    for projection in projections:
        target = projection.pair.target
        sid = projection.pair.id or target.id
        tags = corrections.get(sid)
        if tags is None:
            if only_corrected:
                continue
            tags = projection.target_tags()
        if len(tags) != len(target.tokens):
            raise ValueError(
                f"sentence {sid}: {len(tags)} corrected tags for {len(target.tokens)} tokens"
            )
        out.append(Sentence(list(target.tokens), list(tags), id=sid, lang=target.lang))
    return out


def export_conll(
    path: PathLike,
    projections: Iterable[Projection],
    store: CorrectionStore,
    only_corrected: bool = False,
) -> int:
    """Write the corrected target side as CoNLL (`TOKEN TAG`), atomically; returns sentences."""
    sentences = corrected_sentences(projections, store.all_current(), only_corrected)
    write_conll(path, sentences)
    return len(sentences)
