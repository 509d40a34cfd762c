"""``layout archive``: the archive a national library would ingest, as a BagIt bag.

``archive/<year>/<issue-id>/`` is a BagIt 1.0 bag (RFC 8493) with SHA-256 and SHA-512 manifests,
holding: the whole issue as PDF/A-3b with its sources attached, each page as PDF/A-3b, each page's
ALTO 4.4 (``archive/alto.py``) and greyscale TIFF (``archive/pageimage.py``), the issue's METS record with MODS
(``archive/mets.py``), the plates as sent, the fit and preflight reports and ``metadata.json``. The PDF/As
are the plates finished for keeping (``archive/pdfa.py``), so every file describes the pages as printed.

An archive is never overwritten: an issue whose inputs changed since it was archived becomes a new
revision beside it (``<issue-id>.r2`` ...); an unchanged one is reported as archived already. Dates
inside the files come from the issue date (or SOURCE_DATE_EPOCH), so the same sources give the same
bytes; the bag's Bagging-Date is the day it was bagged (or SOURCE_DATE_EPOCH's day). Files are
readable by all (0644, folders 0755, less what the umask takes away).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bagit
from lxml import etree

from .. import __version__
from ..archive.alto import ALTO_NS, alto_page, plate_words, read_alto
from ..archive.mets import METS_NS, ArticleParts, PageFiles, mets_record
from ..archive.pageimage import page_tiff
from ..archive.pdfa import Attachment, check_pdfa, cmyk_profile, to_pdfa
from ..base import publish
from ..base.files import write_atomic
from ..base.versions import WEASYPRINT_VERSION
from ..build import Project, Run, fit_issue, issue_lock
from ..composing.compose import Composition
from ..errors import ArchiveError, InputError, Problem
from ..reading.manifest import find_issue

LOG = logging.getLogger(__name__)
"""What the archive says as it goes (printed by ``layout archive``)."""

CHECKSUMS = ["sha256", "sha512"]
SCHEMAS = Path(__file__).parents[1] / "archive" / "schemas"
LANGUAGE = "eng"
"""The paper's language (ISO 639-2/B), as its pages' ``lang`` (en-GB) says."""
MIME = {".yaml": "application/yaml", ".yml": "application/yaml", ".md": "text/markdown", ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff", ".tiff": "image/tiff",
        ".txt": "text/plain", ".css": "text/css", ".json": "application/json"}
TOLERANCE_MM = 1.0
"""How far an ALTO word's box may lie from where the page prints it."""


@dataclass(frozen=True)
class ArchiveResult:
    """Where the archive went, and whether it was new."""

    path: Path
    created: bool


def archive_issue(project: Project, issue_id: str) -> ArchiveResult:
    """Archive the composed issue ``issue_id``; its plates must be current and have passed preflight."""
    find_issue(project.issues, issue_id)
    with issue_lock(project, issue_id):
        return _archive_issue(project, issue_id)


def _archive_issue(project: Project, issue_id: str) -> ArchiveResult:
    session, composition = fit_issue(project, issue_id)
    issue = session.issue
    inputs = session.inputs_hash()
    out = project.build(issue_id)
    plates = out / "plates"
    _check_plates(plates, issue_id, inputs)
    base = project.root / "archive" / str(issue.date.year)
    for existing in sorted(base.glob(f"{issue_id}*")):
        # An archive made before METS, ALTO and page PDF/As were written is not the archive this
        # version makes: a new revision is written beside it (so is one whose metadata is damaged).
        data = existing / "data"
        if _archived_inputs(data / "metadata.json") == inputs and (data / "mets.xml").exists():
            LOG.info(f"already archived, unchanged: {existing}")
            return ArchiveResult(existing, False)
    for leftover in base.glob(f".{issue_id}-*"):  # what a killed archive run left half-made
        shutil.rmtree(leftover, ignore_errors=True)
    target = _next_revision(base, issue_id)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{issue_id}-", dir=base))
    try:
        LOG.info(f"archiving to {target}")
        _write_payload(staging, session, composition, plates, out, inputs)
        _bag(staging, session)
        _readable(staging)
        publish.rename_new(staging, target)  # never replaces an archive, even an empty folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ArchiveResult(target, True)


