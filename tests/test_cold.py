"""What makes a cold compose cheaper, as whole processes: the workers' garbage collected after each task,
not during it; results given as they come; templates compiled once a machine; no collection nor teardown at exit."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest

from layout.rendering import workers
from layout.rendering.workers import PageRenderer, Workers


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


_ALIVE: list[weakref.ref] = []


def _make_cycles(count: int) -> tuple[int, bool, int]:
    """In a worker: leave ``count`` cycles behind, and say whether the collector ran meanwhile."""
    collections = gc.get_stats()[0]["collections"]
    _ALIVE.extend(weakref.ref(_Node()) for _ in range(count))
    return os.getpid(), gc.isenabled(), gc.get_stats()[0]["collections"] - collections


def _still_alive() -> tuple[int, int]:
    return os.getpid(), sum(ref() is not None for ref in _ALIVE)


def test_a_worker_collects_a_tasks_garbage_once_it_is_done_and_never_while_it_runs():
    pool = Workers(2)
    renderer = PageRenderer(None, (), shared=pool)
    try:
        pool.start()
        # Many cycles (past the collector's own threshold, 700): none is collected while the task runs.
        made = [renderer.submit(_make_cycles, 5 * workers.COLLECT_AFTER).result() for _ in range(4)]
        assert all(not enabled and collected == 0 for _, enabled, collected in made)
        left = [renderer.submit(_still_alive).result() for _ in range(8)]
        assert all(alive == 0 for _, alive in left)  # each task's cycles collected once it was done
        assert os.getpid() not in {pid for pid, _ in left}  # on the workers, not here
    finally:
        pool.close()
    assert gc.isenabled()  # this process collects as before


def _twice(item: bytes) -> bytes:
    return item * 2


def test_cached_gives_each_result_in_order_as_it_comes_and_keeps_the_entry_asked_for(tmp_path):
    from layout.base.cache import Store

    store = Store(tmp_path / "cache")
    renderer = PageRenderer(store, ())  # no workers started: made here
    keys = [store.key("proof", name) for name in ("a", "b", "a", "c")]
    store.put("proof", keys[1], b"kept")  # in the cache: not made again
    seen: list[tuple[int, bytes]] = []
    done = renderer.cached("proof", keys, _twice, [b"A", b"B", b"A", b"C"], entry=lambda made: made[:1],
                           each=lambda index, data: seen.append((index, data)))
    assert done() == [b"AA", b"kept", b"AA", b"CC"]
    assert seen == [(0, b"AA"), (1, b"kept"), (2, b"AA"), (3, b"CC")]
    assert [store.get("proof", key) for key in keys] == [b"A", b"kept", b"A", b"C"]  # the entries, cut


def _big(item: bytes) -> bytes:
    return item * (4 * 2**20)


def test_cached_without_keeping_lets_each_result_go_once_each_has_had_it(tmp_path):
    """``keep=False`` (the plates: some 150 MB held twice at 64 pages): ``each`` still gets every
    item, a repeated key's too, in order; nothing is handed back, and nothing is held after."""
    import tracemalloc

    from layout.base.cache import Store

    def held(keep: bool) -> tuple[int, list, list]:
        store = Store(tmp_path / f"cache-{keep}")
        renderer = PageRenderer(store, ())
        keys = [store.key("proof", name) for name in ("a", "b", "a")]
        seen: list[tuple[int, int]] = []
        tracemalloc.start()
        try:
            done = renderer.cached("proof", keys, _big, [b"A", b"B", b"A"], keep=keep,
                                   each=lambda index, data: seen.append((index, len(data))))
            given = done()
            if given:
                given = [len(data) for data in given]
            left = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert store.get("proof", keys[1]) == b"B" * (4 * 2**20)
        return left, seen, given

    left, seen, given = held(False)
    assert seen == [(0, 4 * 2**20), (1, 4 * 2**20), (2, 4 * 2**20)] and given == []
    assert left < 2**20  # let go
    kept_left, kept_seen, kept_given = held(True)
    assert kept_seen == seen and kept_given == [4 * 2**20] * 3
    assert kept_left > 8 * 2**20  # (held while what gives them lives: the test can tell)


