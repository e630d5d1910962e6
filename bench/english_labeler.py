"""The English labeler's own quality: entity F1 (PER/ORG/LOC) on CoNLL-2003 test (Reuters news)
and on Europarl-NER English (parliament proceedings; the only other English gold here) for the
offline candidates: spaCy's small model, the embedded tagger trained on CoNLL-2003 train (the
`conll-embedded` labeler: trained once, cached), their span combinations (the `union` and
`agree` labelers), and the `transformers` tagger fine-tuning a packaged encoder (e5-small) on
CoNLL-2003 train.

    nice -n 10 python bench/english_labeler.py [--epochs 10] [--encoder-sentences 2000]
        [--encoder-epochs 1] [--skip-encoder] [--encoder-model FOLDER]
        [--output bench/results/english_labeler.md]

MISC is dropped on both sides. The encoder is fine-tuned on a seeded sample of
--encoder-sentences training sentences (a CPU budget), the embedded tagger on all of them (the
epoch kept by CoNLL dev F1). `--encoder-model` scores a saved tagger instead of fine-tuning one
here, e.g. an experiment's model-transfer model (artifacts/EXPERIMENT/model-transfer/seed1/model,
the encoder fine-tuned on all of CoNLL-2003 train).
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
from core.data.tags import spans_to_tags, tags_to_spans  # noqa: E402
from core.evaluate import ner_scores  # noqa: E402
from core.labelers import CONLL_TYPES, combine_spans, get_labeler, read_conll_types  # noqa: E402
from core.taggers import get_tagger  # noqa: E402

TYPES = CONLL_TYPES


def combined(tag_lists: list[list[list[str]]], rule: str) -> list[list[str]]:
    """Sentence by sentence, the spans of several labelers' tags combined by `rule`."""
    out = []
    for per_labeler in zip(*tag_lists):
        spans = combine_spans([tags_to_spans(t) for t in per_labeler], rule)
        out.append(spans_to_tags(spans, len(per_labeler[0])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared/data"))
    )
    parser.add_argument("--epochs", type=int, default=10, help="embedded tagger epochs")
    parser.add_argument("--encoder", default="e5-small")
    parser.add_argument("--encoder-sentences", type=int, default=2000)
    parser.add_argument("--encoder-epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-encoder", action="store_true")
    parser.add_argument("--encoder-model", type=Path, help="a saved tagger folder to score")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    folder = args.data / "conll2003_en"
    sets = {
        "CoNLL-2003 test": read_conll_types(folder / "test.txt"),
        "Europarl-NER en": read_conll_types(args.data / "europarl_ner" / "en.test.conll02"),
    }
    lines = [
        f"machine: {machine()}",
        *(f"{name}: {len(s)} sentences, PER/ORG/LOC (MISC dropped)" for name, s in sets.items()),
        "",
        "| labeler | trained on | train s | "
        + " | ".join(f"{name} F1 | P | R" for name in sets)
        + " |",
        "|---|---|---:|" + "---:|---:|---:|" * len(sets),
    ]
    predictions: dict[str, dict[str, list[list[str]]]] = {}

    def row(name: str, trained_on: str, seconds: float, labels) -> None:  # noqa: ANN001
        """`labels`: tag lists per test set name."""
        predictions[name] = labels
        cells = []
        for set_name, sentences in sets.items():
            scores = ner_scores([s.tags for s in sentences], labels[set_name], types=TYPES)
            cells.append(f"{scores['f1']:.3f} | {scores['precision']:.3f} | {scores['recall']:.3f}")
        lines.append(f"| {name} | {trained_on} | {seconds:.0f} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)

    def label_all(labeler) -> dict[str, list[list[str]]]:  # noqa: ANN001
        return {name: labeler.label([s.tokens for s in ss]) for name, ss in sets.items()}

    row(
        "spaCy en_core_web_sm",
        "OntoNotes (as shipped)",
        0,
        label_all(get_labeler("spacy", types=TYPES)),
    )

    started = time.perf_counter()
    embedded = get_labeler("conll-embedded", epochs=args.epochs, seed=args.seed, types=TYPES)
    row(
        "conll-embedded (embedded tagger)",
        f"CoNLL-2003 train ({args.epochs} epochs, best on dev)",
        time.perf_counter() - started,  # 0-ish when the cached model was reused
        label_all(embedded),
    )
    for rule, order in (
        ("union", ["conll-embedded (embedded tagger)", "spaCy en_core_web_sm"]),
        ("union", ["spaCy en_core_web_sm", "conll-embedded (embedded tagger)"]),
        ("agree", ["conll-embedded (embedded tagger)", "spaCy en_core_web_sm"]),
    ):
        first, second = (name.split(" ")[0] for name in order)
        row(
            f"{rule}: {first}, then {second}"
            if rule == "union"
            else f"agree: {first} and {second}",
            "(the two above)",
            0,
            {s: combined([predictions[n][s] for n in order], rule) for s in sets},
        )

    if args.encoder_model is not None:
        from core.taggers import load_tagger

        tagger = load_tagger(args.encoder_model)
        job = args.encoder_model.parent / "job.json"  # an experiment run's record, if there
        trained_on = "(a saved tagger)"
        if job.exists():
            import json

            config = json.loads(job.read_text())["config"]
            train = Path(config["train"][0]["path"])
            trained_on = f"{train.parent.name}/{train.name} ({config.get('epochs')} epochs)"
        row(
            f"{tagger.name} (saved: {args.encoder_model})",
            trained_on,
            0,
            {name: tagger.predict([s.tokens for s in ss]) for name, ss in sets.items()},
        )
    elif not args.skip_encoder:
        train = read_conll_types(folder / "train.txt")
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
            {name: tagger.predict([s.tokens for s in ss]) for name, ss in sets.items()},
        )
    report = "\n".join(lines)
    print(report)
    if args.output:
        from core.data.formats import atomic_write

        with atomic_write(args.output) as handle:
            handle.write(report + "\n")


if __name__ == "__main__":
    main()
