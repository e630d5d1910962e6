"""Safe handling of user data for the app: uploaded files and server paths.

Uploaded file names are untrusted: they are reduced to a plain base name (no folders, no `..`,
no leading dot, a small character set) and the file is written only inside the given folder, so a
name never becomes a path outside the project's data folder. Sizes are capped with a clear message.
`find_inputs` then decides what the files are (projection JSONL, labelled source CoNLL + target,
or a TSV of parallel text) and `read_inputs` reads them into sentences, checking pair counts.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from core.data.formats import (
    PathLike,
    atomic_write,
    nfc,
    parse_conll,
    read_lines,
    read_projections_jsonl,
    read_text,
)
from core.data.types import Projection, Sentence
from core.errors import InputError

DEFAULT_MAX_MB = 25.0
CONLL_SUFFIXES = (".conll", ".conllu", ".conll02", ".conll03", ".iob", ".bio", ".ner")
TEXT_SUFFIXES = (".txt",)
TSV_SUFFIXES = (".tsv",)
JSONL_SUFFIXES = (".jsonl",)
ACCEPTED_SUFFIXES = CONLL_SUFFIXES + TEXT_SUFFIXES + TSV_SUFFIXES + JSONL_SUFFIXES
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def max_upload_bytes() -> int:
    """The size limit per file: XNER_MAX_UPLOAD_MB (default 25 MB)."""
    try:
        mb = float(os.environ.get("XNER_MAX_UPLOAD_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1024 * 1024)


def _size_message(name: str, size: int, limit: int) -> str:
    return (
        f"{name} is {size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.0f} MB per "
        "file (set XNER_MAX_UPLOAD_MB to raise it, or split the data)"
    )


def safe_filename(name: str, default: str = "upload") -> str:
    """A base name safe to join to a folder: no separators, no `..`, no leading dot."""
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # drop any folder part, either OS's style
    name = _SAFE_CHARS.sub("_", name).strip("._-")
    name = re.sub(r"\.{2,}", ".", name)
    name = name[:100].strip("._-")
    return name or default


def safe_project_name(name: str) -> str:
    return safe_filename(name, default="project").replace(".", "_").lower()


def inside(folder: PathLike, name: str) -> Path:
    """`folder/name` after sanitising `name`; guaranteed to resolve inside `folder`."""
    root = Path(folder).resolve()
    path = (root / safe_filename(name)).resolve()
    if path.parent != root:  # defence in depth: safe_filename already removed separators
        raise InputError(f"file name {name!r} points outside the data folder")
    return path


def save_upload(
    name: str, data: bytes | BinaryIO, folder: PathLike, max_bytes: int | None = None
) -> Path:
    """Write an uploaded file inside `folder` under a sanitised name (atomically)."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    # A stream is read only up to the limit: a huge upload never sits whole in memory here.
    payload = bytes(data) if isinstance(data, bytes | bytearray) else data.read(limit + 1)
    if len(payload) > limit:
        shown = len(payload) if isinstance(data, bytes | bytearray) else _stream_size(data, limit)
        raise InputError(_size_message(name, shown, limit))
    suffix = Path(safe_filename(name)).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise InputError(
            f"{name}: unsupported file type {suffix or '(none)'}; accepted: "
            + ", ".join(ACCEPTED_SUFFIXES)
        )
    path = inside(folder, name)
    with atomic_write(path, "wb") as handle:
        handle.write(payload)
    return path


def _stream_size(data: BinaryIO, read: int) -> int:
    """The full size of an upload stream (Streamlit's UploadedFile has .size), without reading it."""
    size = getattr(data, "size", None)
    if isinstance(size, int):
        return size
    try:
        here = data.tell()
        end = data.seek(0, io.SEEK_END)
        data.seek(here)
        return end
    except (AttributeError, OSError, io.UnsupportedOperation):
        return read + 1


def check_size(path: PathLike, max_bytes: int | None = None) -> None:
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    size = Path(path).stat().st_size
    if size > limit:
        raise InputError(_size_message(Path(path).name, size, limit), path)


# ---------------------------------------------------------------------- what the files are


