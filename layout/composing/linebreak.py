"""Total-fit paragraph breaking (Knuth and Plass, 1981) for the galleys' body paragraphs.

A paragraph becomes boxes (word pieces between hyphenation points, each measured by HarfBuzz in
its run's font at the body size with the features WeasyPrint lets Pango use: kerning and standard
ligatures), glue (word spaces from the font's space glyph, which may stretch and shrink) and
penalties (hyphenation points from pyphen with the house ``hyphenate-limit-chars``; explicit
hyphens and dashes). The breaker chooses the breaks that minimise the paragraph's total demerits,
with fitness classes (a tight line next to a loose one costs more), demerits for two hyphenated
lines in a row, a hard limit of two (never a ladder of three), and a last pass for copy that cannot
be set well (very loose lines, then an overfull line as last resort, each reported).

It also keeps, for each paragraph, its best setting one line longer and one line shorter (TeX's
``\\looseness``), so that the fit report can offer them and a ``fit: loose`` slot can use them.

WeasyPrint still draws every line: ``set_marked`` hands it the chosen lines, each its own
``white-space: nowrap`` block with its letter-spacing, the hyphen at a break a real hyphen (see
``newspaper.css``: ``p.set > .ln``); laid out with word spaces tighter than any line needs
(``BASE_SPACING``), the line is justified by WeasyPrint, which opens its spaces to what fills the
measure: the spacing chosen here. Why WeasyPrint alone ended 24 % of its
lines 0.3-1.1 pt past the column: a line with no ``word-spacing`` is laid out as one run, in which
HarfBuzz kerns a comma, stop or quote against the space after it (PT Serif: about -0.36 pt), but
justifying it puts a spacing attribute on every space, which splits the run there, and it is drawn
without those kerns: wider than it was measured, by 0.36 pt a pair. So every line set here has a
``word-spacing`` (never 0), laid out and drawn the same way; the breaker measures each word shaped
by itself and the spaces from the space glyph, which is what is drawn.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import html as htmllib
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from ..base.files import file_hash

INF = 10_000
"""A penalty this large forbids a break; minus it forces one."""
FONTS = {  # (bold, italic) -> the house text face's file (stylesheets/newspaper.css @font-face "NW Text")
    (False, False): "PTF55F.ttf", (False, True): "PTF56F.ttf",
    (True, False): "PTF75F.ttf", (True, True): "PTF76F.ttf",
}
FEATURES = {"kern": True, "liga": True}
"""What Pango applies to body text by default (``font-kerning: auto``, ``font-variant-ligatures: normal``)."""
HYPHEN = "-"
SLACK = 0.15
"""Points a justified line is set short of the measure: WeasyPrint draws within 0.03 pt of HarfBuzz's
widths, and a line a hair short is invisible where a glyph a hair past the column edge is not."""
DASHES = "\u2013\u2014"
SOFT_HYPHEN = "\u00ad"
"""A hyphenation point the copy gives (HarfBuzz and Pango draw it only where a line breaks at it)."""
ZERO_WIDTH_SPACE = "\u200b"
"""A break the copy allows, with no hyphen (as Pango breaks there)."""

EXACT_9PT = (20, 39, 58, 77, 96, 115, 134, 154)
"""Letter-spacings (Pango units, 1/1024 pt) that WeasyPrint 70 draws where it lays them out, at 9 pt.

