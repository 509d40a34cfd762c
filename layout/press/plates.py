"""Stage 3 (writing): finish the pages as printers' plates: PDF/X identification, output intent, metadata.

WeasyPrint writes the PDF/X markers of ``pdf/x-1a`` or ``pdf/x-4`` but no output intent (unless a
CMYK profile is declared), stamps an XMP packet with a random DocumentID for X-4, and knows nothing
of issues and pages. Each page is drawn with pikepdf (the galley columns and adverts, font subsets
tagged, unused colour spaces dropped) and saved once with no metadata at all (WeasyPrint's XMP
packet and Info taken out); pypdf then finishes it as the plate, writing each of these once: an
OutputIntent naming the newsprint printing condition (with its ICC profile: the paper's
icc_profile, or the installed profile of that condition, checked by reading/settings.py), crop marks and
registration targets when asked for, Info and XMP metadata from the issue (title, number, date,
page, the hash of the inputs and the versions used), dates from the issue date (or
SOURCE_DATE_EPOCH) and the /ID from the inputs hash: the same sources give the same bytes on any
machine, any day (with the same profiles installed). The whole issue is joined from the plates by
pikepdf, which writes its metadata (the same Info and XMP, the issue's own) once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import pikepdf

from .. import __version__
from ..base.pdfmeta import write_metadata
from ..base.versions import VARIANTS, WEASYPRINT_VERSION
from ..composing.galley import Galley
from ..composing.markup import long_date
from ..reading.manifest import Issue
from ..reading.settings import PaperSettings
from .adverts import PlacedAdvert, draw_adverts, used_spaces
from .assemble import Piece, contents, draw, galley_pdf, parse

if TYPE_CHECKING:  # pypdf (0.05-0.07 s to import) is loaded by the plates' finisher when a plate is made:
    from pypdf import PageObject, PdfWriter  # a recompose whose plates are all cached never loads it
    from pypdf.generic import DictionaryObject

REGISTRY = "http://www.color.org"
FINISHING = "pdfx-finish 4"
"""Version of how a plate is finished here (metadata, output intent, boxes): part of every plate's key,
so that a change to this module makes new plates instead of reusing cached ones (2: no
pdfx:GTS_PDFXConformance in a PDF/X-1a:2003 plate's XMP; 3: finished with pikepdf, not pypdf;
4: drawn with pikepdf and saved without metadata, finished with pypdf, each piece written once)."""


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


PRODUCER = f"WeasyPrint {WEASYPRINT_VERSION}, pikepdf, pypdf"
"""Who wrote the plates and the issue (the Info's /Producer and the XMP's pdf:Producer): WeasyPrint
lays the page out, pikepdf draws the columns into it (and joins the issue), pypdf finishes it."""


def _finished(drawn: bytes, info: PlateInfo) -> bytes:
    """Finish ``drawn`` (one page, drawn and saved by pikepdf with no metadata) as a plate, with pypdf:
    crop marks if asked for, the output intent, the Info, the XMP packet and the /ID, each written
    once.

    The clone copies each object as it is stored: no stream is decoded or compressed again (the
    profile is compressed once a process, the crop marks' few lines here), and only what the catalog
    reaches is cloned, so nothing is left that nothing refers to."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject, NameObject

    reader = PdfReader(io.BytesIO(drawn))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header
    if info.paper.crop_marks and info.page is not None:
        for page in writer.pages:
            _crop_marks(writer, page, info.paper)
    root = writer.root_object
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(_output_intent(writer, info.paper))])
    write_metadata(writer, _xmp_packet(info), _info(info))  # the drawing saved none
    ident = ByteStringObject(info.document_id.bytes)
    writer._ID = ArrayObject([ident, ident])  # a new file: both halves the same (ISO 32000-1 14.4)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _set_metadata(pdf: pikepdf.Pdf, info: PlateInfo) -> None:
    """Write the whole issue's document information, XMP packet and the first half of its /ID (the
    same Info and XMP as a plate's, written by pikepdf where it joins the plates)."""
    pdf.Root.Metadata = pdf.make_stream(_xmp_packet(info), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary({
        key: pikepdf.Name(value) if key == "/Trapped" else pikepdf.String(value)
        for key, value in _info(info).items()}))
    ident = pikepdf.String(info.document_id.bytes)
    pdf.trailer.ID = pikepdf.Array([ident, ident])  # qpdf keeps the first, makes the second from the bytes


