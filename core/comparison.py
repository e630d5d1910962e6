"""Comparing finished runs for the Results page: result rows (one evaluated training job each:
lang, mode, seed, f1, per_type...) read from JSONL, aggregated per language and mode (mean, sample
standard deviation, n) overall and per entity type, and the distill - direct difference judged
against the seed spread."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from core.formats import PathLike, read_text

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("lang", "mode", "f1")
MODE_ORDER = ("model-transfer", "direct", "distill")


def result_files(home: PathLike | None = None) -> list[Path]:
    """Result rows the app knows of: bench/results/*rows*.jsonl and DATA_HOME/results/*.jsonl."""
    files = sorted((ROOT / "bench" / "results").glob("*rows*.jsonl"))
    home = Path(home or os.environ.get("XNER_HOME") or "xner_data")
    files += sorted((home / "results").glob("*.jsonl"))
    return files


def load_rows(paths: Iterable[PathLike]) -> list[dict]:
    """Rows from JSONL files; each keeps `source` (its file) and gets a `name` if it had none."""
    rows: list[dict] = []
    for path in paths:
        for number, line in enumerate(read_text(path).splitlines(), 1):
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
            rows.append(row)
    return rows


@dataclass(frozen=True)
class Summary:
    lang: str
    mode: str
    type: str  # "all" for the main score
    mean: float
    std: float
    n: int

    def text(self) -> str:
        return f"{self.mean:.3f} ± {self.std:.3f} (n={self.n})"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _mode_key(mode: str) -> tuple[int, str]:
    return (MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER), mode)


def summarise(rows: Sequence[dict], types: Sequence[str] = ()) -> list[Summary]:
    """Mean/std over seeds per (lang, mode): the main F1 ("all") and each of `types`."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((str(row["lang"]), str(row["mode"])), []).append(row)
    out = []
    for lang, mode in sorted(groups, key=lambda k: (k[0], _mode_key(k[1]))):
        group = groups[(lang, mode)]
        mean, std = mean_std([float(r["f1"]) for r in group])
        out.append(Summary(lang, mode, "all", mean, std, len(group)))
        for t in types:
            values = [_type_f1(r, t) for r in group]
            values = [v for v in values if v is not None]
            if values:
                mean, std = mean_std(values)
                out.append(Summary(lang, mode, t, mean, std, len(values)))
    return out


def _type_f1(row: dict, entity_type: str) -> float | None:
    value = (row.get("per_type") or {}).get(entity_type)
    if isinstance(value, dict):  # core.evaluate's per_type {TYPE: {f1, ...}}
        value = value.get("f1")
    return float(value) if value is not None else None


def entity_types(rows: Sequence[dict]) -> list[str]:
    return sorted({t for r in rows for t in (r.get("per_type") or {})})


@dataclass(frozen=True)
class Delta:
    lang: str
    delta: float
    beyond_spread: bool  # |delta| larger than the larger of the two standard deviations


def deltas(summaries: Sequence[Summary], a: str = "distill", b: str = "direct") -> list[Delta]:
    """Per language: mean F1 of mode `a` minus mode `b` (main score)."""
    main = {(s.lang, s.mode): s for s in summaries if s.type == "all"}
    out = []
    for lang in sorted({s.lang for s in summaries}):
        sa, sb = main.get((lang, a)), main.get((lang, b))
        if sa and sb:
            d = sa.mean - sb.mean
            out.append(Delta(lang, d, abs(d) > max(sa.std, sb.std)))
    return out
