"""Stage 5 (preflight): preflight the plates, from the PDFs themselves, before a printer does.

Checks: page boxes and size, fonts embedded, colour spaces (no RGB, Lab, spot or ICC-RGB, in
content streams and images), image resolution at placed size, total ink (read from the plate's
objects, see ``press/paint.py``; rendered by Ghostscript where it cannot be), smallest type, PDF/X
identification and output intent, transparency (PDF/X-1a), and that no copy was overset.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import math
import multiprocessing
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pikepdf

from ..base.cache import Store, files_digest, settings_files
from ..base.versions import VARIANTS
from ..composing.jobs import Finding
from ..reading.settings import SAMPLE_IMPRINT, PaperSettings, check_icc
from ..rendering.workers import completed, guard_worker
from .accounting import PlateCopy, copy_findings, story_findings
from .paint import Limits, Paint, Placed, read_paint, rendered_inks

BOX_TOLERANCE = 0.5


def _colour_space_name(space) -> str:
    if isinstance(space, pikepdf.Array):
        kind = str(space[0])
        if kind == "/ICCBased":
            n = int(space[1].get("/N", 0))
            return {1: "/DeviceGray", 3: "/ICCBased-RGB", 4: "/DeviceCMYK"}.get(n, "/ICCBased")
        if kind == "/Indexed":
            return _colour_space_name(space[1])
        return kind
    return str(space)


BAD_SPACES = {"/DeviceRGB": "RGB", "/ICCBased-RGB": "RGB (ICC)", "/CalRGB": "RGB (calibrated)", "/Lab": "Lab",
              "/Separation": "spot colour", "/DeviceN": "spot colour (DeviceN)"}


def _walk_resources(resources, seen: set[tuple[int, int]]):
    """Yield the resources dictionaries of a page and of the forms it draws, nested or not."""
    resources = resources if isinstance(resources, pikepdf.Dictionary) else pikepdf.Dictionary()
    yield resources
    for obj in resources.get("/XObject", pikepdf.Dictionary()).values():
        key = obj.objgen  # (a form is a stream: always an indirect object)
        if key in seen:
            continue
        seen.add(key)
        if obj.get("/Subtype") == "/Form" and "/Resources" in obj:
            yield from _walk_resources(obj["/Resources"], seen)


def _page_resources(pdf: pikepdf.Pdf):
    """Each page's number, with every resources dictionary the page and the forms it draws use
    (``_walk_resources``)."""
    for number, page in enumerate(pdf.pages, start=1):
        for resources in _walk_resources(page.obj.get("/Resources"), set()):
            yield number, resources


def _colour_findings(pdf: pikepdf.Pdf, paint: Paint) -> list[str]:
    problems = [f"page {number}: RGB colour in the page content ({operator})" for number, operator in paint.rgb]
    for number, resources in _page_resources(pdf):
        for name, space in resources.get("/ColorSpace", pikepdf.Dictionary()).items():
            kind = _colour_space_name(space)
            if kind in BAD_SPACES:
                problems.append(f"page {number}: {BAD_SPACES[kind]} colour space {name}")
        for name, obj in resources.get("/XObject", pikepdf.Dictionary()).items():
            if obj.get("/Subtype") == "/Image":
                kind = _colour_space_name(obj.get("/ColorSpace", "/DeviceGray"))
                if kind in BAD_SPACES:
                    problems.append(f"page {number}: image {name} is {BAD_SPACES[kind]} "
                                    f"({obj.get('/Width')} x {obj.get('/Height')} px)")
        for name, shading in resources.get("/Shading", pikepdf.Dictionary()).items():
            kind = _colour_space_name(shading.get("/ColorSpace"))
            if kind in BAD_SPACES:
                problems.append(f"page {number}: shading {name} is {BAD_SPACES[kind]}")
    return sorted(set(problems))


def _transparency(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    for number, resources in _page_resources(pdf):
        for name, state in resources.get("/ExtGState", pikepdf.Dictionary()).items():
            blend = state.get("/BM", "/Normal")
            modes = [str(m) for m in blend] if isinstance(blend, pikepdf.Array) else [str(blend)]
            if float(state.get("/ca", 1)) < 1 or float(state.get("/CA", 1)) < 1 or \
                    str(state.get("/SMask", "/None")) != "/None" or \
                    any(m not in ("/Normal", "/Compatible") for m in modes):
                problems.append(f"page {number}: transparency in graphics state {name}")
        for name, obj in resources.get("/XObject", pikepdf.Dictionary()).items():
            if obj.get("/Subtype") == "/Image" and ("/SMask" in obj or "/SMaskInData" in obj):
                problems.append(f"page {number}: image {name} has a soft mask (transparency)")
            if obj.get("/Subtype") == "/Form" and "/Group" in obj:
                problems.append(f"page {number}: transparency group in form {name}")
    return sorted(set(problems))


def _fonts(pdf: pikepdf.Pdf) -> list[str]:
    problems = []
    for number, resources in _page_resources(pdf):
        for name, font in resources.get("/Font", pikepdf.Dictionary()).items():
            base = str(font.get("/BaseFont", name))
            if font.get("/Subtype") == "/Type3":
                problems.append(f"page {number}: font {base} is a Type 3 (bitmap) font")
                continue
            target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = target.get("/FontDescriptor", pikepdf.Dictionary())
            files = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
            if not files:
                problems.append(f"page {number}: font {base} is not embedded")
            elif _restricted(descriptor[files[0]].read_bytes()):
                problems.append(f"page {number}: font {base} is embedded but its licence forbids "
                                "embedding (OS/2 fsType: restricted)")
    return sorted(set(problems))


def _restricted(data: bytes) -> bool:
    """True if a font program's OS/2 fsType says it may not be embedded (restricted licence)."""
    if data[:4] not in (b"\x00\x01\x00\x00", b"true", b"OTTO") or len(data) < 12:
        return False  # not a TrueType/OpenType program (CFF, Type 1): nothing to read
    tables = int.from_bytes(data[4:6], "big")
    for record in range(12, min(12 + 16 * tables, len(data) - 15), 16):  # the sfnt table directory
        if data[record:record + 4] == b"OS/2":
            offset = int.from_bytes(data[record + 8:record + 12], "big")
            fs_type = int.from_bytes(data[offset + 8:offset + 10], "big")  # OS/2 version, xAvgCharWidth, ...
            return fs_type & 0x000F == 0x0002
    return False


