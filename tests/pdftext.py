"""Reading composed PDFs back: page text, words in order, baselines."""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pdfplumber
import pikepdf
from factory import THOROUGH
from pypdf import PdfReader

T = TypeVar("T")


def once_per_bytes(read: Callable[[bytes], T]) -> Callable[[Path | bytes], T]:
    """``read`` (of a PDF's bytes) worked out once per process for the same bytes: many tests read
    the same plates (the sample's, composed once a session) with pdfplumber or pypdf, which take
    most of a second a tabloid page. A copy of the result is returned: the bytes alone decide it."""
    done: dict[str, T] = {}

    @functools.wraps(read)
    def reading(pdf: Path | bytes) -> T:
        data = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
        if THOROUGH:
            return read(data)
        key = hashlib.sha256(data).hexdigest()
        if key not in done:
            done[key] = read(data)
        found = done[key]
        return found if isinstance(found, tuple) else copy.deepcopy(found)  # a tuple: read only

    return reading


@once_per_bytes
def page_texts(pdf: bytes) -> list[str]:
    """Return the extracted text of each page."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def letters(text: str) -> str:
    """Return ``text`` reduced to lower-case letters and digits (hyphenation and spacing undone)."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[^0-9a-z]", "", text.lower())


def body_baselines(pdf: Path, font: str = "NW-Text", size: float = 9.0) -> list[list[float]]:
    """Return, per page, the distinct baselines (points from the top) of body-size text in ``font``."""
    return [sorted({round(c["bottom"], 2) for c in page if font in c["fontname"] and abs(c["size"] - size) < 0.01})
            for page in chars(pdf)]


