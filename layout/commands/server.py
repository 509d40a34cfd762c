"""The warm compose server: after ``layout compose`` has run in its own process, it stays up in the
background with everything it loaded (WeasyPrint, fonts, stylesheets, hyphenation patterns, worker
processes kept warm as ``layout watch`` keeps them), and composes the next ``layout compose`` of the
project in a fraction of a new process's time (Gradle's daemon, Bazel's server, dmypy).

``become`` is called by ``cli.main`` after an in-process compose has finished and printed everything:
the process forks; the parent exits with the compose's exit code; the child detaches (its own
session, descriptors 0, 1 and 2 on ``/dev/null`` and the log, so whoever waits on the command's pipes
sees them end at once) and serves requests on a Unix socket (``base/daemon.py``: its name, the
protocol and the client) until it has been idle ``LAYOUT_SERVER_IDLE`` seconds.

A request runs the same CLI as the command line does (``run``, given by ``cli``), in the client's
folder and environment, writing to the client's own stdin, stdout and stderr (passed over the
socket), so every option, message and exit code is what an in-process run gives. One request at a
time: a client that arrives while a compose runs is told so and composes in its own process (as two
in-process runs do: the same issue's lock refuses the second, exit 6). The server exits, and the
client composes in its own process, when the project's ``build/.cache`` it started from is gone (its
marker file removed or replaced: ``rm -rf build``, ``layout clean --cache``), after an internal
error (exit 70) or anything escaping the CLI, and on SIGTERM."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import io
import json
import logging
import os
import select
import signal
import socket
import stat
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .. import stages
from ..base import daemon
from ..rendering.workers import PARENT_ONLY_FILES, Workers, default_count

MARKER = "server-{name}.id"
"""The file in ``build/.cache`` whose inode a server checks before every request."""
LOG = "server.log"
POLL_S = 2.0
"""How often an idle server looks whether its project's ``build/.cache`` is still there."""
IDLE_WORK_S = 0.3
"""How long a server waits for a request before it does what it put off (its workers' warm-up)."""

_composed: list[tuple[object, str]] = []
"""The project and issue of the in-process compose (the server warms up for them)."""
_shared: list[Workers] = []
"""The server's worker processes, kept warm from request to request (none outside a server)."""


def shared_workers(project: object, issue_id: str) -> Workers | None:
    """The worker processes a compose of ``issue_id`` should use: the server's, kept warm, when it
    runs in a server (the pool ``layout watch`` keeps), else None (the compose starts its own).
    Remembers the issue, for the warm-up of a server started after this compose."""
    _composed[:] = [(project, issue_id)]
    if not _shared:
        return None
    if _shared[0].count != default_count():  # the client asked for another LAYOUT_WORKERS
        _shared[0].close()
        _shared[0] = Workers()
    return _shared[0]


_log_fd: list[int] = [2]
"""Where the server's log lines go (its own descriptor: descriptor 2 is a client's while it runs a command)."""


