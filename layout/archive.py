"""Stage 10: the archive: a PDF/A-3b carrying its sources, the plates as sent, reports, metadata, BagIt.

``archive/<year>/<issue-id>/`` is a BagIt bag (RFC 8493) with SHA-256 and SHA-512 manifests. An
archive is never overwritten: an issue whose inputs changed since it was archived becomes a new
revision beside it (``<issue-id>.r2`` ...); an unchanged one is reported as archived already. Dates
in the bag and the PDF/A come from the issue date, so the same sources give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bagit
from weasyprint import Attachment

from . import __version__, publish
from .build import Project, Session, fit_issue, issue_html_for, issue_lock, stderr_progress
from .compose import Composition
from .errors import ArchiveError, InputError, Problem
from .manifest import find_issue
from .render import WEASYPRINT_VERSION, render

CHECKSUMS = ["sha256", "sha512"]


@dataclass(frozen=True)
class ArchiveResult:
    """Where the archive went, and whether it was new."""

    path: Path
    created: bool


def archive_issue(project: Project, issue_id: str, progress=stderr_progress) -> ArchiveResult:  # type: ignore[no-untyped-def]
    """Archive the composed issue ``issue_id``; its plates must be current and have passed preflight."""
    find_issue(project.issues, issue_id)
    with issue_lock(project, issue_id):
        return _archive_issue(project, issue_id, progress)


def _archive_issue(project: Project, issue_id: str, progress) -> ArchiveResult:  # type: ignore[no-untyped-def]
    session, composition = fit_issue(project, issue_id, progress)
    issue = session.issue
    inputs = session.inputs_hash()
    out = project.build(issue_id)
    plates = out / "plates"
    _check_plates(plates, issue_id, inputs)
    base = project.root / "archive" / str(issue.date.year)
    for existing in sorted(base.glob(f"{issue_id}*")):
        if _archived_inputs(existing / "data" / "metadata.json") == inputs:
            progress(f"already archived, unchanged: {existing}")
            return ArchiveResult(existing, False)
    for leftover in base.glob(f".{issue_id}-*"):  # what a killed archive run left half-made
        shutil.rmtree(leftover, ignore_errors=True)
    target = _next_revision(base, issue_id)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{issue_id}-", dir=base))
    try:
        progress(f"archiving to {target}")
        (staging / "plates").mkdir()
        for plate in sorted(plates.glob("*.pdf")):
            shutil.copy2(plate, staging / "plates" / plate.name)
        for name in ("fit.json", "preflight.json"):
            if not (out / name).is_file():
                raise InputError(f"no {name} for {issue_id}", (Problem(
                    str(out / name), "", "the compose's report is missing", f"run layout compose {issue_id} again"),))
            shutil.copy2(out / name, staging / name)
        (staging / f"{issue_id}-archive.pdf").write_bytes(archive_pdf(session, composition))
        (staging / "metadata.json").write_text(json.dumps(_metadata(session, composition, inputs),
                                                          indent=2, ensure_ascii=False) + "\n")
        _bag(staging, session)
        publish.normal_permissions(staging)  # bagit's data/ is made by mkdtemp: 0700
        publish.rename_new(staging, target)  # never replaces an archive, even an empty folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ArchiveResult(target, True)


def archive_pdf(session: Session, composition: Composition) -> bytes:
    """The whole issue as PDF/A-3b, with the issue's sources embedded as attachments."""
    issue = session.issue
    when = dt.datetime.combine(issue.date, dt.time(0, 0), tzinfo=dt.UTC)
    attachments = []
    for path in [session.settings.source, *sorted(p for p in issue.folder.rglob("*") if p.is_file())]:
        name = str(path.relative_to(session.project.issues))
        attachments.append(Attachment(file_obj=io.BytesIO(path.read_bytes()), name=name,
                                      description=f"source of {issue.issue_id}: {name}",
                                      created=when, modified=when, relationship="Source"))
    html = issue_html_for(session, composition)
    allowed = (issue.folder, session.project.fonts, session.project.stylesheets, session.images)
    document = render(html, issue.folder, allowed, [], session.images)
    return document.write_pdf(pdf_variant="pdf/a-3b", attachments=attachments)


def _check_plates(plates: Path, issue_id: str, inputs: str) -> None:
    whole = plates / f"{issue_id}.pdf"
    if not whole.exists():
        raise InputError(f"no plates to archive for {issue_id}", (Problem(
            str(plates), "", "the issue has no plates that passed preflight",
            f"run layout compose {issue_id} until preflight passes"),))
    from pypdf import PdfReader

    try:
        xmp = PdfReader(whole).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    except Exception:  # noqa: BLE001 - a damaged PDF fails pypdf in any of its ways
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


def _metadata(session: Session, composition: Composition, inputs: str) -> dict:
    issue, paper = session.issue, session.settings
    pages: dict[str, list[int]] = {}
    for fit in composition.slots:
        pages.setdefault(fit.slug, []).append(fit.page)
    return {
        "title": paper.title, "issue_id": issue.issue_id, "date": issue.date.isoformat(),
        "number": issue.number, "volume": issue.volume, "issn": paper.issn,
        "page_count": len(issue.pages),
        "articles": [{"slug": slug, "headline": session.articles[slug].headline, "pages": pages[slug],
                      "sample_copy": session.articles[slug].sample} for slug in issue.slugs],
        "inputs_sha256": inputs, "layout_version": __version__, "weasyprint_version": WEASYPRINT_VERSION,
        "pdfx": paper.pdfx,
    }


def _bag(folder: Path, session: Session) -> None:
    issue = session.issue
    info = {
        "Source-Organization": session.settings.title,
        "External-Description": f"{session.settings.title} No. {issue.number}, {issue.date.isoformat()}: "
                                "print plates, PDF/A-3b with sources, reports",
        "External-Identifier": issue.issue_id,
        "Bagging-Date": issue.date.isoformat(),
        "Bag-Software-Agent": f"layout {__version__} (bagit {bagit.VERSION})",
    }
    bagit.make_bag(str(folder), bag_info=info, checksums=CHECKSUMS)


def verify(path: Path) -> list[str]:
    """Re-check an archive's checksums; return what changed (raises ArchiveError if anything did)."""
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
    return sorted(bag.payload_entries())

