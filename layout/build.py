"""The sequencer: the one place that runs the stages of a compose in order (see ``stages.py``).

``compose_issue`` reads as the stage table does: ``open_run`` reads the sources (stage 1) and starts
the worker processes, then each stage is a function of the run and of the stage before's result.
A ``Run`` holds what every stage needs (project, options, sources, renderer with its cache and
workers, log), so that no stage takes more than the run and one result."""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, publish
from .accounting import PlateCopy, copies_from_json, copies_json, copy_of
from .adverts import PlacedAdvert, check_adverts
from .articles import Article, Photo, load_articles
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
from .preflight import Checks, Finding, check_issue, report_json, report_table, start_checks
from .proofs import flat_plan_png, mark_pages, page_png, stale_proofs, write_proofs
from .settings import PaperSettings, load_settings
from .stages import COMPOSE, FIT, LOG, PREFLIGHT, READ, WRITE, Meter, running
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


# ---- The sequence ---------------------------------------------------------------------------------


def compose_issue(project: Project, issue_id: str, *, strict: bool = False, plates: bool = True,
                  shared: Workers | None = None) -> BuildResult:
    """Compose ``issue_id``: issue PDF, proofs, fit report and (unless ``plates`` is False) preflighted
    plates; fail on overset or preflight after writing what helps to fix it. One run an issue at a time.
    ``strict``: fail on WeasyPrint's warnings. ``shared``: worker processes kept from run to run
    (``layout watch``)."""
    find_issue(project.issues, issue_id)
    with issue_lock(project, issue_id):
        return _compose_issue(project, issue_id, Options(strict, plates), shared)


def _compose_issue(project: Project, issue_id: str, options: Options, shared: Workers | None) -> BuildResult:
    with open_run(project, issue_id, options, shared) as run:  # stage 1: reading
        composition = compose_pages(run)                       # stage 2: composing
        written = write_issue(run, composition)                # stage 3: writing
        report_fit(run, written)                               # stage 4: fit report
        checked = preflight_plates(run, written)               # stage 5: preflight
        return verdict(run, written, checked)


def fit_issue(project: Project, issue_id: str, strict: bool = False) -> tuple[Run, Composition]:
    """Read and compose the issue (stages 1 and 2); return the run (its workers stopped) and the
    composition (nothing is written but the cache)."""
    with open_run(project, issue_id, Options(strict, plates=False)) as run:
        return run, compose_pages(run)


# ---- The run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """How a run goes (the command line's options)."""

    strict: bool = False
    """Fail on any WeasyPrint warning (bad CSS, missing glyph)."""
    plates: bool = True
    """Make, preflight and publish the plates (``layout proof``: False, proofs only)."""


@dataclass(frozen=True)
class Sources:
    """Stage 1's result: what the issue is made from."""

    settings: PaperSettings
    issue: Issue
    articles: dict[str, Article]
    adverts: dict[str, bytes]
    """The supplied adverts' PDFs, preflighted, by slot id."""