def _log(line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(_log_fd[0], f"{time.strftime('%Y-%m-%d %H:%M:%S')} layout server {os.getpid()}: {line}\n".encode())


class _Server:
    def __init__(self, root: str, name: str, path: str, listener: socket.socket, lock: int,
                 run: Callable[[list[str], str], int]) -> None:
        self.root, self.name, self.path, self.listener, self.lock, self.run = root, name, path, listener, lock, run
        self.cache = os.path.join(root, "build", ".cache")
        self.marker = os.path.join(self.cache, MARKER.format(name=name[:32]))
        self.marked: tuple[int, int] | None = None
        self.socket_id = os.stat(path)[stat.ST_INO]

    # ---- start and end ----

    def mark(self) -> None:
        """Write the marker file, and remember its inode."""
        fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()} {self.name}\n")
        info = os.stat(self.marker)
        self.marked = (info.st_dev, info.st_ino)

    def current(self) -> bool:
        """Whether the project's build cache is the one the server started from."""
        try:
            info = os.stat(self.marker)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == self.marked

    def release(self) -> None:
        """Give up the name at once (the socket and the lock), so that a new server can take it."""
        with contextlib.suppress(OSError):
            if os.stat(self.path)[stat.ST_INO] == self.socket_id:
                os.unlink(self.path)
        self.listener.close()
        with contextlib.suppress(OSError):
            os.close(self.lock)
        if self.current():
            with contextlib.suppress(OSError):
                os.unlink(self.marker)

    # ---- the loop ----

    def serve(self, later: list[Callable[[], None]] | None = None) -> str:
        """Answer requests until idle, stale or stopped; why it ended. ``later``: what to do once no
        request has come for ``IDLE_WORK_S`` (never while a client waits)."""
        idle = daemon.idle_seconds()
        last = time.monotonic()
        later = list(later or ())
        while True:
            now = time.monotonic()
            left = idle - (now - last)
            if left <= 0:
                return f"idle for {idle:g} s"
            if not self.current():
                return "the build cache it started from is gone"
            if later and now - last >= IDLE_WORK_S:
                later.pop(0)()
                continue
            self.listener.settimeout(min(left, POLL_S, *((IDLE_WORK_S - (now - last),) if later else ())))
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    ended = self.answer(conn)
                except (OSError, KeyError, TypeError, ValueError, AttributeError):  # a client gone, or not one
                    ended = None
            last = time.monotonic()
            if ended:
                return ended

    def answer(self, conn: socket.socket) -> str | None:
        """Answer one client; why the server must end after it, if it must."""
        header, fds = _receive(conn)
        try:
            if header is None or header.get("key") != self.name or header.get("protocol") != daemon.PROTOCOL:
                _send(conn, b"no not this server\n")
                return None
            if header.get("stop"):
                _send(conn, b"ok stopping\n")
                return "asked to stop"
            if len(fds) != 3:
                _send(conn, b"no descriptors missing\n")
                return None
            if not self.current():
                _send(conn, b"no the build cache is gone\n")
                return "the build cache it started from is gone"
            _send(conn, f"ok {os.getpid()}\n".encode())
            argv = [str(a) for a in header["argv"]]
            _log(f"request from {header.get('cwd')}: layout {' '.join(argv)}")
            started, cpu = time.monotonic(), time.process_time()
            clock = _StageClock()
            stages.LOG.addHandler(clock)
            try:
                code, broken = self.command(conn, header, fds)
            finally:
                stages.LOG.removeHandler(clock)
            fds = []
            with contextlib.suppress(OSError):
                _send(conn, f"exit {code}\n".encode())
            _log(f"exit {code} in {time.monotonic() - started:.3f} s (CPU {time.process_time() - cpu:.3f} s"
                 f"{clock.summary(started)})")
            gc.collect()  # after the answer: the client has its exit code
            if broken:
                return broken
            return "an internal error (exit 70): its state may be damaged" if code == 70 else None
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def command(self, conn: socket.socket, header: dict, fds: list[int]) -> tuple[int, str | None]:
        """Run the client's command with its descriptors, folder, environment and umask; its exit
        code, and why the server must end (something escaped the CLI), if it must."""
        saved = [os.dup(fd) for fd in (0, 1, 2)]
        streams = (sys.stdin, sys.stdout, sys.stderr)
        environ, cwd, argv0 = dict(os.environ), os.getcwd(), sys.argv
        daemon.flush_std()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin, sys.stdout, sys.stderr = (_stream(0, streams[0], "r"), _stream(1, streams[1], "w"),
                                             _stream(2, streams[2], "w"))
        umask = os.umask(int(header.get("umask", 0o022)))
        watcher = _Watcher(conn, self.listener)
        broken = None
        code = 70
        paused = False
        try:
            os.environ.clear()
            os.environ.update({str(k): str(v) for k, v in header["env"].items()})
            os.chdir(header["cwd"])
            sys.argv = [header.get("prog", "layout"), *header["argv"]]
            # No garbage collection in the middle of the command, one after it (``answer``), as a
            # worker runs its tasks: this process lays out at most one document at a time (the rest
            # goes to the workers), and the 30-40 collections of a one-article recompose walked its
            # young objects again and again (5-25 ms of its CPU). With one worker it lays out
            # everything itself: then it collects as it goes, as an in-process compose does.
            paused = gc.isenabled() and default_count() > 1
            if paused:
                gc.disable()
            watcher.start()
            try:
                early = watcher.arm()
                if early is not None:  # interrupted before it began: as typer ends it then, silently
                    code = 143 if early == b"t" else 130
                else:
                    code = self.run([str(a) for a in header["argv"]], str(header.get("prog", "layout")))
            finally:
                watcher.finish()
        except BaseException as error:  # anything escaping the CLI (--debug's traceback): as a process
            broken = f"{type(error).__name__} escaped the command: {error}"  # shows it; then end
            code = 1
            with contextlib.suppress(BaseException):
                traceback.print_exception(error, file=sys.stderr)
                _log("".join(traceback.format_exception(error)).rstrip())
        finally:
            with contextlib.suppress(BaseException):  # an interrupt that came as the command ended
                if paused:
                    gc.enable()
                daemon.flush_std()
                sys.stdin, sys.stdout, sys.stderr = streams
                sys.argv = argv0
                for target, fd in enumerate(saved):
                    os.dup2(fd, target)
                    os.close(fd)
                os.umask(umask)
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(environ)
        return code, broken