def _held_to_pdfa(name: str, data: bytes) -> bytes:
    """``data``, a PDF/A just made, if it passes the PDF/A-3b rules; else ArchiveError naming each
    broken rule (a supplied advert's PDF, say, with something the finishing does not undo): no
    archive is written that ``layout verify`` would refuse."""
    violations = check_pdfa(data)
    if violations:
        raise ArchiveError(f"{name} would not be a valid PDF/A-3b: nothing was archived", tuple(
            Problem(name, v.rule, f"PDF/A-3b: {v.message}", "fix what the rule names in the source it comes "
                    "from (an advert: ask the advertiser for PDF/X-1a), compose and archive again")
            for v in violations))
    return data


def _write_payload(staging: Path, session: Run, composition: Composition, plates: Path, out: Path,
                   inputs: str) -> None:
    """Everything the bag holds (before it is made a bag): reports, PDF/As (each page's carrying its
    plate as sent), ALTO, images, METS. Every PDF in the bag is a PDF/A: the plates (PDF/X) are kept
    byte for byte inside their pages' PDF/As, not beside them."""
    issue, paper = session.issue, session.settings
    issue_id = issue.issue_id
    for name in ("fit.json", "preflight.json"):
        if not (out / name).is_file():
            raise InputError(f"no {name} for {session.issue.issue_id}", (Problem(
                str(out / name), "", "the compose's report is missing",
                f"run layout compose {session.issue.issue_id} again"),))
        write_atomic(staging / name, (out / name).read_bytes())
    when = _made(issue)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    profile = cmyk_profile(paper.icc_profile).read_bytes()
    common = {"issueNumber": str(issue.number), "issueDate": issue.date.isoformat(), "inputsSHA256": inputs,
              "layoutVersion": __version__, "weasyprintVersion": WEASYPRINT_VERSION}
    LOG.info(f"  PDF/A-3b of the issue and of {len(composition.pages)} pages, ALTO, page images, METS")
    whole = _held_to_pdfa(f"{issue_id}-archive.pdf", to_pdfa(
        (plates / f"{issue_id}.pdf").read_bytes(), profile, _sources(session), common))
    write_atomic(staging / f"{issue_id}-archive.pdf", whole)
    pages: list[PageFiles] = []
    blocks: dict[str, list[tuple[int, str]]] = {slug: [] for slug in issue.slugs}
    for number, view in enumerate(composition.pages, start=1):
        stem = f"{issue_id}-p{number:02d}"
        plate = (plates / f"{stem}.pdf").read_bytes()
        sent = Attachment(f"{stem}.pdf", plate, "application/pdf",
                          f"plate of page {number} as sent to the printer (PDF/X)", "Source")
        pdf = _held_to_pdfa(f"pages/{stem}.pdf", to_pdfa(plate, profile, (sent,), {**common, "page": str(number)}))
        image, _ = page_tiff(pdf, when.strftime("%Y:%m:%d %H:%M:%S"), f"layout {__version__}")
        alto = alto_page(pdf, view, paper, number, f"../images/{stem}.tif", stamp, __version__)
        files = {"pages": (f"{stem}.pdf", pdf), "images": (f"{stem}.tif", image), "alto": (f"{stem}.xml", alto)}
        for folder, (name, data) in files.items():
            write_atomic(staging / folder / name, data)
        pages.append(PageFiles(number, (f"images/{stem}.tif", image), (f"alto/{stem}.xml", alto),
                               (f"pages/{stem}.pdf", pdf)))
        for slug, block in _article_blocks(alto):
            blocks.setdefault(slug, []).append((number, block))
    articles = [ArticleParts(slug, _plain(session.articles[slug].headline), tuple(blocks[slug]))
                for slug in issue.slugs]
    mets = mets_record(title=paper.title, issue_id=issue_id, number=issue.number, volume=_volume(session),
                       date=issue.date.isoformat(), issn=paper.issn, language=LANGUAGE, created=stamp,
                       agent=f"layout {__version__}", pages=pages,
                       issue_pdf=(f"{issue_id}-archive.pdf", whole), articles=articles)
    write_atomic(staging / "mets.xml", mets)
    write_atomic(staging / "metadata.json", (json.dumps(_metadata(session, composition, inputs), indent=2,
                                                        ensure_ascii=False) + "\n").encode())


def _made(issue) -> dt.datetime:
    """When the archive's files say they were made: SOURCE_DATE_EPOCH if set, else the issue date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.combine(issue.date, dt.time(0, 0), tzinfo=dt.UTC)


def _volume(session: Run) -> int | None:
    """The issue's volume: its manifest's, else the paper's ``volume`` setting."""
    return session.issue.volume if session.issue.volume is not None else session.settings.volume


