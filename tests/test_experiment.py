"""Experiments (core.experiments.engine, `xner experiment`): strict config validation, planning,
aggregation over seeds, tables, the PNG plot, and whole demo experiments in this process and
through the run manager."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
import yaml

from core.experiments import engine as ex
from core.cli import main as xner
from core.errors import ConfigError
from core.workbench.results import load_rows
from tests.conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def row(lang, mode, seed, f1, **per_type):
    return {"name": f"{lang}-{mode}-{seed}", "lang": lang, "mode": mode, "seed": seed, "f1": f1,
            "per_type": per_type}  # fmt: skip


ROWS = [
    row("yor", "direct", 1, 0.40, PER=0.5, LOC=0.3),
    row("yor", "direct", 2, 0.44, PER=0.6, LOC=0.3),
    row("yor", "distill", 1, 0.50, PER=0.7, LOC=0.4),
    row("yor", "distill", 2, 0.52, PER=0.7, LOC=0.2),
    row("yor", "model-transfer", 1, 0.30, PER=0.4),
    row("hau", "direct", 1, 0.60, PER=0.6, LOC=0.6),
]


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


# --------------------------------------------------------------------------- aggregation


def test_aggregate_means_and_sample_std_over_seeds_per_type():
    table = ex.aggregate(ROWS)
    keys = [(e["lang"], e["mode"]) for e in table]
    assert keys == [("yor", "model-transfer"), ("yor", "direct"), ("yor", "distill"),
                    ("hau", "direct")]  # fmt: skip
    direct = table[1]
    assert direct["n"] == 2 and direct["f1_mean"] == pytest.approx(0.42)
    assert direct["f1_std"] == pytest.approx(math.sqrt(2 * 0.02**2))  # sample std (n - 1)
    assert direct["PER_mean"] == pytest.approx(0.55) and direct["LOC_std"] == pytest.approx(0.0)
    assert table[0]["f1_std"] == 0.0 and table[0]["LOC_mean"] is None  # one seed, no LOC score
    distill = table[2]
    assert distill["delta_vs_direct"] == pytest.approx(0.09)
    assert distill["beyond_seed_spread"] is True  # 0.09 > max(0.028, 0.014)
    assert "delta_vs_direct" not in table[3]  # hau has no distill runs
    assert [k for k in ex.aggregate(ROWS, types=["PER"])[0] if k.endswith("_mean")] == [
        "f1_mean",
        "PER_mean",
    ]


def test_aggregate_judges_a_small_difference_within_the_spread():
    rows = [row("ibo", "direct", s, f) for s, f in ((1, 0.40), (2, 0.50))]
    rows += [row("ibo", "distill", s, f) for s, f in ((1, 0.44), (2, 0.48))]
    distill = ex.aggregate(rows)[1]
    assert distill["delta_vs_direct"] == pytest.approx(0.01)
    assert distill["beyond_seed_spread"] is False


def test_csv_and_markdown_tables():
    table = ex.aggregate(ROWS)
    parsed = list(csv.DictReader(io.StringIO(ex.table_csv(table))))
    assert len(parsed) == 4 and parsed[1]["f1_mean"] == "0.4200" and parsed[0]["LOC_mean"] == ""
    md = ex.markdown_table(table, "F1 PER/ORG/LOC").splitlines()
    assert md[0] == "| lang | mode | seeds | F1 PER/ORG/LOC | PER | LOC | distill − direct |"
    assert "| yor | direct | 2 | 0.420 ± 0.028 | 0.550 ± 0.071 | 0.300 ± 0.000 |  |" in md
    assert any("+0.090 (beyond seed spread)" in line for line in md)
    assert "–" in md[2]  # model-transfer has no LOC score


def test_plot_is_a_valid_png(tmp_path):
    import matplotlib.image

    path = ex.plot_results(ex.aggregate(ROWS), tmp_path / "plot.png", "toy")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400  # decodes; several panels wide
    with pytest.raises(ConfigError, match="no results"):
        ex.plot_results([], tmp_path / "empty.png")


def test_rows_from_finished_runs_only():
    from core.runs.store import Run

    def run(status, config, metrics):
        return Run(id="r1", name="n", kind="demo", executor="local", config=config,
                   status=status, workdir="w", log_path="l", cwd=".", created=0, updated=0,
                   metrics=metrics)  # fmt: skip

    metrics = {"f1": 0.5, "per_type": {"PER": {"f1": 0.6}}}
    good = run("succeeded", {"lang": "yor", "mode": "distill", "seed": 2}, metrics)
    rows = ex.rows_from_runs(
        [good, run("failed", good.config, None), run("succeeded", {"seconds": 1}, {"f1": 0.1})]
    )
    assert rows == [{"name": "n", "lang": "yor", "mode": "distill", "seed": 2, "f1": 0.5,
                     "precision": None, "recall": None, "per_type": {"PER": 0.6},
                     "run_id": "r1"}]  # fmt: skip


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"languags": ["yor"]}, "unknown key(s) 'languags'"),
        ({"languages": ["yor", "klingon"]}, "unknown language 'klingon'"),
        ({"modes": ["direct", "telepathy"]}, "unknown mode 'telepathy'"),
        ({"seeds": []}, "seeds must be a non-empty list"),
        ({"demo": {"stepz": 1}}, "unknown key(s) demo.stepz"),
        ({"evaluation": "test.txt"}, "evaluation must be a mapping"),
        ({"job": "teleport"}, "job 'teleport' cannot be planned"),
        ({"executor": "moon"}, "unknown executor 'moon'"),
    ],
)
def test_config_errors_name_the_problem_and_the_file(tmp_path, overrides, message):
    path = write_config(tmp_path, **overrides)
    with pytest.raises(ConfigError) as info:
        ex.load_experiment(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_missing_or_broken_files_are_clear(tmp_path):
    from core.errors import InputError

    with pytest.raises(InputError, match="file not found"):
        ex.load_experiment(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("languages: [yor\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        ex.load_experiment(tmp_path / "bad.yaml")


def test_train_experiment_checks_its_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_config(tmp_path, job="train", data=str(tmp_path / "nodata"))
    with pytest.raises(ConfigError, match="data folder .*nodata not found"):
        ex.load_experiment(path)
    (tmp_path / "data").mkdir()
    path = write_config(tmp_path, job="train", data=str(tmp_path / "data"))
    with pytest.raises(ConfigError, match="language 'yor': .*test.txt not found"):
        ex.load_experiment(path)
    path = write_config(tmp_path, job="train", projection={"aligner": "magic"})
    with pytest.raises(ConfigError, match="unknown projection.aligner 'magic'"):
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
    with pytest.raises(ConfigError, match="unknown key.*projection.languages.yor.metod"):
        ex.load_experiment(path)
    path = write_config(tmp_path, job="train", projection={"languages": {"zul": {}}})
    with pytest.raises(ConfigError, match="projection.languages.zul: not one of"):
        ex.load_experiment(path)


def test_per_language_projection_overrides_the_shared_settings(tmp_path):
    projection = {
        "method": "heuristic",
        "aligner_params": {"symmetrization": "grow-diag-final-and"},
        "languages": {"yor": {"method": "candidates-greedy"}},
    }
    exp = ex.Experiment(
        "toy", tmp_path / "toy.yaml", "train", ["yor", "hau"], [1], ["direct"],
        tmp_path, tmp_path, tmp_path, config={"projection": projection},
    )  # fmt: skip
    assert exp.projection_for("yor") == {
        "method": "candidates-greedy",
        "aligner_params": {"symmetrization": "grow-diag-final-and"},
    }
    assert exp.projection_for("hau")["method"] == "heuristic"


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
    assert distill.config["test"]["path"].endswith("masakhaner2/yor/test.txt")
    assert distill.config["tagger"] == "embedded" and distill.config["report_types"] == ["DATE"]
    from core.training import check_config

    for r in runs:
        check_config(r.config)


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
    ex.run_plan(ex.plan(exp), on_event=lambda kind, run, e: events.append(kind))
    assert events.count("reused") == 8 and "start" not in events
    events.clear()
    ex.run_plan(ex.plan(exp), rerun=True, on_event=lambda kind, run, e: events.append(kind))
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
    assert ex.results_for_runs([r.id for r in runs]) == managed


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
    run = ex.PlannedRun(
        "yor-direct-seed1", "yor", "direct", 1, "train",
        {"mode": "direct", "train": {"path": str(train), "format": "conll"}}, tmp_path / "run",
    )  # fmt: skip
    ex._record_job(run)
    ex._save_metrics(run, {"f1": 0.5})
    assert ex._finished(run) == {"f1": 0.5}
    train.write_text("Ade B-PER\nlọ O\n\n", encoding="utf-8")  # projected again, other settings
    assert ex._finished(run) is None
    ex._record_job(run)  # the rerun starts ... and crashes before writing metrics
    assert ex._finished(run) is None
