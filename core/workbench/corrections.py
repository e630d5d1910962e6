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

Corrections follow their sentence by content: every row also carries `content`, a hash of the
sentence's tokens (`content_key`). When a project is rebuilt or replaced, `reconcile` matches each
corrected sentence to the new project by that hash (the same id first, then any sentence with the
same tokens), renames it where the sentence moved, and sets aside (table `orphaned_edits`) the
corrections whose sentence no longer exists, so nothing lands on the wrong sentence. Stores made
before `content` existed are migrated on first use: a row whose tags fit the sentence now under
its id is taken to belong to it.

Review state lives here too, content-keyed the same way: per sentence (unreviewed / reviewed /
skipped, table `reviews`) and per projected entity (accepted / rejected, table `decisions`).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.data.formats import PathLike, write_conll
from core.data.tags import spans_to_tags, tags_to_spans
from core.data.types import Projection, Sentence, Span
from core.errors import XnerError
from core.fileerrors import check_database_file, store_error

REMOVE = "O"  # the label that means "no entity here"
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sentence_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,          -- set | remove | undo | redo | import
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
    undone INTEGER NOT NULL DEFAULT 0,  -- undo rows: 1 once redone
    content TEXT,                  -- content_key of the sentence's tokens
    UNIQUE (sentence_id, version)
);
CREATE INDEX IF NOT EXISTS edits_sentence ON edits (sentence_id, version);
CREATE TABLE IF NOT EXISTS reviews (
    sentence_id TEXT PRIMARY KEY,
    content TEXT,
    state TEXT NOT NULL,           -- one of REVIEW_STATES
    user TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    sentence_id TEXT NOT NULL,
    content TEXT,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    label TEXT NOT NULL,
    decision TEXT NOT NULL,        -- accepted | rejected
    user TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (sentence_id, start, end, label)
);
CREATE TABLE IF NOT EXISTS orphaned_edits (
    id INTEGER, sentence_id TEXT, version INTEGER, action TEXT, start INTEGER, end INTEGER,
    label TEXT, user TEXT, at TEXT, before TEXT, after TEXT, method TEXT, projected TEXT,
    undoes INTEGER, undone INTEGER, content TEXT, orphaned_at TEXT
);
"""
REVIEW_STATES = ("unreviewed", "reviewed", "skipped")
DECISIONS = ("accepted", "rejected")
_KEYED_TABLES = ("edits", "reviews", "decisions")  # rows that follow their sentence by content


def content_key(tokens: Sequence[str]) -> str:
    """A short hash of a sentence's tokens: how corrections find their sentence again."""
    return hashlib.sha1("\x1f".join(tokens).encode("utf-8")).hexdigest()[:16]


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
        if self.action == "redo":
            return f"redo (undo #{self.undoes} reverted)"
        if self.action == "import":
            return "labels imported for the whole sentence"
        if self.action == "remove":
            return f"remove labels on tokens {self.start}-{self.end - 1}"
        return f"set {self.label} on tokens {self.start}-{self.end - 1}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def apply_label(
    tags: list[str], start: int, end: int, label: str, *, keep_rest: bool = False
) -> list[str]:
    """New tags after labelling tokens [start, end) `label` (REMOVE clears them).

    Setting a label replaces every entity that overlaps the selection (the selection becomes the
    entity: select the exact extent to shorten or extend a span) unless `keep_rest`, which keeps
    the parts of other entities outside the selection; removing clears only the selected tokens,
    so the rest of a partly selected entity stays an entity. `affected` says what an edit cuts."""
    if not 0 <= start < end <= len(tags):
        raise ValueError(f"token range [{start}, {end}) outside a sentence of {len(tags)} tokens")
    if label != REMOVE and not _LABEL.match(label):
        raise ValueError(f"entity label {label!r} must be a bare type such as PER (no B-/I-)")
    selection = Span(start, end, label)
    spans: list[Span] = []
    for span in tags_to_spans(tags):
        if not span.overlaps(selection):
            spans.append(span)
        elif label == REMOVE or keep_rest:
            if span.start < start:
                spans.append(Span(span.start, start, span.label))
            if span.end > end:
                spans.append(Span(end, span.end, span.label))
    if label != REMOVE:
        spans.append(selection)
    return spans_to_tags(spans, len(tags))


