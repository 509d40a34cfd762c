"""Supplied adverts: read, preflight and place the advertisers' PDFs in their booked space.

An advert is sold by size (columns wide, millimetres or centimetres deep: UK papers sell single-column
centimetres) and arrives as a finished PDF (the Pass4Press practice: one page, PDF/X-1a, composite CMYK,
fonts embedded, trim = the booked size). Before composing, each is checked as a printer would: one page,
its trim (TrimBox, else MediaBox) the booked size within 1 mm, no RGB, Lab or spot colour, every font
embedded, no transparency unless it says it is PDF/X-4, type of at least the paper's ``min_type_size``
(the plates' own minimum, 7 pt by default), total ink within the paper's ``ink_limit``. Every failure
names the advert's file and what to ask the advertiser for (exit 2).

On the plate the advert's page is drawn unchanged: as a Form XObject (pikepdf/qpdf's page-to-form,
so its content stream, fonts and images are copied as they are), at 1:1, centred in the booked box
and clipped to it. Nothing in it is re-set, recoloured or rasterised.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from ..base.units import PT_PER_UNIT
from ..errors import InputError, Problem
from ..reading.manifest import Issue
from ..reading.settings import PaperSettings
from ..reading.sources import display_path
from .assemble import contents

if TYPE_CHECKING:
    from .paint import Paint

SIZE_TOLERANCE = 1.0 * PT_PER_UNIT["mm"]
"""How far an advert's trim may be from its booking (1 mm)."""


@dataclass(frozen=True)
class PlacedAdvert:
    """An advert's PDF and its booked box on the page (points from the trim's top-left corner)."""

    pdf: bytes
    x: float
    y: float
    width: float
    height: float


def _mm(points: float) -> str:
    return f"{points / PT_PER_UNIT['mm']:.1f}"


def check_advert(path: Path, booked: tuple[float, float], paper: PaperSettings, where: str) -> list[Problem]:
    """Preflight one supplied advert against its booking (``booked``: width, height in points)."""
    shown = display_path(path)
    problems: list[Problem] = []

    def add(check: str, message: str, fix: str) -> None:
        problems.append(Problem(shown, f"{where} ({check})", message, fix))

    try:
        with pikepdf.open(path) as pdf:  # the advert's one PDF library, opened once (paint reads its own)
            if _readable(pdf, add):
                _check_size(pdf.pages[0], booked, add)
                _check_content(pdf, path, paper, add)
    except pikepdf.PasswordError:
        add("encrypted", "is protected by a password", "ask for the advert without a password or any "
            "security (PDF/X forbids encryption)")
    except (pikepdf.PdfError, OSError) as error:
        add("file", f"is not a PDF that can be read ({error})", "ask the advertiser for the PDF again")
    return problems


_Add = Callable[[str, str, str], None]


def _readable(pdf: pikepdf.Pdf, add: _Add) -> bool:
    """Whether the advert can be checked further: not encrypted, not damaged, with a page."""
    if pdf.is_encrypted:  # PDF/X forbids encryption, even with an empty opening password
        add("encrypted", "is encrypted (security settings, even without an opening password)",
            "ask for the advert without any security settings (PDF/X forbids encryption)")
        return False
    count = len(pdf.pages)
    streams = pdf.pages[0].obj.get("/Contents") if count else None
    for stream in [streams] if isinstance(streams, pikepdf.Stream) else list(streams or []):
        stream.read_bytes()  # reading it brings qpdf's repairs to light
    damaged = pdf.get_warnings()
    if damaged:  # qpdf had to repair it: what survived may not be what the advertiser sent
        add("file", f"is damaged ({damaged[0].split(': ', 1)[-1]}): it had to be repaired to be read",
            "ask the advertiser for the PDF again (the file may have been cut short in transfer)")
        return False
    if count != 1:
        add("pages", f"has {count} pages; an advert is one page", "ask for one PDF a page, one page an advert")
    return count > 0


def _check_size(page: pikepdf.Page, booked: tuple[float, float], add: _Add) -> None:
    """The advert's trim (TrimBox, else MediaBox) against its booking, within 1 mm."""
    trim = [float(v) for v in page.obj.get("/TrimBox", page.MediaBox)]
    width, height = abs(trim[2] - trim[0]), abs(trim[3] - trim[1])
    if abs(width - booked[0]) > SIZE_TOLERANCE or abs(height - booked[1]) > SIZE_TOLERANCE:
        add("size", f"its trim is {_mm(width)} x {_mm(height)} mm; the booking is {_mm(booked[0])} x "
            f"{_mm(booked[1])} mm", "ask the advertiser for the booked size (within 1 mm), or correct the "
            "booking's columns: and depth:")


def _check_content(pdf: pikepdf.Pdf, path: Path, paper: PaperSettings, add: _Add) -> None:
    """Colour, fonts, transparency, type size and total ink: the plates' own checks (press/preflight.py)."""
    from .paint import read_paint
    from .preflight import _colour_findings, _fonts, _transparency

    try:
        paint = read_paint(path)
    except (pikepdf.PdfError, KeyError, ValueError, TypeError, AttributeError, IndexError):
        paint = None
    if paint is not None:
        unused = _unused_spaces(pdf.pages[0])
        for message in _colour_findings(pdf, paint):
            if any(message.endswith(f"colour space {name}") for name in unused):
                continue  # declared and never used (WeasyPrint declares two Lab spaces on every page)
            add("colour", message.replace("page 1: ", ""),
                "ask for the advert in CMYK or grey (no RGB, Lab or spot colours): a PDF/X-1a export")
    for message in _fonts(pdf):
        add("fonts", message.replace("page 1: ", ""), "ask for the advert with every font embedded (PDF/X-1a)")
    version = str(pdf.docinfo.get("/GTS_PDFXVersion", "")) if "/Info" in pdf.trailer else ""
    xmp = pdf.Root.Metadata.read_bytes().decode("utf-8", "replace") if "/Metadata" in pdf.Root else ""
    x4 = version.startswith("PDF/X-4") or "PDF/X-4" in xmp
    if not (x4 and paper.pdfx != "x-1a"):  # live transparency only in a PDF/X-4 advert on PDF/X-4 plates
        for message in _transparency(pdf):
            add("transparency", message.replace("page 1: ", ""),
                "ask for a flattened PDF/X-1a (no transparency)" + ("" if paper.pdfx == "x-1a" else
                                                                   ", or a PDF/X-4 that says so"))
    if paint is None:
        add("content", "its content could not be read", "ask the advertiser for the PDF again")
    else:
        _check_paint(paint, path, paper, add)