WeasyPrint writes each glyph's advance into the PDF as the font's width plus a kerning in thousandths
of the size, cut to a whole number (``int(kerning)`` in ``draw/text.py``); with letter-spacing that
kerning has a fraction, so every glyph is drawn up to 0.009 pt away from where it was laid out, which
is 0.3 pt over a line, and the line ends short (spaced out) or past the column (spaced in). The
fraction is periodic in the letter-spacing, with a period of size x 1024 / 480 units (19.2 at 9 pt):
these are its zeros, measured on lines of the body face (drawn end within 0.06 pt of the box's)."""
EXACT_9PT_IN = (-21, -41, -59, -78, -98, -116, -135, -154)
"""The same, spacing in."""
EDGE_SAFETY = 0.05
SCALED_SAFETY = 0.04
"""Points more a line with scaled glyphs is set short. WeasyPrint's justification now and then ends a
line up to 0.08 pt past its box (measured: "which it refused to do for a year.", letter-spaced, in a
box 0.53 pt narrow), which scaling draws further out; with 0.04, no scaled line of the sample issues or
the benchmark's 8 pages ends past its column (0.02: two did, by 0.01-0.02 pt)."""
TIGHT_BIAS = 0.05
"""Points more a line with shrunk word spaces is set short: WeasyPrint draws such a line 0.02-0.1 pt
longer than its box (the same cut kerning, on its spaces and its letters), where a line with
stretched spaces ends -0.09..+0.06 pt from it (measured on the galleys of the benchmark's 8 pages)."""
"""Points a justified line's last glyph is set short of the column: WeasyPrint draws a line with
word spacing, and one letter-spaced by ``exact_tracking``, within 0.06 pt of its box's end."""


def exact_tracking(points: float, size: float, limit: float | None = None, at_most: bool = False) -> int:
    """The letter-spacing, in Pango units, WeasyPrint draws exactly that is nearest ``points``, and
    no further from zero than ``limit`` (points; None: than ``points``). At sizes other than 9 pt
    the zeros are scaled. ``at_most``: the nearest that is not more than ``points`` (a line with no
    word space has nothing to take up a letter-spacing rounded up: it would end past its column)."""
    levels: tuple[int, ...]
    if abs(size - 9.0) < 1e-6:
        levels = EXACT_9PT if points > 0 else EXACT_9PT_IN
    else:
        step = size * 1024 / 480
        levels = tuple(round(m * step) * (1 if points > 0 else -1) for m in range(1, 12))
    units, bound = points * 1024, abs(points if limit is None else limit) * 1024 + 1e-9
    allowed = [level for level in (0, *levels) if abs(level) <= bound]
    if at_most:
        allowed = [level for level in allowed if level <= units + 1e-9] or [min(allowed)]
    return min(allowed, key=lambda level: abs(level - units))


@dataclass(frozen=True)
class Settings:
    """How a paragraph may be set (the house's justification settings)."""

    measure: float
    """The column's width, points."""
    size: float = 9.0
    indent: float = 0.0
    """Indent of the first line, points."""
    stretch: float = 1.0
    """How far a word space may stretch, in natural spaces, at adjustment ratio 1 (2x natural)."""
    shrink: float = 0.2
    """How far a word space may shrink, in natural spaces (to 80 % of natural)."""
    tracking: float = 0.0
    """Letter-spacing a line may take or give, as a share of its glyphs' width (0.02: +-2 %); 0: off."""
    scaling: float = 0.0
    """Glyph scaling a line may take, as a share of its width (0.02: drawn up to 102 % wide); 0: off."""
    scaling_in: float = 0.0
    """Glyph scaling a tight line may give (0.02: drawn down to 98 % wide)."""
    spaces_first: float = 0.3
    """With tracking: the share of their stretch the spaces take before letter-spacing is used."""
    shrink_first: float = 0.5
    """With tracking or scaling: the share of their shrink the spaces take (0.5: to 90 % of natural)
    before the letters are spaced in and the glyphs narrowed, then the rest. (Measured, total-fit at 2 %
    with scaling: 1, spaces to 80 % first, left 22.8 % of the sample's lines with gaps under 0.85 natural
    spaces; 0.5, 14.6 %; the same breaks.)"""
    tolerance: float = 1.0
    """The largest adjustment ratio of the first pass (1: spaces at most 2x natural)."""
    second: float = 3.0
    """The largest adjustment ratio of the second pass."""
    acceptable: float = 1.5
    """The loosest line (adjustment ratio; 1.5: spaces of 2.5x, what the proofs mark) a setting a line
    longer or shorter may have."""
    hyphen_penalty: int = 50
    double_hyphen_demerits: int = 3000
    final_hyphen_demerits: int = 0
    adjacent_demerits: int = 10000
    line_penalty: int = 10
    river_demerits: int = 30000
    """Demerits for each wide space that overlaps a wide space on the line above (a river's start):
    about a line of 2.6 natural spaces. (Measured, total-fit at 2 %: 3000 left 12 rivers on the sample
    and 36 on the benchmark's 8 pages; 30000, 11 and 20; 100000, 10 and 17, but set lines of 8x.)"""
    knee: float = 1.0
    """Past this adjustment ratio badness grows linearly (see ``_badness``)."""
    slope: float = 100.0
    loose_demerits: int = 100_000
    """Demerits for a line whose word spaces, as drawn (the letter-spacing either side counted), would be
    wider than 2 natural spaces: the breaker counts such lines, as the proofs and the benchmark do, beside
    its badness. (Measured, total-fit at 2 % with scaling: bench-8 10.5 % such lines with 0, 9.8 % with
    100000 (the fewest any setting has is 9.2 %), the sample 5.9 and 5.4 %.)"""
    max_hyphens: int = 2
    """Consecutive hyphenated lines allowed (never a ladder of three)."""
    limit: tuple[int, int, int] = (6, 3, 3)
    """``hyphenate-limit-chars``: shortest word hyphenated, fewest letters before and after a break."""
    lang: str = "en_GB"
    fonts: str = ""
    fonts_stamp: str = ""
    """The house fonts' bytes' digest (``fonts_stamp``): the measurements kept in this process are
    kept by it, so that a font replaced while a process lives is measured afresh."""
    """Folder of the house fonts."""


@dataclass(frozen=True)
class Piece:
    """A run of text in one style (``tags``: the inline elements it is in, outermost first)."""

    text: str
    tags: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@dataclass
class Item:
    kind: str  # "box" | "glue" | "penalty"
    width: float
    stretch: float = 0.0
    shrink: float = 0.0
    penalty: float = 0.0
    flagged: bool = False
    pieces: tuple[Piece, ...] = ()
    """What a box draws (a word piece may cross inline elements)."""
    hyphen: float = 0.0
    """A hyphenation penalty's hyphen: its width is ``width``; a box's glyph count for tracking."""


@dataclass(frozen=True)
class SetLine:
    """One chosen line: its items [start, end), its adjustment ratio, and what WeasyPrint is told."""

    start: int
    end: int
    ratio: float
    """Adjustment ratio (-1 .. 0: shrunk, 0 .. : stretched; inf-like for an overfull line: see ``overfull``)."""
    spacing: float
    """Word spacing to add to each space, points (negative: shrink)."""
    tracking: float
    """Letter spacing, points per glyph."""
    hyphenated: bool
    spaces: int
    natural: float
    """Natural width of the line's material (boxes and spaces), points."""
    text: str
    overfull: float = 0.0
    """Points past the measure (only from the emergency pass)."""
    gaps: tuple[tuple[float, float], ...] = ()
    """Where the line's word spaces are (start, end), points from the line's start."""
    mid_word: bool = False
    """The line ends inside a word (at a hyphenation point, or after a hyphen or dash in a word)."""
    scale: float = 1.0
    """The line drawn this much wider (glyph scaling: 0.98-1.02; its box laid out at the measure / scale)."""
    margin: float = 0.0
    """Points the line's box is narrower than the measure (``EDGE_SAFETY``: so that no glyph is drawn
    past the column), less one letter-spacing (which WeasyPrint counts after the last glyph)."""


@dataclass(frozen=True)
class Paragraph:
    """A paragraph as set: its lines, the pass that set it, and its other line counts."""

    lines: tuple[SetLine, ...]
    passes: int
    """1: within ``tolerance``; 2: within ``second``; 3: emergency (looser still, or overfull)."""
    alternatives: Mapping[int, tuple[SetLine, ...]] = field(default_factory=dict)
    """Acceptable settings one line longer (+1) and shorter (-1): no line of them looser than
    ``acceptable`` (or ``tolerance``, if that is looser)."""


# ---- Measuring --------------------------------------------------------------------------------------


def fonts_stamp(folder: Path) -> str:
    """A digest of the bytes of the house fonts in ``folder`` (each file's ``base.files.file_hash``).
    The breaker's measurements are kept by it, not by the folder's name alone: ``layout watch``,
    ``layout serve`` and the compose server live while a font is replaced, and WeasyPrint, which draws
    the lines, is given the new font (the engine keeps its fonts by their bytes), so the widths the
    lines are chosen by must be the new font's too."""
    digest = hashlib.sha256()
    for name in sorted(set(FONTS.values())):
        path = folder / name
        try:
            one = file_hash(path)
        except OSError:
            one = "missing"
        digest.update(f"{name}\0{one}\0".encode())
    return digest.hexdigest()[:20]


@functools.lru_cache(maxsize=8)
def _font(path: str, stamp: str = ""):
    """The HarfBuzz font of ``path`` (kept by ``stamp``, its folder's ``fonts_stamp``, too)."""
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(path))
    return hb.Font(face), face.upem


class Shaper:
    """Widths of text in the house fonts at one size (HarfBuzz, cached a word)."""

    def __init__(self, fonts: str, size: float, stamp: str = "") -> None:
        self.fonts, self.size, self.stamp = fonts, size, stamp
        self.cache: dict[tuple[str, bool, bool, bool], float] = {}

    def width(self, text: str, bold: bool = False, italic: bool = False, liga: bool = True) -> float:
        key = (text, bold, italic, liga)
        found = self.cache.get(key)
        if found is None:
            import uharfbuzz as hb

            font, upem = _font(str(Path(self.fonts) / FONTS[(bold, italic)]), self.stamp)
            buf = hb.Buffer()
            buf.add_str(text)
            buf.guess_segment_properties()
            hb.shape(font, buf, FEATURES if liga else {**FEATURES, "liga": False})
            found = sum(p.x_advance for p in buf.glyph_positions) * self.size / upem
            self.cache[key] = found
        return found


@functools.lru_cache(maxsize=4)
def _shaper(fonts: str, size: float, stamp: str = "") -> Shaper:
    return Shaper(fonts, size, stamp)


def _shaper_of(settings: Settings) -> Shaper:
    """The shaper of ``settings``' fonts (as they are now: ``fonts_stamp``) at its size."""
    return _shaper(settings.fonts, settings.size, settings.fonts_stamp)


@functools.lru_cache(maxsize=4)
def _hyphenator(lang: str, left: int, right: int):
    import pyphen

    return pyphen.Pyphen(lang=lang, left=left, right=right)


def _style(piece: Piece) -> tuple[bool, bool]:
    return _style_of(piece.tags)


@functools.lru_cache(maxsize=1024)
def _style_of(tags: tuple) -> tuple[bool, bool]:
    """(bold, italic) of a run in these inline elements."""
    names = {tag for tag, _ in tags}
    return bool(names & {"strong", "b"}), bool(names & {"em", "i"})


def pieces_of(inline_html: str) -> list[Piece]:
    """The inline HTML of a paragraph as styled runs of text (raises ValueError if it is not inline markup)."""
    try:
        root = ET.fromstring(f"<x>{inline_html}</x>")
    except ET.ParseError as exc:
        raise ValueError(str(exc)) from None
    out: list[Piece] = []

    def walk(element: ET.Element, tags: tuple) -> None:
        if element.text:
            out.append(Piece(element.text, tags))
        for child in element:
            if child.tag not in ("em", "strong", "i", "b", "a", "span", "code", "sup", "sub", "abbr"):
                raise ValueError(f"<{child.tag}> in a paragraph")
            walk(child, (*tags, (child.tag, tuple(sorted(child.attrib.items())))))
            if child.tail:
                out.append(Piece(child.tail, tags))

    walk(root, ())
    return out


_SPACE = re.compile(r"[ \t\n\r]+")


