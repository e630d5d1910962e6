"""The run manager (core.runs): registry, detached local workers, kill -9 consistency, cancel,
resume from checkpoints, the submitit paths (local processes; SLURM with mocked sbatch) and
`xner runs`. Every test's workers are finished or killed by the `manager` fixture."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from core.cli import main as xner
from core.errors import ConfigError
from core.runs import RunManager, RunStore, has_checkpoint
from core.runs.process import pid_alive
from core.runs.store import runs_home

FAST = {"steps": 3, "step_seconds": 0.02}


@pytest.fixture
def manager(tmp_path):
    m = RunManager(tmp_path / "runs")
    yield m
    # no orphans: kill whatever a failing test left running, and wait until it is gone
    for run in m.store.list():
        pids = [run.pid] if run.pid else []
        if run.executor == "submitit-local" and run.external_id:
            pids.append(int(run.external_id))  # submitit's controller
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    for run in m.store.list():
        while run.pid and pid_alive(run.pid, run.pid_start) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not (run.pid and pid_alive(run.pid, run.pid_start)), f"orphan worker {run.pid}"


def wait_for(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


# --------------------------------------------------------------------------- the registry


def test_store_records_runs_in_wal_mode_and_resolves_short_ids(tmp_path):
    store = RunStore(tmp_path)
    a = store.create("demo", {"steps": 1}, name="first")
    b = store.create("sleep", {"seconds": 1})
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.get(a.id).config == {"steps": 1} and store.get(a.id).status == "queued"
    assert store.get(a.id[-6:]).id == a.id  # unique suffix
    assert [r.id for r in store.list()] == [b.id, a.id]  # newest first
    assert [r.id for r in store.list(kind="demo")] == [a.id]
    assert Path(a.workdir) == tmp_path / a.id / "work" and a.name == "first"
    with pytest.raises(ConfigError, match="no run"):
        store.get("nope")
    with pytest.raises(ConfigError, match="ambiguous"):
        store.get("20")  # both ids start with the year


def test_transitions_are_compare_and_set(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("demo", {})
    assert store.transition(run.id, ("queued",), status="running", pid=1)
    assert not store.transition(run.id, ("queued",), status="failed")  # lost the race
    assert store.get(run.id).status == "running" and store.get(run.id).pid == 1
    with pytest.raises(ValueError, match="unknown run status"):
        store.update(run.id, status="exploded")


def test_runs_home_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("XNER_RUNS", raising=False)
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    assert runs_home() == (tmp_path / "home" / "runs").resolve()
    monkeypatch.setenv("XNER_RUNS", str(tmp_path / "r"))
    assert runs_home() == (tmp_path / "r").resolve()
    assert runs_home(tmp_path / "x") == (tmp_path / "x").resolve()


# --------------------------------------------------------------------------- local runs


def test_local_run_succeeds_detached_with_progress_metrics_and_log(manager):
    run = manager.launch("demo", FAST, name="demo run")
    assert run.status in ("queued", "running") and run.pid
    assert os.getsid(run.pid) == run.pid  # its own session: outlives the launching process
    run = manager.wait(run.id, 20)
    assert run.status == "succeeded", run.error
    assert run.progress["step"] == 3 and run.fraction == 1.0
    assert 0 <= run.metrics["f1"] <= 1 and set(run.metrics["per_type"]) == {"PER", "ORG", "LOC"}
    assert json.loads(Path(run.artifacts["metrics"]).read_text()) == run.metrics
    assert run.started and run.finished and run.finished >= run.started
    log = manager.log_tail(run.id, 50)
    assert "demo: step 3/3" in log and "succeeded" in log
    assert manager.log_tail(run.id, 1).count("\n") == 0


def test_a_run_outlives_the_process_that_launched_it(manager):
    import subprocess
    import sys

    code = (
        "import sys; from core.runs import RunManager; "
        "print(RunManager(sys.argv[1]).launch('demo', {'steps': 5, 'step_seconds': 0.1}).id)"
    )
    launcher = subprocess.run(
        [sys.executable, "-c", code, str(manager.home)], capture_output=True, text=True,
        check=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    run_id = launcher.stdout.strip()  # the launcher has exited; its worker goes on
    assert manager.wait(run_id, 20).status == "succeeded"


def test_kill_9_mid_run_is_detected_marked_resumable_and_resumes(manager):
    victim = manager.launch("demo", {"steps": 40, "step_seconds": 0.05})
    bystander = manager.launch("demo", FAST)
    wait_for(lambda: (manager.get(victim.id).progress.get("step") or 0) >= 3)
    os.kill(manager.get(victim.id).pid, signal.SIGKILL)
    run = wait_for(lambda: (r := manager.get(victim.id)).status != "running" and r)
    assert run.status == "resumable"  # demo checkpoints every step
    assert "died" in run.error and has_checkpoint(run.workdir)
    done_steps = json.loads((Path(run.workdir) / "checkpoints" / "demo.json").read_text())["step"]
    assert done_steps >= 3
    # nothing else damaged: the registry is intact and the other run finishes normally
    assert manager.store.integrity() == "ok"
    assert manager.wait(bystander.id, 20).status == "succeeded"
    resumed = manager.resume(victim.id)
    assert resumed.id == victim.id and resumed.attempts == 2 and resumed.workdir == run.workdir
    final = manager.wait(victim.id, 30)
    assert final.status == "succeeded" and final.error is None
    log = manager.log_tail(victim.id, 200)
    assert f"resuming after step {done_steps}" in log and "marked resumable" in log


def test_kill_9_without_checkpoint_marks_failed(manager):
    run = manager.launch("sleep", {"seconds": 30})
    wait_for(lambda: manager.get(run.id).status == "running")
    os.kill(run.pid, signal.SIGKILL)
    run = wait_for(lambda: (r := manager.get(run.id)).status != "running" and r)
    assert run.status == "failed" and "died" in run.error


def test_stale_heartbeat_of_a_run_on_another_machine_marks_it_failed(tmp_path):
    manager = RunManager(tmp_path, stale_after=30)
    fresh = manager.store.create("demo", {})
    stale = manager.store.create("demo", {})
    now = time.time()
    for run, beat in ((fresh, now), (stale, now - 60)):
        manager.store.update(run.id, status="running", pid=123, host="node-17", heartbeat=beat)
    assert manager.reconcile() == [stale.id]
    assert manager.get(fresh.id).status == "running"
    assert manager.get(stale.id).status == "failed"
    assert "no heartbeat for 60 s" in manager.get(stale.id).error


def test_cancel_stops_a_running_job_cleanly(manager):
    run = manager.launch("sleep", {"seconds": 30})
    wait_for(lambda: manager.get(run.id).status == "running")
    started = time.monotonic()
    run = manager.cancel(run.id, wait=10)
    assert run.status == "cancelled" and time.monotonic() - started < 5
    assert "signal 15" in manager.log_tail(run.id)
    with pytest.raises(ConfigError, match="not running"):
        manager.cancel(run.id)
    assert manager.resume(run.id).status in ("queued", "running")  # cancelled runs resume
    assert manager.cancel(run.id, force=True, wait=5).status == "cancelled"


def test_a_failing_job_records_its_error_and_traceback(manager):
    run = manager.wait(manager.launch("demo", {"steps": 3, "fail_at": 2}).id, 20)
    assert run.status == "failed"
    assert run.error == "RuntimeError: demo failure at step 2 (fail_at)"
    assert "Traceback" in manager.log_tail(run.id, 100)
    with pytest.raises(ConfigError, match="only failed, cancelled, resumable"):
        manager.resume(manager.wait(manager.launch("demo", FAST).id, 20).id)


def test_bad_launches_fail_at_once_and_leave_no_run(manager):
    with pytest.raises(ConfigError, match="unknown job kind 'nope'"):
        manager.launch("nope", {})
    with pytest.raises(ConfigError, match="demo job: stepz: unknown key 'stepz'; accepted: steps"):
        manager.launch("demo", {"stepz": 3})
    with pytest.raises(ConfigError, match="train job: bogus: unknown key 'bogus'"):
        manager.launch("train", {"mode": "direct", "bogus": 1})
    with pytest.raises(ConfigError, match=r"train job: epochs: .* \(got 0\)"):
        manager.launch("train", {"mode": "direct", "train": "a", "test": "b", "epochs": 0})
    with pytest.raises(ConfigError, match="unknown executor 'moon'"):
        manager.launch("demo", FAST, executor="moon")
    assert manager.list() == []


def test_follow_streams_the_log_until_the_run_ends(manager):
    run = manager.launch("demo", {"steps": 4, "step_seconds": 0.05})
    text = "".join(manager.follow(run.id, poll=0.05))
    assert "demo: step 4/4" in text and manager.get(run.id).status == "succeeded"


def test_train_job_runs_in_the_background(manager, tmp_path):
    from tests.test_training import job, write_data

    config = job(write_data(tmp_path), mode="direct", train=str(tmp_path / "train.conll"))
    run = manager.wait(manager.launch("train", config).id, 120)
    assert run.status == "succeeded", run.error
    assert run.metrics["f1"] >= 0 and Path(run.artifacts["model"]).is_dir()
    assert run.progress["stage"] == "done"


# --------------------------------------------------------------------------- cluster paths


def test_submitit_local_runs_and_cancels_through_the_file_channel(manager):
    run = manager.launch(
        "demo", FAST, executor="submitit-local", executor_params={"timeout_min": 2}
    )
    assert run.external_id
    run = manager.wait(run.id, 30)
    assert run.status == "succeeded", run.error
    assert run.metrics["f1"] > 0 and (run.run_dir / "state.json").exists()
    assert "demo: step 3/3" in manager.log_tail(run.id, 100)

    slow = manager.launch("sleep", {"seconds": 30}, executor="submitit-local")
    wait_for(lambda: manager.get(slow.id).status == "running")
    assert manager.cancel(slow.id, wait=15).status == "cancelled"


def test_slurm_submission_script_and_failed_job_state():
    pytest.importorskip("submitit")
    import tempfile

    from submitit.slurm.test_slurm import mocked_slurm

    with tempfile.TemporaryDirectory() as home, mocked_slurm() as mock:
        manager = RunManager(home)
        params = {"slurm_partition": "gpu", "gpus_per_node": 1, "timeout_min": 90}
        run = manager.launch("demo", FAST, executor="slurm", executor_params=params)
        assert run.external_id == "12" and run.executor_params == params
        script = (run.run_dir / "submitit" / "12_submission.sh").read_text()
        assert "#SBATCH --partition=gpu" in script and "#SBATCH --gpus-per-node=1" in script
        assert f"#SBATCH --job-name=xner-{run.id}" in script and "#SBATCH --time=90" in script
        assert json.loads((run.run_dir / "run.json").read_text())["id"] == run.id
        mock.set_job_state("12", "RUNNING")
        assert manager.get(run.id).status == "queued"
        mock.set_job_state("12", "TIMEOUT")  # the job ended without a word from the worker
        run = manager.get(run.id)
        assert run.status == "failed" and "job 12" in run.error


# --------------------------------------------------------------------------- CLI


def test_cli_launch_list_show_logs_cancel(manager, capsys):
    home = ["--home", str(manager.home)]
    assert xner(["runs", "launch", "demo", "--config", json.dumps(FAST), "--json", *home]) == 0
    run_id = json.loads(capsys.readouterr().out)["id"]
    assert xner(["runs", "wait", run_id[-6:], *home]) == 0
    capsys.readouterr()
    assert xner(["runs", "list", "--json", *home]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [run_id] and listed[0]["status"] == "succeeded"
    assert xner(["runs", "list", *home]) == 0
    out = capsys.readouterr().out
    assert run_id in out and "succeeded" in out and "100%" in out
    assert xner(["runs", "show", run_id, *home]) == 0
    assert "metrics" in capsys.readouterr().out
    assert xner(["runs", "logs", run_id, "-n", "5", *home]) == 0
    assert "succeeded" in capsys.readouterr().out

    assert xner(["runs", "launch", "sleep", "--set", "seconds=30", *home]) == 0
    sleeper = capsys.readouterr().out.strip()
    wait_for(lambda: manager.get(sleeper).status == "running")
    assert xner(["runs", "cancel", sleeper, "--json", *home]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "cancelled"
    assert xner(["runs", "show", "nope", *home]) == 1
    assert "no run 'nope'" in capsys.readouterr().err


def test_cli_config_file_and_follow(manager, tmp_path, capsys):
    config = tmp_path / "job.yaml"
    config.write_text("steps: 2\nstep_seconds: 0.01\n")
    home = ["--home", str(manager.home)]
    assert xner(["runs", "launch", "demo", "--config", str(config), "--follow", *home]) == 0
    assert "demo: step 2/2" in capsys.readouterr().out
    config.write_text("- not a mapping\n")
    assert xner(["runs", "launch", "demo", "--config", str(config), *home]) == 1
    assert "one mapping" in capsys.readouterr().err


def test_training_worker_killed_mid_epoch_resumes_from_its_checkpoint(manager, tmp_path):
    from tests.test_training import job, write_data

    files = write_data(tmp_path)
    config = job(files, mode="direct", train=files["train"], epochs=40)
    run = manager.launch("train", config)
    # the embedded tagger checkpoints after every epoch: kill it once one is on disk
    wait_for(lambda: has_checkpoint(run.workdir) and manager.get(run.id).progress.get("epoch"),
             timeout=60)  # fmt: skip
    os.kill(run.pid, signal.SIGKILL)
    killed = wait_for(lambda: (r := manager.get(run.id)).status != "running" and r)
    assert killed.status == "resumable" and manager.store.integrity() == "ok"
    done = manager.wait(manager.resume(run.id).id, 120)
    assert done.status == "succeeded", done.error
    assert done.metrics["train"]["resumed_from_epoch"] >= 1  # continued, did not start over
    assert Path(done.artifacts["model"]).is_dir()
