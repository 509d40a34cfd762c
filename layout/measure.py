"""Stage 3c: read WeasyPrint's layout tree: heights of top matter, lines of text, what overflowed.

This reads WeasyPrint's private box tree (``page._page_box``), which is why its version is pinned.
A fixed-height multi-column box with ``column-fill: auto`` puts text that does not fit into extra
columns to the right, off the slot (and off the page), and says nothing: counting those columns and
their lines is how overset is found, never by guessing from character counts.
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

    def used(self, columns: int) -> float:
        """Lines used inside the frame's columns."""
        return sum(self.column_lines[:columns])


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


def _bottom(box: Any) -> float:
    children = [c for c in getattr(box, "children", ()) if hasattr(c, "margin_height")]
    if not children:
        return box.position_y
    return max(c.position_y + c.margin_height() for c in children)


def _lines(box: Any, block_id: str, column: int) -> Iterator[Line]:
    element = getattr(box, "element", None)
    own = element.get("id") if element is not None and box.element_tag != "html" else None
    block_id = own or block_id
    if type(box).__name__ == "LineBox":
        text = "".join(t.text for t in box.descendants() if type(t).__name__ == "TextBox")
        baseline = (box.position_y + box.baseline) * PT_PER_PX
        inline = [c for c in box.children if hasattr(c, "margin_width")]
        right = max((c.position_x + c.margin_width() for c in inline), default=box.position_x)
        fill = (right - box.position_x) / box.width if box.width else 1.0
        yield Line(block_id, text, column, baseline, min(fill, 1.0))
        return
    for child in getattr(box, "children", ()):
        yield from _lines(child, block_id, column)


def frames(document: Any, leading: float, prefix: str = "frame-") -> dict[str, Frame]:
    """Measure every body frame (multi-column box) whose id starts with ``prefix``."""
    found = {}
    for box in _all_boxes(document, prefix):
        slot_id = box.element.get("id")[len(prefix):]
        columns = [c for c in box.children if hasattr(c, "children")]
        used = tuple((_bottom(c) - c.position_y) * PT_PER_PX / leading for c in columns)
        lines = tuple(line for i, c in enumerate(columns) for line in _lines(c, "", i))
        found[slot_id] = Frame(slot_id, used, lines)
    return found
