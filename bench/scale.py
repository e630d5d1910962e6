"""`xner project` at growing corpus sizes: time and peak memory, each size in a fresh process.

    python bench/scale.py [--sizes 10000 100000 1000000] [--chunk-size 20000] [--runs 1]
                          [--workdir DIR] [--json OUT]

The corpus is MAFAND en-yor (the 9,746 pairs of ../shared/bench/fixture_yor.json.gz: English
tokens with their spaCy entities as CoNLL, the raw Yoruba side from ../shared/data/mafand_mt)
repeated until it has the asked number of pairs. Each run is `xner project` (eflomal, the
default method, the alignment cache off) in a fresh Python process, streamed in chunks; the
process reports its own peak RSS (getrusage), and /proc is read every half second for the RSS
of the xner process plus its eflomal processes at that moment (the peak of that sum is the
run's memory; getrusage's figure for children is no use here: a child's maximum counts the
interpreter image it was forked from before exec). Prints one table row per size with the
load average before and after, and the scaling exponent of time between consecutive sizes
(log t2/t1 / log n2/n1; 1.0 = linear).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.projection import machine  # noqa: E402
from bench.projection_step import load_fixture  # noqa: E402
from core.data.formats import read_mafand_tsv  # noqa: E402
from core.data.tags import spans_to_tags  # noqa: E402
from core.data.types import Span  # noqa: E402

DATA = Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data"))

# Runs `xner project` and prints its own peak memory as JSON.
WRAPPER = (
    "import json, resource, sys\n"
    "from core.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "print(json.dumps({'self_mib': self_kib / 1024}))\n"
    "sys.exit(code)\n"
)
SAMPLE_SECONDS = 0.5


def rss_kib(pid: int) -> int:
    """Resident memory of a process from /proc (0 once it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except (OSError, ValueError):
        return []


class MemorySampler(threading.Thread):
    """Peak of (RSS of a process + RSS of its children), and of its children alone, sampled."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_total_kib, self.peak_children_kib = pid, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            kids = sum(rss_kib(c) for c in children(self.pid))
            self.peak_children_kib = max(self.peak_children_kib, kids)
            self.peak_total_kib = max(self.peak_total_kib, rss_kib(self.pid) + kids)


def write_inputs(folder: Path, n_pairs: int) -> tuple[Path, Path]:
    """en.conll (tokens + entities) and yo.txt (raw Yoruba), the 9,746 pairs cycled."""
    rows = load_fixture()
    mafand = DATA / "mafand_mt" / "en-yor"
    raw = [
        p for split in ("train", "dev", "test") for p in read_mafand_tsv(mafand / f"{split}.tsv")
    ]
    if len(raw) != len(rows):
        sys.exit(f"{len(raw)} MAFAND pairs but {len(rows)} fixture rows")
    conll_blocks = []
    for row in rows:
        spans = [Span(a, b, label) for a, b, label in row["entities"]]
        tags = spans_to_tags(spans, len(row["src"]))
        conll_blocks.append("".join(f"{t} {g}\n" for t, g in zip(row["src"], tags)) + "\n")
    # MAFAND fields may hold newlines: one line per sentence
    target_lines = [" ".join(t.split()) + "\n" for _, t in raw]
    source, target = folder / f"en.{n_pairs}.conll", folder / f"yo.{n_pairs}.txt"
    if not (source.exists() and target.exists()):
        with open(source, "w", encoding="utf-8") as s, open(target, "w", encoding="utf-8") as t:
            for k in islice(cycle(range(len(rows))), n_pairs):
                s.write(conll_blocks[k])
                t.write(target_lines[k])
    return source, target


def run_project(source: Path, target: Path, out: Path, chunk_size: int, jsonl: bool) -> dict:
    args = [
        "project",
        "--source-conll",
        str(source),
        "--target-text",
        str(target),
        "--target-lang",
        "yor",
        "--output-conll",
        str(out / "out.conll"),
        *(["--output-jsonl", str(out / "out.jsonl")] if jsonl else []),
        "--chunk-size",
        str(chunk_size),
        "--no-alignment-cache",
        "--quiet",
    ]
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    sampler = MemorySampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if process.returncode != 0:
        sys.exit(f"xner project failed:\n{stderr[-3000:]}")
    memory = json.loads(stdout.strip().splitlines()[-1])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        **memory,
        "eflomal_mib": sampler.peak_children_kib / 1024,
        "total_mib": sampler.peak_total_kib / 1024,
        "summary": stderr.strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--jsonl", action="store_true", help="also write the JSONL provenance")
    parser.add_argument("--runs", type=int, default=1, help="runs per size (median reported)")
    parser.add_argument("--workdir", type=Path, help="keep inputs and outputs here")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        f"chunk size {args.chunk_size:,}; {args.runs} run(s) per size, fresh process each; "
        f"outputs: CoNLL{' + JSONL' if args.jsonl else ''}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            source, target = write_inputs(work, n)
            runs = [
                run_project(source, target, work, args.chunk_size, args.jsonl)
                for _ in range(args.runs)
            ]
            seconds = [r["seconds"] for r in runs]
            row = {
                "pairs": n,
                "seconds_median": statistics.median(seconds),
                "seconds": seconds,
                "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r in runs),
                "pairs_per_s": n / statistics.median(seconds),
                "peak_self_mib": max(r["self_mib"] for r in runs),
                "peak_eflomal_mib": max(r["eflomal_mib"] for r in runs),
                "peak_total_mib": max(r["total_mib"] for r in runs),
                "load": [(r["load_before"], r["load_after"]) for r in runs],
                "summary": runs[-1]["summary"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1))
    print(
        "\n| pairs | wall time (median) | pairs/s | CPU time (with eflomal) | pairs per CPU-s | "
        "peak RSS xner | peak RSS eflomal (sampled) | peak RSS xner + eflomal (sampled) | "
        "load 1-min before-after | exponent vs previous: wall, CPU |"
        "\n|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    )
    previous = None
    for row in rows:
        exponent = ""
        if previous is not None:
            size = math.log(row["pairs"] / previous["pairs"])
            wall = math.log(row["seconds_median"] / previous["seconds_median"]) / size
            cpu = math.log(row["cpu_seconds_median"] / previous["cpu_seconds_median"]) / size
            exponent = f"{wall:.2f}, {cpu:.2f}"
        load = ", ".join(f"{a:.1f}-{b:.1f}" for a, b in row["load"])
        print(
            f"| {row['pairs']:,} | {row['seconds_median']:.1f} s | {row['pairs_per_s']:,.0f} | "
            f"{row['cpu_seconds_median']:.1f} s | "
            f"{row['pairs'] / row['cpu_seconds_median']:,.0f} | "
            f"{row['peak_self_mib']:,.0f} MiB | {row['peak_eflomal_mib']:,.0f} MiB | "
            f"{row['peak_total_mib']:,.0f} MiB | {load} | {exponent} |"
        )
        previous = row


if __name__ == "__main__":
    main()
