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
import gc
import hashlib
import html
import itertools
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from operator import attrgetter, itemgetter, sub
from pathlib import Path

import pikepdf

from ..base.units import IDENTITY, Matrix, multiply, transform

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
        from ..composing.markup import _ENV

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
            from ..composing.markup import _ENV

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
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


_NOT_ALNUM = re.compile(r"[\W_]+")
"""What is not a letter or a digit (``\\w``: what ``str.isalnum`` holds, and "_")."""


# How a content stream is written, for reading it with regular expressions rather than object by object
# (``operations``); what these do not read (comments, dictionaries, inline images, names with ``#``
# escapes, nested arrays, strings with unbalanced parentheses ...) is read by pikepdf instead.
_DELIMITED = rb"(?![^\s/\[\]()<>{}%])"
"""Followed by white space, a delimiter or the end: where a number or an operator ends."""
_NUMBER = rb"[-+]?+(?:\d++(?:\.\d*+)?+|\.\d++)" + _DELIMITED
_NAME = rb"/[^\s/\[\]()<>{}%#\x00\x80-\xff]*+"
_LITERAL = rb"\((?:[^()\\]++|\\[\s\S]|\((?:[^()\\]++|\\[\s\S])*+\))*+\)"
"""A literal string (parentheses nested one deep)."""
_HEXSTRING = rb"<[0-9A-Fa-f\s]*+>"
_ARRAY = rb"\[(?:[^\[\]()]++|" + _LITERAL + rb")*+\]"
_OPERATION = re.compile(rb"((?:\s++|" + _NUMBER + rb"|" + _NAME + rb"|" + _HEXSTRING + rb"|" + _ARRAY + rb"|"
                        + _LITERAL + rb")*+)(?:([A-Za-z][A-Za-z0-9*]*+|'|\")" + _DELIMITED + rb"|([\s\S]|\Z))")
"""One operation: its operands as written, and its operator; or (third group) where the stream stops
being what the expressions read. Every part is possessive: the time is linear, whatever the input."""
_UNREAD = frozenset((b"BI", b"ID", b"EI", b"true", b"false", b"null"))
"""Operators the expressions do not read: inline images (their data is binary) and keywords that are
values, not operators."""
_VALUE = re.compile(rb"\s*+(?:(" + _NUMBER + rb")|(" + _NAME + rb")|<([0-9A-Fa-f\s]*+)>|\(((?:[^()\\]++|\\[\s\S]|"
                    rb"\((?:[^()\\]++|\\[\s\S])*+\))*+)\)|(\[)|(\]))")
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\s\S])|\r\n?")
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\n": b"", b"\r": b"", b"\r\n": b""}
_HEXDIGITS = b"0123456789abcdefABCDEF"
_NUMERALS = b"0123456789.+-" + b" \t\n\r\f\v"
_NOT_BRACKETS = bytes(value for value in range(256) if value not in b"<>")
_NOT_SQUARE = bytes(value for value in range(256) if value not in b"[]")
"""What ``bytes.translate`` deletes to leave a hex string's brackets (an array's): their order."""


def _unescaped(match: re.Match[bytes]) -> bytes:
    escaped = match[1]
    if escaped is None:  # an end of line in a string reads as a line feed
        return b"\n"
    if escaped[0] in b"01234567":
        return bytes([int(escaped, 8) & 255])
    return _ESCAPED.get(escaped, escaped)


def _literal(written: bytes) -> bytes:
    """The bytes of a literal string written ``written`` (within its parentheses)."""
    return _ESCAPE.sub(_unescaped, written) if b"\\" in written or b"\r" in written else written


def _hexbytes(digits: bytes) -> bytes:
    digits = digits.translate(None, _WHITE)
    return bytes.fromhex((digits + b"0" if len(digits) % 2 else digits).decode())


def _values(written: bytes) -> list:
    """The operands written ``written``: numbers as floats, names as str (with their slash), strings as
    bytes, arrays as lists (as ``_value`` makes pikepdf's); a ValueError if they are not all that."""
    out: list = []
    stack: list[list] = []
    at = 0
    for match in _VALUE.finditer(written):
        if match.start() != at:
            raise ValueError(f"not an operand: {written[at:at + 20]!r}")
        at = match.end()
        kind = match.lastindex
        if kind == 1:
            out.append(float(match[1]))
        elif kind == 2:
            out.append(match[2].decode())
        elif kind == 3:
            out.append(_hexbytes(match[3]))
        elif kind == 4:
            out.append(_literal(match[4]))
        elif kind == 5:
            stack.append(out)
            out = []
        elif stack:
            inner, out = out, stack.pop()
            out.append(inner)
    if written[at:].strip() or stack:
        raise ValueError(f"not an operand: {written[at:at + 20]!r}")
    return out