def _read_paint(path: Path, paper: PaperSettings) -> Paint | None:
    try:
        return read_paint(path, Limits(paper.min_type_size, paper.min_reversed_type_size, paper.min_rule_width))
    except (pikepdf.PdfError, KeyError, ValueError, TypeError, AttributeError, IndexError):
        return None  # reported as a finding


def _checks_but_ink(path: Path, paper: PaperSettings, paint: Paint | None,
                    slots: dict[int, list] | None = None) -> list[Finding]:
    """Every check of a plate but the ink; ``paint``: what the plate paints (None if its
    content streams could not be read); ``slots``: the fit report's slots by the paper's page
    number, to name the article a finding comes from."""
    name = path.name
    reader = pikepdf.open(path)  # closed when the function returns (its last reference goes)
    findings: list[Finding] = []
    pages = _page_numbers(path, len(reader.pages))
    where = _Where(pages, slots or {})

    def add(check: str, problems: list[str], ok_message: str, count: int | None = None) -> None:
        if problems:
            findings.extend(Finding(name, check, False, p) for p in problems)
        else:
            findings.append(Finding(name, check, True, ok_message, count))

    try:
        with pikepdf.open(path) as pdf:
            add("page boxes", check_boxes(pdf, paper, pages),
                f"{len(reader.pages)} page(s), trim and bleed as the paper settings say", len(reader.pages))
            add("trapped", check_trapped(pdf), "/Trapped is True or False, the same in the document information "
                "and the XMP")
            add("actions", check_actions(pdf, pages), "no actions, JavaScript, links or forms")
            add("output intent", check_output_intent(pdf, paper), "one PDF/X output intent, its profile a "
                "CMYK output profile" if paper.icc_profile else "one PDF/X output intent (registered condition)")
            add("PDF/X structure", check_pdfx_structure(pdf, paper), "no encryption, LZW, JBIG2, transfer "
                "functions, named halftones, PostScript, OPI, alternate images or embedded files")
    except (pikepdf.PdfError, ValueError, TypeError, AttributeError, KeyError) as exc:
        add("PDF/X structure", [f"the file cannot be read to check its boxes, actions and output intent ({exc}): "
                                "is the PDF damaged?"], "")
    add("fonts", _fonts(reader), "every font embedded")
    if paint is not None:
        add("colour", _colour_findings(reader, paint), "CMYK and grey only")
    intents = list(reader.Root.get("/OutputIntents", pikepdf.Array()))
    pdfx = []
    if not any(str(i.get("/S")) == "/GTS_PDFX" for i in intents):
        pdfx.append("no PDF/X OutputIntent")
    version = VARIANTS[paper.pdfx][1]
    try:
        with pikepdf.open(path) as pdf:
            pdfx += check_document_info(pdf, paper, version)
    except (pikepdf.PdfError, ValueError, TypeError, AttributeError, KeyError):
        pass  # reported under "PDF/X structure"
    embedded = any("/DestOutputProfile" in i for i in intents)
    add("PDF/X", pdfx, f"{version}, output intent {paper.output_condition}"
        + (" (profile embedded)" if embedded else " (identifier only)"))
    if paper.pdfx == "x-1a":
        add("transparency", _transparency(reader), "none (PDF/X-1a)")
    if paint is None:
        add("content", ["the content streams could not be read (colour, type size and image resolution not "
                        "checked): is the PDF damaged?"], "")
        return findings
    smallest = paint.smallest_type
    add("type size", check_type_size(paint, paper, where),
        f"smallest type {smallest:.1f} pt" if smallest < math.inf else "no text")
    add("hairlines", check_hairlines(paint, paper, where), f"no stroke thinner than {paper.min_rule_width:g} pt")
    if paper.crop_marks:
        add("registration marks", check_registration(paint, pages), "crop marks and registration targets present")
    photos = [placed for placed in paint.photos if _photo_name(placed, where)]
    add("image resolution", check_image_resolution(paint, paper, where),
        f"{len(paint.photos)} image(s), all at least {paper.min_image_ppi} ppi", len(paint.photos))
    add("photo tones", check_photo_tones(paint, paper, where),
        f"{len(photos)} photo(s), dots from {paper.photo_highlight:g}% to {paper.photo_shadow:g}%", len(photos))
    return findings


def _page_numbers(path: Path, count: int) -> list[int]:
    """The paper's page number of each page of a plate (``-p03.pdf`` is page 3)."""
    found = re.search(r"-p(\d+)\.pdf$", path.name)
    if found and count == 1:
        return [int(found[1])]
    return list(range(1, count + 1))


