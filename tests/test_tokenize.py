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
