"""The Results page's logic: result rows from the chosen sources (JSONL files, the run
registry), the setups they belong to, and the view of one setup. Rows, setups, tables and
charts come from core.experiments.results, the one module that compares results."""

from __future__ import annotations

from collections.abc import Sequence

from core.experiments.results import (
    SetupSummary,
    Summary,
    aggregate,
    delta_text,
    entity_types,
    load_rows,
    mean_std,
    registry_rows,
    result_files,
    setup_differences,
    setup_families,
    summarise,
)
from core.experiments.settings import MODES

__all__ = [
    "SetupSummary",
    "Summary",
    "aggregate",
    "delta_text",
    "entity_types",
    "load_rows",
    "mean_std",
    "registry_rows",
    "result_files",
    "setup_differences",
    "setup_families",
    "setup_title",
    "summarise",
    "view_rows",
]


def setup_title(setup: SetupSummary) -> str:
    """`flagship [4be146] — yor, hau · direct, distill · 12 runs (run registry)`."""
    langs = ", ".join(setup.languages)
    modes = ", ".join(sorted(setup.modes, key=lambda m: MODES.index(m) if m in MODES else 9))
    sources = ", ".join(s for s in setup.sources if s)
    return f"{setup.label} — {langs} · {modes} · {setup.rows} runs" + (
        f" ({sources})" if sources else ""
    )


def view_rows(rows: Sequence[dict], family: str) -> list[dict]:
    """The rows of one setup (family): the only rows a table or chart may pool."""
    return [r for r in rows if r.get("family") == family]
