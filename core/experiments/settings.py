"""Everything that is configured, as typed settings with their defaults, defined once.

- `TrainJob`: one training job (core.training.train_job runs it; the run registry stores it as
  JSON), built by `xner train`, `xner runs launch train`, the app's Runs page and the planner;
- `ProjectionSettings`: how the English labels reach the target side (labeler, aligner + params,
  projection method + params, per-language overrides);
- `ExecutorSettings`: where the runs of a plan run (in this process, a process pool, background
  runs of core.runs: local, slurm, submitit-local);
- `ExperimentSettings`: an experiment file (languages x modes x seeds plus the above);
- `DemoJob`: the made-up-scores job of the app's demo and the tests.

Types and ranges are checked on load; unknown keys are errors that list the accepted ones;
component parameters (tagger_params, aligner_params, method_params) are checked by the
component registries. `load_settings` reads a YAML file and reports a bad value as one line that
names the file, the line, the setting and the value.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.data.tags import SCHEMES
from core.errors import ConfigError

Mode = Literal["model-transfer", "direct", "distill"]
MODES: tuple[str, ...] = typing.get_args(Mode)  # also the order of tables and plots
MAIN_TYPES = ("PER", "ORG", "LOC")  # the main score's entity types (MasakhaNER minus DATE)
ENTITY_TYPES: tuple[str, ...] = tuple(dict.fromkeys(t for s in SCHEMES.values() for t in s))
HARD_WEIGHT = 0.0  # distill: the student learns the teachers' distributions only (Wu et al.)
MASAKHANER_LANGS = (
    "bam", "bbj", "ewe", "fon", "hau", "ibo", "kin", "lug", "luo", "mos",
    "nya", "pcm", "sna", "swa", "tsn", "twi", "wol", "xho", "yor", "zul",
)  # fmt: skip

PositiveInt = Annotated[StrictInt, Field(ge=1)]
Seed = Annotated[StrictInt, Field(ge=0)]
Weight = Annotated[StrictFloat, Field(ge=0)]


def known_languages() -> set[str]:
    from core.data.tokenize import ISO3_TO_ISO1

    return set(ISO3_TO_ISO1) | set(ISO3_TO_ISO1.values()) | set(MASAKHANER_LANGS)


def _entity_types(value: list[str]) -> list[str]:
    for t in value:
        if t not in ENTITY_TYPES:
            raise ValueError(f"unknown entity type {t!r}; known: {', '.join(ENTITY_TYPES)}")
    return value


EntityTypes = Annotated[list[StrictStr], Field(min_length=1)]


def check_entity_types(values: list[str], source: str) -> list[str]:
    """`values` if every one is a known entity type, else a ConfigError naming `source`."""
    try:
        return _entity_types(list(values))
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


class Settings(BaseModel):
    """Strict (no "5" for 5, no true for 1) and closed: an unknown key lists the accepted ones."""

    model_config = ConfigDict(strict=True, extra="forbid", validate_assignment=True)

    @classmethod
    def _before(cls, data: Any) -> Any:
        return data

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        data = cls._before(data)
        if isinstance(data, Mapping):
            unknown = [k for k in data if k not in cls.model_fields]
            if unknown:
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key {key}; accepted: {accepted}",
                    {"key": repr(unknown[0]), "accepted": ", ".join(cls.model_fields)},
                )
        return data

    def to_dict(self) -> dict:
        """JSON-ready, without unset optional values."""
        return self.model_dump(mode="json", exclude_none=True)


# --------------------------------------------------------------------------- training job


class DataSpec(Settings):
    """A data file: a path alone, or {path, format, limit, sample}. `limit` keeps the first N
    sentences; `sample` then keeps a random N of them, drawn with the job's seed (each seed its
    own sample, the same seed the same one): a CPU budget for a pretrained encoder."""

    path: StrictStr
    format: StrictStr = "auto"  # auto, conll (or a read_conll flavour), tokens, text
    limit: PositiveInt | None = None
    sample: PositiveInt | None = None

    @classmethod
    def _before(cls, data: Any) -> Any:
        return {"path": str(data)} if isinstance(data, str | Path) else data


class TeacherSpec(Settings):
    """A saved tagger folder that teaches a distill student, with an optional weight."""

    path: StrictStr
    weight: Weight | None = None

    @classmethod
    def _before(cls, data: Any) -> Any:
        return {"path": str(data)} if isinstance(data, str | Path) else data


DataSpecs = Annotated[list[DataSpec], Field(min_length=1)]


def _as_list(value: Any) -> Any:
    return value if value is None or isinstance(value, list) else [value]


class TrainJob(Settings):
    """One training job (core.training.train_job): fit a tagger in one mode and score it.

    - direct: fit on `train` (projected target data), plus `source_gold` if given;
    - distill: a student learns the `teachers`' distributions on `unlabelled` target text (no
      teachers: one is trained on `train`), plus `train`'s hard labels weighted `hard_weight`;
    - model-transfer: fit on `train` in the source language only;
    - `model`: evaluate a saved tagger instead of training one.
    """

    mode: Mode
    tagger: StrictStr = "embedded"
    tagger_params: dict[str, Any] = {}
    train: DataSpecs | None = None
    source_gold: DataSpecs | None = None  # direct only
    source_weight: Weight = 1.0
    unlabelled: DataSpecs | None = None  # distill
    teachers: list[TeacherSpec] | None = None  # distill
    teacher_weights: Literal["uniform"] | list[Weight] = "uniform"
    teacher_params: dict[str, Any] | None = None  # distill: the trained teacher's (default same)
    teacher_epochs: PositiveInt | None = None  # distill: the trained teacher's (default epochs)
    hard_weight: Weight = HARD_WEIGHT
    dev: DataSpecs | None = None
    test: DataSpecs
    types: EntityTypes = list(MAIN_TYPES)
    report_types: list[StrictStr] = []  # types scored on their own (e.g. DATE)
    labels_keep: list[StrictStr] | None = None  # entity types kept in the data (others -> O)
    seed: Seed = 0
    epochs: PositiveInt | None = None  # None: the tagger's default
    lang: StrictStr = "xx"
    name: StrictStr = ""
    save_model: StrictBool = True
    model: StrictStr | None = None
    # The shared setup of the experiment this job belongs to (core.experiments.results): what
    # its result row is compared on. None for a job launched on its own.
    setup: dict[str, Any] | None = None

    @classmethod
    def _before(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            for key in ("train", "source_gold", "unlabelled", "dev", "test"):
                if key in data:
                    data[key] = _as_list(data[key])
        return data

    @field_validator("types", "report_types", "labels_keep")
    @classmethod
    def _known_types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _entity_types(value)

    @field_validator("tagger")
    @classmethod
    def _known_tagger(cls, value: str) -> str:
        from core.taggers import TAGGERS

        TAGGERS.get(value)
        return value

    @field_validator("tagger_params", "teacher_params")
    @classmethod
    def _tagger_params(cls, value: dict | None, info: ValidationInfo) -> dict | None:
        if value is not None and "tagger" in info.data:
            check_tagger_params(info.data["tagger"], value)
        return value

    @model_validator(mode="after")
    def _mode_needs(self) -> TrainJob:
        if self.model is not None:
            return self
        if self.mode == "distill":
            if self.unlabelled is None:
                raise ValueError("mode distill needs `unlabelled` target text")
            if self.teachers is None and self.train is None:
                raise ValueError("mode distill needs `teachers` or `train` data to train a teacher")
        elif self.train is None:
            raise ValueError(f"mode {self.mode} needs `train` data")
        if self.mode != "direct" and self.source_gold is not None:
            raise ValueError("source_gold applies to mode direct only")
        weights, teachers = self.teacher_weights, self.teachers
        if isinstance(weights, list) and teachers is not None and len(weights) != len(teachers):
            raise ValueError(f"teacher_weights: {len(self.teacher_weights)} weights for "
                                 f"{len(self.teachers)} teachers")  # fmt: skip
        return self


def check_tagger_params(tagger: str, params: dict) -> None:
    """The tagger registry's check, then the tagger's own (taggers that take **params check
    their options when built; building one is cheap: nothing is trained or loaded)."""
    from core.taggers import TAGGERS

    TAGGERS.create(tagger, **params)


class DemoSettings(Settings):
    """A demo job's behaviour (also the `demo:` section of an experiment file)."""

    steps: PositiveInt = 5
    step_seconds: Annotated[StrictFloat, Field(ge=0)] = 0.1
    fail_at: PositiveInt | None = None  # the step that raises (tests of failure)
    base_f1: Annotated[StrictFloat, Field(ge=0, le=1)] | None = None  # default: per mode


