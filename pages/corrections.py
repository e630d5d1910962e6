"""Corrections: the history of every change, undo, and export of the corrected data (CoNLL)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import project_picker, user_name
from app.text import plain
from core.data.formats import format_conll
from core.errors import XnerError
from core.fileerrors import describe_error
from core.runs import RunManager
from core.workbench.corrections import ConflictError
from core.workbench.explorer import all_labels
from core.workbench.interchange import FORMATS, ImportReport, guess_format, label_studio_config
from core.workbench.interchange import export as exchange_export
from core.workbench.interchange import read as read_labels
from core.workbench.paths import readable_path, writable_path
from core.workbench.retrain import comparison, record, recorded, retrain_jobs
from core.workbench.runs import SIZE_PRESETS
from core.workbench.workspace import training_data

project = project_picker()
st.title("Corrections & export")
if project is None:
    st.info("No project yet: load data on the *Load data* page.")
    st.stop()

store = project.corrections
history = store.history()
corrected = store.corrected_ids()
c1, c2, c3 = st.columns(3)
c1.metric("Corrected sentences", len(corrected))
c2.metric("Edits recorded", len(history))
c3.metric("Sentences in project", len(project.sentence_ids()))

st.subheader("History")
if not history:
    st.info("No corrections yet: select target tokens on the Explorer page and set a label.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "#": [e.id for e in history],
                "sentence": [e.sentence_id for e in history],
                "version": [e.version for e in history],
                "change": [e.describe() for e in history],
                "who": [e.user for e in history],
                "when (UTC)": [e.at for e in history],
                "over projection": [e.method for e in history],
                "before": [" ".join(e.before) for e in history],
                "after": [" ".join(e.after) for e in history],
                "undone": [e.undone for e in history],
            }
        ),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(history), 320),
    )
    undo_ids = sorted(corrected, key=lambda s: (len(s), s))
    if undo_ids:
        col, button = st.columns([3, 1], vertical_alignment="bottom")
        target = col.selectbox("Undo the last change of sentence", undo_ids, key="undo_sentence")
        if button.button("Undo", key="undo_button"):
            try:
                edit = store.undo(target, user=user_name())
            except ConflictError as exc:
                st.error(str(exc))
            else:
                st.success(
                    f"Undone edit #{edit.undoes} of sentence {target}."
                    if edit
                    else "Nothing to undo."
                )
                st.rerun()

st.subheader("Export corrected data")
key = st.selectbox(
    "Labels of uncorrected sentences come from", project.view_keys, key="export_view"
)
only = st.checkbox("Only sentences with corrections", key="export_only")
sentences = project.corrected(key, only_corrected=only)
st.caption(
    f"{len(sentences)} sentences · corrections override the {key} projection · format TOKEN TAG"
)
st.download_button(
    "Download CoNLL",
    format_conll(sentences),
    file_name=f"{project.name}.corrected.conll",
    mime="text/plain",
    key="download",
)
if st.button("Save CoNLL in the project folder", key="export_button"):
    path = project.export_conll(key, only_corrected=only)
    st.success(f"Written {plain(path)}")

st.subheader("Exchange with annotation tools")
st.caption(
    "Export for Label Studio (the projection as predictions), doccano, spaCy or CoNLL; import "
    "what annotators labelled there back as corrections. Sentences are matched by their tokens; "
    "character offsets refer to the tokens joined by single spaces."
)
fmt = st.selectbox(
    "Format", list(FORMATS), format_func=lambda f: FORMATS[f][0], key="exchange_format"
)
items = project.exchange_items(key, only_corrected=only)
st.download_button(
    f"Download {FORMATS[fmt][0]}",
    exchange_export(fmt, items),
    file_name=f"{project.name}.{FORMATS[fmt][1]}",
    mime="application/octet-stream",
    key="exchange_download",
)
if fmt == "label-studio":
    with st.expander("Label Studio labelling interface"):
        st.code(label_studio_config(all_labels(project.projections(key))), language="xml")
upload = st.file_uploader(
    "Import labels (Label Studio JSON export, doccano JSONL, .spacy, .conll)",
    type=sorted({suffix for _, suffix in FORMATS.values()}),
    key="exchange_upload",
)
if upload is not None:
    guessed = guess_format(upload.name) or fmt
    import_fmt = st.selectbox(
        "File format",
        list(FORMATS),
        index=list(FORMATS).index(guessed),
        format_func=lambda f: FORMATS[f][0],
        key="import_format",
    )
    if st.button("Import as corrections", key="import_button"):
        report = ImportReport()
        try:
            imported = read_labels(import_fmt, upload.getvalue(), report)
            applied = project.import_labels(imported, key, user_name())
        except (XnerError, ValueError) as exc:
            st.error(f"Nothing imported: {plain(describe_error(exc))}")
        else:
            notes = []
            if report.snapped:
                notes.append(f"{report.snapped} entities widened to whole tokens")
            if report.skipped:
                notes.append(f"{report.skipped} tasks without an annotation skipped")
            st.success(
                plain(applied.describe() + (" · " + "; ".join(notes) if notes else "")),
                icon=":material/check:",
            )

orphaned = store.orphaned()
if orphaned:
    with st.expander(f"Corrections set aside ({len(orphaned)} edits of sentences no longer here)"):
        st.caption(
            "When the project was replaced these sentences' tokens were not found any more; "
            "their edits are kept here (in corrections.sqlite, table orphaned_edits)."
        )
        st.dataframe(
            pd.DataFrame(
                {
                    "sentence": [e.sentence_id for e in orphaned],
                    "change": [e.describe() for e in orphaned],
                    "who": [e.user for e in orphaned],
                    "when (UTC)": [e.at for e in orphaned],
                    "labels": [" ".join(e.after) for e in orphaned],
                }
            ),
            hide_index=True,
            width="stretch",
        )

st.subheader("Use for training")
st.caption(
    "Writes the corrected data (all sentences) where a training configuration can point its "
    "train file; rewrite it after further corrections."
)
default_path = str(project.path / "exports" / "train.corrected.conll")
out = st.text_input("Training file path", default_path, key="train_path")
if st.button("Write training data", key="train_button"):
    try:
        path = training_data(project, key, writable_path(out))  # inside the data home only
    except (XnerError, OSError) as exc:
        st.error(f"Could not write the training data: {plain(describe_error(exc))}")
    else:
        st.success(f"Written {plain(path)} ({len(project.corrected(key))} sentences)")
        st.code(f"train_file: {path}", language="yaml")

st.subheader("Retrain from corrections")
st.caption(
    "Trains taggers on the corrected data and, with the same settings and seeds, on the same "
    "sentences uncorrected (the projection alone), in the background (see the Runs page), and "
    "compares their F1 on one test set. Language: "
    f"{plain(project.meta.get('target_lang', '?'))}."
)
with st.form("retrain"):
    test_path = st.text_input(
        "Test set: a CoNLL file with gold labels, in the data home or a data folder",
        key="retrain_test",
        help="Not the project's own sentences: a separate gold test set of the target language "
        "(e.g. MasakhaNER test.txt).",
    )
    r1, r2 = st.columns(2)
    preset = r1.radio(
        "Size",
        list(SIZE_PRESETS),
        format_func=lambda p: f"{p}: {SIZE_PRESETS[p].description}",
        key="retrain_preset",
    )
    modes = r2.multiselect(
        "Modes", ["direct", "distill"], ["direct", "distill"], key="retrain_modes"
    )
    go = st.form_submit_button("Train on corrected and uncorrected data", key="retrain_go")
if go:
    try:
        planned = retrain_jobs(
            project, key, readable_path(test_path), preset=preset, modes=modes or ["direct"]
        )
        manager = RunManager()
        launched = [
            (manager.launch("train", p.job.to_dict(), name=p.job.name).id, p.version)
            for p in planned
        ]
    except (XnerError, OSError) as exc:
        st.error(f"Nothing launched: {plain(describe_error(exc))}")
    else:
        record(project, launched, preset)
        st.success(f"Launched {len(launched)} runs; follow them on the Runs page.")
history_runs = recorded(project)
if history_runs:
    latest = history_runs[-1]
    manager = RunManager()
    runs = []
    for entry in latest["runs"]:
        try:
            runs.append(manager.get(entry["id"]))
        except (KeyError, XnerError):
            continue
    done = sum(r.status == "succeeded" for r in runs)
    st.caption(f"Latest retraining ({latest['preset']}): {done} of {len(latest['runs'])} runs done")
    table = comparison(runs, {e["id"]: e["version"] for e in latest["runs"]})
    if table:
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    st.button("Refresh", key="retrain_refresh")
