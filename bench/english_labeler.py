"""The English labeler's own quality: entity F1 (PER/ORG/LOC) on CoNLL-2003 test for the offline
candidates: spaCy's small model, the embedded tagger trained on CoNLL-2003 train, and the
`transformers` tagger fine-tuning a packaged encoder (e5-small) on CoNLL-2003 train.

    nice -n 10 python bench/english_labeler.py [--encoder-sentences 2000] [--encoder-epochs 1]
        [--skip-encoder] [--output bench/results/english_labeler.md]

MISC is dropped on both sides. The encoder is fine-tuned on a seeded sample of
--encoder-sentences training sentences (a CPU budget), the embedded tagger on all of them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.alignment import machine  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.data.tags import map_tags  # noqa: E402
from core.data.types import Sentence  # noqa: E402
from core.evaluate import ner_scores  # noqa: E402
from core.labelers import get_labeler  # noqa: E402
from core.taggers import get_tagger  # noqa: E402

TYPES = ("PER", "ORG", "LOC")


def load(path: Path) -> list[Sentence]:
    return [
        Sentence(s.tokens, map_tags(s.tags, keep=TYPES), s.id, "en")
        for s in read_conll(path)
        if s.tokens
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared/data"))
    )
    parser.add_argument("--encoder", default="e5-small")
    parser.add_argument("--encoder-sentences", type=int, default=2000)
    parser.add_argument("--encoder-epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-encoder", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    folder = args.data / "conll2003_en"
    train, test = load(folder / "train.txt"), load(folder / "test.txt")
    gold = [s.tags for s in test]
    tokens = [s.tokens for s in test]
    lines = [
        f"machine: {machine()}",
        f"CoNLL-2003 English test: {len(test)} sentences, PER/ORG/LOC (MISC dropped)",
        "",
        "| labeler | trained on | train s | F1 | P | R |",
        "|---|---|---:|---:|---:|---:|",
    ]

    def row(name: str, trained_on: str, seconds: float, predicted) -> None:  # noqa: ANN001
        scores = ner_scores(gold, predicted, types=TYPES)
        lines.append(
            f"| {name} | {trained_on} | {seconds:.0f} | {scores['f1']:.3f} | "
            f"{scores['precision']:.3f} | {scores['recall']:.3f} |"
        )
        print(lines[-1], flush=True)

    row(
        "spaCy en_core_web_sm",
        "OntoNotes (as shipped)",
        0,
        get_labeler("spacy", types=TYPES).label(tokens),
    )

    embedded = get_tagger("embedded", types=TYPES)
    summary = embedded.fit(train, seed=args.seed)
    row(
        "embedded tagger",
        f"CoNLL-2003 train ({len(train)})",
        summary["seconds"],
        embedded.predict(tokens),
    )

    if not args.skip_encoder:
        sample = random.Random(args.seed).sample(train, min(args.encoder_sentences, len(train)))
        tagger = get_tagger(
            "transformers",
            model=args.encoder,
            types=TYPES,
            epochs=args.encoder_epochs,
            threads=args.threads,
            max_length=128,
        )
        started = time.perf_counter()
        tagger.fit(sample, seed=args.seed)
        row(
            f"transformers {args.encoder}",
            f"CoNLL-2003 train sample ({len(sample)}, {args.encoder_epochs} epoch)",
            time.perf_counter() - started,
            tagger.predict(tokens),
        )
    report = "\n".join(lines)
    print(report)
    if args.output:
        from core.data.formats import atomic_write

        with atomic_write(args.output) as handle:
            handle.write(report + "\n")


if __name__ == "__main__":
    main()
