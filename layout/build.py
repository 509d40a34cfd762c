"""The sequencer: the one place that runs the stages of a compose in order (see ``stages.py``).

``compose_issue`` reads as the stage table does: ``open_run`` reads the sources (stage 1) and starts
the worker processes, then each stage is a function of the run and of the stage before's result.
A ``Run`` holds what every stage needs (project, options, sources, renderer with its cache and
workers, log), so that no stage takes more than the run and one result."""

from __future__ import annotations

import concurrent.futures.process  # BrokenProcessPool: the submodule is loaded only with a pool
import contextlib
import functools
import hashlib
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .base import publish
from .base.cache import Store, files_digest, pack, settings_files, unpack
from .base.files import link_atomic, write_atomic, write_changed
from .base.versions import WEASYPRINT_VERSION, check_version
from .composing.compose import Composition, compose, proof_pages
from .composing.fit import fit_json, fit_table
from .composing.images import Preparer
from .composing.markup import TEMPLATES, Mark, PageView, issue_html, issue_meta, keep_compiled
from .errors import OversetError, PreflightError, Problem, RenderError
from .outputs import SOURCES_FILE, STALE_NOTE, issue_lock, keep_previous, mark_stale_plates
from .press.accounting import copies_json, copy_of
from .press.adverts import PlacedAdvert, check_adverts
from .press.plates import Joiner, PlateInfo, PlateJob, join, make_plate
from .press.preflight import Checks, Finding, report_json, report_table, start_checks
from .press.proofs import flat_plan_png, mark_pages, page_png, write_proofs
from .reading.articles import load_articles
from .reading.manifest import Issue, find_issue, load_issue
from .reading.settings import load_settings
from .rendering.workers import PageRenderer, Workers
from .run import Options, Project, Run, Sources, house_stylesheets, readable
from .stages import COMPOSE, FIT, PREFLIGHT, READ, WRITE, running

T = TypeVar("T")


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


def issue_html_for(run: Run, pages: list[PageView] | Composition, mode: str = "full") -> str:
    """Return the HTML of composed ``pages`` as one document, with each body in a multi-column frame
    (the one-pass HTML: the benchmark's naive baseline)."""
    views = list(pages.pages) if isinstance(pages, Composition) else pages
    return issue_html(views, run.issue, run.settings, issue_meta(run.issue, run.settings, WEASYPRINT_VERSION),
                      [Path(sheet).as_uri() for sheet in house_stylesheets(run.project)], mode)


# ---- The run --------------------------------------------------------------------------------------

@contextlib.contextmanager
def open_run(project: Project, issue_id: str, options: Options = Options(),
             shared: Workers | None = None) -> Iterator[Run]:
    """Start the page renderer (in a new process its workers warm up meanwhile) and read the sources
    (stage 1); stop the workers, and undo what the run left half-done, when the run ends."""
    check_version()
    started = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        with running(READ, f"{issue_id}: paper settings, manifest, articles"):
            renderer = _start_renderer(project, issue_id, shared)
            cleanup.callback(renderer.close)  # and the store kept under its cap
            sources = read_sources(project, issue_id, renderer.store)
        try:
            yield Run(project, options, sources, renderer, started, cleanup, photos=Preparer(renderer.store))
        except concurrent.futures.process.BrokenProcessPool as exc:  # making plates, proofs or checks
            raise renderer.worker_died() from exc


def _start_renderer(project: Project, issue_id: str, shared: Workers | None) -> PageRenderer:
    """The renderer of the issue's pages: the build cache (``build/.cache``, shared by the project's
    issues), its static files (stylesheets, fonts, templates) and its workers (``shared``, or its
    own), warmed up with the stylesheets and readable folders."""
    folder = find_issue(project.issues, issue_id)
    static = tuple(sorted(p for d in (project.stylesheets, project.fonts, TEMPLATES) for p in d.rglob("*")
                          if p.is_file()))
    store = Store(project.cache)
    keep_compiled(store)
    recompose = (project.build(issue_id) / "fit.json").exists()  # mostly cached: workers if needed (POOL_JOBS)
    return PageRenderer(store, static, None,
                        (house_stylesheets(project), readable(project, folder, issue_id), store), shared,
                        early=not recompose, root=project.root)


# ---- Stage 1: reading -----------------------------------------------------------------------------

