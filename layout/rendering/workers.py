"""The worker processes that lay pages out on every core, and the page cache in front of them: an
unchanged page is never laid out twice, in one run or across runs. WeasyPrint (``rendering/engine.py``) is
loaded only when a page is laid out, not when this module is imported."""

from __future__ import annotations

import concurrent.futures.process  # BrokenProcessPool: the submodule is loaded only with a pool
import contextlib
import ctypes
import functools
import gc
import hashlib
import importlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from ..base.cache import Store, hold_entries, holder, holds_entries, portable, restore_holder
from ..base.files import file_hash
from ..base.heap import frozen_after
from ..composing.galley import Galley
from ..composing.jobs import Batch, Job, PageResult, Warm
from ..errors import RenderError

T = TypeVar("T")
R = TypeVar("R")

PARENT_ONLY_FILES: set[int] = set()
"""Descriptors a worker must close when it starts (the issue's lock: were a worker to keep it open,
a killed run's workers would hold the issue locked until they noticed their parent had gone)."""


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
        engine = sys.modules.get("layout.rendering.engine")  # its temporary font folder, if it made one
        if engine is not None:
            engine.drop_fonts(os.getpid())
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
            from .engine import warm_up

            warm_up(*warm)
    # What the worker holds from now on (the parent's objects, frozen when it forked, and the
    # warm-up's stylesheets, fonts and patterns) is left out of every collection, and none runs in
    # the middle of a task: see ``_task``.
    gc.freeze()
    gc.disable()


COLLECT_AFTER = 1000
"""Objects allocated (and not yet freed) by a worker's task past which it collects its garbage after it."""


def _task(function: Callable[..., R], *args: object) -> R:
    """``function(*args)`` in a worker, its garbage collected once it is done, not while it runs.

    Laying a document out, WeasyPrint keeps its whole box tree alive while it allocates, so that
    Python's collections in the middle of a task (some 15 a document) walked it again and again
    for nothing: 9-10 % of a worker's time. Once the task is done, that tree is garbage (or freed),
    and one collection of what the task left costs 5 ms a document. Less time, and less memory
    too (a worker's peak 77 MB instead of 85 over the 16-page benchmark's documents)."""
    try:
        return function(*args)
    finally:
        if gc.get_count()[0] > COLLECT_AFTER:
            gc.collect()


def default_count() -> int:
    """How many worker processes a run starts: ``LAYOUT_WORKERS`` if it is a whole number above 0
    (1: every page is laid out in the run's own process, as the tests do), else one a core."""
    value = os.environ.get("LAYOUT_WORKERS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else os.cpu_count() or 1


class Workers:
    """The worker processes. A run starts its own; ``layout watch`` keeps one set for all its runs,
    so that a save is laid out by workers that are already warm."""

    def __init__(self, count: int | None = None) -> None:
        self.count = count or default_count()
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
            # Imported once here, not once a worker: what the workers run (see ``INHERITED``), and the
            # engine (WeasyPrint) if they will lay pages out (``warm``).
            _load(INHERITED + (("layout.rendering.engine",) if warm is not None else ()))
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


INHERITED = ("pypdf", "pypdfium2")
"""Imported before the workers fork (they inherit them): the plates' finisher and the proofs' renderer,
which every compose's workers run. This process imports them only when it makes a plate or a proof
itself: a recompose whose plates and proofs are all cached imports neither (0.06-0.09 s)."""


def load_engine() -> None:
    """Import the engine (WeasyPrint: 0.25-0.35 s of CPU) in this process, when pages are laid out
    here or on workers forked after it: a recompose whose pages are all cached never imports it."""
    _load(("layout.rendering.engine",))


def _load(names: tuple[str, ...]) -> None:
    """Import the modules ``names`` not yet imported, with the collector off, and leave what the imports
    made out of later collections (it lives as long as the process), as ``cli._importing`` does."""
    names = tuple(name for name in names if name not in sys.modules)
    if not names:
        return
    with frozen_after():
        for name in names:
            importlib.import_module(name)


def completed(value: T) -> concurrent.futures.Future[T]:
    """A future already done with ``value`` (work done here, or read from a cache)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    future.set_result(value)
    return future


POOL_JOBS = 3
"""The fewest documents (or plates) to make that are worth starting the worker processes for. Started
and warmed (hyphenation patterns, the stylesheet and its fonts: about 0.2 s of CPU in each worker), a
pool costs more than it saves for the one or two documents a recompose after an edit lays out: those
are laid out in this process, which warms up once."""


_KEPT: dict[str, PageResult] = {}
"""The documents of the last run of a process that holds the build cache's entries
(``cache.hold_entries``: ``layout watch``, the compose server, the command that becomes one), by
their keys: the next run takes an unchanged document's result from here (its entry touched, as
reading it does), instead of unpacking and parsing its entry again (bench-16's 144: some 10 ms of a
served recompose). A key is the hash of everything its result is made from, so a result kept is the
entry's; one whose entry has gone from the store is read (and made) again."""


