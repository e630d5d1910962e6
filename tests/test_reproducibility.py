"""Reproducible projection: the alignment cache, eflomal's settings in its key, `--repeats`."""

from __future__ import annotations

import gzip
import inspect
import json
import random
import statistics

import pytest

from core.aligners import get_aligner
from core.aligners.base import Aligner
from core.aligners.cache import (
    AlignmentCache,
    CachedAligner,
    alignment_key,
    cached,
    default_cache_dir,
)
from core.aligners.eflomal_aligner import EXECUTION_ONLY, EflomalAligner, _majority
from core.cli import main
from core.data.formats import read_conll, write_conll
from core.data.types import Alignment
from tests.conftest import data_file

PAIRS = [(["Mr", "Smith", "spoke"], ["Herr", "Smith", "sprach"]), (["Yes"], ["Ja", "."])]
EXTRA = [(["a", "b"], ["c", "d"])]


class RandomAligner(Aligner):
    """Random links (a sampler stand-in that runs in microseconds); counts its calls."""

    name = "test-random"
    deterministic = False

    def __init__(self, density: float = 0.5):
        self.density = density
        self.calls = 0

    def settings(self) -> dict[str, object]:
        return {"density": self.density}

    def align(self, pairs, extra=(), progress=False):
        self.calls += 1
        out = []
        for source, target in pairs:
            links = {
                (i, j)
                for i in range(len(source))
                for j in range(len(target))
                if random.random() < self.density
            }
            out.append(Alignment(frozenset(links), {link: random.random() for link in links}))
        return out


# ------------------------------------------------------------------ the key


def test_key_is_stable_and_changes_with_every_input_part():
    key = alignment_key("eflomal", {"a": 1}, PAIRS, EXTRA)
    assert key == alignment_key("eflomal", {"a": 1}, [tuple(p) for p in PAIRS], list(EXTRA))
    changed = [
        alignment_key("simalign", {"a": 1}, PAIRS, EXTRA),
        alignment_key("eflomal", {"a": 2}, PAIRS, EXTRA),
        alignment_key("eflomal", {"a": 1, "b": 0}, PAIRS, EXTRA),
        alignment_key("eflomal", {"a": 1}, PAIRS, ()),
        alignment_key("eflomal", {"a": 1}, PAIRS, [(["a", "b"], ["c", "e"])]),
        alignment_key("eflomal", {"a": 1}, [PAIRS[0], (["yes"], ["Ja", "."])], EXTRA),
        alignment_key("eflomal", {"a": 1}, PAIRS[::-1], EXTRA),
        # the same tokens, split differently between the pairs and the extra text
        alignment_key("eflomal", {"a": 1}, PAIRS[:1], [PAIRS[1], *EXTRA]),
        # the same characters, split into tokens differently
        alignment_key("eflomal", {"a": 1}, [(["Mr Smith", "spoke"], PAIRS[0][1]), PAIRS[1]], EXTRA),
    ]
    assert len({key, *changed}) == len(changed) + 1


def _changed_value(name: str, value: object) -> object:
    changes = {
        "symmetrization": "grow-diag-final-and",
        "model": 2,
        "n_iterations": (2, 2, 8),
        "source_prefix_len": 4,
        "target_prefix_len": 4,
        "source_suffix_len": 3,
        "target_suffix_len": 3,
        "max_length": 100,
    }
    if name in changes:
        return changes[name]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2
    raise AssertionError(f"no changed value for eflomal parameter {name}={value!r}")


def test_every_eflomal_setting_changes_the_key():
    default = CachedAligner(get_aligner("eflomal")).key(PAIRS, EXTRA)
    parameters = [
        p
        for p in inspect.signature(EflomalAligner).parameters.values()
        if p.name not in EXECUTION_ONLY
    ]
    assert len(parameters) >= 14  # the whole constructor, not a hand-kept subset
    for parameter in parameters:
        value = _changed_value(parameter.name, getattr(get_aligner("eflomal"), parameter.name))
        aligner = get_aligner("eflomal", **{parameter.name: value})
        assert CachedAligner(aligner).key(PAIRS, EXTRA) != default, parameter.name
    # output-only: progress messages do not change the alignments, nor does running the two
    # directions one after the other
    assert {"quiet", "concurrent_directions"} == EXECUTION_ONLY
    assert CachedAligner(get_aligner("eflomal", quiet=False)).key(PAIRS, EXTRA) == default
    serial = get_aligner("eflomal", concurrent_directions=False)
    assert CachedAligner(serial).key(PAIRS, EXTRA) == default


def test_the_eflomal_version_is_in_the_key(monkeypatch):
    import core.aligners.eflomal_aligner as module

    before = CachedAligner(get_aligner("eflomal")).key(PAIRS)
    monkeypatch.setattr(module, "_eflomal_version", lambda: "2.0.1")
    assert CachedAligner(get_aligner("eflomal")).key(PAIRS) != before


# ------------------------------------------------------------------ the store


