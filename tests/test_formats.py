"""Readers on real files and on bad input: every error names the file and the line."""

from pathlib import Path

import pytest

from core.data.formats import (
    atomic_write,
    read_conll,
    read_gold_alignment,
    read_lines,
    read_mafand_tsv,
    read_parallel,
    read_pharaoh,
    read_projections_jsonl,
    write_conll,
    write_pharaoh,
    write_projections_jsonl,
)
from core.data.types import Alignment, ProjectedSpan, Projection, Sentence, SentencePair, Span
from core.errors import InputError
from tests.conftest import data_file


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_conll2003_four_columns_and_docstart(tmp_path):
    path = write(
        tmp_path,
        "a.txt",
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
    )
    sentences = read_conll(path)
    assert [s.tokens for s in sentences] == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert sentences[1].spans == [Span(0, 2, "PER")]


def test_wikiann_prefix_is_stripped(tmp_path):
    path = write(tmp_path, "pt.txt", "pt:Alex\tB-PER\npt:Ferguson\tI-PER\npt::\tO\n")
    [sentence] = read_conll(path)
    assert sentence.tokens == ["Alex", "Ferguson", ":"]


def test_empty_token_lines_and_i_after_o_are_counted(tmp_path):
    path = write(tmp_path, "x.txt", "A O\n O\nB I-LOC\n")
    with pytest.warns(UserWarning, match="repaired 1 .* skipped 1"):
        [sentence] = read_conll(path)
    assert sentence.tokens == ["A", "B"]
    assert sentence.tags == ["O", "B-LOC"]


def test_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.conll", "A O\nB O\nlonely\n")
    with pytest.raises(InputError, match=r"bad\.conll:3: malformed line"):
        read_conll(path)


def test_tag_outside_iob2_names_line(tmp_path):
    path = write(tmp_path, "bad.conll", "A O\n\nB PERSON\n")
    with pytest.raises(InputError, match=r"bad\.conll:3: tag 'PERSON' is not IOB2"):
        read_conll(path)


def test_non_utf8_names_line(tmp_path):
    path = write(tmp_path, "latin.conll", b"A O\nB O\nS\xe3o B-LOC\n")
    with pytest.raises(InputError, match=r"latin\.conll:3: not valid UTF-8"):
        read_conll(path)


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(InputError, match="empty"):
        read_conll(write(tmp_path, "e.conll", "\n\n"))
    with pytest.raises(InputError, match="empty"):
        read_lines(write(tmp_path, "e.txt", ""))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="nope.txt: file not found"):
        read_lines(tmp_path / "nope.txt")


def test_parallel_files_of_different_length(tmp_path):
    s = write(tmp_path, "s.txt", "one\ntwo\nthree\n")
    t = write(tmp_path, "t.txt", "um\ndois\n")
    with pytest.raises(
        InputError, match=r"s\.txt: parallel files differ in length: 3 lines here, 2 in .*t\.txt"
    ):
        read_parallel(s, t)


def test_empty_line_in_parallel_text(tmp_path):
    with pytest.raises(InputError, match=r"s\.txt:2: empty line"):
        read_lines(write(tmp_path, "s.txt", "one\n\nthree\n"))


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "out.conll"
    write_conll(path, [Sentence(["a"], ["O"])])
    before = path.read_text()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_write(path) as handle:
        handle.write("half")
        raise Boom
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.conll"]


def test_conll_round_trip(tmp_path):
    sentences = [Sentence(["Ọ̀gá", "Ade"], ["O", "B-PER"]), Sentence(["x"], ["O"])]
    write_conll(tmp_path / "o.conll", sentences)
    again = read_conll(tmp_path / "o.conll")
    assert [(s.tokens, s.tags) for s in again] == [(s.tokens, s.tags) for s in sentences]


def test_pharaoh_and_gold_alignments(tmp_path):
    write_pharaoh(tmp_path / "a.txt", [Alignment.from_links([(0, 1), (1, 0)]), Alignment()])
    assert read_pharaoh(tmp_path / "a.txt") == [Alignment.from_links([(0, 1), (1, 0)]), Alignment()]
    gold = read_gold_alignment(write(tmp_path, "g.gold", "1-1 2p3\n"))
    assert gold[0].sure == {(0, 0)} and gold[0].possible == {(0, 0), (1, 2)}
    with pytest.raises(InputError, match=r"bad\.txt:1: bad alignment link"):
        read_pharaoh(write(tmp_path, "bad.txt", "0-x\n"))


def test_projection_jsonl_keeps_provenance(tmp_path):
    pair = SentencePair(
        Sentence(["John", "runs"], ["B-PER", "O"]),
        Sentence(["João", "corre"]),
        Alignment.from_links([(0, 0), (1, 1)]),
        id="7",
    )
    spans = [ProjectedSpan(Span(0, 1, "PER"), Span(0, 1, "PER"), "heuristic", 0.9, ((0, 0),))]
    write_projections_jsonl(tmp_path / "p.jsonl", [Projection(pair, spans, "heuristic")])
    [back] = read_projections_jsonl(tmp_path / "p.jsonl")
    assert back.spans == spans and back.target_tags() == ["B-PER", "O"]
    assert back.pair.alignment == pair.alignment
    bad = write(tmp_path, "bad.jsonl", '{"id": 1}\nnot json\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:1: bad projection record"):
        read_projections_jsonl(bad)


def test_real_files_read(shared_data):
    masakha = read_conll(data_file("masakhaner2", "yor", "dev.txt"))
    assert len(masakha) == 983
    wikiann = read_conll(data_file("wikiann_rahimi", "pt", "dev.txt"))
    assert len(wikiann) == 10000 and not any(t[2:3] == ":" for s in wikiann[:50] for t in s.tokens)
    conll = read_conll(data_file("conll2003_en", "dev.txt"))
    assert len(conll) == 3250
    europarl = read_conll(data_file("europarl_ner", "de.test.conll02"))
    assert len(europarl) == 799
    pairs = read_mafand_tsv(data_file("mafand_mt", "en-yor", "dev.tsv"))
    assert len(pairs) == 1544 and all(s and t for s, t in pairs)
    with pytest.warns(UserWarning, match="skipped 2 lines with an empty token"):
        read_conll(data_file("masakhaner2", "xho", "train.txt"))
