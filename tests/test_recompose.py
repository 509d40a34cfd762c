"""A recompose after an edit does only what the edit changed: its one document laid out here (no
worker pool started for it), unchanged plates not written again (linked), drafts sharing no file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from factory import add_words, body, load_yaml, make_project, write_article, write_manifest
from PIL import Image

from layout.base import publish
from layout.build import Project, compose_issue
from layout.composing.compose import proof_pages
from layout.errors import PreflightError
from layout.press.proofs import mark_pages
from layout.reading.settings import load_settings
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


def _outputs(root):
    """Every output of the issue by its path in build/test-issue (the lock, the last round kept for
    ``layout diff`` and the prepared photos aside), as bytes."""
    out = root / "build" / "test-issue"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and p.name != ".lock" and p.relative_to(out).parts[0] not in ("previous", "images")}


def test_a_recompose_after_an_edit_gives_the_bytes_of_a_cold_compose_of_the_edited_sources(tmp_path, monkeypatch):
    """What a process that composes again reuses (the cache's entries and their seals, the articles it
    read, each plate's and proof's digests: ``layout watch``, the compose server) never shows in what
    it writes: every file, checksums included, is what a cold compose of the same sources writes."""
    from layout.base import cache, files
    from layout.reading import articles

    monkeypatch.setattr(cache, "_holder", os.getpid())  # entries held in memory, as a long-lived process does
    monkeypatch.setattr(files, "RACY_NS", 0)  # every article remembered, even one written just now
    issue = _pages(tmp_path / "warm", 3)
    _compose(tmp_path / "warm")
    read = []
    load = articles.load_article
    monkeypatch.setattr(articles, "load_article", lambda *args: read.append(args[1]) or load(*args))
    add_words(issue / "articles" / "two.md", 30)
    manifest = load_yaml((issue / "issue.yaml").read_text(encoding="utf-8"))
    manifest["pages"][2]["articles"][0]["depth"] = 30  # and page 3's slot given a depth in the manifest
    write_manifest(issue, {k: v for k, v in manifest.items() if k not in ("date", "number")})
    result = _compose(tmp_path / "warm")
    assert read == ["two"]  # only the edited article read again
    # laid out again: the edited story's galley and pages 2 and 3; not the galleys the manifest's
    # edit left as they were (their keys hold no other slot's depth)
    assert result.laid_out in (2, 3), result.laid_out
    cold = tmp_path / "cold"
    shutil.copytree(tmp_path / "warm", cold, ignore=shutil.ignore_patterns("build"))
    monkeypatch.setattr(cache, "_SEALED", {})
    monkeypatch.setattr(articles, "_LOADED", {})
    _compose(cold)
    warm, fresh = _outputs(tmp_path / "warm"), _outputs(cold)
    assert "plates/SHA256SUMS" in warm and "proofs/.pages.json" in warm and len(warm) > 10
    assert sorted(warm) == sorted(fresh)
    assert [name for name in warm if warm[name] != fresh[name]] == []
    # The digests hashed where the plates were made are the files' own.
    assert publish.changed_files(tmp_path / "warm" / "build" / "test-issue" / "plates") == []
    settings = load_settings(tmp_path / "warm" / "issues" / "paper.yaml")
    marks = [page.marks for page in proof_pages(result.composition, settings)]
    assert any(marks)  # (holes: those pages' proofs are their plates with the marks drawn)
    proofs = [mark_pages((plate,), [mark])[0] if mark else plate
              for mark, plate in zip(marks, (warm[f"plates/test-issue-p0{n}.pdf"] for n in (1, 2, 3)))]
    assert json.loads(warm["proofs/.pages.json"]) == {
        f"p0{n}.png": hashlib.sha256(proof).hexdigest() for n, proof in enumerate(proofs, start=1)}


def test_a_process_holding_entries_keeps_its_documents_and_makes_one_gone_from_the_store_again(tmp_path, monkeypatch):
    """A long-lived process (``layout watch``, the compose server) takes an unchanged document's result
    from its last run, its entry touched as a read touches it, not read back and parsed again; a
    document whose entry has left the store is laid out (and kept) again."""
    from layout.base import cache

    monkeypatch.setattr(cache, "_holder", os.getpid())
    monkeypatch.setattr(workers, "_KEPT", {})
    _pages(tmp_path, 2)
    _compose(tmp_path)
    kept = dict(workers._KEPT)
    assert kept
    loaded: list[str] = []
    load = workers.PageRenderer._load
    monkeypatch.setattr(workers.PageRenderer, "_load", lambda self, key: loaded.append(key) or load(self, key))
    entries = tmp_path / "build" / ".cache" / "page"
    before = {key: (entries / key).stat().st_mtime_ns for key in kept}
    result = _compose(tmp_path)
    assert result.laid_out == 0 and result.cached == len(kept) and loaded == []  # none read back
    assert all((entries / key).stat().st_mtime_ns > before[key] for key in kept)  # each touched
    assert all(workers._KEPT[key] is kept[key] for key in kept)
    gone = next(iter(kept))
    (entries / gone).unlink()
    result = _compose(tmp_path)
    assert gone in loaded and result.laid_out >= 1 and (entries / gone).is_file()
    monkeypatch.setattr(cache, "_holder", 0)  # a one-off compose keeps nothing
    workers._KEPT.clear()
    _compose(tmp_path)
    assert workers._KEPT == {}


def test_an_article_is_read_again_once_its_file_or_photo_changes_and_never_remembered_while_racy(tmp_path, monkeypatch):
    from factory import add_photo

    from layout.base import files
    from layout.reading import articles

    issue = _pages(tmp_path, 2)
    photo = add_photo(issue)
    write_article(issue, "one", body(80, seed=5), headline="With a photo", images=[{"file": photo, "caption": "Docks"}])
    read = []
    load = articles.load_article
    monkeypatch.setattr(articles, "load_article", lambda *args: read.append(args[1]) or load(*args))
    monkeypatch.setattr(articles, "_LOADED", {})
    slugs = ("one", "two")
    # Racy: changed less than RACY_NS before they are read. Its 0.1 s is the kernel clock's tick,
    # not a test's pace: at load 8 the second read came more than 0.1 s after the files were written
    # and remembered them. Here the rule's threshold is a minute, which no run of this test reaches.
    monkeypatch.setattr(files, "RACY_NS", 60_000_000_000)
    first = articles.load_articles(issue, slugs)
    assert read == ["one", "two"]
    articles.load_articles(issue, slugs)
    assert read == ["one", "two", "one", "two"]  # written just now (racy): not remembered by their stamps
    monkeypatch.setattr(files, "RACY_NS", 0)
    known = articles.load_articles(issue, slugs)
    read.clear()
    assert articles.load_articles(issue, slugs) == first and read == []  # unchanged: as read before
    add_words(issue / "articles" / "two.md", 5)
    again = articles.load_articles(issue, slugs)
    assert read == ["two"] and again["two"] != first["two"] and again["one"] is known["one"]
    read.clear()
    shutil.copy(issue / "images" / photo.split("/")[-1], tmp_path / "photo.jpg")
    os.replace(tmp_path / "photo.jpg", issue / photo)  # the same photo's bytes, as a new file
    articles.load_articles(issue, slugs)
    assert read == ["one"]
    # A linked article (its link inside the issue): an edit in place to the file it links to, which
    # changes neither the link nor its folders, is an edit to the article.
    (issue / "drafts").mkdir()
    os.replace(issue / "articles" / "two.md", issue / "drafts" / "two.md")
    (issue / "articles" / "two.md").symlink_to(issue / "drafts" / "two.md")
    linked = articles.load_articles(issue, slugs)
    read.clear()
    assert articles.load_articles(issue, slugs) == linked and read == []
    with open(issue / "drafts" / "two.md", "a", encoding="utf-8") as out:
        out.write("\nA last paragraph, added in place.\n")
    assert articles.load_articles(issue, slugs)["two"] != linked["two"] and read == ["two"]
