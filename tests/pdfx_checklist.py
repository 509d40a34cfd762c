"""An independent PDF/X-1a:2003 checklist (ISO 15930-4:2003), written apart from layout/press/preflight.py
so that the plates are held to the standard by code that shares nothing with the producer or its
preflight: it reads the raw objects with pikepdf (no inherited or defaulted page boxes) and walks
every content stream (pages, forms, Type 3 glyphs, patterns, annotation appearances).

``check(path)`` returns a list of ``(rule, message)``: empty when the file passes. ``RULES`` names
every rule in the order they are checked. What it cannot check: the content of an embedded ICC
profile beyond its header, the fonts' programs themselves (only that they are embedded), and
rendering-level matters (ink totals, overprint) which are not PDF/X-1a conformance rules.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pikepdf

RULES = {
    "X01-version": "PDF version at most 1.4 (header and catalog /Version); 1.3 for X-1a:2001",
    "X02-encryption": "not encrypted",
    "X03-id": "trailer /ID: an array of two strings",
    "X04-pdfx-version": "Info /GTS_PDFXVersion 'PDF/X-1a:2003' (or 'PDF/X-1:2001' with /GTS_PDFXConformance "
                        "'PDF/X-1a:2001'); GTS_PDFXConformance only with 2001",
    "X05-title": "Info /Title present and not empty",
    "X06-dates": "Info /CreationDate and /ModDate present, in PDF date syntax",
    "X07-trapped": "Info /Trapped the name /True or /False",
    "X08-output-intent": "exactly one OutputIntent /S /GTS_PDFX, with an OutputConditionIdentifier; "
                         "a DestOutputProfile unless a RegistryName says the identifier is registered",
    "X09-profile": "the DestOutputProfile, if any: an ICC output ('prtr') profile of a CMYK or grey "
                   "printing condition, /N matching its colour space",
    "X10-page-boxes": "each page object itself has a MediaBox (or inherits one), a TrimBox or an ArtBox, not both",
    "X11-box-nesting": "BleedBox within MediaBox; TrimBox/ArtBox within BleedBox (or MediaBox); no empty box",
    "X12-colour": "only DeviceCMYK, DeviceGray, Separation, DeviceN (with those as alternates), Indexed and "
                  "Pattern on them: no RGB, Lab, Cal or ICCBased colour, no rg/RG operators",
    "X13-fonts": "every font in every resource dictionary embedded (Type 3 glyphs are in the file)",
    "X14-transparency": "no soft mask (ExtGState or image), no CA/ca below 1, blend mode Normal/Compatible "
                        "only, no transparency group",
    "X15-actions": "no actions or JavaScript (OpenAction, AA, A, Names /JavaScript), no forms",
    "X16-annotations": "annotations other than TrapNet and PrinterMark outside the BleedBox and TrimBox",
    "X17-postscript": "no PostScript XObjects or PS operator",
    "X18-transfer-halftone": "no transfer functions (TR, TR2 other than /Default), halftones of type 1 or 5 "
                             "without HalftoneName",
    "X19-opi": "no OPI comments",
    "X20-filters": "no LZWDecode, and no filter newer than PDF 1.4 (JPXDecode, Crypt)",
    "X21-alternates": "no alternate images",
    "X22-embedded-files": "no embedded files, file attachments or external streams",
    "X23-optional-content": "no optional content (OCProperties, /OC)",
    "X24-operators": "content streams use only PDF 1.4 operators",
    "X25-xmp": "XMP metadata, if present, parses and agrees with the Info dictionary (title, version, trapped)",
    "X26-separated": "the pages are composite, not pre-separated (no SeparationInfo)",
}

PDF14_OPERATORS = set("""b B b* B* BDC BI BMC BT BX c cm CS cs d d0 d1 Do DP EI EMC ET EX f F f* G g gs h i ID
j J K k l m M MP n q Q re RG rg ri s S SC sc SCN scn sh T* Tc Td TD Tf Tj TJ TL Tm Tr Ts Tw Tz v w W W* y ' \"
""".split())
COLOUR_FAMILIES = {"/DeviceCMYK", "/DeviceGray", "/Separation", "/DeviceN", "/Indexed", "/Pattern"}
INLINE_COLOUR = {"/G": "/DeviceGray", "/CMYK": "/DeviceCMYK", "/RGB": "/DeviceRGB", "/I": "/Indexed"}
FILTERS_14 = {"/ASCIIHexDecode", "/ASCII85Decode", "/FlateDecode", "/RunLengthDecode", "/CCITTFaxDecode",
              "/JBIG2Decode", "/DCTDecode", "/AHx", "/A85", "/Fl", "/RL", "/CCF", "/DCT"}
DATE = re.compile(r"D:\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2})?)?)?)?)?([+\-]\d{2}'?(\d{2}'?)?|Z(00'?(00'?)?)?)?$")


def _names(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return [str(v) for v in value]
    return [str(value)]


def _box(obj: pikepdf.Dictionary, key: str) -> tuple[float, float, float, float] | None:
    if key not in obj:
        return None
    x0, y0, x1, y1 = (float(v) for v in obj[key])
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _within(inner: tuple, outer: tuple, slack: float = 0.01) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Checker:
    def __init__(self, pdf: pikepdf.Pdf, version: str) -> None:
        self.pdf, self.version = pdf, version
        self.found: list[tuple[str, str]] = []
        self.seen: set[tuple[int, int]] = set()

    def fail(self, rule: str, message: str) -> None:
        if (rule, message) not in self.found:
            self.found.append((rule, message))

    # ---- colour spaces -------------------------------------------------------------------------
    def colour_space(self, cs: object, where: str, resources: pikepdf.Dictionary | None = None) -> None:
        if isinstance(cs, pikepdf.Name) and resources is not None and "/ColorSpace" in resources \
                and cs in resources.ColorSpace:
            cs = resources.ColorSpace[cs]
        if isinstance(cs, pikepdf.Name):
            cs = INLINE_COLOUR.get(str(cs), str(cs))
            if cs not in COLOUR_FAMILIES:
                self.fail("X12-colour", f"{where}: colour space {cs}")
            return
        if isinstance(cs, pikepdf.Array) and len(cs):
            family = str(cs[0])
            family = INLINE_COLOUR.get(family, family)
            if family not in COLOUR_FAMILIES:
                self.fail("X12-colour", f"{where}: colour space {family}")
            elif family == "/Indexed":
                self.colour_space(cs[1], f"{where} (Indexed base)", resources)
            elif family in ("/Separation", "/DeviceN"):
                self.colour_space(cs[2], f"{where} ({family[1:]} alternate)", resources)
            elif family == "/Pattern" and len(cs) > 1:
                self.colour_space(cs[1], f"{where} (Pattern base)", resources)
            return
        if isinstance(cs, pikepdf.Dictionary | pikepdf.Stream):
            self.fail("X12-colour", f"{where}: colour space given as a dictionary")

    # ---- streams -------------------------------------------------------------------------------
    def stream_filters(self, stream: pikepdf.Object, where: str) -> None:
        for name in _names(stream.get("/Filter")):
            if name in ("/LZWDecode", "/LZW"):
                self.fail("X20-filters", f"{where}: LZWDecode")
            elif name not in FILTERS_14:
                self.fail("X20-filters", f"{where}: filter {name}")
        if "/F" in stream or "/FFilter" in stream:
            self.fail("X22-embedded-files", f"{where}: external stream data (/F)")

    def content(self, holder: pikepdf.Object, resources: pikepdf.Dictionary | None, where: str) -> None:
        try:
            instructions = pikepdf.parse_content_stream(holder)
        except pikepdf.PdfError as exc:
            self.fail("X24-operators", f"{where}: content stream does not parse ({exc})")
            return
        for instruction in instructions:
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                image = instruction.iimage.obj
                cs = image.get("/ColorSpace", image.get("/CS"))
                if cs is not None and not image.get("/ImageMask", image.get("/IM", False)):
                    self.colour_space(cs, f"{where}: inline image", resources)
                for name in _names(image.get("/Filter", image.get("/F"))):
                    if name in ("/LZWDecode", "/LZW"):
                        self.fail("X20-filters", f"{where}: inline image LZW")
                continue
            op = str(instruction.operator)
            if op not in PDF14_OPERATORS:
                self.fail("X24-operators" if op != "PS" else "X17-postscript", f"{where}: operator {op}")
            if op in ("rg", "RG"):
                self.fail("X12-colour", f"{where}: DeviceRGB colour ({op})")
            elif op in ("cs", "CS"):
                self.colour_space(instruction.operands[0], f"{where}: {op}", resources)
            elif op == "BDC" and len(instruction.operands) > 1 and str(instruction.operands[0]) == "/OC":
                self.fail("X23-optional-content", f"{where}: marked content /OC")

    def resources(self, res: pikepdf.Object | None, where: str) -> None:
        if res is None or not isinstance(res, pikepdf.Dictionary):
            return
        for name, cs in (res.get("/ColorSpace") or {}).items():
            self.colour_space(cs, f"{where}: ColorSpace {name}")
        for name, gs in (res.get("/ExtGState") or {}).items():
            self.ext_gstate(gs, f"{where}: ExtGState {name}")
        for name, shading in (res.get("/Shading") or {}).items():
            self.colour_space(shading.get("/ColorSpace"), f"{where}: Shading {name}")
        for name, pattern in (res.get("/Pattern") or {}).items():
            self.pattern(pattern, f"{where}: Pattern {name}")
        for name, font in (res.get("/Font") or {}).items():
            self.font(font, f"{where}: Font {name}")
        for name, xobject in (res.get("/XObject") or {}).items():
            self.xobject(xobject, f"{where}: XObject {name}")
        if "/Properties" in res:
            for name, prop in res.Properties.items():
                if isinstance(prop, pikepdf.Dictionary) and prop.get("/Type") in ("/OCG", "/OCMD"):
                    self.fail("X23-optional-content", f"{where}: Properties {name} is an optional content group")

    def _once(self, obj: pikepdf.Object) -> bool:
        if obj.is_indirect:
            if obj.objgen in self.seen:
                return False
            self.seen.add(obj.objgen)
        return True

    def ext_gstate(self, gs: pikepdf.Dictionary, where: str) -> None:
        smask = gs.get("/SMask")
        if smask is not None and smask != pikepdf.Name.None_:
            self.fail("X14-transparency", f"{where}: soft mask")
        for key in ("/CA", "/ca"):
            if key in gs and float(gs[key]) < 1:
                self.fail("X14-transparency", f"{where}: {key} {float(gs[key])}")
        for mode in _names(gs.get("/BM")):
            if mode not in ("/Normal", "/Compatible"):
                self.fail("X14-transparency", f"{where}: blend mode {mode}")
        if "/TR" in gs:
            self.fail("X18-transfer-halftone", f"{where}: transfer function TR")
        if "/TR2" in gs and str(gs.TR2) != "/Default":
            self.fail("X18-transfer-halftone", f"{where}: transfer function TR2")
        if "/HT" in gs and str(gs.HT) != "/Default":
            self.halftone(gs.HT, where)
        if "/Font" in gs:
            self.font(gs.Font[0], f"{where}: Font")

    def halftone(self, ht: pikepdf.Object, where: str) -> None:
        kind = int(ht.get("/HalftoneType", 0))
        if kind not in (1, 5):
            self.fail("X18-transfer-halftone", f"{where}: halftone type {kind}")
        if "/HalftoneName" in ht:
            self.fail("X18-transfer-halftone", f"{where}: HalftoneName")
        if "/TransferFunction" in ht:
            self.fail("X18-transfer-halftone", f"{where}: halftone TransferFunction")
        if kind == 5:
            for key, value in ht.items():
                if isinstance(value, pikepdf.Dictionary | pikepdf.Stream) and "/HalftoneType" in value:
                    self.halftone(value, f"{where} {key}")

    def pattern(self, pattern: pikepdf.Object, where: str) -> None:
        if not self._once(pattern):
            return
        if int(pattern.get("/PatternType", 1)) == 1:
            self.stream_filters(pattern, where)
            self.resources(pattern.get("/Resources"), where)
            self.content(pattern, pattern.get("/Resources"), where)
        else:
            shading = pattern.get("/Shading")
            if shading is not None:
                self.colour_space(shading.get("/ColorSpace"), f"{where}: shading")
            if "/ExtGState" in pattern:
                self.ext_gstate(pattern.ExtGState, where)

    def font(self, font: pikepdf.Dictionary, where: str) -> None:
        if not self._once(font):
            return
        subtype = str(font.get("/Subtype"))
        name = str(font.get("/BaseFont", ""))
        if subtype == "/Type3":
            self.resources(font.get("/Resources"), f"{where} (Type 3)")
            for glyph, proc in (font.get("/CharProcs") or {}).items():
                self.stream_filters(proc, f"{where} glyph {glyph}")
                self.content(proc, font.get("/Resources"), f"{where} glyph {glyph}")
            return
        fonts = list(font.DescendantFonts) if subtype == "/Type0" and "/DescendantFonts" in font else [font]
        for each in fonts:
            descriptor = each.get("/FontDescriptor")
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                self.fail("X13-fonts", f"{where}: font {name or each.get('/BaseFont')} not embedded")
            else:
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in descriptor:
                        self.stream_filters(descriptor[key], f"{where}: font program")

    def xobject(self, xobject: pikepdf.Stream, where: str) -> None:
        if not self._once(xobject):
            return
        self.stream_filters(xobject, where)
        subtype = str(xobject.get("/Subtype"))
        if "/OPI" in xobject:
            self.fail("X19-opi", f"{where}: OPI")
        if "/OC" in xobject:
            self.fail("X23-optional-content", f"{where}: /OC")
        if subtype == "/PS" or ("/Subtype2" in xobject and xobject.Subtype2 == "/PS"):
            self.fail("X17-postscript", f"{where}: PostScript XObject")
        elif subtype == "/Image":
            if not xobject.get("/ImageMask", False):
                self.colour_space(xobject.get("/ColorSpace"), where)
            if "/SMask" in xobject or "/SMaskInData" in xobject and int(xobject.SMaskInData) != 0:
                self.fail("X14-transparency", f"{where}: image soft mask")
            if "/Alternates" in xobject:
                self.fail("X21-alternates", f"{where}: alternate images")
            if "/Mask" in xobject and isinstance(xobject.Mask, pikepdf.Stream):
                self.xobject(xobject.Mask, f"{where} mask")
        elif subtype == "/Form":
            group = xobject.get("/Group")
            if group is not None and group.get("/S") == "/Transparency":
                self.fail("X14-transparency", f"{where}: transparency group")
            if "/Ref" in xobject:
                self.fail("X22-embedded-files", f"{where}: reference XObject")
            self.resources(xobject.get("/Resources"), where)
            self.content(xobject, xobject.get("/Resources"), where)


def _info_text(info: pikepdf.Dictionary, key: str) -> str | None:
    value = info.get(key)
    return None if value is None else str(value)


def _xmp(checker: _Checker, pdf: pikepdf.Pdf, info: pikepdf.Dictionary) -> None:
    if "/Metadata" not in pdf.Root:
        return
    try:
        tree = ET.fromstring(pdf.Root.Metadata.read_bytes())
    except ET.ParseError as exc:
        checker.fail("X25-xmp", f"XMP does not parse ({exc})")
        return
    values: dict[str, str] = {}
    for element in tree.iter():
        local = element.tag.rsplit("}", 1)[-1]
        namespace = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
        text = (element.text or "").strip()
        if text:
            values.setdefault(f"{namespace} {local}", text)
        for attribute, value in element.attrib.items():
            name = attribute.rsplit("}", 1)[-1]
            space = attribute[1:].split("}", 1)[0] if attribute.startswith("{") else namespace
            values.setdefault(f"{space} {name}", value)
    title = next((e.text for e in tree.iter() if e.tag.endswith("}li") and e.text
                  and any(p.tag.endswith("}title") for p in tree.iter() if e in list(p.iter()))), None)
    if title is not None and _info_text(info, "/Title") is not None and title != _info_text(info, "/Title"):
        checker.fail("X25-xmp", f"XMP dc:title {title!r} differs from Info /Title")
    pdfx = "http://ns.adobe.com/pdfx/1.3/"
    for key in ("GTS_PDFXVersion", "GTS_PDFXConformance"):
        xmp_value, info_value = values.get(f"{pdfx} {key}"), _info_text(info, f"/{key}")
        if xmp_value is not None and xmp_value != info_value:
            checker.fail("X25-xmp", f"XMP pdfx:{key} {xmp_value!r} but Info has {info_value!r}")
    trapped = values.get("http://ns.adobe.com/pdf/1.3/ Trapped")
    if trapped is not None and "/Trapped" in info and trapped != str(info.Trapped)[1:]:
        checker.fail("X25-xmp", f"XMP pdf:Trapped {trapped} but Info /Trapped {info.Trapped}")


def check(path: Path, standard: str = "PDF/X-1a:2003") -> list[tuple[str, str]]:
    """Every way the PDF at ``path`` falls short of ``standard`` (PDF/X-1a:2003 or :2001)."""
    head = Path(path).read_bytes()[:16]
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        return [("X02-encryption", "encrypted")]
    with pdf:
        checker = _Checker(pdf, standard)
        _document(checker, pdf, head, standard)
        for number, page in enumerate(pdf.pages, start=1):
            _page(checker, pdf, page.obj, number)
        return checker.found


def _document(checker: _Checker, pdf: pikepdf.Pdf, head: bytes, standard: str) -> None:
    """The checklist's rules for the file as a whole, in the order of their numbers."""
    _header(checker, pdf, head, standard)
    info = pdf.trailer.get("/Info") or pikepdf.Dictionary()
    _info(checker, info, standard)
    _output_intents(checker, pdf)
    _catalog(checker, pdf)
    _objects(checker, pdf)
    _xmp(checker, pdf, info)


