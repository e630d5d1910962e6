"""Runs: launch, watch and cancel training runs (the run manager in core/runs)."""

from __future__ import annotations

import streamlit as st

from app.state import project_picker

project_picker()
st.title("Runs")
st.info("The run manager (core/runs) is not available in this version yet.")
