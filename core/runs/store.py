"""The run registry: one SQLite database (WAL mode) under the runs folder, one row per run.

Layout of the runs folder (`runs_home()`: a parameter, else $XNER_RUNS, else $XNER_HOME/runs,
else ./xner_data/runs; see core.homes):

    runs.sqlite            the registry (WAL: readers never block the writing worker)
    <run id>/run.log       the worker's stdout and stderr
    <run id>/work/         the job's working folder (checkpoints, model, metrics.json), unless the
                           launcher named another one
    <run id>/state.json    file channel only: the state a cluster worker reports (see worker.py)

Every status change is a compare-and-set (`UPDATE ... WHERE status IN (...)`), so a worker that
finishes and a reconciler that finds it dead cannot both win; each write is one transaction, so a
process killed at any moment leaves either the old or the new row, never half of one.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core import homes
from core.errors import ConfigError
from core.fileerrors import StoreError, check_database_file, store_error

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, RESUMABLE = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "resumable",
)
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, RESUMABLE)
ACTIVE = (QUEUED, RUNNING)  # a process is (or should soon be) working on it
RESUMABLE_FROM = (FAILED, CANCELLED, RESUMABLE)
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    executor TEXT NOT NULL,
    executor_params TEXT NOT NULL DEFAULT '{}',
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '{}',
    metrics TEXT,
    error TEXT,
    workdir TEXT NOT NULL,
    log_path TEXT NOT NULL,
    cwd TEXT NOT NULL,
    artifacts TEXT NOT NULL DEFAULT '{}',
    pid INTEGER,
    pid_start TEXT,
    host TEXT,
    external_id TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    heartbeat REAL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
"""
_JSON_FIELDS = ("executor_params", "config", "progress", "metrics", "artifacts")


def runs_home(path: str | Path | None = None) -> Path:
    """The runs folder: `path`, else $XNER_RUNS, else DATA_HOME/runs (core.homes)."""
    return homes.runs_home(path)


