"""`xner experiment CONFIG.yaml` (expand an experiment into runs, run them, tabulate and plot)
and `xner results ROWS.jsonl...` (tables from stored result rows)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.options import parse_params, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "experiment",
        help="run an experiment (languages x modes x seeds) and tabulate F1 mean ± std",
        description="Reads an experiment file (settings: core/experiments/settings.py; a full "
        "example: configs/flagship.yaml), runs its runs (in this process one after another; "
        "--executor pool: worker processes; local|slurm|submitit-local: background runs of the "
        "run manager) and writes rows.jsonl, results.csv, results.md and results.png to its "
        "output folder. Runs whose workdir already holds the metrics of the same job are reused "
        "(--rerun to redo them), so a crashed experiment continues.",
    )
    p.add_argument("config", help="experiment file (YAML)")
    p.add_argument("--json", action="store_true", help="print the plan/results as JSON")
    p.add_argument("--executor", help="inprocess (default), pool, local, slurm, submitit-local")
    p.add_argument("--parallel", type=int, help="runs at a time (pool and run-manager executors)")
    p.add_argument(
        "--executor-param", action="append", metavar="KEY=VALUE", help="run-manager executor option"
    )
    p.add_argument("--languages", nargs="+", help="run these of the file's languages only")
    p.add_argument("--seeds", nargs="+", type=int, help="run these seeds instead of the file's")
    p.add_argument("--modes", nargs="+", help="run these modes instead of the file's")
    p.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    p.add_argument("--rerun", action="store_true", help="redo runs that already finished")
    p.add_argument("--output", help="results folder (default: the file's `output`)")
    p.add_argument(
        "--data",
        help="the data folder (default: the file's `data`); the setup records the data's "
        "content hashes, not its place, so results stay comparable",
    )
    p.add_argument("--runs-home", help="runs folder for the run manager (see `xner runs`)")
    p.add_argument(
        "--no-publish",
        action="store_true",
        help="do not copy the rows to the app's results (XNER_HOME/results)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_experiment_command)

    r = subparsers.add_parser(
        "results",
        help="tabulate stored result rows (mean ± std over seeds, per setup)",
        description="Reads result rows (JSONL: rows.jsonl of an experiment, "
        "bench/results/*rows*.jsonl) and prints one table: rows are pooled only within one "
        "setup (core/experiments/results.py), each setup named in the table.",
    )
    r.add_argument("rows", nargs="+", help="JSONL files of result rows")
    r.add_argument("--registry", action="store_true", help="add the run registry's finished runs")
    r.add_argument("--runs-home", help="runs folder (with --registry)")
    r.add_argument("--main", default="F1", help="the main score's column title")
    r.add_argument("--json", action="store_true", help="print the table as JSON")
    r.set_defaults(run=run_results_command)


def _executor(exp, args: argparse.Namespace):
    from core.experiments.settings import ExecutorSettings, validate

    current = exp.settings.executor
    if not (args.executor or args.parallel is not None or args.executor_param):
        return current
    return validate(
        ExecutorSettings,
        {
            "name": args.executor or current.name,
            "parallel": current.parallel if args.parallel is None else args.parallel,
            "params": {**current.params, **parse_params(args.executor_param)},
        },
        "command line: --executor/--parallel/--executor-param",
    )


def _restrict(exp, args: argparse.Namespace) -> None:
    """--languages/--seeds/--modes: a part of the plan. Languages, seeds and modes are not part
    of a result's setup, so the rows stay comparable with the whole experiment's."""
    from core.errors import ConfigError
    from core.experiments.settings import ExperimentSettings, validate

    if not (args.languages or args.seeds or args.modes):
        return
    data = exp.settings.model_dump()
    if args.languages:
        unknown = [lang for lang in args.languages if lang not in exp.languages]
        if unknown:
            raise ConfigError(f"--languages: {', '.join(unknown)} not in {exp.path}'s languages "
                              f"({', '.join(exp.languages)})")  # fmt: skip
        data["languages"] = list(args.languages)
        for section in ("projection", "distill"):
            overrides = data[section]["languages"]
            data[section]["languages"] = {k: v for k, v in overrides.items()
                                          if k in args.languages}  # fmt: skip
    if args.seeds:
        data["seeds"] = list(args.seeds)
    if args.modes:
        data["modes"] = list(args.modes)
    exp.whole = exp.whole or exp.settings
    exp.settings = validate(ExperimentSettings, data, "command line: --languages/--seeds/--modes")


def run_experiment_command(args: argparse.Namespace) -> int:
    from core.experiments.plan import load_experiment, plan, prepare
    from core.experiments.results import markdown_table, write_results
    from core.experiments.run import run_plan

    exp = load_experiment(args.config, data=args.data)
    _restrict(exp, args)
    executor = exp.settings.executor = _executor(exp, args)
    if args.output:
        exp.settings.output = args.output
    phases = plan(exp)
    runs = [r for phase in phases for r in phase]
    if args.dry_run:
        if args.json:
            print_json({"name": exp.name, "executor": executor.to_dict(),
                        "output": str(exp.output), "runs": [r.to_dict() for r in runs]})  # fmt: skip
        else:
            print(f"experiment {exp.name}: {len(runs)} runs in {len(phases)} phase(s), "
                  f"executor {executor.name} x{executor.parallel}, output {exp.output}")  # fmt: skip
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

    prepare(exp, progress=not args.quiet)
    manager = None
    if executor.managed:
        from core.runs import RunManager

        manager = RunManager(args.runs_home)
    try:
        outcomes = run_plan(phases, executor, rerun=args.rerun, manager=manager, on_event=on_event)
    finally:
        bar.close()
    publish = None
    if not args.no_publish:
        from core.homes import data_home

        publish = data_home() / "results"
    result = write_results(exp, outcomes, publish)
    if args.json:
        print_json({"name": exp.name, "table": result.table, "failed": result.failed,
                    "files": result.files, "runs": len(outcomes)})  # fmt: skip
    else:
        print(markdown_table(result.table) if result.table else "no results")
        for key, path in result.files.items():
            print(f"{key}: {path}", file=sys.stderr)
    for f in result.failed:
        print(f"xner: run {f['name']} failed: {f['error']}", file=sys.stderr)
    return 1 if result.failed else 0


def run_results_command(args: argparse.Namespace) -> int:
    from core.experiments.results import aggregate, load_rows, markdown_table, registry_rows

    rows = load_rows([Path(p) for p in args.rows])
    if args.registry:
        rows += registry_rows(args.runs_home)
    table = aggregate(rows)
    if args.json:
        print_json(table)
    else:
        print(markdown_table(table, args.main) if table else "no results")
    return 0
