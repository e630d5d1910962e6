"""End to end in a real headless Chromium: start the app as a user would (`streamlit run
app/main.py`, fresh data folder, demo built on first start with the offline stack), correct a label
in the explorer, reload, find it still there; two tabs on one sentence; a screenshot of every page
goes to tests/artifacts/ along with the time from start to a usable page."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser_support import open_explorer, page_errors, wait_idle

pytestmark = pytest.mark.browser

PAGES = {
    "explorer": "",
    "corrections": "corrections",
    "data": "data",
    "runs": "runs",
    "results": "results",
}


def _pill(page, text: str):
    return page.get_by_role("button", name=text, exact=True)


def test_correct_reload_and_screenshot_every_page(browser, demo_app, artifacts):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    errors = page_errors(page)
    open_explorer(page, demo_app.url)
    usable = time.perf_counter() - demo_app.started

    # Hovering a link shows which words it joins (an SVG <title> per line).
    titles = page.locator("svg.xner-links line title").all_text_contents()
    assert any("Lisbon (6) ↔ Lisboa (6)" in t for t in titles), titles
    page.locator("svg.xner-links g.tok[data-side=target][data-i='6']").first.hover()
    page.screenshot(path=artifacts / "explorer.png", full_page=True)

    # Correct: "Lisboa" (target token 6 of sentence 0) becomes ORG.
    _pill(page, "Lisboa ·6").click()
    wait_idle(page)
    page.get_by_role("radiogroup", name="Label").get_by_text("ORG", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Set label").click()
    page.wait_for_selector("text=Saved: set ORG on tokens 6-6", timeout=30_000)
    page.screenshot(path=artifacts / "explorer-corrected.png", full_page=True)

    page.reload()
    open_explorer(page, demo_app.url)
    assert page.locator("#target-spans mark[data-label=ORG]").filter(has_text="Lisboa").count() == 1
    assert page.locator("#target-spans mark[data-label=LOC]").count() == 0
    assert page.get_by_text("corrected (version 1)").count() == 1

    # A background run (as `xner runs launch demo` would start it) for the Runs page to show live.
    from core.runs import RunManager

    manager = RunManager(demo_app.home / "runs")
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
        page.goto(f"{demo_app.url}/{path}")
        page.wait_for_selector("h1", timeout=30_000)
        wait_idle(page)
        if name == "runs":  # the run's log lines, written by its worker, are shown live
            page.wait_for_selector("text=/demo: step \\d+\\/40/", timeout=30_000)
        if name == "results":  # the chart with error bars is drawn
            page.wait_for_selector(".vega-embed", timeout=30_000)
        page.wait_for_timeout(800)
        page.screenshot(path=artifacts / f"{name}.png", full_page=True)
        if name == "runs":
            assert run.id in page.content()  # the run launched outside the app is listed
    if manager.get(run.id).active:
        manager.cancel(run.id, force=True)
    page.goto(f"{demo_app.url}/corrections")
    page.wait_for_selector("text=Corrections & export")
    # st.dataframe draws on a canvas; its cells exist (for accessibility) but are hidden
    page.wait_for_selector("text=set ORG on tokens 6-6", state="attached", timeout=30_000)
    assert not errors, errors
    (artifacts / "timing.json").write_text(
        json.dumps(
            {
                "server_healthy_s": round(demo_app.healthy_s, 2),
                "explorer_usable_s": round(usable, 2),
                "note": "from `streamlit run app/main.py` with an empty XNER_HOME (demo built on "
                "first start) to the explorer showing sentence 0 with its alignment links",
            },
            indent=1,
        )
    )
    page.close()


def test_two_tabs_correcting_one_sentence(browser, demo_app, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    tab1, tab2 = context.new_page(), context.new_page()
    for tab in (tab1, tab2):
        open_explorer(tab, demo_app.url)
    # Both select "Silva" (token 1); tab 1 saves first.
    for tab in (tab1, tab2):
        _pill(tab, "Silva ·1").click()
        wait_idle(tab)
    tab1.get_by_role("radiogroup", name="Label").get_by_text("MISC", exact=True).click()
    wait_idle(tab1)
    tab1.get_by_role("button", name="Set label").click()
    tab1.wait_for_selector("text=Saved:", timeout=30_000)
    tab2.get_by_role("button", name="Set label").click()
    tab2.wait_for_selector("text=NOT saved", timeout=30_000)
    tab2.screenshot(path=artifacts / "explorer-conflict.png", full_page=True)
    # Tab 1's correction stands; tab 2 was told and nothing was overwritten.
    tab2.reload()
    open_explorer(tab2, demo_app.url)
    assert tab2.locator("#target-spans mark[data-label=MISC]").filter(has_text="Silva").count() == 1
    context.close()
