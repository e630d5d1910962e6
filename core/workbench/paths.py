"""Which server paths the app may read and write: everything a person types into a page goes
through `readable_path` or `writable_path` first.

The app may be reachable by people who must not browse the server's files, so a typed path is
confined to the allowed roots: the data home (XNER_HOME, default ./xner_data), the shared data
folder (XNER_DATA, when set) and the folders listed in XNER_ALLOWED_PATHS (separated like PATH).
Writes go to the data home only. A path is checked after resolution (symlinks followed, `..`
removed), so a link inside an allowed folder that points outside is refused like the target
itself. The refusal names only the typed path and the allowed roots, never anything read from the
file, so it tells nothing about files outside.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import InputError
from core.homes import data_home, shared_data

ALLOWED_ENV = "XNER_ALLOWED_PATHS"


class PathNotAllowed(InputError):
    """A typed path outside the folders the app may read or write."""


def allowed_roots() -> list[Path]:
    """The data home, then XNER_DATA, then each XNER_ALLOWED_PATHS entry, resolved."""
    roots = [data_home()]
    extra = [str(shared_data() or "")]
    extra += os.environ.get(ALLOWED_ENV, "").split(os.pathsep)
    for entry in extra:
        if entry.strip():
            root = Path(entry.strip()).expanduser().resolve()
            if root not in roots:
                roots.append(root)
    return roots


def _within(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _resolve(typed: str | Path, base: Path) -> Path:
    text = str(typed).strip()
    if not text:
        raise InputError("no path given")
    if "\x00" in text:
        raise PathNotAllowed("a path may not contain a NUL character")
    path = Path(text).expanduser()
    # A relative path means "in the data home", never the server's working folder.
    return (path if path.is_absolute() else base / path).resolve()


def _roots_text(roots: list[Path]) -> str:
    return ", ".join(str(r) for r in roots)


def readable_path(typed: str | Path, *, must_exist: bool = True) -> Path:
    """The resolved path if it lies in an allowed root (for a folder: every entry in it too)."""
    roots = allowed_roots()
    path = _resolve(typed, roots[0])
    if not _within(path, roots):
        raise PathNotAllowed(
            f"{typed} is outside the folders this app may read ({_roots_text(roots)}); copy "
            f"the data there, upload it, or add its folder to {ALLOWED_ENV}"
        )
    if must_exist and not path.exists():
        raise InputError("no such file or folder", typed)
    if path.is_dir():
        for entry in path.iterdir():  # a dataset folder is read one level deep
            if not _within(entry.resolve(), roots):
                raise PathNotAllowed(
                    f"{entry.name} in {typed} links outside the folders this app may read"
                )
    return path


def writable_path(typed: str | Path) -> Path:
    """The resolved path of a file to write, if it lies in the data home. Folders in between are
    created only inside the data home; an existing folder is not a file name."""
    home = data_home()
    path = _resolve(typed, home)
    if not _within(path, [home]) or path == home:
        raise PathNotAllowed(
            f"{typed} is outside the data folder ({home}); this app writes only there"
        )
    if path.is_dir():
        raise InputError("is a folder, not a file: give a file name inside it", typed)
    return path
