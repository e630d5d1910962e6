"""Streaming readers, chunked projection, shards in separate processes and their merge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.data.formats import read_conll, read_lines, read_mafand_tsv, write_conll, write_lines
from core.data.stream import iter_conll, iter_lines
from core.errors import ConfigError, InputError
from core.pipelines.chunks import Shard, chunked, merge_shards, parallel
from tests.conftest import ROOT, data_file


def test_iter_conll_and_iter_lines_read_what_the_whole_file_readers_read(shared_data):
    path = data_file("masakhaner2", "yor", "dev.txt")
    whole = read_conll(path)
    streamed = list(iter_conll(path, block=97))  # many blocks, one partly filled
    assert [(s.tokens, s.tags, s.id) for s in streamed] == [(s.tokens, s.tags, s.id) for s in whole]
    flores = data_file("flores200", "dev", "yor.dev")
    assert list(iter_lines(flores)) == read_lines(flores)


def test_stream_errors_name_the_line_in_the_whole_file(tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("A O\n\nB B-PER\n\nC O\nD\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.conll:6: malformed line"):
        list(iter_conll(bad, block=1))
    text = tmp_path / "t.txt"
    text.write_bytes("eins\r\nzwei\u2028drei\n\nvier\n".encode())
    with pytest.raises(InputError, match=r"t.txt:3: empty line"):
        list(iter_lines(text))
    text.write_bytes("eins\r\nzwei\u2028drei\n".encode())
    assert list(iter_lines(text)) == ["eins", "zwei\u2028drei"] == read_lines(text)


def test_chunks_shards_and_parallel_checks():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert [n for n in range(7) if Shard(1, 3).owns(n)] == [1, 4]
    with pytest.raises(ConfigError, match="shard index must be in 0..1"):
        Shard(2, 2)
    with pytest.raises(ConfigError, match="3 source sentences but 2 target sentences"):
        list(parallel([1, 2, 3], [1, 2], "a", "b"))
    with pytest.raises(ConfigError, match="2 source sentences but 3 target sentences"):
        list(parallel([1, 2], [1, 2, 3], "a", "b"))


def _mafand_slice(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """n MAFAND en-yor dev pairs: English CoNLL (all O: labels come from --types-free text) and
    raw Yoruba text."""
    from core.data.tokenize import Tokenizer
    from core.data.types import Sentence

    pairs = read_mafand_tsv(data_file("mafand_mt", "en-yor", "dev.tsv"))[:n]
    english = Tokenizer("eng")
    sources = []
    for k, (s, _) in enumerate(pairs):
        tokens = english(s)
        # a few made-up entities so that there is something to project
        tags = ["B-PER" if t[:1].isupper() and i else "O" for i, t in enumerate(tokens)]
        sources.append(Sentence(tokens, tags, id=str(k)))
    source, target = tmp_path / "en.conll", tmp_path / "yo.txt"
    write_conll(source, sources)
    write_lines(target, [" ".join(t.split()) for _, t in pairs])
    return source, target


def _project_args(source: Path, target: Path, out: Path, *extra: str) -> list[str]:
    return [
        "project",
        "--source-conll",
        str(source),
        "--target-text",
        str(target),
        "--target-lang",
        "yor",
        "--aligner-param",
        "n_samplers=1",
        "--output-conll",
        str(out / "out.conll"),
        "--output-jsonl",
        str(out / "out.jsonl"),
        "--quiet",
        *extra,
    ]


def test_shards_in_separate_processes_merge_into_the_unsharded_output(tmp_path):
    source, target = _mafand_slice(tmp_path, 70)
    whole = tmp_path / "whole"
    # The unsharded, chunked run fills the alignment cache chunk by chunk; the shards' chunks
    # are the same pairs with the same extra text, so they reuse those alignments, and the
    # merged output must then be the same bytes.
    assert main(_project_args(source, target, whole, "--chunk-size", "20")) == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from core.cli import main; sys.exit(main(sys.argv[1:]))",
                *_project_args(source, target, tmp_path / f"shard{k}", "--chunk-size", "20"),
                "--shard",
                f"{k}/3",
            ],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(3)
    ]
    for run in runs:
        assert run.wait(300) == 0, run.stderr.read()
    for kind in ("conll", "jsonl"):
        shards = [str(tmp_path / f"shard{k}" / f"out.{kind}") for k in range(3)]
        merged = tmp_path / f"merged.{kind}"
        assert main(["merge-shards", *shards, "--output", str(merged), "--chunk-size", "20"]) == 0
        assert merged.read_bytes() == (whole / f"out.{kind}").read_bytes()
    # shard 0 holds chunks 0 and 3 (40 + 10 pairs), shard 2 chunk 2 only
    assert len(read_conll(tmp_path / "shard0" / "out.conll")) == 30
    assert len(read_conll(tmp_path / "shard2" / "out.conll")) == 20


def test_chunked_output_has_every_pair_in_order(tmp_path):
    source, target = _mafand_slice(tmp_path, 45)
    assert main(_project_args(source, target, tmp_path, "--chunk-size", "16")) == 0
    out = read_conll(tmp_path / "out.conll")
    sources = read_conll(source)
    assert len(out) == 45
    from core.data.tokenize import Tokenizer

    yoruba = Tokenizer("yor")
    assert [s.tokens for s in out] == [yoruba(line) for line in read_lines(target)]
    assert len(sources) == 45


def test_merge_refuses_shards_made_with_another_chunk_size(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(f'{{"id": {k}}}\n' for k in (0, 1, 4, 5)))
    b.write_text("".join(f'{{"id": {k}}}\n' for k in (2, 3)))
    assert merge_shards([a, b], tmp_path / "m.jsonl", 2, "jsonl") == 6
    assert [line[7] for line in (tmp_path / "m.jsonl").read_text().splitlines()] == list("012345")
    with pytest.raises(InputError, match="not made with chunk size 3"):
        merge_shards([a, b], tmp_path / "m.jsonl", 3, "jsonl")


class _DiagonalAligner:
    """Links word k to word k: deterministic and per pair, so chunking cannot change it."""

    name = "test-stream-diagonal"

    def align(self, pairs, extra=(), progress=False):
        from core.data.types import Alignment

        return [Alignment.from_links((i, i) for i in range(min(len(s), len(t)))) for s, t in pairs]


def _register_diagonal() -> str:
    from core.aligners.base import ALIGNERS, Aligner

    if _DiagonalAligner.name not in ALIGNERS.names():
        cls = type("DiagonalAligner", (_DiagonalAligner, Aligner), {})
        ALIGNERS.register(_DiagonalAligner.name)(cls)
    return _DiagonalAligner.name


def test_translate_train_in_chunks_writes_what_one_pass_writes(tmp_path, capsys):
    import json

    from core.translate import detokenize

    aligner = _register_diagonal()
    en = read_conll(data_file("europarl_ner", "en.test.conll02"))[:50]
    de = read_conll(data_file("europarl_ner", "de.test.conll02"))[:50]
    en_path = tmp_path / "en.conll"
    write_conll(en_path, en)
    tsv = tmp_path / "gold.tsv"
    tsv.write_text(
        "".join(f"{detokenize(e.tokens)}\t{' '.join(t.tokens)}\n" for e, t in zip(en, de)),
        encoding="utf-8",
    )
    stats = {}
    for name, chunk in (("whole", "1000"), ("chunked", "7")):
        code = main(
            [
                "pipeline",
                "translate-train",
                "--source-conll",
                str(en_path),
                "--target-lang",
                "de",
                "--translator",
                "file",
                "--model",
                str(tsv),
                "--target-tokenization",
                "whitespace",
                "--aligner",
                aligner,
                "--method",
                "heuristic",
                "--chunk-size",
                chunk,
                "--output-conll",
                str(tmp_path / f"{name}.conll"),
                "--output-jsonl",
                str(tmp_path / f"{name}.jsonl"),
                "--json",
            ]
        )
        assert code == 0
        stats[name] = json.loads(capsys.readouterr().out)
    for kind in ("conll", "jsonl"):
        assert (tmp_path / f"chunked.{kind}").read_bytes() == (
            tmp_path / f"whole.{kind}"
        ).read_bytes()
    assert [s.tokens for s in read_conll(tmp_path / "chunked.conll")] == [t.tokens for t in de]
    assert stats["chunked"]["chunks"] == 8 and stats["whole"]["chunks"] == 1
    for key in ("sentences", "source_entities", "projected", "translated", "skipped_empty"):
        assert stats["chunked"][key] == stats["whole"][key], key
    assert stats["chunked"]["sentences"] == 50


def test_shards_as_runs_of_the_run_engine(tmp_path):
    """Each shard is a `project-shard` run (local executor here; `slurm` submits the same runs
    to a cluster); their merged output is the unsharded one."""
    from core.runs.jobs import get_job
    from core.runs.manager import RunManager

    source, target = _mafand_slice(tmp_path, 30)
    assert main(_project_args(source, target, tmp_path / "whole", "--chunk-size", "10")) == 0
    manager = RunManager(tmp_path / "runs")
    runs = []
    for k in range(2):
        args = _project_args(source, target, tmp_path / f"run{k}", "--chunk-size", "10")[1:]
        runs.append(manager.launch("project-shard", {"args": args, "shard": [k, 2]}))
    for run in runs:
        done = manager.wait(run.id, 300)
        assert done.status == "succeeded", manager.log_tail(run.id)
    shards = [str(tmp_path / f"run{k}" / "out.conll") for k in range(2)]
    merge_shards(shards, tmp_path / "merged.conll", 10, "conll")
    assert (tmp_path / "merged.conll").read_bytes() == (
        tmp_path / "whole" / "out.conll"
    ).read_bytes()
    with pytest.raises(ConfigError, match="shard index must be in 0..1"):
        get_job("project-shard").check({"args": [], "shard": [2, 2]})


def test_the_project_command_does_not_import_torch(tmp_path):
    """`xner project` tokenises, aligns and projects; none of it needs torch (1.5 s to import)."""
    source, target = _mafand_slice(tmp_path, 12)
    args = _project_args(source, target, tmp_path)
    code = (
        "import sys\n"
        "from core.cli import main\n"
        f"assert main({args!r}) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'spacy' in sys.modules  # the Yoruba side was tokenised by spaCy's rules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
