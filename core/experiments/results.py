"""Finished runs -> result rows -> tables and plots: the one place that compares results (the
`xner experiment` and `xner results` tables, the app's Results page, the README tables).

A result row is one evaluated job: name, lang, mode, seed, f1 (main types), precision, recall,
per_type {TYPE: f1, or None for a type the model cannot predict}, and its **setup**:

- `setup`: the settings the row shares with the other rows of its experiment, for its language:
  data files with their content hashes (test split, parallel corpus, unlabelled text, the
  model-transfer training data), the split scored, the projection settings, the tagger and its
  parameters, epochs, the distill and model-transfer settings, the evaluated types. Mode and seed
  are NOT part of it: the direct, distill and model-transfer runs of one experiment share it.
  A job launched on its own (Runs page, `xner runs launch`) has no experiment: its setup is the
  whole job but its mode, seed and name (its data files hashed), so only its own reruns with
  other seeds pool with it.
- `setup_id`: a hash of `setup`; rows are pooled (mean, std over seeds) only within one
  (setup_id, lang, mode), and "distill − direct" only within one (setup_id, lang).
- `family` / `family_label`: the same without the language-specific parts (data hashes, the
  per-language projection), so that one experiment over five languages is one choice on the
  Results page.

Rows stored before setups were recorded (bench/results/*rows*.jsonl) get their file as the
setup (and their `split`/`projection` fields where present), so they are never pooled with
rows of another file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.data.formats import PathLike, atomic_write, read_text, text_lines
from core.errors import ConfigError, InputError
from core.experiments.settings import MAIN_TYPES, MODES

REQUIRED = ("lang", "mode", "f1")
TYPE_ORDER = ("PER", "ORG", "LOC", "DATE", "MISC")  # column order of the entity types
# Model transfer in xner learns from CoNLL-2003 English: it cannot predict other types (DATE).
LEGACY_MODEL_TRANSFER_TYPES = ("PER", "ORG", "LOC", "MISC")
ROOT = Path(__file__).resolve().parents[2]
MIN_SEEDS_FOR_SPREAD = 2


# --------------------------------------------------------------------------- setups


def fingerprint(obj: object) -> str:
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: PathLike) -> str:
    """sha256 of a file's content (cached per path, size and modification time)."""
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = "sha256:" + digest.hexdigest()[:16]
    return _DIGESTS[key]


def data_digests(paths: Iterable[PathLike], root: PathLike | None = None) -> dict[str, str]:
    """{file (relative to `root`): content hash} for files and the files of folders."""
    out: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        for file in files:
            name = str(file.relative_to(root)) if root and file.is_relative_to(root) else str(file)
            out[name] = file_digest(file) if file.exists() else "missing"
    return out


def make_setup(settings: dict, family_settings: dict, label: str) -> dict:
    """A setup: rows are pooled by its `id` (a fingerprint of `settings`), grouped as one
    experiment by its `family`, shown by its `label`."""
    return {"id": fingerprint(settings), "family": fingerprint(family_settings), "label": label,
            "settings": settings}  # fmt: skip


def _given_samples(settings: dict) -> dict:
    """`settings` less its sample sizes that are not set: they join a setup only when given, so
    that the setups (and stored rows) of experiments that train on all their data stay what
    they were before sampling existed (`train_sample` is added the same way)."""
    return {k: v for k, v in settings.items() if not (k.endswith("_sample") and v is None)}


