"""Readers that stream a file instead of loading it whole, for corpora larger than memory.

They accept and reject exactly what the whole-file readers in core.data.formats do (same line
splitting on LF only, NFC, UTF-8 and empty-line errors with the file and line), one piece at a
time: `iter_lines` yields the lines of a one-sentence-per-line file, `iter_conll` the sentences
of a CoNLL file, parsed by `parse_conll` in blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.data.formats import (
    CONLL_FORMATS,
    ReadReport,
    detect_conll_format,
    nfc,
    parse_conll,
)
from core.data.types import Sentence
from core.errors import InputError

PathLike = str | Path

# Sentences parsed per call of parse_conll; only bounds the block held in memory.
CONLL_BLOCK_SENTENCES = 2_000


def _raw_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """(1-based number, text) per line, split on LF only, a CR before the LF dropped."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; binary: split on LF only
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file; give a file inside it", path) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path) from None
    with handle:
        offset = 0
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {offset + exc.start})",
                    path,
                    number,
                ) from None
            offset += len(raw)
            if number == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if line.endswith("\n"):
                line = line[:-1]
            if line.endswith("\r"):
                line = line[:-1]
            yield number, line


def iter_lines(path: PathLike, *, allow_empty_lines: bool = False) -> Iterator[str]:
    """One sentence per line, NFC-normalised, like `read_lines`; empty lines are errors."""
    seen = False
    for number, line in _raw_lines(path):
        seen = True
        if not allow_empty_lines and not line.strip():
            raise InputError("empty line (one sentence per line expected)", path, number)
        yield nfc(line)
    if not seen:
        raise InputError("file is empty", path)


def iter_conll(
    path: PathLike, *, fmt: str = "auto", lang: str = "", block: int = CONLL_BLOCK_SENTENCES
) -> Iterator[Sentence]:
    """The sentences of a CoNLL-style file, like `read_conll`, `block` sentences parsed at a
    time; ids count from 0 over the whole file and errors name the line in the whole file."""
    report = ReadReport()
    lines: list[str] = []
    first_line = 1
    sentences_in_block = 0
    produced = 0
    for number, line in _raw_lines(path):
        if not lines:
            first_line = number
        lines.append(line)
        if not line.strip():
            sentences_in_block += 1
            if sentences_in_block >= block:
                if fmt == "auto":
                    fmt = detect_conll_format(path, "\n".join(lines))
                for sentence in _parse_block(lines, path, fmt, lang, first_line, report):
                    sentence.id = str(produced)
                    produced += 1
                    yield sentence
                lines, sentences_in_block = [], 0
    if lines:
        if fmt == "auto":
            fmt = detect_conll_format(path, "\n".join(lines))
        for sentence in _parse_block(lines, path, fmt, lang, first_line, report):
            sentence.id = str(produced)
            produced += 1
            yield sentence
    if not produced:
        raise InputError("no sentences found (file is empty or holds only blank lines)", path)
    report.sentences = produced
    report.warn()


def _parse_block(
    lines: list[str], path: PathLike, fmt: str, lang: str, first_line: int, report: ReadReport
) -> list[Sentence]:
    if fmt not in CONLL_FORMATS:
        raise InputError(f"unknown CoNLL format {fmt!r}; known: {', '.join(CONLL_FORMATS)}", path)
    try:
        return parse_conll("\n".join(lines) + "\n", path, fmt=fmt, lang=lang, report=report)
    except InputError as exc:
        if exc.line is None:
            raise
        raise InputError(exc.reason, path, exc.line + first_line - 1) from None
