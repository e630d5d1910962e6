"""The `slurm` executor against a real single-node SLURM cluster on this machine: munged,
slurmctld and slurmd (Debian's slurm-wlm and munge, `make slurm`) are started by the fixture with
a throw-away configuration and stopped afterwards. Launch, progress, cancel and two node-side
failures (the job fails; the job is killed) go through sbatch, the compute node and the file
channel exactly as on a cluster. Skipped, with the reason, where the packages are missing or the
daemons cannot start (they need root to start jobs). The mocked-sbatch test is in test_runs.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from core.runs import RunManager

pytestmark = pytest.mark.slurm

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "scancel")
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )


def _conf(folder: Path, host: str, munge_socket: Path) -> str:
    ctld_port, d_port = _free_port(), _free_port()
    return f"""\
ClusterName=xnertest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerType=sched/builtin
PlugStackConfig=/dev/null
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A one-node cluster on localhost; yields the environment its client commands need."""
    missing = [name for name in DAEMONS if _which(name) is None]
    if missing:
        pytest.skip(
            f"SLURM not installed ({', '.join(missing)} missing): `make slurm` or "
            "apt-get install -y slurm-wlm munge"
        )
    if os.geteuid() != 0:
        pytest.skip("slurmd must run as root to start jobs; run this test as root")
    folder = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "munge"):
        (folder / sub).mkdir(mode=0o700)
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    munge_socket = folder / "munge" / "socket"
    host = socket.gethostname().split(".")[0]
    conf = folder / "slurm.conf"
    conf.write_text(_conf(folder, host, munge_socket))
    env = dict(os.environ, SLURM_CONF=str(conf))
    processes: list[subprocess.Popen] = []
    munge_pid = folder / "munge" / "munged.pid"

    def log_tail() -> str:
        parts = []
        for name in ("munge/munged.log", "slurmctld.log", "slurmd.log", "daemons.out"):
            path = folder / name
            if path.exists():
                parts.append(f"{name}: " + " | ".join(path.read_text().splitlines()[-3:]))
        return "; ".join(parts)

    try:
        subprocess.run(
            [
                _which("munged"),
                "--force",
                f"--socket={munge_socket}",
                f"--key-file={key}",
                f"--log-file={folder / 'munge' / 'munged.log'}",
                f"--pid-file={munge_pid}",
                f"--seed-file={folder / 'munge' / 'seed'}",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        out = (folder / "daemons.out").open("w")
        for command in ([_which("slurmctld"), "-D", "-i"], [_which("slurmd"), "-D"]):
            processes.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        state = ""
        while time.monotonic() < deadline:
            result = subprocess.run(
                ["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True, timeout=10
            )
            state = result.stdout.strip()
            if state == "idle":
                break
            if any(p.poll() is not None for p in processes):
                break
            time.sleep(0.5)
        else:
            state = f"not idle after {START_TIMEOUT_S:.0f} s ({state})"
        if state != "idle":
            pytest.skip(f"the SLURM daemons did not start here: {state}; {log_tail()}")
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"munged or the SLURM daemons could not start: {exc}; {log_tail()}")
    saved = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)  # submitit calls sbatch/scancel in this process
    try:
        yield {"env": env, "folder": folder}
    finally:
        subprocess.run(["scancel", "--full", "--user=root"], env=env, capture_output=True)
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if munge_pid.exists():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(munge_pid.read_text().strip()), signal.SIGTERM)
        if saved is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = saved


def _job_state(cluster: dict, job_id: str) -> str:
    result = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id],
        env=cluster["env"],
        capture_output=True,
        text=True,
    )
    for field in result.stdout.split():
        if field.startswith("JobState="):
            return field.split("=", 1)[1]
    return ""


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_launch_progress_and_result_through_sbatch(cluster, tmp_path):
    started = time.perf_counter()
    manager = RunManager(tmp_path / "runs")
    run = manager.launch("demo", {"steps": 6, "step_seconds": 0.5, "lang": "yor"}, executor="slurm")
    assert run.external_id and run.external_id.isdigit()  # a real SLURM job id from sbatch
    assert _job_state(cluster, run.external_id) in ("PENDING", "RUNNING", "COMPLETING", "COMPLETED")
    progressed = _wait_for(
        lambda: (r := manager.get(run.id)).progress.get("step") and r, 60, "progress from the node"
    )
    assert progressed.status == "running" and progressed.progress["total"] == 6
    done = manager.wait(run.id, timeout=90)
    assert done.status == "succeeded", (done.status, done.error, manager.log_tail(run.id))
    assert done.metrics and 0 <= done.metrics["f1"] <= 1
    assert _wait_for(lambda: _job_state(cluster, run.external_id) == "COMPLETED", 30, "COMPLETED")
    print(f"slurm launch-to-success: {time.perf_counter() - started:.1f} s")


def test_cancel_reaches_the_job_on_the_node(cluster, tmp_path):
    manager = RunManager(tmp_path / "runs")
    run = manager.launch("demo", {"steps": 300, "step_seconds": 0.2}, executor="slurm")
    _wait_for(lambda: manager.get(run.id).progress.get("step"), 60, "the job to start")
    manager.cancel(run.id)
    done = manager.wait(run.id, timeout=60)
    assert done.status == "cancelled", (done.status, done.error)
    assert done.progress["step"] < 300


def test_a_failure_on_the_node_is_recorded_with_its_error(cluster, tmp_path):
    manager = RunManager(tmp_path / "runs")
    run = manager.launch("demo", {"steps": 5, "step_seconds": 0.1, "fail_at": 2}, executor="slurm")
    done = manager.wait(run.id, timeout=90)
    assert done.status in ("failed", "resumable"), (done.status, done.error)
    assert "demo failure at step 2" in done.error


def test_a_job_killed_on_the_node_is_detected(cluster, tmp_path):
    # sacct is unavailable without an accounting database, so the job's death is seen through
    # its stopped heartbeat (the worker beats every 2 s).
    manager = RunManager(tmp_path / "runs", stale_after=8)
    run = manager.launch("demo", {"steps": 300, "step_seconds": 0.2}, executor="slurm")
    running = _wait_for(
        lambda: (r := manager.get(run.id)).progress.get("step") and r.pid and r, 60, "the job"
    )
    os.kill(running.pid, signal.SIGKILL)  # the node's worker dies without a word (OOM killer)
    done = manager.wait(run.id, timeout=60)
    assert done.status in ("failed", "resumable"), (done.status, done.error)
    assert "heartbeat" in done.error or "died" in done.error
