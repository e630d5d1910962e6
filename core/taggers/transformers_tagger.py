"""`transformers`: fine-tunes AutoModelForTokenClassification (a Hub id such as
xlm-roberta-base, or a local folder). A word's label lives on its first sub-word (the others are
ignored in the loss), soft targets are matched there too (MSE, or KL at a temperature), and on a
GPU the forward pass runs in fp16 with loss scaling."""

from __future__ import annotations

import io
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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


@dataclass
class TransformersParams:
    """The transformers tagger's options (the registry checks them against these hints)."""

    # The encoder's learning rate, chosen on MasakhaNER 2.0 yor dev (e5-small, layers=6, 1,000 gold
    # sentences, 4 epochs, head_lr 3e-3; bench/transformers_tagger.py --train masakhaner
    # --sentences 1000 --epochs 4 --layers 6 --lr LR --skip-embedded --threads 1 --seed S):
    # F1 5e-5 0.642, 1e-4 0.656, 2e-4 0.685 (seed 1); 1e-4 0.695, 2e-4 0.694 (seed 2). 2e-4's
    # lead (mean +0.014) is within the seed spread, so the default is 1e-4 (above 5e-5), the
    # rate every other measurement used (bench/results/transformers_tagger_yor.md).
    lr: Annotated[float, Field(gt=0, le=1)] = 1e-4
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 16
    epochs: Annotated[int, Field(ge=1, le=1000)] = 3
    max_length: Annotated[int, Field(ge=8, le=8192)] = 256
    fp16: bool = True
    device: str = "auto"
    warmup: Annotated[float, Field(ge=0, le=1)] = 0.1
    weight_decay: Annotated[float, Field(ge=0)] = 0.01
    soft_loss: Literal["mse", "kl"] = "mse"
    temperature: Annotated[float, Field(gt=0)] = 1.0
    soft_weight: Annotated[float, Field(ge=0)] = 1.0
    o_weight: Annotated[float, Field(ge=0)] = 1.0  # loss weight of hard O tokens (<1: recall)
    # The new classification head's learning rate. It starts from random weights on top of
    # hidden states that can be small and alike (e5-small's last layer: per-dimension RMS 0.27,
    # a quarter of it varying between tokens), so at the encoder's rate it barely moves: with
    # 1e-4 for both, 30 Yoruba sentences were still at loss 0.5 after 80 steps.
    head_lr: Annotated[float, Field(gt=0, le=1)] = 3e-3
    # Keep only the first `layers` encoder layers (0: all). Halves e5-small's cost at 6, and its
    # middle layers hold more token-level information than the last one, tuned for sentence
    # embeddings.
    layers: Annotated[int, Field(ge=0, le=1000)] = 0
    clip: Annotated[float, Field(gt=0)] = 1.0  # gradient norm clipping
    # Keep only the sub-word pieces the training (and dev) data uses: see core.models.trim.
    trim_vocab: bool = True
    # Batches of similar lengths (less padding): sort within windows of 50 batches.
    bucket: bool = True
    threads: Annotated[int, Field(ge=0)] = 0  # CPU threads for torch; 0 = torch's default


DEFAULTS = asdict(TransformersParams())


def _load_pretrained(model: str, labels: list[str] | None = None):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from core.models import resolve_model, unloadable

    model = resolve_model(model)

    kwargs = {}
    if labels is not None:
        kwargs = {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {label: k for k, label in enumerate(labels)},
            "ignore_mismatched_sizes": True,  # a new head for our label set
        }
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        network = AutoModelForTokenClassification.from_pretrained(model, **kwargs)
    except OSError as exc:
        if Path(model).exists():
            raise InputError(f"cannot load a token-classification model: {exc}", model) from None
        raise unloadable("model", model, exc) from None
    return tokenizer, network


