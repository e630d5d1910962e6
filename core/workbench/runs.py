"""What the app's Runs page needs from the run manager (core.runs), without a UI: the job config
built from the launch form (checked before anything starts), the table of runs, and one run's
progress in words. Runs launched with `xner runs launch` live in the same registry and show too."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError
from core.experiments.settings import MODES, TrainJob, validate
from core.runs import Run, RunManager

__all__ = ["MODES", "LaunchForm", "launch", "progress_text", "run_rows"]


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
