"""A recompose after an edit does only what the edit changed: its one document laid out here (no
worker pool started for it), unchanged plates not written again (linked), drafts sharing no file."""

from __future__ import annotations

import os

import pytest
from factory import add_words, body, make_project, write_article, write_manifest
from PIL import Image

from layout.build import Project, compose_issue
from layout.errors import PreflightError
from layout.rendering import workers


def _compose(root):
    return compose_issue(Project(root), "test-issue")


def _pages(root, count=2):
    issue = make_project(root)
    pages = []
    for number, slug in enumerate(("one", "two", "three")[:count], start=1):
        write_article(issue, slug, body(250, seed=number), headline=f"Story on page {number}")
        template = "front" if number == 1 else "back" if number == count else "inside"
        pages.append({"page": number, "template": template, "articles": [{"slug": slug}]})
    write_manifest(issue, {"pages": pages})
    return issue


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the workers are never started")
def test_a_recompose_of_one_edit_starts_no_worker_pool(tmp_path, monkeypatch):
    issue = _pages(tmp_path, 3)
    # As `layout compose` runs, a new process each time: with its workers (not the tests' in-process
    # layout, conftest.py), in a process that has laid nothing out before.
    monkeypatch.setenv("LAYOUT_WORKERS", "2")
    monkeypatch.setattr(workers, "_rendered", lambda: False)
    starts = []
    start = workers.Workers.start
    monkeypatch.setattr(workers.Workers, "start", lambda self, warm=None: starts.append(warm) or start(self, warm))
    _compose(tmp_path)
    assert starts and starts[0] is not None  # a first compose: started at once, and warmed
    starts.clear()
    add_words(issue / "articles" / "two.md", 12)
    result = _compose(tmp_path)
    assert result.laid_out == 1 and starts == []  # the edited story's galley, laid out here
    # A document a page to lay out (every galley: the stylesheet changed): the pool is started for them.
    with open(tmp_path / "stylesheets" / "newspaper.css", "a") as css:
        css.write("\n/* changed */\n")
    result = _compose(tmp_path)
    assert result.laid_out >= workers.POOL_JOBS and starts and starts[0] is not None  # warmed, to lay out


def test_unchanged_plates_are_linked_not_written_and_drafts_share_no_file_with_plates(tmp_path):
    issue = _pages(tmp_path)
    _compose(tmp_path)
    plates = tmp_path / "build" / "test-issue" / "plates"
    first = [(plates / f"test-issue-p0{n}.pdf").stat() for n in (1, 2)]
    add_words(issue / "articles" / "two.md", 12)
    _compose(tmp_path)
    again = [(plates / f"test-issue-p0{n}.pdf").stat() for n in (1, 2)]
    assert again[0].st_ino == first[0].st_ino  # page 1 unchanged: the same file, not written again
    assert again[1].st_ino != first[1].st_ino
    assert not (plates.parent / ".plates.old").exists()
    # Page 2 now fails preflight: its drafts are published beside plates/, which they must not share.
    (issue / "images").mkdir()
    Image.effect_noise((300, 200), 50).save(issue / "images" / "small.jpg")
    write_article(issue, "two", body(200, seed=2), headline="Story on page 2",
                  images=[{"file": "images/small.jpg", "caption": "Too small"}])
    with pytest.raises(PreflightError):
        _compose(tmp_path)
    draft = plates.parent / "plates-draft" / "test-issue-p01.pdf"
    assert draft.read_bytes() == (plates / "test-issue-p01.pdf").read_bytes()
    assert draft.stat().st_ino != (plates / "test-issue-p01.pdf").stat().st_ino and draft.stat().st_nlink == 1
