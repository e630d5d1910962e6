"""End to end in a real headless Chromium: start the app as a user would (`streamlit run
app/main.py`, fresh data folder, demo built on first start with the offline stack), correct a label
in the explorer, reload, find it still there; two tabs on one sentence; a screenshot of every page
goes to tests/artifacts/ along with the time from start to a usable page."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("XNER_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGES = {
    "explorer": "",
    "corrections": "corrections",
    "data": "data",
    "runs": "runs",
    "results": "results",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium chromium-driver "
            "(or set XNER_CHROMIUM)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app/main.py` on a free localhost port, with an empty data folder."""
    home = tmp_path_factory.mktemp("xner_home")
    port = _free_port()
    env = dict(os.environ, XNER_HOME=str(home), XNER_USER="browser-test")
    log = open(home / "streamlit.log", "w")  # noqa: SIM115 - closed below
    started = time.perf_counter()
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
        yield {
            "url": url,
            "home": home,
            "started": started,
            "healthy": time.perf_counter() - started,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _open_explorer(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#target-spans", timeout=120_000)  # demo built, sentence rendered
    # (a vertical line has a zero-width box, which Playwright calls invisible: wait for it to exist)
    page.wait_for_selector("svg.xner-links line", state="attached", timeout=30_000)


def _wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000
    )


def _pill(page, text: str):
    return page.get_by_role("button", name=text, exact=True)


def test_correct_reload_and_screenshot_every_page(browser, server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _open_explorer(page, server["url"])
    usable = time.perf_counter() - server["started"]

    # Hovering a link shows which words it joins (an SVG <title> per line).
    titles = page.locator("svg.xner-links line title").all_text_contents()
    assert any("Lisbon (6) ↔ Lisboa (6)" in t for t in titles), titles
    page.locator("svg.xner-links g.tok[data-side=target][data-i='6']").first.hover()
    page.screenshot(path=ARTIFACTS / "explorer.png", full_page=True)

    # Correct: "Lisboa" (target token 6 of sentence 0) becomes ORG.
    _pill(page, "Lisboa ·6").click()
    _wait_idle(page)
    page.get_by_role("radiogroup", name="Label").get_by_text("ORG", exact=True).click()
    _wait_idle(page)
    page.get_by_role("button", name="Set label").click()
    page.wait_for_selector("text=Saved: set ORG on tokens 6-6", timeout=30_000)
    page.screenshot(path=ARTIFACTS / "explorer-corrected.png", full_page=True)

    page.reload()
    _open_explorer(page, server["url"])
    assert page.locator("#target-spans mark[data-label=ORG]").filter(has_text="Lisboa").count() == 1
    assert page.locator("#target-spans mark[data-label=LOC]").count() == 0
    assert page.get_by_text("corrected (version 1)").count() == 1

    # A background run (as `xner runs launch demo` would start it) for the Runs page to show live.
    from core.runs import RunManager

    manager = RunManager(server["home"] / "runs")
    run = manager.launch(
        "demo",
        {"steps": 40, "step_seconds": 0.25, "lang": "yor", "mode": "distill"},
        name="yor-distill-demo",
    )
    for name, path in PAGES.items():
        if name == "explorer":
            continue
        if name == "runs":
            manager.wait(run.id, timeout=4)  # mid-way: progress and log lines to show
        page.goto(f"{server['url']}/{path}")
        page.wait_for_selector("h1", timeout=30_000)
        _wait_idle(page)
        if name == "runs":  # the run's log lines, written by its worker, are shown live
            page.wait_for_selector("text=/demo: step \\d+\\/40/", timeout=30_000)
        if name == "results":  # the chart with error bars is drawn
            page.wait_for_selector(".vega-embed", timeout=30_000)
        page.wait_for_timeout(800)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
        if name == "runs":
            assert run.id in page.content()  # the run launched outside the app is listed
    if manager.get(run.id).active:
        manager.cancel(run.id, force=True)
    page.goto(f"{server['url']}/corrections")
    page.wait_for_selector("text=Corrections & export")
    # st.dataframe draws on a canvas; its cells exist (for accessibility) but are hidden
    page.wait_for_selector("text=set ORG on tokens 6-6", state="attached", timeout=30_000)
    assert not errors, errors
    (ARTIFACTS / "timing.json").write_text(
        json.dumps(
            {
                "server_healthy_s": round(server["healthy"], 2),
                "explorer_usable_s": round(usable, 2),
                "note": "from `streamlit run app/main.py` with an empty XNER_HOME (demo built on "
                "first start) to the explorer showing sentence 0 with its alignment links",
            },
            indent=1,
        )
    )
    page.close()


def test_two_tabs_correcting_one_sentence(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    tab1, tab2 = context.new_page(), context.new_page()
    for tab in (tab1, tab2):
        _open_explorer(tab, server["url"])
    # Both select "Silva" (token 1); tab 1 saves first.
    for tab in (tab1, tab2):
        _pill(tab, "Silva ·1").click()
        _wait_idle(tab)
    tab1.get_by_role("radiogroup", name="Label").get_by_text("MISC", exact=True).click()
    _wait_idle(tab1)
    tab1.get_by_role("button", name="Set label").click()
    tab1.wait_for_selector("text=Saved:", timeout=30_000)
    tab2.get_by_role("button", name="Set label").click()
    tab2.wait_for_selector("text=NOT saved", timeout=30_000)
    tab2.screenshot(path=ARTIFACTS / "explorer-conflict.png", full_page=True)
    # Tab 1's correction stands; tab 2 was told and nothing was overwritten.
    tab2.reload()
    _open_explorer(tab2, server["url"])
    assert tab2.locator("#target-spans mark[data-label=MISC]").filter(has_text="Silva").count() == 1
    context.close()
