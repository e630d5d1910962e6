"""Projects in the app's data folder: projected sentence pairs in one or more views, plus corrections.

Layout under the data home (XNER_HOME, default ./xner_data):

    projects/<name>/meta.json          title, languages, the views, how it was built
    projects/<name>/views/<key>.jsonl  one projection file per (aligner, method) view
    projects/<name>/corrections.sqlite the human corrections (core.workbench.corrections)
    projects/<name>/uploads/           uploaded source files (sanitised names)
    projects/<name>/exports/           corrected CoNLL written for download or training

A project is built in a temporary folder and renamed into place, and meta.json is written last,
so a crash never leaves a half-built project that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core import homes
from core.aligners.base import Aligner, TokenPair
from core.data.formats import (
    PathLike,
    atomic_write,
    read_conll,
    read_projections_jsonl,
    write_conll,
    write_projections_jsonl,
)
from core.data.types import Projection, Sentence
from core.errors import InputError
from core.projection.base import PROJECTORS
from core.workbench.corrections import CorrectionStore, content_key, corrected_sentences
from core.workbench.data import safe_filename, safe_project_name
from core.workbench.interchange import ApplyReport, Item, apply_import

GOLD_FILE = "gold.conll"  # the target side's own labels, when the data came with them
DEFAULT_HOME = homes.DEFAULT_DATA_HOME
# Every projection method that works from the word alignment alone (not one that translates);
# the reference method first: a project opens on its view.
DEFAULT_METHODS = tuple(
    sorted(PROJECTORS.names(needs_translator=False), key=lambda name: name != "heuristic")
)

Progress = Callable[[str, float], None]  # (message, fraction done)


def data_home() -> Path:
    """The app's data folder: $XNER_HOME, else ./xner_data (core.homes)."""
    return homes.data_home()


def projects_dir(home: PathLike | None = None) -> Path:
    return Path(home or data_home()) / "projects"


def view_key(aligner: str, method: str) -> str:
    return f"{method} · {aligner}" if aligner else method


@dataclass
class View:
    key: str
    method: str
    aligner: str
    file: str


@lru_cache(maxsize=16)
def _read_view(path: str, mtime: float) -> tuple[Projection, ...]:
    # Keyed by modification time: a rebuilt view is re-read, an unchanged one comes from memory.
    return tuple(read_projections_jsonl(path))


class Project:
    def __init__(self, path: PathLike):
        self.path = Path(path)
        meta_path = self.path / "meta.json"
        if not meta_path.is_file():
            raise InputError("not a project folder (no meta.json)", self.path)
        self.meta: dict = json.loads(meta_path.read_text(encoding="utf-8"))
        self.views = [View(**v) for v in self.meta["views"]]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.name

    @property
    def view_keys(self) -> list[str]:
        return [v.key for v in self.views]

    def view(self, key: str) -> View:
        for v in self.views:
            if v.key == key:
                return v
        raise KeyError(f"project {self.name} has no view {key!r}; views: {self.view_keys}")

    def projections(self, key: str) -> list[Projection]:
        path = self.path / "views" / self.view(key).file
        return list(_read_view(str(path), path.stat().st_mtime))

    def sentence_ids(self) -> list[str]:
        return [p.pair.id for p in self.projections(self.views[0].key)]

    def sentences(self) -> list[tuple[str, list[str]]]:
        """(id, target tokens) of every sentence: what corrections are keyed by."""
        return [(p.pair.id, p.pair.target.tokens) for p in self.projections(self.views[0].key)]

    @property
    def corrections(self) -> CorrectionStore:
        """The project's correction store; a store from before content keys is migrated here."""
        sentences = self.sentences()
        store = CorrectionStore(
            self.path / "corrections.sqlite",
            contents={sid: content_key(tokens) for sid, tokens in sentences},
        )
        if store.needs_migration():
            store.reconcile(sentences)
        return store

    @property
    def uploads_dir(self) -> Path:
        return self.path / "uploads"

    def corrected(self, key: str, only_corrected: bool = False) -> list[Sentence]:
        return corrected_sentences(
            self.projections(key), self.corrections.all_current(), only_corrected
        )

    def gold(self) -> dict[str, list[str]] | None:
        """Gold target tags by sentence id, when the project has them (None otherwise).

        gold.conll lists the sentences in project order; a sentence whose tokens differ from
        the project's is left out rather than scored against the wrong labels."""
        path = self.path / GOLD_FILE
        if not path.is_file():
            return None
        gold = read_conll(path)
        out = {}
        for (sid, tokens), sentence in zip(self.sentences(), gold):
            if sentence.tokens == tokens and sentence.tags is not None:
                out[sid] = sentence.tags
        return out

    def exchange_items(self, key: str, only_corrected: bool = False) -> list[Item]:
        """The sentences to hand to an annotation tool: current labels plus the `key` projection."""
        corrected = {s.id: s for s in self.corrected(key, only_corrected)}
        return [
            Item(corrected[p.pair.id], p.target_tags(), key)
            for p in self.projections(key)
            if p.pair.id in corrected
        ]

    def import_labels(self, imported: Sequence[Sentence], key: str, user: str) -> ApplyReport:
        """Save labels made in an annotation tool as corrections over view `key`."""
        projected = {p.pair.id: p.target_tags() for p in self.projections(key)}
        return apply_import(
            imported, self.sentences(), projected, self.corrections, user=user, method=key
        )

    def export_conll(
        self, key: str, path: PathLike | None = None, only_corrected: bool = False
    ) -> Path:
        """Write the corrected target data (corrections over view `key`) as CoNLL, atomically."""
        out = Path(path) if path else self.path / "exports" / f"{self.name}.corrected.conll"
        write_conll(out, self.corrected(key, only_corrected))
        return out