def _drawn(pdf: pikepdf.Pdf) -> bytes:
    """``pdf``'s bytes as drawn, with no metadata for the finisher to find: WeasyPrint's XMP packet
    and Info are taken out (the plate's own are written once, by ``_finished``); no object streams
    (PDF/X-1a is PDF 1.4); the galleys' fonts compressed."""
    if "/Metadata" in pdf.Root:
        del pdf.Root["/Metadata"]
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    buffer = io.BytesIO()
    pdf.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.disable)  # its /ID is replaced
    return buffer.getvalue()


@dataclass(frozen=True)
class PlateJob:
    """Everything one plate is made from: WeasyPrint's page, the galley rows drawn into its columns,
    and what identifies it (``info.inputs`` is the hash of all of this: see ``key``)."""

    page: bytes
    pieces: tuple[Piece, ...]
    galleys: tuple[tuple[Galley, bytes], ...]
    """Each galley drawn on the page, with its galley sheet's PDF."""
    info: PlateInfo
    adverts: tuple[PlacedAdvert, ...] = ()
    """Supplied adverts drawn unchanged into their booked boxes (``press/adverts.py``)."""

    @staticmethod
    def key(page: bytes, pieces: tuple[Piece, ...], galleys: tuple[tuple[Galley, bytes], ...],
            info: PlateInfo, adverts: tuple[PlacedAdvert, ...] = ()) -> str:
        """SHA-256 of everything the plate is made from (its ``inputs``)."""
        digest = hashlib.sha256(f"layout {__version__} weasyprint {WEASYPRINT_VERSION} plate {FINISHING}".encode())
        for advert in adverts:
            digest.update(repr((advert.x, advert.y, advert.width, advert.height)).encode()
                          + hashlib.sha256(advert.pdf).digest())
        digest.update(hashlib.sha256(page).digest())
        digest.update(repr(pieces).encode())
        for galley, pdf in galleys:
            digest.update(repr(galley).encode() + hashlib.sha256(pdf).digest())
            if galley.scaled:  # the lines the plate draws scaled (not in the galley's repr)
                digest.update(repr(galley.scaled).encode())
        settings = sorted((k, v) for k, v in vars(info.paper).items() if not isinstance(v, os.PathLike))
        digest.update(repr((info.title, info.page, info.issue.number, info.issue.date, info.when, settings)).encode())
        return digest.hexdigest()


def make_plate(job: PlateJob) -> bytes:
    """Draw the galleys' rows into the page (pikepdf) and finish it as a plate (pypdf); runs in a
    page worker.

    The drawing copies each galley's fonts and builds the columns' forms: pikepdf (qpdf) does that
    in a fifth of pypdf's time. The finishing (output intent, crop marks, metadata, /ID) is pypdf's,
    as the design names it: a clone of the drawn page, written once (README, design notes)."""
    sources = {galley.slot_id: galley_pdf(data) for galley, data in job.galleys}
    try:
        with pikepdf.Pdf.open(io.BytesIO(job.page)) as pdf:
            pages = {key: source.pages[0] for key, source in sources.items()}
            galleys = {galley.slot_id: galley for galley, _ in job.galleys}
            leading = job.info.paper.leading
            parsed = {key: parse(pages[key], galley, leading) for key, galley in galleys.items()}
            draw(pdf, pdf.pages[0], list(job.pieces), pages, parsed, galleys, leading)
            draw_adverts(pdf, pdf.pages[0], job.adverts)
            finish_fonts(pdf.pages[0])
            _prune_colour_spaces(pdf.pages[0])
            drawn = _drawn(pdf)
    finally:
        for source in sources.values():
            source.close()
    return _finished(drawn, job.info)


