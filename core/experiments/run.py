"""The engine: run a plan's phases with one of its executors (core.experiments.settings):

- `inprocess`: one run after the other in this process;
- `pool`: `parallel` worker processes (spawned: CUDA and torch's thread pools do not survive a
  fork); what a many-core machine wants;
- a run-manager executor (core.runs: local, slurm, submitit-local): background runs with a
  record in the run registry, `parallel` at a time; they show on the app's Runs page.

Whatever the executor, a run whose workdir holds the metrics of the identical job (same config
but for its setup, same input files) is reused, so a crashed experiment continues where it
stopped; a failed run is recorded and the others go on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.data.formats import atomic_write
from core.experiments.plan import PlannedRun
from core.experiments.settings import IN_PROCESS, POOL, ExecutorSettings

Event = Callable[[str, PlannedRun, dict], None]  # (start|progress|end|reused, run, details)


@dataclass
class Outcome:
    run: PlannedRun
    metrics: dict | None
    error: str | None = None
    run_id: str | None = None  # the run registry's id (run-manager executors)
    reused: bool = False


def run_plan(
    phases: Sequence[Sequence[PlannedRun]],
    executor: ExecutorSettings | str = IN_PROCESS,
    *,
    rerun: bool = False,
    manager=None,
    on_event: Event = lambda _k, _r, _e: None,
) -> list[Outcome]:
    """Run every phase in order (a phase starts when the previous one has finished)."""
    if isinstance(executor, str):
        executor = ExecutorSettings(name=executor)
    outcomes: list[Outcome] = []
    for phase in phases:
        todo = []
        for run in phase:
            metrics = None if rerun else finished_metrics(run)
            if metrics is not None:
                outcomes.append(Outcome(run, metrics, reused=True))
                on_event("reused", run, {})
            else:
                todo.append(run)
        if executor.name == IN_PROCESS:
            outcomes += [_run_here(run, on_event) for run in todo]
        elif executor.name == POOL:
            outcomes += _run_pool(todo, executor.parallel, on_event)
        else:
            outcomes += _run_managed(todo, executor, manager, on_event)
    return outcomes


# --------------------------------------------------------------------------- the executors


def _run_here(run: PlannedRun, on_event: Event) -> Outcome:
    record_job(run)
    on_event("start", run, {})
    metrics, error = run_job(
        run.kind, run.config, run.workdir, lambda e: on_event("progress", run, e)
    )
    if metrics is not None:
        save_metrics(run, metrics)
    on_event("end", run, {})
    return Outcome(run, metrics, error)


def run_job(
    kind: str, config: dict, workdir: Path, report: Callable[[dict], None] = lambda _e: None
) -> tuple[dict | None, str | None]:
    """One job in this process: (metrics, None), or (None, the error) when it failed."""
    from core.runs.jobs import get_job

    try:
        return get_job(kind).run(config, report, lambda: False, Path(workdir)), None
    except Exception as exc:  # noqa: BLE001 - recorded, the other runs go on
        return None, f"{type(exc).__name__}: {exc}"


def _pool_job(item: tuple[str, dict, str]) -> tuple[dict | None, str | None]:
    kind, config, workdir = item
    return run_job(kind, config, Path(workdir))


def _run_pool(runs: Sequence[PlannedRun], parallel: int, on_event: Event) -> list[Outcome]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if not runs:
        return []
    out = []
    with ProcessPoolExecutor(min(parallel, len(runs)), mp_context=mp.get_context("spawn")) as pool:
        futures = {}
        for run in runs:
            record_job(run)
            on_event("start", run, {})
            futures[pool.submit(_pool_job, (run.kind, run.config, str(run.workdir)))] = run
        for future in as_completed(futures):
            run = futures[future]
            try:
                metrics, error = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died (e.g. out of memory)
                metrics, error = None, f"{type(exc).__name__}: {exc}"
            if metrics is not None:
                save_metrics(run, metrics)
            out.append(Outcome(run, metrics, error))
            on_event("end", run, {})
    return out


def _run_managed(
    runs: Sequence[PlannedRun], executor: ExecutorSettings, manager, on_event: Event
) -> list[Outcome]:
    from core.runs import RunManager

    manager = manager or RunManager()
    pending, active, out = list(runs), {}, []
    while pending or active:
        while pending and len(active) < executor.parallel:
            run = pending.pop(0)
            record_job(run)
            launched = manager.launch(run.kind, run.config, executor=executor.name,
                                      executor_params=dict(executor.params), name=run.name,
                                      workdir=run.workdir)  # fmt: skip
            active[launched.id] = run
            on_event("start", run, {"run_id": launched.id})
        for run_id in list(active):
            record = manager.get(run_id)
            run = active[run_id]
            if record.active:
                on_event("progress", run, record.progress)
                continue
            del active[run_id]
            if record.status == "succeeded":
                save_metrics(run, record.metrics or {})
                out.append(Outcome(run, record.metrics, run_id=run_id))
            else:
                error = f"run {run_id} {record.status}: {record.error}"
                out.append(Outcome(run, None, error, run_id=run_id))
            on_event("end", run, {"run_id": run_id})
        if active:
            time.sleep(0.2)
    return out


# --------------------------------------------------------------------------- reuse


def finished_metrics(run: PlannedRun) -> dict | None:
    """Metrics of an identical job that already finished in the same workdir."""
    job_file, metrics_file = run.workdir / "job.json", run.workdir / "metrics.json"
    if not (job_file.exists() and metrics_file.exists()):
        return None
    try:
        if _computed(json.loads(job_file.read_text())) != _computed(_job_record(run)):
            return None
        return json.loads(metrics_file.read_text())
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None


def _computed(record: dict) -> dict:
    """What a job computes: its record less the setup. The setup is what its row is compared
    on (the experiment's settings, e.g. its distill settings for a direct run), not an input:
    a run whose setup alone changed is the same run, and its row takes the new setup."""
    return {**record, "config": {k: v for k, v in record["config"].items() if k != "setup"}}


def _inputs(config: dict) -> dict[str, list]:
    """Size and modification time of the files a job reads (a teacher folder: its files), so
    that a rebuilt input (e.g. data projected with other settings) is not mistaken for the same."""
    specs: list = []
    for key in ("train", "unlabelled", "dev", "test", "source_gold", "teachers"):
        value = config.get(key)
        specs += value if isinstance(value, list) else [value] if value else []
    if config.get("model"):
        specs.append(config["model"])
    found: dict[str, list] = {}
    for spec in specs:
        path = Path(spec["path"] if isinstance(spec, dict) else spec)
        if not path.exists():
            continue
        for file in sorted(path.iterdir()) if path.is_dir() else [path]:
            if file.is_file():
                stat = file.stat()
                found[str(file)] = [stat.st_size, stat.st_mtime_ns]
    return found


def _job_record(run: PlannedRun) -> dict:
    return {"kind": run.kind, "config": run.config, "inputs": _inputs(run.config)}


def record_job(run: PlannedRun) -> None:
    """Written as the run starts; earlier metrics go, so a crash cannot pass them off as its own."""
    run.workdir.mkdir(parents=True, exist_ok=True)
    (run.workdir / "metrics.json").unlink(missing_ok=True)
    with atomic_write(run.workdir / "job.json") as handle:
        json.dump(_job_record(run), handle, ensure_ascii=False)


def save_metrics(run: PlannedRun, metrics: dict) -> None:
    if not (run.workdir / "metrics.json").exists():  # the job may have written its own
        with atomic_write(run.workdir / "metrics.json") as handle:
            json.dump(metrics, handle, allow_nan=False)
