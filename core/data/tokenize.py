"""Tokenisation of raw text per language: spaCy's rule tokenizer where spaCy has the language,
a Unicode-aware regex otherwise. Text is NFC-normalised and combining marks stay inside words
(a plain `\\w` tokenizer would split Yoruba words at every tone mark)."""

from __future__ import annotations

import importlib.abc
import sys
from functools import lru_cache

import regex

from core.data.formats import nfc

# ISO 639-3 (FLORES, MasakhaNER folder names) -> ISO 639-1 where one exists.
ISO3_TO_ISO1: dict[str, str] = {
    "eng": "en",
    "por": "pt",
    "deu": "de",
    "spa": "es",
    "fra": "fr",
    "ita": "it",
    "ron": "ro",
    "yor": "yo",
    "hau": "ha",
    "ibo": "ig",
    "zul": "zu",
    "xho": "xh",
    "swa": "sw",
    "swh": "sw",
    "kin": "rw",
    "lug": "lg",
    "nya": "ny",
    "sna": "sn",
    "tsn": "tn",
    "twi": "tw",
    "wol": "wo",
    "ewe": "ee",
    "bam": "bm",
    "amh": "am",
    "som": "so",
    "afr": "af",
    "est": "et",
    "eus": "eu",
    "hin": "hi",
    "ben": "bn",
    "tam": "ta",
    "tel": "te",
    "mar": "mr",
    "urd": "ur",
    "kat": "ka",
    "kaz": "kk",
    "mal": "ml",
    "tgl": "tl",
    "jav": "jv",
    "zsm": "ms",
    "mya": "my",
    "npi": "ne",
    "pan": "pa",
    "guj": "gu",
    "kan": "kn",
    "sin": "si",
    "quy": "qu",
    "tha": "th",
    "zho": "zh",
}

# A word: letters/digits with any combining marks, apostrophes or hyphens inside; else one symbol.
_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+(?:['’\-][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]")


def regex_tokenize(text: str) -> list[str]:
    return _WORD.findall(nfc(text))


class _NoTorch(importlib.abc.MetaPathFinder):
    """Refuses `torch` while spaCy is imported: thinc, under spaCy, imports torch whenever it is
    installed (1.5 s), although a rule tokenizer never uses it."""

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201 - finder protocol
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"{name} is not imported while spaCy loads", name=name)
        return None


def _import_spacy():  # noqa: ANN202 - the spacy module
    """`import spacy` without torch, unless torch is loaded already.

    thinc then records torch as absent, which only its torch shims read (xner uses torch
    directly, never through thinc); torch itself stays importable afterwards."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    finder = _NoTorch()
    sys.meta_path.insert(0, finder)
    try:
        import spacy
    finally:
        sys.meta_path.remove(finder)
    return spacy


@lru_cache(maxsize=32)
def _spacy_tokenizer(code: str):  # noqa: ANN202 - spaCy's Tokenizer type
    """spaCy's rule tokenizer for `code`, built once per process, or None.

    Its vocabulary computes no lexical attributes: they are computed once per new word (the
    Yoruba `like_num` alone took 3.2 s over 9,746 MAFAND sentences) and only the token texts
    are read here; the tokenizer's rules do not depend on them."""
    try:
        spacy = _import_spacy()
        tokenizer = spacy.blank(code).tokenizer
    except (ImportError, KeyError, OSError, ValueError):
        return None
    except Exception:  # spaCy raises its own config errors for unknown languages
        return None
    tokenizer.vocab.lex_attr_getters = {}
    return tokenizer


def spacy_code(lang: str) -> str:
    lang = lang.lower().split("_")[0]
    return ISO3_TO_ISO1.get(lang, lang)


class Tokenizer:
    """Split raw text into tokens for one language (`backend`: auto, spacy or regex)."""

    def __init__(self, lang: str = "xx", backend: str = "auto"):
        if backend not in ("auto", "spacy", "regex"):
            raise ValueError(f"unknown tokenizer backend {backend!r}")
        self.lang = lang
        self._spacy = None if backend == "regex" else _spacy_tokenizer(spacy_code(lang))
        if backend == "spacy" and self._spacy is None:
            raise ValueError(f"spaCy has no tokenizer for language {lang!r}")
        self.backend = "spacy" if self._spacy is not None else "regex"

    def __call__(self, text: str) -> list[str]:
        text = nfc(text)
        if self._spacy is None:
            return regex_tokenize(text)
        return [t.text for t in self._spacy(text) if not t.text.isspace()]

    def batch(self, texts: list[str]) -> list[list[str]]:
        return [self(text) for text in texts]


def tokenize(text: str, lang: str = "xx") -> list[str]:
    return Tokenizer(lang)(text)
