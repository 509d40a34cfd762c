"""Typographic measurement of justified body text, read from a PDF (see /shared/TYPE.md).

On each line of body text (the house text face at the body size), read with pdfplumber's characters:

- **space ratio**: the sum of the line's inter-word gaps / (gaps x the natural space), the natural
  space being the space glyph's advance in the font file x size / unitsPerEm (PT Serif at 9 pt:
  2.187 pt); a gap is the distance from the last glyph of a word to the first glyph of the next;
- **justified**: the line's last glyph reaches a right edge of its column (x positions where at
  least 3 lines end); **past the edge**: it ends beyond that edge by more than 0.1 pt;
- **river**: wide gaps (at least 1.5 natural spaces) on consecutive lines of a column whose x-ranges
  overlap; a chain of 3 or more lines counts once;
- **ladder**: 3 or more consecutive lines of a column ending in a hyphen.

The same figures are made from the breaker's own lines (``figures``) for the fit report, where
reading every plate back would cost more than the compose.
"""

from __future__ import annotations

import statistics
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WIDE = 1.5
"""A gap at least this many natural spaces wide is wide (rivers)."""
LOOSE = 2.0
"""A line whose spaces are more than this many natural spaces is loose (the table's "> 2x")."""
PAST = 0.1
"""A line whose last glyph ends this far (points) beyond its column's edge is past the edge."""
EDGE_SLACK = 1.5
"""A line ending within this many points of an edge reaches it (is justified)."""
HYPHENS = "-\u2010\u00ad"


@dataclass(frozen=True)
class MeasuredLine:
    """One line of body text as measured."""

    page: int
    """1-based."""
    top: float
    x0: float
    x1: float
    text: str
    gaps: tuple[tuple[float, float], ...]
    """Each inter-word gap as (start, end) in points."""
    edge: float | None = None
    """The right edge its last glyph reaches (None: not justified)."""
    slot: str = ""

    @property
    def justified(self) -> bool:
        return self.edge is not None

    def ratio(self, natural: float) -> float | None:
        if not self.gaps:
            return None
        return sum(b - a for a, b in self.gaps) / (len(self.gaps) * natural)

    @property
    def past(self) -> float:
        return self.x1 - self.edge if self.edge is not None else 0.0


@dataclass
class Figures:
    """The table's figures for a set of lines (a story, a page, an issue)."""

    lines: int = 0
    justified: int = 0
    loose: int = 0
    median: float = 0.0
    rivers: int = 0
    past_edge: int = 0
    ladders: int = 0
    worst: list[dict] = field(default_factory=list)

    @property
    def loose_share(self) -> float:
        return self.loose / self.justified if self.justified else 0.0

    def to_json(self) -> dict:
        return {"lines": self.lines, "justified": self.justified, "loose": self.loose,
                "loose_share": round(self.loose_share, 4), "median_ratio": round(self.median, 3),
                "rivers": self.rivers, "past_edge": self.past_edge, "ladders": self.ladders,
                "worst": self.worst}


def natural_space(font: Path, size: float) -> float:
    """The advance of the space glyph of ``font`` at ``size`` points."""
    from fontTools.ttLib import TTFont

    with TTFont(str(font), lazy=True) as face:
        glyph = face.getBestCmap()[32]
        return face["hmtx"][glyph][0] * size / face["head"].unitsPerEm


def read_lines(pdf: Path, size: float = 9.0, font: str = "NW-Text", pages: Iterable[int] | None = None,
               exclude: Sequence[tuple[int, float, float, float, float]] = ()) -> list[MeasuredLine]:
    """The lines of body text (``font`` at ``size``) of ``pdf``, with their gaps and edges.

    ``exclude``: (page, x0, top, x1, bottom) areas left out (adverts)."""
    import pdfplumber

    out: list[MeasuredLine] = []
    with pdfplumber.open(str(pdf)) as document:
        for number, page in enumerate(document.pages, 1):
            if pages is not None and number not in pages:
                continue
            chars = [c for c in page.chars if font in c["fontname"] and abs(c["size"] - size) < 0.05
                     and c.get("upright", True)]
            areas = [a[1:] for a in exclude if a[0] == number]
            out += _page_lines(number, chars, areas)
    return out


