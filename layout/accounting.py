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

import bisect
import hashlib
import html
import itertools
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import pikepdf

from .units import IDENTITY, Matrix, multiply, transform

BOX_TOLERANCE = 2.5
"""Points a glyph's centre may lie outside its slot's box: a justified line may overhang its column a
little, and a column's drawing is clipped 2 pt beyond it."""
LIGHT = 0.06
"""Text whose ink (its darkest separation, 0-1) is below this is paper-coloured: hidden."""
MIN_SIZE = 2.0
"""Text smaller than this (points, as drawn) is not readable: hidden."""
INK_TOLERANCE = 3.0
"""Points a slot's pictures and boxes may reach beyond its box (a body column's drawing is clipped
2 pt beyond its rows, for descenders)."""
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
    jumped: bool = False
    """The story runs on in another slot (it jumps, or is a continuation): its body is compared over
    all its slots together."""
    insets: tuple[tuple[float, float, float, float, str], ...] = ()
    """Photos set in the body (x, y, width, height of each box, from the trim's top-left, and the text
    of its caption): the body runs beside and below them."""
    supplied: bool = False
    """A supplied advert: its PDF is drawn into the box; only that nothing else prints there is checked."""


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
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", value or "")).split())


def _block_text(block) -> str:
    """A body block's text as printed: the items of ordered lists get their numbers (list markers
    are drawn as text), nested lists numbered on their own."""
    if "<ol" not in block.html and block.tag != "ol":
        return block.text
    try:
        root = ET.fromstring(f"<{block.tag}>{block.html}</{block.tag}>")
    except ET.ParseError:
        return block.text
    parts: list[str] = []

    def walk(element: ET.Element) -> None:
        number = int(element.get("start", "1")) if element.tag == "ol" and element.get("start", "1").isdigit() else 1
        parts.append(element.text or "")
        for child in element:
            if element.tag == "ol" and child.tag == "li":
                parts.append(f" {number} ")
                number += 1
            walk(child)
            parts.append(child.tail or "")

    walk(root)
    return "".join(parts)


def _rendered(item, paper) -> tuple[str, str] | None:
    """The text of a slot's top matter and of what follows its body frame (the jump line), from the
    templates that print them (so that the account follows any change to them); None if the
    templates cannot be called so."""
    try:
        from .markup import _ENV

        module = _ENV.get_template("slot.html.j2").module
        top = _plain(str(module.top_matter(item, paper)))  # type: ignore[attr-defined]  # the template's macro
        whole = str(module.slot_box(item, paper, False))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the templates changed shape: the account's own copy is used
        return None
    frame = re.search(r'<div class="frame"[^>]*>\s*</div>', whole)
    tail = whole[frame.end():] if frame else ""
    after = re.sub(r'<div class="inset-box".*?</figure>\s*</div>', " ", tail, flags=re.S)
    return top, _plain(after)  # (photos set in the body are accounted for on their own: ``_insets``)


def _insets(item) -> tuple[tuple[float, float, float, float, str], ...]:
    """The boxes of the photos set in ``item``'s body, and their captions as printed."""
    out = []
    for inset in getattr(item, "insets", ()):
        try:
            from .markup import _ENV

            text = _plain(str(_ENV.get_template("slot.html.j2").module.inset_figure(inset, item)))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the templates changed shape: the caption and credit as given
            text = _plain(f"{inset.photo.caption} {inset.photo.credit}")
        out.append((item.x, item.y + item.head_height + inset.top, inset.width, inset.height, text))
    return tuple(out)


