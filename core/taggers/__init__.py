"""NER taggers behind one interface (core.taggers.base.Tagger), selected by name:
`embedded` (from scratch, CPU) and `transformers` (AutoModelForTokenClassification)."""

from __future__ import annotations

from core.taggers.base import (
    TAGGERS,
    Callbacks,
    CheckpointError,
    Example,
    Tagger,
    TrainingCancelled,
    load_tagger,
)


def get_tagger(name: str, **params: object) -> Tagger:
    return TAGGERS.create(name, **params)


__all__ = [
    "TAGGERS",
    "Callbacks",
    "CheckpointError",
    "Example",
    "Tagger",
    "TrainingCancelled",
    "get_tagger",
    "load_tagger",
]