def _header(checker: _Checker, pdf: pikepdf.Pdf, head: bytes, standard: str) -> None:
    """X01-X03: the PDF version, no encryption, a trailer /ID."""
    limit = "1.3" if standard.endswith("2001") else "1.4"
    match = re.match(rb"%PDF-(\d\.\d)", head)
    if not match or match[1].decode() > limit:
        checker.fail("X01-version", f"header {head[:8]!r}, at most PDF {limit}")
    if "/Version" in pdf.Root and str(pdf.Root.Version)[1:] > limit:
        checker.fail("X01-version", f"catalog /Version {pdf.Root.Version}")
    if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
        checker.fail("X02-encryption", "encrypted")
    ident = pdf.trailer.get("/ID")
    if not (isinstance(ident, pikepdf.Array) and len(ident) == 2
            and all(isinstance(v, pikepdf.String) and len(bytes(v)) for v in ident)):
        checker.fail("X03-id", "no trailer /ID of two strings")


def _info(checker: _Checker, info: pikepdf.Dictionary, standard: str) -> None:
    """X04-X07: the document information's GTS_PDFX keys, title, dates and /Trapped."""
    version, conformance = _info_text(info, "/GTS_PDFXVersion"), _info_text(info, "/GTS_PDFXConformance")
    if standard.endswith("2003"):
        if version != standard:
            checker.fail("X04-pdfx-version", f"GTS_PDFXVersion {version!r}, not {standard!r}")
        if conformance is not None:
            checker.fail("X04-pdfx-version", f"GTS_PDFXConformance {conformance!r} (PDF/X-1:2001 only)")
    elif version != "PDF/X-1:2001" or conformance != "PDF/X-1a:2001":
        checker.fail("X04-pdfx-version", f"GTS_PDFXVersion {version!r}, GTS_PDFXConformance {conformance!r}")
    if not (_info_text(info, "/Title") or "").strip():
        checker.fail("X05-title", "no Info /Title")
    for key in ("/CreationDate", "/ModDate"):
        value = _info_text(info, key)
        if value is None or not DATE.match(value):
            checker.fail("X06-dates", f"Info {key} {value!r}")
    trapped = info.get("/Trapped")
    if not (isinstance(trapped, pikepdf.Name) and str(trapped) in ("/True", "/False")):
        checker.fail("X07-trapped", f"Info /Trapped {trapped!r}, not /True or /False")


