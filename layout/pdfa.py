"""PDF/A-3b for the archive: plates finished for keeping, and a checker of veraPDF's main PDF/A-3B rules.

``to_pdfa`` takes a plate (or the whole issue joined from the plates) and makes it PDF/A-3b: an
output intent ``GTS_PDFA1`` with a CMYK ICC profile embedded (the plates paint in DeviceCMYK and
DeviceGray only; preflight makes sure of it), no image interpolation, no annotations or actions,
the PDF/X keys taken out of the document information, XMP metadata written afresh (``pdfaid``
part 3, conformance B, every Info entry mirrored, the ``layout:`` properties declared in a PDF/A
extension schema), the sources attached once each with ``/AFRelationship`` and a MIME type, and
document IDs made from the content (so the same plate gives the same bytes).

``check_pdfa`` reads a PDF and reports what breaks the rules it knows (named by veraPDF's rule
numbers for PDF/A-3B: the trailer ID, the output intent, device colour against it, interpolation,
fonts embedded, actions, metadata, embedded files). It is not veraPDF (which is Java and not
packaged by Debian, PyPI or npm); it covers the rules that plates finished this way could break.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
from lxml import etree
from pikepdf import Array, Dictionary, Name, String

LAYOUT_NS = "https://newworker.example/ns/layout/1.0/"
NEWSPRINT_PROFILES = ("/usr/share/color/icc/WAN-IFRAnewspaper26v5.icc",)
"""The newsprint characterisation profile (Debian's ``icc-profiles``), preferred when installed."""
FALLBACK_PROFILES = ("/usr/share/color/icc/ghostscript/default_cmyk.icc",
                     "/usr/share/ghostscript/*/iccprofiles/default_cmyk.icc")
"""Ghostscript's CMYK profile (AGPL, with Ghostscript, which .ci/setup always installs)."""

FORBIDDEN_ACTIONS = {"/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/JavaScript", "/Hide",
                     "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView"}
"""Action types ISO 19005-3 6.6.1 forbids."""
KNOWN_XMP = {
    "http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/pdf/1.3/", "http://ns.adobe.com/xap/1.0/",
    "http://ns.adobe.com/xap/1.0/mm/", "http://ns.adobe.com/xap/1.0/rights/", "http://www.aiim.org/pdfa/ns/id/",
    "http://www.aiim.org/pdfa/ns/extension/", "http://www.aiim.org/pdfa/ns/schema#",
    "http://www.aiim.org/pdfa/ns/property#", "http://www.aiim.org/pdfa/ns/type#",
    "http://www.aiim.org/pdfa/ns/field#", "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#", "http://ns.adobe.com/xap/1.0/sType/Version#",
    "http://ns.adobe.com/photoshop/1.0/", "http://ns.adobe.com/tiff/1.0/", "http://ns.adobe.com/exif/1.0/",
    "http://ns.adobe.com/xap/1.0/t/pg/", "http://ns.adobe.com/xap/1.0/bj/",
}
"""XMP namespaces predefined by the XMP specification (2004) and ISO 19005: others need an extension schema."""
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
EXTENSION_PROPERTIES = (
    ("issueNumber", "the issue's number"), ("issueDate", "the issue's date"), ("page", "the page number"),
    ("inputsSHA256", "SHA-256 of every input the PDF was made from"),
    ("layoutVersion", "version of layout"), ("weasyprintVersion", "version of WeasyPrint"),
)


@dataclass(frozen=True)
class Attachment:
    """A file to embed in the PDF/A: its name, bytes and MIME type."""

    name: str
    data: bytes
    mime: str
    description: str
    relationship: str = "Source"


@dataclass(frozen=True)
class Violation:
    """One broken rule: its number (veraPDF's, for PDF/A-3B), what was found, and where."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def cmyk_profile(configured: Path | None = None) -> Path:
    """The CMYK profile for the archive's output intent: the paper's ``icc_profile`` if set (and a
    CMYK profile), else the newsprint profile if Debian's ``icc-profiles`` is installed, else
    Ghostscript's CMYK profile."""
    if configured is not None and configured.read_bytes()[16:20] == b"CMYK":
        return configured
    for pattern in (*NEWSPRINT_PROFILES, *FALLBACK_PROFILES):
        found = sorted(glob.glob(pattern))
        if found:
            return Path(found[-1])
    raise FileNotFoundError("no CMYK ICC profile: install Debian's icc-profiles or ghostscript")


def profile_description(data: bytes) -> str:
    """The profile's description tag (``desc``), or '' if it has none that can be read."""
    count = int.from_bytes(data[128:132], "big")
    for i in range(count):
        entry = data[132 + 12 * i:144 + 12 * i]
        sig, offset, size = entry[:4], int.from_bytes(entry[4:8], "big"), int.from_bytes(entry[8:12], "big")
        if sig != b"desc":
            continue
        tag = data[offset:offset + size]
        if tag[:4] == b"desc":  # ICC v2 textDescriptionType
            length = int.from_bytes(tag[8:12], "big")
            return tag[12:12 + length].rstrip(b"\0").decode("latin-1")
        if tag[:4] == b"mluc":  # ICC v4 multiLocalizedUnicodeType: the first record
            length, start = int.from_bytes(tag[20:24], "big"), int.from_bytes(tag[24:28], "big")
            return tag[start:start + length].decode("utf-16-be", "replace")
    return ""


def to_pdfa(data: bytes, profile: bytes, attachments: tuple[Attachment, ...] = (),
            extra: dict[str, str] | None = None) -> bytes:
    """Make PDF ``data`` (a plate or the joined issue) a PDF/A-3b; see the module's docstring.

    ``extra``: ``layout:`` XMP properties to record (see EXTENSION_PROPERTIES)."""
    pdf = pikepdf.open(io.BytesIO(data))
    info = {k: str(v) for k, v in pdf.docinfo.items() if k in
            ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer", "/CreationDate", "/ModDate")}
    info["/Producer"] = (info.get("/Producer", "") + ", layout PDF/A-3b").lstrip(", ")
    pdf.trailer.Info = pdf.make_indirect(Dictionary({k: String(v) for k, v in sorted(info.items())}))
    root = pdf.Root
    for key in ("/OpenAction", "/AA", "/AcroForm", "/OCProperties", "/Threads"):
        if key in root:
            del root[key]
    if "/Names" in root:
        names = root.Names
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
    description = profile_description(profile) or "CMYK"
    icc = pikepdf.Stream(pdf, zlib.compress(profile, 9))
    icc.N, icc.Filter = 4, Name.FlateDecode
    root.OutputIntents = Array([pdf.make_indirect(Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFA1, OutputConditionIdentifier=String(description),
        Info=String(description), DestOutputProfile=pdf.make_indirect(icc)))])
    for page in pdf.pages:
        for key in ("/Annots", "/AA"):
            if key in page.obj:
                del page.obj[key]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
            for key in ("/Interpolate", "/Alternates", "/OPI"):
                if key in obj:
                    del obj[key]
        elif isinstance(obj, Dictionary) and obj.get("/Type") == "/FontDescriptor" and "/CIDSet" in obj:
            # WeasyPrint's CIDSet lists the glyphs used, not every glyph of the subset (composite
            # parts, .notdef): a wrong CIDSet breaks 6.2.11.4.2-2, and PDF/A-2 and -3 need none.
            del obj["/CIDSet"]
    when = info.get("/CreationDate", "D:19700101000000Z")
    specs = []
    for item in attachments:
        spec = pikepdf.AttachedFileSpec(pdf, item.data, description=item.description, filename=item.name,
                                        mime_type=item.mime, creation_date=when, mod_date=when,
                                        relationship=Name("/" + item.relationship))
        pdf.attachments[item.name] = spec
        specs.append(spec.obj)
    for spec in specs:
        ef = spec.EF.F
        ef.Params = Dictionary(ModDate=String(when), CreationDate=String(when), Size=len(ef.read_bytes()),
                               CheckSum=String(hashlib.md5(ef.read_bytes()).digest()))  # noqa: S324 (PDF's)
    if specs:
        root.AF = Array(specs)
    elif "/AF" in root:
        del root["/AF"]
    xmp = xmp_packet(info, hashlib.sha256(data).hexdigest(), extra or {})
    metadata = pikepdf.Stream(pdf, xmp)
    metadata.Type, metadata.Subtype = Name.Metadata, Name.XML
    root.Metadata = pdf.make_indirect(metadata)
    out = io.BytesIO()
    pdf.save(out, min_version="1.7", deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    pdf.close()
    return out.getvalue()


def _xmp_date(pdf_date: str) -> str:
    """``D:20220401000000Z`` -> ``2022-04-01T00:00:00Z`` (other offsets kept)."""
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{2}'?\d{2}'?)?", pdf_date)
    if not m:
        return pdf_date
    zone = (m[7] or "Z").replace("'", "")
    if zone != "Z":
        zone = zone[:3] + ":" + zone[3:]
    return f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}{zone}"


