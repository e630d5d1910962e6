"""Fine-tuning a pretrained encoder (the `transformers` tagger) on a CPU budget vs the embedded
tagger, direct and distill modes: dev F1 on MasakhaNER 2.0 (PER/ORG/LOC; yor unless --lang),
training words/s (wall and per CPU-second) and inference words/s.

    nice -n 10 python bench/transformers_tagger.py [--lang yor]
        [--train projected|masakhaner|flagship]
        [--sentences 1000] [--epochs 3] [--model e5-small] [--threads 1] [--layers 6]
        [--lr 1e-4] [--head-lr X] [--o-weight X] [--soft-loss mse|kl] [--modes direct,distill]
        [--unlabelled 1000]
        [--skip-embedded] [--skip-transformers] [--output bench/results/transformers_tagger.md]
        [--rows ROWS.jsonl]   # one result row per tagger and mode: `xner results ROWS.jsonl`

--train projected: Yoruba sentences labelled by projection: the fixed MAFAND en-yor benchmark
input (../shared/bench/fixture_yor.json.gz: spaCy English entities, eflomal intersection links),
projected with candidates-greedy (the method chosen on yor dev for the flagship), DATE dropped.
--train masakhaner: MasakhaNER LANG train (gold labels; an upper bound, not a projection result).
--train flagship: the flagship's own projected data for --lang (artifacts/flagship/LANG/
projected.conll, written by `xner experiment configs/flagship.yaml`; --train-file for another),
DATE dropped: the encoder as the *target* tagger on what the flagship's embedded taggers learn from.
Both taggers get the same sentences (a seeded sample of --sentences) and go through the
experiment engine's own training functions (core.training.train_direct / train_distill). Each
epoch is scored on dev and the best epoch kept, as the engine does with a dev split; the F1
reported is that kept model's. Distill: the direct model is the teacher; a fresh student of the
same kind learns its distributions on --unlabelled other MasakhaNER train sentences (labels
dropped). Options left out keep the tagger's own defaults. Tokens are words; words/CPU-s divides
by the process's CPU time (all threads), which says more than wall time on a shared machine. The
transformers tagger's vocabulary is trimmed to the pieces of its train + dev words.
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

# One thread means one: the tokenizers library would otherwise encode batches on every core.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.alignment import machine  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.data.tags import map_tags, spans_to_tags  # noqa: E402
from core.data.types import Alignment, Sentence, SentencePair, Span  # noqa: E402
from core.evaluate import ner_scores  # noqa: E402
from core.experiments.results import file_digest, make_row, make_setup  # noqa: E402
from core.pipelines.steps import project_pairs  # noqa: E402
from core.projection import get_projector  # noqa: E402
from core.training import train_direct, train_distill  # noqa: E402

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


def score(tagger, dev: list[Sentence]) -> tuple[dict, float]:  # noqa: ANN001
    """seqeval's scores over PER/ORG/LOC on `dev`, and inference words/s."""
    started = time.perf_counter()
    predicted = tagger.predict([s.tokens for s in dev])
    seconds = time.perf_counter() - started
    scores = ner_scores([s.tags for s in dev], predicted, types=TYPES)
    return scores, sum(len(s) for s in dev) / seconds


def append_row(path: Path, row: dict) -> None:
    """Add one result row to a JSONL file (rewritten whole, atomically)."""
    from core.data.formats import atomic_write

    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    with atomic_write(path) as handle:
        handle.write("".join(line + "\n" for line in [*lines, json.dumps(row)]))


