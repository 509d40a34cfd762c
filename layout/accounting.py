"""Copy accounting: every word of every article is on the plates, visible, in order, in its own slot.

After the plates are made, each plate's text is read back from its content streams, as a printer's
RIP would paint it: the text matrix, fonts (their ``/ToUnicode`` maps and widths), clipping
(``W``/``W*`` paths and forms' ``/BBox``, as rectangles), the fill colour, the render mode, and what
is painted over the text afterwards. A glyph counts as printed only if its centre lies inside the
current clip and inside the page, it is drawn in a visible render mode and a colour darker than the
paper, and no opaque fill or image painted later covers it.

Each printed glyph belongs to the slot whose box holds it (the composer's boxes, ``PlateCopy``),
and to a zone of that slot: its top matter, its body frame, or the jump line below the frame. The
glyphs of a zone, read in order (columns left to right, lines top to bottom, left to right), are
compared with the text the slot was given (its headline, kicker, standfirst, captions, byline, body
blocks and jump lines, as Markdown rendered them). The comparison is of letters and digits only,
compatibility-normalised and case-folded: hyphenation, ligatures, typographic quotes and dashes,
small or all capitals and justification change nothing, while a word missing, clipped, hidden,
overprinted by another story or out of order does. Two slots' boxes on one page must not overlap.

The expected text comes from the composer's data structures (``copy_of``), never from how lines
were broken, so the check holds whatever the line breaker does."""

from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import pikepdf

from .units import IDENTITY, Matrix, multiply, transform

BOX_TOLERANCE = 1.0
"""Points a glyph's centre may lie outside its slot's box (rounding of the composer's boxes)."""
LIGHT = 0.06
"""Text whose ink (its darkest separation, 0-1) is below this is paper-coloured: hidden."""
MIN_SIZE = 2.0
"""Text smaller than this (points, as drawn) is not readable: hidden."""
SHOWN_WORDS = 8


@dataclass(frozen=True)
class SlotCopy:
    """One slot on a plate: where it is and the text it must show, zone by zone."""

    slot_id: str
    slug: str
    source: str
    """The article's file, as the user types it."""
    x: float
    y: float
    width: float
    head_height: float
    frame_height: float
    height: float
    """The box: x, y from the trim's top-left corner, in points; the frame starts below the top matter."""
    column_step: float
    """Column width plus gutter: where each body column starts."""
    top: str
    body: str
    bottom: str
    """The text of the top matter, the body and the jump line below the frame."""
    overset: bool = False
    """The body did not all fit (reported as overset): only what fitted is expected, in order."""


@dataclass(frozen=True)
class PlateCopy:
    """What a plate must show: its slots."""

    page: int
    slots: tuple[SlotCopy, ...]

    @property
    def digest(self) -> str:
        """A hash of what is expected (part of the key of a stored preflight result)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()


def _plain(value: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]*>", " ", value or ""))


def _block_text(block) -> str:  # type: ignore[no-untyped-def]
    """A body block's text as printed (an ordered list's items get their numbers)."""
    if block.tag == "ol":
        items = re.split(r"<li\b[^>]*>", block.html)
        return " ".join([_plain(items[0])] + [f"{number} {_plain(item)}" for number, item in
                                             enumerate(items[1:], start=1)])
    return block.text


def slot_copy(item, page: int, paper, overset: bool = False) -> SlotCopy:  # type: ignore[no-untyped-def]
    """What the composer put in slot ``item`` (a ``markup.SlotView``), as ``slot.html.j2`` prints it."""
    article = item.article
    if item.continued_from:
        top = [f"Continued from page {item.continued_from}", article.jumphead]
    else:
        top = [article.kicker, article.headline, article.standfirst]
        for photo in item.photos:
            top += [photo.caption, photo.credit]
        top += [article.byline, "Sample copy" if article.sample else ""]
    bottom = f"Continued on page {item.jump_to}" if item.jump_to else ""
    body = " ".join(_block_text(block) for block in item.blocks)
    depth = item.frame_height + (paper.leading if item.jump_to else 0.0)
    try:
        source = str(Path(article.path).relative_to(Path(article.path).parents[3]))
    except (ValueError, IndexError):
        source = str(article.path)
    return SlotCopy(item.slot_id, article.slug, source, item.x, item.y, item.width, item.head_height,
                    item.frame_height, item.head_height + depth, paper.column_width + paper.gutter,
                    " ".join(_plain(t) for t in top if t), body, bottom, overset)


def copy_of(composition, paper) -> list[PlateCopy]:  # type: ignore[no-untyped-def]
    """What every plate of ``composition`` must show (one ``PlateCopy`` a page)."""
    overset = {fit.slot_id for fit in composition.slots if fit.over > 0}
    return [PlateCopy(view.number, tuple(slot_copy(item, view.number, paper, item.slot_id in overset)
                                         for item in view.slots)) for view in composition.pages]


# --- reading a plate's text ------------------------------------------------------------------------

def key(text: str) -> str:
    """The letters and digits of ``text``, compatibility-normalised and case-folded."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


