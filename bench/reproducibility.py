"""Run-to-run spread of a fresh eflomal alignment, and a cached rerun that reproduces it exactly.

    nice -n 10 python bench/reproducibility.py [--runs 5] [--settings n_samplers=4 ...]
        [--output bench/results/reproducibility.md]

eflomal cannot be seeded (its binary seeds itself from /dev/urandom), so two fresh alignments of
the same input differ. For each eflomal setting (`--settings`, comma-separated KEY=VALUE; the
first row is always xner's defaults) this aligns Europarl-NER en-de and en-es (799 pairs + FLORES
dev+devtest as extra parallel text, as the README's eval-projection command) `--runs` times with
the cache bypassed, projects the gold English entities (candidates-greedy) and reports F1 mean ±
std (sample std) and the alignment time; settings are interleaved run by run so load changes hit
them alike. Then it runs the same `xner eval-projection` command twice in fresh processes with
the alignment cache on (an empty cache folder) and checks that F1 and the output files are
identical. Prints the machine (cores, load average before and after).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.aligners import get_aligner  # noqa: E402
from core.cli.options import parse_params, read_extra_parallel  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.data.types import Sentence  # noqa: E402
from core.evaluate import ner_scores  # noqa: E402
from core.pipelines.steps import align_pairs, make_pairs, project_pairs  # noqa: E402
from core.projection import get_projector  # noqa: E402

LANGS = {"de": "deu", "es": "spa"}
# The candidates measured for a lower spread: more samplers (eflomal averages their link
# marginals), more samplers at the same total work, twice the iterations, and at three times the
# work six samplers against three runs voted link by link.
CANDIDATES = (
    "n_samplers=4",
    "n_samplers=4,rel_iterations=0.25",
    "rel_iterations=1.0",
    "n_samplers=6",
    "n_runs=3",
)


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def flores_pairs(data: Path, lang: str) -> list[tuple[str, str]]:
    flores = data / "flores200"
    return [
        (str(flores / split / f"eng.{split}"), str(flores / split / f"{LANGS[lang]}.{split}"))
        for split in ("dev", "devtest")
    ]


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the eflomal binary), user + system."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def fresh_f1(
    sources: list[Sentence], targets: list[Sentence], extra: list, params: dict, method: str
) -> tuple[float, float, float]:
    """F1 of one fresh alignment (no cache), the alignment's wall seconds and its CPU seconds
    (the CPU time is what a shared, loaded machine distorts least)."""
    blind = [Sentence(t.tokens, None, id=t.id, lang=t.lang) for t in targets]
    started, cpu = time.perf_counter(), cpu_seconds()
    pairs = align_pairs(make_pairs(sources, blind), get_aligner("eflomal", **params), extra)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    projections = project_pairs(pairs, get_projector(method))
    gold = [t.tags or ["O"] * len(t) for t in targets]
    return ner_scores(gold, [p.target_tags() for p in projections])["f1"], seconds, cpu


def spread(args: argparse.Namespace) -> tuple[list[dict], list[str]]:
    europarl = args.data / "europarl_ner"
    sources = read_conll(europarl / "en.test.conll02", lang="en")
    inputs = {}
    for lang in args.langs:
        targets = read_conll(europarl / f"{lang}.test.conll02", lang=lang)
        inputs[lang] = (targets, read_extra_parallel(flores_pairs(args.data, lang), "en", lang))
    settings = ["", *args.settings]
    results = {(s, lang): ([], [], []) for s in settings for lang in args.langs}
    for run in range(args.runs):
        for setting in settings:
            for lang, (targets, extra) in inputs.items():
                f1, seconds, cpu = fresh_f1(
                    sources,
                    targets,
                    extra,
                    parse_params(setting.split(",") if setting else []),
                    args.method,
                )
                results[setting, lang][0].append(f1)
                results[setting, lang][1].append(seconds)
                results[setting, lang][2].append(cpu)
                print(
                    f"run {run + 1} [{setting or 'defaults'}] {lang}: F1 {f1:.4f} "
                    f"({seconds:.1f} s, CPU {cpu:.1f} s, load {load()})",
                    flush=True,
                )
    rows = []
    for setting in settings:
        row: dict = {"settings": setting or "defaults"}
        seconds, cpus = [], []
        for lang in args.langs:
            f1s, times, cpu = results[setting, lang]
            row[lang] = {
                "mean": statistics.mean(f1s),
                "std": statistics.stdev(f1s) if len(f1s) > 1 else None,
                "runs": [round(f, 4) for f in f1s],
            }
            seconds += times
            cpus += cpu
        row["seconds"] = statistics.median(seconds)
        row["cpu_seconds"] = statistics.median(cpus)
        rows.append(row)
    base = rows[0]["cpu_seconds"]
    lines = [
        f"| eflomal settings | {' | '.join(f'{lang} F1 mean ± std' for lang in args.langs)} "
        "| avg std | wall s per alignment (median) | CPU s (median) | CPU vs defaults |",
        "|---|" + "---:|" * (len(args.langs) + 4),
    ]
    for row in rows:
        cells = [_mean_std(row[lang]) for lang in args.langs]
        stds = [row[lang]["std"] for lang in args.langs if row[lang]["std"] is not None]
        avg_std = f"{statistics.mean(stds):.4f}" if stds else "n/a"
        lines.append(
            f"| {row['settings']} | {' | '.join(cells)} | {avg_std} | {row['seconds']:.1f} "
            f"| {row['cpu_seconds']:.1f} | {row['cpu_seconds'] / base:.2f}× |"
        )
    return rows, lines


def _mean_std(cell: dict) -> str:
    if cell["std"] is None:
        return f"{cell['mean']:.4f} (n=1)"
    return f"{cell['mean']:.4f} ± {cell['std']:.4f}"


def cached_rerun(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """The README's eval-projection command twice, fresh processes, one (empty) cache folder."""
    europarl = args.data / "europarl_ner"
    lang = args.langs[0]
    with tempfile.TemporaryDirectory(prefix="xner-repro-") as tmp:
        folder = Path(tmp)
        outputs, entries = [], []
        for attempt in (1, 2):
            command = [
                sys.executable,
                "-c",
                "import sys; from core.cli import main; sys.exit(main())",
                "eval-projection",
                "--source-conll",
                str(europarl / "en.test.conll02"),
                "--target-conll",
                str(europarl / f"{lang}.test.conll02"),
                "--method",
                args.method,
                "--output-conll",
                str(folder / f"projected{attempt}.conll"),
                "--output-jsonl",
                str(folder / f"projected{attempt}.jsonl"),
                "--json",
            ]
            for source, target in flores_pairs(args.data, lang):
                command += ["--extra-parallel", source, target]
            env = dict(os.environ, XNER_ALIGNMENT_CACHE=str(folder / "cache"))
            started = time.perf_counter()
            done = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
            )
            outputs.append((json.loads(done.stdout), time.perf_counter() - started))
            entries.append({p: p.stat().st_mtime_ns for p in (folder / "cache").rglob("*.json.gz")})
        (first, t1), (second, t2) = outputs
        same_files = all(
            filecmp.cmp(folder / f"projected1.{ext}", folder / f"projected2.{ext}", shallow=False)
            for ext in ("conll", "jsonl")
        )
        shown = " ".join(shlex.quote(c) for c in command[3:])
        shown = shown.replace(str(args.data), "$D").replace(str(folder), "$OUT")
        shown = shown.replace("projected2.", "projectedN.")  # N = 1, then 2
        # a hit: the one entry the first run stored is neither rewritten nor joined by another
        hit = len(entries[0]) == 1 and entries[1] == entries[0]
    result = {
        "lang": lang,
        "f1": [first["f1"], second["f1"]],
        "seconds": [round(t1, 1), round(t2, 1)],
        "identical_files": same_files,
        "second_run_read_the_cache": hit,
        "command": shown,
    }
    lines = [
        f"`xner {shown}` twice, fresh processes, XNER_ALIGNMENT_CACHE pointing at an empty folder:",
        "",
        f"- first run (aligns, stores): F1 {first['f1']:.4f}, {t1:.1f} s",
        f"- second run: F1 {second['f1']:.4f}, {t2:.1f} s; read the stored entry without "
        f"aligning: {'yes' if hit else 'NO'}",
        f"- output CONLL and JSONL byte-identical: {'yes' if same_files else 'NO'}",
    ]
    return result, lines