def _output_intents(checker: _Checker, pdf: pikepdf.Pdf) -> None:
    """X08-X09: one GTS_PDFX output intent, and its profile a printer's CMYK or grey one."""
    intents = [i for i in (pdf.Root.get("/OutputIntents") or []) if i.get("/S") == "/GTS_PDFX"]
    if len(intents) != 1:
        checker.fail("X08-output-intent", f"{len(intents)} GTS_PDFX output intents, not one")
    for intent in intents:
        if not str(intent.get("/OutputConditionIdentifier", "")).strip():
            checker.fail("X08-output-intent", "no OutputConditionIdentifier")
        profile = intent.get("/DestOutputProfile")
        if profile is None:
            if not str(intent.get("/RegistryName", "")).strip():
                checker.fail("X08-output-intent", "no DestOutputProfile and no RegistryName")
            if "/Info" not in intent:
                checker.fail("X08-output-intent", "no DestOutputProfile and no Info")
        else:
            data = profile.read_bytes()
            space, klass = data[16:20], data[12:16]
            n = int(profile.get("/N", 0))
            if data[36:40] != b"acsp":
                checker.fail("X09-profile", "DestOutputProfile is not an ICC profile")
            if klass != b"prtr":
                checker.fail("X09-profile", f"DestOutputProfile class {klass!r}, not 'prtr'")
            if (space, n) not in ((b"CMYK", 4), (b"GRAY", 1)):
                checker.fail("X09-profile", f"DestOutputProfile space {space!r} with /N {n}")
            checker.stream_filters(profile, "DestOutputProfile")