@dataclass
class _Font:
    to_unicode: dict[int, str]
    widths: dict[int, float]
    default_width: float
    two_bytes: bool


_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")


def _hex(token: bytes) -> int:
    return int(re.sub(rb"\s", b"", token) or b"0", 16)


def _unhex(token: bytes) -> str:
    digits = re.sub(rb"\s", b"", token)
    data = bytes.fromhex(digits.decode()) if len(digits) % 2 == 0 else b""
    try:
        return data.decode("utf-16-be")
    except UnicodeDecodeError:
        return "\ufffd"


def _cmap(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        tokens = _HEX.findall(section)
        for code, value in zip(tokens[0::2], tokens[1::2]):
            out[_hex(code)] = _unhex(value)
    for section in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in re.finditer(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f\s]*>)", section):
            low, high = _hex(line[1]), _hex(line[2])
            if high - low > 65535:
                continue
            if line[3].startswith(b"["):
                for offset, value in enumerate(_HEX.findall(line[3])):
                    out[low + offset] = _unhex(value)
            else:
                first = _unhex(line[3][1:-1])
                for offset in range(high - low + 1):
                    out[low + offset] = first[:-1] + chr(ord(first[-1]) + offset) if first else ""
    return out


def _font(font: pikepdf.Object) -> _Font:
    to_unicode: dict[int, str] = {}
    if "/ToUnicode" in font:
        to_unicode = _cmap(font.ToUnicode.read_bytes())
    widths: dict[int, float] = {}
    if font.get("/Subtype") == "/Type0":
        cid = font.DescendantFonts[0]
        default = float(cid.get("/DW", 1000))
        array = list(cid.get("/W", []))
        at = 0
        while at + 1 < len(array):
            first = int(array[at])
            if isinstance(array[at + 1], pikepdf.Array):
                for offset, width in enumerate(array[at + 1]):
                    widths[first + offset] = float(width)
                at += 2
            elif at + 2 < len(array):
                for code in range(first, int(array[at + 1]) + 1):
                    widths[code] = float(array[at + 2])
                at += 3
            else:
                break
        return _Font(to_unicode, widths, default, True)
    first = int(font.get("/FirstChar", 0))
    for offset, width in enumerate(font.get("/Widths", [])):
        widths[first + offset] = float(width)
    if not to_unicode:
        to_unicode = {code: bytes([code]).decode("latin-1") for code in range(256)}
    return _Font(to_unicode, widths, 0.0, False)


@dataclass(frozen=True)
class Glyph:
    """A glyph shown: its text, where its centre is (points from the trim's top-left), its size,
    whether it can be seen, and when it was painted (for what is painted over it later)."""

    text: str
    x: float
    y: float
    baseline: float
    size: float
    visible: bool
    order: int
    box: tuple[float, float, float, float]


Rect = tuple[float, float, float, float]
"""x0, y0, x1, y1 in user space (PDF, y up)."""


def _bounds(points: list[tuple[float, float]]) -> Rect:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _meet(a: Rect, b: Rect) -> Rect:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def _inside(rect: Rect, x: float, y: float) -> bool:
    return rect[0] - 0.01 <= x <= rect[2] + 0.01 and rect[1] - 0.01 <= y <= rect[3] + 0.01


