"""Lengths (the paper settings and manifests speak mm and pt; layout works in pt) and PDF's
transformation matrices."""

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
    match = _LENGTH.match(str(value).lower())  # 280MM is 280mm
    if not match:
        raise ValueError(f"{value!r} is not a length (write it like 280mm or 9pt)")
    return float(match[1]) * PT_PER_UNIT[match[2]]


Matrix = tuple[float, float, float, float, float, float]
"""A PDF transformation matrix ``a b c d e f``."""
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF's row-vector convention: the product m x n, as ``cm`` makes it)."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def transform(m: Matrix, x: float, y: float) -> tuple[float, float]:
    """The point (``x``, ``y``) through ``m``."""
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]
