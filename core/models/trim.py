"""Vocabulary trimming: keep only the sub-word pieces a data set uses (plus every single-character
piece and the special tokens), gather their embedding rows and renumber them.

Multilingual encoders carry a 250k-piece vocabulary; fine-tuning on one language touches a few
thousand rows, yet the optimiser updates the whole matrix every step (on a CPU most of the step).
The trimmed tokeniser segments with the kept pieces only, so text outside the data is still split
(into shorter kept pieces, down to single characters) rather than turned into <unk>. The result is
an ordinary transformers model + tokenizer pair: `save_pretrained` on both and it reloads.

Supported tokenisers: `tokenizers` Unigram (SentencePiece, e.g. XLM-R, multilingual-e5) and
WordPiece (BERT); for any other `trim_vocabulary` returns None and nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

METASPACE = "\u2581"


def used_ids(tokenizer, token_lists: Iterable[Sequence[str]]) -> set[int]:  # noqa: ANN001
    """Ids of every piece (special tokens included) the tokeniser produces for these sentences
    (a fast tokeniser)."""
    used: set[int] = set()
    batch: list[list[str]] = []

    def flush() -> None:
        if batch:  # the backend directly: no length limit, no warning about one
            for encoding in tokenizer.backend_tokenizer.encode_batch(batch, is_pretokenized=True):
                used.update(encoding.ids)
            batch.clear()

    for tokens in token_lists:
        if tokens:
            batch.append(list(tokens))
        if len(batch) >= 512:
            flush()
    flush()
    return used


def _single_character(piece: str, kind: str) -> bool:
    core = piece.lstrip(METASPACE) if kind == "Unigram" else piece.removeprefix("##")
    return len(core) <= 1


def _remap_ids(node: object, remap: dict[int, int]) -> object:
    """Renumber the ids that a tokenizer.json post-processor holds."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "ids" and isinstance(value, list):
                out[key] = [remap[v] for v in value]
            elif key in ("sep", "cls") and isinstance(value, list) and len(value) == 2:
                out[key] = [value[0], remap[value[1]]]
            else:
                out[key] = _remap_ids(value, remap)
        return out
    if isinstance(node, list):
        return [_remap_ids(v, remap) for v in node]
    return node


def trim_vocabulary(  # noqa: ANN201
    tokenizer,  # noqa: ANN001
    model,  # noqa: ANN001
    keep: set[int],
    *,
    single_characters: bool = True,
):
    """(tokenizer, model) restricted to the pieces in `keep` + single characters + specials, or
    None when the tokeniser's model type is not supported. The model is changed in place.
    Without `single_characters`, a character no kept piece covers becomes the unknown piece."""
    import torch
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    if not getattr(tokenizer, "is_fast", False):
        return None
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    kind = spec["model"]["type"]
    if kind == "Unigram":
        pieces = [p for p, _ in spec["model"]["vocab"]]
    elif kind == "WordPiece":
        pieces = [p for p, _ in sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])]
    else:
        return None
    embeddings = model.get_input_embeddings()
    rows = embeddings.weight.shape[0]
    specials = {t["id"] for t in spec.get("added_tokens", [])}
    kept = sorted(
        i
        for i, piece in enumerate(pieces)
        if i < rows
        and (i in keep or i in specials or (single_characters and _single_character(piece, kind)))
    )
    remap = {old: new for new, old in enumerate(kept)}
    if kind == "Unigram":
        spec["model"]["vocab"] = [spec["model"]["vocab"][i] for i in kept]
        spec["model"]["unk_id"] = remap[spec["model"]["unk_id"]]
    else:
        spec["model"]["vocab"] = {pieces[i]: remap[i] for i in kept}
    for token in spec.get("added_tokens", []):
        token["id"] = remap[token["id"]]
    spec["post_processor"] = _remap_ids(spec.get("post_processor"), remap)

    index = torch.tensor(kept, dtype=torch.long)
    new = torch.nn.Embedding(len(kept), embeddings.weight.shape[1], padding_idx=None)
    with torch.no_grad():
        new.weight.copy_(embeddings.weight[index])
    model.set_input_embeddings(new)
    config = model.config
    config.vocab_size = len(kept)
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            setattr(config, name, remap.get(value))

    special_names = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")
    special = {
        f"{k}_token": str(getattr(tokenizer, f"{k}_token"))
        for k in special_names
        if getattr(tokenizer, f"{k}_token", None) is not None
    }
    trimmed = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        model_max_length=tokenizer.model_max_length,
        **special,
    )
    return trimmed, model


def keep_first_layers(model, count: int, name: str = "the model") -> None:  # noqa: ANN001
    """Cut a BERT-like model (or its task model: `base_model.encoder`) to its first `count`
    transformer layers, in place, and say so in its config (a saved copy reloads cut)."""
    from core.errors import ConfigError

    encoder = getattr(getattr(model, "base_model", model), "encoder", None)
    stack = getattr(encoder, "layer", None)
    if stack is None:
        raise ConfigError(
            f"layers={count}: {name} has no encoder.layer stack to cut "
            "(supported: BERT-like encoders such as BERT, XLM-R, e5); use layers=0"
        )
    if not 1 <= count <= len(stack):
        raise ConfigError(f"layers={count}, but {name} has {len(stack)} layers")
    encoder.layer = stack[:count]
    model.config.num_hidden_layers = count
