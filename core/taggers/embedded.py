"""`embedded`: a tagger trained from scratch (no pretrained weights), fast on a CPU.

Per token: a lowercased-word embedding, a word-shape embedding (capitalisation, digits,
punctuation: what tells a name from a word in a language the model has little data for), a
sentence-initial flag (capitals there say little) and a character CNN; a BiLSTM over the
sentence; a softmax head, so the same model learns from hard tags (cross-entropy) and from a
teacher's per-token distributions (MSE as in Wu et al. 2020, or KL with a temperature).
Word dropout (a word is replaced by <unk> at random while training) forces the model to use
characters and shape, which is what carries over to the unseen words of another corpus.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from core.data.types import Sentence
from core.errors import ConfigError, InputError
from core.taggers.base import (
    TAGGERS,
    Callbacks,
    Example,
    Tagger,
    TrainingCancelled,
    as_examples,
    atomic_dir,
    check_tags,
    labels_for_types,
    labels_from_data,
    normalise_tokens,
    resolve_dir,
    save_meta,
    write_file,
)
from core.taggers.features import PAD, UNK, Encoded, Vocab

Width = Annotated[int, Field(ge=1, le=4096)]
Share = Annotated[float, Field(ge=0, lt=1)]
Weight = Annotated[float, Field(ge=0)]


@dataclass
class EmbeddedParams:
    """The embedded tagger's options (the registry checks them against these hints)."""

    word_dim: Width = 100
    shape_dim: Width = 20
    char_dim: Width = 32
    char_filters: Width = 64
    # The convolution pads by 1: a wider kernel fails on a batch of one-character words.
    char_kernel: Annotated[int, Field(ge=1, le=3)] = 3
    hidden: Width = 128  # per LSTM direction
    layers: Annotated[int, Field(ge=1, le=8)] = 1
    dropout: Share = 0.5
    word_dropout: Share = 0.25
    lr: Annotated[float, Field(gt=0, le=10)] = 2e-3
    weight_decay: Weight = 0.0
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 32
    epochs: Annotated[int, Field(ge=1, le=1000)] = 10
    clip: Weight = 5.0  # gradient norm clipping (0: off)
    min_count: Annotated[int, Field(ge=1)] = 1
    soft_loss: Literal["mse", "kl"] = "mse"
    temperature: Annotated[float, Field(gt=0)] = 1.0  # KL only: both distributions softened by T
    soft_weight: Weight = 1.0  # weight of probability-target examples against hard ones
    o_weight: Weight = 1.0  # loss weight of hard O tokens (<1 discounts missed entities)
    lr_decay: Weight = 0.0  # lr / (1 + decay * epoch)
    device: str = "auto"  # auto | cpu | cuda
    threads: Annotated[int, Field(ge=0, le=1024)] = 0  # torch CPU threads (0: torch's default)

    @classmethod
    def from_dict(cls, params: dict) -> EmbeddedParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ConfigError(
                f"unknown embedded tagger option(s) {', '.join(unknown)}; known: "
                + ", ".join(sorted(known))
            )
        out = cls(**params)
        if out.soft_loss not in ("mse", "kl"):
            raise ConfigError(f"soft_loss must be 'mse' or 'kl', not {out.soft_loss!r}")
        return out


def _torch():
    import torch

    return torch