def has_labels(sentence: Sentence) -> bool:
    return bool(sentence.tags) and any(tag != "O" for tag in sentence.tags)


def labels_as_projections(
    sentences: Sequence[Sentence], method: str = "labels"
) -> list[Projection]:
    """Labelled sentences without a source side, as projections onto themselves (every token
    linked to itself), so that their labels can be reviewed, corrected and exported."""
    from core.data.types import Alignment, ProjectedSpan, SentencePair

    out = []
    for s in sentences:
        links = frozenset((i, i) for i in range(len(s.tokens)))
        pair = SentencePair(s, Sentence(list(s.tokens), None, s.id, s.lang), Alignment(links), s.id)
        spans = [
            ProjectedSpan(span, span, method, 1.0, tuple((i, i) for i in span.indices()))
            for span in s.spans
        ]
        out.append(Projection(pair, spans, method))
    return out


def list_projects(home: PathLike | None = None) -> list[Project]:
    root = projects_dir(home)
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if (folder / "meta.json").is_file():
            try:
                out.append(Project(folder))
            except (InputError, json.JSONDecodeError, KeyError, TypeError):
                continue  # a damaged project is skipped, not fatal to the app
    return out


def get_project(name: str, home: PathLike | None = None) -> Project:
    return Project(projects_dir(home) / safe_project_name(name))


def training_data(project: Project, key: str, path: PathLike) -> Path:
    """The corrected CoNLL for a training run: point the training config's train file here."""
    return project.export_conll(key, path)


# ---------------------------------------------------------------------- building