def _check_paint(paint: Paint, path: Path, paper: PaperSettings, add: _Add) -> None:
    """Type size and total ink, from what the advert paints."""
    from .paint import rendered_inks

    if paint.smallest_type < paper.min_type_size - 0.05:  # the plates' own minimum: an advert is on a plate
        add("type size", f"has text set at {paint.smallest_type:.1f} pt, below {paper.min_type_size:g} pt",
            f"ask for type of at least {paper.min_type_size:g} pt (newsprint fills smaller type in)")
    ink = paint.ink
    if ink is None:
        rendered = rendered_inks([path])
        ink = rendered[0] if rendered else None
    if ink is not None and ink > paper.ink_limit + 0.5:
        add("total ink", f"its darkest area has {ink:.0f}% total ink; the paper takes {paper.ink_limit}%",
            f"ask for the advert separated for newsprint (total ink at most {paper.ink_limit}%)")


_SET_SPACE = re.compile(rb"(/[^\s/\[\]()<>{}%]+)\s+(?:cs|CS)\b")


def used_spaces(stream: bytes) -> set[str]:
    """The colour spaces a content stream sets (``/CS0 cs``, ``/CS0 CS``)."""
    return {m.decode("latin-1") for m in _SET_SPACE.findall(stream)}


def _unused_spaces(page: pikepdf.Page) -> set[str]:
    """Colour spaces the advert's page declares but its content never sets."""
    try:
        declared = set(page.Resources.get("/ColorSpace", pikepdf.Dictionary()).keys())
        return declared - used_spaces(contents(page))
    except (pikepdf.PdfError, AttributeError):  # no /Resources, or a content stream qpdf cannot read
        return set()


def _prune_spaces(form: pikepdf.Object) -> None:
    """Drop the colour spaces a form declares and never sets (its content is left as it is)."""
    resources = form.get("/Resources")
    spaces = resources.get("/ColorSpace") if resources is not None else None
    if spaces is None or resources is None:
        return
    used = used_spaces(form.read_bytes())
    for name in sorted(set(spaces.keys()) - used):
        del spaces[name]
    if not len(spaces.keys()):
        del resources["/ColorSpace"]


def check_adverts(issue: Issue, paper: PaperSettings) -> dict[str, bytes]:
    """Preflight every supplied advert of ``issue``; return each one's PDF by slot id, or raise an
    InputError listing every problem of every advert."""
    problems: list[Problem] = []
    found: dict[str, bytes] = {}
    for page in issue.pages:
        for slot in page.slots:
            if slot.ad is None:
                continue
            problems += check_advert(slot.ad, slot.ad_size, paper, slot.place)
            found[slot.slot_id] = slot.ad.read_bytes()
    if problems:
        names = sorted({p.file for p in problems})
        raise InputError(f"{len(names)} supplied advert(s) would be refused by the printer: {', '.join(names)}",
                         tuple(problems))
    return found


def draw_adverts(pdf: pikepdf.Pdf, page: pikepdf.Page, adverts: Iterable[PlacedAdvert]) -> None:
    """Draw each advert's page unchanged into its booked box on ``page``: a Form XObject at 1:1,
    centred in the box and clipped to it."""
    adverts = list(adverts)
    if not adverts:
        return
    trim = [float(v) for v in page.obj.get("/TrimBox", page.MediaBox)]
    left, top = min(trim[0], trim[2]), max(trim[1], trim[3])
    if "/XObject" not in page.Resources:
        page.Resources.XObject = pikepdf.Dictionary()
    calls = []
    for number, advert in enumerate(adverts):
        with pikepdf.open(io.BytesIO(advert.pdf)) as source:
            ad_page = source.pages[0]
            box = [float(v) for v in ad_page.obj.get("/TrimBox", ad_page.MediaBox)]
            form = pdf.copy_foreign(ad_page.as_form_xobject())
        _prune_spaces(form)
        x0, y0 = min(box[0], box[2]), min(box[1], box[3])
        width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
        bottom = top - advert.y - advert.height
        tx = left + advert.x + (advert.width - width) / 2 - x0
        ty = bottom + (advert.height - height) / 2 - y0
        name = f"/NWad{number}"
        page.Resources.XObject[name] = form
        clip = f"{left + advert.x:.4f} {bottom:.4f} {advert.width:.4f} {advert.height:.4f} re W n"
        calls.append(f"q {clip} 1 0 0 1 {tx:.4f} {ty:.4f} cm {name} Do Q".encode())
    page.obj.Contents = pdf.make_stream(  # the page's own drawing kept apart (q ... Q) from the adverts'
        zlib.compress(b"q\n" + contents(page) + b"\nQ\n" + b"\n".join(calls) + b"\n"),
        Filter=pikepdf.Name.FlateDecode)
