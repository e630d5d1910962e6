"""Vocabularies and per-token features of the embedded tagger: lowercased words, word shapes
(capitalisation, digits, punctuation), sentence-initial position and characters."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

PAD, UNK = 0, 1
MAX_CHARS = 24  # longer words keep their first 12 and last 12 characters


def _char_class(ch: str) -> str:
    if ch.isdigit():
        return "d"
    if ch.isalpha():
        return "X" if ch.isupper() else "x"
    if unicodedata.category(ch).startswith("M"):
        return ""  # tone marks and other combining marks do not change a word's shape
    return ch if ch in "-'.,&/" else "#"


def word_shape(token: str) -> str:
    """`Lagos` -> Xx, `ABUJA` -> X, `2019` -> d, `Dr.` -> Xx., `ọ̀rọ̀` -> x: runs collapse, so
    the vocabulary of shapes stays small and generalises to unseen words."""
    out: list[str] = []
    for ch in token:
        c = _char_class(ch)
        if c and (not out or out[-1] != c):
            out.append(c)
    shape = "".join(out[:6])
    if len(token) == 1:
        shape += "1"  # single letters (initials) behave differently from words
    return shape


def clip_chars(token: str) -> str:
    return token if len(token) <= MAX_CHARS else token[: MAX_CHARS // 2] + token[-MAX_CHARS // 2 :]


@dataclass
class Vocab:
    """Index tables; index 0 is padding and 1 unknown in each."""

    words: list[str]
    chars: list[str]
    shapes: list[str]

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.char_index = {c: i for i, c in enumerate(self.chars)}
        self.shape_index = {s: i for i, s in enumerate(self.shapes)}

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_count: int = 1,
        max_words: int = 100_000,
        min_char_count: int = 2,
    ) -> Vocab:
        words: Counter[str] = Counter()
        chars: Counter[str] = Counter()
        shapes: Counter[str] = Counter()
        for tokens in token_lists:
            for token in tokens:
                words[token.lower()] += 1
                chars.update(clip_chars(token))
                shapes[word_shape(token)] += 1
        kept = [w for w, c in words.most_common(max_words) if c >= min_count]
        return cls(
            ["<pad>", "<unk>"] + kept,
            ["<pad>", "<unk>"] + sorted(c for c, n in chars.items() if n >= min_char_count),
            ["<pad>", "<unk>"] + sorted(s for s, n in shapes.items() if n >= 2),
        )

    def to_dict(self) -> dict:
        return {"words": self.words, "chars": self.chars, "shapes": self.shapes}

    @classmethod
    def from_dict(cls, data: dict) -> Vocab:
        return cls(data["words"], data["chars"], data["shapes"])

    def encode(self, tokens: Sequence[str]) -> Encoded:
        n = len(tokens)
        words = np.array([self.word_index.get(t.lower(), UNK) for t in tokens], dtype=np.int64)
        shapes = np.array([self.shape_index.get(word_shape(t), UNK) for t in tokens], np.int64)
        width = max((len(clip_chars(t)) for t in tokens), default=1)
        chars = np.zeros((n, max(width, 3)), dtype=np.int64)
        for i, token in enumerate(tokens):
            for k, ch in enumerate(clip_chars(token)):
                chars[i, k] = self.char_index.get(ch, UNK)
        return Encoded(words, shapes, chars)


@dataclass
class Encoded:
    words: np.ndarray  # (n,)
    shapes: np.ndarray  # (n,)
    chars: np.ndarray  # (n, width)

    def __len__(self) -> int:
        return len(self.words)