def test_cached_aligner_reproduces_and_realigns_only_on_a_new_input(tmp_path):
    inner = RandomAligner()
    aligner = CachedAligner(inner, AlignmentCache(tmp_path))
    first = aligner.align(PAIRS, EXTRA)
    again = aligner.align(PAIRS, EXTRA)
    assert inner.calls == 1 and (aligner.hits, aligner.misses) == (1, 1)
    assert [a.links for a in again] == [a.links for a in first]
    assert [a.scores for a in again] == [a.scores for a in first]
    # a fresh instance (a new process, in effect) reads the same entry
    other = CachedAligner(RandomAligner(), AlignmentCache(tmp_path))
    assert [a.scores for a in other.align(PAIRS, EXTRA)] == [a.scores for a in first]
    assert other.aligner.calls == 0
    aligner.align(PAIRS)  # no extra text: another key
    assert inner.calls == 2


def _corruptions(raw: bytes) -> dict[str, bytes]:
    entry = json.loads(gzip.decompress(raw))

    def rewrite(**changes: object) -> bytes:
        return gzip.compress(json.dumps({**entry, **changes}).encode())

    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0xFF
    return {
        "truncated": raw[: len(raw) // 2],
        "bit flip": bytes(flipped),
        "empty": b"",
        "not gzip": b"alignments",
        "not JSON": gzip.compress(b"{not json"),
        "not an object": gzip.compress(b"[1, 2]"),
        "another key": rewrite(key="0" * 64),
        "another format": rewrite(format=0),
        "too few pairs": rewrite(pairs=1, counts=entry["counts"][:1], scored=entry["scored"][:1]),
        "a column missing": rewrite(targets=None),
        "a column short": rewrite(sources=entry["sources"][:-1]),
        "link outside the sentence": rewrite(targets=[7, *entry["targets"][1:]]),
        "negative index": rewrite(sources=[-1, *entry["sources"][1:]]),
        "text for an index": rewrite(sources=["0", *entry["sources"][1:]]),
        "scores short": rewrite(scores=entry["scores"][:-1]),
    }


def test_a_damaged_entry_is_detected_removed_and_recomputed(tmp_path, caplog):
    store = AlignmentCache(tmp_path)
    inner = RandomAligner(density=1.0)
    aligner = CachedAligner(inner, store)
    aligner.align(PAIRS)
    key = aligner.key(PAIRS)
    good = store.path(key).read_bytes()
    for what, damaged in _corruptions(good).items():
        store.path(key).write_bytes(damaged)
        calls = inner.calls
        assert store.get(key, PAIRS) is None, what
        assert not store.path(key).exists(), what  # removed, not trusted again
        store.path(key).write_bytes(damaged)
        result = aligner.align(PAIRS)
        assert inner.calls == calls + 1, what  # realigned
        assert len(result) == len(PAIRS)
        assert store.get(key, PAIRS) is not None, what  # and stored whole again
    assert "damaged entry" in caplog.text


def test_entries_are_written_atomically_and_deterministically(tmp_path):
    store = AlignmentCache(tmp_path)
    alignments = RandomAligner().align(PAIRS)
    first, second = "ab" + "0" * 62, "ab" + "1" * 62
    assert store.put(first, alignments) == store.path(first).read_bytes()
    store.put(second, alignments)
    a, b = store.path(first).read_bytes(), store.path(second).read_bytes()
    assert a == store.put(first, alignments)  # the same alignments, the same bytes
    assert gzip.decompress(a).replace(b"0" * 62, b"1" * 62) == gzip.decompress(b)
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["ab", first + ".json.gz", second + ".json.gz"]
    )  # no temporary files left behind


def test_only_sampling_aligners_are_cached(tmp_path):
    assert isinstance(cached(get_aligner("eflomal")), CachedAligner)
    once = cached(get_aligner("eflomal"))
    assert cached(once) is once

    class Fixed(Aligner):
        name = "test-fixed"

        def align(self, pairs, extra=(), progress=False):
            return [Alignment() for _ in pairs]

    fixed = Fixed()
    assert cached(fixed) is fixed  # deterministic: rerunning it reproduces it already


def test_the_wrapper_shows_the_aligners_capabilities_and_attributes(tmp_path):
    inner = get_aligner("eflomal", n_samplers=3)
    wrapped = CachedAligner(inner, AlignmentCache(tmp_path))
    assert (wrapped.name, wrapped.trains_on_corpus, wrapped.needs_encoder) == (
        "eflomal",
        True,
        False,
    )
    assert not wrapped.deterministic and wrapped.n_samplers == 3 and wrapped.stats is inner.stats
    assert wrapped.settings() == inner.settings()
    with pytest.raises(AttributeError):
        wrapped.no_such_attribute  # noqa: B018


def test_an_unreadable_entry_is_realigned(tmp_path):
    inner = RandomAligner()
    aligner = CachedAligner(inner, AlignmentCache(tmp_path))
    aligner.cache.path(aligner.key(PAIRS)).mkdir(parents=True)  # a folder where the file goes
    assert len(aligner.align(PAIRS)) == len(PAIRS) and inner.calls == 1


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XNER_ALIGNMENT_CACHE", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    monkeypatch.delenv("XNER_ALIGNMENT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "xner" / "alignments"


