"""Errors that name the offending input: a file and, where known, a line."""

from __future__ import annotations

from pathlib import Path


class XnerError(Exception):
    """Base class for every error xner raises on purpose."""


class InputError(XnerError, ValueError):
    """Bad input data: carries the file and the 1-based line number where it was found."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "")
            where += ": "
        super().__init__(where + message)


class ConfigError(XnerError, ValueError):
    """An unknown backend name, option or language in a configuration."""


class OfflineError(XnerError, OSError):
    """A model or data set had to come from the Hugging Face Hub, which is not reachable."""