def _page_lines(number: int, chars: list[dict], areas: list[tuple[float, float, float, float]]) -> list[MeasuredLine]:
    rows: dict[float, list[dict]] = defaultdict(list)
    for c in chars:
        rows[round(c["top"], 1)].append(c)
    for row in rows.values():
        row.sort(key=lambda c: c["x0"])
    # Two passes: lines cut at every gap wider than 8 pt give the column edges; then a gap is a column's
    # end if it has no space in it, or if the text before it ends at an edge (a trailing space).
    edges = _edges(_lines(number, [_split(row, lambda a, b, spaced: True) for row in rows.values()], areas))

    def at_edge(a: dict, b: dict, spaced: bool) -> bool:
        return not spaced or any(abs(a["x1"] - e) <= EDGE_SLACK for e in edges)

    return _with_edges(_lines(number, [_split(row, at_edge) for _, row in sorted(rows.items())], areas), edges)


def _split(row: list[dict], cut) -> list[list[dict]]:
    segments: list[list[dict]] = []
    current: list[dict] = []
    spaced, last = False, None
    for c in row:
        if c["text"].isspace():
            spaced = True
            continue
        if last is not None and c["x0"] - last["x1"] > 8.0 and cut(last, c, spaced):
            segments.append(current)
            current = []
        current.append(c)
        last, spaced = c, False
    if current:
        segments.append(current)
    return segments


def _lines(number: int, rows: list[list[list[dict]]], areas: list[tuple[float, float, float, float]]
           ) -> list[MeasuredLine]:
    lines = []
    for seg in (seg for row in rows for seg in row):
        x0, x1, top = seg[0]["x0"], seg[-1]["x1"], seg[0]["top"]
        mid = (x0 + x1) / 2
        if any(a[0] <= mid <= a[2] and a[1] <= top <= a[3] for a in areas):
            continue
        gaps = []
        text = seg[0]["text"]
        for a, b in zip(seg, seg[1:]):
            if b["x0"] - a["x1"] > 0.7:
                gaps.append((round(a["x1"], 3), round(b["x0"], 3)))
                text += " "
            text += b["text"]
        lines.append(MeasuredLine(number, round(top, 2), round(x0, 3), round(x1, 3), text, tuple(gaps)))
    return lines


def _edges(lines: list[MeasuredLine]) -> list[float]:
    """The right edges: x where at least 3 lines end (the most common end in its neighbourhood)."""
    ends = Counter(round(line.x1, 1) for line in lines)
    edges: list[float] = []
    for value, count in sorted(ends.items(), key=lambda kv: (-kv[1], kv[0])):
        if count < 3:
            break
        if all(abs(value - e) > 2 * EDGE_SLACK for e in edges):
            edges.append(value)
    return edges


def _with_edges(lines: list[MeasuredLine], edges: list[float]) -> list[MeasuredLine]:
    """Each line with the right edge its last glyph reaches, if any."""
    out = []
    for line in lines:
        near = [e for e in edges if line.x0 < e and -EDGE_SLACK <= e - line.x1 <= EDGE_SLACK]
        edge = min(near, key=lambda e: abs(e - line.x1)) if near else None
        out.append(MeasuredLine(line.page, line.top, line.x0, line.x1, line.text, line.gaps, edge, line.slot))
    return out