def test_templates_compiled_once_are_read_back_from_the_users_cache_in_an_empty_build_folder(tmp_path, monkeypatch):
    import jinja2

    from layout.base.cache import Store
    from layout.composing import markup

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user"))
    compiled: list[str] = []
    compile_ = jinja2.Environment.compile

    def counted(self, source, name=None, *args, **kwargs):
        compiled.append(name)
        return compile_(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    monkeypatch.setattr(markup._ENV, "bytecode_cache", markup._ENV.bytecode_cache)  # put back after the test

    def load(build: str) -> None:  # a new process: nothing compiled in memory, the build folder's store
        monkeypatch.setattr(markup._ENV, "cache", type(markup._ENV.cache)(markup._ENV.cache.capacity))
        markup.keep_compiled(Store(tmp_path / build / ".cache"))
        markup._ENV.get_template("issue.html.j2")

    load("one")
    assert "issue.html.j2" in compiled  # compiled, kept in the store and in the user's cache
    assert any((tmp_path / "user" / "layout").glob("jinja2_*.bin"))
    compiled.clear()
    load("two")  # another, empty build folder
    assert compiled == [] and any((tmp_path / "two" / ".cache" / "template").iterdir())
    for kept in (tmp_path / "user" / "layout").glob("jinja2_*.bin"):  # damaged: compiled again
        kept.write_bytes(kept.read_bytes()[:-3])
    load("three")
    assert "issue.html.j2" in compiled


def test_the_command_leaves_its_heap_out_of_the_collection_at_exit(helped):
    # The probe's exit handlers, registered before main(), run after main()'s own (last in, first out).
    assert helped.returncode == 0 and "Usage" in helped.stdout
    assert "frozen at exit: True" in helped.stdout


PROBE = """
import gc
from layout import cli
runs = []
gc.callbacks.append(lambda phase, info: runs.append(phase))
with cli._importing():
    import layout.build
    during = gc.isenabled()
print("collections", len(runs), "enabled during", during, "after", gc.isenabled(),
      "frozen", gc.get_freeze_count() > 10000)
with cli._importing():
    print("again enabled", gc.isenabled())
"""


def test_the_sequencer_is_imported_without_collections_and_what_it_made_is_left_out_of_later_ones():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "collections 0 enabled during False after True frozen True" in done.stdout
    assert "again enabled True" in done.stdout  # imported already: the collector is left alone


EXIT_PROBE = """
import atexit, gc, sys, threading
class Teardown:
    def __del__(self):
        print("torn down", flush=True)
kept = Teardown()  # freed only by the interpreter's teardown
atexit.register(lambda: print("exit handler ran"))  # buffered: printed only if the output is flushed
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))  # after main()'s own handlers
if sys.argv[1] == "thread":  # a thread that runs until the interpreter shuts down, however long the
    threading.Thread(target=threading.main_thread().join).start()  # import below takes: it ends as exit begins
    from layout.cli import _exit
    _exit(3)
sys.argv = ["layout", *sys.argv[1:]]
from layout.cli import main
main()
"""


def _probe(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", EXIT_PROBE, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "LAYOUT_SERVER": "off"})


@pytest.fixture(scope="module")
def helped() -> subprocess.CompletedProcess:
    """``layout --help`` run once through the exit probe, for the two tests that read what it printed
    (its exit handlers and output, and whether its heap was frozen at exit): one process fewer."""
    return _probe("--help")


def test_the_command_ends_once_its_exit_handlers_ran_and_its_output_is_flushed_without_the_teardown(tmp_path,
                                                                                                   helped):
    done = helped
    assert done.returncode == 0 and "Usage" in done.stdout
    assert "exit handler ran" in done.stdout and "torn down" not in done.stdout
    failed = _probe("compose", "no-such-issue", "--root", str(tmp_path))  # its exit code and message kept
    assert failed.returncode not in (0, 70) and "no-such-issue" in failed.stderr, failed.stderr
    assert "exit handler ran" in failed.stdout and "torn down" not in failed.stdout


def test_with_a_thread_still_running_the_command_exits_as_the_interpreter_does():
    done = _probe("thread")
    assert done.returncode == 3
    assert "exit handler ran" in done.stdout and "torn down" in done.stdout


def test_under_a_profiler_the_command_returns_so_that_the_profile_is_written(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(EXIT_PROBE)
    report = tmp_path / "layout.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(report), str(script), "--help"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "LAYOUT_SERVER": "off"})
    assert done.returncode == 0 and "Usage" in done.stdout and report.stat().st_size > 0


def test_pages_are_laid_out_a_few_a_document_and_the_last_alone():
    from layout.run import MOST_PAGES, documents

    assert [len(d) for d in documents(list(range(16)), 2)] == [4, 4, 4, 1, 1, 1, 1]
    assert [len(d) for d in documents(list(range(8)), 2)] == [2, 2, 1, 1, 1, 1]
    assert [len(d) for d in documents(list(range(4)), 2)] == [1, 1, 1, 1]  # the sample: as before
    assert [len(d) for d in documents(list(range(1)), 2)] == [1]
    assert [len(d) for d in documents(list(range(16)), 1)] == [4, 4, 4, 2, 1, 1]
    for count in range(1, 70):  # every page in one document, once, in order
        for cores in (1, 2, 3):
            made = documents(list(range(count)), cores)
            assert [i for d in made for i in d] == list(range(count)) and max(len(d) for d in made) <= MOST_PAGES


def _three_pages(root):
    from factory import add_photo, body, make_project, write_article, write_manifest

    issue = make_project(root)
    photo = add_photo(issue)
    pages = []
    for number in (1, 2, 3):
        slots = []
        for k in (0, 1):
            slug = f"p{number}-s{k}"
            front = {"images": [{"file": photo, "caption": "Cranes", "credit": "Test"}]} if k == 0 else {}
            write_article(issue, slug, body(120 + 40 * k, seed=10 * number + k), headline=f"Story {slug}", **front)
            slots.append({"slug": slug, "columns": 3 if k == 0 else 2})
        pages.append({"page": number, "template": "front" if number == 1 else "inside", "articles": slots})
    write_manifest(issue, {"pages": pages})


def _build_files(root):
    """The SHA-256 of every output and of the cache's documents, plates and proofs (what else the
    cache holds, converted articles and the like, this process keeps in memory after the first)."""
    import hashlib

    build = root / "build"
    return {str(p.relative_to(build)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build.rglob("*")) if p.is_file() and p.name != ".lock"
            and (".cache" not in p.parts or p.parent.name in ("page", "plate", "proof"))}


def test_pages_laid_out_in_one_document_give_every_file_the_bytes_of_each_page_laid_out_alone(tmp_path, monkeypatch):
    """The pages (their frames empty) laid out several a document, each written as a PDF of its own:
    every file of the build, the cache's entries of each page among them (their heights and PDFs),
    is what laying each page out alone makes; a photo on every page."""
    import shutil

    from layout import run
    from layout.build import Project, compose_issue

    _three_pages(tmp_path)
    laid_out: list[int] = []
    alone = compose_issue(Project(tmp_path), "test-issue")
    each_alone = _build_files(tmp_path)
    shutil.rmtree(tmp_path / "build")
    monkeypatch.setattr(run, "documents", lambda items, workers: laid_out.append(len(items)) or [items])
    together = compose_issue(Project(tmp_path), "test-issue")
    assert laid_out == [3]  # the three pages in one document
    assert together.laid_out < alone.laid_out
    files = _build_files(tmp_path)
    assert sum(name.startswith(".cache/page/") for name in files) == 3 * 2 * 2 + 3  # galleys, top matters, pages
    assert files == each_alone


def test_a_document_of_pages_that_did_not_come_one_a_page_is_laid_out_a_page_a_document(tmp_path):
    from layout.composing.jobs import Job
    from layout.rendering.engine import lay_out

    def page(text):
        return f'<section style="break-after: page" id="{text}"><p>{text}</p></section>'

    def html(*sections):
        return "<!DOCTYPE html><html><head><title>t</title></head><body>" + "".join(sections) + "</body></html>"

    job = Job("", str(tmp_path), (str(tmp_path),), 12.0, None, True)
    one, two = (lay_out(Job(html(page(t)), str(tmp_path), (str(tmp_path),), 12.0, None, True)).pdf
                for t in ("one", "two"))
    pages = (html(page("one")), html(page("two")))
    together = lay_out(Job(html(page("one"), page("two")), job.base, job.allowed, 12.0, None, True, pages=pages))
    assert together.page_pdfs == (one, two) and together.pdf is None
    # Three pages where two were to be: laid out again, each page alone.
    odd = lay_out(Job(html(page("one"), page("extra"), page("two")), job.base, job.allowed, 12.0, None, True,
                      pages=pages))
    assert odd.page_pdfs == (one, two)
