"""The offline flagship experiment (issue 4): MAFAND en-X -> spaCy English labels -> eflomal ->
projection (heuristic or candidates) -> direct vs distill vs model-transfer taggers -> MasakhaNER 2.0 test.

`prepare_language` builds (and caches under a work folder) the per-language files the training
modes read; `flagship_jobs` turns them into `core.training.train_job` configs, one per mode and
seed; `run_flagship` runs them and tabulates F1 (PER/ORG/LOC, DATE separately).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex

from core.data.formats import nfc, read_conll, read_mafand_tsv, write_conll, write_lines
from core.data.types import Sentence

log = logging.getLogger(__name__)

LANGUAGES = ("yor", "hau", "ibo", "zul", "pcm")
MAIN_TYPES = ("PER", "ORG", "LOC")
MODES = ("direct", "distill", "model-transfer")

# MasakhaNER splits hyphens off as tokens but keeps apostrophes inside words (ibo "n'ebe"):
# the projected target side must be tokenised the same way or the tagger sees other words.
_TARGET_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]")


def masakhaner_tokenize(text: str) -> list[str]:
    return _TARGET_WORD.findall(nfc(text))


def _files(work: Path, lang: str) -> dict[str, Path]:
    d = work / lang
    return {
        "projected": d / "projected.conll",  # MAFAND target side, projected tags
        "source": d / "source.conll",  # MAFAND English side, spaCy tags
        "unlabelled": d / "unlabelled.txt",  # MasakhaNER train text (no labels) + MAFAND target
        "stats": d / "stats.json",
    }


def prepare_language(
    lang: str,
    data: Path,
    work: Path,
    *,
    aligner: str = "eflomal",
    aligner_params: dict | None = None,
    method: str = "heuristic",
    method_params: dict | None = None,
    labeler: str = "spacy",
    drop_incomplete: bool = False,
    force: bool = False,
    progress: bool = False,
) -> dict[str, Path]:
    """Project `labeler`'s English entities over MAFAND en-`lang` (all splits) onto the target
    side with `aligner` and the projection `method`. `drop_incomplete` keeps only the pairs whose
    source entities were all projected: an entity the projection missed would teach the tagger
    that its words are O.

    Cached: an existing `stats.json` (written last, so the files are complete) with the same
    settings is reused; other settings rebuild the files."""
    files = _files(work, lang)
    settings = {
        "labeler": labeler,
        "aligner": aligner,
        "aligner_params": dict(aligner_params or {}),
        "method": method,
        "method_params": dict(method_params or {}),
        "drop_incomplete": drop_incomplete,
    }
    if files["stats"].exists() and not force:
        cached = json.loads(files["stats"].read_text()).get("settings")
        if cached == settings:
            return files
        log.info("%s: projection settings changed (%s -> %s), rebuilding", lang, cached, settings)
    from core.aligners.base import get_aligner
    from core.data.tokenize import Tokenizer
    from core.labelers import get_labeler
    from core.pipelines.steps import align_pairs, make_pairs, project_pairs
    from core.projection.base import get_projector

    started = time.perf_counter()
    pairs: list[tuple[str, str]] = []
    folder = data / "mafand_mt" / f"en-{lang}"
    for split in ("train", "dev", "test"):
        path = folder / f"{split}.tsv"
        if path.exists():
            pairs += read_mafand_tsv(path)
    english = Tokenizer("en")
    src_tokens, tgt_tokens = [], []
    for en, xx in pairs:
        s, t = english(en), masakhaner_tokenize(xx)
        if s and t and len(s) <= 200 and len(t) <= 200:
            src_tokens.append(s)
            tgt_tokens.append(t)
    tags = get_labeler(labeler).label(src_tokens)
    sources = [
        Sentence(s, t, id=str(n), lang="en") for n, (s, t) in enumerate(zip(src_tokens, tags))
    ]
    targets = [Sentence(t, None, id=str(n), lang=lang) for n, t in enumerate(tgt_tokens)]
    aligned = align_pairs(
        make_pairs(sources, targets), get_aligner(aligner, **settings["aligner_params"])
    )
    projector = get_projector(method, **settings["method_params"])
    projections = project_pairs(aligned, projector, progress=progress)
    projected = [
        p.labelled_target() for p in projections if not (drop_incomplete and p.unprojected)
    ]
    write_conll(files["source"], sources)
    write_conll(files["projected"], projected)
    masakhaner_train = read_conll(data / "masakhaner2" / lang / "train.txt")
    unlabelled = [" ".join(s.tokens) for s in masakhaner_train] + [" ".join(t) for t in tgt_tokens]
    write_lines(files["unlabelled"], unlabelled)
    stats = {
        "lang": lang,
        "settings": settings,
        "pairs": len(pairs),
        "kept_pairs": len(src_tokens),
        "source_entities": sum(len(s.spans) for s in sources),
        "projected_entities": sum(len(p.spans) for p in projections),
        "training_sentences": len(projected),
        "unlabelled_sentences": len(unlabelled),
        "seconds": round(time.perf_counter() - started, 1),
    }
    files["stats"].write_text(json.dumps(stats, indent=1))
    log.info("prepared %s: %s", lang, stats)
    return files


@dataclass
class FlagshipSettings:
    """What the flagship varies; everything else is the embedded tagger's defaults."""

    seeds: tuple[int, ...] = (1, 2, 3)
    modes: tuple[str, ...] = MODES
    tagger_params: dict = field(default_factory=dict)
    epochs: int | None = None  # direct and model-transfer (None: the tagger's default)
    student_epochs: int | None = None  # distill (None: as epochs)
    hard_weight: float = 1.0  # distill: projected hard labels mixed into the student's data
    mt_teacher_weight: float = 0.0  # distill: weight of the model-transfer model as a teacher
    ensemble: bool = True  # distill: the direct models of all seeds teach (else the same seed)
    split: str = "test"  # MasakhaNER split scored: "dev" to choose settings, "test" to report


