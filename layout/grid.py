"""Stage 3a: place slots on a page's column grid in column order (fill down, then across)."""

from __future__ import annotations

from dataclasses import dataclass

GAP_LINES = 1
"""Grid lines left between a slot and the one stacked below it (a rule is drawn there)."""


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

    @property
    def bottom(self) -> int:
        """The grid line just below the slot."""
        return self.line + self.head_lines + self.depth


def place(requests: list[Request], columns: int, lines: int, top: int = 0) -> list[Placement]:
    """Place each request at the highest free position ``columns`` wide, leftmost on ties.

    ``top`` is the first grid line free for stories (below a front-page nameplate).
    A slot's body is cut to the space left below it; the caller reports that as overset.
    """
    skyline = [top] * columns
    placements = []
    for request in requests:
        width = min(request.columns, columns)
        starts = range(columns - width + 1)
        column = min(starts, key=lambda c: (max(skyline[c:c + width]), c))
        line = max(skyline[column:column + width])
        room = max(0, lines - line - request.head_lines)
        wanted = request.depth if request.depth is not None else request.natural
        wanted = wanted or room
        depth = min(wanted, room)
        placement = Placement(column, line, width, request.head_lines, depth, wanted)
        placements.append(placement)
        for c in range(column, column + width):
            skyline[c] = placement.bottom + GAP_LINES
    return placements


def holes(placements: list[Placement], columns: int, lines: int, top: int = 0) -> list[int]:
    """Return, for each grid column, the empty lines left below its lowest slot."""
    bottom = [top] * columns
    for p in placements:
        for c in range(p.column, p.column + p.columns):
            bottom[c] = max(bottom[c], p.bottom)
    return [lines - b if b > top else lines - top for b in bottom]
