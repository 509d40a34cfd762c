"""Shared fixtures (synthetic projects, the sample issue composed once, a way to run the CLI) and how
the suite is run: in-process layout, unsynced files, two xdist workers (README: Testing)."""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

# Bytecode written and read, as an installed package's is, in this process and the processes it
# starts (they inherit the environment), even where the shell says PYTHONDONTWRITEBYTECODE: without
# it every xdist worker rewrote the asserts of every test module again (3.4 s of a worker's 5 s of
# collection) and every `python -m layout` a test started compiled layout from its sources. It is
# set before anything of layout or the tests is imported, so that their bytecode is kept.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

from factory import THOROUGH, changed_house_fonts  # noqa: E402

# In-process runs lay pages out in the test's own process (no worker processes to fork and warm up
# for every compose): that halves a small compose's time. The tests that are about the workers (kill
# -9, SIGTERM, a dying worker, whole processes started as a user starts them) ask for them.
if not THOROUGH:
    os.environ.setdefault("LAYOUT_WORKERS", "1")
# No compose server (commands/server.py) for any test, nor for the processes the tests start (they
# inherit this): a `layout compose` a test starts runs in its own process and never stays up after it.
# tests/test_server.py turns it on, for the processes it starts and stops.
os.environ["LAYOUT_SERVER"] = "off"

from layout.cli import app  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _unsynced():
    """No fsync in the tests' own process: what it buys (the bytes on the disk through a power cut)
    no test can see, and on a busy disk it was a fifth of a small compose. Whole processes the tests
    start sync as usual; a test that makes fsync fail patches it over this."""
    if THOROUGH:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        yield


@pytest.fixture(scope="session", autouse=True)
def _read_once_per_bytes():
    """The words of a PDF page, and its PDF/A findings, worked out once per worker for the same
    bytes: an archive reads each page with pdfplumber and holds it to PDF/A as it writes it, and
    ``verify`` and the tests do both again (the slowest steps of the archive tests). Both depend on
    the bytes alone, so a second look at the same bytes gives what a fresh one would."""
    if THOROUGH:
        yield
        return
    from layout.archive.alto import plate_words
    from layout.archive.pdfa import check_pdfa

    words_of: dict[tuple[str, int], tuple] = {}
    findings_of: dict[str, list] = {}

    def words_once(pdf: bytes, page: int = 0):  # type: ignore[no-untyped-def]
        key = (hashlib.sha256(pdf).hexdigest(), page)
        if key not in words_of:
            words_of[key] = plate_words(pdf, page)
        words, images, size, corner = words_of[key]
        return list(words), list(images), size, corner

    def findings_once(source):  # type: ignore[no-untyped-def]
        data = source.read_bytes() if isinstance(source, Path) else source
        key = hashlib.sha256(data).hexdigest()
        if key not in findings_of:
            findings_of[key] = check_pdfa(data)
        return list(findings_of[key])

    with pytest.MonkeyPatch.context() as patch:
        for module in [m for name, m in sys.modules.items() if name.split(".")[0] == "layout" or
                       name.startswith("test_")]:  # where they are made, and every module that imports them
            for real, once in ((plate_words, words_once), (check_pdfa, findings_once)):
                for attribute, value in list(vars(module).items()):
                    if value is real:
                        patch.setattr(module, attribute, once)
        yield


_frozen_for: list[object] = [None]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """The first test of each module here starts with what the earlier modules left alive (the
    session's fixtures, the readings kept per bytes, the engine's stylesheets and fonts, the imported
    modules) left out of later garbage collections: its garbage is collected first, then the rest is
    frozen (``gc.freeze``). Python's full collections walked that heap again and again for nothing,
    some 8 % of a worker's CPU. Only what the collector walks changes: frozen objects are still freed
    when their last reference goes, and whatever a module makes is collected as before until the next
    module begins (a test that starts worker processes unfreezes this process's heap: see
    ``Workers.start``)."""
    if THOROUGH or item.module is _frozen_for[0]:
        return
    _frozen_for[0] = item.module
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _one_off_after_a_long_lived_mode():
    """A test that runs the compose server's loop in this process switches it to holding the build
    cache's entries in memory (``cache.hold_entries``), which a server never switches off (its process
    exits), as does a test that calls ``hold_entries`` itself (``watch`` and ``serve`` switch it back
    as they return: ``workers.holding``): afterwards the process is a one-off compose again, as
    every later test expects, and the documents kept for the next round are dropped."""
    from layout.base import cache
    from layout.rendering import workers

    before = cache.holder()
    yield
    if cache.holder() != before:
        workers.given_back(before)