def xmp_packet(info: dict[str, str], document: str, extra: dict[str, str]) -> bytes:
    """The XMP of a PDF/A-3b whose document information is ``info``; ``document`` seeds its IDs."""
    e = escape
    uuid = f"{document[:8]}-{document[8:12]}-{document[12:16]}-{document[16:20]}-{document[20:32]}"
    props = []
    if "/Title" in info:
        props.append(f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(info["/Title"])}</rdf:li>'
                     "</rdf:Alt></dc:title>")
    if "/Author" in info:
        props.append(f"<dc:creator><rdf:Seq><rdf:li>{e(info['/Author'])}</rdf:li></rdf:Seq></dc:creator>")
    if "/Subject" in info:
        props.append(f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(info["/Subject"])}</rdf:li>'
                     "</rdf:Alt></dc:description>")
    props.append("<dc:format>application/pdf</dc:format>")
    if "/Keywords" in info:
        props.append(f"<pdf:Keywords>{e(info['/Keywords'])}</pdf:Keywords>")
    props.append(f"<pdf:Producer>{e(info['/Producer'])}</pdf:Producer>")
    if "/Creator" in info:
        props.append(f"<xmp:CreatorTool>{e(info['/Creator'])}</xmp:CreatorTool>")
    for key, name in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        if key in info:
            props.append(f"<xmp:{name}>{_xmp_date(info[key])}</xmp:{name}>")
    if "/ModDate" in info:
        props.append(f"<xmp:MetadataDate>{_xmp_date(info['/ModDate'])}</xmp:MetadataDate>")
    props.append(f"<xmpMM:DocumentID>uuid:{uuid}</xmpMM:DocumentID><xmpMM:InstanceID>uuid:{uuid}</xmpMM:InstanceID>")
    declared = {name for name, _ in EXTENSION_PROPERTIES}
    if set(extra) - declared:
        raise ValueError(f"XMP properties not in the layout extension schema: {sorted(set(extra) - declared)}")
    props += [f"<layout:{k}>{e(v)}</layout:{k}>" for k, v in extra.items()]
    schema = "".join(
        f'<rdf:li rdf:parseType="Resource"><pdfaProperty:name>{name}</pdfaProperty:name>'
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external"
        f"</pdfaProperty:category><pdfaProperty:description>{text}</pdfaProperty:description></rdf:li>"
        for name, text in EXTENSION_PROPERTIES)
    body = "\n".join(props)
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="{RDF}">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>layout: how the New Worker's pages were made</pdfaSchema:schema>
<pdfaSchema:namespaceURI>{LAYOUT_NS}</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>layout</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>{schema}</rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
 xmlns:layout="{LAYOUT_NS}">
{body}
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>""".encode()


# The checker -------------------------------------------------------------------------------------

DEVICE_OPERATORS = {"rg": "/DeviceRGB", "RG": "/DeviceRGB", "k": "/DeviceCMYK", "K": "/DeviceCMYK",
                    "g": "/DeviceGray", "G": "/DeviceGray"}


def check_pdfa(source: Path | bytes) -> list[Violation]:
    """What in the PDF ``source`` breaks the PDF/A-3B rules checked (see the module's docstring)."""
    data = source.read_bytes() if isinstance(source, Path) else source
    found: list[Violation] = []
    header = data[:1024]
    if not re.match(rb"%PDF-1\.[0-7]", header):
        found.append(Violation("6.1.2-1", "the file does not start with a %PDF-1.n header"))
    second = header.split(b"\n", 2)[1] if header.count(b"\n") >= 2 else b""
    if not (second.startswith(b"%") and sum(1 for b in second[1:5] if b > 127) >= 4):
        found.append(Violation("6.1.2-2", "the header is not followed by a comment of four bytes above 127"))
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError as exc:
        return [*found, Violation("6.1", f"the PDF cannot be read: {exc}")]
    with pdf:
        found += _check_trailer(pdf)
        intent_n = _check_output_intent(pdf, found)
        used: dict[tuple[int, int], set[int]] = {}
        found += _check_colour_and_images(pdf, intent_n, used)
        found += _check_fonts(pdf, used)
        found += _check_actions(pdf)
        found += _check_metadata(pdf)
        found += _check_embedded_files(pdf)
    return found


def _check_trailer(pdf: pikepdf.Pdf) -> list[Violation]:
    out = []
    ids = pdf.trailer.get("/ID")
    if not isinstance(ids, Array) or len(ids) != 2:
        out.append(Violation("6.1.3-1", "the trailer has no /ID of two strings"))
    if "/Encrypt" in pdf.trailer:
        out.append(Violation("6.1.3-2", "the file is encrypted"))
    return out


def _check_output_intent(pdf: pikepdf.Pdf, found: list[Violation]) -> int | None:
    """The number of components of the PDF/A output intent's profile (None: there is none)."""
    intents = [i for i in pdf.Root.get("/OutputIntents", Array()) if i.get("/S") == "/GTS_PDFA1"]
    profiles = {i.DestOutputProfile.objgen for i in pdf.Root.get("/OutputIntents", Array())
                if "/DestOutputProfile" in i}
    if len(profiles) > 1:
        found.append(Violation("6.2.2-2", "output intents with different DestOutputProfiles"))
    if not intents:
        found.append(Violation("6.2.2-1", "no GTS_PDFA1 output intent"))
        return None
    intent = intents[0]
    if "/DestOutputProfile" not in intent:
        found.append(Violation("6.2.2-1", "the PDF/A output intent has no DestOutputProfile"))
        return None
    profile = intent.DestOutputProfile
    icc = profile.read_bytes()
    if len(icc) < 128 or icc[36:40] != b"acsp":
        found.append(Violation("6.2.2-3", "the DestOutputProfile is not an ICC profile"))
        return None
    space = icc[16:20]
    n = {b"GRAY": 1, b"RGB ": 3, b"CMYK": 4}.get(space)
    if icc[12:16] not in (b"prtr", b"mntr"):
        found.append(Violation("6.2.2-3", f"the output profile's class is {icc[12:16].decode()}, not prtr or mntr"))
    if int(profile.get("/N", 0)) != n:
        found.append(Violation("6.2.2-3", f"the output profile's /N does not match its colour space {space!r}"))
    return n


def _content_objects(pdf: pikepdf.Pdf):  # type: ignore[no-untyped-def]
    """Every content stream with its resources: pages, then the forms, patterns and Type 3 glyphs
    they use (each once), and annotation appearances."""
    seen: set[tuple[int, int]] = set()
    queue: list[tuple[str, object, object]] = []
    for number, page in enumerate(pdf.pages, start=1):
        queue.append((f"page {number}", page, page.obj.get("/Resources", Dictionary())))
        if "/Group" in page.obj:
            yield f"page {number}", None, None, page.obj.Group
    while queue:
        where, owner, resources = queue.pop(0)
        yield where, owner, resources, None
        if not isinstance(resources, Dictionary):
            continue
        for kind in ("/XObject", "/Pattern"):
            for name, obj in resources.get(kind, Dictionary()).items():
                if not isinstance(obj, pikepdf.Stream) or obj.objgen in seen:
                    continue
                seen.add(obj.objgen)
                if obj.get("/Subtype") == "/Form" or obj.get("/PatternType") == 1:
                    if "/Group" in obj:
                        yield f"{where} {name}", None, None, obj.Group
                    queue.append((f"{where} {name}", obj, obj.get("/Resources", resources)))
        for name, font in resources.get("/Font", Dictionary()).items():
            if font.get("/Subtype") == "/Type3" and font.objgen not in seen:
                seen.add(font.objgen)
                for glyph, proc in font.get("/CharProcs", Dictionary()).items():
                    queue.append((f"{where} font {name} {glyph}", proc, font.get("/Resources", resources)))


def _check_colour_and_images(pdf: pikepdf.Pdf, intent_n: int | None,
                             used: dict[tuple[int, int], set[int]]) -> list[Violation]:
    """6.2.4.3 device colour against the output intent; 6.2.8 images (Interpolate, Alternates, OPI);
    6.2.11.8 text showing .notdef (glyph 0 of an Identity-encoded font). ``used`` gets the CIDs each
    Identity-encoded font's descendant shows (by its object number), for the widths rule."""
    allowed = {"/DeviceGray"} | ({"/DeviceCMYK"} if intent_n == 4 else set()) | (
        {"/DeviceRGB"} if intent_n == 3 else set())
    rule = {"/DeviceRGB": "6.2.4.3-2", "/DeviceCMYK": "6.2.4.3-3", "/DeviceGray": "6.2.4.3-4"}
    uses: dict[tuple[str, str], int] = {}

    def use(space: object, where: str) -> None:
        space = _base_space(space)
        if space in rule and (space not in allowed if intent_n else True):
            uses[(space, where)] = uses.get((space, where), 0) + 1

    out = []
    for where, owner, resources, group in _content_objects(pdf):
        if group is not None:
            if "/CS" in group:
                use(group.CS, f"{where} (transparency group)")
            continue
        spaces = resources.get("/ColorSpace", Dictionary()) if isinstance(resources, Dictionary) else Dictionary()
        try:
            instructions = pikepdf.parse_content_stream(owner)
        except pikepdf.PdfError as exc:
            out.append(Violation("6.1.7", f"{where}: content stream cannot be read ({exc})"))
            continue
        fonts = resources.get("/Font", Dictionary()) if isinstance(resources, Dictionary) else Dictionary()
        identity = False
        notdef = 0
        for operands, operator in instructions:
            op = str(operator)
            if op == "Tf" and operands:
                font = fonts.get(operands[0])
                identity = isinstance(font, Dictionary) and font.get("/Subtype") == "/Type0" and str(
                    font.get("/Encoding")) in ("/Identity-H", "/Identity-V")
                shown = used.setdefault(font.DescendantFonts[0].objgen, set()) if identity else set()
            elif identity and op in ("Tj", "TJ", "'", '"'):
                strings = [o for o in (operands[-1] if op == "TJ" else operands[-1:])
                           if isinstance(o, String)] if operands else []
                cids = [int.from_bytes(bytes(text)[i:i + 2], "big") for text in strings
                        for i in range(0, len(bytes(text)) - 1, 2)]
                notdef += cids.count(0)
                shown.update(cids)
            elif op in DEVICE_OPERATORS:
                use(DEVICE_OPERATORS[op], where)
            elif op in ("cs", "CS") and operands:
                name = operands[0]
                use(spaces.get(name, name) if isinstance(name, Name) else name, where)
            elif op == "INLINE IMAGE":
                image = operands[0]
                cs = image.obj.get("/ColorSpace", image.obj.get("/CS"))
                if cs is not None:
                    use(_inline_space(cs), f"{where} (inline image)")
                if bool(image.obj.get("/Interpolate", image.obj.get("/I", False))):
                    out.append(Violation("6.2.8-3", f"{where}: an inline image has /Interpolate true"))
        if notdef:
            out.append(Violation("6.2.11.8-1", f"{where}: text shows the .notdef glyph {notdef} time(s)"))
        for name, obj in resources.get("/XObject", Dictionary()).items() if isinstance(resources, Dictionary) else ():
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                use(obj.get("/ColorSpace"), f"{where} image {name}")
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
            if bool(obj.get("/Interpolate", False)):
                out.append(Violation("6.2.8-3", f"image {obj.objgen[0]} {obj.objgen[1]} R has /Interpolate true"))
            if "/Alternates" in obj:
                out.append(Violation("6.2.8-1", f"image {obj.objgen[0]} {obj.objgen[1]} R has /Alternates"))
            if "/OPI" in obj:
                out.append(Violation("6.2.8-2", f"image {obj.objgen[0]} {obj.objgen[1]} R has /OPI"))
    for (space, where), count in sorted(uses.items()):
        intent = {None: "no output intent", 1: "a grey output intent", 3: "an RGB output intent",
                  4: "a CMYK output intent"}[intent_n]
        out.append(Violation(rule[space], f"{where}: {space[1:]} used {count} time(s) under {intent}"))
    return out


def _inline_space(cs: object) -> object:
    short = {"/G": "/DeviceGray", "/RGB": "/DeviceRGB", "/CMYK": "/DeviceCMYK"}
    return Name(short.get(str(cs), str(cs))) if isinstance(cs, Name) else cs


def _base_space(space: object) -> str | None:
    """The device space a colour space paints in, if it is one (an Indexed space's base counts)."""
    if isinstance(space, Name):
        return str(space)
    if isinstance(space, Array) and len(space) >= 2 and space[0] == "/Indexed":
        return _base_space(space[1])
    return None


def _check_fonts(pdf: pikepdf.Pdf, used: dict[tuple[int, int], set[int]]) -> list[Violation]:
    """6.2.11.4.1 fonts embedded; 6.2.11.3.2 CIDToGIDMap; 6.2.11.4.2 CIDSet complete; 6.2.11.5 widths
    of the glyphs shown."""
    out, seen = [], set()
    for obj in pdf.objects:
        if not isinstance(obj, Dictionary) or obj.get("/Type") != "/Font" or obj.objgen in seen:
            continue
        seen.add(obj.objgen)
        subtype = obj.get("/Subtype")
        if subtype in ("/Type3", "/Type0"):
            continue
        descriptor = obj.get("/FontDescriptor")
        name = str(obj.get("/BaseFont", "?"))
        if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            out.append(Violation("6.2.11.4.1-1", f"font {name} is not embedded"))
        if subtype == "/CIDFontType2" and "/CIDToGIDMap" not in obj and descriptor is not None and any(
                k in descriptor for k in ("/FontFile2",)):
            out.append(Violation("6.2.11.3.2-1", f"CIDFontType2 {name} has no CIDToGIDMap"))
        if subtype == "/CIDFontType2" and descriptor is not None and "/FontFile2" in descriptor \
                and obj.get("/CIDToGIDMap") == "/Identity":
            out += _check_truetype(obj, descriptor, name, used.get(obj.objgen, set()))
    return out


def _check_truetype(font: Dictionary, descriptor: Dictionary, name: str, shown: set[int]) -> list[Violation]:
    """A CID TrueType font (CID = glyph ID): every glyph of the program in its CIDSet (if it has
    one); every glyph ``shown`` in the program (6.2.11.4.1), with the width the PDF gives it (/W,
    else /DW) the program's own, to 1/1000 em (6.2.11.5)."""
    from fontTools.ttLib import TTFont

    try:
        program = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()))
        order, hmtx = program.getGlyphOrder(), program["hmtx"]
        scale = 1000 / program["head"].unitsPerEm
        glyf = program.get("glyf")
    except Exception as exc:  # noqa: BLE001 (a font program fontTools cannot read is the finding)
        return [Violation("6.2.11.4.1-1", f"font {name}: its program cannot be read ({exc})")]
    out = []
    if "/CIDSet" in descriptor and glyf is not None:
        bits = descriptor.CIDSet.read_bytes()
        listed = {i for i in range(len(bits) * 8) if bits[i // 8] & (0x80 >> (i % 8))}
        present = {gid for gid, glyph in enumerate(order) if gid and glyf[glyph].numberOfContours != 0}
        if present - listed:
            out.append(Violation("6.2.11.4.2-2", f"font {name}: its CIDSet lacks {len(present - listed)} "
                                 "glyph(s) of the font program"))
    widths: dict[int, float] = {}
    w = font.get("/W", Array())
    i = 0
    while i + 1 < len(w):
        first = int(w[i])
        if isinstance(w[i + 1], Array):
            widths.update((first + k, float(v)) for k, v in enumerate(w[i + 1]))
            i += 2
        else:
            widths.update((cid, float(w[i + 2])) for cid in range(first, int(w[i + 1]) + 1))
            i += 3
    default = float(font.get("/DW", 1000))
    missing = sorted(cid for cid in shown if cid >= len(order))
    if missing:
        out.append(Violation("6.2.11.4.1-2", f"font {name}: {len(missing)} glyph(s) shown are not in its program"))
    wrong = [cid for cid in sorted(shown - {0}) if cid < len(order)  # .notdef: 6.2.11.8
             and abs(widths.get(cid, default) - hmtx[order[cid]][0] * scale) > 1]
    if wrong:
        out.append(Violation("6.2.11.5-1", f"font {name}: {len(wrong)} glyph width(s) differ from the font "
                             f"program's (CIDs {wrong[:5]})"))
    return out


def _check_actions(pdf: pikepdf.Pdf) -> list[Violation]:
    out = []
    root = pdf.Root

    def action(a: object, where: str) -> None:
        while isinstance(a, Dictionary):
            kind = str(a.get("/S", ""))
            if kind in FORBIDDEN_ACTIONS:
                out.append(Violation("6.6.1-1", f"{where}: a {kind[1:]} action"))
            elif kind == "/Named" and str(a.get("/N")) not in ("/NextPage", "/PrevPage", "/FirstPage", "/LastPage"):
                out.append(Violation("6.6.1-2", f"{where}: a named action {a.get('/N')}"))
            nxt = a.get("/Next")
            a = nxt[0] if isinstance(nxt, Array) and len(nxt) else nxt

    if isinstance(root.get("/OpenAction"), Dictionary):
        action(root.OpenAction, "the catalog's /OpenAction")
    if "/AA" in root:
        out.append(Violation("6.6.2-1", "the catalog has additional actions (/AA)"))
    names = root.get("/Names", Dictionary())
    if "/JavaScript" in names:
        out.append(Violation("6.6.1-1", "the document has JavaScript (/Names /JavaScript)"))
    for number, page in enumerate(pdf.pages, start=1):
        if "/AA" in page.obj:
            out.append(Violation("6.6.2-2", f"page {number} has additional actions (/AA)"))
        for annot in page.obj.get("/Annots", Array()):
            subtype = str(annot.get("/Subtype", ""))
            if "/A" in annot:
                action(annot.A, f"page {number}: a {subtype[1:]} annotation")
            if "/AA" in annot:
                out.append(Violation("6.6.2-3", f"page {number}: a {subtype[1:]} annotation with /AA"))
            if subtype == "/Link":
                target = annot.get("/A", Dictionary()).get("/URI", "")
                out.append(Violation("layout-links", f"page {number}: a link {str(target)!r} (the archive keeps none)"))
    return out


def _check_metadata(pdf: pikepdf.Pdf) -> list[Violation]:
    out = []
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return [Violation("6.6.2.1-1", "the catalog has no /Metadata stream")]
    if "/Filter" in stream:
        out.append(Violation("6.6.2.1-2", "the metadata stream is filtered"))
    raw = stream.read_bytes()
    try:
        tree = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [*out, Violation("6.6.2.1-1", f"the XMP metadata is not well-formed XML: {exc}")]
    if not raw.lstrip().startswith(b"<?xpacket begin="):
        out.append(Violation("6.6.2.1-3", "the XMP has no xpacket header"))
    values: dict[str, str] = {}
    declared = set()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        ns, _, local = element.tag[1:].partition("}")
        if ns == "http://www.aiim.org/pdfa/ns/schema#" and local == "namespaceURI":
            declared.add((element.text or "").strip())
    for description in tree.iter(f"{{{RDF}}}Description"):
        for name, value in description.attrib.items():
            if name.startswith("{"):
                ns, _, local = name[1:].partition("}")
                if ns != RDF:
                    values[f"{{{ns}}}{local}"] = value
        for child in description:
            if not isinstance(child.tag, str):
                continue
            text = "".join(child.itertext()).strip()
            values[child.tag] = text
    used = {key[1:].partition("}")[0] for key in values}
    for ns in sorted(used - KNOWN_XMP - declared):
        out.append(Violation("6.6.2.3.1-1", f"the XMP uses namespace {ns} with no extension schema"))
    part = values.get("{http://www.aiim.org/pdfa/ns/id/}part")
    conformance = values.get("{http://www.aiim.org/pdfa/ns/id/}conformance")
    if part != "3":
        out.append(Violation("6.6.4-1", f"pdfaid:part is {part!r}, not 3"))
    if conformance not in ("B", "U", "A"):
        out.append(Violation("6.6.4-2", f"pdfaid:conformance is {conformance!r}"))
    dc, pdfns, xmp = "{http://purl.org/dc/elements/1.1/}", "{http://ns.adobe.com/pdf/1.3/}", "{http://ns.adobe.com/xap/1.0/}"
    pairs = (("/Title", dc + "title"), ("/Author", dc + "creator"), ("/Subject", dc + "description"),
             ("/Keywords", pdfns + "Keywords"), ("/Producer", pdfns + "Producer"), ("/Creator", xmp + "CreatorTool"),
             ("/CreationDate", xmp + "CreateDate"), ("/ModDate", xmp + "ModifyDate"))
    info = pdf.trailer.get("/Info", Dictionary())
    for key, prop in pairs:
        if key not in info:
            continue
        value = str(info[key])
        mirrored = values.get(prop)
        if key.endswith("Date"):
            same = mirrored is not None and _same_date(_xmp_date(value), mirrored)
        else:
            same = mirrored == value
        if not same:
            out.append(Violation("6.6.3-1", f"Info {key} {value!r} differs from the XMP ({mirrored!r})"))
    return out


def _same_date(a: str, b: str) -> bool:
    def parse(s: str) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
    pa, pb = parse(a), parse(b)
    return pa is not None and pa == pb


def _check_embedded_files(pdf: pikepdf.Pdf) -> list[Violation]:
    out = []
    af = {spec.objgen for spec in pdf.Root.get("/AF", Array()) if isinstance(spec, Dictionary)}
    names: dict[str, int] = {}
    for name, spec in _name_tree(pdf.Root.get("/Names", Dictionary()).get("/EmbeddedFiles")):
        names[name] = names.get(name, 0) + 1
        if "/F" not in spec or "/UF" not in spec:
            out.append(Violation("6.8-2", f"embedded file {name!r}: its file specification lacks /F or /UF"))
        if "/AFRelationship" not in spec:
            out.append(Violation("6.8-3", f"embedded file {name!r} has no /AFRelationship"))
        stream = spec.get("/EF", Dictionary()).get("/F")
        if stream is None or "/Subtype" not in stream:
            out.append(Violation("6.8-1", f"embedded file {name!r} has no MIME type (/Subtype)"))
        if spec.objgen not in af:
            out.append(Violation("6.8-5", f"embedded file {name!r} is not associated with the document (/AF)"))
    for name, count in names.items():
        if count > 1:
            out.append(Violation("layout-attachments", f"embedded file {name!r} is named {count} times"))
    return out


def _name_tree(node: object):  # type: ignore[no-untyped-def]
    """(name, value) pairs of a name tree, in order."""
    if not isinstance(node, Dictionary):
        return
    pairs = node.get("/Names", Array())
    for i in range(0, len(pairs) - 1, 2):
        yield str(pairs[i]), pairs[i + 1]
    for kid in node.get("/Kids", Array()):
        yield from _name_tree(kid)
