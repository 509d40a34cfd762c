"""The command line: parse arguments, call one function, turn errors into exit codes.

Each command imports the stages it runs when it runs: ``layout --help`` (or a typo) never pays for
WeasyPrint, Pillow or pikepdf."""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from .base.heap import frozen_after
from .errors import INTERRUPTED, TERMINATED, InputError, LayoutError, Problem, environment_fault, is_environment

if TYPE_CHECKING:
    from .build import Project

app = typer.Typer(
    help="Compose the New Worker: Markdown articles and a manifest in, print-ready PDF pages out.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)

ROOT_HELP = "Project folder holding issues/, stylesheets/ and fonts/ (default: $LAYOUT_ROOT or the current folder)."


def _project(root: Path | None) -> Project:
    from .build import Project

    return Project((root or Path(os.environ.get("LAYOUT_ROOT", "."))).resolve())


def _run(debug: bool, action) -> None:
    """Run ``action``; a LayoutError becomes its message and exit code (a traceback only with --debug)."""
    try:
        action()
    except LayoutError as error:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        raise typer.Exit(130) from None
    except Terminated:
        typer.echo(TERMINATED, err=True)
        raise typer.Exit(143) from None
    except typer.Exit:
        raise
    except (OSError, MemoryError) as error:
        if not is_environment(error):
            _bug(debug, error)
        if debug:
            traceback.print_exc()
        fault = environment_fault(error)
        typer.echo(f"error: {fault}", err=True)
        raise typer.Exit(fault.exit_code) from None
    except Exception as error:  # a bug in layout, not the user's fault: say so, briefly
        _bug(debug, error)


@contextlib.contextmanager
def _importing() -> Iterator[None]:
    """Import the sequencer (pikepdf, Pillow, pydantic and the stages: WeasyPrint, pypdf and PDFium are
    imported when a page is laid out, a plate finished, a proof drawn: ``rendering/workers.py``) with the
    collector off, and leave what the imports made out of later collections: it lives as long as the
    process, and the collections walked it for nothing (0.03-0.045 s of CPU before the first document).
    Nothing is done in a process that has imported it already (the tests', ``layout watch``'s)."""
    if "layout.build" in sys.modules:
        yield
        return
    with frozen_after():
        yield


def _bug(debug: bool, error: BaseException) -> None:
    """Report a bug in layout (exit 70), with its traceback only under --debug."""
    if debug:
        raise error
    typer.echo(f"internal error: {type(error).__name__}: {error}\n"
               "this is a bug in layout; run again with --debug and report the traceback", err=True)
    raise typer.Exit(70) from None


@app.command()
def compose(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/, e.g. issue-2022-04-01."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    strict: bool = typer.Option(False, help="Fail on any WeasyPrint warning (bad CSS, missing glyph)."),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
    no_server: bool = typer.Option(False, "--no-server", help="Compose in this process: neither ask the warm "
                                   "compose server nor become one (as LAYOUT_SERVER=off)."),
) -> None:
    """Compose an issue: write build/<issue>/<issue>.pdf and the fit report; fail if copy is overset."""
    del no_server  # read from the command line before typer runs (base/daemon.served)

    def action() -> None:
        with _importing():
            from .build import compose_issue
            from .commands.server import shared_workers
        from .console import stage_lines

        project = _project(root)
        with stage_lines():  # in the compose server, its workers, kept warm (as layout watch keeps them)
            result = compose_issue(project, issue_id, strict=strict, shared=shared_workers(project, issue_id))
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"Done: {len(result.issue.pages)} pages, {len(result.composition.slots)} slots "
                   f"in {result.seconds:.1f} s -> {result.issue_pdf}", err=True)

    _run(debug, action)