@dataclass(frozen=True)
class Run:
    """One run on one issue: its project, options and sources, the renderer that lays its pages out
    (with the page cache and the worker processes), the log the stages report to, and what to undo
    when the run ends (``cleanup``: the workers stopped, staging folders removed)."""

    project: Project
    options: Options
    sources: Sources
    renderer: PageRenderer
    started: float
    """``time.monotonic()`` when the run began."""
    cleanup: contextlib.ExitStack
    log: logging.Logger = LOG
    photos: Preparer = field(default_factory=Preparer)
    """Photos prepared for print this run (on threads: ``lay_out`` waits for them)."""
    meter: Meter = field(default_factory=lambda: Meter(COMPOSE, "documents laid out"))

    @property
    def settings(self) -> PaperSettings:
        """The paper settings."""
        return self.sources.settings

    @property
    def issue(self) -> Issue:
        """The issue's manifest."""
        return self.sources.issue

    @property
    def articles(self) -> dict[str, Article]:
        """The issue's articles, by slug."""
        return self.sources.articles

    @property
    def out(self) -> Path:
        """The issue's output folder."""
        return self.project.build(self.issue.issue_id)

    @property
    def images(self) -> Path:
        """Where prepared photos go."""
        return self.out / "images"

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

        def html(views: list[PageView], mode: str, height: float | None) -> str:
            return issue_html(views, self.issue, self.settings, meta, [], mode, height)

        def plan(indices: list[int]) -> list[Batch]:
            galleys = [i for i in indices if sheets[i][1] == "galley"]
            alone = [Batch([i], replace(jobs[i], html=html(*sheets[i]))) for i in indices if sheets[i][1] != "galley"]
            return self._counted(alone + _galley_batches(sheets, jobs, galleys, html))

        return self.renderer.run(jobs, self._document_keys(sheets, meta), plan)

    def _document_keys(self, sheets: list[Sheet], meta: dict) -> list[str]:
        """What each sheet's HTML is made from, hashed: its views, the issue, settings, metadata and the
        files the settings name, and the bytes of its prepared photos."""
        context = repr((self.issue, self.settings, meta, files_digest(settings_files(self.settings)))).encode()
        keys = []
        for views, mode, height in sheets:
            digest = hashlib.sha256(repr((views, mode, height)).encode() + context)
            for photo in (p for view in views for item in view.slots
                          for p in (*item.photos, *(inset.photo for inset in item.insets))):
                digest.update(hashlib.sha256(self.images.joinpath(photo.src.split(":", 1)[1]).read_bytes()).digest())
            keys.append(digest.hexdigest())
        return keys

    def _counted(self, batches: list[Batch]) -> list[Batch]:
        """``batches``, each counted by the run's meter as its document comes back laid out."""
        self.meter.expect(len(batches))

        def counted(split: Callable[[PageResult], list[PageResult]], result: PageResult) -> list[PageResult]:
            self.meter.tick()
            return split(result)
        return [replace(batch, split=functools.partial(counted, batch.split)) for batch in batches]

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

    def shown(self, path: Path) -> str:
        """``path`` as messages name it (relative to the project)."""
        return _shown(self.project, path)


@contextlib.contextmanager
def open_run(project: Project, issue_id: str, options: Options = Options(),  # noqa: B008 - frozen
             shared: Workers | None = None) -> Iterator[Run]:
    """Start the page renderer (in a new process its workers warm up meanwhile) and read the sources
    (stage 1); stop the workers, and undo what the run left half-done, when the run ends."""
    check_version()
    started = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        with running(READ, f"{issue_id}: paper settings, manifest, articles"):
            renderer = _start_renderer(project, issue_id, shared)
            cleanup.callback(renderer.close)
            sources = read_sources(project, issue_id)
        try:
            yield Run(project, options, sources, renderer, started, cleanup)
        except concurrent.futures.process.BrokenProcessPool as exc:  # making plates, proofs or checks
            raise renderer.worker_died() from exc


def _start_renderer(project: Project, issue_id: str, shared: Workers | None) -> PageRenderer:
    """The renderer of the issue's pages: its cache, its static files (stylesheets, fonts, templates)
    and its workers (``shared``, or its own), warmed up with the stylesheets and readable folders."""
    folder = find_issue(project.issues, issue_id)
    static = tuple(sorted(p for d in (project.stylesheets, project.fonts, TEMPLATES) for p in d.rglob("*")
                          if p.is_file()))
    cache = project.build(issue_id) / ".cache"
    keep_compiled(cache / "templates")
    return PageRenderer(cache, static, None,
                        (_house_stylesheets(project), _readable(project, folder, issue_id), str(cache)), shared)


# ---- Stage 1: reading -----------------------------------------------------------------------------


def read_sources(project: Project, issue_id: str) -> Sources:
    """Read the paper settings, the issue's manifest and its articles; preflight the supplied adverts."""
    settings = load_settings(project.issues / "paper.yaml")
    folder = find_issue(project.issues, issue_id)
    issue = load_issue(folder, settings)
    articles = load_articles(folder, issue.slugs, project.build(issue_id) / ".cache")
    return Sources(settings, issue, articles, check_adverts(issue, settings))


# ---- Stage 2: composing ---------------------------------------------------------------------------


def compose_pages(run: Run) -> Composition:
    """Compose the run's issue (its workers stay up, for the plates); fail on fonts that could not be
    loaded, and in strict mode on any warning."""
    with running(COMPOSE, f"{len(run.issue.pages)} pages, {len(run.articles)} articles "
                 f"on {run.renderer.workers} cores"):
        composition = compose(run.issue, run.settings, run.articles, run.lay_out, run.photo_src)
        run.photos.wait()  # any photo started after the last layout (none, as compose goes now)
        _check_warnings(run, composition)
    return composition