def items_of(pieces: list[Piece], settings: Settings) -> list[Item]:
    """Boxes, glue and penalties for a paragraph's styled runs."""
    shaper = _shaper_of(settings)
    space = shaper.width(" ")
    stretch, shrink = settings.stretch * space, settings.shrink * space
    words: list[list[Piece]] = [[]]
    spaces: list[Piece] = []
    for piece in pieces:
        parts = _SPACE.split(piece.text)
        for index, part in enumerate(parts):
            if index and words[-1]:
                words.append([])
                spaces.append(Piece(" ", piece.tags))
            if part:
                words[-1].append(Piece(part, piece.tags))
    if not words[-1]:
        words.pop()
    items: list[Item] = []
    if settings.indent:
        items.append(Item("box", settings.indent))
    for index, word in enumerate(words):
        if index:
            gap = spaces[index - 1]
            items.append(Item("glue", shaper.width(" ", *_style(gap)), stretch, shrink, pieces=(gap,)))
        made = _word_items_cached(tuple(word), settings.limit, settings.lang, settings.fonts, settings.size,
                                  settings.hyphen_penalty, settings.fonts_stamp)
        if settings.measure:
            room = settings.measure - (settings.indent if not index else 0.0) - shaper.width(HYPHEN)
            if any(i.kind == "box" and i.width > room for i in made):  # a piece wider than the column
                address = bool(_ADDRESS.search("".join(p.text for p in word)))
                made = tuple(part for item in made for part in (
                    _anywhere(list(item.pieces), item.width, shaper, hyphenate=not address)
                    if item.kind == "box" and item.width > room and item.pieces else (item,)))
        items += made
    items.append(Item("penalty", 0, penalty=INF))
    items.append(Item("glue", 0, 100_000.0, 0.0))  # \parfillskip
    items.append(Item("penalty", 0, penalty=-INF))
    return items


@functools.lru_cache(maxsize=50_000)
def _word_items_cached(word: tuple[Piece, ...], limit: tuple[int, int, int], lang: str, fonts: str, size: float,
                       penalty: int, stamp: str = "") -> tuple[Item, ...]:
    """A word's items, once a process (the items are never changed once made)."""
    settings = Settings(0.0, size, limit=limit, lang=lang, fonts=fonts, hyphen_penalty=penalty, fonts_stamp=stamp)
    return tuple(_word_items(list(word), settings, _shaper(fonts, size, stamp)))


def _word_items(word: list[Piece], settings: Settings, shaper: Shaper) -> list[Item]:
    """A word (one or more styled runs with no space between) as boxes with hyphenation points."""
    text = "".join(p.text for p in word)
    points: dict[int, str] = {}  # position in text -> "hyphen" (inserted) | "after" (an explicit hyphen or dash)
    shortest, before, after = settings.limit
    for match in re.finditer(r"[A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)?", text):
        core = match.group()
        if len(core) >= shortest:
            for pos in _hyphenator(settings.lang, before, after).positions(core.lower()):
                points[match.start() + pos] = "hyphen"
    if SOFT_HYPHEN in text:  # the sub-editor's own hyphenation points, and no others (as TeX's \-)
        points = {i + 1: "hyphen" for i, char in enumerate(text) if char == SOFT_HYPHEN and 0 < i < len(text) - 1}
    for i, char in enumerate(text):
        if (char == HYPHEN or char in DASHES) and 0 < i < len(text) - 1:
            points[i + 1] = "after"
        elif char == ZERO_WIDTH_SPACE and 0 < i < len(text) - 1:
            points[i + 1] = "address"  # a break with no hyphen, where the copy asks for one
    if _ADDRESS.search(text):  # never hyphenated: broken only where an address may be
        points = dict.fromkeys(_address_points(text), "address")
    if not points:
        return [Item("box", _pieces_width(word, shaper), pieces=tuple(word), hyphen=len(text))]
    items: list[Item] = []
    previous = 0
    done = 0.0
    for pos in sorted(points):
        head = _slice(word, 0, pos)
        width = _pieces_width(head, shaper)
        items.append(Item("box", width - done, pieces=tuple(_slice(word, previous, pos)), hyphen=pos - previous))
        if points[pos] == "hyphen":
            hyphen = _pieces_width([*head[:-1], Piece(head[-1].text + HYPHEN, head[-1].tags)], shaper) - width
            items.append(Item("penalty", hyphen, penalty=settings.hyphen_penalty, flagged=True))
        elif points[pos] == "address":
            items.append(Item("penalty", 0, penalty=ADDRESS_PENALTY))
        else:
            items.append(Item("penalty", 0, penalty=settings.hyphen_penalty if text[pos - 1] == HYPHEN else 0,
                              flagged=text[pos - 1] == HYPHEN))
        previous, done = pos, width
    items.append(Item("box", _pieces_width(word, shaper) - done, pieces=tuple(_slice(word, previous, len(text))),
                      hyphen=len(text) - previous))
    return items


_ADDRESS = re.compile(r"://|\bwww\.|[\w.+-]@[\w-]+\.\w")
"""A web or mail address in a word: never hyphenated (a hyphen in an address changes it), broken only
where an address may be (``_address_points``)."""
ADDRESS_PENALTY = 50
"""A break within an address: as a hyphen's (a typesetter breaks an address as readily)."""
ANYWHERE_PENALTY = 500
"""A break between two letters of a piece of a word wider than its column (no other break fits)."""


def _address_points(text: str) -> list[int]:
    """Where an address may break (The Chicago Manual of Style, 17th ed., 6.80): after a double slash;
    before a single slash, a full stop, a comma, a hyphen, an underscore, a question mark, a number
    sign, a per cent sign, a tilde or an at sign; before or after an equals sign or an ampersand.
    Never before its first two characters or after its last two, so that no line holds a stub."""
    points: set[int] = set()
    for i, char in enumerate(text):
        if text.startswith("//", i):
            points.add(i + 2)
        elif char == "/" and i and text[i - 1] == "/":
            continue
        elif char in "/.,-_?#%~@":
            points.add(i)
        elif char in "=&":
            points.update((i, i + 1))
    return sorted(p for p in points if 2 <= p <= len(text) - 2)


def _anywhere(pieces: list[Piece], width: float, shaper: Shaper, hyphenate: bool) -> list[Item]:
    """A piece of a word (between its hyphenation points) wider than its column, ``width`` wide, as
    one box a character with a break allowed between any two (``ANYWHERE_PENALTY``): with a hyphen
    between two letters, two from either end (``hyphenate``), else without (an address: CSS
    ``overflow-wrap: anywhere``)."""
    text = "".join(p.text for p in pieces)
    items: list[Item] = []
    done = 0.0
    for i in range(1, len(text) + 1):
        upto = _pieces_width(_slice(pieces, 0, i), shaper) if i < len(text) else width  # the piece's own sum
        items.append(Item("box", upto - done, pieces=tuple(_slice(pieces, i - 1, i)), hyphen=1))
        if i < len(text):
            if not hyphenate:
                items.append(Item("penalty", 0.0, penalty=ANYWHERE_PENALTY))
            elif 2 <= i <= len(text) - 2 and text[i - 1].isalpha() and text[i].isalpha():
                head = _slice(pieces, 0, i)
                hyphen = _pieces_width([*head[:-1], Piece(head[-1].text + HYPHEN, head[-1].tags)], shaper) - upto
                items.append(Item("penalty", hyphen, penalty=ANYWHERE_PENALTY, flagged=True))
        done = upto
    return items


def _pieces_width(pieces: list[Piece], shaper: Shaper) -> float:
    return sum(shaper.width(p.text, *_style(p)) for p in pieces)


def _slice(word: list[Piece], start: int, end: int) -> list[Piece]:
    out, at = [], 0
    for piece in word:
        a, b = max(start, at), min(end, at + len(piece.text))
        if a < b:
            out.append(Piece(piece.text[a - at:b - at], piece.tags))
        at += len(piece.text)
    return out


