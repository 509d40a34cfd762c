"""ALTO 4.4 for each page, written from what the composer knows and what the plate prints (no OCR).

The words and their boxes are the plate's own: read back from the plate PDF as pdfplumber's words
(the plate is what was printed), in the order the plate draws them (``plate_words``: pdfminer's
characters, each content stream tokenised by qpdf). The composer says what each word is:
its page view places every slot (its top matter, its body frame, its jump line), so a word inside a
slot's box belongs to that article; above the frame it is top matter (kicker, headline, standfirst,
caption, byline: told apart by matching the article's own texts in order), in the frame it is body
(split into one text block per column), below it the jump line; outside every slot it is the page's
furniture (nameplate, folio, imprint). Each run of words with one article, role and column is a
``TextBlock`` (in the plate's order; ``IDNEXT`` links each article's blocks in reading order)
tagged with the article (``StructureTag``, ID ``ART_<slug>``) and its role
(``LayoutTag``, ID ``ROLE_<role>``), styled by its role (``ParagraphStyle`` ``PS_<role>``) and its
first word's font, each line a ``TextLine``, each word a ``String`` with its box
and font (``TextStyle``). A word hyphenated at a line end (found in the article's text whole) is
``SUBS_TYPE`` HypPart1 / HypPart2 with ``SUBS_CONTENT``, the hyphen a ``HYP`` with its own box (the
first part's box is the word as printed, hyphen included). Photos are ``Illustration`` blocks.
Measurements are in 1/10 mm (``mm10``) from the page's top-left corner (the page image's origin).
"""

from __future__ import annotations

import decimal
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

import pdfplumber
import pikepdf
from pdfminer.pdfcolor import PDFColorSpace
from pdfminer.pdfdevice import PDFTextDevice
from pdfminer.pdffont import PDFFont, PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFGraphicState, PDFPageInterpreter, PDFResourceManager
from pdfminer.pdftypes import PDFStream, stream_value
from pdfminer.psparser import LIT
from pdfminer.utils import Matrix, Rect, apply_matrix_rect, mult_matrix
from pdfplumber.utils.text import extract_words

from ..composing.markup import PageView, SlotView
from ..reading.settings import PaperSettings

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
ALTO_SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
MM10 = 254 / 72
"""1/10 mm in a point."""


