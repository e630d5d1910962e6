"""`xner train` (one training job in the foreground) and `xner tag` (apply a saved tagger)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.options import parse_params
from core.errors import ConfigError
from core.experiments.settings import MODES


def register(subparsers: argparse._SubParsersAction) -> None:
    t = subparsers.add_parser(
        "train",
        help="train and evaluate one NER tagger (direct, distill or model-transfer)",
        description="Runs one training job in this process: a YAML/JSON job file and/or options. "
        "Options override the file. Checkpoints go to WORKDIR/checkpoints: the same command "
        "with the same --workdir resumes an interrupted run. (Background runs: `xner runs`.)",
    )
    t.add_argument(
        "--config",
        help="job file (YAML or JSON) with the keys of core.experiments.settings.TrainJob",
    )
    t.add_argument("--mode", choices=MODES)
    t.add_argument("--tagger", help="embedded (default) or transformers")
    t.add_argument("--train", help="labelled training data (CoNLL)")
    t.add_argument("--unlabelled", help="distill: unlabelled target text (tokens per line)")
    t.add_argument("--teacher", action="append", help="distill: saved teacher folder, repeatable")
    t.add_argument("--test", help="labelled test data (CoNLL)")
    t.add_argument("--dev", help="labelled dev data for model selection")
    t.add_argument("--types", nargs="+", help="types of the main score (default PER ORG LOC)")
    t.add_argument("--seed", type=int)
    t.add_argument("--epochs", type=int)
    t.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="tagger option, repeatable"
    )
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="any job key, repeatable")
    t.add_argument("--workdir", required=True, help="folder for checkpoints, model, metrics")
    t.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=run_train)

    g = subparsers.add_parser(
        "tag",
        help="tag CoNLL or tokenised text with a saved tagger",
        description="Reads tokens (CoNLL: first column; text: whitespace tokens per line) and "
        "writes TOKEN TAG CoNLL.",
    )
    g.add_argument("--model", required=True, help="a saved tagger folder (WORKDIR/model)")
    g.add_argument("--input", required=True)
    g.add_argument("--output", required=True)
    g.set_defaults(run=run_tag)


def build_job(args: argparse.Namespace):
    """The TrainJob of the command line: the job file's keys, then the options over them."""
    from core.experiments.settings import TrainJob, read_yaml, validate

    job, root, source = {}, None, "command line"
    if args.config:
        job, root = read_yaml(args.config)
        source = args.config
        if not isinstance(job, dict):
            raise ConfigError(f"{args.config}: a job file holds one mapping of job keys")
    given = {}
    for key in ("mode", "tagger", "train", "unlabelled", "test", "dev", "types", "seed", "epochs"):
        value = getattr(args, key)
        if value is not None:
            given[key] = value
    if args.teacher:
        given["teachers"] = [{"path": p} for p in args.teacher]
    if args.param:
        given["tagger_params"] = {**job.get("tagger_params", {}), **parse_params(args.param)}
    given.update(parse_params(args.set))
    if given:  # a bad value then comes from the options: no file line to point at
        root, source = None, f"{source} (with options)" if args.config else source
    return validate(TrainJob, {**job, **given}, source, root)


def run_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.training import train_job

    job = build_job(args)
    bar = tqdm(total=1000, disable=args.quiet, desc=job.mode, unit="‰")

    def report(event: dict) -> None:
        if "fraction" in event:
            bar.set_description(f"{event['stage']} epoch {event['epoch']}/{event['epochs']}")
            if isinstance(event.get("loss"), int | float):
                bar.set_postfix(loss=f"{event['loss']:.4f}")
            bar.n = int(1000 * event["fraction"])
            bar.refresh()

    try:
        metrics = train_job(job, report, lambda: False, Path(args.workdir))
    finally:
        bar.close()
    if args.json:
        print(json.dumps(metrics, indent=1, allow_nan=False))
    else:
        scores = " ".join(
            f"{k} {'n/a' if v['f1'] is None else format(v['f1'], '.4f')}"
            for k, v in sorted(metrics["per_type"].items())
        )
        print(
            f"F1 {metrics['f1']:.4f} (P {metrics['precision']:.4f}, R {metrics['recall']:.4f}) "
            + scores
        )
        print(f"model: {metrics.get('model_path', '-')}", file=sys.stderr)
    return 0


def run_tag(args: argparse.Namespace) -> int:
    from core.data.formats import read_conll, read_lines, write_conll
    from core.data.types import Sentence
    from core.taggers import load_tagger
    from core.training import looks_conll

    tagger = load_tagger(args.model)
    if looks_conll(args.input):
        token_lists = [s.tokens for s in read_conll(args.input)]
    else:
        token_lists = [line.split() for line in read_lines(args.input, allow_empty_lines=True)]
    tags = tagger.predict(token_lists)
    write_conll(args.output, [Sentence(t, g) for t, g in zip(token_lists, tags) if t])
    print(f"tagged {len(token_lists)} sentences -> {args.output}", file=sys.stderr)
    return 0