def _plain(text: str) -> str:
    """Text without its inline HTML."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _sources(session: Run) -> tuple[Attachment, ...]:
    """The issue's sources (paper settings, manifest, articles, images), each attached once."""
    issue = session.issue
    out = []
    for path in [session.settings.source, *sorted(p for p in issue.folder.rglob("*") if p.is_file())]:
        name = str(path.relative_to(session.project.issues))
        out.append(Attachment(name, path.read_bytes(), MIME.get(path.suffix.lower(), "application/octet-stream"),
                              f"source of {issue.issue_id}: {name}"))
    return tuple(out)


def _article_blocks(alto: bytes) -> list[tuple[str, str]]:
    """(slug, block ID) of every block of an ALTO file that belongs to an article, each article's
    in its reading order."""
    tree = etree.fromstring(alto)
    ns = {"a": ALTO_NS}
    slugs = {t.get("ID"): t.get("LABEL") for t in tree.iterfind(".//a:StructureTag", ns)}
    found: dict[str, list] = {}
    for block in tree.iterfind(".//a:PrintSpace/*", ns):
        slug = next((slugs[t] for t in (block.get("TAGREFS") or "").split() if t in slugs), None)
        if slug is not None:
            found.setdefault(slug, []).append(block)
    out = []
    for slug, members in found.items():  # each article's blocks in reading order: along IDNEXT
        pointed = {b.get("IDNEXT") for b in members}
        by_id = {b.get("ID"): b for b in members}
        for start in (b for b in members if b.get("ID") not in pointed):
            node: etree._Element | None = start
            while node is not None:
                out.append((slug, node.get("ID", "")))
                node = by_id.get(node.get("IDNEXT"))
    return out


def _readable(folder: Path) -> None:
    """Files 0644 and folders 0755 (less the umask): bagit and mkdtemp make some 0700 and 0600."""
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o755 & ~mask)
    for path in folder.rglob("*"):
        path.chmod((0o755 if path.is_dir() else 0o644) & ~mask)


def _check_plates(plates: Path, issue_id: str, inputs: str) -> None:
    whole = plates / f"{issue_id}.pdf"
    if not whole.exists():
        raise InputError(f"no plates to archive for {issue_id}", (Problem(
            str(plates), "", "the issue has no plates that passed preflight",
            f"run layout compose {issue_id} until preflight passes"),))
    changed = publish.changed_files(plates)
    if changed:
        raise InputError(f"the plates of {issue_id} are damaged", tuple(Problem(
            str(plates / name), "", "changed or damaged since it was composed (it does not match SHA256SUMS)",
            f"run layout compose {issue_id} again, then archive") for name in changed))
    import pikepdf  # the archive's one PDF library (as in archive/pdfa.py)

    try:
        with pikepdf.open(whole) as pdf:
            xmp = pdf.Root.Metadata.read_bytes().decode()
    except Exception:  # noqa: BLE001 - a damaged PDF fails in any of its ways
        raise InputError(f"the plates of {issue_id} are damaged", (Problem(
            str(whole), "", "the issue PDF in plates/ cannot be read (truncated or changed?)",
            f"run layout compose {issue_id} again, then archive"),)) from None
    if f"<layout:inputsSHA256>{inputs}<" not in xmp:
        raise InputError(f"the plates of {issue_id} are older than its sources", (Problem(
            str(plates), "", "sources changed since the plates were made",
            f"run layout compose {issue_id} again, then archive"),))


def _archived_inputs(meta: Path) -> str | None:
    """The inputs' hash an archive was made from (None if its metadata is missing or damaged: then
    it is not this issue's, and a new revision is made beside it)."""
    try:
        data = json.loads(meta.read_bytes())
    except (OSError, ValueError, UnicodeError):
        return None
    return data.get("inputs_sha256") if isinstance(data, dict) else None


def _next_revision(base: Path, issue_id: str) -> Path:
    if not (base / issue_id).exists():
        return base / issue_id
    number = 2
    while (base / f"{issue_id}.r{number}").exists():
        number += 1
    return base / f"{issue_id}.r{number}"


def _metadata(session: Run, composition: Composition, inputs: str) -> dict:
    issue, paper = session.issue, session.settings
    pages: dict[str, list[int]] = {}
    for fit in composition.slots:
        pages.setdefault(fit.slug, []).append(fit.page)
    return {
        "title": paper.title, "issue_id": issue.issue_id, "date": issue.date.isoformat(),
        "number": issue.number, "volume": _volume(session), "issn": paper.issn,
        "page_count": len(issue.pages),
        "articles": [{"slug": slug, "headline": session.articles[slug].headline, "pages": pages[slug],
                      "sample_copy": session.articles[slug].sample} for slug in issue.slugs],
        "inputs_sha256": inputs, "layout_version": __version__, "weasyprint_version": WEASYPRINT_VERSION,
        "pdfx": paper.pdfx,
    }