def _catalog(checker: _Checker, pdf: pikepdf.Pdf) -> None:
    """X15, X22, X23: no actions, JavaScript, form fields, embedded files or optional content in the catalog."""
    root = pdf.Root
    if "/OpenAction" in root or "/AA" in root:
        checker.fail("X15-actions", "catalog OpenAction/AA")
    names = root.get("/Names") or pikepdf.Dictionary()
    if "/JavaScript" in names:
        checker.fail("X15-actions", "Names /JavaScript")
    if "/AcroForm" in root and len(root.AcroForm.get("/Fields", [])):
        checker.fail("X15-actions", "interactive form fields")
    if "/EmbeddedFiles" in names:
        checker.fail("X22-embedded-files", "Names /EmbeddedFiles")
    if "/OCProperties" in root:
        checker.fail("X23-optional-content", "catalog /OCProperties")


def _objects(checker: _Checker, pdf: pikepdf.Pdf) -> None:
    """X15, X20, X22 for every object of the file: no embedded files, actions or LZW streams."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            if obj.get("/Type") == "/Filespec" and "/EF" in obj:
                checker.fail("X22-embedded-files", "an embedded file specification")
            if obj.get("/S") in ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/ResetForm"):
                checker.fail("X15-actions", f"a {obj.S} action")
            if isinstance(obj, pikepdf.Stream):
                for name in _names(obj.get("/Filter")):
                    if name in ("/LZWDecode", "/LZW"):
                        checker.fail("X20-filters", "an LZWDecode stream")


def _page(checker: _Checker, pdf: pikepdf.Pdf, page: pikepdf.Dictionary, number: int) -> None:
    """The checklist's rules for one page."""
    where = f"page {number}"
    boxes = _page_boxes(checker, page, where)
    _page_entries(checker, page, where)
    _page_content(checker, page, where)
    _annotations(checker, page, where, boxes)