@dataclass(frozen=True)
class Word:
    """A word as the plate prints it: text, box (points from the page's top-left), font and size."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    font: str
    size: float
    hyphen_x0: float | None = None
    """Where a trailing hyphen starts (the word's last character is ``-``)."""


def plate_words(pdf: bytes, page: int = 0) -> tuple[list[Word], list[tuple[float, float, float, float]],
                                                    tuple[float, float], tuple[float, float]]:
    """The words of page ``page`` of ``pdf`` in the order it draws them, its images' boxes, the page
    size and the trim box's top-left corner (points from the page's top-left).

    The words are pdfplumber's (``Page.extract_words(use_text_flow=True)``), made from the characters
    pdfminer places, without pdfplumber's layout objects for every character, path and colour (it
    keeps the few numbers a word needs, worked out as pdfplumber works them out) and with each content
    stream tokenised by qpdf (pikepdf) instead of pdfminer's Python parser: the same words and boxes,
    to the last bit, in a third of the time (README: Speed)."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        p = document.pages[page]
        device = _Characters(document.rsrcmgr, float(p.height), p.mediabox[0], p.mediabox[1], p.initial_doctop)
        try:
            _Interpreter(document.rsrcmgr, device).process_page(p.page_obj)
            found, images = extract_words(device.chars, use_text_flow=True, return_chars=True), device.images
        except _Vertical:
            found = p.extract_words(use_text_flow=True, return_chars=True)
            images = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in p.images]
        words = []
        for w in found:
            chars = w["chars"]
            last = chars[-1]
            hyphen = last["x0"] if w["text"].endswith("-") and len(chars) > 1 else None
            words.append(Word(w["text"], w["x0"], w["top"], w["x1"], w["bottom"],
                              str(chars[0]["fontname"]), float(chars[0]["size"]), hyphen))
        trim = p.page_obj.attrs.get("TrimBox") or p.mediabox
        trim = [float(v) for v in (trim.resolve() if hasattr(trim, "resolve") else trim)]
        corner = (trim[0] - float(p.mediabox[0]), float(p.mediabox[3]) - trim[3])
        return words, images, (float(p.width), float(p.height)), corner


class _Characters(PDFTextDevice):
    """pdfminer's device for ``plate_words``: each character as pdfplumber's ``Page.chars`` gives it
    (text, box, doctop, upright, size, font: ``LTChar``'s arithmetic, then pdfplumber's flip to the
    page's top-left) and each image's box as ``Page.images`` does (its figure's box); paths and
    colours, which no word needs, are left alone. Vertical writing (which WeasyPrint never writes)
    is read by pdfplumber itself (``_Vertical``)."""

    def __init__(self, rsrcmgr: PDFResourceManager, height: float, mb_x0: float, mb_top: float,
                 doctop: float) -> None:
        super().__init__(rsrcmgr)
        self.chars: list[dict[str, object]] = []
        self.images: list[tuple[float, float, float, float]] = []
        self._figures: list[tuple[float, float, float, float]] = []
        self._height, self._mb_x0, self._mb_top, self._doctop = height, mb_x0, mb_top, doctop

    def begin_figure(self, name: str, bbox: Rect, matrix: Matrix) -> None:
        assert self.ctm is not None
        x, y, w, h = bbox  # as LTFigure takes it
        self._figures.append(apply_matrix_rect(mult_matrix(matrix, self.ctm), (x, y, x + w, y + h)))

    def end_figure(self, name: str) -> None:
        self._figures.pop()

    def render_image(self, name: str, stream: PDFStream) -> None:
        self.images.append(self._placed(*self._figures[-1]))

    def _placed(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        """A box from pdfminer's device space to pdfplumber's: (x0, top, x1, bottom)."""
        top = (self._height - y1) + self._mb_top
        bottom = (self._height - y0) + self._mb_top
        if self._mb_x0 != 0:
            x0, x1 = x0 + self._mb_x0, x1 + self._mb_x0
        return x0, top, x1, bottom

    def render_char(self, matrix: Matrix, font: PDFFont, fontsize: float, scaling: float, rise: float,
                    cid: int, ncs: PDFColorSpace, graphicstate: PDFGraphicState) -> float:
        if font.is_vertical():
            raise _Vertical
        try:
            text = font.to_unichr(cid)
        except PDFUnicodeNotDefined:
            text = f"(cid:{cid})"  # as PDFLayoutAnalyzer.handle_undefined_char
        adv = font.char_width(cid) * fontsize * scaling
        descent = font.get_descent() * fontsize
        a, b, c, d, _, _ = matrix
        x0, y0, x1, y1 = apply_matrix_rect(matrix, (0, descent + rise, adv, descent + rise + fontsize))
        if x1 < x0:
            x0, x1 = x1, x0
        if y1 < y0:
            y0, y1 = y1, y0
        px0, top, px1, bottom = self._placed(x0, y0, x1, y1)
        self.chars.append({"text": text, "x0": px0, "x1": px1, "top": top, "bottom": bottom,
                           "doctop": self._doctop + top, "upright": a * d * scaling > 0 and b * c <= 0,
                           "size": y1 - y0, "fontname": font.fontname})
        return adv


class _Vertical(Exception):
    """A vertical font: ``plate_words`` reads the page with pdfplumber itself."""


class _Interpreter(PDFPageInterpreter):
    """pdfminer's interpreter, each content stream tokenised by qpdf: the same operators with the
    same operands (pdfminer's types: int, float, bytes, literal names, lists, dicts) in the same
    order, run by pdfminer's own ``do_*`` methods and argument stack. A stream pdfminer would read
    differently or that qpdf warns about (an inline image, several streams in one, a name with
    ``#`` escapes or beyond ASCII, a syntax error) is read by pdfminer's parser, as before."""

    def execute(self, streams: Sequence[object]) -> None:
        program = self._program(streams)
        if program is None:
            super().execute(streams)
            return
        methods = _METHODS
        for operands, name in program:
            self.argstack.extend(operands)
            if name not in methods:
                method = "do_" + name.replace("*", "_a").replace('"', "_w").replace("'", "_q")
                methods[name] = getattr(PDFPageInterpreter, method, None)
            func = methods[name]
            if func is not None:
                nargs = func.__code__.co_argcount - 1
                if nargs:
                    args = self.pop(nargs)
                    if len(args) == nargs:
                        func(self, *args)
                else:
                    func(self)

    def _program(self, streams: Sequence[object]) -> list[tuple[list[Any], str]] | None:
        """The stream's (operands, operator) list, or None where pdfminer's parser must read it."""
        if len(streams) != 1:
            return None
        stream = stream_value(streams[0])
        if stream.objid is None or stream.objid in self.parent_stream_ids:
            return None  # pdfminer's execute says why it skips it
        self.stream_ids.clear()
        self.stream_ids.add(stream.objid)
        scratch = pikepdf.new()
        try:
            program = []
            for instruction in pikepdf.parse_content_stream(pikepdf.Stream(scratch, stream.get_data())):
                if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                    return None
                program.append(([_operand(o) for o in instruction.operands], str(instruction.operator)))
        except (pikepdf.PdfError, ValueError):  # _Unusual; a name that is not UTF-8 (str() of it fails)
            return None
        return None if scratch.get_warnings() else program


_METHODS: dict[str, Any] = {}
"""The interpreter's ``do_*`` method of each operator (None: none, ignored as pdfminer ignores it)."""


class _Unusual(ValueError):
    """An operand pdfminer's parser may read otherwise than qpdf's."""


def _operand(o: object) -> object:
    """A qpdf operand as pdfminer's parser gives it."""
    if isinstance(o, int):  # bool too
        return o
    if isinstance(o, decimal.Decimal):
        return float(o)  # pdfminer: float of the number's text, which the Decimal holds exactly
    if isinstance(o, pikepdf.String):
        return bytes(o)
    if isinstance(o, pikepdf.Name):
        name = str(o)[1:]
        if "#" in name or not name.isascii():
            raise _Unusual
        return LIT(name)
    if isinstance(o, pikepdf.Array):
        return [_operand(v) for v in o]
    if isinstance(o, pikepdf.Dictionary):
        out = {}
        for key, value in o.items():
            if "#" in key or not key.isascii():
                raise _Unusual
            out[key[1:]] = _operand(value)
        return out
    if o is None:
        return None
    raise _Unusual


def _norm(text: str) -> str:
    """Letters and digits only, case-folded: how a text and the words printed from it are compared."""
    text = unicodedata.normalize("NFKC", html.unescape(re.sub(r"<[^>]+>", "", text)))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _top_roles(item: SlotView) -> list[tuple[str, str]]:
    """The top matter of a slot, in the order the template sets it: (role, text)."""
    a = item.article
    if item.continued_from is not None:
        roles = [("jump", f"Continued from page {item.continued_from}"), ("headline", a.jumphead)]
    else:
        roles = [("kicker", a.kicker or ""), ("headline", a.headline), ("standfirst", a.standfirst or "")]
        roles += [("caption", f"{p.caption} {p.credit}") for p in item.photos]
        roles.append(("byline", (a.byline or "") + (" Sample copy" if a.sample else "")))
    return [(role, _norm(text)) for role, text in roles if _norm(text)]


@dataclass
class _Block:
    key: tuple[str, str, int]
    """(slug or '', role, column)."""
    words: list[int] = field(default_factory=list)


def _classify(words: list[Word], view: PageView, paper: PaperSettings,
              corner: tuple[float, float]) -> list[tuple[str, str, int]]:
    """(slug, role, column) of every word; slug '' for the page's furniture."""
    ox, oy = corner
    regions = []
    for item in view.slots:
        bottom = item.y + item.head_height + item.frame_height + (paper.leading * 1.5 if item.jump_to else 0)
        regions.append((item, ox + item.x - 1, oy + item.y - 1, ox + item.x + item.width + 1, oy + bottom + 1))
    out: list[tuple[str, str, int]] = []
    progress: dict[str, tuple[list[tuple[str, str]], int, str]] = {}
    for w in words:
        cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
        slot = next((r[0] for r in regions if r[1] <= cx <= r[3] and r[2] <= cy <= r[4]), None)
        if slot is None:
            out.append(("", "furniture", 0))
            continue
        slug = slot.article.slug
        frame_top = oy + slot.y + slot.head_height
        if cy < frame_top:
            out.append((slug, _top_role(slot, w, progress), 0))
        elif cy <= frame_top + slot.frame_height:
            column = int((cx - ox - slot.x) // (slot.column_width + paper.gutter))
            out.append((slug, "body", max(0, min(slot.columns - 1, column))))
        else:
            out.append((slug, "jump", 0))
    return out


def _top_role(item: SlotView, word: Word, progress: dict) -> str:
    """Which part of the slot's top matter ``word`` is: the texts are matched in order."""
    roles, index, left = progress.get(item.slot_id, (_top_roles(item), 0, None))
    if left is None:
        left = roles[0][1] if roles else ""
    w = _norm(word.text)
    role = "top"
    if w:
        tries = [(index, left)] + [(i, roles[i][1]) for i in range(index + 1, len(roles))]
        for i, text in tries:
            if text.startswith(w):
                index, left, role = i, text[len(w):], roles[i][0]
                break
        if not left and index + 1 < len(roles):
            index, left = index + 1, roles[index + 1][1]
    elif roles:
        role = roles[index][0]
    progress[item.slot_id] = (roles, index, left)
    return role


def _article_words(view: PageView) -> dict[str, set[str]]:
    """Each article's words, as its text has them (to tell a hyphenated word from a hyphen)."""
    out: dict[str, set[str]] = {}
    for item in view.slots:
        text = " ".join(b.text for b in item.article.blocks)
        out.setdefault(item.article.slug, set()).update(_word(t) for t in text.split())
    return out


def _word(text: str) -> str:
    """A word without the punctuation round it, case-folded (a hyphen inside it kept)."""
    return unicodedata.normalize("NFKC", text).casefold().strip("\"'“”‘’.,;:!?()[]—–")


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _fmt(points: float) -> str:
    """A length in points as mm10, to 0.1 of the unit."""
    return f"{points * MM10:.1f}".rstrip("0").rstrip(".")


def _style(font: str, size: float) -> tuple[str, str, str, str]:
    """(family, size, style, type) of an ALTO TextStyle for a PDF font name."""
    base = font.split("+", 1)[-1]
    styles = [s for s, token in (("bold", "Bold"), ("italics", "Italic")) if token in base]
    family = re.sub(r"-(Bold|Italic|Condensed|Regular)", "", base).replace("-", " ")
    kind = "sans-serif" if ("Sans" in base or "Head" in base) else "serif"
    return family, f"{size:.2f}".rstrip("0").rstrip("."), " ".join(styles), kind


def alto_page(pdf: bytes, view: PageView, paper: PaperSettings, number: int, image: str, date: str,
              version: str) -> bytes:
    """The ALTO 4.4 of plate ``pdf`` (page ``number`` of the issue, composed as ``view``); ``image``
    is the page image's file name, ``date`` the processing date (ISO 8601), ``version`` layout's."""
    words, images, (width, height), corner = plate_words(pdf)
    roles = _classify(words, view, paper, corner)
    known = _article_words(view)
    prefix = f"P{number}"
    blocks = _blocks(words, roles)
    lines = [_lines(block.words, words) for block in blocks]
    split = _hyphenated(blocks, lines, words, known)
    styles: dict[tuple[str, str, str, str], str] = {}
    for w in words:
        styles.setdefault(_style(w.font, w.size), f"TS{len(styles) + 1}")
    articles = sorted({k[0] for k in roles if k[0]} | {item.article.slug for item in view.slots})
    headlines = {item.article.slug: re.sub(r"<[^>]+>", "", html.unescape(item.article.headline)) for item in view.slots}
    used_roles = sorted({k[1] for k in roles} | ({"photo"} if images else set()))
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="{ALTO_NS}" '
           'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:schemaLocation="{ALTO_NS} {ALTO_SCHEMA}">',
           "<Description><MeasurementUnit>mm10</MeasurementUnit>",
           f"<sourceImageInformation><fileName>{html.escape(image)}</fileName></sourceImageInformation>",
           f'<Processing ID="{prefix}_PROC"><processingCategory>contentGeneration</processingCategory>'
           f"<processingDateTime>{date}</processingDateTime><processingStepDescription>written by the composer "
           "from the plate's own text and the page's layout (no OCR)</processingStepDescription>"
           f"<processingSoftware><softwareName>layout</softwareName><softwareVersion>{version}</softwareVersion>"
           "</processingSoftware></Processing></Description>", "<Styles>"]
    for (family, size, style, kind), sid in styles.items():
        out.append(f'<TextStyle ID="{sid}" FONTFAMILY={quoteattr(family)} FONTTYPE="{kind}" FONTSIZE="{size}"'
                   + (f' FONTSTYLE="{style}"' if style else "") + "/>")
    for role in sorted({k[1] for k in roles}):
        align = {"body": "Block", "jump": None, "furniture": None}.get(role, "Left")
        out.append(f'<ParagraphStyle ID="PS_{role}"' + (f' ALIGN="{align}"' if align else "") + "/>")
    out.append("</Styles><Tags>")
    for role in used_roles:
        out.append(f'<LayoutTag ID="ROLE_{role}" TYPE="role" LABEL="{role}"/>')
    for slug in articles:
        out.append(f'<StructureTag ID="ART_{_id(slug)}" TYPE="article" LABEL={quoteattr(slug)} '
                   f"DESCRIPTION={quoteattr(headlines.get(slug, slug))}/>")
    out.append("</Tags><Layout>")
    out.append(f'<Page ID="{prefix}" PHYSICAL_IMG_NR="{number}" PRINTED_IMG_NR="{number}" '
               f'WIDTH="{_fmt(width)}" HEIGHT="{_fmt(height)}">')
    out.append(f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{_fmt(width)}" HEIGHT="{_fmt(height)}">')
    photos = []
    for n, (x0, top, x1, bottom) in enumerate(images, start=1):
        cx, cy = (x0 + x1) / 2, (top + bottom) / 2
        item = next((i for i in view.slots if corner[0] + i.x <= cx <= corner[0] + i.x + i.width
                     and corner[1] + i.y <= cy <= corner[1] + i.y + i.head_height + i.frame_height), None)
        photos.append((f"{prefix}_IL{n:03d}", item.article.slug if item else "", (x0, top, x1, bottom)))
    following = _reading_order(blocks, words, photos, prefix)
    line_no = string_no = 0
    for b, block in enumerate(blocks):
        slug, role, _ = block.key
        members = [words[i] for i in block.words]
        tags = (f"ART_{_id(slug)} " if slug else "") + f"ROLE_{role}"
        box = _box(members)
        style = f"{styles[_style(members[0].font, members[0].size)]} PS_{role}"
        block_id = f"{prefix}_TB{b + 1:04d}"
        nxt = f' IDNEXT="{following[block_id]}"' if block_id in following else ""
        out.append(f'<TextBlock ID="{block_id}" STYLEREFS="{style}" TAGREFS="{tags}" {box}{nxt}>')
        for line in lines[b]:
            line_no += 1
            out.append(f'<TextLine ID="{prefix}_TL{line_no:05d}" {_box([words[i] for i in line])}>')
            for n, index in enumerate(line):
                w = words[index]
                string_no += 1
                if n:
                    gap = w.x0 - words[line[n - 1]].x1
                    out.append(f'<SP HPOS="{_fmt(words[line[n - 1]].x1)}" VPOS="{_fmt(w.top)}" '
                               f'WIDTH="{_fmt(max(gap, 0))}"/>')
                sid = styles[_style(w.font, w.size)]
                first = index in split and n == len(line) - 1 and w.hyphen_x0 is not None
                content = w.text[:-1] if first else w.text
                # The box of a hyphenated word's first part is the word as printed, hyphen included
                # (its HYP gives the hyphen's own box): where a reader finds the word on the page.
                attrs = (f'ID="{prefix}_ST{string_no:06d}" STYLEREFS="{sid}" HPOS="{_fmt(w.x0)}" VPOS="{_fmt(w.top)}" '
                         f'WIDTH="{_fmt(w.x1 - w.x0)}" HEIGHT="{_fmt(w.bottom - w.top)}" CONTENT={quoteattr(content)}')
                if index in split:
                    part = "HypPart1" if first else "HypPart2"
                    attrs += f' SUBS_TYPE="{part}" SUBS_CONTENT={quoteattr(split[index])}'
                out.append(f"<String {attrs}/>")
                if first and w.hyphen_x0 is not None:  # (first says so)
                    out.append(f'<HYP HPOS="{_fmt(w.hyphen_x0)}" VPOS="{_fmt(w.top)}" '
                               f'WIDTH="{_fmt(w.x1 - w.hyphen_x0)}" CONTENT="-"/>')
            out.append("</TextLine>")
        out.append("</TextBlock>")
    for photo_id, slug, (x0, top, x1, bottom) in photos:
        tags = (f"ART_{_id(slug)} " if slug else "") + "ROLE_photo"
        nxt = f' IDNEXT="{following[photo_id]}"' if photo_id in following else ""
        out.append(f'<Illustration ID="{photo_id}" TYPE="photo" TAGREFS="{tags}" HPOS="{_fmt(x0)}" '
                   f'VPOS="{_fmt(top)}" WIDTH="{_fmt(x1 - x0)}" HEIGHT="{_fmt(bottom - top)}"{nxt}/>')
    out.append("</PrintSpace></Page></Layout></alto>\n")
    return "\n".join(out).encode()


def _blocks(words: list[Word], roles: list[tuple[str, str, int]]) -> list[_Block]:
    """The page's words in blocks: runs of one role of one article (and of one font, in the furniture)."""
    blocks: list[_Block] = []
    for index, key in enumerate(roles):
        if not blocks or blocks[-1].key != key or (
                key[1] == "furniture" and (words[index].font, words[index].size)
                != (words[blocks[-1].words[-1]].font, words[blocks[-1].words[-1]].size)):
            blocks.append(_Block(key))
        blocks[-1].words.append(index)
    return blocks


def _hyphenated(blocks: list[_Block], lines: list[list[list[int]]], words: list[Word],
                known: dict[str, set[str]]) -> dict[int, str]:
    """Hyphenation: a word ending in '-' at a line's end whose join with the next word of its article's
    body (on the next line, or at the head of its next column) is one of the article's words; both
    parts' indexes, each with the joined word."""
    split: dict[int, str] = {}
    for b, block in enumerate(blocks):
        if block.key[1] != "body":
            continue
        heads = [line[0] for line in lines[b][1:]] + [next(
            (lines[o][0][0] for o in range(b + 1, len(blocks)) if blocks[o].key[:2] == block.key[:2]), -1)]
        for line, head in zip(lines[b], heads):
            w = words[line[-1]]
            if w.hyphen_x0 is None or head < 0:
                continue
            joined = w.text[:-1] + words[head].text
            if _word(joined) in known.get(block.key[0], set()):
                split[line[-1]] = joined
                split[head] = joined
    return split


def _reading_order(blocks: list[_Block], words: list[Word], photos: list, prefix: str) -> dict[str, str]:
    """Each article block's next block in the article's reading order on the page (``IDNEXT``): its
    top matter and photos top to bottom, then its columns left to right, then its jump line. The
    file itself keeps the order the plate prints the words in."""
    entries: dict[str, list[tuple[tuple[float, ...], str]]] = {}
    body_top: dict[str, float] = {}
    for block in blocks:
        if block.key[1] == "body":
            body_top[block.key[0]] = min(body_top.get(block.key[0], 1e9), min(words[i].top for i in block.words))
    for b, block in enumerate(blocks):
        slug, role, column = block.key
        if not slug:
            continue
        top, x0 = min(words[i].top for i in block.words), min(words[i].x0 for i in block.words)
        if role == "body":
            key: tuple[float, ...] = (1, column, top)
        elif role == "jump" and top > body_top.get(slug, 1e9):
            key = (2, 0, top)
        else:
            key = (0, top, x0)
        entries.setdefault(slug, []).append((key, f"{prefix}_TB{b + 1:04d}"))
    for photo_id, slug, (x0, top, _, _) in photos:
        if slug:
            entries.setdefault(slug, []).append(((0, top, x0), photo_id))
    following: dict[str, str] = {}
    for parts in entries.values():
        ordered = [block_id for _, block_id in sorted(parts)]
        following.update(zip(ordered, ordered[1:]))
    return following


def _box(members: Iterable[Word]) -> str:
    members = list(members)
    x0, top = min(w.x0 for w in members), min(w.top for w in members)
    x1, bottom = max(w.x1 for w in members), max(w.bottom for w in members)
    return f'HPOS="{_fmt(x0)}" VPOS="{_fmt(top)}" WIDTH="{_fmt(x1 - x0)}" HEIGHT="{_fmt(bottom - top)}"'


def _lines(indices: list[int], words: list[Word]) -> list[list[int]]:
    """Words on one line: each to the right of the last, their tops within half a size."""
    lines: list[list[int]] = []
    for index in indices:
        w = words[index]
        if lines:
            last = words[lines[-1][-1]]
            if abs(w.top - last.top) < max(w.size, last.size) / 2 and w.x0 >= last.x1 - 0.5:
                lines[-1].append(index)
                continue
        lines.append([index])
    return lines


@dataclass(frozen=True)
class AltoWord:
    """A word as an ALTO file gives it: its text (a hyphenated part with its hyphen) and its box in points."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float


def read_alto(data: bytes) -> tuple[list[AltoWord], list[str]]:
    """The words of an ALTO file (a ``String`` and the ``HYP`` after it are one word, as printed) and
    its text blocks' IDs."""
    from lxml import etree

    tree = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"a": ALTO_NS}
    unit = tree.findtext("a:Description/a:MeasurementUnit", namespaces=ns)
    scale = {"mm10": 1 / MM10, "inch1200": 72 / 1200}.get(unit or "", 1.0)
    words: list[AltoWord] = []
    for line in tree.iterfind(".//a:TextLine", ns):
        for element in line:
            tag = etree.QName(element).localname
            if tag not in ("String", "HYP"):
                continue
            x0 = float(element.get("HPOS", 0)) * scale
            top = float(element.get("VPOS", 0)) * scale
            x1 = x0 + float(element.get("WIDTH", 0)) * scale
            if tag == "HYP" and words:
                last = words[-1]
                words[-1] = AltoWord(last.text + element.get("CONTENT", ""), last.x0, last.top, max(last.x1, x1),
                                     last.bottom)
                continue
            bottom = top + float(element.get("HEIGHT", 0)) * scale
            words.append(AltoWord(element.get("CONTENT", ""), x0, top, x1, bottom))
    blocks = [b.get("ID", "") for b in tree.iterfind(".//a:TextBlock", ns)] + [
        b.get("ID", "") for b in tree.iterfind(".//a:Illustration", ns)]
    return words, blocks
