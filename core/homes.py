"""Where xner keeps its files: the data home (projects, uploads, published result rows) and the
runs home (the run registry), and the shared datasets folder. The one place that reads
XNER_HOME, XNER_RUNS and XNER_DATA."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_HOME = "xner_data"
DATA_ENV = "XNER_DATA"  # the shared datasets (MasakhaNER, MAFAND, CoNLL-2003, ...)
DEFAULT_SHARED_DATA = "../shared/data"


def data_home(path: str | Path | None = None) -> Path:
    """`path`, else $XNER_HOME, else ./xner_data."""
    return Path(path or os.environ.get("XNER_HOME") or DEFAULT_DATA_HOME).resolve()


def runs_home(path: str | Path | None = None) -> Path:
    """`path`, else $XNER_RUNS, else DATA_HOME/runs (see `data_home`)."""
    if path:
        return Path(path).resolve()
    if os.environ.get("XNER_RUNS"):
        return Path(os.environ["XNER_RUNS"]).resolve()
    return data_home() / "runs"


def shared_data(required: bool = False) -> Path | None:
    """$XNER_DATA; where unset, ../shared/data when `required` (a default to look in), else None
    (no extra folder to allow)."""
    value = os.environ.get(DATA_ENV, "").strip()
    if value:
        return Path(value)
    return Path(DEFAULT_SHARED_DATA) if required else None
