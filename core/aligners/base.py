"""The aligner interface: token pairs in, one Alignment per pair out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from core.data.types import Alignment
from core.registry import Registry

TokenPair = tuple[Sequence[str], Sequence[str]]

ALIGNERS: Registry[Aligner] = Registry(
    "aligner",
    backends=(
        "core.aligners.eflomal_aligner",
        "core.aligners.simalign_aligner",
        "core.aligners.awesome_aligner",
    ),
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


def get_aligner(name: str, **params: object) -> Aligner:
    return ALIGNERS.create(name, **params)
