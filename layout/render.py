"""Stage 4: hand HTML to WeasyPrint (safely) and write PDFs atomically."""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import ctypes
import functools
import gc
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.util
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlparse

import pyphen
import weasyprint
from weasyprint.text.ffi import ffi as weasyprint_ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from . import __version__, linebreak
from .cache import code_digest, read_sealed, write_sealed
from .errors import InputError, Problem, RenderError
from .galley import GALLEY_PREFIX, Galley, find_box, read_galleys
from .measure import heights
from .publish import umask
from .sources import display_path

if TYPE_CHECKING:
    import cffi

WEASYPRINT_VERSION = weasyprint.__version__
PINNED_WEASYPRINT = "70.0"
T = TypeVar("T")
R = TypeVar("R")

_SIZED_ARRAY = re.compile(r"([A-Za-z_][\w ]*?)\s*\[(\d+)\]")


def _one_type_an_array(ffi: cffi.FFI) -> None:
    """Make WeasyPrint's ``ffi.new("hb_codepoint_t[N]", items)`` parse its C type once, not once a length.

    WeasyPrint 70 subsets each font with arrays typed by their length. cffi parses every new type
    string with pycparser, after a preamble of all of Pango's and HarfBuzz's type names: 6 ms each,
    twice a font subset, in every process (0.6 s of a 16-page compose's work, 0.05 s of a worker's
    warm-up). An array given as a list or tuple of exactly N items is the same array typed ``T[]``,
    whose type is parsed once; any other call is passed on unchanged."""
    new = ffi.new

    def new_array(cdecl: object, init: object = None) -> object:
        if isinstance(cdecl, str) and isinstance(init, list | tuple):
            match = _SIZED_ARRAY.fullmatch(cdecl.strip())
            if match and len(init) == int(match[2]):
                cdecl = match[1] + "[]"
        return new(cdecl, init)

    ffi.new = new_array  # type: ignore[method-assign]


_one_type_an_array(weasyprint_ffi)


PHOTO_SCHEME = "layout-photo"
"""Prepared photos are referenced as ``layout-photo:<file name>``: WeasyPrint names an image in the
PDF by a hash of its URL, so a file path would make the PDF depend on where the project is checked
out (and a data: URL of the whole photo costs a second to parse in every page that holds it)."""


