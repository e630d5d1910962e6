"""The Results page in a real headless Chromium, on a run registry holding a benchmark-like
experiment and a toy run of the same language and mode with other settings: screenshots
(tests/artifacts/results-setups*.png) show the two setups kept apart."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.browser_support import app_environment, page_errors, streamlit_app, wait_idle
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def results_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("xner_home")
    env = app_environment(home, {"XNER_RUNS": None})  # runs go into this home, as the app reads
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
    with streamlit_app(home, {"XNER_RUNS": None}) as app:
        yield app.url


def test_results_page_keeps_the_setups_apart(browser, results_server, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    errors = page_errors(page)
    page.goto(f"{results_server}/results")
    page.wait_for_selector("h1", timeout=180_000)
    page.wait_for_selector(".vega-embed", timeout=60_000)
    wait_idle(page)
    setup = page.locator("[data-testid=stSelectbox]").filter(has_text="Setup")
    html = page.content()
    assert "benchmark [" in html and "12 runs" in html and "toy [" not in html  # largest first
    page.get_by_text("What differs between the 2 setups").click()
    wait_idle(page)
    page.wait_for_timeout(800)
    page.screenshot(path=artifacts / "results-setups.png", full_page=True)

    setup.click()  # open the setup picker
    page.get_by_role("option").filter(has_text="toy [").click()
    wait_idle(page)
    page.wait_for_selector(".vega-embed", timeout=60_000)
    page.wait_for_timeout(800)
    assert "toy [" in page.content() and "12 runs" not in page.content()
    page.wait_for_selector("text=(n=1)", state="attached", timeout=30_000)  # canvas cells
    page.screenshot(path=artifacts / "results-setups-toy.png", full_page=True)
    assert not errors, errors
    page.close()
