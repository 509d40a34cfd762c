"""PDF/A-3b for the archive: plates finished for keeping, and a checker of veraPDF's main PDF/A-3B rules.

``to_pdfa`` takes a plate (or the whole issue joined from the plates) and makes it PDF/A-3b: an
output intent ``GTS_PDFA1`` with a CMYK ICC profile embedded (the plates paint in DeviceCMYK and
DeviceGray only; preflight makes sure of it), no image interpolation, no annotations or actions,
the PDF/X keys taken out of the document information, XMP metadata written afresh (``pdfaid``
part 3, conformance B, every Info entry mirrored, the ``layout:`` properties declared in a PDF/A
extension schema), the sources attached once each with ``/AFRelationship`` and a MIME type, and
document IDs made from the content (so the same plate gives the same bytes). pikepdf converts and
saves once with no Info or XMP; pypdf writes those two, once each (``_finished``), as it finishes the plates.

``check_pdfa`` reads a PDF and reports what breaks the rules of veraPDF's PDF/A-3B profile
(PDFA-3B.xml, named by its rule numbers; README "For archivists" lists what it covers and what not).
It is not veraPDF (which is Java and not packaged by Debian, PyPI or npm).
"""

from __future__ import annotations

import datetime as dt
import functools
import glob
import hashlib
import io
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import cast
from xml.sax.saxutils import escape

import pikepdf
from lxml import etree
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfReader, PdfWriter

from ..base import usercache
from ..base.pdfmeta import write_metadata

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
    CMYK output or display profile of ICC version 2 to 4, as PDF/A's output intent must be: 6.2.3-1),
    else the newsprint profile if Debian's ``icc-profiles`` is installed, else Ghostscript's CMYK
    profile."""
    if configured is not None:
        head = configured.read_bytes()[:40]
        if head[16:20] == b"CMYK" and head[12:16] in (b"prtr", b"mntr") and 2 <= head[8] < 5 and head[36:40] == b"acsp":
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


@functools.lru_cache(maxsize=2)
def _compressed(profile: bytes) -> bytes:
    """The output profile compressed, once a process: an archive holds it in every page's PDF/A and
    the issue's, and compressing the newsprint profile (1.3 MB) took 0.13 s each time; kept in the
    user's cache as the plates keep it (the same file, made by whichever comes first)."""
    return usercache.compressed(profile)


def to_pdfa(data: bytes, profile: bytes, attachments: tuple[Attachment, ...] = (),
            extra: dict[str, str] | None = None) -> bytes:
    """Make PDF ``data`` (a plate or the joined issue) a PDF/A-3b; see the module's docstring.

    ``extra``: ``layout:`` XMP properties to record (see EXTENSION_PROPERTIES)."""
    pdf = pikepdf.open(io.BytesIO(data))
    info = {k: str(v) for k, v in pdf.docinfo.items() if k in
            ("/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer", "/CreationDate", "/ModDate")}
    info["/Producer"] = (info.get("/Producer", "") + ", layout PDF/A-3b").lstrip(", ")
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
    icc = pikepdf.Stream(pdf, _compressed(profile))
    icc.N, icc.Filter = 4, Name.FlateDecode
    root.OutputIntents = Array([pdf.make_indirect(Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFA1, OutputConditionIdentifier=String(description),
        Info=String(description), DestOutputProfile=pdf.make_indirect(icc)))])
    for page in pdf.pages:
        for key in ("/Annots", "/AA", "/Metadata"):
            if key in page.obj:
                del page.obj[key]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
            for key in ("/Interpolate", "/Alternates", "/OPI"):
                if key in obj:
                    del obj[key]
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") in ("/Image", "/Form") and "/Metadata" in obj:
            # a supplied advert's images and forms may carry their own XMP (Photoshop's, InDesign's),
            # whose properties PDF/A holds to its schemas too (6.6.2.3.1): the archive keeps one XMP
            del obj["/Metadata"]
        elif isinstance(obj, Dictionary) and obj.get("/Type") == "/FontDescriptor" and "/CIDSet" in obj:
            # WeasyPrint's CIDSet lists the glyphs used, not every glyph of the subset (composite
            # parts, .notdef): a wrong CIDSet breaks 6.2.11.4.2-2, and PDF/A-2 and -3 need none.
            del obj["/CIDSet"]
    when = info.get("/CreationDate", "D:19700101000000Z")
    specs = []
    for item in attachments:
        spec = pikepdf.AttachedFileSpec(pdf, item.data, description=item.description, filename=item.name,
                                        mime_type=item.mime, creation_date=when, mod_date=when,
                                        relationship=Name("/" + item.relationship))  # type: ignore[call-arg]  # in pikepdf, not in its stub
        pdf.attachments[item.name] = spec
        specs.append(spec.obj)
    for made in specs:
        ef = made.EF.F
        ef.Params = Dictionary(ModDate=String(when), CreationDate=String(when), Size=len(ef.read_bytes()),
                               CheckSum=String(hashlib.md5(ef.read_bytes()).digest()))  # noqa: S324 (PDF's)
    if specs:
        root.AF = Array(specs)
    elif "/AF" in root:
        del root["/AF"]
    converted = _converted(pdf)
    pdf.close()
    return _finished(converted, info, xmp_packet(info, hashlib.sha256(data).hexdigest(), extra or {}))


def _converted(pdf: pikepdf.Pdf) -> bytes:
    """``pdf``'s bytes as converted, with no Info or XMP (the PDF/A's own are written once, by
    ``_finished``): no object streams (the plates have none; pypdf would have to unpack them), the
    /ID from the content (qpdf's deterministic ID, which the clone keeps)."""
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    if "/Metadata" in pdf.Root:
        del pdf.Root["/Metadata"]
    converted = io.BytesIO()
    pdf.save(converted, min_version="1.7", deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return converted.getvalue()


def _finished(converted: bytes, info: dict[str, str], xmp: bytes) -> bytes:
    """The PDF/A's document information and XMP packet, written once, by pypdf (the finisher, as
    for the plates): a clone of what pikepdf converted (no stream decoded or compressed again, only
    what the catalog reaches), its /ID kept."""
    reader = PdfReader(io.BytesIO(converted))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    write_metadata(writer, xmp, dict(sorted(info.items())))  # the conversion saved none
    out = io.BytesIO()
    writer.write(out)
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
        found += _check_file_structure(data)
        found += _check_parse_warnings(pdf)
        found += _check_trailer(pdf)
        found += _check_cos(pdf)
        intent_n = _check_output_intent(pdf, found)
        used: dict[tuple[int, int], set[int]] = {}
        rendered: set[tuple[int, int]] = set()
        found += _check_colour_and_images(pdf, intent_n, used, rendered)
        found += _check_graphics_states(pdf, intent_n)
        found += _check_fonts(pdf, used, rendered)
        found += _check_font_dictionaries(pdf, rendered, used)
        found += _check_annotations_and_forms(pdf)
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
    """6.2.3: the PDF/A output intent and its profile. The number of components of its profile
    (None: there is none, so that device colour is checked against nothing)."""
    all_intents = [i for i in pdf.Root.get("/OutputIntents", Array()) if isinstance(i, Dictionary)]
    intents = [i for i in all_intents if i.get("/S") == "/GTS_PDFA1"]
    profiles = {i.DestOutputProfile.objgen if i.DestOutputProfile.is_indirect else id(i)
                for i in all_intents if "/DestOutputProfile" in i}
    if len(profiles) > 1:
        found.append(Violation("6.2.3-2", "output intents with different DestOutputProfiles"))
    for i in all_intents:
        if i.get("/S") == "/GTS_PDFX" and "/DestOutputProfileRef" in i:
            found.append(Violation("6.2.3-3", "a PDF/X output intent has /DestOutputProfileRef"))
    if not intents:
        found.append(Violation("6.2.3-1", "no GTS_PDFA1 output intent"))
        return None
    intent = intents[0]
    if not isinstance(intent.get("/DestOutputProfile"), pikepdf.Stream):
        found.append(Violation("6.2.3-1", "the PDF/A output intent has no DestOutputProfile"))
        return None
    profile = intent.DestOutputProfile
    icc = profile.read_bytes()
    if len(icc) < 128 or icc[36:40] != b"acsp":
        found.append(Violation("6.2.3-1", "the DestOutputProfile is not an ICC profile"))
        return None
    space = icc[16:20]
    n = {b"GRAY": 1, b"RGB ": 3, b"CMYK": 4}.get(space)
    if icc[12:16] not in (b"prtr", b"mntr"):
        found.append(Violation("6.2.3-1", f"the output profile's class is {icc[12:16].decode('latin-1')}, "
                               "not prtr or mntr"))
    if n is None:
        found.append(Violation("6.2.3-1", f"the output profile's colour space is {space.decode('latin-1')!r}, "
                               "not GRAY, RGB or CMYK"))
    if icc[8] >= 5:
        found.append(Violation("6.2.3-1", f"the output profile is ICC version {icc[8]} (at most 4)"))
    if int(profile.get("/N", 0)) != n:
        found.append(Violation("6.2.3-1", f"the output profile's /N does not match its colour space {space!r}"))
    return n


def _content_objects(pdf: pikepdf.Pdf):
    """Every content stream with its resources: pages, then the forms, tiling patterns, soft masks'
    groups and Type 3 glyphs they use (each once), and annotations' appearance streams; with each
    transparency group (``owner`` None) where it is declared."""
    seen: set[tuple[int, int]] = set()
    queue: list[tuple[str, object, object]] = []
    for number, page in enumerate(pdf.pages, start=1):
        queue.append((f"page {number}", page, page.obj.get("/Resources", Dictionary())))
        if "/Group" in page.obj:
            yield f"page {number}", None, None, page.obj.Group
        for i, annot in enumerate(page.obj.get("/Annots", Array())):
            appearances = annot.get("/AP", Dictionary()) if isinstance(annot, Dictionary) else Dictionary()
            for kind, value in appearances.items():
                streams = [value] if isinstance(value, pikepdf.Stream) else [
                    v for v in value.values() if isinstance(v, pikepdf.Stream)] if isinstance(value, Dictionary) else []
                for stream in streams:
                    if stream.objgen not in seen:
                        seen.add(stream.objgen)
                        where = f"page {number} annotation {i + 1} appearance {kind[1:]}"
                        if "/Group" in stream:
                            yield where, None, None, stream.Group
                        queue.append((where, stream, stream.get("/Resources", Dictionary())))
    while queue:
        where, owner, resources = queue.pop(0)
        yield where, owner, resources, None
        if not isinstance(resources, Dictionary):
            continue
        forms = []
        for kind in ("/XObject", "/Pattern"):
            forms += [(f"{where} {name}", obj) for name, obj in resources.get(kind, Dictionary()).items()]
        for name, state in resources.get("/ExtGState", Dictionary()).items():
            mask = state.get("/SMask") if isinstance(state, Dictionary) else None
            if isinstance(mask, Dictionary) and isinstance(mask.get("/G"), pikepdf.Stream):
                forms.append((f"{where} {name} soft mask", mask.G))
        for at, obj in forms:
            if not isinstance(obj, pikepdf.Stream) or obj.objgen in seen:
                continue
            seen.add(obj.objgen)
            if obj.get("/Subtype") == "/Form" or obj.get("/PatternType") == 1:
                if "/Group" in obj:
                    yield at, None, None, obj.Group
                queue.append((at, obj, obj.get("/Resources", resources)))
        for name, font in resources.get("/Font", Dictionary()).items():
            if font.get("/Subtype") == "/Type3" and font.objgen not in seen:
                seen.add(font.objgen)
                for glyph, proc in font.get("/CharProcs", Dictionary()).items():
                    queue.append((f"{where} font {name} {glyph}", proc, font.get("/Resources", resources)))


class _Spaces:
    """Colour spaces met, checked against the output intent (6.2.4.3), their ICC profiles (6.2.4.2-1)
    and Separation and DeviceN arrays (6.2.4.4, 6.1.13-9)."""

    RULE = {"/DeviceRGB": "6.2.4.3-2", "/DeviceCMYK": "6.2.4.3-3", "/DeviceGray": "6.2.4.3-4"}

    def __init__(self, intent_n: int | None) -> None:
        self.intent_n = intent_n
        self.allowed = {"/DeviceGray"} | ({"/DeviceCMYK"} if intent_n == 4 else set()) | (
            {"/DeviceRGB"} if intent_n == 3 else set()) if intent_n else set()
        self.uses: dict[tuple[str, str], int] = {}
        self.found: list[Violation] = []
        self.profiles: set[tuple[int, int]] = set()
        self.separations: dict[str, str] = {}

    def use(self, space: object, where: str, defaults: Dictionary | None = None, depth: int = 0) -> None:
        if depth > 8 or space is None:
            return
        if isinstance(space, Name):
            name = str(space)
            if name in self.RULE and name not in self.allowed:
                default = defaults.get("/Default" + name[7:]) if isinstance(defaults, Dictionary) else None
                if default is not None and not (isinstance(default, Name) and str(default) in self.RULE):
                    self.use(default, where, None, depth + 1)  # a device-independent Default space stands in
                else:
                    self.uses[(name, where)] = self.uses.get((name, where), 0) + 1
            return
        if not isinstance(space, Array) or not len(space):
            return
        family = str(space[0])
        if family == "/ICCBased" and len(space) > 1 and isinstance(space[1], pikepdf.Stream):
            self._icc(space[1], where)
        elif family == "/Indexed" and len(space) > 1 or family == "/Pattern" and len(space) > 1:
            self.use(space[1], where, defaults, depth + 1)
        elif family == "/Separation" and len(space) > 3:
            self.use(space[2], where, defaults, depth + 1)
            key = str(space[1])
            form = _canonical(space[2]) + "|" + _canonical(space[3])
            if key not in ("/All", "/None") and self.separations.setdefault(key, form) != form:
                self.found.append(Violation("6.2.4.4-2", f"{where}: Separation {key[1:]} with another "
                                            "alternate space or tint transform than elsewhere in the file"))
        elif family == "/DeviceN" and len(space) > 3:
            colourants = [str(c) for c in space[1]]
            if len(colourants) > 32:
                self.found.append(Violation("6.1.13-9", f"{where}: a DeviceN space of {len(colourants)} colourants"))
            self.use(space[2], where, defaults, depth + 1)
            attrs = space[4] if len(space) > 4 and isinstance(space[4], Dictionary) else Dictionary()
            present = attrs.get("/Colorants", Dictionary())
            spots = [c for c in colourants if c not in ("/Cyan", "/Magenta", "/Yellow", "/Black", "/None")]
            if any(c not in present for c in spots):
                self.found.append(Violation("6.2.4.4-1", f"{where}: a DeviceN spot colourant has no /Colorants entry"))
            for value in present.values():
                self.use(value, where, defaults, depth + 1)

    def _icc(self, stream: pikepdf.Stream, where: str) -> None:
        if stream.objgen in self.profiles:
            return
        self.profiles.add(stream.objgen)
        icc = stream.read_bytes()
        version = icc[8] if len(icc) > 8 else 0
        if len(icc) < 128 or icc[36:40] != b"acsp" or icc[12:16] not in (b"prtr", b"mntr", b"scnr", b"spac") \
                or icc[16:20] not in (b"RGB ", b"CMYK", b"GRAY", b"Lab ") or version >= 5:
            self.found.append(Violation("6.2.4.2-1", f"{where}: an ICCBased colour space's profile is not an "
                                        "ICC.1 input, display, output or colour space profile of v2-v4"))

    def violations(self) -> list[Violation]:
        intent = {None: "no output intent", 1: "a grey output intent", 3: "an RGB output intent",
                  4: "a CMYK output intent"}[self.intent_n]
        return self.found + [Violation(self.RULE[space], f"{where}: {space[1:]} used {count} time(s) under {intent}")
                             for (space, where), count in sorted(self.uses.items())]


def _canonical(obj: object) -> str:
    """An object compared by value (6.2.4.4-2: compression and indirection ignored)."""
    if isinstance(obj, pikepdf.Stream):
        return "stream" + _canonical(Dictionary({k: v for k, v in obj.stream_dict.items()
                                                 if k not in ("/Length", "/Filter", "/DecodeParms")})) + \
            hashlib.sha256(obj.read_bytes()).hexdigest()
    if isinstance(obj, Dictionary):
        return "<<" + " ".join(f"{k} {_canonical(v)}" for k, v in sorted(obj.items())) + ">>"
    if isinstance(obj, Array):
        return "[" + " ".join(_canonical(v) for v in obj) + "]"
    return repr(obj)


def _check_colour_and_images(pdf: pikepdf.Pdf, intent_n: int | None,
                             used: dict[tuple[int, int], set[int]],
                             rendered: set[tuple[int, int]] | None = None) -> list[Violation]:
    """6.2.4.3 device colour against the output intent (content, images, inline images, shadings,
    patterns, transparency groups, soft masks, annotations' appearances; DefaultGray/RGB/CMYK
    honoured); 6.2.4.2 and 6.2.4.4 ICC, Separation and DeviceN spaces; 6.2.8 images; 6.2.2-1
    operators; 6.2.6-1 rendering intents; 6.1.10-1 inline filters; 6.1.13-8 q nesting; 6.2.11.8
    text showing .notdef (glyph 0 of an Identity-encoded font). ``used`` gets the CIDs each
    Identity-encoded font's descendant shows (by its object number), for the widths rule;
    ``rendered`` the fonts used in a rendering mode other than 3 (invisible)."""
    spaces = _Spaces(intent_n)
    rendered = set() if rendered is None else rendered
    out = []
    shading = _Shadings(spaces)
    for where, owner, resources, group in _content_objects(pdf):
        if group is not None:
            if "/CS" in group:
                spaces.use(group.CS, f"{where} (transparency group)")
            continue
        res = resources if isinstance(resources, Dictionary) else Dictionary()
        named = res.get("/ColorSpace", Dictionary())
        defaults = named if isinstance(named, Dictionary) else Dictionary()
        for name, obj in res.get("/Shading", Dictionary()).items():
            shading.use(obj, f"{where} shading {name}", defaults)
        for name, obj in res.get("/Pattern", Dictionary()).items():
            if isinstance(obj, (Dictionary, pikepdf.Stream)) and obj.get("/PatternType") == 2:
                shading.use(obj.get("/Shading"), f"{where} pattern {name}", defaults)
        try:
            instructions = pikepdf.parse_content_stream(owner)
        except pikepdf.PdfError as exc:
            out.append(Violation("6.1.7.1-1", f"{where}: content stream cannot be read ({exc})"))
            continue
        scan = _ContentScan(where, res, named, defaults, spaces, shading, used, rendered)
        for operands, operator in instructions:  # type: ignore[misc]  # instructions unpack; the stub says not
            scan.step(operands, str(operator))
        out += scan.violations()
        for name, obj in res.get("/XObject", Dictionary()).items():
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image" and not bool(
                    obj.get("/ImageMask", False)):
                spaces.use(obj.get("/ColorSpace"), f"{where} image {name}", defaults)
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
            out += _check_image(obj)
    return out + spaces.violations()


