"""The Results page (core.workbench.results over core.experiments.results): one setup at a
time, what differs between setups, no ± for one seed, n/a for a type a model cannot predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import InputError
from core.workbench.results import (
    entity_types,
    load_rows,
    mean_std,
    registry_rows,
    setup_families,
    summarise,
)

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def row(lang, mode, seed, f1, per=0.5):
    return {"lang": lang, "mode": mode, "seed": seed, "f1": f1, "per_type": {"PER": per}}


ROWS = [
    row("yor", "direct", 1, 0.40),
    row("yor", "direct", 2, 0.42),
    row("yor", "distill", 1, 0.50, per=0.7),
    row("yor", "distill", 2, 0.52, per=0.9),
    row("yor", "model-transfer", 1, 0.20),
    row("hau", "direct", 1, 0.30),
]


@pytest.fixture
def results_file(tmp_path):
    path = tmp_path / "results" / "runs.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


def test_mean_and_sample_std():
    assert mean_std([0.4, 0.42]) == pytest.approx((0.41, 0.0141421356))
    assert mean_std([0.3]) == (0.3, None)  # one value: no spread


def test_summaries_per_language_mode_and_type(results_file):
    rows = load_rows([results_file])
    assert rows[0]["name"] == "yor-direct-1" and rows[0]["source"] == "runs.jsonl"
    assert entity_types(rows) == ["PER"]
    summary, table = summarise(rows, ["PER"])
    main = [(s.lang, s.mode, round(s.mean, 3), s.n) for s in summary if s.type == "all"]
    assert main == [
        ("yor", "model-transfer", 0.2, 1),
        ("yor", "direct", 0.41, 2),
        ("yor", "distill", 0.51, 2),
        ("hau", "direct", 0.3, 1),
    ]
    per = next(s for s in summary if s.type == "PER" and s.mode == "distill")
    assert per.mean == pytest.approx(0.8) and per.text == "0.800 ± 0.141"
    assert next(s for s in summary if s.mode == "model-transfer").text == "0.200"  # one seed
    (d,) = [e for e in table if "delta_vs_direct" in e]
    assert d["lang"] == "yor" and d["delta_vs_direct"] == pytest.approx(0.10)
    assert d["beyond_seed_spread"]


def test_bad_result_rows_name_file_and_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"lang": "yor", "mode": "direct", "f1": 0.4}\n{"lang": "yor"}\n')
    with pytest.raises(InputError, match=r"r.jsonl:2: a result row needs the keys lang, mode, f1"):
        load_rows([path])
    path.write_text("not json\n")
    with pytest.raises(InputError, match=r"r.jsonl:1: invalid JSON"):
        load_rows([path])


def test_results_page_table_chart_and_run_picking(tmp_path, results_file, monkeypatch):
    from tests.app_support import build_demo

    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    build_demo(tmp_path)
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("../pages/results.py").run()
    at.sidebar.multiselect(key="results_files").set_value([str(results_file)]).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 6  # every run listed
    table = at.dataframe[1].value
    assert sorted(table["lang"]) == ["hau", "yor"]
    assert table.set_index("lang").loc["yor", "distill"] == "0.510 ± 0.014 (n=2)"
    assert table.set_index("lang").loc["yor", "model-transfer"] == "0.200 (n=1)"
    assert len(at.get("vega_lite_chart")) == 2  # overall and per-type charts
    delta = at.dataframe[2].value
    assert list(delta["lang"]) == ["yor"]
    assert delta["judged against the seed spread"][0] == "beyond seed spread"
    # Drop one distill run: n falls to 1, no ± and no claim about the spread.
    at.multiselect(key="results_left_out").set_value(["yor-distill-2"]).run()
    assert len(at.dataframe[0].value) == 5  # the runs still compared
    assert at.dataframe[1].value.set_index("lang").loc["yor", "distill"] == "0.500 (n=1)"
    delta = at.dataframe[2].value
    assert delta["judged against the seed spread"][0] == "fewer than 2 seeds: no spread"
    at.multiselect(key="results_modes").set_value(["direct"]).run()
    assert list(at.dataframe[1].value.columns) == ["lang", "direct"]


def test_finished_registry_runs_are_results(tmp_path, monkeypatch):
    from core.runs import RunManager
    from tests.app_support import build_demo

    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    monkeypatch.delenv("XNER_RUNS", raising=False)
    build_demo(tmp_path)
    manager = RunManager()
    for seed in (1, 2):
        run = manager.launch(
            "demo",
            {"steps": 1, "step_seconds": 0.01, "lang": "yor", "mode": "distill", "seed": seed},
        )
        assert manager.wait(run.id, timeout=60).status == "succeeded"
    rows = registry_rows()
    assert len(rows) == 2 and {r["source"] for r in rows} == {"run registry"}
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("../pages/results.py").run()
    assert not at.exception
    assert at.sidebar.multiselect(key="results_files").value == ["(runs in the run registry)"]
    table = at.dataframe[1].value
    assert list(table["lang"]) == ["yor"] and table["distill"][0].endswith("(n=2)")


def test_switching_sources_resets_the_language_and_mode_pickers(
    tmp_path, results_file, monkeypatch
):
    from tests.app_support import build_demo

    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    build_demo(tmp_path)
    narrow = tmp_path / "results" / "narrow.jsonl"  # one language, one mode
    narrow.write_text(json.dumps({"name": "x", "lang": "hau", "mode": "direct", "f1": 0.3}) + "\n")
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("../pages/results.py").run()
    at.sidebar.multiselect(key="results_files").set_value([str(narrow)]).run()
    assert at.multiselect(key="results_modes").value == ["direct"]
    at.sidebar.multiselect(key="results_files").set_value([str(results_file)]).run()
    assert not at.exception
    assert at.multiselect(key="results_modes").value == ["direct", "distill", "model-transfer"]
    assert len(at.dataframe[0].value) == 6  # every run of the new source, not a stale subset


def test_a_toy_run_is_never_averaged_with_the_benchmark_rows(tmp_path, monkeypatch, capsys):
    """Real training runs in one registry: a flagship-like experiment (3 seeds, test split) and a
    toy variant of the same language and mode (1 epoch, scored on dev). Neither the experiment
    tables nor the Results page pool them."""
    import yaml

    from core.cli import main as xner
    from tests.app_support import build_demo
    from tests.test_masakhaner import make_data
    from tests.test_taggers import SMALL

    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XNER_RUNS", raising=False)
    build_demo(tmp_path / "home")
    data = make_data(tmp_path / "data")
    ner = data / "masakhaner2" / "yor"
    for split in ("test", "dev"):
        (ner / f"{split}.txt").write_text("Mary B-PER\nlọ O\nsí O\nLagos B-LOC\n\n" * 3)
    settings = {
        "name": "bench", "job": "train", "data": str(data), "languages": ["yor"],
        "seeds": [1, 2, 3], "modes": ["direct"], "work": str(tmp_path / "work"),
        "projection": {"method": "heuristic"}, "tagger_params": dict(SMALL), "epochs": 3,
    }  # fmt: skip
    bench = tmp_path / "bench.yaml"
    bench.write_text(yaml.safe_dump(settings))
    toy = tmp_path / "toy.yaml"
    toy.write_text(yaml.safe_dump({**settings, "name": "toy", "seeds": [1], "epochs": 1,
                                   "evaluation": {"test": "masakhaner2/{lang}/dev.txt"}}))  # fmt: skip
    argv = ["--json", "--quiet", "--executor", "local", "--parallel", "3", "--no-publish"]
    assert xner(["experiment", str(bench), *argv]) == 0
    bench_table = json.loads(capsys.readouterr().out)["table"]
    assert xner(["experiment", str(toy), *argv]) == 0
    toy_table = json.loads(capsys.readouterr().out)["table"]
    assert [(e["mode"], e["n"]) for e in bench_table] == [("direct", 3)]
    assert [(e["mode"], e["n"]) for e in toy_table] == [("direct", 1)]
    rows = registry_rows()
    assert len(rows) == 4 and len({r["family"] for r in rows}) == 2

    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("../pages/results.py").run()
    assert not at.exception
    assert len(at.selectbox(key="results_setup").options) == 2
    views = {}
    for family in setup_families(rows):
        at.selectbox(key="results_setup").set_value(family.family).run()
        assert not at.exception
        table = at.dataframe[2].value.set_index("lang")  # after: differences, runs included
        views[family.label.split(" [")[0]] = table.loc["yor", "direct"]
    bench_mean = f"{bench_table[0]['f1_mean']:.3f} ± {bench_table[0]['f1_std']:.3f} (n=3)"
    assert views == {"bench": bench_mean, "toy": f"{toy_table[0]['f1_mean']:.3f} (n=1)"}
    differences = at.dataframe[0].value  # the expander "What differs between the 2 setups"
    assert {"epochs", "split"} <= set(differences["setting"])
