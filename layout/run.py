"""The run: one compose's project, options and sources, the renderer that lays its documents out
(with the page cache and the worker processes) and the log its stages report to. The sequencer
(``build.py``) makes one a run and hands it to every stage."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import __version__
from .base.cache import files_digest, portable, settings_files
from .base.files import file_hash
from .base.versions import WEASYPRINT_VERSION
from .composing.images import Preparer
from .composing.jobs import HEIGHT_PREFIXES, PHOTO_SCHEME, Batch, Job, PageResult
from .composing.markup import PageView, issue_html, issue_meta
from .press.plates import weasyprint_variant
from .stages import COMPOSE, LOG, Meter

if TYPE_CHECKING:
    from .composing.compose import Sheet
    from .reading.articles import Article, Photo
    from .reading.manifest import Issue
    from .reading.settings import PaperSettings
    from .rendering.workers import PageRenderer

T = TypeVar("T")


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

    @property
    def cache(self) -> Path:
        """The build cache, shared by every issue (see ``cache.Store``)."""
        return self.root / "build" / ".cache"

    def shown(self, path: Path) -> str:
        """``path`` as messages name it: relative to the project, if it is in it."""
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)


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
    meter: Meter = field(init=False)
    """Counts the documents laid out (the progress bar of stage 2)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "meter", Meter(COMPOSE, "documents laid out", self.log))

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
        that are not in the cache are laid out as one document (see ``galley_batches``)."""
        self.photos.wait()  # the prepared photos' bytes are in the documents' keys
        meta = issue_meta(self.issue, self.settings, WEASYPRINT_VERSION)
        css = house_stylesheets(self.project)
        allowed = readable(self.project, self.issue.folder, self.issue.issue_id)
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
            pages = [i for i in indices if sheets[i][1] != "galley"]
            workers = self.renderer.workers
            return self._counted(page_batches(sheets, jobs, pages, html, workers)
                                 + galley_batches(sheets, jobs, galleys, html))

        return self.renderer.run(jobs, self._document_keys(sheets, meta), plan)

    def _document_keys(self, sheets: list[Sheet], meta: dict) -> list[str]:
        """What each sheet's HTML is made from, hashed: its views, the issue, settings, metadata and the
        files the settings name, and the bytes of its prepared photos. Paths in the project are
        written relative to it (``cache.portable``): a copy of the project finds its pages cached.

        A sheet's HTML is made from its own views, never from the manifest's other slots (the
        templates are given the issue without its pages: ``markup.issue_html``): the key holds the
        issue without its pages, so that an edit to the manifest (a slot's depth, a pin, an advert)
        sets again only the stories and pages whose views it changed, not every galley and page."""
        root = self.project.root
        files = files_digest(settings_files(self.settings))
        context = (portable((replace(self.issue, pages=()), self.settings, meta), root) + files).encode()
        keys = []
        for views, mode, height in sheets:
            digest = hashlib.sha256(portable((views, mode, height), root).encode() + context)
            for photo in (p for view in views for item in view.slots
                          for p in (*item.photos, *(inset.photo for inset in item.insets))):
                digest.update(bytes.fromhex(file_hash(self.images.joinpath(photo.src.split(":", 1)[1]))))
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
            digest.update(bytes.fromhex(file_hash(path)))  # its SHA-256 (hashed once a process)
        return digest.hexdigest()

    def shown(self, path: Path) -> str:
        """``path`` as messages name it (relative to the project)."""
        return self.project.shown(path)


DOCUMENTS_A_WORKER = 2
"""Of pages laid out together, this many a worker are laid out alone, last (the longest documents go
first), the others a few a document: so that no worker is left with a long document while the other
waits."""
MOST_PAGES = 4
"""The most pages one document holds (its whole box tree is alive while it is laid out: memory)."""


def documents(items: list[T], workers: int) -> list[list[T]]:
    """``items`` (one a page, in page order) cut into the documents they are laid out in: a few pages
    a document (at least one document a worker, up to ``MOST_PAGES`` pages each), a document's
    start-up (its HTML's head, its stylesheet matched, its photos read, WeasyPrint's own) paid once
    for its pages, not once a page; the last ``DOCUMENTS_A_WORKER`` pages a worker each alone,
    which fill in at the end while the workers finish the longer ones."""
    alone = min(len(items), DOCUMENTS_A_WORKER * max(1, workers))
    shared = len(items) - alone
    per = max(1, min(MOST_PAGES, -(-shared // max(1, workers))))
    together = [items[start:min(start + per, shared)] for start in range(0, shared, per)]
    return together + [[item] for item in items[shared:]]


def page_batches(sheets: list[Sheet], jobs: list[Job], indices: list[int],
                 html: Callable[[list[PageView], str, float | None], str], workers: int) -> list[Batch]:
    """The sheets ``indices`` of one page each (the pages laid out with their frames empty), laid out
    a few pages a document (``documents``): a document's start-up (its HTML's head, stylesheet
    matching, photos read) once for its pages, not once a page. Each page is written as a PDF of its
    own, with the bytes of that page laid out alone (``engine.lay_out``, ``Job.pages``)."""
    groups: dict[tuple, list[int]] = {}
    for index in indices:
        views, mode, height = sheets[index]
        groups.setdefault((mode, height) if len(views) == 1 else ("alone", index), []).append(index)
    batches = []
    for (mode, height), members in groups.items():
        for chunk in documents(members, workers):
            if len(chunk) == 1:
                batches.append(Batch(chunk, replace(jobs[chunk[0]], html=html(*sheets[chunk[0]]))))
                continue
            views = [sheets[index][0][0] for index in chunk]
            job = replace(jobs[chunk[0]], html=html(views, mode, height),
                          pages=tuple(html(*sheets[index]) for index in chunk))
            batches.append(Batch(chunk, job, functools.partial(_split_pages, views)))
    return batches


def _split_pages(views: list[PageView], result: PageResult) -> list[PageResult]:
    """A document of several pages' result (``page_batches``), one a page of ``views``: its PDF, and
    the heights measured of its slots."""
    out = []
    for view, pdf in zip(views, result.page_pdfs or [None] * len(views), strict=True):
        slots = {item.slot_id for item in view.slots}
        out.append(PageResult({key: value for key, value in result.heights.items()
                               if _slot_of(key) in slots}, pdf, result.warnings))
    return out


def _slot_of(key: str) -> str:
    """The slot a measured height's key names (``topin-p1-s0``, ``mfig-p1-s0--1``: ``p1-s0``)."""
    prefix = next((p for p in HEIGHT_PREFIXES if key.startswith(p)), "")
    return key[len(prefix):].split("--")[0]


def galley_batches(sheets: list[Sheet], jobs: list[Job], indices: list[int],
                   html: Callable[[list[PageView], str, float | None], str]) -> list[Batch]:
    """The galley sheets ``indices`` (each of one page, holding one galley or one top matter), laid
    out as one document a page: one layout's start-up a page, not one a story. Each galley is
    written as a PDF of its own, so what shares its document never changes its bytes. (Several
    pages' sheets in one document, each page's in a ``<section>`` of its own, gave the same bytes but
    saved nothing measurable: a galley sheet's start-up is small beside its 0.2-0.3 s of layout.)"""
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


def house_stylesheets(project: Project) -> tuple[str, ...]:
    """The stylesheets every document is laid out with."""
    return (str(project.stylesheets / "newspaper.css"),)


def readable(project: Project, folder: Path, issue_id: str) -> tuple[str, ...]:
    """The folders WeasyPrint may read: the issue's, fonts, stylesheets and the prepared photos."""
    return tuple(str(p) for p in (folder, project.fonts, project.stylesheets, project.build(issue_id) / "images"))
