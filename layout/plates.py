"""Stage 6: finish the pages as printers' plates: PDF/X identification, output intent, metadata.

WeasyPrint writes the PDF/X markers of ``pdf/x-1a`` or ``pdf/x-4`` but no output intent (unless a
CMYK profile is declared), stamps an XMP packet with a random DocumentID for X-4, and knows nothing
of issues and pages. Here each page is rewritten with pypdf: an OutputIntent naming the newsprint
printing condition (with the ICC profile when the paper settings give one), Info and XMP metadata
from the issue (title, number, date, page, the hash of the inputs and the versions used), dates
from the issue date (or SOURCE_DATE_EPOCH) and IDs from the inputs hash: the same sources give the
same bytes on any machine, any day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from . import __version__
from .manifest import Issue
from .markup import long_date
from .render import WEASYPRINT_VERSION
from .settings import PaperSettings

VARIANTS = {"x-1a": ("pdf/x-1a", "PDF/X-1a:2003"), "x-4": ("pdf/x-4", "PDF/X-4")}
REGISTRY = "http://www.color.org"


def weasyprint_variant(paper: PaperSettings) -> str:
    """The ``pdf_variant`` WeasyPrint is asked for."""
    return VARIANTS[paper.pdfx][0]


@dataclass(frozen=True)
class PlateInfo:
    """What identifies one plate (or, with ``page`` None, the whole issue)."""

    issue: Issue
    paper: PaperSettings
    inputs: str
    """SHA-256 of every input (manifest, articles, images, settings, stylesheets, fonts, versions)."""
    page: int | None = None

    @property
    def title(self) -> str:
        """Document title."""
        base = f"{self.paper.title} No. {self.issue.number}, {long_date(self.issue.date)}"
        return f"{base}, page {self.page}" if self.page else base

    @property
    def when(self) -> dt.datetime:
        """The document's date: SOURCE_DATE_EPOCH if set, else midnight UTC of the issue date."""
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch and epoch.isdigit():
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        return dt.datetime.combine(self.issue.date, dt.time(0, 0), tzinfo=dt.UTC)

    @property
    def document_id(self) -> uuid.UUID:
        """A stable document ID: from the inputs and the page."""
        return uuid.UUID(hashlib.sha256(f"{self.inputs} {self.page}".encode()).hexdigest()[:32])


def finish(pdf: bytes, info: PlateInfo) -> bytes:
    """Return ``pdf`` with output intent, metadata and stable IDs for printing as a plate."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    for page in writer.pages:
        _prune_colour_spaces(page)
    root = writer._root_object
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(_output_intent(writer, info.paper))])
    root[NameObject("/Metadata")] = writer._add_object(_xmp(info))
    when = _pdf_date(info.when)
    writer._info = writer._add_object(DictionaryObject({
        NameObject("/Title"): TextStringObject(info.title),
        NameObject("/Author"): TextStringObject(info.paper.title),
        NameObject("/Subject"): TextStringObject(f"{info.paper.title}: {info.paper.tagline}"),
        NameObject("/Keywords"): TextStringObject(
            f"issue {info.issue.number}; {info.issue.date.isoformat()}"
            + (f"; page {info.page}" if info.page else "") + f"; inputs sha256 {info.inputs}"),
        NameObject("/Creator"): TextStringObject(f"layout {__version__}"),
        NameObject("/Producer"): TextStringObject(f"WeasyPrint {WEASYPRINT_VERSION}, pypdf"),
        NameObject("/CreationDate"): TextStringObject(when),
        NameObject("/ModDate"): TextStringObject(when),
        NameObject("/Trapped"): NameObject("/False"),
        NameObject("/GTS_PDFXVersion"): TextStringObject(VARIANTS[info.paper.pdfx][1]),
    }))
    ident = ByteStringObject(info.document_id.bytes)
    writer._ID = ArrayObject([ident, ident])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def join(pdfs: tuple[bytes, ...], info: PlateInfo) -> bytes:
    """Return the whole issue: every page in order, finished like a plate."""
    writer = PdfWriter()
    for data in pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return finish(out.getvalue(), info)


def _prune_colour_spaces(page) -> None:  # type: ignore[no-untyped-def]
    """Drop colour spaces a page declares but never uses (WeasyPrint declares two Lab spaces on every
    page); a preflight, ours or a printer's, would otherwise report Lab colour that is not there."""
    resources = page.get("/Resources")
    if resources is None or "/ColorSpace" not in resources:
        return
    resources = resources.get_object()
    streams = [page.get_contents().get_data() if page.get_contents() is not None else b""]
    for ref in (resources.get("/XObject") or {}).values():
        obj = ref.get_object()
        if obj.get("/Subtype") == "/Form":
            streams.append(obj.get_data())
    spaces = resources["/ColorSpace"].get_object()
    for name in list(spaces):
        used = any(f"{name} cs".encode() in data or f"{name} CS".encode() in data for data in streams)
        if not used:
            del spaces[name]
    if not spaces:
        del resources["/ColorSpace"]