def experiment_setup(exp, lang: str) -> dict:
    """The shared setup of an experiment's rows for `lang` (see the module docstring)."""
    from core.experiments.masakhaner import parallel_folder

    s = exp.settings
    shared: dict = {
        "job": s.job,
        "split": Path(s.evaluation.test).stem,
        "evaluation": s.evaluation.model_dump(),
    }
    family = dict(shared)
    if s.job == "train":
        common = {
            "tagger": s.tagger,
            "tagger_params": dict(s.tagger_params),
            "epochs": s.epochs,
            "model_transfer": s.model_transfer.model_dump(),
        }
        if s.train_sample is not None:
            common["train_sample"] = s.train_sample
        distill = _given_samples(s.distill.for_language(lang))
        projection = s.projection_for(lang)
        files = [exp.data / s.evaluation.test.format(lang=lang), parallel_folder(exp.data, lang)]
        if "masakhaner2" in s.distill.unlabelled:
            files.append(exp.data / "masakhaner2" / lang / "train.txt")
        files.append(exp.data / s.model_transfer.train)
        shared.update(
            common,
            distill=distill,
            projection={**projection.cache_key(), "parallel": projection.parallel},
        )
        shared["data"] = data_digests([f for f in files if f.exists()], exp.data)
        whole = exp.whole or s  # the dropped languages' overrides stay in the family
        family.update(common, distill=_given_samples(whole.distill.model_dump()),
                      projection=whole.projection.model_dump())  # fmt: skip
    else:
        shared["demo"] = family["demo"] = s.demo.model_dump()
    return make_setup(shared, family, f"{exp.name} [{fingerprint(family)[:6]}]")


STANDALONE_SKIP = ("mode", "seed", "name", "setup", "save_model")


def job_setup(config: dict) -> dict:
    """The setup of a job launched on its own: the job but its mode, seed and name, with its
    data files hashed (teachers: their number and weights, not their files)."""
    settings: dict = {}
    for key, value in sorted(config.items()):
        if key in STANDALONE_SKIP:
            continue
        if key == "teachers":
            settings["teachers"] = [t.get("weight") if isinstance(t, dict) else None
                                    for t in value]  # fmt: skip
        elif key in ("train", "source_gold", "unlabelled", "dev", "test"):
            specs = value if isinstance(value, list) else [value]
            settings[key] = [_hashed_spec(spec) for spec in specs]
        else:
            settings[key] = value
    test = settings.get("test") or [{}]
    split = Path(str(test[0].get("path", ""))).stem
    settings["split"] = split
    label = (
        f"single runs: {config.get('name') or config.get('mode', '')} [{fingerprint(settings)[:6]}]"
    )
    return make_setup(settings, settings, label)


def _hashed_spec(spec: object) -> dict:
    spec = {"path": spec} if isinstance(spec, str) else dict(spec)  # type: ignore[arg-type]
    path = Path(str(spec.get("path", "")))
    spec["sha256"] = file_digest(path) if path.is_file() else "missing"
    return spec


# --------------------------------------------------------------------------- rows


def make_row(name: str, config: dict, metrics: dict, run_id: str | None = None) -> dict:
    """One evaluated job (its config as the run registry stores it) as a result row."""
    per_type = {}
    for t, v in (metrics.get("per_type") or {}).items():
        per_type[t] = v.get("f1") if isinstance(v, dict) else v
    setup = config.get("setup") or job_setup(config)
    row = {
        "name": name,
        "lang": config.get("lang", ""),
        "mode": config.get("mode", ""),
        "seed": config.get("seed"),
        "f1": metrics.get("f1"),
        "precision": metrics.get("precision"),
        "recall": metrics.get("recall"),
        "per_type": per_type,
        "setup_id": setup["id"],
        "family": setup["family"],
        "family_label": setup["label"],
        "setup": setup["settings"],
    }
    if run_id:
        row["run_id"] = run_id
    return row


def rows_from_runs(runs: Sequence) -> list[dict]:
    """Result rows of finished run records (core.runs.Run) whose job names a lang and mode."""
    rows = []
    for run in runs:
        config, metrics = run.config or {}, run.metrics
        if run.status != "succeeded" or not isinstance(metrics, dict) or "f1" not in metrics:
            continue
        if not config.get("lang") or not config.get("mode"):
            continue
        rows.append(make_row(run.name, config, metrics, run.id))
    return rows


def registry_rows(home: PathLike | None = None) -> list[dict]:
    """Result rows of the succeeded runs in the run registry (launched from the app or CLI)."""
    from core.runs import RunManager

    rows = rows_from_runs(RunManager(home).list(["succeeded"]))
    return [dict(r, source="run registry") for r in rows]


