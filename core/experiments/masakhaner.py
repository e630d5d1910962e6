"""MasakhaNER training data by projection: MAFAND en-X (all splits) -> English labels ->
word alignment -> projected target-side tags, per language, cached under a work folder.

`prepare_language` builds the files that the training jobs of an experiment read (see
core.experiments.plan): the projected target side (direct training, distill's hard labels) and
the MAFAND target side as unlabelled text (distill).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import regex

from core.data.formats import atomic_write, nfc, read_mafand_tsv, write_conll, write_lines
from core.data.types import Sentence
from core.experiments.settings import ProjectionSettings

log = logging.getLogger(__name__)

# MasakhaNER splits hyphens off as tokens but keeps apostrophes inside words (ibo "n'ebe"):
# the projected target side must be tokenised the same way or the tagger sees other words.
_TARGET_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]")


def masakhaner_tokenize(text: str) -> list[str]:
    return _TARGET_WORD.findall(nfc(text))


def language_files(work: Path, lang: str) -> dict[str, Path]:
    """The prepared files of `lang` under the work folder."""
    d = Path(work) / lang
    return {
        "projected": d / "projected.conll",  # MAFAND target side, projected tags
        "source": d / "source.conll",  # MAFAND English side, labeler tags
        "target": d / "target.txt",  # MAFAND target side, one tokenised sentence per line
        "stats": d / "stats.json",  # written last: the files are complete
    }


def parallel_folder(data: Path, lang: str) -> Path:
    return Path(data) / "mafand_mt" / f"en-{lang}"


def prepare_language(
    lang: str,
    data: Path,
    work: Path,
    projection: ProjectionSettings | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> dict[str, Path]:
    """Project the labeler's English entities over MAFAND en-`lang` (all splits) onto the target
    side with `projection`'s aligner and method (default: ProjectionSettings()).

    Cached: an existing `stats.json` with the same settings is reused; other settings rebuild
    the files. The alignments go through core.aligners.cache, so a rebuild with the same
    settings gives the same files."""
    projection = projection or ProjectionSettings()
    files = language_files(work, lang)
    settings = projection.cache_key()
    if files["stats"].exists() and not force:
        cached = json.loads(files["stats"].read_text()).get("settings")
        if cached == settings and all(f.exists() for f in files.values()):
            return files
        log.info("%s: projection settings changed (%s -> %s), rebuilding", lang, cached, settings)
    from core.aligners.base import get_aligner
    from core.aligners.cache import cached
    from core.data.tokenize import Tokenizer
    from core.labelers import get_labeler
    from core.pipelines.steps import align_pairs, make_pairs, project_pairs
    from core.projection.base import get_projector

    started = time.perf_counter()
    pairs: list[tuple[str, str]] = []
    folder = parallel_folder(data, lang)
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
    labeler = get_labeler(projection.source_labeler, **projection.source_labeler_params)
    tags = labeler.label(src_tokens)
    sources = [
        Sentence(s, t, id=str(n), lang="en") for n, (s, t) in enumerate(zip(src_tokens, tags))
    ]
    targets = [Sentence(t, None, id=str(n), lang=lang) for n, t in enumerate(tgt_tokens)]
    # behind the alignment cache: a rerun (or another experiment over the same pairs and aligner
    # settings) reuses eflomal's sampled alignments, so the projection is reproduced exactly
    aligner = cached(get_aligner(projection.aligner, **projection.aligner_params))
    aligned = align_pairs(make_pairs(sources, targets), aligner)
    projector = get_projector(projection.method, **projection.method_params)
    projections = project_pairs(aligned, projector, progress=progress)
    drop = projection.drop_incomplete
    projected = [p.labelled_target() for p in projections if not (drop and p.unprojected)]
    files["stats"].unlink(missing_ok=True)  # the old files are no longer complete
    write_conll(files["source"], sources)
    write_conll(files["projected"], projected)
    write_lines(files["target"], [" ".join(t) for t in tgt_tokens])
    stats = {
        "lang": lang,
        "settings": settings,
        "pairs": len(pairs),
        "kept_pairs": len(src_tokens),
        "source_entities": sum(len(s.spans) for s in sources),
        "projected_entities": sum(len(p.spans) for p in projections),
        "training_sentences": len(projected),
        "seconds": round(time.perf_counter() - started, 1),
    }
    with atomic_write(files["stats"]) as handle:
        json.dump(stats, handle, indent=1)
    log.info("prepared %s: %s", lang, stats)
    return files
