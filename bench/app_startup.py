"""Time from the README's app command to a usable explorer, on a fresh clone.

Clones this repository into a temporary folder, runs `python -m streamlit run app/main.py` there
and measures with a headless Chromium until the explorer shows sentence 0 with its alignment
links (first start: the demo project is built, offline), then restarts it (demo cached) and
measures again. The data folder is $XNER_HOME (or --home) when given, else a new empty folder
per run, so that every first start is a real first start; the server listens on --port when
given, else on a free port.

    python bench/app_startup.py [--runs 5] [--port 8600] [--home DIR]   # prints JSON
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The browser tests' launcher: the same Chromium flags, port choice and health wait.
from tests.browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_FLAGS,
    open_explorer,
    streamlit_app,
)


def one_start(clone: Path, browser, home: Path, port: int) -> dict:  # noqa: ANN001
    home.mkdir(parents=True, exist_ok=True)
    with streamlit_app(home, cwd=clone, port=port) as app:
        page = browser.new_page()
        open_explorer(page, app.url, timeout_s=180)
        usable = time.perf_counter() - app.started
        page.close()
    return {"server_healthy_s": round(app.healthy_s, 2), "explorer_usable_s": round(usable, 2)}


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="first+second start pairs")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(os.environ["XNER_HOME"]) if os.environ.get("XNER_HOME") else None,
        help="the app's data folder (default $XNER_HOME, else a new empty one per run)",
    )
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    starts: dict[str, list[dict]] = {"first_start": [], "second_start": []}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        clone = Path(tmp) / "xner"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for run in range(args.runs):
            home = args.home or Path(tmp) / f"home{run}"
            starts["first_start"].append(one_start(clone, browser, home, args.port))
            starts["second_start"].append(one_start(clone, browser, home, args.port))
            loads.append(os.getloadavg()[0])
        browser.close()
    report = {
        name: {
            key: spread([r[key] for r in runs]) for key in ("server_healthy_s", "explorer_usable_s")
        }
        for name, runs in starts.items()
    }
    report.update(
        runs=args.runs,
        home=str(args.home) if args.home else "a new empty folder per run",
        port=args.port or "free",
        load_1min=[round(x, 2) for x in loads],
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
