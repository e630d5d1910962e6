"""Experiments: one YAML file -> runs (language x mode x seed) -> a results table and a plot.

The schema (every key checked; an unknown key or language is a ConfigError naming it and the
file; relative paths are taken from the working directory, like the rest of the CLI):

    name: flagship                  # default: the file's stem
    job: train                      # run kind (core.runs.jobs): train (default) or demo
    data: ../shared/data            # train: mafand_mt/, masakhaner2/, conll2003_en/
    work: artifacts/flagship        # run folders and the projected-data cache
    output: artifacts/flagship/results   # tables and plot (default WORK/results)
    languages: [yor, hau]
    seeds: [1, 2, 3]
    modes: [direct, distill, model-transfer]
    executor: inprocess             # or a run-manager executor: local, slurm, submitit-local
    parallel: 1                     # run-manager runs at a time
    projection: {source_labeler: spacy, aligner: eflomal, aligner_params: {...},
                 method: heuristic, method_params: {...}, drop_incomplete: false,
                 parallel: mafand_mt,
                 languages: {yor: {method: candidates-greedy, ...}}}   # per-language overrides
    tagger: embedded
    tagger_params: {...}
    epochs: 8                       # direct and model-transfer
    distill: {student_epochs, teachers: direct-ensemble|direct-same-seed, hard_weight,
              mt_teacher_weight, unlabelled: [masakhaner2 ..., mafand ...]}
    model_transfer: {train: conll2003_en/train.txt, labels_keep: [PER, ORG, LOC]}
    evaluation: {test: "masakhaner2/{lang}/test.txt", types: [PER, ORG, LOC],
                 report_types: [DATE]}
    demo: {steps: 3, step_seconds: 0.01}   # job: demo only

`job: train` plans with core.experiments.flagship (phase 1: model-transfer training and direct runs; phase
2: distill runs taught by the direct models, model-transfer evaluated per language);
`job: demo` is the plain product of languages, modes and seeds with made-up scores.

Pure parts for the app and tests: `aggregate` (result rows -> table of mean +- std over seeds,
overall and per entity type), `markdown_table`, `plot_results` (PNG), `rows_from_runs`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.data.formats import atomic_write, read_text
from core.errors import ConfigError
from core.registry import Registry

MODES = ("model-transfer", "direct", "distill")  # also the order in tables and plots
MASAKHANER_LANGS = (
    "bam", "bbj", "ewe", "fon", "hau", "ibo", "kin", "lug", "luo", "mos",
    "nya", "pcm", "sna", "swa", "tsn", "twi", "wol", "xho", "yor", "zul",
)  # fmt: skip
TOP_KEYS = {
    "name", "description", "job", "data", "work", "output", "languages", "seeds", "modes",
    "executor", "parallel", "projection", "tagger", "tagger_params", "epochs", "distill",
    "model_transfer", "evaluation", "demo",
}  # fmt: skip
SECTION_KEYS = {
    "projection": {
        "source_labeler",
        "aligner",
        "aligner_params",
        "method",
        "method_params",
        "drop_incomplete",
        "parallel",
        "languages",
    },
    "distill": {"student_epochs", "teachers", "hard_weight", "mt_teacher_weight", "unlabelled"},
    "model_transfer": {"train", "labels_keep"},
    "evaluation": {"test", "types", "report_types"},
    "demo": {"steps", "step_seconds", "fail_at", "base_f1"},
}
TYPE_ORDER = ("PER", "ORG", "LOC", "DATE", "MISC")  # column order of the entity types
TEACHER_CHOICES = ("direct-ensemble", "direct-same-seed")
UNLABELLED_SOURCES = ("masakhaner2", "mafand")
ALIGNMENT_PROJECTORS = ("heuristic", "candidates-greedy", "candidates-ilp")  # need links only


def known_languages() -> set[str]:
    from core.cli.options import KNOWN_LANGS

    return set(KNOWN_LANGS) | set(MASAKHANER_LANGS)


# --------------------------------------------------------------------------- config


@dataclass
class Experiment:
    name: str
    path: Path  # the config file
    job: str
    languages: list[str]
    seeds: list[int]
    modes: list[str]
    data: Path
    work: Path
    output: Path
    executor: str = "inprocess"
    parallel: int = 1
    config: dict = field(default_factory=dict)  # the file's mapping, as validated

    def section(self, key: str) -> dict:
        return dict(self.config.get(key) or {})

    def projection_for(self, lang: str) -> dict:
        """The projection section with `projection.languages[lang]`'s overrides applied."""
        projection = self.section("projection")
        overrides = projection.pop("languages", None) or {}
        return {**projection, **(overrides.get(lang) or {})}


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file (see the module docstring for the schema)."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: an experiment file holds one mapping of keys")
    return validate(raw, path)