def _check_warnings(run: Run, composition: Composition) -> None:
    """Fail on fonts WeasyPrint could not load (it would silently use another face), and in strict
    mode on any of its warnings."""
    fonts = sorted({m[1] for w in composition.warnings if (m := re.search(r"Font-face '(.+?)' cannot be loaded", w))})
    if fonts:
        raise RenderError(f"font(s) could not be loaded: {', '.join(fonts)}", tuple(Problem(
            run.shown(run.project.stylesheets / "newspaper.css"), f"@font-face {name}",
            "the font file is missing, damaged or not a font (WeasyPrint would silently use another face)",
            "point src: at a TrueType or OpenType file in fonts/") for name in fonts))
    if run.options.strict and composition.warnings:
        raise RenderError("WeasyPrint reported problems (strict mode)", tuple(
            Problem("(layout)", "", w, "fix the stylesheet or source") for w in composition.warnings))


# ---- Stage 3: writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """The plates made (on the workers) and their proofs."""

    plates: tuple[bytes, ...]
    proofs: tuple[bytes, ...]
    """Each page's proof: its plate with the proof marks (overset, holes), or the plate if it has none."""
    marked: bool
    """Whether any page has proof marks (then the marked proof PDF is written)."""
    keys: tuple[str, ...]
    """Each plate's key for its checks (the hash of its own inputs, and of the code)."""
    flat_plan: Callable[[], list[bytes]]
    """What gives the flat plan's PNG (drawn on a worker while the plates are made)."""


@dataclass(frozen=True)
class Staged:
    """The plates written to a staging folder, for preflight (published by stage 5)."""

    folder: Path
    plates: tuple[Path, ...]


@dataclass(frozen=True)
class Written:
    """Stage 3's result: the issue PDF, text and proofs written; the plates staged, their checks under way."""

    composition: Composition
    inputs: str
    """The hash of every input (``Run.inputs_hash``)."""
    fit: bytes
    """The fit report (``fit.json``)."""
    whole: bytes
    """The issue PDF."""
    pdf: Path
    staged: Staged | None
    """The plates, staged (None: no plates this run)."""
    checks: concurrent.futures.Future[list[Finding]] | None
    """The plates' preflight, running."""


def write_issue(run: Run, composition: Composition) -> Written:
    """Make the plates and proofs (on the workers); start the plates' checks, then, while they run,
    write the issue PDF, its text and the proofs with the flat plan."""
    with running(WRITE, f"{run.shown(run.out)} ({run.renderer.misses} pages laid out, "
                 f"{run.renderer.hits} from the cache)"):
        inputs = run.inputs_hash()
        fit = fit_json(composition)
        made = _make_plates(run, composition, inputs, fit)
        staged = _stage_plates(run, made.plates) if run.options.plates else None
        checks = _start_checks(run, composition, staged, made.keys, fit)
        stale = stale_proofs(made.proofs, run.out / "proofs")  # only these are rendered again
        pngs = [run.renderer.submit(page_png, made.proofs[index]) for index in stale]
        # The plates are checked in the background (Ghostscript, if needed); the issue is joined here
        # meanwhile (on a worker, it waited for them to be done).
        checked = _in_background(run, checks.result) if checks is not None else None
        whole, pdf = _write_issue_pdf(run, composition, made, inputs)
        _write_proofs(run, made, dict(zip(stale, pngs)))
    return Written(composition, inputs, fit, whole, pdf, staged, checked)


def _make_plates(run: Run, composition: Composition, inputs: str, fit: bytes) -> Made:
    """Make every plate and proof not in the cache, and the flat plan, on the workers; keep the last
    round's reports and proofs in ``previous/`` meanwhile."""
    marked = proof_pages(composition, run.settings)
    jobs = [ProofJob(plate, page.marks) for plate, page in zip(plate_jobs(run, composition, inputs), marked)]
    # The plates' own keys name their sources (they are the inputsSHA256 and IDs in each plate, so the
    # same sources give the same bytes whatever the code's version); what is cached by them is also
    # keyed by the code, so that a new version of layout never reads what an older one made.
    code = code_digest()
    salted = [hashlib.sha256(f"{code} {j.key}".encode()).hexdigest() for j in jobs]
    plated = run.renderer.cached("proofed", salted, _plate_and_proof, jobs)  # the new ones
    trim = (run.settings.trim_width, run.settings.trim_height)
    plan_key = hashlib.sha256(f"{run.renderer.static_key} {trim}".encode() + fit).hexdigest()
    plan = run.renderer.cached(  # drawn on a worker while the plates are made, if the fit changed
        "flatplan", [plan_key], _flat_plan, [(json.loads(fit), trim, run.project.fonts)])
    _keep_previous(run.out)
    made = [_unpack(blob) for blob in plated()]
    return Made(tuple(plate for plate, _ in made), tuple(marks or plate for plate, marks in made),
                any(marks for _, marks in made),
                tuple(hashlib.sha256(f"{code} {job.plate.info.inputs}".encode()).hexdigest() for job in jobs), plan)