class ConfinedFetcher(URLFetcher):
    """A URL fetcher that reads only files inside the allowed folders, and nothing from the network."""

    def __init__(self, allowed: tuple[Path, ...], photos: Path | None = None) -> None:
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
        self.allowed = tuple(p.resolve() for p in allowed)
        self.photos = photos

    def fetch(self, url: str, headers: object = None):  # type: ignore[no-untyped-def]
        """Fetch ``url`` if it is a data: URL, a prepared photo or a file inside an allowed folder."""
        scheme = urlparse(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == PHOTO_SCHEME and self.photos is not None:
            name = url.split(":", 1)[1]
            if not (self.photos / name).is_file():  # WeasyPrint quotes a space or an é in a name, not a '%'
                name = unquote(name)
            path = self.photos / name
            if "/" in name or not path.is_file():
                raise FatalURLFetchingError(f"no prepared photo {name}: compose the issue again")
            return super().fetch(path.as_uri(), headers)
        if scheme != "file":
            raise FatalURLFetchingError(f"refused to fetch {url}: layout never reads from the network")
        path = Path(unquote(urlparse(url).path)).resolve()
        if not any(path.is_relative_to(root) for root in self.allowed):
            raise FatalURLFetchingError(
                f"refused to read {path}: only files in the issue folder, fonts/ and stylesheets/ are used")
        return super().fetch(url, headers)


@dataclass(eq=False)  # handlers are told apart by identity (logging tests ``in`` before adding one)
class WeasyLog(logging.Handler):
    """Collects what WeasyPrint says (bad CSS, missing images, missing glyphs) during one render."""

    messages: list[str]

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _captured(messages: list[str]) -> Iterator[None]:
    logger = logging.getLogger("weasyprint")
    handler = WeasyLog(messages)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def check_version() -> None:
    """Refuse to run with another WeasyPrint: the composer reads its (private) layout tree."""
    if WEASYPRINT_VERSION != PINNED_WEASYPRINT:
        raise RenderError(
            f"WeasyPrint {WEASYPRINT_VERSION} is installed, layout needs {PINNED_WEASYPRINT}",
            (Problem("pyproject.toml", "dependencies", "the composer reads WeasyPrint's layout tree, "
                     "which changes between versions", f"pip install weasyprint=={PINNED_WEASYPRINT}"),))


_FONTS: dict[int, FontConfiguration] = {}
_INHERITED: list[FontConfiguration] = []
"""Configurations a forked child inherited: kept alive so that their clean-up never runs in the child."""


def _font_config() -> FontConfiguration:
    """One font configuration a process: @font-face files are loaded once, not once a page.

    WeasyPrint copies each @font-face file into a temporary folder that it removes only when the
    configuration is garbage-collected; worker processes may never get there, so remove it at exit.
    """
    pid = os.getpid()
    if pid not in _FONTS:
        _INHERITED.extend(_FONTS.values())  # a forked child must not use, nor delete, its parent's
        _FONTS.clear()
        _FONTS[pid] = FontConfiguration()
        atexit.register(_drop_fonts, pid)  # a normal process
        multiprocessing.util.Finalize(None, _drop_fonts, args=(pid,), exitpriority=10)  # a pool worker
    return _FONTS[pid]


def _drop_fonts(pid: int) -> None:
    config = _FONTS.pop(pid, None)
    folder = getattr(config, "_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


_SHEETS: dict[tuple, tuple[weasyprint.CSS, tuple[str, ...]]] = {}
"""Stylesheets parsed in this process, with what WeasyPrint said while parsing them."""


def _stylesheet(path: Path, fetcher: ConfinedFetcher, messages: list[str]) -> weasyprint.CSS:
    """``path`` parsed once a process (and its @font-face fonts loaded once), not once a document."""
    stat = path.stat()
    key = (os.getpid(), str(path), stat.st_mtime_ns, stat.st_size, fetcher.allowed)
    if key not in _SHEETS:
        said: list[str] = []
        with _captured(said):
            css = weasyprint.CSS(filename=str(path), url_fetcher=fetcher, font_config=_font_config())
        _SHEETS[key] = (css, tuple(said))
    css, said = _SHEETS[key]
    messages.extend(said)
    return css


def set_paragraphs(html: str, allowed: tuple[Path, ...], report: linebreak.Report | None = None) -> str:
    """Set the marked paragraphs of ``html`` with the paragraph breaker (``linebreak.py``), measured
    in the fonts of the folders WeasyPrint may read, hyphenated as the house stylesheet says."""
    fonts = next((p for p in allowed if (p / linebreak.FONTS[(False, False)]).is_file()), None)
    if fonts is None:
        return html
    css = next((p / "newspaper.css" for p in allowed if (p / "newspaper.css").is_file()), None)
    limit = linebreak.house_limit(_read_css(css)) if css is not None else (6, 3, 3)
    return linebreak.set_marked(html, fonts, limit, report=report)


@functools.lru_cache(maxsize=4)
def _read_css(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def render(html: str, base: Path, allowed: tuple[Path, ...], messages: list[str],
           photos: Path | None = None, stylesheets: tuple[Path, ...] = (),
           report: linebreak.Report | None = None) -> weasyprint.Document:
    """Lay out ``html`` (relative URLs against ``base``, prepared photos from ``photos``) with the
    ``stylesheets`` (user stylesheets, parsed once a process); WeasyPrint's warnings go to ``messages``."""
    fetcher = ConfinedFetcher(allowed, photos)
    if 'data-lb="' in html:  # the body's paragraphs, set by the paragraph breaker before WeasyPrint draws them
        html = set_paragraphs(html, allowed, report)
    with _captured(messages):
        try:
            sheets = [_stylesheet(path, fetcher, messages) for path in stylesheets]
            return weasyprint.HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher).render(
                font_config=_font_config(), stylesheets=sheets)
        except FatalURLFetchingError as exc:
            cause = exc.__cause__ or exc
            raise InputError("a file or address outside the issue was referenced", (Problem(
                "(issue sources)", "", str(cause),
                "remove the reference; put images in the issue's images/ folder"),)) from None


def pdf_bytes(document: weasyprint.Document, variant: str | None, messages: list[str],
              compressed: bool = True) -> bytes:
    """Return ``document`` as PDF bytes, in PDF ``variant`` (``pdf/x-1a``, ``pdf/a-3b`` ...) if given."""
    options: dict[str, object] = {"pdf_variant": variant} if variant else {}
    if not compressed:
        options["uncompressed_pdf"] = True
    with _captured(messages):
        return document.write_pdf(**options)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~umask())  # mkstemp makes it 0600: outputs are for others to read too
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(error, OSError) and error.filename is None:  # fsync, write: name the file
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


HEIGHT_PREFIXES = ("mtop-", "msf-", "topin-", "mfig-")
"""Elements whose heights the composer reads: measured top matter and bodies, standfirsts, placed tops."""


@dataclass(frozen=True)
class Job:
    """One HTML document (one page, or one page's measuring sheet) to lay out."""

    html: str
    base: str
    """Folder that relative URLs resolve against."""
    allowed: tuple[str, ...]
    """Folders WeasyPrint may read from."""
    leading: float
    variant: str | None
    """PDF variant to write (``pdf/x-1a`` ...), or None for plain PDF."""
    pdf: bool
    """Write the PDF."""
    photos: str = ""
    """Folder of the prepared photos (``layout-photo:`` URLs)."""
    stylesheets: tuple[str, ...] = ()
    """The house stylesheets, applied to the document (parsed once a worker, not once a document)."""
    galleys: tuple[str, ...] = ()
    """Slots whose galleys the document sets, one a page from its first (each is written as a PDF of
    its own; the pages after them, of measured top matter, are not written)."""


@dataclass(frozen=True)
class PageResult:
    """What the layout of one job gave: measured heights, the PDF, WeasyPrint's warnings, galleys."""

    heights: dict[str, float]
    pdf: bytes | None
    """The document's PDF; for a galley sheet, None (see ``galley_pdfs``)."""
    warnings: tuple[str, ...]
    galleys: dict[str, Galley] = field(default_factory=dict)
    galley_pdfs: dict[str, bytes] = field(default_factory=dict)
    """Each galley's own PDF (one page): its bytes depend on nothing else on its sheet."""


@dataclass(frozen=True)
class Batch:
    """One document to lay out for jobs not in the cache: which jobs it holds, and how to split its
    result into one a job (in the order of ``indices``)."""

    indices: list[int]
    job: Job
    split: Callable[[PageResult], list[PageResult]] = lambda result: [result]


_RENDERED = False
"""Whether this process has laid a document out, or warmed up as a worker."""
Warm = tuple[tuple[str, ...], tuple[str, ...], str]
"""How to warm a worker up: the stylesheets, the folders it may read, the cache folder."""
PARENT_ONLY_FILES: set[int] = set()
"""Descriptors a worker must close when it starts (the issue's lock: were a worker to keep it open,
a killed run's workers would hold the issue locked until they noticed their parent had gone)."""


LANGUAGE = "en-GB"
"""The papers' language (``<html lang>`` in the templates): its hyphenation patterns are loaded at warm-up."""


def load_hyphenation(cache: Path | None, lang: str = LANGUAGE) -> None:
    """Put ``lang``'s hyphenation patterns in pyphen's cache, from a copy in ``cache`` if there is one.

    pyphen parses its ``hyph_*.dic`` file in every process, which takes 0.15 s (about half of a
    worker's warm-up); reading back the parsed patterns as JSON takes a third of that. The copy is
    named by the hash of the dictionary file and pyphen's version; anything wrong with it, and the
    file is parsed as usual (and the copy written again)."""
    path = pyphen.LANGUAGES.get(pyphen.language_fallback(lang) or "")
    if path is None or path in pyphen.hdcache:
        return
    if cache is None:
        pyphen.hdcache[path] = pyphen.HyphDict(path)
        return
    digest = hashlib.sha256(f"pyphen {pyphen.VERSION} ".encode() + path.read_bytes()).hexdigest()
    copy = cache / f"hyphenation-{digest}.json"
    try:
        kept = read_sealed(copy)
        if kept is None:
            raise ValueError("no copy")
        patterns = {key: (int(start), tuple(int(v) for v in values))
                    for key, (start, values) in json.loads(kept).items()}
        hyph = pyphen.HyphDict.__new__(pyphen.HyphDict)
        hyph.patterns, hyph.cache, hyph.maxlen = patterns, {}, max(map(len, patterns))
    except (OSError, ValueError, TypeError, AttributeError):
        hyph = pyphen.HyphDict(path)
        if all(type(v) is int for _, values in hyph.patterns.values() for v in values):  # no nonstandard hyphens
            with contextlib.suppress(OSError):
                write_sealed(copy, json.dumps(hyph.patterns, separators=(",", ":")).encode())
    pyphen.hdcache[path] = hyph


PR_SET_PDEATHSIG = 1
WATCH_PARENT_S = 0.5
"""How often a worker looks whether its parent is still there (beside the kernel's death signal)."""


def guard_worker(parent: int, death_signal: bool = True) -> None:
    """Make this worker process end when its parent ``parent`` does, however the parent ends.

    The kernel sends the worker SIGTERM when the thread that forked it ends (``PR_SET_PDEATHSIG``,
    set only when that thread is the parent's main thread, which ends with the process); and a
    thread of the worker's own looks every ``WATCH_PARENT_S`` whether it has been given to another
    parent (for a parent killed before the signal was set, or on systems without ``prctl``). Either
    way the worker removes its temporary font folder and exits at once. A pool of workers blocked on
    their task queue would otherwise live for ever after a ``kill -9`` of their parent."""
    def leave(*_: object) -> None:
        _drop_fonts(os.getpid())
        os._exit(143)

    signal.signal(signal.SIGTERM, leave)
    if death_signal:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        leave()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_PARENT_S)
        leave()

    threading.Thread(target=watch, name="layout-parent-watch", daemon=True).start()


