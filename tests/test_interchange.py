"""Export to and import from Label Studio, doccano, spaCy DocBin and CoNLL: round trips, the
annotations of a tool read back, offsets, and imports saved as content-matched corrections."""

from __future__ import annotations

import json

import pytest

from core.data.types import Sentence
from core.errors import InputError
from core.workbench import interchange as ix
from core.workbench.corrections import CorrectionStore

SENTENCES = [
    Sentence(
        ["Ana", "mora", "em", "Nova", "York", "."], ["B-PER", "O", "O", "B-LOC", "I-LOC", "O"], "s0"
    ),
    Sentence(["A", "ONU", "reuniu-se", "ontem"], ["O", "B-ORG", "O", "O"], "s1"),
    Sentence(
        ["Ọjọ́", "Àìkú", "ni", "Adé", "lọ"], ["O", "O", "O", "B-PER", "O"], "s2"
    ),  # combining marks
    Sentence(["São Paulo", "é", "grande"], ["B-LOC", "O", "O"], "s3"),  # a token with a space
    Sentence(["nada"], ["O"], "s4"),
]
PREDICTED = {"s0": ["B-PER", "O", "O", "B-LOC", "O", "O"]}


def _items():
    return [ix.Item(s, PREDICTED.get(s.id), "heuristic") for s in SENTENCES]


def _same(a: list[Sentence], b: list[Sentence], ids: bool = True) -> None:
    assert [s.tokens for s in a] == [s.tokens for s in b]
    assert [s.tags for s in a] == [s.tags for s in b]
    if ids:
        assert [s.id for s in a] == [s.id for s in b]


def test_detokenized_offsets_point_at_the_tokens():
    text, offsets = ix.detokenize(SENTENCES[0].tokens)
    assert text == "Ana mora em Nova York ."
    assert [text[a:b] for a, b in offsets] == SENTENCES[0].tokens
    assert ix.spans_to_chars(SENTENCES[0].tokens, SENTENCES[0].spans) == [
        (0, 3, "PER"),
        (12, 21, "LOC"),
    ]


@pytest.mark.parametrize("fmt", ["doccano", "spacy", "conll"])
def test_round_trip(fmt):
    # Tokens holding a space are CoNLL's own writer's business (tested with the formats).
    items = [i for i in _items() if fmt != "conll" or " " not in "".join(i.sentence.tokens)]
    back = ix.read(fmt, ix.export(fmt, items))
    _same(back, [i.sentence for i in items], ids=fmt != "conll")


def test_label_studio_tasks_carry_the_projection_as_predictions():
    tasks = json.loads(ix.export("label-studio", _items()))
    first = tasks[0]
    assert first["data"]["text"] == "Ana mora em Nova York ."
    versions = [p["model_version"] for p in first["predictions"]]
    assert versions == ["heuristic", "corrected"]  # the correction differs from the projection
    region = first["predictions"][0]["result"][1]["value"]
    assert region == {"start": 12, "end": 16, "text": "Nova", "labels": ["LOC"]}
    assert [p["model_version"] for p in tasks[1]["predictions"]] == ["corrected"]
    assert '<Label value="PER"/>' in ix.label_studio_config(["PER", "LOC"])


def _annotate(tasks: list[dict]) -> list[dict]:
    """What Label Studio's JSON export looks like after people annotated the tasks."""
    for task in tasks:
        result = task["predictions"][-1]["result"] if task["predictions"] else []
        task["annotations"] = [
            {"result": [], "was_cancelled": True, "updated_at": "2026-01-03"},
            {"result": result, "was_cancelled": False, "updated_at": "2026-01-02"},
        ]
    return tasks


def test_label_studio_annotations_round_trip():
    tasks = _annotate(json.loads(ix.export("label-studio", _items())))
    tasks[4]["annotations"] = []  # never annotated
    report = ix.ImportReport()
    back = ix.from_label_studio(json.dumps(tasks), report)
    _same(back, SENTENCES[:4])
    assert report.skipped == 1 and report.snapped == 0


def test_offsets_inside_a_token_are_widened_and_counted():
    report = ix.ImportReport()
    record = {"text": "Ana mora em Nova York .", "label": [[1, 3, "PER"], [12, 18, "LOC"]]}
    (sentence,) = ix.from_doccano(json.dumps(record), report)
    assert sentence.tags == ["B-PER", "O", "O", "B-LOC", "I-LOC", "O"]
    assert report.snapped == 2


def test_doccano_newer_entities_export_is_read():
    record = {
        "id": 7,
        "text": "A ONU reuniu-se ontem",
        "entities": [{"id": 1, "label": "ORG", "start_offset": 2, "end_offset": 5}],
    }
    (sentence,) = ix.from_doccano(json.dumps(record))
    assert sentence.tags == ["O", "B-ORG", "O", "O"] and sentence.id == "7"


@pytest.mark.parametrize(
    ("fmt", "data", "message"),
    [
        ("doccano", b'{"text": "a b", "label": [[5, 9, "PER"]]}', "covers no token"),
        ("doccano", b"{not json", "line 1: not JSON"),
        ("doccano", b'{"text": "a b", "tokens": ["a", "c"]}', "do not join"),
        ("doccano", b'{"text": "a b", "label": [[0, 1]]}', "start, end, label"),
        ("label-studio", b'{"x": 1}', "no 'data'"),
        ("label-studio", b"[1", "not Label Studio JSON"),
        ("spacy", b"definitely not a docbin", "not a spaCy DocBin"),
        ("conll", b"Ana B-PER\nmora\n", "malformed"),
    ],
)
def test_bad_files_get_a_clear_error(fmt, data, message):
    with pytest.raises(InputError, match=message):
        ix.read(fmt, data)


def test_format_from_file_name():
    assert ix.guess_format("x.json") == "label-studio"
    assert ix.guess_format("x.JSONL") == "doccano"
    assert ix.guess_format("x.spacy") == "spacy"
    assert ix.guess_format("x.conll") == "conll"
    assert ix.guess_format("x.txt") is None


def test_an_import_becomes_corrections_matched_by_content(tmp_path):
    project = [(s.id, s.tokens) for s in SENTENCES]
    projected = {s.id: ["O"] * len(s.tokens) for s in SENTENCES}
    store = CorrectionStore(tmp_path / "c.sqlite")
    # A CoNLL file (no ids), in another order, with one sentence the project does not have.
    imported = ix.read(
        "conll",
        ix.export("conll", [ix.Item(SENTENCES[1]), ix.Item(SENTENCES[0])])
        + b"outra B-PER\nfrase O\n\n",
    )
    imported[1].tags = ["O"] * 6  # the annotator removed every entity of s0
    report = ix.apply_import(imported, project, projected, store, user="ana", method="import")
    assert report.matched == 2 and report.changed == 1 and report.unchanged == 1
    assert report.unmatched == ["outra frase"]
    assert store.all_current() == {"s1": ["O", "B-ORG", "O", "O"]}
    assert "not in the project" in report.describe()
    # Importing the same file again changes nothing.
    again = ix.apply_import(imported, project, projected, store, user="ana")
    assert again.changed == 0 and again.unchanged == 2
