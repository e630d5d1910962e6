"""Where xner keeps its files: the data home (projects, uploads, published result rows) and the
runs home (the run registry). The one place that reads XNER_HOME and XNER_RUNS."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_HOME = "xner_data"


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
