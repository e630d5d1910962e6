"""`file`: pre-computed translations, for users who translated elsewhere.

TSV: `source<TAB>translation` per line. JSONL: one object per line with `source` (or `src`,
`text`) and `translation` (or `tgt`, `target`). Look-up is by source text (NFC, whitespace
collapsed; a second look-up ignores spaces altogether, so `Hello , world` finds `Hello, world`).
A malformed line, or a text the file has no translation for, is an InputError naming the file
and line, unless `on_missing="skip"`: then the line is skipped / the text translates to "" and
both are counted (`skipped_lines`, `stats.missing`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from core.data.formats import nfc, read_text, text_lines
from core.errors import ConfigError, InputError
from core.translate.base import TRANSLATORS, BatchSize, CacheSpec, Translator

SOURCE_KEYS = ("source", "src", "text")
TARGET_KEYS = ("translation", "tgt", "target")


def _key(text: str) -> str:
    return nfc(" ".join(text.split()))


def _loose(text: str) -> str:
    return "".join(text.split())


@TRANSLATORS.register("file")
class FileTranslator(Translator):
    name = "file"
    model_param = "path"

    def __init__(
        self,
        path: str | Path | None = None,
        fmt: Literal["auto", "tsv", "jsonl"] = "auto",
        on_missing: Literal["error", "skip"] = "error",
        batch_size: BatchSize = 1000,
        cache: CacheSpec = False,
    ):
        super().__init__(batch_size=batch_size, cache=cache)
        if path is None:
            raise ConfigError("the file translator needs a translations file (path=... / --model)")
        if on_missing not in ("error", "skip"):
            raise ConfigError(f"on_missing must be 'error' or 'skip', not {on_missing!r}")
        self.path = Path(path)
        self.on_missing = on_missing
        if fmt == "auto":
            fmt = "jsonl" if self.path.suffix.lower() in (".jsonl", ".json") else "tsv"
        if fmt not in ("tsv", "jsonl"):
            raise ConfigError(f"translation file format must be tsv or jsonl, not {fmt!r}")
        self.fmt = fmt
        self.skipped_lines = 0
        self.table: dict[str, str] = {}
        self.loose: dict[str, str] = {}
        self._read()
        self.model_id = str(self.path.resolve())

    def _bad(self, message: str, number: int) -> None:
        if self.on_missing == "skip":
            self.skipped_lines += 1
            return
        raise InputError(message, self.path, number)

    def _read(self) -> None:
        lines = text_lines(read_text(self.path))  # LF only: U+2028 may sit inside a sentence
        if not any(line.strip() for line in lines):
            raise InputError("translation file is empty", self.path)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            pair = self._parse(line, number)
            if pair is None:
                continue
            source, translation = pair
            self.table.setdefault(_key(source), _key(translation))
            self.loose.setdefault(_loose(source), _key(translation))

    def _parse(self, line: str, number: int) -> tuple[str, str] | None:
        if self.fmt == "tsv":
            source, tab, translation = line.partition("\t")
            if not tab:
                self._bad("no tab: expected source<TAB>translation", number)
                return None
        else:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON ({exc.msg})", self.path, number) from None
            if not isinstance(record, dict):
                raise InputError("expected a JSON object per line", self.path, number)
            source = next((record[k] for k in SOURCE_KEYS if k in record), None)
            translation = next((record[k] for k in TARGET_KEYS if k in record), None)
            if not isinstance(source, str):
                self._bad(f"no source text (one of {', '.join(SOURCE_KEYS)})", number)
                return None
            if translation is not None and not isinstance(translation, str):
                raise InputError("translation is not a string", self.path, number)
            translation = translation or ""
        if not source.strip():
            self._bad("empty source text", number)
            return None
        if not translation.strip():
            self._bad("missing translation (empty)", number)
            return None
        return source, translation

    def __len__(self) -> int:
        return len(self.table)

    def _translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        out = []
        for text in texts:
            found = self.table.get(_key(text))
            if found is None:
                found = self.loose.get(_loose(text))
            if found is None:
                if self.on_missing == "error":
                    raise InputError(
                        f"no translation for {text[:80]!r} ({len(self.table)} translations "
                        "in the file)",
                        self.path,
                    )
                self.stats.missing += 1
                found = ""
            out.append(found)
        return out
