"""Load data: upload files or name a path/folder on this machine; they become a new project."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from app.state import project_picker
from app.text import language_code, plain
from core.aligners.base import ALIGNERS
from core.errors import XnerError
from core.fileerrors import describe_error
from core.projection.base import PROJECTORS, get_projector
from core.workbench.data import (
    ACCEPTED_SUFFIXES,
    guess_language,
    max_upload_bytes,
    safe_project_name,
    save_upload,
)
from core.workbench.paths import readable_path
from core.workbench.workspace import (
    DEFAULT_METHODS,
    data_home,
    default_aligners,
    list_projects,
    project_from_files,
)

project_picker()
st.title("Load data")
result = st.session_state.pop("load_result", None)  # what the last attempt said (kept over a rerun)
if result:
    getattr(st, result[0])(result[1])
st.markdown(
    "Give **projection JSONL** files (from `xner project --output-jsonl`), or a **labelled source "
    "CoNLL** plus the **target** side (`.txt`, one sentence per line, or `.conll`), or one **TSV** "
    "of parallel text (`source<TAB>target`, the source gets labelled by spaCy's English model), "
    "or a **folder** holding such files. The pairs are aligned with eflomal and projected offline."
)

projects = list_projects()
if projects:
    st.dataframe(
        [
            {
                "project": p.name,
                "title": p.title,
                "sentences": p.meta.get("sentences", ""),
                "languages": f"{p.meta.get('source_lang', '?')} → {p.meta.get('target_lang', '?')}",
                "views": ", ".join(p.view_keys),
                "created": p.meta.get("created", ""),
            }
            for p in projects
        ],
        hide_index=True,
        width="stretch",
    )

get_projector("heuristic")  # loads the projection backends so the registry lists them all
aligner_names = ALIGNERS.names() or ["eflomal"]
with st.form("load"):
    name = st.text_input("Project name", "my-data", key="new_name")
    c1, c2 = st.columns(2)
    source_lang = c1.text_input("Source language", "en", key="source_lang")
    target_lang = c2.text_input(
        "Target language",
        "",
        key="target_lang",
        placeholder="e.g. yor, de (guessed from a folder named so)",
    )
    aligner = st.selectbox(
        "Aligner",
        aligner_names,
        index=aligner_names.index("eflomal") if "eflomal" in aligner_names else 0,
        key="aligner",
        help="eflomal: statistical, trains on your pairs (offline, seconds). simalign needs an "
        "encoder model (a Hub id or local folder).",
    )
    methods = st.multiselect(
        "Projection methods", PROJECTORS.names(), default=list(DEFAULT_METHODS), key="methods"
    )
    # A new key empties the box: files of a refused attempt are never sent again unseen.
    generation = st.session_state.setdefault("upload_generation", 0)
    files = st.file_uploader(
        f"Upload files (at most {max_upload_bytes() / 1024 / 1024:.0f} MB each)",
        type=[s.lstrip(".") for s in ACCEPTED_SUFFIXES],
        accept_multiple_files=True,
        key=f"files_{generation}",
    )
    path = st.text_input("…or a path on this machine (file or dataset folder)", key="path")
    overwrite = st.checkbox("Replace a project with the same name", key="overwrite")
    submitted = st.form_submit_button("Load and project", type="primary")


def _is_jsonl(paths: list[Path]) -> bool:
    return all(p.suffix.lower() == ".jsonl" for p in paths)


if submitted:
    name = safe_project_name(name)
    data_home().mkdir(parents=True, exist_ok=True)
    # Uploads land in a private folder inside the data home, under sanitised names only.
    staging = Path(tempfile.mkdtemp(prefix=".upload.", dir=data_home()))
    try:
        paths: list[Path] = []
        for upload in files or []:
            paths.append(save_upload(upload.name, upload, staging))
        if path.strip():
            paths.append(readable_path(path))  # only the data home and configured data folders
        if not paths:
            raise XnerError("upload files or give a path first")
        target = language_code(target_lang, "target language") or guess_language(paths)
        bar = st.progress(0.0, text="reading")
        project = project_from_files(
            name,
            paths,
            source_lang=language_code(source_lang, "source language") or "en",
            target_lang=target or "xx",
            methods=methods or list(DEFAULT_METHODS),
            aligners=None if _is_jsonl(paths) else default_aligners([aligner]),
            overwrite=overwrite,
            progress=lambda message, fraction: bar.progress(min(fraction, 1.0), text=message),
        )
        if files:  # keep the uploaded originals with the project, under their sanitised names
            project.uploads_dir.mkdir(exist_ok=True)
            for f in staging.iterdir():
                shutil.copy2(f, project.uploads_dir / f.name)
    except (XnerError, ValueError, OSError) as exc:
        message = f"Could not load the data: {plain(describe_error(exc))}"
        if files:
            st.session_state["upload_generation"] = generation + 1
            message += (
                f" — the {len(files)} uploaded file(s) were removed from the upload box so that "
                "none is used again unseen; upload the corrected files."
            )
        st.session_state["load_result"] = ("error", message)
    else:
        st.session_state["project"] = project.name  # the sidebar picker opens the new project
        if files:
            st.session_state["upload_generation"] = generation + 1
        kept = project.meta.get("corrections_kept")
        st.session_state["load_result"] = (
            "success",
            f"Project **{plain(project.name)}** ready: {project.meta.get('sentences', '?')} "
            f"sentences, language {plain(project.meta.get('target_lang', '?'))}, views "
            f"{plain(', '.join(project.view_keys))}"
            + (", with gold labels" if project.meta.get("gold") else "")
            + (f". Corrections: {plain(kept)}" if kept else "")
            + (
                ". The target language was not given and the names did not tell it (recorded as "
                "xx): type it and replace the project to record it"
                if project.meta.get("target_lang") == "xx"
                else ""
            )
            + ". Open it in the Explorer.",
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    st.rerun()  # the project list and the sidebar picker show the new state
