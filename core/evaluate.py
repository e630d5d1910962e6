"""Entity-level evaluation with seqeval (the CoNLL convention), overall and per type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.data.tags import map_tags


def restrict_types(tags: Sequence[str], types: Iterable[str] | None) -> list[str]:
    """Turn entities of types outside `types` into O (e.g. MasakhaNER scoring without DATE)."""
    return list(tags) if types is None else map_tags(tags, keep=types)


def ner_scores(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    types: Iterable[str] | None = None,
) -> dict:
    """Micro P/R/F1 over entities (seqeval), plus `per_type`; `types` filters both sides."""
    from seqeval.metrics import classification_report

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    types = list(types) if types is not None else None
    g = [restrict_types(t, types) for t in gold]
    p = [restrict_types(t, types) for t in pred]
    for n, (a, b) in enumerate(zip(g, p)):
        if len(a) != len(b):
            raise ValueError(f"sentence {n}: {len(a)} gold tags but {len(b)} predicted")
    report = classification_report(g, p, output_dict=True, zero_division=0)
    micro = report.get(
        "micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    )
    per_type = {
        name: {
            "precision": float(v["precision"]),
            "recall": float(v["recall"]),
            "f1": float(v["f1-score"]),
            "support": int(v["support"]),
        }
        for name, v in report.items()
        if not name.endswith(" avg")
    }
    return {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "support": int(micro["support"]),
        "per_type": per_type,
    }
