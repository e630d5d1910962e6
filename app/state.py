"""Session state shared by the pages: the data home, the active project, the user's name."""

from __future__ import annotations

import getpass
import os

import streamlit as st

from core.workbench.demo import DEMO_NAME, ensure_demo
from core.workbench.workspace import Project, data_home, get_project, list_projects


def user_name() -> str:
    if "user" not in st.session_state:
        try:
            default = os.environ.get("XNER_USER") or getpass.getuser()
        except (KeyError, OSError):
            default = "anonymous"
        st.session_state["user"] = default
    return st.session_state["user"] or "anonymous"


def ensure_demo_ready() -> None:
    """Build the demo project on first start (offline, seconds), with visible progress."""
    # The placeholder on every run, not only the first: the page's elements keep their places,
    # so a component below it (the annotator's frame) is not rebuilt on the second run.
    box = st.empty()
    if st.session_state.get("demo_ready"):
        return
    with box.status("Preparing the demo project (first start only)…", expanded=True) as status:
        bar = st.progress(0.0)

        def report(message: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        try:
            ensure_demo(progress=report)
        except Exception as exc:  # the app stays usable: the user can load their own data
            status.update(label="The demo project could not be built", state="error")
            st.error(f"Demo project unavailable: {exc}")
            st.session_state["demo_error"] = str(exc)
            return
        status.update(label="Demo project ready", state="complete")
    box.empty()
    st.session_state["demo_ready"] = True


def project_picker() -> Project | None:
    """A sidebar selector over the projects in the data home; returns the active one."""
    projects = list_projects()
    user_name()
    st.sidebar.text_input("Your name (recorded with corrections)", key="user", max_chars=64)
    if not projects:
        st.sidebar.warning(f"No projects in {data_home()}")
        return None
    names = [p.name for p in projects]
    titles = {p.name: p.title for p in projects}
    # A reload or a shared link (?project=...) opens the project it names.
    current = st.session_state.get("project") or st.query_params.get("project") or DEMO_NAME
    if current not in names:
        current = names[0]
    st.session_state["project"] = st.sidebar.selectbox(
        "Project", names, index=names.index(current), format_func=lambda n: titles.get(n, n)
    )
    st.query_params["project"] = st.session_state["project"]
    return get_project(st.session_state["project"])
