"""`awesome-align`: word alignment by softmax extraction over encoder states (Dou & Neubig 2021).

Reproduces awesome-align's inference without its package: both sentences are encoded
separately (pre-tokenised words split into sub-words, special tokens added, batched), the
hidden states of one layer are compared by dot product over the real sub-words (special tokens
excluded), and a sub-word pair is linked when both the source->target softmax (over the target
sub-words) and the target->source softmax (over the source sub-words) exceed a threshold. Two
words are linked when any of their sub-words are. No training objective is run: to get the
paper's fine-tuned aligner, pass its checkpoint as `model` (`aneuraz/awesome-align-with-co`, the
best model of the paper, mBERT fine-tuned with its consistency objective, is on the Hub).

The encoder is a local folder or a Hugging Face Hub id; without the Hub a Hub id raises
core.errors.OfflineError (the checks are simalign's, shared). Embedding aligners need no training
corpus, so `extra` is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from tqdm import tqdm

from core.aligners.base import ALIGNERS, Aligner, TokenPair
from core.aligners.simalign_aligner import Layer, encoder_config
from core.data.types import Alignment, Link
from core.errors import ConfigError
from core.models import resolve_model, unloadable

log = logging.getLogger(__name__)

EXTRACTIONS = ("softmax",)
Extraction = Literal[EXTRACTIONS]
# Encoders whose layer k output is hidden_states[k] with nothing applied after the last layer:
# the layers above `layer` can be dropped without changing the states that are used.
PLAIN_LAYER_STACKS = frozenset({"bert", "roberta", "xlm-roberta", "camembert", "electra"})


def _drop_upper_layers(model, layer: int) -> None:  # noqa: ANN001 - a transformers PreTrainedModel
    """Remove the encoder layers above `layer` (their output is never used)."""
    import torch

    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if (
        getattr(model.config, "model_type", None) in PLAIN_LAYER_STACKS
        and isinstance(layers, torch.nn.ModuleList)
        and layer < len(layers)
    ):
        encoder.layer = layers[:layer]


@ALIGNERS.register("awesome-align")
class AwesomeAligner(Aligner):
    """awesome-align's softmax extraction over a transformers encoder.

    Parameters: `model` (local folder or Hub id; default `bert-base-multilingual-cased`, the
    paper's untuned setting; `aneuraz/awesome-align-with-co` is its best fine-tuned model),
    `layer` (hidden layer, 0 = embeddings, at most the model's number of layers; default 8),
    `threshold` (a sub-word pair is linked when both directional softmax probabilities exceed
    it; default 0.001), `extraction` (only `softmax`), `batch_size` (sentence pairs per forward
    pass), `device` (cpu, cuda, cuda:1, ...), `max_length` (sub-words per sentence including
    special tokens; default the encoder's input size: longer sentences are truncated and their
    tail stays unaligned), `link_scores` (attach awesome-align's `--output_prob` link
    probabilities as Alignment.scores; off by default, so the links weigh 1 in projection, as
    with simalign).
    """

    name = "awesome-align"
    needs_encoder = True

    def __init__(
        self,
        model: str = "bert-base-multilingual-cased",
        layer: Layer = 8,
        threshold: Annotated[float, Field(ge=0, le=1)] = 0.001,
        extraction: Extraction = "softmax",
        batch_size: Annotated[int, Field(ge=1, le=4096)] = 32,
        device: str = "cpu",
        max_length: Annotated[int, Field(ge=3)] | None = None,
        link_scores: bool = False,
    ):
        if extraction not in EXTRACTIONS:
            raise ConfigError(
                f"unknown awesome-align extraction {extraction!r}; known: {', '.join(EXTRACTIONS)}"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ConfigError(f"threshold must be a number between 0 and 1, not {threshold!r}")
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"threshold must be between 0 and 1, not {threshold!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, not {batch_size!r}")
        model = resolve_model(model)
        config = encoder_config(model, device, layer)
        positions = getattr(config, "max_position_embeddings", None)
        if max_length is not None and (
            isinstance(max_length, bool)
            or not isinstance(max_length, int)
            or max_length < 3
            or (positions is not None and max_length > positions)
        ):
            raise ConfigError(
                f"max_length must be an integer between 3 and {positions or 'the input size'} "
                f"for {model}, not {max_length!r}"
            )
        self.model = str(Path(model).expanduser()) if Path(model).expanduser().is_dir() else model
        self.layer = layer
        self.threshold = float(threshold)
        self.extraction = extraction
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self.link_scores = bool(link_scores)
        self.truncated = 0
        self._encoder = None
        self._tokenizer = None

    def _load(self):  # noqa: ANN202 - (tokenizer, model), loaded once per aligner
        if self._encoder is None:
            from transformers import AutoModel, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model)
                encoder = AutoModel.from_pretrained(self.model)
            except OSError as exc:
                if Path(self.model).is_dir():
                    raise ConfigError(f"cannot load encoder from {self.model}: {exc}") from None
                raise unloadable("encoder", self.model, exc) from None
            if not getattr(tokenizer, "is_fast", False):
                raise ConfigError(f"{self.model} has no fast tokenizer (needed for word ids)")
            limit = tokenizer.model_max_length
            limit = limit if 0 < limit < 100_000 else 512
            if self.max_length is None:
                self.max_length = limit
            elif self.max_length > limit:
                raise ConfigError(
                    f"max_length {self.max_length} exceeds {self.model}'s input size {limit}"
                )
            _drop_upper_layers(encoder, self.layer)
            try:
                encoder.to(self.device)
            except (RuntimeError, AssertionError) as exc:
                raise ConfigError(f"cannot use device {self.device!r}: {exc}") from None
            encoder.eval()
            self._tokenizer, self._encoder = tokenizer, encoder
        return self._tokenizer, self._encoder

    def _encode(self, sentences: list[list[str]]):  # noqa: ANN202 - (states, word ids per row)
        """Layer `layer` states of the sentences, and the word index of each position."""
        import torch

        tokenizer, encoder = self._load()
        room = self.max_length - tokenizer.num_special_tokens_to_add(pair=False)
        lengths = tokenizer(sentences, is_split_into_words=True, add_special_tokens=False)
        self.truncated += sum(len(ids) > room for ids in lengths["input_ids"])
        batch = tokenizer(
            sentences,
            is_split_into_words=True,
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        word_ids = [batch.word_ids(row) for row in range(len(sentences))]
        inputs = {k: v.to(self.device) for k, v in batch.items()}
        with torch.no_grad():
            output = encoder(**inputs, output_hidden_states=True)
        return output.hidden_states[self.layer].float(), word_ids

    def _extract(self, src_states, src_words, tgt_states, tgt_words) -> Alignment:  # noqa: ANN001
        """awesome-align's softmax extraction for one pair (special tokens and padding left out)."""
        import torch

        src_pos = [k for k, w in enumerate(src_words) if w is not None]
        tgt_pos = [k for k, w in enumerate(tgt_words) if w is not None]
        if not src_pos or not tgt_pos:
            return Alignment()
        src = src_states[src_pos]
        tgt = tgt_states[tgt_pos]
        similarity = src @ tgt.T
        forward = torch.softmax(similarity, dim=-1)  # P(target sub-word | source sub-word)
        reverse = torch.softmax(similarity, dim=-2)  # P(source sub-word | target sub-word)
        linked = (forward > self.threshold) & (reverse > self.threshold)
        pairs = torch.nonzero(linked).tolist()
        src_map = [src_words[k] for k in src_pos]
        tgt_map = [tgt_words[k] for k in tgt_pos]
        links = {(src_map[i], tgt_map[j]) for i, j in pairs}
        if not self.link_scores:
            return Alignment(frozenset(links))
        # awesome-align's --output_prob heuristic: length-tempered softmaxes, harmonic mean,
        # the best sub-word pair of each word pair.
        fwd = torch.softmax(similarity / len(tgt_pos) ** 0.5, dim=-1)
        rev = torch.softmax(similarity / len(src_pos) ** 0.5, dim=-2)
        prob = (2 * fwd * rev / (fwd + rev + 1e-9)).tolist()
        scores: dict[Link, float] = {}
        for i, j in pairs:
            link = (src_map[i], tgt_map[j])
            scores[link] = max(scores.get(link, 0.0), prob[i][j])
        return Alignment(frozenset(links), scores)

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        self._load()
        self.truncated = 0
        out: list[Alignment] = [Alignment() for _ in pairs]
        todo = [k for k, (source, target) in enumerate(pairs) if len(source) and len(target)]
        starts = range(0, len(todo), self.batch_size)
        for start in tqdm(starts, desc="awesome-align", unit="batch", disable=not progress):
            chunk = todo[start : start + self.batch_size]
            src_states, src_words = self._encode([list(pairs[k][0]) for k in chunk])
            tgt_states, tgt_words = self._encode([list(pairs[k][1]) for k in chunk])
            for row, k in enumerate(chunk):
                out[k] = self._extract(
                    src_states[row], src_words[row], tgt_states[row], tgt_words[row]
                )
        if self.truncated:
            log.warning(
                "awesome-align: %d sentences truncated to %d sub-words",
                self.truncated,
                self.max_length,
            )
        return out