def tagger_params(args: argparse.Namespace, kind: str) -> dict:
    """The options given on the command line for this kind of tagger (the rest: its defaults)."""
    if kind == "embedded":
        given = {"threads": args.threads, "o_weight": args.o_weight, "soft_loss": args.soft_loss}
    else:
        given = {
            "model": args.model,
            "threads": args.threads,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "head_lr": args.head_lr,
            "layers": args.layers,
            "max_length": args.max_length,
            "o_weight": args.o_weight,
            "soft_loss": args.soft_loss,
        }
    return {k: v for k, v in given.items() if v is not None}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="yor", help="MasakhaNER 2.0 language")
    parser.add_argument(
        "--train", choices=("projected", "masakhaner", "flagship"), default="projected"
    )
    parser.add_argument(
        "--train-file", type=Path, help="--train flagship: default artifacts/flagship/LANG/..."
    )
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3, help="transformers tagger epochs")
    parser.add_argument("--embedded-epochs", type=int, default=None)
    parser.add_argument("--model", default="e5-small")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--head-lr", type=float, default=None)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--o-weight", type=float, default=None, help="both taggers")
    parser.add_argument(
        "--soft-loss", choices=("mse", "kl"), default=None, help="distill students (both taggers)"
    )
    parser.add_argument("--modes", default="direct", help="direct, distill or direct,distill")
    parser.add_argument("--unlabelled", type=int, default=1000, help="distill: student text")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument(
        "--dev-limit", type=int, default=None, help="score the first N dev sentences"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared/data"))
    )
    parser.add_argument("--output", type=Path)
    parser.add_argument(
        "--rows", type=Path, help="append result rows (JSONL) for `xner results` to this file"
    )
    return parser


def bench_setup(
    args: argparse.Namespace,
    kind: str,
    train_file: Path,
    n_train: int,
    n_unlabelled: int,
    dev_file: Path,
    n_dev: int,
) -> dict:
    """The setup of this bench's rows (core.experiments.results): its settings, the files by
    content, not place, so that a clone elsewhere gives the same setup."""
    epochs = args.epochs if kind == "transformers" else args.embedded_epochs
    settings = {
        "bench": "bench/transformers_tagger.py",
        "tagger": kind,
        "tagger_params": tagger_params(args, kind),
        "epochs": epochs,
        "train": {"data": args.train, "sha256": file_digest(train_file), "sentences": n_train},
        "unlabelled_sentences": n_unlabelled,
        "split": "dev",
        "dev_sha256": file_digest(dev_file),
        "dev_sentences": n_dev,
    }
    label = f"{kind} on {args.train} data, {n_train} sentences"
    return make_setup(
        settings, settings, label + (f", {args.soft_loss} student" if args.soft_loss else "")
    )


