"""The warm compose server (commands/server.py, base/daemon.py): whole `python -m layout compose`
processes, started as a user starts them, with the server turned on for them only (conftest.py turns
it off for everything else). Every server a test starts is stopped when the test ends.

Which process answered is read from the server's log (LAYOUT_SERVER_LOG: its pid on every line, a
line for every request), never from how long a run took."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import pytest
from factory import REPO, body, process_env, two_story_issue, write_article
from pdftext import page_texts

from layout.base import daemon

ISSUE = "test-issue"


class Servers:
    """Runs ``layout compose`` with the server on (its sockets in a short private folder, its log in
    one file), and knows the servers it started from their log."""

    def __init__(self, tmp: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lt-", dir="/tmp"))  # AF_UNIX paths are short
        self.log = tmp / "server.log"

    def env(self, **extra: str) -> dict[str, str]:
        return process_env(**{"LAYOUT_SERVER": "on", "LAYOUT_SERVER_DIR": str(self.folder), "LAYOUT_SERVER_IDLE": "60",
                              "LAYOUT_SERVER_LOG": str(self.log), "LAYOUT_WORKERS": "1", **extra})

    def compose(self, root: Path, *args: str, env: dict[str, str] | None = None,
                command: str = "compose") -> subprocess.CompletedProcess[str]:
        """``python -m layout compose test-issue --root ROOT ARGS`` as a whole process; the pipes it is
        given must end when it exits (a server that kept them would make this time out)."""
        return subprocess.run([sys.executable, "-m", "layout", command, *([ISSUE] if command == "compose" else []),
                               "--root", str(root), *args], cwd=root, env=env or self.env(),
                              capture_output=True, text=True, timeout=120)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def started(self, at_least: int = 0) -> list[int]:
        """The servers started, in order (their pids); waits a while for ``at_least`` of them (a server
        writes its first line as the command that forked it exits)."""
        wait_until(lambda: len(self._started()) >= at_least, 10)
        return self._started()

    def _started(self) -> list[int]:
        return [int(m[1]) for line in self.lines() if (m := re.search(r"layout server (\d+): serving", line))]

    def requests(self, pid: int) -> int:
        """How many requests server ``pid`` answered."""
        return sum(f"layout server {pid}: request" in line for line in self.lines())

    def exited(self, pid: int) -> str | None:
        """Why server ``pid`` said it exited (None: it has not)."""
        return next((line.split("exiting: ", 1)[1] for line in self.lines()
                     if f"layout server {pid}: exiting: " in line), None)

    def holders(self) -> set[int]:
        """The processes holding a file of the socket folder open: every server started with it holds
        its name's lock there for its life (whether or not it has written its log yet)."""
        found = set()
        for fd in Path("/proc").glob("[0-9]*/fd/*"):
            with contextlib.suppress(OSError):
                if os.readlink(fd).startswith(str(self.folder) + "/"):
                    found.add(int(fd.parts[2]))
        return found

    def stop_all(self) -> None:
        pids = set(self.started()) | self.holders()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for pid in pids:
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running (not a zombie: the servers are nobody's children here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_until(condition, seconds: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def same(text: str) -> str:
    """``text`` without the run's time (``in 0.4 s``)."""
    return re.sub(r"in \d+\.\d s", "in N s", text)


@pytest.fixture
def servers(tmp_path):
    found = Servers(tmp_path)
    yield found
    found.stop_all()
    assert not [pid for pid in found.started() if alive(pid)] and not found.holders()


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    two_story_issue(root)
    return root


def test_a_second_compose_is_answered_by_the_server_as_a_process_would_answer(servers, project):
    """One project and its one server, from the compose that forked it (overset: a failed compose
    leaves a server too, the next run being the fix) through the fix, a compose answered as a process
    would answer, an edit, and a usage error. (Once two tests, each with its project's cold compose.)"""
    articles = project / "issues" / ISSUE / "articles"
    fitting = (articles / "story.md").read_text()
    write_article(project / "issues" / ISSUE, "story", body(4000, seed=1), headline="A story")
    first = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2"))  # the server keeps 2 workers warm
    assert first.returncode == 3
    [pid] = servers.started(1)  # a failed compose leaves a server too: the next run is the fix
    assert alive(pid) and pid != os.getpid()  # it outlived the command, whose pipes ended at once
    served = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2"))
    here = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2", LAYOUT_SERVER="off"))
    assert servers.requests(pid) == 1
    assert served.returncode == here.returncode == 3
    assert "overset" in served.stderr and "(story)" in served.stderr
    assert (same(served.stdout), same(served.stderr)) == (same(here.stdout), same(here.stderr))
    # The fix, composed by the server; then a compose it answers as a process would.
    (articles / "story.md").write_text(fitting)
    fixed = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2"))
    assert fixed.returncode == 0, fixed.stderr
    assert "Done: 1 pages, 2 slots" in fixed.stderr and servers.requests(pid) == 2
    served = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2"))
    assert servers.requests(pid) == 3 and servers.started() == [pid]
    here = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2", LAYOUT_SERVER="off"))
    assert servers.requests(pid) == 3
    assert (served.returncode, same(served.stdout), same(served.stderr)) == (
        here.returncode, same(here.stdout), same(here.stderr))
    assert served.returncode == 0 and "(0 pages laid out, 5 from the cache)" in served.stderr
    assert "preflight: passed" in served.stderr
    # The log says where each request's time went: its CPU, then each stage's seconds.
    timed = (rf"layout server {pid}: exit 0 in \d+\.\d+ s \(CPU \d+\.\d+ s; before \d+\.\d+, reading \d+\.\d+, "
             r"composing \d+\.\d+, writing \d+\.\d+, fit report \d+\.\d+, preflight \d+\.\d+\)")
    assert re.search(timed, servers.log.read_text())
    # An edit reaches the PDF.
    write_article(project / "issues" / ISSUE, "story", "Zanzibar dockers walked out. " + body(120, seed=1),
                  headline="A story")
    edited = servers.compose(project, env=servers.env(LAYOUT_WORKERS="2"))
    assert edited.returncode == 0, edited.stderr
    assert servers.requests(pid) == 4 and not re.search(r"\(0 pages laid out", edited.stderr)
    assert "Zanzibar" in page_texts(project / "build" / ISSUE / f"{ISSUE}.pdf")[0]
    # A usage error is the command line's, word for word.
    wrong = servers.compose(project, "--frobnicate")
    wrong_here = servers.compose(project, "--frobnicate", env=servers.env(LAYOUT_SERVER="off"))
    assert servers.requests(pid) == 5
    assert wrong.returncode == wrong_here.returncode == 2
    assert wrong.stderr == wrong_here.stderr and "No such option: --frobnicate" in wrong.stderr
    assert "Usage: python -m layout compose" in wrong.stderr


def test_after_rm_rf_build_or_layout_clean_the_compose_is_cold_and_a_killed_server_is_composed_past(servers, project):
    """rm -rf build, then `layout clean --cache`, then a server killed while idle, then a server killed
    mid-compose: one project, one server after another (each cold compose becomes the next server).
    (Once two tests, each with its project's cold compose.)"""
    assert servers.compose(project).returncode == 0
    [pid] = servers.started(1)
    shutil.rmtree(project / "build")
    cold = servers.compose(project)
    assert cold.returncode == 0
    assert servers.requests(pid) == 0
    assert "(2 pages laid out, 0 from the cache)" in cold.stderr  # nothing came from the server's memory
    assert wait_until(lambda: not alive(pid)) and "build cache" in servers.exited(pid)
    [_, second] = servers.started(2)  # the cold compose became the next server
    assert second != pid and alive(second)
    assert servers.compose(project).returncode == 0 and servers.requests(second) == 1
    # layout clean stops the server
    cleaned = servers.compose(project, "--cache", command="clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert wait_until(lambda: not alive(second)) and servers.exited(second) == "asked to stop"
    cold = servers.compose(project)
    assert cold.returncode == 0 and servers.requests(second) == 1  # none since the clean
    assert "(2 pages laid out, 0 from the cache)" in cold.stderr
    [_, _, third] = servers.started(3)
    os.kill(third, signal.SIGKILL)  # its socket is left behind: connecting to it is refused
    assert wait_until(lambda: not alive(third)) and list(servers.folder.glob("*.sock"))
    again = servers.compose(project)
    assert again.returncode == 0 and "Done: 1 pages" in again.stderr
    [_, _, _, fourth] = servers.started(4)
    assert servers.compose(project).returncode == 0 and servers.requests(fourth) == 1
    _a_server_killed_mid_compose_leaves_the_compose_to_the_command(servers, project, fourth)


def _compose_in_the_background(servers: Servers, root: Path) -> tuple[subprocess.Popen[str], str]:
    """``layout compose`` started as a user starts it, and the first line it printed (the compose has
    begun, as the user sees it)."""
    client = subprocess.Popen([sys.executable, "-m", "layout", "compose", ISSUE, "--root", str(root)], cwd=root,
                              env=servers.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert client.stderr is not None
    return client, client.stderr.readline()


def _a_server_killed_mid_compose_leaves_the_compose_to_the_command(servers: Servers, root: Path, pid: int) -> None:
    """(Part of the test above, with its last server ``pid``, which has answered one request.)"""
    issue = root / "issues" / ISSUE
    before, started = servers.requests(pid), servers.started()
    write_article(issue, "story", "Zanzibar dockers walked out. " + body(1300, seed=21), headline="A story")
    write_article(issue, "other", body(900, seed=22), headline="Another story")
    client, first = _compose_in_the_background(servers, root)
    assert first.startswith("[1/5] reading") and servers.requests(pid) == before + 1
    os.kill(pid, signal.SIGKILL)  # out of memory, or killed: mid-compose
    out, err = client.communicate(timeout=120)
    assert client.returncode == 0, err
    assert "[1/5] reading" in err and "Done: 1 pages" in err  # composed again, in the command's own process
    assert servers.exited(pid) is None  # it said nothing: it was killed
    [*_, second] = servers.started(len(started) + 1)  # which became the next server
    assert second not in started and alive(second)
    assert "Zanzibar" in page_texts(root / "build" / ISSUE / f"{ISSUE}.pdf")[0]
    published = sorted(p.name for p in (root / "build" / ISSUE).iterdir())
    assert [name for name in published if name.startswith(".") or name.endswith(".part")] == [".lock"]


def _ctrl_c_as_at_a_terminal() -> None:
    """The client started with Ctrl-C's default action, as a shell at a terminal starts a command. A
    suite started in the background by a shell without job control (``pytest ... &`` in a script)
    has SIGINT ignored, which its processes inherit; Python then installs no handler for it, and the
    command (rightly) composes on through the Ctrl-C: this test failed there every time."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_in_the_client_interrupts_the_servers_compose(servers, tmp_path):
    root = tmp_path / "big"
    issue = two_story_issue(root, words=(1300, 900))
    assert servers.compose(root).returncode == 0
    [pid] = servers.started(1)
    # Both laid out again: long enough to be interrupted (some 0.6 s; with 700 and 500 words, 0.3 s
    # since the user-agent sheet was scoped). On a loaded machine this test's process may still send
    # the Ctrl-C after the server's compose has ended (it was seen at load 1.5 with two workers): the
    # command then rightly ends 0, having finished. That is a race of the test's, not the server's, so
    # an edit that was composed to the end before its Ctrl-C is tried again, with new copy, at most
    # three times; a server that ignored Ctrl-C ends 0 every time and fails.
    for attempt in range(3):
        write_article(issue, "story", body(1300, seed=7 + 2 * attempt), headline="A story")
        write_article(issue, "other", body(900, seed=8 + 2 * attempt), headline="Another story")
        client = subprocess.Popen([sys.executable, "-m", "layout", "compose", ISSUE, "--root", str(root)],
                                  cwd=root, env=servers.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, preexec_fn=_ctrl_c_as_at_a_terminal)
        assert client.stderr is not None
        first = client.stderr.readline()  # the compose has begun (as the user sees it, then presses Ctrl-C)
        assert first.startswith("[1/5] reading") and servers.requests(pid) == 1 + attempt
        client.send_signal(signal.SIGINT)
        out, err = client.communicate(timeout=60)
        err = first + err
        if client.returncode == 0 and "Done: 1 pages" in err:  # composed to the end before the Ctrl-C
            assert wait_until(lambda done=1 + attempt: sum(": exit 0 in " in line for line in servers.lines()) == done)
            continue
        break
    assert client.returncode == 130, (err, servers.lines())
    assert "interrupted: outputs already written are intact" in err, (out, "\n".join(servers.lines()))
    assert alive(pid) and wait_until(lambda: "exit 130" in servers.lines()[-1])
    assert servers.compose(root).returncode == 0 and servers.requests(pid) == 2 + attempt  # it serves on


def test_a_server_of_other_code_is_never_asked(servers, project, tmp_path):
    """Which server, if any: LAYOUT_SERVER=off and --no-server fork none; a server of other code is
    never asked (the new code's compose becomes a server of its own); an idle server exits and removes
    its socket. One project and copy of the code. (Once three tests, each with its own cold compose.)"""
    code = tmp_path / "code"
    shutil.copytree(REPO / "layout", code / "layout")  # its bytecode too (valid: the sources' times are kept)
    # LAYOUT_SERVER=off and --no-server never fork.
    for env, args in ((servers.env(LAYOUT_SERVER="off", PYTHONPATH=str(code)), ()),
                      (servers.env(PYTHONPATH=str(code)), ("--no-server",))):
        done = servers.compose(project, *args, env=env)
        assert done.returncode == 0, done.stderr
    assert servers.started() == [] and not servers.log.exists()
    assert list(servers.folder.iterdir()) == []
    found = subprocess.run(["pgrep", "-f", str(project)], capture_output=True, text=True)
    assert found.stdout == ""
    # A server of other code is never asked.
    env = servers.env(PYTHONPATH=str(code))
    assert servers.compose(project, env=env).returncode == 0
    [old] = servers.started(1)
    sockets = set(servers.folder.glob("*.sock"))
    errors = code / "layout" / "errors.py"
    errors.write_text(errors.read_text() + "\n# changed\n")  # another version of layout
    again = servers.compose(project, env={**env, "LAYOUT_SERVER_IDLE": "1"})
    assert again.returncode == 0
    assert servers.requests(old) == 0  # composed in its own process, which became the new code's server
    [_, new] = servers.started(2)
    assert new != old and alive(old) and alive(new)
    # The idle server (the new code's, idle for 1 s) exits and removes its socket; the other serves on.
    assert len(set(servers.folder.glob("*.sock")) - sockets) == 1
    assert wait_until(lambda: not alive(new))
    assert servers.exited(new) == "idle for 1 s"
    assert set(servers.folder.glob("*.sock")) == sockets and alive(old)


def test_the_socket_name_is_short_and_keyed(tmp_path, monkeypatch):
    monkeypatch.setenv(daemon.DIR_VARIABLE, str(tmp_path / ("x" * 120)))
    assert daemon.address(str(tmp_path)) is None  # too long for AF_UNIX: no server, the compose runs here
    folder = Path(tempfile.mkdtemp(prefix="lt-", dir="/tmp"))
    try:
        monkeypatch.setenv(daemon.DIR_VARIABLE, str(folder))
        one, two = daemon.address(str(tmp_path / "a")), daemon.address(str(tmp_path / "b"))
        assert one and two and one[1] != two[1] and len(one[1]) <= daemon.MAX_SOCKET_PATH
        os.chmod(folder, 0o755)  # not private: never used
        assert daemon.address(str(tmp_path / "a")) is None
    finally:
        shutil.rmtree(folder)


def _held(server, path: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``server._lock`` refuses the lock ``path`` (another holder has it), asked without its
    pauses (20 of 25 ms, for a server that is ending to give its name up): the same tries, at once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "time", types.SimpleNamespace(sleep=lambda seconds: None))
        return server._lock(path) is None


def test_the_server_loop_in_this_process(project, monkeypatch, capfd):
    """The server's loop (commands/server.py's _Server) in a thread of the test's own process,
    answering the client (base/daemon.py's request) run in its main thread: a compose, a second
    command, the marker's check, stop, and the idle timeout. (The whole processes above fork it.)"""
    import socket
    import threading

    from layout import cli
    from layout.commands import server

    folder = Path(tempfile.mkdtemp(prefix="lt-", dir="/tmp"))
    monkeypatch.setenv(daemon.VARIABLE, "on")
    monkeypatch.setenv(daemon.DIR_VARIABLE, str(folder))
    monkeypatch.setenv(daemon.IDLE_VARIABLE, "30")
    argv = ["compose", ISSUE, "--root", str(project)]
    try:
        assert daemon.request(argv) is None  # no server yet: the caller composes in its own process
        assert cli.command(argv) == 0
        capfd.readouterr()

        def start() -> tuple[server._Server, threading.Thread, list[str]]:
            name, path = daemon.address(str(project))
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            listener.bind(path)
            listener.listen(2)
            lock = server._lock(path[:-len(".sock")] + ".lock")
            assert lock is not None and _held(server, path[:-len(".sock")] + ".lock")  # held: no second
            loop = server._Server(str(project), name, path, listener, lock, cli.command)
            loop.mark()
            why: list[str] = []
            def serve() -> None:  # as the forked server does: its name given up as soon as it ends
                why.append(loop.serve())
                loop.release()

            thread = threading.Thread(target=serve, daemon=True)
            thread.start()
            return loop, thread, why

        loop, thread, why = start()
        assert daemon.request(argv) == 0
        out, err = capfd.readouterr()
        assert "Done: 1 pages, 2 slots" in err and "(0 pages laid out, 5 from the cache)" in err
        assert daemon.request([*argv, "--frobnicate"]) == 2
        assert "No such option: --frobnicate" in capfd.readouterr().err
        assert daemon.stop(str(project)) and (thread.join(10) or why == ["asked to stop"])
        assert not Path(loop.path).exists() and not Path(loop.marker).exists()

        loop, thread, why = start()
        os.unlink(loop.marker)  # as rm -rf build does
        assert daemon.request(argv) is None  # refused: compose in its own process
        thread.join(10)
        assert why == ["the build cache it started from is gone"]

        # While a command runs, its watcher tells another client the server is busy (it composes in its
        # own process), and keeps what the client said before the command began (Ctrl-C at once).
        name, path = daemon.address(str(project))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(2)
        ours, theirs = socket.socketpair()
        watcher = server._Watcher(ours, listener)
        watcher.start()
        theirs.sendall(b"i")
        assert daemon.request(argv) is None
        assert wait_until(lambda: watcher.early == b"i") and watcher.arm() == b"i"
        watcher.finish()
        listener.close()
        os.unlink(path)
        ours.close()
        theirs.close()

        monkeypatch.setenv(daemon.IDLE_VARIABLE, "0.2")
        loop, thread, why = start()
        thread.join(10)
        assert why == ["idle for 0.2 s"]
        # What the server put off (its workers' warm-up) is done once it has been idle a moment (here
        # 0.05 s, not 0.3: the test waits out the moment and the idle timeout, kept 0.5 s after it).
        monkeypatch.setattr(server, "IDLE_WORK_S", 0.05)
        monkeypatch.setenv(daemon.IDLE_VARIABLE, str(server.IDLE_WORK_S + 0.5))
        name, path = daemon.address(str(project))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(2)
        lock = server._lock(path[:-len(".sock")] + ".lock")
        loop = server._Server(str(project), name, path, listener, lock, cli.command)
        loop.mark()
        done: list[float] = []
        began = time.monotonic()
        assert loop.serve([lambda: done.append(time.monotonic() - began)]).startswith("idle for")
        loop.release()
        assert len(done) == 1 and done[0] >= server.IDLE_WORK_S
        assert daemon.request(argv) is None and not daemon.stop(str(project))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stylesheets_parsed_here() -> bool:
    """Whether this process (a worker) has parsed the house stylesheets itself (each process parses its own)."""
    from layout.rendering import engine

    return any(known[0] == os.getpid() for known in engine._SHEETS)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: a server has no worker processes")
def test_shared_workers_and_warm_up_outside_and_inside_a_server(project, monkeypatch):
    """A server warms itself up at once (the next compose lays its edited story out in it), forks its
    workers unwarmed (a one-article recompose needs none of their fonts: warming them competed with the
    request that came at once) and warms them once it has been idle (``later``)."""
    from layout.build import Project
    from layout.commands import server
    from layout.rendering import engine

    monkeypatch.setenv("LAYOUT_WORKERS", "2")
    monkeypatch.setattr(engine, "_RENDERED", False)
    assert server.shared_workers(Project(project), ISSUE) is None  # not a server: the compose starts its own
    try:
        later = server._warm_up()  # what a server does once forked: this process's stylesheets, its workers
        assert engine.rendered() and len(later) == 2  # the workers warmed, then a collection
        workers = server.shared_workers(Project(project), ISSUE)
        assert workers is not None and workers is server._shared[0] and workers.started
        pool = workers.start()
        assert not any(pool.submit(_stylesheets_parsed_here).result() for _ in range(4))  # forked unwarmed
        later[0]()
        assert any(pool.submit(_stylesheets_parsed_here).result() for _ in range(4))
    finally:
        for workers in server._shared:
            workers.close()
        server._shared.clear()


@pytest.mark.parametrize("at", ["finding the server", "sending the request"])
def test_ctrl_c_before_the_server_composes_ends_the_command_as_an_interrupted_compose(at, monkeypatch, capfd, tmp_path):
    """Ctrl-C while the client finds its server or sends it the request (before the server composes,
    when ``_outcome`` passes Ctrl-C on) ends the command with 130 and the interrupted line, no
    traceback; the socket is closed, so a server that had read the request sees the client go away."""
    from layout.errors import INTERRUPTED

    monkeypatch.setenv("LAYOUT_SERVER", "on")
    ours, servers_end = socket.socketpair()

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    if at == "finding the server":
        monkeypatch.setattr(daemon, "address", interrupt)
    else:
        monkeypatch.setattr(daemon, "address", lambda root, name=None: ("key", str(tmp_path / "socket")))
        monkeypatch.setattr(daemon, "_connect", lambda path: ours)
        monkeypatch.setattr(daemon.socket, "send_fds", interrupt)
    before = signal.getsignal(signal.SIGTERM)
    try:
        code = daemon.request(["compose", ISSUE, "--root", str(tmp_path)])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C left the client as a traceback")
    assert code == 130
    out, err = capfd.readouterr()
    assert err == f"{INTERRUPTED}\n" and not out
    assert signal.getsignal(signal.SIGTERM) is before
    with servers_end, ours:
        servers_end.settimeout(5)
        if at == "sending the request":
            assert servers_end.recv(1) == b""  # closed: the client went away


def test_a_served_command_runs_without_collections_and_the_collector_is_back_after_it(tmp_path, monkeypatch):
    """A request runs with the collector off when the server has workers to lay its documents out (as
    a worker runs its tasks; ``answer`` collects once the client has its exit code), and with it on
    when the server lays everything out itself (one worker); either way it is on again after."""
    import gc
    import socket

    from layout.commands import server

    folder = Path(tempfile.mkdtemp(prefix="lt-", dir="/tmp"))
    try:
        path = str(folder / "s.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        seen: list[bool] = []

        def run(argv: list[str], prog: str) -> int:
            seen.append(gc.isenabled())
            return 0

        loop = server._Server(str(tmp_path), "k" * 64, path, listener, -1, run)
        assert gc.isenabled()
        for workers in ("2", "1"):
            ours, theirs = socket.socketpair()
            fds = [os.open(os.devnull, os.O_RDWR) for _ in range(3)]
            header = {"argv": ["compose", ISSUE], "env": {**os.environ, "LAYOUT_WORKERS": workers},
                      "cwd": str(tmp_path)}
            assert loop.command(ours, header, fds) == (0, None)
            assert gc.isenabled()
            ours.close()
            theirs.close()
        assert seen == [False, True]
        listener.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