@app.command()
def fit(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Print the fit report (lines over and short for every slot) without writing plates."""

    def action() -> None:
        from .build import fit_issue
        from .composing.fit import fit_table
        from .console import stage_lines

        with stage_lines():
            _, composition = fit_issue(_project(root), issue_id)
        typer.echo(fit_table(composition))
        if composition.overset:
            raise typer.Exit(3)

    _run(debug, action)


@app.command()
def proof(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Compose and write proofs only: PNG pages and the flat plan in build/<issue>/proofs/, no plates."""

    def action() -> None:
        from .build import compose_issue
        from .console import stage_lines

        with stage_lines():
            result = compose_issue(_project(root), issue_id, plates=False)
        typer.echo(f"proofs in {result.issue_pdf.parent / 'proofs'}", err=True)

    _run(debug, action)


@app.command()
def diff(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Compare this compose with the previous one: reflowed articles, changed pages, moved jumps."""

    def action() -> None:
        from .base.files import write_atomic
        from .commands.diff import compare
        from .commands.diff import report as diff_report
        from .commands.diff import report_json as diff_json

        out = _project(root).build(issue_id)
        if not (out / "previous" / "fit.json").exists():
            raise InputError(f"nothing to compare for {issue_id}", (Problem(
                str(out), "", "there is no previous compose", f"compose twice: layout compose {issue_id}"),))
        changes = compare(out / "previous", out, out / "diff")
        write_atomic(out / "diff.json", diff_json(changes))
        typer.echo(diff_report(changes))

    _run(debug, action)


@app.command()
def archive(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/ (composed, preflight passed)."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Archive the issue: PDF/A-3b with its sources, plates, reports and metadata as a BagIt bag."""
    from .commands.archive import archive_issue

    def action() -> None:
        from .console import stage_lines

        with stage_lines():
            result = archive_issue(_project(root), issue_id)
        typer.echo(f"{'archived' if result.created else 'already archived (unchanged)'}: {result.path}")

    _run(debug, action)


@app.command()
def verify(
    path: Path = typer.Argument(..., help="An archived issue: archive/<year>/<issue-id>."),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Re-check an archive: checksums, METS and ALTO against their schemas, ALTO against the pages'
    text, PDF/A-3b rules; exit 7 if anything changed or does not hold."""
    from .commands.archive import verify as verify_bag

    def action() -> None:
        files = verify_bag(path)
        typer.echo(f"{path}: valid, {len(files)} files match their checksums")
        if (path / "data" / "mets.xml").exists():
            typer.echo(f"{path}: METS and ALTO valid against their schemas, ALTO words and boxes as the pages "
                       "print them, PDF/A-3b rules pass")
        else:
            typer.echo(f"{path}: made by an earlier layout (no METS or ALTO): checksums checked only; "
                       "layout archive ISSUE writes a full archive beside it")

    _run(debug, action)


@app.command()
def check(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Preflight the plates already composed: boxes, fonts, colour, ppi, ink, type size, PDF/X."""

    def action() -> None:
        from .outputs import check_issue_plates
        from .press.preflight import report_table

        findings, folder = check_issue_plates(_project(root), issue_id)
        typer.echo(f"checking {folder}")
        typer.echo(report_table(findings))
        if not all(f.ok for f in findings):
            raise typer.Exit(5)

    _run(debug, action)


@app.command()
def watch(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    interval: float = typer.Option(0.5, help="Seconds between looks at the files."),
) -> None:
    """Recompose the issue (PDF, fit report, proofs) every time a source file is saved; Ctrl-C stops."""
    from .commands.watch import watch as run_watch

    try:
        run_watch(_project(root), issue_id, lambda line: typer.echo(line, err=True), interval)
    except (KeyboardInterrupt, Terminated):
        raise typer.Exit(0) from None


@app.command()
def serve(
    issue_id: str = typer.Argument(..., help="The issue folder under issues/."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    port: int = typer.Option(8719, help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind. Anything but 127.0.0.1/localhost lets other "
                             "machines read the proofs, and prints a warning."),
    interval: float = typer.Option(0.2, help="Seconds between looks at the files."),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Live proofs in the browser: every page with its fit, recomposed and refreshed on every save."""
    from .commands.serve import serve as run_serve

    def action() -> None:
        try:
            run_serve(_project(root), issue_id, host, port, lambda line: typer.echo(line, err=True), interval)
        except OSError as error:  # the port is taken, or the address is not this machine's
            raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}", (Problem(
                "--port", str(port), "the address or port cannot be used",
                "pick another with --port N (or stop what is using it)"),)) from None
        except KeyboardInterrupt:
            typer.echo("stopped", err=True)

    _run(debug, action)


@app.command("new")
def new(
    issue_id: str = typer.Argument(..., help="The new issue's folder under issues/, e.g. issue-2022-04-08."),
    previous: str = typer.Option(..., "--from",
                                 help="Last week's issue, whose plan, adverts and house adverts are kept."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Make a new issue from last week's: same pages and adverts, date and number moved on, copy cleared."""
    from .commands.newissue import new_issue

    def action() -> None:
        folder = new_issue(_project(root).issues, issue_id, previous)
        typer.echo(f"made {folder}: write the stories into its articles/ (each a placeholder), then compose", err=True)

    _run(debug, action)


@app.command()
def clean(
    cache: bool = typer.Option(False, "--cache", help="Remove the build cache, build/.cache/ (shared by every issue)."),
    root: Path | None = typer.Option(None, help=ROOT_HELP),
    debug: bool = typer.Option(False, help="Show Python tracebacks."),
) -> None:
    """Remove what layout keeps between runs: --cache, the build cache (the next compose makes every
    page, photo and plate again, with the same bytes). The issues' outputs are kept."""

    def action() -> None:
        if not cache:
            raise InputError("nothing to clean was named", (Problem(
                "layout clean", "", "say what to remove", "run: layout clean --cache (the build cache)"),))
        from .base.cache import Store
        from .commands.server import stop

        project = _project(root)
        stop(project.root)  # the project's compose server: its build cache goes
        freed = Store(project.cache, 0, "").clear()
        for old in sorted(project.root.joinpath("build").glob("*/.cache")):  # where layout kept it before
            if old.is_dir() and not old.is_symlink():
                freed += sum(p.stat().st_size for p in old.rglob("*") if p.is_file())
                shutil.rmtree(old)
        typer.echo(f"removed the build cache ({freed / 1e6:.1f} MB); the next compose makes everything again")

    _run(debug, action)


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM arrived: unwind (staging folders removed, workers stopped), then exit 143."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def command(argv: list[str], prog: str | None = None) -> int:
    """Run the command line ``argv`` (without the program's name); its exit code. The compose server
    runs each request with this, so that every option, message and exit code is the command line's."""
    try:
        app(args=argv, prog_name=prog)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
        return 1
    return 0


def main(asked: bool = False) -> None:
    """Entry point of the ``layout`` command. ``layout compose`` is offered to the project's warm
    compose server first (``asked``: ``__main__`` has done so, before importing this module); run here,
    it becomes the server once it has ended (``commands/server.py``)."""
    # At exit, after every other exit handler: what the process holds is left out of the collection
    # that the interpreter makes as it shuts down, which freed a compose's whole heap object by object
    # (0.4-1.6 s from the last exit handler to the end of the process on the loaded machine, 0.02-0.07 s
    # with this). Every output is written and closed by then; the memory goes back with the process.
    atexit.register(gc.freeze)
    argv = sys.argv[1:]
    if not asked:
        from .base.daemon import request

        served = request(argv)
        if served is not None:
            sys.exit(served)
    signal.signal(signal.SIGTERM, _terminate)  # unwind as for Ctrl-C: nothing half-done is left
    if hasattr(signal, "SIGXFSZ"):  # a file-size limit (ulimit -f) is an error to report, not a kill
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    code = command(argv)
    from .commands.server import become

    become(argv, command)  # returns here; the server it forks never does
    _exit(code)


def _exit(code: int) -> NoReturn:
    """End the process with ``code``: its exit handlers run (temporary font folders removed, the heap
    frozen), its output is flushed, and it ends at once, without the interpreter's teardown. That
    teardown freed a compose's heap module by module after the last exit handler: 0.02-0.04 s of
    CPU, 0.07-0.2 s of a cold compose's time on the loaded machine. Every output is written and
    closed by then. With a thread still running (none should be), or under a profiler or tracer
    (``python -m cProfile``, which writes its report once the command returns), the process exits as
    it always did."""
    import threading

    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()
    from .base.daemon import flush_std

    flush_std()
    os._exit(code)


if __name__ == "__main__":
    main()
