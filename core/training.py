"""Training modes and the single entry point the run manager calls (`train_job`).

- `direct`: fit a tagger on projected target data (hard labels), optionally with source gold;
- `distill`: teacher-student after Wu et al. (2020): one or more teachers give per-token label
  distributions on UNLABELLED target text; the student fits them (MSE, or KL with a
  temperature); teachers are weighted uniformly or by given weights; projected hard labels can be
  mixed in;
- `model-transfer`: fit on the source language only and tag the target language.

Evaluation is entity-level (core.evaluate.ner_scores): the main score over `types` (PER/ORG/LOC by
default) and each of `report_types` (e.g. DATE) separately.
"""

from __future__ import annotations

import json
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from core.data.formats import atomic_write, read_conll, read_lines
from core.data.tags import map_tags
from core.data.types import Sentence
from core.errors import ConfigError, InputError
from core.evaluate import ner_scores
from core.experiments.settings import MAIN_TYPES, DataSpec, TrainJob, validate
from core.taggers import Callbacks, Example, Tagger, get_tagger, load_tagger
from core.taggers.base import labels_for_types, remap_probs, resolve_dir, types_of

Report = Callable[[dict], None]
StopCheck = Callable[[], bool]

# --------------------------------------------------------------------------- data


def _specs(value: object, key: str) -> list[DataSpec]:
    """DataSpecs from a path, a {path, format, limit} mapping or a list of them."""
    if isinstance(value, DataSpec):
        return [value]
    items = value if isinstance(value, list) else [value]
    if all(isinstance(v, DataSpec) for v in items):
        return list(items)
    return [validate(DataSpec, v, key) for v in items]


def _taken(items: list, spec: DataSpec, seed: int) -> list:
    """The first `limit` items, then a random `sample` of them drawn with `seed`, in file order."""
    items = items[: spec.limit]
    if spec.sample is not None and spec.sample < len(items):
        kept = sorted(random.Random(seed).sample(range(len(items)), spec.sample))
        items = [items[i] for i in kept]
    return items


def load_labelled(value: object, key: str, seed: int = 0) -> list[Sentence]:
    """Labelled sentences from one or more CoNLL-style files (`format`: auto or a flavour);
    `seed` draws a spec's `sample`."""
    out: list[Sentence] = []
    for spec in _specs(value, key):
        fmt = spec.format
        if fmt in ("text", "tokens"):
            raise ConfigError(f"{key}: {spec.path} must be labelled (CoNLL), not {fmt}")
        sentences = read_conll(spec.path, fmt="auto" if fmt in ("auto", "conll") else fmt)
        out += _taken(sentences, spec, seed)
    return out


def load_unlabelled(value: object, key: str, lang: str = "xx", seed: int = 0) -> list[list[str]]:
    """Token lists: `tokens` = one pre-tokenised sentence per line (whitespace), `text` = raw
    text tokenised for `lang`, CoNLL files = their tokens (labels ignored); `seed` draws a
    spec's `sample` (of the non-empty sentences)."""
    out: list[list[str]] = []
    for spec in _specs(value, key):
        fmt, path = spec.format, spec.path
        if fmt == "auto":
            fmt = "tokens" if str(path).endswith(".txt") and not looks_conll(path) else "conll"
        if fmt == "tokens":
            token_lists = [line.split() for line in read_lines(path, allow_empty_lines=True)]
        elif fmt == "text":
            from core.data.tokenize import Tokenizer

            tokenizer = Tokenizer(lang)
            token_lists = [tokenizer(line) for line in read_lines(path, allow_empty_lines=True)]
        else:
            token_lists = [s.tokens for s in load_labelled({"path": path, "format": fmt}, key)]
        out += _taken([t for t in token_lists if t], spec, seed)
    return out


def looks_conll(path: str) -> bool:
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().split()
    return len(first) == 2 and (first[1] == "O" or first[1][:2] in ("B-", "I-"))


def keep_types(sentences: Sequence[Sentence], types: Sequence[str] | None) -> list[Sentence]:
    if types is None:
        return list(sentences)
    return [
        Sentence(s.tokens, map_tags(s.tags, keep=types) if s.tags else None, s.id, s.lang)
        for s in sentences
    ]


# --------------------------------------------------------------------------- evaluation


