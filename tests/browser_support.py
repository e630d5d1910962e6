"""What the browser tests share: the app started as a user starts it (`streamlit run app/main.py`
on a free localhost port, over a given data home), headless Chromium through Playwright (a skip
naming what to install where either is missing), and page helpers. The fixtures built on these
(`browser`, `demo_app`, `artifacts`) are in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("XNER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium() -> Iterator:
    """A headless Chromium (Playwright's Browser) for as long as the generator runs; a skip
    saying what to install when Chromium or Playwright is missing."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium chromium-driver "
            "(or set XNER_CHROMIUM)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass(frozen=True)
class RunningApp:
    url: str
    home: Path
    started: float  # time.perf_counter() right before the server process was started
    healthy_s: float  # seconds from `started` until the health endpoint answered "ok"


def app_environment(home: Path, env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with XNER_HOME=`home`, a test user, and `env` on top (a value
    of None removes that variable)."""
    environment = {**os.environ, "XNER_HOME": str(home), "XNER_USER": "browser-test"}
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


@contextmanager
def streamlit_app(
    home: Path,
    env: Mapping[str, str | None] | None = None,
    address: str | None = None,
    *,
    cwd: Path = ROOT,
    port: int = 0,
) -> Iterator[RunningApp]:
    """`streamlit run app/main.py` from `cwd` (this checkout, or a clone as bench/app_startup.py
    starts it) on `port` (0: a free one) in `app_environment(home, env)`, given once its health
    endpoint answers and stopped on exit; `address` is passed as --server.address. The server's
    output goes to a log in `home`, shown in the error when it does not start."""
    port = port or free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port)]
    if address is not None:
        command += ["--server.address", address]
    log_path = home / f"streamlit-{port}.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=cwd, env=app_environment(home, env), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_healthy(url, proc, log_path)
            yield RunningApp(url, home, started, time.perf_counter() - started)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_healthy(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.time() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"streamlit did not start: {log_path.read_text()}")
        time.sleep(0.2)


def wait_idle(page) -> None:
    """Until the app has finished its rerun (Streamlit's running indicator is gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000
    )


def open_explorer(page, url: str, timeout_s: float = 120) -> None:
    """Open the explorer at `url` and wait for the sentence (the demo built on a first start)
    and its alignment links, `timeout_s` for each."""
    page.goto(url)
    page.wait_for_selector("#target-spans", timeout=timeout_s * 1000)
    # (a vertical line has a zero-width box, which Playwright calls invisible: wait for it to exist)
    page.wait_for_selector("svg.xner-links line", state="attached", timeout=timeout_s * 1000)


def page_errors(page) -> list[str]:
    """The page's uncaught JavaScript errors, collected from now on into the returned list."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