def _value(item: object) -> object:
    """A pikepdf operand as ``_values`` reads it."""
    if isinstance(item, bool) or item is None:
        return item
    if isinstance(item, int | float | Decimal):
        return float(item)
    if isinstance(item, pikepdf.Name):
        return str(item)
    if isinstance(item, pikepdf.String):
        return bytes(item)
    if isinstance(item, pikepdf.Array):
        return [_value(inner) for inner in item]
    return item  # (dictionaries, inline images: no operator read here takes them)


def _content(obj: pikepdf.Object) -> bytes | None:
    """The content of a form, or of a page (its content streams one after the other); None if the
    page's ``/Contents`` is not a stream or an array of streams (pikepdf makes of it what it can)."""
    if isinstance(obj, pikepdf.Stream):
        return obj.read_bytes()
    contents = obj.get("/Contents")
    if contents is None:
        return b""
    if isinstance(contents, pikepdf.Array):
        if all(isinstance(part, pikepdf.Stream) for part in contents):
            return b"\n".join(part.read_bytes() for part in contents)
        return None
    return contents.read_bytes() if isinstance(contents, pikepdf.Stream) else None


def operations(obj: pikepdf.Object, parse: bool = False) -> list[tuple[bytes | list, bytes, bytes]]:
    """The operations of a page's or a form's content, in order: (operands, operator, b""). The operands
    are as written (bytes) where the content is what ``_OPERATION`` reads, which is what WeasyPrint
    writes; else (or if ``parse``) the stream is parsed by pikepdf and its operands are values
    (``_value``)."""
    data = None if parse else _content(obj)
    if data is not None:
        found = _OPERATION.findall(data)
        if not any(map(itemgetter(2), found)) and not _UNREAD.intersection(map(itemgetter(1), found)):
            return found
    parsed = pikepdf.parse_content_stream(obj)
    return [([_value(item) for item in operands], str(operator).encode(), b"")  # type: ignore[misc]  # they unpack
            for operands, operator in parsed]


def operand_numbers(operands: bytes | list) -> list[float]:
    """An operator's operands, all numbers (a ValueError or a TypeError if not)."""
    if isinstance(operands, bytes):
        return list(map(float, operands.split()))
    return [float(value) for value in operands]


def operand_values(operands: bytes | list) -> list:
    """An operator's operands as values (numbers as floats, names as str, strings as bytes, arrays as
    lists), from ``operations``. These three are the reader of content streams that preflight's paint
    check (``paint._Reader``) shares with the copy accounting."""
    return _values(operands) if isinstance(operands, bytes) else operands


@dataclass
class _Font:
    to_unicode: dict[int, str]
    widths: dict[int, float]
    default_width: float
    two_bytes: bool
    hex_widths: dict[bytes, float] = field(default_factory=dict)
    hex_texts: dict[bytes, str] = field(default_factory=dict)
    """A two-byte font's glyphs by their code as a ``TJ``'s hex strings write it: the width, and the
    text if it is not blank (else ""); filled as they are met (``learn``)."""

    def __post_init__(self) -> None:
        values = [*self.widths.values(), self.default_width, 0.0]
        self.narrowest, self.widest = min(values), max(values)
        self.hex_widths[b""], self.hex_texts[b""] = 0.0, ""  # (an empty string: WeasyPrint's spacing)

    def glyph(self, code: int) -> tuple[float, str]:
        """The width and (non-blank) text of glyph ``code``."""
        text = self.to_unicode.get(code, "\ufffd")
        return self.widths.get(code, self.default_width), text if text.strip() else ""

    def learn(self, hexes: list[bytes]) -> bool:
        """Note the glyphs written ``hexes``; False if one is not a single two-byte code."""
        for digits in hexes:
            if digits not in self.hex_widths:
                if len(digits) != 4 or digits.translate(None, _HEXDIGITS) or not self.two_bytes:
                    return False
                self.hex_widths[digits], self.hex_texts[digits] = self.glyph(int(digits, 16))
        return True


_WHITE = b" \t\n\r\f\v"
"""What ``\\s`` matches in a bytes pattern."""
_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")


def _hex(token: bytes) -> int:
    return int(token.translate(None, _WHITE) or b"0", 16)