def _start_checks(run: Run, composition: Composition, staged: Staged | None, keys: tuple[str, ...],
                  fit: bytes) -> Checks | None:
    """Hand the staged plates' checks to the workers now, from this thread (from another, they waited
    for this one to be done joining the issue, which holds the GIL); stage with them what each plate
    must show (``copy.json``, see accounting.py)."""
    if staged is None:
        return None
    copies = copy_of(composition, run.settings)
    checks = start_checks(list(staged.plates), run.settings, json.loads(fit), run.out / ".cache", list(keys),
                          run.renderer.submit, copies)
    publish.write_file(staged.folder / "copy.json", copies_json(copies))  # published with the plates
    return checks


def _in_background(run: Run, function: Callable[[], list[Finding]]) -> concurrent.futures.Future[list[Finding]]:
    """``function()`` on a thread of its own; the run waits for it before it removes its staging folders."""
    background = run.cleanup.enter_context(concurrent.futures.ThreadPoolExecutor(1))
    return background.submit(function)


def _write_issue_pdf(run: Run, composition: Composition, made: Made, inputs: str) -> tuple[bytes, Path]:
    """Join the plates into the issue PDF, and the proofs into the marked proof (if a page has marks);
    write them and the text of every slot."""
    out, issue_id = run.out, run.issue.issue_id
    whole = join(made.plates, PlateInfo(run.issue, run.settings, inputs))
    pdf = out / f"{issue_id}.pdf"
    write_atomic(pdf, whole)
    proof = out / f"{issue_id}-proof.pdf"
    if made.marked:
        write_atomic(proof, join(made.proofs))
    elif proof.exists():
        proof.unlink()
    write_atomic(out / "text.json", json.dumps(slot_texts(composition), indent=1, ensure_ascii=False).encode())
    return whole, pdf


def _write_proofs(run: Run, made: Made, pngs: dict[int, concurrent.futures.Future[bytes]]) -> None:
    """Publish ``proofs/`` whole: a PNG of every page (``pngs``: those that changed, being drawn) and the
    flat plan."""
    proofs = publish.staged_copy(run.out / "proofs")
    try:
        write_proofs(made.proofs, proofs, {index: png.result() for index, png in pngs.items()})
        write_atomic(proofs / "flatplan.png", made.flat_plan()[0])
        publish.replace_folder(proofs, run.out / "proofs")
    finally:
        shutil.rmtree(proofs, ignore_errors=True)


# ---- Stage 4: fit report --------------------------------------------------------------------------


def report_fit(run: Run, written: Written) -> None:
    """Write the fit report and print its table."""
    with running(FIT):
        write_atomic(run.out / "fit.json", written.fit)
        run.log.info(fit_table(written.composition))


# ---- Stage 5: preflight ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """Stage 5's result: the plates' findings, and where the plates went."""

    findings: tuple[Finding, ...] = ()
    plates: Path | None = None
    """``plates/`` if preflight passed, else ``plates-draft/`` (None: no plates this run)."""


def preflight_plates(run: Run, written: Written) -> Checked:
    """Wait for the plates' checks; publish the plates to ``plates/`` if they pass, else to
    ``plates-draft/``, and print the findings (nothing to do in a run without plates)."""
    if written.staged is None or written.checks is None:
        return Checked()
    with running(PREFLIGHT):
        findings = written.checks.result()
        folder = _publish_plates(run, written, findings)
        run.log.info(report_table(findings))
    return Checked(tuple(findings), folder)