def finish_fonts(page: pikepdf.Page) -> None:
    """Tag every embedded font subset by its own font program.

    WeasyPrint tags a subset by the font's name, not by its glyphs: the page's NW Sans Bold and a
    galley's would be two different fonts called ``JSBFFT+NW-Sans-Bold`` on one plate, which a RIP
    or a preflight tool that goes by names may mix up. The PDF standard asks for a tag a subset.
    (Galleys are written uncompressed, since their content streams are filtered and compressed into
    the plate's columns anyway; their font programs are compressed when the plate is saved.)"""
    resources = [page.Resources]
    for form in page.Resources.get("/XObject", {}).values():
        if form.get("/Subtype") == "/Form" and "/Resources" in form:
            resources.append(form.Resources)
    for found in resources:
        for font in found.get("/Font", {}).values():
            target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = target.get("/FontDescriptor")
            if descriptor is None:
                continue
            program = next((descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), None)
            if program is None:
                continue
            digest = hashlib.sha256(program.read_bytes()).digest()
            tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
            for obj, key in ((font, "/BaseFont"), (target, "/BaseFont"), (descriptor, "/FontName")):
                name = str(obj.get(key, ""))
                if "+" in name:
                    obj[key] = pikepdf.Name(f"/{tag}+{name.split('+', 1)[1]}")


def _info(info: PlateInfo) -> dict[str, str]:
    """The document information dictionary."""
    when = _pdf_date(info.when)
    return {
        "/Title": info.title,
        "/Author": info.paper.title,
        "/Subject": f"{info.paper.title}: {info.paper.tagline}",
        "/Keywords": f"issue {info.issue.number}; {info.issue.date.isoformat()}"
                     + (f"; page {info.page}" if info.page else "") + f"; inputs sha256 {info.inputs}",
        "/Creator": f"layout {__version__}",
        "/Producer": PRODUCER,
        "/CreationDate": when,
        "/ModDate": when,
        "/Trapped": "/False",
        "/GTS_PDFXVersion": VARIANTS[info.paper.pdfx][1],
    }


def join(pdfs: tuple[bytes, ...], info: PlateInfo | None = None) -> bytes:
    """Return the whole issue: every plate's page in order, with the issue's metadata (as a plate
    has its own); without ``info``, just the pages (the proof PDF).

    The plates are finished by pypdf; they are joined by pikepdf (qpdf), which copies the pages of
    sixteen plates in 0.04 s where pypdf takes 0.3 s: this is done on every save, the plates are not.
    The issue's metadata is written once, here (``_set_metadata``).
    """
    joined = Joiner(len(pdfs))
    for index, data in enumerate(pdfs):
        joined.add(index, data)
    return joined.finish(info)