class DemoJob(DemoSettings):
    """The demo job: a few checkpointed steps with made-up scores (tests, the app's demo)."""

    lang: StrictStr = "xx"
    mode: Mode = "direct"
    seed: Seed = 0
    types: EntityTypes = list(MAIN_TYPES)
    name: StrictStr = ""
    setup: dict[str, Any] | None = None

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        return _entity_types(value)


# --------------------------------------------------------------------------- projection


def _with_override(settings: Settings, lang: str) -> dict[str, Any]:
    """A section's settings (less its `languages`) with `languages[lang]`'s given keys applied."""
    shared = settings.model_dump(exclude={"languages"})
    override = settings.languages.get(lang)  # type: ignore[attr-defined]
    if override is not None:
        shared.update(override.model_dump(exclude_none=True))
    return shared


class ProjectionOverride(Settings):
    """Per-language projection settings: any key given replaces the shared one."""

    source_labeler: StrictStr | None = None
    source_labeler_params: dict[str, Any] | None = None
    aligner: StrictStr | None = None
    aligner_params: dict[str, Any] | None = None
    method: StrictStr | None = None
    method_params: dict[str, Any] | None = None
    drop_incomplete: StrictBool | None = None
    parallel: Literal["mafand_mt"] | None = None


class ProjectionSettings(Settings):
    """English labels -> target side: `source_labeler` tags the English side of the parallel
    corpus, `aligner` links the words, `method` projects the spans. `drop_incomplete` keeps only
    the pairs whose source entities were all projected (an entity the projection missed would
    teach the tagger that its words are O)."""

    source_labeler: StrictStr = "spacy"
    source_labeler_params: dict[str, Any] = {}
    aligner: StrictStr = "eflomal"
    aligner_params: dict[str, Any] = {}
    # The best measured method (bench/projection.py: Europarl-NER de/es F1 0.901 vs 0.848 for
    # the heuristic; WikiANN pt intrinsic 0.299 vs 0.286) at the heuristic's speed.
    method: StrictStr = "candidates-greedy"
    method_params: dict[str, Any] = {}
    drop_incomplete: StrictBool = False
    parallel: Literal["mafand_mt"] = "mafand_mt"  # the parallel corpus (data/mafand_mt/en-X)
    languages: dict[str, ProjectionOverride] = {}

    @field_validator("source_labeler")
    @classmethod
    def _labeler(cls, value: str) -> str:
        from core.labelers import LABELERS

        LABELERS.get(value)
        return value

    @field_validator("source_labeler_params")
    @classmethod
    def _labeler_params(cls, value: dict, info: ValidationInfo) -> dict:
        from core.labelers import LABELERS

        if "source_labeler" in info.data:  # checked, not built: building one may train it
            LABELERS.check_params(info.data["source_labeler"], value)
        return value

    @field_validator("aligner")
    @classmethod
    def _aligner(cls, value: str) -> str:
        from core.aligners.base import ALIGNERS

        ALIGNERS.get(value)
        return value

    @field_validator("aligner_params")
    @classmethod
    def _aligner_params(cls, value: dict, info: ValidationInfo) -> dict:
        from core.aligners.base import ALIGNERS

        if "aligner" in info.data:
            return ALIGNERS.check_params(info.data["aligner"], value)
        return value

    @field_validator("method_params")
    @classmethod
    def _method_params(cls, value: dict, info: ValidationInfo) -> dict:
        from core.projection.base import PROJECTORS

        if "method" in info.data:
            return PROJECTORS.check_params(info.data["method"], value)
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        from core.projection.base import PROJECTORS

        factory = PROJECTORS.get(value)  # capabilities are the component's own attributes
        if getattr(factory, "needs_translator", False) or not getattr(
            factory, "needs_alignment", True
        ):
            raise ValueError(f"{value!r} needs a translator; the parallel-corpus projection "
                             f"takes a method that projects over word alignments")  # fmt: skip
        return value

    @model_validator(mode="after")
    def _overrides_valid(self) -> ProjectionSettings:
        for lang in self.languages:
            try:
                self.for_language(lang)
            except ConfigError as exc:
                raise ValueError(f"languages.{lang}.{exc}") from None
        return self

    def for_language(self, lang: str) -> ProjectionSettings:
        """The shared settings with `languages[lang]`'s overrides applied (no `languages`)."""
        return validate(ProjectionSettings, _with_override(self, lang))

    def cache_key(self) -> dict:
        """What the projected files depend on (core.experiments.masakhaner caches by it)."""
        labeler = {"labeler": self.source_labeler}
        if self.source_labeler_params:  # only then: older caches and setups keep their keys
            labeler["labeler_params"] = dict(self.source_labeler_params)
        return {
            **labeler,
            "aligner": self.aligner,
            "aligner_params": dict(self.aligner_params),
            "method": self.method,
            "method_params": dict(self.method_params),
            "drop_incomplete": self.drop_incomplete,
        }