@dataclass
class Inputs:
    """Files that make one data set: projections, or a source/target pair, or a TSV."""

    projections: list[Path] = field(default_factory=list)
    source: Path | None = None  # labelled source CoNLL
    target: Path | None = None  # target CoNLL (tags ignored) or raw text, one sentence per line
    tsv: Path | None = None  # source<TAB>target per line; the source gets labelled by a model
    labelled: list[Path] = field(default_factory=list)  # labelled data alone, to review as is

    @property
    def kind(self) -> str:
        if self.projections:
            return "projections"
        if self.tsv:
            return "tsv"
        if self.labelled:
            return "labelled"
        return "pair"


_LANGUAGE_NAME = re.compile(r"^[a-z]{2,3}$")
_NOT_LANGUAGES = {"en", "eng", "src", "tgt", "trg", "dev", "all", "txt", "new", "old", "out"}


def guess_language(paths: Sequence[PathLike]) -> str:
    """A target language code told by the data's names (a folder `yor`, a file `de.test.conll02`
    or `pt.txt`), or "" when the names do not say; source-side names such as `en` never count."""
    for path in map(Path, paths):
        names = [path.name] if path.is_dir() else [path.name.split(".")[0], path.parent.name]
        if path.is_dir():
            names += [f.name.split(".")[0] for f in sorted(path.iterdir()) if f.is_file()]
        for name in names:
            lowered = name.lower()
            if _LANGUAGE_NAME.match(lowered) and lowered not in _NOT_LANGUAGES:
                return lowered
    return ""


def looks_like_conll(path: PathLike, lines: int = 20) -> bool:
    """Whether a .txt file is token-per-line CoNLL (as MasakhaNER's train/dev/test.txt are):
    its first non-blank lines all end in an IOB2 tag after a token."""
    from core.data.tags import is_valid_tag

    seen = 0
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for line in handle:
                if not line.strip() or line.startswith("-DOCSTART-"):
                    continue
                columns = line.split()
                if len(columns) < 2 or not is_valid_tag(columns[-1]):
                    return False
                seen += 1
                if seen >= lines:
                    break
    except (OSError, UnicodeDecodeError):
        return False
    return seen > 0


def _role(path: Path) -> str:
    stem = path.name.lower()
    if re.search(r"(^|[._-])(src|source|en|eng)([._-]|$)", stem):
        return "source"
    if re.search(r"(^|[._-])(tgt|target|trg)([._-]|$)", stem):
        return "target"
    return ""


