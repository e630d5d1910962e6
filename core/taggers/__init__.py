"""NER taggers behind one interface (core.taggers.base.Tagger), selected by name:
`embedded` (from scratch, CPU) and `transformers` (AutoModelForTokenClassification)."""

from __future__ import annotations

import importlib

from core.taggers.base import (
    TAGGERS,
    Callbacks,
    CheckpointError,
    Example,
    Tagger,
    TrainingCancelled,
    load_tagger,
)

_BACKENDS = ("core.taggers.embedded", "core.taggers.transformers_tagger")


def load_backends() -> None:
    for module in _BACKENDS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                raise
            # a missing optional dependency (e.g. transformers): that backend stays unknown


def get_tagger(name: str, **params: object) -> Tagger:
    load_backends()
    return TAGGERS.create(name, **params)


__all__ = [
    "TAGGERS",
    "Callbacks",
    "CheckpointError",
    "Example",
    "Tagger",
    "TrainingCancelled",
    "get_tagger",
    "load_backends",
    "load_tagger",
]
