"""`xner project` end to end on the 9,746 MAFAND en-yor pairs, today's code against 3088df9,
in a fresh process and in a warm one, interleaved.

    python bench/project_e2e.py [--runs 5] [--baseline 3088df9] [--json OUT]

Input: the English side as CoNLL with its spaCy entities (../shared/bench/fixture_yor.json.gz)
and the raw Yoruba side (../shared/data/mafand_mt/en-yor), so the run reads, tokenises the
Yoruba text, aligns with eflomal (xner's defaults; the alignment cache off), projects with the
default method and writes CoNLL + JSONL. The baseline is `git archive <commit>` of this
repository, run from its own folder. Fresh: a new Python process per run (imports, tokenizer
construction and all). Warm: one long-lived process per version that has already run once;
each run then repeats the whole command in it. Runs alternate between the versions; every
figure is a median with min-max, with the 1-minute load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.projection import machine  # noqa: E402
from bench.scale import write_inputs  # noqa: E402

FRESH = "import sys\nfrom core.cli import main\nsys.exit(main(sys.argv[1:]))\n"
# A warm worker: one `xner` run per line of JSON arguments on stdin, the seconds on stdout.
WARM = (
    "import json, sys, time\n"
    "from core.cli import main\n"
    "for line in sys.stdin:\n"
    "    args = json.loads(line)\n"
    "    started = time.perf_counter()\n"
    "    code = main(args)\n"
    "    print(json.dumps({'code': code, 'seconds': time.perf_counter() - started}), flush=True)\n"
)


def project_args(source: Path, target: Path, out: Path, new: bool) -> list[str]:
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
        "--output-jsonl",
        str(out / "out.jsonl"),
        "--quiet",
    ]
    return args + ["--no-alignment-cache"] if new else args


def summary(seconds: list[float], pairs: int) -> str:
    rates = [pairs / s for s in seconds]
    return (
        f"{statistics.median(seconds):.1f} s (min {min(seconds):.1f}, max {max(seconds):.1f}) = "
        f"{pairs / statistics.median(seconds):,.0f} pairs/s (min {min(rates):,.0f}, "
        f"max {max(rates):,.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", default="3088df9")
    parser.add_argument("--pairs", type=int, default=9746)
    parser.add_argument("--skip-warm", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source, target = write_inputs(work, args.pairs)
        base = work / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        versions = {"now": ROOT, args.baseline: base}
        outs = {name: work / f"out-{name.replace('/', '_')}" for name in versions}
        for out in outs.values():
            out.mkdir()
        envs = {name: dict(os.environ, PYTHONPATH=str(folder)) for name, folder in versions.items()}
        fresh: dict[str, list[float]] = {name: [] for name in versions}
        warm: dict[str, list[float]] = {name: [] for name in versions}
        cpu: dict[str, list[float]] = {name: [] for name in versions}
        loads = [os.getloadavg()[0]]
        workers = {}
        if not args.skip_warm:
            for name, folder in versions.items():
                workers[name] = subprocess.Popen(
                    [sys.executable, "-c", WARM],
                    cwd=folder,
                    env=envs[name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )

        def warm_run(name: str) -> float:
            worker = workers[name]
            line = project_args(source, target, outs[name], name == "now")
            worker.stdin.write(json.dumps(line) + "\n")  # type: ignore[union-attr]
            worker.stdin.flush()  # type: ignore[union-attr]
            result = json.loads(worker.stdout.readline())  # type: ignore[union-attr]
            if result["code"] != 0:
                sys.exit(f"{name}: warm run failed")
            return result["seconds"]

        for name in workers:  # the first run in a worker is not warm yet
            warm_run(name)
        for run in range(args.runs):
            order = list(versions) if run % 2 == 0 else list(reversed(versions))
            for name in order:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        FRESH,
                        *project_args(source, target, outs[name], name == "now"),
                    ],
                    cwd=versions[name],
                    env=envs[name],
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    sys.exit(f"{name} failed:\n{done.stderr[-2000:]}")
                fresh[name].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].append(
                    after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                )
                if workers:
                    warm[name].append(warm_run(name))
            loads.append(os.getloadavg()[0])
            print(f"run {run + 1}: " + json.dumps({"fresh": fresh, "warm": warm}), flush=True)
        for worker in workers.values():
            worker.stdin.close()  # type: ignore[union-attr]
            worker.wait(60)
        same = (outs["now"] / "out.conll").read_text().split("\n\n")
        base_out = (outs[args.baseline] / "out.conll").read_text().split("\n\n")
        tokens_equal = [
            [line.split(" ")[0] for line in a.splitlines()]
            == [line.split(" ")[0] for line in b.splitlines()]
            for a, b in zip(same, base_out)
        ]
    print(f"machine: {machine()}")
    print(f"{args.pairs} pairs; {args.runs} interleaved runs per version and mode")
    print(
        "load average (1 min) at start and after each run: " + ", ".join(f"{x:.1f}" for x in loads)
    )
    print(
        "| version | fresh process, wall | fresh process, CPU time (with eflomal) | warm process, "
        "wall |\n|---|---|---|---|"
    )
    for name in versions:
        warm_cell = summary(warm[name], args.pairs) if warm[name] else "-"
        print(
            f"| {name} | {summary(fresh[name], args.pairs)} | {summary(cpu[name], args.pairs)} "
            f"| {warm_cell} |"
        )
    ratios = [b / a for a, b in zip(fresh["now"], fresh[args.baseline])]
    print(
        f"fresh: baseline time / today's time, median of per-run ratios: {statistics.median(ratios):.2f}"
    )
    print(
        f"target sentences with identical tokens in both outputs: {sum(tokens_equal)} of {len(tokens_equal)}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"fresh": fresh, "warm": warm, "loads": loads, "pairs": args.pairs}, indent=1
            )
        )


if __name__ == "__main__":
    main()
