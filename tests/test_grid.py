"""Stage 3a: column-order placement on the page grid."""

from layout.composing.grid import GAP_LINES, Request, holes, place


def _where(requests, columns=5, lines=100, top=0):
    return [(p.column, p.line, p.depth) for p in place(requests, columns, lines, top)]


def test_fill_down_then_across():
    # A 5-column lead, then 3 + 2 side by side under it; the next 2-column story goes under the
    # shorter 2 (highest free place), a 3-column one under the 3 (leftmost of equal heights).
    requests = [Request(5, 4, None, 30), Request(3, 3, 20, 0), Request(2, 3, 10, 0), Request(2, 2, 5, 0),
                Request(3, 0, 5, 0)]
    under = 34 + GAP_LINES
    assert _where(requests) == [(0, 0, 30), (0, under, 20), (3, under, 10), (3, under + 13 + GAP_LINES, 5),
                                (0, under + 23 + GAP_LINES, 5)]


def test_leftmost_on_ties_and_highest_first():
    requests = [Request(2, 0, 50, 0), Request(1, 0, 10, 0), Request(2, 0, 10, 0)]
    assert _where(requests) == [(0, 0, 50), (2, 0, 10), (3, 0, 10)]


def test_natural_depth_is_cut_to_the_space_left():
    (placement,) = place([Request(5, 10, None, 200)], 5, 100, top=15)
    assert placement.line == 15 and placement.depth == 75 and placement.wanted == 200


def test_holes_count_empty_lines_below_slots():
    placements = place([Request(3, 0, 60, 0)], 5, 100)
    assert holes(placements, 5, 100) == [40, 40, 40, 100, 100]


def test_depth_zero_reaches_the_foot_of_the_page():
    placements = place([Request(5, 4, None, 30), Request(3, 3, 0, 10), Request(2, 2, 0, 10)], 5, 100)
    assert [(p.line, p.depth, p.bottom) for p in placements[1:]] == [(35, 62, 100), (35, 63, 100)]
