"""Readers and writers for every data format xner meets, with errors that name file and line.

Formats: CoNLL with 2 or 4 columns and -DOCSTART- (CoNLL-2003, MasakhaNER, CoNLL-2002/Europarl),
WikiANN (`lang:token<TAB>tag`), MAFAND TSV (csv-quoted), plain line files (FLORES), Pharaoh links,
gold alignments (1-indexed `i-j` sure / `ipj` possible), `SRC ||| TGT` files and JSONL projections.
All writers are atomic: a crash never leaves a half-written output behind.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from core.data.tags import is_valid_tag, repair_iob2
from core.data.types import Alignment, ProjectedSpan, Projection, Sentence, SentencePair, Span
from core.errors import InputError
from core.fileerrors import FileProblem

PathLike = str | Path
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")


# --------------------------------------------------------------------------- low-level I/O


@contextmanager
def atomic_write(path: PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside `path`, fsync, then rename over it in one step.

    A failure of the file system (full, read-only, `path` a folder...) is a FileProblem naming
    `path` and what to do; the old file, if any, is left as it was."""
    path = Path(path)
    if path.is_dir():
        raise FileProblem(IsADirectoryError(errno.EISDIR, "Is a directory"), path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise FileProblem(exc, path if exc.errno != errno.EEXIST else exc.filename) from None
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is None or exc.filename == tmp:  # our write, not the caller's own I/O
            raise FileProblem(exc, path) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: PathLike) -> str:
    """Read a UTF-8 file; a decoding error names the file and the line of the bad byte."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file; give a file inside it", path) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", path, line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def text_lines(text: str) -> list[str]:
    """The lines of a text file as every text tool counts them: split on LF only (a CR before it
    is dropped), never on the other characters Python's `splitlines` breaks at (U+2028, U+0085,
    form feed...), which occur inside sentences and would shift every later line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def ascii_split(text: str) -> list[str]:
    """Tokens separated by ASCII whitespace (space, tab), as pre-tokenised files define them;
    `str.split()` would also split at U+3000, U+00A0 and other spaces inside a token."""
    return [token for token in _ASCII_SPACE.split(text) if token]


def nfc(text: str) -> str:
    """NFC-normalise: data sets disagree on normalisation (e.g. Yoruba tone marks)."""
    return unicodedata.normalize("NFC", text)


def read_lines(path: PathLike, *, allow_empty_lines: bool = False) -> list[str]:
    """One sentence per line (FLORES, raw parallel text). Empty files and lines are errors."""
    lines = text_lines(nfc(read_text(path)))
    if not lines:
        raise InputError("file is empty", path)
    if not allow_empty_lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                raise InputError("empty line (one sentence per line expected)", path, number)
    return lines


def write_lines(path: PathLike, lines: Iterable[str]) -> None:
    with atomic_write(path) as handle:
        for line in lines:
            if "\n" in line:
                raise ValueError("a line to write contains a newline")
            handle.write(line + "\n")


def read_parallel(source_path: PathLike, target_path: PathLike) -> list[tuple[str, str]]:
    """Two line-parallel files; a length mismatch names both files and their line counts."""
    source = read_lines(source_path)
    target = read_lines(target_path)
    if len(source) != len(target):
        raise InputError(
            f"parallel files differ in length: {len(source)} lines here, "
            f"{len(target)} in {target_path} (line {min(len(source), len(target)) + 1} "
            "has no counterpart)",
            source_path,
        )
    return list(zip(source, target))


# --------------------------------------------------------------------------- CoNLL family


@dataclass
class ReadReport:
    """What a reader repaired or skipped, so callers can warn with counts."""

    path: str = ""
    sentences: int = 0
    tokens: int = 0
    repaired_tags: int = 0  # I-X after O (or after another type) read as B-X
    empty_tokens: int = 0  # lines with a tag but no token (e.g. MasakhaNER xho train)
    notes: list[str] = field(default_factory=list)

    def warn(self) -> None:
        if self.repaired_tags or self.empty_tokens:
            warnings.warn(
                f"{self.path}: repaired {self.repaired_tags} I- tags that did not continue an "
                f"entity, skipped {self.empty_tokens} lines with an empty token",
                stacklevel=3,
            )


CONLL_FORMATS = ("conll", "masakhaner", "wikiann", "conll2002", "conll2003")


def detect_conll_format(path: PathLike, text: str | None = None) -> str:
    """Guess the CoNLL flavour from the first token line: WikiANN carries a `lang:` prefix."""
    text = read_text(path) if text is None else text
    for line in text_lines(text):
        if not line.strip() or line.startswith("-DOCSTART-"):
            continue
        first = line.split("\t")[0] if "\t" in line else line.split(" ")[0]
        prefix, sep, _ = first.partition(":")
        if sep and 2 <= len(prefix) <= 3 and prefix.isalpha() and prefix.islower() and "\t" in line:
            return "wikiann"
        return "conll"
    return "conll"