def _start_worker(warm: Warm | None, parent: int | None = None, death_signal: bool = True) -> None:
    if parent is not None:
        guard_worker(parent, death_signal)
    for descriptor in PARENT_ONLY_FILES:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    if warm is not None:
        # Warming up only saves time: a fault met here (a full disk ...) is met again by the first
        # job, whose future carries it to the run as an error (an initializer's kills the pool).
        with contextlib.suppress(Exception):
            warm_up(*warm)


def warm_up(stylesheets: tuple[str, ...], allowed: tuple[str, ...], cache: str = "") -> None:
    """Get a page worker ready while the main process reads the sources: hyphenation patterns read
    (kept in ``cache``), stylesheets parsed and their fonts loaded.

    A small document laid out and written as well, to pay WeasyPrint's first-use costs, took
    0.15 s and made the first real document no faster; a recompose waited for it."""
    global _RENDERED
    load_hyphenation(Path(cache) if cache else None)
    fetcher = ConfinedFetcher(tuple(Path(p) for p in allowed))
    for path in stylesheets:
        _stylesheet(Path(path), fetcher, [])
    _RENDERED = True


def lay_out(job: Job) -> PageResult:
    """Lay out ``job`` with WeasyPrint, measure it, and write its PDF if asked (runs in a worker)."""
    global _RENDERED
    _RENDERED = True
    messages: list[str] = []
    report = linebreak.Report()
    document = render(job.html, Path(job.base), tuple(Path(p) for p in job.allowed), messages,
                      Path(job.photos) if job.photos else None, tuple(Path(p) for p in job.stylesheets), report)
    found: dict[str, float] = {}
    for prefix in HEIGHT_PREFIXES:
        found.update({prefix + key: value for key, value in heights(document, prefix).items()})
    galleys: dict[str, Galley] = {}
    pdfs: dict[str, bytes] = {}
    if job.galleys:
        pages = document.pages
        long = [slot for index, slot in enumerate(job.galleys)
                if index + 1 < len(pages) and find_box(pages[index + 1]._page_box, GALLEY_PREFIX + slot)]
        if long:
            slugs = dict.fromkeys(slot.removeprefix("cont-").split("-from-")[0] for slot in long)
            raise InputError("a story is longer than a galley sheet holds (about 1,300 lines)", tuple(
                Problem(display_path(Path(job.base) / "articles" / f"{slug}.md"), "body",
                        "the story is too long to set in one piece",
                        "split it into two articles (or cut it)") for slug in slugs))
        galleys = read_galleys(document, list(job.galleys), job.leading, report)
        if job.pdf:  # a PDF a galley, so that a galley's bytes do not depend on what shared its sheet;
            # uncompressed, since its content is filtered and compressed into the plates' columns
            pdfs = {slot: pdf_bytes(document.copy([pages[index]]), job.variant, messages, compressed=False)
                    for index, slot in enumerate(job.galleys)}
        return PageResult(found, None, tuple(messages), galleys, pdfs)
    pdf = pdf_bytes(document, job.variant, messages) if job.pdf else None
    return PageResult(found, pdf, tuple(messages))


