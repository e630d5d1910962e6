"""The aligner interface: token pairs in, one Alignment per pair out."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence

from core.registry import Registry
from core.types import Alignment

TokenPair = tuple[Sequence[str], Sequence[str]]

ALIGNERS: Registry[Aligner] = Registry("aligner")

# Backend modules register themselves on import; listed here so lookups by name find them.
_BACKENDS = (
    "core.aligners.eflomal_aligner",
    "core.aligners.simalign_aligner",
    "core.aligners.awesome_aligner",
)


class Aligner(ABC):
    """Aligns the words of tokenised sentence pairs.

    `extra` is additional parallel text used only to train corpus-level (statistical) aligners;
    embedding aligners ignore it. The result has one Alignment per pair in `pairs`, in order.
    """

    name: str = ""

    @abstractmethod
    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]: ...


def load_backends() -> None:
    for module in _BACKENDS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a missing optional dependency: the backend stays unknown
                continue
            raise


def get_aligner(name: str, **params: object) -> Aligner:
    load_backends()
    return ALIGNERS.create(name, **params)