def validate(raw: dict, path: str | Path = "<config>") -> Experiment:
    def fail(message: str) -> ConfigError:
        return ConfigError(f"{path}: {message}")

    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(map(repr, unknown))}; known: "
                   + ", ".join(sorted(TOP_KEYS)))  # fmt: skip
    for section, keys in SECTION_KEYS.items():
        value = raw.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise fail(f"{section} must be a mapping")
        unknown = sorted(set(value) - keys)
        if unknown:
            raise fail(f"unknown key(s) {', '.join(f'{section}.{k}' for k in unknown)}; "
                       f"known in {section}: {', '.join(sorted(keys))}")  # fmt: skip

    from core.runs.jobs import JOBS

    job = str(raw.get("job", "train"))
    if job not in PLANNERS:
        raise fail(f"job {job!r} cannot be planned; known: {', '.join(PLANNERS.names())}")
    if job not in JOBS:
        raise fail(f"unknown job kind {job!r}")
    languages = _str_list(raw, "languages", fail)
    known = known_languages()
    for lang in languages:
        if lang not in known:
            raise fail(f"unknown language {lang!r} in languages")
    modes = _str_list(raw, "modes", fail, default=list(MODES))
    for mode in modes:
        if mode not in MODES:
            raise fail(f"unknown mode {mode!r} in modes; known: {', '.join(MODES)}")
    seeds = raw.get("seeds", [1])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise fail("seeds must be a non-empty list of integers")
    name = str(raw.get("name") or Path(path).stem)
    work = Path(raw.get("work") or Path("artifacts") / "experiments" / name)
    executor = str(raw.get("executor", "inprocess"))
    _check_executor(executor, fail)
    parallel = raw.get("parallel", 1)
    if not isinstance(parallel, int) or parallel < 1:
        raise fail("parallel must be a positive integer")
    exp = Experiment(
        name=name,
        path=Path(path),
        job=job,
        languages=languages,
        seeds=list(seeds),
        modes=modes,
        data=Path(raw.get("data") or "../shared/data"),
        work=work,
        output=Path(raw.get("output") or work / "results"),
        executor=executor,
        parallel=parallel,
        config=raw,
    )
    CHECKS.get(job)()(exp, fail)
    return exp


def _str_list(raw: dict, key: str, fail, default: list[str] | None = None) -> list[str]:
    value = raw.get(key, default)
    if value is None:
        raise fail(f"missing key {key!r}")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise fail(f"{key} must be a non-empty list of names")
    return list(value)


def _check_executor(name: str, fail) -> None:
    from core.runs.executors import EXECUTORS

    if name != "inprocess" and name not in EXECUTORS:
        raise fail(f"unknown executor {name!r}; known: inprocess, {', '.join(EXECUTORS.names())}")


CHECKS: Registry[Callable] = Registry("experiment job")


@CHECKS.register("demo")
def _checks_demo() -> Callable:
    return lambda exp, fail: None


@CHECKS.register("train")
def _checks_train() -> Callable:
    return _check_train


