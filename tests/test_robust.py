"""Nothing half-written, one run an issue at a time, and no input that crashes layout."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from factory import REPO, body, make_project, simple_issue, write_article, write_manifest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layout.articles import load_article
from layout.build import Project, compose_issue, issue_lock
from layout.errors import BusyError, LayoutError
from layout.manifest import load_issue
from layout.settings import load_settings


def _start_compose(root):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "layout", "compose", "test-issue", "--root", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _outputs(root) -> dict:
    out = root / "build" / "test-issue"
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and ".cache" not in p.parts and p.name != ".lock" and "previous" not in p.parts}


@pytest.mark.parametrize("delay", [0.5, 1.5])
def test_a_killed_compose_leaves_the_last_good_outputs_intact(tmp_path, delay):
    issue = simple_issue(tmp_path, {"story": 300, "other": 200}, columns={"story": 3, "other": 2})
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    good = _outputs(tmp_path)
    assert "test-issue.pdf" in good and "plates/test-issue-p01.pdf" in good
    write_article(issue, "story", body(320, seed=42), headline="A changed story")  # a real recompose
    process = _start_compose(tmp_path)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    after = _outputs(tmp_path)
    for name, data in after.items():
        # Every file under its final name is whole: either the last good one or a complete new one.
        if name.endswith(".pdf") and name in good and data != good[name]:
            assert data.rstrip().endswith(b"%%EOF"), name
    assert not [n for n in after if n.endswith(".part")]  # no temporary file under a final name
    # The next run cleans up after the killed one and completes.
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    out = tmp_path / "build" / "test-issue"
    assert not list(out.rglob(".*.part")) and not list(out.glob(".plates-*"))


def test_a_second_compose_of_the_same_issue_refuses_while_the_first_runs(tmp_path, run_cli):
    simple_issue(tmp_path, {"story": 200})
    with issue_lock(Project(tmp_path), "test-issue"):
        with pytest.raises(BusyError, match="being composed by another layout run"):
            compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
        code, _, err = run_cli("compose", "test-issue", root=tmp_path)
        assert code == 6 and "wait for the other run to finish" in err
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)  # free again


def test_two_processes_never_interleave(tmp_path):
    simple_issue(tmp_path, {"story": 400, "other": 300}, columns={"story": 3, "other": 2})
    first, second = _start_compose(tmp_path), None
    time.sleep(0.4)
    second = _start_compose(tmp_path)
    codes = sorted([first.wait(timeout=120), second.wait(timeout=120)])
    errors = first.stderr.read().decode() + second.stderr.read().decode()
    assert codes in ([0, 0], [0, 6]), errors  # the second either refused or ran after the first
    if codes == [0, 6]:
        assert "being composed by another layout run" in errors


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.integers(0, 900), columns=st.integers(1, 5), depth=st.one_of(st.none(), st.integers(1, 40)),
       headline=st.text(min_size=1, max_size=60).filter(str.strip))
def test_tiny_issues_compose_or_fail_cleanly(tmp_path_factory, words, columns, depth, headline):
    root = tmp_path_factory.mktemp("tiny")
    issue = make_project(root)
    write_article(issue, "story", body(words, seed=words) if words else "Text.\n", headline=headline)
    slot = {"slug": "story", "columns": columns, **({"depth": depth} if depth else {})}
    write_manifest(issue, {"pages": [{"page": 1, "articles": [slot]}]})
    try:
        compose_issue(Project(root), "test-issue", progress=lambda m: None)
    except LayoutError as error:
        assert error.exit_code in (2, 3, 4, 5)


def _die(job):
    os._exit(3)  # as a worker killed for memory would


def test_a_worker_that_dies_fails_the_run_and_the_next_run_starts_new_workers(tmp_path, monkeypatch):
    import layout.build
    from layout.errors import RenderError
    from layout.render import Workers

    simple_issue(tmp_path, {"alpha": 150, "beta": 120}, columns={"alpha": 3, "beta": 2})
    workers = Workers(2)  # kept from run to run, as `layout watch` keeps them
    plates = tmp_path / "build" / "test-issue" / "plates"
    try:
        with monkeypatch.context() as patched:
            patched.setattr(layout.build, "_plate_and_proof", _die)  # the workers are forked with it
            with pytest.raises(RenderError, match="worker process died"):
                compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None, shared=workers)
        assert not plates.exists()
        # The next run (`layout watch`'s next save) starts new workers, forked without the patch.
        result = compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None, shared=workers)
        assert result.plates is not None and sorted(p.name for p in plates.glob("*.pdf"))[0] == "test-issue-p01.pdf"
    finally:
        workers.close()
