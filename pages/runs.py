"""Runs: launch direct/distill/model-transfer training in the background, watch, cancel, resume."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app.state import project_picker
from app.text import plain
from core.errors import XnerError
from core.fileerrors import describe_error
from core.runs import RunManager
from core.workbench.paths import allowed_roots, readable_path
from core.workbench.runs import (
    MODES,
    SIZE_PRESETS,
    LaunchForm,
    data_files,
    launch,
    progress_text,
    project_language,
    run_rows,
    run_state,
    score_hints,
)

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


@st.cache_data(ttl=10, show_spinner=False)
def listed_files(roots: tuple[str, ...]) -> list[str]:
    """The pickable data files, listed at most every 10 s: a shared data folder can be large."""
    return [str(f) for f in data_files([Path(r) for r in roots])]


with st.expander("Launch a training run", expanded=False):
    files = list(listed_files(tuple(str(r) for r in allowed_roots())))
    default_train = ""
    if project is not None:
        candidate = project.path / "exports" / "train.corrected.conll"
        default_train = str(candidate.resolve()) if candidate.exists() else ""
    if default_train and default_train not in files:
        files.insert(0, default_train)
    # A project's language is the run's default; the key is per project so switching updates it.
    project_lang = project_language(project)

    def data_input(label: str, short: str, key: str, default: str = "") -> tuple[str | None, str]:
        """A picker of the data files the app may read, with a typed path as the fallback."""
        c_pick, c_typed = st.columns([3, 2])
        options = ["", *files]
        picked = c_pick.selectbox(
            label,
            options,
            index=options.index(default) if default in options else 0,
            format_func=lambda f: f or "(none)",
            key=f"{key}_pick",
        )
        typed = c_typed.text_input(f"{short}: or a path in the data folders", key=key)
        return picked, typed

    with st.form("launch"):
        c1, c2, c3, c7 = st.columns(4)
        mode = c1.selectbox("Mode", MODES, index=MODES.index("direct"), key="run_mode")
        lang = c2.text_input("Target language", project_lang, key=f"run_lang_{project_lang}")
        seed = c3.number_input("Seed", 0, 10_000, 1, key="run_seed")
        size = c7.selectbox(
            "Size",
            list(SIZE_PRESETS),
            index=0,
            key="run_size",
            help="; ".join(f"{k}: {v.description}" for k, v in SIZE_PRESETS.items()),
        )
        train = data_input(
            "Training data (CoNLL): projected/corrected target data, or source data for "
            "model transfer",
            "Training data",
            "run_train",
            default_train,
        )
        test = data_input("Test data (labelled target CoNLL)", "Test data", "run_test")
        unlabelled = data_input(
            "Distill: unlabelled target text", "Unlabelled text", "run_unlabelled"
        )
        teachers = st.text_input(
            "Distill: teacher model folders (comma-separated; empty: train one on the data)",
            key="run_teachers",
        )
        c4, c5, c6 = st.columns(3)
        epochs = c4.number_input("Epochs (0: as the size says)", 0, 1000, 0, key="run_epochs")
        tagger = c5.selectbox("Tagger", ["embedded", "transformers"], key="run_tagger")
        name = c6.text_input("Run name (optional)", key="run_name")
        submitted = st.form_submit_button("Launch", type="primary")
    if submitted:

        def allowed(choice: tuple[str | None, str] | str) -> str:
            # Only the data home and the configured data folders: no file elsewhere is read.
            # A typed path wins over the picked file.
            picked, typed = choice if isinstance(choice, tuple) else ("", choice)
            text = typed.strip() or (picked or "")
            return str(readable_path(text)) if text else ""

        preset = SIZE_PRESETS[size]
        try:
            form = LaunchForm(
                mode=mode,
                train=allowed(train),
                test=allowed(test),
                unlabelled=allowed(unlabelled),
                teachers=[allowed(t) for t in teachers.split(",") if t.strip()],
                lang=lang,
                seed=int(seed),
                epochs=int(epochs) or preset.epochs,
                sentences=preset.sentences,
                tagger=tagger,
                name=name,
            )
            run = launch(manager, form)
        except (XnerError, ValueError, OSError) as exc:
            st.error(f"Not launched: {plain(describe_error(exc))}")
        else:
            st.session_state["run_watched"] = run.id
            st.query_params["run"] = run.id
            st.success(f"Launched run {run.id} ({plain(run.name)}).")


def request_cancel(run_id: str) -> None:
    try:
        manager.cancel(run_id)
    except XnerError as exc:
        st.session_state["run_cancel_error"] = plain(str(exc))


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
    # The watched run is kept by id (session state, and the URL for a reload or a shared link),
    # never by position: the list reorders as runs start and finish.
    watched = st.session_state.get("run_watched") or st.query_params.get("run")
    if watched not in ids:
        watched = ids[0]
    labels = {r.id: f"{r.id} · {plain(r.name)} · {r.status}" for r in runs}
    run_id = st.selectbox("Run", ids, index=ids.index(watched), format_func=labels.get)
    st.session_state["run_watched"] = run_id
    if st.query_params.get("run") != run_id:
        st.query_params["run"] = run_id
    run = manager.get(run_id)
    st.markdown(f"**{plain(run.name)}** — {run.kind}, {run.status}, executor {run.executor}")
    fraction = run.fraction
    if fraction is not None:
        st.progress(fraction, text=progress_text(run) or run.status)
    elif run.active:
        st.caption(progress_text(run) or "starting…")
    level, message = run_state(run)
    if run.status != "succeeded" and not (run.active and level == "info"):
        getattr(st, level)(plain(message))
    if run.metrics:
        m = run.metrics
        cols = st.columns(3)
        for col, key in zip(cols, ("f1", "precision", "recall")):
            if isinstance(m.get(key), int | float):
                col.metric(key.upper() if key == "f1" else key, f"{m[key]:.4f}")
        for hint in score_hints(run):
            st.info(plain(hint))
        with st.expander("All metrics"):
            st.json(m)
    c1, c2 = st.columns(2)
    if run.active and not run.cancel_requested:
        # A callback runs before the page is drawn again, so the "Cancelling…" notice above comes
        # from the registry's cancel request (and survives a reload), not from this click.
        c1.button("Cancel run", key=f"cancel_{run.id}", on_click=request_cancel, args=(run.id,))
    if st.session_state.get("run_cancel_error"):
        st.error(st.session_state.pop("run_cancel_error"))
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