def verdict(run: Run, written: Written, checked: Checked) -> BuildResult:
    """Mark plates left from older sources stale; fail on overset copy or failed preflight (after
    writing what helps to fix it), else return what the run made."""
    composition = written.composition
    warnings = list(composition.warnings) + list(composition.notes)
    if mark_stale_plates(run.out, written.inputs):
        warnings.append(f"{run.shown(run.out / 'plates')} holds print plates made from older sources: "
                        f"marked {STALE_NOTE}; do not send them")
    if composition.overset:
        raise _overset(run, written)
    errors = [f for f in checked.findings if not f.ok]
    if errors:
        raise PreflightError(
            f"preflight failed: {len(errors)} problem(s); the plates are in {run.shown(checked.plates)}, "
            "not in plates/", tuple(Problem(f.plate, f.check, f.message, PREFLIGHT_FIXES.get(f.check, ""))
                                    for f in errors))
    return BuildResult(run.issue, composition, written.pdf, run.out / "fit.json", tuple(warnings),
                       time.monotonic() - run.started, (written.pdf, run.out / "fit.json"),
                       run.renderer.misses, run.renderer.hits, checked.plates)


def _overset(run: Run, written: Written) -> OversetError:
    """The error for the overset articles: each by its place, with its words or lines over."""
    composition = written.composition
    overset = OversetError(
        f"{len(composition.overset)} article(s) overset: the issue PDF ({run.shown(written.pdf)}) and the marked "
        f"proof ({run.shown(run.out / (run.issue.issue_id + '-proof.pdf'))}) were written, but these do not fit",
        tuple(Problem(run.shown(run.issue.manifest), s.place or f"page {s.page}: {s.slug}",
                      s.over_words or f"{s.over} line(s) over",
                      "see the fit report's suggestions: cut the copy, give the slot more depth or "
                      "columns, or jump it to a later page (jump: N)") for s in composition.overset))
    overset.composition = composition  # type: ignore[attr-defined]  (watch prints its summary)
    return overset


# ---- What the stages share ------------------------------------------------------------------------


def issue_html_for(run: Run, pages: list[PageView] | Composition, mode: str = "full") -> str:
    """Return the HTML of composed ``pages`` as one document, with each body in a multi-column frame
    (the one-pass HTML: the benchmark's naive baseline)."""
    views = list(pages.pages) if isinstance(pages, Composition) else pages
    return issue_html(views, run.issue, run.settings, issue_meta(run.issue, run.settings, WEASYPRINT_VERSION),
                      [Path(sheet).as_uri() for sheet in _house_stylesheets(run.project)], mode)


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
        publish.clean(out)  # put back what a crash left aside, remove what it left half-done
        PARENT_ONLY_FILES.add(handle.fileno())
        try:
            yield
        finally:
            PARENT_ONLY_FILES.discard(handle.fileno())
            fcntl.flock(handle, fcntl.LOCK_UN)


def plate_jobs(run: Run, composition: Composition, inputs: str) -> list[PlateJob]:
    """What each plate is made from, named by the hash of its own inputs (so an unchanged page's
    plate is never made twice, and its bytes do not change when another page does)."""
    issue, settings = run.issue, run.settings
    files = files_digest(settings_files(settings))
    jobs = []
    for number, (page, pieces) in enumerate(zip(composition.page_pdfs, composition.pieces), start=1):
        galleys = tuple(composition.galleys[key] for key in dict.fromkeys(p.galley for p in pieces))
        ads = composition.adverts[number - 1] if composition.adverts else ()
        adverts = tuple(PlacedAdvert(run.sources.adverts[a.slot_id], a.x, a.y, a.width, a.height) for a in ads)
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


def _stage_plates(run: Run, plates: tuple[bytes, ...]) -> Staged:
    """Write the plates to a staging folder (for preflight; removed when the run ends, if it is still
    there); ``_publish_plates`` puts it in place."""
    staging = publish.staging(run.out / "plates")
    run.cleanup.callback(shutil.rmtree, staging, ignore_errors=True)
    paths = []
    for number, data in enumerate(plates, start=1):
        paths.append(staging / f"{run.issue.issue_id}-p{number:02d}.pdf")
        publish.write_file(paths[-1], data)
    return Staged(staging, tuple(paths))


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


def _publish_plates(run: Run, written: Written, findings: list[Finding]) -> Path:
    """Publish the staged plates, with the issue PDF, to plates/ if preflight passed, else to plates-draft/."""
    assert written.staged is not None
    out, staging = run.out, written.staged.folder
    try:
        publish.write_file(staging / f"{run.issue.issue_id}.pdf", written.whole)
        publish.write_file(staging / SOURCES_FILE, (written.inputs + "\n").encode())
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