def _output_intent(writer: PdfWriter, paper: PaperSettings) -> DictionaryObject:
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFX"),
        NameObject("/OutputConditionIdentifier"): TextStringObject(paper.output_condition),
        NameObject("/OutputCondition"): TextStringObject(
            f"{paper.output_condition}: ISO 12647-3 coldset offset on newsprint"),
        NameObject("/RegistryName"): TextStringObject(REGISTRY),
        NameObject("/Info"): TextStringObject(f"{paper.output_condition} (newsprint, total ink {paper.ink_limit}%)"),
    })
    if paper.icc_profile is not None:
        stream = DecodedStreamObject()
        stream.set_data(paper.icc_profile.read_bytes())
        stream[NameObject("/N")] = NumberObject(4)
        intent[NameObject("/DestOutputProfile")] = writer._add_object(stream)
    return intent


def _xmp(info: PlateInfo) -> DecodedStreamObject:
    version = VARIANTS[info.paper.pdfx][1]
    when = info.when.isoformat().replace("+00:00", "Z")
    conformance = f"<pdfx:GTS_PDFXConformance>{version}</pdfx:GTS_PDFXConformance>" if info.paper.pdfx == "x-1a" else ""
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/"
 xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
 xmlns:layout="https://newworker.example/ns/layout/1.0/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{escape(info.paper.title)}</rdf:li></rdf:Seq></dc:creator>
<dc:format>application/pdf</dc:format>
<pdf:Producer>WeasyPrint {WEASYPRINT_VERSION}, pypdf</pdf:Producer>
<pdf:Trapped>False</pdf:Trapped>
<pdfxid:GTS_PDFXVersion>{version}</pdfxid:GTS_PDFXVersion>
<pdfx:GTS_PDFXVersion>{version}</pdfx:GTS_PDFXVersion>{conformance}
<xmp:CreateDate>{when}</xmp:CreateDate>
<xmp:ModifyDate>{when}</xmp:ModifyDate>
<xmp:MetadataDate>{when}</xmp:MetadataDate>
<xmp:CreatorTool>layout {__version__}</xmp:CreatorTool>
<xmpMM:DocumentID>uuid:{info.document_id}</xmpMM:DocumentID>
<xmpMM:InstanceID>uuid:{info.document_id}</xmpMM:InstanceID>
<xmpMM:RenditionClass>default</xmpMM:RenditionClass>
<xmpMM:VersionID>1</xmpMM:VersionID>
<layout:issueNumber>{info.issue.number}</layout:issueNumber>
<layout:issueDate>{info.issue.date.isoformat()}</layout:issueDate>
<layout:page>{info.page or ""}</layout:page>
<layout:inputsSHA256>{info.inputs}</layout:inputsSHA256>
<layout:layoutVersion>{__version__}</layout:layoutVersion>
<layout:weasyprintVersion>{WEASYPRINT_VERSION}</layout:weasyprintVersion>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="r"?>"""
    stream = DecodedStreamObject()
    stream.set_data(packet.encode("utf-8"))
    stream[NameObject("/Type")] = NameObject("/Metadata")
    stream[NameObject("/Subtype")] = NameObject("/XML")
    return stream


def _pdf_date(when: dt.datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%SZ")
