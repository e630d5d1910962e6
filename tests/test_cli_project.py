"""`xner project` and `xner eval-projection` end to end on small slices of real data."""

import json

from core.cli import main
from core.data.formats import read_conll, read_projections_jsonl, write_conll, write_lines
from tests.conftest import data_file


def europarl_slice(tmp_path, lang, n=300):
    sentences = read_conll(data_file("europarl_ner", f"{lang}.test.conll02"))[:n]
    path = tmp_path / f"{lang}.slice.conll"
    write_conll(path, sentences)
    return path, sentences


def test_eval_projection_json_interface(tmp_path, capsys):
    source, _ = europarl_slice(tmp_path, "en")
    target, _ = europarl_slice(tmp_path, "de")
    flores = data_file("flores200", "dev", "eng.dev").parent
    code = main(
        [
            "eval-projection",
            "--source-conll",
            str(source),
            "--target-conll",
            str(target),
            "--extra-parallel",
            str(flores / "eng.dev"),
            str(flores / "deu.dev"),
            "--method",
            "candidates-greedy",
            "--aligner-param",
            "n_samplers=1",
            "--json",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert {"f1", "precision", "recall", "sentences", "seconds"} <= set(result)
    assert result["sentences"] == 300 and result["extra_pairs"] == 997
    assert result["f1"] > 0.6  # full set with all FLORES text reaches ~0.89 (see README)


def test_project_writes_conll_and_provenance(tmp_path, capsys):
    source, sources = europarl_slice(tmp_path, "en", 120)
    _, targets = europarl_slice(tmp_path, "es", 120)
    target_text = tmp_path / "es.txt"
    write_lines(target_text, [" ".join(s.tokens) for s in targets])
    out_conll, out_jsonl = tmp_path / "out.conll", tmp_path / "out.jsonl"
    code = main(
        [
            "project",
            "--source-conll",
            str(source),
            "--target-text",
            str(target_text),
            "--target-lang",
            "es",
            "--method",
            "heuristic",
            "--output-conll",
            str(out_conll),
            "--output-jsonl",
            str(out_jsonl),
            "--quiet",
        ]
    )
    assert code == 0
    projected = read_conll(out_conll)
    assert len(projected) == 120
    records = read_projections_jsonl(out_jsonl)
    spans = [p for r in records for p in r.spans]
    assert spans and all(p.method == "heuristic" and p.links for p in spans)
    assert sum(len(s.spans) for s in projected) == len(spans)


def test_mismatched_parallel_input_is_a_clear_error(tmp_path, capsys):
    source, _ = europarl_slice(tmp_path, "en", 10)
    target = tmp_path / "t.txt"
    write_lines(target, ["eins", "zwei"])
    code = main(
        [
            "project",
            "--source-conll",
            str(source),
            "--target-text",
            str(target),
            "--output-conll",
            str(tmp_path / "o.conll"),
            "--quiet",
        ]
    )
    assert code == 1
    assert "10 source sentences but 2 target sentences" in capsys.readouterr().err
    assert not (tmp_path / "o.conll").exists()


def test_bad_conll_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.conll"
    bad.write_text("A O\nB B-PER\nC\n")
    code = main(
        ["eval-projection", "--source-conll", str(bad), "--target-conll", str(bad), "--json"]
    )
    assert code == 1
    assert f"{bad}:3: malformed line" in capsys.readouterr().err
