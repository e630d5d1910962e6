"""The translator interface: sentences in, translations out, batched and cached.

A backend implements `_translate_batch` (and `lang_code` where it needs its own codes); the base
class does the rest: NFC normalisation, empty sentences (translated to "" and counted, never sent
to a model), de-duplication, persistent cache look-up, length-sorted batches, one cache
transaction per finished batch, a progress bar.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field
from tqdm import tqdm

from core.data.formats import nfc
from core.registry import Registry
from core.translate.cache import TranslationCache

TRANSLATORS: Registry[Translator] = Registry(
    "translator", backends=("core.translate.hf", "core.translate.fast", "core.translate.file")
)

CacheSpec = TranslationCache | str | Path | bool | None
BatchSize = Annotated[int, Field(ge=1, le=100_000)]


@dataclass
class TranslationStats:
    """What the translator did, summed over calls (for reports and tests)."""

    requested: int = 0
    empty: int = 0  # empty or blank inputs: "" out, no model call
    cached: int = 0  # distinct texts found in the persistent cache
    translated: int = 0  # distinct texts sent to the backend
    batches: int = 0
    missing: int = 0  # texts the backend had no translation for (file translator, skip mode)


class Translator(ABC):
    """Translates sentences between languages named by ISO codes (`en`, `pt`, `yor`, ...)."""

    name: str = ""
    # The constructor parameter that `--model` on the command line sets.
    model_param: str = "model"

    def __init__(self, batch_size: BatchSize = 32, cache: CacheSpec = True):
        if int(batch_size) < 1:
            from core.errors import ConfigError

            raise ConfigError(f"batch_size must be at least 1, not {batch_size!r}")
        self.batch_size = int(batch_size)
        self.cache = _open_cache(cache)
        self.stats = TranslationStats()
        self.model_id = ""  # part of the cache key: set by backends to what identifies the model

    def lang_code(self, lang: str) -> str:
        """The backend's code for `lang` (raises ConfigError for languages it lacks)."""
        return lang

    def check_pair(self, src: str, tgt: str) -> None:
        """Raise ConfigError early when the backend cannot translate src -> tgt (backend codes)."""
        return None

    @abstractmethod
    def _translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]: ...

    def translate(
        self, texts: Sequence[str], src_lang: str, tgt_lang: str, progress: bool = False
    ) -> list[str]:
        src, tgt = self.lang_code(src_lang), self.lang_code(tgt_lang)
        self.check_pair(src, tgt)
        clean = [nfc(" ".join(t.split())) for t in texts]  # one line each, NFC
        self.stats.requested += len(clean)
        self.stats.empty += sum(1 for t in clean if not t)
        unique = list(dict.fromkeys(t for t in clean if t))
        done: dict[str, str] = {}
        if self.cache is not None and unique:
            done = self.cache.get_many(self.name, self.model_id, src, tgt, unique)
            self.stats.cached += len(done)
        todo = [t for t in unique if t not in done]
        # Sorted by length: padded batches waste less, and beam search finishes together.
        todo.sort(key=len)
        with tqdm(
            total=len(todo),
            desc=f"translate {src_lang}->{tgt_lang}",
            unit="sent",
            disable=not progress or not todo,
        ) as bar:
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start : start + self.batch_size]
                out = self._translate_batch(batch, src, tgt)
                if len(out) != len(batch):
                    raise RuntimeError(
                        f"{self.name}: {len(out)} translations for a batch of {len(batch)}"
                    )
                out = [nfc(" ".join(o.split())) for o in out]
                if self.cache is not None:
                    self.cache.put_many(self.name, self.model_id, src, tgt, zip(batch, out))
                done.update(zip(batch, out))
                self.stats.translated += len(batch)
                self.stats.batches += 1
                bar.update(len(batch))
        return [done[t] if t else "" for t in clean]

    def translate_one(self, text: str, src_lang: str, tgt_lang: str) -> str:
        return self.translate([text], src_lang, tgt_lang)[0]


def _open_cache(cache: CacheSpec) -> TranslationCache | None:
    if cache is None or cache is False:
        return None
    if isinstance(cache, TranslationCache):
        return cache
    if cache is True:
        return TranslationCache()
    return TranslationCache(cache)


def get_translator(name: str, **params: object) -> Translator:
    return TRANSLATORS.create(name, **params)


# --------------------------------------------------------------------------- text from tokens

_NO_SPACE_BEFORE = re.compile(r" ([.,;:!?%)\]}»”’]|'s\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{«“‘¿¡]) ")
_QUOTE = re.compile(r'" ?(.*?) ?"')


def detokenize(tokens: Sequence[str]) -> str:
    """Readable text from tokens for an MT model: no spaces before closing punctuation or after
    opening brackets, straight double quotes hugged. Not exact, and need not be: only the
    translation sees this text."""
    text = " ".join(t for t in tokens if t)
    text = _NO_SPACE_BEFORE.sub(r"\1", text)
    text = _NO_SPACE_AFTER.sub(r"\1", text)
    if text.count('"') % 2 == 0:
        text = _QUOTE.sub(r'"\1"', text)
    return text
