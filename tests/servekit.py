"""Helpers for the ``layout serve`` tests: a server on a synthetic or sample issue, raw HTTP, and an
``$EDITOR`` that records what it was asked to open."""

from __future__ import annotations

import contextlib
import http.client
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import factory
from factory import REPO, make_project

from layout.build import Project
from layout.commands.serve import Serving, start


def two_story_issue(root: Path) -> Path:
    """A one-page issue of two stories that fit."""
    return factory.two_story_issue(root, (140, 120), ("First headline", "Second story"))


def sample_issue(root: Path) -> Path:
    """A copy of the sample issue in a project of its own (edits never touch the repository's)."""
    make_project(root, issue_id="issue-2022-04-01")
    target = root / "issues" / "issue-2022-04-01"
    shutil.rmtree(target)
    shutil.copytree(REPO / "issues" / "issue-2022-04-01", target)
    shutil.copy(REPO / "issues" / "paper.yaml", root / "issues" / "paper.yaml")
    return target


@contextlib.contextmanager
def serving(root: Path, issue_id: str = "test-issue") -> Iterator[Serving]:
    """A server on a free port, its first round done."""
    server = start(Project(root), issue_id, port=0, interval=0.05)
    try:
        wait_state(server, lambda s: s["round"] >= 1 and s["phase"] == "done", 120)
        yield server
    finally:
        server.stop()


def wait_state(server: Serving, done: Callable[[dict], bool], timeout: float = 60) -> dict:
    """Wait until the server's state satisfies ``done``; return it (fail with the last state)."""
    end = time.monotonic() + timeout
    seen = -1
    state = server.proofs.state
    while not done(state):
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; the last state: phase {state['phase']}, round {state['round']}, "
                                 f"error {state['error']}")
        seen, new = server.proofs.wait(seen, min(left, 1.0))
        state = new if new is not None else server.proofs.state
    return state


def request(server: Serving, method: str, path: str, headers: dict[str, str] | None = None,
            body_bytes: bytes | None = None) -> tuple[int, bytes, dict[str, str]]:
    """A raw HTTP request (the path is sent as given: no normalising of ``..`` or ``%2e``)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server.port, timeout=30)
    try:
        sent = {"Host": f"127.0.0.1:{server.server.port}", **(headers or {})}
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        if body_bytes is not None:
            connection.putheader("Content-Length", str(len(body_bytes)))
        connection.endheaders(body_bytes)
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def recording_editor(folder: Path) -> tuple[str, Path]:
    """An ``$EDITOR`` command that writes the path it is given to a file; return it and the file."""
    script = folder / "editor.py"
    record = folder / "opened.txt"
    script.write_text(f"import sys\nopen({str(record)!r}, 'w').write(sys.argv[1])\n")
    return f"{sys.executable} {script}", record


def wait_file(path: Path, timeout: float = 20) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} was never written")