def _check_train(exp: Experiment, fail) -> None:
    """Names must be known (labeler, aligner, projector, tagger) and the data must be there."""
    from core.aligners.base import ALIGNERS
    from core.labelers import LABELERS
    from core.projection.base import PROJECTORS
    from core.taggers import TAGGERS

    overrides = exp.section("projection").get("languages") or {}
    if not isinstance(overrides, dict):
        raise fail("projection.languages must map a language to projection settings")
    for lang, override in overrides.items():
        if lang not in exp.languages:
            raise fail(f"projection.languages.{lang}: not one of the experiment's languages")
        unknown = set(override or {}) - (SECTION_KEYS["projection"] - {"languages"})
        if unknown:
            raise fail(f"unknown key(s) projection.languages.{lang}.{', '.join(sorted(unknown))}")
    for lang in exp.languages:
        projection = exp.projection_for(lang)
        for key, registry, default in (
            ("source_labeler", LABELERS, "spacy"),
            ("aligner", ALIGNERS, "eflomal"),
            ("method", PROJECTORS, "heuristic"),
        ):
            value = projection.get(key, default)
            if value not in registry:
                raise fail(f"unknown projection.{key} {value!r}; known: "
                           + ", ".join(registry.names()))  # fmt: skip
        if projection.get("method", "heuristic") not in ALIGNMENT_PROJECTORS:
            raise fail(f"projection.method {projection['method']!r} needs a translator; the "
                       f"MAFAND projection takes one of {', '.join(ALIGNMENT_PROJECTORS)}")  # fmt: skip
        if projection.get("parallel", "mafand_mt") != "mafand_mt":
            raise fail(f"unknown projection.parallel {projection['parallel']!r}; known: mafand_mt")
    tagger = exp.config.get("tagger", "embedded")
    if tagger not in TAGGERS:
        raise fail(f"unknown tagger {tagger!r}; known: {', '.join(TAGGERS.names())}")
    distill = exp.section("distill")
    if distill.get("teachers", "direct-ensemble") not in TEACHER_CHOICES:
        raise fail(f"distill.teachers must be one of {', '.join(TEACHER_CHOICES)}")
    for item in distill.get("unlabelled") or ():
        if str(item).split()[0] not in UNLABELLED_SOURCES:
            raise fail(f"unknown distill.unlabelled source {item!r}; known: "
                       + ", ".join(UNLABELLED_SOURCES))  # fmt: skip
    if not exp.data.is_dir():
        raise fail(f"data folder {exp.data} not found")
    test = exp.section("evaluation").get("test", "masakhaner2/{lang}/test.txt")
    for lang in exp.languages:
        needed = [exp.data / test.format(lang=lang)]
        if not (
            exp.work / lang / "stats.json"
        ).exists():  # not prepared yet (core.experiments.flagship)
            needed += [exp.data / "mafand_mt" / f"en-{lang}"]
            needed += [exp.data / "masakhaner2" / lang / "train.txt"]
        for p in needed:
            if not p.exists():
                raise fail(f"language {lang!r}: {p} not found")
    if "model-transfer" in exp.modes:
        train = exp.data / exp.section("model_transfer").get("train", "conll2003_en/train.txt")
        if not train.exists():
            raise fail(f"model_transfer.train: {train} not found")


# --------------------------------------------------------------------------- planning


@dataclass
class PlannedRun:
    name: str
    lang: str  # "" for a job that gives no result row (model-transfer training)
    mode: str
    seed: int
    kind: str
    config: dict
    workdir: Path
    phase: int = 0

    def to_dict(self) -> dict:
        return {**self.__dict__, "workdir": str(self.workdir)}


PLANNERS: Registry[Callable] = Registry("experiment planner")


def plan(exp: Experiment) -> list[list[PlannedRun]]:
    """The runs, in phases: every run of a phase may need the outputs of earlier phases."""
    return PLANNERS.get(exp.job)(exp)


@PLANNERS.register("demo")
def _plan_demo(exp: Experiment) -> list[list[PlannedRun]]:
    params = exp.section("demo")
    runs = []
    for lang in exp.languages:
        for mode in exp.modes:
            for seed in exp.seeds:
                name = f"{lang}-{mode}-seed{seed}"
                config = {**params, "lang": lang, "mode": mode, "seed": seed, "name": name}
                runs.append(PlannedRun(name, lang, mode, seed, "demo", config, exp.work / name))
    return [runs]


