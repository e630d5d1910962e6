"""The process that executes one run: `python -m core.runs.worker RUN_ID [--home RUNS]`.

It claims the run (queued -> running, with its pid), runs the job, and records the outcome:
succeeded with metrics, cancelled (SIGTERM/SIGINT or the run's cancel flag, then the job stops
at its next should_stop poll), or failed with the error (traceback in the log). A heartbeat
thread stamps the record every few seconds and picks up the cancel flag; if the process dies
without a word (kill -9, OOM killer, node loss), core.runs.manager notices the missing process or
the stale heartbeat and marks the run failed, or resumable when its workdir holds a checkpoint.

Two channels carry the state back: `db` writes the registry directly (local processes), `file`
writes RUN_DIR/state.json atomically and reads RUN_DIR/cancel (cluster jobs, whose node may not
share a file system on which SQLite's WAL locking works; the manager folds state.json into the
registry when it looks).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

from core.data.formats import atomic_write
from core.runs.jobs import JobCancelled, get_job
from core.runs.process import process_start_time
from core.runs.store import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    Run,
    RunStore,
    runs_home,
)

log = logging.getLogger("xner.worker")
HEARTBEAT_S = float(os.environ.get("XNER_HEARTBEAT_S", "2"))
PROGRESS_EVERY_S = 0.5  # progress writes at most this often (the last one always lands)


# --------------------------------------------------------------------------- channels


class DbChannel:
    def __init__(self, store: RunStore, run: Run):
        self.store, self.run = store, run

    def claim(self, fields: dict) -> bool:
        return self.store.transition(self.run.id, (QUEUED,), status=RUNNING, **fields)

    def write(self, **fields: object) -> None:
        self.store.update(self.run.id, **fields)

    def finish(self, status: str, **fields: object) -> None:
        self.store.transition(self.run.id, (RUNNING,), status=status, **fields)

    def cancel_requested(self) -> bool:
        return self.store.get(self.run.id).cancel_requested


class FileChannel:
    """state.json holds the latest fields; the manager applies them to the registry."""

    def __init__(self, run: Run):
        self.run = run
        self.path = run.run_dir / "state.json"
        self.state: dict = {}

    def claim(self, fields: dict) -> bool:
        self.state = {"status": RUNNING, **fields}
        self._flush()
        return True

    def write(self, **fields: object) -> None:
        self.state.update(fields)
        self._flush()

    def finish(self, status: str, **fields: object) -> None:
        self.state.update(fields, status=status)
        self._flush()

    def cancel_requested(self) -> bool:
        return (self.run.run_dir / "cancel").exists()

    def _flush(self) -> None:
        with atomic_write(self.path) as handle:
            json.dump(self.state, handle, ensure_ascii=False)


# --------------------------------------------------------------------------- the run


class Worker:
    def __init__(self, run: Run, channel: DbChannel | FileChannel):
        self.run, self.channel = run, channel
        self.stop = threading.Event()
        self.done = threading.Event()
        self._progress: dict = dict(self.run.progress)
        self._last_write = 0.0
        self._lock = threading.Lock()

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def report(self, event: dict) -> None:
        """Merge a job's progress event into the record (throttled); also a log line per stage."""
        with self._lock:
            if event.get("stage") and event.get("stage") != self._progress.get("stage"):
                log.info("stage %s", event["stage"])
            self._progress.update(event)
            now = time.monotonic()
            if now - self._last_write >= PROGRESS_EVERY_S or event.get("stage") == "done":
                self._last_write = now
                self.channel.write(progress=dict(self._progress), heartbeat=time.time())

    def _heartbeat(self) -> None:
        while not self.done.wait(HEARTBEAT_S):
            try:
                with self._lock:
                    self.channel.write(heartbeat=time.time(), progress=dict(self._progress))
                if self.channel.cancel_requested():
                    self.stop.set()
            except Exception as exc:  # a locked/unreachable registry must not kill the job
                log.warning("heartbeat failed: %s", exc)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stop.is_set():  # a second signal: stop now, without waiting for the job
            raise KeyboardInterrupt
        log.info("signal %d: stopping at the next checkpoint", signum)
        self.stop.set()

    def execute(self) -> int:
        run = self.run
        pid = os.getpid()
        claimed = self.channel.claim(
            {
                "pid": pid,
                "pid_start": process_start_time(pid),
                "host": socket.gethostname(),
                "started": time.time(),
                "heartbeat": time.time(),
                "finished": None,
                "error": None,
            }
        )
        if not claimed:
            log.warning("run %s is not queued any more; nothing to do", run.id)
            return 0
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        if self.channel.cancel_requested():  # cancelled between launch and claim
            self.stop.set()
        beat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        beat.start()
        workdir = Path(run.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        log.info("run %s: %s job (attempt %d) in %s", run.id, run.kind, run.attempts, workdir)
        status, fields, code = FAILED, {}, 1
        try:
            metrics = get_job(run.kind).run(run.config, self.report, self.should_stop, workdir)
            status, code = SUCCEEDED, 0
            fields = {"metrics": metrics, "artifacts": _artifacts(run, metrics)}
        except BaseException as exc:
            # Cancelled = the stop flag was up: TrainingCancelled, JobCancelled or anything the
            # interrupted job raised on its way out. KeyboardInterrupt here is the second signal.
            if self.stop.is_set() or isinstance(exc, JobCancelled | KeyboardInterrupt):
                status, code = CANCELLED, 0
                fields = {"error": f"cancelled: {exc}" if str(exc) else "cancelled"}
                log.info("run %s cancelled: %s", run.id, exc)
            else:
                fields = {"error": f"{type(exc).__name__}: {exc}"}
                traceback.print_exc()
                log.error("run %s failed: %s", run.id, fields["error"])
        finally:
            self.done.set()
            beat.join(timeout=HEARTBEAT_S + 5)
            with self._lock:
                fields.update(progress=self._progress, heartbeat=time.time(), finished=time.time())
                self.channel.finish(status, **fields)
        log.info("run %s %s", run.id, status)
        return code


def _artifacts(run: Run, metrics: object) -> dict:
    """Files a finished run leaves: its workdir, log, metrics.json and a saved model if any."""
    workdir = Path(run.workdir)
    found = {"workdir": str(workdir), "log": run.log_path}
    if (workdir / "metrics.json").exists():
        found["metrics"] = str(workdir / "metrics.json")
    if isinstance(metrics, dict):
        for key in ("model_path", "output", "outputs"):
            if isinstance(metrics.get(key), str):
                found[key.removesuffix("_path")] = metrics[key]
    return found


def run_worker(run_id: str, home: str, channel: str = "db", log_to_file: bool = False) -> int:
    """The worker's body; also what a submitit job calls on a cluster node."""
    if channel == "file":  # the registry may not be reachable from here: read RUN_DIR/run.json
        run = Run(**json.loads((runs_home(home) / run_id / "run.json").read_text()))
        chan: DbChannel | FileChannel = FileChannel(run)
    else:
        store = RunStore(home)
        run = store.get(run_id)
        chan = DbChannel(store, run)
    if log_to_file:
        # submitit keeps its own logs; the app reads RUN_DIR/run.log, so send everything there
        handle = open(run.log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        os.dup2(handle.fileno(), sys.stdout.fileno())
        os.dup2(handle.fileno(), sys.stderr.fileno())
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
        force=True,
    )
    return Worker(run, chan).execute()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.runs.worker")
    parser.add_argument("run_id")
    parser.add_argument("--home", help="runs folder (default: see core.runs.store.runs_home)")
    parser.add_argument("--channel", choices=("db", "file"), default="db")
    parser.add_argument("--log-to-file", action="store_true")
    args = parser.parse_args(argv)
    return run_worker(args.run_id, str(args.home or ""), args.channel, args.log_to_file)


if __name__ == "__main__":
    sys.exit(main())