class _Where:
    """Names what lies at a point of a plate: the article whose slot holds it, or the furniture."""

    def __init__(self, pages: list[int], slots: dict[int, list]) -> None:
        self.pages, self.slots = pages, slots

    def __call__(self, index: int, x: float, y: float) -> str:
        page = self.pages[index - 1] if 0 < index <= len(self.pages) else index
        for slot in self.slots.get(page, []):
            left, top, width, height = slot["box"]
            if left - 1 <= x <= left + width + 1 and top - 1 <= y <= top + height + 1:
                return f"page {page}, article {slot['slug']}"
        return f"page {page}, page furniture (outside every article) at {x / MM:.0f} mm, {y / MM:.0f} mm"


MM = 72 / 25.4


def _rect(value) -> list[float] | None:
    """A box as [x0, y0, x1, y1], normalised; None if it is not four numbers."""
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(numbers) != 4:
        return None
    return [min(numbers[0], numbers[2]), min(numbers[1], numbers[3]), max(numbers[0], numbers[2]),
            max(numbers[1], numbers[3])]


def _inherited(page: pikepdf.Object, key: str):
    node: pikepdf.Object | None = page
    depth = 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        node, depth = node.get("/Parent"), depth + 1
    return None


def check_boxes(pdf: pikepdf.Pdf, paper: PaperSettings, pages: list[int]) -> list[str]:
    """Page boxes as written in the page objects (a reader that supplies a default box for a missing
    one would pass a plate with no TrimBox): a MediaBox, a TrimBox (PDF/X: TrimBox or ArtBox, not
    both), each inside the next (trim in bleed in media), trim and bleed as the paper says."""
    problems = []
    for index, page in enumerate(pdf.pages):
        label = f"page {pages[index]}"
        raw = {key: page.obj.get(key) for key in ("/TrimBox", "/BleedBox", "/ArtBox")}
        raw["/MediaBox"] = _inherited(page.obj, "/MediaBox")
        boxes = {key: _rect(value) if value is not None else None for key, value in raw.items()}
        for key, value in raw.items():
            if value is not None and boxes[key] is None:
                problems.append(f"{label}: {key[1:]} is not four numbers")
        media, trim, bleed = boxes["/MediaBox"], boxes["/TrimBox"], boxes["/BleedBox"]
        if raw["/MediaBox"] is None:
            problems.append(f"{label}: no MediaBox")
        if raw["/TrimBox"] is None:
            problems.append(f"{label}: no TrimBox" + (" (it has an ArtBox: printers place by the TrimBox)"
                                                       if raw["/ArtBox"] is not None else ""))
        elif raw["/ArtBox"] is not None:
            problems.append(f"{label}: both a TrimBox and an ArtBox (PDF/X allows one)")
        if media is None or trim is None:
            continue
        width, height = trim[2] - trim[0], trim[3] - trim[1]
        if abs(width - paper.trim_width) > BOX_TOLERANCE or abs(height - paper.trim_height) > BOX_TOLERANCE:
            problems.append(f"{label}: trim {width / MM:.1f} x {height / MM:.1f} mm, the paper is "
                            f"{paper.trim_width / MM:.1f} x {paper.trim_height / MM:.1f} mm")
        outer = bleed or media
        if not _within(trim, media):
            problems.append(f"{label}: the TrimBox reaches outside the MediaBox")
        elif bleed is not None and not _within(trim, bleed):
            problems.append(f"{label}: the TrimBox reaches outside the BleedBox")
        if bleed is not None and not _within(bleed, media):
            problems.append(f"{label}: the BleedBox reaches outside the MediaBox")
        margin = min(trim[0] - outer[0], trim[1] - outer[1], outer[2] - trim[2], outer[3] - trim[3])
        if abs(margin - paper.bleed) > BOX_TOLERANCE:
            problems.append(f"{label}: bleed {margin:.1f} pt, the paper asks {paper.bleed:.1f} pt")
        if paper.bleed and bleed is None:
            problems.append(f"{label}: bleed is set but there is no BleedBox")
    return problems


def _within(inner: list[float], outer: list[float]) -> bool:
    return inner[0] >= outer[0] - BOX_TOLERANCE and inner[1] >= outer[1] - BOX_TOLERANCE and \
        inner[2] <= outer[2] + BOX_TOLERANCE and inner[3] <= outer[3] + BOX_TOLERANCE


def check_output_intent(pdf: pikepdf.Pdf, paper: PaperSettings) -> list[str]:
    """Exactly one GTS_PDFX output intent, with an OutputConditionIdentifier and Info; its embedded
    profile (if any) an output profile of CMYK or grey whose /N matches (else a RegistryName)."""
    intents = [i for i in pdf.Root.get("/OutputIntents", []) if isinstance(i, pikepdf.Dictionary)]
    pdfx = [i for i in intents if str(i.get("/S", "")) == "/GTS_PDFX"]
    if len(pdfx) != 1:
        return [f"{len(pdfx)} PDF/X output intents: PDF/X asks exactly one"]
    intent = pdfx[0]
    problems = [f"the output intent has no {key[1:]}" for key in ("/OutputConditionIdentifier", "/Info")
                if key not in intent]
    profile = intent.get("/DestOutputProfile")
    if profile is None:
        if "/RegistryName" not in intent:
            problems.append("the output intent has neither a profile nor a RegistryName")
        return problems
    if not isinstance(profile, pikepdf.Stream):
        return [*problems, "the output intent's profile is not a stream"]
    try:
        why, wanted = _profile_verdict(profile, paper.pdfx)
    except pikepdf.PdfError:
        return [*problems, "the output intent's profile cannot be read"]
    if why:
        return [*problems, f"the output intent's profile {why}"]
    if int(profile.get("/N", 0)) != wanted:
        problems.append(f"the output intent's profile says /N {profile.get('/N')}, its colour space has {wanted}")
    return problems


