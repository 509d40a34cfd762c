"""Stage 2 (composing): place slots on a page's column grid in column order (fill down, then across)."""

from __future__ import annotations

from dataclasses import dataclass

GAP_LINES = 1
"""Grid lines left between a slot and the one stacked below it (a rule is drawn there)."""


PIN_FOOT = -1
"""``top: foot`` (as in ``manifest.PIN_FOOT``): the slot sits on the foot of the type area."""


@dataclass(frozen=True)
class Request:
    """What a slot asks of the grid."""

    columns: int
    """Width in grid columns."""
    head_lines: int
    """Lines taken by the headline, standfirst, photos and byline above the body."""
    depth: int | None
    """Body lines asked for, None to take ``natural`` lines, 0 to reach the foot of the page."""
    natural: int
    """Body lines the text needs when balanced across its columns."""
    column: int | None = None
    """Pinned start column (0-based), or None to go where column order puts it."""
    top: int | None = None
    """Pinned top line (from the top of the type area), PIN_FOOT for the foot, or None."""

    @property
    def pinned(self) -> bool:
        """True when the slot's place is pinned (placed before the column-order slots fill around it):
        a pinned top, or the foot in a pinned column. (On the foot without a column, a slot takes the
        columns column order gives it and sinks to the foot there.)"""
        return self.top is not None and (self.top != PIN_FOOT or self.column is not None)


@dataclass(frozen=True)
class Placement:
    """Where a slot went: grid column and line of its top-left corner, and its body depth."""

    column: int
    line: int
    columns: int
    head_lines: int
    depth: int
    """Body lines it gets (may be fewer than asked if the page ran out)."""
    wanted: int
    """Body lines it asked for."""
    pinned: bool = False

    @property
    def bottom(self) -> int:
        """The grid line just below the slot."""
        return self.line + self.head_lines + self.depth

    def overlaps(self, other: Placement) -> bool:
        """True when the two slots' boxes share a grid cell."""
        return (self.column < other.column + other.columns and other.column < self.column + self.columns
                and self.line < other.bottom and other.line < self.bottom)


def place(requests: list[Request], columns: int, lines: int, top: int = 0) -> list[Placement]:
    """Place each request at the highest free position ``columns`` wide, leftmost on ties.

    Slots with a pinned ``top`` are placed first, where they ask (a pinned ``column`` too, else
    the leftmost column where they fit); the others are then placed in column order around them: a
    slot above a pinned one is cut to the space left above it, and a place inside a pinned slot moves
    below it. ``top`` is the first grid line free for stories (below a front-page nameplate). A
    slot's body is cut to the space left below it; the caller reports that as overset.
    """
    out: list[Placement | None] = [None] * len(requests)
    pins: list[Placement] = []
    for index, request in enumerate(requests):
        if request.pinned:
            placement = _pinned(request, columns, lines, top, pins)
            pins.append(placement)
            out[index] = placement
    skyline = [top] * columns
    for index, request in enumerate(requests):
        if request.pinned:
            continue
        width = min(request.columns, columns)
        starts = range(columns - width + 1)
        if request.column is not None:
            starts = range(min(request.column, columns - width), min(request.column, columns - width) + 1)
        wanted = request.depth if request.depth is not None else request.natural
        options = []  # (does not fit, line, column, floor): the highest place where it fits, else the highest
        for c in starts:
            line = _free_line(max(skyline[c:c + width]), c, width, pins)
            while True:
                floor = _floor(line, c, width, lines, pins)
                fits = not wanted or floor - line - request.head_lines >= wanted
                options.append((not fits, line, c, floor))
                if fits or floor >= lines:
                    break
                line = _free_line(floor + GAP_LINES, c, width, pins)  # below the pin in the way
        if request.top == PIN_FOOT:  # on the page's foot where it can be (beside another foot slot, not on it)
            _, line, column, floor = min(options, key=lambda o: (o[0], o[3] < lines, o[1], o[2]))
        else:
            _, line, column, floor = min(options)
        room = max(0, floor - line - request.head_lines)
        wanted = wanted or room
        depth = min(wanted, room)
        sunk = request.top == PIN_FOOT and line < floor - request.head_lines - depth
        if request.top == PIN_FOOT:  # sinks to the foot of the space it was given
            line = max(line, floor - request.head_lines - depth)
        placement = Placement(column, line, width, request.head_lines, depth, wanted, request.column is not None)
        out[index] = placement
        if sunk:  # the space above it stays free: later slots fill it, ending above it as above a pin
            pins.append(placement)
            continue
        for c in range(column, column + width):
            skyline[c] = placement.bottom + GAP_LINES
    return [p for p in out if p is not None]