def assign_slots(lines: list[MeasuredLine], boxes: Sequence[tuple[str, int, float, float, float, float]]
                 ) -> list[MeasuredLine]:
    """Name each line's slot from ``boxes``: (slot, page, x0, top, x1, bottom)."""
    out = []
    for line in lines:
        mid = (line.x0 + line.x1) / 2
        slot = next((b[0] for b in boxes if b[1] == line.page and b[2] <= mid <= b[4]
                     and b[3] - 2 <= line.top <= b[5]), "")
        out.append(MeasuredLine(line.page, line.top, line.x0, line.x1, line.text, line.gaps, line.edge, slot))
    return out


def columns_of(lines: list[MeasuredLine], leading: float) -> list[list[MeasuredLine]]:
    """Runs of consecutive lines of one column (same page and right edge, one leading apart)."""
    groups: dict[tuple, list[MeasuredLine]] = defaultdict(list)
    for line in lines:
        if line.edge is not None:
            groups[(line.page, round(line.edge, 0))].append(line)
    runs = []
    for _, group in sorted(groups.items()):
        group.sort(key=lambda line: line.top)
        run = [group[0]]
        for line in group[1:]:
            if line.top - run[-1].top <= leading * 1.5:
                run.append(line)
            else:
                runs.append(run)
                run = [line]
        runs.append(run)
    return runs


def rivers(runs: list[list[MeasuredLine]], natural: float) -> int:
    """Chains of wide gaps overlapping on 3 or more consecutive lines (each chain once)."""
    count = 0
    for run in runs:
        parent: dict[tuple[int, int], tuple[int, int]] = {}

        def find(x: tuple[int, int], parent: dict = parent) -> tuple[int, int]:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        wide = [[g for g in line.gaps if g[1] - g[0] >= WIDE * natural] for line in run]
        for i, gaps in enumerate(wide):
            for j in range(len(gaps)):
                parent[(i, j)] = (i, j)
            if i == 0:
                continue
            for j, (a, b) in enumerate(gaps):
                for k, (c, d) in enumerate(wide[i - 1]):
                    if a < d and c < b:
                        parent[find((i, j))] = find((i - 1, k))
        spans: dict[tuple[int, int], set[int]] = defaultdict(set)
        for node in parent:
            spans[find(node)].add(node[0])
        count += sum(1 for rows in spans.values() if len(rows) >= 3)
    return count


def ladders(runs: list[list[MeasuredLine]], length: int = 3) -> int:
    """Runs of ``length`` or more consecutive lines ending in a hyphen."""
    count = 0
    for run in runs:
        streak = 0
        for line in run:
            streak = streak + 1 if line.text[-1:] in HYPHENS and len(line.text) > 1 else 0
            if streak == length:
                count += 1
    return count


def figures(lines: list[MeasuredLine], natural: float, leading: float, worst: int = 5) -> Figures:
    """The table's figures for ``lines`` (justified lines only, as the issue measures them)."""
    justified = [line for line in lines if line.justified]
    ratios = [(r, line) for line in justified if (r := line.ratio(natural)) is not None]  # those with gaps
    values = [r for r, _ in ratios]
    runs = columns_of(lines, leading)
    ranked = sorted(ratios, key=lambda x: -x[0])[:worst]
    return Figures(
        lines=len(lines), justified=len(justified), loose=sum(1 for r in values if r > LOOSE),
        median=statistics.median(values) if values else 0.0, rivers=rivers(runs, natural),
        past_edge=sum(1 for line in justified if line.past > PAST), ladders=ladders(runs),
        worst=[{"page": line.page, "slot": line.slot, "ratio": round(r, 2), "text": line.text}
               for r, line in ranked])


def table(rows: list[tuple[str, Figures]]) -> str:
    """The figures as the issue's table."""
    out = ["| | lines | > 2x | median | rivers 3+ | past edge | ladders 3+ |", "|---|---|---|---|---|---|---|"]
    for name, f in rows:
        out.append(f"| {name} | {f.justified} | {f.loose_share:.0%} | {f.median:.2f} | {f.rivers} | "
                   f"{f.past_edge} | {f.ladders} |")
    return "\n".join(out)


