"""Time from the README's app command to a usable explorer, on a fresh clone.

Clones this repository into a temporary folder, runs `python -m streamlit run app/main.py` there
with no data folder (so the demo project is built on first start, offline), and measures with a
headless Chromium until the explorer shows sentence 0 with its alignment links. Then restarts
it (demo cached) and measures again.

    python bench/app_startup.py            # prints JSON
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("XNER_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_start(clone: Path, browser) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "XNER_HOME"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port)],
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://localhost:{port}"
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.1)
        healthy = time.perf_counter() - started
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#target-spans", timeout=180_000)
        page.wait_for_selector("svg.xner-links line", state="attached", timeout=60_000)
        usable = time.perf_counter() - started
        page.close()
        return {"server_healthy_s": round(healthy, 2), "explorer_usable_s": round(usable, 2)}
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        clone = Path(tmp) / "xner"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        first = one_start(clone, browser)
        second = one_start(clone, browser)
        browser.close()
    print(json.dumps({"fresh_clone_first_start": first, "second_start_demo_cached": second}))


if __name__ == "__main__":
    main()