def read_sources(project: Project, issue_id: str, store: Store | None = None) -> Sources:
    """Read the paper settings, the issue's manifest and its articles (what was converted or checked
    before read back from ``store``); preflight the supplied adverts."""
    settings = load_settings(project.issues / "paper.yaml")
    folder = find_issue(project.issues, issue_id)
    issue = load_issue(folder, settings)
    articles = load_articles(folder, issue.slugs, store)
    return Sources(settings, issue, articles, check_adverts(issue, settings))


# ---- Stage 2: composing ---------------------------------------------------------------------------

def compose_pages(run: Run) -> Composition:
    """Compose the run's issue (its workers stay up, for the plates); fail on fonts that could not be
    loaded, and in strict mode on any warning."""
    with running(COMPOSE, f"{len(run.issue.pages)} pages, {len(run.articles)} articles "
                 f"on {run.renderer.workers} cores", run.log):
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
    """Each plate's key for its checks and proof (the hash of its own inputs; the store salts it)."""
    flat_plan: Callable[[], list[bytes]]
    """What gives the flat plan's PNG (drawn on a worker while the plates are made)."""
    pngs: tuple[bytes | None, ...] = ()
    """Each proof's PNG, if it was drawn with its plate (None: the plate came from the cache)."""
    proof_keys: tuple[str, ...] = ()
    """Each proof's key (``ProofJob.key``: its plate's inputs and its marks), for its PNG in the cache."""
    proof_digests: tuple[str, ...] = ()
    """The SHA-256 of each page's proof PDF (of its plate, if it has no marks), hashed where it was made."""
    joined: Joiner | None = None
    """The plates joined as they came (``_write_issue_pdf`` finishes the issue PDF)."""
    joined_proofs: Joiner | None = None
    """The proofs joined as they came, if any page has proof marks (the marked proof PDF)."""
    kept: concurrent.futures.Future[None] | None = None
    """The last round's outputs being kept in ``previous/`` (done before any of them is written again)."""


@dataclass(frozen=True)
class Staged:
    """The plates written to a staging folder, for preflight (published by stage 5)."""

    folder: Path
    plates: tuple[Path, ...]
    digests: dict[str, str] = field(default_factory=dict)
    """The SHA-256 of each staged plate's bytes, by its name (hashed where it was made)."""


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
    """Where the issue PDF was written (synced: ``_publish_plates`` links it into the plates' folder)."""
    whole_digest: str
    """The SHA-256 of the issue PDF (for the plates' ``SHA256SUMS``), hashed as it was written."""
    staged: Staged | None
    """The plates, staged (None: no plates this run)."""
    checks: concurrent.futures.Future[list[Finding]] | None
    """The plates' preflight, running."""


def write_issue(run: Run, composition: Composition) -> Written:
    """Make the plates and proofs (on the workers); start the plates' checks, then, while they run,
    write the issue PDF, its text and the proofs with the flat plan."""
    with running(WRITE, f"{run.shown(run.out)} ({run.renderer.misses} pages laid out, "
                 f"{run.renderer.hits} from the cache)", run.log):
        run.photos.prune(run.images)  # under the issue's lock: no other run is using them
        inputs = run.inputs_hash()
        made, staged, fit = _make_plates(run, composition, inputs)
        checks = _start_checks(run, composition, staged, made.keys, fit)
        pngs = _proof_pngs(run, made)
        # The plates are synced and checked in the background (Ghostscript, if needed); the issue is
        # joined here meanwhile (on a worker, it waited for them to be done).
        checked = _in_background(run, _synced(staged, checks)) if staged is not None and checks is not None else None
        whole, pdf, wrote = _write_issue_pdf(run, composition, made, inputs)
        _write_proofs(run, made, pngs)
        digest = wrote()
    return Written(composition, inputs, fit, whole, pdf, digest, staged, checked)


