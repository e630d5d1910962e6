"""Results: distillation vs direct vs model transfer, per language and entity type."""

from __future__ import annotations

import streamlit as st

from app.state import project_picker

project_picker()
st.title("Results")
st.info("Aggregated results (core/experiment.py) are not available in this version yet.")