@PLANNERS.register("train")
def _plan_train(exp: Experiment) -> list[list[PlannedRun]]:
    from core.experiments.flagship import FlagshipSettings, flagship_plan

    distill = exp.section("distill")
    mt = exp.section("model_transfer")
    evaluation = exp.section("evaluation")
    settings = FlagshipSettings(
        seeds=tuple(exp.seeds),
        modes=tuple(exp.modes),
        tagger_params=dict(exp.config.get("tagger_params") or {}),
        epochs=exp.config.get("epochs"),
        student_epochs=distill.get("student_epochs"),
        hard_weight=float(distill.get("hard_weight", 1.0)),
        mt_teacher_weight=float(distill.get("mt_teacher_weight", 0.0)),
        ensemble=distill.get("teachers", "direct-ensemble") == "direct-ensemble",
    )
    test = evaluation.get("test", "masakhaner2/{lang}/test.txt")
    phases = []
    for number, phase in enumerate(flagship_plan(exp.languages, exp.data, exp.work, settings)):
        runs = []
        for job, workdir in phase:
            job = dict(job, tagger=exp.config.get("tagger", "embedded"))
            for key in ("types", "report_types"):
                if key in evaluation:
                    job[key] = list(evaluation[key])
            lang = job.get("lang", "")
            job["test"] = {
                "path": str(exp.data / test.format(lang=lang or exp.languages[0])),
                "format": "conll",
            }
            if job["mode"] == "model-transfer" and "model" not in job:  # the English training
                if "train" in mt:
                    job["train"] = {"path": str(exp.data / mt["train"]), "format": "conll"}
                if "labels_keep" in mt:
                    job["labels_keep"] = list(mt["labels_keep"])
            runs.append(
                PlannedRun(
                    job["name"], lang, job["mode"], job["seed"], "train", job, workdir, number
                )
            )
        phases.append(runs)
    return phases


def prepare(exp: Experiment, progress: bool = True) -> None:
    """Inputs the runs read that no run makes: train jobs need the projected MAFAND data."""
    if exp.job != "train":
        return
    from core.experiments.flagship import prepare_language

    for lang in exp.languages:
        projection = exp.projection_for(lang)
        prepare_language(
            lang,
            exp.data,
            exp.work,
            aligner=projection.get("aligner", "eflomal"),
            aligner_params=projection.get("aligner_params"),
            method=projection.get("method", "heuristic"),
            method_params=projection.get("method_params"),
            labeler=projection.get("source_labeler", "spacy"),
            drop_incomplete=bool(projection.get("drop_incomplete", False)),
            progress=progress,
        )


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    run: PlannedRun
    metrics: dict | None
    error: str | None = None
    run_id: str | None = None
    reused: bool = False


