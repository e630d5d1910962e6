"""`xner experiment CONFIG.yaml`: expand an experiment into runs, run them, tabulate and plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.options import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "experiment",
        help="run an experiment (languages x modes x seeds) and tabulate F1 mean ± std",
        description="Reads an experiment file (schema: core/experiments/engine.py), runs its runs "
        "(in this process one after another, or through the run manager with --executor "
        "local|slurm|submitit-local) and writes rows.jsonl, results.csv, results.md and "
        "results.png to its output folder. Runs whose workdir already holds the metrics of the "
        "same job are reused (--rerun to redo them), so a crashed experiment continues.",
    )
    p.add_argument("config", help="experiment file (YAML)")
    p.add_argument("--json", action="store_true", help="print the plan/results as JSON")
    p.add_argument("--executor", help="inprocess (default), local, slurm, submitit-local")
    p.add_argument("--parallel", type=int, help="run-manager runs at a time")
    p.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    p.add_argument("--rerun", action="store_true", help="redo runs that already finished")
    p.add_argument("--output", help="results folder (default: the file's `output`)")
    p.add_argument("--runs-home", help="runs folder for the run manager (see `xner runs`)")
    p.add_argument(
        "--no-publish",
        action="store_true",
        help="do not copy the rows to the app's results (XNER_HOME/results)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_experiment_command)


def run_experiment_command(args: argparse.Namespace) -> int:
    from core.experiments import engine as ex

    exp = ex.load_experiment(args.config)
    if args.executor:
        ex._check_executor(args.executor, lambda m: ex.ConfigError(f"--executor: {m}"))
        exp.executor = args.executor
    if args.parallel:
        exp.parallel = args.parallel
    if args.output:
        exp.output = Path(args.output)
    phases = ex.plan(exp)
    runs = [r for phase in phases for r in phase]
    if args.dry_run:
        if args.json:
            print_json({"name": exp.name, "executor": exp.executor, "output": str(exp.output),
                        "runs": [r.to_dict() for r in runs]})  # fmt: skip
        else:
            print(f"experiment {exp.name}: {len(runs)} runs in {len(phases)} phase(s), "
                  f"executor {exp.executor}, output {exp.output}")  # fmt: skip
            for r in runs:
                print(f"  phase {r.phase + 1}  {r.name:<32} {r.kind:<6} {r.workdir}")
        return 0

    from tqdm import tqdm

    bar = tqdm(total=len(runs), disable=args.quiet, unit="run", desc=exp.name)

    def on_event(kind: str, run, event: dict) -> None:
        if kind in ("end", "reused"):
            bar.update(1)
        elif kind == "start":
            bar.set_postfix_str(run.name)
        elif kind == "progress" and isinstance(event.get("fraction"), int | float):
            bar.set_postfix_str(f"{run.name} {100 * event['fraction']:.0f}%")

    ex.prepare(exp, progress=not args.quiet)
    manager = None
    if exp.executor != "inprocess":
        from core.runs import RunManager

        manager = RunManager(args.runs_home)
    try:
        outcomes = ex.run_plan(
            phases, exp.executor, parallel=exp.parallel, rerun=args.rerun, manager=manager,
            on_event=on_event,
        )  # fmt: skip
    finally:
        bar.close()
    publish = None
    if not args.no_publish:
        from core.workbench.workspace import data_home

        publish = data_home() / "results"
    result = ex.write_results(exp, outcomes, publish)
    if args.json:
        print_json({"name": exp.name, "table": result.table, "failed": result.failed,
                    "files": result.files, "runs": len(outcomes)})  # fmt: skip
    else:
        print(ex.markdown_table(result.table) if result.table else "no results")
        for key, path in result.files.items():
            print(f"{key}: {path}", file=sys.stderr)
    for f in result.failed:
        print(f"xner: run {f['name']} failed: {f['error']}", file=sys.stderr)
    return 1 if result.failed else 0