# ---- The same figures from the breaker's own records (the fit report; proof marks) --------------------


_KEPT: dict[int, tuple[weakref.ref, dict]] = {}
"""What was worked out for the last composition asked about (by its id, with a weak reference to it, so
that a composition gone, or another with its id, is never answered from here): the fit report asks
for its slots' figures twice, and the proofs for its lines again (0.1 s of the main process each time
on bench-16, which the workers wait for). Callers only read what they are given."""


def _entry(composition) -> dict:  # noqa: ANN001
    """What is kept for ``composition`` (by key), begun afresh if it is not the one kept."""
    entry = _KEPT.get(id(composition))
    if entry is None or entry[0]() is not composition:
        _KEPT.clear()  # one composition at a time: a long-lived process keeps nothing more
        entry = _KEPT[id(composition)] = (weakref.ref(composition), {})
    return entry[1]


def _kept(composition, key: tuple, make):  # noqa: ANN001
    kept = _entry(composition)
    if key not in kept:
        kept[key] = make()
    return kept[key]


def composed_lines(composition, leading: float) -> list[MeasuredLine]:  # noqa: ANN001 (compose.Composition)
    """Every body line the paragraph breaker set, where the plates draw it: page, top of its row, its
    column's left edge, its gaps (from the breaker's widths), named by slot. A line is justified
    unless it ends its paragraph. (What the PDF shows is measured by ``read_lines``; the two agree
    within a few hundredths of a point, which a test holds them to.)"""
    return _kept(composition, ("lines", leading), lambda: _composed_lines(composition, leading))


def _composed_lines(composition, leading: float, wanted=None) -> list[MeasuredLine]:  # noqa: ANN001
    """``composed_lines``; with ``wanted``, only the lines for which ``wanted(record, k)`` is true (the
    ``k``-th line of the paragraph ``record``), in the same order and made the same way."""
    slots = {(s.page, s.slot_id) for s in composition.slots}
    out: list[MeasuredLine] = []
    for number, pieces in enumerate(composition.pieces, 1):
        for piece in pieces:
            galley = composition.galleys[piece.galley][0]
            records = dict(galley.paragraphs)
            if not records:
                continue
            slot = _slot_of(piece.galley, number, slots)
            seen: dict[str, int] = {}
            inset = max(0.0, (piece.width - galley.width) / 2)
            for line in galley.lines:
                k = seen.get(line.block_id, 0)
                seen[line.block_id] = k + 1
                record = records.get(line.block_id)
                if record is None or not piece.first <= line.row < piece.end or \
                        wanted is not None and not wanted(record, k):
                    continue
                x0 = round(piece.x + inset, 3)
                top = round(piece.y + (line.row - piece.first) * leading, 2)
                last = k == record["lines"] - 1
                gaps = tuple((round(x0 + a, 3), round(x0 + b, 3)) for a, b in record["gaps"][k])
                width = galley.width if not last else galley.width * line.fill
                out.append(MeasuredLine(number, top, x0, round(x0 + width, 3), record["text"][k], gaps,
                                        None if last else round(x0 + galley.width, 3), slot))
    return out


def _slot_of(galley: str, page: int, slots: set[tuple[int, str]]) -> str:
    """The slot on ``page`` that draws rows of ``galley`` (its own, a continuation's, or its story's)."""
    for candidate in (galley, f"cont-{galley}", galley.split("-from-")[0]):
        if (page, candidate) in slots:
            return candidate
    return next((slot for p, slot in slots if p == page and slot.endswith(galley)), galley)


def natural_of(composition) -> float:  # noqa: ANN001
    """The natural space the breaker measured with (the body face's space at the body size)."""
    for galley, _ in composition.galleys.values():
        for _, record in galley.paragraphs:
            return record["space"]
    return 2.187