def result_files(home: PathLike | None = None) -> list[Path]:
    """Result rows the app knows of: bench/results/*rows*.jsonl and DATA_HOME/results/*.jsonl."""
    from core.homes import data_home

    files = sorted((ROOT / "bench" / "results").glob("*rows*.jsonl"))
    files += sorted((data_home(home) / "results").glob("*.jsonl"))
    return files


def load_rows(paths: Iterable[PathLike]) -> list[dict]:
    """Rows from JSONL files; each keeps `source` (its file) and gets a `name` if it had none.
    A row without a setup (stored before setups were recorded) gets its file as its setup."""
    rows: list[dict] = []
    for path in paths:
        for number, line in enumerate(text_lines(read_text(path)), 1):  # JSONL: LF only
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", path, number) from None
            if not isinstance(row, dict) or any(k not in row for k in REQUIRED):
                raise InputError(f"a result row needs the keys {', '.join(REQUIRED)}", path, number)
            row = dict(row, source=Path(path).name)
            row.setdefault("name", f"{row['lang']}-{row['mode']}-{row.get('seed', number)}")
            if "setup_id" not in row:
                row = legacy_row(row)
            rows.append(row)
    return rows


def legacy_row(row: dict) -> dict:
    """A row stored without a setup: its file (and its own split/projection notes) stand for
    the setup; model transfer cannot predict types outside CoNLL's."""
    settings = {"file": row["source"]}
    for key in ("split", "projection"):
        if key in row:
            settings[key] = row[key]
    per_type = {
        t: (None if row["mode"] == "model-transfer" and t not in LEGACY_MODEL_TRANSFER_TYPES
            else _f1(v))
        for t, v in (row.get("per_type") or {}).items()
    }  # fmt: skip
    label = " ".join([row["source"], *(f"{k}={settings[k]}" for k in ("split", "projection")
                                        if k in settings)])  # fmt: skip
    family = {"file": row["source"]}
    return dict(row, per_type=per_type, setup=settings, setup_id=fingerprint(settings),
                family=fingerprint(family), family_label=label)  # fmt: skip


def _f1(value: object) -> float | None:
    return value.get("f1") if isinstance(value, dict) else value  # type: ignore[return-value]


# --------------------------------------------------------------------------- setups on view


@dataclass
class SetupSummary:
    family: str
    label: str
    rows: int
    languages: list[str]
    modes: list[str]
    sources: list[str]
    settings: dict = field(default_factory=dict)  # of its first row (one language)


def setup_families(rows: Sequence[dict]) -> list[SetupSummary]:
    """The setups (families) the rows belong to, in first-seen order."""
    out: dict[str, SetupSummary] = {}
    for r in rows:
        s = out.setdefault(r["family"], SetupSummary(r["family"], r["family_label"], 0, [], [],
                                                     [], dict(r.get("setup") or {})))  # fmt: skip
        s.rows += 1
        for attr, value in (("languages", r["lang"]), ("modes", r["mode"]),
                            ("sources", r.get("source", ""))):  # fmt: skip
            if value and value not in getattr(s, attr):
                getattr(s, attr).append(value)
    return list(out.values())


def setup_differences(setups: Sequence[SetupSummary]) -> list[dict]:
    """The settings whose values differ between setups: {setting, <label>: value, ...}."""
    flat = [_flatten(s.settings) for s in setups]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    out = []
    for key in keys:
        values = [f.get(key, "—") for f in flat]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            out.append({"setting": key} | {s.label: _short(v) for s, v in zip(setups, values)})
    return out


