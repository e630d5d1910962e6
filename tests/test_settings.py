"""Typed settings (core.experiments.settings): every bad setting ends in one line that names the
setting and the bad value (and the file and line where it came from a file), exit 1, no
traceback; defaults live in one place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.cli import main as xner
from core.errors import ConfigError
from core.experiments.settings import (
    HARD_WEIGHT,
    DistillSettings,
    ExperimentSettings,
    ProjectionSettings,
    TrainJob,
    load_settings,
    validate,
)
from tests.test_training import write_data

BASE = {"name": "bad", "job": "train", "data": "nowhere", "languages": ["yor"]}


def experiment_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False) + text, encoding="utf-8")
    return path


def assert_one_line_error(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("xner: error: "), err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


# Each case: the YAML appended to a valid experiment file, the setting, the bad value, and its
# line in the appended text.
EXPERIMENT_CASES = [
    ("epochs: eight\n", "epochs", "'eight'", 1),
    ("epochs: -3\n", "epochs", "-3", 1),
    ("seeds: [true]\n", "seeds[0]", "True", 1),
    ("distill:\n  student_epochs: 5\n  hard_weight: -5\n", "distill.hard_weight", "-5", 3),
    ("tagger_params: {no_such_option: 1}\n", "tagger_params", "no_such_option", 1),
    ("tagger_params: abc\n", "tagger_params", "'abc'", 1),
    ("evaluation: {types: PER}\n", "evaluation.types", "'PER'", 1),
    ("evaluation: {types: [PER, FOO]}\n", "evaluation.types", "'FOO'", 1),
    ("projection: {aligner_params: {foo: 1}}\n", "projection.aligner_params", "'foo'", 1),
    ("projection: {method_params: {max_length: abc}}\n", "method_params", "'abc'", 1),
    ("projection: {method_params: {max_length: -5}}\n", "method_params", "-5", 1),
    ("projection:\n  languages:\n    yor: {method: marker}\n", "languages.yor", "marker", 1),
    ("languags: [hau]\n", "languags", "accepted: name", 1),
    ("modes: [direct, telepathy]\n", "modes[1]", "'telepathy'", 1),
    ("executor: moon\n", "executor.name", "'moon'", 1),
    ("model_transfer: {tagger: magic}\n", "model_transfer.tagger", "magic", 1),
    ("projection: {source_labeler_params: {bogus: 1}}\n", "source_labeler_params", "bogus", 1),
    (
        "model_transfer:\n  tagger: transformers\n  tagger_params: {no_such_option: 1}\n",
        "model_transfer: tagger_params",
        "no_such_option",
        1,
    ),
    (
        "model_transfer: {tagger_params: {no_such_option: 1}}\n",
        "model_transfer: tagger_params",
        "no_such_option",
        1,
    ),  # the experiment's tagger's options
]


@pytest.mark.parametrize("text, setting, value, line", EXPERIMENT_CASES)
def test_bad_experiment_settings_fail_the_dry_run_in_one_line(
    tmp_path, capsys, text, setting, value, line
):
    path = experiment_file(tmp_path, text)
    code = xner(["experiment", str(path), "--dry-run"])
    assert_one_line_error(capsys, code, f"{path}:", setting, value)
    with pytest.raises(ConfigError) as info:
        load_settings(ExperimentSettings, path)
    base = len(yaml.safe_dump(BASE, sort_keys=False).splitlines())
    assert str(info.value).startswith(f"{path}:{base + line}:")


TRAIN_CASES = [
    (["--epochs", "0"], "epochs", "0"),
    (["--epochs", "-3"], "epochs", "-3"),
    (["--types", "FOO"], "types", "'FOO'"),
    (["--set", "hard_weight=-5"], "hard_weight", "-5"),
    (["--set", "seed=true"], "seed", "True"),
    (["--set", "tagger_params=abc"], "tagger_params", "'abc'"),
    (["--param", "no_such_option=1"], "tagger_params", "no_such_option"),
    (["--set", "bogus=1"], "bogus", "accepted: mode"),
    (["--mode", "distill"], "distill", "unlabelled"),
]


@pytest.mark.parametrize("extra, setting, value", TRAIN_CASES)
def test_bad_train_options_are_refused_before_training(tmp_path, capsys, extra, setting, value):
    files = write_data(tmp_path)
    argv = ["train", "--mode", "direct", "--train", files["train"], "--test", files["test"],
            "--workdir", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    code = xner(argv + extra)
    assert_one_line_error(capsys, code, setting, value)
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written


def test_bad_job_file_names_file_and_line(tmp_path, capsys):
    files = write_data(tmp_path)
    job = tmp_path / "job.yaml"
    job.write_text(f"mode: direct\ntrain: {files['train']}\ntest: {files['test']}\nepochs: 0\n")
    code = xner(["train", "--config", str(job), "--workdir", str(tmp_path / "run")])
    assert_one_line_error(capsys, code, f"{job}:4: epochs", "(got 0)")


def write_pair(tmp_path: Path) -> list[str]:
    (tmp_path / "en.conll").write_text("John B-PER\nwent O\n\n", encoding="utf-8")
    (tmp_path / "de.conll").write_text("John B-PER\nging O\n\n", encoding="utf-8")
    return ["eval-projection", "--source-conll", str(tmp_path / "en.conll"),
            "--target-conll", str(tmp_path / "de.conll"), "--quiet"]  # fmt: skip


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--aligner-param", "foo=1"], ["foo", "accepted"]),
        (["--method", "candidates-greedy", "--method-param", "max_length=abc"],
         ["max_length", "'abc'"]),
        (["--method", "candidates-greedy", "--method-param", "max_length=-5"],
         ["max_length", "-5"]),
        (["--types", "PER", "FOO"], ["--types", "'FOO'", "known: PER"]),
    ],
)  # fmt: skip
def test_bad_component_options_on_the_command_line(tmp_path, capsys, extra, needles):
    code = xner(write_pair(tmp_path) + extra)
    assert_one_line_error(capsys, code, *needles)


def test_defaults_are_defined_once_and_agree():
    assert TrainJob.model_fields["hard_weight"].default == HARD_WEIGHT
    assert DistillSettings().hard_weight == HARD_WEIGHT
    from core.cli.options import DEFAULT_METHOD

    assert ProjectionSettings().method == DEFAULT_METHOD


def test_a_key_given_twice_is_an_error_naming_its_second_line(tmp_path, capsys):
    path = experiment_file(tmp_path, "distill: {mt_teacher_weight: 1.0}\nepochs: 3\ndistill: {}\n")
    code = xner(["experiment", str(path), "--dry-run"])
    base = len(yaml.safe_dump(BASE, sort_keys=False).splitlines())
    assert_one_line_error(capsys, code, f"{path}:{base + 3}: distill: given twice")
    nested = experiment_file(tmp_path, "distill:\n  hard_weight: 0.5\n  hard_weight: 0.0\n")
    with pytest.raises(ConfigError, match="hard_weight: given twice"):
        load_settings(ExperimentSettings, nested)


def test_labeler_params_reach_the_cache_key_only_when_given():
    plain = validate(ProjectionSettings, {})
    assert "labeler_params" not in plain.cache_key()  # caches made before the setting stay valid
    params = {
        "labelers": ["conll-encoder", "spacy"],
        "labeler_params": {"spacy": {"types": ["DATE"]}},
    }
    union = validate(
        ProjectionSettings, {"source_labeler": "union", "source_labeler_params": params}
    )
    assert union.cache_key()["labeler_params"] == params


def test_per_language_projection_overrides_the_shared_settings():
    projection = validate(
        ProjectionSettings,
        {
            "method": "heuristic",
            "aligner_params": {"symmetrization": "grow-diag-final-and"},
            "languages": {"yor": {"method": "candidates-greedy"}},
        },
    )
    yor = projection.for_language("yor")
    assert yor.method == "candidates-greedy"
    assert yor.aligner_params == {"symmetrization": "grow-diag-final-and"}
    assert projection.for_language("hau").method == "heuristic"


def test_a_job_round_trips_through_json():
    job = validate(TrainJob, {"mode": "direct", "train": "a.conll", "test": ["b.conll"],
                              "epochs": 2, "seed": 4})  # fmt: skip
    again = validate(TrainJob, job.to_dict())
    assert again == job and again.train[0].path == "a.conll" and again.epochs == 2


def test_homes_follow_one_rule(tmp_path, monkeypatch):
    from core.homes import data_home, runs_home

    monkeypatch.delenv("XNER_RUNS", raising=False)
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "h"))
    assert data_home() == (tmp_path / "h").resolve()
    assert runs_home() == (tmp_path / "h" / "runs").resolve()
    monkeypatch.delenv("XNER_HOME")
    monkeypatch.chdir(tmp_path)
    assert runs_home() == data_home() / "runs" == (tmp_path / "xner_data" / "runs").resolve()


def test_runs_launch_names_the_job_file_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    job = tmp_path / "job.yaml"
    job.write_text("mode: direct\ntrain: a.conll\ntest: b.conll\nepochs: eight\n")
    code = xner(["runs", "launch", "train", "--config", str(job)])
    assert_one_line_error(capsys, code, f"{job}:4: epochs", "'eight'")
    from core.runs import RunManager

    assert RunManager().list() == []  # nothing launched
