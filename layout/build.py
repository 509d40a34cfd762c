"""The one function that runs the stages in order: settings, manifest, articles, compose, write."""

from __future__ import annotations

import concurrent.futures.process  # BrokenProcessPool: the submodule is loaded only with a pool
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, publish
from .accounting import PlateCopy, copies_from_json, copies_json, copy_of
from .adverts import PlacedAdvert, check_adverts
from .articles import Photo, load_articles
from .cache import code_digest, files_digest, settings_files
from .compose import Composition, Sheet, compose, proof_pages
from .engine import check_version
from .errors import BusyError, InputError, OversetError, PreflightError, Problem, RenderError
from .files import write_atomic
from .fit import fit_json, fit_table
from .images import Preparer
from .jobs import HEIGHT_PREFIXES, PHOTO_SCHEME, Batch, Job, PageResult
from .manifest import Issue, find_issue, load_issue
from .markup import TEMPLATES, Mark, PageView, issue_html, issue_meta, keep_compiled
from .plates import PlateInfo, PlateJob, join, make_plate, weasyprint_variant
from .preflight import Finding, check_issue, report_json, report_table, start_checks
from .proofs import flat_plan_png, mark_pages, page_png, stale_proofs, write_proofs
from .settings import PaperSettings, load_settings
from .versions import WEASYPRINT_VERSION
from .workers import PARENT_ONLY_FILES, PageRenderer, Workers


@dataclass(frozen=True)
class Project:
    """Where the paper's files are: ``issues/``, ``stylesheets/``, ``fonts/`` and ``build/``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.resolve())

    @property
    def issues(self) -> Path:
        """Folder of issue folders (and ``paper.yaml``)."""
        return self.root / "issues"

    @property
    def stylesheets(self) -> Path:
        """The house stylesheets."""
        return self.root / "stylesheets"

    @property
    def fonts(self) -> Path:
        """The paper's fonts (the only fonts used)."""
        return self.root / "fonts"

    def build(self, issue_id: str) -> Path:
        """Output folder of one issue."""
        return self.root / "build" / issue_id


@dataclass(frozen=True)
class BuildResult:
    """What a compose produced."""

    issue: Issue
    composition: Composition
    issue_pdf: Path
    fit_report: Path
    warnings: tuple[str, ...]
    seconds: float
    outputs: tuple[Path, ...] = field(default=())
    laid_out: int = 0
    """Documents (pages and measuring sheets) WeasyPrint laid out in this run."""
    cached: int = 0
    """Documents taken from the per-page cache instead."""
    plates: Path | None = None
    """The folder the plates went to: ``plates/`` if preflight passed, else ``plates-draft/``."""


Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    """Print a stage line on stderr."""
    print(message, file=sys.stderr, flush=True)


def load(project: Project, issue_id: str) -> tuple[PaperSettings, Issue, dict]:
    """Read the paper settings, the issue's manifest and its articles (stages 0-2)."""
    settings = load_settings(project.issues / "paper.yaml")
    folder = find_issue(project.issues, issue_id)
    issue = load_issue(folder, settings)
    articles = load_articles(folder, issue.slugs, project.build(issue_id) / ".cache")
    return settings, issue, articles