def _flatten(obj: object, prefix: str = "") -> dict:
    if isinstance(obj, dict) and obj and prefix.count(".") < 2:
        out: dict = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj}


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- aggregation


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation; std None below two values (no spread to show)."""
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < MIN_SEEDS_FOR_SPREAD:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _mode_order(mode: str) -> tuple[int, str]:
    return (MODES.index(mode) if mode in MODES else len(MODES), mode)


def entity_types(rows: Sequence[dict]) -> list[str]:
    seen = {t for r in rows for t in (r.get("per_type") or {})}
    return sorted(seen, key=lambda t: (TYPE_ORDER.index(t) if t in TYPE_ORDER else 99, t))


def aggregate(rows: Sequence[dict], types: Sequence[str] | None = None) -> list[dict]:
    """Rows -> one entry per (setup, lang, mode), each seed counted once: n, f1_mean, f1_std (sample std over seeds;
    None for one seed), TYPE_mean / TYPE_std per entity type (`types`: default every type seen),
    and `na_types`: the types none of its models can predict (shown "n/a"). Setups keep their
    first-seen order, then languages, then modes (model-transfer, direct, distill). A distill
    entry with a direct entry of the same setup and language gets `delta_vs_direct` and, when
    both have at least two seeds, `beyond_seed_spread` (|delta| > the larger std; else None)."""
    types = entity_types(rows) if types is None else list(types)
    groups: dict[tuple[str, str, str], list[dict]] = {}
    seen: set[tuple] = set()
    for row in rows:
        if row.get("f1") is None:
            continue
        key = (str(row.get("setup_id", "")), str(row["lang"]), str(row["mode"]))
        if (*key, row.get("seed")) in seen:  # the same run from two sources counts once
            continue
        seen.add((*key, row.get("seed")))
        groups.setdefault(key, []).append(row)
    table = []
    order = list(dict.fromkeys((setup, lang) for setup, lang, _ in groups))
    for setup, lang in order:
        modes = sorted({m for s, la, m in groups if (s, la) == (setup, lang)}, key=_mode_order)
        for mode in modes:
            group = groups[(setup, lang, mode)]
            mean, std = mean_std([float(r["f1"]) for r in group])
            entry = {"setup_id": setup, "family": group[0].get("family", setup),
                     "setup": group[0].get("family_label", setup), "lang": lang, "mode": mode,
                     "n": len(group), "f1_mean": mean, "f1_std": std, "na_types": []}  # fmt: skip
            for t in types:
                values = [(r.get("per_type") or {}).get(t, "absent") for r in group]
                scored = [float(v) for v in values if isinstance(v, int | float)]
                if not scored and any(v is None for v in values):
                    entry["na_types"].append(t)
                entry[f"{t}_mean"], entry[f"{t}_std"] = mean_std(scored)
            table.append(entry)
    by_key = {(e["setup_id"], e["lang"], e["mode"]): e for e in table}
    for setup, lang in order:
        a, b = by_key.get((setup, lang, "direct")), by_key.get((setup, lang, "distill"))
        if a and b:
            b["delta_vs_direct"] = b["f1_mean"] - a["f1_mean"]
            spread = None
            if a["f1_std"] is not None and b["f1_std"] is not None:
                spread = abs(b["delta_vs_direct"]) > max(a["f1_std"], b["f1_std"])
            b["beyond_seed_spread"] = spread
    return table


def table_types(table: Sequence[dict]) -> list[str]:
    keys = (table[0] if table else {}).keys()
    return [k[: -len("_mean")] for k in keys if k.endswith("_mean") and k != "f1_mean"]


def cell(entry: dict, key: str) -> str:
    """`0.454 ± 0.017`, `0.434` (one seed), `n/a` (a type the model cannot predict), `–`."""
    mean, std = entry.get(f"{key}_mean"), entry.get(f"{key}_std")
    if mean is None:
        return "n/a" if key in entry.get("na_types", ()) else "–"
    return f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"


def delta_text(entry: dict) -> str:
    if "delta_vs_direct" not in entry:
        return ""
    spread = entry.get("beyond_seed_spread")
    note = ("fewer than 2 seeds: no spread" if spread is None
            else "beyond seed spread" if spread else "within seed spread")  # fmt: skip
    return f"{entry['delta_vs_direct']:+.3f} ({note})"


def markdown_table(table: Sequence[dict], main: str = "F1") -> str:
    types = table_types(table)
    several = len({e["family"] for e in table}) > 1 or len(
        {(e["lang"], e["mode"]) for e in table}
    ) < len(table)
    head = (["setup"] if several else []) + ["lang", "mode", "seeds", main, *types]
    head.append("distill − direct")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in table:
        cells = ([f"{e['setup']} {e['setup_id'][:6]}"] if several else []) + [
            e["lang"],
            e["mode"],
            str(e["n"]),
        ]
        cells += [cell(e, "f1")] + [cell(e, t) for t in types] + [delta_text(e)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def table_csv(table: Sequence[dict]) -> str:
    columns = list(dict.fromkeys(k for e in table for k in e))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for entry in table:
        writer.writerow({k: _csv_value(entry.get(k)) for k in columns})
    return out.getvalue()


def _csv_value(value: object) -> object:
    if isinstance(value, list):
        return " ".join(map(str, value))
    return f"{value:.4f}" if isinstance(value, float) else ("" if value is None else value)


@dataclass(frozen=True)
class Summary:
    """One (setup, lang, mode, type) number for charts; type "all" is the main score."""

    setup_id: str
    lang: str
    mode: str
    type: str
    mean: float | None
    std: float | None
    n: int
    text: str


def summarise(rows: Sequence[dict], types: Sequence[str] | None = None) -> tuple[list[Summary],
                                                                                 list[dict]]:  # fmt: skip
    """`aggregate`'s table, plus the same numbers in long form for charts."""
    table = aggregate(rows, types)
    long = []
    for e in table:
        for key in ["f1", *table_types(table)]:
            long.append(Summary(e["setup_id"], e["lang"], e["mode"], "all" if key == "f1" else key,
                                e.get(f"{key}_mean"), e.get(f"{key}_std"), e["n"],
                                cell(e, key)))  # fmt: skip
    return long, table