@contextlib.contextmanager
def holding() -> Iterator[None]:
    """The build cache's entries held (``cache.hold_entries``) while the block runs, for the commands
    that compose again and again (``layout watch``, ``serve``); afterwards the process is as it was
    before (``given_back``)."""
    before = holder()
    hold_entries()
    try:
        yield
    finally:
        given_back(before)


def given_back(before: int) -> None:
    """The process made a one-off compose again if it was one (``cache.restore_holder``), keeping
    none of the documents kept for the next run (``_KEPT``)."""
    restore_holder(before)
    if not holds_entries():
        _KEPT.clear()


class PageRenderer:
    """Lays out jobs on all cores, and keeps each result on disk keyed by everything that affects it.

    The key (the store's ``page`` entries) hashes what the page's HTML is made from (its articles,
    positions and settings), the files it references (photos, stylesheets, fonts, templates) and,
    through the store's salt, the versions of layout, WeasyPrint and what it lays text out with: an
    unchanged page is never laid out twice, in one run or across runs.
    """

    def __init__(self, store: Store | None, static_files: tuple[Path, ...], workers: int | None = None,
                 warm: Warm | None = None, shared: Workers | None = None, early: bool = True,
                 root: Path | None = None) -> None:
        self.store = store if store is not None else Store(None)
        self.root = root
        """The project's folder: the jobs' folders are in their keys relative to it (a copy of the
        project finds its pages cached; nothing a page's bytes hold depends on where it is)."""
        digest = hashlib.sha256()
        for path in sorted(static_files):
            digest.update(str(path.name).encode() + file_hash(path).encode())
        self.static_key = digest.hexdigest()
        self.memory: dict[str, PageResult] = {}
        self._portable: dict[str, str] = {}
        self.hits = self.misses = 0
        self._owned = shared is None
        self._workers = shared if shared is not None else Workers(workers)
        self.workers = self._workers.count
        self._warm = warm
        # Workers kept from run to run (``layout watch``) are started once a session, and warm from
        # then on: any two items go to them, as they always have.
        self._pool_jobs = 2 if shared is not None else POOL_JOBS
        if warm is not None and self.workers > 1 and (shared is not None or (early and not _rendered())):
            # Start the workers now, so that they warm up (hyphenation patterns, stylesheet and its
            # fonts) while the sources are read (and once for all its runs, for ``layout watch``).
            # Otherwise (``early`` False: a recompose, whose pages are mostly cached) they are
            # started when there are ``POOL_JOBS`` documents to lay out.
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
                cached = self._kept(key) or self._load(key)
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
        """Stop the worker processes (unless they are shared: see ``Workers``); the run is over, so
        the store is kept under its cap."""
        if self._owned:
            self._workers.close()
        self.store.close()
        if holds_entries():  # for the next run of this process (what this one used, nothing else)
            _KEPT.clear()
            _KEPT.update(self.memory)

    def _map(self, jobs: list[Job]) -> Iterator[PageResult]:
        if not jobs:  # every page cached: WeasyPrint is not imported
            return iter(())
        load_engine()
        from .engine import lay_out, load_hyphenation

        self._start_for(len(jobs), self._warm)
        if self._here(len(jobs)):
            load_hyphenation(self.store)
        return self.each(lay_out, jobs)

    def _start_for(self, count: int, warm: Warm | None = None) -> None:
        """Start the workers (warmed with ``warm``) if there are ``count`` items for them, enough
        to be worth it (``POOL_JOBS``), and more than one core."""
        if count >= self._pool_jobs and self.workers > 1 and not self._workers.started:
            self._workers.start(warm)

    def _here(self, count: int) -> bool:
        """Whether ``count`` items are done in this process (see ``map``)."""
        return self.workers <= 1 or not self._workers.started or (count == 1 and _rendered())

    def map(self, function: Callable[[T], R], items: list[T]) -> list[R]:
        """``function`` of each item, on every core if the worker processes are running.

        Everything runs here if no worker has been started (see ``POOL_JOBS``), and a single item
        if this process has laid pages out before (``layout watch``); otherwise on the workers,
        which are warm."""
        return list(self.each(function, items))

    def each(self, function: Callable[[T], R], items: list[T]) -> Iterator[R]:
        """``map``, each result given as soon as it and those before it are done (so that the
        caller can store it while the workers go on)."""
        if not items or self._here(len(items)):
            yield from (function(item) for item in items)
            return
        try:
            yield from self._workers.start().map(functools.partial(_task, function), items)
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
            return self._workers.start().submit(_task, function, *args)
        return completed(function(*args))

    def cached(self, kind: str, keys: list[str], function: Callable[[T], bytes], items: list[T],
               entry: Callable[[bytes], bytes] | None = None, each: Callable[[int, bytes], None] | None = None,
               keep: bool = True, in_order: bool = True) -> Callable[[], list[bytes]]:
        """Start ``function`` of each item (bytes) not kept in the store as ``kind`` under its key in
        ``keys`` (made by ``store.key``; on the workers, as ``submit`` runs it), and return what
        gives every item's bytes once they are done (kept in the store as they are: ``entry`` of
        them, if given, for a result that carries more than its entry holds). ``each(index, bytes)``
        is called with every item's bytes, in order, as soon as they and those before are there.
        With ``keep`` false, what it gives is an empty list: each item's bytes are let go once
        ``each`` has had them (the 64 plates of a 64-page issue, with their proofs and PNGs, were
        held twice, some 150 MB). With ``in_order`` false, ``each`` is given the items kept in the store
        first (at once), then the others as they are done (the caller works on the first meanwhile)."""
        out: dict[str, bytes] = {}
        missing: dict[str, T] = {}
        for key, item in zip(keys, items):
            if key in out or key in missing:
                continue
            kept = self.store.get(kind, key)
            if kept is not None:  # sealed: a damaged entry reads as missing and is made again
                out[key] = kept
            else:
                missing[key] = item
        self._start_for(len(missing))  # unwarmed: these are not laid out
        todo = {key: self.submit(function, item) for key, item in missing.items()}

        last = {key: index for index, key in enumerate(keys)}

        def done() -> list[bytes]:
            later = [index for index, key in enumerate(keys) if key in todo] if not in_order else []
            for index in [*(i for i in range(len(keys)) if keys[i] not in todo), *later] if later else range(len(keys)):
                key = keys[index]
                if key in todo:
                    out[key] = todo.pop(key).result()
                    self.store.put(kind, key, entry(out[key]) if entry is not None else out[key])
                if each is not None:
                    each(index, out[key])
                if not keep and last[key] == index:
                    del out[key]
            return [out[key] for key in keys] if keep else []
        return done

    def _key(self, job: Job, source: str) -> str:
        folders = [job.base, *job.allowed, *job.stylesheets]
        if self.root is not None:
            folders = [self._relative(folder, self.root) for folder in folders]
        return self.store.key("page", self.static_key, json.dumps([
            source, folders, len(job.allowed), job.leading, job.variant, job.pdf, job.galleys]))

    def _relative(self, folder: str, root: Path) -> str:
        """``portable(folder, root)``, once a run for each folder (every job names the same few)."""
        if folder not in self._portable:
            self._portable[folder] = portable(Path(folder), root)
        return self._portable[folder]

    def _kept(self, key: str) -> PageResult | None:
        kept = _KEPT.get(key) if holds_entries() else None
        return kept if kept is not None and self.store.touch("page", key) else None

    def _load(self, key: str) -> PageResult | None:
        # One entry: the result's JSON, then its PDF (if any) and its galleys' PDFs, under one seal.
        parts = self.store.get_parts("page", key)
        if not parts:
            return None
        try:
            data = json.loads(parts[0])
            pdfs = parts[1:]
            pdf = pdfs.pop(0) if data["pdf"] else None
            if len(pdfs) != len(data["galley_pdfs"]):
                return None
            galleys = {k: Galley.from_json(g) for k, g in data["galleys"].items()}
            return PageResult(dict(data["heights"]), pdf, tuple(data["warnings"]), galleys,
                              dict(zip(data["galley_pdfs"], pdfs)))
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    def _store(self, key: str, result: PageResult) -> None:
        data = {"heights": result.heights,
                "pdf": result.pdf is not None, "warnings": list(result.warnings),
                "galleys": {k: g.to_json() for k, g in result.galleys.items()},
                "galley_pdfs": list(result.galley_pdfs)}
        self.store.put_parts("page", key, [json.dumps(data).encode(),
                                           *([result.pdf] if result.pdf is not None else []),
                                           *result.galley_pdfs.values()])


def _rendered() -> bool:
    """Whether this process has laid a document out (or warmed up as a worker)."""
    engine = sys.modules.get("layout.rendering.engine")
    return engine is not None and engine.rendered()