@dataclass
class Session:
    """One run's view of an issue: its sources, and the renderer that lays its pages out."""

    project: Project
    settings: PaperSettings
    issue: Issue
    articles: dict
    renderer: PageRenderer
    photos: Preparer = field(default_factory=Preparer)
    """Photos prepared for print this run (on threads: ``lay_out`` waits for them)."""
    adverts: dict[str, bytes] = field(default_factory=dict)
    """The supplied adverts' PDFs, preflighted, by slot id."""

    @property
    def images(self) -> Path:
        """Where prepared photos go."""
        return self.project.build(self.issue.issue_id) / "images"

    def lay_out(self, sheets: list[Sheet], pdf: bool) -> list[PageResult]:
        """Lay out documents of pages (see ``compose.Layouter``); PDFs are written as PDF/X.

        A document's cache key is made from what its HTML is made from (the pages' views, the issue,
        the settings, the metadata, the mode; the templates are among the renderer's static files),
        so the HTML is made only for the documents not in the cache. The galley sheets of one page
        that are not in the cache are laid out as one document (see ``_galley_batches``)."""
        self.photos.wait()  # the prepared photos' bytes are in the documents' keys
        meta = issue_meta(self.issue, self.settings, WEASYPRINT_VERSION)
        css = _house_stylesheets(self.project)
        allowed = _readable(self.project, self.issue.folder, self.issue.issue_id)
        variant = weasyprint_variant(self.settings)
        jobs = [Job("", str(self.issue.folder), allowed, self.settings.leading,
                    None if mode == "galley" else variant, pdf, str(self.images), css,
                    tuple(item.slot_id for view in views for item in view.slots if item.blocks)
                    if mode == "galley" else ())
                for views, mode, height in sheets]
        context = repr((self.issue, self.settings, meta, files_digest(settings_files(self.settings)))).encode()
        sources = []
        for views, mode, height in sheets:
            digest = hashlib.sha256(repr((views, mode, height)).encode() + context)
            for photo in (p for view in views for item in view.slots
                          for p in (*item.photos, *(inset.photo for inset in item.insets))):
                digest.update(hashlib.sha256(self.images.joinpath(photo.src.split(":", 1)[1]).read_bytes()).digest())
            sources.append(digest.hexdigest())

        def html(views: list[PageView], mode: str, height: float | None) -> str:
            return issue_html(views, self.issue, self.settings, meta, [], mode, height)

        def plan(indices: list[int]) -> list[Batch]:
            galleys = [i for i in indices if sheets[i][1] == "galley"]
            alone = [Batch([i], replace(jobs[i], html=html(*sheets[i]))) for i in indices if sheets[i][1] != "galley"]
            return alone + _galley_batches(sheets, jobs, galleys, html)

        return self.renderer.run(jobs, sources, plan)

    def photo_src(self, photo: Photo, width: float, height: float) -> str:
        """Prepare ``photo`` for its placed size (greyscale, resampled) and return its URL."""
        path = self.photos.start(photo, width, height, self.images, self.settings, self.photo_article(photo))
        return f"{PHOTO_SCHEME}:{path.name}"

    def photo_article(self, photo: Photo) -> str:
        """The slugs of the articles that run ``photo`` (named in preflight's findings on it)."""
        return ", ".join(slug for slug, article in self.articles.items()
                         if any(p.path == photo.path for p in article.photos))


    def inputs_hash(self) -> str:
        """SHA-256 of every input: settings, manifest, articles, images, stylesheets, fonts, versions."""
        digest = hashlib.sha256(f"layout {__version__} weasyprint {WEASYPRINT_VERSION} "
                                f"{files_digest(settings_files(self.settings))}".encode())
        files = [self.settings.source, *sorted(p for p in self.issue.folder.rglob("*") if p.is_file())]
        for folder in (self.project.stylesheets, self.project.fonts):
            files += sorted(p for p in folder.rglob("*") if p.is_file())
        for path in files:
            digest.update(str(path.relative_to(self.project.root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()


def _galley_batches(sheets: list[Sheet], jobs: list[Job], indices: list[int],
                    html: Callable[[list[PageView], str, float | None], str]) -> list[Batch]:
    """The galley sheets ``indices`` (each of one page, holding one galley or one top matter), laid
    out as one document a page: one layout's start-up a page, not one a story. Each galley is
    written as a PDF of its own, so what shares its document never changes its bytes."""
    pages: dict[tuple, list[int]] = {}
    for index in indices:
        views, _, height = sheets[index]
        pages.setdefault((views[0].number, views[0].template, height), []).append(index)
    batches = []
    for (number, template, height), members in pages.items():
        items = [item for index in members for item in sheets[index][0][0].slots]
        view = PageView(number, template, 0, tuple(items))
        job = replace(jobs[members[0]], html=html([view], "galley", height),
                      galleys=tuple(item.slot_id for item in items if item.blocks))
        batches.append(Batch(members, job, functools.partial(_split_sheet, [sheets[i][0][0] for i in members])))
    return batches


def _split_sheet(views: list[PageView], result: PageResult) -> list[PageResult]:
    """A galley document's result, one a sheet of ``views``: its galley (a sheet of a body), or its
    top matter's heights (a sheet of a slot without its body). A slot's two sheets share its id."""
    out = []
    for view in views:
        bodies = {item.slot_id for item in view.slots if item.blocks}
        measured = {prefix + item.slot_id for prefix in HEIGHT_PREFIXES for item in view.slots if not item.blocks}
        out.append(PageResult(
            {key: value for key, value in result.heights.items()
             if key in measured or key.split("--")[0] in measured}, None, result.warnings,
            {key: galley for key, galley in result.galleys.items() if key in bodies},
            {key: pdf for key, pdf in result.galley_pdfs.items() if key in bodies}))
    return out


def _house_stylesheets(project: Project) -> tuple[str, ...]:
    """The stylesheets every document is laid out with."""
    return (str(project.stylesheets / "newspaper.css"),)


def _readable(project: Project, folder: Path, issue_id: str) -> tuple[str, ...]:
    """The folders WeasyPrint may read: the issue's, fonts, stylesheets and the prepared photos."""
    return tuple(str(p) for p in (folder, project.fonts, project.stylesheets, project.build(issue_id) / "images"))


def open_session(project: Project, issue_id: str, workers: int | None = None, shared: Workers | None = None,
                 progress: Progress | None = None) -> Session:
    """Start a page renderer (in a new process its workers warm up meanwhile), then read the paper
    settings, the manifest and the articles. The caller closes the session's renderer."""
    check_version()
    if progress is not None:
        progress(f"[1/5] reading {issue_id}: paper settings, manifest, articles")
    folder = find_issue(project.issues, issue_id)
    static = tuple(sorted(p for d in (project.stylesheets, project.fonts, TEMPLATES) for p in d.rglob("*")
                          if p.is_file()))
    cache = project.build(issue_id) / ".cache"
    keep_compiled(cache / "templates")
    renderer = PageRenderer(cache, static, workers,
                            (_house_stylesheets(project), _readable(project, folder, issue_id), str(cache)), shared)
    try:
        settings, issue, articles = load(project, issue_id)
        adverts = check_adverts(issue, settings)
    except BaseException:
        renderer.close()
        raise
    return Session(project, settings, issue, articles, renderer, adverts=adverts)


def fit_issue(project: Project, issue_id: str, progress: Progress = stderr_progress,
              strict: bool = False) -> tuple[Session, Composition]:
    """Read and compose the issue; return the session (its workers stopped) and the composition
    (nothing is written but the cache)."""
    session = open_session(project, issue_id, progress=progress)
    try:
        return session, _fit(session, progress, strict)
    finally:
        session.renderer.close()


def _fit(session: Session, progress: Progress, strict: bool) -> Composition:
    """Compose the session's issue (its workers stay up, for the plates)."""
    issue, project = session.issue, session.project
    progress(f"[2/5] composing {len(issue.pages)} pages, {len(session.articles)} articles "
             f"on {session.renderer.workers} cores")
    composition = compose(issue, session.settings, session.articles, session.lay_out, session.photo_src)
    session.photos.wait()  # any photo started after the last layout (none, as compose goes now)
    fonts = sorted({m[1] for w in composition.warnings if (m := re.search(r"Font-face '(.+?)' cannot be loaded", w))})
    if fonts:
        raise RenderError(f"font(s) could not be loaded: {', '.join(fonts)}", tuple(Problem(
            _shown(project, project.stylesheets / "newspaper.css"), f"@font-face {name}",
            "the font file is missing, damaged or not a font (WeasyPrint would silently use another face)",
            "point src: at a TrueType or OpenType file in fonts/") for name in fonts))
    if strict and composition.warnings:
        raise RenderError("WeasyPrint reported problems (strict mode)", tuple(
            Problem("(layout)", "", w, "fix the stylesheet or source") for w in composition.warnings))
    return composition


def issue_html_for(session: Session, pages: list[PageView] | Composition, mode: str = "full") -> str:
    """Return the HTML of composed ``pages`` as one document, with each body in a multi-column frame
    (the one-pass HTML: the benchmark's naive baseline)."""
    views = list(pages.pages) if isinstance(pages, Composition) else pages
    return issue_html(views, session.issue, session.settings,
                      issue_meta(session.issue, session.settings, WEASYPRINT_VERSION),
                      [Path(sheet).as_uri() for sheet in _house_stylesheets(session.project)], mode)


@contextlib.contextmanager
def issue_lock(project: Project, issue_id: str) -> Iterator[None]:
    """Hold the issue's lock: a second run on the same issue refuses at once, never interleaves.

    The lock is an advisory ``flock`` on ``build/<issue>/.lock``: the kernel drops it when the
    process ends, however it ends, so a killed run never leaves the issue locked.
    """
    out = project.build(issue_id)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BusyError(f"{issue_id} is being composed by another layout run ({holder})", (Problem(
                _shown(project, out), "", "two runs on one issue would mix their outputs",
                "wait for the other run to finish (or stop it), then run again"),)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        _clean_leftovers(out)
        PARENT_ONLY_FILES.add(handle.fileno())
        try:
            yield
        finally:
            PARENT_ONLY_FILES.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clean_leftovers(out: Path) -> None:
    """Put back what a crash left aside and remove what it left half-done (see ``publish.clean``)."""
    publish.clean(out)


def compose_issue(project: Project, issue_id: str, progress: Progress = stderr_progress,
                  strict: bool = False, plates: bool = True, shared: Workers | None = None) -> BuildResult:
    """Compose ``issue_id``: issue PDF, proofs, fit report and (unless ``plates`` is False) preflighted
    plates; fail on overset or preflight after writing what helps to fix it. One run an issue at a time.
    ``shared``: worker processes kept from run to run (``layout watch``)."""
    find_issue(project.issues, issue_id)
    with issue_lock(project, issue_id):
        return _compose_issue(project, issue_id, progress, strict, plates, shared)


def _compose_issue(project: Project, issue_id: str, progress: Progress, strict: bool, plates: bool,
                   shared: Workers | None) -> BuildResult:
    started = time.monotonic()
    session = open_session(project, issue_id, shared=shared, progress=progress)
    try:
        return _write_issue(project, issue_id, progress, plates, started, session, _fit(session, progress, strict))
    except concurrent.futures.process.BrokenProcessPool as exc:  # making plates, proofs or checks
        raise session.renderer.worker_died() from exc
    finally:
        session.renderer.close()


def plate_jobs(session: Session, composition: Composition, inputs: str) -> list[PlateJob]:
    """What each plate is made from, named by the hash of its own inputs (so an unchanged page's
    plate is never made twice, and its bytes do not change when another page does)."""
    issue, settings = session.issue, session.settings
    files = files_digest(settings_files(settings))
    jobs = []
    for number, (page, pieces) in enumerate(zip(composition.page_pdfs, composition.pieces), start=1):
        galleys = tuple(composition.galleys[key] for key in dict.fromkeys(p.galley for p in pieces))
        ads = composition.adverts[number - 1] if composition.adverts else ()
        adverts = tuple(PlacedAdvert(session.adverts[a.slot_id], a.x, a.y, a.width, a.height) for a in ads)
        key = hashlib.sha256((PlateJob.key(page, pieces, galleys, PlateInfo(issue, settings, "", number), adverts)
                              + files).encode()).hexdigest()  # and the bytes of the files settings name
        jobs.append(PlateJob(page, pieces, galleys, PlateInfo(issue, settings, key, number), adverts))
    return jobs


@dataclass(frozen=True)
class ProofJob:
    """A plate to make, and the proof marks (overset, holes) to draw on its proof."""

    plate: PlateJob
    marks: tuple[Mark, ...]

    @property
    def key(self) -> str:
        """The plate's inputs and the marks."""
        return hashlib.sha256(f"{self.plate.info.inputs} {self.marks!r}".encode()).hexdigest()


def _pack(*parts: bytes) -> bytes:
    return b"".join(len(part).to_bytes(8, "big") + part for part in parts)


def _unpack(blob: bytes) -> list[bytes]:
    parts, at = [], 0
    while at < len(blob):
        size = int.from_bytes(blob[at:at + 8], "big")
        parts.append(blob[at + 8:at + 8 + size])
        at += 8 + size
    return parts


def _plate_and_proof(job: ProofJob) -> bytes:
    """A plate and its proof PDF (with marks, if any; runs in a page worker). The proof's PNG is
    rendered later, beside the preflight, and only if the proof changed."""
    plate = make_plate(job.plate)
    return _pack(plate, mark_pages((plate,), [job.marks])[0] if job.marks else b"")


def _flat_plan(job: tuple[dict, tuple[float, float], Path]) -> bytes:
    """The flat plan's PNG (runs in a page worker): ``job`` is the fit report, trim and fonts."""
    return flat_plan_png(*job)


def _write_issue(project: Project, issue_id: str, progress: Progress, plates: bool, started: float,
                 session: Session, composition: Composition) -> BuildResult:
    out = project.build(issue_id)
    progress(f"[3/5] writing {_shown(project, out)} ({session.renderer.misses} pages laid out, "
             f"{session.renderer.hits} from the cache)")
    inputs = session.inputs_hash()
    marked = proof_pages(composition, session.settings)
    jobs = [ProofJob(plate, page.marks) for plate, page in zip(plate_jobs(session, composition, inputs), marked)]
    # The plates' own keys name their sources (they are the inputsSHA256 and IDs in each plate, so the
    # same sources give the same bytes whatever the code's version); what is cached by them is also
    # keyed by the code, so that a new version of layout never reads what an older one made.
    code = code_digest()
    salted = [hashlib.sha256(f"{code} {j.key}".encode()).hexdigest() for j in jobs]
    plated = session.renderer.cached("proofed", salted, _plate_and_proof, jobs)  # the new ones
    fit = fit_json(composition)
    trim = (session.settings.trim_width, session.settings.trim_height)
    plan_key = hashlib.sha256(f"{session.renderer.static_key} {trim}".encode() + fit).hexdigest()
    plan = session.renderer.cached(  # drawn on a worker while the plates are made, if the fit changed
        "flatplan", [plan_key], _flat_plan, [(json.loads(fit), trim, project.fonts)])
    _keep_previous(out)
    made = [_unpack(blob) for blob in plated()]
    staged = _stage_plates(out, issue_id, [plate for plate, _ in made]) if plates else None
    try:
        return _finish_issue(project, issue_id, progress, started, session, composition, made, staged, inputs,
                             [hashlib.sha256(f"{code} {job.plate.info.inputs}".encode()).hexdigest() for job in jobs],
                             fit, plan)
    finally:
        if staged is not None:
            shutil.rmtree(staged[0], ignore_errors=True)


def _finish_issue(project: Project, issue_id: str, progress: Progress, started: float, session: Session,
                  composition: Composition, made: list[list[bytes]], staged: tuple[Path, list[Path]] | None,
                  inputs: str, keys: list[str], fit: bytes, plan: Callable[[], list[bytes]]) -> BuildResult:
    """Write the issue, its fit report, flat ``plan`` and proofs while the plates are preflighted;
    publish the plates."""
    issue, settings = session.issue, session.settings
    warnings = list(composition.warnings) + list(composition.notes)
    out = project.build(issue_id)
    pages = [plate for plate, _ in made]
    report = out / "fit.json"
    proof_pdfs = tuple(marks or plate for plate, marks in made)
    # The plates' checks and the changed proofs' PNGs go to the workers now, from this thread (from
    # another, they waited for this one to be done joining the issue, which holds the GIL).
    copies = copy_of(composition, settings)  # what each plate must show (see accounting.py)
    checks = start_checks(staged[1], settings, json.loads(fit), out / ".cache", keys,
                          session.renderer.submit, copies) if staged else None
    if staged is not None:
        publish.write_file(staged[0] / "copy.json", copies_json(copies))  # published with the plates
    stale = stale_proofs(proof_pdfs, out / "proofs")  # only these are rendered again
    pngs = [session.renderer.submit(page_png, proof_pdfs[index]) for index in stale]
    with concurrent.futures.ThreadPoolExecutor(1) as background:
        checked = background.submit(checks.result) if checks is not None else None  # Ghostscript, if needed
        proof = out / f"{issue_id}-proof.pdf"
        # Joined here while the workers check plates and draw proofs (on a worker, the proof waited
        # for them to be done).
        whole = join(tuple(pages), PlateInfo(issue, settings, inputs))
        pdf = out / f"{issue_id}.pdf"
        write_atomic(pdf, whole)
        write_atomic(report, fit)
        if any(marks for _, marks in made):  # a page with proof marks
            write_atomic(proof, join(proof_pdfs))
        elif proof.exists():
            proof.unlink()
        write_atomic(out / "text.json", json.dumps(slot_texts(composition), indent=1, ensure_ascii=False).encode())
        proofs = publish.staged_copy(out / "proofs")  # published whole, with the flat plan
        try:
            write_proofs(proof_pdfs, proofs, {index: png.result() for index, png in zip(stale, pngs)})
            write_atomic(proofs / "flatplan.png", plan()[0])
            publish.replace_folder(proofs, out / "proofs")
        finally:
            shutil.rmtree(proofs, ignore_errors=True)
        progress("[4/5] fit report\n" + fit_table(composition))
        findings: list[Finding] = []
        plate_dir = None
        if staged is not None and checked is not None:
            progress("[5/5] preflight")
            findings = checked.result()
            plate_dir = _publish_plates(out, staged[0], issue_id, whole, findings, inputs)
            progress(report_table(findings))
        if mark_stale_plates(out, inputs):
            warnings.append(f"{_shown(project, out / 'plates')} holds print plates made from older sources: "
                            f"marked {STALE_NOTE}; do not send them")
    result = BuildResult(issue, composition, pdf, report, tuple(warnings), time.monotonic() - started,
                         (pdf, report), session.renderer.misses, session.renderer.hits, plate_dir)
    if composition.overset:
        overset = OversetError(
            f"{len(composition.overset)} article(s) overset: the issue PDF ({_shown(project, pdf)}) and the marked "
            f"proof ({_shown(project, out / (issue_id + '-proof.pdf'))}) were written, but these do not fit",
            tuple(Problem(_shown(project, issue.manifest), s.place or f"page {s.page}: {s.slug}",
                          s.over_words or f"{s.over} line(s) over",
                          "see the fit report's suggestions: cut the copy, give the slot more depth or "
                          "columns, or jump it to a later page (jump: N)") for s in composition.overset))
        overset.composition = composition  # type: ignore[attr-defined]  (watch prints its summary)
        raise overset
    errors = [f for f in findings if not f.ok]
    if errors:
        raise PreflightError(
            f"preflight failed: {len(errors)} problem(s); the plates are in {_shown(project, plate_dir)}, "
            "not in plates/", tuple(Problem(f.plate, f.check, f.message, PREFLIGHT_FIXES.get(f.check, ""))
                                    for f in errors))
    return result


PREFLIGHT_FIXES = {
    "colour": "use device-cmyk() colours in stylesheets and greyscale or CMYK images",
    "image resolution": "use a larger original of the photo, or place it smaller (the finding names it)",
    "fonts": "use only the fonts in fonts/ through @font-face",
    "total ink": "lighten the colour build: the paper's ink limit is in issues/paper.yaml (ink_limit)",
    "type size": "set no type below the paper's min_type_size (7 pt; reversed type min_reversed_type_size, 8 pt)",
    "hairlines": "draw no rule thinner than the paper's min_rule_width (0.25 pt); 0.5 pt or more holds on newsprint",
    "trapped": "the plates must say /Trapped True or False: remake them with layout compose",
    "actions": "remove links, JavaScript and actions (from stylesheets, templates or supplied PDFs)",
    "registration marks": "crop_marks: true draws them; remake the plates with layout compose",
    "photo tones": "remake the plates with layout compose: photos are prepared to photo_highlight..photo_shadow",
    "imprint": "set the real printer's and publisher's names and addresses under imprint: in issues/paper.yaml",
    "transparency": "remove opacity and transparent images: PDF/X-1a allows no transparency",
    "page boxes": "check trim and bleed in issues/paper.yaml",
    "overset": "make the overset copy fit (see the fit report)",
    "checksums": "compose the issue again: a file in the plates folder was changed or damaged after it was written",
    "copy": "shorten the headline or give the slot more columns; check the article's Markdown there and the "
            "page's slots in the manifest (if they look right, it is a bug in layout: report it)",
}


def slot_texts(composition: Composition) -> dict[str, str]:
    """The text of every slot as it was set (for ``layout diff``)."""
    return {item.slot_id: " ".join(b.text for b in item.blocks) for page in composition.pages for item in page.slots}


def _keep_previous(out: Path) -> None:
    """Keep the last round's fit report, text and proofs in ``previous/`` for ``layout diff``."""
    if not (out / "fit.json").exists():
        return
    previous = publish.staging(out / "previous")  # published whole
    try:
        for name in ("fit.json", "text.json"):
            if (out / name).exists():
                shutil.copy2(out / name, previous / name)
        if (out / "proofs").is_dir():
            shutil.copytree(out / "proofs", previous / "proofs")
        publish.replace_folder(previous, out / "previous")
    finally:
        shutil.rmtree(previous, ignore_errors=True)


def _stage_plates(out: Path, issue_id: str, plates: list[bytes]) -> tuple[Path, list[Path]]:
    """Write the plates to a staging folder (for preflight); ``_publish_plates`` puts it in place."""
    staging = publish.staging(out / "plates")
    paths = []
    for number, data in enumerate(plates, start=1):
        paths.append(staging / f"{issue_id}-p{number:02d}.pdf")
        publish.write_file(paths[-1], data)
    return staging, paths


STALE_NOTE = "STALE.txt"
SOURCES_FILE = "SOURCES.sha256"


def mark_stale_plates(out: Path, inputs: str) -> bool:
    """Mark ``plates/`` stale (a STALE.txt inside) when the sources have changed since its plates were
    made and this compose did not replace them; return True if it is stale."""
    plates = out / "plates"
    if not plates.is_dir():
        return False
    made_from = (plates / SOURCES_FILE).read_text().strip() if (plates / SOURCES_FILE).is_file() else ""
    if made_from == inputs:
        (plates / STALE_NOTE).unlink(missing_ok=True)
        return False
    write_atomic(plates / STALE_NOTE, (
        b"STALE: these print plates were made from sources that have changed since.\n"
        b"The last compose did not pass (overset copy or preflight), so they were not replaced.\n"
        b"Do not send them to the printer: fix what the last compose reported and compose again;\n"
        b"its pages are in ../plates-draft/ (draft plates) and ../*-proof.pdf (marked proof).\n"))
    return True


def _publish_plates(out: Path, staging: Path, issue_id: str, whole: bytes, findings: list[Finding],
                    inputs: str = "") -> Path:
    """Publish the staged plates to plates/ if preflight passed, else to plates-draft/."""
    try:
        publish.write_file(staging / f"{issue_id}.pdf", whole)
        publish.write_file(staging / SOURCES_FILE, (inputs + "\n").encode())
        passed = all(f.ok for f in findings)
        publish.write_file(staging / "preflight.json", report_json(findings))
        write_atomic(out / "preflight.json", report_json(findings))
        target = out / ("plates" if passed else "plates-draft")
        publish.write_sums(staging)  # so that a plate damaged later is known to be (check, archive)
        publish.replace_folder(staging, target)
        if passed:
            shutil.rmtree(out / "plates-draft", ignore_errors=True)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_issue_plates(project: Project, issue_id: str) -> tuple[list[Finding], Path]:
    """Preflight the plates already written for ``issue_id`` (``layout check``)."""
    settings = load_settings(project.issues / "paper.yaml")
    find_issue(project.issues, issue_id)
    out = project.build(issue_id)
    # plates/, or the old set a crash between two renames left aside (see publish.py), or the drafts
    folder = next((out / name for name in ("plates", ".plates.old", "plates-draft") if (out / name).is_dir()), None)
    if folder is None:
        raise InputError(f"no plates for {issue_id} yet", (Problem(
            _shown(project, out), "", "nothing has been composed", f"run: layout compose {issue_id}"),))
    plates = sorted(folder.glob(f"{issue_id}-p*.pdf"))
    if not plates:
        raise InputError(f"no plates in {_shown(project, folder)}", (Problem(
            _shown(project, folder), "", "the folder holds no plate", f"run: layout compose {issue_id}"),))
    fit = None
    if (out / "fit.json").exists():
        try:
            fit = json.loads((out / "fit.json").read_bytes())
        except (ValueError, UnicodeError):
            fit = None
        if not isinstance(fit, dict) or not isinstance(fit.get("overset", []), list):
            raise InputError(f"{_shown(project, out / 'fit.json')} is damaged", (Problem(
                _shown(project, out / "fit.json"), "", "it is not the fit report layout writes",
                f"run: layout compose {issue_id} (it writes the fit report again)"),))
    copies = _expected_copy(folder / "copy.json", len(plates))
    findings = check_issue(plates, settings, fit, copies=copies)
    changed = publish.changed_files(folder)
    if changed is not None:
        findings.append(Finding(publish.SUMS, "checksums", not changed,
                                f"changed since they were composed: {', '.join(changed)}" if changed else
                                "every file as it was composed"))
    write_atomic(out / "preflight.json", report_json(findings))
    return findings, folder


def _expected_copy(path: Path, plates: int) -> list[PlateCopy] | None:
    """What the plates beside ``path`` must show (written with them), if it is there and whole."""
    if not path.exists():
        return None
    try:
        copies = copies_from_json(path.read_bytes())
    except (ValueError, UnicodeError):
        raise InputError(f"{path} is damaged", (Problem(str(path), "", "it is not the copy account layout "
                         "writes with the plates", "compose the issue again"),)) from None
    return copies if len(copies) == plates else None


def _shown(project: Project, path: Path) -> str:
    return str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path)