# ---- Breaking ---------------------------------------------------------------------------------------


@dataclass
class _Node:
    position: int
    line: int
    fitness: int
    hyphens: int
    total_width: float
    total_stretch: float
    total_shrink: float
    total_glyphs: float
    demerits: float
    ratio: float
    previous: _Node | None
    overfull: float = 0.0
    wide: tuple[int, int, float, float] | None = None
    """How to find the line's wide word spaces (at least ``WIDE`` natural spaces), if it has any:
    for rivers (worked out only when the next line needs them)."""
    _gaps: tuple | None = None

    def wide_gaps(self, items: list[Item], glues: list[int], widths: list[float], space: float) -> tuple:
        if self.wide is None:
            return ()
        if self._gaps is None:
            self._gaps = _wide_gaps(items, glues, widths, *self.wide, space)
        return self._gaps


WIDE = 1.5
"""A word space this many natural spaces wide is wide: wide spaces on consecutive lines that
overlap are the start of a river."""


def _wide_gaps(items: list[Item], glues: list[int], widths: list[float], start: int, end: int, line_start: float,
               extra: float, space: float) -> tuple[tuple[float, float], ...]:
    """The positions of a line's word spaces, if each is wider by ``extra`` than natural and that
    makes them wide; else ()."""
    if space + extra < (WIDE - 0.15) * space:  # letter-spaced words leave a little more: keep clear
        return ()
    out = []
    first = bisect.bisect_left(glues, start)
    for k, g in enumerate(glues[first:bisect.bisect_left(glues, end)]):
        x = widths[g] - line_start + k * extra
        out.append((x, x + items[g].width + extra))
    return tuple(out)


def _overlaps(a: tuple[tuple[float, float], ...], b: tuple[tuple[float, float], ...]) -> int:
    return sum(1 for x0, x1 in a for y0, y1 in b if x0 < y1 and y0 < x1)


def _badness(ratio: float, knee: float, slope: float) -> float:
    """TeX's badness (100 r^3) up to the ``knee``, then growing only linearly (``slope`` a unit of r):
    one line that cannot be set well costs less than spreading its looseness over its neighbours."""
    r = abs(ratio)
    if ratio <= knee:
        return 100 * r ** 3
    return 100 * knee ** 3 + slope * (ratio - knee)


WILD = 9
"""The fitness class of a line looser than the first pass allows: no adjacency demerits either side."""


class _Sums(NamedTuple):
    """A paragraph's items summed from its start (index ``i``: the items before ``i``), for the breaker."""
    widths: list[float]
    stretches: list[float]
    shrinks: list[float]
    glyphs: list[float]
    """The width of the boxes a hyphen may follow (the letters that letter-spacing spreads)."""
    glues_before: list[int]
    """How many word spaces come before each position (``bisect`` of ``glues``)."""
    glues: list[int]
    """The word spaces' positions."""
    breaks: list[int]
    """The positions a line may end at, in order."""


def _sums(items: list[Item]) -> _Sums:
    n = len(items)
    widths, stretches, shrinks, glyphs = [0.0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1), [0.0] * (n + 1)
    glues_before = [0] * (n + 1)
    glues: list[int] = []
    breaks: list[int] = []
    previous_kind = ""
    for i, item in enumerate(items):
        kind = item.kind
        box_glyphs = item.hyphen if kind == "box" else 0.0
        widths[i + 1] = widths[i] + (item.width if kind != "penalty" else 0.0)
        stretches[i + 1] = stretches[i] + (item.stretch if kind == "glue" else 0.0)
        shrinks[i + 1] = shrinks[i] + (item.shrink if kind == "glue" else 0.0)
        glyphs[i + 1] = glyphs[i] + (item.width if kind == "box" and box_glyphs else 0.0)
        if kind == "glue" and 0 < item.stretch < 1000:
            glues.append(i)
        glues_before[i + 1] = len(glues)
        if kind == "glue" and i > 0 and previous_kind == "box" or kind == "penalty" and item.penalty < INF:
            breaks.append(i)
        previous_kind = kind
    return _Sums(widths, stretches, shrinks, glyphs, glues_before, glues, breaks)


def _breakpoints(items: list[Item], settings: Settings, tolerance: float, emergency: bool,
                 over: float = 0.0, sums: _Sums | None = None) -> dict[int, _Node]:
    """The best final node for each line count (Knuth-Plass, line count kept in the node's key).
    The items' fields and the settings are read into locals once (the inner loop runs for every
    active node at every break: about a third of the breaker's time went to reading them); the
    arithmetic is the same, in the same order, so the breaks and their figures are the same.
    ``sums``: ``_sums(items)``, if the caller has them (the passes of a paragraph share them)."""
    sums = sums or _sums(items)
    widths, stretches, shrinks, glyphs, _, glues, breaks = sums
    measure = settings.measure
    space = next((items[i].width for i in glues), 1.0)
    active: dict[tuple, _Node] = {(0, 0, 1, 0): _Node(0, 0, 1, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None)}
    track, scale, scale_in = settings.tracking, settings.scaling, settings.scaling_in
    knee, slope, set_tolerance = settings.knee, settings.slope, settings.tolerance
    line_penalty, max_hyphens = settings.line_penalty, settings.max_hyphens
    double_hyphen, final_hyphen = settings.double_hyphen_demerits, settings.final_hyphen_demerits
    adjacent, river = settings.adjacent_demerits, settings.river_demerits
    knee_badness = 100 * knee ** 3
    rivers = _Rivers(items, settings, sums, space) if river else None
    for b in breaks:
        if not active:  # no node can end a line: nothing more can be set (the pass fails)
            break
        item = items[b]
        is_penalty = item.kind == "penalty"
        forced = is_penalty and item.penalty <= -INF
        flagged = is_penalty and item.flagged
        penalty = item.penalty if is_penalty else 0
        width_at = widths[b] + (item.width if is_penalty else 0.0)
        stretch_b, shrink_b, glyphs_b = stretches[b], shrinks[b], glyphs[b]
        candidates: dict[tuple, _Node] = {}
        fallback: _Node | None = None
        for key, node in list(active.items()):
            natural = width_at - node.total_width
            letters_cap = track * (glyphs_b - node.total_glyphs)
            if natural < measure:
                stretch = stretch_b - node.total_stretch + letters_cap + scale * natural
                ratio = (measure - natural) / stretch if stretch > 0 else 1000.0
            elif natural > measure:
                shrink = shrink_b - node.total_shrink + letters_cap + scale_in * natural
                ratio = (measure - natural) / shrink if shrink > 0 else -1000.0
            else:
                ratio = 0.0
            if ratio < -1:  # too long: the node can end no more lines
                if emergency and (fallback is None or node.demerits < fallback.demerits):
                    fallback = _Node(b, node.line + 1, 1, 0, 0, 0, 0, 0, node.demerits + 1e7, -1.0, node,
                                     overfull=natural - measure - (shrink_b - node.total_shrink))
                del active[key]
                continue
            if ratio > tolerance:
                continue
            badness = 100 * abs(ratio) ** 3 if ratio <= knee else knee_badness + slope * (ratio - knee)
            if ratio > set_tolerance:
                badness += over
            demerits = (line_penalty + badness) ** 2 + (penalty ** 2 if penalty >= 0 else
                                                        -penalty ** 2 if penalty > -INF else 0)
            hyphens = node.hyphens + 1 if flagged else 0
            if hyphens > max_hyphens:
                continue
            if flagged and node.hyphens:
                demerits += double_hyphen
            if forced and node.hyphens:
                demerits += final_hyphen
            fitness = _fitness(ratio, forced, set_tolerance)
            if fitness != WILD and node.fitness != WILD and abs(fitness - node.fitness) > 1:
                demerits += adjacent
            wide: tuple | None = None  # (start, end, where the line starts, extra per space), worked out if needed
            if ratio > 0 and not forced and rivers is not None and stretch_b - node.total_stretch > 0:
                demerits, wide = rivers.demerits(node, b, ratio, natural, letters_cap, demerits)
            total = node.demerits + demerits
            new_key = (b, fitness, hyphens, node.line + 1)
            best = candidates.get(new_key)
            if best is None or total < best.demerits:
                candidates[new_key] = _Node(b, node.line + 1, fitness, hyphens, 0, 0, 0, 0, total, ratio, node,
                                            wide=wide)
        if not candidates and fallback is not None and (not active or forced):
            candidates[(b, 1, 0, fallback.line)] = fallback
        if candidates:
            _activate(items, sums, b, candidates, active)
    return _finals(active, len(items))