def _unhex(token: bytes) -> str:
    digits = token.translate(None, _WHITE)
    data = bytes.fromhex(digits.decode()) if len(digits) % 2 == 0 else b""
    try:
        return data.decode("utf-16-be")
    except UnicodeDecodeError:
        return "\ufffd"


_CODES: dict[bytes, int] = {}
_TEXTS: dict[bytes, str] = {}
"""``_hex`` and ``_unhex`` of what ``/ToUnicode`` maps have held."""


def _cmap(data: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        tokens = _HEX.findall(section)
        codes, values = tokens[0::2], tokens[1::2]
        try:  # (the same codes and characters are written in every font: read once)
            out.update(zip(map(_CODES.__getitem__, codes), map(_TEXTS.__getitem__, values)))
        except KeyError:
            if len(_CODES) + len(_TEXTS) > 100_000:
                _CODES.clear()
                _TEXTS.clear()
            for code, value in zip(codes, values):
                out[_CODES.setdefault(code, _hex(code))] = _TEXTS.setdefault(value, _unhex(value))
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


def _widths(written: bytes) -> list:
    """A CID font's ``/W`` array from how it is written (numbers, and arrays of numbers)."""
    inner = written.strip()[1:-1]
    if inner.translate(None, _NOT_SQUARE) != b"[]" * inner.count(b"["):  # (arrays in arrays ...)
        return _values(written)[0]
    out: list = []
    for index, part in enumerate(re.split(rb"[\[\]]", inner)):
        if index % 2:
            out.append(list(map(float, part.split())))
        else:
            out += map(float, part.split())
    return out


def _font(font: pikepdf.Object) -> _Font:
    to_unicode: dict[int, str] = {}
    if "/ToUnicode" in font:
        to_unicode = _cmap(font.ToUnicode.read_bytes())
    widths: dict[int, float] = {}
    if font.get("/Subtype") == "/Type0":
        cid = font.DescendantFonts[0]
        default = float(cid.get("/DW", 1000))
        w = cid.get("/W")
        array = _widths(w.unparse(resolved=True)) if isinstance(w, pikepdf.Array) else []
        at = 0
        while at + 1 < len(array):
            first = int(array[at])
            if isinstance(array[at + 1], list):
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


class Run:
    """Glyphs shown in one go on one baseline (a string of a ``TJ``): each glyph's text, the x of its
    centre and whether it can be seen; where the run is (points from the trim's top-left), its size,
    and when it was painted (for what is painted over it later). The glyphs' places along the line
    are worked out when asked for (``xs``, ``spans``): most runs need only their first and last.

    ``y``: the centre of the run's glyphs, from the trim's top; ``band``: the run's bottom and top, in
    user space; ``first``, ``last``: the x of its first and last glyphs' centres, from the trim's left;
    ``extent``: x in user space between which every glyph's centre lies."""

    __slots__ = ("texts", "visible", "y", "baseline", "size", "order", "band", "first", "last", "extent", "_xs",
                 "_spans", "_line")

    def __init__(self, texts: list[str], visible: tuple[bool, ...], y: float, baseline: float, size: float,
                 order: int, band: tuple[float, float], first: float, last: float,
                 xs: tuple[float, ...] | None = None, spans: tuple[tuple[float, float], ...] | None = None,
                 line: tuple | None = None, extent: tuple[float, float] = (0.0, 0.0)) -> None:
        self.texts, self.visible, self.y, self.baseline, self.size = texts, visible, y, baseline, size
        self.order, self.band, self.first, self.last, self.extent = order, band, first, last, extent
        self._xs, self._spans, self._line = xs, spans, line

    def _along(self) -> tuple[list[float], list[float]]:
        """Each glyph's start and width along the line (in the units of ``_line``)."""
        return _along(self._line[0])  # type: ignore[index]

    @property
    def xs(self) -> tuple[float, ...]:
        """Each glyph's centre, from the trim's left."""
        if self._xs is None:
            scale, e, left = self._line[1:]  # type: ignore[index]
            starts, widths = self._along()
            self._xs = tuple(scale * (s + w * 0.5) + e - left for s, w in zip(starts, widths))
        return self._xs

    @property
    def spans(self) -> tuple[tuple[float, float], ...]:
        """Each glyph's left and right, in user space (for what covers it)."""
        if self._spans is None:
            scale, e, _ = self._line[1:]  # type: ignore[index]
            starts, widths = self._along()
            ends = [(scale * (s + w) + e) for s, w in zip(starts, widths)]
            begins = [scale * s + e for s in starts]
            self._spans = tuple(zip(begins, ends)) if scale > 0 else tuple(zip(ends, begins))
        return self._spans

    def part(self, index: int) -> Run:
        """The run of glyph ``index`` alone."""
        x = self.xs[index]
        return Run([self.texts[index]], (self.visible[index],), self.y, self.baseline, self.size, self.order,
                   self.band, x, x, (x,), (self.spans[index],), extent=self.extent)

    def astuple(self) -> tuple:
        """What the run holds (for comparing two readings)."""
        return (tuple(self.texts), self.xs, self.visible, self.y, self.baseline, self.size, self.order,
                self.spans, self.band)


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


_PAINT: dict[tuple, bool] = {}
"""Whether text in a fill colour (``_ink``'s arguments) can be seen, by colour."""
SPACES = {"/DeviceGray": 1, "/G": 1, "/DeviceRGB": 3, "/RGB": 3, "/DeviceCMYK": 4, "/CMYK": 4}
INITIAL = {1: (0.0,), 3: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0, 1.0)}
_PATH_END = frozenset((b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"n", b"S", b"s"))
_FILLS = frozenset((b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"))
_SHOWS = frozenset((b"TJ", b"Tj"))
_COLOURS = frozenset((b"g", b"rg", b"k", b"cs", b"sc", b"scn"))
_SEGMENTS = {b"m": (0,), b"l": (0,), b"c": (0, 2, 4), b"v": (0, 2), b"y": (0, 2)}
"""Path operators, and where their points are among their operands."""
_CLIPS = frozenset((b"W", b"W*"))
_TEXT_STATE = {b"Tf": "font", b"Tc": "tc", b"Tw": "tw", b"Tz": "th", b"TL": "tl", b"Ts": "rise", b"Tr": "mode"}
_LINES = frozenset((b"Td", b"TD", b"T*", b"'", b'"'))


class PlateText:
    """Reads the glyphs a plate prints (``read``). With ``parse``, every content stream is parsed by
    pikepdf and every text operand read item by item (the slow way, for comparing)."""

    def __init__(self, parse: bool = False) -> None:
        self.glyphs: list[Run] = []
        self.covers: list[tuple[int, Rect]] = []
        self.fonts: dict[tuple[int, int], _Font] = {}
        self.order = 0
        self.page: Rect = (0.0, 0.0, 0.0, 0.0)
        self.origin = (0.0, 0.0)
        self.parse = parse

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
        # Each cover against the runs painted before it in its height (runs by their bottoms) and width:
        runs = sorted(self.glyphs, key=lambda run: run.band[0])
        bottoms = [run.band[0] for run in runs]
        later: dict[int, list[Rect]] = {}
        for order, r in covers:
            for run in runs[bisect.bisect_left(bottoms, r[1]):bisect.bisect_right(bottoms, r[3])]:
                if (run.order < order and run.band[1] <= r[3] and run.extent[0] <= r[2]
                        and run.extent[1] >= r[0]):
                    later.setdefault(id(run), []).append(r)
        for run in self.glyphs:
            over = later.get(id(run))
            if over:
                run.visible = tuple(shown and not any(r[0] <= left and r[2] >= right for r in over)
                                    for shown, (left, right) in zip(run.visible, run.spans))
        return self.glyphs

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
        seen = _entered(stream, seen)
        state = {"ctm": ctm, "clip": clip, "fill": colour.get("fill", (1, (0.0,))), "font": None, "size": 0.0,
                 "tc": 0.0, "tw": 0.0, "th": 1.0, "tl": 0.0, "rise": 0.0, "mode": 0}
        stack: list[dict] = []
        points: list[tuple[float, float]] = []
        subpaths = 0
        pending_clip = False
        tm = line = IDENTITY
        for operands, op, _ in operations(stream, self.parse):
            if op in _SHOWS:  # the commonest operators first
                tm = self._show(operands, op == b"TJ", state, tm)
            elif op == b"Tm":
                tm = line = tuple(map(float, operands.split()) if isinstance(operands, bytes)  # type: ignore[assignment]
                                  else operand_numbers(operands))
            elif op == b"q":
                stack.append(dict(state))
            elif op == b"Q":
                if stack:
                    state = stack.pop()
            elif op == b"cm":
                state["ctm"] = multiply(tuple(operand_numbers(operands)), state["ctm"])  # type: ignore[arg-type]
            elif op == b"re":
                x, y, w, h = operand_numbers(operands)
                subpaths += 1
                a, b, c, d, e, f = state["ctm"]
                x0, y0, x1, y1 = a * x + e, b * x + f, a * (x + w) + e, b * (x + w) + f  # (y: below)
                points += [(x0 + c * y, y0 + d * y), (x1 + c * y, y1 + d * y), (x0 + c * (y + h), y0 + d * (y + h)),
                           (x1 + c * (y + h), y1 + d * (y + h))]
            elif op in _SEGMENTS:
                values = operand_numbers(operands)
                points += [transform(state["ctm"], values[i], values[i + 1]) for i in _SEGMENTS[op]]
                subpaths += op == b"m"
            elif op in _CLIPS:
                pending_clip = True
            elif op in _PATH_END:
                if points:
                    self._path(op, points, subpaths == 1, pending_clip, state)
                points, subpaths, pending_clip = [], 0, False
            elif op in _COLOURS:
                self._colour(op, operands, state)
            elif op == b"BT":
                tm = line = IDENTITY
            elif op in _TEXT_STATE:
                self._text_state(op, operands, state, resources)
            elif op in _LINES:
                tm = line = self._line(op, operands, state, line)
                if op == b"'" or op == b'"':  # (Tj and TJ: above)
                    tm = self._show(operands, False, state, tm)
            elif op == b"Do":
                self._draw(str(operand_values(operands)[0]), state, resources, seen)

    def _path(self, op: bytes, points: list[tuple[float, float]], one: bool, clipping: bool, state: dict) -> None:
        """Note what a path through ``points`` paints over (a fill of ``one`` shape, not a frame), and
        the clip it makes (if ``clipping``: ``W`` or ``W*`` came before it)."""
        rect = _bounds(points)
        if op in _FILLS and one:
            self.order += 1
            self.covers.append((self.order, _meet(rect, state["clip"])))
        if clipping:
            state["clip"] = _meet(state["clip"], rect)

    @staticmethod
    def _colour(op: bytes, operands: bytes | list, state: dict) -> None:
        """``state`` after a fill colour operator."""
        if op == b"cs":
            space = SPACES.get(str(operand_values(operands)[0]), 0)
            state["fill"] = (space, INITIAL.get(space, ()))
        elif op == b"sc" or op == b"scn":
            values = operand_values(operands)
            if all(isinstance(v, float) for v in values):
                state["fill"] = (state["fill"][0], tuple(values))
            else:  # a pattern, or not a colour
                state["fill"] = (0, ())
        else:  # g, rg, k
            state["fill"] = ({b"g": 1, b"rg": 3, b"k": 4}[op], tuple(operand_numbers(operands)))

    def _text_state(self, op: bytes, operands: bytes | list, state: dict, resources: pikepdf.Object) -> None:
        """``state`` after a text state operator."""
        if op == b"Tf":
            values = operand_values(operands)
            state["font"] = self._font(resources, str(values[0]))
            state["size"] = float(values[1])
        else:
            value = operand_numbers(operands)[0]
            if op == b"Tz":
                state["th"] = value / 100
            elif op == b"Tr":
                state["mode"] = int(value)
            else:
                state[_TEXT_STATE[op]] = value

    @staticmethod
    def _line(op: bytes, operands: bytes | list, state: dict, line: Matrix) -> Matrix:
        """The text line matrix after a text positioning operator (or ' and ", before they show)."""
        if op == b"Td" or op == b"TD":
            tx, ty = operand_numbers(operands)[:2]
            if op == b"TD":
                state["tl"] = -ty
            return multiply((1, 0, 0, 1, tx, ty), line)
        if op == b'"':
            state["tw"], state["tc"] = (float(v) for v in operand_values(operands)[:2])
        return multiply((1, 0, 0, 1, 0, -state["tl"]), line)  # T*, ', "

    def _draw(self, name: str, state: dict, resources: pikepdf.Object, seen: frozenset) -> None:
        """Note what XObject ``name`` paints: an image (what it covers), or a form (read in its turn)."""
        xobjects = resources.get("/XObject")
        if xobjects is None or name not in xobjects:
            return
        xobject = xobjects[name]
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
                                                      ((b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3]))]))
            self._run(xobject, xobject.get("/Resources", resources), inner, clip_rect, {"fill": state["fill"]}, seen)

    def _show(self, operands: bytes | list, array: bool, state: dict, tm: Matrix) -> Matrix:
        """Note the glyphs of a text-showing operator's last operand (a string, or an array if ``array``:
        one run); return the text matrix after them."""
        font: _Font | None = state["font"]
        size, th = state["size"], state["th"]
        scale = size / 1000 * th
        if (array and isinstance(operands, bytes) and font is not None and font.two_bytes and state["tc"] == 0
                and not self.parse):
            written = operands.strip()
            if written[:1] == b"[" and written[-1:] == b"]":
                found = _bulk(font, written[1:-1])
                if found is not None:  # (the glyphs' places are read again if asked for: little is kept)
                    end, shown, centres, _ = found
                    return self._place(shown, centres, (None, font, written[1:-1]), scale, end * scale, state, tm)
        operand = operand_values(operands)[-1]
        items = operand if isinstance(operand, list) else [operand]
        if not array and not isinstance(operand, bytes):
            raise ValueError("a Tj that shows no string")
        starts: list[float] = []
        widths: list[float] = []
        texts: list[str] = []
        moved = 0.0
        space, word = state["tc"] * th, state["tw"] * th
        for item in items:
            if isinstance(item, float):
                moved -= item * scale
            elif not isinstance(item, bytes):
                raise ValueError("a TJ holds what is not a string or a number")
            elif font is not None:
                moved = self._codes(font, item, scale, space, word, moved, texts, starts, widths)
        if not widths:
            return (tm[0], tm[1], tm[2], tm[3], tm[4] + tm[0] * moved, tm[5] + tm[1] * moved)
        middles = [start + width * 0.5 for start, width in zip(starts, widths)]
        return self._place(texts, (middles[0], middles[-1], min(middles), max(middles)),
                           (starts, widths, texts, 0.0, None), 1.0, moved, state, tm)

    @staticmethod
    def _codes(font: _Font, data: bytes, scale: float, space: float, word: float, moved: float,
               texts: list[str], starts: list[float], widths: list[float]) -> float:
        """Note the glyphs of one string's bytes ``data``, from ``moved``; return where they end."""
        if font.two_bytes:
            codes = [data[i] << 8 | data[i + 1] for i in range(0, len(data) - 1, 2)]
            sizes = [font.widths.get(code, font.default_width) * scale for code in codes]
            steps = [w + space for w in sizes]
        else:
            codes = list(data)
            sizes = [font.widths.get(code, font.default_width) * scale for code in codes]
            steps = [w + space + (word if code == 32 else 0.0) for w, code in zip(sizes, codes)]
        at = list(itertools.accumulate(steps, initial=moved))
        moved = at.pop()
        for code, start, width in zip(codes, at, sizes):
            text = font.to_unicode.get(code, "\ufffd")
            if text.strip():
                texts.append(text)
                starts.append(start)
                widths.append(width)
        return moved

    def _place(self, texts: list[str], centres: tuple[float, float, float, float], glyphs: tuple, scale: float,
               moved: float, state: dict, tm: Matrix) -> Matrix:
        """Note a run's glyphs: ``texts[i]`` (blank if ""), placed along the baseline as ``glyphs`` says
        (``_along``), in units of ``scale`` text space units; ``centres``: the centres of the first
        and last glyphs that are not blank, and bounds of every glyph's centre, in the same units.
        Return the text matrix after the run (``moved`` along it, in text space units)."""
        after = (tm[0], tm[1], tm[2], tm[3], tm[4] + tm[0] * moved, tm[5] + tm[1] * moved)
        if not texts:
            return after
        size, rise = state["size"], state["rise"]
        fill = state["fill"]
        paint = _PAINT.get(fill)
        if paint is None:
            paint = _ink(*fill) >= LIGHT
            if len(_PAINT) < 1000:
                _PAINT[fill] = paint
        visible_paint = paint and state["mode"] != 3 and state["mode"] != 7
        m, n = tm, state["ctm"]  # text space to user space: tm x ctm (``multiply``)
        a, b = m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3]
        c, d = m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3]
        e, f = m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5]
        upright = b == 0 and c == 0
        drawn = size * (abs(d) if upright else (a * a + b * b) ** 0.5)
        clip, page, (left, top) = state["clip"], self.page, self.origin
        mid = rise + size * 0.3
        self.order += 1
        shown = list(itertools.compress(texts, texts))
        if not upright:  # turned or slanted text: glyph by glyph
            at, widths = _along(glyphs)
            starts = [s * scale for s in at]
            ends = [s + w * scale for s, w in zip(starts, widths)]
            for text, start, end in zip(shown, starts, ends):
                u = (start + end) / 2
                cx, cy = a * u + c * mid + e, b * u + d * mid + f
                seen = visible_paint and drawn >= MIN_SIZE and _inside(clip, cx, cy) and _inside(page, cx, cy)
                self.glyphs.append(Run([text], (seen,), top - cy, top - (b * u + f), drawn, self.order,
                                       (cy - 0.1, cy + 0.1), cx - left, cx - left, (cx - left,),
                                       ((cx - 0.1, cx + 0.1),), extent=(cx, cx)))
            return after
        cy = d * mid + f
        bottom, high = d * (rise - size * 0.15) + f, d * (rise + size * 0.65) + f
        along = a * scale  # a unit of ``glyphs`` in user space
        first, last, low, highest = centres
        low_x, high_x = along * low + e, along * highest + e  # every glyph's centre is between these
        if low_x > high_x:
            low_x, high_x = high_x, low_x
        run = Run(shown, (), top - cy, top - f, drawn, self.order, (bottom, high) if bottom <= high else (high, bottom),
                  along * first + e - left, along * last + e - left, None, None, (glyphs, along, e, left),
                  (low_x, high_x))
        if not (visible_paint and drawn >= MIN_SIZE and clip[1] - 0.01 <= cy <= clip[3] + 0.01
                and page[1] <= cy <= page[3]):
            run.visible = (False,) * len(shown)
        elif clip[0] - 0.01 <= low_x and high_x <= clip[2] + 0.01 and page[0] <= low_x and high_x <= page[2]:
            run.visible = (True,) * len(shown)
        else:  # glyph by glyph
            run.visible = tuple(clip[0] - 0.01 <= x + left <= clip[2] + 0.01 and page[0] <= x + left <= page[2]
                                for x in run.xs)
        self.glyphs.append(run)
        return after


