"""Experiments (core.experiments.plan/run/results, `xner experiment`): planning, the engine's
executors (in this process, a process pool, the run manager), tables and plots of whole demo
experiments, reuse of finished runs. Settings errors: tests/test_settings.py; the results
module: tests/test_results.py."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from core.cli import main as xner
from core.cli.commands.experiment import _restrict
from core.errors import ConfigError
from core.experiments import plan as ex
from core.experiments.results import aggregate, load_rows, rows_from_runs
from core.experiments.run import finished_metrics, record_job, run_plan, save_metrics
from core.experiments.settings import TrainJob, validate
from tests.conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_config(tmp_path: Path, **overrides) -> Path:
    config = {
        "name": "toy",
        "job": "demo",
        "work": str(tmp_path / "work"),
        "languages": ["yor", "hau"],
        "seeds": [1, 2],
        "modes": ["direct", "distill"],
        "demo": {"steps": 1, "step_seconds": 0.0},
        **overrides,
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# --------------------------------------------------------------------------- validation


def test_missing_or_broken_files_are_clear(tmp_path):
    from core.errors import InputError

    with pytest.raises(InputError, match="file not found"):
        ex.load_experiment(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("languages: [yor\n")
    with pytest.raises(ConfigError, match="bad.yaml:2: not valid YAML"):
        ex.load_experiment(tmp_path / "bad.yaml")


def test_train_experiment_checks_its_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, job="train", data=str(tmp_path / "nodata"))
    with pytest.raises(ConfigError, match="data: folder .*nodata not found"):
        ex.load_experiment(path)
    (tmp_path / "data").mkdir()
    path = write_config(tmp_path, job="train", data=str(tmp_path / "data"))
    with pytest.raises(ConfigError, match="language 'yor': .*test.txt not found"):
        ex.load_experiment(path)
    path = write_config(tmp_path, job="train", projection={"aligner": "magic"})
    with pytest.raises(ConfigError, match="projection.aligner: unknown aligner 'magic'"):
        ex.load_experiment(path)
    path = write_config(tmp_path, job="train", projection={"method": "marker"})
    with pytest.raises(ConfigError, match="'marker' needs a translator"):
        ex.load_experiment(path)
    path = write_config(
        tmp_path, job="train", projection={"languages": {"yor": {"method": "marker"}}}
    )
    with pytest.raises(ConfigError, match="'marker' needs a translator"):
        ex.load_experiment(path)
    path = write_config(tmp_path, job="train", projection={"languages": {"yor": {"metod": "x"}}})
    with pytest.raises(ConfigError, match="projection.languages.yor.metod: unknown key"):
        ex.load_experiment(path)
    path = write_config(tmp_path, job="train", projection={"languages": {"zul": {}}})
    with pytest.raises(ConfigError, match="projection.languages.zul: not one of"):
        ex.load_experiment(path)


def load_config(stem: str, shared_data: Path, tmp_path: Path) -> ex.Experiment:
    """configs/STEM.yaml with `data` pointed at the shared data (run from the repository)."""
    config = yaml.safe_load((ROOT / "configs" / f"{stem}.yaml").read_text())
    config["data"] = str(shared_data)
    (tmp_path / f"{stem}.yaml").write_text(yaml.safe_dump(config))
    return ex.load_experiment(tmp_path / f"{stem}.yaml")


@pytest.mark.parametrize(
    ("name", "differs_in"),
    [
        ("flagship_dev_labeler", {"source_labeler"}),
        ("flagship_dev_encoder", {"aligner", "aligner_params", "method"}),
        ("flagship_dev_labeler_encoder", {"source_labeler", "source_labeler_params"}),
        (  # yor without its override: the shared heuristic over grow-diag-final-and
            "flagship_dev_labeler_encoder_yor_heuristic",
            {"source_labeler", "source_labeler_params", "aligner_params", "method"},
        ),
        ("flagship_dev_distill", set()),
        ("flagship_dev_mt_teacher", set()),
    ],
)
def test_the_dev_configs_differ_from_their_baseline_in_what_they_test(
    name, differs_in, shared_data, monkeypatch, tmp_path
):
    """The dev variants choose the flagship's settings on the dev split (never test): each
    differs from the baseline, flagship_dev (the flagship's settings before the encoder
    labeler), only in the projection settings it tests (the encoder's method is yor's already),
    with the same taggers."""
    monkeypatch.chdir(ROOT)
    base = load_config("flagship_dev", shared_data, tmp_path).settings
    variant = load_config(name, shared_data, tmp_path)
    runs = [r for p in ex.plan(variant) for r in p]
    assert {r.seed for r in runs} == {1}
    for r in runs:
        if r.lang:
            assert r.config["test"][0]["path"].endswith(f"masakhaner2/{r.lang}/dev.txt")
    for key in ("tagger", "tagger_params", "epochs"):
        assert getattr(variant.settings, key) == getattr(base, key)
    for lang in variant.languages:
        ours = variant.settings.projection_for(lang).model_dump()
        theirs = base.projection_for(lang).model_dump()
        changed = {k for k in ours if ours[k] != theirs[k]}
        assert changed <= differs_in and bool(changed) == bool(differs_in), lang


def test_the_flagship_takes_what_dev_chose(shared_data, monkeypatch, tmp_path):
    """configs/flagship.yaml = the dev-chosen settings: flagship_dev_labeler_encoder's
    projection, flagship_dev's taggers, flagship_dev_mt_teacher's model-transfer model."""
    monkeypatch.chdir(ROOT)
    flagship = load_config("flagship", shared_data, tmp_path).settings
    labeler = load_config("flagship_dev_labeler_encoder", shared_data, tmp_path).settings
    teacher = load_config("flagship_dev_mt_teacher", shared_data, tmp_path).settings
    assert flagship.projection == labeler.projection
    for key in ("tagger", "tagger_params", "epochs"):
        assert getattr(flagship, key) == getattr(labeler, key)
    assert flagship.model_transfer == teacher.model_transfer
    assert flagship.evaluation.test == "masakhaner2/{lang}/test.txt" and flagship.seeds == [1, 2, 3]


def test_the_encoder_tagger_dev_config_differs_in_the_target_tagger_only(
    shared_data, monkeypatch, tmp_path
):
    """flagship_dev_encoder_tagger = flagship_dev_labeler_encoder (the flagship's projection, dev,
    seed 1) with the encoder as the target tagger on its CPU budget: taggers, epochs and the
    samples differ, nothing else."""
    monkeypatch.chdir(ROOT)
    base = load_config("flagship_dev_labeler_encoder", shared_data, tmp_path).settings
    encoder = load_config("flagship_dev_encoder_tagger", shared_data, tmp_path).settings
    ours, theirs = encoder.model_dump(), base.model_dump()
    changed = {k for k in ours if ours[k] != theirs[k]}
    assert changed == {"name", "work", "modes", "tagger", "tagger_params", "epochs",
                       "train_sample", "distill"}  # fmt: skip
    assert encoder.tagger == "transformers" and encoder.train_sample == 1000
    distill = {k for k in ours["distill"] if ours["distill"][k] != theirs["distill"][k]}
    assert distill == {"student_epochs", "unlabelled_sample"}
    assert encoder.evaluation.test == "masakhaner2/{lang}/dev.txt" and encoder.seeds == [1]
    larger = load_config("flagship_dev_encoder_tagger_3k", shared_data, tmp_path).settings
    assert larger.model_dump() == {**ours, "name": larger.name, "work": larger.work,
                                   "train_sample": 3000}  # fmt: skip


def test_the_kl_dev_config_differs_in_the_students_loss_only(shared_data, monkeypatch, tmp_path):
    """flagship_dev_labeler_encoder_kl = flagship_dev_labeler_encoder with KL students."""
    monkeypatch.chdir(ROOT)
    base = load_config("flagship_dev_labeler_encoder", shared_data, tmp_path).settings
    kl = load_config("flagship_dev_labeler_encoder_kl", shared_data, tmp_path).settings
    ours, theirs = kl.model_dump(), base.model_dump()
    assert {k for k in ours if ours[k] != theirs[k]} == {"name", "work", "modes", "tagger_params"}
    assert kl.tagger_params == {**base.tagger_params, "soft_loss": "kl"}


def test_the_mt_teacher_dev_pair_differs_in_the_teacher_only(shared_data, monkeypatch, tmp_path):
    """flagship_dev_distill and flagship_dev_mt_teacher choose whether the encoder teaches:
    flagship_dev's settings on dev, seed 1, all five languages; only model transfer's tagger and
    its weight as a teacher differ."""
    monkeypatch.chdir(ROOT)
    base = load_config("flagship_dev_distill", shared_data, tmp_path).settings
    encoder = load_config("flagship_dev_mt_teacher", shared_data, tmp_path).settings
    flagship = load_config("flagship", shared_data, tmp_path).settings
    assert base.evaluation.test == encoder.evaluation.test == "masakhaner2/{lang}/dev.txt"
    assert base.seeds == encoder.seeds == [1] and base.languages == flagship.languages
    assert base.distill.model_dump() == {**encoder.distill.model_dump(), "mt_teacher_weight": 0.0}
    assert encoder.distill.mt_teacher_weight == 1.0
    assert base.model_transfer_tagger()["tagger"] == "embedded"
    assert encoder.model_transfer_tagger()["tagger"] == "transformers"


def test_the_flagship_config_validates_and_plans(shared_data, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)  # its other paths are relative to the repository
    config = yaml.safe_load((ROOT / "configs" / "flagship.yaml").read_text())
    config["data"] = str(shared_data)  # ../shared/data, or $XNER_DATA where it lives elsewhere
    (tmp_path / "flagship.yaml").write_text(yaml.safe_dump(config))
    exp = ex.load_experiment(tmp_path / "flagship.yaml")
    phases = ex.plan(exp)
    runs = [r for p in phases for r in p]
    assert [len(p) for p in phases] == [3 + 15, 30]  # model-transfer training + direct; rest
    rows = [r for r in runs if r.lang]
    assert len(rows) == 5 * 3 * 3 and len({r.workdir for r in runs}) == len(runs)
    distill = next(r for r in runs if r.name == "yor-distill-seed1")
    teachers = [Path(t["path"]).parent for t in distill.config["teachers"]]
    direct = {r.workdir for r in phases[0] if r.mode == "direct" and r.lang == "yor"}
    assert set(teachers) == direct  # taught by the direct models of all seeds
    assert distill.config["hard_weight"] == 0.0 and distill.config["epochs"] == 5
    assert distill.config["test"][0]["path"].endswith("masakhaner2/yor/test.txt")
    assert distill.config["tagger"] == "embedded" and distill.config["report_types"] == ["DATE"]
    # distill.unlabelled honoured: MasakhaNER train text (CoNLL, labels dropped), MAFAND target
    assert [u["format"] for u in distill.config["unlabelled"]] == ["conll", "tokens"]
    for r in runs:
        assert validate(TrainJob, r.config) == r.job  # each job round-trips through JSON
    # yor (candidates-greedy) and hau (heuristic) differ in setup; a language's modes share one
    setups = {(r.lang, r.mode): r.config["setup"]["id"] for r in rows}
    assert setups["yor", "direct"] == setups["yor", "distill"] == setups["yor", "model-transfer"]
    assert setups["yor", "direct"] != setups["hau", "direct"]
    yor = distill.config["setup"]["settings"]
    assert yor["projection"]["method"] == "candidates-greedy" and yor["split"] == "test"
    assert any(k.startswith("masakhaner2/yor/test.txt") for k in yor["data"])
    assert all(v.startswith("sha256:") for v in yor["data"].values())
    families = {r.config["setup"]["family"] for r in rows}
    assert len(families) == 1  # one experiment: one choice on the Results page


def test_sample_sizes_reach_the_jobs_and_the_setup(shared_data, monkeypatch, tmp_path):
    """`train_sample` and `distill.unlabelled_sample` (a pretrained encoder's CPU budget) become
    the jobs' DataSpec samples and part of the setup; without them the setup is as it was."""
    monkeypatch.chdir(ROOT)
    config = yaml.safe_load((ROOT / "configs" / "flagship.yaml").read_text())
    config["data"] = str(shared_data)
    config["train_sample"] = 1000
    config["distill"]["unlabelled_sample"] = 500
    (tmp_path / "budget.yaml").write_text(yaml.safe_dump(config))
    runs = {r.name: r for p in ex.plan(ex.load_experiment(tmp_path / "budget.yaml")) for r in p}
    direct, distill = runs["zul-direct-seed2"].config, runs["zul-distill-seed2"].config
    assert [d["sample"] for d in direct["train"]] == [1000]
    assert [d["sample"] for d in distill["train"]] == [1000]  # its hard labels: the same data
    assert [d["sample"] for d in distill["unlabelled"]] == [500, 500]  # each source
    assert "sample" not in runs["model-transfer-seed2"].config["train"][0]  # CoNLL: all of it
    settings = distill["setup"]["settings"]
    assert settings["train_sample"] == 1000 and settings["distill"]["unlabelled_sample"] == 500
    plain = {r.name: r for p in ex.plan(ex.load_experiment(ROOT / "configs" / "flagship.yaml",
                                                           data=str(shared_data))) for r in p}  # fmt: skip
    plain_zul = plain["zul-distill-seed2"].config
    assert (
        "sample" not in plain_zul["train"][0]
        and "train_sample" not in plain_zul["setup"]["settings"]
    )
    assert plain_zul["setup"]["id"] != distill["setup"]["id"]  # rows of another setup


def test_model_transfer_can_have_its_own_tagger(shared_data, monkeypatch, tmp_path):
    """A multilingual encoder for model transfer (and as a distill teacher) while the projected
    data's taggers stay embedded: only the model-transfer jobs take its tagger and epochs."""
    monkeypatch.chdir(ROOT)
    config = yaml.safe_load((ROOT / "configs" / "flagship.yaml").read_text())
    config["data"] = str(shared_data)
    config["model_transfer"].update(tagger="transformers", epochs=2,
                                    tagger_params={"model": "some/folder", "threads": 1})  # fmt: skip
    config["distill"]["mt_teacher_weight"] = 1.0
    (tmp_path / "encoder.yaml").write_text(yaml.safe_dump(config))
    runs = [r for p in ex.plan(ex.load_experiment(tmp_path / "encoder.yaml")) for r in p]
    mt = [r for r in runs if r.mode == "model-transfer"]
    assert len(mt) == 3 + 5 * 3  # training per seed, evaluation per language and seed
    for r in mt:
        assert r.config["tagger"] == "transformers" and r.config["epochs"] == 2
        assert r.config["tagger_params"] == {"model": "some/folder", "threads": 1}
    for r in runs:
        if r.mode != "model-transfer":
            assert r.config["tagger"] == "embedded" and r.config["tagger_params"]["o_weight"] == 0.3
    distill = next(r for r in runs if r.name == "hau-distill-seed2")
    teachers = [Path(t["path"]).parent.name for t in distill.config["teachers"]]
    assert teachers == ["direct-seed1", "direct-seed2", "direct-seed3", "seed2"]
    assert distill.config["teacher_weights"] == [1.0, 1.0, 1.0, 3.0]  # as much as the ensemble
    training = next(r for r in mt if not r.lang)
    assert training.config["test"][0]["path"].endswith("conll2003_en/test.txt")
    # a part of the languages plans the same training job: a later full run reuses it
    part = ex.load_experiment(tmp_path / "encoder.yaml")
    _restrict(part, argparse.Namespace(languages=["pcm"], seeds=None, modes=["direct"]))
    again = next(r for p in ex.plan(part) for r in p if r.name == training.name)
    assert again.config == training.config
    flagship = [r for p in ex.plan(ex.load_experiment(ROOT / "configs" / "flagship.yaml",
                                                      data=str(shared_data))) for r in p]  # fmt: skip
    assert {r.config["setup"]["id"] for r in runs if r.lang}.isdisjoint(
        r.config["setup"]["id"] for r in flagship if r.lang
    )  # another model-transfer model: rows of another setup
    # without a tagger of its own, model transfer keeps the experiment's tagger and options
    config["model_transfer"] = {"train": "conll2003_en/train.txt"}
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(config))
    planned = [r for p in ex.plan(ex.load_experiment(tmp_path / "plain.yaml")) for r in p]
    plain = next(r for r in planned if r.name == "model-transfer-seed1").config
    assert plain["tagger"] == "embedded" and plain["tagger_params"]["o_weight"] == 0.3


