"""The projection paper's heuristic, re-implemented for timing (not used by xner itself).

The paper (Politov, Shkalikov, Jäkel, Färber, NoDaLiDa 2025) projects with the heuristic of
García-Ferrero et al. (2022); the authors' function is `match_entities_based_on_word_alignments`
(the code search finds it beside the co-author's thesis repository ShkalikovOleh/master-thesis,
which carries no licence file, so it is not copied here). This module does the same work in the
same way, written from its published behaviour, so that it can stand in for it in benchmarks:

1. an index, for every word of the entity side (the English translation), of the words of the
   labelled side aligned to it, built by scanning all links once per word (as the original does);
2. per entity, candidate ranges grown word by word: an aligned word inside a range is absorbed,
   one right after or right before it extends it, any other starts a new range;
3. ranges sorted by start and merged when the gap between them is at most `merge_distance`
   words, whether or not the gap words are aligned elsewhere;
4. every range whose length ratio to the entity exceeds `length_ratio_threshold` is labelled, in
   entity order (a later entity overwrites an earlier one's tags; no collision handling).

Its output was checked label for label against the original function on all 9,746 rows of
../shared/bench/fixture_yor.json.gz, and its speed against the original's in the same runs
(bench/projection_step.py reports both when `--original FILE` points at a local copy).
"""

from __future__ import annotations

from collections.abc import Sequence


def project_labels(
    labelled_words: Sequence[str],
    entity_words: Sequence[str],
    entities: Sequence[dict],
    links: Sequence[tuple[int, int]],
    length_ratio_threshold: float = 0.8,
    merge_distance: int = 1,
) -> list[str]:
    """IOB2 labels for `labelled_words`; `entities` are dicts with start_idx, end_idx (exclusive)
    and label over `entity_words`; `links` are (labelled word, entity word) index pairs."""
    labels = ["O"] * len(labelled_words)
    aligned_to = [[link[0] for link in links if link[1] == k] for k in range(len(entity_words))]
    for entity in entities:
        first, last = entity["start_idx"], entity["end_idx"]
        size = last - first
        ranges = grow_ranges(first, last, aligned_to)
        if merge_distance > 0 and ranges:
            ranges = merge_ranges(ranges, merge_distance)
        for start, end in ranges:
            if (end - start) / size > length_ratio_threshold:
                labels[start] = "B-" + entity["label"]
                for k in range(start + 1, end):
                    labels[k] = "I-" + entity["label"]
    return labels


def grow_ranges(first: int, last: int, aligned_to: Sequence[Sequence[int]]) -> list[list[int]]:
    """Ranges of labelled words aligned to entity words first..last-1, grown word by word."""
    ranges: list[list[int]] = []
    for k in range(first, last):
        for word in aligned_to[k]:
            placed = False
            for r in ranges:
                if r[0] <= word < r[1]:
                    placed = True
                elif word == r[1]:
                    r[1] += 1
                    placed = True
                elif word == r[0] - 1:
                    r[0] -= 1
                    placed = True
            if not placed:
                ranges.append([word, word + 1])
    return ranges


def merge_ranges(ranges: list[list[int]], merge_distance: int) -> list[list[int]]:
    """Join consecutive ranges (by start) whose gap is at most `merge_distance` words."""
    ordered = sorted(ranges, key=lambda r: r[0])
    merged = [ordered[0]]
    for r in ordered[1:]:
        if r[0] - merged[-1][1] > merge_distance:
            merged.append(r)
        else:
            merged[-1][1] = r[1]
    return merged
