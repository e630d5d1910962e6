"""Tokenisation of raw text per language: spaCy's rule tokenizer where spaCy has the language,
a Unicode-aware regex otherwise. Text is NFC-normalised and combining marks stay inside words
(a plain `\\w` tokenizer would split Yoruba words at every tone mark)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.abc
import json
import logging
import os
import sys
import zlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import regex

from core.data.formats import nfc

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- cached parallel text

# Bumped whenever tokenisation changes in a way the key below does not see.
TOKEN_CACHE_FORMAT = 1


def token_cache_dir() -> Path:
    """$XNER_TOKEN_CACHE, else $XDG_CACHE_HOME/xner (~/.cache/xner)/tokens."""
    explicit = os.environ.get("XNER_TOKEN_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xner" / "tokens"


def _spacy_version() -> str:
    try:
        return metadata.version("spacy")
    except metadata.PackageNotFoundError:
        return "absent"


def tokenize_parallel(
    source_path: str | Path,
    target_path: str | Path,
    source_lang: str,
    target_lang: str,
    cache: bool = True,
) -> list[tuple[list[str], list[str]]]:
    """Two raw line-parallel files, each side tokenised for its language (`read_parallel`'s
    checks), cached by content: the key hashes both files' bytes, the languages, spaCy's version
    and the regex rules, so a hit needs neither spaCy nor tokenising. An unreadable or damaged
    entry is recomputed."""
    from core.data.formats import atomic_write, read_parallel

    digest = hashlib.sha256()
    for part in (
        str(TOKEN_CACHE_FORMAT),
        _spacy_version(),
        _WORD.pattern,
        spacy_code(source_lang),
        spacy_code(target_lang),
    ):
        digest.update(part.encode() + b"\0")
    for path in (source_path, target_path):
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = b""  # read_parallel below names the file
        digest.update(str(len(data)).encode() + b"\0" + data)
    entry = token_cache_dir() / f"{digest.hexdigest()}.json.gz"
    if cache and entry.is_file():
        try:
            with gzip.open(entry, "rt", encoding="utf-8") as handle:
                pairs = json.load(handle)
            if isinstance(pairs, list) and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(s, list) for s in p)
                for p in pairs
            ):
                return [(s, t) for s, t in pairs]
        except (OSError, EOFError, ValueError, zlib.error):
            pass
        log.warning("token cache entry %s is damaged; tokenising again", entry)
    source_tok, target_tok = Tokenizer(source_lang), Tokenizer(target_lang)
    pairs = [(source_tok(s), target_tok(t)) for s, t in read_parallel(source_path, target_path)]
    if cache:
        try:
            with atomic_write(entry, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
                json.dump(pairs, out, ensure_ascii=False)
        except OSError as exc:  # a read-only cache folder must not stop the run
            log.warning("cannot write the token cache %s: %s", entry, exc)
    return pairs