def test_the_model_transfer_teacher_per_language(shared_data, monkeypatch, tmp_path):
    """distill.languages.LANG.mt_teacher_weight: the encoder teaches where it was chosen; the
    other languages' jobs and setups are those of an experiment without it."""
    monkeypatch.chdir(ROOT)
    config = yaml.safe_load((ROOT / "configs" / "flagship.yaml").read_text())
    config["data"] = str(shared_data)
    config["modes"] = ["direct", "distill"]
    config["distill"]["mt_teacher_weight"] = 0.0
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(config))
    config["distill"]["languages"] = {"hau": {"mt_teacher_weight": 1.0}}
    (tmp_path / "hau.yaml").write_text(yaml.safe_dump(config))
    plain = {r.name: r for p in ex.plan(ex.load_experiment(tmp_path / "plain.yaml")) for r in p}
    hau = {r.name: r for p in ex.plan(ex.load_experiment(tmp_path / "hau.yaml")) for r in p}
    assert "model-transfer-seed1" in hau and "model-transfer-seed1" not in plain
    assert len(hau["hau-distill-seed2"].config["teachers"]) == 4
    assert hau["hau-distill-seed2"].config["teacher_weights"][-1] == 3.0

    def job(run: ex.PlannedRun) -> dict:
        return {k: v for k, v in run.config.items() if k != "setup"}

    yor, yor_plain = hau["yor-distill-seed2"].config, plain["yor-distill-seed2"].config
    assert job(hau["yor-distill-seed2"]) == job(plain["yor-distill-seed2"])
    assert yor["setup"]["id"] == yor_plain["setup"]["id"]  # comparable rows (another family)
    assert (
        hau["hau-direct-seed1"].config["setup"]["id"]
        != (plain["hau-direct-seed1"].config["setup"]["id"])
    )
    config["distill"]["languages"] = {"swa": {"mt_teacher_weight": 1.0}}
    (tmp_path / "swa.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="distill.languages.swa: not one of"):
        ex.load_experiment(tmp_path / "swa.yaml")


# --------------------------------------------------------------------------- whole experiments


def test_demo_experiment_in_process_writes_table_plot_and_app_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    path = write_config(tmp_path)
    assert xner(["experiment", str(path), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["runs"] == 8 and result["failed"] == []
    table = result["table"]
    assert [(e["lang"], e["mode"], e["n"]) for e in table] == [
        ("yor", "direct", 2), ("yor", "distill", 2), ("hau", "direct", 2), ("hau", "distill", 2)
    ]  # fmt: skip
    files = result["files"]
    assert Path(files["plot"]).read_bytes().startswith(PNG_MAGIC)
    assert "| yor | distill | 2 |" in Path(files["markdown"]).read_text()
    assert len(Path(files["csv"]).read_text().splitlines()) == 5
    published = load_rows([files["published"]])  # the app's Results page reads these
    assert len(published) == 8 and {r["mode"] for r in published} == {"direct", "distill"}

    # the same again reuses the finished runs; --rerun redoes them
    events = []
    exp = ex.load_experiment(path)
    run_plan(ex.plan(exp), on_event=lambda kind, run, e: events.append(kind))
    assert events.count("reused") == 8 and "start" not in events
    events.clear()
    run_plan(ex.plan(exp), rerun=True, on_event=lambda kind, run, e: events.append(kind))
    assert events.count("start") == 8


def test_dry_run_plans_without_running(tmp_path, capsys):
    path = write_config(tmp_path, seeds=[1, 2, 3])
    assert xner(["experiment", str(path), "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert len(plan["runs"]) == 2 * 2 * 3
    assert not (tmp_path / "work").exists()


def test_run_manager_experiment_matches_in_process(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    path = write_config(tmp_path, languages=["yor"])
    argv = ["experiment", str(path), "--json", "--quiet", "--no-publish"]
    assert xner([*argv, "--output", str(tmp_path / "a")]) == 0
    inprocess = json.loads(capsys.readouterr().out)["table"]
    assert xner([*argv, "--executor", "local", "--parallel", "2", "--rerun",
                 "--output", str(tmp_path / "b")]) == 0  # fmt: skip
    managed = json.loads(capsys.readouterr().out)["table"]
    assert managed == inprocess  # demo scores depend on lang/mode/seed only
    from core.runs import RunManager

    runs = RunManager().list()  # $XNER_HOME/runs: the app sees these runs
    assert len(runs) == 4 and {r.status for r in runs} == {"succeeded"}
    assert aggregate(rows_from_runs(runs)) == managed
    assert xner([*argv, "--executor", "pool", "--parallel", "2", "--rerun",
                 "--output", str(tmp_path / "c")]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["table"] == inprocess


def test_failed_runs_are_reported_and_the_rest_tabulated(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    path = write_config(tmp_path, languages=["yor"], demo={"steps": 2, "fail_at": 2})
    assert xner(["experiment", str(path), "--quiet", "--no-publish"]) == 1
    err = capsys.readouterr().err
    assert "run yor-direct-seed1 failed: RuntimeError: demo failure at step 2" in err
    md = (tmp_path / "work" / "results" / "results.md").read_text()
    assert "Failed runs:" in md and "no results" in md


def test_a_rebuilt_input_or_a_crash_is_not_mistaken_for_a_finished_run(tmp_path):
    train = tmp_path / "projected.conll"
    train.write_text("Ade B-PER\n\n", encoding="utf-8")
    job = validate(TrainJob, {"mode": "direct", "train": {"path": str(train), "format": "conll"},
                              "test": str(train)})  # fmt: skip
    run = ex.PlannedRun("yor-direct-seed1", "yor", "direct", 1, "train", job, tmp_path / "run")
    record_job(run)
    save_metrics(run, {"f1": 0.5})
    assert finished_metrics(run) == {"f1": 0.5}
    train.write_text("Ade B-PER\nlọ O\n\n", encoding="utf-8")  # projected again, other settings
    assert finished_metrics(run) is None
    record_job(run)  # the rerun starts ... and crashes before writing metrics
    assert finished_metrics(run) is None
    save_metrics(run, {"f1": 0.25})
    # another setup only (e.g. the experiment's distill settings changed): the same computation
    resetup = validate(TrainJob, {**run.config, "setup": {"id": "x", "family": "y", "label": "z",
                                                          "settings": {}}})  # fmt: skip
    again = ex.PlannedRun(run.name, "yor", "direct", 1, "train", resetup, run.workdir)
    assert finished_metrics(again) == {"f1": 0.25}
    other = validate(TrainJob, {**run.config, "seed": 2})  # another job
    assert finished_metrics(ex.PlannedRun(run.name, "yor", "direct", 2, "train", other,
                                          run.workdir)) is None  # fmt: skip


def test_a_part_of_the_languages_keeps_the_whole_experiments_setup_and_family(
    shared_data, monkeypatch, tmp_path
):
    """--languages drops the other languages' overrides (yor's projection in the flagship) from
    the settings it plans with; the rows' setup and family must stay the whole file's, so the
    Results page shows one experiment whichever part ran."""
    monkeypatch.chdir(ROOT)
    whole = {r.name: r for p in ex.plan(load_config("flagship", shared_data, tmp_path)) for r in p}
    part = load_config("flagship", shared_data, tmp_path)
    _restrict(part, argparse.Namespace(languages=["pcm"], seeds=None, modes=None))
    assert part.settings.projection.languages == {} and "yor" in part.whole.projection.languages
    for run in (r for p in ex.plan(part) for r in p if r.lang):
        assert run.config["setup"] == whole[run.name].config["setup"], run.name


def test_part_of_the_plan_from_the_command_line(tmp_path, capsys):
    path = write_config(tmp_path, seeds=[1, 2, 3])
    argv = ["experiment", str(path), "--dry-run", "--json", "--languages", "hau", "--seeds", "2",
            "--modes", "distill"]  # fmt: skip
    assert xner(argv) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["name"] for r in runs] == ["hau-distill-seed2"]
    # the setup does not depend on which part of the plan runs
    assert xner(["experiment", str(path), "--dry-run", "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)["runs"]
    same = next(r for r in whole if r["name"] == "hau-distill-seed2")
    assert same["config"]["setup"] == runs[0]["config"]["setup"]
    assert xner(["experiment", str(path), "--dry-run", "--languages", "zul"]) == 1
    assert "--languages: zul not in" in capsys.readouterr().err
