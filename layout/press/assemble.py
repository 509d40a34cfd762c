"""Stage 3 (writing): draw each column's rows of a galley onto its plate.

WeasyPrint lays out the page itself (furniture, heads, photos, rules, empty body frames) and each
story's galley (see ``composing/galley.py``). This stage reads the galley's content stream, keeps, for each
column, the text and rules of the column's rows (every other drawing is dropped, so no hidden text
is left in the PDF) and places them on the page as a Form XObject moved to the column's place. The
galley's fonts go with it, as the form's resources.

The content streams WeasyPrint 70 writes have one operator a line, which is what is parsed here;
anything else is refused (the version is pinned).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import pikepdf

from ..base.units import IDENTITY, Matrix, multiply, transform
from ..composing.galley import Galley
from ..errors import RenderError

STATE = {b"q", b"Q", b"cm", b"w", b"J", b"j", b"M", b"d", b"ri", b"i", b"gs", b"CS", b"cs", b"SC", b"SCN",
         b"sc", b"scn", b"G", b"g", b"RG", b"rg", b"K", b"k", b"BT", b"ET", b"Tc", b"Tw", b"Tz", b"TL",
         b"Tf", b"Tr", b"Ts", b"BMC", b"BDC", b"EMC", b"MP", b"DP"}
PATH = {b"m", b"l", b"c", b"v", b"y", b"re", b"h"}
PAINT = {b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"n"}
CLIP = {b"W", b"W*"}
SHOW = {b"TJ", b"Tj"}
CLIP_MARGIN = 2.0
"""Points the form's box reaches beyond the column's rows and width (descenders, rules' ends)."""


@dataclass(frozen=True)
class Piece:
    """Rows of one galley set in one column of a page."""

    galley: str
    """Slot id of the galley."""
    first: int
    end: int
    """Rows [first, end) of the galley."""
    x: float
    y: float
    """Left of the column and top of its first row, in points from the trim's top-left corner."""
    width: float
    """Width of the column, in points."""


@dataclass(frozen=True)
class ParsedGalley:
    """A galley's content stream, a line an operator, each painting line with its grid row."""

    height: float
    """Height of the galley sheet, in points."""
    lines: tuple[bytes, ...]
    rows: tuple[int | None, ...]
    """Row of each line, or None for state that every column keeps."""


def galley_pdf(pdf: bytes) -> pikepdf.Pdf:
    """A galley's PDF, opened (each galley is written as a PDF of its own, one page)."""
    return pikepdf.Pdf.open(io.BytesIO(pdf))


def contents(page: pikepdf.Page) -> bytes:
    """A page's content, its streams joined."""
    found = page.obj.get("/Contents")
    if found is None:
        return b""
    if isinstance(found, pikepdf.Array):
        return b"\n".join(part.read_bytes() for part in found)
    return found.read_bytes()


def parse(page: pikepdf.Page, galley: Galley, leading: float) -> ParsedGalley:
    """Read the galley's content stream (``page``, the page of its ``galley_pdf``) and give each
    text and path its grid row."""
    height = float(page.obj.get("/TrimBox", page.MediaBox)[3])  # with bleed, the media box is larger
    lines = [line for line in contents(page).split(b"\n") if line.strip()]
    scaled = {row: (scale, left) for row, scale, left in galley.scaled}
    rows: list[int | None] = []
    stack: list[Matrix] = []
    ctm = IDENTITY
    text_row: int | None = None
    path: list[int] = []  # indexes of the current path's lines
    points: list[float] = []

    def row_of(y_user: float) -> int:
        return int((height - y_user - galley.top) // leading)

    for index, line in enumerate(lines):
        parts = line.rsplit(None, 1)
        operator = parts[-1]
        operands = parts[0].split() if len(parts) > 1 and operator not in SHOW else []
        rows.append(None)
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q":
            ctm = stack.pop() if stack else ctm
        elif operator == b"cm":
            m = [float(v) for v in operands]
            ctm = multiply((m[0], m[1], m[2], m[3], m[4], m[5]), ctm)
        elif operator == b"Tm":
            e, f = float(operands[4]), float(operands[5])
            text_row = row_of(ctm[1] * e + ctm[3] * f + ctm[5])
            rows[-1] = text_row
            if text_row in scaled:  # a glyph-scaled line: its text matrix scaled from its box's left edge
                m = [float(v) for v in operands]
                lines[index] = _written(multiply((m[0], m[1], m[2], m[3], m[4], m[5]),
                                                 _scaling(ctm, *scaled[text_row]))) + b" Tm"
        elif operator in SHOW:
            rows[-1] = text_row
        elif operator in PATH:
            path.append(index)
            numbers = [float(v) for v in operands]
            if operator == b"re":
                x, y, w, h = numbers
                points += [transform(ctm, x, y)[1], transform(ctm, x + w, y + h)[1]]
            else:
                points += [transform(ctm, numbers[i], numbers[i + 1])[1] for i in range(0, len(numbers) - 1, 2)]
        elif operator in CLIP:
            path.append(index)
        elif operator in PAINT:
            path.append(index)
            row = row_of((min(points) + max(points)) / 2) if points else None
            for i in path:
                rows[i] = row
            if row in scaled and row_of(min(points)) == row_of(max(points)) == row:
                # drawn within a glyph-scaled line (an underline): scaled with its glyphs
                for i in path:
                    lines[i] = _scaled_path(lines[i], _scaling(ctm, *scaled[row]))
            path, points = [], []
        elif operator not in STATE:
            raise RenderError(f"the galley of {galley.slot_id} has a drawing layout cannot place "
                              f"({operator.decode(errors='replace')!r}): set the body without it")
    return ParsedGalley(height, tuple(lines), tuple(rows))


def _scaling(ctm: Matrix, scale: float, left: float) -> Matrix:
    """In the user space of ``ctm``, the horizontal scaling by ``scale`` from ``left`` (points from the
    galley sheet's left edge) that ``transform: scaleX(); transform-origin: 0 0`` on the line's box
    would draw: ctm x S x ctm^-1, S the scaling in the sheet's space."""
    a, b, c, d, e, f = ctm
    det = a * d - b * c
    inverse = (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)
    return multiply(multiply(ctm, (scale, 0.0, 0.0, 1.0, left * (1 - scale), 0.0)), inverse)


def _written(values: Sequence[float]) -> bytes:
    """Numbers as a content stream's operands (six decimals at most, no trailing zeros)."""
    return " ".join(f"{v:.6f}".rstrip("0").rstrip(".") or "0" for v in values).encode()


def _scaled_path(line: bytes, m: Matrix) -> bytes:
    """A path operator's line with its points through ``m`` (a rectangle only if ``m`` keeps its
    sides upright, as a horizontal scaling does)."""
    parts = line.split()
    operator, numbers = parts[-1], [float(v) for v in parts[:-1]]
    if operator == b"re":
        if m[1] or m[2]:
            raise RenderError("a rectangle on a glyph-scaled line cannot be scaled: set glyph_scaling to 0")
        x, y, w, h = numbers
        moved = [m[0] * x + m[4], m[3] * y + m[5], m[0] * w, m[3] * h]
    elif operator in PATH:
        moved = []
        for i in range(0, len(numbers) - 1, 2):
            moved += transform(m, numbers[i], numbers[i + 1])
    else:  # clip or paint: no points
        return line
    return _written(moved) + b" " + operator


def column_content(parsed: ParsedGalley, first: int, end: int) -> bytes:
    """The galley's content with only rows [first, end) painted (all graphics state kept)."""
    return b"\n".join(line for line, row in zip(parsed.lines, parsed.rows)
                      if row is None or first <= row < end) + b"\n"


def draw(pdf: pikepdf.Pdf, page: pikepdf.Page, pieces: list[Piece], galley_pages: dict[str, pikepdf.Page],
         parsed: dict[str, ParsedGalley], galleys: dict[str, Galley], leading: float) -> None:
    """Draw each piece's rows in its column on ``page`` (a page of ``pdf``); ``galley_pages`` holds
    each galley's page."""
    if not pieces:
        return
    trim = [float(v) for v in page.obj.get("/TrimBox", page.MediaBox)]
    left, top = min(trim[0], trim[2]), max(trim[1], trim[3])
    resources: dict[str, pikepdf.Object] = {}
    if "/XObject" not in page.Resources:
        page.Resources.XObject = pikepdf.Dictionary()
    xobjects = page.Resources.XObject
    calls = [b"q"]
    for number, piece in enumerate(pieces):
        galley, source = galleys[piece.galley], parsed[piece.galley]
        if piece.galley not in resources:
            resources[piece.galley] = pdf.make_indirect(_resources(pdf, galley_pages[piece.galley], source))
        row_top = galley.top + piece.first * leading
        tx = left + piece.x - galley.left
        ty = top - piece.y + row_top - source.height
        form = pdf.make_stream(
            zlib.compress(column_content(source, piece.first, piece.end)), Filter=pikepdf.Name.FlateDecode,
            Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
            BBox=_numbers([galley.left - CLIP_MARGIN, source.height - galley.top - piece.end * leading - CLIP_MARGIN,
                           galley.left + piece.width + CLIP_MARGIN, source.height - row_top + CLIP_MARGIN]),
            Matrix=_numbers([1, 0, 0, 1, tx, ty]), Resources=resources[piece.galley])
        name = f"/NWcol{number}"
        xobjects[name] = form
        calls.append(f"{name} Do".encode())
    calls.append(b"Q")
    page.obj.Contents = pdf.make_stream(
        zlib.compress(b"q\n" + contents(page) + b"\nQ\n" + b"\n".join(calls) + b"\n"),
        Filter=pikepdf.Name.FlateDecode)


def _resources(pdf: pikepdf.Pdf, page: pikepdf.Page, parsed: ParsedGalley) -> pikepdf.Dictionary:
    """The galley page's resources, copied into ``pdf``, without the colour spaces it never uses
    (WeasyPrint declares two Lab spaces on every page, which a PDF/X preflight would report)."""
    out = pikepdf.Dictionary()
    for key, value in page.Resources.items():
        if key == "/ColorSpace":
            used = {name: _copied(pdf, space) for name, space in value.items()
                    if any(line.endswith((f"{name} cs".encode(), f"{name} CS".encode())) for line in parsed.lines)}
            if used:
                out[key] = pikepdf.Dictionary(used)
        else:
            out[key] = _copied(pdf, value)
    return out


def _copied(pdf: pikepdf.Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """``value`` (from another PDF) copied into ``pdf`` with what it refers to."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return pdf.copy_foreign(value)
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copied(pdf, item) for key, item in value.items()})
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copied(pdf, item) for item in value])
    return value


def _numbers(values: list[float]) -> pikepdf.Array:
    return pikepdf.Array([int(v) if float(v).is_integer() else round(float(v), 4) for v in values])
