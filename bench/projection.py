"""Projection benchmark: speed on MAFAND en-yor and F1 on Europarl-NER.

    python bench/projection.py [--runs 3] [--data ../shared/data] [--skip-europarl]

Prints the machine, end-to-end pairs/s (read, tokenise, align, project) on MAFAND en-yor
train+dev+test, the projection step alone in sentences/s per method, peak memory, and the
Europarl-NER table (gold English entities projected to de and es, eflomal trained on the 799
pairs plus FLORES dev+devtest). Medians over --runs runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.aligners import get_aligner  # noqa: E402
from core.data.formats import read_mafand_tsv  # noqa: E402
from core.data.tokenize import Tokenizer  # noqa: E402
from core.data.types import Sentence  # noqa: E402
from core.labelers import get_labeler  # noqa: E402
from core.pipelines.steps import align_pairs, eval_projection, make_pairs, project_pairs  # noqa: E402
from core.projection import get_projector  # noqa: E402

METHODS = ("heuristic", "candidates-greedy", "candidates-ilp")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def peak_mib() -> float:
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kib, child_kib) / 1024


def mafand_files(data: Path) -> list[Path]:
    folder = data / "mafand_mt" / "en-yor"
    return [
        folder / f"{split}.tsv"
        for split in ("train", "dev", "test")
        if (folder / f"{split}.tsv").exists()
    ]


def end_to_end(
    files: list[Path], spans_by_text: dict[str, list[str]], aligner_params: dict
) -> tuple[int, float, float]:
    """Read, tokenise, align and project; the English labels come from a cache (not timed)."""
    started = time.perf_counter()
    raw = [pair for path in files for pair in read_mafand_tsv(path)]
    en, yo = Tokenizer("eng"), Tokenizer("yor")
    sources, targets = [], []
    for n, (s, t) in enumerate(raw):
        tokens = en(s)
        sources.append(
            Sentence(
                tokens,
                spans_by_text[s] if len(spans_by_text[s]) == len(tokens) else None,
                id=str(n),
            )
        )
        targets.append(Sentence(yo(t), None, id=str(n)))
    pairs = align_pairs(make_pairs(sources, targets), get_aligner("eflomal", **aligner_params))
    aligned = time.perf_counter()
    project_pairs(pairs, get_projector("heuristic"))
    return len(pairs), time.perf_counter() - started, time.perf_counter() - aligned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--aligner-param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--skip-europarl", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    from core.cli.options import parse_params

    aligner_params = parse_params(args.aligner_param)
    print(f"machine: {machine()}")
    print(f"aligner: eflomal {aligner_params or '(defaults)'}; runs: {args.runs} (medians)")

    if not args.skip_speed:
        files = mafand_files(args.data)
        if not files:
            sys.exit(f"MAFAND en-yor not found under {args.data}")
        raw = [pair for path in files for pair in read_mafand_tsv(path)]
        en = Tokenizer("eng")
        started = time.perf_counter()
        english = [en(s) for s, _ in raw]
        labels = get_labeler("spacy").label(english)
        print(
            f"spaCy English labelling (once, not in the end-to-end time): {len(raw) / (time.perf_counter() - started):,.0f} sentences/s"
        )
        spans_by_text = {s: tags for (s, _), tags in zip(raw, labels)}
        totals, projection_only = [], []
        for _ in range(args.runs):
            n, seconds, project_seconds = end_to_end(files, spans_by_text, aligner_params)
            totals.append(n / seconds)
            projection_only.append(n / project_seconds)
        print(
            f"end-to-end (read, tokenise, align, project), {n} pairs: median {statistics.median(totals):,.0f} pairs/s "
            f"(runs: {', '.join(f'{x:,.0f}' for x in totals)})"
        )

        # The projection step alone, per method, on the pairs aligned once.
        sources = [Sentence(t, tags, id=str(k)) for k, (t, tags) in enumerate(zip(english, labels))]
        targets = [Sentence(Tokenizer("yor")(t), None) for _, t in raw]
        pairs = align_pairs(make_pairs(sources, targets), get_aligner("eflomal", **aligner_params))
        for method in METHODS:
            projector = get_projector(method)
            rates = []
            for _ in range(args.runs):
                started = time.perf_counter()
                projections = project_pairs(pairs, projector)
                rates.append(len(pairs) / (time.perf_counter() - started))
            count = sum(len(p.spans) for p in projections)
            print(
                f"projection step {method:18s}: median {statistics.median(rates):>9,.0f} sentences/s ({count} spans projected)"
            )
        print(f"peak memory (max of this process and its children): {peak_mib():,.0f} MiB")

    if not args.skip_europarl:
        from bench.alignment import europarl_inputs

        source, inputs = europarl_inputs(args.data)
        print(
            "\nEuroparl-NER, gold English entities projected (F1; eflomal on 799 pairs + FLORES dev+devtest)"
        )
        print("| method | de | es | avg |\n|---|---|---|---|")
        rows = {m: {} for m in METHODS}
        for lang, (target, extra) in inputs.items():
            for method in METHODS:
                scores = eval_projection(
                    source,
                    target,
                    get_aligner("eflomal", **aligner_params),
                    get_projector(method),
                    extra,
                )
                rows[method][lang] = scores["f1"]
        for method in METHODS:
            de, es = rows[method]["de"], rows[method]["es"]
            print(f"| {method} | {de:.4f} | {es:.4f} | {(de + es) / 2:.4f} |")


if __name__ == "__main__":
    main()
