"""The tagger interface: fit on hard tags or per-token probability targets, predict tags or
distributions, save and load. Also: training callbacks, atomic directory saves, label maps."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data.formats import nfc
from core.data.tags import is_valid_tag
from core.data.types import Sentence
from core.errors import ConfigError, InputError, XnerError
from core.registry import Registry

TAGGERS: Registry[Tagger] = Registry(
    "tagger", backends=("core.taggers.embedded", "core.taggers.transformers_tagger")
)


class TrainingCancelled(XnerError):
    """`should_stop` returned True; the last completed epoch's checkpoint is kept for resume."""


class CheckpointError(XnerError, OSError):
    """A checkpoint or model could not be written (e.g. disk full); the previous one is intact."""


@dataclass
class Example:
    """One training sentence: hard IOB2 `tags`, or `probs` (tokens x labels, rows sum to 1) whose
    columns follow the tagger's `labels`. `weight` scales the sentence's loss."""

    tokens: list[str]
    tags: list[str] | None = None
    probs: np.ndarray | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if (self.tags is None) == (self.probs is None):
            raise ValueError("an Example needs exactly one of tags or probs")
        n = len(self.tokens)
        if self.tags is not None and len(self.tags) != n:
            raise ValueError(f"{n} tokens but {len(self.tags)} tags")
        if self.probs is not None and (self.probs.ndim != 2 or self.probs.shape[0] != n):
            raise ValueError(f"{n} tokens but probability targets of shape {self.probs.shape}")


def as_examples(data: Sequence[Example | Sentence]) -> list[Example]:
    out = []
    for n, item in enumerate(data):
        if isinstance(item, Example):
            out.append(item)
        elif item.tags is None:
            raise InputError(f"training sentence {n} ({item.id!r}) has no tags")
        else:
            out.append(Example(list(item.tokens), list(item.tags)))
    return out


@dataclass
class Callbacks:
    """`progress` gets {step, epoch, epochs, loss, ...} now and then; `should_stop` is polled
    every few steps (a cancelled run raises TrainingCancelled)."""

    progress: Callable[[dict], None] = field(default=lambda _event: None)
    should_stop: Callable[[], bool] = field(default=lambda: False)