def _make_plates(run: Run, composition: Composition, inputs: str) -> tuple[Made, Staged | None, bytes]:
    """Make every plate and proof not in the cache, and the flat plan, on the workers; keep the last
    round's reports and proofs in ``previous/`` meanwhile, and stage each plate (in a run with
    plates) as soon as it is made, so that the checks can start once the last one is. The fit report
    (``fit.json``'s bytes, returned) is made here while the workers make the plates: with total-fit's
    typographic figures it took 0.1-0.15 s, in which the workers waited."""
    marked = proof_pages(composition, run.settings)
    jobs = [ProofJob(plate, page.marks) for plate, page in zip(plate_jobs(run, composition, inputs), marked)]
    # The plates' own keys name their sources (they are the inputsSHA256 and IDs in each plate, so the
    # same sources give the same bytes whatever the code's version); what is cached by them is also
    # keyed by the store's salt, so that a new version of layout never reads what an older one made.
    store = run.renderer.store
    staging = _Staging(run) if run.options.plates else None
    made: dict[int, list[bytes]] = {}
    # The issue PDF and the marked proof are joined as the plates come: those read back from the
    # cache first, while the workers make the others (a recompose's one or two), then those.
    joined = Joiner(len(jobs))
    joined_proofs = Joiner(len(jobs)) if any(job.marks for job in jobs) else None
    for joiner in (joined, joined_proofs):
        if joiner is not None:
            run.cleanup.callback(joiner.close)

    def arrived(index: int, blob: bytes) -> None:
        made[index] = parts = unpack(blob)  # plate, proof, their SHA-256 (and, a plate made now, its proof's PNG)
        if staging is not None:
            staging.add(index + 1, parts[0], parts[2].decode())
        joined.add(index, parts[0])
        if joined_proofs is not None:
            joined_proofs.add(index, parts[1] or parts[0])

    keys = [store.key("plate", j.key) for j in jobs]
    # A plate made now comes with its proof's PNG, drawn by the worker that made it; but when fewer
    # plates are to be made than there are workers (a recompose after an edit: one or two), each PNG
    # is drawn on another worker, beside the plate's checks, and the plate is staged the sooner.
    few = sum(not store.has("plate", key) for key in keys) < run.renderer.workers
    plated = run.renderer.cached("plate", keys, _plate_and_proof if few else _new_plate, jobs,
                                 entry=_without_png, each=arrived, keep=False, in_order=False)
    fit = fit_json(composition)
    trim = (run.settings.trim_width, run.settings.trim_height)
    report = json.loads(fit)
    plan = run.renderer.cached(  # drawn on a worker while the plates are made, if what it shows changed
        "flatplan", [store.key("flatplan", run.renderer.static_key, repr(trim), plan_source(report))], _flat_plan,
        [(report, trim, run.project.fonts)])
    kept = _in_background(run, functools.partial(keep_previous, run.out))  # (its syncs wait for the disk)
    plated()
    ordered = [made[index] for index in range(len(jobs))]
    return (Made(tuple(parts[0] for parts in ordered), tuple(parts[1] or parts[0] for parts in ordered),
                 joined_proofs is not None,
                 tuple(job.plate.info.inputs for job in jobs), plan,
                 tuple(parts[ENTRY_PARTS] if len(parts) > ENTRY_PARTS else None for parts in ordered),
                 tuple(job.key for job in jobs), tuple(parts[3].decode() for parts in ordered),
                 joined, joined_proofs, kept),
            staging.staged() if staging is not None else None, fit)


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


ENTRY_PARTS = 4
"""A plate's cache entry: its plate, its proof (empty if it has no marks), and the SHA-256 of each."""


def _plate_and_proof(job: ProofJob) -> bytes:
    """A plate and its proof PDF (with marks, if any; runs in a page worker), and the SHA-256 of the
    plate and of the proof (of the plate, without marks): hashed once, here, and kept with them under
    their cache entry's seal, so that a recompose does not hash every plate again for the plates'
    ``SHA256SUMS`` and the proofs' ``.pages.json`` (some 35 MB at 16 pages). The proof's PNG is
    drawn by ``_new_plate``."""
    plate = make_plate(job.plate)
    proof = mark_pages((plate,), [job.marks])[0] if job.marks else b""
    digest = hashlib.sha256(plate).hexdigest().encode()
    return pack(plate, proof, digest, hashlib.sha256(proof).hexdigest().encode() if proof else digest)


def _new_plate(job: ProofJob) -> bytes:
    """A plate and its proof (``_plate_and_proof``), with the PNG of the proof (runs in a page worker).
    Drawn at once, by the worker that has the proof in hand, the PNG does not wait for the plates to
    be staged and checked, nor goes back to a worker as a PDF; ``_without_png`` is what the plate's
    cache entry keeps (the PNG is kept as a proof entry: see ``_proof_pngs``)."""
    made = _plate_and_proof(job)
    plate, proof = unpack(made)[:2]
    return made + pack(page_png(proof or plate))


def _without_png(made: bytes) -> bytes:
    """A new plate's cache entry: its plate, proof and their digests, without the proof's PNG (``made``
    ends with it, packed: cut off, the rest is the entry as ``_plate_and_proof`` packed it)."""
    at = 0
    for _ in range(ENTRY_PARTS):
        at += 8 + int.from_bytes(made[at:at + 8], "big")
    return made[:at]