# --------------------------------------------------------------------------- executor

IN_PROCESS, POOL = "inprocess", "pool"


class ExecutorSettings(Settings):
    """Where the runs of a plan run: `inprocess` (one after the other in this process),
    `pool` (`parallel` worker processes), or a run-manager executor (core.runs.executors:
    local, slurm, submitit-local), `parallel` background runs at a time."""

    name: StrictStr = IN_PROCESS
    parallel: PositiveInt = 1
    params: dict[str, Any] = {}  # run-manager executor options (slurm_partition, ...)

    @classmethod
    def _before(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        from core.runs.executors import EXECUTORS

        if value not in (IN_PROCESS, POOL) and value not in EXECUTORS:
            raise ValueError(f"unknown executor {value!r}; known: {IN_PROCESS}, {POOL}, "
                             + ", ".join(EXECUTORS.names()))  # fmt: skip
        return value

    @property
    def managed(self) -> bool:
        """True when the runs go through the run manager (they show on the Runs page)."""
        return self.name not in (IN_PROCESS, POOL)


# --------------------------------------------------------------------------- experiment


class DistillOverride(Settings):
    """Per-language distill settings: any key given replaces the shared one."""

    mt_teacher_weight: Weight | None = None


class DistillSettings(Settings):
    student_epochs: PositiveInt | None = None  # None: as `epochs`
    teachers: Literal["direct-ensemble", "direct-same-seed"] = "direct-ensemble"
    hard_weight: Weight = HARD_WEIGHT
    # Weight of the model-transfer model as one more teacher, relative to the whole direct
    # ensemble (1.0: as much as all direct teachers together).
    mt_teacher_weight: Weight = 0.0
    # the unlabelled target text the teachers label: MasakhaNER train text (labels dropped)
    # and the target side of the parallel corpus
    unlabelled: Annotated[list[Literal["masakhaner2", "mafand"]], Field(min_length=1)] = [
        "masakhaner2",
        "mafand",
    ]
    # A seeded sample of this many sentences from each unlabelled source (None: all of them):
    # the student's CPU budget when it is a pretrained encoder (DataSpec.sample).
    unlabelled_sample: PositiveInt | None = None
    languages: dict[str, DistillOverride] = {}  # per-language overrides

    def mt_weight(self, lang: str) -> float:
        """`lang`'s weight of the model-transfer teacher."""
        return self.for_language(lang)["mt_teacher_weight"]

    def for_language(self, lang: str) -> dict[str, Any]:
        """The shared settings with `languages[lang]`'s overrides applied (no `languages`)."""
        return _with_override(self, lang)


class ModelTransferSettings(Settings):
    train: StrictStr = "conll2003_en/train.txt"  # under `data`
    # Where the trained source-language model is scored (its training run's own metrics; the
    # rows score it on each target language): the source test set, so that the job is the same
    # whichever part of the experiment's languages a run plans.
    test: StrictStr = "conll2003_en/test.txt"  # under `data`
    # CoNLL has MISC and no DATE: learn the types MasakhaNER scores
    labels_keep: EntityTypes = list(MAIN_TYPES)
    # The model-transfer model's own tagger, e.g. a multilingual encoder while the taggers of
    # the projected data stay embedded (a model trained from scratch on English cannot read the
    # target language). None: the experiment's `tagger`, and then its `tagger_params` and
    # `epochs` as well; with a tagger of its own, `tagger_params` default to none.
    tagger: StrictStr | None = None
    tagger_params: dict[str, Any] | None = None
    epochs: PositiveInt | None = None

    @field_validator("labels_keep")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        return _entity_types(value)

    @field_validator("tagger")
    @classmethod
    def _known_tagger(cls, value: str | None) -> str | None:
        from core.taggers import TAGGERS

        if value is not None:
            TAGGERS.get(value)
        return value


class EvaluationSettings(Settings):
    test: StrictStr = "masakhaner2/{lang}/test.txt"  # under `data`; dev.txt to choose settings
    types: EntityTypes = list(MAIN_TYPES)
    report_types: list[StrictStr] = []

    @field_validator("types", "report_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        return _entity_types(value)


class ExperimentSettings(Settings):
    """An experiment file: see configs/flagship.yaml for a complete one."""

    name: StrictStr | None = None  # default: the file's stem
    description: StrictStr = ""
    job: Literal["train", "demo"] = "train"
    data: StrictStr = "../shared/data"  # mafand_mt/, masakhaner2/, conll2003_en/
    work: StrictStr | None = None  # default artifacts/experiments/NAME
    output: StrictStr | None = None  # default WORK/results
    languages: Annotated[list[StrictStr], Field(min_length=1)]
    seeds: Annotated[list[Seed], Field(min_length=1)] = [1]
    modes: Annotated[list[Mode], Field(min_length=1)] = list(MODES)
    executor: ExecutorSettings = ExecutorSettings()
    projection: ProjectionSettings = ProjectionSettings()
    tagger: StrictStr = "embedded"
    tagger_params: dict[str, Any] = {}
    epochs: PositiveInt | None = None  # direct and model-transfer (None: the tagger's default)
    # A seeded sample of this many projected sentences per language and seed (None: all): the
    # CPU budget of a pretrained encoder as the target tagger (DataSpec.sample).
    train_sample: PositiveInt | None = None
    distill: DistillSettings = DistillSettings()
    model_transfer: ModelTransferSettings = ModelTransferSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    demo: DemoSettings = DemoSettings()

    @classmethod
    def _before(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "parallel" in data:  # shorthand for executor.parallel
            data = dict(data)
            executor = data.get("executor", IN_PROCESS)
            executor = {"name": executor} if isinstance(executor, str) else dict(executor)
            data["executor"] = {**executor, "parallel": data.pop("parallel")}
        if isinstance(data, Mapping) and isinstance(data.get("languages"), str):
            data = {**data, "languages": [data["languages"]]}
        return data

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        known = known_languages()
        for lang in value:
            if lang not in known:
                raise ValueError(f"unknown language {lang!r}")
        return value

    @field_validator("tagger")
    @classmethod
    def _known_tagger(cls, value: str) -> str:
        from core.taggers import TAGGERS

        TAGGERS.get(value)
        return value

    @field_validator("tagger_params")
    @classmethod
    def _tagger_params(cls, value: dict, info: ValidationInfo) -> dict:
        if "tagger" in info.data:
            check_tagger_params(info.data["tagger"], value)
        return value

    @model_validator(mode="after")
    def _overrides_name_languages(self) -> ExperimentSettings:
        for section in ("projection", "distill"):
            for lang in getattr(self, section).languages:
                if lang not in self.languages:
                    raise PydanticCustomError(
                        "unused_override",
                        "{section}.languages.{lang}: not one of the experiment's languages",
                        {"section": section, "lang": lang},
                    )
        return self

    def needs_model_transfer(self) -> bool:
        """Whether a model-transfer model is trained: its mode, or a language's teacher."""
        return "model-transfer" in self.modes or any(
            self.distill.mt_weight(lang) > 0 for lang in self.languages
        )

    @field_validator("model_transfer")
    @classmethod
    def _model_transfer_params(
        cls, value: ModelTransferSettings, info: ValidationInfo
    ) -> ModelTransferSettings:
        tagger = value.tagger or info.data.get("tagger")
        if value.tagger_params is not None and tagger is not None:
            try:
                check_tagger_params(tagger, value.tagger_params)
            except ConfigError as exc:
                raise ValueError(f"tagger_params: {exc}") from None
        return value

    def projection_for(self, lang: str) -> ProjectionSettings:
        return self.projection.for_language(lang)

    def model_transfer_tagger(self) -> dict[str, Any]:
        """The model-transfer jobs' tagger, tagger_params and epochs (TrainJob fields)."""
        mt = self.model_transfer
        if mt.tagger is None or mt.tagger == self.tagger:
            params = self.tagger_params if mt.tagger_params is None else mt.tagger_params
            fields = {"tagger": self.tagger, "tagger_params": dict(params)}
        else:
            fields = {"tagger": mt.tagger, "tagger_params": dict(mt.tagger_params or {})}
        epochs = self.epochs if mt.epochs is None else mt.epochs
        return {**fields, "epochs": epochs}


# --------------------------------------------------------------------------- loading


def validate(model: type[Settings], data: Any, source: str = "", root: Any = None) -> Any:
    """`model` from plain data, or a ConfigError of one line: SOURCE[:LINE]: SETTING: problem
    (got VALUE). `root`: the YAML node tree `data` came from, for line numbers."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source, root)) from None


def describe(exc: ValidationError, source: str = "", root: Any = None) -> str:
    error = exc.errors(include_url=False)[0]
    loc = list(error.get("loc") or ())
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if error.get("type") == "unknown_key":
        key = (error.get("ctx") or {}).get("key", "")
        loc.append(key.strip("'\""))
    elif error.get("type") not in ("value_error", "unused_override", "missing"):
        message += f" (got {error.get('input')!r})"
    setting = _dotted(loc)
    line = _line(root, loc) if root is not None else None
    where = source + (f":{line}" if line else "")
    parts = [p for p in (where, setting) if p]
    return ": ".join(parts + [message])


def _dotted(loc: list) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(node: Any, loc: list) -> int | None:
    """The 1-based line of the deepest YAML node on the path `loc`."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == str(part)]
            if not found:
                break
            key, node = found[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def read_yaml(path: str | Path) -> tuple[Any, Any]:
    """The data of a YAML (or JSON) file and its node tree (for line numbers)."""
    import yaml

    from core.data.formats import read_text

    text = read_text(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    _no_duplicate_keys(root, path)
    return data, root


def _no_duplicate_keys(node: Any, path: str | Path) -> None:
    """A key given twice in one mapping is an error: YAML loaders keep the last one silently
    (a second `distill:` section would drop the first one's settings)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise ConfigError(f"{path}:{key.start_mark.line + 1}: {key.value}: given "
                                      f"twice in the same section")  # fmt: skip
                seen.add(key.value)
            _no_duplicate_keys(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _no_duplicate_keys(item, path)


def load_settings(model: type[Settings], path: str | Path) -> Any:
    """Read a YAML/JSON settings file into `model`; errors name the file and line."""
    data, root = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected one mapping of settings")
    return validate(model, data, str(path), root)
