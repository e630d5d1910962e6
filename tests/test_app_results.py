"""The Results page (core.workbench.results over core.experiments.results): one setup at a
time, what differs between setups, no ± for one seed, n/a for a type a model cannot predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import InputError
from core.workbench.results import entity_types, load_rows, mean_std, registry_rows, summarise

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
