"""Corrections close the loop: train target taggers on a project's corrected data and on the
same data uncorrected (the projection alone), with the same settings, seeds and test set, and
compare them through the one results module (core.experiments.results).

`retrain_jobs` writes the two training files into the project (exports/retrain/) and returns the
training jobs (core.experiments.settings.TrainJob) per data version x mode x seed; a page or a
script hands them to the run manager or runs them in process. `comparison` turns the finished
runs into one row per mode: F1 on the corrected data, on the uncorrected data, and the change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.data.formats import atomic_write, write_conll
from core.errors import ConfigError
from core.experiments.settings import TrainJob, validate
from core.workbench.runs import SIZE_PRESETS

VERSIONS = ("corrected", "uncorrected")  # the training data: with the corrections, without
# A distill student learns its teacher's distributions with KL: with the tagger's default MSE the
# student of a corrected Europarl-NER set (699 sentences) never left "all O" (test F1 0.000 after
# 5 and after 30 epochs, loss flat), with KL it reached F1 0.32 after 5 (bench/retrain_corrections.py).
DISTILL_PARAMS = {"soft_loss": "kl"}
RECORD = "retrain.json"  # in the project folder: which runs belong to which retraining


@dataclass(frozen=True)
class Planned:
    version: str  # one of VERSIONS
    job: TrainJob


def retrain_jobs(
    project,
    key: str,
    test: Path,
    *,
    preset: str = "small",
    modes: Sequence[str] = ("direct", "distill"),
    tagger: str = "embedded",
) -> list[Planned]:
    """Jobs that train on the corrected and on the uncorrected data of view `key`."""
    if preset not in SIZE_PRESETS:
        raise ConfigError(f"preset {preset!r}; known: {', '.join(SIZE_PRESETS)}")
    size = SIZE_PRESETS[preset]
    folder = project.path / "exports" / "retrain"
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "corrected": folder / "corrected.conll",
        "uncorrected": folder / "uncorrected.conll",
    }
    write_conll(files["corrected"], project.corrected(key))
    write_conll(files["uncorrected"], [p.labelled_target() for p in project.projections(key)])
    lang = project.meta.get("target_lang") or "xx"
    planned = []
    for version in VERSIONS:
        for mode in modes:
            for seed in size.seeds:
                config: dict = {
                    "mode": mode,
                    "tagger": tagger,
                    "train": {"path": str(files[version]), "limit": size.sentences},
                    "test": str(Path(test)),
                    "lang": lang,
                    "seed": seed,
                    "name": f"{project.name}-{version}-{mode}-seed{seed}",
                }
                if mode == "distill":
                    config["unlabelled"] = str(files[version])  # its tokens; labels ignored
                    config["tagger_params"] = dict(DISTILL_PARAMS)
                if size.epochs is not None:
                    config["epochs"] = size.epochs
                planned.append(Planned(version, validate(TrainJob, config, f"{preset} preset")))
    return planned


def record(project, runs: Iterable[tuple[str, str]], preset: str) -> None:
    """Remember (run id, version) of a retraining in the project folder (newest last)."""
    path = project.path / RECORD
    history = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    history.append({"preset": preset, "runs": [{"id": i, "version": v} for i, v in runs]})
    with atomic_write(path) as handle:
        json.dump(history, handle, indent=1)


def recorded(project) -> list[dict]:
    path = project.path / RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def comparison(runs: Sequence, versions: dict[str, str]) -> list[dict]:
    """One row per mode: mean F1 (± std over seeds) trained on the corrected and on the
    uncorrected data, and the change; `runs` are run records, `versions` run id -> version."""
    from core.experiments.results import aggregate, cell, rows_from_runs

    rows = rows_from_runs(runs)
    version_of_setup = {}
    for row in rows:
        version_of_setup[row["setup_id"]] = versions.get(row.get("run_id", ""), "?")
    table = aggregate(rows)
    out: dict[str, dict] = {}
    for entry in table:
        version = version_of_setup.get(entry["setup_id"], "?")
        line = out.setdefault(entry["mode"], {"mode": entry["mode"]})
        line[f"F1 {version}"] = cell(entry, "f1")
        line[f"seeds {version}"] = entry["n"]
        line[f"_{version}"] = entry["f1_mean"]
        line[f"_{version}_std"] = entry["f1_std"]
    for line in out.values():
        a, b = line.pop("_corrected", None), line.pop("_uncorrected", None)
        sa, sb = line.pop("_corrected_std", None), line.pop("_uncorrected_std", None)
        if a is not None and b is not None:
            line["change"] = f"{a - b:+.3f}"
            spread = max(sa, sb) if sa is not None and sb is not None else None
            line["beyond seed spread"] = (
                "fewer than 2 seeds" if spread is None else ("yes" if abs(a - b) > spread else "no")
            )
    return list(out.values())
