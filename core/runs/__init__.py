"""Background runs with a persistent record: the registry (store), where workers run
(executors), what they run (jobs), and the manager that ties them together. The app and the CLI
use `RunManager`; see core/runs/manager.py for a tour."""

from core.runs.jobs import JOBS, get_job
from core.runs.manager import RunManager, has_checkpoint
from core.runs.store import ACTIVE, STATUSES, Run, RunStore, runs_home

__all__ = [
    "ACTIVE",
    "JOBS",
    "STATUSES",
    "Run",
    "RunManager",
    "RunStore",
    "get_job",
    "has_checkpoint",
    "runs_home",
]
