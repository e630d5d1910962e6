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