class _StageClock(logging.Handler):
    """When each stage of a compose began (its stage line: see ``stages.running``), for the log's
    line on each request: where the time went."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.began: list[tuple[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        stage = getattr(record, "stage", None)
        if stage and not hasattr(record, "seconds") and not hasattr(record, "done"):
            self.began.append((str(stage), time.monotonic()))

    def summary(self, started: float) -> str:
        """``; before 0.01, reading 0.04, ...`` (seconds from the request to each stage's start, and
        each stage's to the next one's or to now)."""
        if not self.began:
            return ""
        ends = [at for _, at in self.began[1:]] + [time.monotonic()]
        parts = [f"before {self.began[0][1] - started:.3f}"] + [
            f"{stage} {end - at:.3f}" for (stage, at), end in zip(self.began, ends)]
        return "; " + ", ".join(parts)


class _Watcher(threading.Thread):
    """While a command runs: a byte from the client (``i`` Ctrl-C, ``t`` SIGTERM), or the client gone,
    interrupts the main thread (SIGINT or SIGTERM to it: the command ends as an interrupted one does);
    another client is told the server is busy (it composes in its own process)."""

    def __init__(self, conn: socket.socket, listener: socket.socket) -> None:
        super().__init__(name="layout-server-watch", daemon=True)
        self.conn, self.listener = conn, listener
        self.main = threading.main_thread().ident
        self.lock = threading.Lock()
        self.done = False
        self.armed = False
        self.early: bytes | None = None
        """What the client said before the command began (``b""``: it went away)."""
        self.wake_r, self.wake_w = os.pipe()

    def run(self) -> None:
        watched: list[socket.socket | int] = [self.conn.fileno(), self.listener.fileno(), self.wake_r]
        conn, listener = watched[0], watched[1]
        while True:
            readable, _, _ = select.select(watched, [], [])
            with self.lock:
                if self.done:
                    return
                if listener in readable:
                    with contextlib.suppress(OSError):
                        other, _ = self.listener.accept()
                        with other:
                            _, fds = _receive(other, timeout=1.0)
                            for fd in fds:
                                os.close(fd)
                            _send(other, b"no busy\n")
                        _log("busy: a client was told to compose in its own process")
                if conn in readable:
                    try:
                        said = self.conn.recv(1)
                    except OSError:
                        said = b""
                    assert self.main is not None
                    _log(f"the client {'said ' + repr(said) if said else 'went away'}: interrupting the command")
                    if not self.armed:
                        self.early = self.early if self.early is not None else said
                    else:
                        signal.pthread_kill(self.main, signal.SIGTERM if said == b"t" else signal.SIGINT)
                    if not said:
                        watched.remove(conn)  # gone: interrupted once

    def arm(self) -> bytes | None:
        """From now on interrupt the main thread; what the client said before, if it said anything."""
        with self.lock:
            self.armed = True
            return self.early

    def finish(self) -> None:
        """Stop watching; the command has ended. An interrupt the watcher sent as it ended (it may land
        here) is let through and ignored: the command's exit code stands."""
        for _ in range(10):
            try:
                with self.lock:
                    if not self.done:
                        self.done = True
                        os.write(self.wake_w, b"x")
                self.join()
                _settled()  # a pending interrupt is raised by now, in this try
                break
            except BaseException:  # noqa: S112 - KeyboardInterrupt or Terminated, sent before done was set
                continue
        os.close(self.wake_r)
        os.close(self.wake_w)