def evaluate(
    tagger: Tagger,
    test: Sequence[Sentence],
    types: Sequence[str] = MAIN_TYPES,
    report_types: Sequence[str] = ("DATE",),
) -> dict:
    """Main entity-level scores over `types`, plus `per_type` for each type incl. report_types.
    A type the tagger cannot predict (not in its labels: e.g. DATE for a model trained on
    CoNLL) is scored `None` with `predictable: false`, not a misleading 0."""
    started = time.perf_counter()
    predictable = set(types_of(tagger.labels))
    pred = tagger.predict([s.tokens for s in test])
    gold = [s.tags or ["O"] * len(s) for s in test]
    scores = ner_scores(gold, pred, types)
    for extra in report_types:
        with warnings.catch_warnings():  # seqeval averages over nothing when a type is absent
            warnings.simplefilter("ignore", RuntimeWarning)
            sub = ner_scores(gold, pred, [extra])
        scores["per_type"][extra] = sub["per_type"].get(
            extra, {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        )
    for t, entry in scores["per_type"].items():
        if t not in predictable:
            entry.update(f1=None, precision=None, recall=None, predictable=False)
    scores["test_sentences"] = len(test)
    scores["predict_seconds"] = round(time.perf_counter() - started, 2)
    return scores


# --------------------------------------------------------------------------- the three modes


def _fit(
    tagger: Tagger,
    data: Sequence[Example | Sentence],
    dev: Sequence[Sentence] | None,
    epochs: int | None,
    seed: int,
    report: Report,
    should_stop: StopCheck,
    checkpoint_dir: Path | None,
    stage: str,
) -> dict:
    callbacks = Callbacks(
        progress=lambda event: report({"stage": stage, **event}), should_stop=should_stop
    )
    return tagger.fit(data, dev, epochs, seed, callbacks, checkpoint_dir)


def train_direct(
    train: Sequence[Sentence],
    *,
    tagger: str = "embedded",
    tagger_params: dict | None = None,
    source_gold: Sequence[Sentence] = (),
    source_weight: float = 1.0,
    types: Sequence[str] | None = None,
    dev: Sequence[Sentence] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    report: Report = lambda _e: None,
    should_stop: StopCheck = lambda: False,
    checkpoint_dir: Path | None = None,
    stage: str = "direct",
) -> tuple[Tagger, dict]:
    """Fit on projected target sentences (hard labels), plus source gold when given."""
    data: list[Example | Sentence] = list(train)
    data += [Example(list(s.tokens), list(s.tags), weight=source_weight) for s in source_gold]
    # With `types` the label set is fixed (a tag outside it is an error); else it is the data's.
    typed = {"types": list(types)} if types is not None else {}
    model = get_tagger(tagger, **typed, **(tagger_params or {}))
    info = _fit(model, data, dev, epochs, seed, report, should_stop, checkpoint_dir, stage)
    return model, info


def teacher_distributions(
    teachers: Sequence[Tagger],
    weights: Sequence[float] | None,
    token_lists: Sequence[Sequence[str]],
    labels: Sequence[str],
) -> list[np.ndarray]:
    """Weighted average of the teachers' per-token distributions, in the student's label order
    (weights are normalised; None = uniform, as in Wu et al.'s multi-source setting)."""
    if not teachers:
        raise ConfigError("distillation needs at least one teacher")
    w = np.ones(len(teachers)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(w) != len(teachers) or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"teacher weights {list(w)} do not fit {len(teachers)} teachers")
    w = w / w.sum()
    total: list[np.ndarray] | None = None
    for weight, teacher in zip(w, teachers):
        probs = [remap_probs(p, teacher.labels, labels) for p in teacher.predict_proba(token_lists)]
        total = (
            [weight * p for p in probs]
            if total is None
            else [t + weight * p for t, p in zip(total, probs)]
        )
    return total  # type: ignore[return-value]


def train_distill(
    unlabelled: Sequence[Sequence[str]],
    teachers: Sequence[Tagger],
    *,
    teacher_weights: Sequence[float] | None = None,
    hard: Sequence[Sentence] = (),
    hard_weight: float = 0.0,
    tagger: str = "embedded",
    tagger_params: dict | None = None,
    dev: Sequence[Sentence] | None = None,
    epochs: int | None = None,
    seed: int = 0,
    report: Report = lambda _e: None,
    should_stop: StopCheck = lambda: False,
    checkpoint_dir: Path | None = None,
) -> tuple[Tagger, dict]:
    """The student learns the teachers' (weighted) distributions on unlabelled target text,
    plus, with hard_weight > 0, the hard labels of `hard` (e.g. the projected data)."""
    labels: list[str] = []
    for teacher in teachers:
        labels += [t for t in types_of(teacher.labels) if t not in labels]
    labels = labels_for_types(labels)
    report({"stage": "teacher-labels", "sentences": len(unlabelled)})
    probs = teacher_distributions(teachers, teacher_weights, unlabelled, labels)
    data: list[Example | Sentence] = [
        Example(list(tokens), probs=p) for tokens, p in zip(unlabelled, probs) if len(tokens)
    ]
    if hard_weight > 0:
        data += [Example(list(s.tokens), list(s.tags), weight=hard_weight) for s in hard]
    student = get_tagger(tagger, labels=labels, **(tagger_params or {}))
    info = _fit(student, data, dev, epochs, seed, report, should_stop, checkpoint_dir, "student")
    info["teachers"] = len(teachers)
    return student, info


def train_model_transfer(source: Sequence[Sentence], **kwargs: object) -> tuple[Tagger, dict]:
    """Fit on source-language gold only (the target language is seen at test time only)."""
    return train_direct(source, stage="model-transfer", **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the job entry


def finite(value: object) -> object:
    """`value` with NaN and infinities replaced by None: JSON has no NaN (an untrained model's
    loss is one)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def as_job(job: TrainJob | dict) -> TrainJob:
    """A TrainJob from itself or its JSON form (as the run registry stores it)."""
    return job if isinstance(job, TrainJob) else validate(TrainJob, job, "train job")


def train_job(
    job: TrainJob | dict, report: Report, should_stop: StopCheck, workdir: str | Path
) -> dict:
    """Run one training job; returns its metrics (also written to WORKDIR/metrics.json).
    Checkpoints live under WORKDIR/checkpoints, so calling it again with the same WORKDIR
    resumes; a finished teacher (WORKDIR/teacher) is reused."""
    job = as_job(job)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    keep = job.labels_keep
    dev = keep_types(load_labelled(job.dev, "dev"), keep) if job.dev else None
    test = load_labelled(job.test, "test")
    checkpoints = workdir / "checkpoints"
    started = time.perf_counter()
    report({"stage": "load", "mode": job.mode})
    common = dict(dev=dev, epochs=job.epochs, seed=job.seed, report=report,
                  should_stop=should_stop)  # fmt: skip
    params = dict(job.tagger_params)
    save_model = job.save_model
    if job.model is not None:
        model, info = load_tagger(job.model), {"evaluated": job.model}
        save_model = False
    elif job.mode in ("direct", "model-transfer"):
        train = keep_types(load_labelled(job.train, "train", job.seed), keep)
        source_gold = (
            keep_types(load_labelled(job.source_gold, "source_gold"), keep)
            if job.source_gold
            else []
        )
        extra = {"source_gold": source_gold, "source_weight": job.source_weight}
        model, info = (train_direct if job.mode == "direct" else train_model_transfer)(
            train,
            tagger=job.tagger,
            tagger_params=params,
            checkpoint_dir=checkpoints / job.mode,
            **(extra if job.mode == "direct" else {}),
            **common,
        )
    else:
        unlabelled = load_unlabelled(job.unlabelled, "unlabelled", job.lang, job.seed)
        hard = keep_types(load_labelled(job.train, "train", job.seed), keep) if job.train else []
        weights: list[float] | None = None
        if job.teachers:
            teachers = [load_tagger(t.path) for t in job.teachers]
            if any(t.weight is not None for t in job.teachers):
                weights = [1.0 if t.weight is None else t.weight for t in job.teachers]
        else:
            teachers = [_teacher(job, hard, dev, report, should_stop, workdir)]
        if job.teacher_weights != "uniform":
            weights = list(job.teacher_weights)
        model, info = train_distill(
            unlabelled,
            teachers,
            teacher_weights=weights,
            hard=hard,
            hard_weight=job.hard_weight,
            tagger=job.tagger,
            tagger_params=params,
            checkpoint_dir=checkpoints / "student",
            **common,
        )
    report({"stage": "evaluate"})
    metrics = evaluate(model, test, job.types, job.report_types)
    metrics["train"] = info
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    if save_model:
        model.save(workdir / "model")
        metrics["model_path"] = str(workdir / "model")
    metrics = finite(metrics)
    with atomic_write(workdir / "metrics.json") as handle:
        json.dump(metrics, handle, indent=1, allow_nan=False)
    report({"stage": "done", "f1": metrics["f1"]})
    return metrics


def _teacher(job: TrainJob, hard, dev, report, should_stop, workdir: Path) -> Tagger:
    """Distillation's default teacher: a direct tagger on the projected data, saved and reused."""
    folder = workdir / "teacher"
    if resolve_dir(folder) is not None:
        return load_tagger(folder)
    if not hard:
        raise InputError("no labelled `train` data to train a teacher on")
    model, _ = train_direct(
        hard,
        tagger=job.tagger,
        tagger_params=dict(
            job.teacher_params if job.teacher_params is not None else job.tagger_params
        ),  # fmt: skip
        dev=dev,
        epochs=job.teacher_epochs or job.epochs,
        seed=job.seed,
        report=report,
        should_stop=should_stop,
        checkpoint_dir=workdir / "checkpoints" / "teacher",
        stage="teacher",
    )
    model.save(folder)
    return model