def _build_network(vocab: Vocab, n_labels: int, p: EmbeddedParams):
    torch = _torch()
    nn = torch.nn

    class Network(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.words = nn.Embedding(len(vocab.words), p.word_dim, padding_idx=PAD)
            self.shapes = nn.Embedding(len(vocab.shapes), p.shape_dim, padding_idx=PAD)
            self.first = nn.Embedding(2, 4)
            self.chars = nn.Embedding(len(vocab.chars), p.char_dim, padding_idx=PAD)
            self.conv = nn.Conv1d(p.char_dim, p.char_filters, p.char_kernel, padding=1)
            width = p.word_dim + p.shape_dim + 4 + p.char_filters
            self.lstm = nn.LSTM(
                width,
                p.hidden,
                num_layers=p.layers,
                bidirectional=True,
                batch_first=True,
                dropout=p.dropout if p.layers > 1 else 0.0,
            )
            self.drop = nn.Dropout(p.dropout)
            self.out = nn.Linear(2 * p.hidden, n_labels)

        def forward(self, words, shapes, chars, lengths):
            b, t, c = chars.shape
            ch = self.chars(chars.view(b * t, c)).transpose(1, 2)  # (bt, dim, c)
            ch = torch.relu(self.conv(ch))
            ch = ch.masked_fill((chars.view(b * t, 1, c) == PAD), -1e4).max(2).values
            ch = ch.masked_fill(ch < -1e3, 0.0).view(b, t, -1)
            first = torch.zeros_like(words)
            first[:, 0] = 1
            x = torch.cat([self.words(words), self.shapes(shapes), self.first(first), ch], -1)
            x = self.drop(x)
            packed = nn.utils.rnn.pack_padded_sequence(
                x, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=t)
            return self.out(self.drop(h))

    return Network()


def _batch(items: Sequence[Encoded], device):
    torch = _torch()
    n = len(items)
    t = max(len(e) for e in items)
    c = max(e.chars.shape[1] for e in items)
    words = np.zeros((n, t), np.int64)
    shapes = np.zeros((n, t), np.int64)
    chars = np.zeros((n, t, c), np.int64)
    for i, e in enumerate(items):
        words[i, : len(e)] = e.words
        shapes[i, : len(e)] = e.shapes
        chars[i, : len(e), : e.chars.shape[1]] = e.chars
    lengths = torch.tensor([len(e) for e in items])
    return (
        torch.from_numpy(words).to(device),
        torch.from_numpy(shapes).to(device),
        torch.from_numpy(chars).to(device),
        lengths.to(device),
    )


def _length_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (less padding): shuffle, sort within pools, split."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


@TAGGERS.register("embedded")
class EmbeddedTagger(Tagger):
    """Word + shape + char-CNN features, BiLSTM, softmax; see the module docstring."""

    name = "embedded"
    options = EmbeddedParams

    def __init__(
        self,
        labels: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        **params: object,
    ):
        if labels is not None and types is not None:
            raise ConfigError("give labels or types, not both")
        self._labels = (
            list(labels)
            if labels is not None
            else (labels_for_types(types) if types is not None else None)
        )
        self.params = EmbeddedParams.from_dict(dict(params))
        self.vocab: Vocab | None = None
        self.net = None
        self.device = None

    # ------------------------------------------------------------------ set-up

    @property
    def labels(self) -> list[str]:
        if self._labels is None:
            raise ConfigError("the tagger has no label set yet: fit it or give labels/types")
        return self._labels

    def _device(self):
        torch = _torch()
        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        want = self.params.device
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.device(want)

    def _init_network(self) -> None:
        assert self.vocab is not None
        self.device = self._device()
        self.net = _build_network(self.vocab, len(self.labels), self.params).to(self.device)

    # ------------------------------------------------------------------ training

    def fit(
        self,
        train: Sequence[Example | Sentence],
        dev: Sequence[Sentence] | None = None,
        epochs: int | None = None,
        seed: int = 0,
        callbacks: Callbacks | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> dict:
        torch = _torch()
        callbacks = callbacks or Callbacks()
        p = self.params
        epochs = p.epochs if epochs is None else int(epochs)
        examples = as_examples(train)
        if not examples:
            raise InputError("no training sentences")
        for ex in examples:
            ex.tokens = normalise_tokens(ex.tokens)
        if self._labels is None:
            if any(ex.tags is None for ex in examples):
                raise ConfigError("training on probability targets needs labels= or types=")
            self._labels = labels_from_data(examples)
        check_tags(examples, self.labels)
        examples = [ex for ex in examples if ex.tokens]
        fingerprint = self._fingerprint(examples, epochs, seed)

        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        rng = random.Random(seed)
        start_epoch = 0
        resume = resolve_dir(Path(checkpoint_dir) / "last") if checkpoint_dir else None
        state = None
        if resume is not None:
            meta = json.loads((resume / "tagger.json").read_text(encoding="utf-8"))
            if meta.get("fingerprint") == fingerprint:
                self.vocab = Vocab.from_dict(meta["vocab"])
                state = torch.load(resume / "state.pt", map_location="cpu", weights_only=False)
                start_epoch = int(state["epoch"]) + 1
            else:
                resume = None  # a checkpoint of another run (data or settings changed)
        if self.vocab is None:
            self.vocab = Vocab.build((ex.tokens for ex in examples), min_count=p.min_count)
        self._init_network()
        net = self.net
        optimizer = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        best_f1, best_state = -1.0, None
        if state is not None:
            net.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            rng.setstate(_tuple_state(state["rng"]))
            torch.set_rng_state(state["torch_rng"])
            best_f1 = state.get("best_f1", -1.0)
            best_state = state.get("best_state")

        encoded = [self.vocab.encode(ex.tokens) for ex in examples]
        label_index = {label: k for k, label in enumerate(self.labels)}
        n_labels = len(self.labels)
        # Targets as one (tokens x labels) matrix per sentence: hard tags become one-hot rows.
        hard = [ex.tags is not None for ex in examples]
        targets = []
        for ex in examples:
            if ex.tags is not None:
                targets.append(np.array([label_index[t] for t in ex.tags], dtype=np.int64))
            else:
                probs = np.asarray(ex.probs, dtype=np.float32)
                targets.append(probs / np.clip(probs.sum(1, keepdims=True), 1e-9, None))
        weights = [float(ex.weight) for ex in examples]
        class_weight = torch.ones(n_labels, device=self.device)
        class_weight[label_index["O"]] = p.o_weight

        lengths = [len(e) for e in encoded]
        total_tokens = sum(lengths)
        step = 0
        loss_value = float("nan")
        started = time.perf_counter()
        for epoch in range(start_epoch, epochs):
            for group in optimizer.param_groups:
                group["lr"] = p.lr / (1.0 + p.lr_decay * epoch)
            net.train()
            running, seen_tokens = 0.0, 0
            for batch_ids in _length_batches(lengths, p.batch_size, rng):
                if callbacks.should_stop():
                    raise TrainingCancelled(
                        f"cancelled in epoch {epoch + 1}; resume continues after epoch {epoch}"
                    )
                words, shapes, chars, lens = _batch([encoded[i] for i in batch_ids], self.device)
                if p.word_dropout > 0:
                    drop = torch.rand(words.shape, device=self.device) < p.word_dropout
                    words = words.masked_fill(drop & (words != PAD), UNK)
                logits = net(words, shapes, chars, lens)
                loss = self._loss(logits, batch_ids, hard, targets, weights, class_weight)
                optimizer.zero_grad()
                loss.backward()
                if p.clip:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), p.clip)
                optimizer.step()
                step += 1
                ntok = int(lens.sum())
                running += float(loss.detach()) * ntok
                seen_tokens += ntok
                if step % 50 == 0:
                    callbacks.progress(
                        {
                            "step": step,
                            "epoch": epoch + 1,
                            "epochs": epochs,
                            "loss": running / max(seen_tokens, 1),
                            "fraction": (epoch + seen_tokens / total_tokens) / epochs,
                        }
                    )
            loss_value = running / max(seen_tokens, 1)
            event = {
                "step": step,
                "epoch": epoch + 1,
                "epochs": epochs,
                "loss": loss_value,
                "fraction": (epoch + 1) / epochs,
            }
            if dev:
                f1 = self._dev_f1(dev)
                event["dev_f1"] = f1
                if f1 > best_f1:
                    best_f1 = f1
                    best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            callbacks.progress(event)
            if checkpoint_dir:
                self._checkpoint(
                    Path(checkpoint_dir) / "last",
                    fingerprint,
                    epoch,
                    optimizer,
                    rng,
                    best_f1,
                    best_state,
                )
        if best_state is not None:
            net.load_state_dict(best_state)
        seconds = time.perf_counter() - started
        return {
            "epochs": epochs,
            "resumed_from_epoch": start_epoch,
            "loss": loss_value,
            "best_dev_f1": best_f1 if dev else None,
            "train_sentences": len(examples),
            "train_tokens": total_tokens,
            "seconds": round(seconds, 2),
            "tokens_per_second": round(total_tokens * (epochs - start_epoch) / max(seconds, 1e-9)),
        }

    def _loss(self, logits, batch_ids, hard, targets, weights, class_weight):
        """Mean over tokens of: weighted cross-entropy for hard rows, MSE between softmax and the
        target distribution (or T^2 * KL at temperature T) for probability rows."""
        torch = _torch()
        f = torch.nn.functional
        p = self.params
        b, t, k = logits.shape
        total = logits.new_zeros(())
        count = 0
        hard_rows = [n for n, i in enumerate(batch_ids) if hard[i]]
        soft_rows = [n for n, i in enumerate(batch_ids) if not hard[i]]
        if hard_rows:
            gold = torch.full((len(hard_rows), t), -100, dtype=torch.long)
            w = torch.zeros(len(hard_rows), t)
            for r, n in enumerate(hard_rows):
                y = targets[batch_ids[n]]
                gold[r, : len(y)] = torch.from_numpy(y)
                w[r, : len(y)] = weights[batch_ids[n]]
            gold, w = gold.to(logits.device), w.to(logits.device)
            ce = f.cross_entropy(
                logits[hard_rows].reshape(-1, k),
                gold.view(-1),
                weight=class_weight,
                ignore_index=-100,
                reduction="none",
            )
            total = total + (ce * w.view(-1)).sum()
            count += int((gold != -100).sum())
        if soft_rows:
            target = torch.zeros(len(soft_rows), t, k)
            w = torch.zeros(len(soft_rows), t)
            for r, n in enumerate(soft_rows):
                y = targets[batch_ids[n]]
                target[r, : len(y)] = torch.from_numpy(y)
                w[r, : len(y)] = weights[batch_ids[n]]
            target, w = target.to(logits.device), w.to(logits.device)
            z = logits[soft_rows]
            if p.soft_loss == "mse":
                per_token = ((z.softmax(-1) - target) ** 2).sum(-1)
            else:
                temp = p.temperature
                teacher = target.clamp_min(1e-9) ** (1.0 / temp)
                teacher = teacher / teacher.sum(-1, keepdim=True)
                per_token = (temp**2) * (
                    teacher * (teacher.log() - f.log_softmax(z / temp, -1))
                ).sum(-1)
            total = total + p.soft_weight * (per_token * w).sum()
            count += int((w > 0).sum())
        return total / max(count, 1)

    def _dev_f1(self, dev: Sequence[Sentence]) -> float:
        from core.evaluate import ner_scores

        pred = self.predict([s.tokens for s in dev])
        return float(ner_scores([s.tags or ["O"] * len(s) for s in dev], pred)["f1"])

    def _fingerprint(self, examples: Sequence[Example], epochs: int, seed: int) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([asdict(self.params), self.labels, epochs, seed]).encode())
        for ex in examples:
            h.update("\x1f".join(ex.tokens).encode())
            h.update(("\x1f".join(ex.tags) if ex.tags else str(ex.probs.sum())).encode())
        return h.hexdigest()[:20]

    def _checkpoint(self, path, fingerprint, epoch, optimizer, rng, best_f1, best_state) -> None:
        torch = _torch()
        state = {
            "model": self.net.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "rng": rng.getstate(),
            "torch_rng": torch.get_rng_state(),
            "best_f1": best_f1,
            "best_state": best_state,
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        with atomic_dir(path, "checkpoint") as tmp:
            save_meta(tmp, {**self._meta(), "fingerprint": fingerprint, "epoch": epoch})
            write_file(tmp / "state.pt", buffer.getvalue())

    # ------------------------------------------------------------------ inference

    def predict_proba(self, token_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        torch = _torch()
        if self.net is None or self.vocab is None:
            raise ConfigError("the tagger is not trained: fit or load it first")
        self.net.eval()
        out: list[np.ndarray | None] = [None] * len(token_lists)
        order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
        empty = np.zeros((0, len(self.labels)), np.float32)
        batch_size = 256
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                ids = [i for i in order[start : start + batch_size] if len(token_lists[i])]
                for i in order[start : start + batch_size]:
                    if not len(token_lists[i]):
                        out[i] = empty
                if not ids:
                    continue
                enc = [self.vocab.encode(normalise_tokens(token_lists[i])) for i in ids]
                probs = self.net(*_batch(enc, self.device)).softmax(-1).float().cpu().numpy()
                for row, i in enumerate(ids):
                    out[i] = probs[row, : len(token_lists[i])]
        return out  # type: ignore[return-value]

    # ------------------------------------------------------------------ persistence

    def _meta(self) -> dict:
        return {
            "kind": self.name,
            "labels": self.labels,
            "params": asdict(self.params),
            "vocab": self.vocab.to_dict() if self.vocab else None,
        }

    def save(self, path: str | Path) -> None:
        torch = _torch()
        if self.net is None:
            raise ConfigError("nothing to save: the tagger is not trained")
        buffer = io.BytesIO()
        torch.save({k: v.cpu() for k, v in self.net.state_dict().items()}, buffer)
        with atomic_dir(path, "model") as tmp:
            save_meta(tmp, self._meta())
            write_file(tmp / "weights.pt", buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> EmbeddedTagger:
        torch = _torch()
        folder = resolve_dir(path)
        if folder is None or not (folder / "weights.pt").exists():
            raise InputError("no saved embedded tagger here (tagger.json/weights.pt missing)", path)
        meta = json.loads((folder / "tagger.json").read_text(encoding="utf-8"))
        params = dict(meta["params"])
        if device:
            params["device"] = device
        tagger = cls(labels=meta["labels"], **params)
        tagger.vocab = Vocab.from_dict(meta["vocab"])
        tagger._init_network()
        state = torch.load(folder / "weights.pt", map_location=tagger.device, weights_only=True)
        tagger.net.load_state_dict(state)
        return tagger


def _tuple_state(state):
    """random.Random state survives torch.save as nested lists/tuples; setstate wants tuples."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
