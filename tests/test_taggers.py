"""Taggers: fit/predict/save/load, soft targets, label errors, atomic checkpoints, resume."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

from core.data.types import Sentence
from core.errors import ConfigError, InputError, OfflineError
from core.taggers import Callbacks, CheckpointError, Example, TrainingCancelled, get_tagger
from core.taggers import base as tagger_base
from core.taggers.base import load_tagger, remap_probs, viterbi_iob2
from core.taggers.features import word_shape
from tests.model_support import save_tiny_bert

SMALL = {
    "word_dim": 16,
    "shape_dim": 4,
    "char_dim": 8,
    "char_filters": 8,
    "hidden": 16,
    "batch_size": 8,
    "dropout": 0.0,
    "word_dropout": 0.0,
    "lr": 0.02,
    "device": "cpu",
    "threads": 1,
}  # one thread: tiny models only lose time to thread hand-offs

NAMES = ["Ade", "Bola", "Tunde", "Kemi", "Funmi", "Segun"]
PLACES = ["Lagos", "Abuja", "Ibadan", "Kano"]


def toy_data(n: int = 60) -> list[Sentence]:
    """Names after 'ni', places after 'ní': learnable from words, shape and context."""
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        name, place = NAMES[k % len(NAMES)], PLACES[rng.integers(len(PLACES))]
        if k % 3 == 0:
            tokens = ["ọkùnrin", "náà", "ni", name, "Ọlá", "ó", "lọ", "sí", place]
            tags = ["O", "O", "O", "B-PER", "I-PER", "O", "O", "O", "B-LOC"]
        else:
            tokens = [name, "wà", "ní", place, "lánàá"]
            tags = ["B-PER", "O", "O", "B-LOC", "O"]
        out.append(Sentence(tokens, tags))
    return out


def entity_f1(tagger, data) -> float:
    from core.evaluate import ner_scores

    return ner_scores([s.tags for s in data], tagger.predict([s.tokens for s in data]))["f1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tagger = get_tagger("embedded", **SMALL)
    tagger.fit(toy_data(), epochs=15, seed=1)
    return tagger


def test_fit_predict_save_load_round_trip(trained, tmp_path):
    data = toy_data(12)
    assert entity_f1(trained, data) > 0.9
    assert trained.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    trained.save(tmp_path / "model")
    loaded = load_tagger(tmp_path / "model")
    tokens = [s.tokens for s in data]
    assert loaded.predict(tokens) == trained.predict(tokens)
    for a, b in zip(loaded.predict_proba(tokens), trained.predict_proba(tokens)):
        assert a.shape == (len(b), 5)
        np.testing.assert_allclose(a, b, atol=1e-5)
        np.testing.assert_allclose(a.sum(1), 1.0, atol=1e-5)
    # Unseen names still come out as names (characters + shape, not only word identity).
    assert loaded.predict([["Gbenga", "wà", "ní", "Lagos", "lánàá"]])[0][:4] == [
        "B-PER",
        "O",
        "O",
        "B-LOC",
    ]
    assert loaded.predict([[]]) == [[]]


def test_nfc_normalisation_makes_nfd_input_the_same_word(trained):
    import unicodedata

    sentence = ["ọkùnrin", "náà", "ni", "Ade", "Ọlá", "ó", "lọ", "sí", "Lagos"]
    nfd = [unicodedata.normalize("NFD", t) for t in sentence]
    np.testing.assert_allclose(
        trained.predict_proba([nfd])[0], trained.predict_proba([sentence])[0], atol=1e-6
    )


def test_soft_targets_reduce_mse():
    data = toy_data(40)
    teacher_probs = []
    labels = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    vocab = sorted({t for s in data for t in s.tokens})
    # One fixed (soft, learnable) distribution per word, as a teacher would give.
    per_word = np.random.default_rng(3).dirichlet(np.ones(5), size=len(vocab)).astype(np.float32)
    for s in data:
        teacher_probs.append(per_word[[vocab.index(t) for t in s.tokens]])
    examples = [Example(s.tokens, probs=p) for s, p in zip(data, teacher_probs)]

    def mse(tagger) -> float:
        pred = tagger.predict_proba([s.tokens for s in data])
        return float(np.mean([((a - b) ** 2).sum(1).mean() for a, b in zip(pred, teacher_probs)]))

    student = get_tagger("embedded", labels=labels, **SMALL)
    student.fit(examples, epochs=1, seed=0)
    before = mse(student)
    student.fit(examples, epochs=25, seed=0)
    after = mse(student)
    assert after < 0.6 * before
    kl = get_tagger("embedded", labels=labels, soft_loss="kl", temperature=2.0, **SMALL)
    kl.fit(examples, epochs=25, seed=0)
    assert mse(kl) < before


def test_soft_targets_need_a_label_set():
    with pytest.raises(ConfigError, match="labels"):
        get_tagger("embedded", **SMALL).fit([Example(["a"], probs=np.ones((1, 3)) / 3)])


def test_unknown_tag_in_training_data_is_a_clear_error():
    tagger = get_tagger("embedded", types=["PER", "LOC"], **SMALL)
    data = toy_data(6) + [Sentence(["Google", "ni"], ["B-ORG", "O"])]
    with pytest.raises(InputError, match=r"B-ORG.*not in the model's label set"):
        tagger.fit(data, epochs=1)
    with pytest.raises(ConfigError, match="tagger 'embedded' has no parameter 'hiden'.*hidden"):
        get_tagger("embedded", hiden=3)


def test_disk_full_during_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    ckpt = tmp_path / "ckpt"
    tagger = get_tagger("embedded", **SMALL)
    tagger.fit(toy_data(20), epochs=1, seed=0, checkpoint_dir=ckpt)
    before = {p.name: p.read_bytes() for p in (ckpt / "last").iterdir()}

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tagger_base, "write_file", full)
    import core.taggers.embedded as embedded

    monkeypatch.setattr(embedded, "write_file", full)
    again = get_tagger("embedded", **SMALL)
    with pytest.raises(CheckpointError, match="disk full.*previous one is intact"):
        again.fit(toy_data(20), epochs=2, seed=0, checkpoint_dir=ckpt)
    after = {p.name: p.read_bytes() for p in (ckpt / "last").iterdir()}
    assert after == before
    assert sorted(p.name for p in ckpt.iterdir()) == ["last"]  # no temporary leftovers
    with pytest.raises(CheckpointError, match="disk full"):
        again.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_cancel_then_resume_from_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    data = toy_data(24)
    reference = get_tagger("embedded", **SMALL)
    reference.fit(data, epochs=4, seed=5)

    events: list[dict] = []
    calls = {"n": 0}

    def stop_in_third_epoch() -> bool:
        calls["n"] += 1
        return calls["n"] > 3 * 2  # 3 batches per epoch: stop at the start of epoch 3

    first = get_tagger("embedded", **SMALL)
    with pytest.raises(TrainingCancelled):
        first.fit(
            data,
            epochs=4,
            seed=5,
            checkpoint_dir=ckpt,
            callbacks=Callbacks(progress=events.append, should_stop=stop_in_third_epoch),
        )
    assert [e["epoch"] for e in events if "fraction" in e and e["fraction"] * 4 % 1 == 0] == [1, 2]
    resumed = get_tagger("embedded", **SMALL)
    info = resumed.fit(data, epochs=4, seed=5, checkpoint_dir=ckpt)
    assert info["resumed_from_epoch"] == 2
    tokens = [s.tokens for s in data]
    for a, b in zip(resumed.predict_proba(tokens), reference.predict_proba(tokens)):
        np.testing.assert_allclose(a, b, atol=1e-4)  # resuming = never having stopped


def test_checkpoint_of_other_data_is_not_resumed(tmp_path):
    ckpt = tmp_path / "ckpt"
    get_tagger("embedded", **SMALL).fit(toy_data(10), epochs=1, seed=0, checkpoint_dir=ckpt)
    info = get_tagger("embedded", **SMALL).fit(toy_data(12), epochs=1, seed=0, checkpoint_dir=ckpt)
    assert info["resumed_from_epoch"] == 0


def test_viterbi_never_starts_an_entity_with_i():
    labels = ["O", "B-PER", "I-PER"]
    # argmax would say I-PER I-PER; the best valid sequence is O O (0.12 > B I 0.06)
    assert viterbi_iob2(np.array([[0.4, 0.1, 0.5], [0.3, 0.1, 0.6]]), labels) == ["O", "O"]
    # here B I (0.21) beats O O (0.06)
    assert viterbi_iob2(np.array([[0.3, 0.3, 0.4], [0.2, 0.1, 0.7]]), labels) == ["B-PER", "I-PER"]


def test_remap_probs_sends_unknown_labels_to_o():
    out = remap_probs(
        np.array([[0.2, 0.5, 0.3]]), ["O", "B-MISC", "B-PER"], ["O", "B-PER", "I-PER"]
    )
    np.testing.assert_allclose(out, [[0.7, 0.3, 0.0]])


def test_word_shape():
    assert word_shape("Lagos") == "Xx"
    assert word_shape("ABUJA") == "X"
    assert word_shape("2019") == "d"
    assert word_shape("Ọ̀túnba") == "Xx"  # combining marks do not break the shape


def test_unknown_tagger_name():
    with pytest.raises(ConfigError, match="unknown tagger"):
        get_tagger("crf-xyz")


# --------------------------------------------------------------------------- transformers


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A tiny random BERT token classifier with the MiniLM word-piece vocabulary."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def test_transformers_tagger_fits_saves_loads_and_learns_soft_targets(tiny_bert, tmp_path):
    data = toy_data(24)
    tagger = get_tagger("transformers", model=str(tiny_bert), lr=3e-3, batch_size=8, epochs=12)
    tagger.fit(data, seed=0, checkpoint_dir=tmp_path / "ckpt")
    assert entity_f1(tagger, data) > 0.8
    tagger.save(tmp_path / "model")
    loaded = load_tagger(tmp_path / "model")
    tokens = [s.tokens for s in data[:4]]
    assert loaded.predict(tokens) == tagger.predict(tokens)
    probs = loaded.predict_proba(tokens)
    assert [p.shape for p in probs] == [(len(t), len(tagger.labels)) for t in tokens]
    # soft targets: the student moves towards the teacher's distributions
    student = get_tagger(
        "transformers", model=str(tiny_bert), labels=tagger.labels, lr=3e-3, batch_size=8
    )
    examples = [Example(t, probs=p) for t, p in zip(tokens, probs)]
    student.fit(examples, epochs=1, seed=0)
    before = np.mean(
        [((a - b) ** 2).sum(1).mean() for a, b in zip(student.predict_proba(tokens), probs)]
    )
    student.fit(examples, epochs=10, seed=0)
    after = np.mean(
        [((a - b) ** 2).sum(1).mean() for a, b in zip(student.predict_proba(tokens), probs)]
    )
    assert after < before


@pytest.fixture(scope="module")
def two_layer_bert(tmp_path_factory) -> Path:
    """A tiny random 2-layer BERT encoder (hidden 64) with the MiniLM word-piece vocabulary."""
    return save_tiny_bert(
        tmp_path_factory.mktemp("two-layer-bert"), hidden=64, layers=2, head=False, seed=0
    )


FIT = {"batch_size": 8, "threads": 1, "device": "cpu", "max_length": 32}


def test_transformers_tagger_overfits_a_few_sentences_with_default_rates(two_layer_bert):
    # The default learning rates must fit 30 sentences almost perfectly: a tagger that stays
    # near all-O here fails (a head trained at the encoder's rate reaches F1 0.44, loss 1.2;
    # mis-aligned labels or a wrong loss mask fail too).
    data = toy_data(30)
    tagger = get_tagger("transformers", model=str(two_layer_bert), epochs=40, **FIT)
    summary = tagger.fit(data, seed=0)
    assert summary["loss"] < 0.1
    assert entity_f1(tagger, data) > 0.95


def test_transformers_tagger_keeps_the_first_layers(two_layer_bert, tmp_path):
    data = toy_data(8)
    tagger = get_tagger("transformers", model=str(two_layer_bert), layers=1, epochs=1, **FIT)
    tagger.fit(data, seed=0)
    assert len(tagger.net.base_model.encoder.layer) == 1
    tagger.save(tmp_path / "model")
    loaded = load_tagger(tmp_path / "model")
    assert loaded.net.config.num_hidden_layers == 1
    tokens = [s.tokens for s in data]
    assert loaded.predict(tokens) == tagger.predict(tokens)
    with pytest.raises(ConfigError, match="layers=5, but .* has 2 layers"):
        get_tagger("transformers", model=str(two_layer_bert), layers=5, **FIT).fit(data, epochs=1)


def test_transformers_tagger_o_weight_discounts_o_tokens(two_layer_bert):
    # o_weight=0: sentences without entities teach nothing, so more epochs on them alone leave
    # the model where one epoch left it (no weight decay, so only gradients move it).
    all_o = [Sentence(["ọkùnrin", "náà", "lọ"], ["O", "O", "O"])] * 8
    tokens = [all_o[0].tokens]

    def probs_after(epochs: int, o_weight: float) -> np.ndarray:
        tagger = get_tagger(
            "transformers",
            model=str(two_layer_bert),
            types=["PER"],
            o_weight=o_weight,
            weight_decay=0.0,
            **FIT,
        )
        tagger.fit(all_o, epochs=epochs, seed=0)
        return tagger.predict_proba(tokens)[0]

    assert np.allclose(probs_after(1, 0.0), probs_after(3, 0.0), atol=1e-6)
    assert not np.allclose(probs_after(1, 1.0), probs_after(3, 1.0), atol=1e-3)


def test_transformers_tagger_offline_hub_id_raises_offline_error(monkeypatch):
    # Fail fast instead of waiting for network retries (the error path is the same).
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    tagger = get_tagger("transformers", model="no-such-org/no-such-model-xner")
    with pytest.raises(OfflineError, match="Hub is not reachable"):
        tagger.fit(toy_data(2), epochs=1)