@dataclass(frozen=True)
class Affected:
    """An existing entity that a label edit changes beyond the selection itself."""

    span: Span
    kept: tuple[Span, ...]  # what stays of it with keep_rest: its parts outside the selection

    def describe(self, tokens: Sequence[str] | None = None) -> str:
        """E.g. `LOC 'Nova York' (tokens 3-4)`."""
        return describe_span(self.span, tokens)


def describe_span(span: Span, tokens: Sequence[str] | None = None) -> str:
    words = f" '{' '.join(tokens[span.start : span.end])}'" if tokens else ""
    where = f"tokens {span.start}-{span.end - 1}" if len(span) > 1 else f"token {span.start}"
    return f"{span.label}{words} ({where})"


def affected(tags: list[str], start: int, end: int, label: str) -> list[Affected]:
    """Entities of another label that setting `label` on [start, end) would cut or overwrite.

    Not reported: an entity of the same label (selecting part of a span, or more than it, is the
    ordinary way to resize it) and an entity of exactly the selected extent (a plain relabel)."""
    if label == REMOVE:
        return []
    out = []
    for span in tags_to_spans(tags):
        if not span.overlaps(Span(start, end, label or "X")):
            continue
        if span.label == label or (span.start, span.end) == (start, end):
            continue  # resizing an entity, or relabelling exactly it, is the intended edit
        kept = []
        if span.start < start:
            kept.append(Span(span.start, start, span.label))
        if span.end > end:
            kept.append(Span(end, span.end, span.label))
        out.append(Affected(span, tuple(kept)))
    return out


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


@dataclass
class Reconciliation:
    """What became of the stored corrections when matched to a project's sentences."""

    kept: list[str] = field(default_factory=list)  # same id, same tokens
    moved: dict[str, str] = field(default_factory=dict)  # old id -> new id (same tokens)
    orphaned: list[tuple[str, int]] = field(default_factory=list)  # (old id, edits set aside)
    migrated: int = 0  # rows of an old store given their content key

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.orphaned or self.migrated)

    def describe(self) -> str:
        parts = [f"{len(self.kept) + len(self.moved)} corrected sentences kept"]
        if self.moved:
            parts.append(
                f"{len(self.moved)} followed their sentence to a new id ("
                + ", ".join(f"{a}→{b}" for a, b in list(self.moved.items())[:5])
                + (", …" if len(self.moved) > 5 else "")
                + ")"
            )
        if self.orphaned:
            parts.append(
                f"{len(self.orphaned)} set aside because their sentence is no longer in the "
                "project (ids "
                + ", ".join(s for s, _ in self.orphaned[:10])
                + (", …" if len(self.orphaned) > 10 else "")
                + ")"
            )
        return "; ".join(parts)