def _write_project(
    home: PathLike | None,
    name: str,
    views: dict[tuple[str, str], list[Projection]],
    meta: dict,
    overwrite: bool,
    gold: Sequence[Sentence] | None = None,
) -> Project:
    root = projects_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    name = safe_project_name(name)
    final = root / name
    if final.exists() and not overwrite:
        raise InputError(f"a project named {name!r} exists already; choose another name")
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        (staging / "views").mkdir()
        entries = []
        for (aligner, method), projections in views.items():
            key = view_key(aligner, method)
            file = safe_filename(f"{method}.{aligner or 'given'}") + ".jsonl"
            write_projections_jsonl(staging / "views" / file, projections)
            entries.append({"key": key, "method": method, "aligner": aligner, "file": file})
        meta = dict(meta, name=name, views=entries, created=time.strftime("%Y-%m-%d %H:%M:%S"))
        if gold:
            write_conll(staging / GOLD_FILE, gold)
            meta["gold"] = GOLD_FILE
        if final.exists() and (final / "corrections.sqlite").exists():
            # Keep the corrections of a rebuilt project whose sentences still exist: they follow
            # their sentence by content (core.workbench.corrections.reconcile); the rest are set
            # aside in the store and reported in meta.json.
            old_db = final / "corrections.sqlite"
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(old_db) + suffix)
                if src.exists():
                    shutil.copy2(src, Path(str(staging / "corrections.sqlite") + suffix))
            first = next(iter(views.values()))
            report = CorrectionStore(staging / "corrections.sqlite").reconcile(
                [(p.pair.id, p.pair.target.tokens) for p in first]
            )
            meta["corrections_kept"] = report.describe()
            meta["corrections_orphaned"] = [sid for sid, _ in report.orphaned]
        with atomic_write(staging / "meta.json") as handle:
            json.dump(meta, handle, ensure_ascii=False, indent=1)
        if final.exists():
            trash = root / f".{name}.old.{os.getpid()}"
            final.rename(trash)
            staging.rename(final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Project(final)


def build_project(
    name: str,
    sources: Sequence[Sentence],
    targets: Sequence[Sentence],
    *,
    aligners: dict[str, Aligner],
    methods: Sequence[str] = DEFAULT_METHODS,
    extra: Sequence[TokenPair] = (),
    meta: dict | None = None,
    home: PathLike | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Project:
    """Align the pairs with every aligner, project with every method, save as a project.

    Targets that carry labels (a labelled target CoNLL) are kept as the project's gold, so the
    explorer can score each projection against them; the labels play no part in projecting."""
    from core.pipelines.steps import align_pairs, make_pairs, project_pairs
    from core.projection.base import get_projector

    gold = [t for t in targets if t.tags] if any(has_labels(t) for t in targets) else None
    if gold is not None and len(gold) != len(targets):
        gold = None  # labels on some targets only: not a gold set
    targets = [Sentence(list(t.tokens), None, t.id, t.lang) for t in targets]

    report = progress or (lambda message, fraction: None)
    started = time.perf_counter()
    views: dict[tuple[str, str], list[Projection]] = {}
    steps = len(aligners) * (1 + len(methods))
    done = 0
    for aligner_name, aligner in aligners.items():
        report(f"aligning {len(sources)} pairs with {aligner_name}", done / steps)
        pairs = align_pairs(make_pairs(sources, targets), aligner, extra)
        done += 1
        for method in methods:
            report(f"projecting with {method}", done / steps)
            views[(aligner_name, method)] = project_pairs(pairs, get_projector(method))
            done += 1
    report("saving", 1.0)
    info = dict(meta or {})
    info.update(
        sentences=len(sources),
        source_entities=sum(len(s.spans) for s in sources),
        built_seconds=round(time.perf_counter() - started, 2),
        extra_pairs=len(extra),
    )
    return _write_project(home, name, views, info, overwrite, gold)


def import_projections(
    name: str,
    views: dict[str, list[Projection]],
    meta: dict | None = None,
    home: PathLike | None = None,
    overwrite: bool = False,
) -> Project:
    """A project from projection JSONL made elsewhere (e.g. `xner project --output-jsonl`)."""
    return _write_project(home, name, {("", k): v for k, v in views.items()}, meta or {}, overwrite)


def default_aligners(names: Sequence[str] = ("eflomal",)) -> dict[str, Aligner]:
    from core.aligners.base import get_aligner

    return {name: get_aligner(name) for name in names}


def project_from_files(
    name: str,
    paths: Sequence[PathLike],
    *,
    source_lang: str = "en",
    target_lang: str = "xx",
    aligners: dict[str, Aligner] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    labeler: str = "spacy",
    home: PathLike | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Project:
    """A project from user files or a dataset folder (see core.workbench.data.find_inputs)."""
    from core.workbench.data import (
        check_parallel,
        find_inputs,
        read_conll_checked,
        read_projection_files,
        read_target_labelled,
        read_tsv_pairs,
    )

    inputs = find_inputs(paths)
    meta = {"title": name, "source_lang": source_lang, "target_lang": target_lang}
    if inputs.kind == "projections":
        meta["inputs"] = [p.name for p in inputs.projections]
        views = read_projection_files(inputs.projections)
        return import_projections(name, views, meta, home, overwrite)
    if inputs.kind == "tsv":
        from core.data.tokenize import Tokenizer
        from core.labelers import get_labeler

        pairs = read_tsv_pairs(inputs.tsv)
        src_tok, tgt_tok = Tokenizer(source_lang), Tokenizer(target_lang)
        raw = [Sentence(src_tok(s), None, str(n), source_lang) for n, (s, _) in enumerate(pairs)]
        if progress:
            progress(f"labelling {len(raw)} source sentences with {labeler}", 0.0)
        sources = get_labeler(labeler).label_sentences(raw)
        targets = [
            Sentence(tgt_tok(t), None, str(n), target_lang) for n, (_, t) in enumerate(pairs)
        ]
        meta["inputs"] = [inputs.tsv.name]
        meta["labeler"] = labeler
    elif inputs.kind == "labelled":
        sentences = []
        for path in inputs.labelled:
            prefix = f"{path.stem}-" if len(inputs.labelled) > 1 else ""
            for s in read_conll_checked(path, target_lang):
                sentences.append(Sentence(s.tokens, s.tags, prefix + s.id, target_lang))
        meta.update(
            inputs=[p.name for p in inputs.labelled],
            source_lang=target_lang,
            sentences=len(sentences),
            source_entities=sum(len(s.spans) for s in sentences),
            description="labelled data loaded to review: the labels are the view, every "
            "sentence is shown against itself",
        )
        views = {("", "labels"): labels_as_projections(sentences)}
        return _write_project(home, name, views, meta, overwrite)
    else:
        sources = read_conll_checked(inputs.source, source_lang)
        targets = read_target_labelled(inputs.target, target_lang)
        check_parallel(sources, targets, inputs)
        meta["inputs"] = [inputs.source.name, inputs.target.name]
    return build_project(
        name,
        sources,
        targets,
        aligners=aligners if aligners is not None else default_aligners(),
        methods=methods,
        meta=meta,
        home=home,
        overwrite=overwrite,
        progress=progress,
    )
