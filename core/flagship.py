"""The offline flagship experiment (issue 4): MAFAND en-X -> spaCy English labels -> eflomal ->
heuristic projection -> direct vs distill vs model-transfer taggers -> MasakhaNER 2.0 test.

`prepare_language` builds (and caches under a work folder) the per-language files the training
modes read; `flagship_jobs` turns them into `core.training.train_job` configs, one per mode and
seed; `run_flagship` runs them and tabulates F1 (PER/ORG/LOC, DATE separately).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import regex

from core.formats import nfc, read_conll, read_mafand_tsv, write_conll, write_lines
from core.types import Sentence

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
    aligner_params: dict | None = None,
    labeler: str = "spacy",
    force: bool = False,
    progress: bool = False,
) -> dict[str, Path]:
    """Project spaCy's English entities over MAFAND en-`lang` (all splits) onto the target side.

    Cached: an existing `stats.json` means the files are complete (it is written last)."""
    files = _files(work, lang)
    if files["stats"].exists() and not force:
        return files
    from core.aligners.base import get_aligner
    from core.labelers import get_labeler
    from core.pipeline import align_pairs, make_pairs, project_pairs
    from core.projection.base import get_projector
    from core.tokenize import Tokenizer

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
    params = {"symmetrization": "grow-diag-final-and", **(aligner_params or {})}
    aligned = align_pairs(make_pairs(sources, targets), get_aligner("eflomal", **params))
    projections = project_pairs(aligned, get_projector("heuristic"), progress=progress)
    projected = [p.labelled_target() for p in projections]
    write_conll(files["source"], sources)
    write_conll(files["projected"], projected)
    masakhaner_train = read_conll(data / "masakhaner2" / lang / "train.txt")
    unlabelled = [" ".join(s.tokens) for s in masakhaner_train] + [" ".join(t) for t in tgt_tokens]
    write_lines(files["unlabelled"], unlabelled)
    stats = {
        "lang": lang,
        "pairs": len(pairs),
        "kept_pairs": len(src_tokens),
        "source_entities": sum(len(s.spans) for s in sources),
        "projected_entities": sum(len(p.spans) for p in projections),
        "unlabelled_sentences": len(unlabelled),
        "seconds": round(time.perf_counter() - started, 1),
    }
    files["stats"].write_text(json.dumps(stats, indent=1))
    log.info("prepared %s: %s", lang, stats)
    return files


def flagship_jobs(
    lang: str,
    data: Path,
    work: Path,
    seeds: Sequence[int] = (1, 2, 3),
    modes: Sequence[str] = MODES,
    tagger_params: dict | None = None,
    epochs: int | None = None,
) -> list[dict]:
    """`train_job` configs for one language (call `prepare_language` first)."""
    files = _files(work, lang)
    test = {"path": str(data / "masakhaner2" / lang / "test.txt"), "format": "conll"}
    common = {
        "tagger": "embedded",
        "tagger_params": dict(tagger_params or {}),
        "test": test,
        "types": list(MAIN_TYPES),
        "report_types": ["DATE"],
    }
    if epochs is not None:
        common["epochs"] = epochs
    jobs = []
    for mode in modes:
        for seed in seeds:
            job = {**common, "mode": mode, "seed": seed, "name": f"{lang}-{mode}-{seed}"}
            if mode == "direct":
                job["train"] = {"path": str(files["projected"]), "format": "conll"}
            elif mode == "distill":
                job["train"] = {"path": str(files["projected"]), "format": "conll"}
                job["unlabelled"] = {"path": str(files["unlabelled"]), "format": "text"}
            else:
                job["train"] = {"path": str(data / "conll2003_en" / "train.txt"), "format": "conll"}
                # CoNLL has no DATE and a MISC that MasakhaNER lacks: learn PER/ORG/LOC only.
                job["labels_keep"] = list(MAIN_TYPES)
            jobs.append(job)
    return jobs


def run_flagship(
    data: Path,
    work: Path,
    languages: Sequence[str] = LANGUAGES,
    seeds: Sequence[int] = (1, 2, 3),
    modes: Sequence[str] = MODES,
    tagger_params: dict | None = None,
    epochs: int | None = None,
    report: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run every job in this process; returns one row per job (lang, mode, seed, metrics)."""
    from core.training import train_job

    rows = []
    for lang in languages:
        prepare_language(lang, data, work)
        for job in flagship_jobs(lang, data, work, seeds, modes, tagger_params, epochs):
            started = time.perf_counter()
            metrics = train_job(
                job, report or (lambda _e: None), lambda: False, work / lang / job["name"]
            )
            row = {"lang": lang, "mode": job["mode"], "seed": job["seed"], **metrics}
            row["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "per_type"}), flush=True)
    return rows