class Workers:
    """The worker processes. A run starts its own; ``layout watch`` keeps one set for all its runs,
    so that a save is laid out by workers that are already warm."""

    def __init__(self, count: int | None = None) -> None:
        self.count = count or os.cpu_count() or 1
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """Whether the processes are running."""
        return self._pool is not None

    def start(self, warm: Warm | None = None
              ) -> concurrent.futures.ProcessPoolExecutor:
        """Start the processes (warming each up with ``warm``: stylesheets, readable folders) if they
        are not running."""
        if self._pool is None:
            context = multiprocessing.get_context("fork")
            # The workers are forked. Frozen, the objects made so far are left out of the workers'
            # garbage collections, which would otherwise walk them all and so copy every page of
            # memory they are on: reading the hyphenation patterns, a worker's first large
            # allocation, took 0.1-0.3 s in a worker instead of 0.05 s.
            gc.freeze()
            try:
                # The pool forks every worker from this thread (fork: all at its first task); the kernel's
                # death signal follows the forking thread, so it is asked for only from the main thread.
                main = threading.current_thread() is threading.main_thread()
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.count, mp_context=context, initializer=_start_worker,
                    initargs=(warm, os.getpid(), main))
                self._pool.submit(int)  # a pool forks its processes with its first task
            finally:
                gc.unfreeze()  # in this process only: it collects as before
        return self._pool

    def close(self) -> None:
        """Stop the processes."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def completed(value: T) -> concurrent.futures.Future[T]:
    """A future already done with ``value`` (work done here, or read from a cache)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    future.set_result(value)
    return future


