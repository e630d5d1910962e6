"""The annotator's pages in-process (AppTest): exchange with annotation tools, the review queue,
reasons for flags, keyboard actions."""

from __future__ import annotations

import json

from core.workbench import interchange as ix
from core.workbench.workspace import get_project
from tests.test_app_pages import app, home  # noqa: F401 - the fixture is used by name


def test_import_from_doccano_becomes_corrections(home):  # noqa: F811
    project = get_project("demo", home)
    key = project.view_keys[0]
    items = project.exchange_items(key)
    assert len(items) == 50 and items[0].model == key
    chosen = [i for i in items if i.sentence.spans][:2]
    records = [json.loads(line) for line in ix.export("doccano", chosen).decode().splitlines()]
    records[1]["label"] = []  # the annotator removed every entity of the second sentence
    cleared = chosen[1].sentence.id
    payload = "\n".join(json.dumps(r) for r in reversed(records)).encode()
    at = app("corrections")
    at.selectbox(key="exchange_format").set_value("doccano").run()
    at.file_uploader(key="exchange_upload").set_value(
        [("done.jsonl", payload, "application/jsonl")]
    ).run()
    assert at.selectbox(key="import_format").value == "doccano"
    at.button(key="import_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "2 sentences matched" in at.success[0].value
    current = get_project("demo", home).corrections.all_current()
    assert set(current) == {cleared} and set(current[cleared]) == {"O"}


def test_a_foreign_file_is_refused_with_a_reason(home):  # noqa: F811
    at = app("corrections")
    at.file_uploader(key="exchange_upload").set_value(
        [("x.json", b'{"no": "tasks"}', "application/json")]
    ).run()
    at.button(key="import_button").click().run()
    assert "Nothing imported" in at.error[0].value and "no 'data'" in at.error[0].value


def _html(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def test_explorer_says_why_and_reviews_with_buttons(home):  # noqa: F811
    at = app()
    at.radio(key="order").set_value("suspicion").run()
    table = at.dataframe[0].value
    assert list(table.columns[:4]) == ["id", "flags", "suspicion", "review"]
    assert list(table["suspicion"]) == sorted(table["suspicion"], reverse=True)
    first = table["id"][0]
    at.selectbox(key="sentence").set_value(first).run()
    reasons = _html(at)
    assert 'id="flag-reasons"' in reasons and any(
        f"<b>{name}</b>" in reasons
        for name in ("unprojected", "length mismatch", "unaligned words", "low score")
    )
    assert "0 of 50 reviewed" in at.caption[0].value
    # The score slider reaches the highest score in the view, not a fixed 1.0.
    project = get_project("demo", home)
    from core.workbench.explorer import score_range

    assert (
        at.slider(key="th_score").max >= score_range(project.projections(project.view_keys[0]))[1]
    )
    at.button(key="btn_accept_rest").click().run()
    assert not at.exception
    assert "reviewed" in at.success[0].value
    assert at.selectbox(key="sentence").value == table["id"][1]  # moved on to the next one
    assert "1 of 50 reviewed" in at.caption[0].value
    assert get_project("demo", home).corrections.review_state(first) == "reviewed"
    at.selectbox(key="review_filter").set_value("reviewed").run()
    assert list(at.dataframe[0].value["id"]) == [first]


def test_explorer_filters_say_and_or(home):  # noqa: F811
    at = app()
    at.multiselect(key="flags").set_value(["unprojected", "views disagree"]).run()
    both = len(at.dataframe[0].value) if at.dataframe else 0
    at.radio(key="combine").set_value("any").run()
    either = len(at.dataframe[0].value)
    assert either >= both and either > 0
    at.multiselect(key="flags").set_value(["unprojected", "length mismatch", "low score"]).run()
    at.radio(key="combine").set_value("all").run()
    at.slider(key="th_score").set_value(0.0).run()
    if not at.dataframe:
        assert (
            "flags combined: unprojected AND length mismatch AND low score" in at.warning[0].value
        )


def test_gold_next_to_the_projection(home):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from core.workbench.workspace import project_from_files
    from tests.app_support import StringAligner
    from tests.test_app_pages import MAIN, TIMEOUT
    from tests.test_gold_and_labelled import SOURCE, TARGET_GOLD

    data = home / "gold-data"
    data.mkdir()
    (data / "source.conll").write_text(SOURCE)
    (data / "target.conll").write_text(TARGET_GOLD)
    project_from_files("gold", [data], home=home, aligners={"string": StringAligner()})
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    at.session_state["project"] = "gold"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["F1 vs gold"] == "0.857" and metrics["False positives / misses"] == "0 / 1"
    assert "F1 vs gold" in at.dataframe[0].value.columns
    at.selectbox(key="gold").set_value("misses").run()
    assert list(at.dataframe[0].value["id"]) == ["1"]
    body = _html(at)
    assert 'id="gold-spans"' in body and 'data-label="ORG"' in body
    assert "<b>misses</b>: ORG &#x27;trabalha&#x27; (token 1)" in body


def test_load_data_clears_a_refused_upload_and_refreshes_after_success(home, monkeypatch):  # noqa: F811
    import core.workbench.workspace
    from tests.app_support import StringAligner

    monkeypatch.setattr(
        core.workbench.workspace, "default_aligners", lambda names=(): {"string": StringAligner()}
    )
    at = app("data")
    assert at.text_input(key="target_lang").value == ""  # no made-up default language
    at.file_uploader(key="files_0").set_value([("a.conll", b"not conll at all\n", "text/plain")])
    at.button[0].click().run()
    assert "were removed from the upload box" in at.error[0].value
    assert at.file_uploader(key="files_1").value in (None, [])  # a fresh, empty box
    # A MasakhaNER-style folder named by its language, given as a path in the data home.
    folder = home / "yor"
    folder.mkdir()
    for split in ("train", "dev", "test"):
        (folder / f"{split}.txt").write_text("Adé B-PER\nlọ O\n\n")
    at.text_input(key="new_name").set_value("yor-review")
    at.text_input(key="path").set_value(str(folder))
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert "language yor" in at.success[0].value
    assert "yor-review" in list(at.dataframe[0].value["project"])  # the list is current
    assert at.session_state["project"] == "yor-review"  # and the sidebar opens it
    assert get_project("yor-review", home).meta["target_lang"] == "yor"


def test_project_and_sentence_come_from_the_url(home):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from tests.test_app_pages import MAIN, TIMEOUT

    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    at.query_params["project"] = "demo"
    at.query_params["sentence"] = "7"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="sentence").value == "7"
    at.selectbox(key="sentence").set_value("9").run()
    assert at.query_params["sentence"] == ["9"] or at.query_params["sentence"] == "9"
    assert at.query_params["project"] in ("demo", ["demo"])


def test_retrain_from_corrections_launches_both_versions(home, monkeypatch):  # noqa: F811
    from types import SimpleNamespace

    from core.runs.manager import RunManager
    from core.workbench.retrain import recorded

    launched: dict[str, dict] = {}

    def launch(self, kind, config, **kwargs):
        run_id = f"r{len(launched)}"
        launched[run_id] = config
        return SimpleNamespace(id=run_id)

    def get(self, run_id):  # every run finished: direct scores higher on corrected data
        config = launched[run_id]
        f1 = 0.6 if config["train"][0]["path"].endswith("/corrected.conll") else 0.5
        return SimpleNamespace(
            id=run_id, name=config["name"], status="succeeded", config=config, metrics={"f1": f1}
        )

    monkeypatch.setattr(RunManager, "launch", launch)
    monkeypatch.setattr(RunManager, "get", get)
    test = home / "test.conll"
    test.write_text("Maria B-PER\nfala O\n\n")
    at = app("corrections")
    at.text_input(key="retrain_test").set_value(str(test))
    at.multiselect(key="retrain_modes").set_value(["direct"])
    at.button(key="retrain_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Launched 2 runs" in at.success[0].value
    assert {c["lang"] for c in launched.values()} == {"pt"}
    assert [r["version"] for r in recorded(get_project("demo", home))[-1]["runs"]] == [
        "corrected",
        "uncorrected",
    ]
    table = at.dataframe[-1].value
    assert table["F1 corrected"][0] == "0.600" and table["change"][0] == "+0.100"


def test_a_trained_tagger_adds_teacher_uncertainty_to_the_queue(home):  # noqa: F811
    """A finished training run for the project's language: the explorer lists, orders and
    explains sentences by the tagger's uncertainty, under the one name of the signal."""
    from core.runs.store import RunStore
    from core.workbench.explorer import TEACHER_SIGNAL
    from tests.test_review import _tiny_tagger

    project = get_project("demo", home)
    model = _tiny_tagger(project, home / "tiny-model")
    runs = RunStore(home / "runs")
    run = runs.create("train", {"lang": "pt", "mode": "direct"}, name="pt-direct")
    runs.update(run.id, status="succeeded", artifacts={"model": str(model)}, metrics={"f1": 0.4})
    at = app()
    assert f"**{TEACHER_SIGNAL}** from run pt-direct" in "\n".join(c.value for c in at.caption)
    at.slider(key="th_uncertainty").set_value(0.0).run()
    at.radio(key="order").set_value("suspicion").run()
    table = at.dataframe[0].value
    assert TEACHER_SIGNAL in table.columns and table[TEACHER_SIGNAL].notna().all()
    assert all(TEACHER_SIGNAL in flags for flags in table["flags"])
    assert TEACHER_SIGNAL in [m.label for m in at.metric]
    at.selectbox(key="sentence").set_value(table["id"][0]).run()
    body = _html(at)
    value = table[TEACHER_SIGNAL][0]
    assert f"<b>{TEACHER_SIGNAL}</b>: {TEACHER_SIGNAL} {value:.2f}:" in body
    assert list((project.path / "cache" / "teacher").glob("*.json"))  # scored once, cached
