"""A persistent translation cache in SQLite, keyed by (backend, model, source and target
language, text), so a rerun translates nothing twice.

WAL mode and one transaction per batch: a crash (or an exception) in the middle of a batch
leaves the cache exactly as it was after the last complete batch, never half a batch.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.fileerrors import check_database_file, store_error

SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    text TEXT NOT NULL,
    translation TEXT NOT NULL,
    PRIMARY KEY (backend, model, src, tgt, text)
) WITHOUT ROWID
"""

# SQLite allows 999 bound parameters in old builds; 4 go to the key prefix.
_CHUNK = 900


def default_cache_path() -> Path:
    """$XNER_TRANSLATION_CACHE, else $XDG_CACHE_HOME/xner (~/.cache/xner)/translations.sqlite."""
    explicit = os.environ.get("XNER_TRANSLATION_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xner" / "translations.sqlite"


class TranslationCache:
    """Translations stored on disk; safe to share between processes (SQLite locking)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        check_database_file(self.path, "translation cache")  # damaged: say so, with the path
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=60)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._conn:
                self._conn.execute(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise store_error(exc, self.path) from None

    def get_many(
        self, backend: str, model: str, src: str, tgt: str, texts: Sequence[str]
    ) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(texts))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT text, translation FROM translations WHERE backend=? AND model=? "
                f"AND src=? AND tgt=? AND text IN ({marks})",
                (backend, model, src, tgt, *chunk),
            )
            found.update(rows)
        return found

    def put_many(
        self, backend: str, model: str, src: str, tgt: str, items: Iterable[tuple[str, str]]
    ) -> None:
        """Store one batch atomically: all of it or (on any error) none of it."""
        rows = [(backend, model, src, tgt, text, translation) for text, translation in items]
        with self._conn:  # one transaction; rolled back if any row fails
            self._conn.executemany(
                "INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?)", rows
            )

    def count(self, backend: str | None = None) -> int:
        if backend is None:
            return self._conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        return self._conn.execute(
            "SELECT COUNT(*) FROM translations WHERE backend=?", (backend,)
        ).fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