def parse_conll(
    text: str,
    path: PathLike = "<string>",
    *,
    fmt: str = "auto",
    lang: str = "",
    report: ReadReport | None = None,
) -> list[Sentence]:
    """Parse token-per-line NER text: token first column, IOB2 tag last column."""
    if fmt == "auto":
        fmt = detect_conll_format(path, text)
    if fmt not in CONLL_FORMATS:
        raise InputError(f"unknown CoNLL format {fmt!r}; known: {', '.join(CONLL_FORMATS)}", path)
    report = report if report is not None else ReadReport()
    report.path = str(path)
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if tokens:
            fixed, repaired = repair_iob2(tags)
            report.repaired_tags += repaired
            sentences.append(Sentence(list(tokens), fixed, id=str(len(sentences)), lang=lang))
            report.tokens += len(tokens)
            tokens.clear()
            tags.clear()

    for number, line in enumerate(text_lines(text), 1):
        if not line.strip():
            flush()
            continue
        if line.startswith("-DOCSTART-"):
            flush()
            continue
        columns = line.split("\t") if "\t" in line else line.split(" ")
        columns = [c for c in columns if c != ""] if "\t" not in line else columns
        if len(columns) < 2:
            if len(columns) == 1 and is_valid_tag(columns[0].strip()) and line[:1] in " \t":
                report.empty_tokens += 1  # a tag with an empty token, e.g. " O"
                continue
            # The line itself is not echoed: an error must not show what a file holds.
            raise InputError(
                "malformed line: expected TOKEN ... TAG (2 or more columns), found one",
                path,
                number,
            )
        token, tag = columns[0].strip(), columns[-1].strip()
        if fmt == "wikiann":
            prefix, sep, rest = token.partition(":")
            if not sep:
                raise InputError(f"WikiANN token {token!r} lacks its 'lang:' prefix", path, number)
            token = rest
        if not token:
            report.empty_tokens += 1
            continue
        if not is_valid_tag(tag):
            shown = repr(tag) if len(tag) <= 20 else f"of {len(tag)} characters"
            raise InputError(f"tag {shown} is not IOB2 (O, B-TYPE or I-TYPE)", path, number)
        tokens.append(nfc(token))
        tags.append(tag)
    flush()
    report.sentences = len(sentences)
    return sentences


def read_conll(
    path: PathLike, *, fmt: str = "auto", lang: str = "", report: ReadReport | None = None
) -> list[Sentence]:
    """Read any CoNLL-style NER file (see CONLL_FORMATS); an empty file is an error."""
    report = report if report is not None else ReadReport()
    sentences = parse_conll(read_text(path), path, fmt=fmt, lang=lang, report=report)
    if not sentences:
        raise InputError("no sentences found (file is empty or holds only blank lines)", path)
    report.warn()
    return sentences


def _conll_line(token: str, tag: str, sentence: int, position: int) -> str:
    """`TOKEN TAG`, or `TOKEN<TAB>TAG` for a token with a space inside (the reader splits a line
    with a tab on tabs only, so the whole token comes back). What no CoNLL line can hold (a tab,
    a line break, surrounding or only whitespace) is refused rather than written and lost."""
    if (
        not token.strip()
        or token != token.strip()  # the reader strips (Unicode) whitespace around a token
        or any(c in token for c in "\t\n\r")
        or token.startswith("-DOCSTART-")
    ):
        raise InputError(
            f"sentence {sentence + 1}, token {position + 1} ({token[:20]!r}): a CoNLL token "
            "cannot be empty, start with -DOCSTART-, hold a tab or a line break, or begin or "
            "end with whitespace"
        )
    return f"{token}\t{tag}\n" if " " in token else f"{token} {tag}\n"


def format_conll(sentences: Iterable[Sentence]) -> str:
    out = io.StringIO()
    for number, sentence in enumerate(sentences):
        tags = sentence.tags or ["O"] * len(sentence.tokens)
        for position, (token, tag) in enumerate(zip(sentence.tokens, tags)):
            out.write(_conll_line(token, tag, number, position))
        out.write("\n")
    return out.getvalue()


def write_conll(path: PathLike, sentences: Iterable[Sentence]) -> None:
    """Write `TOKEN TAG` lines, blank line between sentences (MasakhaNER style), atomically."""
    text = format_conll(sentences)
    with atomic_write(path) as handle:
        handle.write(text)


# --------------------------------------------------------------------------- parallel text


def read_mafand_tsv(path: PathLike) -> list[tuple[str, str]]:
    """MAFAND-MT TSV: header row, then csv-quoted `en<TAB>xx` pairs (fields may hold newlines)."""
    text = read_text(path)
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    if not rows:
        raise InputError("file is empty", path)
    pairs: list[tuple[str, str]] = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) != 2:
            raise InputError(f"expected 2 tab-separated fields, found {len(row)}", path, number)
        source, target = (" ".join(nfc(field).split()) for field in row)
        pairs.append((source, target))
    return pairs


