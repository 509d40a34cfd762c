"""The archive and reproducible builds: same sources, same bytes; a bag that detects any change."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import bagit
import pytest
from factory import REPO, add_photo, body, make_project, write_article, write_manifest
from pypdf import PdfReader

from layout.archive import archive_issue
from layout.build import Project, compose_issue


def _issue(root):
    issue = make_project(root)
    write_article(issue, "lead", body(300, seed=1), headline="Lead story",
                  images=[{"file": add_photo(issue), "caption": "Cranes", "credit": "Test"}])
    write_article(issue, "second", body(200, seed=2), headline="Second story")
    write_manifest(issue, {"pages": [
        {"page": 1, "template": "front",
         "articles": [{"slug": "lead", "columns": 3}, {"slug": "second", "columns": 2}]},
        {"page": 2, "template": "back", "articles": [{"slug": "second-page", "columns": 5}]}]})
    write_article(issue, "second-page", body(250, seed=3), headline="Back page")
    return issue


def _hashes(root) -> dict[str, str]:
    out = {}
    for pdf in sorted((root / "build").rglob("*.pdf")) + sorted((root / "archive").rglob("*.pdf")):
        if ".cache" not in pdf.parts:
            out[str(pdf.relative_to(root))] = hashlib.sha256(pdf.read_bytes()).hexdigest()
    return out


def _run(root, *args, clock=None):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "layout", *args, "--root", str(root)]
    if clock:
        command = ["faketime", clock, *command]
    subprocess.run(command, check=True, capture_output=True, env=env)


def test_two_builds_in_separate_processes_and_clocks_give_identical_bytes(tmp_path):
    if shutil.which("faketime") is None:
        pytest.fail("faketime is not installed: .ci/setup installs it")
    first, second = tmp_path / "a", tmp_path / "b"
    _issue(first)
    _issue(second)
    _run(first, "compose", "test-issue")
    _run(first, "archive", "test-issue")
    _run(second, "compose", "test-issue", clock="2031-05-05 12:00:00")
    _run(second, "archive", "test-issue", clock="2031-05-05 12:00:00")
    hashes = _hashes(first)
    assert any("archive" in name for name in hashes) and any("plates" in name for name in hashes)
    assert hashes == _hashes(second)


def test_archive_is_a_valid_bag_that_catches_one_changed_byte(tmp_path, run_cli):
    _issue(tmp_path)
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    result = archive_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    assert result.created and result.path == tmp_path / "archive" / "2022" / "test-issue"
    bag = bagit.Bag(str(result.path))
    assert bag.is_valid() and set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["Bagging-Date"] == "2022-04-01"
    code, out, _ = run_cli("verify", str(result.path))
    assert code == 0 and "valid" in out
    plate = result.path / "data" / "plates" / "test-issue-p01.pdf"
    data = bytearray(plate.read_bytes())
    data[len(data) // 2] ^= 0x01
    plate.write_bytes(bytes(data))
    assert not bagit.Bag(str(result.path)).is_valid()
    code, _, err = run_cli("verify", str(result.path))
    assert code == 7 and "has changed" in err and "test-issue-p01.pdf" in err


def test_a_changed_issue_becomes_a_new_revision_and_the_first_is_untouched(tmp_path):
    issue = _issue(tmp_path)
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    first = archive_issue(Project(tmp_path), "test-issue", progress=lambda m: None).path
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}
    again = archive_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    assert not again.created and again.path == first
    write_article(issue, "second", body(210, seed=7), headline="Second story, corrected")
    with pytest.raises(Exception, match="older than its sources"):
        archive_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    second = archive_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    assert second.created and second.path.name == "test-issue.r2"
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before


def test_the_pdfa_carries_its_sources_byte_for_byte(tmp_path):
    issue = _issue(tmp_path)
    compose_issue(Project(tmp_path), "test-issue", progress=lambda m: None)
    path = archive_issue(Project(tmp_path), "test-issue", progress=lambda m: None).path
    reader = PdfReader(path / "data" / "test-issue-archive.pdf")
    assert reader.pdf_header == "%PDF-1.7"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    attachments = reader.attachments
    for source in [issue / "issue.yaml", *sorted((issue / "articles").glob("*.md")), issue / "images" / "docks.jpg"]:
        name = str(source.relative_to(tmp_path / "issues"))
        assert attachments[name] == [source.read_bytes()], name
