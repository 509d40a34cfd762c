"""Stage 2 (composing): set each story's body once, as a galley, and cut the galley's rows into columns.

A galley is the body of one story set in a single column at its column width, on one tall sheet.
WeasyPrint breaks its lines once; the composer then fills the slot's columns with whole rows of
the galley (a row is one line of the baseline grid) and the assembler draws each column's rows at
its place on the page. A story is never set twice, whatever its depth, its columns or its jump.

The rules for where a column may end are the stylesheet's own, read from the box tree (``orphans``,
``widows``, ``break-inside: avoid``, ``break-after: avoid``), as a CSS multi-column layout with
``column-fill: auto`` applies them. This reads WeasyPrint's private box tree, which is why its
version is pinned.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .measure import PT_PER_PX, Frame, Line

GALLEY_PREFIX = "gal-"
FRAME_PREFIX = "galframe-"
NAME = "data-id"
"""The attribute that names a galley and its frame on a galley sheet (``templates/slot.html.j2``)."""
ROW_EPSILON = 0.05
"""Fractions of a row below this are layout rounding, not a row."""


@dataclass(frozen=True)
class GalleyLine:
    """One line of a galley."""

    block_id: str
    text: str
    row: int
    """The grid row (0-based from the galley's top) the line's box starts on."""
    baseline: float
    """Baseline in points from the galley's top."""
    fill: float
    """How much of the column's width the line's text takes (0-1)."""


@dataclass(frozen=True)
class Galley:
    """A story's body set in one column: its rows, its lines and where a column may end."""

    slot_id: str
    rows: int
    lines: tuple[GalleyLine, ...]
    breaks: tuple[int, ...]
    """Rows a column may start at (besides row 0): the allowed column breaks, in order."""
    left: float = 0.0
    """Where the column's text starts, in points from the galley sheet's left edge (the frame's padding)."""
    top: float = 0.0
    """Where row 0 starts, in points from the galley sheet's top."""
    width: float = 0.0
    """The column's width, in points."""
    rules: bool = False
    """Whether the stylesheet rules the gaps between this story's columns (``column-rule``)."""
    paragraphs: tuple[tuple[str, dict], ...] = ()
    """What the paragraph breaker made of each paragraph it set (by block id; see ``linebreak._set``):
    lines, pass, worst ratio, the longer and shorter settings it could take, each line's spacing."""
    overhang: float = 0.0
    """The most any line's content reaches past the column's right edge, points (from the boxes)."""
    scaled: tuple[tuple[int, float, float], ...] = field(default=(), repr=False)
    """The lines whose glyphs the plates draw scaled (glyph scaling, ``linebreak.spacing_css``): each
    line's row, its scale and the left edge of its box (points from the galley sheet's left edge).
    Not in the ``repr``, which keys the plates (``PlateJob.key`` adds it where there are any): a
    galley without scaled lines keys its plate as before."""

    def to_json(self) -> dict:
        """A plain dict (for the layout cache)."""
        return {"slot_id": self.slot_id, "rows": self.rows, "breaks": list(self.breaks), "left": self.left,
                "top": self.top, "width": self.width,
                "rules": self.rules, "lines": [[x.block_id, x.text, x.row, x.baseline, x.fill] for x in self.lines],
                "paragraphs": [list(x) for x in self.paragraphs], "overhang": self.overhang,
                "scaled": [list(x) for x in self.scaled]}

    @classmethod
    def from_json(cls, data: dict) -> Galley:
        """The inverse of ``to_json``."""
        return cls(data["slot_id"], data["rows"], tuple(GalleyLine(*x) for x in data["lines"]),
                   tuple(data["breaks"]), data["left"], data["top"],
                   data["width"], data["rules"], tuple((k, v) for k, v in data.get("paragraphs", ())),
                   data.get("overhang", 0.0), tuple((int(r), float(s), float(x)) for r, s, x in data.get("scaled", ())))


@dataclass(frozen=True)
class Columns:
    """A run of a galley's rows cut into a frame's columns."""

    ranges: tuple[tuple[int, int], ...]
    """Rows [first, end) of the galley set in each column, left to right (empty columns left out)."""
    next_row: int
    """The first row that did not fit (the galley's ``rows`` if everything fitted)."""
    forced: int = 0
    """Columns that had to end where the stylesheet does not allow it (a block kept together that is
    deeper than the frame)."""


def fill(galley: Galley, start: int, columns: int, depth: int, insets: tuple[int, ...] = ()) -> Columns:
    """Fill ``columns`` columns ``depth`` rows deep with the galley's rows from ``start`` on; with
    ``insets``, the top ``insets[c]`` rows of column c are taken (by narrow photos).

    Each column ends at the last allowed break that fits, as ``column-fill: auto`` does; where no
    break is allowed within the column (a pull quote deeper than the frame), the rows are cut.
    """
    ranges = []
    row = start
    forced = 0
    for column in range(columns):
        if row >= galley.rows or depth <= 0:
            break
        room = depth - (insets[column] if insets else 0)
        if room <= 0:
            ranges.append((row, row))
            continue
        end = row + room
        if end >= galley.rows:
            ranges.append((row, galley.rows))
            row = galley.rows
            break
        index = bisect.bisect_right(galley.breaks, end) - 1
        allowed = index >= 0 and galley.breaks[index] > row
        stop = galley.breaks[index] if allowed else end
        forced += not allowed
        ranges.append((row, stop))
        row = stop
    return Columns(tuple(ranges), row, forced)


def natural_depth(galley: Galley, start: int, columns: int) -> int:
    """The fewest rows a frame of ``columns`` columns needs to hold the galley from ``start``, balanced,
    and with no column ended where the stylesheet forbids it if any depth allows that."""
    rows = galley.rows - start
    if rows <= 0:
        return 1
    first_fit = None
    for depth in range(max(1, math.ceil(rows / columns)), rows + 1):
        cut = fill(galley, start, columns, depth)
        if cut.next_row >= galley.rows:
            if not cut.forced:
                return depth
            first_fit = first_fit or depth
    return first_fit or rows


def frame_of(galley: Galley, slot_id: str, cut: Columns, depth: int, columns: int, top: float,
             leading: float) -> Frame:
    """What the columns hold, as the fit report reads it: lines per column, then the overset rows
    as further columns of ``depth`` rows (as an overflowing ``column-fill: auto`` frame makes them)."""
    used = [float(end - first) for first, end in cut.ranges]
    placed: list[Line] = []
    for column, (first, end) in enumerate(cut.ranges):
        placed += [Line(x.block_id, x.text, column, round(top + x.baseline - first * leading - galley.top, 3),
                        x.fill) for x in galley.lines if first <= x.row < end]
    rest = galley.rows - cut.next_row
    if rest > 0:
        used += [0.0] * (columns - len(used))
        per = max(depth, 1)
        for extra in range(math.ceil(rest / per)):
            first = cut.next_row + extra * per
            used.append(float(min(per, galley.rows - first)))
            placed += [Line(x.block_id, x.text, columns + extra, 0.0, x.fill)
                       for x in galley.lines if first <= x.row < first + per]
    return Frame(slot_id, tuple(used), tuple(placed))


# ---- Reading a galley from WeasyPrint's box tree (runs in a page worker) ---------------------------


def find_box(box: Any, element_id: str, attribute: str = "id") -> Any:
    """The box of the element whose ``attribute`` is ``element_id`` under ``box``, or None. (A galley and
    its frame are named by ``data-id``: see ``templates/slot.html.j2``.)"""
    element = getattr(box, "element", None)
    if element is not None and element.get(attribute) == element_id and box.element_tag != "html":
        return box
    for child in getattr(box, "children", ()):
        found = find_box(child, element_id, attribute)
        if found is not None:
            return found
    return None


class BrokeElsewhere(AssertionError):
    """WeasyPrint broke a line the paragraph breaker chose (a bug: the measure or a width is wrong)."""


def read_galleys(document: Any, slot_ids: list[str], leading: float, report: Any = None) -> dict[str, Galley]:
    """Read the galley of each of ``slot_ids`` from the laid-out ``document``: one a page, in order.

    Each paragraph the breaker set (``report``: a ``linebreak.Report``) must have exactly the lines
    it chose, one a line block; anything else raises ``BrokeElsewhere``."""
    found = {}
    for index, slot_id in enumerate(slot_ids):
        box = find_box(document.pages[index]._page_box, GALLEY_PREFIX + slot_id, NAME)
        if box is None:
            raise ValueError(f"galley {slot_id} is not on page {index + 1} of its sheet")
        frame = find_box(document.pages[index]._page_box, FRAME_PREFIX + slot_id, NAME)
        rules = frame is not None and frame.style["column_rule_style"] not in ("none", "hidden") \
            and frame.style["column_rule_width"] > 0
        galley, overhang = _read(box, slot_id, leading / PT_PER_PX)
        set_here = {}
        if report is not None:
            prefix = slot_id + "-b"
            set_here = {k: v for k, v in report.paragraphs.items()
                        if k.startswith(prefix) and k[len(prefix):].isdigit()}
            counts: dict[str, int] = {}
            for line in galley.lines:
                counts[line.block_id] = counts.get(line.block_id, 0) + 1
            for key, record in set_here.items():
                if counts.get(key, 0) != record["lines"]:
                    raise BrokeElsewhere(f"{key}: the breaker chose {record['lines']} lines, WeasyPrint set "
                                         f"{counts.get(key, 0)}")
        order = sorted(set_here.items(), key=lambda kv: int(kv[0][len(slot_id) + 2:]))
        found[slot_id] = replace(galley, width=round(box.width * PT_PER_PX, 3), rules=rules,
                                 paragraphs=tuple(order), overhang=round(overhang, 3))
        scaled = _scaled(box, box.content_box_y(), leading / PT_PER_PX)  # which the plates scale (``assemble.parse``)
        if scaled:
            found[slot_id] = replace(found[slot_id], scaled=scaled)
    return found


def _read(frame: Any, slot_id: str, row_px: float) -> tuple[Galley, float]:
    """The galley in ``frame``, and the most any of its lines reaches past its line box (points)."""
    top = frame.content_box_y()
    height = sum(child.margin_height() for child in frame.children) if frame.children else 0.0
    rows = _rows(height / row_px)
    lines: list[GalleyLine] = []
    breaks: set[int] = set()
    forbidden: set[int] = set()
    overhang: list[float] = [0.0]
    _blocks(frame, top, row_px, "", lines, breaks, forbidden, keep=False, overhang=overhang)
    allowed = tuple(sorted(b for b in breaks - forbidden if 0 < b < rows))
    return Galley(slot_id, rows, tuple(lines), allowed, round(frame.content_box_x() * PT_PER_PX, 3),
                  round(top * PT_PER_PX, 3)), max(overhang)


def _rows(value: float) -> int:
    whole = int(value)
    return whole + (1 if value - whole > ROW_EPSILON else 0)


def _row_at(y: float, top: float, row_px: float) -> int:
    return int((y - top) / row_px + ROW_EPSILON)


def _line_boxes(box: Any) -> list[Any]:
    """The line boxes of a block: its own, or those of its chosen lines (``p.set > .ln``: one each)."""
    direct = [c for c in box.children if type(c).__name__ == "LineBox"]
    element = getattr(box, "element", None)
    if direct or element is None or "set" not in (element.get("class") or "").split():
        return direct
    found = []
    for child in box.children:
        own = [c for c in getattr(child, "children", ()) if type(c).__name__ == "LineBox"]
        if len(own) != 1:
            raise BrokeElsewhere(f"{element.get('data-id')}: a chosen line was set as {len(own)} lines")
        found += own
    return found


def _blocks(container: Any, top: float, row_px: float, block_id: str, lines: list[GalleyLine],
            breaks: set[int], forbidden: set[int], keep: bool, overhang: list[float] | None = None) -> None:
    """Collect the lines of ``container``'s block children and the rows a column may start at."""
    children = [c for c in container.children if hasattr(c, "children")]
    avoid_after = False
    for child in children:
        element = getattr(child, "element", None)
        own = element.get("id") or element.get("data-id") if element is not None and child.element_tag != "html" \
            else None  # data-id: a paragraph set by the paragraph breaker (linebreak.SET_ID)
        child_id = own or block_id
        start = _row_at(child.position_y, top, row_px)
        style = child.style
        if not keep:
            (forbidden if avoid_after or style["break_before"] == "avoid" else breaks).add(start)
        if avoid_after:
            forbidden.add(start)
        keep_inside = keep or style["break_inside"] in ("avoid", "avoid-column")
        line_boxes = _line_boxes(child)
        if line_boxes:
            rows = []
            for line in line_boxes:
                row = _row_at(line.position_y, top, row_px)
                rows.append(row)
                lines.append(_line(line, child_id, row, top, overhang))
            if keep_inside:
                forbidden.update(rows[1:])
            else:
                orphans, widows = style["orphans"], style["widows"]
                breaks.update(row for index, row in enumerate(rows) if orphans <= index <= len(rows) - widows)
        else:
            _blocks(child, top, row_px, child_id, lines, breaks, forbidden, keep_inside, overhang)
            if keep_inside:
                first = start + 1
                last = _row_at(child.position_y + child.margin_height(), top, row_px)
                forbidden.update(range(first, last))
        avoid_after = style["break_after"] == "avoid"


def _line(box: Any, block_id: str, row: int, top: float, overhang: list[float] | None = None) -> GalleyLine:
    text = "".join(t.text for t in _text_boxes(box))
    inline = [c for c in box.children if hasattr(c, "margin_width")]
    right = max((c.position_x + c.margin_width() for c in inline), default=box.position_x)
    if overhang is not None:
        overhang.append((right - box.position_x - box.width) * PT_PER_PX)
    fill = (right - box.position_x) / box.width if box.width else 1.0
    baseline = (box.position_y + box.baseline - top) * PT_PER_PX
    return GalleyLine(block_id, text, row, round(baseline, 3), round(min(fill, 1.0), 4))


_SCALE_CLASS = re.compile(r"s(\d{3,4})")


def _scaled(frame: Any, top: float, row_px: float) -> tuple[tuple[int, float, float], ...]:
    """The row, scale and box's left edge (points) of each line of ``frame`` with a glyph-scaling class
    (``s1015``: 101.5 %) in a paragraph the breaker set."""
    found = []
    for box in frame.descendants():
        element = getattr(box, "element", None)
        if element is None or box.element_tag != "p" or "set" not in (element.get("class") or "").split():
            continue
        for child in box.children:
            names = (getattr(child, "element", None) is not None and child.element.get("class") or "").split()
            scale = next((int(m[1]) for m in map(_SCALE_CLASS.fullmatch, names) if m), None)
            if scale is not None and scale != 1000:
                found.append((_row_at(child.position_y, top, row_px), scale / 1000,
                              round(child.border_box_x() * PT_PER_PX, 4)))
    return tuple(found)


def _text_boxes(box: Any) -> Iterator[Any]:
    for child in box.descendants():
        if type(child).__name__ == "TextBox":
            yield child
