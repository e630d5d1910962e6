"""xner's app: `streamlit run app/main.py` (or `make app`). Opens on a ready demo project."""

from __future__ import annotations

import logging
import secrets
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts app/ on the path, the pages import app.* and core.*
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.access import access_token, refusal, token_matches  # noqa: E402
from app.state import ensure_demo_ready  # noqa: E402
from app.text import plain  # noqa: E402
from core.errors import XnerError  # noqa: E402
from core.fileerrors import describe_error  # noqa: E402

st.set_page_config(page_title="xner", page_icon=":material/translate:", layout="wide")
log = logging.getLogger("xner.app")


def gate() -> None:
    """Before any page runs: refuse outright when listening beyond this machine without a
    token; ask for the token when one is set."""
    reason = refusal(st.get_option("server.address"))
    if reason:
        st.title("xner is not available")
        st.error(reason)
        st.stop()
    if not access_token() or st.session_state.get("access_granted"):
        return
    st.title("xner: access token required")
    with st.form("access"):
        given = st.text_input("Access token", type="password", key="access_token")
        entered = st.form_submit_button("Enter", type="primary")
    if entered:
        if token_matches(given):
            st.session_state["access_granted"] = True
            st.rerun()  # opens the default page; the others are a click away in this session
        time.sleep(1.0)  # slows down guessing
        st.error("Wrong access token.")
    st.stop()


gate()

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
try:
    navigation.run()
except (XnerError, OSError, sqlite3.Error) as exc:
    # A bad file, a full disk, a damaged store: a one-line message that says what to do.
    log.warning("page error: %s", describe_error(exc))
    st.error(plain(describe_error(exc)))
except Exception:  # st.stop/st.rerun are BaseExceptions and pass through
    # The page shows a reference, not a traceback with server paths (client.showErrorDetails is
    # off); the server log has the details under the same reference.
    reference = secrets.token_hex(4)
    log.exception("page error, reference %s", reference)
    st.error(
        f"Something went wrong on this page (reference {reference}). The server log has the "
        "details; reload to try again."
    )
    raise  # Streamlit records it too (redacted in the page: client.showErrorDetails = "none")