class Joiner:
    """``join``, its PDFs added one by one in any order (as their plates are made or read back), so
    that the pages are copied while the last plates are still being made: the same bytes as ``join``
    of them all in order (qpdf numbers the objects as it writes them, in page order)."""

    def __init__(self, count: int) -> None:
        self.out = pikepdf.Pdf.new()
        self.sources: list[pikepdf.Pdf | None] = [None] * count

    def add(self, index: int, data: bytes) -> None:
        """Add the PDF that is ``index``-th in the issue (from 0)."""
        source = pikepdf.Pdf.open(io.BytesIO(data))
        self.sources[index] = source
        at = sum(len(before.pages) for before in self.sources[:index] if before is not None)
        for offset, page in enumerate(source.pages):
            self.out.pages.insert(at + offset, page)

    def finish(self, info: PlateInfo | None = None) -> bytes:
        """The joined PDF, with the issue's metadata if ``info`` is given (every PDF must have been added)."""
        sources = [source for source in self.sources if source is not None]
        assert len(sources) == len(self.sources), "a PDF of the issue was never added"
        out = self.out
        try:
            version = max((source.pdf_version for source in sources), default="1.4")
            if info is not None and sources:
                if "/OutputIntents" in sources[0].Root:
                    first = sources[0]
                    out.Root.OutputIntents = pikepdf.Array([
                        out.copy_foreign(intent if intent.is_indirect else first.make_indirect(intent))
                        for intent in first.Root.OutputIntents])
                _set_metadata(out, info)
            buffer = io.BytesIO()
            # fix_metadata_version off: pikepdf would otherwise parse our XMP packet and write it out again
            # (re-serialised by its XMP library, the packet made writable): the packet is written as made
            out.save(buffer, min_version=version, deterministic_id=True, fix_metadata_version=False)
            return buffer.getvalue()
        finally:
            self.close()

    def close(self) -> None:
        """Let the PDFs go (``finish`` does)."""
        for source in self.sources:
            if source is not None:
                source.close()
        self.sources = [None] * len(self.sources)


SLUG = 12 * 72 / 25.4
"""Room outside the bleed for crop marks, when they are asked for."""


REGISTRATION_RADIUS = 3 * 72 / 25.4
"""Radius of a registration target's circle."""


def _crop_marks(writer: PdfWriter, page: PageObject, paper: PaperSettings) -> None:
    """Draw crop marks at the corners and registration targets (a circle and cross) at the middle
    of each side, in registration colour outside the bleed, widening the MediaBox to hold them.

    The marks are a content stream of their own after the page's (nothing decoded or compressed
    again). WeasyPrint's own ``marks: crop`` draws with a transparent graphics state, which PDF/X-1a
    forbids."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject

    x0, y0, x1, y1 = (float(v) for v in page.trimbox)  # (the MediaBox if there is no TrimBox)
    gap, length = paper.bleed + 3, 9 * 72 / 25.4
    ops = ["q 0.25 w 1 1 1 1 K"]
    for x, y, dx, dy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x0, y1, -1, 1), (x1, y1, 1, 1)):
        ops.append(f"{x + dx * gap:.3f} {y:.3f} m {x + dx * (gap + length):.3f} {y:.3f} l S")
        ops.append(f"{x:.3f} {y + dy * gap:.3f} m {x:.3f} {y + dy * (gap + length):.3f} l S")
    middle = gap + length / 2
    for cx, cy in (((x0 + x1) / 2, y0 - middle), ((x0 + x1) / 2, y1 + middle),
                   (x0 - middle, (y0 + y1) / 2), (x1 + middle, (y0 + y1) / 2)):
        ops.append(_target(cx, cy, REGISTRATION_RADIUS))
    ops.append("Q")
    marks = DecodedStreamObject()
    marks.set_data(("\n" + "\n".join(ops) + "\n").encode())
    added = writer._add_object(marks.flate_encode(level=9))
    contents = page.raw_get("/Contents") if "/Contents" in page else None
    target = contents.get_object() if contents is not None else None
    if isinstance(target, ArrayObject):
        target.append(added)  # (an indirect array is extended where it is)
    else:
        page[NameObject("/Contents")] = ArrayObject([contents, added] if contents is not None else [added])
    margin = paper.bleed + SLUG
    page.mediabox = RectangleObject((x0 - margin, y0 - margin, x1 + margin, y1 + margin))
    page.bleedbox = RectangleObject((x0 - paper.bleed, y0 - paper.bleed, x1 + paper.bleed, y1 + paper.bleed))


def _target(cx: float, cy: float, r: float) -> str:
    """A registration target: a circle of radius ``r`` (four Bezier arcs) and a cross through it."""
    k = 0.5523 * r
    circle = (f"{cx + r:.3f} {cy:.3f} m {cx + r:.3f} {cy + k:.3f} {cx + k:.3f} {cy + r:.3f} {cx:.3f} {cy + r:.3f} c "
              f"{cx - k:.3f} {cy + r:.3f} {cx - r:.3f} {cy + k:.3f} {cx - r:.3f} {cy:.3f} c "
              f"{cx - r:.3f} {cy - k:.3f} {cx - k:.3f} {cy - r:.3f} {cx:.3f} {cy - r:.3f} c "
              f"{cx + k:.3f} {cy - r:.3f} {cx + r:.3f} {cy - k:.3f} {cx + r:.3f} {cy:.3f} c S")
    arm = r * 1.5
    cross = (f"{cx - arm:.3f} {cy:.3f} m {cx + arm:.3f} {cy:.3f} l S "
             f"{cx:.3f} {cy - arm:.3f} m {cx:.3f} {cy + arm:.3f} l S")
    return f"{circle}\n{cross}"


def _prune_colour_spaces(page: pikepdf.Page) -> None:
    """Drop colour spaces a page declares but never uses (WeasyPrint declares two Lab spaces on every
    page); a preflight, ours or a printer's, would otherwise report Lab colour that is not there."""
    resources = page.obj.get("/Resources")
    if not isinstance(resources, pikepdf.Dictionary) or "/ColorSpace" not in resources:
        return
    streams = [contents(page)]
    for obj in resources.get("/XObject", pikepdf.Dictionary()).values():
        if obj.get("/Subtype") == "/Form":
            streams.append(obj.read_bytes())
    used = set().union(*(used_spaces(data) for data in streams))  # the one reading of cs/CS (press/adverts.py's)
    spaces = resources.ColorSpace
    for name in list(spaces.keys()):
        if name not in used:
            del spaces[name]
    if not len(spaces.keys()):
        del resources["/ColorSpace"]