def _settled() -> None:
    """Nothing: calling it lets a pending signal handler run (the interpreter checks on a call)."""


def _stream(fd: int, like: io.TextIOBase | object, mode: str) -> io.TextIOWrapper:
    """A text stream on descriptor ``fd`` as Python makes one at start-up (line-buffered on a terminal)."""
    encoding = getattr(like, "encoding", None) or "utf-8"
    errors = getattr(like, "errors", None) or "strict"
    tty = os.isatty(fd)
    raw = io.FileIO(fd, mode, closefd=False)
    buffered: io.BufferedReader | io.BufferedWriter = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, encoding=encoding, errors=errors, line_buffering=tty or fd == 2)


def _send(conn: socket.socket, data: bytes) -> None:
    conn.settimeout(5.0)
    conn.sendall(data)


def _receive(conn: socket.socket, timeout: float = 5.0) -> tuple[dict | None, list[int]]:
    """A client's header and descriptors (None if it is not one)."""
    fds: list[int] = []
    try:
        conn.settimeout(timeout)
        if daemon.peer_uid(conn) != os.getuid():
            return None, []
        _, fds, _, _ = socket.recv_fds(conn, 1, 3)
        size = struct.unpack(">I", _exactly(conn, 4))[0]
        if size > 16 << 20:
            return None, fds
        header = json.loads(_exactly(conn, size))
        return (header if isinstance(header, dict) else None), fds
    except (OSError, ValueError, struct.error):
        return None, fds


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ValueError("the client stopped")
        data += chunk
    return bytes(data)


# ---- Becoming a server ---------------------------------------------------------------------------------

def become(argv: list[str], run: Callable[[list[str], str], int]) -> None:
    """After the in-process compose ``argv`` has ended: fork a server for its project, if the server is
    enabled, none is running, no thread but this one is left (a fork copies this thread only) and the
    compose made the project's build cache. Returns in this process (which then exits as it would
    have); the server never returns."""
    if not daemon.served(argv) or threading.active_count() != 1:
        return
    root = daemon.project_root(argv)
    if not os.path.isdir(os.path.join(root, "build", ".cache")):
        return
    found = daemon.address(root)
    if found is None:
        return
    name, path = found
    lock = _lock(path[:-len(".sock")] + ".lock")
    if lock is None:  # a server of this name is running (or just ending)
        return
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a socket left by a server that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(8)
    except OSError:
        os.close(lock)
        return
    daemon.flush_std()
    try:
        child = os.fork()
    except OSError:
        child = -1
    if child != 0:  # this process: exit as the compose said
        listener.close()
        os.close(lock)
        if child < 0:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return
    _serve_forever(root, name, path, listener, lock, run)


def _lock(path: str) -> int | None:
    """The server name's lock, held for the server's life (None: another process has it)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    for _ in range(20):  # a server that is ending gives its name up within milliseconds
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(0.025)
    os.close(fd)
    return None


def _detach(root: str, keep: set[int]) -> None:
    """Its own session; stdin on /dev/null, stdout and stderr on the log; every pipe, socket and
    terminal the command was given closed (so that whoever waits for them to end sees the end)."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    log_path = os.environ.get(daemon.LOG_VARIABLE) or os.path.join(root, "build", ".cache", LOG)
    try:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:
        log = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    _log_fd[0] = os.dup(log)
    os.chdir("/")  # a folder that is always there (each request runs in the client's)
    for fd in (null, log):
        if fd > 2:
            os.close(fd)
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd <= 2 or fd in keep:
                continue
            with contextlib.suppress(OSError):
                mode = os.fstat(fd).st_mode
                if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd):  # not /dev/urandom ...
                    os.close(fd)


