"""The run manager: launch, list, watch, cancel and resume background runs. This is the API the
CLI (`xner runs`) and the app use; the registry is the only shared state, so runs launched by
either appear in both.

    manager = RunManager()                      # runs folder: see core.runs.store.runs_home
    run = manager.launch("train", config)       # returns at once; the worker runs detached
    manager.get(run.id).progress                # {stage, epoch, epochs, step, loss, fraction...}
    manager.log_tail(run.id, 50)
    manager.cancel(run.id)                      # the worker stops at its next poll
    manager.resume(run.id)                      # same id and workdir: continues from checkpoints

Reads reconcile first: a run whose process is gone (kill -9, OOM, reboot) or whose heartbeat is
stale while it claims to run is marked failed, or resumable when its workdir holds a checkpoint.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.errors import ConfigError
from core.runs.executors import get_executor, write_run_file
from core.runs.jobs import get_job
from core.runs.store import (
    ACTIVE,
    CANCELLED,
    FAILED,
    QUEUED,
    RESUMABLE,
    RESUMABLE_FROM,
    RUNNING,
    STATUSES,
    Run,
    RunStore,
)

STALE_AFTER_S = float(os.environ.get("XNER_STALE_S", "120"))
LAUNCH_GRACE_S = 60.0  # a queued run nobody started within this long lost its launcher
_TERMINAL = tuple(s for s in STATUSES if s not in ACTIVE)
_STATE_FIELDS = (
    "status", "progress", "metrics", "error", "artifacts", "pid", "pid_start", "host",
    "started", "heartbeat", "finished",
)  # fmt: skip


def has_checkpoint(workdir: str | Path) -> bool:
    """Whether a job left something to resume from (any file under WORKDIR/checkpoints)."""
    folder = Path(workdir) / "checkpoints"
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


class RunManager:
    def __init__(self, home: str | Path | None = None, stale_after: float = STALE_AFTER_S):
        self.store = RunStore(home)
        self.home = self.store.home
        self.stale_after = stale_after

    # ------------------------------------------------------------------ launch

    def launch(
        self,
        kind: str,
        config: dict,
        *,
        executor: str = "local",
        executor_params: dict | None = None,
        name: str | None = None,
        workdir: str | Path | None = None,
    ) -> Run:
        """Create the run's record and start its worker; returns the queued (or already running)
        run. Bad job kinds, configs or executors fail here, not in the background."""
        get_job(kind).check(config)
        backend = get_executor(executor, **(executor_params or {}))
        run = self.store.create(
            kind,
            config,
            executor=executor,
            executor_params=executor_params,
            name=name,
            workdir=workdir,
        )
        self._submit(run, backend)
        return self.store.get(run.id)

    def _submit(self, run: Run, backend) -> None:
        write_run_file(run)
        try:
            fields = backend.submit(run, self.home)
        except Exception as exc:
            self.store.transition(
                run.id, (QUEUED,), status=FAILED, error=f"could not start: {exc}",
                finished=time.time(),
            )  # fmt: skip
            raise
        self.store.update(run.id, **fields)

    def _executor(self, run: Run):
        return get_executor(run.executor, **run.executor_params)

    # ------------------------------------------------------------------ read

    def get(self, run_id: str) -> Run:
        run = self.store.get(run_id)
        if run.active:
            self._reconcile_one(run)
            run = self.store.get(run.id)
        return run

    def list(
        self,
        statuses: Iterable[str] | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        self.reconcile()
        return self.store.list(statuses, kind, limit)

    def reconcile(self) -> list[str]:
        """Fold in cluster workers' state files and mark runs whose process died; returns the
        ids of runs that stopped being active."""
        return [run.id for run in self.store.list(ACTIVE) if self._reconcile_one(run)]

    def _reconcile_one(self, run: Run) -> bool:
        backend = self._executor(run)
        if backend.channel == "file":
            self._sync_state_file(run)
            run = self.store.get(run.id)
            if not run.active:
                return True
        alive = backend.alive(run)
        now = time.time()
        if alive is None:
            if run.status == RUNNING and run.heartbeat is not None:
                dead = now - run.heartbeat > self.stale_after
            else:  # queued: started by nobody, or lost before it wrote a word
                dead = now - run.created > max(self.stale_after, LAUNCH_GRACE_S) and (
                    run.pid is None and run.external_id is None or run.heartbeat is None
                )
        else:
            dead = not alive
        if not dead:
            return False
        if backend.channel == "file":  # it may have written its last state just before exiting
            self._sync_state_file(run)
            if not self.store.get(run.id).active:
                return True
        return self._mark_dead(run, alive, now)

    def _mark_dead(self, run: Run, alive: bool | None, now: float) -> bool:
        if run.cancel_requested:
            status, error = (
                CANCELLED,
                "cancelled (the worker was stopped before it could record it)",
            )
        else:
            status = RESUMABLE if has_checkpoint(run.workdir) else FAILED
            if alive is False:
                where = f"pid {run.pid}" if run.pid else f"job {run.external_id}"
                error = f"the worker ({where}) died without finishing (killed, out of memory?)"
            else:
                age = now - (run.heartbeat or run.created)
                error = f"no heartbeat for {age:.0f} s: the worker is presumed dead"
            if status == RESUMABLE:
                error += "; checkpoint found: `xner runs resume` continues from it"
        changed = self.store.transition(run.id, ACTIVE, status=status, error=error, finished=now)
        if changed:
            _append_log(run, f"[xner] run marked {status}: {error}")
        return changed

    def _sync_state_file(self, run: Run) -> None:
        path = run.run_dir / "state.json"
        try:
            state = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):  # not written yet (or being replaced)
            return
        fields = {k: state[k] for k in _STATE_FIELDS if k in state}
        if fields.get("status") in (*_TERMINAL, RUNNING):
            self.store.transition(run.id, ACTIVE, **fields)

    # ------------------------------------------------------------------ control

    def cancel(self, run_id: str, *, force: bool = False, wait: float = 0.0) -> Run:
        """Ask the run to stop: a queued run is cancelled at once, a running one stops at the
        job's next should_stop poll and records itself cancelled. `force` kills the process and
        marks the run cancelled; `wait` seconds: block until it has stopped."""
        run = self.get(run_id)
        if not run.active:
            raise ConfigError(f"run {run.id} is {run.status}, not running")
        self.store.update(run.id, cancel_requested=1)
        run = self.store.get(run.id)
        backend = self._executor(run)
        if run.status == QUEUED and run.pid is None and run.external_id is None:
            self.store.transition(
                run.id, (QUEUED,), status=CANCELLED, error="cancelled before it started",
                finished=time.time(),
            )  # fmt: skip
        backend.cancel(run, force=force)
        if force:
            self.store.transition(
                run.id, ACTIVE, status=CANCELLED, error="cancelled (killed)", finished=time.time()
            )
        if wait > 0:
            return self.wait(run.id, wait)
        return self.get(run.id)

    def resume(self, run_id: str, *, executor: str | None = None) -> Run:
        """Start a failed, cancelled or resumable run again: same id, config and workdir, so the
        job continues from its last checkpoint."""
        run = self.get(run_id)
        if run.status not in RESUMABLE_FROM:
            raise ConfigError(
                f"run {run.id} is {run.status}; only {', '.join(RESUMABLE_FROM)} runs resume"
            )
        name = executor or run.executor
        backend = get_executor(name, **run.executor_params)
        claimed = self.store.transition(
            run.id,
            RESUMABLE_FROM,
            status=QUEUED,
            executor=name,
            attempts=run.attempts + 1,
            error=None,
            finished=None,
            pid=None,
            pid_start=None,
            external_id=None,
            heartbeat=None,
            cancel_requested=0,
        )
        if not claimed:
            raise ConfigError(f"run {run.id} changed while resuming; try again")
        for stale in ("state.json", "cancel"):
            (run.run_dir / stale).unlink(missing_ok=True)
        _append_log(run, f"[xner] resumed (attempt {run.attempts + 1})")
        self._submit(self.store.get(run.id), backend)
        return self.store.get(run.id)

    def wait(self, run_id: str, timeout: float | None = None, poll: float = 0.1) -> Run:
        """Block until the run is no longer queued/running (or `timeout` seconds pass)."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get(run_id)
            if not run.active or (end is not None and time.monotonic() >= end):
                return run
            time.sleep(poll)

    def delete(self, run_id: str) -> None:
        self.store.delete(self.get(run_id).id)

    # ------------------------------------------------------------------ logs

    def log_tail(self, run_id: str, lines: int = 100) -> str:
        """The last `lines` lines of the run's log (reads at most the last 1 MB)."""
        path = Path(self.store.get(run_id).log_path)
        if not path.exists():
            return ""
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 1_000_000))
            data = handle.read().decode("utf-8", errors="replace")
        return "\n".join(data.splitlines()[-lines:]) if lines > 0 else ""

    def follow(self, run_id: str, poll: float = 0.2, from_start: bool = True) -> Iterator[str]:
        """The log's text as it grows, until the run has stopped and everything is read."""
        run = self.store.get(run_id)
        path = Path(run.log_path)
        offset = 0 if from_start or not path.exists() else path.stat().st_size
        while True:
            active = self.get(run.id).active  # read before the file: no lost last lines
            if path.exists():
                with path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read()
                if chunk:
                    offset += len(chunk)
                    yield chunk.decode("utf-8", errors="replace")
            if not active:
                return
            time.sleep(poll)


def _append_log(run: Run, line: str) -> None:
    try:
        with open(run.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
    except OSError:
        pass