def _bag(folder: Path, session: Run) -> None:
    issue = session.issue
    info = {
        "Source-Organization": session.settings.title,
        "External-Description": f"{session.settings.title} No. {issue.number}, {issue.date.isoformat()}: "
                                "print plates, PDF/A-3b of the issue (with its sources) and of each page, "
                                "METS with MODS, ALTO and a greyscale TIFF per page, reports",
        "External-Identifier": issue.issue_id,
        "Bagging-Date": _bagging_date().isoformat(),
        "Bag-Software-Agent": f"layout {__version__} (bagit {bagit.VERSION})",
    }
    bagit.make_bag(str(folder), bag_info=info, checksums=CHECKSUMS)
    # bagit writes BagIt-Version 0.97; the bag is RFC 8493's 1.0 (same layout): say so, and make the
    # tag manifests again over the new bagit.txt.
    (folder / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    bagit.Bag(str(folder)).save(processes=1)


def _bagging_date() -> dt.date:
    """The day the bag is made: SOURCE_DATE_EPOCH's (for reproducible bags) if set, else today (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def verify(path: Path) -> list[str]:
    """Re-check an archive: its checksums, then (an archive with a METS record) the METS and ALTO
    files against their schemas, every file METS names, each page's ALTO against its PDF's words
    and boxes, and the PDF/A-3b rules on every PDF/A. Returns the files checked; raises ArchiveError
    naming every problem."""
    if not path.is_dir():
        raise ArchiveError(f"{path} is not an archive", (Problem(
            str(path), "", "no such folder", "give the folder of one archived issue (archive/<year>/<issue-id>)"),))
    try:
        bag = bagit.Bag(str(path))
    except (bagit.BagError, ValueError, UnicodeError, LookupError) as exc:
        raise ArchiveError(f"{path} is not a readable archive", (Problem(
            str(path), "", str(exc), "give the folder of one archived issue (archive/<year>/<issue-id>)"),)) from None
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = [str(d) for d in exc.details] or [str(exc.message)]
        raise ArchiveError(f"{path}: the archive has changed since it was made", tuple(
            Problem(str(path), "", d, "restore the file from a good copy") for d in details)) from None
    except PermissionError:
        raise  # the machine's (exit 8), not the archive's
    except (bagit.BagError, ValueError, UnicodeError, LookupError, OSError) as exc:  # a damaged file of the bag
        raise ArchiveError(f"{path}: the archive is damaged", (Problem(
            str(path), "", str(exc), "restore the archive from a good copy"),)) from None
    problems = check_contents(path / "data")
    if problems:
        raise ArchiveError(f"{path}: the archive's checksums match, but its contents do not hold", tuple(problems))
    return sorted(bag.payload_entries())


def schema(name: str) -> etree.XMLSchema:
    """One of the schemas shipped in ``layout/archive/schemas`` (read with no network)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), parser))


def check_contents(data: Path) -> list[Problem]:
    """What is wrong inside an archive's ``data/`` (see ``verify``); [] if all holds. An archive
    made by an earlier version (no ``mets.xml``: no ALTO, a PDF/A that was not one) has its
    checksums checked only; archiving the issue again writes a new revision beside it."""
    problems: list[Problem] = []
    fix = "archive the issue again (layout archive ISSUE) with this version of layout"
    mets_path = data / "mets.xml"
    if not mets_path.exists():
        return problems
    for pdf in sorted(data.glob("*-archive.pdf")) + sorted((data / "pages").glob("*.pdf")):
        try:
            violations = check_pdfa(pdf)
        except Exception as exc:  # noqa: BLE001 (a file the checker cannot read is the finding)
            problems.append(Problem(str(pdf), "", f"cannot be read as a PDF: {exc}", fix))
            continue
        for violation in violations:
            problems.append(Problem(str(pdf), violation.rule, f"PDF/A-3b: {violation.message}", fix))
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        mets = etree.parse(str(mets_path), parser)
    except etree.XMLSyntaxError as exc:
        return [*problems, Problem(str(mets_path), "", f"not well-formed XML: {exc}", fix)]
    mets_schema = schema("mets-1-12-1.xsd")
    if not mets_schema.validate(mets):
        problems += [Problem(str(mets_path), f"line {e.line}", f"METS 1.12.1: {e.message}", fix)
                     for e in mets_schema.error_log]
    ns = {"m": METS_NS, "x": "http://www.w3.org/1999/xlink"}
    alto_schema = schema("alto-4-4.xsd")
    for group in mets.iterfind(".//m:fileGrp", ns):
        for file in group.iterfind("m:file", ns):
            location = file.find("m:FLocat", ns)
            href = location.get("{http://www.w3.org/1999/xlink}href") if location is not None else None
            target = (data / href).resolve() if href else data
            if not href or not target.is_relative_to(data.resolve()) or not target.is_file():
                problems.append(Problem(str(mets_path), file.get("ID", ""), f"names {href}, which is missing", fix))
                continue
            if file.get("CHECKSUM") != hashlib.sha256(target.read_bytes()).hexdigest():
                problems.append(Problem(str(target), file.get("ID", ""), "its SHA-256 is not the one METS gives", fix))
            if group.get("USE") == "FULLTEXT":
                try:
                    problems += _check_alto(target, alto_schema, data, fix)
                except Exception as exc:  # noqa: BLE001 (a damaged page PDF or ALTO is the finding)
                    problems.append(Problem(str(target), "", f"cannot be held to its page: {exc}", fix))
    return problems + _check_areas(mets, data, mets_path, fix)