def _proof_pngs(run: Run, made: Made) -> Callable[[], list[bytes]]:
    """What gives each page's proof PNG: drawn with its plate, else kept in the cache, else drawn now
    on the workers (a plate from the cache whose PNG the cache no longer holds). Each is kept in the
    cache by its plate's key and its proof marks (``ProofJob.key``: known without hashing any PDF),
    so that a PNG is drawn again only for a page whose proof changed."""
    store = run.renderer.store
    keys = [store.key("proof", key) for key in made.proof_keys]
    drawn = {index: png for index, png in enumerate(made.pngs) if png is not None}
    for index, png in drawn.items():
        store.put("proof", keys[index], png)
    rest = [index for index in range(len(keys)) if index not in drawn]
    later = run.renderer.cached("proof", [keys[i] for i in rest], page_png, [made.proofs[i] for i in rest])

    def pngs() -> list[bytes]:
        drawn.update(zip(rest, later()))
        return [drawn[index] for index in range(len(keys))]
    return pngs


PLAN_SLOT_FIELDS = ("page", "box", "slot_id", "slug", "over", "short", "jump_to")
"""What the flat plan draws of each slot of the fit report (``press.proofs.flat_plan`` reads these
and the pages' numbers, nothing else: a field it comes to read must be added here)."""


def plan_source(fit: dict) -> str:
    """What the flat plan is drawn from (with the trim and the fonts): an edit that changes no slot's
    box, lines over or short, or jump draws the same plan, which the cache then holds (drawing it was
    0.05 s of a worker's time on every recompose at 16 pages)."""
    return json.dumps([[[slot.get(name) for name in PLAN_SLOT_FIELDS] for slot in fit["slots"]],
                       [page["page"] for page in fit["pages"]]])


def _flat_plan(job: tuple[dict, tuple[float, float], Path]) -> bytes:
    """The flat plan's PNG (runs in a page worker): ``job`` is the fit report, trim and fonts."""
    return flat_plan_png(*job)


class _Staging:
    """The plates written to a staging folder, one by one as they are made (for preflight; removed
    when the run ends, if it is still there); ``_publish_plates`` puts it in place. They are synced
    by ``_synced``, while they are checked, not before their checks can start."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.folder = publish.staging(run.out / "plates")
        run.cleanup.callback(shutil.rmtree, self.folder, ignore_errors=True)
        self.paths: dict[int, Path] = {}
        self.digests: dict[str, str] = {}

    def add(self, number: int, data: bytes, digest: str) -> None:
        """Stage plate ``number`` (from 1, in any order), whose bytes' SHA-256 is ``digest``."""
        path = self.folder / f"{self.run.issue.issue_id}-p{number:02d}.pdf"
        publish.write_or_link(path, data, self.run.out / "plates" / path.name, sync=False)  # unchanged: linked
        self.paths[number] = path
        self.digests[path.name] = digest

    def staged(self) -> Staged:
        """The staged plates, in page order."""
        return Staged(self.folder, tuple(self.paths[number] for number in sorted(self.paths)), dict(self.digests))


def _start_checks(run: Run, composition: Composition, staged: Staged | None, keys: tuple[str, ...],
                  fit: bytes) -> Checks | None:
    """Hand the staged plates' checks to the workers now, from this thread (from another, they waited
    for this one to be done joining the issue, which holds the GIL); stage with them what each plate
    must show (``copy.json``, see press/accounting.py)."""
    if staged is None:
        return None
    copies = copy_of(composition, run.settings)
    checks = start_checks(list(staged.plates), run.settings, json.loads(fit), run.renderer.store, list(keys),
                          run.renderer.submit, copies)
    publish.write_file(staged.folder / "copy.json", copies_json(copies), sync=False)  # published with the plates
    return checks


def _synced(staged: Staged, checks: Checks) -> Callable[[], list[Finding]]:
    """What syncs the staged plates (and ``copy.json``) to the disk, then waits for their checks:
    run in the background, before the plates can be published."""
    def done() -> list[Finding]:
        publish.sync_files([*staged.plates, staged.folder / "copy.json"])
        return checks.result()
    return done


def _in_background(run: Run, function: Callable[[], T]) -> concurrent.futures.Future[T]:
    """``function()`` on a thread of its own; the run waits for it before it removes its staging folders."""
    background = run.cleanup.enter_context(concurrent.futures.ThreadPoolExecutor(1))
    return background.submit(function)


