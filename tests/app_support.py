"""Helpers for the app tests: a fast stand-in aligner and a demo project built with it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.aligners.base import Aligner, TokenPair
from core.data.types import Alignment


class StringAligner(Aligner):
    """Links identical tokens (case-insensitive) and tokens sharing a 4-letter prefix; no model.

    Deterministic and instant, so app tests do not depend on eflomal's training time."""

    name = "string"

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        out = []
        for source, target in pairs:
            links = set()
            for i, s in enumerate(source):
                for j, t in enumerate(target):
                    a, b = s.lower(), t.lower()
                    if a == b and a.isalnum() or (len(a) >= 4 and len(b) >= 4 and a[:4] == b[:4]):
                        links.add((i, j))
            out.append(Alignment(frozenset(links)))
        return out


def build_demo(home: Path):
    from core.workbench.demo import ensure_demo

    return ensure_demo(home, aligners={"string": StringAligner()})
