"""What the app's Runs page needs from the run manager (core.runs), without a UI: the job config
built from the launch form (checked before anything starts), the table of runs, and one run's
progress in words. Runs launched with `xner runs launch` live in the same registry and show too."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError
from core.experiments.settings import MODES, TrainJob, validate
from core.runs import Run, RunManager
from core.taggers.base import resolve_dir
from core.workbench.paths import allowed_roots

__all__ = [
    "MODES",
    "SIZE_PRESETS",
    "LaunchForm",
    "SizePreset",
    "checkpoint_text",
    "data_files",
    "launch",
    "progress_text",
    "project_language",
    "run_rows",
    "run_state",
    "score_hints",
]


@dataclass(frozen=True)
class SizePreset:
    """How big a training is, on the Runs page and for a retraining from corrections: epochs,
    how many training sentences are read, and the seeds a retraining runs."""

    epochs: int | None  # None: the tagger's default
    sentences: int | None  # None: all of them
    seeds: tuple[int, ...]  # a retraining runs each; a launched run takes the form's seed
    description: str


SIZE_PRESETS: dict[str, SizePreset] = {
    "small": SizePreset(3, 500, (1,), "3 epochs, first 500 training sentences, 1 seed"),
    "medium": SizePreset(8, 5000, (1, 2, 3), "8 epochs, first 5,000 training sentences, 3 seeds"),
    "full": SizePreset(None, None, (1, 2, 3, 4, 5), "the tagger's epochs, all sentences, 5 seeds"),
}
DATA_SUFFIXES = (".conll", ".conllu", ".iob", ".iob2", ".bio", ".tsv", ".txt")
MAX_LISTED_FILES = 500  # a large shared data folder must not stall the page


@dataclass
class LaunchForm:
    """The fields of the launch form; empty strings mean "not given"."""

    mode: str = "direct"
    train: str = ""
    test: str = ""
    unlabelled: str = ""
    teachers: Sequence[str] = field(default_factory=tuple)
    dev: str = ""
    lang: str = ""
    seed: int = 1
    epochs: int | None = None
    tagger: str = "embedded"
    name: str = ""
    sentences: int | None = None  # read only the first N training sentences

    def job(self) -> TrainJob:
        """The training job; missing files are reported here, not in the background."""
        config: dict = {"mode": self.mode, "tagger": self.tagger, "seed": self.seed}
        for key in ("train", "test", "unlabelled", "dev"):
            value = getattr(self, key).strip()
            if value:
                path = Path(value).expanduser()
                if not path.exists():
                    raise ConfigError(f"{key} file not found: {path}")
                config[key] = str(path.resolve())
        if self.sentences is not None and "train" in config:
            config["train"] = {"path": config["train"], "limit": self.sentences}
        teachers = [t.strip() for t in self.teachers if t.strip()]
        if teachers:
            for t in teachers:
                if not Path(t).expanduser().is_dir():
                    raise ConfigError(f"teacher folder not found: {t}")
            config["teachers"] = [{"path": str(Path(t).expanduser().resolve())} for t in teachers]
        if self.epochs is not None:
            config["epochs"] = self.epochs
        if self.lang.strip():
            config["lang"] = self.lang.strip()
        config["name"] = self.name.strip() or "-".join(
            p for p in (config.get("lang", ""), self.mode, f"seed{self.seed}") if p
        )
        return validate(TrainJob, config, "launch form")

    def config(self) -> dict:
        """The job as the run registry stores it."""
        return self.job().to_dict()


def launch(manager: RunManager, form: LaunchForm, executor: str = "local") -> Run:
    config = form.config()
    return manager.launch("train", config, executor=executor, name=config["name"])


def progress_text(run: Run) -> str:
    """One line: stage, epoch/step and loss where the job reports them."""
    p = run.progress or {}
    parts = []
    if p.get("stage"):
        parts.append(str(p["stage"]))
    if p.get("epoch") is not None:
        parts.append(f"epoch {p['epoch']}" + (f"/{p['epochs']}" if p.get("epochs") else ""))
    if p.get("step") is not None:
        parts.append(f"step {p['step']}" + (f"/{p['total']}" if p.get("total") else ""))
    if isinstance(p.get("loss"), int | float):
        parts.append(f"loss {p['loss']:.4f}")
    return " · ".join(parts)


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def run_rows(runs: Sequence[Run]) -> list[dict]:
    """The runs table: newest first, as the registry lists them."""
    rows = []
    for run in runs:
        config = run.config or {}
        metrics = run.metrics if isinstance(run.metrics, dict) else {}
        f1 = metrics.get("f1")
        rows.append(
            {
                "id": run.id,
                "name": run.name,
                "kind": run.kind,
                "mode": config.get("mode", ""),
                "lang": config.get("lang", ""),
                "status": run.status,
                "progress": run.fraction,
                "stage": progress_text(run),
                "F1": round(f1, 4) if isinstance(f1, int | float) else None,
                "started": _when(run.started or run.created),
                "minutes": round(run.duration / 60, 1) if run.duration else None,
                "executor": run.executor,
            }
        )
    return rows


def data_files(roots: Sequence[Path] | None = None) -> list[Path]:
    """Data files a person may pick: under the data home and the configured data folders
    (projects' exports, uploads, shared data), sorted, at most MAX_LISTED_FILES."""
    found: list[Path] = []
    for root in roots if roots is not None else allowed_roots():
        if not root.is_dir():
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "runs")
            for name in sorted(files):
                if name.lower().endswith(DATA_SUFFIXES):
                    found.append(Path(folder) / name)
                    if len(found) >= MAX_LISTED_FILES:
                        return found
    return found


