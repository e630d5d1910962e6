"""Does correcting the most suspicious projected sentences help the tagger trained on them?

Europarl-NER (the same 799 sentences with gold NER in English and German): the first TRAIN
sentence pairs are aligned with eflomal and the English gold entities projected onto German
(heuristic), exactly as a project in the app. The N most suspicious sentences (the explorer's
review queue, most suspicious first) are then "corrected" with the German gold labels (the gold
plays the annotator), through the correction store. Taggers are trained on the corrected and on
the uncorrected data (core.workbench.retrain: same settings and seeds) and scored on the last
TEST German sentences (gold), which no training file contains.

    python bench/retrain_corrections.py [--n 50] [--seeds 1 2 3] [--modes direct distill]
        [--epochs 8] [--threads 1]

Both modes are the retrain action's jobs (core.workbench.retrain). A distill job trains its own
teacher, a direct tagger on the same data with the same seed and settings, which is exactly the
direct job of that version and seed; so here each distill student is taught by that direct
run's saved model (`teachers`), which halves the time and changes nothing else.

Prints JSON: the settings, the projection's F1 against the German gold before and after the
corrections, and per mode the F1 (mean ± std over seeds) on each data version with the change.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50, help="sentences corrected")
    parser.add_argument("--train", type=int, default=699)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--modes", nargs="+", default=["direct", "distill"])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lang", default="de", choices=["de", "es"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training")
    args = parser.parse_args()

    from core.aligners.base import get_aligner
    from core.data.formats import read_conll, write_conll
    from core.experiments.results import aggregate, cell, make_row
    from core.training import train_job
    from core.workbench.explorer import gold_scores, ordered, sentence_rows
    from core.workbench.retrain import retrain_jobs
    from core.workbench.workspace import build_project

    english = read_conll(DATA / "europarl_ner" / "en.test.conll02", lang="en")
    target = read_conll(DATA / "europarl_ner" / f"{args.lang}.test.conll02", lang=args.lang)
    train_en, train_tgt = english[: args.train], target[: args.train]
    test = target[-args.test :]
    work = Path(tempfile.mkdtemp(prefix="xner-retrain-"))
    write_conll(work / "test.conll", test)
    started = time.perf_counter()
    project = build_project(
        "europarl",
        train_en,
        train_tgt,  # their labels become the project's gold; projecting ignores them
        aligners={"eflomal": get_aligner("eflomal")},
        methods=["heuristic"],
        meta={"source_lang": "en", "target_lang": args.lang},
        home=work,
    )
    key = project.view_keys[0]
    view = project.projections(key)
    gold = project.gold() or {}
    before = gold_scores(view, gold)[1]
    queue = ordered(sentence_rows(view), "suspicion")[: args.n]
    store = project.corrections
    for row in queue:
        store.set_tags(row.id, gold[row.id], projected=view[row.index].target_tags(), user="gold")
    after_tags = {s.id: s.tags for s in project.corrected(key)}
    from core.workbench.explorer import GoldScore, gold_score

    after = GoldScore()
    for sid, tags in after_tags.items():
        after.add(gold_score(tags, gold[sid]))
    planned = retrain_jobs(project, key, work / "test.conll", preset="small", modes=args.modes)
    rows, versions = [], {}
    # Direct before distill: a distill student is taught by the direct model of its data and seed.
    jobs = sorted(
        {(p.version, p.job.mode): p for p in planned}.values(),
        key=lambda p: (p.version, p.job.mode != "direct"),
    )
    for seed in args.seeds:
        for p in jobs:
            update: dict = {
                "seed": seed,
                "epochs": args.epochs,
                "tagger_params": {**p.job.tagger_params, "threads": args.threads},
            }
            teacher = work / "runs" / f"{p.version}-direct-seed{seed}" / "model"
            if p.job.mode == "distill" and (teacher / "tagger.json").is_file():
                update["teachers"] = [{"path": str(teacher)}]
            job = p.job.model_validate({**p.job.to_dict(), **update})
            name = f"{p.version}-{job.mode}-seed{seed}"
            t0 = time.perf_counter()
            metrics = train_job(job, lambda event: None, lambda: False, work / "runs" / name)
            row = make_row(name, job.to_dict(), metrics, run_id=name)
            versions[row["setup_id"]] = p.version
            rows.append(row)
            print(f"{name}: F1 {metrics['f1']:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    table = {}
    for entry in aggregate(rows):
        table.setdefault(entry["mode"], {})[versions[entry["setup_id"]]] = {
            "f1": cell(entry, "f1"),
            "mean": entry["f1_mean"],
            "std": entry["f1_std"],
            "seeds": entry["n"],
        }
    for results in table.values():
        if "corrected" in results and "uncorrected" in results:
            results["change"] = round(
                results["corrected"]["mean"] - results["uncorrected"]["mean"], 4
            )
    print(
        json.dumps(
            {
                "data": f"Europarl-NER en->{args.lang}: train on the first {args.train} "
                f"sentences (projected), test on the last {args.test} {args.lang} gold",
                "corrected": f"{args.n} most suspicious sentences, labels from the gold",
                "projection vs gold, train part": {
                    "before": before.describe(),
                    "after corrections": after.describe(),
                },
                "tagger": planned[0].job.tagger,
                "epochs": args.epochs,
                "seeds": args.seeds,
                "results": table,
                "seconds": round(time.perf_counter() - started, 1),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
                "command": "python bench/retrain_corrections.py "
                + " ".join(
                    f"--{k} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                    for k, v in vars(args).items()
                ),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