def test_majority_vote_keeps_links_most_runs_found():
    runs = [[[(0, 0), (1, 1)]], [[(0, 0), (1, 2)]], [[(0, 0), (1, 1), (2, 2)]]]
    assert _majority(runs) == [[(0, 0), (1, 1)]]
    assert _majority(runs[:2]) == [[(0, 0)]]  # two runs: both must agree


# ------------------------------------------------------------------ the command


def _slice(tmp_path, lang: str, n: int = 80):
    path = tmp_path / f"{lang}.conll"
    write_conll(path, read_conll(data_file("europarl_ner", f"{lang}.test.conll02"))[:n])
    return str(path)


def _eval(tmp_path, *extra_args: str) -> list[str]:
    return [
        "eval-projection",
        "--source-conll",
        _slice(tmp_path, "en"),
        "--target-conll",
        _slice(tmp_path, "de"),
        "--aligner-param",
        "n_samplers=1",
        "--quiet",
        *extra_args,
    ]


def test_the_same_eval_projection_command_twice_gives_identical_results(
    tmp_path, capsys, monkeypatch, private_alignment_cache
):
    outputs = []
    for run in (1, 2):
        conll, jsonl = tmp_path / f"run{run}.conll", tmp_path / f"run{run}.jsonl"
        args = _eval(tmp_path, "--json", "--output-conll", str(conll), "--output-jsonl", str(jsonl))
        assert main(args) == 0
        scores = json.loads(capsys.readouterr().out)
        outputs.append((scores, conll.read_bytes(), jsonl.read_bytes()))
        if run == 1:
            # the second run must not sample at all: it reads the stored alignments
            def no_sampling(*args, **kwargs):
                raise AssertionError("eflomal ran although the alignments were cached")

            monkeypatch.setattr(EflomalAligner, "directional", no_sampling)
    (first, conll1, jsonl1), (second, conll2, jsonl2) = outputs
    assert {k: v for k, v in first.items() if k != "seconds"} == {
        k: v for k, v in second.items() if k != "seconds"
    }
    assert conll1 == conll2 and jsonl1 == jsonl2 and len(conll1) > 1000
    assert len(list(private_alignment_cache.rglob("*.json.gz"))) == 1


def test_the_same_project_command_twice_writes_identical_files(tmp_path, capsys):
    target_text = tmp_path / "de.txt"
    target_text.write_text(
        "".join(" ".join(s.tokens) + "\n" for s in read_conll(_slice(tmp_path, "de"))),
        encoding="utf-8",
    )
    written = []
    for run in (1, 2):
        conll, jsonl = tmp_path / f"run{run}.conll", tmp_path / f"run{run}.jsonl"
        args = ["project", "--source-conll", _slice(tmp_path, "en"), "--target-text"]
        args += [str(target_text), "--target-lang", "de", "--aligner-param", "n_samplers=1"]
        args += ["--output-conll", str(conll), "--output-jsonl", str(jsonl), "--quiet"]
        assert main(args) == 0
        written.append((conll.read_bytes(), jsonl.read_bytes()))
    assert written[0] == written[1] and len(written[0][1]) > 1000


def test_no_alignment_cache_aligns_afresh_and_stores_nothing(
    tmp_path, capsys, private_alignment_cache
):
    assert main(_eval(tmp_path, "--no-alignment-cache", "--json")) == 0
    assert json.loads(capsys.readouterr().out)["sentences"] == 80
    assert not list(private_alignment_cache.rglob("*.json.gz"))


def test_repeats_report_mean_and_std_of_fresh_alignments(tmp_path, capsys, private_alignment_cache):
    assert main(_eval(tmp_path, "--repeats", "3", "--json")) == 0
    result = json.loads(capsys.readouterr().out)
    f1s = [run["f1"] for run in result["runs"]]
    assert result["repeats"] == 3 and len(f1s) == 3
    assert result["f1"] == pytest.approx(statistics.mean(f1s))
    assert result["f1_std"] == pytest.approx(statistics.stdev(f1s))
    assert (result["f1_min"], result["f1_max"]) == (min(f1s), max(f1s))
    assert set(result["per_type"]) == {"LOC", "MISC", "ORG", "PER"}
    assert not list(private_alignment_cache.rglob("*.json.gz"))  # the cache is bypassed

    assert main(_eval(tmp_path, "--repeats", "2")) == 0
    text = capsys.readouterr().out
    assert "2 fresh alignments (mean ± std)" in text and "F1 per run:" in text
    assert text.count("±") >= 4  # P, R, F1 and the types


def test_repeats_refuses_bad_counts_and_single_outputs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(_eval(tmp_path, "--repeats", "0"))
    assert "--repeats: must be at least 1" in capsys.readouterr().err
    assert main(_eval(tmp_path, "--repeats", "2", "--output-conll", "x.conll")) == 1
    assert "not with --repeats" in capsys.readouterr().err