def project_language(project: object | None) -> str:
    """The target language a project was built for ("" when it does not say)."""
    meta = getattr(project, "meta", None) or {}
    lang = str(meta.get("target_lang") or "")
    return "" if lang == "xx" else lang


def checkpoint_text(run: Run) -> str:
    """What the run's checkpoints say was finished, read from its workdir."""
    root = Path(run.workdir) / "checkpoints"
    if not root.is_dir():
        return "nothing was checkpointed; resume starts from the beginning"
    parts = []
    demo = root / "demo.json"
    if demo.is_file():
        step = json.loads(demo.read_text(encoding="utf-8")).get("step", 0)
        total = (run.config or {}).get("steps")
        parts.append(f"{step} step(s)" + (f" of {total}" if total else "") + " finished")
    for stage in sorted(d for d in root.iterdir() if d.is_dir()):
        last = resolve_dir(stage / "last")
        if last is None:
            continue
        epoch = json.loads((last / "tagger.json").read_text(encoding="utf-8")).get("epoch")
        if isinstance(epoch, int):
            parts.append(f"{stage.name}: {epoch + 1} epoch(s) finished")
    if not parts:
        return "nothing was checkpointed; resume starts from the beginning"
    return "; ".join(parts) + "; resume continues from there"


def run_state(run: Run) -> tuple[str, str]:
    """(level, message) for the run's state: level is info, warning, error or success."""
    if run.active and run.cancel_requested:
        return "warning", "Cancelling… it stops at its next checkpoint poll."
    if run.status == "cancelled":
        return "info", f"Cancelled: {checkpoint_text(run)}."
    if run.status == "resumable":
        return "info", f"Stopped without finishing: {checkpoint_text(run)}."
    if run.status == "failed":
        return "error", f"Failed: {run.error or 'no error recorded'}"
    if run.status == "succeeded":
        return "success", "Finished."
    return "info", run.status


def score_hints(run: Run) -> list[str]:
    """Likely reasons for a zero F1 or a type scored n/a, from the run's own metrics."""
    metrics = run.metrics if isinstance(run.metrics, dict) else {}
    per_type = metrics.get("per_type") if isinstance(metrics.get("per_type"), dict) else {}
    hints = []
    f1 = metrics.get("f1")
    if isinstance(f1, int | float) and f1 == 0:
        if not metrics.get("precision") and not metrics.get("recall"):
            hints.append(
                "F1 is 0: no predicted entity matched the test labels — the model may predict "
                "no entities at all (too little training data or too few epochs), or the test "
                "file's entity types differ from the training data's."
            )
        epochs = (run.config or {}).get("epochs")
        if isinstance(epochs, int) and epochs <= 2:
            hints.append(f"Only {epochs} epoch(s) were trained: try the medium or full size.")
    for entity_type, scores in sorted(per_type.items()):
        if isinstance(scores, dict) and scores.get("support") == 0:
            hints.append(
                f"{entity_type} is n/a: the test file has no {entity_type} entities, so it "
                "cannot be scored."
            )
    return hints