def _page_boxes(checker: _Checker, page: pikepdf.Dictionary, where: str) -> tuple:
    """X10-X11: a MediaBox, a TrimBox or an ArtBox, nested as they must be; the trim, art and bleed boxes."""
    node, media = page, None
    while node is not None and media is None:  # MediaBox is inheritable; the others are not (raw)
        media = _box(node, "/MediaBox")
        node = node.get("/Parent")
    trim, art, bleed = _box(page, "/TrimBox"), _box(page, "/ArtBox"), _box(page, "/BleedBox")
    if media is None:
        checker.fail("X10-page-boxes", f"{where}: no MediaBox")
    if (trim is None) == (art is None):
        checker.fail("X10-page-boxes", f"{where}: {'both' if trim else 'neither'} TrimBox and ArtBox")
    for name, box in (("MediaBox", media), ("TrimBox", trim), ("ArtBox", art), ("BleedBox", bleed)):
        if box is not None and (box[2] - box[0] <= 0 or box[3] - box[1] <= 0):
            checker.fail("X11-box-nesting", f"{where}: empty {name}")
    if media is not None:
        outer = bleed or media
        if bleed is not None and not _within(bleed, media):
            checker.fail("X11-box-nesting", f"{where}: BleedBox outside the MediaBox")
        for name, box in (("TrimBox", trim), ("ArtBox", art)):
            if box is not None and not _within(box, outer):
                checker.fail("X11-box-nesting", f"{where}: {name} outside the {'BleedBox' if bleed else 'MediaBox'}")
    return trim, art, bleed