def flagship_plan(
    languages: Sequence[str], data: Path, work: Path, settings: FlagshipSettings
) -> list[list[tuple[dict, Path]]]:
    """Jobs for `core.training.train_job` in phases (a phase needs the models of the previous
    ones): 1) model-transfer training per seed, direct per language and seed; 2) distill per
    language and seed (teachers: the direct models), model-transfer evaluation per language."""
    s = settings
    mt_dir = {seed: work / "model-transfer" / f"seed{seed}" for seed in s.seeds}
    direct_dir = {
        (lang, seed): work / lang / f"direct-seed{seed}" for lang in languages for seed in s.seeds
    }
    common = {
        "tagger": "embedded",
        "tagger_params": dict(s.tagger_params),
        "types": list(MAIN_TYPES),
        "report_types": ["DATE"],
    }
    if s.epochs is not None:
        common["epochs"] = s.epochs

    def test(lang: str) -> dict:
        return {"path": str(data / "masakhaner2" / lang / f"{s.split}.txt"), "format": "conll"}

    first: list[tuple[dict, Path]] = []
    second: list[tuple[dict, Path]] = []
    need_mt = "model-transfer" in s.modes or s.mt_teacher_weight > 0
    need_direct = "direct" in s.modes or "distill" in s.modes
    for seed in s.seeds if need_mt else ():
        job = {
            **common,
            "mode": "model-transfer",
            "seed": seed,
            "train": {"path": str(data / "conll2003_en" / "train.txt"), "format": "conll"},
            # CoNLL has MISC and no DATE: learn the types MasakhaNER scores
            "labels_keep": list(MAIN_TYPES),
            "test": test(languages[0]),
            "name": f"model-transfer-seed{seed}",
        }
        first.append((job, mt_dir[seed]))
    for lang in languages:
        files = _files(work, lang)
        for seed in s.seeds:
            if need_direct:
                job = {
                    **common,
                    "mode": "direct",
                    "seed": seed,
                    "lang": lang,
                    "train": {"path": str(files["projected"]), "format": "conll"},
                    "test": test(lang),
                    "name": f"{lang}-direct-seed{seed}",
                }
                first.append((job, direct_dir[lang, seed]))
            if "model-transfer" in s.modes:
                job = {
                    **common,
                    "mode": "model-transfer",
                    "seed": seed,
                    "lang": lang,
                    "model": str(mt_dir[seed] / "model"),
                    "test": test(lang),
                    "name": f"{lang}-model-transfer-seed{seed}",
                }
                second.append((job, work / lang / f"model-transfer-seed{seed}"))
            if "distill" in s.modes:
                seeds = s.seeds if s.ensemble else (seed,)
                teachers = [{"path": str(direct_dir[lang, k] / "model")} for k in seeds]
                weights = [1.0] * len(teachers)
                if s.mt_teacher_weight > 0:
                    teachers.append({"path": str(mt_dir[seed] / "model")})
                    weights.append(s.mt_teacher_weight * len(seeds))
                job = {
                    **common,
                    "mode": "distill",
                    "seed": seed,
                    "lang": lang,
                    "train": {"path": str(files["projected"]), "format": "conll"},
                    "unlabelled": {"path": str(files["unlabelled"]), "format": "tokens"},
                    "teachers": teachers,
                    "teacher_weights": weights,
                    "hard_weight": s.hard_weight,
                    "test": test(lang),
                    "name": f"{lang}-distill-seed{seed}",
                }
                if s.student_epochs is not None:
                    job["epochs"] = s.student_epochs
                second.append((job, work / lang / f"distill-seed{seed}"))
    return [first, second]


