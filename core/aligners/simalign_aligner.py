"""`simalign`: word alignment from contextual embeddings (Jalili Sabet et al. 2020).

Uses the simalign package's SentenceAligner for loading the encoder and for its matching
algorithms; sentences are encoded in batches rather than pair by pair. The encoder is a packaged
model name (e.g. e5-small, see core.models), a local folder or a Hugging Face Hub id (the reference setup is `bert-base-multilingual-cased`, layer 8, IterMax, BPE level);
without the Hub a Hub id raises core.errors.OfflineError. Embedding aligners need no training
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
from core.data.types import Alignment
from core.errors import ConfigError
from core.models import resolve_model, unloadable

log = logging.getLogger(__name__)

# xner's method names -> simalign's one-letter codes and the keys of its result dictionary.
MATCHING_METHODS = {
    "argmax": ("a", "inter"),
    "itermax": ("i", "itermax"),
    "match": ("m", "mwmf"),
}
# simalign's own short names for its two default encoders.
MODEL_ALIASES = {"bert": "bert-base-multilingual-cased", "xlmr": "xlm-roberta-base"}
TOKEN_TYPES = ("bpe", "word")
BATCH_PAIRS = 32  # sentence pairs encoded per forward pass
MatchingMethod = Literal[tuple(MATCHING_METHODS)]
TokenType = Literal[TOKEN_TYPES]
# hidden_states[0] is the embedding output; the upper bound is the model's, checked on load.
Layer = Annotated[int, Field(ge=0)]


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~")) or model.count("/") > 1 or "\\" in model


def _load_config(model: str):  # noqa: ANN202 - a transformers PretrainedConfig
    """The encoder's config, with errors that say whether the folder or the Hub failed."""
    from transformers import AutoConfig

    if Path(model).expanduser().is_dir():
        try:
            return AutoConfig.from_pretrained(str(Path(model).expanduser()))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{model} is not a transformers model folder: {exc}") from None
    if _looks_like_path(model):
        raise ConfigError(f"encoder folder {model} not found")
    try:
        return AutoConfig.from_pretrained(model)
    except OSError as exc:
        raise unloadable("encoder", model, exc) from None
    except ValueError as exc:  # huggingface_hub rejects malformed repo ids with a ValueError
        raise ConfigError(f"{model!r} is neither a folder nor a Hub model id: {exc}") from None


def encoder_config(model: str, device: str, layer: object):  # noqa: ANN202 - a PretrainedConfig
    """Check the device and the layer against the encoder's config (loaded, not its weights)."""
    import torch

    try:
        torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(f"bad device {device!r}: {exc}") from None
    config = _load_config(model)
    n_layers = getattr(config, "num_hidden_layers", None)
    # hidden_states holds the embedding output plus one entry per layer.
    if (
        isinstance(layer, bool)
        or not isinstance(layer, int)
        or layer < 0
        or (n_layers is not None and layer > n_layers)
    ):
        raise ConfigError(
            f"layer must be between 0 and {n_layers} for {model} ({n_layers} layers), not {layer!r}"
        )
    return config


