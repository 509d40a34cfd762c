"""Nothing half-written, one run an issue at a time, and no input that crashes layout."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from factory import body, examples, make_project, process_env, simple_issue, write_article, write_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layout.build import Project, compose_issue, issue_lock
from layout.errors import BusyError, LayoutError
from layout.reading.articles import load_article
from layout.reading.manifest import load_issue
from layout.reading.settings import load_settings


def _start_compose(root, *extra, wrapper: str = ""):
    env = process_env()
    command = ["-c", wrapper] if wrapper else ["-m", "layout"]
    return subprocess.Popen([sys.executable, *command, "compose", "test-issue", "--root", str(root), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _outputs(root) -> dict:
    """Every published output file of the test issue (not the cache, the lock, leftovers or previous/)."""
    out = root / "build" / "test-issue"
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
            and "previous" not in p.parts}


def _folder(outputs: dict, name: str) -> dict:
    return {key: data for key, data in outputs.items() if key.startswith(name + "/")}


def _state(pid: int) -> str | None:
    """A process's state letter from /proc (None if it is gone)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _wait_gone(pids: list[int], seconds: float = 3.0) -> list[int]:
    """The processes of ``pids`` still alive (not zombies) after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        alive = [pid for pid in pids if _state(pid) not in (None, "Z")]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _kill_at(root, marker: str, delay: float) -> tuple[list[int], bool]:
    """Start a compose, kill -9 it ``delay`` s after it prints ``marker`` (or when it ends); return
    the worker processes it had then, and whether it was killed before it finished."""
    process = _start_compose(root)
    for line in process.stderr:
        if line.decode().startswith(marker):
            break
    time.sleep(delay)
    workers = _descendants(process.pid)
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    process.stdout.close()
    return workers, not finished


INSTANTS = [("[1/5]", 0.0), ("[2/5]", 0.15), ("[3/5]", 0.0), ("[5/5]", 0.0), ("[5/5]", 0.05)]
"""When the kill test kills a compose: after each stage line, with a delay (reading, laying out,
writing and publishing, preflight)."""


def test_kill_9_at_any_instant_leaves_the_old_or_the_new_outputs_and_no_workers(tmp_path):
    issue = simple_issue(tmp_path, {"story": 300, "other": 200}, columns={"story": 3, "other": 2})
    compose_issue(Project(tmp_path), "test-issue")
    old = _outputs(tmp_path)
    assert "plates/test-issue-p01.pdf" in old and "proofs/p01.png" in old
    write_article(issue, "story", body(320, seed=42), headline="A changed story")  # a real recompose
    after_kills, orphans, killed = [], [], 0
    for marker, delay in INSTANTS:
        workers, was_killed = _kill_at(tmp_path, marker, delay)
        killed += was_killed
        orphans += _wait_gone(workers)  # the workers end with their parent, however it ends
        after_kills.append(_outputs(tmp_path))
    assert killed >= len(INSTANTS) - 1  # the instants fell inside the runs
    # The recomposes above lay out too few documents to start workers (``workers.POOL_JOBS``): a cold
    # compose of a copy of the sources, killed as it lays out, has them, and they end with it too.
    if (os.cpu_count() or 1) > 1:
        cold = simple_issue(tmp_path / "cold", {"story": 300, "other": 200}, columns={"story": 3, "other": 2})
        workers, was_killed = _kill_at(cold.parent.parent, "[2/5]", 0.0)
        assert workers and was_killed, "the cold compose was to be killed while its workers ran"
        orphans += _wait_gone(workers)
    assert not orphans, f"worker processes outlived their killed parent: {orphans}"
    # The next run cleans up after the killed ones and completes: its outputs are the new set.
    compose_issue(Project(tmp_path), "test-issue")
    out = tmp_path / "build" / "test-issue"
    assert not list(out.rglob(".*.part")) and not [p for p in out.iterdir() if p.name.startswith((
        ".plates", ".proofs", ".previous"))]
    new = _outputs(tmp_path)
    assert _folder(new, "plates") != _folder(old, "plates")
    for number, after in enumerate(after_kills):
        for folder in ("plates", "proofs"):  # each folder is the whole old set or the whole new set
            assert _folder(after, folder) in (_folder(old, folder), _folder(new, folder)), (INSTANTS[number], folder)
        for name, data in after.items():  # and every single file is the old or the new one, never half
            assert data in (old.get(name), new.get(name)), (INSTANTS[number], name)


def test_sigterm_unwinds_a_compose_and_its_workers(tmp_path):
    simple_issue(tmp_path, {"story": 300, "other": 200}, columns={"story": 3, "other": 2})
    process = _start_compose(tmp_path)
    for line in process.stderr:
        if line.startswith(b"[2/5]"):
            break
    workers = _descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    assert b"terminated: outputs already written are intact" in process.stderr.read()
    assert not _wait_gone(workers)
    out = tmp_path / "build" / "test-issue"
    assert not [p for p in out.iterdir() if p.name.startswith((".plates", ".proofs", ".previous"))]


def test_a_crash_between_the_fallback_renames_is_undone_by_the_next_run(tmp_path, monkeypatch):
    from layout.base import publish

    out = tmp_path / "out"
    target = out / "plates"
    target.mkdir(parents=True)
    (target / "a.pdf").write_bytes(b"old")
    new = publish.staging(target)
    (new / "a.pdf").write_bytes(b"new")
    monkeypatch.setattr(publish, "exchange", lambda a, b: False)  # a file system without RENAME_EXCHANGE
    renames, rename = [], os.rename

    def crash_on_second(source, destination):
        renames.append(destination)
        if len(renames) == 2:
            raise KeyboardInterrupt("killed between the two renames")
        rename(source, destination)

    monkeypatch.setattr(publish.os, "rename", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        publish.replace_folder(new, target)
    monkeypatch.undo()
    assert not target.exists() and (out / ".plates.old" / "a.pdf").read_bytes() == b"old"
    publish.clean(out)  # what the next run does first, under the issue's lock
    assert (target / "a.pdf").read_bytes() == b"old"
    assert sorted(p.name for p in out.iterdir()) == ["plates"]
    newer = publish.staging(target)
    (newer / "a.pdf").write_bytes(b"new")
    publish.replace_folder(newer, target)  # with RENAME_EXCHANGE (ext4, tmpfs)
    assert (target / "a.pdf").read_bytes() == b"new" and sorted(p.name for p in out.iterdir()) == ["plates"]


def test_a_second_compose_of_the_same_issue_refuses_while_the_first_runs(tmp_path, run_cli):
    simple_issue(tmp_path, {"story": 200})
    with issue_lock(Project(tmp_path), "test-issue"):
        with pytest.raises(BusyError, match="being composed by another layout run"):
            compose_issue(Project(tmp_path), "test-issue")
        code, _, err = run_cli("compose", "test-issue", root=tmp_path)
        assert code == 6 and "wait for the other run to finish" in err
    compose_issue(Project(tmp_path), "test-issue")  # free again


# Runs layout's command line with the compose itself timed (when it starts and ends, in a log). A run
# given "hold" waits, inside its compose, until another run has asked for the issue, and a run given
# "ask" asks only once the holder is inside its compose: so the second run's compose is always tried
# while the first's is under way (the two are started together, and import layout side by side).
TIMED = """
import os, sys, time
import layout.build as build
import layout.cli as cli
log, role = sys.argv.pop(1), sys.argv.pop(1)
asked = log + ".asked"
inner, outer = build._compose_issue, build.compose_issue  # the CLI imports it when a command runs
def timed(*args, **kwargs):
    start = time.time()
    if role == "hold":  # it holds the issue's lock now
        open(log + ".holding", "w").close()
        while not os.path.exists(asked) and time.time() < start + 60:
            time.sleep(0.01)
        time.sleep(0.2)
    try:
        return inner(*args, **kwargs)
    finally:
        with open(log, "a") as out:
            out.write(f"{start} {time.time()}\\n")
