"""Aligner speed on MAFAND en-yor train+dev+test (9,746 pairs), the corpus of the issue-2 target.

    python bench/alignment.py [--runs 3] [--aligner eflomal] [--aligner-param KEY=VALUE]...
                              [--data ../shared/data] [--limit N]

Reads and tokenises the corpus once (core.tokenize.Tokenizer 'eng' / 'yor'; timed and printed
separately), then times the aligner alone over --runs runs and prints the median pairs/s, the
machine (platform, CPU count, load), and the peak memory of this process and its children
(eflomal runs as a child process).
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
from core.cliutil import parse_params  # noqa: E402
from core.formats import read_mafand_tsv  # noqa: E402
from core.tokenize import Tokenizer  # noqa: E402


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
    args = parser.parse_args()
    params = parse_params(args.aligner_param)

    print(f"machine: {machine()}")
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
    print(
        f"aligner alone: median {statistics.median(rates):,.0f} pairs/s "
        f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    own, child = peak_mib()
    print(f"peak memory: {own:,.0f} MiB (this process), {child:,.0f} MiB (largest child)")


if __name__ == "__main__":
    main()
