"""Shared fixtures. Real data comes from ../shared/data (or $XNER_DATA); tests that need it
skip with a clear reason where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("XNER_DATA", ROOT.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def private_alignment_cache(tmp_path_factory, monkeypatch) -> Path:
    """An empty alignment cache per test: the CLI caches eflomal's alignments by default, and no
    test should read another test's (or the user's) stored alignments, nor write into ~/.cache."""
    folder = tmp_path_factory.mktemp("alignment-cache")
    monkeypatch.setenv("XNER_ALIGNMENT_CACHE", str(folder))
    return folder


@pytest.fixture(autouse=True)
def private_token_cache(tmp_path_factory, monkeypatch) -> Path:
    """An empty cache of tokenised parallel text per test (the CLI caches FLORES and other
    extra text by content), never ~/.cache."""
    folder = tmp_path_factory.mktemp("token-cache")
    monkeypatch.setenv("XNER_TOKEN_CACHE", str(folder))
    return folder


@pytest.fixture
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA} (set XNER_DATA to its folder)")
    return DATA


def data_file(*parts: str) -> Path:
    """A file under the shared data folder, or a skip naming what is missing."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data file {path} not found (set XNER_DATA)")
    return path