def _output_intent(writer: PdfWriter, paper: PaperSettings) -> DictionaryObject:
    from pypdf.generic import DictionaryObject, EncodedStreamObject, NameObject, NumberObject, TextStringObject

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
        components, compressed = _profile_stream(paper.icc_profile, paper.icc_sha256)
        # Already compressed (once a process): the data is given as it is stored, with its filter.
        stream = EncodedStreamObject()
        stream._data = compressed
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        stream[NameObject("/N")] = NumberObject(components)
        intent[NameObject("/DestOutputProfile")] = writer._add_object(stream)
    return intent


@functools.cache
def _profile_stream(path: os.PathLike, sha256: str) -> tuple[int, bytes]:
    """The output profile's components and its bytes compressed (once a process: the newsprint
    profile is 1.3 MB); ``sha256`` is what load_settings read, so a changed file is read again."""
    from ..base import usercache

    with open(path, "rb") as file:  # checked by load_settings: a CMYK or grey output profile
        data = file.read()
    # Compressing it takes 0.1 s (in every worker that makes a plate, and in every recompose): the
    # compressed bytes are kept in the user's cache, named by the profile's bytes and zlib's version.
    return (1 if data[16:20] == b"GRAY" else 4), usercache.compressed(data)


def _xmp_packet(info: PlateInfo) -> bytes:
    version = VARIANTS[info.paper.pdfx][1]
    when = info.when.isoformat().replace("+00:00", "Z")
    # No pdfx:GTS_PDFXConformance: that key belongs to PDF/X-1a:2001 ("PDF/X-1a:2001" beside
    # GTS_PDFXVersion "PDF/X-1:2001"); ISO 15930-4 (X-1a:2003) names the part in GTS_PDFXVersion
    # alone, and the Info dictionary has no such key for the XMP to mirror.
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
<pdf:Producer>{PRODUCER}</pdf:Producer>
<pdf:Trapped>False</pdf:Trapped>
<pdfxid:GTS_PDFXVersion>{version}</pdfxid:GTS_PDFXVersion>
<pdfx:GTS_PDFXVersion>{version}</pdfx:GTS_PDFXVersion>
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
    return packet.encode("utf-8")


def _pdf_date(when: dt.datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%SZ")
