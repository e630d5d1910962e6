"""Aligner speed on MAFAND en-yor train+dev+test (9,746 pairs), the corpus of the end-to-end speed target.

    python bench/alignment.py [--runs 3] [--aligner eflomal] [--aligner-param KEY=VALUE]...
                              [--data ../shared/data] [--limit N] [--aer] [--europarl]

Reads and tokenises the corpus once (core.data.tokenize.Tokenizer 'eng' / 'yor'; timed and printed
separately), then times the aligner alone over --runs runs and prints the median pairs/s, the
machine (platform, CPU count, load), and the peak memory of this process and its children
(eflomal runs as a child process).

--aer adds AER on the gold sets (word_alignment_gold: enfr, roen, zhen; enfr also with FLORES
eng/fra dev+devtest as extra training text) and --europarl adds Europarl-NER projection F1
(gold English entities to de/es, FLORES dev+devtest as extra text, heuristic and
candidates-greedy projection), both for every symmetrization and the mean over --runs runs.
For eflomal the directional links are computed once per run and symmetrised every way;
--skip-speed leaves the speed part out.

--compare SETTINGS... measures eflomal settings against the defaults on Europarl-NER (the same
inputs as --europarl, intersection links, heuristic and candidates-greedy projection): per run,
defaults and each setting (comma-separated KEY=VALUE) alternate, each aligned afresh (eflomal
is unseeded); prints F1 mean ± std and min-max per language and method, and the median wall and
CPU seconds of an alignment (CPU: this process and eflomal's processes).
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
from core.aligners.eflomal_aligner import EflomalAligner  # noqa: E402
from core.aligners.symmetrize import SYMMETRIZERS  # noqa: E402
from core.cli.options import parse_params, read_extra_parallel  # noqa: E402
from core.data.formats import read_mafand_tsv  # noqa: E402
from core.data.tokenize import Tokenizer  # noqa: E402


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs (load average {load}), "
        f"Python {platform.python_version()}"
    )


def peak_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def load_corpus(data: Path, limit: int | None) -> list[tuple[list[str], list[str]]]:
    folder = data / "mafand_mt" / "en-yor"
    files = [folder / f"{split}.tsv" for split in ("train", "dev", "test")]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        sys.exit(f"MAFAND en-yor not found: {', '.join(missing)} (use --data)")
    raw = [pair for path in files for pair in read_mafand_tsv(path)]
    if limit:
        raw = raw[:limit]
    en, yo = Tokenizer("eng"), Tokenizer("yor")
    return [(en(s), yo(t)) for s, t in raw]


def alignments_by_symmetrization(
    aligner_name: str, params: dict, pairs: list, extra: list
) -> dict[str, list]:
    """One alignment run, symmetrised every way (eflomal), or the aligner's own output."""
    aligner = get_aligner(aligner_name, **params)
    if not isinstance(aligner, EflomalAligner):
        return {"-": aligner.align(pairs, extra)}
    forward, reverse = aligner.directional(pairs, extra)
    out = {}
    for name in SYMMETRIZERS.names():
        combined = get_aligner(aligner_name, **{**params, "symmetrization": name})
        out[name] = combined.combine(forward, reverse, pairs)
    return out


