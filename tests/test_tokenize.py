import unicodedata

from core.data.tokenize import Tokenizer, regex_tokenize


def test_combining_marks_stay_inside_words():
    decomposed = unicodedata.normalize("NFD", "Ọ̀gá àgbà ilé-iṣẹ́ náà")
    tokens = regex_tokenize(decomposed)
    assert tokens == ["Ọ̀gá", "àgbà", "ilé-iṣẹ́", "náà"]
    assert all(unicodedata.is_normalized("NFC", t) for t in tokens)


def test_spacy_backend_for_known_language_and_fallback():
    assert Tokenizer("eng").backend == "spacy"
    assert Tokenizer("deu")("Die EU-Kommission (Brüssel) sagt: nein.") == [
        "Die",
        "EU-Kommission",
        "(",
        "Brüssel",
        ")",
        "sagt",
        ":",
        "nein",
        ".",
    ]
    hausa = Tokenizer("hau")  # spaCy has no Hausa: Unicode regex
    assert hausa.backend == "regex"
    assert hausa("Shugaba Ɗan'uwa ya ce, 'yes'.") == [
        "Shugaba",
        "Ɗan'uwa",
        "ya",
        "ce",
        ",",
        "'",
        "yes",
        "'",
        ".",
    ]


def test_yoruba_same_word_from_two_normalisations():
    tok = Tokenizer("yor")
    nfd = unicodedata.normalize("NFD", "Ẹ̀ka")
    nfc = unicodedata.normalize("NFC", "Ẹ̀ka")
    assert tok(nfd) == tok(nfc) == [nfc]


def test_tokens_unchanged_without_lexical_attributes_on_real_text(shared_data):
    """The tokenizer skips spaCy's lexical attributes; the tokens must be spaCy's own."""
    import spacy

    from core.data.formats import nfc, read_lines, read_mafand_tsv

    mafand = read_mafand_tsv(shared_data / "mafand_mt" / "en-yor" / "dev.tsv")
    flores = shared_data / "flores200" / "dev"
    texts = {
        "yor": [t for _, t in mafand] + read_lines(flores / "yor.dev")[:300],
        "eng": [s for s, _ in mafand] + read_lines(flores / "eng.dev")[:300],
        "deu": read_lines(flores / "deu.dev")[:300],
    }
    for lang, lines in texts.items():
        ours = Tokenizer(lang)
        assert ours.backend == "spacy"
        full = spacy.blank({"yor": "yo", "eng": "en", "deu": "de"}[lang])  # attributes on
        for line in lines:
            assert ours(line) == [t.text for t in full(nfc(line)) if not t.is_space], line


def test_building_a_tokenizer_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from core.data.tokenize import Tokenizer\n"
        "assert Tokenizer('yor')('Ọ̀gá àgbà') == ['Ọ̀gá', 'àgbà']\n"
        "assert Tokenizer('eng').backend == 'spacy'\n"
        "assert 'spacy' in sys.modules and 'torch' not in sys.modules\n"
        "import torch  # still importable afterwards\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_parallel_text_is_tokenised_once_per_content(tmp_path, monkeypatch, private_token_cache):
    import core.data.tokenize as tokenize_module
    from core.data.tokenize import tokenize_parallel

    source, target = tmp_path / "en.txt", tmp_path / "yo.txt"
    source.write_text("The minister spoke.\nIt rained.\n", encoding="utf-8")
    target.write_text("Mínísítà sọ̀rọ̀.\nÒjò rọ̀.\n", encoding="utf-8")
    first = tokenize_parallel(source, target, "eng", "yor")
    english, yoruba = Tokenizer("eng"), Tokenizer("yor")
    assert first == [
        (english("The minister spoke."), yoruba("Mínísítà sọ̀rọ̀.")),
        (english("It rained."), yoruba("Òjò rọ̀.")),
    ]
    assert len(list(private_token_cache.glob("*.json.gz"))) == 1

    def no_tokenizer(*args, **kwargs):
        raise AssertionError("a cache hit must not tokenise")

    monkeypatch.setattr(tokenize_module, "Tokenizer", no_tokenizer)
    assert tokenize_parallel(source, target, "eng", "yor") == first
    # changed content or language: a new entry, tokenised afresh
    monkeypatch.undo()
    monkeypatch.setenv("XNER_TOKEN_CACHE", str(private_token_cache))
    target.write_text("Mínísítà sọ̀rọ̀.\nÒjò rọ̀ púpọ̀.\n", encoding="utf-8")
    assert tokenize_parallel(source, target, "eng", "yor")[1][1] == yoruba("Òjò rọ̀ púpọ̀.")
    assert len(list(private_token_cache.glob("*.json.gz"))) == 2
    # a damaged entry is recomputed, not trusted
    for entry in private_token_cache.glob("*.json.gz"):
        entry.write_bytes(b"\x1f\x8b garbage")
    assert tokenize_parallel(source, target, "eng", "yor")[1][1] == yoruba("Òjò rọ̀ púpọ̀.")
