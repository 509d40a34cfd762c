"""The issue's METS 1.12 record, with MODS descriptive metadata, modelled on the Europeana Newspapers
METS/ALTO profile (ENMAP): one METS file an issue, pages in a physical structure map pointing at
their image, ALTO and PDF; articles in a logical structure map pointing at their ALTO blocks.

- ``dmdSec DMD_ISSUE``: MODS for the issue: title, issue number, volume, date issued (ISO 8601),
  ISSN, language, genre; one ``dmdSec DMD_ART_<slug>`` per article (its headline).
- ``fileSec``: ``fileGrp`` IMAGE (TIFF), FULLTEXT (ALTO), PDF (the per-page PDF/A) and ISSUE (the
  whole issue's PDF/A), each file with its size and SHA-256.
- ``structMap TYPE="PHYSICAL"``: ``physSequence`` of ``page`` divs, each with an ``fptr`` / ``area``
  to its image, ALTO and PDF.
- ``structMap TYPE="LOGICAL"``: ``Newspaper`` > ``issue`` > one ``article`` div a story, whose
  ``fptr`` / ``seq`` lists its ALTO blocks (``area BETYPE="IDREF" BEGIN=<block ID>``) in order over
  all the pages it runs on, so a jumped story is one article across its pages.
- ``structLink``: each article to the pages it is on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

METS_NS = "http://www.loc.gov/METS/"
MODS_NS = "http://www.loc.gov/mods/v3"


@dataclass(frozen=True)
class PageFiles:
    """One page's files, as paths inside the bag's ``data/`` folder, with their bytes."""

    number: int
    image: tuple[str, bytes]
    alto: tuple[str, bytes]
    pdf: tuple[str, bytes]


@dataclass(frozen=True)
class ArticleParts:
    """An article and its ALTO blocks, in reading order: (page number, block ID)."""

    slug: str
    headline: str
    blocks: tuple[tuple[int, str], ...]


def _id(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in text)


def _file(file_id: str, mime: str, name: str, data: bytes, created: str) -> str:
    return (f'<mets:file ID="{file_id}" MIMETYPE="{mime}" SIZE="{len(data)}" CREATED="{created}" '
            f'CHECKSUM="{hashlib.sha256(data).hexdigest()}" CHECKSUMTYPE="SHA-256">'
            f'<mets:FLocat LOCTYPE="URL" xlink:href={quoteattr(name)}/></mets:file>')


def mets_record(*, title: str, issue_id: str, number: int, volume: int | None, date: str, issn: str | None,
                language: str, created: str, agent: str, pages: list[PageFiles], issue_pdf: tuple[str, bytes],
                articles: list[ArticleParts]) -> bytes:
    """The METS record of an issue (see the module's docstring). ``created``: ISO 8601 date-time."""
    e = escape
    mods = [f"<mods:titleInfo><mods:title>{e(title)}</mods:title></mods:titleInfo>",
            "<mods:typeOfResource>text</mods:typeOfResource>",
            '<mods:genre authority="marcgt">newspaper</mods:genre>',
            f'<mods:originInfo><mods:dateIssued encoding="iso8601" keyDate="yes">{date}</mods:dateIssued>'
            "<mods:issuance>serial</mods:issuance></mods:originInfo>",
            f'<mods:language><mods:languageTerm type="code" authority="iso639-2b">{language}</mods:languageTerm>'
            "</mods:language>"]
    if issn:
        mods.append(f'<mods:identifier type="issn">{e(issn)}</mods:identifier>')
    mods.append(f'<mods:identifier type="local">{e(issue_id)}</mods:identifier>')
    part = [f'<mods:detail type="issue"><mods:number>{number}</mods:number></mods:detail>']
    if volume is not None:
        part.insert(0, f'<mods:detail type="volume"><mods:number>{volume}</mods:number></mods:detail>')
    mods.append(f'<mods:part>{"".join(part)}<mods:date encoding="iso8601">{date}</mods:date></mods:part>')
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<mets:mets xmlns:mets="{METS_NS}" xmlns:mods="{MODS_NS}" '
           'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           f'xsi:schemaLocation="{METS_NS} http://www.loc.gov/standards/mets/mets.xsd" '
           f'OBJID={quoteattr(issue_id)} TYPE="Newspaper" LABEL={quoteattr(f"{title} No. {number}, {date}")} '
           'PROFILE="Europeana Newspapers METS/ALTO profile (ENMAP)">',
           f'<mets:metsHdr CREATEDATE="{created}"><mets:agent ROLE="CREATOR" TYPE="OTHER" OTHERTYPE="SOFTWARE">'
           f"<mets:name>{e(agent)}</mets:name></mets:agent></mets:metsHdr>",
           '<mets:dmdSec ID="DMD_ISSUE"><mets:mdWrap MDTYPE="MODS" MIMETYPE="text/xml"><mets:xmlData>'
           f'<mods:mods>{"".join(mods)}</mods:mods></mets:xmlData></mets:mdWrap></mets:dmdSec>']
    for article in articles:
        out.append(f'<mets:dmdSec ID="DMD_ART_{_id(article.slug)}"><mets:mdWrap MDTYPE="MODS" MIMETYPE="text/xml">'
                   f"<mets:xmlData><mods:mods><mods:titleInfo><mods:title>{e(article.headline)}</mods:title>"
                   f'</mods:titleInfo><mods:identifier type="local">{e(article.slug)}</mods:identifier>'
                   "</mods:mods></mets:xmlData></mets:mdWrap></mets:dmdSec>")
    out.append("<mets:fileSec>")
    for use, kind, mime in (("IMAGE", "image", "image/tiff"), ("FULLTEXT", "alto", "text/xml"),
                            ("PDF", "pdf", "application/pdf")):
        out.append(f'<mets:fileGrp USE="{use}">')
        for page in pages:
            name, data = getattr(page, kind)
            out.append(_file(f"{use}_{page.number:04d}", mime, name, data, created))
        out.append("</mets:fileGrp>")
    out.append(f'<mets:fileGrp USE="ISSUE">{_file("ISSUE_PDF", "application/pdf", *issue_pdf, created)}'
               "</mets:fileGrp></mets:fileSec>")
    out.append('<mets:structMap TYPE="PHYSICAL"><mets:div ID="PHYS_0000" TYPE="physSequence">')
    for page in pages:
        n = page.number
        out.append(f'<mets:div ID="PHYS_{n:04d}" TYPE="page" ORDER="{n}" ORDERLABEL="{n}">'
                   f'<mets:fptr><mets:area FILEID="IMAGE_{n:04d}"/></mets:fptr>'
                   f'<mets:fptr><mets:area FILEID="FULLTEXT_{n:04d}"/></mets:fptr>'
                   f'<mets:fptr><mets:area FILEID="PDF_{n:04d}"/></mets:fptr></mets:div>')
    out.append("</mets:div></mets:structMap>")
    out.append(f'<mets:structMap TYPE="LOGICAL"><mets:div ID="LOG_0000" TYPE="Newspaper" LABEL={quoteattr(title)}>'
               f'<mets:div ID="LOG_ISSUE" TYPE="issue" DMDID="DMD_ISSUE" LABEL={quoteattr(f"No. {number}, {date}")}>'
               '<mets:fptr><mets:area FILEID="ISSUE_PDF"/></mets:fptr>')
    for order, article in enumerate(articles, start=1):
        aid = _id(article.slug)
        out.append(f'<mets:div ID="LOG_ART_{aid}" TYPE="article" ORDER="{order}" DMDID="DMD_ART_{aid}" '
                   f"LABEL={quoteattr(article.headline)}>")
        if article.blocks:
            out.append("<mets:fptr><mets:seq>" + "".join(
                f'<mets:area FILEID="FULLTEXT_{page:04d}" BETYPE="IDREF" BEGIN="{block}"/>'
                for page, block in article.blocks) + "</mets:seq></mets:fptr>")
        out.append("</mets:div>")
    out.append("</mets:div></mets:div></mets:structMap>")
    links = [(f"LOG_ART_{_id(a.slug)}", f"PHYS_{page:04d}") for a in articles
             for page in dict.fromkeys(p for p, _ in a.blocks)]
    if links:
        out.append("<mets:structLink>" + "".join(
            f'<mets:smLink xlink:from="{a}" xlink:to="{b}"/>' for a, b in links) + "</mets:structLink>")
    out.append("</mets:mets>\n")
    return "\n".join(out).encode()