_VERDICTS: dict[tuple[str, str, str], tuple[str, int]] = {}


def _profile_verdict(profile: pikepdf.Stream, pdfx: str) -> tuple[str, int]:
    """``check_icc``'s verdict on an output intent's profile stream and its number of components:
    once a process for each stream's bytes as stored (every plate holds the same 1.3 MB profile,
    which took 6-10 ms a plate to decompress and read with LittleCMS)."""
    key = (hashlib.sha256(profile.read_raw_bytes()).hexdigest(), repr(profile.get("/Filter")) +
           repr(profile.get("/DecodeParms")), pdfx)
    if key not in _VERDICTS:
        data = profile.read_bytes()
        _VERDICTS[key] = check_icc(data, pdfx), 1 if data[16:20] == b"GRAY" else 4
    return _VERDICTS[key]


FORBIDDEN_FILTERS = {"/LZWDecode": "LZW", "/LZW": "LZW", "/JBIG2Decode": "JBIG2", "/JPXDecode": "JPEG 2000 (PDF 1.5)",
                     "/Crypt": "Crypt-filter (PDF 1.5)"}


def check_pdfx_structure(pdf: pikepdf.Pdf, paper: PaperSettings) -> list[str]:
    """What PDF/X-1a (ISO 15930-4) forbids in a file's structure: encryption, a PDF version past 1.4
    (X-1a), LZW and JBIG2 compression, transfer functions, halftones by name or of a type but 1 and
    5, PostScript XObjects, OPI, alternate images and embedded files."""
    problems = _file_problems(pdf, paper) | _content_problems(pdf)
    for target in _dictionaries(pdf):
        problems |= _dictionary_problems(target)
    return sorted(problems)


def _file_problems(pdf: pikepdf.Pdf, paper: PaperSettings) -> set[str]:
    """``check_pdfx_structure``'s rules for the file as a whole and for its pages' dictionaries."""
    problems: set[str] = set()
    if pdf.is_encrypted:
        problems.add("the file is encrypted")
    if paper.pdfx == "x-1a" and pdf.pdf_version > "1.4":
        problems.add(f"PDF {pdf.pdf_version}: PDF/X-1a:2003 is PDF 1.4 at most")
    if "/EmbeddedFiles" in pdf.Root.get("/Names", {}):
        problems.add("embedded files")
    if "/OCProperties" in pdf.Root:
        problems.add("optional content (layers, /OCProperties: PDF 1.5)")
    for number, page in enumerate(pdf.pages, start=1):
        if "/SeparationInfo" in page.obj:
            problems.add(f"page {number}: a pre-separated page (/SeparationInfo): PDF/X plates are composite")
        if "/Group" in page.obj and str(page.obj.Group.get("/S", "")) == "/Transparency":
            problems.add(f"page {number}: a transparency group on the page")
    return problems


def _content_problems(pdf: pikepdf.Pdf) -> set[str]:
    """``check_pdfx_structure``'s rules for what content streams say: no PostScript, no optional content."""
    problems: set[str] = set()
    for holder in _content_holders(pdf):
        if not _may_hold(holder, (b"PS", b"BDC")):
            continue
        for instruction in pikepdf.parse_content_stream(holder, "PS BDC"):
            if str(instruction.operator) == "PS":
                problems.add("PostScript in a content stream (the PS operator)")
            elif instruction.operands and str(instruction.operands[0]) == "/OC":
                problems.add("optional content in a content stream (/OC marked content)")
    return problems


def _dictionary_problems(target: pikepdf.Object) -> set[str]:
    """``check_pdfx_structure``'s rules for one dictionary of the file (a stream's too)."""
    problems: set[str] = set()
    filters = target.get("/Filter")
    for name in (filters if isinstance(filters, pikepdf.Array) else [filters] if filters is not None else []):
        if str(name) in FORBIDDEN_FILTERS:
            problems.add(f"{FORBIDDEN_FILTERS[str(name)]} compression")
    for key in ("/TR", "/TR2"):
        if key in target and str(target[key]) != "/Default":
            problems.add(f"a transfer function ({key[1:]})")
    halftone = target.get("/HT")
    if isinstance(halftone, pikepdf.Stream):
        halftone = halftone.stream_dict
    if isinstance(halftone, pikepdf.Dictionary) and ("/HalftoneName" in halftone or
                                                     int(halftone.get("/HalftoneType", 1)) not in (1, 5)):
        problems.add("a named halftone or one of a type but 1 and 5")
    subtype = str(target.get("/Subtype", ""))
    if subtype == "/PS" or str(target.get("/Subtype2", "")) == "/PS":
        problems.add("a PostScript XObject")
    if "/OC" in target and subtype in ("/Form", "/Image"):
        problems.add("optional content on an XObject (/OC)")
    for key, what in (("/OPI", "OPI comments (an image to be swapped)"), ("/Alternates", "alternate images"),
                      ("/EF", "an embedded file")):
        if key in target:
            problems.add(what)
    return problems