def _write_issue_pdf(run: Run, composition: Composition, made: Made, inputs: str
                     ) -> tuple[bytes, Path, Callable[[], str]]:
    """Join the plates into the issue PDF, and the proofs into the marked proof (if a page has marks);
    write them and the text of every slot. Each PDF is written (and synced, and the issue PDF hashed)
    on a thread of its own while this one goes on (joining the proofs, writing the text and the
    proofs): returned with the issue PDF and its path, what waits for those writes and gives the
    issue PDF's SHA-256."""
    out, issue_id = run.out, run.issue.issue_id
    if made.kept is not None:
        made.kept.result()  # the last round's text, fit report and proofs are in previous/
    info = PlateInfo(run.issue, run.settings, inputs)
    whole = made.joined.finish(info) if made.joined is not None else join(made.plates, info)
    pdf = out / f"{issue_id}.pdf"
    issue_written = _in_background(run, functools.partial(_write_hashed, pdf, whole))
    proof = out / f"{issue_id}-proof.pdf"
    proof_written = None
    if made.marked:
        joined = made.joined_proofs.finish() if made.joined_proofs is not None else join(made.proofs)
        proof_written = _in_background(run, functools.partial(write_atomic, proof, joined))
    elif proof.exists():
        proof.unlink()
    write_atomic(out / "text.json", json.dumps(slot_texts(composition), indent=1, ensure_ascii=False).encode())

    def written() -> str:
        digest = issue_written.result()  # (its error first, if both failed)
        if proof_written is not None:
            proof_written.result()
        return digest
    return whole, pdf, written


def _write_hashed(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` (``write_atomic``) and return its SHA-256 (on a thread of its own,
    both release the interpreter's lock)."""
    write_atomic(path, data)
    return hashlib.sha256(data).hexdigest()


def slot_texts(composition: Composition) -> dict[str, str]:
    """The text of every slot as it was set (for ``layout diff``)."""
    return {item.slot_id: " ".join(b.text for b in item.blocks) for page in composition.pages for item in page.slots}


def _write_proofs(run: Run, made: Made, pngs: Callable[[], list[bytes]]) -> None:
    """Publish ``proofs/`` whole: a PNG of every page (``pngs``: what gives them, from the cache or
    drawn) and the flat plan."""
    proofs = publish.staged_copy(run.out / "proofs")
    try:
        write_proofs(made.proofs, proofs, dict(enumerate(pngs())), made.proof_digests)
        write_changed(proofs / "flatplan.png", made.flat_plan()[0])  # unchanged: the staged link stays
        publish.replace_folder(proofs, run.out / "proofs")
    finally:
        shutil.rmtree(proofs, ignore_errors=True)


# ---- Stage 4: fit report --------------------------------------------------------------------------

def report_fit(run: Run, written: Written) -> None:
    """Write the fit report and print its table."""
    with running(FIT, log=run.log):
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
    with running(PREFLIGHT, log=run.log):
        findings = written.checks.result()
        folder = _publish_plates(run, written.staged, written, findings)
        run.log.info(report_table(findings))
    return Checked(tuple(findings), folder)


def _publish_plates(run: Run, staged: Staged, written: Written, findings: list[Finding]) -> Path:
    """Publish the staged plates, with the issue PDF, to plates/ if preflight passed, else to plates-draft/."""
    out, staging = run.out, staged.folder
    try:
        # The issue PDF just written (and synced) is linked in (it is replaced, never changed in place).
        publish.write_or_link(staging / written.pdf.name, written.whole, written.pdf)
        publish.write_file(staging / SOURCES_FILE, (written.inputs + "\n").encode())
        passed = all(f.ok for f in findings)
        report = report_json(findings)
        publish.write_file(staging / "preflight.json", report)
        link_atomic(staging / "preflight.json", out / "preflight.json", report)  # written and synced once
        target = out / ("plates" if passed else "plates-draft")
        if not passed:  # plates/ stays beside it: no file of the drafts may be one of its files
            publish.unshare(staging)
        # so that a plate damaged later is known to be (check, archive)
        publish.write_sums(staging, {**staged.digests, written.pdf.name: written.whole_digest})
        publish.replace_folder(staging, target)
        if passed:
            shutil.rmtree(out / "plates-draft", ignore_errors=True)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
            f"preflight failed: {len(errors)} problem(s); the plates are in {run.shown(checked.plates or run.out)}, "
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
    overset.composition = composition  # type: ignore[attr-defined]  # watch prints its summary
    return overset


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
