"""File and database failures as one line that names the path and says what to do.

The operating system's own words ("[Errno 28] No space left on device") name neither the file a
user gave nor a way out; `describe_os_error` and `describe_sqlite_error` do both. The command line
prints them as `xner: error: ...`; the app shows them as messages; nothing shows a traceback.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from core.errors import XnerError

# errno -> (what happened, what to do). Anything not listed keeps the system's wording.
_OS_ERRORS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space or write to another disk"),
    errno.EDQUOT: ("the disk quota is used up", "free some space or write to another disk"),
    errno.EROFS: ("the file system is read-only", "choose a writable folder"),
    errno.EISDIR: ("is a folder, not a file", "give a file path inside it"),
    errno.ENOTDIR: ("a part of this path is a file, not a folder", "check the path"),
    errno.EEXIST: ("exists already and is not a folder", "give a folder path"),
    errno.EACCES: ("permission denied", "choose a path you may write, or fix its permissions"),
    errno.EPERM: ("operation not permitted", "choose a path you may write"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ENAMETOOLONG: ("the path is too long", "choose a shorter path"),
    errno.ELOOP: ("too many symbolic links", "check the path for a link loop"),
    errno.EMFILE: ("too many open files", "close other programs or raise `ulimit -n`"),
}


class StoreError(XnerError):
    """A database file (the run registry, a project's corrections) that cannot be used."""

    def __init__(self, message: str, path: str | Path):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class FileProblem(XnerError, OSError):
    """An OSError on a named file, explained (`describe_os_error`); still an OSError (same errno)
    for callers that handle those."""

    def __init__(self, exc: OSError, path: str | Path | None = None):
        OSError.__init__(self, describe_os_error(exc, path))
        self.errno = exc.errno
        self.path = str(path or exc.filename or "")


def describe_os_error(exc: OSError, path: str | Path | None = None) -> str:
    """`PATH: what happened; what to do` for an OSError raised on a file."""
    where = path or exc.filename
    what, todo = _OS_ERRORS.get(exc.errno or -1, (exc.strerror or str(exc), ""))
    if exc.errno == errno.EEXIST and where and Path(where).is_dir():
        what, todo = "exists already", "choose another name"
    line = f"{where}: {what}" if where else what
    if exc.filename2:
        line += f" (and {exc.filename2})"
    return f"{line}; {todo}" if todo else line


def recovery_hint(path: str | Path | None) -> str:
    if path is None:
        return "move the damaged file aside to start a new one, or restore it from a backup"
    return (
        f"move it aside (mv {path} {path}.broken) to start a new one, or restore it from a backup"
    )


def sqlite_problem(exc: sqlite3.Error, path: str | Path | None) -> str:
    """What is wrong with the database at `path` and how to recover (without the path)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "the database is locked by another process; wait for it and retry"
    if "readonly" in text or "read-only" in text:
        return "the database is read-only; make it and its folder writable"
    if "disk is full" in text or "database or disk is full" in text:
        return "the disk is full; free some space and retry"
    if "unable to open" in text:
        return "cannot open the database; check that its folder exists and is writable"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"not a valid database (damaged or truncated); {recovery_hint(path)}"
    return f"database error ({exc}); {recovery_hint(path)}"


def describe_sqlite_error(exc: sqlite3.Error, path: str | Path) -> str:
    """The database file's path, what is wrong and how to recover, in one line."""
    return f"{path}: {sqlite_problem(exc, path)}"


def store_error(exc: sqlite3.Error, path: str | Path) -> StoreError:
    return StoreError(sqlite_problem(exc, path), path)


def check_database_file(path: str | Path, kind: str) -> None:
    """Refuse an existing file that cannot be a SQLite database before SQLite silently treats it
    as a new, empty one (it does so for a 0-byte file), and a damaged one before it is used."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"is a folder, not the {kind} database; give its parent folder", path)
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        raise StoreError(
            f"the {kind} database is an empty file (truncated?); {recovery_hint(path)}", path
        )
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise StoreError(f"not a SQLite database (the {kind}); {recovery_hint(path)}", path)
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            result = db.execute("PRAGMA quick_check").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise store_error(exc, path) from None
    if not result or result[0] != "ok":
        raise StoreError(
            f"the {kind} database is damaged ({result[0] if result else 'no answer'}); "
            f"{recovery_hint(path)}",
            path,
        )


def describe_error(exc: BaseException) -> str:
    """One line for any error a page or command reports: file and database failures explained,
    xner's own errors as they are."""
    if isinstance(exc, OSError) and not isinstance(exc, XnerError):
        return describe_os_error(exc)
    if isinstance(exc, sqlite3.Error):
        return f"a database: {sqlite_problem(exc, None)}"
    return str(exc)
