"""The projection step alone, side by side: the reference heuristic, xner as of 3088df9
(bench/baseline) and today's xner, on the fixed fixture ../shared/bench/fixture_yor.json.gz.

    python bench/projection_step.py [--runs 9] [--original FILE] [--json OUT]

Every run times every implementation once, in a rotating order (interleaved), so machine load
falls on all of them alike. Each run records the process's CPU time and the wall time; the
ratios use CPU time (`--clock cpu`, the default: on a busy shared machine wall time mostly
measures the other processes) or wall time (`--clock wall`), and the other clock's table is
printed too. Per implementation: the median, min and max sentences/s, the coefficient of
variation of the run times (GC stalls show up there and in max/min) and the median of the
per-run ratios to the reference. Python's garbage collector stays in its default state, as a
user gets it. The load average is printed before and after.

The reference takes plain link lists; xner takes Alignment objects, which the aligner makes
before the step. The rows "+ making the Alignment objects" time their construction (from each
pair's frozenset of links, as the aligners hand them over) inside the step too, like for like.
An Alignment sorts nothing when made: the projectors read an entity's links from a source ->
target dict when every source word has at most one link (as here: intersection links), else
from `ordered_links`, sorted on first use; either way inside the timed step.

Outputs are checked, not assumed: tags equal to the reference's per heuristic setting, and every
projected span, source span, score and link list equal to 3088df9's (candidates-ilp: equal or,
where optima tie, the same total score per sentence).
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
from core.projection.base import Projector  # noqa: E402

METHODS = ("heuristic", "candidates-greedy", "candidates-ilp")
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
    for name, projector in baseline_projectors().items():
        impls[f"xner 3088df9 {name}"] = lambda p=projector: baseline_project_pairs(pairs, p)
    for name in METHODS:
        projector = get_projector(name)
        impls[f"xner now {name}"] = lambda p=projector: project_pairs(pairs, p)
    # the same, with the Alignment objects made in the timing (from the aligners' frozensets)
    link_sets = [pair.alignment.links for pair in pairs]  # type: ignore[union-attr]
    fresh = [SentencePair(p.source, p.target, None, id=p.id) for p in pairs]

    def with_alignments(projector: Projector) -> object:
        for pair, links in zip(fresh, link_sets):
            pair.alignment = Alignment(links)
        return project_pairs(fresh, projector)

    for name in ("heuristic", "candidates-greedy"):
        projector = get_projector(name)
        impls[f"xner now {name} + making the Alignment objects"] = lambda p=projector: (
            with_alignments(p)
        )
    return impls


def baseline_projectors() -> dict[str, object]:
    return {
        "heuristic": baseline_heuristic.HeuristicProjector(),
        "candidates-greedy": baseline_candidates.GreedyCandidateProjector(),
        "candidates-ilp": baseline_candidates.IlpCandidateProjector(),
    }


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


def provenance(projection: object) -> list[tuple]:
    """A projection's spans as plain values (the baseline's and today's types differ)."""
    return [
        (
            (p.span.start, p.span.end, p.span.label),
            (p.source.start, p.source.end, p.source.label),
            p.method,
            p.score,
            tuple(p.links),
        )
        for p in projection.spans  # type: ignore[attr-defined]
    ]


def same_as_baseline(rows: list[dict]) -> dict[str, dict[str, int]]:
    """Per method, sentences whose projections equal 3088df9's in every field, whose tags are
    equal, and (candidates-ilp, where optima tie) whose total score is equal."""
    pairs = fixture_pairs(rows)
    out = {}
    for name, old_projector in baseline_projectors().items():
        old = baseline_project_pairs(pairs, old_projector)
        new = project_pairs(pairs, get_projector(name))
        old_spans, new_spans = [provenance(p) for p in old], [provenance(p) for p in new]
        out[name] = {
            "identical": sum(a == b for a, b in zip(old_spans, new_spans)),
            "same tags": sum(a.target_tags() == b.target_tags() for a, b in zip(old, new)),
            "same total score": sum(
                abs(sum(x[3] for x in a) - sum(x[3] for x in b)) < 1e-9
                for a, b in zip(old_spans, new_spans)
            ),
        }
    return out


