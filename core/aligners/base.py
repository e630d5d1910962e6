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
        "core.aligners.combined",
    ),
)


class Aligner(ABC):
    """Aligns the words of tokenised sentence pairs.

    `extra` is additional parallel text used only to train corpus-level (statistical) aligners;
    embedding aligners ignore it. The result has one Alignment per pair in `pairs`, in order.

    Capabilities (class attributes, read as `ALIGNERS.get(name).trains_on_corpus`):
    `trains_on_corpus`: learns from the pairs themselves (and `extra`), so it gets better with
    more parallel text and needs no model; `needs_encoder`: loads a pretrained encoder (its
    `model` parameter: a local folder or a Hub id).
    """

    name: str = ""
    trains_on_corpus: bool = False
    needs_encoder: bool = False
    # False where two runs on the same input can give different links (a sampler such as
    # eflomal): such an aligner defines `settings()`, and the CLI caches its alignments so that
    # a rerun reproduces them (core.aligners.cache).
    deterministic: bool = True

    def settings(self) -> dict[str, object]:
        """The values (JSON) that determine this aligner's output, for cache keys."""
        raise NotImplementedError(f"{type(self).__name__} does not list its settings")

    @abstractmethod
    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]: ...


def get_aligner(name: str, **params: object) -> Aligner:
    return ALIGNERS.create(name, **params)
