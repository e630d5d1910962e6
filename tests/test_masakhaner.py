"""core.experiments.masakhaner: the MAFAND projection step of the flagship, on a tiny corpus."""

from __future__ import annotations

import json
from pathlib import Path

from core.data.formats import read_conll
from core.experiments.masakhaner import prepare_language
from core.experiments.settings import ProjectionSettings

PAIRS = [
    ("John Smith went to Lagos yesterday .", "John Smith lọ sí Lagos lánàá ."),
    ("Mary lives in Abuja .", "Mary ń gbé ní Abuja ."),
    ("The United Nations met in Geneva .", "United Nations pàdé ní Geneva ."),
    ("Lagos is a big city .", "Lagos jẹ́ ìlú ńlá ."),
    ("John visited Mary in Abuja .", "John bẹ Mary wò ní Abuja ."),
] * 4


def make_data(root: Path) -> Path:
    mafand = root / "mafand_mt" / "en-yor"
    mafand.mkdir(parents=True)
    rows = ["en\tyo"] + [f"{en}\t{yo}" for en, yo in PAIRS]
    (mafand / "train.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    ner = root / "masakhaner2" / "yor"
    ner.mkdir(parents=True)
    (ner / "train.txt").write_text("Ade B-PER\nlọ O\nsí O\nIbadan B-LOC\n\n", encoding="utf-8")
    return root


def test_projection_settings_key_the_cache(tmp_path):
    data, work = make_data(tmp_path / "data"), tmp_path / "work"
    union = ProjectionSettings(method="heuristic", aligner_params={"symmetrization": "union"})
    files = prepare_language("yor", data, work, union)
    stats = json.loads(files["stats"].read_text())
    assert stats["settings"]["method"] == "heuristic" and stats["kept_pairs"] == len(PAIRS)
    projected = read_conll(files["projected"])
    assert len(projected) == len(PAIRS)
    assert any(span.label == "LOC" for s in projected for span in s.spans)  # Lagos/Abuja/Geneva
    target = files["target"].read_text(encoding="utf-8").splitlines()
    assert target[0] == "John Smith lọ sí Lagos lánàá ." and len(target) == len(PAIRS)

    built = files["stats"].stat().st_mtime_ns
    prepare_language("yor", data, work, union)
    assert files["stats"].stat().st_mtime_ns == built  # same settings: reused

    prepare_language("yor", data, work, ProjectionSettings(method="candidates-greedy"))
    stats = json.loads(files["stats"].read_text())
    assert stats["settings"]["method"] == "candidates-greedy"  # other settings: rebuilt
    assert stats["settings"]["aligner_params"] == {}


def test_drop_incomplete_keeps_only_fully_projected_pairs(tmp_path):
    data = make_data(tmp_path / "data")
    with (data / "mafand_mt" / "en-yor" / "train.tsv").open("a", encoding="utf-8") as f:
        f.write("Paris .\t.\n")  # nothing on the target side for Paris to land on
    files = prepare_language(
        "yor", data, tmp_path / "work", ProjectionSettings(drop_incomplete=True)
    )
    stats = json.loads(files["stats"].read_text())
    projected = read_conll(files["projected"])
    assert stats["source_entities"] > stats["projected_entities"]
    assert len(projected) == stats["training_sentences"] < stats["kept_pairs"]
    assert [s.tokens for s in projected if s.tokens == ["."]] == []


def test_a_rebuild_with_the_same_settings_gives_the_same_files(tmp_path):
    data = make_data(tmp_path / "data")
    files = prepare_language("yor", data, tmp_path / "a", ProjectionSettings(method="heuristic"))
    again = prepare_language(
        "yor", data, tmp_path / "b", ProjectionSettings(method="heuristic"), force=True
    )
    assert files["projected"].read_bytes() == again["projected"].read_bytes()
