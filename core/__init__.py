"""xner core library: cross-lingual NER by annotation projection (no Streamlit imports here)."""

__version__ = "0.1.0"
