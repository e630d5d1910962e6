"""Comparing finished runs for the Results page: result rows (one evaluated training job each:
lang, mode, seed, f1, per_type...) from JSONL files or from the run registry, aggregated by
core.experiments.engine.aggregate per language and mode (mean, sample std over seeds, n), overall and per
entity type, with the distill - direct difference judged against the seed spread."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.data.formats import PathLike, read_text
from core.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("lang", "mode", "f1")


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


def registry_rows(home: PathLike | None = None) -> list[dict]:
    """Result rows of the succeeded runs in the run registry (launched from the app or CLI)."""
    from core.experiments.engine import rows_from_runs
    from core.runs import RunManager

    rows = rows_from_runs(RunManager(home).list(["succeeded"]))
    return [dict(r, source="run registry") for r in rows]


def entity_types(rows: Sequence[dict]) -> list[str]:
    return sorted({t for r in rows for t in (r.get("per_type") or {})})


def summarise(
    rows: Sequence[dict], types: Sequence[str] | None = None
) -> tuple[list[Summary], list[dict]]:
    """core.experiments.engine.aggregate's table, plus the same numbers in long form for charts:
    one Summary per (lang, mode) for the main F1 ("all") and per entity type."""
    from core.experiments.engine import aggregate

    per_type = [dict(r, per_type=_flat_types(r)) for r in rows]
    table = aggregate(per_type, types)
    long = []
    for e in table:
        long.append(Summary(e["lang"], e["mode"], "all", e["f1_mean"], e["f1_std"], e["n"]))
        for key in e:
            if key.endswith("_mean") and key != "f1_mean" and e[key] is not None:
                t = key[: -len("_mean")]
                long.append(Summary(e["lang"], e["mode"], t, e[key], e[f"{t}_std"], e["n"]))
    return long, table


def _flat_types(row: dict) -> dict:
    # core.evaluate nests {TYPE: {f1, ...}}; result rows keep {TYPE: f1}
    return {
        t: (v.get("f1") if isinstance(v, dict) else v)
        for t, v in (row.get("per_type") or {}).items()
    }