def _may_hold(holder: pikepdf.Page | pikepdf.Stream, operators: tuple[bytes, ...]) -> bool:
    """Whether ``holder``'s content streams can hold any of ``operators``: an operator is a token of
    the stream's bytes, so content in which none of them occurs as bytes holds none of them, and
    need not be parsed (qpdf's parser turns every operand into an object: 2 ms a plate, where
    looking through the bytes takes 0.4 ms). Anything unreadable is parsed, as before."""
    contents = holder.obj.get("/Contents") if isinstance(holder, pikepdf.Page) else holder
    streams = contents if isinstance(contents, pikepdf.Array) else [contents]
    try:
        data = b"\n".join(stream.read_bytes() for stream in streams if isinstance(stream, pikepdf.Stream))
    except (pikepdf.PdfError, ValueError, TypeError):
        return True
    return any(operator in data for operator in operators)


def _content_holders(pdf: pikepdf.Pdf):
    """Every page and every form XObject, Type 3 glyph and tiling pattern in the file: what holds a
    content stream."""
    yield from pdf.pages
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        if str(obj.get("/Subtype", "")) == "/Form" or int(obj.get("/PatternType", 0)) == 1:
            yield obj
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and str(obj.get("/Subtype", "")) == "/Type3":
            yield from (proc for proc in (obj.get("/CharProcs") or {}).values() if isinstance(proc, pikepdf.Stream))


def check_document_info(pdf: pikepdf.Pdf, paper: PaperSettings, version: str) -> list[str]:
    """What PDF/X asks of the document information (ISO 15930-4 6.7.5) and its XMP copy: the exact
    GTS_PDFXVersion of the variant (no GTS_PDFXConformance: that is PDF/X-1a:2001's), a Title, and a
    CreationDate and ModDate in PDF's date syntax; the XMP's pdfx keys the same as the Info's."""
    info = pdf.trailer.get("/Info") if "/Info" in pdf.trailer else None
    if not isinstance(info, pikepdf.Dictionary):
        return ["no document information dictionary (PDF/X asks Title, dates, Trapped, GTS_PDFXVersion)"]
    problems = []
    found = str(info.get("/GTS_PDFXVersion", ""))
    if found != version:
        problems.append(f"GTS_PDFXVersion is {found!r} in the document information, not {version!r}")
    if "/GTS_PDFXConformance" in info and paper.pdfx == "x-1a":
        problems.append(f"GTS_PDFXConformance {str(info.GTS_PDFXConformance)!r} in the document information: "
                        "that key is PDF/X-1a:2001's, PDF/X-1a:2003 has GTS_PDFXVersion alone")
    if not str(info.get("/Title", "")).strip():
        problems.append("no Title in the document information")
    for key in ("/CreationDate", "/ModDate"):
        if not PDF_DATE.match(str(info.get(key, ""))):
            problems.append(f"{key[1:]} is {str(info.get(key, 'missing'))!r}: PDF/X asks a date (D:YYYYMMDDHHmmSSZ)")
    try:
        xmp = bytes(pdf.Root.Metadata.read_bytes()).decode("utf-8", "replace") if "/Metadata" in pdf.Root else ""
    except pikepdf.PdfError:
        xmp = ""
    for key in ("GTS_PDFXVersion", "GTS_PDFXConformance"):
        for value in re.findall(rf"<pdfx:{key}>\s*([^<]*?)\s*</pdfx:{key}>|pdfx:{key}=\"([^\"]*)\"", xmp):
            value = value[0] or value[1]
            own = str(info.get(f"/{key}", "")) or None
            if value != own:
                problems.append(f"the XMP says pdfx:{key} {value!r}, the document information "
                                + (f"{own!r}" if own else "has none"))
    return problems


PDF_DATE = re.compile(r"D:\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2})?)?)?)?)?([+\-]\d{2}'?(\d{2}'?)?|Z(00'?(00'?)?)?)?$")


def _dictionaries(pdf: pikepdf.Pdf):
    """Every dictionary in the file (a stream's too), indirect or nested in another object."""
    stack: list[pikepdf.Object] = [
        obj for obj in pdf.objects if isinstance(obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream))]
    stack.append(pdf.trailer)
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj
            values = list(obj.values())
        elif isinstance(obj, pikepdf.Array):
            values = list(obj)
        else:
            continue
        stack.extend(v for v in values if isinstance(v, (pikepdf.Dictionary, pikepdf.Array)) and not v.is_indirect)


def check_trapped(pdf: pikepdf.Pdf) -> list[str]:
    """PDF/X asks /Trapped to be True or False (not Unknown, not missing), the XMP agreeing."""
    value = str(pdf.trailer.get("/Info", pikepdf.Dictionary()).get("/Trapped", "")) if "/Info" in pdf.trailer else ""
    if value not in ("/True", "/False"):
        return [f"/Trapped is {value or 'missing'} in the document information: PDF/X asks True or False"]
    try:
        xmp = bytes(pdf.Root.Metadata.read_bytes()).decode("utf-8", "replace") if "/Metadata" in pdf.Root else ""
    except pikepdf.PdfError:
        xmp = ""
    found = re.search(r"<pdf:Trapped>\s*(\w+)\s*</pdf:Trapped>|pdf:Trapped=\"(\w+)\"", xmp)
    if found is None:
        return ["/Trapped is not in the XMP metadata (pdf:Trapped)"]
    if (found[1] or found[2]) != value[1:]:
        return [f"/Trapped is {value[1:]} in the document information but {found[1] or found[2]} in the XMP"]
    return []


ACTION_KEYS = {"/AA": "an additional-actions dictionary (/AA)", "/OpenAction": "an open action (/OpenAction)",
               "/JS": "JavaScript (/JS)", "/JavaScript": "JavaScript (/JavaScript)"}