def _fitness(ratio: float, forced: bool, tolerance: float) -> int:
    """A line's fitness class: tight (0), decent (1), loose (2), very loose (3); ``WILD`` past the
    ``tolerance`` (a line that cannot be set well does not make its neighbours loose too)."""
    if ratio > tolerance:
        return WILD
    if forced:
        return 1
    return 0 if ratio < -0.5 else 1 if ratio <= 0.5 else 2 if ratio <= 1.0 else 3


class _Rivers:
    """The demerits of a pass's loose lines for their wide spaces (``_breakpoints``, with
    ``river_demerits``): each line's worked out from the same sums, in the same order, as the loop
    that asks."""

    def __init__(self, items: list[Item], settings: Settings, sums: _Sums, space: float) -> None:
        self.items, self.settings, self.sums, self.space = items, settings, sums, space
        self.gaps: dict[tuple, tuple] = {}  # a line's wide gaps, the same from every node at its start

    def demerits(self, node: _Node, b: int, ratio: float, natural: float, letters_cap: float,
                 demerits: float) -> tuple[float, tuple | None]:
        """A loose line's ``demerits`` (from ``node`` to break ``b``, at ``ratio``, ``natural`` wide,
        ``letters_cap`` the most its letter-spacing may take, as the ratio was worked out with)
        with those for its wide spaces added: too loose, and overlapping the wide spaces of the line
        above (a river); and how to find its own wide spaces, if it has any (``_Node.wide``).

        A gap is worked out as ``_set_line`` sets the line: the spaces' first share, the letter-spacing
        up to its bound, the spaces again; a gap also shows the letter-spacing either side of it (a
        letter's about half the size)."""
        settings, sums, space = self.settings, self.sums, self.space
        stretch_here = sums.stretches[b] - node.total_stretch
        scale_cap = settings.scaling * natural
        excess = ratio * (stretch_here + letters_cap + scale_cap)
        spaces = sums.glues_before[b] - sums.glues_before[node.position + 1]
        first = min(excess, settings.spaces_first * stretch_here)
        lettered = min(excess - first, letters_cap)
        scaled = min(excess - first - lettered, scale_cap)
        extra = (excess - lettered - scaled) / spaces if spaces else 0.0
        if letters_cap:
            extra += 2 * (lettered / letters_cap) * settings.tracking * 0.5 * settings.size
        if spaces and settings.loose_demerits and space + extra > 2.0 * space:
            demerits += settings.loose_demerits
        if not spaces or space + extra < (WIDE - 0.15) * space:
            return demerits, None
        wide = (node.position + 1, b, node.total_width, extra)
        above = node.wide_gaps(self.items, sums.glues, sums.widths, space)
        if above:
            here = self.gaps.get(wide)
            if here is None:
                here = self.gaps[wide] = _wide_gaps(self.items, sums.glues, sums.widths, *wide, space)
            demerits += settings.river_demerits * _overlaps(here, above)
        return demerits, wide


def _activate(items: list[Item], sums: _Sums, b: int, candidates: dict[tuple, _Node],
              active: dict[tuple, _Node]) -> None:
    """Make the ``candidates`` that end a line at break ``b`` active, their sums (``_Node.total_*``)
    taken past the glue and penalties that follow the break (they vanish at a line's start), up to the
    next box or forced break."""
    width, stretch, shrink, glyphs = sums.widths[b], sums.stretches[b], sums.shrinks[b], sums.glyphs[b]
    after, n = b, len(items)
    while after < n and items[after].kind != "box":
        if items[after].kind == "penalty" and items[after].penalty <= -INF and after > b:
            break
        if items[after].kind == "glue":
            width += items[after].width
            stretch += items[after].stretch
            shrink += items[after].shrink
        after += 1
    for key, node in candidates.items():
        node.total_width, node.total_stretch, node.total_shrink, node.total_glyphs = width, stretch, shrink, glyphs
        active[key] = node


def _finals(active: dict[tuple, _Node], n: int) -> dict[int, _Node]:
    """The best node that ends the paragraph (at item ``n - 1``) for each line count."""
    finals: dict[int, _Node] = {}
    for node in active.values():
        if node.position == n - 1 and (node.line not in finals or node.demerits < finals[node.line].demerits):
            finals[node.line] = node
    return finals


OVER = 10_000.0
EMERGENCY = 20.0
"""The largest adjustment ratio of the emergency pass (spaces of 21x), before one that allows any: a
pass that allows any line makes every break reachable from every other (most of the breaker's time
went to the few paragraphs that needed it)."""
"""Badness added, in the first pass, to a line looser than ``tolerance`` (but within ``acceptable``):
such a line is taken only where nothing tighter can be had, and the pass's other line counts (for
looseness) come from the same run."""


def break_paragraph(items: list[Item], settings: Settings) -> Paragraph:
    """Choose the lines of a paragraph: within ``tolerance`` if it can be (a line up to ``acceptable``
    only where it must), then within ``second``, then anything (the emergency pass)."""
    wide = max(settings.acceptable, settings.tolerance)
    sums = _sums(items)
    for passes, tolerance, emergency, over in ((1, wide, False, OVER), (2, max(settings.second, wide), False, 0.0),
                                               (3, EMERGENCY, False, 0.0), (3, 1000.0, True, 0.0)):
        finals = _breakpoints(items, settings, tolerance, emergency, over, sums)
        if not finals:
            continue
        best = min(finals.values(), key=lambda node: node.demerits)
        memo: dict[tuple[int, bool], SetLine] = {}  # the settings' chains share nodes, and so lines
        lines = _lines(items, best, settings, memo)
        if passes == 1 and any(line.ratio > settings.tolerance for line in lines[:-1]):
            passes = 2
        alternatives = {}
        if not emergency:  # a line or two longer, or a line shorter, if no line of it is looser than ``acceptable``
            for delta in (1, 2, -1):
                other = finals.get(best.line + delta)
                if other is not None and _loosest(other) <= wide:
                    alternatives[delta] = other
        return Paragraph(lines, passes, _Settings(items, settings, alternatives, memo))
    raise AssertionError("the emergency pass always sets a paragraph")


def _loosest(last: _Node) -> float:
    """The largest adjustment ratio of the lines before the last of the chain of breaks that ends at
    ``last``, as ``_set_line`` records them."""
    ratios = []
    node = last.previous
    while node is not None and node.previous is not None:
        ratios.append(round(node.ratio, 4))
        node = node.previous
    return max(ratios, default=0.0)


class _Settings(Mapping[int, tuple[SetLine, ...]]):
    """A paragraph's settings a line or two longer or a line shorter (``Paragraph.alternatives``): which
    there are is known from the breaks; the lines of one are set when it is asked for (the one a line
    shorter never is, by the composer)."""

    def __init__(self, items: list[Item], settings: Settings, ends: dict[int, _Node],
                 memo: dict[tuple[int, bool], SetLine]) -> None:
        self._items, self._settings, self._ends, self._memo = items, settings, ends, memo
        self._set: dict[int, tuple[SetLine, ...]] = {}

    def __getitem__(self, delta: int) -> tuple[SetLine, ...]:
        if delta not in self._set:
            self._set[delta] = _lines(self._items, self._ends[delta], self._settings, self._memo)
        return self._set[delta]

    def __contains__(self, delta: object) -> bool:
        return delta in self._ends

    def __iter__(self) -> Iterator[int]:
        return iter(self._ends)

    def __len__(self) -> int:
        return len(self._ends)