class _Shadings:
    """The colour spaces of shadings, each shading object read once."""

    def __init__(self, spaces: _Spaces) -> None:
        self.spaces = spaces
        self.seen: set[tuple[int, int]] = set()

    def use(self, obj: object, where: str, defaults: Dictionary) -> None:
        if isinstance(obj, (Dictionary, pikepdf.Stream)):
            if obj.is_indirect and obj.objgen in self.seen:
                return
            if obj.is_indirect:
                self.seen.add(obj.objgen)
            self.spaces.use(obj.get("/ColorSpace"), f"{where} (shading)", defaults)


class _ContentScan:
    """One content stream read operator by operator (``_check_colour_and_images``)."""

    def __init__(self, where: str, res: Dictionary, named: pikepdf.Object, defaults: Dictionary, spaces: _Spaces,
                 shading: _Shadings, used: dict[tuple[int, int], set[int]], rendered: set[tuple[int, int]]) -> None:
        self.where, self.res, self.named, self.defaults = where, res, named, defaults
        self.spaces, self.shading, self.used, self.rendered = spaces, shading, used, rendered
        self.fonts = res.get("/Font", Dictionary())
        self.identity = False
        self.notdef = self.depth = self.deepest = self.mode = 0
        self.font: pikepdf.Object | None = None
        self.shown: set[int] = set()
        self.undefined: set[str] = set()
        self.limits: set[str] = set()
        self.found: list[Violation] = []

    def step(self, operands: list, op: str) -> None:
        if op != "INLINE IMAGE":
            self.limits.update(_operand_limits(list(operands)))
        handler = self.HANDLERS.get(op)
        if handler is not None:
            handler(self, operands, op)
        elif op in DEVICE_OPERATORS:
            self.spaces.use(Name(DEVICE_OPERATORS[op]), self.where, self.defaults)
        elif op not in OPERATORS:
            self.undefined.add(op)

    def _q(self, operands: list, op: str) -> None:
        if op == "q":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
        else:
            self.depth = max(0, self.depth - 1)

    def _tf(self, operands: list, op: str) -> None:
        if not operands:
            return
        font = self.font = self.fonts.get(operands[0])
        self.identity = isinstance(font, Dictionary) and font.get("/Subtype") == "/Type0" and str(
            font.get("/Encoding")) in ("/Identity-H", "/Identity-V") and "/DescendantFonts" in font
        self.shown = self.used.setdefault(font.DescendantFonts[0].objgen, set()) if self.identity and font \
            else set()

    def _tr(self, operands: list, op: str) -> None:
        if operands:
            self.mode = int(operands[0])

    def _show(self, operands: list, op: str) -> None:
        font = self.font
        if isinstance(font, Dictionary) and self.mode != 3:
            self.rendered.add(font.objgen)
            if "/DescendantFonts" in font:
                self.rendered.add(font.DescendantFonts[0].objgen)
        strings = [o for o in (operands[-1] if op == "TJ" else operands[-1:]) if isinstance(o, String)] \
            if operands else []
        if isinstance(font, Dictionary) and font.get("/Subtype") in ("/Type1", "/MMType1", "/TrueType"):
            for text in strings:
                self.used.setdefault(font.objgen, set()).update(bytes(text))
        if self.identity:  # two-byte codes, big-endian (an odd last byte is no code)
            for data in map(bytes, strings):
                cids = struct.unpack(f">{len(data) // 2}H", data[:len(data) // 2 * 2])
                self.notdef += cids.count(0)
                self.shown.update(cids)

    def _cs(self, operands: list, op: str) -> None:
        if operands:
            name = operands[0]
            self.spaces.use(self.named.get(name, name) if isinstance(name, Name) else name, self.where, self.defaults)

    def _sh(self, operands: list, op: str) -> None:
        if operands:
            self.shading.use(self.res.get("/Shading", Dictionary()).get(operands[0]),
                             f"{self.where} sh {operands[0]}", self.defaults)

    def _ri(self, operands: list, op: str) -> None:
        if operands and str(operands[0]) not in INTENTS:
            self.found.append(Violation("6.2.6-1", f"{self.where}: rendering intent {operands[0]} (ri)"))

    def _inline_image(self, operands: list, op: str) -> None:
        image, where = operands[0].obj, self.where
        cs = image.get("/ColorSpace", image.get("/CS"))
        if cs is not None:
            self.spaces.use(self.named.get(cs, _inline_space(cs)) if isinstance(cs, Name) else cs,
                            f"{where} (inline image)", self.defaults)
        if bool(image.get("/Interpolate", image.get("/I", False))):
            self.found.append(Violation("6.2.8-3", f"{where}: an inline image has /Interpolate true"))
        filters = image.get("/Filter", image.get("/F"))
        for f in (filters if isinstance(filters, Array) else [filters] if filters is not None else []):
            if str(f) not in INLINE_FILTERS:
                self.found.append(Violation("6.1.10-1", f"{where}: an inline image's filter {f} is not allowed"))
        bpc = image.get("/BitsPerComponent", image.get("/BPC"))
        if bpc is not None and not bool(image.get("/ImageMask", image.get("/IM", False))) \
                and int(bpc) not in (1, 2, 4, 8, 16):
            self.found.append(Violation("6.2.8-4", f"{where}: an inline image of {bpc} bits per component"))
        intent = image.get("/Intent")
        if intent is not None and str(intent) not in INTENTS:
            self.found.append(Violation("6.2.6-1", f"{where}: an inline image's rendering intent {intent}"))

    HANDLERS: dict[str, Callable[[_ContentScan, list, str], None]] = {
        "q": _q, "Q": _q, "Tf": _tf, "Tr": _tr, "Tj": _show, "TJ": _show, "'": _show, '"': _show,
        "cs": _cs, "CS": _cs, "sh": _sh, "ri": _ri, "INLINE IMAGE": _inline_image}

    def violations(self) -> list[Violation]:
        where, out = self.where, self.found
        out += [Violation(rule, f"{where}: {LIMITS[rule]} in the content") for rule in sorted(self.limits)]
        if self.undefined:
            out.append(Violation("6.2.2-1",
                                 f"{where}: operators ISO 32000-1 does not define: {sorted(self.undefined)}"))
        if self.deepest > 28:
            out.append(Violation("6.1.13-8", f"{where}: q/Q nested {self.deepest} deep (at most 28)"))
        if self.notdef:
            out.append(Violation("6.2.11.8-1", f"{where}: text shows the .notdef glyph {self.notdef} time(s)"))
        return out


LIMITS = {"6.1.13-1": "an integer out of range", "6.1.13-2": "a real number out of range",
          "6.1.13-3": "a string longer than 32767 bytes", "6.1.13-4": "a name longer than 127 bytes",
          "6.1.13-5": "a real number too close to zero"}


REAL_MAX, REAL_MIN = Decimal("3.403e38"), Decimal("1.175e-38")


def _operand_limits(operands: object) -> set[str]:
    """6.1.13: the implementation limits a content stream's operands break."""
    found: set[str] = set()
    for value in operands if isinstance(operands, (list, Array)) else [operands]:
        kind = type(value)  # the common Python scalars first: pikepdf's isinstance checks are slow
        if kind is int and isinstance(value, int):
            if not -2147483648 <= value <= 2147483647:
                found.add("6.1.13-1")
            continue
        if kind is Decimal and isinstance(value, Decimal):
            if abs(value) > REAL_MAX:
                found.add("6.1.13-2")
            elif value and abs(value) < REAL_MIN:
                found.add("6.1.13-5")
            continue
        if kind is pikepdf.Object and cast(pikepdf.Object, value)._type_code == pikepdf.ObjectType.string:
            if len(bytes(cast(pikepdf.Object, value))) > 32767:  # (the test isinstance(value, String) makes)
                found.add("6.1.13-3")
            continue
        if isinstance(value, (list, Array)):
            found |= _operand_limits(value)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int) and not -2147483648 <= value <= 2147483647:
            found.add("6.1.13-1")
        elif isinstance(value, Decimal):
            if abs(value) > REAL_MAX:
                found.add("6.1.13-2")
            elif value and abs(value) < REAL_MIN:
                found.add("6.1.13-5")
        elif isinstance(value, String) and len(bytes(value)) > 32767:
            found.add("6.1.13-3")
        elif isinstance(value, Name) and len(_decoded_name(value)) > 127:
            found.add("6.1.13-4")
    return found


def _check_image(obj: pikepdf.Stream) -> list[Violation]:
    """6.2.8: one image XObject (and its masks)."""
    ref = f"image {obj.objgen[0]} {obj.objgen[1]} R"
    out = []
    if bool(obj.get("/Interpolate", False)):
        out.append(Violation("6.2.8-3", f"{ref} has /Interpolate true"))
    if "/Alternates" in obj:
        out.append(Violation("6.2.8-1", f"{ref} has /Alternates"))
    if "/OPI" in obj:
        out.append(Violation("6.2.8-2", f"{ref} has /OPI"))
    bpc = obj.get("/BitsPerComponent")
    mask = bool(obj.get("/ImageMask", False))
    if bpc is not None and not mask and int(bpc) not in (1, 2, 4, 8, 16):
        out.append(Violation("6.2.8-4", f"{ref} has {bpc} bits per component"))
    if mask and bpc is not None and int(bpc) != 1:
        out.append(Violation("6.2.8-5", f"{ref} is an image mask of {bpc} bits per component"))
    stencil = obj.get("/Mask")
    if isinstance(stencil, pikepdf.Stream) and stencil.get("/BitsPerComponent", 1) != 1:
        out.append(Violation("6.2.8-5", f"{ref}: its /Mask has {stencil.BitsPerComponent} bits per component"))
    intent = obj.get("/Intent")
    if intent is not None and str(intent) not in INTENTS:
        out.append(Violation("6.2.6-1", f"{ref}: rendering intent {intent}"))
    filters = obj.get("/Filter")
    if filters == "/JPXDecode" or (isinstance(filters, Array) and "/JPXDecode" in [str(f) for f in filters]):
        out += _check_jpx(obj.read_raw_bytes() if filters == "/JPXDecode" else b"", ref, "/ColorSpace" in obj)
    return out


def _check_jpx(data: bytes, ref: str, has_space: bool) -> list[Violation]:
    """6.2.8.3: a JPEG 2000 image's channels, colour specifications and bit depth (from its JP2 boxes)."""
    boxes: list[tuple[bytes, bytes]] = []

    def read(chunk: bytes) -> None:
        i = 0
        while i + 8 <= len(chunk):
            size, kind = int.from_bytes(chunk[i:i + 4], "big"), chunk[i + 4:i + 8]
            head = 8
            if size == 1:
                size, head = int.from_bytes(chunk[i + 8:i + 16], "big"), 16
            elif size == 0:
                size = len(chunk) - i
            body = chunk[i + head:i + size]
            boxes.append((kind, body))
            if kind in (b"jp2h", b"res "):
                read(body)
            if size < head:
                break
            i += size

    if not data.startswith(b"\x00\x00\x00\x0cjP  "):
        return []  # a bare codestream: its channels come from the SIZ marker, not checked here
    read(data)
    out = []
    ihdr = next((body for kind, body in boxes if kind == b"ihdr"), b"")
    colr = [body for kind, body in boxes if kind == b"colr"]
    if len(ihdr) >= 11:
        channels, depth = int.from_bytes(ihdr[8:10], "big"), ihdr[10]
        if channels not in (1, 3, 4):
            out.append(Violation("6.2.8.3-1", f"{ref}: JPEG 2000 data of {channels} channels"))
        if depth == 255 or any(kind == b"bpcc" for kind, _ in boxes) or not 1 <= (depth & 0x7F) + 1 <= 38:
            out.append(Violation("6.2.8.3-5", f"{ref}: JPEG 2000 channels of different bit depths"))
    if not has_space and colr:
        if len(colr) > 1 and sum(1 for c in colr if len(c) > 2 and c[2] == 1) != 1:
            out.append(Violation("6.2.8.3-2", f"{ref}: several JPEG 2000 colour specifications, not one with APPROX 1"))
        method = colr[0][0]
        if method not in (1, 2, 3):
            out.append(Violation("6.2.8.3-3", f"{ref}: JPEG 2000 colour method {method}"))
        if method == 1 and len(colr[0]) >= 7 and int.from_bytes(colr[0][3:7], "big") == 19:
            out.append(Violation("6.2.8.3-4", f"{ref}: JPEG 2000 enumerated colour space 19 (CIEJab)"))
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


def _check_fonts(pdf: pikepdf.Pdf, used: dict[tuple[int, int], set[int]],
                 rendered: set[tuple[int, int]] | None = None) -> list[Violation]:
    """6.2.11.4.1 fonts embedded (those shown in a rendering mode other than 3); 6.2.11.3.2
    CIDToGIDMap; 6.2.11.4.2 CIDSet complete; 6.2.11.4.1-2 and 6.2.11.5 the glyphs shown present in
    the program, with its widths (TrueType and CFF programs; not Type 1's FontFile)."""
    out = []
    for obj in _all_fonts(pdf):
        subtype = obj.get("/Subtype")
        if subtype in ("/Type3", "/Type0"):
            continue
        descriptor = obj.get("/FontDescriptor")
        name = str(obj.get("/BaseFont", "?"))
        embedded = isinstance(descriptor, Dictionary) and any(
            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        if not embedded and (rendered is None or not obj.is_indirect or obj.objgen in rendered):
            out.append(Violation("6.2.11.4.1-1", f"font {name} is not embedded"))
        if subtype == "/CIDFontType2" and "/CIDToGIDMap" not in obj and embedded:
            out.append(Violation("6.2.11.3.2-1", f"CIDFontType2 {name} has no CIDToGIDMap"))
        if not isinstance(descriptor, Dictionary):
            continue
        if subtype == "/CIDFontType2" and embedded and "/FontFile2" in descriptor:
            out += _check_truetype(obj, descriptor, name, used.get(obj.objgen, set()))
        elif embedded and isinstance(descriptor.get("/FontFile3"), pikepdf.Stream) and str(
                descriptor.FontFile3.get("/Subtype")) in ("/Type1C", "/CIDFontType0C") and obj.is_indirect:
            out += _check_cff(obj, descriptor.FontFile3.read_bytes(), name, used.get(obj.objgen, set()))
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
    widths = _cid_widths(font)
    default = float(font.get("/DW", 1000))
    mapping = font.get("/CIDToGIDMap")
    if isinstance(mapping, pikepdf.Stream):
        table = mapping.read_bytes()

        def gid(cid: int) -> int:
            return int.from_bytes(table[2 * cid:2 * cid + 2], "big") if 2 * cid + 2 <= len(table) else 0
    else:
        def gid(cid: int) -> int:
            return cid
    missing = sorted(cid for cid in shown if gid(cid) >= len(order) or (isinstance(mapping, pikepdf.Stream)
                                                                       and cid and not gid(cid)))
    if missing:
        out.append(Violation("6.2.11.4.1-2", f"font {name}: {len(missing)} glyph(s) shown are not in its program"))
    wrong = [cid for cid in sorted(shown - {0}) if 0 < gid(cid) < len(order)  # .notdef: 6.2.11.8
             and abs(widths.get(cid, default) - hmtx[order[gid(cid)]][0] * scale) > 1]
    if wrong:
        out.append(Violation("6.2.11.5-1", f"font {name}: {len(wrong)} glyph width(s) differ from the font "
                             f"program's (CIDs {wrong[:5]})"))
    return out


def _check_metadata(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.6.2.1 the metadata stream and its packet; 6.6.2.3 properties from predefined or declared
    schemas, with their value types, and the extension schemas' own form; 6.6.4 pdfaid; and, as the
    archive's own rule (PDF/A-1's 6.7.3, not PDF/A-3's), the Info entries mirrored in the XMP."""
    out = []
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return [Violation("6.6.2.1-1", "the catalog has no /Metadata stream")]
    if stream.get("/Type") != "/Metadata" or stream.get("/Subtype") != "/XML":
        out.append(Violation("6.6.2.1-1", "the metadata stream's /Type is not /Metadata or its /Subtype not /XML"))
    tree = _parse_xmp(stream.read_bytes(), "the XMP metadata")
    if isinstance(tree, list):
        return out + tree
    main, _, _ = _extension_schemas(tree)
    values, found = _check_xmp_properties(tree, "", {})
    out += found
    for obj in pdf.objects:  # every other metadata stream (a page's, an image's...): the same rules
        if isinstance(obj, pikepdf.Stream) and obj.get("/Type") == "/Metadata" and obj.objgen != stream.objgen:
            where = f"metadata stream {obj.objgen[0]} {obj.objgen[1]} R: "
            other = _parse_xmp(obj.read_bytes(), where[:-2])
            out += other if isinstance(other, list) else _check_xmp_properties(other, where, main)[1]
    part = values.get("{http://www.aiim.org/pdfa/ns/id/}part")
    conformance = values.get("{http://www.aiim.org/pdfa/ns/id/}conformance")
    if part is None and conformance is None:
        out.append(Violation("6.6.4-1", "the XMP has no PDF/A identification (pdfaid)"))
    if part != "3":
        out.append(Violation("6.6.4-2", f"pdfaid:part is {part!r}, not 3"))
    if conformance not in ("B", "U", "A"):
        out.append(Violation("6.6.4-3", f"pdfaid:conformance is {conformance!r}"))
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
            if not PDF_DATE.match(value):
                out.append(Violation("layout-info", f"Info {key} {value!r} is not a PDF date (D:YYYYMMDDHHmmSSOHH'mm)"))
            same = mirrored is not None and _same_date(_xmp_date(value), mirrored)
        else:
            same = mirrored == value
        if not same:
            out.append(Violation("layout-info", f"Info {key} {value!r} differs from the XMP ({mirrored!r})"))
    return out


PDF_DATE = re.compile(r"D:\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2})?)?)?)?)?(Z(00'?(00'?)?)?|[+-]\d{2}('?\d{2}'?)?)?$")
PREDEFINED_PROPERTIES = {
    "http://purl.org/dc/elements/1.1/": set(
        "contributor coverage creator date description format identifier language publisher relation rights "
        "source subject title type".split()),
    "http://ns.adobe.com/pdf/1.3/": {"Keywords", "PDFVersion", "Producer", "Trapped"},
    "http://ns.adobe.com/xap/1.0/": set(
        "Advisory BaseURL CreateDate CreatorTool Identifier Label MetadataDate ModifyDate Nickname Rating "
        "Thumbnails".split()),
    "http://ns.adobe.com/xap/1.0/mm/": set(
        "DerivedFrom DocumentID History Ingredients InstanceID LastURL ManagedFrom Manager ManageTo ManageUI "
        "ManagerVariant OriginalDocumentID RenditionClass RenditionOf RenditionParams SaveID VersionID "
        "Versions".split()),
    "http://www.aiim.org/pdfa/ns/id/": {"part", "conformance", "amd", "corr"},
    "http://www.aiim.org/pdfa/ns/extension/": {"schemas"},
}
"""Properties of the predefined schemas most PDFs use (XMP 2005, ISO 19005): others of these
namespaces need an extension schema like any other."""
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
PDFA_TYPE = "http://www.aiim.org/pdfa/ns/type#"
PDFA_FIELD = "http://www.aiim.org/pdfa/ns/field#"


def _parse_xmp(raw: bytes, what: str) -> etree._Element | list[Violation]:
    """6.6.2.1-2 to -5: the packet header's attributes, UTF-8, well-formed XML and RDF."""
    out = []
    header = re.match(rb"\s*<\?xpacket\s([^?]*)\?>", raw)
    if header and b"bytes=" in header[1]:
        out.append(Violation("6.6.2.1-2", f"{what}: the xpacket header has a bytes attribute"))
    if header and b"encoding=" in header[1]:
        out.append(Violation("6.6.2.1-3", f"{what}: the xpacket header has an encoding attribute"))
    try:
        raw.decode("utf-8")
        if raw.startswith((b"\xfe\xff", b"\xff\xfe")):
            raise UnicodeDecodeError("utf-8", raw, 0, 2, "a UTF-16 byte order mark")
    except UnicodeDecodeError as exc:
        return [*out, Violation("6.6.2.1-5", f"{what} is not UTF-8 ({exc.reason})")]
    try:
        tree = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [*out, Violation("6.6.2.1-4", f"{what} is not well-formed XML: {exc}")]
    if tree.tag != f"{{{RDF}}}RDF" and tree.find(f"{{{RDF}}}RDF") is None:
        return [*out, Violation("6.6.2.1-4", f"{what} has no rdf:RDF element")]
    return out or tree


def _extension_schemas(tree: etree._Element):
    """The (namespace, property) pairs declared in the PDF/A extension schemas with their value
    types, the value types they declare, and what breaks 6.6.2.3.2 and 6.6.2.3.3."""
    reader = _SchemaReader()
    for schemas in tree.iter("{http://www.aiim.org/pdfa/ns/extension/}schemas"):
        if schemas.prefix != "pdfaExtension" or _rdf_items(schemas, "Bag") is None:
            reader.out.append(Violation("6.6.2.3.3-1", "pdfaExtension:schemas is not an rdf:Bag written with the "
                                        "prefix pdfaExtension"))
        for schema in _rdf_items(schemas, "Bag") or []:
            reader.schema(schema)
    return reader.declared, reader.types, reader.out


def _rdf_items(node: etree._Element | None, container: str) -> list[etree._Element] | None:
    """The rdf:li of ``node``'s rdf:Bag or rdf:Seq (``container``), None if it has none."""
    box = node.find(f"{{{RDF}}}{container}") if node is not None else None
    return None if box is None else [li for li in box if li.tag == f"{{{RDF}}}li"]


def _rdf_text(node: etree._Element | None) -> str | None:
    """A simple property's text, None if it is missing or not simple."""
    return None if node is None or len(node) else (node.text or "").strip()


class _SchemaReader:
    """Reads the PDF/A extension schemas one by one (``_extension_schemas``)."""

    FIELDS = {PDFA_SCHEMA: ({"schema", "namespaceURI", "prefix", "property", "valueType"}, "pdfaSchema"),
              PDFA_PROPERTY: ({"name", "valueType", "category", "description"}, "pdfaProperty"),
              PDFA_TYPE: ({"type", "namespaceURI", "prefix", "description", "field"}, "pdfaType"),
              PDFA_FIELD: ({"name", "valueType", "description"}, "pdfaField")}

    def __init__(self) -> None:
        self.declared: dict[tuple[str, str], str] = {}
        self.types: set[str] = set()
        self.out: list[Violation] = []

    def entries(self, li: etree._Element) -> dict[str, etree._Element]:
        """The fields of one structure (rdf:li parseType=Resource, or an rdf:Description in it)."""
        nodes = list(li)
        if len(nodes) == 1 and nodes[0].tag == f"{{{RDF}}}Description":
            nodes = list(nodes[0])
        found = {}
        for node in nodes:
            if not isinstance(node.tag, str):
                continue
            ns, _, local = node.tag[1:].partition("}")
            known, prefix = self.FIELDS.get(ns, (set(), None))
            if local not in known:
                self.out.append(Violation("6.6.2.3.2-1",
                                          f"extension schema field {node.prefix}:{local} is not defined"))
                continue
            if node.prefix != prefix:
                self.out.append(Violation(_FIELD_RULES.get((ns, local), "6.6.2.3.2-1"),
                                          f"extension schema field {local} has prefix {node.prefix!r}, not {prefix!r}"))
            found[local] = node
        return found

    def schema(self, schema: etree._Element) -> None:
        f = self.entries(schema)
        for local, rule in (("schema", "6.6.2.3.3-2"), ("namespaceURI", "6.6.2.3.3-3"), ("prefix", "6.6.2.3.3-4")):
            if not _rdf_text(f.get(local)):
                self.out.append(Violation(rule, f"an extension schema has no pdfaSchema:{local} text"))
        uri = _rdf_text(f.get("namespaceURI")) or ""
        for vt in _rdf_items(f.get("valueType"), "Seq") or []:
            self.value_type(vt, uri)
        if "valueType" in f and _rdf_items(f["valueType"], "Seq") is None:
            self.out.append(Violation("6.6.2.3.3-6", f"schema {uri}: pdfaSchema:valueType is not a Seq"))
        if "property" in f and _rdf_items(f["property"], "Seq") is None:
            self.out.append(Violation("6.6.2.3.3-5", f"schema {uri}: pdfaSchema:property is not a Seq"))
        for prop in _rdf_items(f.get("property"), "Seq") or []:
            self.property(prop, uri)

    def value_type(self, vt: etree._Element, uri: str) -> None:
        g = self.entries(vt)
        for local, rule in (("type", "6.6.2.3.3-11"), ("namespaceURI", "6.6.2.3.3-12"),
                            ("prefix", "6.6.2.3.3-13"), ("description", "6.6.2.3.3-14")):
            if not _rdf_text(g.get(local)):
                self.out.append(Violation(rule, f"a value type of schema {uri} has no pdfaType:{local}"))
        name = _rdf_text(g.get("type"))
        self.types.add(name or "")
        if "field" in g and _rdf_items(g["field"], "Seq") is None:
            self.out.append(Violation("6.6.2.3.3-15", f"value type {name}: pdfaType:field is not a Seq"))
        for fl in _rdf_items(g.get("field"), "Seq") or []:
            h = self.entries(fl)
            for local, rule in (("name", "6.6.2.3.3-16"), ("valueType", "6.6.2.3.3-17"),
                                ("description", "6.6.2.3.3-18")):
                if not _rdf_text(h.get(local)):
                    self.out.append(Violation(rule, f"a field of value type {name} has no pdfaField:{local}"))

    def property(self, prop: etree._Element, uri: str) -> None:
        g = self.entries(prop)
        name, kind, category = _rdf_text(g.get("name")), _rdf_text(g.get("valueType")), _rdf_text(g.get("category"))
        if not name:
            self.out.append(Violation("6.6.2.3.3-7", f"a property of schema {uri} has no pdfaProperty:name"))
        if not kind or (kind not in SIMPLE_VALUE_TYPES and kind not in self.types
                        and not _container_of(kind, self.types)):
            self.out.append(Violation("6.6.2.3.3-8", f"property {name} of schema {uri}: value type {kind!r} "
                                      "is not defined"))
        if category not in ("external", "internal"):
            self.out.append(Violation("6.6.2.3.3-9", f"property {name} of schema {uri}: category {category!r}"))
        if not _rdf_text(g.get("description")):
            self.out.append(Violation("6.6.2.3.3-10", f"property {name} of schema {uri} has no "
                                      "pdfaProperty:description"))
        if name and uri:
            self.declared[(uri, name)] = kind or ""


_FIELD_RULES = {(PDFA_SCHEMA, "schema"): "6.6.2.3.3-2", (PDFA_SCHEMA, "namespaceURI"): "6.6.2.3.3-3",
                (PDFA_SCHEMA, "prefix"): "6.6.2.3.3-4", (PDFA_SCHEMA, "property"): "6.6.2.3.3-5",
                (PDFA_SCHEMA, "valueType"): "6.6.2.3.3-6", (PDFA_PROPERTY, "name"): "6.6.2.3.3-7",
                (PDFA_PROPERTY, "valueType"): "6.6.2.3.3-8", (PDFA_PROPERTY, "category"): "6.6.2.3.3-9",
                (PDFA_PROPERTY, "description"): "6.6.2.3.3-10", (PDFA_TYPE, "type"): "6.6.2.3.3-11",
                (PDFA_TYPE, "namespaceURI"): "6.6.2.3.3-12", (PDFA_TYPE, "prefix"): "6.6.2.3.3-13",
                (PDFA_TYPE, "description"): "6.6.2.3.3-14", (PDFA_TYPE, "field"): "6.6.2.3.3-15",
                (PDFA_FIELD, "name"): "6.6.2.3.3-16", (PDFA_FIELD, "valueType"): "6.6.2.3.3-17",
                (PDFA_FIELD, "description"): "6.6.2.3.3-18"}


def _container_of(kind: str, types: set[str]) -> bool:
    head, _, rest = kind.partition(" ")
    return head in ("Bag", "Seq", "Alt") and (rest in SIMPLE_VALUE_TYPES or rest in types)


def _value_is(kind: str, element: etree._Element | None, value: str, types: set[str]) -> bool:
    """Whether a property's value has the form of its XMP value type (containers, dates, integers)."""
    head = kind.split(" ")[0]
    container = {"Alt": "Alt", "Lang": "Alt", "Seq": "Seq", "Bag": "Bag"}.get(head)
    if container:
        return element is not None and element.find(f"{{{RDF}}}{container}") is not None
    if element is not None and len(element) and element.get(f"{{{RDF}}}parseType") != "Resource" and kind in (
            "Text", "Date", "Integer", "Real", "Boolean", "URI", "URL", "MIMEType", "AgentName", "ProperName"):
        return False
    if kind == "Date":
        return bool(XMP_DATE.match(value))
    if kind == "Integer":
        return bool(re.fullmatch(r"[+-]?\d+", value))
    if kind == "Boolean":
        return value in ("True", "False")
    if kind == "Real":
        return bool(re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", value))
    return True


def _check_xmp_properties(tree: etree._Element, where: str, main: dict[tuple[str, str], str]):
    """6.6.2.3 and 6.6.4-4 to -7 on one XMP packet: each property predefined or declared (in this
    packet's extension schemas or, ``main``, the document's), of its value type. Returns the
    packet's simple values by ``{namespace}name`` and what breaks the rules."""
    out = []
    values: dict[str, str] = {}
    properties: list[tuple[str, str, str | None, etree._Element | None]] = []  # (ns, name, prefix, element)
    for description in tree.iter(f"{{{RDF}}}Description"):
        prefixes = {v: k for k, v in description.nsmap.items()}
        for name, value in description.attrib.items():
            if name.startswith("{"):
                ns, _, local = name[1:].partition("}")
                if ns != RDF:
                    values[name] = value
                    properties.append((ns, local, prefixes.get(ns), None))
        for child in description:
            if not isinstance(child.tag, str):
                continue
            ns, _, local = child.tag[1:].partition("}")
            values[child.tag] = "".join(child.itertext()).strip()
            properties.append((ns, local, child.prefix, child))
    declared, types, schema_found = _extension_schemas(tree)
    declared = {**main, **declared}
    out += [Violation(v.rule, where + v.message) for v in schema_found]
    for ns, local, prefix, element in properties:
        key = f"{{{ns}}}{local}"
        if ns in PREDEFINED_PROPERTIES and local not in PREDEFINED_PROPERTIES[ns] or (
                ns not in KNOWN_XMP and (ns, local) not in declared):
            out.append(Violation("6.6.2.3.1-1", f"{where}XMP property {prefix}:{local} ({ns}) is neither "
                                 "predefined nor declared in an extension schema"))
            continue
        kind = XMP_TYPES.get(key) or declared.get((ns, local))
        if kind and not _value_is(kind, element, values[key], types):
            out.append(Violation("6.6.2.3.1-2", f"{where}XMP property {prefix}:{local} is not of its type {kind}"))
        if ns == "http://www.aiim.org/pdfa/ns/id/" and prefix != "pdfaid" and local in (
                "part", "conformance", "amd", "corr"):
            rule = {"part": "6.6.4-4", "conformance": "6.6.4-5", "amd": "6.6.4-6", "corr": "6.6.4-7"}[local]
            out.append(Violation(rule, f"{where}pdfaid:{local} is written with the prefix {prefix!r}"))
    return values, out


def _same_date(a: str, b: str) -> bool:
    def parse(s: str) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
    pa, pb = parse(a), parse(b)
    return pa is not None and pa == pb


def _check_embedded_files(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.8: every embedded file with its MIME type, /F and /UF, its /AFRelationship, and associated
    (in some /AF array: the catalog's, a page's, an annotation's...); and, as the archive's own
    rule, no file named twice."""
    out = []
    associated = set()
    for obj in pdf.objects:
        if isinstance(obj, (Dictionary, pikepdf.Stream)) and isinstance(obj.get("/AF"), Array):
            associated |= {spec.objgen for spec in obj.AF if isinstance(spec, Dictionary)}
    for page in pdf.pages:  # direct dictionaries with an /AF
        for annot in page.obj.get("/Annots", Array()):
            if isinstance(annot, Dictionary) and isinstance(annot.get("/AF"), Array):
                associated |= {spec.objgen for spec in annot.AF if isinstance(spec, Dictionary)}
    specs = [o for o in pdf.objects if isinstance(o, Dictionary) and "/EF" in o and (
        o.get("/Type") in ("/Filespec", None))]
    tree = {spec.objgen: name for name, spec in _name_tree(pdf.Root.get("/Names", Dictionary()).get("/EmbeddedFiles"))
            if isinstance(spec, Dictionary)}
    for spec in specs:
        name = tree.get(spec.objgen) or str(spec.get("/UF", spec.get("/F", "?")))
        if "/F" not in spec or "/UF" not in spec:
            out.append(Violation("6.8-2", f"embedded file {name!r}: its file specification lacks /F or /UF"))
        if not isinstance(spec.get("/AFRelationship"), Name):
            out.append(Violation("6.8-3", f"embedded file {name!r} has no /AFRelationship"))
        streams = spec.EF.values() if isinstance(spec.EF, Dictionary) else []
        for stream in streams:
            subtype = stream.get("/Subtype") if isinstance(stream, pikepdf.Stream) else None
            if not isinstance(subtype, Name) or not re.fullmatch(r"[-\w+.]+/[-\w+.]+", _decoded_name(subtype).decode(
                    "utf-8", "replace")):
                out.append(Violation("6.8-1", f"embedded file {name!r} has no MIME type (/Subtype)"))
                break
        if spec.objgen not in associated:
            out.append(Violation("6.8-4", f"embedded file {name!r} is not associated with the document (/AF)"))
    names: dict[str, int] = {}
    for name, _ in _name_tree(pdf.Root.get("/Names", Dictionary()).get("/EmbeddedFiles")):
        names[name] = names.get(name, 0) + 1
    for name, count in names.items():
        if count > 1:
            out.append(Violation("layout-attachments", f"embedded file {name!r} is named {count} times"))
    return out


def _name_tree(node: object):
    """(name, value) pairs of a name tree, in order."""
    if not isinstance(node, Dictionary):
        return
    pairs = node.get("/Names", Array())
    for i in range(0, len(pairs) - 1, 2):
        yield str(pairs[i]), pairs[i + 1]
    for kid in node.get("/Kids", Array()):
        yield from _name_tree(kid)


# The rest of veraPDF's PDF/A-3B profile (PDFA-3B.xml, 146 rules) -------------------------------

PREDEFINED_CMAPS = frozenset((
    "83pv-RKSJ-H 90ms-RKSJ-H 90ms-RKSJ-V 90msp-RKSJ-H 90msp-RKSJ-V 90pv-RKSJ-H Add-RKSJ-H Add-RKSJ-V "
    "B5pc-H B5pc-V CNS-EUC-H CNS-EUC-V ETen-B5-H ETen-B5-V ETenms-B5-H ETenms-B5-V EUC-H EUC-V "
    "Ext-RKSJ-H Ext-RKSJ-V GB-EUC-H GB-EUC-V GBK-EUC-H GBK-EUC-V GBK2K-H GBK2K-V GBKp-EUC-H GBKp-EUC-V "
    "GBpc-EUC-H GBpc-EUC-V H HKscs-B5-H HKscs-B5-V Identity-H Identity-V KSC-EUC-H KSC-EUC-V KSCms-UHC-H "
    "KSCms-UHC-HW-H KSCms-UHC-HW-V KSCms-UHC-V KSCpc-EUC-H UniCNS-UCS2-H UniCNS-UCS2-V UniCNS-UTF16-H "
    "UniCNS-UTF16-V UniGB-UCS2-H UniGB-UCS2-V UniGB-UTF16-H UniGB-UTF16-V UniJIS-UCS2-H UniJIS-UCS2-HW-H "
    "UniJIS-UCS2-HW-V UniJIS-UCS2-V UniJIS-UTF16-H UniJIS-UTF16-V UniKS-UCS2-H UniKS-UCS2-V UniKS-UTF16-H "
    "UniKS-UTF16-V V").split())
"""The CMaps ISO 32000-1 Table 118 predefines (6.2.11.3.3): any other must be embedded."""
FILTERS = {"/ASCIIHexDecode", "/ASCII85Decode", "/FlateDecode", "/RunLengthDecode", "/CCITTFaxDecode",
           "/JBIG2Decode", "/DCTDecode", "/JPXDecode"}
INLINE_FILTERS = {"/ASCIIHexDecode", "/ASCII85Decode", "/FlateDecode", "/RunLengthDecode", "/CCITTFaxDecode",
                  "/DCTDecode", "/AHx", "/A85", "/Fl", "/RL", "/CCF", "/DCT"}
OPERATORS = frozenset(
    "b B b* B* BDC BI BMC BT BX c cm CS cs d d0 d1 Do DP EI EMC ET EX f F f* G g gs h i ID j J K k l m M MP "
    "n q Q re RG rg ri s S SC sc SCN scn sh T* Tc Td TD Tf Tj TJ TL Tm Tr Ts Tw Tz v w W W* y ' \"".split())
"""Every operator ISO 32000-1 Annex A defines (6.2.2-1)."""
INTENTS = {"/RelativeColorimetric", "/AbsoluteColorimetric", "/Perceptual", "/Saturation"}
BLEND_MODES = {"/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten", "/ColorDodge",
               "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion", "/Hue", "/Saturation",
               "/Color", "/Luminosity"}
ALLOWED_ACTIONS = {"/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/Named", "/SubmitForm"}
ANNOTATIONS = {"/Text", "/Link", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
               "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/Popup", "/FileAttachment",
               "/Widget", "/PrinterMark", "/TrapNet", "/Watermark", "/Redact"}
FONT_SUBTYPES = {"/Type1", "/MMType1", "/TrueType", "/Type3", "/Type0", "/CIDFontType0", "/CIDFontType2"}
STANDARD_14 = {"Times-Roman", "Times-Bold", "Times-Italic", "Times-BoldItalic", "Helvetica", "Helvetica-Bold",
               "Helvetica-Oblique", "Helvetica-BoldOblique", "Courier", "Courier-Bold", "Courier-Oblique",
               "Courier-BoldOblique", "Symbol", "ZapfDingbats"}
XMP_TYPES = {  # the value types of the predefined properties the archive's producers write (XMP 2005)
    "{http://purl.org/dc/elements/1.1/}title": "Alt", "{http://purl.org/dc/elements/1.1/}description": "Alt",
    "{http://purl.org/dc/elements/1.1/}rights": "Alt", "{http://purl.org/dc/elements/1.1/}creator": "Seq",
    "{http://purl.org/dc/elements/1.1/}date": "Seq", "{http://purl.org/dc/elements/1.1/}subject": "Bag",
    "{http://purl.org/dc/elements/1.1/}language": "Bag", "{http://purl.org/dc/elements/1.1/}publisher": "Bag",
    "{http://purl.org/dc/elements/1.1/}contributor": "Bag", "{http://purl.org/dc/elements/1.1/}relation": "Bag",
    "{http://purl.org/dc/elements/1.1/}type": "Bag", "{http://purl.org/dc/elements/1.1/}format": "Text",
    "{http://purl.org/dc/elements/1.1/}identifier": "Text", "{http://purl.org/dc/elements/1.1/}source": "Text",
    "{http://ns.adobe.com/pdf/1.3/}Keywords": "Text", "{http://ns.adobe.com/pdf/1.3/}Producer": "Text",
    "{http://ns.adobe.com/pdf/1.3/}PDFVersion": "Text", "{http://ns.adobe.com/xap/1.0/}CreatorTool": "Text",
    "{http://ns.adobe.com/xap/1.0/}CreateDate": "Date", "{http://ns.adobe.com/xap/1.0/}ModifyDate": "Date",
    "{http://ns.adobe.com/xap/1.0/}MetadataDate": "Date", "{http://ns.adobe.com/xap/1.0/mm/}DocumentID": "Text",
    "{http://ns.adobe.com/xap/1.0/mm/}InstanceID": "Text", "{http://www.aiim.org/pdfa/ns/id/}part": "Integer",
    "{http://www.aiim.org/pdfa/ns/id/}conformance": "Text", "{http://www.aiim.org/pdfa/ns/id/}amd": "Text",
    "{http://www.aiim.org/pdfa/ns/id/}corr": "Text",
}
XMP_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
SIMPLE_VALUE_TYPES = {"Text", "Date", "Integer", "Real", "Boolean", "URI", "URL", "MIMEType", "AgentName",
                      "ProperName", "RenditionClass", "GUID", "Rational", "Locale", "XPath", "Part",
                      "ResourceRef", "ResourceEvent", "Version", "Thumbnail", "Job", "Dimensions", "Colorant",
                      "Font", "Lang Alt", "Bag Text", "Seq Text", "Bag ProperName", "Seq ProperName",
                      "Seq Date", "Bag Date", "Seq ResourceEvent", "Bag ResourceRef", "Seq Version",
                      "Bag Job", "Alt Thumbnail", "Seq Colorant", "Bag Font", "Seq AgentName", "Bag Locale",
                      "Bag XPath", "Bag URI", "Closed Choice of Text", "Open Choice of Text",
                      "Closed Choice of Integer", "Open Choice of Integer"}
"""The XMP value types a pdfaProperty:valueType may name without a pdfaSchema:valueType of its own."""


def _decoded_name(name: Name) -> bytes:
    """A name's bytes after ``#xx`` escapes are expanded, without its slash."""
    raw = name.unparse()[1:]
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw)


def _check_file_structure(data: bytes) -> list[Violation]:
    """6.1.2-1 the header's EOL; 6.1.3-3 nothing after %%EOF; 6.1.4-2 the xref keyword's EOL; 6.1.9-1
    each object's ``N G obj`` line (of a cross-reference table: streams' offsets are not read)."""
    out = []
    if re.match(rb"%PDF-1\.[0-7]", data) and not re.match(rb"%PDF-1\.[0-7](\r\n|\r|\n)", data):
        out.append(Violation("6.1.2-1", "the %PDF-1.n header is not followed by a single end-of-line"))
    end = data.rfind(b"%%EOF")
    if end < 0 or data[end + 5:] not in (b"", b"\n", b"\r", b"\r\n"):
        out.append(Violation("6.1.3-3", "data follows the last %%EOF marker"))
    keywords, at = [], data.find(b"xref")
    while at >= 0:
        if data[at - 5:at] != b"start":
            keywords.append(at)
        at = data.find(b"xref", at + 4)
    bad = []
    for at in keywords:
        m = re.compile(rb"xref([ \t]*)(\r\n|\r|\n)?(\d+) (\d+)").match(data, at)
        if m and (m[1] or not m[2]):
            out.append(Violation("6.1.4-2", f"the xref keyword at byte {at} is not followed by a single EOL"))
        section = re.compile(rb"xref\s+((?:\d+ \d+\s+(?:\d{10} \d{5} [nf]\s*)+)+)").match(data, at)
        for entry in re.finditer(rb"(\d{10}) \d{5} n", section[1] if section else b""):
            offset = int(entry[1])
            if not re.match(rb"\d+ \d+ obj(\r\n|\r|\n)", data[offset:offset + 32]) or (
                    offset and data[offset - 1:offset] not in (b"\n", b"\r")):
                bad.append(offset)
    if bad:
        out.append(Violation("6.1.9-1", f"{len(bad)} object(s) whose 'N G obj' line is not spaced and ended as "
                             f"PDF/A requires (the first at byte {bad[0]})"))
    return out


def _check_parse_warnings(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.1.7.1-1 and -2, 6.1.9-1 and the rest of the syntax, as qpdf finds it reading every stream:
    a wrong /Length, a ``stream`` keyword without its EOL, damaged objects or cross-reference table."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            try:
                obj.read_raw_bytes()
            except pikepdf.PdfError as exc:
                return [Violation("6.1.7.1-1", f"stream {obj.objgen[0]} {obj.objgen[1]} R cannot be read: {exc}")]
    out = []
    for warning in pdf.get_warnings():
        text = str(warning)
        if "stream" in text or "Length" in text:
            out.append(Violation("6.1.7.1-1", f"stream syntax: {text}"))
        elif "xref" in text or "reconstruct" in text:
            out.append(Violation("6.1.4-1", f"cross-reference table: {text}"))
        else:
            out.append(Violation("6.1.9-1", f"object syntax: {text}"))
    return out


def _check_cos(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.1.7.1-3 stream keys; 6.1.7.2-1 filters; 6.1.8-1 font and colourant names in UTF-8; 6.1.13
    implementation limits (numbers, strings, names, object count); 6.2.9 forms; 6.1.12 permissions."""
    out: list[Violation] = []
    limits = _CosLimits()
    objects = list(pdf.objects)
    if len(objects) > 8388607:
        out.append(Violation("6.1.13-7", f"{len(objects)} indirect objects (at most 8388607)"))
    for obj in objects:
        if not isinstance(obj, (Dictionary, Array, pikepdf.Stream)):
            continue
        where = f"object {obj.objgen[0]} {obj.objgen[1]} R"
        limits.walk(obj, where)
        if isinstance(obj, pikepdf.Stream):
            out += _check_stream_filters(obj, where)
        if isinstance(obj, (Dictionary, pikepdf.Stream)):
            out += _check_names_and_xobjects(obj, where)
    out += limits.violations()
    return out + _check_permissions(pdf)


class _CosLimits:
    """6.1.13: the numbers, strings and names of the file's objects, each kind of excess counted."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def note(self, rule: str, message: str) -> None:
        self.counts[(rule, message)] = self.counts.get((rule, message), 0) + 1

    def scalar(self, value: object, where: str) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            if not -2147483648 <= value <= 2147483647:
                self.note("6.1.13-1", f"{where}: an integer out of range ({value})")
        elif isinstance(value, (float, Decimal)):
            v = abs(float(value))
            if v > 3.403e38:
                self.note("6.1.13-2", f"{where}: a real number out of range ({value})")
            elif v and v < 1.175e-38:
                self.note("6.1.13-5", f"{where}: a real number too close to zero ({value})")
        elif isinstance(value, String):
            if len(bytes(value)) > 32767:
                self.note("6.1.13-3", f"{where}: a string of {len(bytes(value))} bytes (at most 32767)")
        elif isinstance(value, Name) and len(_decoded_name(value)) > 127:
            self.note("6.1.13-4", f"{where}: a name longer than 127 bytes")

    def walk(self, obj: object, where: str, depth: int = 0) -> None:
        if depth > 64:
            return
        if isinstance(obj, (Dictionary, pikepdf.Stream)):
            items = obj.stream_dict.items() if isinstance(obj, pikepdf.Stream) else obj.items()
            for key, value in items:
                self.scalar(Name(key), where)
                if isinstance(value, pikepdf.Object) and value.is_indirect:
                    continue
                self.walk(value, where, depth + 1)
        elif isinstance(obj, Array):
            for value in obj:
                if isinstance(value, pikepdf.Object) and value.is_indirect:
                    continue
                self.walk(value, where, depth + 1)
        else:
            self.scalar(obj, where)

    def violations(self) -> list[Violation]:
        return [Violation(rule, message + (f" ({count} times)" if count > 1 else ""))
                for (rule, message), count in self.counts.items()]


def _check_stream_filters(obj: pikepdf.Stream, where: str) -> list[Violation]:
    """6.1.7.1-3 external stream keys; 6.1.7.2-1 filters (Crypt only as the Identity filter)."""
    out = [Violation("6.1.7.1-3", f"{where}: the stream dictionary has {key}")
           for key in ("/F", "/FFilter", "/FDecodeParms") if key in obj.stream_dict]
    found, parm_found = obj.get("/Filter"), obj.get("/DecodeParms")
    filters = list(found) if isinstance(found, Array) else [found] if found is not None else []
    parms = list(parm_found) if isinstance(parm_found, Array) else [parm_found] * len(filters)
    for i, name in enumerate(filters):
        parm = parms[i] if i < len(parms) else None
        if str(name) == "/Crypt" and isinstance(parm, Dictionary) and parm.get("/Name") == "/Identity":
            continue
        if str(name) not in FILTERS:
            out.append(Violation("6.1.7.2-1", f"{where}: filter {name} is not allowed"))
    return out


def _check_names_and_xobjects(obj: Dictionary | pikepdf.Stream, where: str) -> list[Violation]:
    """6.1.8-1 font names in UTF-8; 6.2.9 OPI, reference and PostScript XObjects."""
    out = []
    kind, subtype = obj.get("/Type"), obj.get("/Subtype")
    if kind == "/Font" or (kind == "/FontDescriptor"):
        for key in ("/BaseFont", "/FontName"):
            if isinstance(value := obj.get(key), Name):
                try:
                    _decoded_name(value).decode("utf-8")
                except UnicodeDecodeError:
                    out.append(Violation("6.1.8-1", f"{where}: {key} is not UTF-8"))
    if subtype == "/Form":
        if "/OPI" in obj or "/PS" in obj or obj.get("/Subtype2") == "/PS":
            out.append(Violation("6.2.9-1", f"{where}: a form XObject with /OPI, /PS or /Subtype2 /PS"))
        if "/Ref" in obj:
            out.append(Violation("6.2.9-2", f"{where}: a reference XObject"))
    elif subtype == "/PS" and kind in (None, "/XObject") and isinstance(obj, pikepdf.Stream):
        out.append(Violation("6.2.9-3", f"{where}: a PostScript XObject"))
    return out


def _check_permissions(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.1.12: a permissions dictionary of /UR3 and /DocMDP only, no digest keys in DocMDP."""
    out = []
    perms = pdf.Root.get("/Perms")
    if isinstance(perms, Dictionary):
        if set(perms.keys()) - {"/UR3", "/DocMDP"}:
            others = sorted(set(perms.keys()) - {"/UR3", "/DocMDP"})
            out.append(Violation("6.1.12-1", f"the permissions dictionary has {others}"))
        if "/DocMDP" in perms:
            for ref in perms.DocMDP.get("/Reference", Array()):
                if any(k in ref for k in ("/DigestLocation", "/DigestMethod", "/DigestValue")):
                    out.append(Violation("6.1.12-2", "a DocMDP signature reference has digest keys"))
    return out


def _check_graphics_states(pdf: pikepdf.Pdf, intent_n: int | None) -> list[Violation]:
    """6.2.5 transfer functions and halftones; 6.2.6-1 rendering intents; 6.2.10-1 blend modes;
    6.2.4.2-2 overprint mode 1 with an ICCBased CMYK space; 6.2.10-2 page groups without an intent;
    6.1.13-11 page boundaries; 6.2.2-2 resources of their own; 6.10-2 PresSteps."""
    out = []
    for obj in pdf.objects:
        if not isinstance(obj, Dictionary) or obj.get("/Type") not in ("/ExtGState", None):
            continue
        states = [obj] if obj.get("/Type") == "/ExtGState" else []
        if "/ExtGState" in obj and isinstance(obj.ExtGState, Dictionary):  # a resource dictionary
            states += [s for s in obj.ExtGState.values() if isinstance(s, Dictionary) and not s.is_indirect]
        for state in states:
            where = f"graphics state {state.objgen[0]} {state.objgen[1]} R" if state.is_indirect else \
                f"a graphics state in object {obj.objgen[0]} {obj.objgen[1]} R"
            out += _check_state(state, where)
    for number, page in enumerate(pdf.pages, start=1):
        out += _check_page_graphics(number, page, intent_n)
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Form" and "/Resources" not in obj:
            try:
                ops = {str(i.operator) for i in pikepdf.parse_content_stream(obj)}
            except pikepdf.PdfError:
                continue
            if ops & {"Tf", "Do", "gs", "sh", "cs", "CS", "scn", "SCN"}:
                out.append(Violation("6.2.2-2", f"form {obj.objgen[0]} {obj.objgen[1]} R uses resources it "
                                     "has no /Resources for"))
    return out


def _check_state(state: Dictionary, where: str) -> list[Violation]:
    """One graphics state: 6.2.5 transfer functions and halftones, 6.2.6-1 intent, 6.2.10-1 blend modes."""
    out = []
    if "/TR" in state:
        out.append(Violation("6.2.5-1", f"{where} has /TR"))
    if "/TR2" in state and state.TR2 != "/Default":
        out.append(Violation("6.2.5-2", f"{where} has /TR2 other than /Default"))
    if "/HTP" in state:
        out.append(Violation("6.2.5-3", f"{where} has /HTP"))
    if "/HT" in state and isinstance(state.HT, (Dictionary, pikepdf.Stream)):
        out += _check_halftone(state.HT, where, None)
    if "/RI" in state and str(state.RI) not in INTENTS:
        out.append(Violation("6.2.6-1", f"{where}: rendering intent {state.RI}"))
    modes = state.get("/BM")
    for mode in (modes if isinstance(modes, Array) else [modes] if modes is not None else []):
        if str(mode) not in BLEND_MODES:
            out.append(Violation("6.2.10-1", f"{where}: blend mode {mode}"))
    return out


def _check_page_graphics(number: int, page: pikepdf.Page, intent_n: int | None) -> list[Violation]:
    """One page: 6.1.13-11 boundaries, 6.10-2 PresSteps, 6.2.2-2 resources of its own, 6.2.10-2 a
    transparency group's space, 6.2.4.2-2 overprint mode 1 with an ICCBased CMYK space."""
    out = []
    for box in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
        value = page.obj.get(box) if box != "/MediaBox" else page.obj.get(box, page.mediabox)
        if isinstance(value, Array) and len(value) == 4:
            w, h = abs(float(value[2]) - float(value[0])), abs(float(value[3]) - float(value[1]))
            if not (3 <= w <= 14400 and 3 <= h <= 14400):
                out.append(Violation("6.1.13-11", f"page {number}: {box[1:]} is {w:g} x {h:g} (3 to 14400)"))
    if "/PresSteps" in page.obj:
        out.append(Violation("6.10-2", f"page {number} has /PresSteps"))
    if "/Resources" not in page.obj and page.obj.get("/Contents") is not None:
        out.append(Violation("6.2.2-2", f"page {number} inherits its resources from the page tree"))
    resources = page.obj.get("/Resources", Dictionary())
    if intent_n is None and _transparent(resources) and "/CS" not in page.obj.get("/Group", Dictionary()):
        out.append(Violation("6.2.10-2", f"page {number} has transparency, no output intent and no group /CS"))
    overprint = [s for s in resources.get("/ExtGState", Dictionary()).values()
                 if isinstance(s, Dictionary) and s.get("/OPM") == 1 and (s.get("/OP") or s.get("/op"))]
    icc_cmyk = [cs for cs in resources.get("/ColorSpace", Dictionary()).values()
                if isinstance(cs, Array) and len(cs) > 1 and cs[0] == "/ICCBased" and cs[1].get("/N") == 4]
    if overprint and icc_cmyk:
        out.append(Violation("6.2.4.2-2", f"page {number}: overprint mode 1 with an ICCBased CMYK colour space"))
    return out


def _transparent(resources: object) -> bool:
    if not isinstance(resources, Dictionary):
        return False
    for state in resources.get("/ExtGState", Dictionary()).values():
        if isinstance(state, Dictionary) and (float(state.get("/ca", 1)) < 1 or float(state.get("/CA", 1)) < 1 or (
                state.get("/SMask", Name.None_) != Name.None_) or str(state.get("/BM", "/Normal")) not in (
                "/Normal", "/Compatible")):
            return True
    images = resources.get("/XObject", Dictionary()).values()
    return any(isinstance(x, pikepdf.Stream) and "/SMask" in x for x in images)


def _check_halftone(ht: Dictionary | pikepdf.Stream, where: str, colourant: str | None) -> list[Violation]:
    out = []
    kind = ht.get("/HalftoneType")
    if kind not in (1, 5):
        out.append(Violation("6.2.5-4", f"{where}: halftone type {kind}"))
    if "/HalftoneName" in ht:
        out.append(Violation("6.2.5-5", f"{where}: a halftone with /HalftoneName"))
    if colourant is not None and colourant != "/Default":
        process = colourant in ("/Cyan", "/Magenta", "/Yellow", "/Black")
        if process == ("/TransferFunction" in ht):
            out.append(Violation("6.2.5-6", f"{where}: halftone {colourant[1:]}'s /TransferFunction"))
    if kind == 5:
        for name, sub in ht.items():
            if name not in ("/Type", "/HalftoneType", "/HalftoneName") and isinstance(
                    sub, (Dictionary, pikepdf.Stream)):
                out += _check_halftone(sub, where, name)
    return out


def _all_fonts(pdf: pikepdf.Pdf) -> list[Dictionary]:
    """Every font dictionary in every resource dictionary (direct or indirect), and their descendants."""
    fonts, seen = [], set()

    def add(font: object) -> None:
        if not isinstance(font, Dictionary):
            return
        key = font.objgen if font.is_indirect else id(font)
        if key in seen:
            return
        seen.add(key)
        fonts.append(font)
        for d in font.get("/DescendantFonts", Array()):
            add(d)

    for obj in pdf.objects:
        if isinstance(obj, Dictionary) and obj.get("/Type") == "/Font":
            add(obj)
        if isinstance(obj, (Dictionary, pikepdf.Stream)) and isinstance(obj.get("/Font"), Dictionary):
            for font in obj.Font.values():
                add(font)
        if isinstance(obj, (Dictionary, pikepdf.Stream)) and isinstance(obj.get("/Resources"), Dictionary):
            for font in obj.Resources.get("/Font", Dictionary()).values():
                add(font)
    return fonts


def _check_font_dictionaries(pdf: pikepdf.Pdf, rendered: set[tuple[int, int]],
                             used: dict[tuple[int, int], set[int]] | None = None) -> list[Violation]:
    """6.2.11.2 font dictionaries; 6.2.11.3.1 and 6.2.11.3.3 CIDSystemInfo and CMaps; 6.1.13-10 CIDs;
    6.2.11.6 TrueType encodings and cmaps; 6.2.11.4.1-1 for fonts not seen by ``_check_fonts``."""
    out = []
    for font in _all_fonts(pdf):
        name = str(font.get("/BaseFont", "?"))
        subtype = str(font.get("/Subtype", ""))
        if font.get("/Type") != "/Font":
            out.append(Violation("6.2.11.2-1", f"font {name}: /Type is not /Font"))
        if subtype not in FONT_SUBTYPES:
            out.append(Violation("6.2.11.2-2", f"font {name}: /Subtype {subtype or 'missing'}"))
        if subtype != "/Type3" and not isinstance(font.get("/BaseFont"), Name):
            out.append(Violation("6.2.11.2-3", f"a {subtype[1:]} font has no /BaseFont"))
        descriptor = font.get("/FontDescriptor", Dictionary())
        embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        if subtype in ("/Type1", "/MMType1", "/TrueType", "/Type3"):
            standard = not embedded and name.lstrip("/") in STANDARD_14 and subtype != "/Type3"
            if not standard:
                for key, rule in (("/FirstChar", "6.2.11.2-4"), ("/LastChar", "6.2.11.2-5")):
                    if not isinstance(font.get(key), int):
                        out.append(Violation(rule, f"font {name} has no {key}"))
                widths = font.get("/Widths")
                if isinstance(font.get("/FirstChar"), int) and isinstance(font.get("/LastChar"), int) and (
                        not isinstance(widths, Array) or len(widths) != int(font.LastChar) - int(font.FirstChar) + 1):
                    out.append(Violation("6.2.11.2-6", f"font {name}: /Widths is not LastChar - FirstChar + 1 long"))
        ff3 = descriptor.get("/FontFile3")
        if isinstance(ff3, pikepdf.Stream) and str(ff3.get("/Subtype")) not in (
                "/Type1C", "/CIDFontType0C", "/OpenType"):
            out.append(Violation("6.2.11.2-7", f"font {name}: FontFile3 /Subtype {ff3.get('/Subtype')}"))
        if subtype == "/Type0":
            out += _check_cmap(font, name)
        if subtype == "/TrueType" and embedded and isinstance(descriptor, Dictionary) and "/FontFile2" in descriptor:
            out += _check_simple_truetype(font, descriptor, name, used.get(font.objgen, set()) if used else set())
    return out


def _check_cmap(font: Dictionary, name: str) -> list[Violation]:
    out = []
    encoding = font.get("/Encoding")
    kids = font.get("/DescendantFonts")
    descendant = kids[0] if isinstance(kids, Array) and len(kids) else Dictionary()
    info = descendant.get("/CIDSystemInfo", Dictionary())
    if isinstance(encoding, Name):
        cmap_name = str(encoding)[1:]
        if cmap_name not in PREDEFINED_CMAPS:
            out.append(Violation("6.2.11.3.3-1", f"font {name}: CMap {cmap_name} is neither predefined nor embedded"))
        elif cmap_name not in ("Identity-H", "Identity-V"):
            ordering = _predefined_ordering(cmap_name)
            if str(info.get("/Registry", "")) != "Adobe" or str(info.get("/Ordering", "")) != ordering:
                out.append(Violation("6.2.11.3.1-1", f"font {name}: CIDSystemInfo does not match CMap {cmap_name} "
                                     f"(Adobe-{ordering})"))
        return out
    if not isinstance(encoding, pikepdf.Stream):
        return [Violation("6.2.11.3.3-1", f"font {name} has no CMap")]
    cmap_info = encoding.get("/CIDSystemInfo", Dictionary())
    if isinstance(cmap_info, Array) and len(cmap_info):
        cmap_info = cmap_info[0]
    if str(info.get("/Registry")) != str(cmap_info.get("/Registry")) or str(info.get("/Ordering")) != str(
            cmap_info.get("/Ordering")) or int(info.get("/Supplement", 0)) > int(cmap_info.get("/Supplement", -1)):
        out.append(Violation("6.2.11.3.1-1", f"font {name}: its CIDFont's CIDSystemInfo does not match its CMap's"))
    text = encoding.read_bytes().decode("latin-1")
    m = re.search(r"/WMode\s+(\d+)\s+def", text)
    if int(m[1] if m else 0) != int(encoding.get("/WMode", 0)):
        out.append(Violation("6.2.11.3.3-2", f"font {name}: the CMap's /WMode differs from its stream's"))
    used = encoding.get("/UseCMap")
    references = re.findall(r"/([^\s/]+)\s+usecmap", text) + (
        [str(used)[1:]] if isinstance(used, Name) else [str(used.get("/CMapName", "?"))[1:]] if isinstance(
            used, pikepdf.Stream) else [])
    for ref in references:
        if ref not in PREDEFINED_CMAPS:
            out.append(Violation("6.2.11.3.3-3", f"font {name}: its CMap uses CMap {ref}, which is not predefined"))
    for section in re.findall(r"begincid(?:range|char)(.*?)endcid(?:range|char)", text, re.S):
        cids = [int(n) for n in re.findall(r"(?<![<\w])(\d+)(?![\w>])", section)]
        if cids and max(cids) > 65535:
            out.append(Violation("6.1.13-10", f"font {name}: its CMap maps to CID {max(cids)} (at most 65535)"))
    return out


def _predefined_ordering(cmap: str) -> str:
    if "GB" in cmap:
        return "GB1"
    if any(k in cmap for k in ("CNS", "B5")):
        return "CNS1"
    if "KS" in cmap:
        return "Korea1"
    return "Japan1"


def _check_simple_truetype(font: Dictionary, descriptor: Dictionary, name: str,
                           shown: set[int] | None = None) -> list[Violation]:
    """6.2.11.6: a simple TrueType font's encoding against its symbolic flag and its program's cmap;
    6.2.11.4.1-2 and 6.2.11.5-1: the codes ``shown`` mapped to glyphs of the program (ISO 32000-1
    9.6.6.4), as wide in /Widths as there."""
    from fontTools.agl import AGL2UV
    from fontTools.ttLib import TTFont

    try:
        program = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()))
        tables = [(t.platformID, t.platEncID) for t in program["cmap"].tables] if "cmap" in program else []
    except Exception as exc:  # noqa: BLE001 (a program fontTools cannot read is the finding)
        return [Violation("6.2.11.4.1-1", f"font {name}: its program cannot be read ({exc})")]
    symbolic = bool(int(descriptor.get("/Flags", 0)) & 4)
    encoding = font.get("/Encoding")
    out = []
    out += _truetype_glyphs(font, program, name, symbolic, shown or set())
    if symbolic:
        if encoding is not None:
            out.append(Violation("6.2.11.6-3", f"symbolic TrueType font {name} has an /Encoding"))
        if len(tables) != 1 and (3, 0) not in tables:
            out.append(Violation("6.2.11.6-4", f"symbolic TrueType font {name}: its cmap has neither one "
                                 "subtable nor a (3,0) one"))
        return out
    if not (len(tables) > 1 if (3, 0) in tables else tables):
        out.append(Violation("6.2.11.6-1", f"non-symbolic TrueType font {name}: its cmap has no non-symbolic subtable"))
    base = encoding.get("/BaseEncoding") if isinstance(encoding, Dictionary) else encoding
    differences = [str(d)[1:] for d in encoding.get("/Differences", Array()) if isinstance(d, Name)] \
        if isinstance(encoding, Dictionary) else []
    if str(base) not in ("/MacRomanEncoding", "/WinAnsiEncoding") or (differences and (
            (3, 1) not in tables or any(d not in AGL2UV for d in differences))):
        out.append(Violation("6.2.11.6-2", f"non-symbolic TrueType font {name}: encoding {base} "
                             f"{'with Differences outside the Adobe Glyph List' if differences else ''}".rstrip()))
    return out


def _check_annotations_and_forms(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.3 annotations (types, flags, appearances); 6.4.1 and 6.4.2 interactive forms; 6.4.3
    signatures' byte ranges; 6.9 optional content; 6.10-1 alternate presentations; 6.11-1 requirements."""
    out = []
    root = pdf.Root
    for number, page in enumerate(pdf.pages, start=1):
        for i, annot in enumerate(page.obj.get("/Annots", Array())):
            if isinstance(annot, Dictionary):
                out += _check_annotation(annot, f"page {number}: annotation {i + 1}")
    form = root.get("/AcroForm")
    if isinstance(form, Dictionary):
        out += _check_form(pdf, form)
    if bool(root.get("/NeedsRendering", False)):
        out.append(Violation("6.4.2-2", "the catalog has /NeedsRendering true"))
    if "/AlternatePresentations" in root.get("/Names", Dictionary()):
        out.append(Violation("6.10-1", "the name dictionary has /AlternatePresentations"))
    if "/Requirements" in root:
        out.append(Violation("6.11-1", "the catalog has /Requirements"))
    properties = root.get("/OCProperties")
    if isinstance(properties, Dictionary):
        out += _check_optional_content(properties)
    return out


def _check_annotation(annot: Dictionary, where: str) -> list[Violation]:
    """One annotation: 6.3.1 its type, 6.3.2 its flags, 6.3.3 its appearance, 6.4.1-1 a widget's actions."""
    out = []
    subtype = str(annot.get("/Subtype", ""))
    where = f"{where} ({subtype[1:] or 'no subtype'})"
    if subtype not in ANNOTATIONS:
        out.append(Violation("6.3.1-1", f"{where}: a type PDF/A does not permit"))
    flags = annot.get("/F")
    if flags is None and subtype != "/Popup":
        out.append(Violation("6.3.2-1", f"{where} has no /F"))
    elif flags is not None and (int(flags) & 0b100100011 or not int(flags) & 4):
        out.append(Violation("6.3.2-2", f"{where}: /F {int(flags)} is not printed and visible"))
    rect = [float(v) for v in annot.get("/Rect", Array([0, 0, 0, 0]))]
    ap = annot.get("/AP")
    if ap is None and subtype not in ("/Popup", "/Link") and not (rect[0] == rect[2] and rect[1] == rect[3]):
        out.append(Violation("6.3.3-1", f"{where} has no appearance dictionary"))
    if isinstance(ap, Dictionary):
        if set(ap.keys()) != {"/N"}:
            out.append(Violation("6.3.3-2", f"{where}: its appearance dictionary has {sorted(ap.keys())}"))
        normal = ap.get("/N")
        button = subtype == "/Widget" and _field_type(annot) == "/Btn"
        if button and not isinstance(normal, Dictionary) or isinstance(normal, pikepdf.Stream) and button:
            out.append(Violation("6.3.3-3", f"{where}: a button's /N is not an appearance subdictionary"))
        if normal is not None and not button and not isinstance(normal, pikepdf.Stream):
            out.append(Violation("6.3.3-4", f"{where}: /N is not an appearance stream"))
    if subtype == "/Widget" and ("/A" in annot or "/AA" in annot):
        out.append(Violation("6.4.1-1", f"{where}: a widget with /A or /AA"))
    return out


def _check_form(pdf: pikepdf.Pdf, form: Dictionary) -> list[Violation]:
    """The interactive form: 6.4.1-3 NeedAppearances, 6.4.2-1 XFA, 6.4.1-2 fields' actions, 6.4.3 signatures."""
    out = []
    if bool(form.get("/NeedAppearances", False)):
        out.append(Violation("6.4.1-3", "the interactive form has /NeedAppearances true"))
    if "/XFA" in form:
        out.append(Violation("6.4.2-1", "the interactive form has /XFA"))
    fields = list(form.get("/Fields", Array()))
    seen: set[tuple[int, int]] = set()
    while fields:
        field = fields.pop()
        if not isinstance(field, Dictionary) or (field.is_indirect and field.objgen in seen):
            continue
        if field.is_indirect:
            seen.add(field.objgen)
        if "/AA" in field:
            out.append(Violation("6.4.1-2", f"form field {field.get('/T', '?')} has /AA"))
        fields += list(field.get("/Kids", Array()))
        value = field.get("/V")
        if field.get("/FT") == "/Sig" and isinstance(value, Dictionary):
            out += _check_signature(pdf, value)
    return out


def _check_optional_content(properties: Dictionary) -> list[Violation]:
    """6.9: each optional content configuration named, uniquely, ordering every group, without /AS."""
    out = []
    configs = [properties.get("/D", Dictionary()), *properties.get("/Configs", Array())]
    names = [str(c.get("/Name", "")) for c in configs if isinstance(c, Dictionary)]
    groups = {g.objgen for g in properties.get("/OCGs", Array()) if isinstance(g, Dictionary)}
    for config, config_name in zip(configs, names):
        if not config_name:
            out.append(Violation("6.9-1", "an optional content configuration has no /Name"))
        elif names.count(config_name) > 1:
            out.append(Violation("6.9-2", f"optional content configuration name {config_name!r} is not unique"))
        if "/Order" in config:
            listed = set()
            stack = list(config.Order)
            while stack:
                item = stack.pop()
                if isinstance(item, Array):
                    stack += list(item)
                elif isinstance(item, Dictionary):
                    listed.add(item.objgen)
            if groups - listed:
                out.append(Violation("6.9-3", f"optional content configuration {config_name!r}: /Order "
                                     f"lacks {len(groups - listed)} group(s)"))
        if "/AS" in config:
            out.append(Violation("6.9-4", f"optional content configuration {config_name!r} has /AS"))
    return out


def _field_type(annot: Dictionary) -> str | None:
    node: pikepdf.Object | None = annot
    depth = 0
    while isinstance(node, Dictionary) and depth < 32:
        if "/FT" in node:
            return str(node.FT)
        node, depth = node.get("/Parent"), depth + 1
    return None


def _check_signature(pdf: pikepdf.Pdf, signature: Dictionary) -> list[Violation]:
    """6.4.3-1: the byte range covers the whole file but the signature (the PKCS#7 object itself,
    6.4.3-2 and -3, is not decoded here)."""
    ranges = [int(v) for v in signature.get("/ByteRange", Array())]
    size = len(pdf.filename and Path(pdf.filename).read_bytes() or b"") if pdf.filename else 0
    if len(ranges) != 4 or ranges[0] != 0 or (size and ranges[2] + ranges[3] != size):
        return [Violation("6.4.3-1", "a signature's /ByteRange does not cover the whole file")]
    return []


def _check_actions(pdf: pikepdf.Pdf) -> list[Violation]:
    """6.5.1 actions only of the kinds PDF/A permits (named ones only to move between pages);
    6.5.2 no additional actions; and, the archive's own rule, no links."""
    out = []
    root = pdf.Root

    def action(a: object, where: str) -> None:
        depth = 0
        while isinstance(a, Dictionary) and depth < 64:
            kind = str(a.get("/S", ""))
            if kind not in ALLOWED_ACTIONS:
                out.append(Violation("6.5.1-1", f"{where}: a {kind[1:] or 'typeless'} action"))
            elif kind == "/Named" and str(a.get("/N")) not in ("/NextPage", "/PrevPage", "/FirstPage", "/LastPage"):
                out.append(Violation("6.5.1-2", f"{where}: a named action {a.get('/N')}"))
            nxt = a.get("/Next")
            if isinstance(nxt, Array):
                for n in list(nxt)[1:]:
                    action(n, where)
                nxt = nxt[0] if len(nxt) else None
            a, depth = nxt, depth + 1

    if isinstance(root.get("/OpenAction"), Dictionary):
        action(root.OpenAction, "the catalog's /OpenAction")
    if "/AA" in root:
        out.append(Violation("6.5.2-1", "the catalog has additional actions (/AA)"))
    names = root.get("/Names", Dictionary())
    if "/JavaScript" in names:
        out.append(Violation("6.5.1-1", "the document has JavaScript (/Names /JavaScript)"))
    outline = root.get("/Outlines", Dictionary()).get("/First")
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object | None] = [outline] if isinstance(outline, Dictionary) else []
    while stack:
        item = stack.pop()
        if not isinstance(item, Dictionary) or item.objgen in seen:
            continue
        seen.add(item.objgen)
        if "/A" in item:
            action(item.A, f"outline item {str(item.get('/Title', '?'))!r}")
        stack += [item.get("/Next"), item.get("/First")]
    for number, page in enumerate(pdf.pages, start=1):
        if "/AA" in page.obj:
            out.append(Violation("6.5.2-2", f"page {number} has additional actions (/AA)"))
        for annot in page.obj.get("/Annots", Array()):
            subtype = str(annot.get("/Subtype", ""))
            if "/A" in annot:
                action(annot.A, f"page {number}: a {subtype[1:]} annotation")
            if subtype == "/Link":
                target = annot.get("/A", Dictionary()).get("/URI", "")
                out.append(Violation("layout-links", f"page {number}: a link {str(target)!r} (the archive keeps none)"))
    return out


def _simple_encoding(font: Dictionary, builtin: list[str] | None) -> list[str]:
    """The glyph name of each code (0-255) of a simple font: its /Encoding's base (or the program's
    own encoding, else StandardEncoding) with its /Differences."""
    from fontTools.agl import UV2AGL
    from fontTools.encodings.MacRoman import MacRoman
    from fontTools.encodings.StandardEncoding import StandardEncoding

    encoding = font.get("/Encoding")
    base = encoding.get("/BaseEncoding") if isinstance(encoding, Dictionary) else encoding
    if base == "/WinAnsiEncoding":
        names = [UV2AGL.get(ord(bytes([c]).decode("cp1252", "replace")), ".notdef") for c in range(256)]
    elif base == "/MacRomanEncoding":
        names = list(MacRoman)
    elif builtin is not None:
        names = list(builtin)
    else:
        names = list(StandardEncoding)
    code = 0
    for item in encoding.get("/Differences", Array()) if isinstance(encoding, Dictionary) else ():
        if isinstance(item, int):
            code = item
        elif isinstance(item, Name) and 0 <= code < 256:
            names[code] = str(item)[1:]
            code += 1
    return names


def _check_cff(font: Dictionary, program: bytes, name: str, shown: set[int]) -> list[Violation]:
    """A font whose program is CFF (FontFile3 Type1C or CIDFontType0C): every glyph shown present in
    the program (6.2.11.4.1-2) and as wide in /Widths or /W as the program makes it (6.2.11.5-1)."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.misc.psCharStrings import T2WidthExtractor

    try:
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program), None)
        top = cff.topDictIndex[0]
        charstrings = top.CharStrings
        scale = float(top.FontMatrix[0]) * 1000
    except Exception as exc:  # noqa: BLE001 (a program fontTools cannot read is the finding)
        return [Violation("6.2.11.4.1-1", f"font {name}: its CFF program cannot be read ({exc})")]

    def advance(glyph: str) -> float:
        item, selector = charstrings.getItemAndSelector(glyph)
        private = top.FDArray[selector].Private if selector is not None and hasattr(top, "FDArray") else top.Private
        extractor = T2WidthExtractor(getattr(private, "Subrs", []), cff.GlobalSubrs, private.nominalWidthX,
                                     private.defaultWidthX)
        extractor.execute(item)
        return float(extractor.width) * scale

    simple = font.get("/Subtype") in ("/Type1", "/MMType1")
    if simple:
        builtin = top.Encoding if isinstance(top.Encoding, list) else None
        names = _simple_encoding(font, builtin)
        first, widths = int(font.get("/FirstChar", 0)), list(font.get("/Widths", Array()))
        glyphs = {code: names[code] for code in shown if code < 256}
        given = {code: float(widths[code - first]) for code in glyphs if 0 <= code - first < len(widths)}
    else:
        cid_keyed = hasattr(top, "ROS")
        glyphs = {cid: (f"cid{cid:05d}" if cid_keyed else (top.charset[cid] if cid < len(top.charset) else ""))
                  for cid in shown}
        given = _cid_widths(font)
        default = float(font.get("/DW", 1000))
        given = {cid: given.get(cid, default) for cid in glyphs}
    missing = sorted(code for code, glyph in glyphs.items() if glyph not in charstrings or glyph == ".notdef")
    out = []
    if missing:
        out.append(Violation("6.2.11.4.1-2", f"font {name}: {len(missing)} glyph(s) shown are not in its program "
                             f"(codes {missing[:5]})"))
    wrong = [code for code, glyph in sorted(glyphs.items()) if code in given and glyph in charstrings
             and glyph != ".notdef" and abs(given[code] - advance(glyph)) > 1]
    if wrong:
        out.append(Violation("6.2.11.5-1", f"font {name}: {len(wrong)} glyph width(s) differ from the font "
                             f"program's (codes {wrong[:5]})"))
    return out


def _cid_widths(font: Dictionary) -> dict[int, float]:
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
    return widths


def _truetype_glyphs(font: Dictionary, program, name: str, symbolic: bool, shown: set[int]) -> list[Violation]:
    """The glyph of each code shown of a simple TrueType font (ISO 32000-1 9.6.6.4), and its width."""
    from fontTools.agl import toUnicode

    tables = {(t.platformID, t.platEncID): t.cmap for t in program["cmap"].tables} if "cmap" in program else {}
    names = _simple_encoding(font, None) if not symbolic else None
    order, hmtx, scale = program.getGlyphOrder(), program["hmtx"], 1000 / program["head"].unitsPerEm
    first, widths = int(font.get("/FirstChar", 0)), list(font.get("/Widths", Array()))
    missing, wrong = [], []
    for code in sorted(c for c in shown if c < 256):
        glyph = None
        if names is not None and (3, 1) in tables:
            text = toUnicode(names[code])
            glyph = tables[(3, 1)].get(ord(text)) if len(text) == 1 else None
        if glyph is None and (3, 0) in tables:
            glyph = next((tables[(3, 0)][c] for c in (code, 0xF000 + code, 0xF100 + code, 0xF200 + code)
                          if c in tables[(3, 0)]), None)
        if glyph is None and (1, 0) in tables:
            glyph = tables[(1, 0)].get(code)
        if glyph is None or glyph == ".notdef":
            missing.append(code)
        elif 0 <= code - first < len(widths) and abs(float(widths[code - first]) - hmtx[glyph][0] * scale) > 1:
            wrong.append(code)
    out = []
    if missing and order:
        out.append(Violation("6.2.11.4.1-2", f"font {name}: {len(missing)} code(s) shown map to no glyph of its "
                             f"program (codes {missing[:5]})"))
    if wrong:
        out.append(Violation("6.2.11.5-1", f"font {name}: {len(wrong)} glyph width(s) differ from the font "
                             f"program's (codes {wrong[:5]})"))
    return out
