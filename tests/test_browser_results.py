"""The Results page in a real headless Chromium, on a run registry holding a benchmark-like
experiment and a toy run of the same language and mode with other settings: screenshots
(tests/artifacts/results-setups*.png) show the two setups kept apart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from tests.test_browser import ARTIFACTS, ROOT, _free_port, _wait_idle, browser  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def results_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("xner_home")
    env = dict(os.environ, XNER_HOME=str(home), XNER_USER="browser-test")
    env.pop("XNER_RUNS", None)
    base = {"job": "demo", "languages": ["yor", "hau"], "modes": ["direct", "distill"]}
    experiments = {
        "benchmark": {**base, "seeds": [1, 2, 3], "demo": {"steps": 2, "step_seconds": 0.0}},
        "toy": {**base, "languages": ["yor"], "modes": ["direct"], "seeds": [1],
                "demo": {"steps": 1, "step_seconds": 0.0, "base_f1": 0.05}},
    }  # fmt: skip
    for name, settings in experiments.items():
        path = home / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**settings, "name": name, "work": str(home / name)}))
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main())",
             "experiment", str(path), "--executor", "local", "--parallel", "4", "--quiet",
             "--no-publish"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    port = _free_port()
    log = open(home / "streamlit.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(
                    f"streamlit did not start: {(home / 'streamlit.log').read_text()}"
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_results_page_keeps_the_setups_apart(browser, results_server):  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{results_server}/results")
    page.wait_for_selector("h1", timeout=180_000)
    page.wait_for_selector(".vega-embed", timeout=60_000)
    _wait_idle(page)
    setup = page.locator("[data-testid=stSelectbox]").filter(has_text="Setup")
    html = page.content()
    assert "benchmark [" in html and "12 runs" in html and "toy [" not in html  # largest first
    page.get_by_text("What differs between the 2 setups").click()
    _wait_idle(page)
    page.wait_for_timeout(800)
    page.screenshot(path=ARTIFACTS / "results-setups.png", full_page=True)

    setup.click()  # open the setup picker
    page.get_by_role("option").filter(has_text="toy [").click()
    _wait_idle(page)
    page.wait_for_selector(".vega-embed", timeout=60_000)
    page.wait_for_timeout(800)
    assert "toy [" in page.content() and "12 runs" not in page.content()
    page.wait_for_selector("text=(n=1)", state="attached", timeout=30_000)  # canvas cells
    page.screenshot(path=ARTIFACTS / "results-setups-toy.png", full_page=True)
    assert not errors, errors
    page.close()
