"""A compact copy of a transformers encoder folder, small enough to travel with the code to a
machine without the Hub or PyPI: the first K layers only, weights stored in float16 (or bfloat16),
and the vocabulary cut to the pieces that given text files need.

The cut tokeniser segments the kept texts exactly as the full one does (a Unigram tokeniser's best
segmentation of a text uses only pieces that text needs, so it stays the best among the kept ones);
a character that no kept piece covers becomes the unknown piece. The folder's config says float32,
so `from_pretrained` (whose default dtype follows the config) loads the half-precision weights
back as float32 for training.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.errors import ConfigError

DTYPES = ("float32", "float16", "bfloat16")
TSV_SIDES = ("both", "source", "target")
CONLL_SUFFIXES = (".txt", ".conll", ".iob", ".bio")


def read_word_lists(paths: Sequence[Path | str], tsv_side: str = "both") -> list[list[str]]:
    """The words of every sentence in these files, as the taggers and the pipeline will see them.

    `.tsv`: MAFAND-style parallel text (header row, source and target columns), raw sentences,
    each split both on whitespace and by the pipeline's tokeniser (which separates punctuation);
    `.txt`/`.conll`/`.iob`/`.bio`: token-per-line NER files; anything else: one sentence a line.
    """
    from core.data.formats import read_conll, read_lines, read_mafand_tsv, read_text
    from core.data.tokenize import Tokenizer, regex_tokenize

    if tsv_side not in TSV_SIDES:
        raise ConfigError(f"tsv side must be one of {', '.join(TSV_SIDES)}, not {tsv_side!r}")
    words: list[list[str]] = []

    def add_text(text: str, tokenizer: Tokenizer | None = None) -> None:
        # Every way this text may reach a tagger: as raw words, and as the pipeline's tokens.
        words.append(text.split())
        words.append(regex_tokenize(text))
        if tokenizer is not None and tokenizer.backend != "regex":
            words.append(tokenizer(text))

    for path in map(Path, paths):
        suffix = path.suffix.lower()
        if suffix == ".tsv":
            header = read_text(path).split("\n", 1)[0].strip().split("\t")
            source_tok, target_tok = (Tokenizer(lang.strip()) for lang in (header + ["xx"])[:2])
            for source, target in read_mafand_tsv(path):
                if tsv_side in ("both", "source"):
                    add_text(source, source_tok)
                if tsv_side in ("both", "target"):
                    add_text(target, target_tok)
        elif suffix in CONLL_SUFFIXES:
            words.extend(sentence.tokens for sentence in read_conll(path))
        else:
            for line in read_lines(path):
                add_text(line)
    return [w for w in words if w]


def _has_pooler(folder: Path) -> bool:
    from safetensors import safe_open

    files = sorted(folder.glob("*.safetensors"))
    for path in files:
        with safe_open(str(path), "pt") as weights:
            if any("pooler" in key for key in weights.keys()):  # noqa: SIM118 - not a dict
                return True
    return not files  # weights in another format: leave the model as it is


def compact_folder(
    source: Path | str,
    output: Path | str,
    *,
    layers: int | None = None,
    dtype: str = "float16",
    keep_texts: Iterable[Sequence[str]] | None = None,
    force: bool = False,
    meta: dict | None = None,
) -> dict:
    """Write the compact copy of the encoder folder `source` to `output` (built beside it and
    renamed into place); returns what was kept. `keep_texts` (word lists) cuts the vocabulary to
    the pieces they need plus the special tokens; None keeps it whole."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from core.models import MARKER, staged_folder
    from core.models.trim import keep_first_layers, trim_vocabulary, used_ids

    if dtype not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    output = Path(output)
    if output.exists() and not force:
        raise ConfigError(f"output folder {output} exists (use --force to replace it)")
    total = AutoConfig.from_pretrained(source).num_hidden_layers
    if layers is not None and not 1 <= layers <= total:  # checked before the weights are read
        raise ConfigError(f"layers must be between 1 and {total}, not {layers}")
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source, dtype=torch.float32)
    if getattr(model, "pooler", None) is not None and not _has_pooler(Path(source)):
        model.pooler = None  # freshly initialised by from_pretrained: not worth carrying
    full_layers = model.config.num_hidden_layers
    full_vocab = model.get_input_embeddings().weight.shape[0]
    if layers is not None:
        keep_first_layers(model, layers, str(source))
    if keep_texts is not None:
        trimmed = trim_vocabulary(
            tokenizer, model, used_ids(tokenizer, keep_texts), single_characters=False
        )
        if trimmed is None:
            raise ConfigError(f"{source}: only Unigram and WordPiece vocabularies can be cut")
        tokenizer, model = trimmed
    model = model.to(getattr(torch, dtype))
    summary = {
        "source": str(source),
        "layers": model.config.num_hidden_layers,
        "source_layers": full_layers,
        "pieces": model.get_input_embeddings().weight.shape[0],
        "source_pieces": full_vocab,
        "stored_dtype": dtype,
        **(meta or {}),
    }
    with staged_folder(output) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        # Loaded back as float32: from_pretrained's default dtype follows the config.
        config_path = tmp / "config.json"
        config = json.loads(config_path.read_text("utf-8"))
        for key in ("dtype", "torch_dtype"):
            if key in config:
                config[key] = "float32"
        config_path.write_text(json.dumps(config, indent=2), "utf-8")
        summary["bytes"] = sum(p.stat().st_size for p in tmp.iterdir() if p.is_file())
        source_marker = Path(source) / MARKER
        marker = json.loads(source_marker.read_text("utf-8")) if source_marker.exists() else {}
        marker["compact"] = summary
        (tmp / MARKER).write_text(json.dumps(marker, indent=2), "utf-8")
        summary["bytes"] += (tmp / MARKER).stat().st_size
        for path in tmp.iterdir():
            path.chmod(0o644)  # the safetensors writer makes its file private
    return summary