def find_inputs(paths: Sequence[PathLike]) -> Inputs:
    """Classify files (or the files of one folder) by suffix and name.

    A pair is a labelled source CoNLL plus a target file; with two CoNLL files the one named
    like `source`/`src`/`en` is the source. Anything ambiguous is an InputError saying what to do."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError("no such file or folder", p)
    files = [f for f in files if f.suffix.lower() in ACCEPTED_SUFFIXES]
    if not files:
        raise InputError(
            "no data files found; expected projection .jsonl, or a labelled source CoNLL plus a "
            "target .txt/.conll, or a .tsv of parallel text"
        )
    inputs = Inputs()
    inputs.projections = [f for f in files if f.suffix.lower() in JSONL_SUFFIXES]
    if inputs.projections:
        return inputs
    tsv = [f for f in files if f.suffix.lower() in TSV_SUFFIXES]
    text = [f for f in files if f.suffix.lower() in TEXT_SUFFIXES]
    conll = [f for f in files if f.suffix.lower() in CONLL_SUFFIXES]
    conll += [f for f in text if looks_like_conll(f)]  # MasakhaNER ships CoNLL as .txt
    text = [f for f in text if f not in conll]
    if tsv and not conll:
        if len(tsv) > 1:
            raise InputError(f"{len(tsv)} TSV files given; load one parallel TSV at a time")
        inputs.tsv = tsv[0]
        return inputs
    if len(conll) == 1 and len(text) == 1:
        inputs.source, inputs.target = conll[0], text[0]
        return inputs
    if conll and not text and not tsv:
        roles = {_role(f) for f in conll}
        if len(conll) == 1 or (len(conll) > 2 and "source" not in roles):
            # One labelled file, or a dataset folder of splits (train/dev/test): labels to review.
            inputs.labelled = conll
            return inputs
    if len(conll) == 2 and not text:
        roles = {_role(f): f for f in conll}
        if "source" in roles:
            inputs.source = roles["source"]
            inputs.target = next(f for f in conll if f != inputs.source)
            return inputs
        if "target" in roles:
            inputs.target = roles["target"]
            inputs.source = next(f for f in conll if f != inputs.target)
            return inputs
        raise InputError(
            f"two CoNLL files ({conll[0].name}, {conll[1].name}): name the source one "
            "source.conll (or src/en) so it is clear which side carries the labels"
        )
    names = ", ".join(f.name for f in files)
    raise InputError(
        f"cannot tell what these files are ({names}); give projection .jsonl files, or ONE "
        "labelled source CoNLL plus ONE target file (.txt one sentence per line, or .conll), "
        "or ONE .tsv of parallel text"
    )


def read_conll_checked(
    path: PathLike, lang: str = "", max_bytes: int | None = None
) -> list[Sentence]:
    """Read a CoNLL file; anything that is not CoNLL gets a message saying what was expected."""
    check_size(path, max_bytes)
    try:
        sentences = parse_conll(read_text(path), path, lang=lang)
    except InputError as exc:
        raise InputError(
            f"not a CoNLL file ({exc.reason}); expected one TOKEN ... TAG per line with IOB2 tags "
            "and a blank line between sentences",
            exc.path,
            exc.line,
        ) from None
    if not sentences:
        raise InputError("no sentences found (empty CoNLL file)", path)
    return sentences


def read_target(path: PathLike, lang: str, max_bytes: int | None = None) -> list[Sentence]:
    """Target sentences from CoNLL (tags dropped) or raw text (tokenised here)."""
    return [
        Sentence(s.tokens, None, s.id, lang) for s in read_target_labelled(path, lang, max_bytes)
    ]


def read_target_labelled(path: PathLike, lang: str, max_bytes: int | None = None) -> list[Sentence]:
    """Target sentences with their tags when the file is CoNLL (gold labels, as in
    Europarl-NER or MasakhaNER), else tokenised raw text without tags."""
    check_size(path, max_bytes)
    if Path(path).suffix.lower() in CONLL_SUFFIXES or looks_like_conll(path):
        return read_conll_checked(path, lang, max_bytes)
    from core.data.tokenize import Tokenizer

    tokenizer = Tokenizer(lang)
    return [
        Sentence(tokenizer(line), None, id=str(n), lang=lang)
        for n, line in enumerate(read_lines(path))
    ]


def read_tsv_pairs(path: PathLike, max_bytes: int | None = None) -> list[tuple[str, str]]:
    """`source<TAB>target` rows (csv quoting allowed, as in MAFAND); a header row is skipped."""
    check_size(path, max_bytes)
    rows = list(csv.reader(io.StringIO(read_text(path)), delimiter="\t"))
    pairs: list[tuple[str, str]] = []
    for number, row in enumerate(rows, 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise InputError(
                f"expected 2 tab-separated fields (source, target), found {len(row)}", path, number
            )
        source, target = (" ".join(nfc(cell).split()) for cell in row)
        if number == 1 and len(source) <= 3 and len(target) <= 3:
            continue  # a header such as `en<TAB>yo`
        if not source or not target:
            raise InputError("empty source or target sentence", path, number)
        pairs.append((source, target))
    if not pairs:
        raise InputError("no sentence pairs found", path)
    return pairs


def check_parallel(
    sources: Sequence[Sentence], targets: Sequence[Sentence], inputs: Inputs
) -> None:
    if len(sources) != len(targets):
        raise InputError(
            f"{len(sources)} source sentences in {inputs.source.name if inputs.source else '?'} but "
            f"{len(targets)} target sentences in {inputs.target.name if inputs.target else '?'}: "
            "the files are not parallel (one target sentence per source sentence, same order)",
            inputs.target,
        )


def read_projection_files(
    paths: Sequence[Path], max_bytes: int | None = None
) -> dict[str, list[Projection]]:
    """Projection JSONL files -> views keyed by method (or file name when methods repeat)."""
    views: dict[str, list[Projection]] = {}
    for path in paths:
        check_size(path, max_bytes)
        projections = read_projections_jsonl(path)
        ids = [p.pair.id for p in projections]
        if len(set(ids)) != len(ids):
            raise InputError("sentence ids repeat; every record needs a distinct id", path)
        key = projections[0].method or path.stem
        if key in views:
            key = path.stem
        views[key] = projections
    first = next(iter(views.values()))
    for key, projections in views.items():
        if [p.pair.id for p in projections] != [p.pair.id for p in first]:
            raise InputError(
                f"projection files hold different sentences ({key} vs the first file): views of "
                "one data set must list the same sentence ids in the same order"
            )
    return views
