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


# ------------------------------------------------------------------ lossless: lines and tokens


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029", "\x0c", "\x1c"])
def test_line_separators_inside_a_line_do_not_split_it(tmp_path, separator):
    source = write(tmp_path, "en.txt", "one\ntwo\nthree\n")
    target = write(tmp_path, "yo.txt", f"ọ̀kan\nmé{separator}jì\nmẹ́ta\n")
    assert read_lines(target) == ["ọ̀kan", f"mé{separator}jì", "mẹ́ta"]
    assert [t for _, t in read_parallel(source, target)][1] == f"mé{separator}jì"


def test_crlf_and_bom_are_read_as_plain_lines(tmp_path):
    lines = write(tmp_path, "a.txt", "\ufeffone\r\ntwo\r\n")
    assert read_lines(lines) == ["one", "two"]
    conll = write(tmp_path, "a.conll", "\ufeffAna B-PER\r\nfala O\r\n\r\nRui B-PER\r\n")
    assert [s.tokens for s in read_conll(conll)] == [["Ana", "fala"], ["Rui"]]
    assert read_conll(conll)[0].tags == ["B-PER", "O"]


def test_a_token_with_a_space_survives_a_round_trip(tmp_path):
    sentences = [Sentence(["New York", "is", "big"], ["B-LOC", "O", "O"], id="0")]
    path = tmp_path / "spaces.conll"
    write_conll(path, sentences)
    assert path.read_text().splitlines()[0] == "New York\tB-LOC"
    back = read_conll(path)
    assert back[0].tokens == ["New York", "is", "big"] and back[0].tags == ["B-LOC", "O", "O"]


@pytest.mark.parametrize("token", ["a\tb", "a\nb", " lead", "trail ", "", "  ", "-DOCSTART-"])
def test_tokens_conll_cannot_hold_are_refused_not_lost(tmp_path, token):
    with pytest.raises(InputError, match="sentence 1, token 2"):
        write_conll(tmp_path / "x.conll", [Sentence(["ok", token], ["O", "O"])])
    assert not (tmp_path / "x.conll").exists()


def test_malformed_lines_are_not_echoed(tmp_path):
    path = write(tmp_path, "secret.conll", "password=hunter2\n")
    with pytest.raises(InputError) as info:
        read_conll(path)
    assert "hunter2" not in str(info.value) and "secret.conll:1" in str(info.value)


def test_projection_jsonl_with_line_separators_in_tokens(tmp_path):
    pair = SentencePair(
        Sentence(["a\u2028b", "c"], ["B-PER", "O"], id="s"), Sentence(["x\u0085y"], None, id="s")
    )
    projection = Projection(pair, [], "m")
    path = tmp_path / "p.jsonl"
    write_projections_jsonl(path, [projection, projection])
    back = read_projections_jsonl(path)
    assert len(back) == 2 and back[0].pair.source.tokens == ["a\u2028b", "c"]
    assert back[1].pair.target.tokens == ["x\u0085y"]


# ------------------------------------------------------------------ gold alignments


def test_src_tgt_splits_on_ascii_spaces_only(tmp_path):
    from core.aligners.evaluation import read_gold_set

    src_tgt = write(tmp_path, "ja.src-tgt", "a b ||| 東京\u3000タワー です\n")
    gold = write(tmp_path, "ja.gold", "1-1 2p2\n")
    gold_set = read_gold_set(src_tgt, gold)
    assert gold_set.pairs == [(["a", "b"], ["東京\u3000タワー", "です"])]
    assert gold_set.gold[0].sure == {(0, 0)} and gold_set.gold[0].possible == {(0, 0), (1, 1)}


WPT_EN = "<s snum=0001>the cat sleeps</s>\n<s snum=0002>hello</s>\n"
WPT_RO = "<s snum=0001>pisica doarme</s>\n<s snum=0002>salut</s>\n"
WPT_LINKS = "0001 1 0 S\n0001 2 1 S\n0001 3 2 P\n0002 1 1\n"


def test_wpt05_gold_set(tmp_path):
    from core.aligners.evaluation import read_wpt_gold_set

    gold_set = read_wpt_gold_set(
        write(tmp_path, "test.e", WPT_EN),
        write(tmp_path, "test.r", WPT_RO),
        write(tmp_path, "test.wa.nonullalign", WPT_LINKS),
    )
    assert gold_set.name == "test"
    assert gold_set.pairs == [
        (["the", "cat", "sleeps"], ["pisica", "doarme"]),
        (["hello"], ["salut"]),
    ]
    # 0 is NULL (no link); P is possible only; a missing kind is sure
    assert gold_set.gold[0].sure == {(1, 0)} and gold_set.gold[0].possible == {(1, 0), (2, 1)}
    assert gold_set.gold[1].sure == {(0, 0)}


@pytest.mark.parametrize(
    ("links", "error"),
    [
        ("0001 1\n", r"links:1: expected 'SENTENCE I J \[S\|P\] \[CONFIDENCE\]', found 2"),
        ("0001 1 2 X\n", r"links:1: link kind 'X' is neither S nor P"),
        ("0001 a 2 S\n", r"links:1: token positions must be whole numbers"),
        ("0001 -1 2 S\n", r"links:1: negative token position"),
        ("0009 1 1 S\n", r"links: links for sentence 9, which is not in"),
        ("0001 4 1 S\n", r"links: sentence 1: gold link 4-1 is outside the pair \(3 source"),
    ],
)
def test_wpt05_bad_links_name_file_and_line(tmp_path, links, error):
    from core.aligners.evaluation import read_wpt_gold_set

    with pytest.raises(InputError, match=error):
        read_wpt_gold_set(
            write(tmp_path, "test.e", WPT_EN),
            write(tmp_path, "test.r", WPT_RO),
            write(tmp_path, "links", links),
        )


def test_wpt05_bad_sentence_files(tmp_path):
    from core.aligners.evaluation import read_wpt_gold_set, read_wpt_sentences

    with pytest.raises(InputError, match=r"bad.e:2: expected '<s snum=N> tokens </s>'"):
        read_wpt_sentences(write(tmp_path, "bad.e", "<s snum=1>a</s>\nplain text\n"))
    with pytest.raises(InputError, match="sentence number 01 repeats"):
        read_wpt_sentences(write(tmp_path, "rep.e", '<s snum=1>a</s>\n<s snum="01">b</s>\n'))
    with pytest.raises(InputError, match="different sentence numbers"):
        read_wpt_gold_set(
            write(tmp_path, "test.e", WPT_EN),
            write(tmp_path, "one.r", "<s snum=1>x</s>\n"),
            write(tmp_path, "links", ""),
        )


def test_eval_alignment_reads_a_wpt05_set(tmp_path, capsys):
    import json

    from core.cli import main

    paths = [
        write(tmp_path, "test.e", WPT_EN),
        write(tmp_path, "test.r", WPT_RO),
        write(tmp_path, "test.wa", WPT_LINKS),
    ]
    argv = ["eval-alignment", "--wpt", *map(str, paths), "--source-lang", "en"]
    assert main([*argv, "--target-lang", "ro", "--json", "--quiet"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["pairs"] == 2 and scores["sure"] == 2 and scores["possible"] == 3
