"""xner's app: `streamlit run app/main.py` (or `make app`). Opens on a ready demo project."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts app/ on the path, the pages import app.* and core.*
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.state import ensure_demo_ready  # noqa: E402

st.set_page_config(page_title="xner", page_icon=":material/translate:", layout="wide")

PAGES = {
    "Projection": [
        st.Page("../pages/explorer.py", title="Explorer", icon=":material/search:", default=True),
        st.Page("../pages/corrections.py", title="Corrections & export", icon=":material/edit:"),
        st.Page("../pages/data.py", title="Load data", icon=":material/upload_file:"),
    ],
    "Experiments": [
        st.Page("../pages/runs.py", title="Runs", icon=":material/rocket_launch:"),
        st.Page("../pages/results.py", title="Results", icon=":material/bar_chart:"),
    ],
}

navigation = st.navigation(PAGES)
ensure_demo_ready()
navigation.run()