def slot_copy(item, page: int, paper, overset: bool = False) -> SlotCopy:
    """What the composer put in slot ``item`` (a ``markup.SlotView``), as ``slot.html.j2`` prints it."""
    article = item.article
    rendered = _rendered(item, paper)
    if rendered is not None:
        top, bottom = [rendered[0]], rendered[1]
    elif item.continued_from:
        top = [f"Continued from page {item.continued_from}", article.jumphead]
    else:
        top = [article.kicker, article.headline, article.standfirst]
        for photo in item.photos:
            top += [photo.caption, photo.credit]
        top += [article.byline, "Sample copy" if article.sample else ""]
    if rendered is None:
        bottom = f"Continued on page {item.jump_to}" if item.jump_to else ""
    body = " ".join(_block_text(block) for block in item.blocks)
    depth = item.frame_height + (paper.leading if item.jump_to else 0.0)
    try:
        source = str(Path(article.path).relative_to(Path(article.path).parents[3]))
    except (ValueError, IndexError):
        source = str(article.path)
    return SlotCopy(item.slot_id, article.slug, source, item.x, item.y, item.width, item.head_height,
                    item.frame_height, item.head_height + depth, paper.column_width + paper.gutter,
                    " ".join(_plain(t) for t in top if t), body, bottom, overset,
                    bool(item.jump_to or item.continued_from), _insets(item),
                    bool(getattr(item, "supplied", 0)))


def copy_of(composition, paper) -> list[PlateCopy]:
    """What every plate of ``composition`` must show (one ``PlateCopy`` a page)."""
    overset = {fit.slot_id for fit in composition.slots if fit.over > 0}
    return [PlateCopy(view.number, tuple(slot_copy(item, view.number, paper, item.slot_id in overset)
                                         for item in view.slots)) for view in composition.pages]


# --- reading a plate's text ------------------------------------------------------------------------

def key(text: str) -> str:
    """The letters and digits of ``text``, compatibility-normalised and case-folded."""
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", text).casefold()))


@dataclass
class _Font:
    to_unicode: dict[int, str]
    widths: dict[int, float]
    default_width: float
    two_bytes: bool
    glyphs: dict[bytes, tuple[float, str]] = field(default_factory=dict)
    """A two-byte font's glyphs by their code in hex (as a TJ's strings are written): the width, and
    the text if it is not blank (else "")."""

    def glyph(self, code: int) -> tuple[float, str]:
        """The width and (non-blank) text of glyph ``code``."""
        text = self.to_unicode.get(code, "\ufffd")
        return self.widths.get(code, self.default_width), text if text.strip() else ""


_TOKEN = re.compile(rb"<([0-9A-Fa-f]*)>|([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))|(\([^()\\]*\))")
_PLAIN = b"0123456789abcdefABCDEF<>[]() .+-"


def _tokens(operand: pikepdf.Object, array: bool) -> list[tuple[bytes, bytes, bytes]] | None:
    """A text-showing operand's strings and numbers, tokenized from how it is written (hex strings,
    literal strings without escapes, numbers), each as (hex digits, number, literal string with its
    parentheses); None if it holds anything else (it is then read item by item)."""
    if not isinstance(operand, pikepdf.Array if array else pikepdf.String):
        return None
    unparsed = operand.unparse()
    written = unparsed.replace(b"()", b"")  # empty strings (WeasyPrint writes one between glyphs) show nothing
    if written.translate(None, _PLAIN):
        return None
    tokens = _TOKEN.findall(written)
    empty = (len(unparsed) - len(written)) // 2
    return tokens if len(tokens) + empty == (len(operand) if array else 1) else None


_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")


_WHITE = b" \t\n\r\f\v"
"""What ``\\s`` matches in a bytes pattern."""


def _hex(token: bytes) -> int:
    return int(token.translate(None, _WHITE) or b"0", 16)


def _unhex(token: bytes) -> str:
    digits = token.translate(None, _WHITE)
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


