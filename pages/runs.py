"""Runs: launch direct/distill/model-transfer training in the background, watch, cancel, resume."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.state import project_picker
from app.text import plain
from core.errors import XnerError
from core.fileerrors import describe_error
from core.runs import RunManager
from core.workbench.paths import readable_path
from core.workbench.runs import MODES, LaunchForm, launch, progress_text, run_rows

project = project_picker()
st.title("Runs")
try:
    manager = RunManager()
except (
    XnerError,
    OSError,
) as exc:  # a damaged or unwritable registry: say which and how to recover
    st.error(f"The run registry cannot be used: {plain(describe_error(exc))}")
    st.stop()
st.caption(
    f"Registry {manager.home} — runs launched here or with `xner runs launch` both appear; "
    "they keep running when the app is closed."
)

with st.expander("Launch a training run", expanded=False):
    default_train = ""
    if project is not None:
        candidate = project.path / "exports" / "train.corrected.conll"
        default_train = str(candidate) if candidate.exists() else ""
    with st.form("launch"):
        c1, c2, c3 = st.columns(3)
        mode = c1.selectbox("Mode", MODES, index=MODES.index("direct"), key="run_mode")
        lang = c2.text_input("Target language", "", key="run_lang")
        seed = c3.number_input("Seed", 0, 10_000, 1, key="run_seed")
        train = st.text_input(
            "Training data (CoNLL): projected/corrected target data, or source data for "
            "model transfer",
            default_train,
            key="run_train",
        )
        test = st.text_input("Test data (labelled target CoNLL)", key="run_test")
        unlabelled = st.text_input("Distill: unlabelled target text", key="run_unlabelled")
        teachers = st.text_input(
            "Distill: teacher model folders (comma-separated; empty: train one on the data)",
            key="run_teachers",
        )
        c4, c5, c6 = st.columns(3)
        epochs = c4.number_input("Epochs (0: the tagger's default)", 0, 1000, 0, key="run_epochs")
        tagger = c5.selectbox("Tagger", ["embedded", "transformers"], key="run_tagger")
        name = c6.text_input("Run name (optional)", key="run_name")
        submitted = st.form_submit_button("Launch", type="primary")
    if submitted:

        def allowed(typed: str) -> str:
            # Only the data home and the configured data folders: no file elsewhere is read.
            return str(readable_path(typed)) if typed.strip() else ""

        try:
            form = LaunchForm(
                mode=mode,
                train=allowed(train),
                test=allowed(test),
                unlabelled=allowed(unlabelled),
                teachers=[allowed(t) for t in teachers.split(",") if t.strip()],
                lang=lang,
                seed=int(seed),
                epochs=int(epochs) or None,
                tagger=tagger,
                name=name,
            )
            run = launch(manager, form)
        except (XnerError, ValueError, OSError) as exc:
            st.error(f"Not launched: {plain(describe_error(exc))}")
        else:
            st.session_state["run_selected"] = run.id
            st.success(f"Launched run {run.id} ({plain(run.name)}).")


@st.fragment(run_every=2.0)
def board() -> None:
    """Re-drawn every 2 s: status, progress and logs update while runs work."""
    runs = manager.list(limit=200)
    if not runs:
        st.info("No runs yet. Launch one above, or from the command line: `xner runs launch`.")
        return
    rows = run_rows(runs)
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1)
        },
    )
    ids = [r.id for r in runs]
    if st.session_state.get("run_selected") not in ids:
        st.session_state["run_selected"] = ids[0]
    labels = {r.id: f"{r.id} · {r.name} · {r.status}" for r in runs}
    run_id = st.selectbox("Run", ids, format_func=labels.get, key="run_selected")
    run = manager.get(run_id)
    st.markdown(f"**{plain(run.name)}** — {run.kind}, {run.status}, executor {run.executor}")
    fraction = run.fraction
    if fraction is not None:
        st.progress(fraction, text=progress_text(run) or run.status)
    elif run.active:
        st.caption(progress_text(run) or "starting…")
    if run.error:
        st.error(plain(run.error))
    if run.metrics:
        m = run.metrics
        cols = st.columns(3)
        for col, key in zip(cols, ("f1", "precision", "recall")):
            if isinstance(m.get(key), int | float):
                col.metric(key.upper() if key == "f1" else key, f"{m[key]:.4f}")
        with st.expander("All metrics"):
            st.json(m)
    c1, c2 = st.columns(2)
    if run.active and c1.button("Cancel run", key=f"cancel_{run.id}"):
        try:
            manager.cancel(run.id)
            st.warning(f"Cancelling {run.id}: it stops at its next checkpoint poll.")
        except XnerError as exc:
            st.error(str(exc))
    if run.status in ("failed", "cancelled", "resumable") and c2.button(
        "Resume run", key=f"resume_{run.id}"
    ):
        try:
            manager.resume(run.id)
            st.success(f"Resumed {run.id} from its last checkpoint.")
        except XnerError as exc:
            st.error(str(exc))
    st.markdown("**Log** (last 200 lines)")
    st.code(manager.log_tail(run.id, 200) or "(empty)", language="log")


board()