def _lines(items: list[Item], last: _Node, settings: Settings,
           memo: dict[tuple[int, bool], SetLine] | None = None) -> tuple[SetLine, ...]:
    """The lines of the chain of breaks that ends at ``last``. ``memo``: the lines already set for
    nodes of this run of the breaker (a line is its node's: the node fixes where it starts and ends)."""
    chain = []
    node: _Node | None = last
    while node is not None and node.previous is not None:
        chain.append(node)
        node = node.previous
    chain.reverse()
    out = []
    start = 0
    for index, node in enumerate(chain):
        end = node.position
        while start < end and items[start].kind != "box" and not (index == 0 and start == 0):
            start += 1
        key = (id(node), index == len(chain) - 1)
        line = memo.get(key) if memo is not None else None
        if line is None:
            line = _set_line(items, start, end, node, settings, index == len(chain) - 1)
            if memo is not None:
                memo[key] = line
        out.append(line)
        start = end + 1
    return tuple(out)


def _set_line(items: list[Item], start: int, end: int, node: _Node, settings: Settings, last: bool) -> SetLine:
    """How a chosen line is set: word spaces first (from 90 % to 130 % of natural: ``shrink_first``,
    ``spaces_first``), then, when the paper allows it, letter-spacing up to ``tracking`` of the glyphs'
    width (which costs the line its ligatures, as Pango drops them from letter-spaced text), then glyph
    scaling up to ``scaling`` (``scaling_in``), then the spaces again (down to 80 %)."""
    # the line's material read in one pass (each sum over the same items in the same order as before)
    word_spaces: list[Item] = []
    drawn: list[float] = []  # widths of the boxes and glue
    glyph_widths: list[float] = []  # of the boxes that draw something
    glue_shrinks: list[float] = []
    fill = False  # the paragraph's \parfillskip
    for entry in items[start:end]:
        kind = entry.kind
        if kind == "glue":
            if entry.stretch < 1000:
                word_spaces.append(entry)
            else:
                fill = True
            glue_shrinks.append(entry.shrink)
            drawn.append(entry.width)
        elif kind == "box":
            drawn.append(entry.width)
            if entry.pieces:
                glyph_widths.append(entry.width)
    last = last and fill
    spaces = len(word_spaces)
    natural = sum(drawn)
    glyph_width = sum(glyph_widths)
    hyphenated = items[end].kind == "penalty" and items[end].flagged and items[end].width > 0
    if hyphenated:
        natural += items[end].width
    ratio = node.ratio
    if last and ratio > 0:
        ratio = 0.0
    glue_stretch = sum(i.stretch for i in word_spaces)
    glue_shrink = sum(glue_shrinks)
    excess = 0.0 if last and node.ratio >= 0 else settings.measure - natural
    if last and spaces and excess == 0.0 and natural > settings.measure - EDGE_SAFETY - SLACK:
        # a last line that all but fills the measure is set a hair short, as a full one (left as it is,
        # one was drawn 0.001 pt past its column on the benchmark's 8 pages)
        excess = min(settings.measure - natural, 0.0) - 1e-3  # spaces shrunk: the margins below apply
    runs = _line_runs(items, start, end, hyphenated)
    tracking = 0.0
    space_part = excess
    first_in = settings.shrink_first * glue_shrink
    spaces_only = -first_in <= excess <= settings.spaces_first * glue_stretch
    # a last line wider than its spaces can take in (a piece of an address, a long word) takes what the others may
    squeezed = last and excess < -glue_shrink - 1e-9
    if settings.tracking and not node.overfull and not spaces_only and (not last or squeezed):
        plain = _plain_width(items, start, end, hyphenated, _shaper_of(settings))
        plain += sum(items[i].width for i in range(start, end) if items[i].kind == "box" and not items[i].pieces)
        # Pango gives every glyph of the line (its spaces too) the letter-spacing; WeasyPrint's
        # justification takes up what the spaces' share leaves over. The letter-spacing is one that
        # WeasyPrint draws where it lays it out (``exact_tracking``), so the line ends where its box does.
        chars = sum(len(run.text) for run in runs)
        letters = max(chars - spaces, 1)
        wanted = settings.measure - plain  # without ligatures
        space_part = min(max(wanted, -first_in), settings.spaces_first * glue_stretch)
        limit = settings.tracking * glyph_width / letters
        spaced = chars
        if not spaces:  # nothing to take up a letter-spacing rounded up: it must not end past the measure,
            # where its last glyph ends (the letter-spacing after it is not drawn)
            space_part, spaced = 0.0, max(chars - 1, 1)
            wanted -= EDGE_SAFETY
        tracking = min(max((wanted - space_part) / spaced, -limit), limit)
        tracking = exact_tracking(tracking, settings.size, limit, at_most=not spaces) / 1024  # within the bound
        space_part = wanted - tracking * spaced
        natural = plain
    scale = 1.0
    if (settings.scaling or settings.scaling_in) and not node.overfull and (not last or squeezed) and not (
            -first_in - 1e-6 <= space_part <= settings.spaces_first * glue_stretch + 1e-6):
        # Glyph scaling (the whole line drawn up to ``scaling`` wider or narrower, its box laid out at
        # the measure / scale): what the spaces and the letter-spacing leave over, to the spaces' first share.
        # A line with no word space (a piece of a long word or an address) is scaled too, as the
        # breaker counted it, never wider than the measure: it has no space to take up the rest.
        content = settings.measure - space_part
        target = min(max(space_part, -first_in), settings.spaces_first * glue_stretch)
        scale = min(max(settings.measure / (content + target), 1 - settings.scaling_in), 1 + settings.scaling)
        rounded = math.trunc if spaces else math.floor  # in thousandths, towards 1 (or down): within the bound
        scale = rounded(round((scale - 1) * 1000, 9)) / 1000 + 1
        space_part = settings.measure / scale - content
    margin = 0.0
    if spaces and (not last or space_part < 0) or tracking or scale != 1.0:
        margin = EDGE_SAFETY + (TIGHT_BIAS if space_part < 0 else 0.0) - tracking
        margin = round(margin * 100) / 100  # as the class says
    if spaces and (not last or space_part < 0):
        space_part -= SLACK + margin  # a hair short of the box: WeasyPrint's justification takes up the rest
    if scale != 1.0:  # the box's margin against the measure: laid out at the measure / scale, less the margin
        margin = round((settings.measure - settings.measure / scale + margin + SCALED_SAFETY) * 100) / 100
    spacing = space_part / spaces if spaces else 0.0
    text = "".join(run.text for run in runs)
    gaps = []
    x = 0.0
    for i in range(start, end):
        item = items[i]
        if item.kind == "box":
            x += item.width + tracking * item.hyphen
        elif item.kind == "glue" and item.stretch < 1000:
            # the gap seen: the space and its spacing, and the letter-spacing of the word's last letter
            gaps.append((round(x - tracking, 3), round(x + item.width + spacing + tracking, 3)))
            x += item.width + spacing + tracking
    if scale != 1.0:
        gaps = [(round(a * scale, 3), round(b * scale, 3)) for a, b in gaps]
    mid_word = items[end].kind == "penalty" and -INF < items[end].penalty < INF
    return SetLine(start, end, round(ratio, 4), round(spacing, 4), tracking, hyphenated, spaces,
                   round(natural, 3), text, round(node.overfull, 3), tuple(gaps), mid_word, scale, margin)