def labels_for_types(types: Sequence[str]) -> list[str]:
    """O, then B-/I- of each type, in the given order."""
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def types_of(labels: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for label in labels:
        if label != "O" and label[2:] not in seen:
            seen.append(label[2:])
    return seen


def labels_from_data(examples: Sequence[Example]) -> list[str]:
    types: list[str] = []
    for ex in examples:
        for tag in ex.tags or ():
            if tag != "O" and tag[2:] not in types:
                types.append(tag[2:])
    return labels_for_types(sorted(types))


def check_tags(examples: Sequence[Example], labels: Sequence[str], where: str = "training data"):
    """Every hard tag must be one of `labels`: a type the model does not know is an error."""
    known = set(labels)
    for n, ex in enumerate(examples):
        for i, tag in enumerate(ex.tags or ()):
            if not is_valid_tag(tag):
                raise InputError(f"{where}: sentence {n}, token {i}: tag {tag!r} is not IOB2")
            if tag not in known:
                raise InputError(
                    f"{where}: sentence {n}, token {i} ({ex.tokens[i]!r}): tag {tag!r} is not "
                    f"in the model's label set ({', '.join(labels)}); map or drop that type "
                    "first (e.g. labels_keep in the training config)"
                )
        if ex.probs is not None and ex.probs.shape[1] != len(labels):
            raise InputError(
                f"{where}: sentence {n}: {ex.probs.shape[1]} probability columns but the model "
                f"has {len(labels)} labels"
            )


def remap_probs(probs: np.ndarray, source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Reorder distribution columns from `source` labels to `target` labels; mass on labels the
    target lacks (e.g. a teacher's MISC) goes to O."""
    index = {label: k for k, label in enumerate(target)}
    out = np.zeros((probs.shape[0], len(target)), dtype=np.float32)
    for k, label in enumerate(source):
        out[:, index.get(label, index["O"])] += probs[:, k]
    return out


def normalise_tokens(tokens: Sequence[str]) -> list[str]:
    return [nfc(t) for t in tokens]


# --------------------------------------------------------------------------- atomic saving


def write_file(path: Path, data: bytes) -> None:
    """Every byte a tagger saves goes through here (tests simulate a full disk by patching it)."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@contextmanager
def atomic_dir(path: str | Path, what: str = "model") -> Iterator[Path]:
    """Yield a fresh temporary folder beside `path`; on success it replaces `path` in two renames
    (the old copy is kept as `path.old` until the new one is in place). On any error the
    temporary folder is removed and `path` is untouched; an OSError becomes a CheckpointError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = path.with_name(path.name + ".old")
    try:
        yield tmp
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        kept = "the previous one is intact" if resolve_dir(path) else "nothing was written"
        raise CheckpointError(f"cannot save {what} to {path}: {reason}; {kept}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def resolve_dir(path: str | Path) -> Path | None:
    """`path`, or its `.old` copy when a crash fell between the two renames of atomic_dir."""
    path = Path(path)
    if (path / "tagger.json").exists():
        return path
    old = path.with_name(path.name + ".old")
    if (old / "tagger.json").exists():
        return old
    return None


# --------------------------------------------------------------------------- interface


class Tagger(ABC):
    """A sequence tagger over IOB2 labels. Subclasses register in TAGGERS under `name`."""

    name: str = ""

    @property
    @abstractmethod
    def labels(self) -> list[str]: ...

    @abstractmethod
    def fit(
        self,
        train: Sequence[Example | Sentence],
        dev: Sequence[Sentence] | None = None,
        epochs: int | None = None,
        seed: int = 0,
        callbacks: Callbacks | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> dict:
        """Train; returns a summary (epochs run, final loss, best dev F1...). With a
        `checkpoint_dir` holding a checkpoint of the same run, training resumes after it."""

    @abstractmethod
    def predict_proba(self, token_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Per-token label distributions, tokens x len(labels), columns in `labels` order."""

    def predict(self, token_lists: Sequence[Sequence[str]]) -> list[list[str]]:
        """Best IOB2 sequence per sentence (Viterbi with I- only after B-/I- of its type)."""
        return [
            viterbi_iob2(p, self.labels) if len(p) else [] for p in self.predict_proba(token_lists)
        ]

    @abstractmethod
    def save(self, path: str | Path) -> None: ...

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> Tagger: ...


def viterbi_iob2(probs: np.ndarray, labels: Sequence[str]) -> list[str]:
    """Most probable tag sequence under the IOB2 constraint (no I-X after O or another type)."""
    n, k = probs.shape
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    allowed = np.ones((k, k), dtype=bool)  # allowed[prev, cur]
    start_ok = np.ones(k, dtype=bool)
    for c, cur in enumerate(labels):
        if cur.startswith("I-"):
            start_ok[c] = False
            for p, prev in enumerate(labels):
                allowed[p, c] = prev != "O" and prev[2:] == cur[2:]
    penalty = np.where(allowed, 0.0, -1e9)
    score = logp[0] + np.where(start_ok, 0.0, -1e9)
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        total = score[:, None] + penalty
        back[t] = total.argmax(0)
        score = total.max(0) + logp[t]
    best = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return [labels[i] for i in reversed(best)]


def save_meta(folder: Path, meta: dict) -> None:
    write_file(folder / "tagger.json", json.dumps(meta, ensure_ascii=False, indent=1).encode())


def load_tagger(path: str | Path) -> Tagger:
    """Load a saved tagger of any registered kind (the folder's tagger.json names it)."""
    folder = resolve_dir(path)
    if folder is None:
        raise InputError("no saved tagger here (tagger.json missing)", path)
    meta = json.loads((folder / "tagger.json").read_text(encoding="utf-8"))
    if meta.get("kind") not in TAGGERS:
        raise ConfigError(f"{path}: unknown tagger kind {meta.get('kind')!r}")
    return TAGGERS.get(meta["kind"]).load(folder)  # type: ignore[attr-defined]
