"""Faults of the machine and damaged files: a sealed cache, exit codes that tell the truth, damaged
build outputs and archives read by every command, and outputs others can read."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from factory import add_photo, body, copy_project, simple_issue, write_article

from layout.base.cache import read_sealed, seal, unseal, write_sealed
from layout.build import Project, compose_issue


def _compose(root):
    return compose_issue(Project(root), "test-issue")


def _plates(root) -> dict[str, str]:
    out = root / "build" / "test-issue"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "plates").glob("*.pdf"))}


# --- the cache ---------------------------------------------------------------------------------------

def test_a_seal_holds_only_for_the_bytes_and_the_name_it_was_made_for(tmp_path):
    sealed = seal("a.json", b'{"x": 1}')
    assert unseal("a.json", sealed) == b'{"x": 1}'
    assert unseal("b.json", sealed) is None  # copied under another entry's name
    assert unseal("a.json", sealed.replace(b"1", b"2", 1)) is None  # one byte changed
    assert unseal("a.json", sealed[:-5]) is None and unseal("a.json", b"") is None  # truncated
    write_sealed(tmp_path / "a.json", b"data")
    (tmp_path / "a.json").write_bytes((tmp_path / "a.json").read_bytes()[1:])
    assert read_sealed(tmp_path / "a.json") is None and not (tmp_path / "a.json").exists()  # removed


KINDS = ("page", "plate", "flatplan", "proof", "preflight", "article", "hyphenation", "template", "photo",
         "photo-check")
"""Every kind of entry the build cache holds (see cache.Store)."""


def _forget(patch: pytest.MonkeyPatch) -> None:
    """Forget what this process keeps in memory of the cache's kinds (the hyphenation patterns, the
    compiled templates, the articles it read), so that a compose reads them from the cache."""
    import pyphen

    from layout.composing import markup
    from layout.reading import articles

    patch.setattr(pyphen, "hdcache", {})
    patch.setattr(markup._ENV, "cache", type(markup._ENV.cache)(markup._ENV.cache.capacity))
    patch.setattr(articles, "_LOADED", {})


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    """A two-story issue with a photo, composed once: its plates and text as a clean compose makes them."""

    root = tmp_path_factory.mktemp("cached")
    with pytest.MonkeyPatch.context() as patch:
        _forget(patch)
        issue = simple_issue(root, {"story": 220, "other": 120}, columns={"story": 3, "other": 2})
        write_article(issue, "story", body(220), images=[{"file": add_photo(issue), "caption": "The docks"}])
        _compose(root)
    assert {p.name for p in (root / "build" / ".cache").iterdir() if p.is_dir()} == set(KINDS)
    return root, _plates(root), (root / "build" / "test-issue" / "text.json").read_bytes()


@pytest.mark.parametrize("kind", [*KINDS, "images"])
def test_a_damaged_cache_entry_of_any_kind_is_made_again_never_published(cached, kind, monkeypatch):
    _forget(monkeypatch)
    root, clean, text = cached
    build = root / "build"
    # "images": a prepared photo, as WeasyPrint reads it (the cache holds its bytes)
    entries = sorted((build / "test-issue" / "images").glob("*.jpg") if kind == "images"
                     else (build / ".cache" / kind).iterdir())
    assert entries, kind
    # Templates and hyphenation patterns are read only when a page is laid out: every entry of
    # theirs is damaged, and every page laid out again.
    read_when_laying_out = kind in ("template", "hyphenation")
    damaged = {path: path.read_bytes() for path in (entries if read_when_laying_out else [entries[len(entries) // 2]])}
    for path, whole in damaged.items():
        data = bytearray(whole)
        for at in (len(data) // 3, len(data) // 2):  # a flipped bit in the middle of the entry
            data[at] ^= 0x04
        path.write_bytes(bytes(data))
    if read_when_laying_out:
        shutil.rmtree(build / ".cache" / "page")
    result = _compose(root)
    assert _plates(root) == clean  # the damaged entry was not used
    assert (build / "test-issue" / "text.json").read_bytes() == text
    assert result.plates is not None and result.plates.name == "plates"
    for path, whole in damaged.items():
        if kind == "images":
            assert path.read_bytes() == whole  # put back from the cache
        else:  # read, found damaged, made again (checked without removing it, as reading would)
            assert path.exists() and unseal(path.name, path.read_bytes()) is not None, path.name
    if kind == "page":
        assert result.laid_out == 1 and result.cached >= 4  # only the damaged document laid out again


def test_the_cache_still_follows_the_sources(cached):
    root, clean, _ = cached
    article = root / "issues" / "test-issue" / "articles" / "story.md"
    kept = article.read_bytes()
    write_article(root / "issues" / "test-issue", "story", "Text.\n")
    try:
        _compose(root)
        assert _plates(root) != clean
    finally:
        article.write_bytes(kept)


def test_the_cache_key_holds_the_bytes_of_files_the_settings_name(tmp_path):
    from layout.base.cache import files_digest, settings_files
    from layout.reading.settings import load_settings

    simple_issue(tmp_path, {"story": 100})
    profile = tmp_path / "issues" / "profile.icc"
    profile.write_bytes(b"one")
    first = files_digest([profile])
    profile.write_bytes(b"two")  # the same path, other bytes
    assert files_digest([profile]) != first
    settings = load_settings(tmp_path / "issues" / "paper.yaml")
    assert all(isinstance(p, os.PathLike) for p in settings_files(settings))


# --- exit codes -------------------------------------------------------------------------------------

def test_a_build_folder_that_cannot_be_made_is_an_environment_fault(tmp_path, run_cli):
    simple_issue(tmp_path, {"story": 100})
    (tmp_path / "build").write_text("a file where the build folder should be")
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 8, err
    assert "build/test-issue" in err and "not a folder" in err and "internal error" not in err


def test_a_full_disk_is_an_environment_fault_naming_the_file(tmp_path, run_cli, monkeypatch):
    simple_issue(tmp_path, {"story": 100})

    def full(_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 8, err
    assert "no space left on the disk (ENOSPC)" in err and str(tmp_path / "build" / "test-issue") in err
    assert "df -h" in err and "bug" not in err
    monkeypatch.undo()
    assert run_cli("compose", "test-issue", root=tmp_path)[0] == 0  # and nothing was left broken


def test_an_unreadable_file_is_an_environment_fault(tmp_path, run_cli, monkeypatch):
    simple_issue(tmp_path, {"story": 100})
    real = Path.read_bytes

    def denied(path):
        if path.name == "newspaper.css":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    code, _, err = run_cli("compose", "test-issue", root=tmp_path)
    assert code == 8, err
    assert "newspaper.css" in err and "permission denied" in err


# --- permissions ----------------------------------------------------------------------------------

def test_outputs_get_the_umask_s_permissions(tmp_path):
    simple_issue(tmp_path, {"story": 120})
    old = os.umask(0o027)
    try:
        _compose(tmp_path)
    finally:
        os.umask(old)
    out = tmp_path / "build" / "test-issue"
    for path in [out / "test-issue.pdf", out / "fit.json", out / "text.json", out / "proofs" / "p01.png",
                 out / "plates" / "test-issue-p01.pdf", out / "plates" / "test-issue.pdf"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    for folder in (out / "plates", out / "proofs"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750, folder


# --- damaged outputs and archives, read by every command -------------------------------------------

@pytest.fixture(scope="module")
def composed_once(tmp_path_factory):
    root = tmp_path_factory.mktemp("composed")
    simple_issue(root, {"story": 150})
    _compose(root)
    _compose(root)  # a previous round, for diff
    return root


@pytest.fixture
def composed(composed_once, tmp_path):
    """A one-page issue composed twice (once for the module), copied for the test to damage."""
    return copy_project(composed_once, tmp_path / "project")


@pytest.mark.parametrize("damage", ["garbage", "empty", "wrong shape"])
def test_a_damaged_fit_report_is_a_clear_error_for_check_and_diff(composed, run_cli, damage):
    fit = composed / "build" / "test-issue" / "fit.json"
    damaged = {"garbage": b"\x00\xff{not json", "empty": b"", "wrong shape": b'{"slots": 3, "overset": 1}'}
    fit.write_bytes(damaged[damage])
    for command in ("check", "diff"):
        code, _, err = run_cli(command, "test-issue", root=composed)
        assert code == 2, (command, err)
        assert "fit.json" in err and "compose" in err and "internal error" not in err


def test_damaged_previous_round_and_proofs_are_clear_errors_for_diff(composed, run_cli):
    out = composed / "build" / "test-issue"
    (out / "previous" / "text.json").write_text("[1, 2")
    code, _, err = run_cli("diff", "test-issue", root=composed)
    assert code == 2 and "previous/text.json" in err
    (out / "previous" / "text.json").unlink()
    (out / "previous" / "proofs" / "p01.png").write_bytes(b"not a png")  # only the old round's: all changed
    code, out_text, err = run_cli("diff", "test-issue", root=composed)
    assert code == 0 and "page changed" in out_text, err
    (out / "proofs" / "p01.png").write_bytes(b"\x89PNG\r\n")
    code, _, err = run_cli("diff", "test-issue", root=composed)
    assert code == 2 and "proofs/p01.png" in err


def test_truncated_plates_fail_check_clearly(composed, run_cli):
    plate = composed / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
    plate.write_bytes(plate.read_bytes()[:2000])
    code, out, err = run_cli("check", "test-issue", root=composed)
    assert code == 5, err
    assert "FAIL  test-issue-p01.pdf" in out and "internal error" not in err
    assert "FAIL  SHA256SUMS: checksums: changed since they were composed: test-issue-p01.pdf" in out
    (composed / "build" / "test-issue" / "plates" / "copy.json").write_text("{")
    code, _, err = run_cli("check", "test-issue", root=composed)
    assert code == 2 and "copy.json" in err


def test_archive_and_verify_read_damaged_files_clearly(composed, run_cli):
    code, out, err = run_cli("archive", "test-issue", root=composed)
    assert code == 0, err
    bag = next((composed / "archive").glob("*/test-issue"))
    assert stat.S_IMODE((bag / "data").stat().st_mode) == 0o777 & ~_umask()  # not mkdtemp's 0700
    # A damaged tag manifest, a damaged manifest line, a missing folder: exit 7, never 70.
    (bag / "bagit.txt").write_bytes(b"\xff\xfe garbage")
    code, _, err = run_cli("verify", str(bag))
    assert code == 7 and "internal error" not in err, err
    (bag / "bagit.txt").write_text("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n")
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text("zz not a line\n" + manifest.read_text())
    code, _, err = run_cli("verify", str(bag))
    assert code == 7 and "internal error" not in err, err
    code, _, err = run_cli("verify", str(composed / "archive" / "nothing-here"))
    assert code == 7 and "not an archive" in err
    # The existing archive's metadata damaged: a new revision beside it, the old one untouched.
    meta = bag / "data" / "metadata.json"
    meta.write_text("{")
    code, out, err = run_cli("archive", "test-issue", root=composed)
    assert code == 0 and "test-issue.r2" in out, err
    assert meta.read_text() == "{"
    # Truncated plates are refused, not archived: a page's plate (against the folder's SHA256SUMS) ...
    plate = composed / "build" / "test-issue" / "plates" / "test-issue-p01.pdf"
    plate.write_bytes(plate.read_bytes()[:-100])
    code, _, err = run_cli("archive", "test-issue", root=composed)
    assert code == 2 and "test-issue-p01.pdf" in err and "SHA256SUMS" in err, err
    (plate.parent / "SHA256SUMS").unlink()  # ... or, in plates without checksums, the issue's PDF
    whole = composed / "build" / "test-issue" / "plates" / "test-issue.pdf"
    whole.write_bytes(whole.read_bytes()[:1000])
    code, _, err = run_cli("archive", "test-issue", root=composed)
    assert code == 2 and "damaged" in err, err


def test_an_archive_is_never_written_over(tmp_path):
    from layout.base.publish import rename_new

    (tmp_path / "new").mkdir()
    (tmp_path / "archived").mkdir()  # even an empty folder, which rename(2) would replace
    with pytest.raises(FileExistsError):
        rename_new(tmp_path / "new", tmp_path / "archived")
    rename_new(tmp_path / "new", tmp_path / "fresh")
    assert (tmp_path / "fresh").is_dir() and not (tmp_path / "new").exists()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_damaged_proof_is_drawn_again(tmp_path):
    simple_issue(tmp_path, {"story": 150})
    _compose(tmp_path)
    proof = tmp_path / "build" / "test-issue" / "proofs" / "p01.png"
    clean = proof.read_bytes()
    proof.write_bytes(clean[:len(clean) // 2])  # the page did not change, its proof did
    _compose(tmp_path)
    assert proof.read_bytes() == clean


def test_a_file_size_limit_is_an_environment_fault_not_a_kill(tmp_path):
    import resource
    import subprocess
    import sys

    from factory import process_env

    simple_issue(tmp_path, {"story": 150})

    def limit():  # ulimit -f 200: the fonts WeasyPrint copies, and the plates, are larger
        resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024, 200 * 1024))

    done = subprocess.run([sys.executable, "-m", "layout", "compose", "test-issue", "--root", str(tmp_path)],
                          capture_output=True, text=True, preexec_fn=limit, env=process_env())
    assert done.returncode == 8, done.stderr
    assert "file too large (EFBIG)" in done.stderr and "ulimit -f" in done.stderr and "Traceback" not in done.stderr