def _entered(stream: pikepdf.Object, seen: frozenset) -> frozenset:
    """The streams being read (``seen``) and ``stream``, which starts to be; a ValueError if it is
    one of them (a form that draws itself, as damaged as a PDF can be)."""
    if not stream.is_indirect:
        return seen
    if stream.objgen in seen:
        raise ValueError("a form draws itself")
    return seen | {stream.objgen}


def _bulk(font: _Font, written: bytes) -> tuple[float, list[str], tuple[float, float, float, float], tuple] | None:
    """A ``TJ``'s glyphs from its array (``written``, within the brackets) in one go, if it holds only
    hex strings of one two-byte glyph each (or none) and numbers, each string followed by one number,
    as WeasyPrint writes them; None if it is written otherwise. Else: where the run ends, each glyph's
    text ("" if blank), the centres of the first and last glyphs that are not blank, bounds of every
    glyph's centre, and the glyphs as ``_along`` reads them; all in thousandths of the font's size."""
    pieces = written.replace(b">", b"<").split(b"<")  # numbers, then (string, numbers) after each string
    hexes, numerals = pieces[1::2], pieces[2::2]
    if (written.translate(None, _NOT_BRACKETS) != b"<>" * len(hexes)  # strings opened, then closed
            or b"".join(pieces[0::2]).translate(None, _NUMERALS)):
        return None  # (only numbers between the strings; the strings hold hex digits only: ``learn``)
    try:
        lead = -float(pieces[0]) if pieces[0] and pieces[0].strip() else 0.0
        numbers = list(map(float, numerals))  # (a ValueError if a string is followed by no number, or two)
    except ValueError:
        return None
    try:
        widths = list(map(font.hex_widths.__getitem__, hexes))
    except KeyError:
        if not font.learn(hexes):
            return None
        widths = list(map(font.hex_widths.__getitem__, hexes))
    texts = list(map(font.hex_texts.__getitem__, hexes))
    glyphs: tuple = (None, widths, texts, lead, numbers)
    first = 0 if texts and texts[0] else next(itertools.compress(itertools.count(), texts), None)
    if first is None:  # (no glyph that is not blank)
        return lead + sum(widths) - sum(numbers), [], (0.0, 0.0, 0.0, 0.0), glyphs
    last = len(texts) - 1
    if not texts[last]:
        last -= next(itertools.compress(itertools.count(), reversed(texts)))
    if min(map(sub, widths, numbers)) >= 0:  # each glyph starts where the one before it ends, or after
        end = lead + sum(widths) - sum(numbers)
        final = end - widths[-1] + numbers[-1]  # where the last glyph starts: the last, or furthest
        at_first = lead if first == 0 else lead + sum(map(sub, widths[:first], numbers[:first]))
        at_last = final if last == len(texts) - 1 else end - sum(map(sub, widths[last:], numbers[last:]))
        low, high = lead, final
    else:
        at = list(itertools.accumulate(map(sub, widths, numbers), initial=lead))
        end = at.pop()
        at_first, at_last, low, high = at[first], at[last], min(at), max(at)
        glyphs = (at, widths, texts, lead, numbers)
    return end, texts, (at_first + widths[first] * 0.5, at_last + widths[last] * 0.5,
                        low + min(font.narrowest, 0.0) * 0.5, high + max(font.widest, 0.0) * 0.5), glyphs