def _plain_width(items: list[Item], start: int, end: int, hyphenated: bool, shaper: Shaper) -> float:
    """The width of a line's material without ligatures (as Pango sets letter-spaced text): each word
    shaped by itself (as WeasyPrint draws it: no kerning across a space), plus its spaces."""
    total, word = 0.0, list[Piece]()
    for i in range(start, end + 1):
        item = items[i]
        if i < end and item.kind == "box":
            word += item.pieces
            continue
        if i == end and hyphenated and word:
            word.append(Piece(HYPHEN, word[-1].tags))
        if item.kind == "glue" or i == end:
            merged: list[Piece] = []
            for piece in word:
                if merged and merged[-1].tags == piece.tags:
                    merged[-1] = Piece(merged[-1].text + piece.text, piece.tags)
                else:
                    merged.append(piece)
            total += sum(shaper.width(p.text, *_style(p), liga=False) for p in merged)
            word = []
            if i < end:
                total += item.width
    return total


def _line_runs(items: list[Item], start: int, end: int, hyphenated: bool) -> list[Piece]:
    """A line's text as styled runs (neighbours in the same elements merged), with its hyphen."""
    runs: list[Piece] = []
    for i in range(start, end):
        item = items[i]
        if item.kind == "box" or item.kind == "glue" and item.stretch < 1000 and runs:
            runs += item.pieces
    if hyphenated and runs:
        runs.append(Piece(HYPHEN, runs[-1].tags))
    merged: list[Piece] = []
    for run in runs:
        if merged and merged[-1].tags == run.tags:
            merged[-1] = Piece(merged[-1].text + run.text, run.tags)
        else:
            merged.append(run)
    return merged


def _words(items: list[Item], start: int, end: int) -> list[str]:
    words, current = [], ""
    for i in range(start, end):
        item = items[i]
        if item.kind == "box":
            current += "".join(p.text for p in item.pieces)
        elif item.kind == "glue":
            if current:
                words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


# ---- HTML for WeasyPrint ----------------------------------------------------------------------------


def line_html(items: list[Item], line: SetLine) -> str:
    """A line's inline HTML: its runs in their elements, its spaces, the hyphen at a break."""
    merged = _line_runs(items, line.start, line.end, line.hyphenated)
    out = []
    for run in merged:
        text = htmllib.escape(run.text, quote=False)
        for tag, attrs in reversed(run.tags):
            attributes = "".join(f' {k}="{htmllib.escape(v)}"' for k, v in attrs)
            text = f"<{tag}{attributes}>{text}</{tag}>"
        out.append(text)
    return "".join(out)





BASE_SPACING = -0.15
"""The word spacing (em) of every justified line of a set paragraph (``newspaper.css``: ``p.set > .ln``):
WeasyPrint's justification opens it to what fills the line, which is the spacing the breaker chose
(its spaces are the only thing left to stretch). Below any line's chosen spacing (a line whose spaces
shrink to 80 % takes about -0.44 pt a space, less its margin), and never 0 (see ``paragraph_html``)."""


def paragraph_html(items: list[Item], lines: tuple[SetLine, ...], classes: set[str] | None = None,
                   size: float = 9.0) -> str:
    """The chosen lines as WeasyPrint is to draw them: each a ``.ln`` block whose classes give its
    letter-spacing (``t96``: 96/1024 pt), how much narrower or wider its box is (``m5``: 0.05 pt
    narrower, ``m-4``: 0.04 pt wider; see below) and, only where the stylesheet's does not do, its word
    spacing (``w123``: 1.23 pt). A justified line is laid out at the stylesheet's ``BASE_SPACING``
    (never 0: WeasyPrint lays a line without word-spacing out with a comma's kerning against the next
    space, then draws it without) and justified by WeasyPrint to the end of its box: its spaces take
    what its letters leave, the spacing the breaker chose. So most lines share their classes, and
    WeasyPrint computes one style for them all (it shares the computed style of elements that match
    the same rules), where a class for each line's spacing made it compute every line's. A line set
    tighter than the base (an overfull line), and a paragraph's last line if its spaces are not
    natural, keep a ``w`` class. Classes, not ``style`` attributes: WeasyPrint parses each style
    attribute by itself, which cost more than laying the lines out. ``classes`` collects the classes
    used (see ``spacing_css``)."""
    out = []
    base = BASE_SPACING * size + 0.02
    for line in lines:
        names = ["ln"]
        if line.start == 0 and items and items[0].kind == "box" and not items[0].pieces:
            names.append("ind")  # the paragraph's indent, whatever its classes say (see newspaper.css)
        last = line is lines[-1]
        if line.spaces and not last and line.spacing < base or last and abs(line.spacing) > 0.005:
            names.append(f"w{round(line.spacing * 100) or (1 if line.spacing >= 0 else -1)}")
        units = round(line.tracking * 1024)
        if units:
            names.append(f"t{units}")
        if line.scale != 1.0:
            names.append(f"s{round(line.scale * 1000)}")  # glyph scaling: s1015 draws the line 101.5 % wide
        if line.margin:
            # The line's box made narrower by a safety margin (``m5``: 0.05 pt; see ``SetLine.margin``),
            # and, if the line is letter-spaced (``t96``: 96/1024 pt), wider by one letter-spacing:
            # WeasyPrint counts one after the line's last glyph, which is not drawn.
            names.append(f"m{round(line.margin * 100)}")
        if classes is not None:
            classes.update(n for n in names[1:] if n != "ind")
        out.append(f'<span class="{" ".join(names)}">{line_html(items, line)}</span>')
    return "".join(out)


def spacing_css(classes: set[str], scaled_by_plates: bool = False) -> str:
    """The rules for the spacing classes of ``paragraph_html``. ``scaled_by_plates``: the glyph-scaling
    classes (``s1015``) get no rule: the line is laid out as it would be (its box at the measure / scale
    is its ``m`` class's) and drawn unscaled, and the plates draw it scaled from its box's left edge
    (``press/assemble.py``, from ``Galley.scaled``): the same glyph positions as
    ``transform: scaleX()``, without the stacking context WeasyPrint makes for every transformed box."""
    rules = []
    for name in sorted(classes - {"ind"}):
        value = int(name[1:])
        if name[0] == "w":
            rules.append(f".ln.{name}{{word-spacing:{value / 100:.2f}pt}}")
        elif name[0] == "m":
            rules.append(f".ln.{name}{{margin-right:{value / 100:.2f}pt}}")
        elif name[0] == "s":
            if not scaled_by_plates:
                rules.append(f".ln.{name}{{transform:scaleX({value / 1000:.3f});transform-origin:0 0}}")
        else:
            rules.append(f".ln.{name}{{letter-spacing:{value / 1024}pt}}")
    return "<style>" + "".join(rules) + "</style>"


# ---- The galley's paragraphs, in a worker -----------------------------------------------------------

_MARKED = re.compile(r'<p ([^>]*?)data-lb="([^"]*)"(?: data-full="([^"]*)")?>(.*?)</p>', re.S)
_LIMIT = re.compile(r"hyphenate-limit-chars\s*:\s*(\d+)\s+(\d+)\s+(\d+)")


_TOTAL_FIT_LIMIT = re.compile(r"\.total-fit\s*\{[^}]*?hyphenate-limit-chars\s*:\s*(\d+)\s+(\d+)\s+(\d+)")


def house_limit(css: str) -> tuple[int, int, int]:
    """The body's ``hyphenate-limit-chars`` under total-fit (the rule of ``.frame.total-fit``; else the
    first in the house stylesheet), or (6, 3, 3)."""
    found = _TOTAL_FIT_LIMIT.search(css) or _LIMIT.search(css)
    return (int(found[1]), int(found[2]), int(found[3])) if found else (6, 3, 3)


@dataclass
class Report:
    """What the breaker did to a document's paragraphs: for the fit report."""

    paragraphs: dict[str, dict] = field(default_factory=dict)
    """By element id: lines, pass, worst ratio, the line counts it could also take, overfull points."""


