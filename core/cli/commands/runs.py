"""`xner runs list|show|launch|cancel|resume|logs|wait`: background runs (core.runs)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.cli.options import parse_params, print_json
from core.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    runs = subparsers.add_parser(
        "runs",
        help="list, launch, follow, cancel and resume background runs",
        description="Background runs with a persistent record (SQLite under the runs folder: "
        "--home, else $XNER_RUNS, else $XNER_HOME/runs, else ./xner_data/runs). Runs launched from the "
        "app appear here and the other way round. IDs may be abbreviated to a unique prefix or "
        "suffix.",
    )
    runs.set_defaults(run=lambda _args: runs.print_help() or 2)
    sub = runs.add_subparsers(dest="runs_command", metavar="ACTION")

    def action(name: str, help: str, func) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--home", help="runs folder (default: see `xner runs --help`)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(run=func)
        return p

    p = action("list", "list runs, newest first", run_list)
    p.add_argument("--status", action="append", help="only runs with this status, repeatable")
    p.add_argument("--kind", help="only runs of this job kind")
    p.add_argument("--limit", type=int, default=50)

    p = action("show", "one run's record: config, progress, metrics, error", run_show)
    p.add_argument("id")

    p = action("launch", "start a job in the background", run_launch)
    p.add_argument("kind", help="job kind: train, demo, sleep (see core.runs.jobs)")
    p.add_argument("--config", help="job config: a YAML/JSON file or an inline JSON object")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="config key, repeatable")
    p.add_argument("--name", help="a label for the run")
    p.add_argument("--workdir", help="the job's folder (default RUNS/ID/work)")
    p.add_argument("--executor", default="local", help="local (default), slurm, submitit-local")
    p.add_argument(
        "--executor-param",
        action="append",
        metavar="KEY=VALUE",
        help="executor option, repeatable (slurm: slurm_partition=gpu, timeout_min=600, ...)",
    )
    p.add_argument("--follow", action="store_true", help="print the log until the run ends")

    p = action("cancel", "stop a queued or running run", run_cancel)
    p.add_argument("id")
    p.add_argument("--force", action="store_true", help="kill the process instead of asking")
    p.add_argument("--wait", type=float, default=10.0, help="seconds to wait for it (default 10)")

    p = action("resume", "restart a failed/cancelled/resumable run from its checkpoint", run_resume)
    p.add_argument("id")
    p.add_argument("--executor", help="another executor than the run's own")
    p.add_argument("--follow", action="store_true", help="print the log until the run ends")

    p = action("logs", "print a run's log", run_logs)
    p.add_argument("id")
    p.add_argument("-n", "--lines", type=int, default=100, help="last N lines (default 100)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until it ends")

    p = action("wait", "wait until a run has finished; exit 0 if it succeeded", run_wait)
    p.add_argument("id")
    p.add_argument("--timeout", type=float)


def _manager(args: argparse.Namespace):
    from core.runs import RunManager

    return RunManager(args.home)


def load_config(value: str | None) -> dict:
    """A job config from a YAML/JSON file, or an inline JSON object."""
    if not value:
        return {}
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--config: invalid JSON: {exc}") from None
    else:
        import yaml

        from core.data.formats import read_text

        try:
            data = yaml.safe_load(read_text(value))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{value}: invalid YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{value}: a job config is one mapping of keys to values")
    return data


# --------------------------------------------------------------------------- rendering


def _age(t: float | None) -> str:
    if t is None:
        return "-"
    s = time.time() - t
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s / size:.0f}{unit} ago"
    return f"{s:.0f}s ago"


def progress_text(run) -> str:
    """`42% demo 3/7 epoch 2/8 loss 0.123` from whatever the job reported."""
    p = run.progress
    parts = []
    if run.fraction is not None:
        parts.append(f"{100 * run.fraction:.0f}%")
    if p.get("stage"):
        parts.append(str(p["stage"]))
    if p.get("epoch") is not None and p.get("epochs"):
        parts.append(f"epoch {p['epoch']}/{p['epochs']}")
    elif p.get("step") is not None and p.get("total"):
        parts.append(f"step {p['step']}/{p['total']}")
    if isinstance(p.get("loss"), int | float):
        parts.append(f"loss {p['loss']:.4g}")
    return " ".join(parts) or "-"


def _f1(run) -> str:
    f1 = (run.metrics or {}).get("f1") if isinstance(run.metrics, dict) else None
    return f"{f1:.3f}" if isinstance(f1, int | float) else "-"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


# --------------------------------------------------------------------------- actions


def run_list(args: argparse.Namespace) -> int:
    runs = _manager(args).list(args.status, args.kind, args.limit)
    if args.json:
        print_json([r.to_dict() for r in runs])
        return 0
    if not runs:
        print("no runs", file=sys.stderr)
        return 0
    rows = [["ID", "NAME", "KIND", "STATUS", "PROGRESS", "F1", "CREATED"]]
    for r in runs:
        rows.append(
            [r.id, r.name[:30], r.kind, r.status, progress_text(r), _f1(r), _age(r.created)]
        )
    print(_table(rows))
    return 0


def _show(run, as_json: bool) -> None:
    if as_json:
        print_json(run.to_dict())
        return
    print(f"run {run.id}  {run.name}  [{run.kind} on {run.executor}]")
    print(f"status    {run.status} (attempt {run.attempts})")
    print(f"progress  {progress_text(run)}")
    when = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"
    print(f"created   {when(run.created)}  started {when(run.started)}  "
          f"finished {when(run.finished)}")  # fmt: skip
    print(f"process   pid {run.pid or '-'} on {run.host or '-'}  job {run.external_id or '-'}")
    print(f"workdir   {run.workdir}")
    print(f"log       {run.log_path}")
    if run.error:
        print(f"error     {run.error}")
    if run.metrics is not None:
        print("metrics   " + json.dumps(run.metrics, ensure_ascii=False)[:2000])
    print("config    " + json.dumps(run.config, ensure_ascii=False))


def run_show(args: argparse.Namespace) -> int:
    _show(_manager(args).get(args.id), args.json)
    return 0


def _follow(manager, run_id: str) -> int:
    for chunk in manager.follow(run_id):
        sys.stdout.write(chunk)
        sys.stdout.flush()
    run = manager.get(run_id)
    print(f"[xner] run {run.id} {run.status}" + (f": {run.error}" if run.error else ""),
          file=sys.stderr)  # fmt: skip
    return 0 if run.status == "succeeded" else 1


def _check_job_file(kind: str, path: str | None, config: dict) -> None:
    """A train or demo job from a file is checked here, so that an error names its line."""
    from core.experiments.settings import DemoJob, TrainJob, read_yaml, validate

    model = {"train": TrainJob, "demo": DemoJob}.get(kind)
    if model is None or not path or path.strip().startswith("{"):
        return
    _data, root = read_yaml(path)
    validate(model, config, path, root)


def run_launch(args: argparse.Namespace) -> int:
    manager = _manager(args)
    config = {**load_config(args.config), **parse_params(args.set)}
    _check_job_file(args.kind, args.config, config)
    run = manager.launch(
        args.kind,
        config,
        executor=args.executor,
        executor_params=parse_params(args.executor_param),
        name=args.name,
        workdir=Path(args.workdir) if args.workdir else None,
    )
    if args.json and not args.follow:
        print_json(run.to_dict())
    else:
        print(f"launched run {run.id} ({run.kind} on {run.executor}); log: {run.log_path}",
              file=sys.stderr)  # fmt: skip
        if not args.json:
            print(run.id)
    return _follow(manager, run.id) if args.follow else 0


def run_cancel(args: argparse.Namespace) -> int:
    run = _manager(args).cancel(args.id, force=args.force, wait=args.wait)
    if args.json:
        print_json(run.to_dict())
    else:
        print(f"run {run.id}: {run.status}" + (" (still stopping)" if run.active else ""))
    return 0


def run_resume(args: argparse.Namespace) -> int:
    manager = _manager(args)
    run = manager.resume(args.id, executor=args.executor)
    if args.follow:
        return _follow(manager, run.id)
    if args.json:
        print_json(run.to_dict())
    else:
        print(f"run {run.id} resumed (attempt {run.attempts}); log: {run.log_path}")
    return 0


def run_logs(args: argparse.Namespace) -> int:
    manager = _manager(args)
    if args.follow:
        return _follow(manager, args.id)
    text = manager.log_tail(args.id, args.lines)
    if args.json:
        print_json({"id": manager.get(args.id).id, "log": text})
    elif text:
        print(text)
    return 0


def run_wait(args: argparse.Namespace) -> int:
    run = _manager(args).wait(args.id, args.timeout)
    if args.json:
        print_json(run.to_dict())
    else:
        print(f"run {run.id}: {run.status}" + (f": {run.error}" if run.error else ""))
    return 0 if run.status == "succeeded" else 1