def main() -> None:
    parser = make_parser()
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(modes) <= {"direct", "distill"} or "direct" not in modes:
        parser.error("--modes: direct, or direct,distill (the student's teacher is direct)")

    lang = args.lang
    if args.train == "projected" and lang != "yor":
        parser.error(
            "--train projected is the fixed yor input; --train flagship for other languages"
        )
    gold_train = read_conll(args.data / "masakhaner2" / lang / "train.txt")
    if args.train == "projected":
        train_file = args.data.parent / "bench" / "fixture_yor.json.gz"
        train = projected_yor(train_file)
        source = "MAFAND en-yor projected (candidates-greedy over eflomal intersection links)"
    elif args.train == "flagship":
        train_file = args.train_file or ROOT / "artifacts" / "flagship" / lang / "projected.conll"
        train = read_conll(train_file)
        source = f"the flagship's projected MAFAND en-{lang} data ({train_file})"
    else:
        train_file = args.data / "masakhaner2" / lang / "train.txt"
        train = gold_train
        source = f"MasakhaNER {lang} train (gold; upper-bound sanity check)"
    train = [
        Sentence(s.tokens, map_tags(s.tags, keep=TYPES), s.id, lang) for s in train if s.tokens
    ]
    train = random.Random(args.seed).sample(train, min(args.sentences, len(train)))
    taken = {tuple(s.tokens) for s in train}
    others = [s.tokens for s in gold_train if s.tokens and tuple(s.tokens) not in taken]
    unlabelled = random.Random(args.seed + 1).sample(others, min(args.unlabelled, len(others)))
    dev_file = args.data / "masakhaner2" / lang / "dev.txt"
    dev = [
        Sentence(s.tokens, map_tags(s.tags, keep=TYPES), s.id, lang) for s in read_conll(dev_file)
    ][: args.dev_limit]
    n_words = sum(len(s) for s in train)
    lines = [
        f"machine: {machine()}",
        f"train: {source}; {len(train)} sentences, {n_words} words (seed {args.seed})",
        f"distill: student text = {len(unlabelled)} other MasakhaNER {lang} train sentences, "
        f"{sum(map(len, unlabelled))} words (labels dropped)"
        if "distill" in modes
        else None,
        f"dev: MasakhaNER 2.0 {lang} dev (first {len(dev)} sentences), PER/ORG/LOC; best epoch on it",
        "",
        "| tagger | mode | options | epochs (best) | train s | CPU s | train words/s | "
        "words/CPU-s | infer words/s | dev F1 |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    kinds = [
        k
        for k, skip in (("transformers", args.skip_transformers), ("embedded", args.skip_embedded))
        if not skip
    ]
    for kind in kinds:
        params = tagger_params(args, kind)
        epochs = args.epochs if kind == "transformers" else args.embedded_epochs
        shown = ", ".join(f"{k}={v}" for k, v in params.items() if k != "threads") or "defaults"
        teacher = None
        for mode in modes:
            cpu_before = time.process_time()
            if mode == "direct":
                tagger, summary = train_direct(
                    train,
                    tagger=kind,
                    tagger_params=params,
                    types=TYPES,
                    dev=dev,
                    epochs=epochs,
                    seed=args.seed,
                )
                teacher, words = tagger, n_words
            else:
                tagger, summary = train_distill(
                    unlabelled,
                    [teacher],
                    tagger=kind,
                    tagger_params=params,
                    dev=dev,
                    epochs=epochs,
                    seed=args.seed,
                )
                words = sum(map(len, unlabelled))
            cpu_seconds = time.process_time() - cpu_before
            scores, infer_rate = score(tagger, dev)
            f1 = float(scores["f1"])
            if args.rows:
                # The results module's rows (`xner results FILE`): setups are these settings.
                setup = bench_setup(args, kind, train_file, len(train), len(unlabelled),
                                    dev_file, len(dev))  # fmt: skip
                name = f"{lang}-{kind}-{mode}-seed{args.seed}"
                config = {"lang": lang, "mode": mode, "seed": args.seed, "setup": setup}
                append_row(args.rows, make_row(name, config, scores))
            print(kind, mode, json.dumps(summary), f"dev F1 {f1:.4f}", flush=True)
            by_epoch = summary.get("dev_f1_by_epoch") or []
            # The embedded tagger keeps its best dev epoch too but does not say which.
            best = f" ({by_epoch.index(max(by_epoch)) + 1})" if by_epoch else ""
            run = summary["epochs"] * words
            lines.append(
                f"| {kind} | {mode} | {shown} | {summary['epochs']}{best} | "
                f"{summary['seconds']:.0f} | {cpu_seconds:.0f} | {run / summary['seconds']:,.0f} | "
                f"{run / max(cpu_seconds, 1e-9):,.0f} | {infer_rate:,.0f} | {f1:.3f} |"
            )
            if by_epoch:
                lines.append(f"|   dev F1 by epoch: {by_epoch} | | | | | | | | | |")
            if "vocabulary" in summary:
                lines.append(
                    f"|   vocabulary kept: {summary['vocabulary']:,} pieces | | | | | | | | | |"
                )
    report = "\n".join(line for line in lines if line is not None)
    print(report)
    if args.output:
        from core.data.formats import atomic_write

        with atomic_write(args.output) as handle:
            handle.write(report + "\n")


if __name__ == "__main__":
    main()
