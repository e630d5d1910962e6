"""The Runs page and its logic (core.workbench.runs) over the real run manager (core.runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import ConfigError
from core.runs import RunManager
from core.workbench.runs import (
    SIZE_PRESETS,
    LaunchForm,
    checkpoint_text,
    data_files,
    progress_text,
    run_rows,
    score_hints,
)
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
    lang_input = next(t for t in at.text_input if t.label == "Target language")
    lang_input.set_value("yor")
    at.button[0].click().run()
    assert not at.exception and "Launched run" in at.success[0].value
    manager = RunManager()
    (run,) = manager.list()
    assert run.kind == "train" and run.config["mode"] == "direct" and run.name == "yor-direct-seed1"
    manager.cancel(run.id, force=True)  # a real training run: stop it, this test checks launching
    assert not manager.get(run.id).active


def board_selectbox(at: AppTest):
    return next(s for s in at.selectbox if s.label == "Run")


def test_the_watched_run_stays_selected_as_the_list_changes(home):
    manager = RunManager()
    first = manager.launch("demo", {"steps": 1, "step_seconds": 0.01}, name="first")
    manager.wait(first.id, timeout=60)
    second = manager.launch("demo", {"steps": 1, "step_seconds": 0.01}, name="second")
    manager.wait(second.id, timeout=60)
    at = runs_page()
    assert board_selectbox(at).value == second.id  # the newest by default
    board_selectbox(at).select(first.id).run()
    assert at.query_params["run"] == first.id
    third = manager.launch("demo", {"steps": 1, "step_seconds": 0.01}, name="third")
    manager.wait(third.id, timeout=60)
    at.run()  # the list now starts with another run: the watched one stays
    assert board_selectbox(at).value == first.id
    assert any(m.value.startswith("**first**") for m in at.markdown)
    # A reload, or a shared link, with ?run= opens that run.
    again = AppTest.from_file(MAIN, default_timeout=60)
    again.query_params["run"] = first.id
    again.run()
    again.switch_page("../pages/runs.py").run()
    assert board_selectbox(again).value == first.id


def test_a_cancelled_run_is_a_neutral_state_with_its_checkpoint(home):
    manager = RunManager()
    run = manager.launch("demo", {"steps": 3, "step_seconds": 4.0}, name="slow")
    at = runs_page()
    at.button(key=f"cancel_{run.id}").click().run()
    assert not at.exception and not at.error
    assert any("Cancelling" in w.value for w in at.warning)
    if manager.get(run.id).active:  # a reload still says so: it comes from the registry
        assert any("Cancelling" in w.value for w in runs_page().warning)
    done = manager.wait(run.id, timeout=60)
    assert done.status == "cancelled"
    at = runs_page()
    assert not at.error
    (state,) = [i.value for i in at.info if i.value.startswith("Cancelled")]
    step = json.loads((Path(done.workdir) / "checkpoints" / "demo.json").read_text())["step"]
    assert f"{step} step(s) of 3 finished" in state and "resume continues" in state
    assert at.button(key=f"resume_{run.id}")


def test_data_files_are_picked_and_typed_paths_stay_confined(home, tmp_path_factory):
    (home / "uploads").mkdir()
    (home / "uploads" / "train.conll").write_text(CONLL)
    (home / "uploads" / "test.conll").write_text(CONLL)
    assert home / "uploads" / "train.conll" in data_files()
    at = runs_page()
    train_pick = at.selectbox(key="run_train_pick")
    assert str(home / "uploads" / "train.conll") in train_pick.options
    train_pick.select(str(home / "uploads" / "train.conll"))
    at.selectbox(key="run_test_pick").select(str(home / "uploads" / "test.conll"))
    at.selectbox(key="run_size").select("small")
    at.button[0].click().run()
    assert not at.exception and "Launched run" in at.success[0].value
    manager = RunManager()
    (run,) = manager.list()
    preset = SIZE_PRESETS["small"]
    assert run.config["train"] == [
        {"path": str(home / "uploads" / "train.conll"), "format": "auto", "limit": preset.sentences}
    ]
    assert run.config["epochs"] == preset.epochs
    assert run.config["lang"] == "pt"  # the demo project's target language, prefilled
    manager.cancel(run.id, force=True)
    outside = tmp_path_factory.mktemp("outside") / "test.conll"
    outside.write_text(CONLL)
    at.text_input(key="run_test").set_value(str(outside))
    at.button[0].click().run()
    assert any("outside the folders" in e.value for e in at.error)
    assert len(manager.list()) == 1


def test_the_language_is_prefilled_from_the_project(home):
    at = runs_page()
    assert next(t for t in at.text_input if t.label == "Target language").value == "pt"


def test_a_zero_f1_says_why(home):
    manager = RunManager()
    run = manager.launch("demo", {"steps": 1, "step_seconds": 0.01}, name="zero")
    manager.wait(run.id, timeout=60)
    zero = {"f1": 0.0, "precision": 0.0, "recall": 0.0, "per_type": {
        "PER": {"f1": 0.0, "precision": 0.0, "recall": 0.0, "support": 4},
        "LOC": {"f1": 0.0, "precision": 0.0, "recall": 0.0, "support": 0},
    }}  # fmt: skip
    manager.store.update(run.id, metrics=zero)
    hints = score_hints(manager.get(run.id))
    assert any("no predicted entity matched" in h for h in hints)
    assert any(h.startswith("LOC is n/a") for h in hints)
    assert not any(h.startswith("PER is n/a") for h in hints)
    at = runs_page()
    shown = " ".join(i.value for i in at.info)
    assert "no predicted entity matched" in shown and "LOC is n/a" in shown
    second = manager.launch("demo", {"steps": 1, "step_seconds": 0.01}, name="scored")
    assert score_hints(manager.wait(second.id, timeout=60)) == []


def test_a_cancelled_training_run_names_its_finished_epochs(home):
    manager = RunManager()
    run = manager.wait(manager.launch("sleep", {"seconds": 0.01}).id, timeout=60)
    assert checkpoint_text(run) == "nothing was checkpointed; resume starts from the beginning"
    # What the embedded tagger keeps after its first epoch (core.taggers.embedded._checkpoint).
    last = Path(run.workdir) / "checkpoints" / "direct" / "last"
    last.mkdir(parents=True)
    (last / "tagger.json").write_text(json.dumps({"kind": "embedded", "epoch": 0}))
    assert checkpoint_text(run) == "direct: 1 epoch(s) finished; resume continues from there"