ACTION_TYPES = {"/JavaScript", "/URI", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition",
                "/Movie", "/Sound", "/ResetForm", "/Hide", "/Named", "/SetOCGState", "/Trans", "/GoTo3DView"}


def check_actions(pdf: pikepdf.Pdf, pages: list[int]) -> list[str]:
    """No actions, JavaScript, links or forms anywhere in the file (PDF/X forbids them; a RIP may run
    or refuse them): every object is searched, not only the catalog, and every annotation but
    printer's marks is reported with its page."""
    problems: set[str] = set()
    for obj in _dictionaries(pdf):
        for key in obj:
            if key in ACTION_KEYS:
                problems.add(ACTION_KEYS[key])
        kind = obj.get("/S")
        if isinstance(kind, pikepdf.Name) and str(kind) in ACTION_TYPES and \
                str(obj.get("/Type", "/Action")) == "/Action":
            problems.add(f"a {str(kind)[1:]} action")
    if "/AcroForm" in pdf.Root:
        problems.add("an interactive form (/AcroForm)")
    for index, page in enumerate(pdf.pages):
        for annotation in page.obj.get("/Annots", []):
            subtype = str(annotation.get("/Subtype", "")) if isinstance(annotation, pikepdf.Dictionary) else ""
            if subtype in ("/PrinterMark", "/TrapNet"):
                continue
            action = annotation.get("/A") if isinstance(annotation, pikepdf.Dictionary) else None
            target = ""
            if isinstance(action, pikepdf.Dictionary):
                kind = str(action.get("/S", ""))
                detail = action.get("/URI") or action.get("/F") or ""
                target = f" ({kind[1:]} {str(detail)[:60]})" if kind else ""
            problems.add(f"page {pages[index] if index < len(pages) else index + 1}: a {subtype[1:] or 'untyped'} "
                         f"annotation{target}")
    return sorted(problems)


def _grouped(placed: list[Placed], where: _Where) -> dict[tuple[str, str], list[Placed]]:
    groups: dict[tuple[str, str], list[Placed]] = {}
    for item in placed:
        groups.setdefault((where(item.page, item.x, item.y), item.what), []).append(item)
    return groups


def check_type_size(paint: Paint, paper: PaperSettings, where: _Where) -> list[str]:
    """Type below ``min_type_size`` (reversed type, white on ink, below ``min_reversed_type_size``),
    each finding naming the article (or furniture) it is in."""
    problems = []
    for (place, what), items in sorted(_grouped(list(paint.small_type), where).items()):
        size = min(item.size for item in items)
        if what == "reversed":
            problems.append(f"{place}: reversed (white) type at {size:.1f} pt, below "
                            f"{paper.min_reversed_type_size:g} pt ({len(items)} run(s) of text)")
        else:
            problems.append(f"{place}: text set at {size:.1f} pt, below {paper.min_type_size:g} pt "
                            f"({len(items)} run(s) of text)")
    return problems


def check_hairlines(paint: Paint, paper: PaperSettings, where: _Where) -> list[str]:
    """Strokes inside the trim thinner than ``min_rule_width`` (a 0-width line is the device's
    thinnest, which a platesetter makes invisible)."""
    groups = sorted(_grouped(list(paint.hairlines), where).items())
    return [f"{place}: {len(items)} stroke(s) {min(i.size for i in items):.2f} pt wide, thinner than "
            f"{paper.min_rule_width:g} pt" for (place, _), items in groups]


def check_registration(paint: Paint, pages: list[int]) -> list[str]:
    """With crop marks on: crop marks at the four corners and registration targets (circles) on the
    sides, in registration colour (all four inks), outside the trim."""
    problems = []
    for index, page in enumerate(pages, start=1):
        marks = [placed for placed in paint.registration if placed.page == index]
        lines = [placed for placed in marks if placed.what == "line"]
        targets = [placed for placed in marks if placed.what == "curve"]
        if len(lines) < 8:
            problems.append(f"page {page}: {len(lines)} crop mark line(s) in registration colour, 8 expected "
                            "(two at each corner)")
        if len(targets) < 2:
            problems.append(f"page {page}: {len(targets)} registration target(s), at least 2 expected")
    return problems


def _photo_name(placed: Placed, where: _Where) -> str:
    """How a finding names an image that is a photo: by the source file and article its prepared
    JPEG names, else (an image put in some other way) by the article whose slot holds it; "" for
    an image outside every article (furniture, line art from a stylesheet)."""
    if placed.what:
        return f"photo {placed.what}"
    place = where(placed.page, placed.x, placed.y)
    return f"an image in {place.split(', ', 1)[1]}" if ", article " in place else ""


def check_image_resolution(paint: Paint, paper: PaperSettings, where: _Where) -> list[str]:
    """Images below ``min_image_ppi`` at their drawn size, a photo named by its file and article."""
    problems = []
    for placed in paint.photos:
        if placed.size < paper.min_image_ppi - 0.5:
            name = _photo_name(placed, where) or f"an image at {placed.x / MM:.0f} mm, {placed.y / MM:.0f} mm"
            page = where.pages[placed.page - 1] if placed.page <= len(where.pages) else placed.page
            problems.append(f"page {page}: {name} prints at {placed.size:.0f} ppi, below {paper.min_image_ppi} ppi")
    return problems


