"""Where a run's worker process runs, behind one interface (EXECUTORS, chosen by name).

- `local` (default): `python -m core.runs.worker RUN_ID` as a detached background process (its own
  session, so it outlives the Streamlit app or shell that launched it and does not get their
  Ctrl-C), stdout/stderr appended to RUN_DIR/run.log, state written to the registry directly.
  Cancel = SIGTERM to its process group; the worker stops at the job's next should_stop poll.
- `slurm`: the same worker as a SLURM job through submitit. Why submitit rather than Ray: SLURM is
  what university clusters run, submitit needs no daemon or head node (it writes an sbatch script
  and calls sbatch), it pickles a plain Python call, and it is a pure-Python dependency. Ray would
  need a running Ray cluster, which most of our users would first have to set up on top of SLURM.
  Cluster workers report through the file channel (RUN_DIR/state.json, see worker.py) because a
  compute node's view of a network file system is no place for SQLite's WAL locks; the runs
  folder must therefore be on a file system shared with the nodes (XNER_RUNS=/shared/...), and
  xner installed in the nodes' Python. Parameters (`executor_params`) go to submitit's
  `update_parameters`: slurm_partition, timeout_min, gpus_per_node, cpus_per_task, mem_gb, ...
- `submitit-local`: the same submitit path (pickled call, file channel) in local processes via
  submitit's LocalExecutor; this is how the cluster path is tested without a cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from core.registry import Registry
from core.runs.process import pid_alive, process_start_time
from core.runs.store import Run

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the `core` package

EXECUTORS: Registry[Executor] = Registry("executor")


def get_executor(name: str, **params: object) -> Executor:
    return EXECUTORS.create(name, **params)


def _env_with_root() -> dict[str, str]:
    """The environment with this checkout on PYTHONPATH, so the worker imports this `core` from
    any working directory even when xner is not pip-installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def write_run_file(run: Run) -> None:
    """RUN_DIR/run.json: the record as launched (a cluster worker reads it, not the registry)."""
    from core.data.formats import atomic_write

    with atomic_write(run.run_dir / "run.json") as handle:
        json.dump(run.record(), handle, ensure_ascii=False, indent=1)


class Executor(ABC):
    name: ClassVar[str]
    channel: ClassVar[str] = "db"  # how the worker reports: "db" or "file" (see worker.py)

    def __init__(self, **params: object):
        self.params = params

    @abstractmethod
    def submit(self, run: Run, home: Path) -> dict:
        """Start the worker; return the fields to store (pid, pid_start, host, external_id)."""

    @abstractmethod
    def cancel(self, run: Run, force: bool = False) -> None:
        """Ask the worker to stop (it marks the run cancelled); `force`: kill it now."""

    @abstractmethod
    def alive(self, run: Run) -> bool | None:
        """Whether the run's process still exists; None when this machine cannot tell (the
        heartbeat decides then)."""


@EXECUTORS.register("local")
class LocalExecutor(Executor):
    name = "local"

    def submit(self, run: Run, home: Path) -> dict:
        command = [sys.executable, "-m", "core.runs.worker", run.id, "--home", str(home)]
        with open(run.log_path, "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=run.cwd,
                env=_env_with_root(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # detached: own session and process group
                close_fds=True,
            )
        # Reap the child when it exits while this process lives on (a Streamlit app): an
        # unreaped child is a zombie, which still answers kill(pid, 0).
        threading.Thread(target=process.wait, name=f"reap-{run.id}", daemon=True).start()
        return {
            "pid": process.pid,
            "pid_start": process_start_time(process.pid),
            "host": socket.gethostname(),
        }

    def alive(self, run: Run) -> bool | None:
        if run.pid is None or run.host != socket.gethostname():
            return None
        return pid_alive(run.pid, run.pid_start)

    def cancel(self, run: Run, force: bool = False) -> None:
        if run.pid is None or not self.alive(run):
            return
        # the worker leads its own process group: this reaches its children too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.pid, signal.SIGKILL if force else signal.SIGTERM)


class SubmititExecutor(Executor):
    """A run as a submitit job; `cluster` is submitit's name for the backend."""

    channel = "file"
    cluster: ClassVar[str]
    defaults: ClassVar[dict] = {"timeout_min": 24 * 60}
    _env_lock = threading.Lock()

    def _executor(self, run: Run):
        import submitit

        executor = submitit.AutoExecutor(folder=run.run_dir / "submitit", cluster=self.cluster)
        executor.update_parameters(name=f"xner-{run.id}", **{**self.defaults, **self.params})
        return executor

    def submit(self, run: Run, home: Path) -> dict:
        from core.runs.worker import run_worker  # submitit pickles it by reference

        executor = self._executor(run)
        # submitit copies os.environ into the job (sbatch --export=ALL, or the local controller)
        with self._env_lock:
            saved = dict(os.environ)
            os.environ.update({"PYTHONPATH": _env_with_root()["PYTHONPATH"]})
            try:
                job = executor.submit(run_worker, run.id, str(home), "file", True)
            finally:
                os.environ.clear()
                os.environ.update(saved)
        return {"external_id": str(job.job_id), "host": socket.gethostname()}

    def _job(self, run: Run):
        raise NotImplementedError

    def cancel(self, run: Run, force: bool = False) -> None:
        (run.run_dir / "cancel").touch()  # the worker polls it with its heartbeat
        if force and run.external_id:
            self._job(run).cancel(check=False)

    def alive(self, run: Run) -> bool | None:
        if not run.external_id:
            return None
        state = str(self._job(run).state).upper()
        if state in ("RUNNING", "PENDING", "REQUEUED", "CONFIGURING", "COMPLETING", "SUSPENDED"):
            return True
        if state.startswith("UNKNOWN") or state == "NO PROCESS AND NO RESULT":
            return None
        return False  # FINISHED/COMPLETED/FAILED/CANCELLED/TIMEOUT/OUT_OF_MEMORY/INTERRUPTED...


@EXECUTORS.register("slurm")
class SlurmExecutor(SubmititExecutor):
    name = "slurm"
    cluster = "slurm"

    def _job(self, run: Run):
        import submitit

        return submitit.SlurmJob(run.run_dir / "submitit", run.external_id)


@EXECUTORS.register("submitit-local")
class SubmititLocalExecutor(SubmititExecutor):
    name = "submitit-local"
    cluster = "local"

    def _job(self, run: Run):
        from submitit.local.local import LocalJob

        job = LocalJob(run.run_dir / "submitit", run.external_id)
        if job._process is None:  # not launched by this process: judge by the controller's pid
            return _PidState(int(run.external_id), run.run_dir)
        return job


class _PidState:
    """A submitit local job seen from another process: alive while its controller runs."""

    def __init__(self, pid: int, run_dir: Path):
        self.pid, self.run_dir = pid, run_dir

    @property
    def state(self) -> str:
        if pid_alive(self.pid):
            return "RUNNING"
        return "FINISHED" if (self.run_dir / "state.json").exists() else "UNKNOWN"

    def cancel(self, check: bool = False) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)