def _finished(run: PlannedRun) -> dict | None:
    """Metrics of an identical job that already finished in the same workdir (resume a crashed
    experiment without redoing its finished runs)."""
    job_file, metrics_file = run.workdir / "job.json", run.workdir / "metrics.json"
    if not (job_file.exists() and metrics_file.exists()):
        return None
    try:
        if json.loads(job_file.read_text()) != _job_record(run):
            return None
        return json.loads(metrics_file.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _inputs(config: dict) -> dict[str, list]:
    """Size and modification time of the files a job reads (a teacher folder: its files), so
    that a rebuilt input (e.g. data projected with other settings) is not mistaken for the same."""
    specs = [config.get(k) for k in ("train", "unlabelled", "dev", "test", "model")]
    specs += list(config.get("teachers") or [])
    found: dict[str, list] = {}
    for spec in specs:
        path = Path(spec["path"] if isinstance(spec, dict) else spec) if spec else None
        if path is None or not path.exists():
            continue
        for file in sorted(path.iterdir()) if path.is_dir() else [path]:
            if file.is_file():
                stat = file.stat()
                found[str(file)] = [stat.st_size, stat.st_mtime_ns]
    return found


def _job_record(run: PlannedRun) -> dict:
    return {"kind": run.kind, "config": run.config, "inputs": _inputs(run.config)}


def _record_job(run: PlannedRun) -> None:
    """Written as the run starts; earlier metrics go, so a crash cannot pass them off as its own."""
    run.workdir.mkdir(parents=True, exist_ok=True)
    (run.workdir / "metrics.json").unlink(missing_ok=True)
    with atomic_write(run.workdir / "job.json") as handle:
        json.dump(_job_record(run), handle, ensure_ascii=False)


def run_plan(
    phases: Sequence[Sequence[PlannedRun]],
    executor: str = "inprocess",
    *,
    parallel: int = 1,
    rerun: bool = False,
    manager=None,
    on_event: Callable[[str, PlannedRun, dict], None] = lambda _k, _r, _e: None,
) -> list[Outcome]:
    """Run every phase in order; `inprocess`: one after the other in this process, else through
    the run manager (`parallel` runs at a time). A failed run does not stop the others."""
    from core.runs.jobs import get_job

    outcomes: list[Outcome] = []
    for phase in phases:
        todo = []
        for run in phase:
            metrics = None if rerun else _finished(run)
            if metrics is not None:
                outcomes.append(Outcome(run, metrics, reused=True))
                on_event("reused", run, {})
            else:
                todo.append(run)
        if executor == "inprocess":
            for run in todo:
                _record_job(run)
                on_event("start", run, {})
                try:
                    metrics = get_job(run.kind).run(
                        run.config, lambda e, r=run: on_event("progress", r, e), lambda: False,
                        run.workdir,
                    )  # fmt: skip
                    _save_metrics(run, metrics)
                    outcomes.append(Outcome(run, metrics))
                except Exception as exc:  # noqa: BLE001 - recorded, the other runs go on
                    outcomes.append(Outcome(run, None, f"{type(exc).__name__}: {exc}"))
                on_event("end", run, {})
        else:
            outcomes += _run_managed(todo, executor, parallel, manager, on_event)
    return outcomes


def _save_metrics(run: PlannedRun, metrics: dict) -> None:
    if not (run.workdir / "metrics.json").exists():  # the job may have written its own
        with atomic_write(run.workdir / "metrics.json") as handle:
            json.dump(metrics, handle)


def _run_managed(runs, executor, parallel, manager, on_event) -> list[Outcome]:
    from core.runs import RunManager

    manager = manager or RunManager()
    pending, active, out = list(runs), {}, []
    while pending or active:
        while pending and len(active) < parallel:
            run = pending.pop(0)
            _record_job(run)
            launched = manager.launch(
                run.kind, run.config, executor=executor, name=run.name, workdir=run.workdir
            )
            active[launched.id] = run
            on_event("start", run, {"run_id": launched.id})
        for run_id in list(active):
            record = manager.get(run_id)
            run = active[run_id]
            if record.active:
                on_event("progress", run, record.progress)
                continue
            del active[run_id]
            if record.status == "succeeded":
                _save_metrics(run, record.metrics or {})
                out.append(Outcome(run, record.metrics, run_id=run_id))
            else:
                error = f"run {run_id} {record.status}: {record.error}"
                out.append(Outcome(run, None, error, run_id=run_id))
            on_event("end", run, {"run_id": run_id})
        if active:
            time.sleep(0.2)
    return out


# --------------------------------------------------------------------------- results


def result_row(run: PlannedRun, metrics: dict, run_id: str | None = None) -> dict:
    """One evaluated job, in the row format of core.workbench.results (the app's Results page)."""
    return _row(run.name, run.lang, run.mode, run.seed, metrics, run_id)


def _row(name, lang, mode, seed, metrics: dict, run_id=None) -> dict:
    per_type = {}
    for t, v in (metrics.get("per_type") or {}).items():
        per_type[t] = v.get("f1") if isinstance(v, dict) else v
    row = {
        "name": name,
        "lang": lang,
        "mode": mode,
        "seed": seed,
        "f1": metrics.get("f1"),
        "precision": metrics.get("precision"),
        "recall": metrics.get("recall"),
        "per_type": per_type,
    }
    if run_id:
        row["run_id"] = run_id
    return row


def rows_from_runs(runs: Sequence) -> list[dict]:
    """Result rows from finished run records (core.runs.Run) whose config names lang and mode:
    what the app aggregates for the runs a user picked."""
    rows = []
    for run in runs:
        config, metrics = run.config or {}, run.metrics
        if run.status != "succeeded" or not isinstance(metrics, dict) or "f1" not in metrics:
            continue
        if not config.get("lang") or not config.get("mode"):
            continue
        rows.append(
            _row(run.name, config["lang"], config["mode"], config.get("seed"), metrics, run.id)
        )
    return rows


def results_for_runs(run_ids: Sequence[str], manager=None) -> list[dict]:
    """The aggregated table (see `aggregate`) of the chosen runs: what the app compares."""
    from core.runs import RunManager

    manager = manager or RunManager()
    return aggregate(rows_from_runs([manager.get(run_id) for run_id in run_ids]))


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _mode_order(mode: str) -> tuple[int, str]:
    return (MODES.index(mode) if mode in MODES else len(MODES), mode)


def aggregate(rows: Sequence[dict], types: Sequence[str] | None = None) -> list[dict]:
    """Rows (lang, mode, seed, f1, per_type {TYPE: f1}) -> one entry per (lang, mode): n,
    f1_mean, f1_std (sample std over seeds), and TYPE_mean / TYPE_std for each entity type
    (`types`: default every type seen, sorted). Languages keep their first-seen order, modes
    the order model-transfer, direct, distill. An entry for distill also gets
    `delta_vs_direct` and `beyond_seed_spread` (|delta| > the larger of the two stds)."""
    if types is None:
        seen = {t for r in rows for t in (r.get("per_type") or {})}
        types = sorted(seen, key=lambda t: (TYPE_ORDER.index(t) if t in TYPE_ORDER else 99, t))
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if row.get("f1") is None:
            continue
        groups.setdefault((str(row["lang"]), str(row["mode"])), []).append(row)
    langs = list(dict.fromkeys(lang for lang, _ in groups))
    table = []
    for lang in langs:
        for mode in sorted({m for la, m in groups if la == lang}, key=_mode_order):
            group = groups[(lang, mode)]
            mean, std = _mean_std([float(r["f1"]) for r in group])
            entry = {"lang": lang, "mode": mode, "n": len(group), "f1_mean": mean, "f1_std": std}
            for t in types:
                values = [(r.get("per_type") or {}).get(t) for r in group]
                values = [float(v) for v in values if v is not None]
                entry[f"{t}_mean"], entry[f"{t}_std"] = _mean_std(values) if values else (None,) * 2
            table.append(entry)
    by_key = {(e["lang"], e["mode"]): e for e in table}
    for lang in langs:
        a, b = by_key.get((lang, "direct")), by_key.get((lang, "distill"))
        if a and b:
            b["delta_vs_direct"] = b["f1_mean"] - a["f1_mean"]
            b["beyond_seed_spread"] = abs(b["delta_vs_direct"]) > max(a["f1_std"], b["f1_std"])
    return table


def table_types(table: Sequence[dict]) -> list[str]:
    return [k[: -len("_mean")] for k in (table[0] if table else {}) if k.endswith("_mean")][1:]


def table_csv(table: Sequence[dict]) -> str:
    columns = list(dict.fromkeys(k for e in table for k in e))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for entry in table:
        writer.writerow({k: _csv_value(entry.get(k)) for k in columns})
    return out.getvalue()


def _csv_value(value: object) -> object:
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else value)


