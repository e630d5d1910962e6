"""Start the app like `streamlit run app/main.py [ARGS]`, but refuse to listen beyond this machine
without an access token (see app.access): `python -m app.serve --server.address 0.0.0.0`."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from app.access import refusal

ROOT = Path(__file__).resolve().parents[1]


def bind_address(args: list[str]) -> str:
    """The address Streamlit will listen on: the command line, else STREAMLIT_SERVER_ADDRESS,
    else .streamlit/config.toml, else "" (Streamlit's default: every interface)."""
    for n, arg in enumerate(args):
        if arg == "--server.address" and n + 1 < len(args):
            return args[n + 1]
        if arg.startswith("--server.address="):
            return arg.split("=", 1)[1]
    if "STREAMLIT_SERVER_ADDRESS" in os.environ:
        return os.environ["STREAMLIT_SERVER_ADDRESS"]
    config = ROOT / ".streamlit" / "config.toml"
    if config.is_file():
        return str(tomllib.loads(config.read_text("utf-8")).get("server", {}).get("address", ""))
    return ""


def main(args: list[str] | None = None) -> int:
    args = sys.argv[1:] if args is None else args
    reason = refusal(bind_address(args))
    if reason:
        print(f"xner app: refusing to start: {reason}", file=sys.stderr)
        return 2
    os.chdir(ROOT)  # .streamlit/config.toml is read from the working folder
    command = [sys.executable, "-m", "streamlit", "run", "app/main.py", *args]
    os.execv(sys.executable, command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