SET_ID = "data-id"
"""The attribute a set paragraph's id is moved to (the galley reader reads it: ``galley._blocks``).
WeasyPrint gives every element with an ``id`` a declaration of its own (its anchor), and so a computed
style of its own, which its children then cannot share either: with the id, the lines of each
paragraph were styled afresh (263 computed styles for the 322 lines of one of bench-16's galley
sheets; 153 without: the lines of a galley that share their classes share one; the galley's own
``div``s have ids, so galleys do not share). WeasyPrint's layout of bench-16's 19 galley documents
in one process, CPU: 4.09 -> 3.32 s; 3.1-3.3 -> 2.9-3.1 s with its UA stylesheet's universal
pseudo-element rules taken out (load 2-5: noisy)."""


def set_marked(document: str, fonts: Path, limit: tuple[int, int, int] = (6, 3, 3),
               loose: frozenset[str] = frozenset(), report: Report | None = None,
               scaled_by_plates: bool = False) -> str:
    """Set every paragraph the templates marked (``data-lb``) as chosen lines (see ``paragraph_html``).

    ``loose``: ids of paragraphs to set a line longer where that is acceptable (``fit: loose``).
    ``scaled_by_plates``: the glyph-scaled lines drawn unscaled, for the plates to scale (``spacing_css``)."""

    stamp = fonts_stamp(Path(fonts))

    def one(match: re.Match, classes: set[str]) -> str:
        before, spec, full, inner = match.group(1), match.group(2), match.group(3), match.group(4)
        measure, indent, size, tracking, part, longer, *scaling = spec.split()
        scale = float(scaling[0]) if scaling else 0.0
        settings = Settings(float(measure), float(size), float(indent), tracking=float(tracking),
                            scaling=scale, scaling_in=scale, fonts=str(fonts), fonts_stamp=stamp,
                            limit=limit)
        ident = re.search(r'id="([^"]*)"', before)
        key = ident.group(1) if ident else ""
        try:
            body = _set(inner, htmllib.unescape(full) if full else None, part, settings,
                        1 if key in loose else int(longer), report, key, classes)
        except ValueError:
            return match.group(0)  # not plain inline markup: WeasyPrint sets it itself
        found = re.search(r'class="([^"]*)"', before)
        attributes = before.replace(found.group(0), f'class="{(found.group(1) + " set").strip()}"') \
            if found else before + ' class="set"'
        if ident:  # the paragraph's id as data-id (see ``SET_ID``)
            attributes = attributes.replace(ident.group(0), f'{SET_ID}="{ident.group(1)}"', 1)
        return f"<p {attributes.strip()}>{body}</p>"

    classes: set[str] = set()
    out = _MARKED.sub(lambda match: one(match, classes), document)
    if classes:
        css = spacing_css(classes, scaled_by_plates)
        out = out.replace("</head>", css + "</head>", 1) if "</head>" in out else css + out
    return out


@functools.lru_cache(maxsize=1024)  # about 21 kB a paragraph; a 16-page issue sets some 540
def _broken(inner: str, settings: Settings, justify_last: bool) -> tuple[list[Item], Paragraph]:
    items = items_of(pieces_of(inner), settings)
    if justify_last:  # a part of a paragraph ending at a jump: its last line is justified too
        items[-2] = Item("glue", 0.0, 0.0, 0.0)
    return items, break_paragraph(items, settings)


def _set(inner: str, full: str | None, part: str, settings: Settings, loose: int, report: Report | None,
         key: str, classes: set[str] | None = None) -> str:
    count = len(_SPACE.split(htmllib.unescape(re.sub(r"<[^>]+>", "", inner)).strip()))
    lines: tuple[SetLine, ...] | None = None
    if full is not None and part in ("pre", "suf"):
        whole = settings if part == "pre" else replace_indent(settings, 0.0)
        items, paragraph = _broken(full, whole, False)
        chosen = _choose(paragraph, loose)
        # The plates draw the rows of the whole paragraph's galley up to the jump's cut and from
        # it on: a part is the lines of the whole that hold its first (or last) word. (A jump that
        # cut a hyphenated word moves it over whole: its line ends the first part as the galley
        # has it.)
        starts = _word_starts(chosen)
        total = _word_count(chosen)
        if part == "pre":
            lines = tuple(line for line, first in zip(chosen, starts) if first < count)
        else:
            before = [i for i, first in enumerate(starts) if first < total - count]
            lines = chosen[before[-1] + 1:] if before else chosen
        if not lines:
            lines = None
    if lines is None:
        items, paragraph = _broken(inner, settings, part == "pre")
        lines = _choose(paragraph, loose)
    if report is not None:
        report.paragraphs[key] = {
            "lines": len(lines), "pass": paragraph.passes,
            "worst": round(max((seen_ratio(x, _shaper_of(settings).width(" "))
                                for x in lines[:-1] if x.spaces), default=1.0), 3),
            "longer": 1 in paragraph.alternatives, "shorter": -1 in paragraph.alternatives,
            "longer_worst": _worst(paragraph, 1, settings), "longer2_worst": _worst(paragraph, 2, settings),
            "longer_loose": _added_loose(paragraph, 1, settings), "longer2_loose": _added_loose(paragraph, 2, settings),
            "loosened": loose if loose in paragraph.alternatives else 0,
            "overfull": round(sum(x.overfull for x in lines), 2),
            "ratios": [round(seen_ratio(x, _shaper_of(settings).width(" ")), 3) if x.spaces
                       else None for x in lines],
            # plain lists (as read back from the layout cache: the plates' keys hash the galley's repr)
            "gaps": [[[a, b] for a, b in x.gaps] for x in lines], "hyphens": [x.hyphenated for x in lines],
            "text": [x.text for x in lines], "tracked": [bool(x.tracking) for x in lines],
            "scaled": [x.scale for x in lines],
            "space": round(_shaper_of(settings).width(" "), 4)}
    return paragraph_html(items, lines, classes, settings.size)


def _added_loose(paragraph: Paragraph, longer: int, settings: Settings) -> int | None:
    """How many more lines wider than 2x (spaces and the letter-spacing either side, as measured) the
    paragraph's setting ``longer`` lines longer has than its setting."""
    if longer not in paragraph.alternatives:
        return None
    space = _shaper_of(settings).width(" ")

    def loose(lines: tuple[SetLine, ...]) -> int:
        return sum(1 for x in lines[:-1] if x.spaces and seen_ratio(x, space, letters=True) > 2.0)

    return loose(paragraph.alternatives[longer]) - loose(paragraph.lines)


def _worst(paragraph: Paragraph, longer: int, settings: Settings) -> float | None:
    """The loosest line (in natural spaces) of the paragraph's setting ``longer`` lines longer."""
    if longer not in paragraph.alternatives:
        return None
    space = _shaper_of(settings).width(" ")
    return round(max((seen_ratio(x, space) for x in paragraph.alternatives[longer][:-1] if x.spaces),
                     default=1.0), 3)


def seen_ratio(line: SetLine, space: float, letters: bool = False) -> float:
    """A line's word spaces as drawn, in natural spaces: its spacing, scaled with its glyphs (and,
    with ``letters``, the letter-spacing either side of each, as the PDF's gaps show it)."""
    return line.scale * (1 + (line.spacing + (2 * line.tracking if letters else 0.0)) / space)


def replace_indent(settings: Settings, indent: float) -> Settings:
    return replace(settings, indent=indent)


def _choose(paragraph: Paragraph, longer: int) -> tuple[SetLine, ...]:
    """The paragraph's lines, or its setting ``longer`` lines longer if it has one."""
    return paragraph.alternatives.get(longer, paragraph.lines) if longer else paragraph.lines


def _word_starts(lines: tuple[SetLine, ...]) -> list[int]:
    """The index (in the paragraph's words) of the word each line starts in (for a line that starts
    with the rest of a word broken at the line before, that word's)."""
    starts, at, mid = [], 0, False
    for line in lines:
        starts.append(at - 1 if mid else at)
        at += len(line.text.split()) - (1 if mid else 0)
        mid = line.mid_word
    return starts


def _word_count(lines: tuple[SetLine, ...]) -> int:
    return sum(len(line.text.split()) for line in lines) - sum(1 for line in lines if line.mid_word)