def cache_cost(fixture: Path, repeats: int = 5) -> list[str]:
    """CPU seconds the cache adds to a fresh run on the MAFAND en-yor fixture (9,746 pairs and
    their eflomal links): the key, writing the entry, reading it back (medians)."""
    import gzip

    from core.aligners.cache import AlignmentCache, alignment_key
    from core.data.types import Alignment

    with gzip.open(fixture, "rt", encoding="utf-8") as handle:
        rows = json.load(handle)["rows"]
    pairs = [(row["src"], row["tgt"]) for row in rows]
    alignments = [
        Alignment(frozenset(map(tuple, row["links"])), {tuple(link): 1.0 for link in row["links"]})
        for row in rows
    ]
    times: dict[str, list[float]] = {"key": [], "write": [], "read": []}
    with tempfile.TemporaryDirectory(prefix="xner-repro-") as tmp:
        store = AlignmentCache(tmp)
        for _ in range(repeats):
            started = time.process_time()
            key = alignment_key("eflomal", {}, pairs)
            keyed = time.process_time()
            raw = store.put(key, alignments)
            written = time.process_time()
            assert store.get(key, pairs) is not None
            times["key"].append(keyed - started)
            times["write"].append(written - keyed)
            times["read"].append(time.process_time() - written)
    cells = ", ".join(f"{name} {statistics.median(ts):.3f} s" for name, ts in times.items())
    return [
        f"Cache cost on {len(pairs):,} MAFAND en-yor pairs ({sum(map(len, alignments)):,} links, "
        f"entry {len(raw) / 1024:.0f} KiB), CPU, median of {repeats}: {cells}. A fresh run "
        "pays key + write + read (what it returns is what a rerun reads); a rerun pays key + read.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--langs", nargs="+", default=list(LANGS), choices=list(LANGS))
    parser.add_argument("--method", default="candidates-greedy")
    parser.add_argument(
        "--settings",
        nargs="*",
        default=list(CANDIDATES),
        help="eflomal settings to compare with the defaults, each KEY=VALUE[,KEY=VALUE]",
    )
    parser.add_argument("--skip-spread", action="store_true")
    parser.add_argument("--skip-cache-check", action="store_true")
    parser.add_argument("--output", type=Path, help="also write the tables here (Markdown)")
    parser.add_argument("--json", type=Path, help="also write the numbers here (JSON)")
    args = parser.parse_args()
    if not (args.data / "europarl_ner").is_dir():
        sys.exit(f"Europarl-NER not found under {args.data} (set XNER_DATA or --data)")

    report = [
        f"machine: {machine()}; load average (1, 5, 15 min) at start: {load()}",
        f"command: python bench/reproducibility.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}",
    ]
    numbers: dict = {}
    if not args.skip_spread:
        rows, table = spread(args)
        numbers["spread"] = rows
        report += [
            "",
            f"Fresh alignments, {args.runs} runs each (Europarl-NER 799 pairs + FLORES "
            f"dev+devtest, {args.method}, cache bypassed):",
            "",
            *table,
            "",
            "Per-run F1: "
            + "; ".join(
                f"{row['settings']} {lang} {row[lang]['runs']}"
                for row in rows
                for lang in args.langs
            ),
        ]
    if not args.skip_cache_check:
        result, lines = cached_rerun(args)
        numbers["cached_rerun"] = result
        report += ["", *lines]
        fixture = args.data.parent / "bench" / "fixture_yor.json.gz"
        if fixture.exists():
            report += ["", *cache_cost(fixture)]
    report += ["", f"load average at end: {load()}"]
    text = "\n".join(report)
    print("\n" + text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
