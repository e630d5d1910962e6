"""Every page of the app, run in-process with streamlit.testing.v1.AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data.formats import read_conll
from core.workbench.corrections import CorrectionStore
from core.workbench.workspace import get_project
from tests.app_support import build_demo

ROOT = Path(__file__).resolve().parents[1]
MAIN = str(ROOT / "app" / "main.py")
TIMEOUT = 60


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A data home holding the demo project (built with a fast stand-in aligner)."""
    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    monkeypatch.setenv("XNER_USER", "tester")
    build_demo(tmp_path)
    return tmp_path


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def html(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def test_explorer_opens_on_the_demo_with_links_and_matrix(home):
    at = app()
    assert at.title[0].value == "Projection explorer"
    assert at.selectbox(key="sentence").value == "0"
    text = markdown(at)
    assert '<svg class="xner-links"' in text and "<title>Lisbon (6) ↔ Lisboa (6)" in text
    assert 'class="xner-matrix"' in text
    assert 'id="target-spans"' in html(at) and 'data-label="LOC"' in html(at)
    # two views side by side, with their comparison table
    assert at.selectbox(key="view_b").value.startswith("candidates-greedy")
    assert any("agree" in df.value.columns for df in at.dataframe)


def test_explorer_filters_and_search(home):
    at = app()
    listed = len(at.dataframe[0].value)
    at.text_input(key="query").set_value("Lisboa").run()
    rows = at.dataframe[0].value
    assert 0 < len(rows) < listed and all("Lisboa" in t for t in rows["target"])
    at.text_input(key="query").set_value("no such words").run()
    assert "No sentence matches" in at.warning[0].value
    at.text_input(key="query").set_value("").run()
    at.multiselect(key="flags").set_value(["unprojected"]).run()
    rows = at.dataframe[0].value
    assert len(rows) < listed and all("unprojected" in f for f in rows["flags"])


def test_a_correction_is_saved_at_once_and_survives_a_restart(home):
    at = app()
    at.selectbox(key="sentence").set_value("0").run()
    at.pills(key="sel_0").set_value([6]).run()  # "Lisboa"
    at.radio(key="label").set_value("ORG").run()
    at.button(key="btn_set").click().run()
    assert not at.exception
    assert "Saved: set ORG on tokens 6-6" in at.success[0].value
    store = CorrectionStore(home / "projects" / "demo" / "corrections.sqlite")
    assert store.current("0")[6] == "B-ORG"
    assert store.history("0")[0].user == "tester"
    assert store.history("0")[0].method.startswith("heuristic")
    # A fresh session (the app restarted) shows the corrected label.
    again = app()
    assert 'data-label="ORG" title="ORG: tokens 6-6"' in html(again)
    assert "corrected (version 1)" in markdown(again)
    # Undo restores the projection.
    again.button(key="btn_undo").click().run()
    assert "Undone" in again.success[0].value
    assert store.current("0")[6] == "B-LOC"


def test_selecting_nothing_or_a_gap_is_explained(home):
    at = app()
    at.button(key="btn_set").click().run()
    assert "select one or more adjacent" in at.warning[0].value
    at.pills(key="sel_0").set_value([0, 4]).run()
    at.button(key="btn_set").click().run()
    assert "Select adjacent tokens" in at.warning[0].value
    assert CorrectionStore(home / "projects" / "demo" / "corrections.sqlite").version("0") == 0


def test_two_tabs_on_one_sentence_lose_no_correction(home):
    tab1, tab2 = app(), app()  # both show sentence 0 at version 0
    # Tab 2 selects "Lisboa" and picks LOC; meanwhile tab 1 labels the same token PER.
    tab2.pills(key="sel_0").set_value([6]).run()
    tab2.radio(key="label").set_value("LOC").run()
    tab1.pills(key="sel_0").set_value([6]).run()
    tab1.button(key="btn_set").click().run()
    assert "Saved" in tab1.success[0].value
    # Tab 2 has not seen that change: its click is refused with a clear message.
    tab2.button(key="btn_set").click().run()
    assert "changed by tester" in tab2.error[0].value and "NOT saved" in tab2.error[0].value
    store = CorrectionStore(home / "projects" / "demo" / "corrections.sqlite")
    assert store.current("0")[6] == "B-PER"
    # Having re-rendered, tab 2 now sees version 1; its retry goes through.
    tab2.pills(key="sel_0").set_value([6]).run()
    tab2.button(key="btn_set").click().run()
    assert store.current("0")[6] == "B-LOC" and store.version("0") == 2
    # A stale tab editing OTHER tokens is merged, not lost.
    tab1.pills(key="sel_0").set_value([4]).run()
    tab3 = app()
    tab3.pills(key="sel_0").set_value([2]).run()
    tab3.radio(key="label").set_value("MISC").run()
    tab3.button(key="btn_set").click().run()
    tab1.button(key="btn_set").click().run()
    assert "merged" in tab1.success[0].value
    tags = store.current("0")
    assert tags[2] == "B-MISC" and tags[4] == "B-PER" and tags[6] == "B-LOC"


def test_corrections_page_history_undo_and_export(home):
    project = get_project("demo", home)
    projected = project.projections(project.view_keys[0])[3].target_tags()
    project.corrections.set_label("3", 0, 1, "ORG", projected=projected, user="ana")
    at = app("corrections")
    assert at.title[0].value == "Corrections & export"
    history = at.dataframe[0].value
    assert list(history["who"]) == ["ana"] and list(history["sentence"]) == ["3"]
    at.checkbox(key="export_only").set_value(True).run()
    at.button(key="export_button").click().run()
    out = home / "projects" / "demo" / "exports" / "demo.corrected.conll"
    assert "Written" in at.success[0].value
    sentences = read_conll(out)
    assert len(sentences) == 1 and sentences[0].tags[0] == "B-ORG"
    train = home / "train.conll"
    at.text_input(key="train_path").set_value(str(train)).run()
    at.button(key="train_button").click().run()
    assert len(read_conll(train)) == 50
    at.button(key="undo_button").click().run()
    assert not at.exception
    assert project.corrections.corrected_ids() == set()


def test_load_data_page_refuses_a_file_that_is_not_conll(home):
    at = app("data")
    at.text_input(key="new_name").set_value("bad")
    at.file_uploader(key="files_0").set_value(
        [
            ("notes.conll", b"Just some prose here.\nAnd more prose.\n", "text/plain"),
            ("target.txt", b"Apenas texto.\n", "text/plain"),
        ]
    )
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert "not a CoNLL file" in at.error[0].value and "notes.conll:1" in at.error[0].value
    assert not (home / "projects" / "bad").exists()
    assert not [p for p in home.iterdir() if p.name.startswith(".upload")]


def test_load_data_page_reports_mismatched_pairs(home):
    data = home / "data"  # a typed path must lie in the data home (or a configured data folder)
    data.mkdir()
    (data / "source.conll").write_text("Ana B-PER\nfala O\n\nRui B-PER\nri O\n")
    (data / "target.txt").write_text("Ana fala\n")
    at = app("data")
    at.text_input(key="path").set_value(str(data))
    at.button[0].click().run()
    assert "2 source sentences" in at.error[0].value and "1 target sentences" in at.error[0].value


def test_load_data_page_builds_a_project_from_uploads(home, monkeypatch):
    import core.workbench.workspace
    from tests.app_support import StringAligner

    monkeypatch.setattr(
        core.workbench.workspace, "default_aligners", lambda names=(): {"string": StringAligner()}
    )
    at = app("data")
    at.text_input(key="new_name").set_value("../../escape")
    at.file_uploader(key="files_0").set_value(
        [
            ("../../source.conll", b"Ana B-PER\nfala O\n\nRui B-PER\nri O\n", "text/plain"),
            ("..\\target.txt", b"Ana fala\nRui ri\n", "text/plain"),
        ]
    )
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Project **escape** ready" in at.success[0].value
    project = get_project("escape", home)
    assert sorted(p.name for p in project.uploads_dir.iterdir()) == ["source.conll", "target.txt"]
    assert project.projections(project.view_keys[0])[1].target_tags() == ["B-PER", "O"]
    assert sorted(p.name for p in home.iterdir()) == [".demo.lock", "projects"]


@pytest.mark.parametrize("page, title", [("runs", "Runs"), ("results", "Results")])
def test_runs_and_results_pages_render(home, page, title):
    at = app(page)
    assert at.title[0].value == title


def test_the_app_listens_on_localhost_only_by_default():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["maxUploadSize"] <= 25


def test_a_failing_demo_build_leaves_a_usable_app(tmp_path, monkeypatch):
    import app.state

    def broken(**kwargs):
        raise OSError("eflomal binary missing")

    monkeypatch.setenv("XNER_HOME", str(tmp_path))
    monkeypatch.setattr(app.state, "ensure_demo", broken)
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Demo project unavailable: eflomal binary missing" in at.error[0].value
    assert "No project yet" in at.info[0].value
    at.switch_page("../pages/data.py").run()
    assert not at.exception and at.title[0].value == "Load data"