def _along(glyphs: tuple) -> tuple[list[float], list[float]]:
    """The start and width of each glyph of a run that is not blank, from what ``_bulk`` or the reading
    item by item gives: (starts or None, widths, texts, lead, numbers); or (None, font, a TJ's array
    as written), which ``_bulk`` reads again (a run keeps no more than that)."""
    if len(glyphs) == 3:
        glyphs = _bulk(glyphs[1], glyphs[2])[3]  # type: ignore[index]
    at, widths, texts, lead, numbers = glyphs
    if at is None:
        at = itertools.accumulate(map(sub, widths, numbers), initial=lead)
    return list(itertools.compress(at, texts)), list(itertools.compress(widths, texts))


# --- comparing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CopyProblem:
    """A slot whose text is not all on its plate as it should be."""

    page: int
    slot_id: str
    source: str
    message: str


_READING, _ALONG = attrgetter("baseline", "first"), attrgetter("first")


def _zone_text(runs: list[Run], columns_from: float | None, step: float) -> tuple[str, str]:
    """The runs' text in reading order (by column, if ``columns_from``; then line, then left to right):
    what can be seen, and everything drawn."""
    by_column: dict[int, list[Run]] = {}
    if columns_from is not None and step > 0:
        for run in runs:
            by_column.setdefault(int((run.first - columns_from) // step), []).append(run)
    elif runs:
        by_column[0] = runs
    shown: list[str] = []
    drawn: list[str] = []
    hidden = False
    for number in sorted(by_column):
        ordered = sorted(by_column[number], key=_READING)
        lines: list[list[Run]] = []
        for run in ordered:
            if lines and run.baseline - lines[-1][0].baseline < 0.1 * min(run.size, lines[-1][0].size) + 0.3:
                lines[-1].append(run)
            else:
                lines.append([run])
        for row in lines:
            for run in sorted(row, key=_ALONG) if len(row) > 1 else row:
                drawn += run.texts
                if all(run.visible):
                    shown += run.texts
                else:
                    hidden = True
                    shown.extend(itertools.compress(run.texts, run.visible))
    text = "".join(drawn)
    return ("".join(shown) if hidden else text), text


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
    collecting = gc.isenabled()
    gc.disable()  # (reading makes some hundred thousand small objects, none in a cycle: collections,
    try:  # which look at every object of the process, a composer's, would free none of them)
        return _account(path, plate, bodies)
    finally:
        if collecting:
            gc.enable()


def _account(path: Path, plate: PlateCopy, bodies: dict[str, tuple[str, str]]) -> list[CopyProblem]:
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

    t = BOX_TOLERANCE
    boxes = [(slot.x - t, slot.x + slot.width + t, slot.y - t, slot.y + slot.height + t, slot.y + slot.head_height,
              slot.y + slot.head_height + slot.frame_height, slot.slot_id,
              [(ix - t, ix + width + t, iy - t, iy + height + t, f"inset {index}")
               for index, (ix, iy, width, height, _) in enumerate(slot.insets)]) for slot in slots]

    def place(x: float, y: float) -> tuple[str, str] | None:
        """The slot and zone at (x, y), if a slot is there (a run's column is its first glyph's: a
        line may reach a little into the gutter; what reaches further is clipped)."""
        for x0, x1, y0, y1, head, frame, slot_id, insets in boxes:
            if x0 <= x <= x1 and y0 <= y <= y1:
                if y < head:
                    return slot_id, "top"
                for ix0, ix1, iy0, iy1, zone in insets:
                    if ix0 <= x <= ix1 and iy0 <= y <= iy1:
                        return slot_id, zone
                if y <= frame:
                    return slot_id, "body"
                return slot_id, "bottom"
        return None

    for run in runs:
        first, last = place(run.first, run.y), place(run.last, run.y)
        parts = [run] if first == last else [run.part(i) for i in range(len(run.xs))]  # across a box's edge
        for part in parts:
            where = first if part is run else place(part.first, part.y)
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
            shown, drawn = _zone_text(runs_in, columns, slot.column_step)
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
    from ..composing.jobs import Finding

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
    from ..composing.jobs import Finding

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
