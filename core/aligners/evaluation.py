"""Word-alignment quality against gold links: AER (Och & Ney 2003), precision, recall, F1.

Gold sets come as `NAME.src-tgt` (`SRC ||| TGT`) + `NAME.gold` (1-indexed `i-j` sure, `ipj`
possible), or in the WPT-05 shared-task format (Martin et al. 2005; English-Hindi,
English-Inuktitut, Romanian-English): two sentence files of `<s snum=N> tokens </s>` lines and a
link file of `N i j [S|P] [confidence]` lines, 1-indexed, 0 meaning NULL (not a link), S if the
kind is missing. Tokens are separated by ASCII spaces only in both formats, so a token holding an
ideographic space (U+3000) or a no-break space stays one token.

With predicted links A, sure gold links S and possible gold links P (S is a subset of P):
precision = |A & P| / |A|, recall = |A & S| / |S|, AER = 1 - (|A & S| + |A & P|) / (|A| + |S|).
Counts are summed over the corpus before dividing, as in the usual evaluation scripts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from core.aligners.base import Aligner, TokenPair
from core.data.formats import (
    GoldAlignment,
    PathLike,
    ascii_split,
    nfc,
    read_gold_alignment,
    read_src_tgt,
    read_text,
    text_lines,
)
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
        _check_inside(source, target, reference, gold, number)
    return GoldSet(name or Path(src_tgt).name.split(".")[0], pairs, links)


def _check_inside(
    source: list[str],
    target: list[str],
    reference: GoldAlignment,
    path: PathLike,
    line: int | None = None,
    sentence: str = "",
) -> None:
    """Every gold link must point at tokens of its pair (the token counts tell a tokenisation
    mismatch from a shifted file)."""
    for i, j in sorted(reference.possible):
        if i >= len(source) or j >= len(target):
            where = f"sentence {sentence}: " if sentence else ""
            raise InputError(
                f"{where}gold link {i + 1}-{j + 1} is outside the pair "
                f"({len(source)} source, {len(target)} target tokens)",
                path,
                line,
            )


# --------------------------------------------------------------------------- WPT-05

_WPT_SENTENCE = re.compile(r"<s\s+snum\s*=\s*[\"']?([^\s\"'>]+)[\"']?\s*>(.*)</s>")


def _snum(text: str) -> str:
    """Sentence numbers are compared as numbers where they are numbers (`0007` is `7`)."""
    return str(int(text)) if text.isdigit() else text


def read_wpt_sentences(path: PathLike) -> dict[str, list[str]]:
    """A WPT-05 sentence file: `<s snum=N> tokens </s>` per line -> {N: tokens}, in file order."""
    sentences: dict[str, list[str]] = {}
    for number, line in enumerate(text_lines(read_text(path)), 1):
        if not line.strip():
            continue
        match = _WPT_SENTENCE.fullmatch(line.strip(" \t"))
        if match is None:
            raise InputError(
                "expected '<s snum=N> tokens </s>' (a WPT-05 sentence line)", path, number
            )
        key = _snum(match.group(1))
        if key in sentences:
            raise InputError(f"sentence number {match.group(1)} repeats", path, number)
        sentences[key] = ascii_split(nfc(match.group(2)))
    if not sentences:
        raise InputError("no sentences found (file is empty)", path)
    return sentences


def read_wpt_links(path: PathLike) -> dict[str, GoldAlignment]:
    """A WPT-05 link file: `N i j [S|P] [confidence]` per line, 1-indexed, 0 = NULL (skipped)."""
    sure: dict[str, set[tuple[int, int]]] = {}
    possible: dict[str, set[tuple[int, int]]] = {}
    for number, line in enumerate(text_lines(read_text(path)), 1):
        fields = ascii_split(line)
        if not fields:
            continue
        if not 3 <= len(fields) <= 5:
            raise InputError(
                f"expected 'SENTENCE I J [S|P] [CONFIDENCE]', found {len(fields)} fields",
                path,
                number,
            )
        kind = fields[3].upper() if len(fields) > 3 else "S"
        if kind not in ("S", "P"):
            raise InputError(f"link kind {fields[3][:10]!r} is neither S nor P", path, number)
        try:
            i, j = int(fields[1]), int(fields[2])
        except ValueError:
            raise InputError("token positions must be whole numbers", path, number) from None
        if i < 0 or j < 0:
            raise InputError("negative token position", path, number)
        key = _snum(fields[0])
        sure.setdefault(key, set())
        possible.setdefault(key, set())
        if i == 0 or j == 0:
            continue  # aligned to NULL: no link
        possible[key].add((i - 1, j - 1))
        if kind == "S":
            sure[key].add((i - 1, j - 1))
    return {key: GoldAlignment(frozenset(sure[key]), frozenset(possible[key])) for key in possible}


def read_wpt_gold_set(
    source: PathLike, target: PathLike, links: PathLike, name: str | None = None
) -> GoldSet:
    """A WPT-05 gold set: the source and target sentence files and the link file (positions in
    the link file are source then target). Sentences are taken in the source file's order."""
    sources, targets = read_wpt_sentences(source), read_wpt_sentences(target)
    if set(sources) != set(targets):
        missing = sorted(set(sources) ^ set(targets), key=lambda k: (len(k), k))[:5]
        raise InputError(
            f"the sentence files hold different sentence numbers (e.g. {', '.join(missing)}) "
            f"than {target}",
            source,
        )
    gold = read_wpt_links(links)
    unknown = sorted(set(gold) - set(sources), key=lambda k: (len(k), k))
    if unknown:
        raise InputError(
            f"links for sentence {unknown[0]}, which is not in {source}"
            + (f" ({len(unknown)} such sentences)" if len(unknown) > 1 else ""),
            links,
        )
    empty = GoldAlignment(frozenset(), frozenset())
    pairs = [(sources[key], targets[key]) for key in sources]
    references = [gold.get(key, empty) for key in sources]
    for key, (src, tgt), reference in zip(sources, pairs, references):
        _check_inside(src, tgt, reference, links, sentence=key)
    return GoldSet(name or Path(links).name.split(".")[0], pairs, references)


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
