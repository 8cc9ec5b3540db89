"""Colours and symbols shared by the HTML maps, the PNG figures and the KML styles."""

from __future__ import annotations

__all__ = [
    "operator_colour", "phase_colour", "VILLAGE_COVERED", "VILLAGE_UNCOVERED", "SITE_EXISTING",
    "SITE_NEW", "MAP_BACKGROUND", "kml_colour",
]

# Chosen to stay apart from the villages' green/red and from one another (colour-blind safe
# pairs first).
_OPERATORS = ("#1f4e9c", "#f28e2b", "#9c4fb3", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
_PHASES = ("#b8860b", "#4a7fb0", "#2f4f4f", "#c71585", "#6b8e23", "#a0522d", "#483d8b", "#008b8b")

VILLAGE_COVERED = "#1a9850"
VILLAGE_UNCOVERED = "#d73027"
SITE_EXISTING = "#6b6b6b"
SITE_NEW = "#111111"
#: background of every map (the browser test finds the map by this colour)
MAP_BACKGROUND = "#eef2f5"


def operator_colour(k: int) -> str:
    """Colour of operator ``k`` (by its index in the plan's operator list)."""
    return _OPERATORS[k % len(_OPERATORS)]


def phase_colour(p: int) -> str:
    """Colour of phase ``p`` (fiber routes laid in that phase)."""
    return _PHASES[p % len(_PHASES)]


def kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """``#rrggbb`` -> KML ``aabbggrr``."""
    h = hex_rgb.lstrip("#")
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}"