@TAGGERS.register("transformers")
class TransformersTagger(Tagger):
    name = "transformers"
    options = TransformersParams

    def __init__(
        self,
        model: str = "FacebookAI/xlm-roberta-base",
        labels: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        **params: object,
    ):
        unknown = sorted(set(params) - set(DEFAULTS))
        if unknown:
            raise ConfigError(
                f"unknown transformers tagger option(s) {', '.join(unknown)}; known: "
                + ", ".join(["model", "labels", "types", *sorted(DEFAULTS)])
            )
        if labels is not None and types is not None:
            raise ConfigError("give labels or types, not both")
        self.model_name = str(model)
        self.params = {**DEFAULTS, **params}
        if self.params["soft_loss"] not in ("mse", "kl"):
            raise ConfigError("soft_loss must be 'mse' or 'kl'")
        self._labels = (
            list(labels) if labels is not None else labels_for_types(types) if types else None
        )
        self.tokenizer = None
        self.net = None
        self.device = None

    @property
    def labels(self) -> list[str]:
        if self._labels is None:
            raise ConfigError("the tagger has no label set yet: fit it or give labels/types")
        return self._labels

    def _place(self) -> None:
        import torch

        want = self.params["device"]
        if want == "auto":
            want = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(want)
        self.net.to(self.device)

    def _encode(self, token_lists: Sequence[Sequence[str]]):
        """Sub-word batch + for each row the position of each word's first sub-word (-1: cut)."""
        enc = self.tokenizer(
            [list(t) or [""] for t in token_lists],
            is_split_into_words=True,
            truncation=True,
            max_length=int(self.params["max_length"]),
            padding=True,
            return_tensors="pt",
        )
        firsts = []
        for row, tokens in enumerate(token_lists):
            pos = [-1] * len(tokens)
            for k, word in enumerate(enc.word_ids(row)):
                if word is not None and pos[word] < 0:
                    pos[word] = k
            firsts.append(pos)
        return enc, firsts

    def fit(
        self,
        train: Sequence[Example | Sentence],
        dev: Sequence[Sentence] | None = None,
        epochs: int | None = None,
        seed: int = 0,
        callbacks: Callbacks | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> dict:
        import torch

        callbacks = callbacks or Callbacks()
        p = self.params
        epochs = int(p["epochs"] if epochs is None else epochs)
        examples = [ex for ex in as_examples(train) if ex.tokens]
        for ex in examples:
            ex.tokens = normalise_tokens(ex.tokens)
        if self._labels is None:
            if any(ex.tags is None for ex in examples):
                raise ConfigError("training on probability targets needs labels= or types=")
            self._labels = labels_from_data(examples)
        check_tags(examples, self.labels)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        rng = random.Random(seed)

        self._threads()
        start_epoch = 0
        resume = resolve_dir(Path(checkpoint_dir) / "last") if checkpoint_dir else None
        source = str(resume) if resume is not None else self.model_name
        self.tokenizer, self.net = _load_pretrained(source, self.labels)
        dev = [s for s in dev or () if s.tokens]
        if p["layers"] and resume is None:  # a checkpoint was saved with its layers already cut
            from core.models.trim import keep_first_layers

            keep_first_layers(self.net, int(p["layers"]), self.model_name)
        if p["trim_vocab"] and resume is None:
            self._trim([ex.tokens for ex in examples] + [normalise_tokens(s.tokens) for s in dev])
        self._place()
        net = self.net
        # The fused kernel: on a CPU the default per-tensor AdamW step took ten times longer
        # (1.4 vs 0.13 CPU-s for e5-small's 27M trimmed parameters), as long as the batch itself.
        optimizer = torch.optim.AdamW(
            self._param_groups(),
            lr=float(p["lr"]),
            weight_decay=float(p["weight_decay"]),
            fused=self.device.type in ("cpu", "cuda"),
        )
        steps_per_epoch = math.ceil(len(examples) / int(p["batch_size"]))
        total_steps = max(1, steps_per_epoch * epochs)
        warmup = int(float(p["warmup"]) * total_steps)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min(
                (s + 1) / max(1, warmup), max(0.0, (total_steps - s) / max(1, total_steps - warmup))
            ),
        )
        if resume is not None and (resume / "trainer.pt").exists():
            state = torch.load(resume / "trainer.pt", map_location="cpu", weights_only=False)
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            start_epoch = int(state["epoch"]) + 1
            rng.seed(seed + start_epoch)
        use_fp16 = bool(p["fp16"]) and self.device.type == "cuda"
        scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)
        label_index = {label: k for k, label in enumerate(self.labels)}
        class_weight = torch.ones(len(self.labels), device=self.device)
        class_weight[label_index["O"]] = float(p["o_weight"])
        step, loss_value, started = 0, float("nan"), time.perf_counter()
        best_f1, best_state, dev_f1s = -1.0, None, []
        train_tokens = sum(len(ex.tokens) for ex in examples)
        for epoch in range(start_epoch, epochs):
            net.train()
            running, count = 0.0, 0
            for batch_ids in self._batches([len(ex.tokens) for ex in examples], rng):
                if callbacks.should_stop():
                    raise TrainingCancelled(f"cancelled in epoch {epoch + 1}")
                batch = [examples[i] for i in batch_ids]
                enc, firsts = self._encode([ex.tokens for ex in batch])
                enc = {k: v.to(self.device) for k, v in enc.items()}
                with torch.autocast("cuda", dtype=torch.float16, enabled=use_fp16):
                    logits = net(**enc).logits
                loss = self._loss(logits.float(), batch, firsts, label_index, class_weight)
                optimizer.zero_grad()
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(net.parameters(), float(p["clip"]))
                scaler.step(optimizer)
                scaler.update()
                schedule.step()
                step += 1
                running += float(loss.detach())
                count += 1
                if step % 20 == 0:
                    callbacks.progress(
                        {
                            "step": step,
                            "epoch": epoch + 1,
                            "epochs": epochs,
                            "loss": running / count,
                        }
                    )
            loss_value = running / max(count, 1)
            event = {"step": step, "epoch": epoch + 1, "epochs": epochs, "loss": loss_value}
            if dev:
                from core.evaluate import ner_scores

                f1 = float(
                    ner_scores(
                        [s.tags or ["O"] * len(s) for s in dev],
                        self.predict([s.tokens for s in dev]),
                    )["f1"]
                )
                event["dev_f1"] = f1
                dev_f1s.append(round(f1, 4))
                if f1 > best_f1:
                    best_f1 = f1
                    best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
                net.train()
            callbacks.progress(event)
            if checkpoint_dir:
                state = {
                    "optimizer": optimizer.state_dict(),
                    "schedule": schedule.state_dict(),
                    "epoch": epoch,
                }
                buffer = io.BytesIO()
                torch.save(state, buffer)
                with atomic_dir(Path(checkpoint_dir) / "last", "checkpoint") as tmp:
                    self._write(tmp)
                    write_file(tmp / "trainer.pt", buffer.getvalue())
        seconds = time.perf_counter() - started
        if best_state is not None:  # the dev split picks the epoch
            net.load_state_dict(best_state)
        return {
            "epochs": epochs,
            "resumed_from_epoch": start_epoch,
            "loss": loss_value,
            "best_dev_f1": best_f1 if dev else None,
            "dev_f1_by_epoch": dev_f1s if dev else None,
            "train_sentences": len(examples),
            "train_tokens": train_tokens,
            "vocabulary": int(net.get_input_embeddings().weight.shape[0]),
            "seconds": round(seconds, 2),
            # Words per second of training (dev evaluation included), the embedded tagger's unit.
            "tokens_per_second": round(train_tokens * (epochs - start_epoch) / max(seconds, 1e-9)),
        }

    def _threads(self) -> None:
        import torch

        if int(self.params["threads"]) > 0:
            torch.set_num_threads(int(self.params["threads"]))

    def _param_groups(self) -> list[dict]:
        """The encoder's matrices (weight decay), its biases and LayerNorms (none, as usual), and
        the new head at its own rate (head_lr)."""
        p = self.params
        encoder = {id(q) for q in self.net.base_model.parameters()}
        decay, no_decay, head = [], [], []
        for q in self.net.parameters():
            if id(q) not in encoder:
                head.append(q)
            else:
                (decay if q.ndim >= 2 else no_decay).append(q)
        groups = [
            {"params": decay},
            {"params": no_decay, "weight_decay": 0.0},
            {"params": head, "lr": float(p["head_lr"])},
        ]
        return [g for g in groups if g["params"]]

    def _trim(self, token_lists: Sequence[Sequence[str]]) -> None:
        """Restrict the vocabulary to the pieces these sentences use (core.models.trim)."""
        from core.models.trim import trim_vocabulary, used_ids

        if not getattr(self.tokenizer, "is_fast", False):
            return  # trimming edits the fast tokeniser's tokenizer.json
        trimmed = trim_vocabulary(self.tokenizer, self.net, used_ids(self.tokenizer, token_lists))
        if trimmed is not None:
            self.tokenizer, self.net = trimmed

    def _batches(self, lengths: Sequence[int], rng: random.Random) -> list[list[int]]:
        """Shuffled batches; with `bucket`, sentences of similar length share a batch (sorted
        within windows of 50 batches, then the batches are shuffled)."""
        size = int(self.params["batch_size"])
        order = list(range(len(lengths)))
        rng.shuffle(order)
        if not self.params["bucket"]:
            return [order[b : b + size] for b in range(0, len(order), size)]
        window = size * 50
        batches = []
        for w in range(0, len(order), window):
            chunk = sorted(order[w : w + window], key=lambda i: lengths[i])
            batches += [chunk[b : b + size] for b in range(0, len(chunk), size)]
        rng.shuffle(batches)
        return batches

    def _loss(self, logits, batch: Sequence[Example], firsts, label_index, class_weight):
        import torch

        f = torch.nn.functional
        p = self.params
        total = logits.new_zeros(())
        count = 0
        for row, (ex, pos) in enumerate(zip(batch, firsts)):
            keep = [i for i, k in enumerate(pos) if k >= 0]
            if not keep:
                continue
            z = logits[row, [pos[i] for i in keep]]
            if ex.tags is not None:
                y = torch.tensor([label_index[ex.tags[i]] for i in keep], device=z.device)
                ce = f.cross_entropy(z, y, weight=class_weight, reduction="sum")
                total = total + ex.weight * ce
            else:
                target = torch.from_numpy(np.asarray(ex.probs, np.float32)[keep]).to(z.device)
                if p["soft_loss"] == "mse":
                    per = ((z.softmax(-1) - target) ** 2).sum(-1)
                else:
                    temp = float(p["temperature"])
                    teacher = target.clamp_min(1e-9) ** (1.0 / temp)
                    teacher = teacher / teacher.sum(-1, keepdim=True)
                    per = temp**2 * (teacher * (teacher.log() - f.log_softmax(z / temp, -1))).sum(
                        -1
                    )
                total = total + float(p["soft_weight"]) * ex.weight * per.sum()
            count += len(keep)
        return total / max(count, 1)

    def predict_proba(self, token_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        import torch

        if self.net is None:
            raise ConfigError("the tagger is not trained: fit or load it first")
        self._threads()
        self.net.eval()
        out: list[np.ndarray | None] = [None] * len(token_lists)
        o_row = np.zeros(len(self.labels), np.float32)
        o_row[self.labels.index("O")] = 1.0
        # Sorted by length so that a batch holds little padding; results go back in input order.
        order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
        for b in range(0, len(order), 32):
            rows = order[b : b + 32]
            batch = [normalise_tokens(token_lists[i]) for i in rows]
            enc, firsts = self._encode(batch)
            with (
                torch.no_grad(),
                torch.autocast("cuda", dtype=torch.float16, enabled=self.device.type == "cuda"),
            ):
                logits = self.net(**{k: v.to(self.device) for k, v in enc.items()}).logits
            probs = logits.float().softmax(-1).cpu().numpy()
            for row, pos in enumerate(firsts):
                # Words cut off by max_length get a sure O (they were never seen).
                out[rows[row]] = (
                    np.stack([probs[row, k] if k >= 0 else o_row for k in pos])
                    if pos
                    else np.zeros((0, len(self.labels)), np.float32)
                )
        return out

    def _write(self, folder: Path) -> None:
        self.net.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        save_meta(
            folder,
            {
                "kind": self.name,
                "labels": self.labels,
                "base_model": self.model_name,
                "params": self.params,
            },
        )

    def save(self, path: str | Path) -> None:
        if self.net is None:
            raise ConfigError("nothing to save: the tagger is not trained")
        with atomic_dir(path, "model") as tmp:
            self._write(tmp)

    @classmethod
    def load(cls, path: str | Path) -> TransformersTagger:
        folder = resolve_dir(path)
        if folder is None:
            raise InputError("no saved transformers tagger here (tagger.json missing)", path)
        meta = json.loads((folder / "tagger.json").read_text(encoding="utf-8"))
        tagger = cls(model=str(folder), labels=meta["labels"], **meta["params"])
        tagger.tokenizer, tagger.net = _load_pretrained(str(folder))
        tagger._place()
        return tagger
