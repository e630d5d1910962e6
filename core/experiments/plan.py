"""An experiment file -> a plan: runs in phases (a phase may need the models of earlier ones).

`load_experiment` reads and checks an experiment file (core.experiments.settings); `plan` turns
it into PlannedRuns, each holding a typed job (core.training's TrainJob, or the DemoJob) and
the shared setup its result row is compared on (core.experiments.results); `prepare` builds the
inputs no run makes (the projected MasakhaNER training data).

`job: train` plans two phases: 1) model-transfer training per seed (scored on the source test
set), direct per language and seed; 2) distill per language and seed (teachers: the direct
models), model-transfer evaluated per language. `job: demo` is the plain product of languages,
modes and seeds with made-up scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from core.experiments.settings import (
    DemoJob,
    ExperimentSettings,
    Settings,
    TeacherSpec,
    TrainJob,
    load_settings,
    validate,
)
from core.registry import Registry


@dataclass
class Experiment:
    """An experiment file, validated, with its folders resolved."""

    settings: ExperimentSettings
    path: Path  # the file
    # The file's settings before --languages/--seeds/--modes restricted `settings` (None: not
    # restricted): a result's family (one experiment) is the whole file's, whatever part ran.
    whole: ExperimentSettings | None = None

    @property
    def name(self) -> str:
        return self.settings.name or self.path.stem

    @property
    def data(self) -> Path:
        return Path(self.settings.data)

    @property
    def work(self) -> Path:
        return Path(self.settings.work or Path("artifacts") / "experiments" / self.name)

    @property
    def output(self) -> Path:
        return Path(self.settings.output or self.work / "results")

    @property
    def languages(self) -> list[str]:
        return list(self.settings.languages)


def load_experiment(path: str | Path, data: str | None = None) -> Experiment:
    """Read and check an experiment file: settings (types, ranges, names, component
    parameters) and, for `job: train`, that the data it names (or `data`) is there."""
    path = Path(path)
    exp = Experiment(load_settings(ExperimentSettings, path), path)
    if data is not None:
        exp.settings.data = str(data)
    if exp.settings.job == "train":
        check_inputs(exp)
    return exp


def check_inputs(exp: Experiment) -> None:
    from core.experiments.masakhaner import language_files, parallel_folder

    s = exp.settings

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{exp.path}: {message}")

    if not exp.data.is_dir():
        raise fail(f"data: folder {exp.data} not found")
    for lang in exp.languages:
        needed = [exp.data / s.evaluation.test.format(lang=lang)]
        if not language_files(exp.work, lang)["stats"].exists():  # not prepared yet
            needed.append(parallel_folder(exp.data, lang))
        if "masakhaner2" in s.distill.unlabelled and "distill" in s.modes:
            needed.append(exp.data / "masakhaner2" / lang / "train.txt")
        for p in needed:
            if not p.exists():
                raise fail(f"language {lang!r}: {p} not found")
    if s.needs_model_transfer():
        for key in ("train", "test"):
            path = exp.data / getattr(s.model_transfer, key)
            if not path.exists():
                raise fail(f"model_transfer.{key}: {path} not found")


# --------------------------------------------------------------------------- planning


@dataclass
class PlannedRun:
    name: str
    lang: str  # "" for a job that gives no result row (model-transfer training)
    mode: str
    seed: int
    kind: str  # a job kind of core.runs.jobs
    job: Settings  # TrainJob or DemoJob
    workdir: Path
    phase: int = 0

    @property
    def config(self) -> dict:
        """The job as JSON (what the run registry stores and the job function receives)."""
        return self.job.to_dict()

    def to_dict(self) -> dict:
        return {"name": self.name, "lang": self.lang, "mode": self.mode, "seed": self.seed,
                "kind": self.kind, "phase": self.phase, "workdir": str(self.workdir),
                "config": self.config}  # fmt: skip


PLANNERS: Registry[Callable[[Experiment], list[list[PlannedRun]]]] = Registry("planner")


def plan(exp: Experiment) -> list[list[PlannedRun]]:
    """The runs, in phases: every run of a phase may need the outputs of earlier phases."""
    return PLANNERS.get(exp.settings.job)(exp)


@PLANNERS.register("demo")
def _plan_demo(exp: Experiment) -> list[list[PlannedRun]]:
    from core.experiments.results import experiment_setup

    s = exp.settings
    runs = []
    for lang in exp.languages:
        setup = experiment_setup(exp, lang)
        for mode in s.modes:
            for seed in s.seeds:
                name = f"{lang}-{mode}-seed{seed}"
                job = validate(DemoJob, {**s.demo.model_dump(), "lang": lang, "mode": mode,
                                         "seed": seed, "name": name, "setup": setup})  # fmt: skip
                runs.append(PlannedRun(name, lang, mode, seed, "demo", job, exp.work / name))
    return [runs]


@PLANNERS.register("train")
def _plan_train(exp: Experiment) -> list[list[PlannedRun]]:
    from core.experiments.masakhaner import language_files
    from core.experiments.results import experiment_setup

    s = exp.settings
    data, work = exp.data, exp.work
    seeds, modes = list(s.seeds), list(s.modes)

    def test(lang: str) -> dict:
        return {"path": str(data / s.evaluation.test.format(lang=lang)), "format": "conll"}

    def job(lang: str, mode: str, seed: int, name: str, **fields) -> TrainJob:
        common = {
            "mode": mode,
            "seed": seed,
            "name": name,
            "tagger": s.tagger,
            "tagger_params": dict(s.tagger_params),
            "types": list(s.evaluation.types),
            "report_types": list(s.evaluation.report_types),
            "test": test(lang or exp.languages[0]),
        }
        if lang:
            common.update(lang=lang, setup=experiment_setup(exp, lang))
        if s.epochs is not None:
            common["epochs"] = s.epochs
        return validate(TrainJob, {**common, **fields}, f"{exp.path}: run {name}")

    mt_dir = {seed: work / "model-transfer" / f"seed{seed}" for seed in seeds}
    direct_dir = {(lang, seed): work / lang / f"direct-seed{seed}"
                  for lang in exp.languages for seed in seeds}  # fmt: skip
    first: list[PlannedRun] = []
    second: list[PlannedRun] = []
    need_mt = s.needs_model_transfer()
    need_direct = "direct" in modes or "distill" in modes
    mt_tagger = {k: v for k, v in s.model_transfer_tagger().items() if v is not None}
    for seed in seeds if need_mt else ():
        name = f"model-transfer-seed{seed}"
        train = {"path": str(data / s.model_transfer.train), "format": "conll"}
        source_test = {"path": str(data / s.model_transfer.test), "format": "conll"}
        mt = job("", "model-transfer", seed, name, train=train, test=source_test,
                 labels_keep=list(s.model_transfer.labels_keep), **mt_tagger)  # fmt: skip
        first.append(PlannedRun(name, "", "model-transfer", seed, "train", mt, mt_dir[seed], 0))
    for lang in exp.languages:
        files = language_files(work, lang)
        projected = {"path": str(files["projected"]), "format": "conll"}
        if s.train_sample is not None:
            projected["sample"] = s.train_sample
        unlabelled = []
        for source in s.distill.unlabelled:
            if source == "masakhaner2":  # the labels are dropped: load_unlabelled reads tokens
                path = data / "masakhaner2" / lang / "train.txt"
                unlabelled.append({"path": str(path), "format": "conll"})
            else:
                unlabelled.append({"path": str(files["target"]), "format": "tokens"})
            if s.distill.unlabelled_sample is not None:
                unlabelled[-1]["sample"] = s.distill.unlabelled_sample
        for seed in seeds:
            if need_direct:
                name = f"{lang}-direct-seed{seed}"
                run = job(lang, "direct", seed, name, train=projected)
                first.append(
                    PlannedRun(name, lang, "direct", seed, "train", run, direct_dir[lang, seed], 0)
                )
            if "model-transfer" in modes:
                name = f"{lang}-model-transfer-seed{seed}"
                run = job(lang, "model-transfer", seed, name, model=str(mt_dir[seed] / "model"),
                          **mt_tagger)  # fmt: skip
                workdir = work / lang / f"model-transfer-seed{seed}"
                second.append(PlannedRun(name, lang, "model-transfer", seed, "train", run,
                                         workdir, 1))  # fmt: skip
            if "distill" in modes:
                name = f"{lang}-distill-seed{seed}"
                teacher_seeds = seeds if s.distill.teachers == "direct-ensemble" else [seed]
                teachers = [TeacherSpec(path=str(direct_dir[lang, k] / "model"))
                            for k in teacher_seeds]  # fmt: skip
                weights = [1.0] * len(teachers)
                if s.distill.mt_weight(lang) > 0:
                    teachers.append(TeacherSpec(path=str(mt_dir[seed] / "model")))
                    weights.append(s.distill.mt_weight(lang) * len(teacher_seeds))
                fields = {
                    "train": projected,
                    "unlabelled": unlabelled,
                    "teachers": [t.to_dict() for t in teachers],
                    "teacher_weights": weights,
                    "hard_weight": s.distill.hard_weight,
                }
                if s.distill.student_epochs is not None:
                    fields["epochs"] = s.distill.student_epochs
                run = job(lang, "distill", seed, name, **fields)
                workdir = work / lang / f"distill-seed{seed}"
                second.append(PlannedRun(name, lang, "distill", seed, "train", run, workdir, 1))
    return [first, second]


def prepare(exp: Experiment, progress: bool = True) -> None:
    """Inputs the runs read that no run makes: train jobs need the projected MAFAND data."""
    if exp.settings.job != "train":
        return
    from core.experiments.masakhaner import prepare_language

    for lang in exp.languages:
        prepare_language(lang, exp.data, exp.work, exp.settings.projection_for(lang),
                         progress=progress)  # fmt: skip