# --------------------------------------------------------------------------- plots and files


def plot_results(table: Sequence[dict], path: PathLike, title: str = "") -> Path:
    """Bars of mean F1 per language (groups) and mode (colours), std error bars where there
    are two seeds or more: one panel for the main score and one per entity type. Written as
    PNG without pyplot (no global state, safe in the app's threads). One setup per language."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not table:
        raise ConfigError("no results to plot")
    if len({(e["lang"], e["mode"]) for e in table}) < len(table):
        raise ConfigError("a language and mode appear under several setups: plot one at a time")
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
                    stds.append(e[f"{key}_std"] or 0.0)
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


def write_results(exp, outcomes: Sequence, publish: Path | None = None) -> ExperimentResult:
    """rows.jsonl, results.csv, results.md and results.png under the experiment's output
    folder (and the rows under `publish` for the app's Results page)."""
    order = {lang: i for i, lang in enumerate(exp.languages)}  # the file's order, not finish order
    done = sorted(
        (o for o in outcomes if o.metrics and o.run.lang),
        key=lambda o: (order.get(o.run.lang, len(order)), _mode_order(o.run.mode), o.run.seed),
    )
    rows = [make_row(o.run.name, o.run.config, o.metrics, o.run_id) for o in done]
    failed = [{"name": o.run.name, "error": o.error, "run_id": o.run_id} for o in outcomes
              if o.error]  # fmt: skip
    table = aggregate(rows)
    out = exp.output
    files = {"rows": str(out / "rows.jsonl"), "csv": str(out / "results.csv"),
             "markdown": str(out / "results.md")}  # fmt: skip
    jsonl = "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in rows)
    with atomic_write(files["rows"]) as handle:
        handle.write(jsonl)
    with atomic_write(files["csv"]) as handle:
        handle.write(table_csv(table))
    main = exp.settings.evaluation.types if exp.settings.job == "train" else MAIN_TYPES
    md = f"# {exp.name}\n\n" + (markdown_table(table, f"F1 {'/'.join(main)}") if table
                                 else "no results\n")  # fmt: skip
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
