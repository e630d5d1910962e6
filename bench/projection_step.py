"""The projection step alone, side by side: the reference heuristic, xner as of 3088df9
(bench/baseline) and today's xner, on the fixed fixture ../shared/bench/fixture_yor.json.gz.

    python bench/projection_step.py [--runs 9] [--original FILE] [--json OUT]

Every run times every implementation once, in a rotating order (interleaved), so machine load
falls on all of them alike. Times are the process's CPU time (`--clock cpu`, the default: on a
busy shared machine wall time mostly measures the other processes) or wall time (`--clock
wall`). Per implementation it prints the median, min and max sentences/s,
the coefficient of variation of the run times (GC stalls show up there and in max/min) and
the median of the per-run ratios to the reference. Python's garbage collector stays in its
default state, as a user gets it. The load average is printed before and after.
`--original FILE`: also time the reference authors' own function
(`match_entities_based_on_word_alignments`) from a local copy of their module.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline import candidates as baseline_candidates  # noqa: E402
from bench.baseline import heuristic as baseline_heuristic  # noqa: E402
from bench.baseline.steps import project_pairs as baseline_project_pairs  # noqa: E402
from bench.projection import machine  # noqa: E402
from bench.reference_heuristic import project_labels  # noqa: E402
from core.data.tags import spans_to_tags  # noqa: E402
from core.data.types import Alignment, Sentence, SentencePair, Span  # noqa: E402
from core.pipelines.steps import project_pairs  # noqa: E402
from core.projection import get_projector  # noqa: E402

FIXTURE = Path(os.environ.get("XNER_BENCH", ROOT.parent / "shared" / "bench")) / (
    "fixture_yor.json.gz"
)


def load_fixture(path: Path = FIXTURE) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)["rows"]


def fixture_pairs(rows: list[dict]) -> list[SentencePair]:
    pairs = []
    for k, row in enumerate(rows):
        spans = [Span(a, b, label) for a, b, label in row["entities"]]
        source = Sentence(row["src"], spans_to_tags(spans, len(row["src"])), id=str(k))
        target = Sentence(row["tgt"], None, id=str(k))
        pairs.append(SentencePair(source, target, Alignment.from_links(row["links"]), id=str(k)))
    return pairs


def reference_inputs(rows: list[dict]) -> list[tuple]:
    """The reference's own input format: labelled side = Yoruba, entity side = English."""
    return [
        (
            row["tgt"],
            row["src"],
            [{"start_idx": a, "end_idx": b, "label": label} for a, b, label in row["entities"]],
            [(j, i) for i, j in row["links"]],
        )
        for row in rows
    ]


def load_original(path: Path) -> Callable:
    spec = importlib.util.spec_from_file_location("reference_original", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.match_entities_based_on_word_alignments


def implementations(rows: list[dict], original: Path | None) -> dict[str, Callable[[], object]]:
    pairs = fixture_pairs(rows)
    ref_in = reference_inputs(rows)
    impls: dict[str, Callable[[], object]] = {
        "reference heuristic (re-implemented)": lambda: [project_labels(*x) for x in ref_in]
    }
    if original is not None:
        function = load_original(original)
        impls["reference heuristic (authors' code)"] = lambda: [function(*x) for x in ref_in]
    baseline = {
        "heuristic": baseline_heuristic.HeuristicProjector(),
        "candidates-greedy": baseline_candidates.GreedyCandidateProjector(),
        "candidates-ilp": baseline_candidates.IlpCandidateProjector(),
    }
    for name, projector in baseline.items():
        impls[f"xner 3088df9 {name}"] = lambda p=projector: baseline_project_pairs(pairs, p)
    for name in ("heuristic", "candidates-greedy", "candidates-ilp"):
        projector = get_projector(name)
        impls[f"xner now {name}"] = lambda p=projector: project_pairs(pairs, p)
    return impls


def agreement(rows: list[dict]) -> dict[str, int]:
    """Sentences whose tags equal the reference's, per heuristic setting."""
    ref = [project_labels(*x) for x in reference_inputs(rows)]
    pairs = fixture_pairs(rows)
    out = {}
    for gaps in (True, False):
        projections = project_pairs(pairs, get_projector("heuristic", only_unaligned_gaps=gaps))
        out[f"only_unaligned_gaps={gaps}"] = sum(
            p.target_tags() == r for p, r in zip(projections, ref)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--original", type=Path, help="a local copy of the authors' module")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rows = load_fixture(args.fixture)
    impls = implementations(rows, args.original)
    names = list(impls)
    for fn in impls.values():  # warm-up: first-call imports (scipy) and caches
        fn()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    load_before = os.getloadavg()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for run in range(args.runs):
        order = names[run % len(names) :] + names[: run % len(names)]
        for name in order:
            started = clock()
            impls[name]()
            seconds[name].append(clock() - started)
    load_after = os.getloadavg()
    ref_name = names[0]
    print(f"machine: {machine()}")
    print(
        f"fixture: {args.fixture} ({len(rows)} rows); {args.runs} interleaved runs; "
        f"{args.clock} time"
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(
        "| implementation | median sent/s | min | max | CV of run time | ratio to reference "
        "(median of per-run ratios) |\n|---|---:|---:|---:|---:|---:|"
    )
    results = {}
    for name in names:
        rates = [len(rows) / s for s in seconds[name]]
        ratios = [r / s for r, s in zip(seconds[ref_name], seconds[name])]
        cv = statistics.stdev(seconds[name]) / statistics.mean(seconds[name])
        results[name] = {
            "median": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "cv": cv,
            "ratio_to_reference": statistics.median(ratios),
            "seconds": seconds[name],
        }
        print(
            f"| {name} | {statistics.median(rates):,.0f} | {min(rates):,.0f} | "
            f"{max(rates):,.0f} | {cv:.1%} | {statistics.median(ratios):.2f}x |"
        )
    greedy = seconds["xner now candidates-greedy"]
    ilp = seconds["xner now candidates-ilp"]
    ilp_ratio = statistics.median(i / g for i, g in zip(ilp, greedy))
    print(
        f"candidates-ilp time / candidates-greedy time (median of per-run ratios): {ilp_ratio:.2f}"
    )
    same = agreement(rows)
    print(
        "sentences tagged exactly as the reference: "
        + ", ".join(f"heuristic {k}: {v} of {len(rows)}" for k, v in same.items())
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": results,
                    "ilp_over_greedy": ilp_ratio,
                    "agreement": same,
                    "load": [load_before, load_after],
                    "clock": args.clock,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
