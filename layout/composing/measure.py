"""Read WeasyPrint's layout tree: the heights of top matter; and the record of a frame's lines.

This reads WeasyPrint's private box tree (``page._page_box``), which is why its version is pinned.
A frame's lines come from its story's galley (``composing/galley.py``); lines that did not fit are counted
in columns past the frame's last, as an overflowing ``column-fill: auto`` frame would set them:
overset is found from the set lines, never guessed from character counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PT_PER_PX = 0.75
EPSILON = 0.05
"""Fractions of a line below this are layout rounding, not a line."""


@dataclass(frozen=True)
class Line:
    """One line of text in a frame."""

    block_id: str
    """Id of the body block (paragraph, crosshead, pull quote) it belongs to."""
    text: str
    column: int
    """Column of the frame (0-based); columns at or past the frame's column count are overset."""
    baseline: float
    """Baseline position from the top of the page, in points."""
    fill: float
    """How much of the column's width the line's text takes (0-1): a short last line is a cheap cut."""


@dataclass(frozen=True)
class Frame:
    """What the layout made of one slot's body frame."""

    slot_id: str
    column_lines: tuple[float, ...]
    """Lines used in each column the layout made (more than the slot's columns means overset)."""
    lines: tuple[Line, ...]

    def over(self, columns: int) -> float:
        """Lines pushed past the frame's last column."""
        return sum(self.column_lines[columns:])


def _boxes_with_id(box: Any, prefix: str) -> Iterator[Any]:
    element = getattr(box, "element", None)
    if element is not None and (element.get("id") or "").startswith(prefix) and box.element_tag != "html":
        yield box
        return
    for child in getattr(box, "children", ()):
        yield from _boxes_with_id(child, prefix)


def _all_boxes(document: Any, prefix: str) -> Iterator[Any]:
    for page in document.pages:
        yield from _boxes_with_id(page._page_box, prefix)


def heights(document: Any, prefix: str) -> dict[str, float]:
    """Return the margin-box height in points of each element whose id starts with ``prefix``."""
    found: dict[str, float] = {}
    for box in _all_boxes(document, prefix):
        key = box.element.get("id")[len(prefix):]
        found[key] = found.get(key, 0.0) + box.margin_height() * PT_PER_PX
    return found


def lines_needed(height: float, leading: float) -> int:
    """Whole grid lines needed to hold ``height`` points."""
    whole = int(height / leading)
    return whole + (1 if height / leading - whole > EPSILON else 0)