def _pinned(request: Request, columns: int, lines: int, top: int, pins: list[Placement]) -> Placement:
    width = min(request.columns, columns)
    natural = request.depth if request.depth is not None else request.natural
    if request.top == PIN_FOOT:
        depth = natural or max(0, lines - top - request.head_lines)
        line = max(top, lines - request.head_lines - depth)
    else:
        line = top + (request.top or 0)  # counted from the first free line (under a front page's nameplate)
        depth = natural or max(0, lines - line - request.head_lines)
    depth = min(depth, max(0, lines - line - request.head_lines))
    wanted = natural or depth
    starts = list(range(columns - width + 1))
    if request.column is not None:
        starts = [min(request.column, columns - width)]
    for column in starts:  # leftmost where it overlaps no other pin (else the first: reported)
        candidate = Placement(column, line, width, request.head_lines, depth, wanted, True)
        if not any(candidate.overlaps(p) for p in pins):
            return candidate
    return Placement(starts[0], line, width, request.head_lines, depth, wanted, True)


def _free_line(line: int, column: int, width: int, pins: list[Placement]) -> int:
    """The first line at or below ``line`` that is not inside a pinned slot in these columns."""
    moved = True
    while moved:
        moved = False
        for pin in pins:
            if pin.column < column + width and column < pin.column + pin.columns and pin.line <= line < pin.bottom:
                line, moved = pin.bottom + GAP_LINES, True
    return line


def _floor(line: int, column: int, width: int, lines: int, pins: list[Placement]) -> int:
    """The line a slot placed at ``line`` must end above: the next pinned slot below it, or the foot."""
    below = [pin.line - GAP_LINES for pin in pins
             if pin.column < column + width and column < pin.column + pin.columns and pin.line >= line]
    return min([lines, *below])


def overlapping(placements: list[Placement]) -> list[tuple[int, int]]:
    """Pairs of indexes of placements whose boxes overlap where at least one is pinned."""
    return [(i, j) for i, a in enumerate(placements) for j, b in enumerate(placements)
            if i < j and (a.pinned or b.pinned) and a.overlaps(b)]


def holes(placements: list[Placement], columns: int, lines: int, top: int = 0) -> list[int]:
    """Return, for each grid column, the empty lines left in it: below its lowest slot, and any
    more than the rule's gap between two stacked slots (above a slot pinned to the foot)."""
    found = []
    for c in range(columns):
        spans = sorted((p.line, p.bottom) for p in placements if p.column <= c < p.column + p.columns)
        if not spans:
            found.append(lines - top)
            continue
        empty = max(0, spans[0][0] - top - GAP_LINES)
        for (_, above), (below, _) in zip(spans, spans[1:]):
            empty += max(0, below - above - GAP_LINES)
        empty += lines - max(bottom for _, bottom in spans)
        found.append(empty)
    return found


def hole_spans(placements: list[Placement], columns: int, lines: int, top: int = 0) -> list[tuple[int, int, int]]:
    """Every run of empty lines on the page, as (grid column, first line, lines): below a column's
    lowest slot, and past the rule's gap between two stacked slots (counted as ``holes`` counts)."""
    found = []
    for c in range(columns):
        spans = sorted((p.line, p.bottom) for p in placements if p.column <= c < p.column + p.columns)
        if not spans:
            found.append((c, top, lines - top))
            continue
        if spans[0][0] - top - GAP_LINES > 0:
            found.append((c, top, spans[0][0] - top - GAP_LINES))
        for (_, above), (below, _) in zip(spans, spans[1:]):
            if below - above - GAP_LINES > 0:
                found.append((c, above + GAP_LINES, below - above - GAP_LINES))
        last = max(bottom for _, bottom in spans)
        if lines - last > 0:
            found.append((c, last, lines - last))
    return found