def table(seconds: dict[str, list[float]], n: int, ref_name: str) -> tuple[list[str], dict]:
    lines = [
        "| implementation | median sent/s | min | max | CV of run time | ratio to reference "
        "(median of per-run ratios) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    results = {}
    for name, times in seconds.items():
        rates = [n / s for s in times]
        ratios = [r / s for r, s in zip(seconds[ref_name], times)]
        cv = statistics.stdev(times) / statistics.mean(times)
        results[name] = {
            "median": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "cv": cv,
            "ratio_to_reference": statistics.median(ratios),
            "seconds": times,
        }
        lines.append(
            f"| {name} | {statistics.median(rates):,.0f} | {min(rates):,.0f} | "
            f"{max(rates):,.0f} | {cv:.1%} | {statistics.median(ratios):.2f}x |"
        )
    return lines, results


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
    load_before = os.getloadavg()
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for run in range(args.runs):
        order = names[run % len(names) :] + names[: run % len(names)]
        for name in order:
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            impls[name]()
            cpu[name].append(time.process_time() - started_cpu)
            wall[name].append(time.perf_counter() - started_wall)
    load_after = os.getloadavg()
    ref_name = names[0]
    print(f"machine: {machine()}")
    print(f"fixture: {args.fixture} ({len(rows)} rows); {args.runs} interleaved runs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    tables = {}
    by_clock = {"cpu": cpu, "wall": wall}
    for clock in sorted(by_clock, key=lambda c: c != args.clock):  # the figure's clock first
        lines, tables[clock] = table(by_clock[clock], len(rows), ref_name)
        print(f"\n{clock} time" + (" (the figure)" if clock == args.clock else ""))
        print("\n".join(lines))
    seconds = by_clock[args.clock]
    greedy, ilp = seconds["xner now candidates-greedy"], seconds["xner now candidates-ilp"]
    ilp_ratio = statistics.median(i / g for i, g in zip(ilp, greedy))
    print(
        f"\ncandidates-ilp time / candidates-greedy time (median of per-run ratios, "
        f"{args.clock}): {ilp_ratio:.2f}"
    )
    same = agreement(rows)
    print(
        "sentences tagged exactly as the reference: "
        + ", ".join(f"heuristic {k}: {v} of {len(rows)}" for k, v in same.items())
    )
    baseline = same_as_baseline(rows)
    for name, counts in baseline.items():
        print(
            f"{name} vs 3088df9: " + ", ".join(f"{k} {v} of {len(rows)}" for k, v in counts.items())
        )
    # what must hold: the reference's tags where the heuristic is set as the reference; the
    # same projections as 3088df9 (the ILP's ties aside, with the same total score)
    mismatches = [
        f"heuristic only_unaligned_gaps=False differs from the reference on "
        f"{len(rows) - same['only_unaligned_gaps=False']} sentences"
    ] * (same["only_unaligned_gaps=False"] != len(rows))
    for name, counts in baseline.items():
        key = "same total score" if name == "candidates-ilp" else "identical"
        if counts[key] != len(rows):
            mismatches.append(f"{name}: {key} on {counts[key]} of {len(rows)} sentences only")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": tables[args.clock],
                    "other_clock": tables["wall" if args.clock == "cpu" else "cpu"],
                    "ilp_over_greedy": ilp_ratio,
                    "agreement": same,
                    "same_as_baseline": baseline,
                    "load": [load_before, load_after],
                    "clock": args.clock,
                    "runs": args.runs,
                    "machine": machine(),
                    "mismatches": mismatches,
                },
                indent=1,
            )
        )
    if mismatches:
        sys.exit("outputs differ: " + "; ".join(mismatches))


if __name__ == "__main__":
    main()