@once_per_bytes
def chars(pdf: bytes) -> tuple[tuple[dict, ...], ...]:
    """The characters of each page, as pdfplumber reads them (``CHAR_KEYS`` of each: ``plumbed_chars``)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return tuple(plumbed_chars(page) for page in doc.pages)


CHAR_KEYS = ("text", "fontname", "size", "x0", "x1", "y0", "y1", "top", "bottom", "doctop", "upright", "matrix",
             "width", "height", "adv")
"""What the readers here use of a character (words, baselines, fonts, glyph scales), and more."""


def plumbed_chars(page: pdfplumber.page.Page) -> tuple[dict, ...]:
    """``page.chars``, each with ``CHAR_KEYS`` only, made from the same pdfminer layout the same way
    (``Page.process_object``: the MediaBox's offsets, top and bottom from the page's height, text
    and font names as given), without what no reader here looks at (colours, colour spaces, marked
    content), which was a quarter of reading a tabloid page (the sample's 16 pages 1.09 -> 0.80 s).
    Checked against ``page.chars`` by test_galley.py's crosshead test, on a page of its own."""
    from pdfminer.layout import LTChar, LTContainer
    from pdfplumber.utils.pdfinternals import resolve_all

    assert page.pdf.laparams is None and page.pdf.unicode_norm is None  # (as ``chars`` opens it)
    mb_x0, mb_top = page.mediabox[:2]
    height, doctop = page.height, page.initial_doctop
    found: list[dict] = []

    def walk(objects: list) -> None:
        for obj in objects:
            if isinstance(obj, LTContainer):
                walk(obj._objs)
            elif isinstance(obj, LTChar):
                fontname = obj.fontname
                if isinstance(fontname, bytes):  # pragma: no cover (as pdfplumber fixes it)
                    from pdfplumber.page import fix_fontname_bytes
                    fontname = fix_fontname_bytes(fontname)
                top, bottom = (height - obj.y1) + mb_top, (height - obj.y0) + mb_top
                x0, x1 = (obj.x0 + mb_x0, obj.x1 + mb_x0) if mb_x0 != 0 else (obj.x0, obj.x1)
                found.append({"text": obj.get_text(), "fontname": fontname, "size": obj.size, "x0": x0, "x1": x1,
                              "y0": obj.y0, "y1": obj.y1, "top": top, "bottom": bottom, "doctop": doctop + top,
                              "upright": obj.upright, "matrix": resolve_all(obj.matrix), "width": obj.width,
                              "height": obj.height, "adv": obj.adv})

    walk(page.layout._objs)
    return tuple(found)


@once_per_bytes
def word_places(pdf: bytes) -> list[dict[tuple[str, float], list[float]]]:
    """Per page: the left edges of each word, by its text and baseline (pdfplumber's words, from the
    characters ``chars`` read once for the same bytes: ``Page.extract_words`` is ``extract_words``
    of the page's characters)."""
    out = []
    for page in chars(pdf):
        found: dict[tuple[str, float], list[float]] = {}
        for word in pdfplumber.utils.extract_words(list(page)):
            found.setdefault((word["text"], round(word["bottom"], 1)), []).append(word["x0"])
        out.append({key: sorted(xs) for key, xs in found.items()})
    return out


@once_per_bytes
def flow_words(pdf: bytes) -> tuple[tuple[tuple[str, float, float, float, float], ...], ...]:
    """Per page: its words in the order it draws them, (text, x0, top, x1, bottom), as
    ``Page.extract_words(use_text_flow=True)`` gives them (from the characters ``chars`` read once
    for the same bytes)."""
    return tuple(tuple((w["text"], w["x0"], w["top"], w["x1"], w["bottom"])
                       for w in pdfplumber.utils.extract_words(list(page), use_text_flow=True))
                 for page in chars(pdf))


def drawing(page: pikepdf.Page) -> object:
    """What a page draws, free of where its objects are kept: its boxes, its content's bytes and its
    resources (fonts, images, forms and their own resources: every stream's bytes), so that two
    pages give the same text and boxes to any reader exactly when they give equal drawings."""
    done: dict[tuple[int, int], object] = {}

    def canon(obj: object) -> object:
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            if obj.objgen not in done:
                done[obj.objgen] = ("cycle",)
                done[obj.objgen] = plain(obj)
            return done[obj.objgen]
        return plain(obj)

    def plain(obj: object) -> object:
        if isinstance(obj, pikepdf.Stream):
            return ("stream", canon(obj.stream_dict), hashlib.sha256(obj.read_raw_bytes()).hexdigest())
        if isinstance(obj, pikepdf.Dictionary):
            return tuple(sorted((key, canon(obj[key])) for key in obj if key != "/Parent"))
        if isinstance(obj, pikepdf.Array):
            return tuple(canon(item) for item in obj)
        return repr(obj)

    return tuple((key, canon(page.obj[key])) for key in ("/MediaBox", "/TrimBox", "/BleedBox", "/Contents",
                                                          "/Resources") if key in page.obj)


def same_places(ours: dict, multicol: dict) -> bool:
    """The same words on the same baselines, each within half a point of the same left edge."""
    return ours.keys() == multicol.keys() and all(
        len(ours[k]) == len(multicol[k]) and all(abs(a - b) <= 0.5 for a, b in zip(ours[k], multicol[k]))
        for k in ours)


def reachable(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """The objects the trailer reaches (the catalog, the Info and all they refer to)."""
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [pdf.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Stream):
            stack += list(obj.stream_dict.values())
        elif isinstance(obj, pikepdf.Dictionary):
            stack += list(obj.values())
        elif isinstance(obj, pikepdf.Array):
            stack += list(obj)
    return seen


def metadata_once(pdf: pikepdf.Pdf, name: str) -> str:
    """Assert that ``pdf`` holds one XMP packet (the catalog's) and one document information
    dictionary (the trailer's), nothing that the trailer does not reach (no packet or Info left
    over from an earlier writer), and the same producer in both; return the producer."""
    packets = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Type") == "/Metadata"]
    infos = [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary) and "/Producer" in o]
    assert (len(packets), len(infos)) == (1, 1), name
    assert packets[0].objgen == pdf.Root.Metadata.objgen and infos[0].objgen == pdf.trailer.Info.objgen, name
    assert {o.objgen for o in pdf.objects} - reachable(pdf) == set(), name  # none unreferenced
    producer = str(pdf.trailer.Info.Producer)
    assert f"<pdf:Producer>{producer}</pdf:Producer>" in packets[0].read_bytes().decode(), name
    return producer
