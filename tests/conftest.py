"""Shared fixtures. Real data comes from ../shared/data (or $XNER_DATA); tests that need it
skip with a clear reason where it is absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.browser_support import RunningApp

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


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium per test module (skipped, with what to install, where it is missing)."""
    from tests.browser_support import chromium  # here, not above: only browser tests need it

    yield from chromium()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory) -> Iterator[RunningApp]:
    """The app as a user first starts it: an empty data home, the demo built on first start."""
    from tests.browser_support import streamlit_app

    with streamlit_app(tmp_path_factory.mktemp("xner_home")) as app:
        yield app


@pytest.fixture
def artifacts() -> Path:
    """tests/artifacts/, where the browser tests leave screenshots and timings for a person."""
    from tests.browser_support import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