def ask(*args, **kwargs):
    if role == "ask":
        began = time.time()
        while not os.path.exists(log + ".holding") and time.time() < began + 60:
            time.sleep(0.01)
        open(asked, "w").close()
    return outer(*args, **kwargs)
build._compose_issue, build.compose_issue = timed, ask
sys.argv[0] = "layout"
main = cli.main
main()
"""


def _timed_compose(root, log, role):
    return subprocess.Popen([sys.executable, "-c", TIMED, str(log), role, "compose", "test-issue", "--root",
                             str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=process_env())


def test_two_processes_never_interleave(tmp_path):
    simple_issue(tmp_path, {"story": 400, "other": 300}, columns={"story": 3, "other": 2})
    log = tmp_path / "composes.log"
    first = _timed_compose(tmp_path, log, "hold")
    second = _timed_compose(tmp_path, log, "ask")  # it asks once the first holds the issue
    codes = [first.wait(timeout=120), second.wait(timeout=120)]
    errors = first.stderr.read().decode() + second.stderr.read().decode()
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert codes[0] == 0, errors
    # The second asked while the first was composing: it refused (6); had it composed, the two
    # composes would overlap in time.
    assert not (len(spans) == 2 and spans[1][0] < spans[0][1]), f"the two composes interleaved: {spans}"
    assert codes[1] == 6 and "being composed by another layout run" in errors, (codes, errors)


# --- fuzzing: any manifest or front matter either loads or gives a LayoutError --------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10 ** 6), st.floats(allow_nan=False),
                    st.text(max_size=20), st.dates().map(dt.date.isoformat))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)
slot_keys = st.sampled_from(["slug", "continued", "columns", "depth", "jump", "colour"])
slots = st.one_of(st.dictionaries(slot_keys, st.one_of(scalars, st.just("story"), st.just("foot"),
                                                       st.integers(0, 8)), max_size=4), values)
pages = st.lists(st.one_of(st.fixed_dictionaries({"page": st.integers(0, 4), "articles": st.lists(slots, max_size=3)},
                                                 optional={"template": st.sampled_from(["front", "inside", "x", 3])}),
                           values), max_size=3)
manifests = st.one_of(st.fixed_dictionaries({}, optional={"date": scalars, "number": scalars, "pages": pages,
                                                          "volume": scalars, "extra": values}), values)


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    issue = make_project(root)
    write_article(issue, "story", "Text.\n")
    return issue


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=manifests)
def test_any_manifest_loads_or_says_what_is_wrong(fuzz_project, manifest):
    (fuzz_project / "issue.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True))
    try:
        load_issue(fuzz_project, load_settings(fuzz_project.parent / "paper.yaml"))
    except LayoutError as error:
        assert error.problems or error.message


front_keys = st.sampled_from(["headline", "kicker", "standfirst", "byline", "kind", "sample", "images",
                              "jumphead", "x"])
fronts = st.one_of(st.dictionaries(front_keys, values, max_size=5), values)
bodies = st.one_of(st.text(max_size=200), st.sampled_from(["", "## Head\n", "> quote\n", "<b>x</b>", "Text.\n"]))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=fronts, text=bodies)
def test_any_article_loads_or_says_what_is_wrong(fuzz_project, front, text):
    path = fuzz_project / "articles" / "fuzzed.md"
    path.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + text, encoding="utf-8")
    try:
        article = load_article(fuzz_project, "fuzzed")
    except LayoutError as error:
        assert error.problems or error.message
    else:
        assert article.headline and article.blocks


@settings(max_examples=examples(4), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.integers(0, 900), columns=st.integers(1, 5), depth=st.one_of(st.none(), st.integers(1, 40)),
       headline=st.text(min_size=1, max_size=60).filter(str.strip))
def test_tiny_issues_compose_or_fail_cleanly(tmp_path_factory, words, columns, depth, headline):
    root = tmp_path_factory.mktemp("tiny")
    issue = make_project(root)
    write_article(issue, "story", body(words, seed=words) if words else "Text.\n", headline=headline)
    slot = {"slug": "story", "columns": columns, **({"depth": depth} if depth else {})}
    write_manifest(issue, {"pages": [{"page": 1, "articles": [slot]}]})
    try:
        compose_issue(Project(root), "test-issue")
    except LayoutError as error:
        assert error.exit_code in (2, 3, 4, 5)


def _die(job):
    os._exit(3)  # as a worker killed for memory would


def test_a_worker_that_dies_fails_the_run_and_the_next_run_starts_new_workers(tmp_path, monkeypatch):
    import layout.build
    import layout.rendering.workers
    from layout.errors import RenderError
    from layout.rendering.workers import Workers

    simple_issue(tmp_path, {"alpha": 150, "beta": 120}, columns={"alpha": 3, "beta": 2})
    # As in `layout watch`'s process, which lays nothing out itself: not the tests' process, which
    # lays pages out in-process (conftest.py) and so would run a lone job here.
    monkeypatch.setattr(layout.rendering.workers, "_rendered", lambda: False)
    workers = Workers(2)  # kept from run to run, as `layout watch` keeps them
    plates = tmp_path / "build" / "test-issue" / "plates"
    try:
        with monkeypatch.context() as patched:
            patched.setattr(layout.build, "_plate_and_proof", _die)  # the workers are forked with it
            with pytest.raises(RenderError, match="worker process died"):
                compose_issue(Project(tmp_path), "test-issue", shared=workers)
        assert not plates.exists()
        # The next run (`layout watch`'s next save) starts new workers, forked without the patch.
        result = compose_issue(Project(tmp_path), "test-issue", shared=workers)
        assert result.plates is not None and sorted(p.name for p in plates.glob("*.pdf"))[0] == "test-issue-p01.pdf"
        assert workers.started
    finally:
        workers.close()
