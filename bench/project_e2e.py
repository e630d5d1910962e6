"""`xner project` end to end on the 9,746 MAFAND en-yor pairs, today's code against a baseline
commit, in a fresh process and in a warm one, interleaved.

    python bench/project_e2e.py [--runs 5] [--baseline 3c30c4f] [--skip-warm] [--json OUT]

Input: the English side as CoNLL with its spaCy entities (../shared/bench/fixture_yor.json.gz)
and the raw Yoruba side (../shared/data/mafand_mt/en-yor), so the run reads, tokenises the
Yoruba text, aligns with eflomal (xner's defaults; the alignment cache off), projects with the
default method and writes CoNLL + JSONL. The baseline is `git archive <commit>` of this
repository, run from its own folder (`--baseline none`: today's code alone). Fresh: a new
Python process per run (imports, tokenizer construction and all). Warm: one long-lived process
per version that has already run once; each run then repeats the whole command in it. Runs
alternate between the versions; every figure is a median with min-max, with the 1-minute load
average before and after each run. CPU time (user + system of the xner process and of the
eflomal processes it waits for) is given beside wall time: on a shared machine the load
stretches wall time but hardly CPU time, so pairs per CPU-second is the figure to compare
across loads.
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

# A fresh run; it prints the CPU seconds of the xner process itself and of the eflomal
# processes it waited for, as the last line of stdout.
FRESH = (
    "import json, resource, sys\n"
    "from core.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
    "print(json.dumps({'own': own.ru_utime + own.ru_stime, "
    "'children': kids.ru_utime + kids.ru_stime}))\n"
    "sys.exit(code)\n"
)
# A warm worker: one `xner` run per line of JSON arguments on stdin; the wall seconds and CPU
# seconds (the worker and its children) on stdout.
WARM = (
    "import json, resource, sys, time\n"
    "from core.cli import main\n"
    "def cpu():\n"
    "    u = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]\n"
    "    return sum(r.ru_utime + r.ru_stime for r in u)\n"
    "for line in sys.stdin:\n"
    "    args = json.loads(line)\n"
    "    started, cpu0 = time.perf_counter(), cpu()\n"
    "    code = main(args)\n"
    "    seconds, cpu_s = time.perf_counter() - started, cpu() - cpu0\n"
    "    print(json.dumps({'code': code, 'seconds': seconds, 'cpu': cpu_s}), flush=True)\n"
)


def has_cache_option(folder: Path) -> bool:
    """Whether this version of xner has an alignment cache (then it is switched off)."""
    options = folder / "core" / "cli" / "options.py"
    return options.exists() and "--no-alignment-cache" in options.read_text(encoding="utf-8")


def project_args(source: Path, target: Path, out: Path, no_cache: bool) -> list[str]:
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
    return args + ["--no-alignment-cache"] if no_cache else args


def summary(seconds: list[float], pairs: int, unit: str = "pairs/s") -> str:
    rates = [pairs / s for s in seconds]
    return (
        f"{statistics.median(seconds):.1f} s (min {min(seconds):.1f}, max {max(seconds):.1f}) = "
        f"{pairs / statistics.median(seconds):,.0f} {unit} (min {min(rates):,.0f}, "
        f"max {max(rates):,.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline", default="3c30c4f", help="a commit to compare with, or none (default 3c30c4f)"
    )
    parser.add_argument("--pairs", type=int, default=9746)
    parser.add_argument("--skip-warm", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source, target = write_inputs(work, args.pairs)
        versions = {"now": ROOT}
        if args.baseline != "none":
            base = work / "baseline"
            base.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.baseline], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            versions[args.baseline] = base
        no_cache = {name: has_cache_option(folder) for name, folder in versions.items()}
        outs = {name: work / f"out-{name.replace('/', '_')}" for name in versions}
        for out in outs.values():
            out.mkdir()
        envs = {name: dict(os.environ, PYTHONPATH=str(folder)) for name, folder in versions.items()}
        fresh: dict[str, list[float]] = {name: [] for name in versions}
        warm: dict[str, list[float]] = {name: [] for name in versions}
        cpu: dict[str, list[float]] = {name: [] for name in versions}
        warm_cpu: dict[str, list[float]] = {name: [] for name in versions}
        own_cpu: dict[str, list[float]] = {name: [] for name in versions}
        eflomal_cpu: dict[str, list[float]] = {name: [] for name in versions}
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

        def warm_run(name: str) -> tuple[float, float]:
            worker = workers[name]
            line = project_args(source, target, outs[name], no_cache[name])
            worker.stdin.write(json.dumps(line) + "\n")  # type: ignore[union-attr]
            worker.stdin.flush()  # type: ignore[union-attr]
            result = json.loads(worker.stdout.readline())  # type: ignore[union-attr]
            if result["code"] != 0:
                sys.exit(f"{name}: warm run failed")
            return result["seconds"], result["cpu"]

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
                        *project_args(source, target, outs[name], no_cache[name]),
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
                split = json.loads(done.stdout.strip().splitlines()[-1])
                own_cpu[name].append(split["own"])
                eflomal_cpu[name].append(split["children"])
                if workers:
                    seconds, cpu_seconds = warm_run(name)
                    warm[name].append(seconds)
                    warm_cpu[name].append(cpu_seconds)
            loads.append(os.getloadavg()[0])
            print(f"run {run + 1}: " + json.dumps({"fresh": fresh, "warm": warm}), flush=True)
        for worker in workers.values():
            worker.stdin.close()  # type: ignore[union-attr]
            worker.wait(60)
        tokens_equal = []
        if len(versions) > 1:
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
        "wall | warm process, CPU time |\n|---|---|---|---|---|"
    )
    per_cpu_s = "pairs per CPU-s"
    for name in versions:
        warm_cell = summary(warm[name], args.pairs) if warm[name] else "-"
        warm_cpu_cell = summary(warm_cpu[name], args.pairs, per_cpu_s) if warm[name] else "-"
        print(
            f"| {name} | {summary(fresh[name], args.pairs)} | "
            f"{summary(cpu[name], args.pairs, per_cpu_s)} | {warm_cell} | {warm_cpu_cell} |"
        )
    print(
        "\nfresh runs, CPU time split (medians): the xner process itself (its work is serial) "
        "and the eflomal processes it waits for"
    )
    for name in versions:
        own, kids = statistics.median(own_cpu[name]), statistics.median(eflomal_cpu[name])
        print(f"| {name} | xner {own:.1f} s | eflomal {kids:.1f} s |")
    if len(versions) > 1:
        for mode, table in (("fresh wall", fresh), ("fresh CPU", cpu), ("warm wall", warm)):
            ratios = [b / a for a, b in zip(table["now"], table[args.baseline])]
            if ratios:
                print(
                    f"{mode}: baseline / today's, median of per-run ratios: "
                    f"{statistics.median(ratios):.2f}"
                )
        print(
            f"target sentences with identical tokens in both outputs: {sum(tokens_equal)} of "
            f"{len(tokens_equal)}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "fresh": fresh,
                    "fresh_cpu": cpu,
                    "warm": warm,
                    "warm_cpu": warm_cpu,
                    "fresh_own_cpu": own_cpu,
                    "fresh_eflomal_cpu": eflomal_cpu,
                    "loads": loads,
                    "pairs": args.pairs,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