def _page_entries(checker: _Checker, page: pikepdf.Dictionary, where: str) -> None:
    """X14, X15, X26: no separations, page actions or transparency group."""
    if "/SeparationInfo" in page:
        checker.fail("X26-separated", f"{where}: SeparationInfo")
    if "/AA" in page:
        checker.fail("X15-actions", f"{where}: page /AA")
    if "/Group" in page and page.Group.get("/S") == "/Transparency":
        checker.fail("X14-transparency", f"{where}: page transparency group")


def _page_content(checker: _Checker, page: pikepdf.Dictionary, where: str) -> None:
    """The page's resources (inherited if need be) and content streams, rule by rule (``_Checker``)."""
    resources = page.get("/Resources")
    node = page
    while resources is None and node.get("/Parent") is not None:
        node = node.Parent
        resources = node.get("/Resources")
    checker.resources(resources, where)
    contents = page.get("/Contents")
    for stream in (contents if isinstance(contents, pikepdf.Array) else [contents] if contents is not None else []):
        checker.stream_filters(stream, f"{where} contents")
    checker.content(pikepdf.Page(page), resources, where)


def _annotations(checker: _Checker, page: pikepdf.Dictionary, where: str, boxes: tuple) -> None:
    """X15, X16, X22: no actions, form fields or attachments; annotations outside the trim and bleed."""
    trim, art, bleed = boxes
    for index, annot in enumerate(page.get("/Annots") or []):
        label = f"{where} annotation {index + 1} ({annot.get('/Subtype')})"
        if "/A" in annot or "/AA" in annot:
            checker.fail("X15-actions", f"{label}: action")
        if annot.get("/Subtype") == "/FileAttachment":
            checker.fail("X22-embedded-files", f"{label}: file attachment")
        if annot.get("/Subtype") == "/Widget":
            checker.fail("X15-actions", f"{label}: form field")
        rect = _box(annot, "/Rect")
        if annot.get("/Subtype") not in ("/TrapNet", "/PrinterMark") and rect is not None \
                and any(box is not None and _overlap(rect, box) for box in (trim, art, bleed)):
            checker.fail("X16-annotations", f"{label}: inside the trim or bleed")
        for appearance in _appearances(annot):
            checker.xobject(appearance, f"{label} appearance")


def _appearances(annot: pikepdf.Dictionary) -> Iterator[pikepdf.Stream]:
    for state in (annot.get("/AP") or {}).values():
        if isinstance(state, pikepdf.Stream):
            yield state
        elif isinstance(state, pikepdf.Dictionary):
            yield from (v for v in state.values() if isinstance(v, pikepdf.Stream))
