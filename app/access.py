"""Who may use the app: anyone on this machine, or, when it listens on a network, only those who
give the access token (XNER_ACCESS_TOKEN).

The app reads and writes files on the server and starts training processes, so it must not be
open to a network without a login. `app/main.py` asks for the token before any page runs when
one is set, and refuses to work at all when it listens beyond this machine without one; `python
-m app.serve` refuses to start in that case. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

TOKEN_ENV = "XNER_ACCESS_TOKEN"
MIN_TOKEN_LENGTH = 12
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def access_token() -> str:
    return os.environ.get(TOKEN_ENV, "").strip()


def is_local_address(address: str | None) -> bool:
    """True for loopback only; an empty address means every interface (Streamlit's default)."""
    host = (address or "").strip().strip("[]").lower()
    if not host:
        return False
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name of this machine's network interface: reachable from outside


def refusal(address: str | None) -> str | None:
    """Why the app must not serve at `address` with the current settings, or None if it may."""
    token = access_token()
    if is_local_address(address):
        return None
    if not token:
        shown = address or "all interfaces"
        return (
            f"This app listens on {shown}, beyond this machine, and no access token is set. "
            f"Set {TOKEN_ENV} (at least {MIN_TOKEN_LENGTH} characters) and restart, or listen on "
            "localhost only (--server.address localhost)."
        )
    if len(token) < MIN_TOKEN_LENGTH:
        return (
            f"{TOKEN_ENV} is shorter than {MIN_TOKEN_LENGTH} characters; set a longer one and "
            "restart."
        )
    return None


def token_matches(given: str) -> bool:
    """Constant-time comparison with the configured token (False when none is set)."""
    token = access_token()
    if not token:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
