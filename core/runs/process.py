"""Is a process (still) there? Linux /proc based, with a signal-0 fallback elsewhere."""

from __future__ import annotations

import os
from pathlib import Path


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def pid_alive(pid: int, start: str | None = None) -> bool:
    """True if `pid` runs and is the same process (same start time) and not a zombie."""
    stat_path = Path(f"/proc/{pid}/stat")
    if not Path("/proc/self/stat").exists():  # no procfs (macOS): signal 0 is all we have
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    if fields[0] in ("Z", "X"):  # zombie or dead
        return False
    return start is None or fields[19] == start