def aer_table(args: argparse.Namespace, params: dict) -> None:
    from core.aligners.evaluation import alignment_scores, find_gold_sets

    flores = args.data / "flores200"
    rows: dict[tuple[str, str], list[float]] = {}
    for gold_set in find_gold_sets(args.data / "word_alignment_gold"):
        variants = [(gold_set.name, [])]
        if gold_set.name == "enfr" and (flores / "dev" / "fra.dev").exists():
            extra = read_extra_parallel(
                [(flores / s / f"eng.{s}", flores / s / f"fra.{s}") for s in ("dev", "devtest")],
                "en",
                "fr",
            )
            variants.append(("enfr+flores", extra))
        for label, extra in variants:
            for _ in range(args.runs):
                by_name = alignments_by_symmetrization(args.aligner, params, gold_set.pairs, extra)
                for name, predicted in by_name.items():
                    aer = alignment_scores(predicted, gold_set.gold).aer
                    rows.setdefault((label, name), []).append(aer)
    labels = list(dict.fromkeys(label for label, _ in rows))
    names = list(dict.fromkeys(name for _, name in rows))
    print(f"\nAER (lower is better; mean of {args.runs} runs), {args.aligner} {params or ''}")
    print("| symmetrization | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 1) + "|")
    for name in names:
        cells = [f"{statistics.mean(rows[(label, name)]):.4f}" for label in labels]
        print(f"| {name} | " + " | ".join(cells) + " |")


def europarl_table(args: argparse.Namespace, params: dict) -> None:
    from core.data.types import Sentence
    from core.evaluate import ner_scores
    from core.pipelines.steps import make_pairs, project_pairs
    from core.projection import get_projector

    source, inputs = europarl_inputs(args.data)
    methods = ("heuristic", "candidates-greedy")
    rows: dict[tuple[str, str, str], list[float]] = {}
    for lang, (target, extra) in inputs.items():
        token_pairs = [(s.tokens, t.tokens) for s, t in zip(source, target)]
        gold = [t.tags or ["O"] * len(t) for t in target]
        for _ in range(args.runs):
            by_name = alignments_by_symmetrization(args.aligner, params, token_pairs, extra)
            for name, alignments in by_name.items():
                pairs = make_pairs(source, [Sentence(t.tokens, None, t.id, lang) for t in target])
                for pair, alignment in zip(pairs, alignments):
                    pair.alignment = alignment
                for method in methods:
                    projections = project_pairs(pairs, get_projector(method))
                    f1 = ner_scores(gold, [p.target_tags() for p in projections])["f1"]
                    rows.setdefault((method, name, lang), []).append(f1)
    print(f"\nEuroparl-NER projection F1 (mean of {args.runs} runs), {args.aligner} {params or ''}")
    print("| method | symmetrization | de | es | avg |\n|---|---|---|---|---|")
    for method in methods:
        for name in dict.fromkeys(n for m, n, _ in rows if m == method):
            de = statistics.mean(rows[(method, name, "de")])
            es = statistics.mean(rows[(method, name, "es")])
            print(f"| {method} | {name} | {de:.4f} | {es:.4f} | {(de + es) / 2:.4f} |")


def europarl_inputs(data: Path) -> tuple[list, dict[str, tuple[list, list]]]:
    """The English Europarl-NER test sentences, and per language (de, es) the gold target
    sentences and the FLORES dev+devtest pairs used as extra training text."""
    from core.data.formats import read_conll

    europarl, flores = data / "europarl_ner", data / "flores200"
    source = read_conll(europarl / "en.test.conll02")
    inputs = {}
    for lang, flores_lang in (("de", "deu"), ("es", "spa")):
        target = read_conll(europarl / f"{lang}.test.conll02")
        extra = read_extra_parallel(
            [
                (flores / s / f"eng.{s}", flores / s / f"{flores_lang}.{s}")
                for s in ("dev", "devtest")
            ],
            "en",
            lang,
        )
        inputs[lang] = (target, extra)
    return source, inputs


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the eflomal binary)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def compare_table(args: argparse.Namespace) -> None:
    from core.data.types import Sentence
    from core.evaluate import ner_scores
    from core.pipelines.steps import make_pairs, project_pairs
    from core.projection import get_projector

    source, inputs = europarl_inputs(args.data)
    methods = ("heuristic", "candidates-greedy")
    settings = ["defaults", *args.compare]
    f1s: dict[tuple[str, str, str], list[float]] = {}
    times: dict[str, list[tuple[float, float]]] = {s: [] for s in settings}
    for run in range(args.runs):
        for setting in settings:
            params = parse_params([] if setting == "defaults" else setting.split(","))
            for lang, (target, extra) in inputs.items():
                token_pairs = [(s.tokens, t.tokens) for s, t in zip(source, target)]
                started, cpu = time.perf_counter(), cpu_seconds()
                alignments = get_aligner("eflomal", **params).align(token_pairs, extra)
                times[setting].append((time.perf_counter() - started, cpu_seconds() - cpu))
                blind = [Sentence(t.tokens, None, t.id, lang) for t in target]
                pairs = make_pairs(source, blind)
                for pair, alignment in zip(pairs, alignments):
                    pair.alignment = alignment
                gold = [t.tags or ["O"] * len(t) for t in target]
                for method in methods:
                    projections = project_pairs(pairs, get_projector(method))
                    f1 = ner_scores(gold, [p.target_tags() for p in projections])["f1"]
                    f1s.setdefault((setting, method, lang), []).append(f1)
                print(
                    f"run {run + 1} [{setting}] {lang}: "
                    + ", ".join(f"{m} {f1s[setting, m, lang][-1]:.4f}" for m in methods)
                    + f"; {times[setting][-1][0]:.1f} s, CPU {times[setting][-1][1]:.1f} s, "
                    f"load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )

    def cell(values: list[float]) -> str:
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.4f} ± {std:.4f} ({min(values):.3f}-{max(values):.3f})"

    print(
        f"\nEuroparl-NER projection F1, eflomal settings, {args.runs} fresh alignments each "
        "(mean ± std (min-max))"
    )
    print(
        "| eflomal settings | method | de | es | avg of means | wall s per alignment | CPU s |"
        "\n|---|---|---:|---:|---:|---:|---:|"
    )
    for setting in settings:
        wall = statistics.median(t for t, _ in times[setting])
        cpu = statistics.median(c for _, c in times[setting])
        for method in methods:
            de, es = f1s[setting, method, "de"], f1s[setting, method, "es"]
            avg = (statistics.mean(de) + statistics.mean(es)) / 2
            print(
                f"| {setting} | {method} | {cell(de)} | {cell(es)} | {avg:.4f} | {wall:.1f} "
                f"| {cpu:.1f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--aligner", default="eflomal")
    parser.add_argument("--aligner-param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pairs")
    parser.add_argument("--aer", action="store_true", help="also the AER table on the gold sets")
    parser.add_argument("--europarl", action="store_true", help="also Europarl-NER projection F1")
    parser.add_argument("--skip-speed", action="store_true", help="leave the speed part out")
    parser.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="SETTINGS",
        help="eflomal settings (KEY=VALUE,...) measured against the defaults on Europarl-NER",
    )
    args = parser.parse_args()
    params = parse_params(args.aligner_param)

    print(f"machine: {machine()}")
    if not args.skip_speed:
        speed(args, params)
    if args.aer:
        aer_table(args, params)
    if args.europarl:
        europarl_table(args, params)
    if args.compare:
        compare_table(args)
    own, child = peak_mib()
    print(f"peak memory: {own:,.0f} MiB (this process), {child:,.0f} MiB (largest child)")


def speed(args: argparse.Namespace, params: dict) -> None:
    started = time.perf_counter()
    pairs = load_corpus(args.data, args.limit)
    read_seconds = time.perf_counter() - started
    print(
        f"corpus: MAFAND en-yor train+dev+test, {len(pairs)} pairs; read + tokenise "
        f"{read_seconds:.2f} s ({len(pairs) / read_seconds:,.0f} pairs/s)"
    )
    print(f"aligner: {args.aligner} {params or '(defaults)'}; runs: {args.runs}")
    rates, links = [], 0
    for run in range(args.runs):
        aligner = get_aligner(args.aligner, **params)
        started = time.perf_counter()
        alignments = aligner.align(pairs)
        seconds = time.perf_counter() - started
        rates.append(len(pairs) / seconds)
        links = sum(len(a) for a in alignments)
        print(f"  run {run + 1}: {seconds:.2f} s, {rates[-1]:,.0f} pairs/s, {links} links")
    median = statistics.median(rates)
    print(
        f"aligner alone: median {median:,.0f} pairs/s "
        f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    total = read_seconds + len(pairs) / median
    print(f"read + tokenise + align: {len(pairs) / total:,.0f} pairs/s (projection not included)")


if __name__ == "__main__":
    main()