def _run_one(item: tuple[dict, Path]) -> dict:
    from core.training import train_job

    job, workdir = item
    started = time.perf_counter()
    metrics = train_job(job, lambda _e: None, lambda: False, workdir)
    row = {
        "name": job["name"],
        "lang": job.get("lang", ""),
        "mode": job["mode"],
        "seed": job["seed"],
        "f1": metrics["f1"],
        "precision": metrics["precision"],
        "recall": metrics["recall"],
        "per_type": {k: v["f1"] for k, v in metrics["per_type"].items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(row), flush=True)
    return row


def run_flagship(
    languages: Sequence[str],
    data: Path,
    work: Path,
    settings: FlagshipSettings,
    parallel: int = 1,
    projection: dict | None = None,
) -> list[dict]:
    """Prepare the projected data (`projection`: keyword arguments of `prepare_language`), then
    run the plan's phases (`parallel` worker processes); returns one row per evaluated job
    (model-transfer training jobs are not rows)."""
    for lang in languages:
        prepare_language(lang, data, work, **(projection or {}))
    rows: list[dict] = []
    for phase in flagship_plan(languages, data, work, settings):
        if parallel > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: CUDA (and torch's thread pools) do not survive a fork
            with ProcessPoolExecutor(parallel, mp_context=mp.get_context("spawn")) as pool:
                done = list(pool.map(_run_one, phase))
        else:
            done = [_run_one(item) for item in phase]
        rows += [r for r in done if r["lang"]]
    return rows


def summarise(rows: Sequence[dict]) -> list[dict]:
    """Mean and (sample) std over seeds per language and mode; distill vs direct per language."""
    import statistics

    table = []
    for lang in dict.fromkeys(r["lang"] for r in rows):
        by_mode = {}
        for mode in dict.fromkeys(r["mode"] for r in rows if r["lang"] == lang):
            f1 = [r["f1"] for r in rows if r["lang"] == lang and r["mode"] == mode]
            date = [
                r["per_type"].get("DATE", 0.0)
                for r in rows
                if r["lang"] == lang and r["mode"] == mode
            ]
            entry = {
                "lang": lang,
                "mode": mode,
                "seeds": len(f1),
                "f1_mean": statistics.mean(f1),
                "f1_std": statistics.stdev(f1) if len(f1) > 1 else 0.0,
                "date_f1_mean": statistics.mean(date),
            }
            for t in MAIN_TYPES:
                entry[f"{t}_f1_mean"] = statistics.mean(
                    r["per_type"].get(t, 0.0)
                    for r in rows
                    if r["lang"] == lang and r["mode"] == mode
                )
            by_mode[mode] = entry
            table.append(entry)
        if "direct" in by_mode and "distill" in by_mode:
            a, b = by_mode["direct"], by_mode["distill"]
            delta = b["f1_mean"] - a["f1_mean"]
            b["delta_vs_direct"] = delta
            b["beyond_seed_spread"] = abs(delta) > max(a["f1_std"], b["f1_std"])
    return table


def markdown_table(table: Sequence[dict]) -> str:
    lines = [
        "| lang | mode | F1 PER/ORG/LOC (mean ± std) | PER | ORG | LOC | DATE F1 | distill − direct |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in table:
        delta = ""
        if "delta_vs_direct" in e:
            mark = "beyond" if e["beyond_seed_spread"] else "within"
            delta = f"{e['delta_vs_direct']:+.3f} ({mark} seed spread)"
        lines.append(
            f"| {e['lang']} | {e['mode']} | {e['f1_mean']:.3f} ± {e['f1_std']:.3f} "
            f"(n={e['seeds']}) | {e['PER_f1_mean']:.3f} | {e['ORG_f1_mean']:.3f} | "
            f"{e['LOC_f1_mean']:.3f} | {e['date_f1_mean']:.3f} | {delta} |"
        )
    return "\n".join(lines)
