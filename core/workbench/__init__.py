"""The app's logic, one module per page (no Streamlit imports): testable without a browser."""