def _serve_forever(root: str, name: str, path: str, listener: socket.socket, lock: int,
                   run: Callable[[list[str], str], int]) -> NoReturn:
    code = 0
    try:
        _detach(root, {listener.fileno(), lock})
        PARENT_ONLY_FILES.update({listener.fileno(), lock})  # its workers close them: the name is the server's
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        server = _Server(root, name, path, listener, lock, run)
        server.mark()
        _log(f"serving {root} on {path} (key {name[:12]}, idle {daemon.idle_seconds():g} s)")
        try:
            from ..base.cache import hold_entries

            hold_entries()  # the build cache's entries it reads back, from request to request
            began = time.monotonic()
            # What the command left (its whole heap) is left out of the collections from now on: the
            # warm-up's allocations and the first request's made the collector walk it all again and
            # again (the hyphenation patterns took 0.2 s to read instead of 0.02). Once idle, it is
            # collected once (``_collect``), the command's garbage freed.
            gc.freeze()
            idle = _warm_up()
            _log(f"warmed up in {time.monotonic() - began:.3f} s")
            why = server.serve(idle)
        except BaseException as error:  # SIGTERM (cli's Terminated), or a fault of the server's own
            why = f"{type(error).__name__} {error}".strip()
        server.release()
        _log(f"exiting: {why}")
    except BaseException:
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            for workers in _shared:
                workers.close()
            engine = sys.modules.get("layout.rendering.engine")
            if engine is not None:
                engine.drop_fonts(os.getpid())
        os._exit(code)


def _warm_up() -> list[Callable[[], None]]:
    """Get ready for the next compose of the issue just composed (the user's shell already has its
    prompt back, and the next command may be on its way at once: a save, then ``layout compose``).

    This process's hyphenation patterns, stylesheets and fonts are loaded now (each process loads its
    own: see ``rendering/engine.py``), while the command that forked it exits: the next compose lays
    out the documents an edit changed here, with them. The worker processes are forked once they are
    (so that they have the patterns), but not warmed: what the workers do for a one-article recompose
    (a plate, its proof and PNG, its checks, the flat plan) needs none of WeasyPrint's fonts or
    stylesheets, and warming them (some 0.2 s of CPU each) competed for the two cores with the first
    request, which came while they warmed. Returned: what warms them, for the server to do once it has
    been idle a moment (``IDLE_WORK_S``), for the recomposes that lay out more than one document. A
    server forked from a recompose that laid nothing out (which never imported WeasyPrint) imports it
    here, before its workers fork: a longer warm-up (0.76 s against 0.25 s at load 14), after the
    command has exited."""
    _shared[:] = [Workers()]
    if not _composed:
        return []
    project, issue_id = _composed[0]
    try:
        from ..base.cache import Store
        from ..rendering.engine import warm_up
        from ..run import Project, house_stylesheets, readable

        assert isinstance(project, Project)
        folder = project.issues / issue_id
        warm = (house_stylesheets(project), readable(project, folder, issue_id), Store(project.cache))
        warm_up(*warm)
        if _shared[0].count <= 1:
            return [_collect]
        _shared[0].start()  # forked unwarmed (and so at once)
        gc.freeze()  # (starting them unfroze this process's heap)
    except Exception as error:  # only time is lost: the first request warms up as it goes
        _log(f"warm-up failed: {type(error).__name__}: {error}")
        return [_collect]

    def workers() -> None:
        if _shared and _shared[0].started:
            pool = _shared[0].start()
            for _ in range(_shared[0].count):  # one each: a worker is busy with its own for 0.1-0.2 s
                pool.submit(_warm_worker, warm)
    return [workers, _collect]


def _collect() -> None:
    """Collect this process's garbage once, the heap it keeps included (the command's that forked it,
    its own warm-up's), then leave what survives out of later collections."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _warm_worker(warm: tuple) -> None:
    """Warm a worker up as its start would have (``workers._start_worker``): what it loads is left out
    of its collections from now on."""
    from ..rendering.engine import warm_up

    warm_up(*warm)
    gc.freeze()


def stop(root: Path) -> bool:
    """Stop project ``root``'s servers (``layout clean``): this code's at once; any other's (another
    version of layout, another interpreter) within ``POLL_S``, its marker removed. Whether this
    code's was running."""
    stopped = daemon.stop(str(root))
    for marker in (root / "build" / ".cache").glob(MARKER.format(name="*")):
        with contextlib.suppress(OSError):
            marker.unlink()
    return stopped
