"""Retraining from corrections: the jobs (corrected vs uncorrected data, same settings, seeds and
test set), one of them actually trained, and the comparison through the results module."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.data.formats import read_conll
from core.errors import ConfigError
from core.workbench.retrain import (
    DISTILL_PARAMS,
    comparison,
    record,
    recorded,
    retrain_jobs,
)
from core.workbench.runs import SIZE_PRESETS
from tests.app_support import build_demo
from tests.test_training import SMALL


@pytest.fixture
def demo(tmp_path):
    return build_demo(tmp_path)


def test_jobs_train_on_corrected_and_uncorrected_data_alike(demo, tmp_path):
    key = demo.view_keys[0]
    projected = demo.projections(key)[0].target_tags()
    demo.corrections.set_label("0", 0, 2, "ORG", projected=projected, user="a")
    test = tmp_path / "test.conll"
    test.write_text("Ana B-PER\nfala O\n\n")
    planned = retrain_jobs(demo, key, test, preset="medium")
    assert len(planned) == 2 * 2 * len(SIZE_PRESETS["medium"].seeds)
    corrected = [p.job for p in planned if p.version == "corrected"]
    uncorrected = [p.job for p in planned if p.version == "uncorrected"]
    assert {j.epochs for j in corrected} == {8} and {j.lang for j in corrected} == {"pt"}
    assert [(j.mode, j.seed) for j in corrected] == [(j.mode, j.seed) for j in uncorrected]
    first_c = read_conll(corrected[0].train[0].path)[0]
    first_u = read_conll(uncorrected[0].train[0].path)[0]
    assert first_c.tags[:2] == ["B-ORG", "I-ORG"] and first_u.tags == projected
    distill = next(j for j in corrected if j.mode == "distill")
    assert distill.unlabelled[0].path == distill.train[0].path
    assert distill.tagger_params == DISTILL_PARAMS  # the student learns with KL
    assert all(not j.tagger_params for j in corrected if j.mode == "direct")
    with pytest.raises(ConfigError, match="preset 'huge'"):
        retrain_jobs(demo, key, test, preset="huge")
    record(demo, [("r1", "corrected")], "small")
    assert recorded(demo)[-1]["runs"] == [{"id": "r1", "version": "corrected"}]


def test_a_small_job_trains_for_real(demo, tmp_path):
    from core.training import train_job

    key = demo.view_keys[0]
    test = tmp_path / "test.conll"
    test.write_text("Maria B-PER\nSilva I-PER\ntrabalha O\nem O\nLisboa B-LOC\n\n")
    job = next(
        p.job for p in retrain_jobs(demo, key, test, preset="small") if p.job.mode == "direct"
    )
    job = job.model_copy(update={"tagger_params": SMALL, "epochs": 1})  # seconds, not a minute
    metrics = train_job(job, lambda event: None, lambda: False, tmp_path / "work")
    assert 0.0 <= metrics["f1"] <= 1.0


def _run(run_id, version, mode, seed, f1, train):
    config = {"mode": mode, "lang": "pt", "seed": seed, "train": train, "test": "t.conll",
              "name": f"x-{version}-{mode}-seed{seed}"}  # fmt: skip
    return SimpleNamespace(
        id=run_id, name=config["name"], status="succeeded", config=config, metrics={"f1": f1}
    )


def test_comparison_pools_seeds_per_version_and_mode():
    runs = [
        _run("a", "corrected", "direct", 1, 0.50, "c.conll"),
        _run("b", "corrected", "direct", 2, 0.54, "c.conll"),
        _run("c", "uncorrected", "direct", 1, 0.40, "u.conll"),
        _run("d", "uncorrected", "direct", 2, 0.42, "u.conll"),
        _run("e", "corrected", "distill", 1, 0.6, "c.conll"),
    ]
    versions = {"a": "corrected", "b": "corrected", "c": "uncorrected", "d": "uncorrected",
                "e": "corrected"}  # fmt: skip
    rows = {r["mode"]: r for r in comparison(runs, versions)}
    direct = rows["direct"]
    assert direct["F1 corrected"] == "0.520 ± 0.028" and direct["F1 uncorrected"] == "0.410 ± 0.014"
    assert direct["change"] == "+0.110" and direct["beyond seed spread"] == "yes"
    assert rows["distill"]["F1 corrected"] == "0.600" and "change" not in rows["distill"]
