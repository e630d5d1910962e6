"""Labelled target data: gold next to the projection (P/R/F1, false positives, misses), and
labelled data alone (one CoNLL file, or a MasakhaNER language folder) loaded to review."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.workbench.data import find_inputs, looks_like_conll
from core.workbench.explorer import gold_filter, gold_score, gold_scores
from core.workbench.workspace import project_from_files
from tests.app_support import StringAligner

SOURCE = "Maria B-PER\nSilva I-PER\nlives O\nin O\nLisbon B-LOC\n\nJohn B-PER\nworks O\n\n"
# The target's own gold: "Lisboa" is LOC; in the second sentence gold says ORG where none is.
TARGET_GOLD = (
    "Maria B-PER\nSilva I-PER\nvive O\nem O\nLisboa B-LOC\n\nJohn B-PER\ntrabalha B-ORG\n\n"
)
DATA = Path(os.environ.get("XNER_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def test_gold_score_counts_exact_spans():
    score = gold_score(["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "O", "O", "B-LOC"])
    assert score.true_positives == 1 and len(score.false_positives) == 1 and len(score.misses) == 1
    assert (score.precision, score.recall) == (0.5, 0.5) and score.f1 == 0.5
    assert (
        score.describe()
    ) == "P 0.500 · R 0.500 · F1 0.500 (1 correct, 1 false positives, 1 misses)"
    empty = gold_score(["O"], ["O"])
    assert (empty.precision, empty.recall) == (1.0, 1.0)
    assert gold_filter(empty, "exact") and not gold_filter(score, "exact")
    assert gold_filter(score, "misses") and gold_filter(score, "false positives")
    assert not gold_filter(None, "misses") and gold_filter(None, "all")
    with pytest.raises(ValueError, match="gold filter"):
        gold_filter(score, "wrong")


def test_a_labelled_target_becomes_the_projects_gold(tmp_path):
    (tmp_path / "source.conll").write_text(SOURCE)
    (tmp_path / "target.conll").write_text(TARGET_GOLD)
    project = project_from_files(
        "g", [tmp_path], home=tmp_path / "home", aligners={"string": StringAligner()}
    )
    gold = project.gold()
    assert gold == {"0": ["B-PER", "I-PER", "O", "O", "B-LOC"], "1": ["B-PER", "B-ORG"]}
    view = project.projections(project.view_keys[0])
    assert all(p.pair.target.tags is None for p in view)  # gold plays no part in projecting
    per, total = gold_scores(view, gold)
    assert per["0"].f1 == 1.0 and len(per["1"].misses) == 1
    assert total.true_positives == 3 and total.recall == 0.75


def test_a_single_labelled_conll_is_loaded_to_review(tmp_path):
    (tmp_path / "yor.conll").write_text(TARGET_GOLD)
    assert find_inputs([tmp_path / "yor.conll"]).kind == "labelled"
    project = project_from_files("one", [tmp_path / "yor.conll"], home=tmp_path, target_lang="yo")
    assert project.view_keys == ["labels"]
    first = project.projections("labels")[1]
    assert first.target_tags() == ["B-PER", "B-ORG"] and first.pair.source.tokens == [
        "John",
        "trabalha",
    ]
    assert project.meta["source_lang"] == "yo" and project.gold() is None


def test_a_masakhaner_style_folder_of_txt_splits_is_loaded(tmp_path):
    folder = tmp_path / "yor"
    folder.mkdir()
    for split in ("train", "dev", "test"):
        (folder / f"{split}.txt").write_text(TARGET_GOLD)
    assert looks_like_conll(folder / "dev.txt")
    inputs = find_inputs([folder])
    assert inputs.kind == "labelled" and len(inputs.labelled) == 3
    project = project_from_files("yor", [folder], home=tmp_path, target_lang="yor")
    ids = project.sentence_ids()
    assert len(ids) == 6 and ids[:2] == ["dev-0", "dev-1"]
    (tmp_path / "plain.txt").write_text("Ọjọ́ Àìkú ni\n")
    assert not looks_like_conll(tmp_path / "plain.txt")


@pytest.mark.skipif(not (DATA / "masakhaner2" / "yor").is_dir(), reason="no shared MasakhaNER data")
def test_the_real_masakhaner_yor_folder_is_accepted():
    inputs = find_inputs([DATA / "masakhaner2" / "yor"])
    assert inputs.kind == "labelled"
    assert sorted(p.name for p in inputs.labelled) == ["dev.txt", "test.txt", "train.txt"]


def test_the_target_language_is_told_by_names_only_when_they_say_it(tmp_path):
    from core.workbench.data import guess_language

    for name in ("yor", "en", "data"):
        (tmp_path / name).mkdir()
    (tmp_path / "data" / "de.test.conll02").write_text("x O\n")
    (tmp_path / "data" / "target.txt").write_text("x\n")
    assert guess_language([tmp_path / "yor"]) == "yor"
    assert guess_language([tmp_path / "en"]) == ""  # a source-side name never counts
    assert guess_language([tmp_path / "data" / "de.test.conll02"]) == "de"
    assert guess_language([tmp_path / "data" / "target.txt"]) == ""