def _check_areas(mets: etree._ElementTree, data: Path, mets_path: Path, fix: str) -> list[Problem]:
    """Every ``area`` of the structure maps names a file of the fileSec, and every block it begins
    at is in that (ALTO) file."""
    ns = {"m": METS_NS, "x": "http://www.w3.org/1999/xlink"}
    files = {f.get("ID"): f.find("m:FLocat", ns) for f in mets.iterfind(".//m:file", ns)}
    ids: dict[str, set[str]] = {}
    out = []
    for area in mets.iterfind(".//m:structMap//m:area", ns):
        location = files.get(area.get("FILEID"))
        if location is None:
            out.append(Problem(str(mets_path), area.get("FILEID") or "area", "an area names no file of the fileSec",
                               fix))
            continue
        if area.get("BETYPE") != "IDREF":
            continue
        href = location.get("{http://www.w3.org/1999/xlink}href") or ""  # none: reported as not found
        if href not in ids:
            try:
                tree = etree.parse(str(data / href), etree.XMLParser(no_network=True, resolve_entities=False))
                ids[href] = {e.get("ID", "") for e in tree.iter() if isinstance(e.tag, str) and e.get("ID")}
            except (OSError, etree.XMLSyntaxError):
                ids[href] = set()
        if area.get("BEGIN") not in ids[href]:
            out.append(Problem(str(mets_path), f"{area.get('FILEID')} {area.get('BEGIN')}",
                               f"an article begins at block {area.get('BEGIN')}, which {href} does not have", fix))
    return out


def _check_alto(alto: Path, alto_schema: etree.XMLSchema, data: Path, fix: str) -> list[Problem]:
    """The ALTO against its schema, and its words against its page's PDF (same words, same order,
    each box within TOLERANCE_MM)."""
    try:
        tree = etree.parse(str(alto), etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        return [Problem(str(alto), "", f"not well-formed XML: {exc}", fix)]
    if not alto_schema.validate(tree):
        return [Problem(str(alto), f"line {e.line}", f"ALTO 4.4: {e.message}", fix) for e in alto_schema.error_log]
    pdf = data / "pages" / (alto.stem + ".pdf")
    if not pdf.is_file():
        return [Problem(str(alto), "", f"no page PDF {pdf.name} to hold it to", fix)]
    words, _ = read_alto(alto.read_bytes())
    printed = plate_words(pdf.read_bytes())[0]
    if [w.text for w in words] != [w.text for w in printed]:
        at = next((i for i, (a, b) in enumerate(zip(words, printed)) if a.text != b.text),
                  min(len(words), len(printed)))
        shown = words[at].text if at < len(words) else "(end)"
        expected = printed[at].text if at < len(printed) else "(end)"
        return [Problem(str(alto), f"word {at + 1}", f"ALTO has {shown!r} where {pdf.name} prints {expected!r} "
                        f"({len(words)} words against {len(printed)})", fix)]
    tolerance = TOLERANCE_MM * 72 / 25.4
    for n, (a, b) in enumerate(zip(words, printed), start=1):
        off = max(abs(a.x0 - b.x0), abs(a.top - b.top), abs(a.x1 - b.x1), abs(a.bottom - b.bottom))
        if off > tolerance:
            return [Problem(str(alto), f"word {n} {a.text!r}",
                            f"its box is {off * 25.4 / 72:.1f} mm from where {pdf.name} prints it", fix)]
    return []
