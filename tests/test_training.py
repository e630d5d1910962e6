"""Training modes and the train_job entry: direct, distill (weighted teachers), model-transfer,
config errors, progress reports, cancel and resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.formats import write_conll, write_lines
from core.data.types import Sentence
from core.errors import ConfigError, InputError
from core.taggers import Tagger, TrainingCancelled, get_tagger
from core.training import (
    load_labelled,
    load_unlabelled,
    teacher_distributions,
    train_distill,
    train_job,
)
from tests.test_taggers import SMALL, toy_data


def write_data(tmp_path: Path) -> dict:
    data = toy_data(30)
    write_conll(tmp_path / "train.conll", data)
    write_conll(tmp_path / "test.conll", toy_data(9))
    write_lines(tmp_path / "unlabelled.txt", [" ".join(s.tokens) for s in toy_data(18)])
    # "source language" data with an extra type (MISC) that the target data lacks
    source = [Sentence(s.tokens + ["Yoruba"], s.tags + ["B-MISC"]) for s in toy_data(24)]
    write_conll(tmp_path / "source.conll", source)
    return {
        "train": str(tmp_path / "train.conll"),
        "test": str(tmp_path / "test.conll"),
        "unlabelled": {"path": str(tmp_path / "unlabelled.txt"), "format": "tokens"},
        "source": str(tmp_path / "source.conll"),
    }


def job(files: dict, **extra) -> dict:
    return {
        "tagger": "embedded",
        "tagger_params": SMALL,
        "test": files["test"],
        "types": ["PER", "LOC"],
        "epochs": 12,
        "seed": 3,
        **extra,
    }


def test_direct_job_reports_progress_and_scores(tmp_path):
    files = write_data(tmp_path)
    events: list[dict] = []
    metrics = train_job(
        job(files, mode="direct", train=files["train"], report_types=["DATE"]),
        events.append,
        lambda: False,
        tmp_path / "run",
    )
    assert metrics["f1"] > 0.9
    assert set(metrics["per_type"]) == {"PER", "LOC", "DATE"}
    assert metrics["per_type"]["DATE"]["support"] == 0
    assert {e["stage"] for e in events} >= {"load", "direct", "evaluate", "done"}
    epochs = [e for e in events if e.get("stage") == "direct" and "epoch" in e]
    assert epochs[-1]["epoch"] == 12 and all("loss" in e for e in epochs)
    assert (tmp_path / "run" / "model" / "tagger.json").exists()
    assert (tmp_path / "run" / "metrics.json").exists()


def test_model_transfer_keeps_only_the_target_types(tmp_path):
    files = write_data(tmp_path)
    metrics = train_job(
        job(files, mode="model-transfer", train=files["source"], labels_keep=["PER", "LOC"]),
        lambda e: None,
        lambda: False,
        tmp_path / "run",
    )
    from core.taggers import load_tagger

    assert "B-MISC" not in load_tagger(tmp_path / "run" / "model").labels
    assert metrics["f1"] > 0.8


def test_unknown_config_key_mode_and_missing_data_are_config_errors(tmp_path):
    files = write_data(tmp_path)
    with pytest.raises(ConfigError, match="unknown key 'learning_rate'; accepted: mode"):
        train_job(
            job(files, mode="direct", train=files["train"], learning_rate=1),
            lambda e: None,
            lambda: False,
            tmp_path,
        )
    with pytest.raises(ConfigError, match="mode: Input should be .*'fine-tune'"):
        train_job(job(files, mode="fine-tune"), lambda e: None, lambda: False, tmp_path)
    with pytest.raises(ConfigError, match="needs `unlabelled`"):
        train_job(
            job(files, mode="distill", train=files["train"]),
            lambda e: None,
            lambda: False,
            tmp_path,
        )
    with pytest.raises(InputError, match="file not found"):
        train_job(
            job(files, mode="direct", train=str(tmp_path / "nope.conll")),
            lambda e: None,
            lambda: False,
            tmp_path,
        )


def test_unknown_tag_against_fixed_types_is_an_input_error(tmp_path):
    files = write_data(tmp_path)
    config = job(files, mode="direct", train=files["source"])
    config["tagger_params"] = {**SMALL}
    from core.training import load_labelled, train_direct

    with pytest.raises(InputError, match="B-MISC"):
        train_direct(
            load_labelled(config["train"], "train"),
            types=["PER", "LOC"],
            tagger_params=SMALL,
            epochs=1,
        )


class FixedTeacher(Tagger):
    """A teacher that gives the same distribution to every token."""

    name = "fixed"

    def __init__(self, labels, row):
        self._labels, self.row = list(labels), np.asarray(row, np.float32)

    @property
    def labels(self):
        return self._labels

    def fit(self, *a, **k):  # pragma: no cover - teachers here are given, not trained
        raise NotImplementedError

    def predict_proba(self, token_lists):
        return [np.tile(self.row, (len(t), 1)) for t in token_lists]

    def save(self, path):  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def load(cls, path):  # pragma: no cover
        raise NotImplementedError


def test_two_weighted_teachers_are_averaged_in_the_students_label_order():
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    # teacher A knows MISC (goes to O for the student), teacher B lists labels in another order
    a = FixedTeacher(["O", "B-MISC", "B-PER"], [0.2, 0.3, 0.5])
    b = FixedTeacher(["O", "B-LOC", "I-LOC", "B-PER", "I-PER"], [0.0, 1.0, 0.0, 0.0, 0.0])
    probs = teacher_distributions([a, b], [3.0, 1.0], [["x", "y"]], labels)
    np.testing.assert_allclose(probs[0][0], [0.75 * 0.5, 0.75 * 0.5, 0, 0.25, 0], atol=1e-6)
    uniform = teacher_distributions([a, b], None, [["x"]], labels)
    np.testing.assert_allclose(uniform[0][0], [0.25, 0.25, 0, 0.5, 0], atol=1e-6)
    with pytest.raises(ConfigError, match="weights"):
        teacher_distributions([a, b], [1.0], [["x"]], labels)


def test_distill_student_learns_from_two_weighted_teachers(tmp_path):
    data = toy_data(30)
    good = get_tagger("embedded", **SMALL)
    good.fit(data, epochs=12, seed=0)
    # an uninformative teacher: "probably O" for every token
    noise = FixedTeacher(
        good.labels, [0.9] + [0.1 / (len(good.labels) - 1)] * (len(good.labels) - 1)
    )
    unlabelled = [s.tokens for s in toy_data(18)]
    test = toy_data(9)

    def f1(weights) -> float:
        from core.training import evaluate

        student, info = train_distill(
            unlabelled,
            [good, noise],
            teacher_weights=weights,
            tagger_params=SMALL,
            epochs=12,
            seed=0,
        )
        assert info["teachers"] == 2 and student.labels == good.labels
        return evaluate(student, test, ["PER", "LOC"], ())["f1"]

    assert f1([0.9, 0.1]) > 0.9  # mostly the good teacher: the student learns the task
    assert f1([0.0, 1.0]) < 0.1  # only the uninformative teacher: no entities


def test_distill_job_trains_teacher_then_student_and_resumes_after_cancel(tmp_path):
    files = write_data(tmp_path)
    config = job(
        files,
        mode="distill",
        train=files["train"],
        unlabelled=files["unlabelled"],
        hard_weight=0.5,
        teacher_epochs=8,
    )
    stages: list[str] = []
    polls = {"n": 0}

    def stop_during_student() -> bool:
        polls["n"] += 1
        return "student" in stages and polls["n"] > 60

    def report(event):
        stages.append(event["stage"])

    with pytest.raises(TrainingCancelled):
        train_job(config, report, stop_during_student, tmp_path / "run")
    assert (tmp_path / "run" / "teacher" / "tagger.json").exists()
    assert (tmp_path / "run" / "checkpoints" / "student" / "last").exists()
    stages.clear()
    metrics = train_job(config, report, lambda: False, tmp_path / "run")
    assert "teacher" not in stages  # the finished teacher was reused
    assert metrics["train"]["resumed_from_epoch"] > 0
    assert metrics["f1"] > 0.8


def test_a_type_the_model_cannot_predict_is_not_scored_zero(tmp_path):
    files = write_data(tmp_path)
    metrics = train_job(
        job(files, mode="direct", train=files["train"], report_types=["DATE", "MISC"]),
        lambda e: None,
        lambda: False,
        tmp_path / "run",
    )
    # the tagger learnt PER and LOC only (types=[PER, LOC]): it cannot predict MISC
    assert metrics["per_type"]["MISC"]["f1"] is None
    assert metrics["per_type"]["MISC"]["predictable"] is False
    assert metrics["per_type"]["PER"]["f1"] > 0.5
    import json

    json.loads((tmp_path / "run" / "metrics.json").read_text())  # strict JSON, no NaN


def test_non_finite_numbers_never_reach_json():
    from core.training import finite

    assert finite({"loss": float("nan"), "x": [1.0, float("inf")]}) == {"loss": None,
                                                                         "x": [1.0, None]}  # fmt: skip


def test_train_command_runs_a_job_and_rejects_unknown_keys(tmp_path, capsys):
    from core.cli import main

    files = write_data(tmp_path)
    argv = [
        "train",
        "--mode",
        "direct",
        "--train",
        files["train"],
        "--test",
        files["test"],
        "--types",
        "PER",
        "LOC",
        "--epochs",
        "12",
        "--workdir",
        str(tmp_path / "run"),
        "--quiet",
        "--json",
    ]
    for key, value in SMALL.items():
        argv += ["--param", f"{key}={value}"]
    assert main(argv) == 0
    assert '"f1"' in capsys.readouterr().out
    assert main(argv[:-2] + ["--set", "bogus=1"]) == 1
    assert "unknown key 'bogus'" in capsys.readouterr().err
    assert (
        main(
            [
                "tag",
                "--model",
                str(tmp_path / "run" / "model"),
                "--input",
                files["unlabelled"]["path"],
                "--output",
                str(tmp_path / "out.conll"),
            ]
        )
        == 0
    )
    assert (tmp_path / "out.conll").read_text().count("\n\n") == 18


def test_a_sample_is_drawn_with_the_seed_in_file_order(tmp_path):
    """`limit` keeps the first N, `sample` a random N of those: the same seed the same
    sentences, another seed others, always in file order; a sample as large as the file is all
    of it. Unlabelled text samples its non-empty lines."""
    sentences = [Sentence([f"w{i}", "x"], ["B-PER", "O"]) for i in range(40)]
    write_conll(tmp_path / "train.conll", sentences)
    spec = {"path": str(tmp_path / "train.conll"), "limit": 30, "sample": 10}
    first = [s.tokens[0] for s in load_labelled(spec, "train", seed=1)]
    assert len(first) == 10 and len(set(first)) == 10
    assert first == [s.tokens[0] for s in load_labelled(spec, "train", seed=1)]
    assert first != [s.tokens[0] for s in load_labelled(spec, "train", seed=2)]
    assert all(int(w[1:]) < 30 for w in first)  # from the first `limit` only
    assert first == sorted(first, key=lambda w: int(w[1:]))  # file order
    everything = load_labelled({**spec, "sample": 30}, "train", seed=1)
    assert [s.tokens[0] for s in everything] == [f"w{i}" for i in range(30)]
    write_lines(tmp_path / "text.txt", [f"u{i} v" if i % 2 else "" for i in range(20)])
    text = {"path": str(tmp_path / "text.txt"), "format": "tokens", "sample": 4}
    drawn = load_unlabelled(text, "unlabelled", seed=3)
    assert len(drawn) == 4 and all(t and int(t[0][1:]) % 2 for t in drawn)
