"""Projection methods behind one interface, selected by name: `get_projector("heuristic")`."""

from core.projection.base import PROJECTORS, Projector, get_projector

__all__ = ["PROJECTORS", "Projector", "get_projector"]