class PageRenderer:
    """Lays out jobs on all cores, and keeps each result on disk keyed by everything that affects it.

    The key hashes the page's HTML (which holds its articles, positions and settings), the files it
    references (photos, stylesheets, fonts) and the versions of layout and WeasyPrint: an unchanged
    page is never laid out twice, in one run or across runs.
    """

    def __init__(self, cache: Path | None, static_files: tuple[Path, ...], workers: int | None = None,
                 warm: Warm | None = None, shared: Workers | None = None) -> None:
        self.cache = cache
        digest = hashlib.sha256(f"layout {__version__} {code_digest()} weasyprint {WEASYPRINT_VERSION}".encode())
        for path in sorted(static_files):
            digest.update(str(path.name).encode() + _file_hash(path).encode())
        self.static_key = digest.hexdigest()
        self.memory: dict[str, PageResult] = {}
        self.hits = self.misses = 0
        self._owned = shared is None
        self._workers = shared if shared is not None else Workers(workers)
        self.workers = self._workers.count
        if warm is not None and self.workers > 1 and not _RENDERED:
            # Start the workers now, so that they warm up (hyphenation patterns, stylesheet and its
            # fonts) while the sources are read.
            self._workers.start(warm)

    def run(self, jobs: list[Job], sources: list[str], plan: Callable[[list[int]], list[Batch]]) -> list[PageResult]:
        """Return the result of every job, laying out only those not seen before.

        ``sources`` hash everything each job's HTML is made from (the files it references among
        them), so the jobs come without their HTML: ``plan(indices)`` is given the jobs that are not
        in the cache, and returns the documents to lay out for them (making the HTML of every page
        costs more than finding it). A document may hold several jobs (the galleys of one page are
        set on one sheet): its batch splits its result into one a job, and each is kept under its
        job's key. A document of several jobs that drew warnings is not kept: the warnings could be
        any of its jobs'."""
        keys = [self._key(job, source) for job, source in zip(jobs, sources)]
        todo: dict[str, int] = {}
        for index, key in enumerate(keys):
            if key not in self.memory and key not in todo:
                cached = self._load(key)
                if cached is not None:
                    self.memory[key] = cached
                else:
                    todo[key] = index
            self.hits += key not in todo
        # The longest documents first, so that no core is left with a long one at the end.
        batches = sorted(plan(list(todo.values())), key=lambda batch: -len(batch.job.html))
        self.misses += len(batches)
        for batch, result in zip(batches, self._map([batch.job for batch in batches])):  # kept as they come
            parts = batch.split(result)
            for index, part in zip(batch.indices, parts, strict=True):
                self.memory[keys[index]] = part
                if len(batch.indices) == 1 or not result.warnings:
                    self._store(keys[index], part)
        return [self.memory[key] for key in keys]

    def close(self) -> None:
        """Stop the worker processes (unless they are shared: see ``Workers``)."""
        if self._owned:
            self._workers.close()

    def _map(self, jobs: list[Job]) -> Iterator[PageResult]:
        if self._here(len(jobs)):
            load_hyphenation(self.cache)
        return self.each(lay_out, jobs)

    def _here(self, count: int) -> bool:
        """Whether ``count`` items are done in this process (see ``map``)."""
        return self.workers <= 1 or (count == 1 and (_RENDERED or not self._workers.started))

    def map(self, function: Callable[[T], R], items: list[T]) -> list[R]:
        """``function`` of each item, on every core (the worker processes are started once a run).

        A single item runs here if this process has laid pages out before (``layout watch``), or
        if no worker has been started; otherwise on a worker, which is warm."""
        return list(self.each(function, items))

    def each(self, function: Callable[[T], R], items: list[T]) -> Iterator[R]:
        """``map``, each result given as soon as it and those before it are done (so that the
        caller can store it while the workers go on)."""
        if not items or self._here(len(items)):
            yield from (function(item) for item in items)
            return
        try:
            yield from self._workers.start().map(function, items)
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise self.worker_died() from exc

    def worker_died(self) -> RenderError:
        """The error for a worker that died (out of memory, or killed); its pool is closed, so that
        the next run (``layout watch``'s next save) starts new workers."""
        self._workers.close()
        return RenderError("a worker process died while composing (out of memory, or killed?): "
                           "no plates were published; compose again")

    def submit(self, function: Callable[..., R], *args: object) -> concurrent.futures.Future[R]:
        """``function(*args)`` on a worker, if they are running (so that it takes no time from this
        process, which is busy writing); else here, at once."""
        if self.workers > 1 and self._workers.started:
            return self._workers.start().submit(function, *args)
        return completed(function(*args))

    def cached(self, kind: str, keys: list[str], function: Callable[[T], bytes], items: list[T]
               ) -> Callable[[], list[bytes]]:
        """Start ``function`` of each item (bytes) not kept on disk as ``<kind>-<key>`` (on the
        workers, as ``submit`` runs it), and return what gives every item's bytes once they are done
        (kept on disk as they are)."""
        out: dict[str, bytes] = {}
        todo: dict[str, concurrent.futures.Future[bytes]] = {}
        for key, item in zip(keys, items):
            if key in out or key in todo:
                continue
            kept = read_sealed(self.cache / f"{kind}-{key}") if self.cache is not None else None
            if kept is not None:  # sealed: a damaged entry reads as missing and is made again
                out[key] = kept
            else:
                todo[key] = self.submit(function, item)

        def done() -> list[bytes]:
            for key, future in todo.items():
                out[key] = future.result()
                if self.cache is not None:
                    write_sealed(self.cache / f"{kind}-{key}", out[key])
            return [out[key] for key in keys]
        return done

    def _key(self, job: Job, source: str) -> str:
        digest = hashlib.sha256(self.static_key.encode())
        digest.update(json.dumps([source, job.base, job.allowed, job.leading, job.variant, job.pdf, job.galleys,
                                  job.stylesheets]).encode())
        return digest.hexdigest()

    def _load(self, key: str) -> PageResult | None:
        if self.cache is None:
            return None
        # Every file of the entry is sealed (see ``cache.py``), and the JSON holds the SHA-256 of each
        # PDF: a damaged file, or one from another entry, makes the whole entry missing.
        try:
            meta = read_sealed(self.cache / f"{key}.json")
            if meta is None:
                return None
            data = json.loads(meta)
            names = ([f"{key}.pdf"] if data["pdf"] else []) + [f"{key}-g{index}.pdf"
                                                              for index in range(len(data["galley_pdfs"]))]
            blobs = {name: read_sealed(self.cache / name) for name in names}
            if any(blob is None or hashlib.sha256(blob).hexdigest() != data["sha256"][name]
                   for name, blob in blobs.items()):
                return None
            pdf = blobs[f"{key}.pdf"] if data["pdf"] else None
            pdfs = {slot: blobs[f"{key}-g{index}.pdf"] for index, slot in enumerate(data["galley_pdfs"])}
            galleys = {k: Galley.from_json(g) for k, g in data["galleys"].items()}
            result = PageResult(dict(data["heights"]), pdf, tuple(data["warnings"]), galleys, pdfs)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None
        return result

    def _store(self, key: str, result: PageResult) -> None:
        if self.cache is None:
            return
        sums = {}
        if result.pdf is not None:
            write_sealed(self.cache / f"{key}.pdf", result.pdf)
            sums[f"{key}.pdf"] = hashlib.sha256(result.pdf).hexdigest()
        for index, pdf in enumerate(result.galley_pdfs.values()):
            write_sealed(self.cache / f"{key}-g{index}.pdf", pdf)
            sums[f"{key}-g{index}.pdf"] = hashlib.sha256(pdf).hexdigest()
        data = {"heights": result.heights,
                "pdf": result.pdf is not None, "warnings": list(result.warnings),
                "galleys": {k: g.to_json() for k, g in result.galleys.items()},
                "galley_pdfs": list(result.galley_pdfs), "sha256": sums}
        write_sealed(self.cache / f"{key}.json", json.dumps(data).encode())  # last: the entry is whole


_HASHES: dict[tuple, str] = {}


def _file_hash(path: Path) -> str:
    """SHA-256 of ``path``'s bytes (remembered in this process while the file is unchanged)."""
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _HASHES[key]