def read_src_tgt(path: PathLike) -> list[tuple[list[str], list[str]]]:
    """`SRC ||| TGT` pre-tokenised pairs (the awesome-align evaluation files)."""
    pairs = []
    for number, line in enumerate(read_lines(path, allow_empty_lines=True), 1):
        if " ||| " not in f" {line} ":
            raise InputError("expected 'SOURCE ||| TARGET'", path, number)
        source, _, target = line.partition("|||")
        pairs.append((ascii_split(source), ascii_split(target)))
    return pairs


# --------------------------------------------------------------------------- alignments


def parse_link(text: str, path: PathLike, number: int, *, one_based: bool = False) -> tuple:
    sep = "p" if "p" in text else "-"
    left, _, right = text.partition(sep)
    try:
        i, j = int(left), int(right)
    except ValueError:
        raise InputError(f"bad alignment link {text!r} (expected i-j)", path, number) from None
    if one_based:
        i, j = i - 1, j - 1
    if i < 0 or j < 0:
        raise InputError(f"negative index in link {text!r}", path, number)
    return i, j, sep == "p"


def read_pharaoh(path: PathLike) -> list[Alignment]:
    """0-based `i-j` links, one sentence pair per line (an empty line is an empty alignment)."""
    text = read_text(path)
    alignments = []
    for number, line in enumerate(text_lines(text), 1):
        links = [parse_link(t, path, number)[:2] for t in ascii_split(line)]
        alignments.append(Alignment(frozenset(links)))
    return alignments


def format_pharaoh(alignment: Alignment) -> str:
    return " ".join(f"{i}-{j}" for i, j in sorted(alignment.links))


def write_pharaoh(path: PathLike, alignments: Iterable[Alignment]) -> None:
    write_lines(path, (format_pharaoh(a) for a in alignments))


@dataclass(frozen=True)
class GoldAlignment:
    """Gold links of one pair, 0-based; `possible` includes `sure` (as in AER's definition)."""

    sure: frozenset[tuple[int, int]]
    possible: frozenset[tuple[int, int]]


def read_gold_alignment(path: PathLike) -> list[GoldAlignment]:
    """1-indexed `i-j` (sure) and `ipj` (possible) links, one pair per line."""
    gold = []
    for number, line in enumerate(text_lines(read_text(path)), 1):
        sure, possible = set(), set()
        for token in ascii_split(line):
            i, j, is_possible = parse_link(token, path, number, one_based=True)
            possible.add((i, j))
            if not is_possible:
                sure.add((i, j))
        gold.append(GoldAlignment(frozenset(sure), frozenset(possible)))
    return gold


# --------------------------------------------------------------------------- projections JSONL


def projection_to_dict(projection: Projection) -> dict:
    pair = projection.pair
    return {
        "id": pair.id or pair.source.id,
        "method": projection.method,
        "source_tokens": pair.source.tokens,
        "source_tags": pair.source.tags,
        "target_tokens": pair.target.tokens,
        "target_tags": projection.target_tags(),
        "links": sorted(pair.alignment.links) if pair.alignment else [],
        "spans": [
            {
                "start": p.span.start,
                "end": p.span.end,
                "label": p.span.label,
                "source_start": p.source.start,
                "source_end": p.source.end,
                "method": p.method,
                "score": p.score,
                "links": [list(link) for link in p.links],
            }
            for p in projection.spans
        ],
    }


def projection_from_dict(record: dict, path: PathLike = "<dict>", number: int = 0) -> Projection:
    if not isinstance(record, dict):
        raise InputError("bad projection record: expected a JSON object", path, number)
    try:
        source = Sentence(record["source_tokens"], record.get("source_tags"), id=str(record["id"]))
        target = Sentence(record["target_tokens"], None, id=str(record["id"]))
        alignment = Alignment.from_links(record.get("links", []))
        spans = [
            ProjectedSpan(
                span=Span(s["start"], s["end"], s["label"]),
                source=Span(s["source_start"], s["source_end"], s["label"]),
                method=s["method"],
                score=float(s["score"]),
                links=tuple(tuple(link) for link in s.get("links", [])),
            )
            for s in record["spans"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        # The missing key is named; a bad value is not shown (an error must not echo a file).
        what = f"missing key {exc}" if isinstance(exc, KeyError) else "a value of the wrong type"
        raise InputError(f"bad projection record: {what}", path, number) from None
    pair = SentencePair(source, target, alignment, id=str(record["id"]))
    return Projection(pair, spans, record.get("method", ""))


def write_projections_jsonl(path: PathLike, projections: Iterable[Projection]) -> None:
    with atomic_write(path) as handle:
        for projection in projections:
            handle.write(json.dumps(projection_to_dict(projection), ensure_ascii=False) + "\n")


def read_projections_jsonl(path: PathLike) -> list[Projection]:
    projections = []
    # JSON strings may hold U+2028 and U+0085 raw (json.dumps with ensure_ascii=False writes
    # them so): records are separated by LF only.
    for number, line in enumerate(text_lines(read_text(path)), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", path, number) from None
        projections.append(projection_from_dict(record, path, number))
    if not projections:
        raise InputError("no projections found (file is empty)", path)
    return projections