def markdown_table(table: Sequence[dict], main: str = "F1") -> str:
    types = table_types(table)
    cell = lambda m, s: "–" if m is None else f"{m:.3f} ± {s:.3f}"
    head = ["lang", "mode", "seeds", main, *types, "distill − direct"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in table:
        delta = ""
        if "delta_vs_direct" in e:
            where = "beyond" if e["beyond_seed_spread"] else "within"
            delta = f"{e['delta_vs_direct']:+.3f} ({where} seed spread)"
        cells = [e["lang"], e["mode"], str(e["n"]), cell(e["f1_mean"], e["f1_std"])]
        cells += [cell(e[f"{t}_mean"], e[f"{t}_std"]) for t in types] + [delta]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_results(table: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Bars of mean F1 per language (groups) and mode (colours) with std error bars: one panel
    for the main score and one per entity type. Written as PNG without pyplot (no global
    state, safe in the app's threads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not table:
        raise ConfigError("no results to plot")
    types = table_types(table)
    panels = [("f1", "F1 (main)")] + [(t, t) for t in types]
    langs = list(dict.fromkeys(e["lang"] for e in table))
    modes = sorted({e["mode"] for e in table}, key=_mode_order)
    by_key = {(e["lang"], e["mode"]): e for e in table}
    figure = Figure(figsize=(max(4.0, 1.2 * len(langs) * len(panels) + 1.5), 3.6))
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    width = 0.8 / max(len(modes), 1)
    for ax, (key, label) in zip(axes, panels):
        for k, mode in enumerate(modes):
            xs, means, stds = [], [], []
            for i, lang in enumerate(langs):
                e = by_key.get((lang, mode))
                if e and e.get(f"{key}_mean") is not None:
                    xs.append(i - 0.4 + width * (k + 0.5))
                    means.append(e[f"{key}_mean"])
                    stds.append(e[f"{key}_std"])
            ax.bar(xs, means, width, yerr=stds, capsize=3, label=mode, color=f"C{k}")
        ax.set_xticks(range(len(langs)), langs)
        ax.set_title(label)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("F1 (mean ± std over seeds)")
    axes[-1].legend(fontsize="small", loc="upper right")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    return path


@dataclass
class ExperimentResult:
    rows: list[dict]
    table: list[dict]
    failed: list[dict]
    files: dict[str, str]


def write_results(
    exp: Experiment, outcomes: Sequence[Outcome], publish: Path | None = None
) -> ExperimentResult:
    """rows.jsonl, results.csv, results.md and results.png under the output folder (and the
    rows under `publish` for the app's Results page)."""
    order = {lang: i for i, lang in enumerate(exp.languages)}  # the file's order, not finish order
    done = sorted(
        (o for o in outcomes if o.metrics and o.run.lang),
        key=lambda o: (order.get(o.run.lang, len(order)), _mode_order(o.run.mode), o.run.seed),
    )
    rows = [result_row(o.run, o.metrics, o.run_id) for o in done]
    failed = [{"name": o.run.name, "error": o.error, "run_id": o.run_id} for o in outcomes
              if o.error]  # fmt: skip
    main = exp.section("evaluation").get("types")
    table = aggregate(rows)
    out = exp.output
    files = {"rows": str(out / "rows.jsonl"), "csv": str(out / "results.csv"),
             "markdown": str(out / "results.md")}  # fmt: skip
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    with atomic_write(files["rows"]) as handle:
        handle.write(jsonl)
    with atomic_write(files["csv"]) as handle:
        handle.write(table_csv(table))
    label = f"F1 {'/'.join(main)}" if main else "F1"
    md = f"# {exp.name}\n\n" + (markdown_table(table, label) if table else "no results\n")
    if failed:
        md += "\nFailed runs:\n\n" + "".join(f"- {f['name']}: {f['error']}\n" for f in failed)
    with atomic_write(files["markdown"]) as handle:
        handle.write(md)
    if table:
        files["plot"] = str(plot_results(table, out / "results.png", exp.name))
    if publish is not None:
        target = Path(publish) / f"experiment-{exp.name}.jsonl"
        with atomic_write(target) as handle:
            handle.write(jsonl)
        files["published"] = str(target)
    return ExperimentResult(rows, table, failed, files)