def check_photo_tones(paint: Paint, paper: PaperSettings, where: _Where) -> list[str]:
    """Each prepared photo's dots within [``photo_highlight``, ``photo_shadow``] (read from its samples
    on the plate): lighter dots are lost on newsprint, darker ones fill in to solid."""
    problems = []
    for placed in paint.photos:
        name = _photo_name(placed, where)
        if not name or placed.dots[0] < 0:
            continue  # not a photo; or not plain grey (its colour is the colour rule's)
        lightest, darkest = placed.dots
        page = where.pages[placed.page - 1] if placed.page <= len(where.pages) else placed.page
        if darkest > paper.photo_shadow + 0.2:
            problems.append(f"page {page}: {name} has {darkest:.0f}% dots, above photo_shadow "
                            f"{paper.photo_shadow:g}% (they print solid)")
        if lightest < paper.photo_highlight - 0.2:
            problems.append(f"page {page}: {name} has {lightest:.0f}% dots, below photo_highlight "
                            f"{paper.photo_highlight:g}% (newsprint loses them)")
    return problems


def check_imprint(paper: PaperSettings) -> Finding:
    """The sample imprint (the repository's placeholder) must not go to press: an error, or with
    ``sample_imprint: warning`` a warning. (UK law asks the printer's name and address in the paper.)"""
    imprint = " ".join(paper.imprint.split())
    if not imprint:
        return Finding("paper.yaml", "imprint", False,
                       "no imprint: the printer's and publisher's names and addresses must be printed (UK law)")
    if SAMPLE_IMPRINT in imprint.lower():
        message = "the imprint is the sample one (\"sample imprint\" in issues/paper.yaml): set the real printer"
        if paper.sample_imprint == "warning":
            return Finding("paper.yaml", "imprint", True, f"warning: {message}")
        return Finding("paper.yaml", "imprint", False, message)
    return Finding("paper.yaml", "imprint", True, "set (not the sample)")


def check_issue(plates: list[Path], paper: PaperSettings, fit: dict | None, cache: Store | None = None,
                keys: list[str] | None = None, copies: list[PlateCopy] | None = None) -> list[Finding]:
    """Preflight every plate and the fit report; return every finding (on every core: a pool of
    its own, whose workers end with this process; see ``start_checks``)."""
    if len(plates) > 1 and (os.cpu_count() or 1) > 1:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(os.cpu_count(), mp_context=context, initializer=guard_worker,
                                                    initargs=(os.getpid(),)) as pool:
            return start_checks(plates, paper, fit, cache, keys, pool.submit, copies).result()
    return start_checks(plates, paper, fit, cache, keys, copies=copies).result()


@dataclass
class Checks:
    """The preflight of an issue's plates, under way (``start_checks``)."""

    plates: list[Path]
    paper: PaperSettings
    fit: dict | None
    cache: Store | None
    stored: list[str | None]
    results: list[list | None]
    todo: list[int]
    checked: list[concurrent.futures.Future[tuple[list[Finding], float | None]]]
    copies: list[PlateCopy] | None = None
    """What each plate must show: jumped stories are accounted for over all their plates."""

    def result(self) -> list[Finding]:
        """Every finding, once the plates' checks are done (Ghostscript renders the inks of those
        whose ink cannot be read from their objects)."""
        plates, paper, results = self.plates, self.paper, self.results
        findings = []
        if self.fit is not None:
            over = self.fit.get("overset", [])
            findings.append(Finding("fit.json", "overset", not over,
                                    f"overset: {', '.join(over)}" if over else "no copy overset"))
        findings.append(check_imprint(paper))
        checked = [future.result() for future in self.checked]
        unread = [position for position, (_, ink) in enumerate(checked) if ink is None]
        rendered = rendered_inks([plates[self.todo[position]] for position in unread]) if unread else []
        inks: list[float | str] = [NO_GHOSTSCRIPT if ink is None else ink for _, ink in checked]
        for position, ink in zip(unread, rendered or []):
            inks[position] = NOT_RENDERED if ink is None else ink
        for position, (index, (plate_findings, _)) in enumerate(zip(self.todo, checked)):
            results[index] = plate_findings = plate_findings + _ink_findings(plates[index].name, inks[position], paper)
            if self.cache is not None and (key := self.stored[index]) is not None:
                self.cache.put("preflight", key, json.dumps(
                    [[f.plate, f.check, f.ok, f.message, f.count] for f in plate_findings]).encode())
        for plate, result in zip(plates, results):
            findings.extend(Finding(plate.name, *f[1:]) if isinstance(f, list) else f for f in result or [])
        return story_findings(self.copies, findings) if self.copies else findings


def start_checks(plates: list[Path], paper: PaperSettings, fit: dict | None, cache: Store | None = None,
                 keys: list[str] | None = None, submit: Callable | None = None,
                 copies: list[PlateCopy] | None = None) -> Checks:
    """Start preflighting every plate and the fit report: each plate's checks are handed to
    ``submit`` (a worker pool's; without one they run here, now) at once, so that they run while
    the caller goes on. With ``copies`` (what each plate must show), every word of every article is
    accounted for on its plate (``press/accounting.py``).

    With ``cache`` (the build cache), a plate checked before is not checked again: it is known by
    ``keys`` (the hash of its own inputs) or else by its own bytes, and the paper settings. Ghostscript renders the
    inks only of plates whose ink cannot be read from their objects (see ``press/paint.py``).
    """
    expected = copies if copies is not None and len(copies) == len(plates) else [None] * len(plates)
    stored = [_stored(plate, paper, cache, keys[index] if keys else None, copy.digest if copy else "")
              for index, (plate, copy) in enumerate(zip(plates, expected))]
    results: list[list | None] = [_load(cache, key) for key in stored]
    todo = [index for index, result in enumerate(results) if result is None]
    slots = _slots_by_page(fit)
    jobs = [(plates[index], paper, {page: slots.get(page, []) for page in _page_numbers(plates[index], 1)},
             expected[index]) for index in todo]
    checked = [submit(_check_job, job) if submit is not None else completed(_check_job(job)) for job in jobs]
    return Checks(plates, paper, fit, cache, stored, results, todo, checked,
                  copies if copies is not None and len(copies) == len(plates) else None)


