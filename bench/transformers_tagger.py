"""Fine-tuning a pretrained encoder (the `transformers` tagger) on a CPU budget vs the embedded
tagger: training and inference tokens/s, and F1 on MasakhaNER 2.0 yor dev (PER/ORG/LOC).

    nice -n 10 python bench/transformers_tagger.py [--train projected|masakhaner]
        [--sentences 2000] [--epochs 1] [--model e5-small] [--threads 2] [--skip-embedded]
        [--output bench/results/transformers_tagger.md]

--train projected: Yoruba sentences labelled by projection: the fixed MAFAND en-yor benchmark
input (../shared/bench/fixture_yor.json.gz: spaCy English entities, eflomal intersection links),
projected with candidates-greedy (the method chosen on yor dev for the flagship), DATE dropped.
--train masakhaner: MasakhaNER yor train (gold labels; an upper bound, not a projection result).
Both taggers get the same sentences (a seeded sample of --sentences); the embedded tagger keeps
its own default epochs. Tokens are words; words/CPU-s divides by the process's CPU time (all
threads), which says more than wall time on a shared machine. The transformers tagger's
vocabulary is trimmed to the pieces of the train + dev words (core.models.trim).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.alignment import machine  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.data.tags import map_tags, spans_to_tags  # noqa: E402
from core.data.types import Alignment, Sentence, SentencePair, Span  # noqa: E402
from core.evaluate import ner_scores  # noqa: E402
from core.pipelines.steps import project_pairs  # noqa: E402
from core.projection import get_projector  # noqa: E402
from core.taggers import get_tagger  # noqa: E402

TYPES = ("PER", "ORG", "LOC")


def projected_yor(fixture: Path) -> list[Sentence]:
    with gzip.open(fixture, "rt", encoding="utf-8") as handle:
        rows = json.load(handle)["rows"]
    pairs = []
    for n, row in enumerate(rows):
        spans = [Span(s, e, label) for s, e, label in row["entities"] if label in TYPES]
        source = Sentence(row["src"], spans_to_tags(spans, len(row["src"])), str(n), "en")
        target = Sentence(row["tgt"], None, str(n), "yo")
        alignment = Alignment(frozenset((int(i), int(j)) for i, j in row["links"]))
        pairs.append(SentencePair(source, target, alignment, id=str(n)))
    projections = project_pairs(pairs, get_projector("candidates-greedy"))
    return [
        Sentence(pair.target.tokens, projection.target_tags(), pair.id, "yo")
        for pair, projection in zip(pairs, projections, strict=True)
    ]


def score(tagger, dev: list[Sentence]) -> tuple[float, float]:  # noqa: ANN001
    started = time.perf_counter()
    predicted = tagger.predict([s.tokens for s in dev])
    seconds = time.perf_counter() - started
    f1 = ner_scores([s.tags for s in dev], predicted, types=TYPES)["f1"]
    return float(f1), sum(len(s) for s in dev) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", choices=("projected", "masakhaner"), default="projected")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--model", default="e5-small")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument(
        "--dev-limit", type=int, default=None, help="score the first N dev sentences"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared/data"))
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    if args.train == "projected":
        train = projected_yor(args.data.parent / "bench" / "fixture_yor.json.gz")
        source = "MAFAND en-yor projected (candidates-greedy over eflomal intersection links)"
    else:
        train = read_conll(args.data / "masakhaner2" / "yor" / "train.txt")
        source = "MasakhaNER yor train (gold; upper-bound sanity check)"
    train = [
        Sentence(s.tokens, map_tags(s.tags, keep=TYPES), s.id, "yo") for s in train if s.tokens
    ]
    train = random.Random(args.seed).sample(train, min(args.sentences, len(train)))
    dev = [
        Sentence(s.tokens, map_tags(s.tags, keep=TYPES), s.id, "yo")
        for s in read_conll(args.data / "masakhaner2" / "yor" / "dev.txt")
    ][: args.dev_limit]
    n_words = sum(len(s) for s in train)
    lines = [
        f"machine: {machine()}",
        f"train: {source}; {len(train)} sentences, {n_words} words (seed {args.seed})",
        f"dev: MasakhaNER 2.0 yor dev (first {len(dev)} sentences), PER/ORG/LOC",
        "",
        "| tagger | epochs | train s | train words/s | train words/CPU-s | infer words/s | dev F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    runs = [
        (
            f"transformers {args.model}",
            get_tagger(
                "transformers",
                model=args.model,
                types=TYPES,
                epochs=args.epochs,
                threads=args.threads,
                batch_size=args.batch_size,
                lr=args.lr,
                max_length=args.max_length,
            ),
            args.epochs,
        )
    ]
    if not args.skip_embedded:
        runs.append(("embedded (defaults)", get_tagger("embedded", types=TYPES), None))
    for name, tagger, epochs in runs:
        cpu_before = time.process_time()
        summary = tagger.fit(train, epochs=epochs, seed=args.seed)
        cpu_seconds = time.process_time() - cpu_before
        f1, infer_rate = score(tagger, dev)
        print(name, json.dumps(summary), f"dev F1 {f1:.4f}", flush=True)
        rate = summary.get("tokens_per_second") or n_words * summary["epochs"] / summary["seconds"]
        per_cpu = n_words * summary["epochs"] / max(cpu_seconds, 1e-9)
        lines.append(
            f"| {name} | {summary['epochs']} | {summary['seconds']:.0f} | {rate:,.0f} | "
            f"{per_cpu:,.0f} | {infer_rate:,.0f} | {f1:.3f} |"
        )
        if "vocabulary" in summary:
            lines.append(f"|   vocabulary kept: {summary['vocabulary']:,} pieces | | | | | | |")
    report = "\n".join(lines)
    print(report)
    if args.output:
        from core.data.formats import atomic_write

        with atomic_write(args.output) as handle:
            handle.write(report + "\n")


if __name__ == "__main__":
    main()
