"""The results module (core.experiments.results): rows carry their setup; only rows of one setup
are pooled; one seed shows no ± and claims no spread; a type a model cannot predict is n/a;
rows stored before setups existed stay apart by file."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics

import pytest
import yaml

from core.cli import main as xner
from core.errors import ConfigError
from core.experiments.results import (
    aggregate,
    load_rows,
    markdown_table,
    plot_results,
    rows_from_runs,
    setup_differences,
    setup_families,
    table_csv,
)
from tests.conftest import ROOT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def row(lang, mode, seed, f1, setup="A", **per_type):
    return {"name": f"{lang}-{mode}-{seed}", "lang": lang, "mode": mode, "seed": seed, "f1": f1,
            "per_type": per_type, "setup_id": setup, "family": setup,
            "family_label": f"setup {setup}", "setup": {"epochs": 8 if setup == "A" else 2}}  # fmt: skip


ROWS = [
    row("yor", "direct", 1, 0.40, PER=0.5, LOC=0.3),
    row("yor", "direct", 2, 0.44, PER=0.6, LOC=0.3),
    row("yor", "distill", 1, 0.50, PER=0.7, LOC=0.4),
    row("yor", "distill", 2, 0.52, PER=0.7, LOC=0.2),
    row("yor", "model-transfer", 1, 0.30, PER=0.4, LOC=None),
    row("hau", "direct", 1, 0.60, PER=0.6, LOC=0.6),
]


def test_aggregate_means_and_sample_std_over_seeds_per_type():
    table = aggregate(ROWS)
    keys = [(e["lang"], e["mode"]) for e in table]
    assert keys == [("yor", "model-transfer"), ("yor", "direct"), ("yor", "distill"),
                    ("hau", "direct")]  # fmt: skip
    direct = table[1]
    assert direct["n"] == 2 and direct["f1_mean"] == pytest.approx(0.42)
    assert direct["f1_std"] == pytest.approx(math.sqrt(2 * 0.02**2))  # sample std (n - 1)
    assert direct["PER_mean"] == pytest.approx(0.55) and direct["LOC_std"] == pytest.approx(0.0)
    mt = table[0]
    assert mt["f1_std"] is None  # one seed: no spread, not 0
    assert mt["LOC_mean"] is None and mt["na_types"] == ["LOC"]  # cannot predict: n/a
    distill = table[2]
    assert distill["delta_vs_direct"] == pytest.approx(0.09)
    assert distill["beyond_seed_spread"] is True  # 0.09 > max(0.028, 0.014)
    assert "delta_vs_direct" not in table[3]  # hau has no distill runs


def test_one_seed_claims_no_spread():
    rows = [row("pcm", "direct", 1, 0.57), row("pcm", "distill", 1, 0.5697)]
    distill = aggregate(rows)[1]
    assert distill["beyond_seed_spread"] is None
    md = markdown_table(aggregate(rows))
    assert "±" not in md and "beyond" not in md and "-0.000 (fewer than 2 seeds: no spread)" in md


def test_rows_of_other_setups_are_never_pooled():
    toy = row("yor", "direct", 1, 0.05, setup="toy", PER=0.0)
    table = aggregate(ROWS + [toy])
    yor_direct = [e for e in table if (e["lang"], e["mode"]) == ("yor", "direct")]
    assert sorted((e["setup_id"], e["n"]) for e in yor_direct) == [("A", 2), ("toy", 1)]
    assert next(e for e in yor_direct if e["setup_id"] == "A")["f1_mean"] == pytest.approx(0.42)
    # distill − direct stays within setup A
    distill = next(e for e in table if e["mode"] == "distill")
    assert distill["delta_vs_direct"] == pytest.approx(0.09)
    md = markdown_table(table)
    assert md.splitlines()[0].startswith("| setup | lang |")  # several setups: named
    families = setup_families(ROWS + [toy])
    assert [f.family for f in families] == ["A", "toy"]
    diff = setup_differences(families)
    assert diff == [{"setting": "epochs", "setup A": "8", "setup toy": "2"}]


def test_csv_and_markdown_tables():
    table = aggregate(ROWS)
    parsed = list(csv.DictReader(io.StringIO(table_csv(table))))
    assert len(parsed) == 4 and parsed[1]["f1_mean"] == "0.4200" and parsed[0]["LOC_mean"] == ""
    md = markdown_table(table, "F1 PER/ORG/LOC").splitlines()
    assert md[0] == "| lang | mode | seeds | F1 PER/ORG/LOC | PER | LOC | distill − direct |"
    assert "| yor | direct | 2 | 0.420 ± 0.028 | 0.550 ± 0.071 | 0.300 ± 0.000 |  |" in md
    assert "| yor | model-transfer | 1 | 0.300 | 0.400 | n/a |  |" in md
    assert any("+0.090 (beyond seed spread)" in line for line in md)


def test_plot_is_a_valid_png(tmp_path):
    import matplotlib.image

    path = plot_results(aggregate(ROWS), tmp_path / "plot.png", "toy")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5000
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 400  # decodes; several panels wide
    with pytest.raises(ConfigError, match="no results"):
        plot_results([], tmp_path / "empty.png")
    with pytest.raises(ConfigError, match="several setups"):
        plot_results(aggregate(ROWS + [row("yor", "direct", 1, 0.1, setup="B")]), tmp_path / "x")


def test_rows_from_finished_runs_only():
    from core.runs.store import Run

    def run(status, config, metrics):
        return Run(id="r1", name="n", kind="demo", executor="local", config=config,
                   status=status, workdir="w", log_path="l", cwd=".", created=0, updated=0,
                   metrics=metrics)  # fmt: skip

    metrics = {"f1": 0.5, "per_type": {"PER": {"f1": 0.6}, "DATE": {"f1": None}}}
    good = run("succeeded", {"lang": "yor", "mode": "distill", "seed": 2}, metrics)
    rows = rows_from_runs(
        [good, run("failed", good.config, None), run("succeeded", {"seconds": 1}, {"f1": 0.1})]
    )
    assert len(rows) == 1
    assert {k: rows[0][k] for k in ("name", "lang", "mode", "seed", "f1", "per_type")} == {
        "name": "n", "lang": "yor", "mode": "distill", "seed": 2, "f1": 0.5,
        "per_type": {"PER": 0.6, "DATE": None}}  # fmt: skip
    assert rows[0]["run_id"] == "r1" and len(rows[0]["setup_id"]) == 12


def test_stored_rows_without_setups_stay_apart_by_file(tmp_path):
    rows = load_rows([ROOT / "bench/results/flagship_rows.jsonl",
                      ROOT / "bench/results/flagship_rows_yor_cpu.jsonl"])  # fmt: skip
    table = aggregate(rows)
    yor_direct = [e for e in table if (e["lang"], e["mode"]) == ("yor", "direct")]
    assert sorted(e["n"] for e in yor_direct) == [3, 3]  # two files: two setups, never 6
    assert sorted(round(e["f1_mean"], 3) for e in yor_direct) == [0.389, 0.454]
    mt = next(e for e in table if (e["lang"], e["mode"]) == ("yor", "model-transfer"))
    assert mt["DATE_mean"] is None and "DATE" in mt["na_types"]  # CoNLL has no DATE


def test_a_toy_run_in_the_registry_is_never_averaged_in(tmp_path, monkeypatch, capsys):
    """Flagship-like rows (an experiment, 3 seeds, run through the run manager) and a toy run
    of the same language and mode with other settings, in one registry."""
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    base = {"job": "demo", "languages": ["yor"], "modes": ["direct", "distill"]}
    flagship = tmp_path / "flagship.yaml"
    flagship.write_text(yaml.safe_dump({**base, "name": "flagship", "seeds": [1, 2, 3],
                                        "work": str(tmp_path / "w1"),
                                        "demo": {"steps": 2, "step_seconds": 0.0}}))  # fmt: skip
    toy = tmp_path / "toy.yaml"
    toy.write_text(yaml.safe_dump({**base, "name": "toy", "seeds": [1], "modes": ["direct"],
                                   "work": str(tmp_path / "w2"),
                                   "demo": {"steps": 1, "step_seconds": 0.0,
                                            "base_f1": 0.05}}))  # fmt: skip
    argv = ["--json", "--quiet", "--executor", "local", "--parallel", "3"]
    assert xner(["experiment", str(flagship), *argv]) == 0
    flagship_table = json.loads(capsys.readouterr().out)["table"]
    assert xner(["experiment", str(toy), *argv]) == 0
    toy_table = json.loads(capsys.readouterr().out)["table"]
    assert [(e["mode"], e["n"]) for e in flagship_table] == [("direct", 3), ("distill", 3)]
    assert [(e["mode"], e["n"]) for e in toy_table] == [("direct", 1)]

    # the registry and the published rows hold the same runs: each seed counts once
    assert xner(["results", "--registry", "--json", *_published(tmp_path)]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [(e["setup"].split(" [")[0], e["mode"], e["n"]) for e in table] == [
        ("flagship", "direct", 3), ("flagship", "distill", 3), ("toy", "direct", 1)
    ]  # fmt: skip
    assert table[0]["f1_mean"] == pytest.approx(flagship_table[0]["f1_mean"])  # toy not in
    assert table[2]["f1_mean"] == pytest.approx(toy_table[0]["f1_mean"])
    assert table[1]["delta_vs_direct"] == pytest.approx(flagship_table[1]["delta_vs_direct"])
    md = markdown_table(aggregate(load_rows(_published(tmp_path))))
    assert "| toy [" in md and "| flagship [" in md


def _published(tmp_path) -> list[str]:
    return sorted(str(p) for p in (tmp_path / "home" / "results").glob("*.jsonl"))


def test_readme_flagship_table_is_what_the_stored_rows_give():
    """The README's flagship table quotes bench/results/flagship_rows_encoder_cpu.jsonl: every
    cell (mean ± std per mode, the better of direct and distill, the means) must be what the one
    aggregation gives, so a re-run that changes the rows cannot leave the README behind."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Flagship: direct vs distill") :]
    section = section[: section.index("The previous flagship")]
    table = aggregate(load_rows([ROOT / "bench/results/flagship_rows_encoder_cpu.jsonl"]))
    assert {e["n"] for e in table} == {3}  # the protocol: 3 seeds everywhere
    by = {(e["lang"], e["mode"]): e for e in table}
    langs = ["yor", "hau", "ibo", "zul", "pcm"]
    modes = ["model-transfer", "direct", "distill"]
    readme_rows = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| ")
        for cells in [[c.strip().strip("*") for c in line.strip("|").split("|")]]
    }
    better = []
    for lang in langs:
        quoted = readme_rows[lang]
        for mode, cell in zip(modes, quoted, strict=False):
            entry = by[(lang, mode)]
            assert cell == f"{entry['f1_mean']:.3f} ± {entry['f1_std']:.3f}", (lang, mode)
        better.append(max(by[(lang, "direct")]["f1_mean"], by[(lang, "distill")]["f1_mean"]))
        assert quoted[3] == f"{better[-1]:.3f}", lang
    means = [statistics.mean(by[(lang, mode)]["f1_mean"] for lang in langs) for mode in modes]
    expected = [f"{m:.3f}" for m in [*means, statistics.mean(better)]]
    assert readme_rows["mean"][:4] == expected


def test_stored_flagship_rows_have_the_setup_the_config_gives_today(shared_data):
    """A settings change that alters the flagship's setup (a new key with a default, say) would
    make a re-run's rows incomparable with the stored ones: the stored rows must keep matching
    configs/flagship.yaml, or be re-stored."""
    from core.experiments.plan import load_experiment
    from core.experiments.results import experiment_setup

    exp = load_experiment(ROOT / "configs/flagship.yaml", data=str(shared_data))
    rows = load_rows([ROOT / "bench/results/flagship_rows_encoder_cpu.jsonl"])
    for lang in exp.languages:
        setup = experiment_setup(exp, lang)
        assert {(r["setup_id"], r["family"]) for r in rows if r["lang"] == lang} == {
            (setup["id"], setup["family"])
        }, lang