def leading_of(composition) -> float:  # noqa: ANN001
    """The body leading (a galley's row), read from the galleys' lines."""
    for galley, _ in composition.galleys.values():
        for a, b in zip(galley.lines, galley.lines[1:]):
            if b.row > a.row:
                return round((b.baseline - a.baseline) / (b.row - a.row), 3)
    return 10.5


def slot_typography(composition, leading: float | None = None) -> dict[str, dict]:  # noqa: ANN001
    """For each slot, the table's figures for its lines (from the breaker's records), its worst lines,
    and what the breaker could do for copy-fitting (paragraphs that can be set a line longer or
    shorter at acceptable spacing), for ``fit.json``."""
    return _kept(composition, ("slots", leading), lambda: _slot_typography(composition, leading))


def _slot_typography(composition, leading: float | None) -> dict[str, dict]:  # noqa: ANN001
    natural = natural_of(composition)
    leading = leading or leading_of(composition)
    lines = composed_lines(composition, leading)
    by_slot: dict[str, list[MeasuredLine]] = defaultdict(list)
    for line in lines:
        by_slot[line.slot].append(line)
    out = {}
    for fit in composition.slots:
        mine = by_slot.get(fit.slot_id, [])
        if not mine:
            continue
        figures_ = figures(mine, natural, leading)
        block = figures_.to_json()
        del block["past_edge"]  # measured from the PDF (the benchmark), and from the boxes here:
        galleys = {piece.galley for piece in composition.pieces[fit.page - 1]
                   if _slot_of(piece.galley, fit.page, {(fit.page, fit.slot_id)}) == fit.slot_id}
        records = [(key, record) for g in sorted(galleys) for key, record in composition.galleys[g][0].paragraphs]
        block["past_edge_pt"] = max((composition.galleys[g][0].overhang for g in galleys), default=0.0)
        block["emergency"] = [key for key, r in records if r["pass"] == 3]
        block["overfull_pt"] = round(sum(r["overfull"] for _, r in records), 2)
        block["longer"] = [key for key, r in records if r["longer"]]
        block["shorter"] = [key for key, r in records if r["shorter"]]
        block["loosened"] = [key for key, r in records for _ in range(int(r["loosened"]))]
        block["tracked_lines"] = sum(1 for _, r in records for t in r.get("tracked", ()) if t)
        block["scaled_lines"] = sum(1 for _, r in records for s in r.get("scaled", ()) if s != 1.0)
        out[fit.slot_id] = block
    return out


LOOSE_MARK = 2.5
"""Lines whose spaces are looser than this many natural spaces get a proof mark."""


def loose_lines(composition, leading: float) -> dict[int, list[tuple[MeasuredLine, float]]]:  # noqa: ANN001
    """By page, the justified lines still looser than ``LOOSE_MARK``, with their ratios.

    Only the lines that may be are placed (``_composed_lines``' ``wanted``): a line's ratio is the
    same wherever it is placed, but for the rounding of its gaps' places to 0.001 pt, so a line
    whose unplaced ratio is clearly below the mark is left out, and each other line is placed and
    measured as before. Placing all 4,600 lines of bench-16 took 0.05-0.12 s of the main process
    before the plates could start (the fit report places them all later, while the plates are made)."""
    natural = natural_of(composition)
    floor = (LOOSE_MARK - 0.01) * natural

    def maybe(record: dict, k: int) -> bool:
        gaps = record["gaps"][k]
        return k != record["lines"] - 1 and bool(gaps) and sum(b - a for a, b in gaps) > floor * len(gaps)

    lines = _entry(composition).get(("lines", leading))
    if lines is None:  # not all placed yet: only those that may be loose
        lines = _kept(composition, ("maybe loose", leading), lambda: _composed_lines(composition, leading, maybe))
    found: dict[int, list[tuple[MeasuredLine, float]]] = defaultdict(list)
    for line in lines:
        if line.justified:
            ratio = line.ratio(natural)
            if ratio is not None and ratio > LOOSE_MARK:
                found[line.page].append((line, ratio))
    return found
