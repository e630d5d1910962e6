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
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from core.data.formats import read_conll, read_lines
from core.data.tags import map_tags
from core.data.types import Sentence
from core.errors import ConfigError, InputError
from core.evaluate import ner_scores
from core.taggers import Callbacks, Example, Tagger, get_tagger, load_tagger
from core.taggers.base import labels_for_types, remap_probs, resolve_dir, types_of

MODES = ("direct", "distill", "model-transfer")
MAIN_TYPES = ("PER", "ORG", "LOC")

CONFIG_KEYS = {
    "mode": "direct | distill | model-transfer",
    "tagger": "tagger name (embedded, transformers)",
    "tagger_params": "options of the tagger (e.g. hidden, word_dropout, model)",
    "train": "labelled training data: projected target data, or source data (model-transfer)",
    "source_gold": "direct only: labelled source-language data added to the projected data",
    "source_weight": "loss weight of source_gold sentences (default 1)",
    "unlabelled": "distill: unlabelled target text the teachers label",
    "teachers": "distill: saved tagger folders [{path, weight}]; default: train one on `train`",
    "teacher_weights": "distill: 'uniform' or a list of numbers, one per teacher",
    "teacher_params": "distill: tagger_params of the teacher trained on `train` (default same)",
    "teacher_epochs": "distill: epochs of that teacher (default `epochs`)",
    "hard_weight": "distill: weight of `train`'s hard labels mixed in (0 = teachers only)",
    "dev": "labelled dev data for model selection (optional)",
    "test": "labelled target test data",
    "types": "entity types of the main score (default PER ORG LOC)",
    "report_types": "types scored separately (e.g. DATE)",
    "labels_keep": "entity types kept in the training data (others become O)",
    "seed": "random seed",
    "epochs": "training epochs (default: the tagger's)",
    "lang": "target language code (for tokenising raw text)",
    "name": "a label for this job",
    "save_model": "save the trained tagger under WORKDIR/model (default true)",
    "model": "a saved tagger folder: evaluate it instead of training (e.g. one model-transfer "
    "model on several target languages)",
}

Report = Callable[[dict], None]
StopCheck = Callable[[], bool]

# --------------------------------------------------------------------------- data


def _spec(spec: object, key: str) -> dict:
    if isinstance(spec, str | Path):
        return {"path": str(spec), "format": "auto"}
    if isinstance(spec, dict) and "path" in spec:
        unknown = set(spec) - {"path", "format", "limit", "weight"}
        if unknown:
            raise ConfigError(f"{key}: unknown data option(s) {', '.join(sorted(unknown))}")
        return {"format": "auto", **spec}
    raise ConfigError(f"{key}: expected a path or {{path, format}}, got {spec!r}")


def _specs(value: object, key: str) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    return [_spec(v, key) for v in items]


def load_labelled(value: object, key: str) -> list[Sentence]:
    """Labelled sentences from one or more CoNLL-style files (`format`: auto or a flavour)."""
    out: list[Sentence] = []
    for spec in _specs(value, key):
        fmt = spec["format"]
        if fmt in ("text", "tokens"):
            raise ConfigError(f"{key}: {spec['path']} must be labelled (CoNLL), not {fmt}")
        sentences = read_conll(spec["path"], fmt="auto" if fmt in ("auto", "conll") else fmt)
        out += sentences[: spec.get("limit")]
    return out


def load_unlabelled(value: object, key: str, lang: str = "xx") -> list[list[str]]:
    """Token lists: `tokens` = one pre-tokenised sentence per line (whitespace), `text` = raw
    text tokenised for `lang`, CoNLL files = their tokens (labels ignored)."""
    out: list[list[str]] = []
    for spec in _specs(value, key):
        fmt, path = spec["format"], spec["path"]
        if fmt == "auto":
            fmt = "tokens" if str(path).endswith(".txt") and not _looks_conll(path) else "conll"
        if fmt == "tokens":
            token_lists = [line.split() for line in read_lines(path, allow_empty_lines=True)]
        elif fmt == "text":
            from core.data.tokenize import Tokenizer

            tokenizer = Tokenizer(lang)
            token_lists = [tokenizer(line) for line in read_lines(path, allow_empty_lines=True)]
        else:
            token_lists = [s.tokens for s in load_labelled({"path": path, "format": fmt}, key)]
        out += [t for t in token_lists if t][: spec.get("limit")]
    return out


def _looks_conll(path: str) -> bool:
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
    """Main entity-level scores over `types`, plus `by_type` for each type incl. report_types."""
    started = time.perf_counter()
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


