"""Projection F1 against chunk size, and the heuristic's gap rule, on Europarl-NER + FLORES.

    python bench/streaming.py [--repeats 3] [--chunk-sizes 350 700 1400 2808] [--json OUT]

The corpus is the 799 Europarl-NER sentence pairs (en->de, en->es, gold entities on both sides)
plus the 2,009 FLORES dev+devtest pairs, shuffled once (seed 0); it is cut into chunks of N
pairs and eflomal (xner's defaults) aligns each chunk on its own, as `xner project
--chunk-size N` does without --extra-parallel. The gold English entities of the Europarl pairs
are projected (candidates-greedy, the default method) and scored against the gold target
entities. eflomal samples, so each setting is repeated and reported as mean ± std.

The same alignments (whole corpus) also score the heuristic with `only_unaligned_gaps` on and
off, paired: same links, only the gap rule differs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.projection import machine  # noqa: E402
from core.aligners import get_aligner  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.data.tokenize import tokenize_parallel  # noqa: E402
from core.data.types import Sentence, SentencePair  # noqa: E402
from core.evaluate import ner_scores  # noqa: E402
from core.pipelines.chunks import chunked  # noqa: E402
from core.pipelines.steps import align_pairs, project_pairs  # noqa: E402
from core.projection import get_projector  # noqa: E402

DATA = Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data"))


def corpus(lang: str, flores_lang: str) -> tuple[list[SentencePair], list[list[str]]]:
    """Shuffled pairs (Europarl ones carry gold English tags) and the gold target tags."""
    europarl = DATA / "europarl_ner"
    english = read_conll(europarl / "en.test.conll02")
    target = read_conll(europarl / f"{lang}.test.conll02")
    pairs = [
        SentencePair(s, Sentence(t.tokens, None, id=f"e{k}"), None, id=f"e{k}")
        for k, (s, t) in enumerate(zip(english, target))
    ]
    gold = {f"e{k}": t.tags for k, t in enumerate(target)}
    flores = DATA / "flores200"
    for split in ("dev", "devtest"):
        extra = tokenize_parallel(
            flores / split / f"eng.{split}", flores / split / f"{flores_lang}.{split}", "en", lang
        )
        for k, (s, t) in enumerate(extra):
            pid = f"f{split}{k}"
            pairs.append(SentencePair(Sentence(s, None, id=pid), Sentence(t, None), None, id=pid))
    random.Random(0).shuffle(pairs)
    return pairs, gold


def scored(pairs: list[SentencePair], gold: dict, projector_name: str, **params) -> float:
    europarl = [p for p in pairs if p.id.startswith("e")]
    projections = project_pairs(europarl, get_projector(projector_name, **params))
    return ner_scores([gold[p.id] for p in europarl], [p.target_tags() for p in projections])["f1"]


def align_in_chunks(pairs: list[SentencePair], chunk_size: int) -> None:
    for chunk in chunked(pairs, chunk_size):
        align_pairs(chunk, get_aligner("eflomal"))


def mean_std(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[350, 700, 1400, 2808])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    results: dict = {"chunks": {}, "gaps": {}}
    started = time.perf_counter()
    for lang, flores_lang in (("de", "deu"), ("es", "spa")):
        pairs, gold = corpus(lang, flores_lang)
        for size in args.chunk_sizes:
            f1s = []
            for _ in range(args.repeats):
                align_in_chunks(pairs, size)
                f1s.append(scored(pairs, gold, "candidates-greedy"))
                if size >= len(pairs):
                    for gaps in (True, False):
                        f1 = scored(pairs, gold, "heuristic", only_unaligned_gaps=gaps)
                        results["gaps"].setdefault(lang, {}).setdefault(str(gaps), []).append(f1)
            results["chunks"].setdefault(lang, {})[size] = f1s
            print(f"{lang} chunk {size}: F1 {mean_std(f1s)} ({f1s})", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}; {time.perf_counter() - started:.0f} s")
    sizes = args.chunk_sizes
    print(
        "\n| chunk size (pairs aligned together) | "
        + " | ".join(f"{s:,}" for s in sizes)
        + " |\n|---|"
        + "---:|" * len(sizes)
    )
    for lang in ("de", "es"):
        row = [mean_std(results["chunks"][lang][s]) for s in sizes]
        print(f"| Europarl {lang}, candidates-greedy F1 | " + " | ".join(row) + " |")
    if results["gaps"]:
        print("\n| heuristic, same alignments | de | es |\n|---|---:|---:|")
        for gaps in ("True", "False"):
            cells = [mean_std(results["gaps"][lang][gaps]) for lang in ("de", "es")]
            print(f"| only_unaligned_gaps={gaps} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