class Run(NamedTuple):
    """Glyphs shown in one go on one baseline (a string of a ``TJ``): each glyph's text, the x of its
    centre and whether it can be seen; where the run is (points from the trim's top-left), its size,
    and when it was painted (for what is painted over it later)."""

    texts: tuple[str, ...]
    xs: tuple[float, ...]
    visible: tuple[bool, ...]
    y: float
    """The centre of the run's glyphs, from the trim's top."""
    baseline: float
    size: float
    order: int
    spans: tuple[tuple[float, float], ...]
    """Each glyph's left and right, in user space (for what covers it)."""
    band: tuple[float, float]
    """The run's bottom and top, in user space."""

    def part(self, index: int) -> Run:
        """The run of glyph ``index`` alone."""
        return Run((self.texts[index],), (self.xs[index],), (self.visible[index],), self.y, self.baseline,
                   self.size, self.order, (self.spans[index],), self.band)


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
        self.glyphs: list[Run] = []
        self.covers: list[tuple[int, Rect]] = []
        self.fonts: dict[tuple[int, int], _Font] = {}
        self.order = 0
        self.page: Rect = (0.0, 0.0, 0.0, 0.0)
        self.origin = (0.0, 0.0)

    def read(self, page: pikepdf.Page) -> list[Run]:
        """Every glyph ``page`` shows, in the order painted, with what covers it applied."""
        box = [float(v) for v in page.mediabox]  # inherited from the page tree if need be
        trim = [float(v) for v in page.trimbox]
        self.page = (min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3]))
        self.origin = (min(trim[0], trim[2]), max(trim[1], trim[3]))
        self._run(page.obj, page.obj.get("/Resources", pikepdf.Dictionary()), IDENTITY, self.page, {}, frozenset())
        # What can hide a glyph: a fill at least as tall as small type (not a rule), painted after it.
        covers = sorted((order, r) for order, r in self.covers if r[2] - r[0] >= 1.0 and r[3] - r[1] >= 3.0)
        if not covers:
            return self.glyphs
        orders = [order for order, _ in covers]
        out = []
        for run in self.glyphs:
            later = [r for _, r in covers[bisect.bisect_right(orders, run.order):]
                     if r[1] <= run.band[0] and r[3] >= run.band[1]]
            if later:
                run = run._replace(visible=tuple(shown and not any(r[0] <= left and r[2] >= right for r in later)
                                                 for shown, (left, right) in zip(run.visible, run.spans)))
            out.append(run)
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

    def _run(self, stream: pikepdf.Object, resources: pikepdf.Object, ctm: Matrix, clip: Rect,  # noqa: C901 (t13acct is rewriting copy accounting; to split after the merge)
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
        for operands, operator in pikepdf.parse_content_stream(stream):  # type: ignore[misc]  # they unpack
            op = str(operator)
            if op == "TJ" or op == "Tj":  # the commonest operators first
                tm = self._show(operands[-1], op == "TJ", state, tm)
            elif op == "Tm":
                tm = line = tuple(map(float, operands))  # type: ignore[assignment]
            elif op == "q":
                stack.append(dict(state))
            elif op == "Q":
                if stack:
                    state = stack.pop()
            elif op == "cm":
                state["ctm"] = multiply(tuple(map(float, operands)), state["ctm"])  # type: ignore[arg-type]
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
            elif op in ("Td", "TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == "TD":
                    state["tl"] = -ty
                tm = line = multiply((1, 0, 0, 1, tx, ty), line)
            elif op == "T*":
                tm = line = multiply((1, 0, 0, 1, 0, -state["tl"]), line)
            elif op in ("'", '"'):  # (Tj and TJ: above)
                if op == '"':
                    state["tw"], state["tc"] = float(operands[0]), float(operands[1])
                tm = line = multiply((1, 0, 0, 1, 0, -state["tl"]), line)
                tm = self._show(operands[-1], False, state, tm)
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

    def _show(self, operand: pikepdf.Object, array: bool, state: dict, tm: Matrix) -> Matrix:
        """Note the glyphs of a text-showing operator's ``operand`` (a string, or an array if ``array``:
        one run); return the text matrix after them."""
        font: _Font | None = state["font"]
        size, th, tc, tw = state["size"], state["th"], state["tc"], state["tw"]
        scale, space = size / 1000 * th, tc * th
        moved = 0.0
        texts: list[str] = []
        starts: list[float] = []
        ends: list[float] = []
        tokens = _tokens(operand, array)
        if tokens is not None:  # hex strings and numbers, as WeasyPrint writes them: read in one go
            if font is not None:
                glyphs = font.glyphs
                text_add, start_add, end_add = texts.append, starts.append, ends.append
                for hexes, number, literal in tokens:
                    if number:
                        moved -= float(number) * scale
                        continue
                    glyph = glyphs.get(hexes) if not literal else None
                    if glyph is None:
                        if literal:
                            data = literal[1:-1]
                        else:  # (an odd last digit is followed by 0)
                            data = bytes.fromhex((hexes + b"0" if len(hexes) % 2 else hexes).decode())
                        if len(data) != 2 or not font.two_bytes:
                            moved = self._codes(font, data, scale, space, tw * th, moved, texts, starts, ends)
                            continue
                        glyph = font.glyph(data[0] << 8 | data[1])
                        if not literal:
                            glyphs[hexes] = glyph
                    width = glyph[0] * scale
                    if glyph[1]:
                        text_add(glyph[1])
                        start_add(moved)
                        end_add(moved + width)
                    moved += width + space
            else:
                for _, number, _ in tokens:
                    if number:
                        moved -= float(number) * scale
            return self._place(texts, starts, ends, moved, state, tm)
        items = list(operand) if array else [operand]
        if font is not None:
            widths_of, default, unicode_of, two = font.widths, font.default_width, font.to_unicode, font.two_bytes
        for item in items:
            if not isinstance(item, pikepdf.String):
                moved -= float(item) * scale
                continue
            if font is None:
                continue
            data = bytes(item)
            if two and len(data) == 2:  # one glyph: most of what WeasyPrint writes (a string a glyph)
                code = data[0] << 8 | data[1]
                width = widths_of.get(code, default) * scale
                text = unicode_of.get(code, "\ufffd")
                if text.strip():
                    texts.append(text)
                    starts.append(moved)
                    ends.append(moved + width)
                moved += width + space
                continue
            moved = self._codes(font, data, scale, space, tw * th, moved, texts, starts, ends)
        return self._place(texts, starts, ends, moved, state, tm)

    @staticmethod
    def _codes(font: _Font, data: bytes, scale: float, space: float, word: float, moved: float,
               texts: list[str], starts: list[float], ends: list[float]) -> float:
        """Note the glyphs of one string's bytes ``data``, from ``moved``; return where they end."""
        if font.two_bytes:
            codes = [data[i] << 8 | data[i + 1] for i in range(0, len(data) - 1, 2)]
            widths = [font.widths.get(code, font.default_width) * scale for code in codes]
            steps = [w + space for w in widths]
        else:
            codes = list(data)
            widths = [font.widths.get(code, font.default_width) * scale for code in codes]
            steps = [w + space + (word if code == 32 else 0.0) for w, code in zip(widths, codes)]
        at = list(itertools.accumulate(steps, initial=moved))
        moved = at.pop()
        for code, start, width in zip(codes, at, widths):
            text = font.to_unicode.get(code, "\ufffd")
            if text.strip():
                texts.append(text)
                starts.append(start)
                ends.append(start + width)
        return moved

    def _place(self, texts: list[str], starts: list[float], ends: list[float], moved: float, state: dict,
               tm: Matrix) -> Matrix:
        """Note a run's glyphs (``texts``, from ``starts`` to ``ends`` along the baseline, in text space
        units); return the text matrix after the run (``moved`` along it)."""
        size, rise = state["size"], state["rise"]
        visible_paint = state["mode"] not in (3, 7) and _ink(*state["fill"]) >= LIGHT
        a, b, c, d, e, f = multiply(tm, state["ctm"])  # text space to user space
        upright = b == 0 and c == 0
        drawn = size * (abs(d) if upright else (a * a + b * b) ** 0.5)
        clip, page, (left, top) = state["clip"], self.page, self.origin
        mid, low, high = rise + size * 0.3, rise - size * 0.15, rise + size * 0.65
        if not texts:
            return (tm[0], tm[1], tm[2], tm[3], tm[4] + tm[0] * moved, tm[5] + tm[1] * moved)
        self.order += 1
        if not upright:  # turned or slanted text: glyph by glyph
            for text, start, end in zip(texts, starts, ends):
                u = (start + end) / 2
                cx, cy = a * u + c * mid + e, b * u + d * mid + f
                seen = visible_paint and drawn >= MIN_SIZE and _inside(clip, cx, cy) and _inside(page, cx, cy)
                self.glyphs.append(Run((text,), (cx - left,), (seen,), top - cy, top - (b * u + f), drawn,
                                       self.order, ((cx - 0.1, cx + 0.1),), (cy - 0.1, cy + 0.1)))
        else:
            cy = d * mid + f
            lefts = [a * u + e for u in starts]
            rights = [a * u + e for u in ends]
            xs = [(x0 + x1) / 2 for x0, x1 in zip(lefts, rights)]
            low_x, high_x = min(xs), max(xs)
            if not (visible_paint and drawn >= MIN_SIZE and clip[1] - 0.01 <= cy <= clip[3] + 0.01
                    and page[1] <= cy <= page[3]):
                visible = (False,) * len(xs)
            elif clip[0] - 0.01 <= low_x and high_x <= clip[2] + 0.01 and page[0] <= low_x and high_x <= page[2]:
                visible = (True,) * len(xs)
            else:
                visible = tuple(clip[0] - 0.01 <= x <= clip[2] + 0.01 and page[0] <= x <= page[2] for x in xs)
            y0, y1 = sorted((d * low + f, d * high + f))
            spans = tuple(zip(lefts, rights)) if a > 0 else tuple(zip(rights, lefts))
            self.glyphs.append(Run(tuple(texts), tuple(x - left for x in xs), visible, top - cy, top - f, drawn,
                                   self.order, spans, (y0, y1)))
        return (tm[0], tm[1], tm[2], tm[3], tm[4] + tm[0] * moved, tm[5] + tm[1] * moved)


# --- comparing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CopyProblem:
    """A slot whose text is not all on its plate as it should be."""

    page: int
    slot_id: str
    source: str
    message: str


def _zone_text(runs: list[Run], columns_from: float | None, step: float, hidden: bool = False) -> str:
    """The runs' text in reading order (by column, if ``columns_from``; then line, then left to right):
    what can be seen, or (``hidden``) everything drawn."""
    def column(run: Run) -> int:
        return int((run.xs[0] - columns_from) // step) if columns_from is not None and step > 0 else 0
    out: list[str] = []
    by_column: dict[int, list[Run]] = {}
    for run in runs:
        by_column.setdefault(column(run), []).append(run)
    for number in sorted(by_column):
        ordered = sorted(by_column[number], key=lambda r: (r.baseline, r.xs[0]))
        lines: list[list[Run]] = []
        for run in ordered:
            if lines and run.baseline - lines[-1][0].baseline < 0.1 * min(run.size, lines[-1][0].size) + 0.3:
                lines[-1].append(run)
            else:
                lines.append([run])
        for row in lines:
            for run in sorted(row, key=lambda r: r.xs[0]):
                out.extend(run.texts if hidden else itertools.compress(run.texts, run.visible))
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


def account(path: Path, plate: PlateCopy, bodies: dict[str, tuple[str, str]] | None = None
            ) -> list[CopyProblem]:
    """Every slot of ``plate`` whose text the plate at ``path`` does not show as it should. The body
    of a jumped story is not compared here but put in ``bodies`` (what its frame shows, and draws),
    for ``story_problems`` to compare over all its slots: where a story is cut between its pages
    is a detail of line breaking, which the account does not depend on."""
    bodies = {} if bodies is None else bodies
    with pikepdf.open(path) as pdf:
        if len(pdf.pages) != 1:
            return [CopyProblem(plate.page, "", "", f"the plate has {len(pdf.pages)} pages, not 1")]
        reader = PlateText()
        runs = reader.read(pdf.pages[0])
    problems = []
    slots = plate.slots
    problems += _ink_across_boxes(plate, reader)
    for index, slot in enumerate(slots):
        for other in slots[index + 1:]:
            if (slot.x < other.x + other.width - BOX_TOLERANCE and other.x < slot.x + slot.width - BOX_TOLERANCE
                    and slot.y < other.y + other.height - BOX_TOLERANCE
                    and other.y < slot.y + slot.height - BOX_TOLERANCE):
                problems.append(CopyProblem(plate.page, slot.slot_id, slot.source,
                                            f"its box overlaps {other.slot_id}'s ({other.source}): "
                                            "two stories would be printed over each other"))
    zones: dict[str, dict[str, list[Run]]] = {
        slot.slot_id: {"top": [], "body": [], "bottom": [], **{f"inset {i}": [] for i in range(len(slot.insets))}}
        for slot in slots}

    def place(x: float, y: float) -> tuple[str, str] | None:
        """The slot and zone at (x, y), if a slot is there (a run's column is its first glyph's: a
        line may reach a little into the gutter; what reaches further is clipped)."""
        t = BOX_TOLERANCE
        for slot in slots:
            if slot.x - t <= x <= slot.x + slot.width + t and slot.y - t <= y <= slot.y + slot.height + t:
                if y < slot.y + slot.head_height:
                    return slot.slot_id, "top"
                for index, (ix, iy, width, height, _) in enumerate(slot.insets):
                    if ix - t <= x <= ix + width + t and iy - t <= y <= iy + height + t:
                        return slot.slot_id, f"inset {index}"
                if y <= slot.y + slot.head_height + slot.frame_height:
                    return slot.slot_id, "body"
                return slot.slot_id, "bottom"
        return None

    for run in runs:
        first, last = place(run.xs[0], run.y), place(run.xs[-1], run.y)
        parts = [run] if first == last else [run.part(i) for i in range(len(run.xs))]  # across a box's edge
        for part in parts:
            where = first if part is run else place(part.xs[0], part.y)
            if where is not None:
                zones[where[0]][where[1]].append(part)
    for slot in slots:
        found = zones[slot.slot_id]
        if slot.supplied:  # what its PDF shows is not known here: that no other slot prints in it is
            continue
        checks = [("top matter", slot.top, found["top"], None), ("body", slot.body, found["body"], slot.x),
                  ("jump line", slot.bottom, found["bottom"], None)]
        checks += [(f"photo {index + 1}'s caption", inset[4], found[f"inset {index}"], None)
                   for index, inset in enumerate(slot.insets)]
        for zone, expected, runs_in, columns in checks:
            shown = _zone_text(runs_in, columns, slot.column_step)
            drawn = _zone_text(runs_in, columns, slot.column_step, hidden=True)
            if zone == "body" and slot.jumped:  # compared over the whole story (``story_problems``)
                bodies[slot.slot_id] = (shown, drawn)
                continue
            message = _compare(slot, zone, expected, shown, drawn)
            if message:
                problems.append(CopyProblem(plate.page, slot.slot_id, slot.source, message))
                break
    return problems


def _ink_across_boxes(plate: PlateCopy, reader: PlateText) -> list[CopyProblem]:
    """Slots into whose box a picture or a solid box reaches from outside it: two slots' ink over each
    other (what lies wholly in one box, or in none, is that slot's or the page's)."""
    problems = []
    left, top = reader.origin
    t = INK_TOLERANCE
    for _, (x0, y0, x1, y1) in reader.covers:
        if x1 - x0 < 1.0 or y1 - y0 < 3.0:
            continue  # rules and hairlines
        box = (x0 - left, top - y1, x1 - left, top - y0)  # from the trim's top-left
        for slot in plate.slots:
            inside = (slot.x - t <= box[0] and box[2] <= slot.x + slot.width + t and slot.y - t <= box[1]
                      and box[3] <= slot.y + slot.height + t)
            meets = (box[0] < slot.x + slot.width - t and slot.x + t < box[2] and box[1] < slot.y + slot.height - t
                     and slot.y + t < box[3])
            if meets and not inside:
                problems.append(CopyProblem(plate.page, slot.slot_id, slot.source, (
                    f"a picture or box {box[2] - box[0]:.0f} x {box[3] - box[1]:.0f} pt at ({box[0]:.0f}, "
                    f"{box[1]:.0f}) reaches into its box from outside it: two slots' ink overlaps")))
                break
    return problems[:5]


BODIES = "copy (story bodies)"
"""The check under which a plate's findings carry the bodies of its jumped stories (``story_findings``
turns them into findings)."""


def story_problems(copies: list[PlateCopy], bodies: dict[str, tuple[str, str]]) -> list[CopyProblem]:
    """The jumped stories whose bodies, read over all their slots in order (``bodies``: each slot's
    shown and drawn text), are not their text: a word lost or printed twice at a cut is caught, and
    where the cut falls is not looked at."""
    stories: dict[str, list[tuple[int, SlotCopy]]] = {}
    for plate in copies:
        for slot in plate.slots:
            if slot.jumped:
                stories.setdefault(slot.slug, []).append((plate.page, slot))
    problems = []
    for slots in stories.values():
        if any(slot.slot_id not in bodies for _, slot in slots):
            continue  # a plate not read (damaged): its own finding says so
        page, first = slots[0]
        whole = SlotCopy(first.slot_id, first.slug, first.source, 0, 0, 0, 0, 0, 0, 0, "",
                         " ".join(slot.body for _, slot in slots), "", any(slot.overset for _, slot in slots))
        shown = "".join(bodies[slot.slot_id][0] for _, slot in slots)
        drawn = "".join(bodies[slot.slot_id][1] for _, slot in slots)
        message = _compare(whole, "body", whole.body, shown, drawn)
        if message:
            at = len(_common(key(whole.body), key(shown)))
            ends = list(itertools.accumulate(len(key(slot.body)) for _, slot in slots))
            page, slot = slots[min(bisect.bisect_right(ends, at), len(slots) - 1)]  # where it goes wrong
            pages = ", ".join(str(p) for p, _ in slots)
            problems.append(CopyProblem(page, slot.slot_id, slot.source,
                                        f"{message} (the story runs on pages {pages})"))
    return problems


def story_findings(copies: list[PlateCopy], findings: list) -> list:
    """``findings`` with the bodies of jumped stories (``BODIES``) compared over each story."""
    from .jobs import Finding

    bodies: dict[str, tuple[str, str]] = {}
    names = {}
    out = []
    for finding in findings:
        if finding.check == BODIES:
            for slot_id, texts in json.loads(finding.message).items():
                bodies[slot_id] = (texts[0], texts[1])
                names[slot_id] = finding.plate
        else:
            out.append(finding)
    for problem in story_problems(copies, bodies):
        out.append(Finding(names.get(problem.slot_id, ""), "copy", False,
                           f"page {problem.page}: {problem.source} (slot {problem.slot_id}): {problem.message}"))
    return out


def copy_findings(path: Path, plate: PlateCopy) -> list:
    """The preflight findings of copy accounting for the plate at ``path`` (``account``); the bodies
    of jumped stories go in a finding of their own (``BODIES``), for ``story_findings``."""
    from .jobs import Finding

    bodies: dict[str, tuple[str, str]] = {}
    try:
        problems = account(path, plate, bodies)
    except (pikepdf.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        return [Finding(path.name, "copy", False, f"page {plate.page}: the plate's text could not be read "
                                                  f"({type(error).__name__}): is the PDF damaged?")]
    carried = [Finding(path.name, BODIES, True, json.dumps(bodies, ensure_ascii=False))] if bodies else []
    if not problems:
        words = sum(len((s.top + " " + s.body + " " + s.bottom).split()) for s in plate.slots)
        return [Finding(path.name, "copy", True, f"{words} words, every one on its plate, in its slot, visible",
                        count=words), *carried]
    return [Finding(path.name, "copy", False, f"page {p.page}: {p.source} (slot {p.slot_id}): {p.message}")
            for p in problems] + carried


def copies_json(copies: list[PlateCopy]) -> bytes:
    """What each plate must show, as JSON (kept with the plates, for ``layout check``)."""
    return json.dumps([asdict(copy) for copy in copies], ensure_ascii=False).encode()


def copies_from_json(data: bytes) -> list[PlateCopy]:
    """``copies_json``'s plates back (raises ValueError if ``data`` is not what it writes)."""
    try:
        return [PlateCopy(int(plate["page"]), tuple(
            SlotCopy(**{**slot, "insets": tuple(tuple(inset) for inset in slot.get("insets", ()))})
            for slot in plate["slots"])) for plate in json.loads(data)]
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a copy account: {error}") from None
