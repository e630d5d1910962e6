"""Word-alignment quality against gold links: AER (Och & Ney 2003), precision, recall, F1.

With predicted links A, sure gold links S and possible gold links P (S is a subset of P):
precision = |A & P| / |A|, recall = |A & S| / |S|, AER = 1 - (|A & S| + |A & P|) / (|A| + |S|).
Counts are summed over the corpus before dividing, as in the usual evaluation scripts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from core.aligners.base import Aligner, TokenPair
from core.data.formats import GoldAlignment, read_gold_alignment, read_src_tgt
from core.data.types import Alignment, Link
from core.errors import InputError


@dataclass
class AlignmentScores:
    aer: float
    precision: float
    recall: float
    f1: float
    pairs: int
    predicted: int  # |A|
    sure: int  # |S|
    possible: int  # |P| (sure links included)
    sure_hits: int  # |A & S|
    possible_hits: int  # |A & P|

    def to_dict(self) -> dict:
        return asdict(self)


def _links(alignment: Alignment | Iterable[Link]) -> frozenset[Link]:
    return alignment.links if isinstance(alignment, Alignment) else frozenset(alignment)


def alignment_scores(
    predicted: Sequence[Alignment | Iterable[Link]], gold: Sequence[GoldAlignment]
) -> AlignmentScores:
    """Corpus-level AER / precision / recall / F1 of `predicted` against `gold`, pair by pair."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted alignments but {len(gold)} gold ones")
    n_a = n_s = n_p = a_s = a_p = 0
    for alignment, reference in zip(predicted, gold):
        links = _links(alignment)
        n_a += len(links)
        n_s += len(reference.sure)
        n_p += len(reference.possible)
        a_s += len(links & reference.sure)
        a_p += len(links & reference.possible)
    precision = a_p / n_a if n_a else 0.0
    recall = a_s / n_s if n_s else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    aer = 1.0 - (a_s + a_p) / (n_a + n_s) if n_a + n_s else 0.0
    return AlignmentScores(aer, precision, recall, f1, len(gold), n_a, n_s, n_p, a_s, a_p)


@dataclass
class GoldSet:
    """A gold alignment test set: tokenised pairs and their gold links."""

    name: str
    pairs: list[tuple[list[str], list[str]]]
    gold: list[GoldAlignment]


def read_gold_set(src_tgt: str | Path, gold: str | Path, name: str | None = None) -> GoldSet:
    """A `SRC ||| TGT` file and its gold links; counts and link indices are checked."""
    pairs = read_src_tgt(src_tgt)
    links = read_gold_alignment(gold)
    # A gold file may end with empty lines for nothing; extra non-empty lines are an error.
    while len(links) > len(pairs) and not links[-1].possible:
        links.pop()
    if len(links) != len(pairs):
        raise InputError(
            f"{len(links)} gold alignments for {len(pairs)} sentence pairs in {src_tgt}", gold
        )
    for number, ((source, target), reference) in enumerate(zip(pairs, links), 1):
        for i, j in sorted(reference.possible):
            if i >= len(source) or j >= len(target):
                raise InputError(
                    f"gold link {i + 1}-{j + 1} is outside the pair "
                    f"({len(source)} source, {len(target)} target tokens)",
                    gold,
                    number,
                )
    return GoldSet(name or Path(src_tgt).name.split(".")[0], pairs, links)


def find_gold_sets(folder: str | Path) -> list[GoldSet]:
    """Every `NAME.src-tgt` + `NAME.gold` in `folder` or its direct subfolders (sorted by name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("gold folder not found", folder)
    found = sorted(folder.glob("*.src-tgt")) or sorted(folder.glob("*/*.src-tgt"))
    sets = []
    for src_tgt in found:
        gold = src_tgt.with_suffix(".gold")
        if gold.exists():
            sets.append(read_gold_set(src_tgt, gold))
    if not sets:
        raise InputError("no NAME.src-tgt with a matching NAME.gold found here", folder)
    return sets


def evaluate_aligner(
    aligner: Aligner,
    gold_set: GoldSet,
    extra: Sequence[TokenPair] = (),
    progress: bool = False,
) -> dict:
    """Align the gold set's pairs (statistical aligners also train on `extra`) and score them."""
    started = time.perf_counter()
    predicted = aligner.align(gold_set.pairs, extra=extra, progress=progress)
    scores = alignment_scores(predicted, gold_set.gold).to_dict()
    scores.update(set=gold_set.name, seconds=round(time.perf_counter() - started, 3))
    return scores