@pytest.fixture(autouse=True)
def _house_fonts_unchanged():
    """Every project's fonts are hard links to one copy of the house fonts a process
    (``factory.make_project``): a test that wrote into a project's font instead of replacing it
    (``factory.replace_file``) would have changed every project's. It fails here, naming the files,
    and the projects made after it get a fresh copy."""
    yield
    changed = changed_house_fonts()
    if changed:
        pytest.fail(f"the test wrote into the house fonts {changed} of a project (linked to every project's): "
                    "replace the file instead (factory.replace_file)", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _cli_command():
    """The click command typer makes of ``app``, made once a worker: ``CliRunner.invoke`` made it again
    for every run (typer reads every command's signature: 4 ms of a 9 ms failing compose), where
    ``layout`` makes it once a process (for the tests' own ``CliRunner().invoke(app, ...)`` too). The
    same command, parameters and help: nothing of it changes between runs."""
    import typer.testing

    command = typer.testing._get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda typer_app: command if typer_app is app
                      else typer.main.get_command(typer_app))
        yield command


@pytest.fixture
def run_cli(monkeypatch):
    """Run ``layout`` with arguments; return (exit code, stdout, stderr)."""

    def run(*args: str, root: Path | None = None) -> tuple[int, str, str]:
        argv = list(args)
        if root is not None:
            argv += ["--root", str(root)]
        result = CliRunner().invoke(app, argv, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


SAMPLE = "issue-2022-04-01"


@pytest.fixture(scope="session")
def composed_sample(tmp_path_factory):
    """A copy of the sample issue, composed once for the session (so the repository's build/ is left
    alone): (project root, BuildResult). Read it, never change it: copy it first (``factory.copy_project``).

    Under xdist the first worker to ask composes it, in a folder the workers share; each other worker
    copies that project, build cache included, and composes its copy, which finds every page, plate
    and check in the cache (its keys hold no absolute path): a second of work, not a tabloid's layout,
    so that the tests reading the sample can go to whichever worker is free."""
    import fcntl

    from factory import REPO, copy_project, make_project

    from layout.build import Project, compose_issue

    root = tmp_path_factory.mktemp("sample")
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None
    if shared is None:  # one process: nothing to share
        _sample_project(root, REPO, make_project)
        return root, compose_issue(Project(root), SAMPLE)
    with open(shared / "sample.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the first one's compose
        made = shared / "sample"
        if not (made / "composed").exists():
            shutil.rmtree(made, ignore_errors=True)
            _sample_project(made, REPO, make_project)
            compose_issue(Project(made), SAMPLE)
            (made / "composed").touch()
    copy_project(made, root)
    return root, compose_issue(Project(root), SAMPLE)


def _sample_project(root: Path, repo: Path, make_project) -> None:  # type: ignore[no-untyped-def]
    make_project(root)
    shutil.copyfile(repo / "issues" / "paper.yaml", root / "issues" / "paper.yaml")
    shutil.copytree(repo / "issues" / SAMPLE, root / "issues" / SAMPLE, dirs_exist_ok=True)


# ---- xdist: which tests share a worker ---------------------------------------------------------

SHARED = {"composed_sample"}
"""Session fixtures made once for all the workers (each other worker copies it, from the cache): a
test that reads one runs on that fixture's worker only if it has no module's group to follow (the
same bytes are read once a worker: see ``_read_once_per_bytes``)."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup`` a test that reads a fixture made once for its module runs on the
    worker that made it (its module's group), and a test that reads one made once for the session
    here on that fixture's worker (those made once for all workers, ``SHARED``, only if it has no
    module's group): nothing is composed twice. Every other test goes to whichever worker is free."""
    here = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("xdist_group") is not None or getattr(item, "_fixtureinfo", None) is None:
            continue
        info, module = item._fixtureinfo, Path(str(item.path))
        groups, shared = [], []
        for name in info.names_closure:
            for definition in info.name2fixturedefs.get(name, ()):
                code = getattr(definition.func, "__code__", None)
                where = Path(code.co_filename) if code is not None else None
                if definition.scope in ("module", "package") and where == module:
                    groups.append(module.stem)
                elif definition.scope == "session" and where is not None and where.parent == here \
                        and not name.startswith("_"):
                    (shared if name in SHARED else groups).insert(0, f"session-{name}")
        if groups or shared:
            item.add_marker(pytest.mark.xdist_group((groups or shared)[0]))
