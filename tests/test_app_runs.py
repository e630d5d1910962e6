"""The Runs page and its logic (core.workbench.runs) over the real run manager (core.runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import ConfigError
from core.runs import RunManager
from core.workbench.runs import LaunchForm, progress_text, run_rows
from tests.app_support import build_demo

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
CONLL = "Ana B-PER\nfala O\n\nRui B-PER\nri O\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    monkeypatch.delenv("XNER_RUNS", raising=False)
    build_demo(tmp_path)
    return tmp_path


def runs_page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("../pages/runs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_launch_form_builds_a_checked_training_config(tmp_path):
    (tmp_path / "train.conll").write_text(CONLL)
    (tmp_path / "test.conll").write_text(CONLL)
    form = LaunchForm(
        mode="direct",
        train=str(tmp_path / "train.conll"),
        test=str(tmp_path / "test.conll"),
        lang="yor",
        seed=2,
        epochs=3,
    )
    config = form.config()
    assert (
        config["mode"] == "direct"
        and config["epochs"] == 3
        and config["name"] == "yor-direct-seed2"
    )
    assert config["train"] == [
        {"path": str((tmp_path / "train.conll").resolve()), "format": "auto"}
    ]
    with pytest.raises(ConfigError, match="launch form: epochs: .*greater than or equal to 1"):
        LaunchForm(mode="direct", train=config["train"][0]["path"], test=config["train"][0]["path"],
                   epochs=-2).config()  # fmt: skip
    with pytest.raises(ConfigError, match="test file not found"):
        LaunchForm(
            mode="direct", train=str(tmp_path / "train.conll"), test=str(tmp_path / "nope")
        ).config()
    with pytest.raises(ConfigError, match="needs `unlabelled`"):
        LaunchForm(
            mode="distill", train=str(tmp_path / "train.conll"), test=str(tmp_path / "test.conll")
        ).config()
    with pytest.raises(ConfigError, match="teacher folder not found"):
        LaunchForm(
            mode="distill", test=str(tmp_path / "test.conll"), teachers=["/no/such"]
        ).config()


def test_a_cli_run_appears_with_progress_and_metrics(home):
    manager = RunManager()  # what `xner runs launch demo ...` uses: the same registry
    run = manager.launch(
        "demo",
        {"steps": 2, "step_seconds": 0.01, "lang": "yor", "mode": "distill"},
        name="cli-demo",
    )
    done = manager.wait(run.id, timeout=60)
    assert done.status == "succeeded", manager.log_tail(run.id)
    (row,) = run_rows([done])
    assert row["name"] == "cli-demo" and row["status"] == "succeeded" and row["progress"] == 1.0
    assert progress_text(done).startswith("demo · step 2/2 · loss")
    at = runs_page()
    table = at.dataframe[0].value
    assert list(table["name"]) == ["cli-demo"] and list(table["status"]) == ["succeeded"]
    assert at.metric[0].value == f"{done.metrics['f1']:.4f}"
    assert "demo: step 2/2" in at.code[0].value  # the log tail


def test_cancel_a_running_run_from_the_page(home):
    manager = RunManager()
    run = manager.launch("sleep", {"seconds": 60}, name="long")
    at = runs_page()
    at.button(key=f"cancel_{run.id}").click().run()
    assert not at.exception
    assert manager.wait(run.id, timeout=30).status == "cancelled"


def test_launch_form_errors_are_shown_and_nothing_starts(home):
    at = runs_page()
    at.text_input(key="run_test").set_value(str(home / "missing.conll"))
    at.button[0].click().run()  # the form's Launch button
    assert "Not launched" in at.error[0].value and "missing.conll" in at.error[0].value
    assert RunManager().list() == []
    assert "No runs yet" in at.info[0].value


def test_launch_from_the_page(home):
    (home / "train.conll").write_text(CONLL)
    (home / "test.conll").write_text(CONLL)
    at = runs_page()
    at.text_input(key="run_train").set_value(str(home / "train.conll"))
    at.text_input(key="run_test").set_value(str(home / "test.conll"))
    at.text_input(key="run_lang").set_value("yor")
    at.button[0].click().run()
    assert not at.exception and "Launched run" in at.success[0].value
    manager = RunManager()
    (run,) = manager.list()
    assert run.kind == "train" and run.config["mode"] == "direct" and run.name == "yor-direct-seed1"
    manager.cancel(run.id, force=True)  # a real training run: stop it, this test checks launching
    assert not manager.get(run.id).active
