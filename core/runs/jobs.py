"""What a run can do: job kinds by name. A job is `function(config, report, should_stop, workdir)
-> metrics`; it reports progress dicts ({stage, step, total, epoch, epochs, loss, fraction, ...}),
polls `should_stop` and returns early (or raises) when it says so, and keeps its checkpoints in
`workdir`, so calling it again with the same workdir resumes.

- `train`: core.training.train_job (imported only when a train run starts: torch is slow to load);
- `demo`: a few short steps with made-up F1 scores, checkpointed every step (tests, app demo);
- `sleep`: waits `seconds`, polling should_stop (tests of cancellation);
- `project-shard`: one shard of `xner project` (`args` without the project command itself,
  `shard` [index, count]), so N shards run as N runs on any executor (local, slurm).
"""

from __future__ import annotations

import json
import logging
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.data.formats import atomic_write
from core.registry import Registry

Report = Callable[[dict], None]
StopCheck = Callable[[], bool]
log = logging.getLogger("xner.jobs")
JobFunction = Callable[[dict, Report, StopCheck, Path], dict]


@dataclass(frozen=True)
class Job:
    run: JobFunction
    check: Callable[[dict], None] = lambda _config: None  # raises ConfigError before launch
    description: str = ""


JOBS: Registry[Job] = Registry("job kind")


def job(name: str, description: str = "", check: Callable[[dict], None] | None = None):
    def decorate(function: JobFunction) -> JobFunction:
        JOBS.register(name)(lambda: Job(function, check or (lambda _c: None), description))
        return function

    return decorate


def get_job(name: str) -> Job:
    return JOBS.create(name)


# --------------------------------------------------------------------------- train


def _check_train(config: dict) -> None:
    from core.experiments.settings import TrainJob, validate

    validate(TrainJob, config, "train job")


@job("train", "core.training.train_job: direct, distill or model-transfer", _check_train)
def train(config: dict, report: Report, should_stop: StopCheck, workdir: Path) -> dict:
    from core.training import train_job

    return train_job(config, report, should_stop, workdir)


# --------------------------------------------------------------------------- demo, sleep

DEMO_MODE_F1 = {"model-transfer": 0.30, "direct": 0.45, "distill": 0.50}


def _demo_job(config: dict):
    from core.experiments.settings import DemoJob, validate

    return validate(DemoJob, config, "demo job")


def _check_demo(config: dict) -> None:
    _demo_job(config)


def demo_metrics(config: dict) -> dict:
    """Deterministic made-up scores: a base per mode plus seed noise (same config, same F1)."""
    demo = _demo_job(config)
    rng = random.Random(zlib.crc32(f"{demo.lang}/{demo.mode}/{demo.seed}".encode()))
    base = demo.base_f1 if demo.base_f1 is not None else DEMO_MODE_F1[demo.mode]
    per_type = {}
    for entity_type in demo.types:
        f1 = min(1.0, max(0.0, base + rng.uniform(-0.1, 0.1)))
        per_type[entity_type] = {"f1": f1, "precision": f1, "recall": f1, "support": 100}
    f1 = sum(v["f1"] for v in per_type.values()) / max(len(per_type), 1)
    return {"f1": f1, "precision": f1, "recall": f1, "per_type": per_type}


@job("demo", "a few short checkpointed steps with made-up scores", _check_demo)
def demo(config: dict, report: Report, should_stop: StopCheck, workdir: Path) -> dict:
    demo = _demo_job(config)
    steps, pause = demo.steps, demo.step_seconds
    checkpoint = Path(workdir) / "checkpoints" / "demo.json"
    step = json.loads(checkpoint.read_text())["step"] if checkpoint.exists() else 0
    if step:
        log.info("demo: resuming after step %d", step)
    while step < steps:
        if should_stop():
            log.info("demo: stopped after step %d", step)
            raise JobCancelled(f"cancelled after step {step} of {steps}")
        if demo.fail_at == step + 1:
            raise RuntimeError(f"demo failure at step {step + 1} (fail_at)")
        time.sleep(pause)
        step += 1
        with atomic_write(checkpoint) as handle:
            handle.write(json.dumps({"step": step}))
        loss = 1.0 / step
        report({"stage": "demo", "step": step, "total": steps, "loss": loss})
        log.info("demo: step %d/%d loss %.3f", step, steps, loss)
    metrics = demo_metrics(config)
    with atomic_write(Path(workdir) / "metrics.json") as handle:
        handle.write(json.dumps(metrics))
    return metrics


@job("sleep", "wait `seconds`, polling should_stop")
def sleep(config: dict, report: Report, should_stop: StopCheck, workdir: Path) -> dict:
    seconds = float(config.get("seconds", 1.0))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if should_stop():
            raise JobCancelled("cancelled while sleeping")
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
    report({"stage": "sleep", "step": 1, "total": 1})
    return {"seconds": seconds}


# --------------------------------------------------------------------------- project shard


def _check_project_shard(config: dict) -> None:
    from core.errors import ConfigError
    from core.pipelines.chunks import Shard

    args, shard = config.get("args"), config.get("shard")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError("project-shard job: `args` must be the list of `xner project` arguments")
    if "--shard" in args:
        raise ConfigError("project-shard job: give the shard as `shard`, not in `args`")
    if not isinstance(shard, list) or len(shard) != 2:
        raise ConfigError(f"project-shard job: `shard` must be [index, count], not {shard!r}")
    Shard(*shard)  # raises for an index outside 0..count-1


@job(
    "project-shard",
    "one shard of `xner project` (args + --shard index/count); join with merge-shards",
    _check_project_shard,
)
def project_shard(config: dict, report: Report, should_stop: StopCheck, workdir: Path) -> dict:
    from core.cli import main

    index, count = config["shard"]
    code = main(["project", *config["args"], "--shard", f"{index}/{count}"])
    if code:
        raise RuntimeError(f"xner project shard {index}/{count} exited with {code}")
    report({"stage": "project", "step": 1, "total": 1})
    return {"shard": [index, count]}


class JobCancelled(Exception):
    """A job stopped because should_stop said so (the worker marks the run cancelled)."""