class CorrectionStore:
    """The corrections of one project, in one SQLite file.

    `contents` maps the project's sentence ids to their `content_key`; rows written through this
    store record it, which is what lets `reconcile` find the sentence again after a rebuild."""

    def __init__(
        self, path: PathLike, timeout: float = 15.0, contents: Mapping[str, str] | None = None
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # An empty or damaged file is reported with how to recover, never silently replaced.
        check_database_file(self.path, "corrections")
        self.timeout = timeout
        self.contents = dict(contents or {})
        with self._connect() as db:
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(edits)")}
            if "content" not in columns:  # a store from before content keys
                db.execute("ALTER TABLE edits ADD COLUMN content TEXT")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write: BEGIN IMMEDIATE, committed when the block ends, rolled back if it raises."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                if db.in_transaction:
                    db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: safe across Streamlit's threads and processes.
        try:
            with closing(
                sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            ) as db:
                db.row_factory = sqlite3.Row
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")  # a committed correction survives a power cut
                yield db
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise store_error(exc, self.path) from None  # names the file and how to recover

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
        keep_rest: bool = False,
        decision: str | None = None,
    ) -> Edit:
        """Label target tokens [start, end) (label REMOVE clears them); saved at once.

        With `keep_rest`, other entities cut by the selection keep their parts outside it. A
        `decision` (e.g. "accepted") is recorded for the new entity in the same transaction."""
        if decision is not None and decision not in DECISIONS:
            raise ValueError(f"decision {decision!r}; expected one of {', '.join(DECISIONS)}")
        action = "remove" if label == REMOVE else "set"
        with self._transaction() as db:
            version = self._version(db, sentence_id)
            before = self._tags(db, sentence_id) or list(projected)
            merged = expected_version is not None and version != expected_version
            if merged:
                self._check_conflict(db, sentence_id, expected_version, start, end)
            after = apply_label(before, start, end, label, keep_rest=keep_rest)
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
            if decision is not None and label != REMOVE:
                self._decide(db, sentence_id, Span(start, end, label), decision, user)
            return _row_to_edit(self._row(db, edit_id), merged=merged)

    def remove_label(self, sentence_id: str, start: int, end: int, **kwargs: object) -> Edit:
        return self.set_label(sentence_id, start, end, REMOVE, **kwargs)  # type: ignore[arg-type]

    def undo(
        self, sentence_id: str, *, user: str, expected_version: int | None = None
    ) -> Edit | None:
        """Undo the newest edit of the sentence still in effect; None when there is none."""
        with self._transaction() as db:
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
            return _row_to_edit(self._row(db, edit_id))

    def set_tags(
        self,
        sentence_id: str,
        tags: Sequence[str],
        *,
        projected: list[str],
        user: str,
        method: str = "",
    ) -> Edit | None:
        """Replace the sentence's labels at once (an import); None when they are unchanged."""
        if len(tags) != len(projected):
            raise ValueError(
                f"sentence {sentence_id}: {len(tags)} tags for {len(projected)} tokens"
            )
        spans = tags_to_spans(list(tags))
        after = spans_to_tags(spans, len(tags))  # normalised IOB2
        with self._transaction() as db:
            before = self._tags(db, sentence_id) or list(projected)
            if before == after:
                db.execute("ROLLBACK")
                return None
            edit_id = self._insert(
                db,
                sentence_id,
                self._version(db, sentence_id) + 1,
                "import",
                (0, len(after), None),
                user,
                before,
                after,
                method,
                projected,
                None,
            )
            return _row_to_edit(self._row(db, edit_id))

    def can_redo(self, sentence_id: str) -> bool:
        with self._connect() as db:
            return self._redoable(db, sentence_id) is not None

    @staticmethod
    def _redoable(db: sqlite3.Connection, sentence_id: str) -> sqlite3.Row | None:
        # The newest undo not yet redone, provided no new edit was made after it (a new edit
        # starts a new line of history, as in any editor).
        return db.execute(
            "SELECT * FROM edits WHERE sentence_id = ? AND action = 'undo' AND undone = 0 "
            "AND version > (SELECT COALESCE(MAX(version), 0) FROM edits WHERE sentence_id = ? "
            "AND action NOT IN ('undo', 'redo')) ORDER BY version DESC LIMIT 1",
            (sentence_id, sentence_id),
        ).fetchone()

    def redo(self, sentence_id: str, *, user: str) -> Edit | None:
        """Reapply the change the newest undo reverted; None when there is nothing to redo."""
        with self._transaction() as db:
            row = self._redoable(db, sentence_id)
            if row is None:
                db.execute("ROLLBACK")
                return None
            undo_row = _row_to_edit(row)
            reverted = _row_to_edit(self._row(db, undo_row.undoes))
            current = self._tags(db, sentence_id) or undo_row.after
            edit_id = self._insert(
                db,
                sentence_id,
                self._version(db, sentence_id) + 1,
                "redo",
                (reverted.start, reverted.end, reverted.label),
                user,
                current,
                reverted.after,
                reverted.method,
                reverted.projected,
                undo_row.id,
            )
            db.execute("UPDATE edits SET undone = 1 WHERE id = ?", (undo_row.id,))
            return _row_to_edit(self._row(db, edit_id))

    # ------------------------------------------------------------------ review state

    def set_review(self, sentence_id: str, state: str, *, user: str) -> None:
        if state not in REVIEW_STATES:
            raise ValueError(f"review state {state!r}; expected one of {', '.join(REVIEW_STATES)}")
        with self._connect() as db:
            if state == "unreviewed":
                db.execute("DELETE FROM reviews WHERE sentence_id = ?", (sentence_id,))
                return
            db.execute(
                "INSERT INTO reviews (sentence_id, content, state, user, at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (sentence_id) DO UPDATE SET state = excluded.state, "
                "user = excluded.user, at = excluded.at, content = excluded.content",
                (sentence_id, self.contents.get(sentence_id), state, user or "anonymous", now()),
            )

    def reviews(self) -> dict[str, str]:
        """Sentence id -> review state, for sentences not 'unreviewed'."""
        with self._connect() as db:
            return dict(db.execute("SELECT sentence_id, state FROM reviews").fetchall())

    def review_state(self, sentence_id: str) -> str:
        with self._connect() as db:
            row = db.execute(
                "SELECT state FROM reviews WHERE sentence_id = ?", (sentence_id,)
            ).fetchone()
        return row[0] if row else "unreviewed"

    def decide(self, sentence_id: str, span: Span, decision: str, *, user: str) -> None:
        """Record that a person accepted or rejected one projected entity."""
        if decision not in DECISIONS:
            raise ValueError(f"decision {decision!r}; expected one of {', '.join(DECISIONS)}")
        with self._connect() as db:
            self._decide(db, sentence_id, span, decision, user)

    def _decide(
        self, db: sqlite3.Connection, sentence_id: str, span: Span, decision: str, user: str
    ) -> None:
        db.execute(
            "INSERT INTO decisions (sentence_id, content, start, end, label, decision, user, "
            "at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (sentence_id, start, end, label) DO "
            "UPDATE SET decision = excluded.decision, user = excluded.user, at = excluded.at",
            (
                sentence_id,
                self.contents.get(sentence_id),
                span.start,
                span.end,
                span.label,
                decision,
                user or "anonymous",
                now(),
            ),
        )

    def undecide(self, sentence_id: str, span: Span) -> None:
        with self._connect() as db:
            db.execute(
                "DELETE FROM decisions WHERE sentence_id = ? AND start = ? AND end = ? AND label = ?",
                (sentence_id, span.start, span.end, span.label),
            )

    def decisions(self, sentence_id: str) -> dict[Span, str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT start, end, label, decision FROM decisions WHERE sentence_id = ?",
                (sentence_id,),
            ).fetchall()
        return {Span(a, b, label): d for a, b, label, d in rows}

    # ------------------------------------------------------------------ following sentences

    def needs_migration(self) -> bool:
        with self._connect() as db:
            return any(
                db.execute(f"SELECT 1 FROM {table} WHERE content IS NULL LIMIT 1").fetchone()
                for table in _KEYED_TABLES
            )

    def reconcile(self, sentences: Iterable[tuple[str, Sequence[str]]]) -> Reconciliation:
        """Match the stored rows to a project's (id, tokens) sentences by content.

        A row keeps its id when that id still holds the same tokens; else it moves to another
        sentence with the same tokens (one not claimed already, in project order); else its edits
        move to `orphaned_edits` (its review state and decisions are dropped). Rows without a
        content key (an older store) are first given the key of the sentence under their id when
        their tags fit that sentence's length."""
        sentences = [(sid, list(tokens)) for sid, tokens in sentences]
        keys = {sid: content_key(tokens) for sid, tokens in sentences}
        lengths = {sid: len(tokens) for sid, tokens in sentences}
        self.contents.update(keys)
        report = Reconciliation()
        with self._transaction() as db:
            report.migrated = self._migrate(db, keys, lengths)
            groups = {
                (sid, key): table
                for table in _KEYED_TABLES
                for sid, key in db.execute(f"SELECT DISTINCT sentence_id, content FROM {table}")
            }
            by_key: dict[str, list[str]] = {}
            for sid, key in keys.items():
                by_key.setdefault(key, []).append(sid)
            claimed = {sid for sid, key in groups if keys.get(sid) == key}
            plan: dict[tuple[str, str | None], str | None] = {}
            for sid, key in sorted(groups, key=lambda g: (g[0], g[1] or "")):
                if keys.get(sid) == key:
                    plan[(sid, key)] = sid
                    continue
                free = [s for s in by_key.get(key or "", []) if s not in claimed]
                plan[(sid, key)] = free[0] if free else None
                if free:
                    claimed.add(free[0])
            for (sid, key), new in plan.items():
                if new is None:
                    self._orphan(db, sid, key, report)
            # Two steps so that ids can swap (a -> b while b -> a) without a clash.
            moving = {g: new for g, new in plan.items() if new is not None and new != g[0]}
            for n, (sid, key) in enumerate(moving):
                for table in _KEYED_TABLES:
                    db.execute(
                        f"UPDATE {table} SET sentence_id = ? WHERE sentence_id = ? "
                        "AND content IS ?",
                        (f"\x00moving{n}", sid, key),
                    )
            for n, ((sid, _), new) in enumerate(moving.items()):
                for table in _KEYED_TABLES:
                    db.execute(
                        f"UPDATE {table} SET sentence_id = ? WHERE sentence_id = ?",
                        (new, f"\x00moving{n}"),
                    )
                report.moved[sid] = new
            report.kept = sorted(
                {sid for (sid, _), new in plan.items() if new == sid}
                & {r[0] for r in db.execute("SELECT DISTINCT sentence_id FROM edits")}
            )
        return report

    @staticmethod
    def _migrate(
        db: sqlite3.Connection, keys: Mapping[str, str], lengths: Mapping[str, int]
    ) -> int:
        migrated = 0
        rows = db.execute("SELECT id, sentence_id, after FROM edits WHERE content IS NULL")
        for row_id, sid, after in rows.fetchall():
            if sid in keys and len(json.loads(after)) == lengths[sid]:
                db.execute("UPDATE edits SET content = ? WHERE id = ?", (keys[sid], row_id))
                migrated += 1
            else:
                db.execute("UPDATE edits SET content = '' WHERE id = ?", (row_id,))  # no match
        for table in ("reviews", "decisions"):
            for (sid,) in db.execute(
                f"SELECT DISTINCT sentence_id FROM {table} WHERE content IS NULL"
            ).fetchall():
                db.execute(
                    f"UPDATE {table} SET content = ? WHERE sentence_id = ? AND content IS NULL",
                    (keys.get(sid, ""), sid),
                )
        return migrated

    @staticmethod
    def _orphan(db: sqlite3.Connection, sid: str, key: str | None, report: Reconciliation) -> None:
        count = db.execute(
            "SELECT COUNT(*) FROM edits WHERE sentence_id = ? AND content IS ?", (sid, key)
        ).fetchone()[0]
        db.execute(
            "INSERT INTO orphaned_edits SELECT id, sentence_id, version, action, start, end, "
            "label, user, at, before, after, method, projected, undoes, undone, content, ? "
            "FROM edits WHERE sentence_id = ? AND content IS ?",
            (now(), sid, key),
        )
        for table in _KEYED_TABLES:
            db.execute(f"DELETE FROM {table} WHERE sentence_id = ? AND content IS ?", (sid, key))
        if count:
            report.orphaned.append((sid, count))

    def orphaned(self) -> list[Edit]:
        """Edits set aside because their sentence left the project (newest first)."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM orphaned_edits ORDER BY orphaned_at DESC, id DESC")
            return [_row_to_edit(r) for r in rows.fetchall()]

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

    def _insert(
        self,
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
            "before, after, method, projected, undoes, content) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                self.contents.get(sentence_id),
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
