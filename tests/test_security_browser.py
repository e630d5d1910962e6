"""The security findings re-tried in a real headless Chromium against `streamlit run app/main.py`:
the access gate (refused without the token, works with it; the app refuses to serve a network
address without one), then each earlier finding, which must now be refused: writing the training
file outside the data home, reading /etc/passwd as data, as training data or as a results file,
a Markdown image as the target language, a damaged store shown as a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_support import streamlit_app, wait_idle

pytestmark = pytest.mark.browser

TOKEN = "browser-test-token-0123456789"
ATTACKER = "attacker.invalid"


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """The app with an access token, on localhost, over a data home holding the demo project."""
    from tests.app_support import build_demo

    home = tmp_path_factory.mktemp("xner_home")
    build_demo(home)
    env = {"XNER_ACCESS_TOKEN": TOKEN, "XNER_DATA": "", "XNER_ALLOWED_PATHS": ""}
    with streamlit_app(home, env, address="127.0.0.1") as app:
        yield app


def _enter(page, url: str, token: str = TOKEN, title: str = "") -> None:
    """Open `url` (a new session), give the token at the gate and, given a page `title`, go
    there through the navigation (the session then lasts while the tab stays open)."""
    page.goto(url)
    page.locator("input[type=password]").fill(token)
    page.get_by_role("button", name="Enter").click()
    wait_idle(page)
    if title:
        page.get_by_role("link", name=title, exact=True).click()
        wait_idle(page)


def _errors(page) -> str:
    return " | ".join(page.locator("[data-testid=stAlertContentError]").all_inner_texts())


def test_gate_refuses_without_the_token_and_works_with_it(browser, gated):
    page = browser.new_page()
    page.goto(gated.url + "/data")
    page.wait_for_selector("text=xner: access token required", timeout=60_000)
    assert page.locator("text=Load data").count() == 0  # no page ran, no navigation shown
    _enter(page, gated.url, "wrong-token")
    page.wait_for_selector("text=Wrong access token.", timeout=30_000)
    assert page.locator("h1:has-text('Load data')").count() == 0
    _enter(page, gated.url, title="Load data")
    page.wait_for_selector("h1:has-text('Load data')", timeout=60_000)
    page.close()


def test_findings_are_refused(browser, gated):
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.on("request", lambda request: requests.append(request.url))
    url, home = gated.url, gated.home

    # High: the training file written anywhere, folders created (a cron-style line in /etc).
    _enter(page, url, title="Corrections & export")
    page.wait_for_selector("h1:has-text('Corrections & export')", timeout=60_000)
    field = page.get_by_label("Training file path")
    field.fill("/tmp/xner-browser-escape/cron.d/xner")
    field.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Write training data").click()
    wait_idle(page)
    page.wait_for_selector("text=this app writes only there", timeout=30_000)
    assert not Path("/tmp/xner-browser-escape").exists()

    # Medium: any readable file as a project; its first bad line echoed.
    _enter(page, url, title="Load data")
    page.wait_for_selector("h1:has-text('Load data')", timeout=60_000)
    page.get_by_label("…or a path on this machine (file or dataset folder)").fill("/etc/passwd")
    page.get_by_role("button", name="Load and project").click()
    wait_idle(page)
    page.wait_for_selector("text=is outside the folders this app may read", timeout=30_000)
    assert "root:x" not in page.content()

    # Low: the target language as Markdown (an image from any URL for every viewer).
    page.get_by_label("Target language").fill(f"![x](https://{ATTACKER}/p.png)")
    page.get_by_label("…or a path on this machine (file or dataset folder)").fill("projects")
    page.get_by_role("button", name="Load and project").click()
    wait_idle(page)
    page.wait_for_selector("text=is not a language code", timeout=30_000)
    assert page.locator(f"img[src*='{ATTACKER}']").count() == 0

    # Medium: the Runs page's train path shows the first line of any file.
    _enter(page, url, title="Runs")
    page.wait_for_selector("h1:has-text('Runs')", timeout=60_000)
    page.get_by_text("Launch a training run").click()
    page.get_by_label("Training data: or a path in the data folders").fill("/etc/passwd")
    page.get_by_role("button", name="Launch").click()
    wait_idle(page)
    page.wait_for_selector("text=Not launched", timeout=30_000)
    assert "is outside the folders" in _errors(page) and "root:x" not in page.content()

    # Medium: Results' "another results file" accepts any path.
    _enter(page, url, title="Results")
    page.wait_for_selector("h1:has-text('Results')", timeout=60_000)
    extra = page.get_by_label("Another results file (JSONL)")
    extra.fill("/etc/passwd")
    extra.press("Enter")
    wait_idle(page)
    page.wait_for_selector("text=is outside the folders this app may read", timeout=30_000)
    assert "root:x" not in page.content()

    # Low: tracebacks with server paths in the page; a damaged store is one line instead.
    project = next(p for p in (home / "projects").iterdir() if (p / "meta.json").exists())
    (project / "corrections.sqlite").write_bytes(b"")
    _enter(page, url, title="Corrections & export")
    page.wait_for_selector("text=the corrections database is an empty file", timeout=60_000)
    assert "Traceback" not in page.content() and 'File "' not in page.content()
    (project / "corrections.sqlite").unlink()

    assert not [r for r in requests if ATTACKER in r]
    page.close()


def test_a_network_address_without_a_token_is_refused(browser, tmp_path):
    env = {"XNER_ACCESS_TOKEN": ""}
    with streamlit_app(tmp_path, env, address="0.0.0.0") as app:
        page = browser.new_page()
        page.goto(app.url)
        page.wait_for_selector("text=xner is not available", timeout=60_000)
        page.wait_for_selector("text=no access token is set", timeout=30_000)
        assert page.locator("text=Projection explorer").count() == 0
        page.close()