def check_config(config: dict) -> None:
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown training option(s) {', '.join(unknown)}; known: "
            + ", ".join(sorted(CONFIG_KEYS))
        )
    mode = config.get("mode")
    if mode not in MODES:
        raise ConfigError(f"unknown training mode {mode!r}; known: {', '.join(MODES)}")
    if "test" not in config:
        raise ConfigError("a training job needs `test` data to evaluate on")
    if "model" in config:
        return
    if mode == "distill":
        if "unlabelled" not in config:
            raise ConfigError("mode distill needs `unlabelled` target text")
        if "teachers" not in config and "train" not in config:
            raise ConfigError("mode distill needs `teachers` or `train` data to train a teacher")
    elif "train" not in config:
        raise ConfigError(f"mode {mode} needs `train` data")
    if mode != "direct" and "source_gold" in config:
        raise ConfigError("source_gold applies to mode direct only")


def train_job(config: dict, report: Report, should_stop: StopCheck, workdir: str | Path) -> dict:
    """Run one training job as configured; returns its metrics. Checkpoints live under
    WORKDIR/checkpoints, so calling it again with the same WORKDIR resumes; a finished teacher
    (WORKDIR/teacher) is reused."""
    check_config(config)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    mode = config["mode"]
    seed = int(config.get("seed", 0))
    epochs = config.get("epochs")
    tagger = config.get("tagger", "embedded")
    params = dict(config.get("tagger_params") or {})
    keep = config.get("labels_keep")
    types = tuple(config.get("types") or MAIN_TYPES)
    report_types = tuple(config.get("report_types") or ())
    lang = config.get("lang", "xx")
    dev = keep_types(load_labelled(config["dev"], "dev"), keep) if "dev" in config else None
    test = load_labelled(config["test"], "test")
    checkpoints = workdir / "checkpoints"
    started = time.perf_counter()
    report({"stage": "load", "mode": mode})
    common = dict(dev=dev, epochs=epochs, seed=seed, report=report, should_stop=should_stop)

    if "model" in config:
        model, info = load_tagger(config["model"]), {"evaluated": str(config["model"])}
        config = {**config, "save_model": False}
    elif mode in ("direct", "model-transfer"):
        train = keep_types(load_labelled(config["train"], "train"), keep)
        source_gold = (
            keep_types(load_labelled(config["source_gold"], "source_gold"), keep)
            if "source_gold" in config
            else []
        )
        extra = {"source_gold": source_gold, "source_weight": float(config.get("source_weight", 1))}
        model, info = (train_direct if mode == "direct" else train_model_transfer)(
            train,
            tagger=tagger,
            tagger_params=params,
            checkpoint_dir=checkpoints / mode,
            **(extra if mode == "direct" else {}),
            **common,
        )
    else:
        unlabelled = load_unlabelled(config["unlabelled"], "unlabelled", lang)
        hard = (
            keep_types(load_labelled(config["train"], "train"), keep) if "train" in config else []
        )
        teachers: list[Tagger] = []
        weights: list[float] | None = None
        specs = config.get("teachers")
        if specs:
            teachers = [load_tagger(_spec(t, "teachers")["path"]) for t in specs]
            given = [t.get("weight") for t in specs if isinstance(t, dict)]
            if any(g is not None for g in given):
                weights = [float(t.get("weight", 1.0)) for t in specs]  # type: ignore[union-attr]
        else:
            teachers = [_teacher(config, hard, params, dev, seed, report, should_stop, workdir)]
        tw = config.get("teacher_weights", "uniform")
        if tw != "uniform":
            if not isinstance(tw, list):
                raise ConfigError("teacher_weights must be 'uniform' or a list of numbers")
            weights = [float(x) for x in tw]
        model, info = train_distill(
            unlabelled,
            teachers,
            teacher_weights=weights,
            hard=hard,
            hard_weight=float(config.get("hard_weight", 0.0)),
            tagger=tagger,
            tagger_params=params,
            checkpoint_dir=checkpoints / "student",
            **common,
        )
    report({"stage": "evaluate"})
    metrics = evaluate(model, test, types, report_types)
    metrics["train"] = info
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    if config.get("save_model", True):
        model.save(workdir / "model")
        metrics["model_path"] = str(workdir / "model")
    (workdir / "metrics.json").write_text(json.dumps(metrics, indent=1))
    report({"stage": "done", "f1": metrics["f1"]})
    return metrics


def _teacher(config, hard, params, dev, seed, report, should_stop, workdir) -> Tagger:
    """Distillation's default teacher: a direct tagger on the projected data, saved and reused."""
    folder = workdir / "teacher"
    if resolve_dir(folder) is not None:
        return load_tagger(folder)
    if not hard:
        raise InputError("no labelled `train` data to train a teacher on")
    model, _ = train_direct(
        hard,
        tagger=config.get("tagger", "embedded"),
        tagger_params=dict(config.get("teacher_params") or params),
        dev=dev,
        epochs=config.get("teacher_epochs", config.get("epochs")),
        seed=seed,
        report=report,
        should_stop=should_stop,
        checkpoint_dir=workdir / "checkpoints" / "teacher",
        stage="teacher",
    )
    model.save(folder)
    return model