def _slots_by_page(fit: dict | None) -> dict[int, list]:
    """The fit report's slots (slug and box), by page."""
    pages: dict[int, list] = {}
    for slot in (fit or {}).get("slots", []):
        if isinstance(slot, dict) and "box" in slot and "page" in slot:
            pages.setdefault(int(slot["page"]), []).append({"slug": slot.get("slug", "?"), "box": slot["box"]})
    return pages


def _check_job(job: tuple) -> tuple[list[Finding], float | None]:
    """One plate's checks, and its ink if it can be read from its objects (a worker process runs
    this: the plates are checked on every core)."""
    path, paper, slots, copy = job
    paint = _read_paint(path, paper)
    try:
        findings = _checks_but_ink(path, paper, paint, slots)
    except Exception as error:  # noqa: BLE001 - a damaged PDF fails in any of its ways
        return [Finding(path.name, "readable", False, f"the plate cannot be read as a PDF ({type(error).__name__}: "
                        f"{str(error)[:120]}): is it damaged or truncated? compose again")], None
    if copy is not None:
        findings += copy_findings(path, copy)
    return findings, paint.ink if paint is not None else None


NO_GHOSTSCRIPT = "not checked: the plate paints with what only a rendering can measure, and Ghostscript " \
    "is not installed"
NOT_RENDERED = "Ghostscript could not render the plate to measure its ink (is the PDF damaged?)"


def _ink_findings(name: str, ink: float | str, paper: PaperSettings) -> list[Finding]:
    """The total-ink finding: ``ink`` is a percentage, or why it is not known (``NO_GHOSTSCRIPT``,
    ``NOT_RENDERED``)."""
    if isinstance(ink, str):
        return [Finding(name, "total ink", ink == NO_GHOSTSCRIPT, ink)]
    if ink > paper.ink_limit + 0.5:
        return [Finding(name, "total ink", False,
                        f"{ink:.0f}% ink at the darkest point, over the {paper.ink_limit}% limit")]
    return [Finding(name, "total ink", True, f"at most {ink:.0f}% (limit {paper.ink_limit}%)")]


def _stored(plate: Path, paper: PaperSettings, cache: Store | None, key: str | None, expected: str = ""
            ) -> str | None:
    if cache is None:
        return None
    # The settings without the paths they hold (where the project is), with the files they name by their bytes.
    settings = sorted((k, v) for k, v in asdict(paper).items() if not isinstance(v, os.PathLike))
    return cache.key("preflight", key if key else plate.read_bytes(), expected, repr(settings),
                     files_digest(settings_files(paper)))


def _load(cache: Store | None, key: str | None) -> list | None:
    if cache is None or key is None:
        return None
    kept = cache.get("preflight", key)  # sealed (see base/cache.py): a damaged result is checked again
    try:
        found = json.loads(kept) if kept is not None else None
    except ValueError:
        return None
    return found if isinstance(found, list) else None


def report_json(findings: list[Finding]) -> bytes:
    """The preflight report as JSON."""
    errors = [f for f in findings if not f.ok]
    data = {"passed": not errors, "errors": len(errors), "findings": [asdict(f) for f in findings]}
    return (json.dumps(data, indent=2) + "\n").encode()


def _summary(passed: list[Finding]) -> str:
    """One line for a check every plate passed: what the plates counted, added up."""
    if len(passed) == 1:
        return passed[0].message
    plates = f"{len(passed)} plates"
    if all(f.count is not None for f in passed):
        total = sum(f.count or 0 for f in passed)
        return re.sub(r"^\d+", str(total), passed[0].message, count=1) + f", on {plates}"
    extreme = EXTREMES.get(passed[0].check)
    numbered = [(float(m[1]), f.message) for f in passed if (m := re.search(r"(\d+(?:\.\d+)?)", f.message))]
    if extreme is not None and len(numbered) == len(passed):
        return extreme(numbered)[1] + f", on {plates}"
    messages = {f.message for f in passed}
    return (passed[0].message if len(messages) == 1 else f"{passed[0].message} (first of them)") + f", on {plates}"


EXTREMES = {"total ink": max, "type size": min}
"""Checks whose summary is the plate with the largest (ink) or smallest (type) figure."""


def report_table(findings: list[Finding]) -> str:
    """The preflight report for the terminal: errors in full, passes summarised."""
    lines = []
    errors = [f for f in findings if not f.ok]
    for f in errors:
        lines.append(f"FAIL  {f.plate}: {f.check}: {f.message}")
    for f in findings:
        if f.ok and f.message.startswith("warning: "):
            lines.append(f"warn  {f.plate}: {f.check}: {f.message[len('warning: '):]}")
    checks = sorted({f.check for f in findings})
    for check in checks:
        passed = [f for f in findings if f.check == check and f.ok and not f.message.startswith("warning: ")]
        if passed and not any(f.check == check for f in errors):
            lines.append(f"ok    {check}: {_summary(passed)}")
    lines.append(f"preflight: {'FAILED, ' + str(len(errors)) + ' error(s)' if errors else 'passed'}")
    return "\n".join(lines)