@dataclass
class Run:
    """One run's record, as stored."""

    id: str
    name: str
    kind: str
    executor: str
    config: dict
    status: str
    workdir: str
    log_path: str
    cwd: str
    created: float
    updated: float
    executor_params: dict = field(default_factory=dict)
    progress: dict = field(default_factory=dict)
    metrics: dict | None = None
    error: str | None = None
    artifacts: dict = field(default_factory=dict)
    pid: int | None = None
    pid_start: str | None = None
    host: str | None = None
    external_id: str | None = None
    cancel_requested: bool = False
    attempts: int = 1
    started: float | None = None
    finished: float | None = None
    heartbeat: float | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def run_dir(self) -> Path:
        return Path(self.log_path).parent

    @property
    def fraction(self) -> float | None:
        """Progress in [0, 1] when the job reports it (directly or as step/total)."""
        p = self.progress
        if isinstance(p.get("fraction"), int | float):
            return max(0.0, min(1.0, float(p["fraction"])))
        if isinstance(p.get("step"), int | float) and p.get("total"):
            return max(0.0, min(1.0, p["step"] / p["total"]))
        return None

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started

    def record(self) -> dict:
        """The stored fields (JSON-ready)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_dict(self) -> dict:
        """The stored fields plus derived ones (fraction, duration), for JSON output."""
        return {**self.record(), "fraction": self.fraction, "duration": self.duration}


def new_run_id() -> str:
    """Sortable by creation time, unique without coordination: 20250101-120000-3fa9c1."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class RunStore:
    """The registry. Safe to share between threads and processes: every call opens its own
    short-lived connection (SQLite connections must not cross threads, and Streamlit reruns
    scripts on many threads)."""

    def __init__(self, home: str | Path | None = None):
        self.home = runs_home(home)
        if self.home.exists() and not self.home.is_dir():
            raise StoreError(
                "is a file; the runs folder must be a folder (--home, XNER_RUNS)", self.home
            )
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / "runs.sqlite"
        # An empty or damaged file is reported with how to recover, never silently replaced.
        check_database_file(self.path, "run registry")
        with self._connect() as db:
            # WAL lets the app read while a worker writes; it is a property of the file, so
            # setting it once is enough, but it is idempotent and cheap.
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from None
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            # NORMAL is durable against a crash of any process (only an OS crash or power loss
            # can lose the last commits); FULL would fsync on every progress update.
            db.execute("PRAGMA synchronous=NORMAL")
            yield db
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise store_error(exc, self.path) from None  # names the file and how to recover
        finally:
            db.close()

    # ------------------------------------------------------------------ create / read

    def create(
        self,
        kind: str,
        config: dict,
        *,
        executor: str = "local",
        executor_params: dict | None = None,
        name: str | None = None,
        workdir: str | Path | None = None,
        cwd: str | Path | None = None,
    ) -> Run:
        run_id = new_run_id()
        while (self.home / run_id).exists():  # same second and same 24 random bits: retry
            run_id = new_run_id()
        run_dir = self.home / run_id
        run_dir.mkdir(parents=True)
        now = time.time()
        row = {
            "id": run_id,
            "name": name or str(config.get("name") or kind),
            "kind": kind,
            "executor": executor,
            "executor_params": json.dumps(executor_params or {}),
            "config": json.dumps(config, ensure_ascii=False),
            "status": QUEUED,
            "workdir": str(Path(workdir).resolve() if workdir else run_dir / "work"),
            "log_path": str(run_dir / "run.log"),
            "cwd": str(Path(cwd or os.getcwd()).resolve()),
            "created": now,
            "updated": now,
        }
        with self._connect() as db:
            db.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
        return self.get(run_id)

    def get(self, run_id: str) -> Run:
        """The run with this id, or with this unique id prefix/suffix (`3fa9c1`)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None and run_id:
                rows = db.execute(
                    "SELECT * FROM runs WHERE id LIKE ? OR id LIKE ? LIMIT 2",
                    (f"{run_id}%", f"%{run_id}"),
                ).fetchall()
                if len(rows) > 1:
                    raise ConfigError(f"run id {run_id!r} is ambiguous; give more of it")
                row = rows[0] if rows else None
        if row is None:
            raise ConfigError(f"no run {run_id!r} in {self.path}")
        return _to_run(row)

    def list(
        self,
        statuses: Iterable[str] | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        """Newest first."""
        where, args = [], []
        if statuses is not None:
            statuses = list(statuses)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args += statuses
        if kind:
            where.append("kind = ?")
            args.append(kind)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as db:
            return [_to_run(r) for r in db.execute(sql, args).fetchall()]

    # ------------------------------------------------------------------ updates

    def update(self, run_id: str, **fields: object) -> None:
        """Unconditional update of some fields (progress, heartbeat, pid...)."""
        self._update(run_id, None, fields)

    def transition(self, run_id: str, allowed_from: Iterable[str], **fields: object) -> bool:
        """Set `fields` (usually with a new status) only if the run's status is one of
        `allowed_from`; returns whether it did. The check and the write are one statement."""
        return self._update(run_id, tuple(allowed_from), fields)

    def _update(self, run_id: str, allowed: tuple[str, ...] | None, fields: dict) -> bool:
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"unknown run status {fields['status']!r}")
        values = {
            k: json.dumps(v, ensure_ascii=False) if k in _JSON_FIELDS and v is not None else v
            for k, v in fields.items()
        }
        values["updated"] = time.time()
        sql = f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?"
        args = [*values.values(), run_id]
        if allowed is not None:
            sql += f" AND status IN ({', '.join('?' * len(allowed))})"
            args += list(allowed)
        with self._connect() as db:
            return db.execute(sql, args).rowcount == 1

    def delete(self, run_id: str) -> None:
        """Forget a finished run (its folder is left on disk)."""
        run = self.get(run_id)
        if run.active:
            raise ConfigError(f"run {run.id} is {run.status}; cancel it first")
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run.id,))

    def integrity(self) -> str:
        with self._connect() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _to_run(row: sqlite3.Row) -> Run:
    data = dict(row)
    for key in _JSON_FIELDS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    data["cancel_requested"] = bool(data["cancel_requested"])
    return Run(**data)