@ALIGNERS.register("simalign")
class SimAlignAligner(Aligner):
    """SimAlign over a transformers encoder.

    Parameters: `model` (local folder or Hub id; `bert` and `xlmr` are simalign's aliases),
    `method` (argmax, itermax or match), `layer` (hidden layer, 0 = embeddings, at most the
    model's number of layers), `token_type` (`bpe`: align sub-words, a word pair is linked when
    any of their sub-words are; `word`: average sub-word vectors per word), `distortion`
    (penalty for links far off the diagonal, 0 = none), `device` (cpu, cuda, cuda:1, ...).
    Sentences longer than the encoder's input are truncated (their tail stays unaligned).
    """

    name = "simalign"
    needs_encoder = True

    def __init__(
        self,
        model: str = "bert-base-multilingual-cased",
        method: MatchingMethod = "itermax",
        layer: Layer = 8,
        token_type: TokenType = "bpe",
        distortion: Annotated[float, Field(ge=0)] = 0.0,
        device: str = "cpu",
    ):
        model = resolve_model(MODEL_ALIASES.get(model, model))
        if method not in MATCHING_METHODS:
            raise ConfigError(
                f"unknown simalign method {method!r}; known: {', '.join(MATCHING_METHODS)}"
            )
        if token_type not in TOKEN_TYPES:
            raise ConfigError(
                f"token_type must be one of {', '.join(TOKEN_TYPES)}, not {token_type!r}"
            )
        encoder_config(model, device, layer)
        self.model = str(Path(model).expanduser()) if Path(model).expanduser().is_dir() else model
        self.method = method
        self.layer = layer
        self.token_type = token_type
        self.distortion = float(distortion)
        self.device = device
        self.truncated = 0
        self._aligner = None

    def _load(self):  # noqa: ANN202 - simalign.SentenceAligner
        if self._aligner is None:
            from simalign import SentenceAligner

            try:
                self._aligner = SentenceAligner(
                    model=self.model,
                    token_type=self.token_type,
                    distortion=self.distortion,
                    matching_methods=MATCHING_METHODS[self.method][0],
                    device=self.device,
                    layer=self.layer,
                )
            except OSError as exc:
                if Path(self.model).is_dir():
                    raise ConfigError(f"cannot load encoder from {self.model}: {exc}") from None
                raise unloadable("encoder", self.model, exc) from None
        return self._aligner

    def _prepare(self, words: Sequence[str], tokenizer, limit: int) -> list[str]:  # noqa: ANN001
        """Words the encoder can take: none empty after sub-word splitting, within `limit`."""
        out, used = [], 0
        for word in words:
            pieces = tokenizer.tokenize(word) if word.strip() else []
            if not pieces:  # a word with no sub-words would shift every later word's vectors
                word, pieces = tokenizer.unk_token, [tokenizer.unk_token]
            if used + len(pieces) > limit:
                self.truncated += 1
                break
            out.append(word)
            used += len(pieces)
        return out

    def align(
        self, pairs: Sequence[TokenPair], extra: Sequence[TokenPair] = (), progress: bool = False
    ) -> list[Alignment]:
        aligner = self._load()
        tokenizer = aligner.embed_loader.tokenizer
        # simalign truncates each side to the encoder's input size, minus [CLS] and [SEP].
        max_input = getattr(tokenizer, "model_max_length", 512)
        limit = (max_input if 0 < max_input < 100_000 else 512) - 2
        self.truncated = 0
        prepared = [
            (self._prepare(source, tokenizer, limit), self._prepare(target, tokenizer, limit))
            for source, target in pairs
        ]
        out = [Alignment() for _ in pairs]
        todo = [k for k, (src, tgt) in enumerate(prepared) if src and tgt]
        # Sentences are encoded in batches (by length, so little padding), then matched pair by
        # pair with simalign's own algorithms: the same links as its per-pair get_word_aligns.
        todo.sort(key=lambda k: len(prepared[k][0]) + len(prepared[k][1]))
        starts = range(0, len(todo), BATCH_PAIRS)
        for start in tqdm(starts, desc="simalign", unit="batch", disable=not progress):
            chunk = todo[start : start + BATCH_PAIRS]
            src_vectors = self._embed([prepared[k][0] for k in chunk])
            tgt_vectors = self._embed([prepared[k][1] for k in chunk])
            for k, (x, x_words), (y, y_words) in zip(chunk, src_vectors, tgt_vectors):
                out[k] = self._match(x, x_words, y, y_words)
        if self.truncated:
            log.warning(
                "simalign: %d sentences truncated to the encoder's input size", self.truncated
            )
        return out

    def _embed(self, sentences: list[list[str]]):  # noqa: ANN202 - [(vectors, word of each)]
        """Layer `layer` vectors of each sentence's sub-words (special tokens and padding left
        out) and the word each sub-word belongs to."""
        import numpy as np
        import torch

        loader = self._load().embed_loader
        batch = loader.tokenizer(
            sentences, is_split_into_words=True, padding=True, truncation=True, return_tensors="pt"
        )
        with torch.no_grad():
            hidden = loader.emb_model(**batch.to(loader.device))["hidden_states"][self.layer]
        hidden = hidden.float().cpu().numpy()
        out = []
        for row in range(len(sentences)):
            words = batch.word_ids(row)
            keep = [p for p, w in enumerate(words) if w is not None]
            out.append((hidden[row, keep], np.array([words[p] for p in keep], dtype=int)))
        return out

    def _match(self, x, x_words, y, y_words) -> Alignment:  # noqa: ANN001 - numpy arrays
        """simalign's matching (similarity, distortion, argmax / itermax / match) for one pair."""
        import numpy as np
        from simalign import SentenceAligner

        if self.token_type == "word":  # average the sub-word vectors of each word
            x = np.stack([x[x_words == w].mean(0) for w in range(x_words.max() + 1)])
            y = np.stack([y[y_words == w].mean(0) for w in range(y_words.max() + 1)])
            x_words, y_words = np.arange(len(x)), np.arange(len(y))
        sim = SentenceAligner.get_similarity(x, y)
        sim = SentenceAligner.apply_distortion(sim, self.distortion)
        if self.method == "argmax":
            forward, reverse = SentenceAligner.get_alignment_matrix(sim)
            matrix = forward * reverse
        elif self.method == "itermax":
            matrix = SentenceAligner.iter_max(sim)
        else:
            matrix = SentenceAligner.get_max_weight_match(sim)
        i, j = np.nonzero(matrix > 0)
        return Alignment(frozenset(zip(x_words[i].tolist(), y_words[j].tolist())))
