"""Word aligners behind one interface, selected by name: `get_aligner("eflomal", ...)`."""

from core.aligners.base import ALIGNERS, Aligner, TokenPair, get_aligner

__all__ = ["ALIGNERS", "Aligner", "TokenPair", "get_aligner"]