def _ink(space: int, values: tuple[float, ...]) -> float:
    """How dark a colour is, 0 (paper) to 1."""
    if space == 1:
        return 1.0 - values[0] if values else 1.0
    if space == 3:
        return 1.0 - min(values) if len(values) == 3 else 1.0
    if space == 4:
        return max(values) if values else 1.0
    return 1.0  # patterns, separations ...: assumed visible


SPACES = {"/DeviceGray": 1, "/G": 1, "/DeviceRGB": 3, "/RGB": 3, "/DeviceCMYK": 4, "/CMYK": 4}
INITIAL = {1: (0.0,), 3: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0, 1.0)}


class PlateText:
    """Reads the glyphs a plate prints (``read``)."""

    def __init__(self) -> None:
        self.glyphs: list[Glyph] = []
        self.covers: list[tuple[int, Rect]] = []
        self.fonts: dict[tuple[int, int], _Font] = {}
        self.order = 0
        self.page: Rect = (0.0, 0.0, 0.0, 0.0)
        self.origin = (0.0, 0.0)

    def read(self, page: pikepdf.Page) -> list[Glyph]:
        """Every glyph ``page`` shows, in the order painted, with what covers it applied."""
        box = [float(v) for v in page.obj.get("/MediaBox")]
        trim = [float(v) for v in page.obj.get("/TrimBox", page.obj.get("/MediaBox"))]
        self.page = (min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3]))
        self.origin = (min(trim[0], trim[2]), max(trim[1], trim[3]))
        self._run(page.obj, page.obj.get("/Resources", pikepdf.Dictionary()), IDENTITY, self.page, {}, frozenset())
        covers = [c for c in self.covers if c[1][2] > c[1][0] and c[1][3] > c[1][1]]
        if not covers:
            return self.glyphs
        out = []
        for glyph in self.glyphs:
            x0, y0, x1, y1 = glyph.box
            hidden = any(order > glyph.order and r[0] <= x0 and r[1] <= y0 and r[2] >= x1 and r[3] >= y1
                         for order, r in covers)
            out.append(Glyph(glyph.text, glyph.x, glyph.y, glyph.baseline, glyph.size,
                             glyph.visible and not hidden, glyph.order, glyph.box) if hidden else glyph)
        return out

    def _font(self, resources: pikepdf.Object, name: str) -> _Font | None:
        fonts = resources.get("/Font")
        if fonts is None or name not in fonts:
            return None
        font = fonts[name]
        ident = font.objgen if font.is_indirect else (id(font), 0)
        if ident not in self.fonts:
            self.fonts[ident] = _font(font)
        return self.fonts[ident]

    def _run(self, stream: pikepdf.Object, resources: pikepdf.Object, ctm: Matrix, clip: Rect,
             colour: dict, seen: frozenset) -> None:
        if stream.is_indirect:
            if stream.objgen in seen:
                raise ValueError("a form draws itself")
            seen = seen | {stream.objgen}
        state = {"ctm": ctm, "clip": clip, "fill": colour.get("fill", (1, (0.0,))), "font": None, "size": 0.0,
                 "tc": 0.0, "tw": 0.0, "th": 1.0, "tl": 0.0, "rise": 0.0, "mode": 0}
        stack: list[dict] = []
        points: list[tuple[float, float]] = []
        subpaths = 0
        pending_clip = False
        tm = line = IDENTITY
        for operands, operator in pikepdf.parse_content_stream(stream):
            op = str(operator)
            if op == "q":
                stack.append(dict(state))
            elif op == "Q":
                if stack:
                    state = stack.pop()
            elif op == "cm":
                state["ctm"] = multiply(tuple(float(v) for v in operands), state["ctm"])  # type: ignore[arg-type]
            elif op in ("m", "l"):
                subpaths += op == "m"
                points.append(transform(state["ctm"], float(operands[0]), float(operands[1])))
            elif op == "c":
                points += [transform(state["ctm"], float(operands[i]), float(operands[i + 1])) for i in (0, 2, 4)]
            elif op in ("v", "y"):
                points += [transform(state["ctm"], float(operands[i]), float(operands[i + 1])) for i in (0, 2)]
            elif op == "re":
                x, y, w, h = (float(v) for v in operands)
                subpaths += 1
                points += [transform(state["ctm"], px, py) for px, py in ((x, y), (x + w, y), (x, y + h),
                                                                          (x + w, y + h))]
            elif op in ("W", "W*"):
                pending_clip = True
            elif op in ("f", "F", "f*", "B", "B*", "b", "b*", "n", "S", "s"):
                if points:
                    rect = _bounds(points)
                    if op in ("f", "F", "f*", "B", "B*", "b", "b*") and subpaths == 1:  # one shape, not a frame
                        self.order += 1
                        self.covers.append((self.order, _meet(rect, state["clip"])))
                    if pending_clip:
                        state["clip"] = _meet(state["clip"], rect)
                points, subpaths, pending_clip = [], 0, False
            elif op in ("g", "rg", "k"):
                state["fill"] = ({"g": 1, "rg": 3, "k": 4}[op], tuple(float(v) for v in operands))
            elif op == "cs":
                space = SPACES.get(str(operands[0]), 0)
                state["fill"] = (space, INITIAL.get(space, ()))
            elif op in ("sc", "scn"):
                if all(isinstance(v, int | float | pikepdf.Object) and not isinstance(v, pikepdf.Name)
                       for v in operands):
                    try:
                        state["fill"] = (state["fill"][0], tuple(float(v) for v in operands))
                    except (TypeError, ValueError):
                        state["fill"] = (0, ())
                else:
                    state["fill"] = (0, ())
            elif op == "BT":
                tm = line = IDENTITY
            elif op == "Tf":
                state["font"] = self._font(resources, str(operands[0]))
                state["size"] = float(operands[1])
            elif op == "Tc":
                state["tc"] = float(operands[0])
            elif op == "Tw":
                state["tw"] = float(operands[0])
            elif op == "Tz":
                state["th"] = float(operands[0]) / 100
            elif op == "TL":
                state["tl"] = float(operands[0])
            elif op == "Ts":
                state["rise"] = float(operands[0])
            elif op == "Tr":
                state["mode"] = int(operands[0])
            elif op == "Tm":
                tm = line = tuple(float(v) for v in operands)  # type: ignore[assignment]
            elif op in ("Td", "TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == "TD":
                    state["tl"] = -ty
                tm = line = multiply((1, 0, 0, 1, tx, ty), line)
            elif op == "T*":
                tm = line = multiply((1, 0, 0, 1, 0, -state["tl"]), line)
            elif op in ("Tj", "TJ", "'", '"'):
                if op in ("'", '"'):
                    if op == '"':
                        state["tw"], state["tc"] = float(operands[0]), float(operands[1])
                    tm = line = multiply((1, 0, 0, 1, 0, -state["tl"]), line)
                items = list(operands[-1]) if op == "TJ" else [operands[-1]]
                tm = self._show(items, state, tm)
            elif op == "Do":
                xobjects = resources.get("/XObject")
                if xobjects is None or str(operands[0]) not in xobjects:
                    continue
                xobject = xobjects[str(operands[0])]
                subtype = xobject.get("/Subtype")
                if subtype == "/Image":
                    self.order += 1
                    corners = [transform(state["ctm"], px, py) for px, py in ((0, 0), (1, 0), (0, 1), (1, 1))]
                    if "/SMask" not in xobject and not xobject.get("/ImageMask", False):
                        self.covers.append((self.order, _meet(_bounds(corners), state["clip"])))
                elif subtype == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
                    inner = multiply(matrix, state["ctm"])  # type: ignore[arg-type]
                    clip_rect = state["clip"]
                    if "/BBox" in xobject:
                        b = [float(v) for v in xobject.BBox]
                        clip_rect = _meet(clip_rect, _bounds([transform(inner, px, py) for px, py in
                                                              ((b[0], b[1]), (b[2], b[1]), (b[0], b[3]),
                                                               (b[2], b[3]))]))
                    self._run(xobject, xobject.get("/Resources", resources), inner, clip_rect,
                              {"fill": state["fill"]}, seen)

    def _show(self, items: list, state: dict, tm: Matrix) -> Matrix:
        font: _Font | None = state["font"]
        size, th = state["size"], state["th"]
        mode = state["mode"]
        visible_paint = mode not in (3, 7) and _ink(*state["fill"]) >= LIGHT
        ctm = state["ctm"]
        for item in items:
            if isinstance(item, pikepdf.String):
                data = bytes(item)
                if font is None:
                    continue
                codes = ([int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
                         if font.two_bytes else list(data))
                for code in codes:
                    width = font.widths.get(code, font.default_width) / 1000 * size
                    advance = (width + state["tc"] + (state["tw"] if code == 32 and not font.two_bytes else 0.0)) * th
                    text = font.to_unicode.get(code, "\ufffd")
                    if text.strip():
                        full = multiply(tm, ctm)
                        cx, cy = transform(full, width * th / 2, state["rise"] + size * 0.3)
                        x0, y0 = transform(full, 0, state["rise"] - size * 0.15)
                        x1, y1 = transform(full, width * th, state["rise"] + size * 0.65)
                        drawn = abs(full[3]) * size if full[1] == 0 else size * (full[0] ** 2 + full[1] ** 2) ** 0.5
                        visible = (visible_paint and drawn >= MIN_SIZE and _inside(state["clip"], cx, cy)
                                   and _inside(self.page, cx, cy))
                        self.order += 1
                        bx, by = transform(full, 0, 0)
                        self.glyphs.append(Glyph(text, cx - self.origin[0], self.origin[1] - cy,
                                                 self.origin[1] - by, drawn, visible, self.order,
                                                 (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))
                    tm = multiply((1, 0, 0, 1, advance, 0), tm)
            else:
                tm = multiply((1, 0, 0, 1, -float(item) / 1000 * size * th, 0), tm)
        return tm


# --- comparing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CopyProblem:
    """A slot whose text is not all on its plate as it should be."""

    page: int
    slot_id: str
    source: str
    message: str


def _zone_text(glyphs: list[Glyph], columns_from: float | None, step: float) -> str:
    """The glyphs' text in reading order: by column (if ``columns_from``), line, then left to right."""
    def column(glyph: Glyph) -> int:
        return int((glyph.x - columns_from) // step) if columns_from is not None and step > 0 else 0
    out = []
    by_column: dict[int, list[Glyph]] = {}
    for glyph in glyphs:
        by_column.setdefault(column(glyph), []).append(glyph)
    for number in sorted(by_column):
        ordered = sorted(by_column[number], key=lambda g: (g.baseline, g.x))
        lines: list[list[Glyph]] = []
        for glyph in ordered:
            if lines and glyph.baseline - lines[-1][0].baseline < 0.1 * min(glyph.size, lines[-1][0].size) + 0.3:
                lines[-1].append(glyph)
            else:
                lines.append([glyph])
        for row in lines:
            out.extend(g.text for g in sorted(row, key=lambda g: g.x))
    return "".join(out)


def _words_at(text: str, position: int) -> str:
    """The words of ``text`` from the one holding its ``position``-th letter or digit."""
    count = 0
    words = text.split()
    for index, word in enumerate(words):
        count += len(key(word))
        if count > position:
            shown = " ".join(words[index:index + SHOWN_WORDS])
            return shown + (" ..." if index + SHOWN_WORDS < len(words) else "")
    return ""


def _compare(slot: SlotCopy, zone: str, expected: str, found: str, drawn: str) -> str | None:
    """What is wrong with a zone that should show ``expected`` and shows ``found`` (``drawn``: with
    what is drawn but cannot be seen), or None."""
    want, got = key(expected), key(found)

    def fits(text: str) -> bool:
        return text == want or (zone == "body" and slot.overset and want.startswith(text))
    if fits(got):
        return None
    at = len(_common(want, got))
    if at == len(want):
        extra = got[at:at + 40]
        return (f"{zone}: text that is not this article's is printed in its box after "
                f"'{_words_at(expected, max(at - 1, 0))}' (overprinted by another slot? '{extra}...')")
    if fits(key(drawn)):
        return (f"{zone}: words drawn but hidden (clipped, covered, paper-coloured or invisible), "
                f"from: '{_words_at(expected, at)}'")
    return f"{zone}: words missing, clipped or out of place, from: '{_words_at(expected, at)}'"


def _common(a: str, b: str) -> str:
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return a[:low]


def account(path: Path, plate: PlateCopy) -> list[CopyProblem]:
    """Every slot of ``plate`` whose text the plate at ``path`` does not show as it should."""
    with pikepdf.open(path) as pdf:
        if len(pdf.pages) != 1:
            return [CopyProblem(plate.page, "", "", f"the plate has {len(pdf.pages)} pages, not 1")]
        glyphs = PlateText().read(pdf.pages[0])
    problems = []
    slots = plate.slots
    for index, slot in enumerate(slots):
        for other in slots[index + 1:]:
            if (slot.x < other.x + other.width - BOX_TOLERANCE and other.x < slot.x + slot.width - BOX_TOLERANCE
                    and slot.y < other.y + other.height - BOX_TOLERANCE
                    and other.y < slot.y + slot.height - BOX_TOLERANCE):
                problems.append(CopyProblem(plate.page, slot.slot_id, slot.source,
                                            f"its box overlaps {other.slot_id}'s ({other.source}): "
                                            "two stories would be printed over each other"))
    zones: dict[str, dict[str, list[Glyph]]] = {slot.slot_id: {"top": [], "body": [], "bottom": []} for slot in slots}
    t = BOX_TOLERANCE
    for glyph in glyphs:
        for slot in slots:
            if slot.x - t <= glyph.x <= slot.x + slot.width + t and slot.y - t <= glyph.y <= slot.y + slot.height + t:
                if glyph.y < slot.y + slot.head_height:
                    zones[slot.slot_id]["top"].append(glyph)
                elif glyph.y <= slot.y + slot.head_height + slot.frame_height:
                    zones[slot.slot_id]["body"].append(glyph)
                else:
                    zones[slot.slot_id]["bottom"].append(glyph)
                break
    for slot in slots:
        found = zones[slot.slot_id]
        for zone, expected, glyphs_in, columns in (("top matter", slot.top, found["top"], None),
                                                   ("body", slot.body, found["body"], slot.x),
                                                   ("jump line", slot.bottom, found["bottom"], None)):
            shown = _zone_text([g for g in glyphs_in if g.visible], columns, slot.column_step)
            message = _compare(slot, zone, expected, shown, _zone_text(glyphs_in, columns, slot.column_step))
            if message:
                problems.append(CopyProblem(plate.page, slot.slot_id, slot.source, message))
                break
    return problems


def copy_findings(path: Path, plate: PlateCopy) -> list:
    """The preflight findings of copy accounting for the plate at ``path`` (``account``)."""
    from .preflight import Finding

    try:
        problems = account(path, plate)
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        return [Finding(path.name, "copy", False, f"page {plate.page}: the plate's text could not be read "
                                                  f"({type(error).__name__}): is the PDF damaged?")]
    if not problems:
        words = sum(len((s.top + " " + s.body + " " + s.bottom).split()) for s in plate.slots)
        return [Finding(path.name, "copy", True, f"every word on its plate, in its slot, visible ({words} words)")]
    return [Finding(path.name, "copy", False, f"page {p.page}: {p.source} (slot {p.slot_id}): {p.message}")
            for p in problems]


def copies_json(copies: list[PlateCopy]) -> bytes:
    """What each plate must show, as JSON (kept with the plates, for ``layout check``)."""
    return json.dumps([asdict(copy) for copy in copies], ensure_ascii=False).encode()


def copies_from_json(data: bytes) -> list[PlateCopy]:
    """``copies_json``'s plates back (raises ValueError if ``data`` is not what it writes)."""
    try:
        return [PlateCopy(int(plate["page"]), tuple(SlotCopy(**slot) for slot in plate["slots"]))
                for plate in json.loads(data)]
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a copy account: {error}") from None
