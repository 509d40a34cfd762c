"""Lengths: the paper settings and manifests speak mm and pt; layout works in pt."""

from __future__ import annotations

import re

PT_PER_UNIT = {"pt": 1.0, "mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0, "px": 0.75}
_LENGTH = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(pt|mm|cm|in|px)\s*$")


def parse_length(value: object, default_unit: str = "mm") -> float:
    """Return ``value`` ("280mm", "9pt", 12) in points; raise ValueError if it is not a length."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a length")
    if isinstance(value, (int, float)):
        return float(value) * PT_PER_UNIT[default_unit]
    match = _LENGTH.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a length (write it like 280mm or 9pt)")
    return float(match[1]) * PT_PER_UNIT[match[2]]


def mm(points: float) -> float:
    """Return ``points`` in millimetres."""
    return points / PT_PER_UNIT["mm"]
